//! Element-wise tolerance comparison of actual against expected tensors, with reports.
//!
//! An element passes when `|a - b| <= atol + rtol * |b|`, `a` actual and `b` expected (numpy's
//! `isclose` rule, asymmetric in `b`). Non-finite values are decided explicitly, before any
//! arithmetic, so NaN can never pass by accident:
//!
//! | actual vs expected            | verdict                                          |
//! |-------------------------------|--------------------------------------------------|
//! | NaN vs NaN                    | mismatch, unless [`CompareOptions::nan_equal`]   |
//! | NaN vs number, number vs NaN  | mismatch, always                                 |
//! | +Inf vs +Inf, -Inf vs -Inf    | equal                                            |
//! | Inf vs anything else          | mismatch                                         |
//!
//! A non-finite mismatch counts as an absolute and relative error of `+inf`, so `max_abs`,
//! `mean_abs` and `max_rel` become `inf` and no atol can pass (`min_atol` is `None`). The relative
//! error is `|a - b| / |b|`: `0` when `a == b`, `inf` when `b == 0` and `a != b`.
//!
//! Values are compared in f64 (f32 widens exactly); integer and bool tensors compare by value.
//! Shape, dtype or presence mismatches are failing reports with a [`OutputReport::problem`], never
//! a panic. In JSON, an infinite error is written as the string `"inf"`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::histogram::ErrorHistogram;
use crate::{Error, NamedTensors, Result, Tensor, TensorData};

/// Absolute and relative tolerance: an element passes when `|a - b| <= atol + rtol * |b|`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tolerance {
    pub atol: f64,
    /// Defaults to 0 when omitted in a manifest.
    #[serde(default)]
    pub rtol: f64,
}

impl Tolerance {
    /// The default: `atol` 1e-4, `rtol` 0: above the reordering noise of float32 outputs of order 1
    /// to 100 across runtimes (a few ulps), and far below a difference a model's user would act
    /// on. A model whose outputs are much larger or smaller states its own (`--atol`/`--rtol`, or
    /// the golden set's manifest).
    pub const DEFAULT: Tolerance = Tolerance { atol: 1e-4, rtol: 0.0 };

    /// A tolerance; fails unless both values are finite and non-negative.
    pub fn new(atol: f64, rtol: f64) -> Result<Self> {
        for (what, v) in [("atol", atol), ("rtol", rtol)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::Input(format!("{what} must be a finite number >= 0, got {v}")));
            }
        }
        Ok(Tolerance { atol, rtol })
    }

    /// Parses a per-output override `NAME:ATOL[:RTOL]` (rtol defaults to 0). The name is
    /// everything before the first `:`, so output names containing `:` cannot be overridden.
    pub fn parse_override(spec: &str) -> Result<(String, Tolerance)> {
        let bad = |why: &str| {
            Error::Input(format!(
                "invalid output tolerance '{spec}': {why} (expected NAME:ATOL[:RTOL])"
            ))
        };
        let mut parts = spec.split(':');
        let name = parts.next().unwrap_or_default();
        if name.is_empty() {
            return Err(bad("empty output name"));
        }
        let num = |s: Option<&str>, what: &str| -> Result<Option<f64>> {
            match s {
                None => Ok(None),
                Some(s) => s
                    .trim()
                    .parse::<f64>()
                    .map(Some)
                    .map_err(|_| bad(&format!("{what} '{s}' is not a number"))),
            }
        };
        let atol = num(parts.next(), "atol")?.ok_or_else(|| bad("missing atol"))?;
        let rtol = num(parts.next(), "rtol")?.unwrap_or(0.0);
        if parts.next().is_some() {
            return Err(bad("too many ':'-separated fields"));
        }
        let tol = Tolerance::new(atol, rtol).map_err(|e| bad(&e.to_string()))?;
        Ok((name.to_string(), tol))
    }

    /// True when `actual` passes against `expected` (both finite).
    pub fn admits(self, abs_err: f64, expected: f64) -> bool {
        abs_err <= self.atol + self.rtol * expected.abs()
    }
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance::DEFAULT
    }
}

