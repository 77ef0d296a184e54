"""Wall time of `ssrnet-parity check` (no arguments: the demo model against fixtures/golden on ort,
tract, candle and rten) against `polygraphy run <demo model> --onnxrt --load-inputs ... --load-outputs ...`
doing only the onnxruntime half of the same golden cases. Prints both medians and the ratio.

    .venv/bin/python scripts/bench_check_vs_polygraphy.py [--runs 7] [--bin PATH] [--build]

The binary defaults to $CARGO_TARGET_DIR/release/ssrnet-parity (else target/release/ssrnet-parity);
--build runs `cargo build --release -p ssrnet-parity` first. Polygraphy's input and output files are
written with Polygraphy's own API (polygraphy.json.save_json, RunResults.save) from the same npz
goldens, into a temporary directory. Both commands must pass (exit 0) on every run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / "models" / "ssrnet_legacy_dynamic.onnx"
GOLDEN = REPO / "fixtures" / "golden"


def default_bin() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "release" / "ssrnet-parity"


def add_binary_args(ap: argparse.ArgumentParser) -> None:
    """--bin and --build, shared by the benchmark scripts."""
    ap.add_argument("--bin", type=Path, default=None, help="the ssrnet-parity release binary")
    ap.add_argument("--build", action="store_true", help="cargo build --release -p ssrnet-parity first")


def tools(args: argparse.Namespace) -> tuple[Path, Path]:
    """The release binary (built first with --build) and this environment's polygraphy; exits on absence."""
    if args.build:
        subprocess.run(["cargo", "build", "--release", "-p", "ssrnet-parity"], cwd=REPO, check=True)
    binary = args.bin or default_bin()
    if not binary.is_file():
        sys.exit(f"error: {binary}: no release binary (run with --build, or pass --bin)")
    polygraphy = Path(sys.executable).parent / "polygraphy"
    if not polygraphy.is_file():
        sys.exit(f"error: {polygraphy}: polygraphy is not installed in this Python environment")
    return binary, polygraphy


def write_polygraphy_files(tmp: Path, golden: Path = GOLDEN) -> tuple[Path, Path, int, int]:
    """The goldens as Polygraphy input (list of feed dicts) and output (RunResults) files in tmp."""
    from polygraphy.comparator import RunResults
    from polygraphy.comparator.struct import IterationResult
    from polygraphy.json import save_json

    manifest = json.loads((golden / "manifest.json").read_text())
    inputs, iterations = [], []
    cases = sorted(golden.glob("*.npz"))
    for npz in cases:
        with np.load(npz) as arrays:
            feed = {name: arrays[name] for name in manifest["inputs"]}
            outs = {name: arrays[name] for name in manifest["outputs"]}
        inputs.append(feed)
        iterations.append(IterationResult(outs, runner_name="pytorch-goldens"))
    tmp.mkdir(parents=True, exist_ok=True)
    in_path, out_path = tmp / "inputs.json", tmp / "outputs.json"
    save_json(inputs, str(in_path), description="golden inputs")
    results = RunResults()
    results.append(("pytorch-goldens", iterations))
    results.save(str(out_path))
    samples = sum(len(it["age"]) for it in iterations)
    return in_path, out_path, len(cases), samples


def run_once(cmd: list[str], label: str) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + sys of the child) and stdout of one run, which must exit 0."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"error: {label} exited {proc.returncode}: {' '.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), proc.stdout


def time_runs(cmd: list[str], runs: int, label: str) -> tuple[list[float], list[float]]:
    """Wall seconds and CPU seconds (user + sys of the child) per timed run."""
    run_once(cmd, label)  # the first run warms the page cache and is not counted
    timed = [run_once(cmd, label) for _ in range(runs)]
    return [t for t, _, _ in timed], [c for _, c, _ in timed]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="timed runs of each command (after one warm-up run)")
    add_binary_args(ap)
    args = ap.parse_args()
    binary, polygraphy = tools(args)

    with tempfile.TemporaryDirectory(prefix="bench-polygraphy-") as tmp:
        in_path, out_path, cases, samples = write_polygraphy_files(Path(tmp))
        ours = [str(binary), "check"]
        theirs = [
            str(polygraphy), "run", str(MODEL), "--onnxrt",
            "--load-inputs", str(in_path), "--load-outputs", str(out_path),
            "--atol", "1e-4", "--rtol", "0", "--check-error-stat", "max",
        ]  # fmt: skip
        load = os.getloadavg()[0]
        t_ours, c_ours = time_runs(ours, args.runs, "ssrnet-parity check")
        t_theirs, c_theirs = time_runs(theirs, args.runs, "polygraphy run")

    m_ours, m_theirs = statistics.median(t_ours), statistics.median(t_theirs)
    print(f"golden cases: {cases} ({samples} samples), model {MODEL.relative_to(REPO)}, {args.runs} timed runs each")
    print(f"ssrnet-parity check (ort + tract + candle + rten): median {m_ours:.3f} s  (min {min(t_ours):.3f}, max {max(t_ours):.3f})")
    print(f"polygraphy run --onnxrt (onnxruntime only): median {m_theirs:.3f} s  (min {min(t_theirs):.3f}, max {max(t_theirs):.3f})")
    print(f"ratio polygraphy / ssrnet-parity (wall): {m_theirs / m_ours:.2f}x")
    cu, ct = statistics.median(c_ours), statistics.median(c_theirs)
    print(f"CPU (user+sys) medians: ssrnet-parity {cu:.3f} s, polygraphy {ct:.3f} s, ratio {ct / cu:.2f}x")
    print(f"load average at start: {load:.1f} on {os.cpu_count()} CPUs (wall times inflate on a busy machine)")
    print(f"target check < 1 s: {'met' if m_ours < 1.0 else 'NOT met'}; faster than polygraphy: {'yes' if m_ours < m_theirs else 'NO'}")


if __name__ == "__main__":
    main()
