"""PyTorch's own intermediate values, keyed by the ONNX values they correspond to, as a golden set for
`ssrnet-parity localize --golden`: SSRNet's cases through `ssrnet_parity.pytorch.record`.

    intermediates.py --model M.onnx [--model ...] --out OUT [--checkpoint PATH | --demo-seed N]
                     [--golden DIR] [--cases NAME,...]

For each model, OUT/<model stem>/ is a golden set in the repo's format (README "Golden format"): the
cases of DIR (default: the repo's fixtures/golden) that fit the model, each `<case>.npz` holding `input`,
`age` (PyTorch) and one `intermediate.<onnx value name>` array per module output mapped to a value of
that model. Its manifest.json names the model (file, sha256), keeps DIR's case sources and tolerance, and
adds `record`'s `intermediates` section:

    {"mapped": {value: [module, ...]}, "unmapped": {module: reason}, "classes": {module: class},
     "by_scope": {...}, "modules": N, "fraction": f, "mapped_on": [case, ...], "method": ...}

The mapping is `ssrnet_parity.pytorch.record`'s (README "Your own model"): forward hooks record every
sub-module's output, onnxruntime runs the export with every node output exposed, and a module output
maps to the value of the same shape whose numbers are nearest over the first cases, if that distance is
at most 1e-2; what the exporter fuses away (a Conv's output before a BatchNorm folded into it) is listed
in `unmapped` with the reason."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pipeline  # noqa: E402
import ssrnet  # noqa: E402

#: The prefix of an intermediate array's name in a case (the engine's `localize` reads it).
PREFIX = "intermediate."


def fixed_batch(model_path: Path) -> int | None:
    """The batch a static export takes (its input's fixed axis 0), or None for a dynamic one."""
    import onnx

    dims = onnx.load(str(model_path), load_external_data=False).graph.input[0].type.tensor_type.shape.dim
    return dims[0].dim_value if dims and dims[0].HasField("dim_value") else None


def write_set(out: Path, model_path: Path, module, prov: dict, golden: Path, cases: list[str]) -> dict:
    """OUT (written by `record`, staged and moved into place): the golden set of `model_path`."""
    import torch
    from ssrnet_parity.pytorch import Case, record

    manifest = json.loads((golden / "manifest.json").read_text())
    inputs = {c: np.load(golden / f"{c}.npz")["input"] for c in cases}
    batch = fixed_batch(model_path)
    usable = [c for c in cases if batch is None or inputs[c].shape[0] == batch]
    if not usable:
        pipeline.die(f"model {model_path}: none of the cases {cases} fits its input shape")
    calls = [Case(c, (torch.from_numpy(inputs[c]),), source=_source(manifest["cases"][c], golden, out)) for c in usable]
    provenance = {
        **pipeline.versions(),
        "weights": prov["weights"],
        "weights_source": prov["weights_source"],
        "generator": "scripts/intermediates.py (ssrnet_parity.pytorch.record)",
    }
    record(module, out, model=model_path, cases=calls, tolerance=manifest.get("tolerance"), provenance=provenance)
    return json.loads((out / "manifest.json").read_text())["intermediates"]

def _source(entry: dict, golden: Path, out: Path) -> str:
    """Where a case of `golden` came from, as `out`'s manifest says it: its image (relative to `out`)
    or the golden set's words."""
    if "image" not in entry:
        return entry.get("source", "")
    return "image " + os.path.relpath((golden / entry["image"]).resolve(), out.resolve())


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
    try:
        import ssrnet_parity.pytorch  # noqa: F401
    except ImportError as exc:
        pipeline.die(f"cannot import ssrnet_parity.pytorch ({exc}): install the package's wheel into this "
                     "interpreter (tools/wheel, then pip install target/wheels/ssrnet_parity-*.whl)")
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
