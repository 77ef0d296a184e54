//! How the CLI prints a `localize` report (the engine's [`Report`]): text, Markdown, one JSON
//! document, or one JSON line.

use std::fmt::Write;

use anyhow::Result;
use parity_engine::localize::report::Origin;
use parity_engine::localize::report::{LocalizeVerdict, Metrics, NodeRow, Report, Run};

use crate::print::report::sci;
use crate::print::{Format, Output, escape_control, table};

/// Prints `report` in `format`. Captured ([`crate::print::capture`]), the Markdown report is kept
/// beside the document.
pub fn print(report: &Report, out: &Output) -> Result<()> {
    match out.format {
        Format::Json => crate::print::print_json(report)?,
        Format::Jsonl => crate::print::print_json_line(report)?,
        Format::Text | Format::Markdown => print!("{}", text(report, out.format)),
        Format::Html => {
            let file = out.html_file()?.expect("--format html has a file");
            let models: Vec<&std::path::Path> = std::iter::once(&report.model)
                .chain(&report.against)
                .map(std::path::Path::new)
                .collect();
            crate::print::html::write(
                file,
                &crate::print::html::localize::render(report),
                &models,
            )?;
            crate::print::note(&format!("wrote the report to {}", file.display()));
        }
    }
    if crate::print::capture::is_capturing() {
        crate::print::capture::keep_markdown(text(report, Format::Markdown));
        crate::print::capture::keep_html(crate::print::html::localize::render(report));
    }
    Ok(())
}

/// `report` as text or Markdown.
pub fn text(report: &Report, format: Format) -> String {
    let mut out = String::new();
    // A String takes every write.
    let _ = write_text(&mut out, report, format);
    out
}

fn write_text(out: &mut String, report: &Report, format: Format) -> std::fmt::Result {
    header(out, report, format)?;
    for run in &report.runs {
        write_run(out, report, run, format)?;
    }
    footer(out, report, format)
}

/// A verdict as the text report writes it.
pub fn word(verdict: LocalizeVerdict) -> &'static str {
    match verdict {
        LocalizeVerdict::None => "NONE",
        LocalizeVerdict::Culprit => "CULPRIT",
        LocalizeVerdict::Accumulation => "ACCUMULATION",
        LocalizeVerdict::Error => "ERROR",
        LocalizeVerdict::Skipped => "SKIPPED",
    }
}

/// What was compared: the model, the expected side, the case and the tolerance.
fn header(out: &mut String, report: &Report, format: Format) -> std::fmt::Result {
    let md = format == Format::Markdown;
    if md {
        writeln!(out, "### ssrnet-parity localize: {}\n", word(report.verdict))?;
    }
    writeln!(out, "model:     {}", escape_control(&report.model))?;
    if let Some(b) = &report.against {
        writeln!(out, "against:   {}", escape_control(b))?;
    } else {
        writeln!(out, "reference: {}", report.reference)?;
    }
    if let Some(i) = &report.intermediates {
        writeln!(
            out,
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
        )?;
    }
    writeln!(
        out,
        "case:      {} (atol {}, rtol {})",
        escape_control(&report.case),
        report.tolerance.atol,
        report.tolerance.rtol
    )?;
    Ok(())
}

