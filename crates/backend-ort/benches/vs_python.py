"""onnxruntime-python side of `cargo bench -p backend-ort --bench vs_python`.

Driven over stdin/stdout by the Rust bench so the two sides run alternately, in one run, on the same
model, input size and thread count. Protocol, one command per line:

    session MODEL THREADS   -> "ok"            (InferenceSession like backend-ort's: every graph
                                                optimisation, THREADS intra-op, 1 inter-op thread)
    run BATCH ITERS         -> "ns ns ns ..."  (wall time of each `session.run` call)
    quit
"""

import sys
import time

import numpy as np
import onnxruntime as ort


def main() -> int:
    sess = None
    name = None
    inputs: dict[int, np.ndarray] = {}
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "session":
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = int(cmd[2])
            opts.inter_op_num_threads = 1
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            sess = ort.InferenceSession(cmd[1], opts, providers=["CPUExecutionProvider"])
            name = sess.get_inputs()[0].name
            print(f"ok onnxruntime {ort.__version__}", flush=True)
        elif cmd[0] == "run":
            batch, iters = int(cmd[1]), int(cmd[2])
            if batch not in inputs:
                rng = np.random.default_rng(batch)
                inputs[batch] = rng.standard_normal((batch, 3, 64, 64), dtype=np.float32)
            feed = {name: inputs[batch]}
            times = []
            for _ in range(iters):
                t0 = time.perf_counter_ns()
                sess.run(None, feed)
                times.append(time.perf_counter_ns() - t0)
            print(" ".join(map(str, times)), flush=True)
        elif cmd[0] == "quit":
            return 0
        else:
            print(f"error: unknown command {cmd[0]!r}", flush=True)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
