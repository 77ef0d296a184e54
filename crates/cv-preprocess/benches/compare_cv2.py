"""Times cv2 and cv-preprocess on the same 512x512 PNG and JPEG in one run and prints the ratios.

Usage (from the repository root): .venv/bin/python crates/cv-preprocess/benches/compare_cv2.py
It writes scikit-image's 512x512 `astronaut` photo as PNG and as JPEG (quality 95, 4:2:0) with cv2, runs
`cargo bench -p cv-preprocess --bench preprocess` on those files, times the same steps in cv2 + numpy
(imread, INTER_LINEAR to 64x64, /255, mean/std, CHW), and prints Rust time / cv2 time (< 1: Rust faster). Both sides report the median of per-batch means, so a
busy machine affects them alike.
"""

import json
import os
import subprocess
import sys
import tempfile
import timeit

import cv2
import numpy as np
from skimage import data

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def pipeline(path):
    img = cv2.imread(path)
    r = cv2.resize(img, (64, 64), interpolation=cv2.INTER_LINEAR)
    x = (r.astype(np.float32) / 255.0 - MEAN) / STD
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def median_per_call(fn, number):
    """Median over 50 batches of the mean time per call: the same statistic as criterion's median."""
    times = sorted(timeit.repeat(fn, number=max(1, number // 50), repeat=50))
    return times[len(times) // 2] / max(1, number // 50)


def main():
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
    with tempfile.TemporaryDirectory() as d:
        bgr = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
        png, jpg = os.path.join(d, "bench512.png"), os.path.join(d, "bench512.jpg")
        cv2.imwrite(png, bgr)
        cv2.imwrite(jpg, bgr, [cv2.IMWRITE_JPEG_QUALITY, 95])
        env = dict(os.environ, CV_PREPROCESS_BENCH_DIR=d)
        subprocess.run(["cargo", "bench", "-p", "cv-preprocess", "--bench", "preprocess"], cwd=root, env=env,
                       check=True, stdout=sys.stderr)
        img = cv2.imread(png)
        cv = {
            "pipeline/png_512": median_per_call(lambda: pipeline(png), 200),
            "pipeline/jpeg_512": median_per_call(lambda: pipeline(jpg), 200),
            "resize/512_to_64_linear": median_per_call(lambda: cv2.resize(img, (64, 64)), 2000),
            "decode/png_512": median_per_call(lambda: cv2.imread(png), 200),
            "decode/jpeg_512": median_per_call(lambda: cv2.imread(jpg), 200),
        }
    print(f"cv2 {cv2.__version__}, {cv2.getNumThreads()} threads; median time per call; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'benchmark':<26} {'rust':>10} {'cv2':>10} {'rust/cv2':>9}")
    for name, cv_s in cv.items():
        with open(os.path.join(target, "criterion", name, "new", "estimates.json")) as f:
            rust_s = json.load(f)["median"]["point_estimate"] / 1e9
        print(f"{name:<26} {rust_s * 1e6:>8.1f}us {cv_s * 1e6:>8.1f}us {rust_s / cv_s:>9.2f}")


if __name__ == "__main__":
    main()
