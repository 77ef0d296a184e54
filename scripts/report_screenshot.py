"""docs/localize-report.png: the HTML report of ``localize`` on a real architecture with a real
defect, as a browser shows it. torchvision's resnet18 (seeded random weights) is exported by the
legacy exporter, PyTorch's outputs and intermediates are recorded for it, and then one Conv weight
of the export (``layer3.0.conv2``) is scaled by 1.01, standing in for an exporter bug. ``localize``
against PyTorch on onnxruntime, tract and RTen names that Conv and its module; headless Chromium
(Debian's, through Playwright) takes the screenshot.

    .venv/bin/python scripts/report_screenshot.py [--out docs/localize-report.png] [--html FILE]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import onnx
import torch
import torchvision
from onnx import numpy_helper

import ssrnet_parity as sp
from ssrnet_parity.pytorch import export, record



def defective_export(out: Path) -> tuple[Path, Path]:
    """The wrong export and the PyTorch golden set (with intermediates) of the right one."""
    torch.manual_seed(0)
    module = torchvision.models.resnet18().eval()
    x = torch.randn(1, 3, 224, 224)
    exports = export(module, (x,), out, exporters=["legacy"])
    golden = Path(record(module, out / "golden", model=exports["legacy"], cases=(x,)))
    proto = onnx.load(str(exports["legacy"]))
    # The legacy exporter names a node by its scope: layer3.0.conv2 -> /layer3/layer3.0/conv2/Conv.
    conv = next(n for n in proto.graph.node if n.name == "/layer3/layer3.0/conv2/Conv")
    weight = next(t for t in proto.graph.initializer if t.name == conv.input[1])
    weight.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(weight) * 1.01, weight.name))
    wrong = out / "wrong.onnx"
    onnx.save(proto, str(wrong))
    return wrong, golden


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/localize-report.png")
    ap.add_argument("--html", help="also keep the page here")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        wrong, golden = defective_export(Path(tmp))
        report = sp.localize(wrong, golden=golden, backends=["ort", "tract", "rten"])
        print(report.verdict, report.to_dict()["culprit"])
        page_file = Path(report.save_html(Path(tmp) / "localize.html"))
        if args.html:
            shutil.copy(page_file, args.html)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.goto(page_file.as_uri(), wait_until="load")
            page.screenshot(path=args.out)
            browser.close()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
