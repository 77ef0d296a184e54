"""``verify``: a module's exports checked against PyTorch on every backend in one call, and each
failure localised to the node and the PyTorch module where it starts."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .. import _commands as engine
from .._native import ParityError
from ._cases import Case, as_call, normalise, random_cases, resized
from ._export import EXPORTERS, Exports, dynamic_axes, export_each
from ._record import Reference, record
from . import _page
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
    intermediates: bool | None = None,
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
        intermediates: record PyTorch's intermediates in every golden set (``True``), in none
            (``False``), or, by default, in the set of an export only once one of its checks
            fails, for ``localize`` (a passing export's set holds the cases and outputs alone).
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
        exports, written = export_each(module, args, root, kwargs=kwargs, exporters=exporters, dynamic=dynamic, opset=opset)
        example = Case("example", *_call(args, kwargs), source="the example")
        chosen = _default_cases(example, exports, dynamic) if cases is None else normalise(cases)
        sets = _GoldenSets(module, root / "golden", chosen, {"atol": atol, "rtol": rtol}, intermediates)
        pending = []
        # Each export is recorded as soon as it is written, then checked on a thread of its own (the
        # engine releases the GIL) while the next export is made, on one core while an exporter runs
        # beside it; PyTorch runs on this thread only.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ssrnet-parity-check") as checker:
            for variant, path in written:
                golden = sets.record(variant, path)
                spread = {} if _exporter(variant) == exporters[-1] else {"jobs": 1, "threads": 1}
                checked = checker.submit(check_rows, path, golden, backends, atol, rtol, **spread, pages=sets.pages) if golden else None
                pending.append((variant, path, checked))
            rows = [row for variant, path, checked in pending
                    for row in sets.conclude(variant, path, checked, backends, localize)]
        files = {variant: str(path) for variant, path in exports}
        files.update({f"golden/{variant}": str(golden) for variant, golden in sets.written.items()})
        return Verification(rows, exports, [c.name for c in chosen], root if keep else None, files if keep else {},
                            pages=sets.pages)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


class _GoldenSets:
    """The PyTorch golden sets of one module's exports: one PyTorch run a case serves them all,
    and intermediates are recorded where ``intermediates`` says (``None``: once a check fails)."""

    def __init__(self, module, root: Path, cases: list[Case], tolerance: dict[str, float], intermediates: bool | None):
        self.module, self.root, self.cases, self.tolerance = module, root, cases, tolerance
        self.intermediates = intermediates
        self.reference = Reference(module)
        self.written: dict[str, Path] = {}
        self.errors: dict[str, str] = {}
        #: The HTML page of each check and localize, by its section id in the verification's page.
        self.pages: dict[str, str] = {}

    def record(self, variant: str, model: Path) -> Path | None:
        """The golden set of ``model``, or None when it cannot be recorded (the error kept); without
        intermediates where onnxruntime cannot run the export to map them (the check says why)."""
        golden = self.root / variant
        options = dict(model=model, cases=self.cases, tolerance=self.tolerance, reference=self.reference)
        try:
            try:
                record(self.module, golden, intermediates=bool(self.intermediates), **options)
            except ParityError:
                if not self.intermediates:
                    raise
                record(self.module, golden, intermediates=False, **options)
        except ParityError as exc:
            self.errors[variant] = f"record: {exc}"
            return None
        self.written[variant] = golden
        return golden

    def conclude(self, variant: str, model: Path, checked: Future | None, backends, localize: bool) -> list[Row]:
        """The rows of one export: its checks, each failure localised (after recording the
        intermediates, when they were left for a failure)."""
        if checked is None:
            return [Row(variant, b, "error", error=self.errors[variant]) for b in _backends(backends)]
        rows = checked.result()
        if localize and any(row.verdict == "fail" for row in rows):
            golden = self.written[variant]
            if self.intermediates is None:
                # Left as it was when onnxruntime cannot run the export to map them (localize says why).
                with contextlib.suppress(ParityError):
                    record(self.module, golden, model=model, cases=self.cases, intermediates=True,
                           tolerance=self.tolerance, reference=self.reference)
            localize_rows(rows, model, golden, self.tolerance["atol"], self.tolerance["rtol"], pages=self.pages)
        return rows


def _exporter(variant: str) -> str:
    """The exporter that made a variant (``legacy_sim`` -> ``legacy``)."""
    return variant.split("_", 1)[0]


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


def check_rows(model: Path, golden: Path, backends, atol: float, rtol: float, jobs: int | None = None,
               threads: int | None = None, pages: dict[str, str] | None = None) -> list[Row]:
    """One row per backend: ``model`` checked against ``golden``, its verdict, largest error and
    first failing case (``jobs`` backends at once, ``threads`` each: default the engine's); the
    report's HTML page kept in ``pages``."""
    checked = engine.check(model, golden, backends=backends, atol=atol, rtol=rtol, jobs=jobs, threads=threads)
    if pages is not None and checked.html() is not None:
        pages[_page.anchor("check", model.stem)] = checked.html()
    report = checked.to_dict()
    rows = []
    for side in report["backends"]:
        first = (side.get("failed_cases") or [None])[0]
        row = Row(model.stem, side["name"], side["verdict"], max_abs(side), error=side.get("error"), case=first)
        unsupported = side.get("unsupported_ops") or []
        if unsupported:
            row.verdict, row.error = f"unsupported: {', '.join(unsupported)}", side.get("error") or side.get("skipped")
        elif side["verdict"] == "skipped":
            row.verdict, row.error = _refusal(side.get("skipped") or ""), side.get("skipped")
        rows.append(row)
    return rows


def localize_rows(rows: list[Row], model: Path, golden: Path, atol: float, rtol: float, against: Path | None = None,
                  pages: dict[str, str] | None = None) -> None:
    """The culprit of each failing row, on its first failing case: against PyTorch's intermediates
    in ``golden``, or where they name values of another export, against the export ``against``;
    each localize's HTML page kept in ``pages``."""
    for row in rows:
        if row.verdict != "fail":
            continue
        options = dict(golden=golden, backends=[row.backend], case=row.case, atol=atol, rtol=rtol)
        try:
            located = engine.localize(model, **options)
        except ParityError as exc:
            if against is None:
                row.error = f"localize: {exc}"
                continue
            try:
                located = engine.localize(model, against=against, **options)
            except ParityError as again:
                row.error = f"localize: {again}"
                continue
        if pages is not None and located.html() is not None:
            pages[_page.anchor("localize", model.stem, row.backend)] = located.html()
        report = located.to_dict()
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
