//! What `localize` reports: per node, the cumulative and isolated error; per run, the verdict;
//! and the three formats (text, JSON, Markdown).

use parity_core::Tensor;
use parity_core::compare::{CompareOptions, Tolerance, compare_tensors, cosine, ser_f64};
use serde::Serialize;

use crate::output::{Format, escape_control, table};
use crate::parity::report::sci;

/// One value's error against the expected value.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Metrics {
    #[serde(serialize_with = "ser_f64")]
    pub max_abs: f64,
    #[serde(serialize_with = "ser_f64")]
    pub max_rel: f64,
    #[serde(serialize_with = "ser_f64")]
    pub cosine: f64,
    /// Some element is outside the tolerance (or the shapes differ, or NaN meets a number).
    pub exceeds: bool,
}

impl Metrics {
    /// `actual` against `expected` at `tol`. Values of two integer widths (RTen computes int64
    /// as int32) are compared by value.
    pub fn of(actual: &Tensor, expected: &Tensor, tol: Tolerance) -> Metrics {
        if actual.dtype() != expected.dtype() {
            let widen = |t: &Tensor| Tensor::from_f64(t.shape().to_vec(), t.data().to_f64_vec());
            if let (Ok(a), Ok(e)) = (widen(actual), widen(expected)) {
                return Metrics::of(&a, &e, tol);
            }
        }
        let report = compare_tensors("value", actual, expected, tol, CompareOptions::default());
        Metrics {
            max_abs: report.max_abs,
            max_rel: report.max_rel,
            cosine: cosine(actual, expected),
            exceeds: !report.pass,
        }
    }
}

/// A node and the value of it a verdict names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeRef {
    pub node: String,
    pub op: String,
    pub value: String,
}

/// One value of the graph, in topological order.
#[derive(Debug, Clone, Serialize)]
pub struct NodeRow {
    pub node: String,
    pub op: String,
    pub value: String,
    pub shape: Option<Vec<usize>>,
    /// With `--against`: the value of the other export it was aligned with (`null`: unaligned,
    /// so it is not compared and can name no culprit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aligned_to: Option<Option<String>>,
    /// The whole graph run, against the expected value.
    pub cumulative: Option<Metrics>,
    /// The node run alone on the expected values of its inputs, against the expected value.
    pub isolated: Option<Metrics>,
    /// Why `isolated` is missing, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isolated_note: Option<String>,
    /// Why the value is not compared on this runtime at all: the expected value holds numbers
    /// the runtime cannot represent in the dtype it holds the value in (RTen holds int64 as
    /// int32, and a transformer's slice ends at INT64_MAX). Not a divergence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_comparable: Option<String>,
}

