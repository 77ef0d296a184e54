"""A golden set in the repo's format (README "Golden format"), written from Python: one
``<case>.npz`` per case and ``manifest.json``, staged in a sibling directory and renamed into place,
so that an error leaves ``out`` as it was. ``out`` is replaced only when it is missing, empty, or a
golden set already (it holds ``manifest.json``)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .._native import ParityError

#: The manifest's format name and version, as the engine reads them.
FORMAT = "ssrnet-parity-golden"
VERSION = 1


def check_out(out: Path) -> None:
    """Refuses an ``out`` that is a file, or a directory of something other than a golden set."""
    if out.exists() and not out.is_dir():
        raise ParityError(f"{out}: not a directory")
    if out.is_dir() and any(out.iterdir()) and not (out / "manifest.json").is_file():
        raise ParityError(f"{out}: exists and is not a golden set (no manifest.json): not replaced")


class Staged:
    """A golden set being written: ``case`` writes one case at once, ``commit`` the manifest, and
    the set replaces ``out`` when the ``with`` block ends without an error (else nothing changes)."""

    def __init__(self, out: Path) -> None:
        check_out(out)
        self.out = out
        out.parent.mkdir(parents=True, exist_ok=True)
        self.stage = Path(tempfile.mkdtemp(prefix=f".{out.name}-stage-", dir=out.parent))

    def __enter__(self) -> Staged:
        return self

    def case(self, name: str, arrays: dict[str, np.ndarray]) -> None:
        """One case's arrays as ``<name>.npz`` (uncompressed: a model's intermediates are large,
        and zlib costs more than the rest of ``record``)."""
        np.savez(self.stage / f"{name}.npz", **arrays)

    def manifest(self, manifest: dict[str, Any]) -> None:
        (self.stage / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")

    def __exit__(self, kind, _value, _traceback) -> None:
        try:
            if kind is None:
                if self.out.exists():
                    shutil.rmtree(self.out)
                os.replace(self.stage, self.out)
        finally:
            shutil.rmtree(self.stage, ignore_errors=True)


def declared(values: list[Any], arrays: dict[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    """The manifest's ``inputs``/``outputs`` entry for the export's ``values`` (ONNX value infos):
    the dtype of one case's array, and the shape the export declares (a named axis by its name, an
    unnamed one ``?``), or the array's shape where the export declares none."""
    entry = {}
    for value in values:
        dims = value.type.tensor_type.shape.dim
        shape = [_dim(d) for d in dims] if dims else list(arrays[value.name].shape)
        entry[value.name] = {"dtype": str(arrays[value.name].dtype), "shape": shape}
    return entry


def _dim(dim: Any) -> int | str:
    if dim.HasField("dim_value"):
        return dim.dim_value
    return dim.dim_param or "?"


def model_entry(model: Path, out: Path) -> dict[str, str]:
    """The manifest's ``model``: the file relative to the golden directory, and its sha256."""
    digest = hashlib.sha256()
    with open(model, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return {"file": os.path.relpath(model.resolve(), out.resolve()), "sha256": digest.hexdigest()}
