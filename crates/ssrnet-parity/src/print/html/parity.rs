//! A `check`, `compare`, `diff` or `merge` report ([`ParityReport`]) as an HTML page: the header,
//! the summary table, per output and backend a histogram of |error| with the tolerance, and the
//! worst cases with their expected and actual values.

use std::fmt::Write;

use parity_core::compare::OutputSummary;
use parity_engine::BackendName;
use parity_engine::report::{ParityReport, SideReport};
use parity_engine::samples::OutputPairs;

use super::svg::{Chart, Scale};
use super::{cell, escape, header_list, num, page, table, verdict_cell};
use crate::print::report::{SUMMARY_HEADER, sci, summary_rows};

/// How many failing cases a side lists with their worst elements.
const WORST_CASES: usize = 20;

/// The whole page.
pub fn render(report: &ParityReport) -> String {
    let verdict = report.verdict.as_str().to_uppercase();
    let mut body =
        format!("<h1>ssrnet-parity {}: {}</h1>\n", escape(&report.command), escape(&verdict));
    body.push_str(&header(report));
    body.push_str("<h2>Summary</h2>\n");
    body.push_str(&summary(report));
    body.push_str(&problems(report));
    body.push_str("<h2>Error distribution</h2>\n<p>Every element's |actual &minus; expected|, counted on one logarithmic scale over all cases; the dashed line is the absolute tolerance (an element also passes within rtol&middot;|expected|).</p>\n");
    body.push_str(&distributions(report));
    body.push_str(&scatters(report));
    body.push_str(&worst_cases(report));
    if !report.extra.is_empty() {
        body.push_str("<h2>Findings</h2>\n");
        let items: Vec<(&str, String)> =
            report.extra.iter().map(|(k, v)| (k.as_str(), v.to_string())).collect();
        body.push_str(&header_list(&items));
    }
    page(&format!("ssrnet-parity {} {verdict}: {}", report.command, report.model), &body)
}

fn header(report: &ParityReport) -> String {
    let version = |name: &str| {
        name.parse::<BackendName>().map_or(String::new(), |b| format!(" {}", b.runtime_version()))
    };
    let sides: Vec<String> = report
        .backends
        .iter()
        .map(|s| format!("{}{}: {}", s.name, version(&s.name), s.verdict.as_str()))
        .collect();
    let tolerances: Vec<String> = first_outputs(report)
        .iter()
        .map(|o| format!("{}: atol {:e} + rtol {:e}", o.name, o.tolerance.atol, o.tolerance.rtol))
        .collect();
    let mut out = header_list(&[
        ("model", report.model.clone()),
        ("reference", report.reference.clone()),
        ("cases", report.cases.to_string()),
        ("profile", report.profile.clone()),
        ("backends", sides.join("; ")),
        ("tolerance", tolerances.join("; ")),
        ("verdict", report.verdict.as_str().to_uppercase()),
    ]);
    if let Some(serde_json::Value::Object(provenance)) = &report.provenance {
        out.push_str("<details><summary>provenance (the golden set's manifest)</summary>\n");
        let items: Vec<(&str, String)> = provenance
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().map_or_else(|| v.to_string(), str::to_string)))
            .collect();
        out.push_str(&header_list(&items));
        out.push_str("</details>\n");
    }
    out
}

/// The outputs of the first side that compared any (their names and tolerances).
fn first_outputs(report: &ParityReport) -> &[OutputSummary] {
    report.backends.iter().find(|s| !s.outputs.is_empty()).map_or(&[], |s| &s.outputs)
}

fn summary(report: &ParityReport) -> String {
    // The numbers' columns, right-aligned; the verdict last, coloured.
    let numbers = [2, 3, 4, 5, 7];
    let rows: Vec<String> = summary_rows(report)
        .into_iter()
        .map(|row| {
            let last = row.len() - 1;
            let cells: String = row
                .iter()
                .enumerate()
                .map(|(k, c)| match k {
                    k if k == last => verdict_cell(c),
                    k if numbers.contains(&k) => num(c),
                    _ => cell(c),
                })
                .collect();
            format!("<tr>{cells}</tr>")
        })
        .collect();
    table(&SUMMARY_HEADER, &rows, true)
}

/// The sides that could not run or were skipped, and why.
fn problems(report: &ParityReport) -> String {
    let mut out = String::new();
    for side in &report.backends {
        let (what, why) = match (&side.error, &side.skipped) {
            (Some(e), _) => ("error", e),
            (None, Some(s)) => ("skipped", s),
            _ => continue,
        };
        let _ = writeln!(
            out,
            "<li><strong>{}</strong>: {what}: {}</li>",
            escape(&side.name),
            escape(why)
        );
    }
    if out.is_empty() { out } else { format!("<ul>\n{out}</ul>\n") }
}

/// Per output, one histogram per side.
fn distributions(report: &ParityReport) -> String {
    let mut out = String::new();
    for output in first_outputs(report) {
        let _ = writeln!(out, "<h3>{}</h3>\n<div class=\"charts\">", escape(&output.name));
        for side in &report.backends {
            if let Some(o) = side.outputs.iter().find(|o| o.name == output.name) {
                out.push_str(&histogram(side, o));
            }
        }
        out.push_str("</div>\n");
    }
    out
}

