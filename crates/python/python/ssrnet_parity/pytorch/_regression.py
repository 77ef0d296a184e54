"""A module's export checked against what was stored for it: the re-export against the stored
PyTorch goldens on every backend, and against the stored export itself, each failure localised
(against PyTorch's intermediates where the re-export's values carry the stored names, else
against the stored export). What the pytest plugin runs after the first run."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import _commands as engine
from .._native import ParityError
from ._export import EXPORTERS, export
from ._verification import Row, Verification
from ._verify import check_rows, localize_rows, max_abs

#: Where a stored verification keeps each export's PyTorch goldens, under its directory.
GOLDEN = "golden"


def against_stored(
    module: Any,
    args: Any,
    stored: Path,
    *,
    kwargs: Mapping[str, Any] | None = None,
    exporters: Sequence[str] = EXPORTERS,
    backends: Sequence[str] | None = None,
    atol: float = 1e-4,
    rtol: float = 1e-3,
    dynamic: str | Mapping[str, Any] | None = None,
    opset: int | None = None,
) -> Verification:
    """Exports ``module`` again and checks each re-export against ``stored`` (a directory ``verify``
    wrote): its PyTorch goldens on every backend, and the stored export on onnxruntime."""
    with tempfile.TemporaryDirectory(prefix="ssrnet-parity-reexport-") as tmp:
        exports = export(module, args, tmp, kwargs=kwargs, exporters=exporters, dynamic=dynamic, opset=opset)
        rows: list[Row] = []
        cases: list[str] = []
        pages: dict[str, str] = {}
        for variant, path in exports:
            golden, old = stored / GOLDEN / variant, stored / f"{variant}.onnx"
            if not (golden / "manifest.json").is_file() or not old.is_file():
                rows.append(Row(variant, "-", "error", error=f"nothing stored for this export under {stored}"))
                continue
            cases = cases or sorted(p.stem for p in golden.glob("*.npz"))
            checked = check_rows(path, golden, backends, atol, rtol, pages=pages)
            localize_rows(checked, path, golden, atol, rtol, against=old, pages=pages)
            rows += checked
            rows.append(_against_export(path, old, golden, variant, atol, rtol))
        return Verification(rows, exports, cases, stored, {}, pages=pages)


def _against_export(new: Path, old: Path, golden: Path, variant: str, atol: float, rtol: float) -> Row:
    """The re-export against the stored export on onnxruntime, localised when they part."""
    row = Row(f"{variant} vs stored export", "ort", "error")
    try:
        report = engine.diff(old, new, golden=golden, atol=atol, rtol=rtol).to_dict()
    except ParityError as exc:
        row.error = str(exc)
        return row
    side = report["backends"][0] if report.get("backends") else {}
    row.verdict = report.get("verdict", "error")
    row.max_abs = max_abs(side)
    if row.verdict == "fail":
        case = (side.get("failed_cases") or [None])[0]
        try:
            located = engine.localize(new, against=old, golden=golden, backends=["ort"], case=case, atol=atol).to_dict()
        except ParityError as exc:
            row.error = f"localize: {exc}"
            return row
        row.localized = located.get("verdict")
        row.culprit = located.get("culprit") or located.get("crossing")
    return row
