"""HTML reports from Python: ``Report.save_html`` writes the page the command line's ``--format
html`` writes for the same call, ``_repr_html_`` frames it for a notebook, and
``Verification.save_html`` is one page whose table links to each check and localize report. Every
page is parsed with html5lib, strictly (any parse error fails)."""

from __future__ import annotations

from pathlib import Path

import html5lib
import torch

import ssrnet_parity as sp
from ssrnet_parity.pytorch import verify

from conftest import MODEL, cli


def parsed(path: Path):
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(path.read_bytes())


def test_a_reports_page_is_the_command_lines(tmp_path: Path) -> None:
    report = sp.check(backends=["ort", "tract"], atol=1e-9)
    mine = Path(report.save_html(tmp_path / "mine.html"))
    theirs = tmp_path / "theirs.html"
    done = cli("check", "--backend", "ort,tract", "--atol", "1e-09", "--format", "html", "--output", theirs)
    assert done.returncode == 1, done.stderr
    assert mine.read_text() == theirs.read_text()
    text = "".join(parsed(mine).itertext())
    assert "check: FAIL" in text and "Worst cases" in text
    framed = report._repr_html_()
    assert framed.startswith("<iframe sandbox=\"allow-scripts\"") and "<script>" not in framed


def test_a_localize_report_has_its_page(tmp_path: Path) -> None:
    report = sp.localize(MODEL, backends=["tract"])
    page = Path(report.save_html(tmp_path / "localize.html"))
    assert "tract vs ort" in "".join(parsed(page).itertext())


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.head = torch.nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.conv(x).mean((2, 3)))


def test_a_verifications_page_links_each_cell_to_its_report(tmp_path: Path) -> None:
    torch.manual_seed(0)
    result = verify(Net().eval(), (torch.randn(1, 3, 8, 8),), exporters=["legacy", "dynamo"], backends=["ort", "rten"])
    assert result.passed, result.table()
    page = Path(result.save_html(tmp_path / "verify.html"))
    tree = parsed(page)
    ids = {e.get("id") for e in tree.iter() if e.get("id")}
    links = [a.get("href") for a in tree.iter() if a.tag == "a"]
    assert len(links) == 4 and all(link[1:] in ids for link in links), (links, ids)
    assert {"check-legacy", "check-dynamo"} <= ids
    frames = [e for e in tree.iter() if e.tag == "iframe"]
    assert len(frames) == 2 and all(f.get("sandbox") == "allow-scripts" for f in frames)
    for frame in frames:
        inner = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(frame.get("srcdoc"))
        assert "check: PASS" in "".join(inner.itertext())
    policy = next(e.get("content") for e in tree.iter() if e.get("http-equiv") == "Content-Security-Policy")
    assert policy.startswith("default-src 'none'") and "script-src 'sha256-" in policy, policy
