"""Throughput of `ssrnet-parity predict` over a corpus of face crops against the seed's own loop
(cv2.imread, cv2.resize INTER_LINEAR to 64x64, /255, BGR mean/std, onnxruntime-python
`session.run` per image), on the same files, side by side in one run. Checks the ages agree within
1e-4, and prints images per second of both (whole process, imports and loading included) and the
ratio, also run by run. Then what bounds ours on this machine: the CPU time it used (user + sys), so
the shortest wall time its work allows on every core, and onnxruntime's own share (`bench`, one
thread, predict's default batch).

    .venv/bin/python scripts/bench_predict.py [--images 10000] [--runs 3] [--bin PATH] [--build]
                                              [--predict-args "--batch 64"]

The corpus is generated once (and kept) in target/bench-crops-N/: JPEG crops of 80-400 px cut from
the fixture images at seeded random places, sizes and qualities.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np

from bench_check_vs_polygraphy import REPO, add_binary_args, default_bin, run_once

MODEL = REPO / "models" / "ssrnet_legacy_dynamic.onnx"
IMAGES = REPO / "fixtures" / "images"
PREDICT_BATCH = 8  # predict's default --batch

SEED_LOOP = r"""
import sys, json, time
import cv2, numpy as np, onnxruntime as ort
paths = [l for l in open(sys.argv[2]).read().splitlines() if l]
sess = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
mean = np.array((0.485, 0.456, 0.406), np.float32)
std = np.array((0.229, 0.224, 0.225), np.float32)
ages = []
start = time.perf_counter()
for p in paths:
    img = cv2.imread(p)
    x = cv2.resize(img, (64, 64), interpolation=cv2.INTER_LINEAR).astype(np.float32) / np.float32(255.0)
    x = ((x - mean) / std).transpose(2, 0, 1)[None]
    ages.append(float(sess.run(["age"], {"input": np.ascontiguousarray(x)})[0][0]))
