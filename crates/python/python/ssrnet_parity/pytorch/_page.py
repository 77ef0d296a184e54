"""``Verification``'s HTML page: the export x backend table, each cell linking to its section, and
per export its check report and per failure its localize report, each the page the command line's
``--format html`` writes, framed whole (``srcdoc``) so that the result is still one file that
fetches nothing. Every string is escaped."""

from __future__ import annotations

import html
import re
from typing import Any

from .._report import framed

#: The engine's pages carry their Content-Security-Policy in this tag; the outer page reuses it,
#: since a framed ``srcdoc`` document inherits its parent's policy.
_POLICY = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')

_STYLE = ("body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em}"
          "table{border-collapse:collapse}th,td{border:1px solid #d0d7de;padding:.2em .5em;text-align:left}"
          "th{background:#f6f8fa}.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}"
          ".other{color:#9a6700;font-weight:600}h2{border-bottom:1px solid #d0d7de}")


def anchor(kind: str, export: str, backend: str = "") -> str:
    """The id of a section: ``check-legacy``, ``localize-dynamo-rten``."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", "-".join(p for p in (kind, export, backend) if p))


def render(verification: Any, pages: dict[str, str]) -> str:
    """The page of ``verification``, with ``pages`` (section id -> the engine's page)."""
    e = html.escape
    verdict = "PASS" if verification.passed else "FAIL"
    policy = next((m.group(1) for p in pages.values() if (m := _POLICY.search(p))), "default-src 'none'; style-src 'unsafe-inline'")
    rows = []
    for r in verification.rows:
        target = next((a for a in (anchor("localize", r.export, r.backend), anchor("check", r.export)) if a in pages), "")
        cls = "pass" if r.verdict == "pass" else "fail" if r.verdict in ("fail", "error") else "other"
        verdict_cell = f'<a href="#{e(target)}">{e(r.verdict)}</a>' if target in pages else e(r.verdict)
        max_abs = "-" if r.max_abs is None else f"{r.max_abs:.3e}"
        node = f"{r.culprit['node']} ({r.culprit['op']})" if r.culprit else "-"
        rows.append(f"<tr><td>{e(r.export)}</td><td>{e(r.backend)}</td><td class=\"{cls}\">{verdict_cell}</td>"
                    f"<td>{e(max_abs)}</td><td>{e(r.module)}</td><td>{e(node)}</td></tr>")
    for variant, why in verification.exports.failures.items():
        rows.append(f"<tr><td>{e(variant)}</td><td>-</td><td class=\"other\">export failed: {e(why)}</td>"
                    "<td>-</td><td>-</td><td>-</td></tr>")
    sections = "".join(f'<section id="{e(key)}"><h2>{e(key.replace("-", " ", 2))}</h2>{framed(page, 900)}</section>\n'
                       for key, page in pages.items())
    head = ("<tr><th>export</th><th>backend</th><th>verdict</th><th>max abs error</th>"
            "<th>culprit module</th><th>culprit node</th></tr>")
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{e(policy)}">\n'
            f"<title>ssrnet-parity verify {verdict}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            f"<h1>ssrnet-parity verify: {verdict}</h1>\n<p>{len(verification.cases)} cases: {e(', '.join(verification.cases))}</p>\n"
            f"<table><thead>{head}</thead><tbody>\n{''.join(rows)}\n</tbody></table>\n{sections}</body>\n</html>\n")
