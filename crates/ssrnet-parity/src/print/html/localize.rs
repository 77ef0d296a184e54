//! A `localize` report ([`Report`]) as an HTML page: per run, the cumulative and isolated error of
//! every node in topological order (log y) with the tolerance and the culprit or crossing marked,
//! each node named on hover; below it, the nodes in a table sortable by either error.

use std::fmt::Write;

use parity_engine::localize::report::{Aligned, Metrics, NodeRef, NodeRow, Report, Run};

use super::svg::{Chart, Scale};
use super::{cell, escape, header_list, page, table};
use crate::print::localize::word;
use crate::print::report::sci;

/// The whole page.
pub fn render(report: &Report) -> String {
    let verdict = word(report.verdict);
    let mut body = format!("<h1>ssrnet-parity localize: {verdict}</h1>\n");
    body.push_str(&header(report));
    for (i, run) in report.runs.iter().enumerate() {
        body.push_str(&section(report, run, i));
    }
    body.push_str(&nodes(&report.runs));
    page(&format!("ssrnet-parity localize {verdict}: {}", report.model), &body)
}

/// `node (op) -> value, module (Class), source`.
fn describe(n: &NodeRef) -> String {
    let mut s = format!("{} ({}) -> {}", n.node, n.op, n.value);
    if let Some(module) = n.origin.describe() {
        let _ = write!(s, ", module {module}");
    }
    if let Some(source) = &n.origin.source {
        let _ = write!(s, ", {source}");
    }
    s
}

fn header(report: &Report) -> String {
    let mut items = vec![
        ("model", report.model.clone()),
        ("against", report.against.clone().unwrap_or_else(|| "-".into())),
        ("reference", report.reference.clone()),
        ("case", report.case.clone()),
        (
            "tolerance",
            format!("atol {:e} + rtol {:e}", report.tolerance.atol, report.tolerance.rtol),
        ),
        ("verdict", word(report.verdict).to_string()),
    ];
    items.extend(found(&report.culprit, &report.crossing, report.aligned));
    header_list(&items)
}

/// The header lines of what a run (or the report) found: its culprit, crossing and alignment.
fn found(
    culprit: &Option<NodeRef>,
    crossing: &Option<NodeRef>,
    aligned: Option<Aligned>,
) -> Vec<(&'static str, String)> {
    let mut items = Vec::new();
    items.extend(culprit.as_ref().map(|c| ("culprit", describe(c))));
    items.extend(crossing.as_ref().map(|c| ("crossing", describe(c))));
    items.extend(aligned.map(|a| ("aligned", format!("{} of {} values", a.values, a.of))));
    items
}

fn section(report: &Report, run: &Run, index: usize) -> String {
    let mut out = format!(
        "<section id=\"run-{index}\">\n<h2>{}: {}</h2>\n",
        escape(&run.name),
        word(run.verdict)
    );
    for (what, why) in [("error", &run.error), ("skipped", &run.skipped)] {
        if let Some(why) = why {
            let _ = writeln!(out, "<p><strong>{what}</strong>: {}</p>", escape(why));
        }
    }
    out.push_str(&header_list(&found(&run.culprit, &run.crossing, run.aligned)));
    if !run.nodes.is_empty() {
        out.push_str(&chart(report, run));
    }
    out.push_str("</section>\n");
    out
}

/// The largest absolute error of a metric, for a log axis (0 for none).
fn abs(m: Option<Metrics>) -> Option<f64> {
    m.map(|m| m.max_abs)
}

