"""``record``: a golden set whose expected outputs are PyTorch's, keyed by one export's ONNX names,
with every sub-module's output mapped to the ONNX value that holds it (``localize``'s expected
intermediates, and the module it names)."""

from __future__ import annotations

import functools
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np

from .. import _native
from .._native import ParityError
from .._commands import values as onnx_values
from . import _golden, _provenance
from ._cases import Case, normalise
from ._hooks import module_outputs, to_numpy
from ._mapping import METHOD, Mapping, map_outputs

#: The prefix of an intermediate array's name in a golden case (the engine's ``localize`` reads it).
PREFIX = "intermediate."

#: How many cases the mapping of module outputs to ONNX values is taken over.
MAPPING_CASES = 4


def record(
    module: Any,
    out: str | os.PathLike,
    *,
    model: str | os.PathLike,
    cases: Any,
    intermediates: bool = True,
    tolerance: dict[str, Any] | None = None,
    limit: int | None = None,
    provenance: dict[str, str] | None = None,
    reference: Reference | None = None,
) -> str:
    """Writes the golden set of ``model`` (an export of ``module``) into ``out``: PyTorch's outputs
    (eval mode, ``no_grad``) on each case, keyed by the export's input and output names.

    Args:
        module: the ``torch.nn.Module`` the export was made from.
        out: the golden directory (replaced only when missing, empty or a golden set).
        model: the ONNX export; its inputs take the case's tensors in order (positional, then
            keyword), or by name when every input is named after one; its outputs are the module's
            outputs flattened in the exporter's order (nested tuples, lists and dicts).
        cases: the example args, a list of them, any iterable of them (a DataLoader: its first
            ``limit`` items), or ``random_cases(example, n)``.
        intermediates: also record every sub-module's output and map it to the ONNX value that
            holds it (the manifest's ``intermediates`` section; ``localize`` names the module).
        tolerance: ``{"atol": a, "rtol": r}`` for every output, or ``{output: {"atol", "rtol"}}``,
            written into the manifest.
        limit: how many items of an iterable of cases to take (default 16).
        provenance: entries added to the manifest's ``provenance`` (where the weights came from,
            say), after the ones ``record`` writes.
        reference: what the set takes from ``module`` (its output on each case, a case known by
            its name, and its state-dict digest), shared by the sets of several exports of the
            same cases so that each is computed once (``verify``); default a new
            ``Reference(module)``. The mapping's hooked runs are its own.

    Returns:
        str: ``out``.

    Raises:
        ParityError: cases that do not fit the export, or an ``out`` that is not a golden set.
    """
    import onnx
    import torch

    model, out = Path(model), Path(out)
    if not model.is_file():
        raise ParityError(f"{model}: not a file")
    try:
        proto = onnx.load(str(model), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - protobuf's and onnx's errors alike: not a model
        raise ParityError(f"{model}: not an ONNX model ({type(exc).__name__}: {exc})".splitlines()[0]) from None
    initializers = {t.name for t in proto.graph.initializer}
    input_names = [i.name for i in proto.graph.input if i.name not in initializers]
    output_names = [o.name for o in proto.graph.output]
    cases = normalise(cases, limit)
    for case in cases:
        feeds(case, input_names)  # every case fits the export before anything runs
    module.eval()
    order = [name for node in proto.graph.node for name in node.output if name]
    # The mapping cases' hooked runs serve the mapping and then their own case's arrays.
    runs = [module_outputs(module, c.args, c.kwargs) for c in cases[:MAPPING_CASES]] if intermediates else []
    mapping = _map(model, cases[:MAPPING_CASES], [hooked for hooked, _ in runs], input_names, order) if intermediates else None
    reference = reference or Reference(module)
    if reference.module is not module:
        raise ParityError("record: the reference was made for another module")
    with _golden.Staged(out) as staged:
        first: dict[str, np.ndarray] = {}
        for case in cases:
            run = runs.pop(0) if runs else None  # released once its case is written
            arrays = _case_arrays(module, reference, case, input_names, output_names, mapping, run)
            first = first or arrays
            staged.case(case.name, arrays)
        manifest = _manifest(reference, model, proto, out, cases, first, input_names, output_names, mapping, tolerance, torch)
        manifest["provenance"].update(provenance or {})
        staged.manifest(manifest)
    return str(out)


def feeds(case: Case, input_names: list[str]) -> dict[str, np.ndarray]:
    """The case's tensors as the export's feeds: by name when every input is named after one of the
    forward's keyword or positional names, else in order."""
    leaves = case.leaves()
    if len(leaves) != len(input_names):
        raise ParityError(
            f"case '{case.name}' gives {len(leaves)} tensors; the export takes {len(input_names)} inputs "
            f"({', '.join(input_names)})"
        )
    if case.kwargs and all(name in case.kwargs for name in input_names):
        return {name: to_numpy(case.kwargs[name]) for name in input_names}
    return {name: to_numpy(t) for name, t in zip(input_names, leaves)}


def flat_outputs(result: Any, output_names: list[str], case: str) -> dict[str, np.ndarray]:
    """The module's result flattened (tuples, lists, dicts, nested) by the export's output names."""
    import torch

    leaves = [t for t in torch.utils._pytree.tree_leaves(result) if isinstance(t, torch.Tensor)]
    if len(leaves) != len(output_names):
        raise ParityError(
            f"case '{case}': the module gives {len(leaves)} tensors; the export has {len(output_names)} "
            f"outputs ({', '.join(output_names)})"
        )
    return {name: to_numpy(t) for name, t in zip(output_names, leaves)}


def _map(model: Path, cases: list[Case], hooked: list[dict[str, Any]], input_names: list[str], order: list[str]) -> Mapping:
    """The mapping of module outputs (``hooked``, one dict per case) to the export's values over
    ``cases`` (onnxruntime's values, in graph ``order``)."""
    got = onnx_values(model, [feeds(c, input_names) for c in cases], backend="ort")
    scopes = {value: module for value, (module, _, _) in _native.origins(os.fspath(model)).items() if module is not None}
    return map_outputs(hooked, [{name: case[name] for name in order if name in case} for case in got], scopes)


class Reference:
    """What a golden set takes from the module, each computed once however many sets ask: its
    output on a case (eval mode, ``no_grad``) and the digest of its state_dict."""

    def __init__(self, module: Any):
        self.module = module
        self._results: dict[str, Any] = {}

    def outputs(self, case: Case) -> Any:
        """The module's result on ``case``."""
        import torch

        if case.name not in self._results:
            with torch.no_grad():
                self._results[case.name] = self.module(*case.args, **case.kwargs)
        return self._results[case.name]

    @functools.cached_property
    def state_dict_sha256(self) -> str:
        return _provenance.state_dict_sha256(self.module)


def _case_arrays(module, reference: Reference, case: Case, input_names, output_names, mapping: Mapping | None, run=None) -> dict[str, np.ndarray]:
    """One case's npz arrays: the feeds, PyTorch's outputs, and with a mapping its intermediates
    (from ``run``, the case's hooked run when the mapping made one already)."""
    arrays = feeds(case, input_names)
    if mapping is None:
        return {**arrays, **flat_outputs(reference.outputs(case), output_names, case.name)}
    hooked, result = run or module_outputs(module, case.args, case.kwargs)
    arrays.update(flat_outputs(result, output_names, case.name))
    for key, value in mapping.value_of().items():
        name = PREFIX + value
        if key in hooked and name not in arrays and value not in arrays:
            arrays[name] = hooked[key].value
    return arrays


def _manifest(reference: Reference, model, proto, out, cases, first, input_names, output_names, mapping, tolerance, torch) -> dict:
    import onnx

    meta = {p.key: p.value for p in proto.metadata_props}
    graph = proto.graph
    manifest: dict[str, Any] = {
        "format": _golden.FORMAT,
        "version": _golden.VERSION,
        "model": _golden.model_entry(model, out),
        "inputs": _golden.declared([i for i in graph.input if i.name in input_names], first),
        "outputs": _golden.declared(list(graph.output), first),
        "provenance": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "onnx": onnx.__version__,
            "numpy": np.__version__,
            "exporter": meta.get("exporter", ""),
            "opset": meta.get("opset", ""),
            "module_class": _provenance.module_class(reference.module),
            "state_dict_sha256": reference.state_dict_sha256,
            "reference": "PyTorch eval mode, no_grad, CPU",
            "generator": "ssrnet_parity.pytorch.record",
        },
        "cases": {c.name: {"source": c.source} for c in cases},
    }
    if tolerance is not None:
        manifest["tolerance"] = _tolerance(tolerance, output_names)
    if mapping is not None:
        hooked = len(mapping.classes)
        mapped = sum(len(keys) for keys in mapping.mapped.values())
        manifest["intermediates"] = {
            "mapped": mapping.mapped,
            "unmapped": mapping.unmapped,
            "classes": mapping.classes,
            "by_scope": mapping.by_scope,
            "modules": hooked,
            "fraction": round(mapped / hooked, 4) if hooked else 0.0,
            "mapped_on": [c.name for c in cases[:MAPPING_CASES]],
            "method": METHOD,
        }
    return manifest


def _tolerance(tolerance: dict[str, Any], output_names: list[str]) -> dict[str, dict[str, float]]:
    if set(tolerance) <= {"atol", "rtol"}:
        return {name: {"atol": float(tolerance.get("atol", 0.0)), "rtol": float(tolerance.get("rtol", 0.0))}
                for name in output_names}
    unknown = sorted(set(tolerance) - set(output_names))
    if unknown:
        raise ParityError(f"tolerance names {', '.join(unknown)}, not outputs of the export ({', '.join(output_names)})")
    return {name: {"atol": float(t.get("atol", 0.0)), "rtol": float(t.get("rtol", 0.0))} for name, t in tolerance.items()}
