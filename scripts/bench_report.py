"""The HTML report at scale: ``localize`` of a generated 2,000-node graph against a second export
of it whose constants differ from node 1,000 on (so each run has a culprit to mark), on all four
backends (four runs: each backend runs both exports), written with ``--format html``; its size, and how long headless
Chromium (Debian's, through Playwright) takes to load and render it from disk. Medians of
``--repeat`` loads. Goals (issue 24): at most 3 MB, rendered in under 2 s.

    .venv/bin/python scripts/bench_report.py [--nodes 2000] [--repeat 5] [--bin target/release/ssrnet-parity]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

#: The ops the chain cycles through, each with a constant operand or none; all four backends run them.
OPS = [("Add", 0.01), ("Tanh", None), ("Mul", 0.99), ("Relu", None), ("Sub", 0.005), ("Sigmoid", None)]


def chain(path: Path, nodes: int, width: int = 64, moved_from: int | None = None) -> None:
    """A model of ``nodes`` elementwise nodes in a row on a [1, width] float input; from node
    ``moved_from`` on, the constants are 1% larger."""
    rng = np.random.default_rng(0)
    inits, graph_nodes, prev = [], [], "x"
    for i in range(nodes):
        op, const = OPS[i % len(OPS)]
        out = f"v{i}"
        inputs = [prev]
        if const is not None:
            name = f"c{i}"
            scale = 1.01 if moved_from is not None and i >= moved_from else 1.0
            values = (const + 0.001 * rng.standard_normal((1, width))) * scale
            inits.append(numpy_helper.from_array(values.astype(np.float32), name))
            inputs.append(name)
        graph_nodes.append(helper.make_node(op, inputs, [out], name=f"/block{i // 6}/{op.lower()}{i}/{op}"))
        prev = out
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, width])
    y = helper.make_tensor_value_info(prev, TensorProto.FLOAT, [1, width])
    model = helper.make_model(helper.make_graph(graph_nodes, "chain", [x], [y], inits),
                              opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    onnx.save(model, str(path))


def render_seconds(page: Path, repeat: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        for _ in range(repeat):
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            start = time.perf_counter()
            tab.goto(page.as_uri(), wait_until="load")
            # Rendered: layout done and a frame painted.
            tab.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            times.append(time.perf_counter() - start)
            tab.close()
        browser.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--bin", default="target/release/ssrnet-parity")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model, other, page = Path(tmp) / "chain.onnx", Path(tmp) / "moved.onnx", Path(tmp) / "localize.html"
        chain(model, args.nodes, moved_from=args.nodes // 2)
        chain(other, args.nodes)
        done = subprocess.run([args.bin, "localize", "--model", str(model), "--against", str(other), "--format", "html",
                               "--output", str(page)], capture_output=True, text=True)
        if done.returncode not in (0, 1):
            raise SystemExit(done.stderr)
        times = render_seconds(page, args.repeat)
        runs = page.read_text().count('<section id="run-')
        print(json.dumps({"nodes": args.nodes, "runs": runs, "bytes": page.stat().st_size,
                          "megabytes": round(page.stat().st_size / 1e6, 2),
                          "render_s_median": round(statistics.median(times), 3),
                          "render_s": [round(t, 3) for t in times]}, indent=2))


if __name__ == "__main__":
    main()
