"""``ssrnet_parity.pytorch.verify`` against its anchor, on this machine, in one run:

- verify: torchvision's resnet18 (random weights, eval mode) at 1x3x224x224, both exporters, four
  backends, 4 cases (the example and 3 seeded random ones), as ``verify`` runs by default (every
  export passes, so no intermediates are recorded: they are only for localising a failure);
- the anchor: the two exports alone (``torch.onnx.export`` with ``dynamo=False`` and ``True``)
  plus one onnxruntime run of the legacy export on the example, what a hand-written check costs
  at the least.

Medians of ``--repeat`` runs taking turns. Install the wheel into the interpreter first (``tools/wheel``
then ``pip install``). Run from the repo root: ``.venv/bin/python scripts/bench_verify.py [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
import time
import warnings

import torch
import torchvision

from ssrnet_parity.pytorch import verify


def anchor(module: torch.nn.Module, x: torch.Tensor) -> float:
    import onnxruntime

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        buffer = io.BytesIO()
        torch.onnx.export(module, (x,), buffer, dynamo=False)
        torch.onnx.export(module, (x,), dynamo=True, verbose=False)
    session = onnxruntime.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    session.run(None, {session.get_inputs()[0].name: x.numpy()})
    return time.perf_counter() - start


def timed_verify(module: torch.nn.Module, x: torch.Tensor) -> tuple[float, object]:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        result = verify(module, (x,), out)
        return time.perf_counter() - start, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    torch.manual_seed(0)
    module = torchvision.models.resnet18(weights=None).eval()
    x = torch.randn(1, 3, 224, 224)
    anchor(module, x)  # warm: imports, onnxscript's registry
    pairs = []
    for _ in range(args.repeat):
        pairs.append((anchor(module, x), *timed_verify(module, x)))
    anchor_s = statistics.median(a for a, _, _ in pairs)
    verify_s = statistics.median(v for _, v, _ in pairs)
    result = pairs[-1][2]
    print(result.table())
    print(json.dumps({"anchor_s": round(anchor_s, 2), "verify_s": round(verify_s, 2),
                      "ratio": round(verify_s / anchor_s, 2), "passed": result.passed,
                      "cases": result.cases}, indent=2))


if __name__ == "__main__":
    main()
