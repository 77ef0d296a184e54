"""Reference exports of models that are not SSRNet, so the parity tools are held to other architectures.

    zoo.py --out OUT [--only NAME ...]

writes, for every model below and both exporters (`legacy`: torch.onnx.export(dynamo=False) at opset 17;
`dynamo`: the dynamo exporter at its default opset), with a dynamic batch axis `N`:

    OUT/<model>_<exporter>.onnx         the export
    OUT/<model>_<exporter>/             its golden set: npz per case + manifest.json (README, "Golden format")

Models (weights are PyTorch's default initialisation after torch.manual_seed(0): deterministic, untrained):

    resnet18            torchvision.models.resnet18, input float32 [N, 3, 64, 64] -> logits [N, 1000]
    mobilenet_v3_small  torchvision.models.mobilenet_v3_small, as above
    two_input           x float32 [N, 8] and idx int64 [N] -> logits float32 [N, 4] and energy float32 [N]
                        (an embedding lookup, a concatenation, a linear layer, a row sum of squares)

Both are written by `ssrnet_parity.pytorch` (`export`, then `record`), so the package must be installed in
this interpreter (`tools/test` installs it). Expected outputs are PyTorch's (eval mode, CPU), never a
runtime's. Cases: three seeded batch-1 cases and one batch-4 case. Each manifest records the tolerance the set
is checked at. Nothing here is committed: the conformance suite runs this into cargo's target directory once
per test process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

LEGACY_OPSET = 17
CASES = {"random_s0": (0, 1), "random_s1": (1, 1), "random_s2": (2, 1), "random_b4": (3, 4)}
# Float32 networks of tens of layers: runtimes reorder sums, so errors grow with depth and magnitude.
# atol covers outputs near zero, rtol the rest; onnxruntime-python's own difference is recorded per case.
CNN_TOLERANCE = {"atol": 1e-4, "rtol": 1e-3}
SMALL_TOLERANCE = {"atol": 1e-5, "rtol": 1e-5}


def die(msg: str) -> None:
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(2)


class TwoInput:
    """Built lazily (torch is imported in main)."""

    @staticmethod
    def build():
        import torch
        from torch import nn

        class Module(nn.Module):
            def __init__(self):
                super().__init__()
                self.table = nn.Embedding(10, 8)
                self.linear = nn.Linear(16, 4)

            def forward(self, x, idx):
                logits = self.linear(torch.cat([x, self.table(idx)], dim=1))
                return logits, (logits * logits).sum(dim=1)

        return Module()


def calibrate_batch_norm(module, data) -> None:
    """BatchNorm running statistics taken from `data` (train-mode passes, cumulative averages), as a trained
    network has them. With the default statistics (mean 0, variance 1) an untrained torchvision network's
    outputs shrink towards zero layer by layer (mobilenet_v3_small's logits are ~1e-14), and a parity check
    on them would compare nothing."""
    import torch
    from torch import nn

    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None
    module.train()
    with torch.no_grad():
        for chunk in data.split(8):
            module(chunk)
    module.eval()


def models():
    """name -> (module factory, input names, output names, example-input maker(seed, batch), tolerance)."""
    import torch
    import torchvision

    def image(seed: int, batch: int):
        rng = np.random.default_rng(seed)
        return {"input": rng.standard_normal((batch, 3, 64, 64)).astype(np.float32)}

    def pair(seed: int, batch: int):
        rng = np.random.default_rng(seed)
        return {
            "x": rng.standard_normal((batch, 8)).astype(np.float32),
            "idx": rng.integers(0, 10, size=(batch,), dtype=np.int64),
        }

    def vision(factory):
        def build():
            torch.manual_seed(0)
            module = factory(weights=None)
            calibrate_batch_norm(module, torch.randn(32, 3, 64, 64))
            return module

        return build

    def two_input():
        torch.manual_seed(0)
        return TwoInput.build()

    return {
        "resnet18": (vision(torchvision.models.resnet18), ["input"], ["logits"], image, CNN_TOLERANCE),
        "mobilenet_v3_small": (
            vision(torchvision.models.mobilenet_v3_small),
            ["input"],
            ["logits"],
            image,
            CNN_TOLERANCE,
        ),
        "two_input": (two_input, ["x", "idx"], ["logits", "energy"], pair, SMALL_TOLERANCE),
    }


def write_one(out: Path, name: str, spec, exporter: str, versions: dict) -> None:
    """OUT/<name>_<exporter>.onnx and its golden set OUT/<name>_<exporter>/, through
    `ssrnet_parity.pytorch`'s export and record."""
    import torch
    from ssrnet_parity.pytorch import Case, export, record

    factory, inputs, outputs, make, tolerance = spec
    module = factory().eval()
    stem = f"{name}_{exporter}"
    example = make(0, 1)
    made = export(
        module,
        tuple(torch.from_numpy(example[i]) for i in inputs),
        out / f".{stem}-export",
        exporters=[exporter],
        opset=LEGACY_OPSET if exporter == "legacy" else None,
        dynamic="batch",
        input_names=inputs,
        output_names=outputs,
    )
    if exporter in made.failures:
        die(f"{stem}: the {exporter} exporter failed: {made.failures[exporter]}")
    model_path = out / f"{stem}.onnx"
    os.replace(made[exporter], model_path)
    shutil.rmtree(out / f".{stem}-export")
    cases = []
    for case, (seed, batch) in CASES.items():
        feeds = make(seed, batch)
        cases.append(Case(case, tuple(torch.from_numpy(feeds[i]) for i in inputs), source=f"random seed {seed}, batch {batch}"))
    provenance = dict(versions, model=name, weights="torch default init, seed 0 (untrained)")
    record(module, out / stem, model=model_path, cases=cases, intermediates=False,
           tolerance={o: tolerance for o in outputs}, provenance=provenance)
    print(f"{stem}: written ({len(CASES)} cases)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, type=Path, help="directory to write (replaced when it exists)")
    ap.add_argument("--only", nargs="*", help="model names to export (default: all)")
    args = ap.parse_args(argv)

    import onnx
    import onnxruntime
    import torch
    import torchvision

    torch.set_num_threads(1)
    versions = {
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "numpy": np.__version__,
    }
    specs = models()
    chosen = args.only or list(specs)
    unknown = sorted(set(chosen) - set(specs))
    if unknown:
        die(f"--only: unknown model(s) {', '.join(unknown)} (known: {', '.join(specs)})")
    out = args.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".zoo-stage-", dir=out.parent))
    try:
        for name in chosen:
            for exporter in ("legacy", "dynamo"):
                write_one(stage, name, specs[name], exporter, versions)
        if out.exists():
            shutil.rmtree(out)
        os.replace(stage, out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
