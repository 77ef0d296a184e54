//! How the CLI prints a `check`, `compare`, `diff` or `merge` report (the engine's
//! [`ParityReport`]): text, Markdown, one JSON document, or JSON Lines.

use std::fmt::Write;

use anyhow::Result;
use parity_core::compare::CaseReport;
use parity_engine::report::{Concluded, Outcome, ParityReport};
use serde::Serialize;

use crate::Verdict;
use crate::print::{Format, Output, table, verdict_word};

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
    crate::print::print_json_line(&Line { record: "case", backend: Some(backend), body: case })
}

/// Prints `report` and returns the exit verdict; an `error` report makes the command an error
/// (exit 2) after the report is printed. Captured ([`crate::print::capture`]), the Markdown report
/// is kept beside the document.
pub fn finish(report: ParityReport, out: &Output) -> Result<Verdict> {
    match out.format {
        Format::Json => crate::print::print_json(&report)?,
        Format::Jsonl => print_lines(&report)?,
        Format::Text | Format::Markdown => print!("{}", text(&report, out.format)),
        Format::Html => write_page(&report, out)?,
    }
    if crate::print::capture::is_capturing() {
        crate::print::capture::keep_markdown(text(&report, Format::Markdown));
        crate::print::capture::keep_html(crate::print::html::parity::render(&report));
    }
    match (report.verdict, report.error_line()) {
        (Outcome::Pass, _) => Ok(Verdict::Pass),
        (Outcome::Fail, _) => Ok(Verdict::Fail),
        (_, line) => anyhow::bail!("{}", line.unwrap_or_default()),
    }
}

/// Prints a run's report, then its error if it has one ([`Concluded`]); else as [`finish`].
pub fn conclude(concluded: Concluded, out: &Output) -> Result<Verdict> {
    let verdict = finish(concluded.report, out)?;
    match concluded.error {
        Some(e) => Err(e.into()),
        None => Ok(verdict),
    }
}

/// The page of `report` in `--output`'s file, never over the model it checked.
fn write_page(report: &ParityReport, out: &Output) -> Result<()> {
    let file = out.html_file()?.expect("--format html has a file");
    let model = std::path::Path::new(&report.model);
    crate::print::html::write(file, &crate::print::html::parity::render(report), &[model])?;
    crate::print::note(&format!("wrote the report to {}", file.display()));
    Ok(())
}

/// The last JSON line of a run whose cases were streamed ([`print_case_line`]):
/// `{"record": "summary", ...the report}`.
fn print_lines(report: &ParityReport) -> Result<()> {
    crate::print::print_json_line(&Line { record: "summary", backend: None, body: report })
}

fn write_text(out: &mut String, report: &ParityReport, format: Format) -> std::fmt::Result {
    let md = format == Format::Markdown;
    if md {
        writeln!(
            out,
            "### ssrnet-parity {}: {}\n",
            report.command,
            report.verdict.as_str().to_uppercase()
        )?;
    }
    writeln!(out, "model:     {}", report.model)?;
    writeln!(out, "reference: {} ({} cases)", report.reference, report.cases)?;
    writeln!(out, "profile:   {}", report.profile)?;
    if md {
        writeln!(out)?;
    }
    writeln!(out, "{}", summary_table(report, format))?;
    // Errors and skips under the table, not in it: a runtime's message can be long.
    for side in &report.backends {
        if let Some(err) = &side.error {
            writeln!(out, "{}: error: {err}", side.name)?;
        }
        if let Some(why) = &side.skipped {
            writeln!(out, "{}: skipped: {why}", side.name)?;
        }
    }
    for side in report.backends.iter().filter(|s| !s.failed_cases.is_empty()) {
        write_failures(out, side)?;
    }
    for (k, v) in &report.extra {
        writeln!(out, "{k}: {v}")?;
    }
    write_verdict(out, report, md)?;
    Ok(())
}

/// `report` as text or Markdown.
pub fn text(report: &ParityReport, format: Format) -> String {
    let mut out = String::new();
    // A String takes every write.
    let _ = write_text(&mut out, report, format);
    out
}

/// The summary's columns: per backend and output, the statistics over every case, and the verdict.
pub const SUMMARY_HEADER: [&str; 10] = [
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
];

/// The summary's rows ([`SUMMARY_HEADER`]): one per backend and output, or one of dashes for a
/// backend that compared nothing; the verdict word last.
pub fn summary_rows(report: &ParityReport) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for side in &report.backends {
        if matches!(side.verdict, Outcome::Error | Outcome::Skipped) && side.outputs.is_empty() {
            let mut row = vec!["-".to_string(); SUMMARY_HEADER.len()];
            row[0] = side.name.clone();
            row[SUMMARY_HEADER.len() - 1] = side.verdict.as_str().to_uppercase();
            rows.push(row);
            continue;
        }
        for o in &side.outputs {
            rows.push(vec![
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
    rows
}

/// The summary as a table for the terminal or Markdown.
fn summary_table(report: &ParityReport, format: Format) -> comfy_table::Table {
    let mut t = table(format, &SUMMARY_HEADER);
    for row in summary_rows(report) {
        t.add_row(row);
    }
    t
}

/// A side's failing cases: their names, the first five's worst mismatches, expected NaNs.
fn write_failures(out: &mut String, side: &parity_engine::report::SideReport) -> std::fmt::Result {
    writeln!(
        out,
        "{}: {} failing case(s): {}",
        side.name,
        side.failed_cases.len(),
        side.failed_cases.join(", ")
    )?;
    for case in side.failures.iter().take(5) {
        for o in case.outputs.iter().filter(|o| !o.pass) {
            match (&o.problem, &o.worst) {
                (Some(p), _) => writeln!(out, "  {} / {}: {p}", case.case, o.name)?,
                (None, Some(w)) => writeln!(
                    out,
                    "  {} / {}: {} mismatches, worst at {:?}: got {} expected {} (|diff| {})",
                    case.case,
                    o.name,
                    o.mismatches,
                    w.index,
                    w.actual,
                    w.expected,
                    sci(w.abs_err)
                )?,
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
        writeln!(
            out,
            "{}: expected NaN in failing case(s): {} (NaN passes only against NaN, with --nan-equal)",
            side.name,
            expected_nan.join(", ")
        )?;
    }
    Ok(())
}

/// The last line: the verdict and what it means.
fn write_verdict(out: &mut String, report: &ParityReport, md: bool) -> std::fmt::Result {
    let summary = match report.verdict {
        Outcome::Pass => {
            let ran = report.backends.iter().filter(|b| b.verdict == Outcome::Pass).count();
            let skipped = report.backends.len() - ran;
            let skipped = if skipped > 0 { format!(" ({skipped} skipped)") } else { String::new() };
            format!("{ran} backend(s) x {} cases within tolerance{skipped}", report.cases)
        }
        Outcome::Fail => "parity mismatch".to_string(),
        Outcome::Error | Outcome::Skipped => {
            "a backend could not run the model, or compared nothing".to_string()
        }
    };
    let word = match report.verdict {
        Outcome::Pass => verdict_word(true),
        Outcome::Fail => verdict_word(false),
        Outcome::Error | Outcome::Skipped => "ERROR".into(),
    };
    if md {
        writeln!(out, "\n**{}**: {summary}", report.verdict.as_str().to_uppercase())?;
    } else {
        writeln!(out, "{word}: {summary}")?;
    }
    Ok(())
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