/// The error along the graph: cumulative and isolated per node, the tolerance, the culprit and
/// crossing marked, each node's band titled.
fn chart(report: &Report, run: &Run) -> String {
    let n = run.nodes.len();
    let atol = report.tolerance.atol;
    let errors = run.nodes.iter().flat_map(|r| [abs(r.cumulative), abs(r.isolated)]).flatten();
    let y = Scale::log_of(errors.chain([atol]), 1e-12);
    let floor = y.lo();
    let x = Scale::linear_to((n.max(2) - 1) as f64);
    let label = format!("error along the graph, {}", run.name);
    let mut c = Chart::new(1100.0, 320.0, x, y, &label);
    for (i, row) in run.nodes.iter().enumerate() {
        c.band(i as f64 - 0.5, i as f64 + 0.5, &node_title(i, row));
    }
    let series = |pick: fn(&NodeRow) -> Option<Metrics>| {
        run.nodes
            .iter()
            .enumerate()
            .filter_map(move |(i, r)| abs(pick(r)).map(|v| (i as f64, v.max(floor))))
    };
    c.line(series(|r| r.cumulative), "cum");
    c.line(series(|r| r.isolated), "iso");
    if atol > 0.0 {
        c.hline(atol, "tol", &format!("atol {}", sci(atol)));
    }
    for (marked, what) in [(&run.culprit, "culprit"), (&run.crossing, "crossing")] {
        let Some(m) = marked else { continue };
        if let Some((i, row)) = run.nodes.iter().enumerate().find(|(_, r)| r.value == m.value) {
            let v = abs(row.isolated).or(abs(row.cumulative)).unwrap_or(floor).max(floor);
            c.point(i as f64, v, 5.0, "culprit", &format!("{what}: {}", describe(m)));
        }
    }
    let marked = match (&run.culprit, &run.crossing) {
        (Some(_), _) => "; red: the culprit",
        (None, Some(_)) => "; red: where the error crosses the tolerance",
        (None, None) => "",
    };
    format!(
        "<figure>{}<figcaption>blue: cumulative error (the whole graph run); amber: isolated error (each node on the expected inputs); dashed: the tolerance{marked}. Hover a column for its node.</figcaption></figure>\n",
        c.finish("node (topological order)", "max |error|"),
    )
}

fn node_title(i: usize, row: &NodeRow) -> String {
    let mut t = format!("#{i} {} ({}) -> {}", row.node, row.op, row.value);
    if let Some(shape) = &row.shape {
        let _ = write!(t, " {shape:?}");
    }
    if let Some(module) = row.origin.describe() {
        let _ = write!(t, "\nmodule {module}");
    }
    for (what, m) in [("cumulative", row.cumulative), ("isolated", row.isolated)] {
        if let Some(m) = m {
            let _ = write!(t, "\n{what} {}", sci(m.max_abs));
        }
    }
    t
}

/// Every node, with each run's cumulative and isolated error side by side, sortable by any
/// column; the rows of a run's culprit or crossing marked. The runs share one table when they
/// list the same values (one model on every backend), else each has its own.
fn nodes(runs: &[Run]) -> String {
    let listed: Vec<&Run> = runs.iter().filter(|r| !r.nodes.is_empty()).collect();
    let Some(first) = listed.first() else { return String::new() };
    let same = listed.iter().all(|r| {
        r.nodes.len() == first.nodes.len()
            && r.nodes.iter().zip(&first.nodes).all(|(a, b)| a.value == b.value)
    });
    if !same {
        return listed.iter().map(|r| node_table(std::slice::from_ref(*r))).collect();
    }
    node_table(&listed.into_iter().cloned().collect::<Vec<_>>())
}

/// One table over `runs`, which list the same values.
fn node_table(runs: &[Run]) -> String {
    let first = &runs[0];
    let sources = first.nodes.iter().any(|r| r.origin.source.is_some());
    let mut header: Vec<String> =
        ["#", "node", "op", "value", "shape", "module"].map(String::from).to_vec();
    if sources {
        header.push("source".into());
    }
    for run in runs {
        header.push(format!("{} cumulative", run.backend));
        header.push(format!("{} isolated", run.backend));
    }
    let marked: Vec<&str> = runs
        .iter()
        .flat_map(|r| [&r.culprit, &r.crossing])
        .flatten()
        .map(|n| n.value.as_str())
        .collect();
    let metric =
        |m: Option<Metrics>| format!("<td>{}</td>", m.map_or("-".into(), |m| sci(m.max_abs)));
    let rows: Vec<String> = first
        .nodes
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mark = if marked.contains(&r.value.as_str()) { " class=\"mark\"" } else { "" };
            let mut row = format!(
                "<tr{mark}><td>{i}</td>{}{}{}{}{}",
                cell(&r.node),
                cell(&r.op),
                cell(&r.value),
                cell(&r.shape.as_ref().map_or(String::new(), |s| format!("{s:?}"))),
                cell(&r.origin.describe().unwrap_or_default()),
            );
            if sources {
                row.push_str(&cell(r.origin.source.as_deref().unwrap_or("")));
            }
            for run in runs {
                let own = &run.nodes[i];
                row.push_str(&metric(own.cumulative));
                row.push_str(&metric(own.isolated));
            }
            row.push_str("</tr>");
            row
        })
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let title = runs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ");
    format!(
        "<h2>Nodes</h2>\n<details open><summary>{} nodes: {}</summary>\n<div class=\"wide nodes\">{}</div></details>\n",
        first.nodes.len(),
        escape(&title),
        table(&header, &rows, true)
    )
}