impl fmt::Display for Tolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "atol {:e}, rtol {:e}", self.atol, self.rtol)
    }
}

/// A default tolerance plus per-output overrides.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Tolerances {
    pub default: Tolerance,
    pub per_output: BTreeMap<String, Tolerance>,
}

impl Tolerances {
    /// One tolerance for every output.
    pub fn uniform(default: Tolerance) -> Self {
        Tolerances { default, per_output: BTreeMap::new() }
    }

    /// Adds or replaces the override for `output`.
    pub fn with(mut self, output: impl Into<String>, tolerance: Tolerance) -> Self {
        self.per_output.insert(output.into(), tolerance);
        self
    }

    /// The tolerance for `output`: its override, else the default.
    pub fn get(&self, output: &str) -> Tolerance {
        self.per_output.get(output).copied().unwrap_or(self.default)
    }
}

/// Comparison switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CompareOptions {
    /// Count NaN vs NaN as equal (NaN vs a number is a mismatch regardless).
    pub nan_equal: bool,
}

/// The element that needs the largest atol (first one on ties; a non-finite mismatch beats any
/// finite error).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Worst {
    /// Row-major flat index.
    pub flat_index: usize,
    /// Multi-index in the expected shape (empty for a scalar).
    pub index: Vec<usize>,
    #[serde(serialize_with = "ser_f64", deserialize_with = "de_f64")]
    pub actual: f64,
    #[serde(serialize_with = "ser_f64", deserialize_with = "de_f64")]
    pub expected: f64,
    #[serde(serialize_with = "ser_f64", deserialize_with = "de_f64")]
    pub abs_err: f64,
    #[serde(serialize_with = "ser_f64", deserialize_with = "de_f64")]
    pub rel_err: f64,
}

/// The comparison of one output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputReport {
    pub name: String,
    pub pass: bool,
    pub tolerance: Tolerance,
    pub actual_shape: Option<Vec<usize>>,
    pub expected_shape: Option<Vec<usize>>,
    /// Why no element-wise comparison was possible (missing tensor, shape or dtype mismatch);
    /// such a report always fails.
    pub problem: Option<String>,
    /// Elements compared (0 when `problem` is set).
    pub total: usize,
    /// Elements outside the tolerance.
    pub mismatches: usize,
    /// Mismatches involving NaN or infinity.
    pub nonfinite_mismatches: usize,
    /// Expected elements that are NaN (a reference may legitimately compute NaN, e.g. `sqrt` of a
    /// negative number); they pass only against NaN with [`CompareOptions::nan_equal`].
    pub expected_nan: usize,
    #[serde(serialize_with = "ser_f64", deserialize_with = "de_f64")]
    pub max_abs: f64,
    #[serde(serialize_with = "ser_f64", deserialize_with = "de_f64")]
    pub max_rel: f64,
    #[serde(serialize_with = "ser_f64", deserialize_with = "de_f64")]
    pub mean_abs: f64,
    /// Smallest atol with which every element would pass at this rtol; `None` when none would
    /// (a non-finite mismatch, or a `problem`).
    pub min_atol: Option<f64>,
    pub worst: Option<Worst>,
    /// Every element's absolute error, counted by size (empty with a `problem`).
    #[serde(default)]
    pub abs_error_histogram: ErrorHistogram,
}

impl OutputReport {
    fn with_problem(
        name: &str,
        tolerance: Tolerance,
        actual: Option<&Tensor>,
        expected: Option<&Tensor>,
        why: String,
    ) -> Self {
        OutputReport {
            name: name.to_string(),
            pass: false,
            tolerance,
            actual_shape: actual.map(|t| t.shape().to_vec()),
            expected_shape: expected.map(|t| t.shape().to_vec()),
            problem: Some(why),
            total: 0,
            mismatches: 0,
            nonfinite_mismatches: 0,
            expected_nan: expected.map_or(0, |t| t.data().count_nan()),
            max_abs: f64::INFINITY,
            max_rel: f64::INFINITY,
            mean_abs: f64::INFINITY,
            min_atol: None,
            worst: None,
            abs_error_histogram: ErrorHistogram::default(),
        }
    }
}

