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

Expected outputs are PyTorch's (eval mode, CPU), never a runtime's. Cases: three seeded batch-1 cases and one
batch-4 case. Each manifest records the tolerance the set is checked at and, per case, onnxruntime-python's
max abs difference from PyTorch, for information. Nothing here is committed: the conformance suite runs this
into cargo's target directory once per test process.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

LEGACY_OPSET = 17
BATCH_DIM = "N"
GOLDEN_FORMAT = "ssrnet-parity-golden"
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


def export(module, example: dict, inputs: list[str], outputs: list[str], exporter: str):
    import onnx
    import torch

    args = tuple(torch.from_numpy(example[name]) for name in inputs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if exporter == "legacy":
            buf = io.BytesIO()
            axes = {name: {0: BATCH_DIM} for name in inputs + outputs}
            torch.onnx.export(
                module,
                args,
                buf,
                dynamo=False,
                opset_version=LEGACY_OPSET,
                input_names=inputs,
                output_names=outputs,
                dynamic_axes=axes,
                do_constant_folding=True,
            )
            proto = onnx.load_from_string(buf.getvalue())
        else:
            batch = torch.export.Dim(BATCH_DIM, min=1, max=1024)
            program = torch.onnx.export(
                module,
                args,
                dynamo=True,
                input_names=inputs,
                output_names=outputs,
                dynamic_shapes=tuple({0: batch} for _ in inputs),
                verbose=False,
            )
            proto = onnx.load_from_string(program.model_proto.SerializeToString())
    for vi in list(proto.graph.input) + list(proto.graph.output):
        dim = vi.type.tensor_type.shape.dim[0]
        if dim.HasField("dim_param"):
            dim.dim_param = BATCH_DIM
    onnx.checker.check_model(proto)
    return proto


def declared(vi) -> dict:
    from onnx import helper

    dims = [d.dim_param if d.HasField("dim_param") else d.dim_value for d in vi.type.tensor_type.shape.dim]
    dtype = np.dtype(helper.tensor_dtype_to_np_dtype(vi.type.tensor_type.elem_type)).name
    return {"dtype": dtype, "shape": dims}


def write_one(out: Path, name: str, spec, exporter: str, versions: dict) -> None:
    import onnxruntime as ort
    import torch

    factory, inputs, outputs, make, tolerance = spec
    module = factory().eval()
    stem = f"{name}_{exporter}"
    proto = export(module, make(0, 1), inputs, outputs, exporter)
    meta = proto.metadata_props.add()
    meta.key, meta.value = "weights", f"torch default init, seed 0 ({name}; untrained)"
    model_path = out / f"{stem}.onnx"
    model_path.write_bytes(proto.SerializeToString())

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
    golden = out / stem
    golden.mkdir()
    cases = {}
    for case, (seed, batch) in CASES.items():
        feeds = make(seed, batch)
        with torch.no_grad():
            got = module(*(torch.from_numpy(feeds[i]) for i in inputs))
        got = got if isinstance(got, tuple) else (got,)
        expected = {o: t.numpy() for o, t in zip(outputs, got)}
        runtime = dict(zip(outputs, sess.run(outputs, feeds)))
        diff = max(float(np.max(np.abs(expected[o].astype(np.float64) - runtime[o]))) for o in outputs)
        np.savez_compressed(golden / f"{case}.npz", **feeds, **expected)
        cases[case] = {"source": f"random seed {seed}, batch {batch}", "onnxruntime_python_max_abs_diff": diff}
    manifest = {
        "format": GOLDEN_FORMAT,
        "version": 1,
        "model": {"file": f"../{stem}.onnx", "sha256": hashlib.sha256(model_path.read_bytes()).hexdigest()},
        "inputs": {vi.name: declared(vi) for vi in proto.graph.input},
        "outputs": {vi.name: declared(vi) for vi in proto.graph.output},
        "tolerance": {o: tolerance for o in outputs},
        "provenance": dict(versions, exporter=exporter, model=name, weights="torch default init, seed 0"),
        "cases": cases,
    }
    (golden / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    worst = max(c["onnxruntime_python_max_abs_diff"] for c in cases.values())
    scale = max(float(np.max(np.abs(v))) for v in expected.values())
    print(f"{stem}: {len(proto.graph.node)} nodes, max |output| {scale:.3g}, max |pytorch - onnxruntime-python| {worst:.3g}")


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