print(json.dumps({"ages": ages, "loop_s": time.perf_counter() - start}))
"""


def make_corpus(n: int, sides: tuple[int, int] = (80, 400)) -> Path:
    """n JPEG crops of sides[0]-sides[1] px from the fixture images (seeded), written once."""
    import cv2

    name = f"bench-crops-{n}" if sides == (80, 400) else f"bench-crops-{n}-{sides[0]}-{sides[1]}"
    out = REPO / "target" / name
    done = out / ".complete"
    if done.is_file():
        return out
    out.mkdir(parents=True, exist_ok=True)
    sources = [cv2.imread(str(p)) for p in sorted(IMAGES.iterdir()) if p.suffix.lower() in (".png", ".jpg", ".bmp")]
    sources = [s for s in sources if s is not None and min(s.shape[:2]) >= 32]
    rng = np.random.default_rng(0)
    for i in range(n):
        src = sources[i % len(sources)]
        h, w = src.shape[:2]
        ch, cw = int(rng.integers(h // 2, h + 1)), int(rng.integers(w // 2, w + 1))
        y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        side = int(rng.integers(sides[0], sides[1] + 1))
        crop = cv2.resize(src[y : y + ch, x : x + cw], (side, int(side * rng.uniform(0.8, 1.25))))
        cv2.imwrite(str(out / f"crop_{i:06d}.jpg"), crop, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(70, 96))])
    done.write_text("")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--sides", default="80,400", help="the crops' smallest and largest side in px (e.g. 32,96: many small crops)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs of each (after one warm-up run of ours)")
    ap.add_argument("--predict-args", default="", help="extra arguments to predict (e.g. '--batch 64')")
    add_binary_args(ap)
    args = ap.parse_args()
    if args.build:
        subprocess.run(["cargo", "build", "--release", "-p", "ssrnet-parity"], cwd=REPO, check=True)
    binary = args.bin or default_bin()
    if not binary.is_file():
        sys.exit(f"error: {binary}: no release binary (run with --build, or pass --bin)")

    lo, hi = map(int, args.sides.split(","))
    corpus = make_corpus(args.images, (lo, hi))
    files = sorted(str(p) for p in corpus.glob("*.jpg"))
    listing = corpus / "list.txt"
    listing.write_text("\n".join(files) + "\n")
    ours_cmd = [str(binary), "predict", str(corpus), "--model", str(MODEL), "--format", "jsonl", *shlex.split(args.predict_args)]
    seed_cmd = [sys.executable, "-c", SEED_LOOP, str(MODEL), str(listing)]

    cpu_used: dict[str, list[float]] = {"ours": [], "seed": []}

    def timed(cmd: list[str], who: str = "") -> tuple[float, str]:
        elapsed, cpu, stdout = run_once(cmd, " ".join(cmd[:3]))
        if who:
            cpu_used[who].append(cpu)
        return elapsed, stdout

    timed(ours_cmd)  # warm the page cache
    t_ours, t_seed, loops = [], [], []
    for _ in range(args.runs):
        t, out = timed(ours_cmd, "ours")
        t_ours.append(t)
        t, seed_out = timed(seed_cmd, "seed")
        t_seed.append(t)
        loops.append(json.loads(seed_out)["loop_s"])
    ours = {json.loads(l)["image"]: json.loads(l)["age"] for l in out.splitlines()}
    seed = dict(zip(files, json.loads(seed_out)["ages"]))
    worst = max(abs(ours[f] - seed[f]) for f in files)
    n = len(files)
    mo, ms = statistics.median(t_ours), statistics.median(t_seed)
    print(f"corpus: {n} JPEG crops of {lo}-{hi} px in {corpus.relative_to(REPO)}; model {MODEL.name}; {args.runs} runs each, alternating")
    print(f"ssrnet-parity predict {args.predict_args}: median {mo:.2f} s = {n / mo:.0f} images/s (min {min(t_ours):.2f}, max {max(t_ours):.2f})")
    print(f"seed loop (cv2 + onnxruntime-python): median {ms:.2f} s = {n / ms:.0f} images/s (its loop alone {statistics.median(loops):.2f} s)")
    print(f"throughput ratio (whole process): {ms / mo:.2f}x; against the loop alone: {statistics.median(loops) / mo:.2f}x")
    pairs = [seed_t / ours_t for ours_t, seed_t in zip(t_ours, t_seed)]
    print(f"ratio of each run to the seed loop's run after it: {', '.join(f'{r:.2f}x' for r in pairs)} (lowest {min(pairs):.2f}x)")
    print(f"ages: max |ours - seed loop| = {worst:.2e} over {n} images ({'within' if worst <= 1e-4 else 'NOT within'} 1e-4)")
    cores = len(os.sched_getaffinity(0))
    cpu_ours, cpu_seed = statistics.median(cpu_used["ours"]), statistics.median(cpu_used["seed"])
    floor = cpu_ours / cores
    print(f"CPU time (user + sys): ours {cpu_ours:.2f} s = {1000 * cpu_ours / n:.3f} core-ms an image; seed loop {cpu_seed:.2f} s")
    print(f"ours on {cores} cores: wall >= {floor:.2f} s, so at most {ms / floor:.2f}x the seed loop with this much work (2x needs wall <= {ms / 2:.2f} s)")
    bench = subprocess.run([str(binary), "bench", "--model", str(MODEL), "--backend", "ort", "--batch", str(PREDICT_BATCH), "--threads", "1",
                            "--seconds", "3", "--format", "json"], cwd=REPO, capture_output=True, text=True)
    if bench.returncode == 0:
        row = json.loads(bench.stdout)[0]
        per_image = row["median_ms"] / PREDICT_BATCH
        print(f"onnxruntime alone, 1 thread, batch {PREDICT_BATCH}: {per_image:.3f} core-ms an image = {per_image * n / 1000:.2f} core-s of ours "
              f"({100 * per_image * n / 1000 / cpu_ours:.0f}%); the rest is decoding, resizing and the pipeline")


if __name__ == "__main__":
    main()
