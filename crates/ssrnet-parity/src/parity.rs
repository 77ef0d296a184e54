//! The engine behind `check`, `compare` and `diff`: run the same inputs through prepared models,
//! compare outputs with the core's tolerance rules, fold the results into one report, and print it.

use std::path::Path;

use anyhow::Result;
use parity_core::compare::{
    CaseReport, CompareOptions, OutputSummary, Tolerances, compare_outputs, summarize,
};
use parity_core::{Dim, ModelInfo, NamedTensors, Options, Runnable};
use serde::Serialize;

use crate::Verdict;
use crate::backends::BackendName;
use crate::output::{Format, table, verdict_word};

/// Flags shared by `check`, `compare` and `diff`: tolerances, threads, output format.
#[derive(clap::Args, Clone, Debug)]
pub struct ParityArgs {
    /// Intra-op threads per backend (default: the backend's choice).
    #[arg(long, value_parser = crate::output::at_least_one)]
    pub threads: Option<usize>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Absolute tolerance for every output (default: the manifest's, else 1e-4).
    #[arg(long)]
    pub atol: Option<f64>,
    /// Relative tolerance for every output (default: the manifest's, else 0).
    #[arg(long)]
    pub rtol: Option<f64>,
    // (A doc comment would be read as an intra-doc link by rustdoc.)
    #[arg(
        long = "output-tol",
        value_name = "NAME:ATOL[:RTOL]",
        help = "Per-output tolerance NAME:ATOL[:RTOL]; repeatable; wins over --atol/--rtol"
    )]
    pub output_tol: Vec<String>,
    /// Count NaN against NaN as equal (NaN against a number always fails).
    #[arg(long)]
    pub nan_equal: bool,
}

impl ParityArgs {
    /// Flags over `base` (the manifest's tolerances, or the defaults).
    pub fn resolve(&self, base: Tolerances) -> Result<Tolerances> {
        let mut tols = base;
        if self.atol.is_some() || self.rtol.is_some() {
            let atol = self.atol.unwrap_or(tols.default.atol);
            let rtol = self.rtol.unwrap_or(tols.default.rtol);
            let t = parity_core::Tolerance::new(atol, rtol)?;
            tols = Tolerances::uniform(t);
        }
        for spec in &self.output_tol {
            let (name, t) = parity_core::Tolerance::parse_override(spec)?;
            tols = tols.with(name, t);
        }
        Ok(tols)
    }

    pub fn options(&self) -> CompareOptions {
        CompareOptions { nan_equal: self.nan_equal }
    }
}

/// True when the model's inputs all have a batch axis fixed to 1 (a static export).
fn fixed_batch_one(info: &ModelInfo) -> bool {
    !info.inputs.is_empty()
        && info.inputs.iter().all(|io| matches!(io.shape.first(), Some(Dim::Fixed(1))))
}

/// The model's signature with a batch axis fixed to 1 made symbolic: golden cases of any batch fit,
/// because [`run_inputs`] runs a static model one sample at a time.
pub fn batch_agnostic(info: &ModelInfo) -> ModelInfo {
    let mut info = info.clone();
    if fixed_batch_one(&info) {
        for io in info.inputs.iter_mut().chain(info.outputs.iter_mut()) {
            if let Some(d @ Dim::Fixed(1)) = io.shape.first_mut() {
                *d = Dim::Symbolic("batch".into());
            }
        }
    }
    info
}

/// Runs `inputs`; a batch of N on a model whose batch axis is fixed to 1 runs as N single-sample
/// calls whose outputs are concatenated (the same arithmetic, sample by sample).
pub fn run_inputs(
    runnable: &mut dyn Runnable,
    inputs: &NamedTensors,
) -> parity_core::Result<NamedTensors> {
    let batch = inputs.values().next().and_then(|t| t.shape().first().copied()).unwrap_or(1);
    if batch <= 1 || !fixed_batch_one(runnable.info()) {
        return runnable.run(inputs);
    }
    let mut rows: Vec<NamedTensors> = (0..batch).map(|_| NamedTensors::new()).collect();
    for (name, t) in inputs {
        for (row, part) in rows.iter_mut().zip(t.split0()?) {
            row.insert(name.clone(), part);
        }
    }
    let parts =
        rows.iter().map(|row| runnable.run(row)).collect::<parity_core::Result<Vec<_>>>()?;
    parity_core::concat_named(parts)
}

