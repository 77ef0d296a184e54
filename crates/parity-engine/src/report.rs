//! The report of a `check`, `compare`, `diff` or `merge`: one side per backend (or model), folded
//! into one verdict. Plain serde types: every front end renders the same report.

use parity_core::compare::{CaseReport, OutputSummary, Tolerances, summarize};
use serde::{Deserialize, Serialize};

/// What came of one side, or of the whole report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every output of every case within tolerance.
    Pass,
    /// A parity mismatch.
    Fail,
    /// It could not load or run (or, for a report, compared nothing).
    Error,
    /// A side only: a backend of the default set whose runtime refused the model; the verdict
    /// comes from the other sides.
    Skipped,
}

impl Outcome {
    /// `pass`, `fail` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Error => "error",
            Outcome::Skipped => "skipped",
        }
    }
}

/// One compared side: a backend (or a model) and what came of it.
#[derive(Clone, Serialize)]
pub struct SideReport {
    /// The backend (or, for `diff`, the model on its backend).
    pub name: String,
    /// `error` when it could not load or run.
    pub verdict: Outcome,
    /// Why it could not load or run (verdict `error`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why it was skipped (verdict `skipped`): its runtime's refusal to load the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// The model's ops its runtime lacks, when it refused to load the model (`inspect`'s list;
    /// empty when it refused for another reason).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unsupported_ops: Vec<String>,
    /// Per output, the summary over every case.
    pub outputs: Vec<OutputSummary>,
    /// Names of the cases that failed.
    pub failed_cases: Vec<String>,
    /// Per-case reports of the failed cases only (all of them are in `outputs`' statistics).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<CaseReport>,
    /// A shard's report: every case's report, in the shard's order, for `merge`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_reports: Option<Vec<CaseReport>>,
}

impl SideReport {
    /// A side from every case's report, in order.
    pub fn from_cases(name: &str, cases: Vec<CaseReport>) -> Self {
        let outputs = summarize(&cases);
        let failures: Vec<CaseReport> = cases.into_iter().filter(|c| !c.pass).collect();
        SideReport::from_parts(name, outputs, failures)
    }

    /// A side from its summaries (the cases folded in order) and its failed cases.
    pub fn from_parts(name: &str, outputs: Vec<OutputSummary>, failures: Vec<CaseReport>) -> Self {
        let compared: usize = outputs.iter().map(|o| o.total).sum();
        let (verdict, error) = if !failures.is_empty() {
            (Outcome::Fail, None)
        } else if compared == 0 {
            // Zero elements compared is no evidence of parity: an error, never a pass.
            let why =
                format!("{name}: nothing was compared: every case's outputs have zero elements");
            (Outcome::Error, Some(why))
        } else {
            (Outcome::Pass, None)
        };
        SideReport {
            name: name.to_string(),
            verdict,
            error,
            skipped: None,
            unsupported_ops: Vec::new(),
            outputs,
            failed_cases: failures.iter().map(|c| c.case.clone()).collect(),
            failures,
            case_reports: None,
        }
    }

    /// A side that could not load or run, for `error` (one line).
    pub fn from_error(name: &str, error: String) -> Self {
        SideReport {
            name: name.to_string(),
            verdict: Outcome::Error,
            error: Some(error),
            skipped: None,
            unsupported_ops: Vec::new(),
            outputs: Vec::new(),
            failed_cases: Vec::new(),
            failures: Vec::new(),
            case_reports: None,
        }
    }

    /// A backend of the default set that its runtime refused to load the model on, for `why`.
    pub fn skipped(name: &str, why: String) -> Self {
        SideReport {
            verdict: Outcome::Skipped,
            error: None,
            skipped: Some(why),
            ..SideReport::from_error(name, String::new())
        }
    }
}

/// What a shard's report adds for `merge`: which shard it is, where its cases sit in the whole
/// run, and what must be equal across shards for them to fold into one report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardPart {
    /// This shard's index.
    pub index: usize,
    /// How many shards the run has.
    pub count: usize,
    /// Cases in the whole run (every shard).
    pub total_cases: usize,
    /// Each of this shard's cases' position in the whole run, in the shard's order.
    pub positions: Vec<usize>,
    /// sha256 of the model file.
    pub model_sha256: String,
    /// sha256 of what the cases were compared against (the golden set's case list and manifest).
    pub reference_sha256: String,
    /// The tolerances the cases were compared at.
    pub tolerances: Tolerances,
    /// Whether NaN counted as equal to NaN.
    pub nan_equal: bool,
    /// The backends, in report order.
    pub backends: Vec<String>,
}

