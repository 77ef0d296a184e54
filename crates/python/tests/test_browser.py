"""Every kind of HTML report loaded from disk in a real browser: Debian's headless Chromium, driven
by Playwright (which is told where that browser is and never downloads one). Each page must load
with no console error and no request but the file itself, render the verdict and, for a failure,
the culprit's node, sort a table when its header is clicked, and screenshot to a real image.

Without chromium the tests skip, saying why; tools/test installs it when run as root, and there a
missing browser under SSRNET_PARITY_STRICT=1 fails instead."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import onnx
import pytest
import torch
from onnx import numpy_helper

import ssrnet_parity as sp
import ssrnet_parity.pytorch._verify as _verify
from ssrnet_parity.pytorch import verify

from conftest import MODEL, SIM


def chromium() -> str | None:
    return os.environ.get("SSRNET_PARITY_CHROMIUM") or shutil.which("chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    path = chromium()
    if path is None:
        if os.environ.get("SSRNET_PARITY_STRICT") == "1" and os.geteuid() == 0:
            pytest.fail("chromium is missing although tools/test installs it as root (tools/chromium)")
        pytest.skip("no chromium here (tools/test installs Debian's chromium when run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield launched
        launched.close()


def load(browser, page_file: Path, shot: Path) -> tuple[object, list[str], list[str]]:
    """The page opened from disk: (the page, console errors, URLs requested), with a screenshot."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(page_file.resolve().as_uri(), wait_until="load")
    page.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    return page, errors, requests


def assert_clean(errors: list[str], requests: list[str], page_file: Path) -> None:
    assert errors == [], errors
    assert all(url.startswith("file:") and url.endswith(page_file.name) or url.startswith("about:") for url in requests), requests


def test_check_compare_diff_and_localize_pages_render_cleanly(browser, tmp_path: Path) -> None:
    reports = {
        "check": sp.check(backends=["ort", "tract"], atol=1e-9),
        "compare": sp.compare(MODEL, random=2, backends=["ort", "rten"]),
        "diff": sp.diff(MODEL, SIM, random=2),
        "localize": sp.localize(MODEL, backends=["tract"]),
    }
    for kind, report in reports.items():
        page_file = Path(report.save_html(tmp_path / f"{kind}.html"))
        page, errors, requests = load(browser, page_file, tmp_path / f"{kind}.png")
        assert_clean(errors, requests, page_file)
        text = page.inner_text("body")
        assert f"ssrnet-parity {kind}: " in text, text[:300]
        page.close()


def test_a_sortable_table_sorts_by_the_clicked_column(browser, tmp_path: Path) -> None:
    page_file = Path(sp.check(backends=["ort", "tract", "rten"]).save_html(tmp_path / "check.html"))
    page, errors, _ = load(browser, page_file, tmp_path / "check.png")
    column = lambda: page.eval_on_selector_all("table.sortable tbody tr td:nth-child(3)", "cells => cells.map(c => parseFloat(c.textContent))")  # noqa: E731
    page.click("table.sortable th:nth-child(3)")
    assert column() == sorted(column())
    page.click("table.sortable th:nth-child(3)")
    assert column() == sorted(column(), reverse=True)
    assert errors == []


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.mix = torch.nn.Conv2d(8, 8, 1)
        self.head = torch.nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.mix(self.stem(x).relu()).mean((2, 3)))


def test_a_failing_verification_shows_its_culprit_in_the_browser(browser, monkeypatch, tmp_path: Path) -> None:
    """An export with `mix`'s weight 20% off (an exporter bug's stand-in): the verify page, its
    framed check and localize reports, and the culprit's node and module rendered."""

    def scaled(*args, **kwargs):
        exports, written = export_each(*args, **kwargs)

        def each():
            for variant, path in written:
                proto = onnx.load(str(path))
                conv = [n for n in proto.graph.node if n.op_type == "Conv"][1]
                weight = next(t for t in proto.graph.initializer if t.name == conv.input[1])
                weight.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(weight) * 1.2, weight.name))
                onnx.save(proto, str(path))
                yield variant, path

        return exports, each()

    export_each = _verify.export_each
    monkeypatch.setattr(_verify, "export_each", scaled)
    torch.manual_seed(0)
    result = verify(Net().eval(), (torch.randn(1, 3, 8, 8),), exporters=["legacy"], backends=["ort"])
    assert not result.passed and result.rows[0].culprit, result.table()
    node = result.rows[0].culprit["node"]
    page_file = Path(result.save_html(tmp_path / "verify.html"))
    page, errors, requests = load(browser, page_file, tmp_path / "verify.png")
    assert_clean(errors, requests, page_file)
    assert "mix (Conv2d)" in page.inner_text("body")
    framed = "".join(frame.inner_text("body") for frame in page.frames if frame != page.main_frame)
    assert "ssrnet-parity localize: CULPRIT" in framed and node in framed, framed[:500]


def test_markup_in_a_models_names_runs_nothing_in_the_browser(browser, tmp_path: Path) -> None:
    """Node and value names that are markup (a script, an image whose error handler alerts) are
    shown as text: no dialog opens, no console error, nothing requested."""
    from onnx import TensorProto, helper

    names = ["<script>alert(1)</script>", '"><img src=x onerror=alert(2)>']
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info(names[1], TensorProto.FLOAT, [1, 4])
    nodes = [helper.make_node("Relu", ["x"], [names[0]], name=names[0]),
             helper.make_node("Relu", [names[0]], [names[1]], name=names[1])]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y]), opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    onnx.save(model, str(tmp_path / "hostile.onnx"))
    page_file = Path(sp.localize(tmp_path / "hostile.onnx", backends=["tract"]).save_html(tmp_path / "hostile.html"))
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(page_file.as_uri(), wait_until="load")
    page.wait_for_timeout(300)
    assert dialogs == [] and errors == [], (dialogs, errors)
    text = page.inner_text("body")
    assert names[0] in text and names[1] in text
    assert page.eval_on_selector_all("img", "els => els.length") == 0