/// Writes finite floats as numbers and infinities / NaN as the strings `"inf"`, `"-inf"`, `"nan"`
/// (JSON has no literal for them); for `#[serde(serialize_with = "ser_f64")]` on any report.
pub fn ser_f64<S: Serializer>(v: &f64, s: S) -> std::result::Result<S::Ok, S::Error> {
    if v.is_finite() {
        s.serialize_f64(*v)
    } else if v.is_nan() {
        s.serialize_str("nan")
    } else if *v > 0.0 {
        s.serialize_str("inf")
    } else {
        s.serialize_str("-inf")
    }
}

/// Reads what [`ser_f64`] writes: a number, or `"nan"`, `"inf"`, `"-inf"`.
pub fn de_f64<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Number {
        Float(f64),
        Word(String),
    }
    match Number::deserialize(d)? {
        Number::Float(v) => Ok(v),
        Number::Word(w) => match w.as_str() {
            "nan" => Ok(f64::NAN),
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            other => Err(serde::de::Error::custom(format!("not a number: {other:?}"))),
        },
    }
}

/// One element's errors and the atol it needs; `None` need means no atol suffices.
struct Element {
    pass: bool,
    nonfinite: bool,
    abs_err: f64,
    rel_err: f64,
    need: Option<f64>,
}

fn element(a: f64, b: f64, tol: Tolerance, opts: CompareOptions) -> Element {
    let equal =
        Element { pass: true, nonfinite: false, abs_err: 0.0, rel_err: 0.0, need: Some(0.0) };
    let mismatch = Element {
        pass: false,
        nonfinite: true,
        abs_err: f64::INFINITY,
        rel_err: f64::INFINITY,
        need: None,
    };
    if a.is_nan() || b.is_nan() {
        return if a.is_nan() && b.is_nan() && opts.nan_equal { equal } else { mismatch };
    }
    if a.is_infinite() || b.is_infinite() {
        return if a == b { equal } else { mismatch };
    }
    let abs_err = (a - b).abs();
    let rel_err = if abs_err == 0.0 { 0.0 } else { abs_err / b.abs() };
    let slack = tol.rtol * b.abs();
    let mut need = (abs_err - slack).max(0.0);
    // Rounding in `need + slack` may fall short of `abs_err`: step up until the test passes.
    while need + slack < abs_err {
        need = need.next_up();
    }
    // `a - b` can overflow to infinity for huge finite values: no finite atol suffices then.
    let need = need.is_finite().then_some(need);
    Element { pass: tol.admits(abs_err, b), nonfinite: false, abs_err, rel_err, need }
}

/// Calls `f(i, a[i], b[i])` for every element of two tensors of one dtype and length, as f64, in
/// place (no widened copies): a loop of its own for float32, the common case.
fn each_pair(a: &TensorData, b: &TensorData, mut f: impl FnMut(usize, f64, f64)) {
    match (a, b) {
        (TensorData::F32(x), TensorData::F32(y)) => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                f(i, f64::from(*p), f64::from(*q));
            }
        }
        _ => (0..b.len()).for_each(|i| f(i, a.f64_at(i), b.f64_at(i))),
    }
}