/// Loads `model` on `backend`, naming both in the error.
pub fn prepare(backend: BackendName, model: &Path, options: &Options) -> Result<Box<dyn Runnable>> {
    backend
        .runtime()
        .prepare(model, options)
        .map_err(|e| backend_error(backend, model, "cannot load", e))
}

/// `backend`'s error on `model` as one line that names each once:
/// `candle: m.onnx: case face_01: candle-onnx panicked at ...`. A backend's own message may already
/// start with its name and the model's path; neither is repeated.
pub fn backend_error(
    backend: BackendName,
    model: &Path,
    what: &str,
    e: parity_core::Error,
) -> anyhow::Error {
    let detail = match e {
        parity_core::Error::Backend { message, .. } => message,
        other => other.to_string(),
    };
    let model = model.display().to_string();
    let detail = detail.strip_prefix(&format!("{model}: ")).unwrap_or(&detail);
    anyhow::anyhow!("{}: {model}: {what}: {detail}", backend.as_str())
}

/// One compared side: a backend (or a model) and what came of it.
#[derive(Serialize)]
pub struct SideReport {
    pub name: String,
    /// `pass`, `fail`, or `error` when it could not load or run.
    pub verdict: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub outputs: Vec<OutputSummary>,
    /// Names of the cases that failed.
    pub failed_cases: Vec<String>,
    /// Per-case reports of the failed cases only (all of them are in `outputs`' statistics).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<CaseReport>,
}

impl SideReport {
    pub fn from_cases(name: &str, cases: Vec<CaseReport>) -> Self {
        let outputs = summarize(&cases);
        let failures: Vec<CaseReport> = cases.into_iter().filter(|c| !c.pass).collect();
        SideReport {
            name: name.to_string(),
            verdict: if failures.is_empty() && !outputs.is_empty() { "pass" } else { "fail" },
            error: None,
            outputs,
            failed_cases: failures.iter().map(|c| c.case.clone()).collect(),
            failures,
        }
    }

    pub fn from_error(name: &str, error: &anyhow::Error) -> Self {
        SideReport {
            name: name.to_string(),
            verdict: "error",
            error: Some(format!("{error:#}")),
            outputs: Vec::new(),
            failed_cases: Vec::new(),
            failures: Vec::new(),
        }
    }
}