impl NodeRow {
    pub fn node_ref(&self) -> NodeRef {
        NodeRef { node: self.node.clone(), op: self.op.clone(), value: self.value.clone() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LocalizeVerdict {
    None,
    Culprit,
    Accumulation,
    Error,
    /// A run only: without `--backend`, a backend whose runtime cannot run the model.
    Skipped,
}

/// One comparison: a backend against the reference backend, or one export against the other on a
/// backend.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub name: String,
    pub backend: String,
    pub verdict: LocalizeVerdict,
    /// The first node whose isolated error exceeds the tolerance.
    pub culprit: Option<NodeRef>,
    /// The first node whose cumulative error exceeds the tolerance.
    pub crossing: Option<NodeRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why the run was skipped (verdict `skipped`): its runtime could not run the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// How the values under test were read (`native` or `exposed`), and with `exposed`, how far
    /// exposing every value moved the graph's own outputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_out: Option<super::trace::ReadOut>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_opt_f64")]
    pub exposure_drift: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aligned: Option<Aligned>,
    pub nodes: Vec<NodeRow>,
}

fn ser_opt_f64<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => ser_f64(v, s),
        None => s.serialize_none(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Aligned {
    pub values: usize,
    pub of: usize,
}

impl Run {
    /// A run over `nodes` (topological order): the verdict from its first isolated and first
    /// cumulative excess; only compared (aligned) values count.
    pub fn judged(name: String, backend: &str, nodes: Vec<NodeRow>) -> Run {
        let first = |pick: fn(&NodeRow) -> Option<Metrics>| {
            nodes.iter().find(|r| pick(r).is_some_and(|m| m.exceeds)).map(NodeRow::node_ref)
        };
        let culprit = first(|r| r.isolated);
        let crossing = first(|r| r.cumulative);
        let verdict = match (&culprit, &crossing) {
            (Some(_), _) => LocalizeVerdict::Culprit,
            (None, Some(_)) => LocalizeVerdict::Accumulation,
            (None, None) => LocalizeVerdict::None,
        };
        Run {
            name,
            backend: backend.to_string(),
            verdict,
            culprit,
            crossing,
            error: None,
            skipped: None,
            read_out: None,
            exposure_drift: None,
            aligned: None,
            nodes,
        }
    }

    pub fn failed(name: String, backend: &str, error: &anyhow::Error) -> Run {
        Run {
            error: Some(format!("{error:#}")),
            verdict: LocalizeVerdict::Error,
            ..Run::judged(name, backend, Vec::new())
        }
    }

    /// A run of a backend (not named by the user) whose runtime cannot run the model.
    pub fn skipped(name: String, backend: &str, why: &anyhow::Error) -> Run {
        Run {
            skipped: Some(format!("{why:#}")),
            verdict: LocalizeVerdict::Skipped,
            ..Run::judged(name, backend, Vec::new())
        }
    }

    /// The one-line verdict of this run.
    fn summary(&self) -> String {
        let at = |r: &NodeRef| format!("{} ({}), value {}", r.node, r.op, r.value);
        match (self.verdict, &self.culprit, &self.crossing) {
            (LocalizeVerdict::Error, ..) => {
                format!("error: {}", self.error.as_deref().unwrap_or("unknown"))
            }
            (LocalizeVerdict::Skipped, ..) => {
                format!("skipped: {}", self.skipped.as_deref().unwrap_or("unknown"))
            }
            (LocalizeVerdict::Culprit, Some(c), _) => {
                format!("culprit: {} computes differently on its own inputs", at(c))
            }
            (LocalizeVerdict::Accumulation, _, Some(k)) => format!(
                "accumulation: no node exceeds the tolerance alone; the error first crosses it at {}",
                at(k)
            ),
            _ => "no divergence: every value within the tolerance".into(),
        }
    }
}

/// Wall time of the parts of a run, in seconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Timing {
    pub load_s: f64,
    pub cumulative_s: f64,
    pub isolated_s: f64,
    pub total_s: f64,
}

impl Timing {
    /// Counts a cumulative run's loading and running.
    pub fn add(&mut self, trace: &super::trace::Trace) {
        self.load_s += trace.load_s;
        self.cumulative_s += trace.run_s;
    }

    /// Adds another backend's parts (backends run side by side: the parts are summed time, not
    /// wall time; `total_s` is the wall time).
    pub fn add_up(&mut self, other: &Timing) {
        self.load_s += other.load_s;
        self.cumulative_s += other.cumulative_s;
        self.isolated_s += other.isolated_s;
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub command: &'static str,
    pub verdict: LocalizeVerdict,
    pub culprit: Option<NodeRef>,
    pub crossing: Option<NodeRef>,
    pub aligned: Option<Aligned>,
    pub model: String,
    pub against: Option<String>,
    /// The backend whose values are expected, or `pytorch`.
    pub reference: String,
    /// With PyTorch as the reference: what was mapped of its module outputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intermediates: Option<super::pytorch::Intermediates>,
    pub case: String,
    pub tolerance: Tolerance,
    pub runs: Vec<Run>,
    pub timing: Timing,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repro: Option<String>,
    #[serde(skip)]
    pub top: usize,
}

impl Report {
    /// The top-level verdict over the runs: an error if any run failed or every run was skipped,
    /// else the first culprit, else the first accumulation, else none (skipped runs do not count).
    pub fn summarise(&mut self) {
        let first = |v: LocalizeVerdict| self.runs.iter().find(|r| r.verdict == v);
        let all_skipped = self.runs.iter().all(|r| r.verdict == LocalizeVerdict::Skipped);
        let (verdict, culprit, crossing) = if first(LocalizeVerdict::Error).is_some() || all_skipped
        {
            (LocalizeVerdict::Error, None, None)
        } else if let Some(r) = first(LocalizeVerdict::Culprit) {
            (LocalizeVerdict::Culprit, r.culprit.clone(), r.crossing.clone())
        } else if let Some(r) = first(LocalizeVerdict::Accumulation) {
            (LocalizeVerdict::Accumulation, None, r.crossing.clone())
        } else {
            (LocalizeVerdict::None, None, None)
        };
        self.verdict = verdict;
        self.culprit = culprit;
        self.crossing = crossing;
        self.aligned = self.runs.iter().find_map(|r| r.aligned);
    }

    pub fn print(&self, format: Format) -> anyhow::Result<()> {
        match format {
            Format::Json => return crate::output::print_json(self),
            Format::Jsonl => return crate::output::print_json_line(self),
            Format::Text | Format::Markdown => {}
        }
        let md = format == Format::Markdown;
        let word = |v: LocalizeVerdict| match v {
            LocalizeVerdict::None => "NONE",
            LocalizeVerdict::Culprit => "CULPRIT",
            LocalizeVerdict::Accumulation => "ACCUMULATION",
            LocalizeVerdict::Error => "ERROR",
            LocalizeVerdict::Skipped => "SKIPPED",
        };
        if md {
            println!("### ssrnet-parity localize: {}\n", word(self.verdict));
        }
        println!("model:     {}", escape_control(&self.model));
        if let Some(b) = &self.against {
            println!("against:   {}", escape_control(b));
        } else {
            println!("reference: {}", self.reference);
        }
        if let Some(i) = &self.intermediates {
            println!(
                "pytorch:   {} of {} module outputs mapped ({:.0}%), {} values compared; unmapped: {}",
                i.modules_mapped,
                i.modules,
                100.0 * i.fraction,
                i.values,
                if i.unmapped.is_empty() {
                    "none".to_string()
                } else {
                    escape_control(&i.unmapped.keys().cloned().collect::<Vec<_>>().join(", "))
                }
            );
        }
        println!(
            "case:      {} (atol {}, rtol {})",
            escape_control(&self.case),
            self.tolerance.atol,
            self.tolerance.rtol
        );
        for run in &self.runs {
            println!();
            let heading = format!(
                "{}: {} - {}",
                escape_control(&run.name),
                word(run.verdict),
                escape_control(&run.summary())
            );
            if md {
                println!("#### {heading}\n");
            } else {
                println!("{heading}");
            }
            if let Some(a) = run.aligned {
                println!("aligned {} of {} values", a.values, a.of);
            }
            let not_comparable: Vec<&NodeRow> =
                run.nodes.iter().filter(|r| r.not_comparable.is_some()).collect();
            if let Some(first) = not_comparable.first() {
                println!(
                    "{} value(s) not comparable on {}, e.g. {}: {}",
                    not_comparable.len(),
                    run.backend,
                    escape_control(&first.value),
                    escape_control(first.not_comparable.as_deref().unwrap_or_default())
                );
            }
            if let Some(drift) = run.exposure_drift.filter(|d| *d > self.tolerance.atol) {
                println!(
                    "warning: exposing every value as an output moved the graph's outputs by {} (the \"mark all\" pitfall)",
                    sci(drift)
                );
            }
            if run.nodes.is_empty() {
                continue;
            }
            let mut worst: Vec<&NodeRow> = run.nodes.iter().collect();
            let key = |r: &NodeRow| {
                r.isolated
                    .or(r.cumulative)
                    .map_or(-1.0, |m| if m.max_abs.is_nan() { f64::INFINITY } else { m.max_abs })
            };
            worst.sort_by(|a, b| key(b).total_cmp(&key(a)));
            worst.truncate(self.top);
            println!("{} worst nodes (by isolated error):", worst.len());
            let mut t = table(
                format,
                &[
                    "node",
                    "op",
                    "value",
                    "shape",
                    "cumulative max abs",
                    "isolated max abs",
                    "isolated cosine",
                ],
            );
            let cell = |m: Option<Metrics>, f: fn(&Metrics) -> f64| {
                m.map_or("-".to_string(), |m| sci(f(&m)))
            };
            for r in worst {
                t.add_row(vec![
                    escape_control(&r.node),
                    escape_control(&r.op),
                    escape_control(&r.value),
                    r.shape.as_ref().map_or("-".into(), |s| format!("{s:?}")),
                    cell(r.cumulative, |m| m.max_abs),
                    cell(r.isolated, |m| m.max_abs),
                    r.isolated.map_or("-".into(), |m| format!("{:.6}", m.cosine)),
                ]);
            }
            println!("{t}");
        }
        println!();
        let overall = match (&self.culprit, &self.crossing) {
            (Some(c), _) => format!("culprit {} ({}), value {}", c.node, c.op, c.value),
            (None, Some(k)) => format!("accumulation, crossing at {} ({})", k.node, k.op),
            _ if self.verdict == LocalizeVerdict::Error => "a run failed".into(),
            _ => "no divergence".into(),
        };
        let line = format!("{}: {}", word(self.verdict), escape_control(&overall));
        if md {
            println!("**{line}**")
        } else {
            println!("{line}")
        }
        if let Some(dir) = &self.repro {
            println!("repro written to {}", escape_control(dir));
        }
        Ok(())
    }
}