/// Compares one output: `actual` against `expected`.
pub fn compare_tensors(
    name: &str,
    actual: &Tensor,
    expected: &Tensor,
    tol: Tolerance,
    opts: CompareOptions,
) -> OutputReport {
    if actual.shape() != expected.shape() {
        let why =
            format!("shape mismatch: actual {:?}, expected {:?}", actual.shape(), expected.shape());
        return OutputReport::with_problem(name, tol, Some(actual), Some(expected), why);
    }
    if actual.dtype() != expected.dtype() {
        let why =
            format!("dtype mismatch: actual {}, expected {}", actual.dtype(), expected.dtype());
        return OutputReport::with_problem(name, tol, Some(actual), Some(expected), why);
    }
    // Element by element, not widened copies: a large tensor costs no allocation.
    let (a, b) = (actual.data(), expected.data());
    let total = b.len();
    let (mut mismatches, mut nonfinite, mut expected_nan) = (0, 0, 0);
    let (mut max_abs, mut max_rel, mut sum_abs) = (0.0f64, 0.0f64, 0.0f64);
    let mut min_atol = Some(0.0f64);
    let mut histogram = ErrorHistogram::default();
    // (need, flat index) of the worst element; `None` need (no atol suffices) ranks highest.
    let mut worst: Option<(Option<f64>, usize)> = None;
    each_pair(a, b, |i, ai, bi| {
        expected_nan += usize::from(bi.is_nan());
        let e = element(ai, bi, tol, opts);
        if !e.pass {
            mismatches += 1;
            nonfinite += usize::from(e.nonfinite);
        }
        max_abs = max_abs.max(e.abs_err);
        max_rel = max_rel.max(e.rel_err);
        sum_abs += e.abs_err;
        histogram.add(e.abs_err);
        min_atol = match (min_atol, e.need) {
            (Some(m), Some(n)) => Some(m.max(n)),
            _ => None,
        };
        let worse = match worst {
            None => true,
            Some((None, _)) => false,
            Some((Some(w), _)) => e.need.is_none_or(|n| n > w),
        };
        if worse {
            worst = Some((e.need, i));
        }
    });
    let worst = worst.map(|(_, i)| {
        let (ai, bi) = (a.f64_at(i), b.f64_at(i));
        let e = element(ai, bi, tol, opts);
        Worst {
            flat_index: i,
            index: expected.unravel(i),
            actual: ai,
            expected: bi,
            abs_err: e.abs_err,
            rel_err: e.rel_err,
        }
    });
    OutputReport {
        name: name.to_string(),
        pass: mismatches == 0,
        tolerance: tol,
        actual_shape: Some(actual.shape().to_vec()),
        expected_shape: Some(expected.shape().to_vec()),
        problem: None,
        total,
        mismatches,
        nonfinite_mismatches: nonfinite,
        expected_nan,
        max_abs,
        max_rel,
        mean_abs: if total == 0 { 0.0 } else { sum_abs / total as f64 },
        min_atol,
        worst,
        abs_error_histogram: histogram,
    }
}

/// The cosine similarity of two tensors of the same shape, read as flat vectors of f64: `1` for
/// equal directions. Two all-zero tensors count as `1` (equal), one all-zero tensor against another
/// as `0`; a non-finite element or another shape gives NaN, which no threshold admits.
pub fn cosine(actual: &Tensor, expected: &Tensor) -> f64 {
    if actual.shape() != expected.shape() {
        return f64::NAN;
    }
    let (mut dot, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    each_pair(actual.data(), expected.data(), |_, x, y| {
        dot += x * y;
        aa += x * x;
        bb += y * y;
    });
    if !(dot.is_finite() && aa.is_finite() && bb.is_finite()) {
        return f64::NAN;
    }
    match (aa == 0.0, bb == 0.0) {
        (true, true) => 1.0,
        (true, false) | (false, true) => 0.0,
        (false, false) => dot / (aa.sqrt() * bb.sqrt()),
    }
}

/// The comparison of one case: one report per expected output, in name order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseReport {
    pub case: String,
    pub pass: bool,
    pub outputs: Vec<OutputReport>,
}

/// Compares every expected output of a case. An expected output missing from `actual` is a
/// failing report; outputs in `actual` that are not expected are ignored.
pub fn compare_outputs(
    case: &str,
    actual: &NamedTensors,
    expected: &NamedTensors,
    tols: &Tolerances,
    opts: CompareOptions,
) -> CaseReport {
    let outputs: Vec<OutputReport> = expected
        .iter()
        .map(|(name, want)| {
            let tol = tols.get(name);
            match actual.get(name) {
                Some(got) => compare_tensors(name, got, want, tol, opts),
                None => OutputReport::with_problem(
                    name,
                    tol,
                    None,
                    Some(want),
                    format!("output '{name}' missing from the actual outputs"),
                ),
            }
        })
        .collect();
    CaseReport { case: case.to_string(), pass: outputs.iter().all(|o| o.pass), outputs }
}