impl ShardPart {
    /// Shard `shard` of a run over `total_cases` cases, holding those at `positions`; the model
    /// and reference digests are left empty for the caller.
    pub fn new(
        shard: crate::shard::Shard,
        total_cases: usize,
        positions: Vec<usize>,
        tolerances: &Tolerances,
        nan_equal: bool,
        backends: &[crate::BackendName],
    ) -> ShardPart {
        ShardPart {
            index: shard.index,
            count: shard.count,
            total_cases,
            positions,
            model_sha256: String::new(),
            reference_sha256: String::new(),
            tolerances: tolerances.clone(),
            nan_equal,
            backends: backends.iter().map(|b| b.as_str().to_string()).collect(),
        }
    }
}

/// The whole verdict of a `check`, `compare` or `diff`.
#[derive(Clone, Serialize)]
pub struct ParityReport {
    /// `pass` when every side that ran passed; `fail` when any mismatched; `error` when any could
    /// not run or compared nothing, or when every side was skipped. Skipped sides do not count.
    pub verdict: Outcome,
    /// `check`, `compare` or `diff`.
    pub command: String,
    /// The model under test.
    pub model: String,
    /// What the sides were compared against.
    pub reference: String,
    /// How many cases were compared.
    pub cases: usize,
    /// The model family's profile (`ssrnet` or `plain`).
    pub profile: String,
    /// One side per backend (or model), in report order.
    pub backends: Vec<SideReport>,
    /// A shard's report: what `merge` needs to fold it with the others.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardPart>,
    /// Extra per-command findings (e.g. `diff`'s age-interval changes).
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// `diff`: per output, OLD's and NEW's values of sampled elements, for the HTML scatter (not
    /// in the JSON document).
    #[serde(skip)]
    pub pairs: Vec<crate::samples::OutputPairs>,
    /// `check`: the golden set's provenance from its manifest, for the HTML header (not in the
    /// JSON document).
    #[serde(skip)]
    pub provenance: Option<serde_json::Value>,
}

impl ParityReport {
    /// The report of `command` on `model` against `reference` over `cases` cases, from its sides;
    /// the verdict is folded from theirs (see [`ParityReport::verdict`]).
    pub fn new(
        command: &str,
        model: String,
        reference: String,
        cases: usize,
        profile: &str,
        backends: Vec<SideReport>,
    ) -> Self {
        let ran = || backends.iter().filter(|b| b.verdict != Outcome::Skipped);
        let verdict = if ran().next().is_none() || ran().any(|b| b.verdict == Outcome::Error) {
            Outcome::Error
        } else if ran().all(|b| b.verdict == Outcome::Pass) {
            Outcome::Pass
        } else {
            Outcome::Fail
        };
        ParityReport {
            verdict,
            command: command.to_string(),
            model,
            reference,
            cases,
            profile: profile.to_string(),
            backends,
            shard: None,
            extra: serde_json::Map::new(),
            pairs: Vec::new(),
            provenance: None,
        }
    }

    /// The one error line of a report whose verdict is `error`: each side's error, or, when every
    /// side was skipped, why each was; `None` for any other verdict.
    pub fn error_line(&self) -> Option<String> {
        if self.verdict != Outcome::Error {
            return None;
        }
        let errors: Vec<String> = self.backends.iter().filter_map(|b| b.error.clone()).collect();
        if !errors.is_empty() {
            return Some(errors.join("; "));
        }
        let skipped: Vec<String> = self.backends.iter().filter_map(|b| b.skipped.clone()).collect();
        Some(format!("no backend could run the model: {}", skipped.join("; ")))
    }
}

/// A run's report, and an error judged after it (images of a corpus that could not be read,
/// without `skip_unreadable`): the report still covers the cases that were read, and is shown
/// before the error.
pub struct Concluded {
    /// The report.
    pub report: ParityReport,
    /// The run's error, if any.
    pub error: Option<crate::Error>,
}