/// One side's |error| histogram of one output, with its tolerance.
fn histogram(side: &SideReport, o: &OutputSummary) -> String {
    let h = &o.abs_error_histogram;
    let bins: Vec<(f64, f64, u64)> = h.bins().collect();
    let atol = o.tolerance.atol;
    let x = Scale::log_of(bins.iter().flat_map(|&(lo, hi, _)| [lo, hi]).chain([atol]), 1e-12);
    let top = bins.iter().map(|b| b.2).max().unwrap_or(1).max(1);
    let y = Scale::linear_to(top as f64);
    let label = format!("|error| of {} on {}", o.name, side.name);
    let mut chart = Chart::new(380.0, 220.0, x, y, &label);
    for &(lo, hi, n) in &bins {
        let lo = if lo == 0.0 { x.lo() } else { lo };
        let hi = if hi.is_infinite() { lo * 10f64.powf(0.25) } else { hi };
        chart.bar(lo, hi, n as f64, "bar", &format!("[{}, {}): {n} element(s)", sci(lo), sci(hi)));
    }
    if atol > 0.0 {
        chart.vline(atol, "tol", &format!("atol {}", sci(atol)));
    }
    let caption = format!(
        "{} on {}: {} elements, {} exactly equal, {} NaN or infinite; max {}",
        o.name,
        side.name,
        h.total(),
        h.zero(),
        h.nonfinite(),
        sci(o.max_abs)
    );
    format!(
        "<figure>{}<figcaption>{}</figcaption></figure>\n",
        chart.finish("|actual - expected|", "elements"),
        escape(&caption)
    )
}

/// `diff`: per output, NEW's values against OLD's, the elements that moved past the tolerance in
/// red (named by their case on hover), on the diagonal where they agree.
fn scatters(report: &ParityReport) -> String {
    if report.pairs.is_empty() {
        return String::new();
    }
    let mut out = String::from("<h2>Old against new</h2>\n<div class=\"charts\">");
    for p in &report.pairs {
        out.push_str(&scatter(p));
    }
    out.push_str("</div>\n");
    out
}

fn scatter(p: &OutputPairs) -> String {
    let finite = |v: &f64| v.is_finite();
    let values = p
        .kept
        .iter()
        .flat_map(|&(a, b)| [a, b])
        .chain(p.moved.iter().flat_map(|(_, a, b)| [*a, *b]));
    let (lo, hi) = values
        .filter(finite)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) =
        if lo.is_finite() { (lo, if hi > lo { hi } else { lo + 1.0 }) } else { (0.0, 1.0) };
    let scale = Scale::Linear { lo, hi };
    let mut chart =
        Chart::new(380.0, 340.0, scale, scale, &format!("{}: new against old", p.output));
    chart.line([(lo, lo), (hi, hi)].into_iter(), "tol");
    for &(old, new) in &p.kept {
        chart.point(old, new, 1.5, "old", &format!("old {old}, new {new}"));
    }
    for (case, old, new) in &p.moved {
        chart.point(
            *old,
            *new,
            2.5,
            "moved",
            &format!("{case}: old {old}, new {new} (|diff| {})", sci((old - new).abs())),
        );
    }
    let caption = format!(
        "{}: {} elements, {} shown within the tolerance, {} moved past it{}",
        p.output,
        p.total,
        p.kept.len(),
        p.moved_total,
        if p.moved.len() < p.moved_total {
            format!(" ({} shown)", p.moved.len())
        } else {
            String::new()
        }
    );
    format!(
        "<figure>{}<figcaption>{}</figcaption></figure>\n",
        chart.finish("old", "new"),
        escape(&caption)
    )
}

/// Per side, its failing cases' worst elements.
fn worst_cases(report: &ParityReport) -> String {
    let failing: Vec<&SideReport> =
        report.backends.iter().filter(|s| !s.failures.is_empty()).collect();
    if failing.is_empty() {
        return String::new();
    }
    let mut out = String::from("<h2>Worst cases</h2>\n");
    let header =
        ["case", "output", "mismatches", "index", "actual", "expected", "|diff|", "problem"];
    for side in failing {
        let _ = writeln!(
            out,
            "<h3>{}: {} failing case(s)</h3>",
            escape(&side.name),
            side.failed_cases.len()
        );
        let mut rows = Vec::new();
        for case in side.failures.iter().take(WORST_CASES) {
            for o in case.outputs.iter().filter(|o| !o.pass) {
                let w = o.worst.as_ref();
                rows.push(format!(
                    "<tr>{}{}{}{}{}{}{}{}</tr>",
                    cell(&case.case),
                    cell(&o.name),
                    num(&format!("{}/{}", o.mismatches, o.total)),
                    cell(&w.map_or(String::new(), |w| format!("{:?}", w.index))),
                    num(&w.map_or(String::new(), |w| w.actual.to_string())),
                    num(&w.map_or(String::new(), |w| w.expected.to_string())),
                    num(&w.map_or(String::new(), |w| sci(w.abs_err))),
                    cell(o.problem.as_deref().unwrap_or("")),
                ));
            }
        }
        out.push_str(&table(&header, &rows, true));
    }
    out
}