/// One output over many cases: the worst of each statistic and where it occurred.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputSummary {
    pub name: String,
    pub pass: bool,
    pub tolerance: Tolerance,
    pub cases: usize,
    pub failed_cases: usize,
    pub total: usize,
    pub mismatches: usize,
    /// Expected elements that are NaN, over all cases.
    pub expected_nan: usize,
    #[serde(serialize_with = "ser_f64")]
    pub max_abs: f64,
    #[serde(serialize_with = "ser_f64")]
    pub max_rel: f64,
    /// Mean absolute error over all elements of all cases.
    #[serde(serialize_with = "ser_f64")]
    pub mean_abs: f64,
    /// Smallest atol with which every case would pass at this rtol; `None` when none would.
    pub min_atol: Option<f64>,
    /// The case that needs the largest atol (or has a problem / non-finite mismatch).
    pub worst_case: Option<String>,
    /// The first problem met, prefixed with its case name.
    pub problem: Option<String>,
    /// Every element's absolute error over all cases, counted by size.
    pub abs_error_histogram: ErrorHistogram,
}

/// Folds case reports into one summary per output name, in name order.
pub fn summarize(reports: &[CaseReport]) -> Vec<OutputSummary> {
    let mut summary = Summary::default();
    for case in reports {
        summary.add(case);
    }
    summary.finish()
}

/// [`summarize`] one case at a time, so a run over any number of cases keeps only the summary.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Per output: the summary so far, the sum of absolute errors, the largest atol needed.
    by_name: BTreeMap<String, (OutputSummary, f64, Option<f64>)>,
}

impl Summary {
    /// Folds in the next case.
    pub fn add(&mut self, case: &CaseReport) {
        for o in &case.outputs {
            let (s, sum_abs, worst_need) =
                self.by_name.entry(o.name.clone()).or_insert_with(|| {
                    (
                        OutputSummary {
                            name: o.name.clone(),
                            pass: true,
                            tolerance: o.tolerance,
                            cases: 0,
                            failed_cases: 0,
                            total: 0,
                            mismatches: 0,
                            expected_nan: 0,
                            max_abs: 0.0,
                            max_rel: 0.0,
                            mean_abs: 0.0,
                            min_atol: Some(0.0),
                            worst_case: None,
                            problem: None,
                            abs_error_histogram: ErrorHistogram::default(),
                        },
                        0.0,
                        Some(-1.0),
                    )
                });
            s.cases += 1;
            s.pass &= o.pass;
            s.failed_cases += usize::from(!o.pass);
            s.total += o.total;
            s.mismatches += o.mismatches;
            s.expected_nan += o.expected_nan;
            s.max_abs = s.max_abs.max(o.max_abs);
            s.max_rel = s.max_rel.max(o.max_rel);
            s.abs_error_histogram.merge(&o.abs_error_histogram);
            *sum_abs += o.mean_abs * o.total as f64;
            if o.problem.is_some() {
                *sum_abs = f64::INFINITY;
            }
            if s.problem.is_none() {
                s.problem = o.problem.as_ref().map(|p| format!("{}: {p}", case.case));
            }
            s.min_atol = match (s.min_atol, o.min_atol) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            };
            let worse = match (*worst_need, o.min_atol) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(w), Some(n)) => n > w,
            };
            if worse {
                *worst_need = o.min_atol;
                s.worst_case = Some(case.case.clone());
            }
        }
    }

    /// One summary per output name, in name order.
    pub fn finish(self) -> Vec<OutputSummary> {
        self.by_name
            .into_values()
            .map(|(mut s, sum_abs, _)| {
                s.mean_abs = if s.total == 0 && sum_abs.is_finite() {
                    0.0
                } else {
                    sum_abs / s.total.max(1) as f64
                };
                s
            })
            .collect()
    }
}
