//! How the CLI prints a `localize` report (the engine's [`Report`]): text, Markdown, one JSON
//! document, or one JSON line.

use anyhow::Result;
use parity_engine::localize::report::{LocalizeVerdict, Metrics, NodeRow, Report, Run};

use crate::print::report::sci;
use crate::print::{Format, escape_control, table};

/// Prints `report` in `format`.
pub fn print(report: &Report, format: Format) -> Result<()> {
    match format {
        Format::Json => return crate::print::print_json(report),
        Format::Jsonl => return crate::print::print_json_line(report),
        Format::Text | Format::Markdown => {}
    }
    header(report, format);
    for run in &report.runs {
        print_run(report, run, format);
    }
    footer(report, format);
    Ok(())
}

/// A verdict as the text report writes it.
fn word(verdict: LocalizeVerdict) -> &'static str {
    match verdict {
        LocalizeVerdict::None => "NONE",
        LocalizeVerdict::Culprit => "CULPRIT",
        LocalizeVerdict::Accumulation => "ACCUMULATION",
        LocalizeVerdict::Error => "ERROR",
        LocalizeVerdict::Skipped => "SKIPPED",
    }
}

/// What was compared: the model, the expected side, the case and the tolerance.
fn header(report: &Report, format: Format) {
    let md = format == Format::Markdown;
    if md {
        println!("### ssrnet-parity localize: {}\n", word(report.verdict));
    }
    println!("model:     {}", escape_control(&report.model));
    if let Some(b) = &report.against {
        println!("against:   {}", escape_control(b));
    } else {
        println!("reference: {}", report.reference);
    }
    if let Some(i) = &report.intermediates {
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
        escape_control(&report.case),
        report.tolerance.atol,
        report.tolerance.rtol
    );
}

/// One run: its verdict, what could not be compared, and its worst nodes.
fn print_run(report: &Report, run: &Run, format: Format) {
    println!();
    let heading = format!(
        "{}: {} - {}",
        escape_control(&run.name),
        word(run.verdict),
        escape_control(&run.summary())
    );
    if format == Format::Markdown {
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
    if let Some(drift) = run.exposure_drift.filter(|d| *d > report.tolerance.atol) {
        println!(
            "warning: exposing every value as an output moved the graph's outputs by {} (the \"mark all\" pitfall)",
            sci(drift)
        );
    }
    if !run.nodes.is_empty() {
        worst_nodes(run, report.top, format);
    }
}

/// The `top` nodes of `run` with the largest isolated (else cumulative) error, as a table.
fn worst_nodes(run: &Run, top: usize, format: Format) {
    let mut worst: Vec<&NodeRow> = run.nodes.iter().collect();
    let key = |r: &NodeRow| {
        r.isolated
            .or(r.cumulative)
            .map_or(-1.0, |m| if m.max_abs.is_nan() { f64::INFINITY } else { m.max_abs })
    };
    worst.sort_by(|a, b| key(b).total_cmp(&key(a)));
    worst.truncate(top);
    println!("{} worst nodes (by isolated error):", worst.len());
    let header = [
        "node",
        "op",
        "value",
        "shape",
        "cumulative max abs",
        "isolated max abs",
        "isolated cosine",
    ];
    let mut t = table(format, &header);
    let cell =
        |m: Option<Metrics>, f: fn(&Metrics) -> f64| m.map_or("-".to_string(), |m| sci(f(&m)));
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

/// The overall verdict, and where the repro was written.
fn footer(report: &Report, format: Format) {
    println!();
    let overall = match (&report.culprit, &report.crossing) {
        (Some(c), _) => format!("culprit {} ({}), value {}", c.node, c.op, c.value),
        (None, Some(k)) => format!("accumulation, crossing at {} ({})", k.node, k.op),
        _ if report.verdict == LocalizeVerdict::Error => "a run failed".into(),
        _ => "no divergence".into(),
    };
    let line = format!("{}: {}", word(report.verdict), escape_control(&overall));
    if format == Format::Markdown {
        println!("**{line}**")
    } else {
        println!("{line}")
    }
    if let Some(dir) = &report.repro {
        println!("repro written to {}", escape_control(dir));
    }
}
