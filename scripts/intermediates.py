"""PyTorch's own intermediate values, keyed by the ONNX values they correspond to, as a golden set for
`ssrnet-parity localize --golden`.

    intermediates.py --model M.onnx [--model ...] --out OUT [--checkpoint PATH | --demo-seed N]
                     [--golden DIR] [--cases NAME,...]

For each model, OUT/<model stem>/ is a golden set in the repo's format (README "Golden format"): the
cases of DIR (default: the repo's fixtures/golden), each `<case>.npz` holding `input`, `age` (PyTorch)
and one `intermediate.<onnx value name>` array per module output that was mapped to a value of that model.
Its manifest.json names the model (file, sha256) and adds an `intermediates` section:

    {"mapped": {value: [module, ...]}, "unmapped": {module: reason}, "modules": N, "fraction": f,
     "mapped_on": case, "method": ...}

Mapping (the same for every exporter; names are not used, so legacy scope names, dynamo's, or a
simplifier's renaming all work alike): forward hooks record every sub-module's output; the ONNX model
is run by onnxruntime with every node output exposed; a module output maps to the value of the same
shape whose numbers are nearest (relative L2 distance; on a tie, the value of one of its own
sub-modules, else the first value in graph order not taken yet), if that distance is at most 1e-2. The bound tells apart what an exporter keeps from what it fuses away (a Conv's output
before a BatchNorm folded into it differs by far more) while a parity error of the size `localize`
hunts (1e-3 and below) still maps. A module output with no such value is listed in `unmapped` with the
reason. Mapping uses every chosen case that fits the model at once (`mapped_on`): the distance is taken over
all of them together, so a value that is degenerate on one input (a ReLU output that is all zeros) cannot be
mapped to the wrong twin.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pipeline  # noqa: E402
import ssrnet  # noqa: E402

PREFIX = "intermediate."
MAP_BOUND = 1e-2
METHOD = (
    "forward hooks on every sub-module; each output mapped to the onnxruntime value of the same shape "
    f"with the nearest numbers (relative L2 <= {MAP_BOUND:g}); on a tie its sub-module's, else the first not taken"
)


def module_outputs(module, inputs: list[np.ndarray]) -> tuple[dict[str, np.ndarray], list[str]]:
    """Every sub-module's tensor output on `inputs` (float32 numpy, by qualified name, in call order),
    and the names of sub-modules whose output is not one tensor. A module called twice keeps its
    first output."""
    import torch

    seen: dict[str, np.ndarray] = {}
    skipped: list[str] = []
    hooks = []

    def hook(name):
        def record(_module, _args, output):
            if name in seen or name in skipped:
                return
            if isinstance(output, torch.Tensor) and output.dtype.is_floating_point:
                seen[name] = output.detach().to(torch.float32).numpy().copy()
            else:
                skipped.append(name)

        return record

    for name, sub in module.named_modules():
        if name:
            hooks.append(sub.register_forward_hook(hook(name)))
    try:
        with torch.no_grad():
            module(*[torch.from_numpy(np.ascontiguousarray(x)) for x in inputs])
    finally:
        for h in hooks:
            h.remove()
    return seen, skipped


def onnx_values(model_path: Path, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every node output of the model on `feed`, by onnxruntime (CPU, 1 thread), in graph order."""
    import onnx
    import onnxruntime as ort

    proto = onnx.load(str(model_path))
    inferred = onnx.shape_inference.infer_shapes(proto)
    typed = {vi.name: vi for vi in list(inferred.graph.value_info) + list(inferred.graph.output)}
    names = [o for n in proto.graph.node for o in n.output if o]
    declared = {o.name for o in proto.graph.output}
    for name in names:
        if name not in declared:
            proto.graph.output.append(typed.get(name) or onnx.ValueInfoProto(name=name))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(proto.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    got = sess.run(names, feed)
    return dict(zip(names, got))


def relative_l2(xs: list[np.ndarray], ys: list[np.ndarray]) -> float:
    """|x - y| / |x| over the pairs of arrays taken together (L2 norms)."""
    norm = sum(float(np.sum(x.astype(np.float64) ** 2)) for x in xs) ** 0.5
    diff = sum(float(np.sum((x.astype(np.float64) - y.astype(np.float64)) ** 2)) for x, y in zip(xs, ys)) ** 0.5
    if not np.isfinite(diff):
        return float("inf")
    return diff / norm if norm > 0 else (0.0 if diff == 0 else float("inf"))


def map_outputs(torch_out: list[dict[str, np.ndarray]], values: list[dict[str, np.ndarray]]) -> tuple[dict, dict]:
    """({value: [module, ...]}, {module: reason}): each module output to its nearest ONNX value over the
    cases (`torch_out[i]` and `values[i]` are the module outputs and the ONNX values of case i)."""
    mapped: dict[str, list[str]] = {}
    unmapped: dict[str, str] = {}
    floats = [n for n, v in values[0].items() if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    for module, out in torch_out[0].items():
        same_shape = [n for n in floats if values[0][n].shape == out.shape]
        if not same_shape:
            unmapped[module] = f"no value of the graph has its shape {list(out.shape)}"
            continue
        mine = [t[module] for t in torch_out]
        distances = [(n, relative_l2(mine, [v[n] for v in values])) for n in same_shape]
        dist = min(d for _, d in distances)
        # Values tied at the nearest (equal on every case: a dead layer, an identity copy): a container
        # takes its own sub-module's (hooks fire children first), else the first value not taken yet, so
        # two modules with equal outputs keep their own values.
        tied = [n for n, d in distances if d == dist]
        own = [n for n in tied if any(m.startswith(module + ".") for m in mapped.get(n, []))]
        best = next(iter(own), None) or next((n for n in tied if n not in mapped), tied[0])
        if dist <= MAP_BOUND:
            mapped.setdefault(best, []).append(module)
        else:
            unmapped[module] = (
                f"no value of the graph holds it (nearest of shape {list(out.shape)}, '{best}', differs by "
                f"{dist:.3g} relative L2): the exporter computed it inside a fused node (e.g. a BatchNorm "
                "folded into the Conv before it) or not at all"
            )
    return mapped, unmapped


def fits(model_path: Path, x: np.ndarray) -> bool:
    import onnx

    dims = onnx.load(str(model_path), load_external_data=False).graph.input[0].type.tensor_type.shape.dim
    return not (dims and dims[0].HasField("dim_value") and dims[0].dim_value != x.shape[0])


def write_set(out: Path, model_path: Path, module, prov: dict, golden: Path, cases: list[str]) -> dict:
    """OUT (staged in a sibling temp dir, then moved into place): the golden set of `model_path`."""
    manifest = json.loads((golden / "manifest.json").read_text())
    arrays = {c: dict(np.load(golden / f"{c}.npz")) for c in cases}
    usable = [c for c in cases if fits(model_path, arrays[c]["input"])]
    if not usable:
        pipeline.die(f"model {model_path}: none of the cases {cases} fits its input shape")
    runs = [module_outputs(module, [arrays[c]["input"]]) for c in usable]
    torch_out = [outs for outs, _ in runs]
    skipped = runs[0][1]
    values = [onnx_values(model_path, {"input": arrays[c]["input"]}) for c in usable]
    mapped, unmapped = map_outputs(torch_out, values)
    for name in skipped:
        unmapped[name] = "its output is not one floating-point tensor"
    by_module = {m: v for v, ms in mapped.items() for m in ms}
    total = len(torch_out[0]) + len(skipped)

    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".intermediates-stage-", dir=out.parent))
    try:
        for case, outs in zip(usable, torch_out):
            x = arrays[case]["input"]
            extra = {PREFIX + by_module[m]: outs[m] for m in outs if m in by_module}
            age = ssrnet.run(module, x)
            np.savez_compressed(stage / f"{case}.npz", input=x, age=age, **extra)
        manifest["model"] = {
            "file": os.path.relpath(model_path.resolve(), out.resolve()),
            "sha256": pipeline.sha256_bytes(model_path.read_bytes()),
        }
        manifest["cases"] = {c: manifest["cases"][c] for c in usable}
        manifest["provenance"] = dict(
            manifest.get("provenance", {}),
            **pipeline.versions(),
            weights=prov["weights"],
            weights_source=prov["weights_source"],
            generator="scripts/intermediates.py",
        )
        manifest["intermediates"] = {
            "mapped": mapped,
            "unmapped": unmapped,
            "modules": total,
            "fraction": round(len(by_module) / total, 4) if total else 0.0,
            "mapped_on": usable,
            "method": METHOD,
        }
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if out.exists():
            shutil.rmtree(out)
        os.replace(stage, out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return manifest["intermediates"]


def main(argv: list[str] | None = None) -> int:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, action="append", required=True, help="an ONNX export (repeatable)")
    ap.add_argument("--out", required=True, help="writes OUT/<model stem>/ per model")
    w = ap.add_mutually_exclusive_group()
    w.add_argument("--checkpoint", type=Path, help="a .pth: bare state_dict or a dict holding `state_dict`")
    w.add_argument("--demo-seed", type=int, default=0, help="deterministic demo weights (default 0)")
    ap.add_argument("--golden", type=Path, default=pipeline.REPO / "fixtures" / "golden", help="cases to use")
    ap.add_argument("--cases", help="comma-separated case names (default: every case of --golden)")
    args = ap.parse_args(argv)
    args.command = "intermediates"

    torch.set_num_threads(1)
    out = pipeline.resolve_out(args)
    if not (args.golden / "manifest.json").is_file():
        pipeline.die(f"golden {args.golden}: no manifest.json")
    manifest = json.loads((args.golden / "manifest.json").read_text())
    cases = args.cases.split(",") if args.cases else list(manifest["cases"])
    unknown = [c for c in cases if c not in manifest["cases"]]
    if unknown:
        pipeline.die(f"golden {args.golden}: no case named {', '.join(unknown)}")
    module, prov = ssrnet.load_weights(args.checkpoint, args.demo_seed)
    for model_path in args.model:
        if not model_path.is_file():
            pipeline.die(f"model {model_path}: not a file")
        info = write_set(out / model_path.stem, model_path, module, prov, args.golden, cases)
        mapped = sum(len(ms) for ms in info["mapped"].values())
        print(
            f"{model_path.name}: {mapped} of {info['modules']} module outputs mapped to {len(info['mapped'])} "
            f"values ({100 * info['fraction']:.0f}%), written to {out / model_path.stem}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
