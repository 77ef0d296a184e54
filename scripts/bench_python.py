"""The Python package against the command line it wraps, on this machine, in one run:

- ``check`` of the committed demo goldens on all four backends: a fresh interpreter calling
  ``ssrnet_parity.check()`` against the binary's ``check`` (both from process start to exit), and
  the call alone inside a warm interpreter;
- ``run`` on a batch-32 numpy feed against the Rust backend's own call (``bench --batch 32``'s
  median), per backend, one intra-op thread, in rounds taking turns;
- the console script's start-up against the binary's (``--version``).

Build both in release first: ``cargo build --release`` and ``tools/wheel`` (then ``pip install``
the wheel into the interpreter running this). Run from the repo root:
``.venv/bin/python scripts/bench_python.py [--binary target/release/ssrnet-parity] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import ssrnet_parity as sp

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "models" / "ssrnet_legacy_dynamic.onnx"


def wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - start


def median_of(repeat: int, f) -> float:
    return statistics.median(f() for _ in range(repeat))


def bench_check(binary: str, repeat: int) -> dict:
    python = [sys.executable, "-c", "import ssrnet_parity as sp; assert sp.check().passed"]
    cli = [binary, "check"]
    wall(cli), wall(python)  # warm the page cache and the provisioned onnxruntime
    pairs = [(wall(cli), wall(python)) for _ in range(repeat)]  # taking turns
    cli_s = statistics.median(c for c, _ in pairs)
    python_s = statistics.median(p for _, p in pairs)
    sp.check()

    def in_process() -> float:
        start = time.perf_counter()
        assert sp.check().passed
        return time.perf_counter() - start

    warm_s = median_of(repeat, in_process)
    return {"cli_s": cli_s, "python_fresh_s": python_s, "python_warm_s": warm_s,
            "ratio_fresh": python_s / cli_s, "ratio_warm": warm_s / cli_s}


def bench_run(binary: str, backend: str, rounds: int) -> dict:
    """Rounds taking turns: the backend's own call timed by ``bench`` (1 s), then ``run`` from here
    for as many calls; the median over the rounds of each round's ratio of medians (a round's two
    halves run back to back, so the machine's drift between rounds cancels)."""
    feed = {"input": np.random.default_rng(0).standard_normal((32, 3, 64, 64), dtype=np.float32)}
    for _ in range(3):
        sp.run(MODEL, feed, backend=backend, threads=1)
    rust, python = [], []
    for _ in range(rounds):
        done = subprocess.run(
            [binary, "bench", "--model", str(MODEL), "--backend", backend, "--batch", "32",
             "--threads", "1", "--seconds", "1", "--format", "json"],
            cwd=REPO, check=True, capture_output=True, text=True,
        )
        row = json.loads(done.stdout)[0]
        rust.append(row["median_ms"])
        times = []
        for _ in range(row["iterations"]):
            start = time.perf_counter()
            sp.run(MODEL, feed, backend=backend, threads=1)
            times.append(time.perf_counter() - start)
        python.append(1000 * statistics.median(times))
    ratios = [p / r for p, r in zip(python, rust)]
    return {"rust_ms": statistics.median(rust), "python_ms": statistics.median(python),
            "ratio": statistics.median(ratios), "ratio_range": [min(ratios), max(ratios)]}


def bench_start(binary: str, repeat: int) -> dict:
    script = str(Path(sys.executable).parent / "ssrnet-parity")
    cli_s = median_of(repeat, lambda: wall([binary, "--version"]))
    script_s = median_of(repeat, lambda: wall([script, "--version"]))
    return {"binary_ms": 1000 * cli_s, "console_script_ms": 1000 * script_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=str(REPO / "target" / "release" / "ssrnet-parity"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    results = {
        "check": bench_check(args.binary, args.repeat),
        "run": {b: bench_run(args.binary, b, args.rounds) for b in ("ort", "tract", "rten", "candle")},
        "start": bench_start(args.binary, 2 * args.repeat),
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
