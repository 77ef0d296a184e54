"""Wall time of `ssrnet-parity localize` on SSRNet (one random input, tract, candle and rten against
ort), split into loading, cumulative runs and isolated runs (its JSON `timing`), against one
`ssrnet-parity check` of the same model on the demo goldens and against
`polygraphy run <model> --onnxrt --onnx-outputs mark all` on one input, all measured in this run.

    .venv/bin/python scripts/bench_localize.py [--runs 5] [--bin PATH] [--build] [--model PATH]

The binary defaults to target/release/ssrnet-parity (see bench_check_vs_polygraphy.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
from pathlib import Path

from bench_check_vs_polygraphy import REPO, add_binary_args, time_runs, tools


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="timed runs of each command (after one warm-up run)")
    add_binary_args(ap)
    ap.add_argument("--model", type=Path, default=REPO / "models" / "ssrnet_legacy_dynamic.onnx")
    args = ap.parse_args()
    binary, polygraphy = tools(args)

    model = str(args.model)
    localize = [str(binary), "localize", "--model", model, "--random", "1", "--format", "json"]
    check = [str(binary), "check", "--model", model, "--golden", str(REPO / "fixtures" / "golden")]
    mark_all = [str(polygraphy), "run", model, "--onnxrt", "--onnx-outputs", "mark", "all"]
    t_loc, _ = time_runs(localize, args.runs, "ssrnet-parity localize")
    t_check, _ = time_runs(check, args.runs, "ssrnet-parity check")
    t_poly, _ = time_runs(mark_all, args.runs, "polygraphy run --onnx-outputs mark all")
    report = json.loads(subprocess.run(localize, cwd=REPO, capture_output=True, text=True).stdout)
    timing = report["timing"]
    nodes = len(report["runs"][0]["nodes"])

    m_loc, m_check, m_poly = (statistics.median(t) for t in (t_loc, t_check, t_poly))
    print(f"model {args.model}, {nodes} values, {args.runs} timed runs each")
    print(f"ssrnet-parity localize (tract, candle, rten vs ort): median {m_loc:.3f} s")
    print(
        f"  split (one run): load {timing['load_s']:.3f} s, cumulative {timing['cumulative_s']:.3f} s, "
        f"isolated {timing['isolated_s']:.3f} s, total {timing['total_s']:.3f} s"
    )
    print(f"ssrnet-parity check (4 backends, demo goldens): median {m_check:.3f} s; localize = {m_loc / m_check:.2f}x check")
    print(f"polygraphy run --onnxrt --onnx-outputs mark all: median {m_poly:.3f} s; localize = {m_loc / m_poly:.2f}x polygraphy")


if __name__ == "__main__":
    main()
