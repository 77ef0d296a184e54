"""Scale numbers of issue 12, measured side by side in one run:

1. peak RSS of `record` and of `check` (all four backends) over 1,000 and over 10,000 images (the generated
   corpus of scripts/bench_predict.py), and the difference (the goal: within 10%);
2. `check` with all backends on the demo goldens, sequential (`--jobs 1`) against concurrent (default), and
   `polygraphy run --onnxrt` on the same goldens (onnxruntime only) as the anchor;
3. the overhead of sharding: 4 shards of `check` over the 1,000-image goldens run one after another, plus
   `merge`, against the single run (the merged report must equal it).

    .venv/bin/python scripts/bench_scale.py [--runs 3] [--bin PATH] [--build] [--small 1000] [--large 10000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_check_vs_polygraphy import REPO, add_binary_args, time_runs, tools, write_polygraphy_files
from bench_predict import MODEL, make_corpus


def measured(cmd: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in KiB (of this child alone, from wait4) and stdout of one run; exit 0 or 1."""
    start = time.perf_counter()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.chdir(REPO)
        os.dup2(w, 1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.execv(cmd[0], cmd)
    os.close(w)
    chunks = []
    with os.fdopen(r) as f:
        chunks.append(f.read())
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"error: {' '.join(cmd[:3])} exited {code}")
    return elapsed, usage.ru_maxrss, "".join(chunks)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--large", type=int, default=10_000)
    add_binary_args(ap)
    args = ap.parse_args()
    binary, polygraphy = tools(args)
    b = str(binary)

    with tempfile.TemporaryDirectory(prefix="bench-scale-", dir=REPO / "target") as tmp:
        tmp = Path(tmp)
        print(f"1. peak RSS (record with ort; check with ort, tract, candle, rten), model {MODEL.name}")
        rss = {}
        for n in (args.small, args.large):
            corpus = make_corpus(n)
            golden = tmp / f"golden-{n}"
            t_rec, m_rec, _ = measured([b, "record", "--model", str(MODEL), "--inputs", str(corpus), "--out", str(golden)])
            t_chk, m_chk, _ = measured([b, "check", "--model", str(MODEL), "--golden", str(golden), "--format", "json"])
            rss[n] = (m_rec, m_chk)
            print(f"   {n:>6} images: record {m_rec / 1024:.1f} MiB in {t_rec:.1f} s; check {m_chk / 1024:.1f} MiB in {t_chk:.1f} s")
        (rs, cs), (rl, cl) = rss[args.small], rss[args.large]
        print(f"   {args.large} vs {args.small}: record {100 * (rl - rs) / rs:+.1f}%, check {100 * (cl - cs) / cs:+.1f}% (goal: within 10%)")

        print("2. check on the demo goldens (all four backends), median of", args.runs)
        seq, _ = time_runs([b, "check", "--jobs", "1"], args.runs, "check --jobs 1")
        conc, _ = time_runs([b, "check"], args.runs, "check")
        in_path, out_path, _, _ = write_polygraphy_files(tmp)
        poly_cmd = [str(polygraphy), "run", str(REPO / "models" / "ssrnet_legacy_dynamic.onnx"), "--onnxrt",
                    "--load-inputs", str(in_path), "--load-outputs", str(out_path), "--atol", "1e-4", "--rtol", "0",
                    "--check-error-stat", "max"]  # fmt: skip
        poly, _ = time_runs(poly_cmd, args.runs, "polygraphy run")
        ms, mc, mp = statistics.median(seq), statistics.median(conc), statistics.median(poly)
        print(f"   sequential (--jobs 1) {ms:.3f} s; concurrent (default: every backend at once, {os.cpu_count()} CPUs) {mc:.3f} s = {ms / mc:.2f}x faster")
        print(f"   polygraphy run --onnxrt (ort only) {mp:.3f} s: {mp / mc:.2f}x the concurrent check's time")

        print(f"3. sharding: check over the {args.small}-image goldens, 4 shards one after another + merge vs one run")
        golden = tmp / f"golden-{args.small}"
        t_single, _, single = measured([b, "check", "--model", str(MODEL), "--golden", str(golden), "--format", "json"])
        shard_total = 0.0
        files = []
        for k in range(4):
            t, _, out = measured([b, "check", "--model", str(MODEL), "--golden", str(golden), "--shard", f"{k}/4", "--format", "json"])
            shard_total += t
            path = tmp / f"shard-{k}.json"
            path.write_text(out)
            files.append(str(path))
        t_merge, _, merged = measured([b, "merge", *files, "--format", "json"])
        same = merged == single
        print(f"   single run {t_single:.2f} s; 4 shards {shard_total:.2f} s in all + merge {t_merge:.3f} s "
              f"= {100 * (shard_total + t_merge - t_single) / t_single:+.1f}% total CPU-side overhead; merged == single: {same}")
        if not same:
            sys.exit("error: the merged report differs from the single run")


if __name__ == "__main__":
    main()
