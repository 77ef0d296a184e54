//! The report of a `check`, `compare` or `diff`: one side per backend (or model), folded into one
//! verdict, printed as text, Markdown or one JSON document.

use anyhow::Result;
use parity_core::compare::{CaseReport, OutputSummary, Tolerances, summarize};
use serde::{Deserialize, Serialize};

use crate::Verdict;
use crate::output::{Format, table, verdict_word};

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
    pub name: String,
    /// `error` when it could not load or run.
    pub verdict: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why it was skipped (verdict `skipped`): its runtime's refusal to load the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
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
            outputs,
            failed_cases: failures.iter().map(|c| c.case.clone()).collect(),
            failures,
            case_reports: None,
        }
    }

    pub fn from_error(name: &str, error: &anyhow::Error) -> Self {
        SideReport {
            name: name.to_string(),
            verdict: Outcome::Error,
            error: Some(format!("{error:#}")),
            skipped: None,
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
            ..SideReport::from_error(name, &anyhow::anyhow!(""))
        }
    }
}

/// One JSON line: what it records (`case`, `summary`), for which backend, and the record's fields.
#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    record: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    backend: Option<&'a str>,
    #[serde(flatten)]
    body: &'a T,
}

/// `{"record": "case", "backend", ...one case's report}` on one line of stdout.
pub fn print_case_line(backend: &str, case: &CaseReport) -> Result<()> {
    crate::output::print_json_line(&Line { record: "case", backend: Some(backend), body: case })
}

/// What a shard's report adds for `merge`: which shard it is, where its cases sit in the whole
/// run, and what must be equal across shards for them to fold into one report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardPart {
    pub index: usize,
    pub count: usize,
    /// Cases in the whole run (every shard).
    pub total_cases: usize,
    /// Each of this shard's cases' position in the whole run, in the shard's order.
    pub positions: Vec<usize>,
    pub model_sha256: String,
    /// sha256 of what the cases were compared against (the golden set's case list and manifest).
    pub reference_sha256: String,
    pub tolerances: Tolerances,
    pub nan_equal: bool,
    /// The backends, in report order.
    pub backends: Vec<String>,
}

impl ShardPart {
    /// Shard `shard` of a run over `total_cases` cases, holding those at `positions`; the model
    /// and reference digests are left empty for the caller.
    pub fn new(
        shard: parity_engine::shard::Shard,
        total_cases: usize,
        positions: Vec<usize>,
        tolerances: &Tolerances,
        nan_equal: bool,
        backends: &[parity_engine::BackendName],
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
    pub command: String,
    pub model: String,
    /// What the sides were compared against.
    pub reference: String,
    pub cases: usize,
    /// The model family's profile (`ssrnet` or `plain`).
    pub profile: String,
    pub backends: Vec<SideReport>,
    /// A shard's report: what `merge` needs to fold it with the others.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardPart>,
    /// Extra per-command findings (e.g. `diff`'s age-interval changes).
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ParityReport {
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
        }
    }

    /// Prints the report and returns the exit verdict; an `error` side makes the command an error
    /// (exit 2) after the report is printed.
    pub fn finish(self, format: Format) -> Result<Verdict> {
        match format {
            Format::Json => crate::output::print_json(&self)?,
            Format::Jsonl => self.print_lines()?,
            Format::Text | Format::Markdown => self.print_text(format),
        }
        match self.verdict {
            Outcome::Pass => Ok(Verdict::Pass),
            Outcome::Fail => Ok(Verdict::Fail),
            Outcome::Error => {
                let errors: Vec<String> =
                    self.backends.iter().filter_map(|b| b.error.clone()).collect();
                if errors.is_empty() {
                    let skipped: Vec<String> =
                        self.backends.iter().filter_map(|b| b.skipped.clone()).collect();
                    anyhow::bail!("no backend could run the model: {}", skipped.join("; "))
                }
                anyhow::bail!("{}", errors.join("; "))
            }
            Outcome::Skipped => unreachable!("a report's verdict is never skipped"),
        }
    }

    /// The last JSON line of a run whose cases were streamed ([`print_case_line`]):
    /// `{"record": "summary", ...the report}`.
    fn print_lines(&self) -> Result<()> {
        crate::output::print_json_line(&Line { record: "summary", backend: None, body: self })
    }

    fn print_text(&self, format: Format) {
        let md = format == Format::Markdown;
        if md {
            println!(
                "### ssrnet-parity {}: {}\n",
                self.command,
                self.verdict.as_str().to_uppercase()
            );
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
            if matches!(side.verdict, Outcome::Error | Outcome::Skipped) && side.outputs.is_empty()
            {
                let mut row = vec!["-".to_string(); 10];
                row[0] = side.name.clone();
                row[9] = side.verdict.as_str().to_uppercase();
                t.add_row(row);
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
                    match (side.verdict, o.pass) {
                        (Outcome::Error, _) => "ERROR".into(),
                        (_, true) => "PASS".into(),
                        (_, false) => "FAIL".into(),
                    },
                ]);
            }
        }
        println!("{t}");
        // Errors and skips under the table, not in it: a runtime's message can be long.
        for side in &self.backends {
            if let Some(err) = &side.error {
                println!("{}: error: {err}", side.name);
            }
            if let Some(why) = &side.skipped {
                println!("{}: skipped: {why}", side.name);
            }
        }
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
            Outcome::Pass => {
                let ran = self.backends.iter().filter(|b| b.verdict == Outcome::Pass).count();
                let skipped = self.backends.len() - ran;
                let skipped =
                    if skipped > 0 { format!(" ({skipped} skipped)") } else { String::new() };
                format!("{ran} backend(s) x {} cases within tolerance{skipped}", self.cases)
            }
            Outcome::Fail => "parity mismatch".to_string(),
            Outcome::Error | Outcome::Skipped => {
                "a backend could not run the model, or compared nothing".to_string()
            }
        };
        let word = match self.verdict {
            Outcome::Pass => verdict_word(true),
            Outcome::Fail => verdict_word(false),
            Outcome::Error | Outcome::Skipped => "ERROR".into(),
        };
        if md {
            println!("\n**{}**: {summary}", self.verdict.as_str().to_uppercase());
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