/// One run: its verdict, what could not be compared, and its worst nodes.
fn write_run(out: &mut String, report: &Report, run: &Run, format: Format) -> std::fmt::Result {
    writeln!(out)?;
    let heading = format!(
        "{}: {} - {}",
        escape_control(&run.name),
        word(run.verdict),
        escape_control(&run.summary())
    );
    if format == Format::Markdown {
        writeln!(out, "#### {heading}\n")?;
    } else {
        writeln!(out, "{heading}")?;
    }
    if let Some(a) = run.aligned {
        writeln!(out, "aligned {} of {} values", a.values, a.of)?;
    }
    let not_comparable: Vec<&NodeRow> =
        run.nodes.iter().filter(|r| r.not_comparable.is_some()).collect();
    if let Some(first) = not_comparable.first() {
        writeln!(
            out,
            "{} value(s) not comparable on {}, e.g. {}: {}",
            not_comparable.len(),
            run.backend,
            escape_control(&first.value),
            escape_control(first.not_comparable.as_deref().unwrap_or_default())
        )?;
    }
    if let Some(drift) = run.exposure_drift.filter(|d| *d > report.tolerance.atol) {
        writeln!(
            out,
            "warning: exposing every value as an output moved the graph's outputs by {} (the \"mark all\" pitfall)",
            sci(drift)
        )?;
    }
    if !run.nodes.is_empty() {
        worst_nodes(out, run, report.top, format)?;
    }
    Ok(())
}

/// The `top` nodes of `run` with the largest isolated (else cumulative) error, as a table.
fn worst_nodes(out: &mut String, run: &Run, top: usize, format: Format) -> std::fmt::Result {
    let mut worst: Vec<&NodeRow> = run.nodes.iter().collect();
    let key = |r: &NodeRow| {
        r.isolated
            .or(r.cumulative)
            .map_or(-1.0, |m| if m.max_abs.is_nan() { f64::INFINITY } else { m.max_abs })
    };
    worst.sort_by(|a, b| key(b).total_cmp(&key(a)));
    worst.truncate(top);
    writeln!(out, "{} worst nodes (by isolated error):", worst.len())?;
    let modules = run.nodes.iter().any(|r| r.origin.describe().is_some());
    let mut header = vec!["node", "op", "value"];
    if modules {
        header.push("module");
    }
    header.extend(["shape", "cumulative max abs", "isolated max abs", "isolated cosine"]);
    let mut t = table(format, &header);
    let cell =
        |m: Option<Metrics>, f: fn(&Metrics) -> f64| m.map_or("-".to_string(), |m| sci(f(&m)));
    for r in worst {
        let mut row =
            vec![escape_control(&r.node), escape_control(&r.op), escape_control(&r.value)];
        if modules {
            row.push(escape_control(&r.origin.describe().unwrap_or_else(|| "-".into())));
        }
        row.extend([
            r.shape.as_ref().map_or("-".into(), |s| format!("{s:?}")),
            cell(r.cumulative, |m| m.max_abs),
            cell(r.isolated, |m| m.max_abs),
            r.isolated.map_or("-".into(), |m| format!("{:.6}", m.cosine)),
        ]);
        t.add_row(row);
    }
    writeln!(out, "{t}")?;
    Ok(())
}

/// `, module M (Class) at file:line` where the PyTorch module is known, else nothing.
fn origin(origin: &Origin) -> String {
    let mut out = String::new();
    if let Some(module) = origin.describe() {
        out += &format!(", module {module}");
    }
    if let Some(source) = &origin.source {
        out += &format!(" at {source}");
    }
    out
}

/// The overall verdict, and where the repro was written.
fn footer(out: &mut String, report: &Report, format: Format) -> std::fmt::Result {
    writeln!(out)?;
    let overall = match (&report.culprit, &report.crossing) {
        (Some(c), _) => {
            format!("culprit {} ({}), value {}{}", c.node, c.op, c.value, origin(&c.origin))
        }
        (None, Some(k)) => {
            format!("accumulation, crossing at {} ({}){}", k.node, k.op, origin(&k.origin))
        }
        _ if report.verdict == LocalizeVerdict::Error => "a run failed".into(),
        _ => "no divergence".into(),
    };
    let line = format!("{}: {}", word(report.verdict), escape_control(&overall));
    if format == Format::Markdown {
        writeln!(out, "**{line}**")?
    } else {
        writeln!(out, "{line}")?
    }
    if let Some(dir) = &report.repro {
        writeln!(out, "repro written to {}", escape_control(dir))?;
    }
    Ok(())
}
