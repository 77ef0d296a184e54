"""``verify``: a module's exports checked against PyTorch on every backend in one call, and each
failure localised to the node and the PyTorch module where it starts."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import _commands as engine
from .._native import ParityError
from ._cases import Case, as_call, normalise, random_cases, resized
from ._export import EXPORTERS, Exports, dynamic_axes, export
from ._record import record
from ._verification import Row, Verification

#: Seeded random cases ``verify`` adds to the example by default.
RANDOM_CASES = 3


def verify(
    module: Any,
    args: Any,
    out: str | os.PathLike | None = None,
    *,
    kwargs: Mapping[str, Any] | None = None,
    exporters: Sequence[str] = EXPORTERS,
    backends: Sequence[str] | None = None,
    atol: float = 1e-4,
    rtol: float = 1e-3,
    cases: Any = None,
    localize: bool = True,
    dynamic: str | Mapping[str, Any] | None = None,
    opset: int | None = None,
) -> Verification:
    """Exports ``module``, records PyTorch's outputs (and intermediates), checks every export on
    every backend, and localises each failure against PyTorch's intermediates.

    Args:
        module: the ``torch.nn.Module``.
        args: the example input: a tensor or a tuple of them.
        out: the directory to keep everything in (``<variant>.onnx``, ``golden/<variant>/``);
            default a temporary directory, removed before returning.
        kwargs: keyword tensors of the forward.
        exporters: which of ``"legacy"`` and ``"dynamo"`` to run.
        backends: the backends to check on (default: all four).
        atol, rtol: the tolerance of every output, and of a node's error when localising.
        cases: the cases (see ``record``); default the example, 3 seeded random cases like it,
            and per dynamic axis one case one longer on that axis, so that what a trace bakes in
            from the example (a constant, one branch) fails instead of passing.
        localize: localise each failing export x backend against PyTorch's intermediates.
        dynamic: the dynamic axes of the export (see ``export``).
        opset: the ONNX opset (default: each exporter's own).

    Returns:
        Verification: ``.passed``, ``.table()``, ``.rows`` and the files written.

    Raises:
        ParityError: bad arguments, or cases that do not fit the module.
    """
    kwargs = dict(kwargs or {})
    keep = out is not None
    root = Path(out) if keep else Path(tempfile.mkdtemp(prefix="ssrnet-parity-verify-"))
    try:
        exports = export(module, args, root, kwargs=kwargs, exporters=exporters, dynamic=dynamic, opset=opset)
        example = Case("example", *_call(args, kwargs), source="the example")
        chosen = _default_cases(example, exports, dynamic) if cases is None else normalise(cases)
        rows, files = [], {variant: str(path) for variant, path in exports}
        for variant, path in exports:
            golden = root / "golden" / variant
            try:
                _record(module, golden, path, chosen, localize, atol, rtol)
            except ParityError as exc:
                rows += [Row(variant, b, "error", error=f"record: {exc}") for b in _backends(backends)]
                continue
            files[f"golden/{variant}"] = str(golden)
            rows += check_rows(path, golden, backends, atol, rtol, localize)
        return Verification(rows, exports, [c.name for c in chosen], root if keep else None, files if keep else {})
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def _record(module, golden: Path, model: Path, cases: list[Case], intermediates: bool, atol: float, rtol: float) -> None:
    """PyTorch's golden set of ``model``; without intermediates when onnxruntime cannot run the
    export to map them (the check then says why on every backend)."""
    tolerance = {"atol": atol, "rtol": rtol}
    try:
        record(module, golden, model=model, cases=cases, intermediates=intermediates, tolerance=tolerance)
    except ParityError:
        if not intermediates:
            raise
        record(module, golden, model=model, cases=cases, intermediates=False, tolerance=tolerance)


def _call(args: Any, kwargs: dict[str, Any]) -> tuple[tuple, dict[str, Any]]:
    positional, named = as_call(args)
    return positional, {**named, **kwargs}


def _default_cases(example: Case, exports: Exports, dynamic) -> list[Case]:
    """The example, seeded random cases like it, and one per dynamic axis one longer on it."""
    call = example.args if not example.kwargs else {**dict(zip(exports.input_names, example.args)), **example.kwargs}
    cases = [example, *random_cases(call, RANDOM_CASES)]
    axes = dynamic_axes(dynamic, exports.input_names, exports.output_names)
    if axes:
        cases += resized(call, axes, exports.input_names)
    return cases


def _backends(backends: Sequence[str] | None) -> list[str]:
    return list(backends) if backends else ["ort", "tract", "candle", "rten"]


def check_rows(model: Path, golden: Path, backends, atol: float, rtol: float, localize: bool,
               against: Path | None = None) -> list[Row]:
    """One row per backend: ``model`` checked against ``golden``, its verdict and largest error,
    each failure localised (against PyTorch's intermediates; where they name values of another
    export, against the export ``against``)."""
    report = engine.check(model, golden, backends=backends, atol=atol, rtol=rtol).to_dict()
    refused = [s["name"] for s in report["backends"] if s["verdict"] in ("skipped", "error")]
    support = {s["backend"]: s for s in engine.inspect(model, backends=refused).get("backends", [])} if refused else {}
    rows = []
    for side in report["backends"]:
        row = Row(model.stem, side["name"], side["verdict"], max_abs(side), error=side.get("error"))
        unsupported = support.get(side["name"], {}).get("unsupported_ops") or []
        if side["verdict"] in ("skipped", "error") and unsupported:
            row.verdict, row.error = f"unsupported: {', '.join(unsupported)}", side.get("error") or side.get("skipped")
        elif side["verdict"] == "skipped":
            row.verdict, row.error = _refusal(side.get("skipped") or ""), side.get("skipped")
        if row.verdict == "fail" and localize:
            _localize(row, model, golden, side, against)
        rows.append(row)
    return rows


def _localize(row: Row, model: Path, golden: Path, side: dict[str, Any], against: Path | None) -> None:
    """The culprit of ``row``'s failure, on its first failing case."""
    case = (side.get("failed_cases") or [None])[0]
    tol = (side.get("outputs") or [{}])[0].get("tolerance", {})
    options = dict(golden=golden, backends=[row.backend], case=case, atol=tol.get("atol", 1e-4), rtol=tol.get("rtol", 0.0))
    try:
        report = engine.localize(model, **options).to_dict()
    except ParityError as exc:
        if against is None:
            row.error = f"localize: {exc}"
            return
        try:
            report = engine.localize(model, against=against, **options).to_dict()
        except ParityError as again:
            row.error = f"localize: {again}"
            return
    row.localized = report.get("verdict")
    row.culprit = report.get("culprit") or report.get("crossing")


def _refusal(message: str) -> str:
    """A runtime's refusal to load the export as the row's verdict: ``unsupported: <what it cannot
    run>`` (``ReduceMean '/ReduceMean': non-constant axes input ...``), else ``skipped: <why>``."""
    _, found, what = message.partition("cannot load: ")
    return f"unsupported: {what}" if found else f"skipped: {message}"


def max_abs(side: dict[str, Any]) -> float | None:
    """The largest absolute error over a report side's outputs (None when nothing was compared)."""
    errors = [o["max_abs"] for o in side.get("outputs", []) if isinstance(o.get("max_abs"), (int, float))]
    return max(errors) if errors else None