/// The whole verdict of a `check`, `compare` or `diff`.
#[derive(Serialize)]
pub struct ParityReport {
    /// `pass` when every side passed; `fail` when any mismatched; `error` when any could not run.
    pub verdict: &'static str,
    pub command: &'static str,
    pub model: String,
    /// What the sides were compared against.
    pub reference: String,
    pub cases: usize,
    /// The model family's profile (`ssrnet` or `plain`).
    pub profile: &'static str,
    pub backends: Vec<SideReport>,
    /// Extra per-command findings (e.g. `diff`'s age-interval changes).
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ParityReport {
    pub fn new(
        command: &'static str,
        model: String,
        reference: String,
        cases: usize,
        profile: &'static str,
        backends: Vec<SideReport>,
    ) -> Self {
        let verdict = if backends.iter().any(|b| b.verdict == "error") {
            "error"
        } else if backends.iter().all(|b| b.verdict == "pass") {
            "pass"
        } else {
            "fail"
        };
        ParityReport {
            verdict,
            command,
            model,
            reference,
            cases,
            profile,
            backends,
            extra: serde_json::Map::new(),
        }
    }

    /// Prints the report and returns the exit verdict; an `error` side makes the command an error
    /// (exit 2) after the report is printed.
    pub fn finish(self, format: Format) -> Result<Verdict> {
        match format {
            Format::Json => crate::output::print_json(&self)?,
            _ => self.print_text(format),
        }
        match self.verdict {
            "pass" => Ok(Verdict::Pass),
            "fail" => Ok(Verdict::Fail),
            _ => {
                let errors: Vec<String> =
                    self.backends.iter().filter_map(|b| b.error.clone()).collect();
                anyhow::bail!("{}", errors.join("; "))
            }
        }
    }

    fn print_text(&self, format: Format) {
        let md = format == Format::Markdown;
        if md {
            println!("### ssrnet-parity {}: {}\n", self.command, self.verdict.to_uppercase());
        }
        println!("model:     {}", self.model);
        println!("reference: {} ({} cases)", self.reference, self.cases);
        println!("profile:   {}", self.profile);
        if md {
            println!();
        }
        let mut t = table(
            format,
            &[
                "backend",
                "output",
                "max abs",
                "max rel",
                "mean abs",
                "mismatches",
                "tolerance",
                "min atol",
                "worst case",
                "verdict",
            ],
        );
        for side in &self.backends {
            if let Some(err) = &side.error {
                t.add_row(vec![
                    side.name.clone(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    err.clone(),
                    "ERROR".into(),
                ]);
                continue;
            }
            for o in &side.outputs {
                t.add_row(vec![
                    side.name.clone(),
                    o.name.clone(),
                    sci(o.max_abs),
                    sci(o.max_rel),
                    sci(o.mean_abs),
                    format!("{}/{}", o.mismatches, o.total),
                    format!("{:e}+{:e}*|ref|", o.tolerance.atol, o.tolerance.rtol),
                    o.min_atol.map_or("none".into(), sci),
                    o.worst_case.clone().unwrap_or_default(),
                    if o.pass { "PASS".into() } else { "FAIL".into() },
                ]);
            }
        }
        println!("{t}");
        for side in self.backends.iter().filter(|s| !s.failed_cases.is_empty()) {
            println!(
                "{}: {} failing case(s): {}",
                side.name,
                side.failed_cases.len(),
                side.failed_cases.join(", ")
            );
            for case in side.failures.iter().take(5) {
                for o in case.outputs.iter().filter(|o| !o.pass) {
                    match (&o.problem, &o.worst) {
                        (Some(p), _) => println!("  {} / {}: {p}", case.case, o.name),
                        (None, Some(w)) => println!(
                            "  {} / {}: {} mismatches, worst at {:?}: got {} expected {} (|diff| {})",
                            case.case,
                            o.name,
                            o.mismatches,
                            w.index,
                            w.actual,
                            w.expected,
                            sci(w.abs_err)
                        ),
                        _ => {}
                    }
                }
            }
            let expected_nan: Vec<&str> = side
                .failures
                .iter()
                .filter(|c| c.outputs.iter().any(|o| !o.pass && o.expected_nan > 0))
                .map(|c| c.case.as_str())
                .collect();
            if !expected_nan.is_empty() {
                println!(
                    "{}: expected NaN in failing case(s): {} (NaN passes only against NaN, with --nan-equal)",
                    side.name,
                    expected_nan.join(", ")
                );
            }
        }
        for (k, v) in &self.extra {
            println!("{k}: {v}");
        }
        let summary = match self.verdict {
            "pass" => format!(
                "{} backend(s) x {} cases within tolerance",
                self.backends.len(),
                self.cases
            ),
            "fail" => "parity mismatch".to_string(),
            _ => "a backend could not run the model".to_string(),
        };
        let word = match self.verdict {
            "pass" => verdict_word(true),
            "fail" => verdict_word(false),
            _ => "ERROR".into(),
        };
        if md {
            println!("\n**{}**: {summary}", self.verdict.to_uppercase());
        } else {
            println!("{word}: {summary}");
        }
    }
}

/// `1.23e-5`-style, `inf`/`nan` spelled out.
pub fn sci(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.is_finite() {
        format!("{v:.2e}")
    } else {
        v.to_string()
    }
}

/// Compares `actual` case outputs against `expected` ones, case by case.
pub fn compare_cases(
    names: &[String],
    actual: &[NamedTensors],
    expected: &[NamedTensors],
    tols: &Tolerances,
    opts: CompareOptions,
) -> Vec<CaseReport> {
    names
        .iter()
        .zip(actual.iter().zip(expected))
        .map(|(name, (a, e))| compare_outputs(name, a, e, tols, opts))
        .collect()
}
