"""Check at scale, side by side in one run, per corpus size N (default 1,000 and 10,000): N golden cases of
SSRNet (the JPEG crops of scripts/bench_predict.py recorded with `record --inputs`), checked by

- each backend alone (`check --backend B`): wall and CPU time (user + sys);
- all four backends (the default), and all four with `--batch 32`;
- `polygraphy run --onnxrt` on the same N feeds (its input and output files written with its own API).

Every command runs once per round, in turn, for --runs rounds (default 5, after one warm-up round); the
medians are printed with the machine bound beside them: the larger of the backends' CPU time alone added
up and spread over the cores, and the slowest backend's wall time alone (the issue's definition; `bench`
prints the same bound from its own timings). Then the goals: all four at most 1.15x the bound, ort alone
at most 0.2x Polygraphy. Last, peak RSS of `record` and `check` at each N, and 4 shards + `merge`
against the single run on the smallest N (the merged report must equal it).

    .venv/bin/python scripts/bench_scale.py [--runs 5] [--sizes 1000,10000] [--bin PATH] [--build]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import subprocess
import tempfile
from pathlib import Path

from bench_check_vs_polygraphy import REPO, add_binary_args, run_once, tools, write_polygraphy_files
from bench_predict import MODEL, make_corpus

BACKENDS = ("ort", "tract", "rten", "candle")


# Runs a command from a fresh, small process: a child forked from this one would start with this
# process's peak RSS (the kernel keeps a forked memory's high-water mark across exec).
MEASURE = r"""
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status), file=sys.stderr)
"""


def measured(cmd: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in KiB (of the command alone, from wait4) and stdout of one run; exit 0 or 1."""
    proc = subprocess.run([sys.executable, "-c", MEASURE, *cmd], cwd=REPO, capture_output=True, text=True)
    elapsed, rss, code = proc.stderr.split()[-3:]
    if int(code) not in (0, 1):
        sys.exit(f"error: {' '.join(cmd[:3])} exited {code}")
    return float(elapsed), int(rss), proc.stdout


def rounds(commands: dict[str, list[str]], runs: int) -> dict[str, tuple[list[float], list[float]]]:
    """Wall and CPU seconds of each command, the commands taking turns for `runs` rounds after a warm-up one."""
    got: dict[str, tuple[list[float], list[float]]] = {label: ([], []) for label in commands}
    for i in range(runs + 1):
        for label, cmd in commands.items():
            wall, cpu, _ = run_once(cmd, label)
            if i > 0:
                got[label][0].append(wall)
                got[label][1].append(cpu)
    return got


def one_size(binary: str, polygraphy: str, n: int, runs: int, tmp: Path) -> Path:
    """The table for N cases; returns the golden set."""
    golden = tmp / f"golden-{n}"
    measured([binary, "record", "--model", str(MODEL), "--inputs", str(make_corpus(n)), "--out", str(golden)])
    check = [binary, "check", "--model", str(MODEL), "--golden", str(golden), "--format", "json"]
    in_path, out_path, _, _ = write_polygraphy_files(tmp / f"poly-{n}", golden)
    commands = {f"{b} alone": [*check, "--backend", b] for b in BACKENDS}
    commands["all four (default)"] = check
    commands["all four, --batch 32"] = [*check, "--batch", "32"]
    commands["polygraphy run --onnxrt"] = [
        polygraphy, "run", str(MODEL), "--onnxrt", "--load-inputs", str(in_path), "--load-outputs", str(out_path),
        "--atol", "1e-4", "--rtol", "0", "--check-error-stat", "max",
    ]  # fmt: skip
    got = rounds(commands, runs)
    wall = {label: statistics.median(w) for label, (w, _) in got.items()}
    cpu = {label: statistics.median(c) for label, (_, c) in got.items()}
    cores = len(os.sched_getaffinity(0))
    alone = [f"{b} alone" for b in BACKENDS]
    cpu_bound = sum(cpu[a] for a in alone) / cores
    slowest = max(alone, key=lambda a: wall[a])
    bound = max(cpu_bound, wall[slowest])
    print(f"\n{n} golden cases, {runs} rounds (medians), {cores} cores, model {MODEL.name}")
    print("| run | wall | CPU (user + sys) |\n|---|---|---|")
    for label in commands:
        print(f"| {label} | {wall[label]:.2f} s | {cpu[label]:.2f} s |")
    print(f"machine bound: {bound:.2f} s = max(backends' CPU alone {sum(cpu[a] for a in alone):.2f} s / {cores} cores = "
          f"{cpu_bound:.2f} s, slowest alone ({slowest}) {wall[slowest]:.2f} s)")
    poly = wall["polygraphy run --onnxrt"]
    four, ort = wall["all four (default)"], wall["ort alone"]
    print(f"all four: {four / bound:.2f}x the bound (goal <= 1.15); with --batch 32 {wall['all four, --batch 32'] / bound:.2f}x")
    print(f"ort alone: {ort / poly:.2f}x polygraphy (goal <= 0.2); all four: {four / poly:.2f}x polygraphy")
    return golden


def memory_and_shards(binary: str, goldens: dict[int, Path], tmp: Path) -> None:
    print("\npeak RSS (record with ort; check with ort, tract, candle, rten)")
    for n, golden in goldens.items():
        rec = [binary, "record", "--model", str(MODEL), "--inputs", str(make_corpus(n)), "--out", str(tmp / f"again-{n}")]
        t_rec, m_rec, _ = measured(rec)
        t_chk, m_chk, _ = measured([binary, "check", "--model", str(MODEL), "--golden", str(golden), "--format", "json"])
        print(f"   {n:>6} cases: record {m_rec / 1024:.1f} MiB in {t_rec:.1f} s; check {m_chk / 1024:.1f} MiB in {t_chk:.1f} s")
    n = min(goldens)
    args = [binary, "check", "--model", str(MODEL), "--golden", str(goldens[n]), "--format", "json"]
    t_single, _, single = measured(args)
    shard_total, files = 0.0, []
    for k in range(4):
        t, _, out = measured([*args, "--shard", f"{k}/4"])
        shard_total += t
        path = tmp / f"shard-{k}.json"
        path.write_text(out)
        files.append(str(path))
    t_merge, _, merged = measured([binary, "merge", *files, "--format", "json"])
    print(f"sharding {n} cases: single run {t_single:.2f} s; 4 shards {shard_total:.2f} s in all + merge {t_merge:.3f} s; "
          f"merged == single: {merged == single}")
    if merged != single:
        sys.exit("error: the merged report differs from the single run")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sizes", default="1000,10000", help="corpus sizes, comma-separated")
    add_binary_args(ap)
    args = ap.parse_args()
    binary, polygraphy = tools(args)
    with tempfile.TemporaryDirectory(prefix="bench-scale-", dir=REPO / "target") as tmp:
        tmp = Path(tmp)
        goldens = {n: one_size(str(binary), str(polygraphy), n, args.runs, tmp) for n in map(int, args.sizes.split(","))}
        memory_and_shards(str(binary), goldens, tmp)


if __name__ == "__main__":
    main()
