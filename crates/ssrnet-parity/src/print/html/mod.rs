//! Reports as one self-contained HTML page: styles and the one small script inline, charts as
//! inline SVG ([`svg`]), nothing fetched from anywhere. Every string that comes from a model, a
//! golden set or a file name is escaped ([`escape`]), and the page's Content-Security-Policy lets
//! no script run but its own (by its sha256) and loads nothing, so a model whose node names hold
//! markup shows them as text. Without JavaScript every chart and table still shows; the script
//! only sorts tables by a clicked column.

pub mod localize;
pub mod parity;
pub mod svg;

use std::fmt::Write;
use std::path::Path;

use anyhow::Result;
use base64::Engine;
use sha2::{Digest, Sha256};

/// `s` safe in HTML text and in a quoted attribute: `& < > " '` as entities, and control
/// characters (other than tab and newline) as `\xNN`, as the text report writes them.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => out.push_str(&crate::print::escape_control(&c.to_string())),
            c => out.push(c),
        }
    }
    out
}

/// Sorts a table with class `sortable` by the column whose header is clicked: numbers (`1.2e-5`,
/// `inf`) as numbers, the rest as text; a second click reverses.
const SORT_SCRIPT: &str = r#"document.querySelectorAll("table.sortable th").forEach(function (th, _) {
  th.addEventListener("click", function () {
    var table = th.closest("table"), body = table.tBodies[0];
    var col = Array.prototype.indexOf.call(th.parentNode.children, th);
    var up = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", up ? "ascending" : "descending");
    var key = function (row) {
      var t = row.children[col].textContent.trim(), n = t === "inf" ? Infinity : parseFloat(t);
      return isNaN(n) ? t : n;
    };
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      var c = typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0) : (typeof x === "number" ? -1 : 1);
      return up ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});"#;

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;color:#1b1f24}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #d0d7de}h3{font-size:1.05em}\
table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #d0d7de;padding:.2em .5em;text-align:left;vertical-align:top}\
th{background:#f6f8fa}table.sortable th{cursor:pointer}td.num{text-align:right;font-variant-numeric:tabular-nums}\
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}.other{color:#9a6700;font-weight:600}\
tr.mark td{background:#fff1f0}dl.header{display:grid;grid-template-columns:max-content auto;gap:.1em 1em}dl.header dt{font-weight:600}\
.charts{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figcaption{font-size:.9em;color:#57606a}\
svg text{font:11px system-ui,sans-serif;fill:#1b1f24}.axis{stroke:#57606a}.grid{stroke:#eaeef2}\
.bar{fill:#0969da}.tol{stroke:#cf222e;stroke-dasharray:4 3}.cum{stroke:#0969da;fill:none}.iso{stroke:#bf8700;fill:none}\
.hit{fill:transparent}.hit:hover{fill:rgba(9,105,218,.12)}.culprit{fill:#cf222e}.old{fill:#0969da;opacity:.6}.moved{fill:#cf222e}\
code{font-size:.92em}div.wide{overflow-x:auto}div.wide td{white-space:nowrap}div.nodes td:first-child,div.nodes td:nth-child(n+7){text-align:right;font-variant-numeric:tabular-nums}";

/// A whole page: `title` (escaped here) and `body` (HTML already escaped by its writer).
pub fn page(title: &str, body: &str) -> String {
    let hash = Sha256::digest(SORT_SCRIPT.as_bytes());
    let policy = format!(
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(hash)
    );
    let mut out = String::with_capacity(body.len() + STYLE.len() + SORT_SCRIPT.len() + 512);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n<script>{SORT_SCRIPT}</script>\n</body>\n</html>\n",
        escape(title)
    );
    out
}

/// Writes `html` to `path` whole or not at all (a temporary file beside it, renamed into place),
/// never over one of `inputs`.
pub fn write(path: &Path, html: &str, inputs: &[&Path]) -> Result<()> {
    parity_core::fsutil::check_outputs(&[path], inputs)?;
    parity_core::fsutil::write_atomic(path, html.as_bytes())?;
    Ok(())
}

/// A cell with a verdict word, coloured by its class.
pub fn verdict_cell(word: &str) -> String {
    let class = match word {
        "PASS" | "NONE" => "pass",
        "FAIL" | "CULPRIT" | "ACCUMULATION" => "fail",
        _ => "other",
    };
    format!("<td class=\"{class}\">{}</td>", escape(word))
}

/// A header list: `(term, value)` pairs, values escaped here.
pub fn header_list(items: &[(&str, String)]) -> String {
    let mut out = String::from("<dl class=\"header\">");
    for (term, value) in items {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", escape(term), escape(value));
    }
    out.push_str("</dl>\n");
    out
}

/// A table: `header` cells and rows of already-rendered `<td>` cells; `sortable` adds the class
/// the script sorts.
pub fn table(header: &[&str], rows: &[String], sortable: bool) -> String {
    let mut out = String::with_capacity(rows.iter().map(String::len).sum::<usize>() + 256);
    out.push_str(if sortable {
        "<table class=\"sortable\"><thead><tr>"
    } else {
        "<table><thead><tr>"
    });
    for h in header {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>\n");
    for row in rows {
        out.push_str(row);
        out.push('\n');
    }
    out.push_str("</tbody></table>\n");
    out
}

/// A text cell, escaped.
pub fn cell(s: &str) -> String {
    format!("<td>{}</td>", escape(s))
}

/// A number cell, right-aligned.
pub fn num(s: &str) -> String {
    format!("<td class=\"num\">{}</td>", escape(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_are_escaped() {
        let hostile = "\"><img src=x onerror=alert(1)><script>alert('x')</script>\x1b[31m";
        let out = escape(hostile);
        assert!(
            !out.contains('<') && !out.contains('>') && !out.contains('"') && !out.contains('\'')
        );
        assert!(out.contains("&lt;script&gt;") && out.contains("\\x1b"), "{out}");
    }
}
