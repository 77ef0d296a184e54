//! What `localize` reports: per node, the cumulative and isolated error; per run, the verdict.
//! Plain serde types: each front end renders them.

use parity_core::Tensor;
use parity_core::compare::{CompareOptions, Tolerance, compare_tensors, cosine, ser_f64};
pub use parity_graph::scope::Origin;
use serde::Serialize;

/// One value's error against the expected value.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Metrics {
    /// The largest absolute difference.
    #[serde(serialize_with = "ser_f64")]
    pub max_abs: f64,
    /// The largest relative difference.
    #[serde(serialize_with = "ser_f64")]
    pub max_rel: f64,
    /// The cosine similarity of the two values.
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
    /// The node's name.
    pub node: String,
    /// The node's op type.
    pub op: String,
    /// The value (one of the node's outputs).
    pub value: String,
    /// The PyTorch module that computed the value (`module`, `module_class`, `source`), where
    /// PyTorch's intermediates or the export say.
    #[serde(flatten)]
    pub origin: Origin,
}

/// One value of the graph, in topological order.
#[derive(Debug, Clone, Serialize)]
pub struct NodeRow {
    /// The node's name.
    pub node: String,
    /// The node's op type.
    pub op: String,
    /// The value (one of the node's outputs).
    pub value: String,
    /// The PyTorch module that computed the value (`module`, `module_class`, `source`), where
    /// PyTorch's intermediates or the export say.
    #[serde(flatten)]
    pub origin: Origin,
    /// The value's shape as computed, when it was.
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
    /// The node and value this row is about.
    pub fn node_ref(&self) -> NodeRef {
        NodeRef {
            node: self.node.clone(),
            op: self.op.clone(),
            value: self.value.clone(),
            origin: self.origin.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
/// What a run, or the whole report, concluded.
#[serde(rename_all = "lowercase")]
pub enum LocalizeVerdict {
    /// Every value within the tolerance.
    None,
    /// A node computes differently on its own inputs.
    Culprit,
    /// No node exceeds the tolerance alone, but the error grows past it.
    Accumulation,
    /// A run could not be carried out (or, for a report, every run was skipped).
    Error,
    /// A run only: without `--backend`, a backend whose runtime cannot run the model.
    Skipped,
}

/// One comparison: a backend against the reference backend, or one export against the other on a
/// backend.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// The run's name (`rten vs ort`, `tract: A vs B`, `ort vs pytorch`).
    pub name: String,
    /// The backend under test.
    pub backend: String,
    /// What the run concluded.
    pub verdict: LocalizeVerdict,
    /// The first node whose isolated error exceeds the tolerance.
    pub culprit: Option<NodeRef>,
    /// The first node whose cumulative error exceeds the tolerance.
    pub crossing: Option<NodeRef>,
    /// Why the run could not be carried out (verdict `error`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why the run was skipped (verdict `skipped`): its runtime could not run the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// How the values under test were read (`native` or `exposed`), and with `exposed`, how far
    /// exposing every value moved the graph's own outputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_out: Option<super::trace::ReadOut>,
    /// With `exposed` read-out: the largest move of the graph's own outputs.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "ser_opt_f64")]
    pub exposure_drift: Option<f64>,
    /// With export B: how many of A's computed values were paired with one of B's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aligned: Option<Aligned>,
    /// Every value of A, in topological order.
    pub nodes: Vec<NodeRow>,
}

fn ser_opt_f64<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => ser_f64(v, s),
        None => s.serialize_none(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
/// How many of A's computed values were paired with B's.
pub struct Aligned {
    /// The paired values.
    pub values: usize,
    /// Every computed value of A.
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

    /// A run that could not be carried out: `error` says why.
    pub fn failed(name: String, backend: &str, error: &crate::Error) -> Run {
        Run {
            error: Some(error.to_string()),
            verdict: LocalizeVerdict::Error,
            ..Run::judged(name, backend, Vec::new())
        }
    }

    /// A run of a backend (not named by the user) whose runtime cannot run the model.
    pub fn skipped(name: String, backend: &str, why: &crate::Error) -> Run {
        Run {
            skipped: Some(why.to_string()),
            verdict: LocalizeVerdict::Skipped,
            ..Run::judged(name, backend, Vec::new())
        }
    }

    /// The one-line verdict of this run.
    pub fn summary(&self) -> String {
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
    /// Loading models.
    pub load_s: f64,
    /// Cumulative runs (the whole graph).
    pub cumulative_s: f64,
    /// Isolated runs (nodes alone).
    pub isolated_s: f64,
    /// The whole run, wall time.
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
/// The report of a `localize`: its verdict, and one run per backend.
pub struct Report {
    /// `localize`.
    pub command: &'static str,
    /// The verdict over the runs ([`Report::summarise`]).
    pub verdict: LocalizeVerdict,
    /// The first run's culprit, with verdict `culprit`.
    pub culprit: Option<NodeRef>,
    /// Where the error first crosses the tolerance, with verdict `culprit` or `accumulation`.
    pub crossing: Option<NodeRef>,
    /// The first run's pairing of A's values to B's.
    pub aligned: Option<Aligned>,
    /// The model under test (A).
    pub model: String,
    /// The export taken as expected (B), if any.
    pub against: Option<String>,
    /// The backend whose values are expected, or `pytorch`.
    pub reference: String,
    /// With PyTorch as the reference: what was mapped of its module outputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intermediates: Option<super::pytorch::Intermediates>,
    /// The case localized.
    pub case: String,
    /// The tolerance of every value.
    pub tolerance: Tolerance,
    /// One run per backend, in the backends' order.
    pub runs: Vec<Run>,
    /// What the parts of the run cost.
    pub timing: Timing,
    /// Where the repro was written, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repro: Option<String>,
    /// How many of the worst nodes a text report lists per run.
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
}
