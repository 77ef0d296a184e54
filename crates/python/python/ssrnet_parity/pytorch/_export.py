"""``export``: a module's ONNX files, one per exporter, each checked and carrying its provenance.

One exporter failing (an aten op it cannot export, say) does not stop the others: the failure is
kept with torch's message. Files are written whole or not at all (a temporary file renamed into
place)."""

from __future__ import annotations

import contextlib
import inspect
import io
import os
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._native import ParityError
from . import _provenance

#: The exporters ``export`` knows: torch.onnx.export with ``dynamo=False`` (TorchScript) and ``True``.
EXPORTERS = ("legacy", "dynamo")

#: The name every dynamic axis gets.
DYNAMIC_AXIS = "N"


@dataclass
class Exports:
    """What ``export`` wrote: one ONNX file per variant (``legacy``, ``dynamo``, and with the
    options ``<exporter>_sim`` and ``<exporter>_external``), and why any variant could not be made."""

    files: dict[str, Path] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    input_names: list[str] = field(default_factory=list)
    output_names: list[str] = field(default_factory=list)

    def __getitem__(self, variant: str) -> Path:
        return self.files[variant]

    def __iter__(self):
        return iter(self.files.items())

    def to_dict(self) -> dict[str, Any]:
        """The files (as strings), the failures, and the input and output names."""
        return {
            "files": {k: str(v) for k, v in self.files.items()},
            "failures": dict(self.failures),
            "input_names": list(self.input_names),
            "output_names": list(self.output_names),
        }


def export(
    module: Any,
    args: Any,
    out: str | os.PathLike,
    *,
    kwargs: Mapping[str, Any] | None = None,
    exporters: Sequence[str] = EXPORTERS,
    opset: int | None = None,
    dynamic: str | Mapping[str, Any] | None = None,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    simplify: bool = False,
    external_data: bool = False,
) -> Exports:
    """Exports ``module`` on ``args`` with each exporter into the directory ``out``.

    Args:
        module: the ``torch.nn.Module`` (exported in eval mode).
        args: the example input: a tensor or a tuple of them (the forward's positional arguments).
        out: the directory to write into (made if missing); each variant is ``<out>/<variant>.onnx``.
        kwargs: keyword arguments of the forward, tensors, exported as inputs after ``args``.
        exporters: which of ``"legacy"`` and ``"dynamo"`` to run.
        opset: the ONNX opset (default: each exporter's own).
        dynamic: ``None`` (every axis fixed), ``"batch"`` (axis 0 of every input and output), or
            ``{input or output name: axes}`` with axes a list of axis numbers or ``{axis: name}``;
            a name may be a ``torch.export.Dim`` (its name with bounds, for the dynamo exporter's
            ``dynamic_shapes``; inputs then given positionally).
        input_names: the ONNX inputs' names (default: the forward's parameter names).
        output_names: the ONNX outputs' names (default: ``output_0``, ``output_1``, ... over the
            flattened outputs).
        simplify: also write ``<exporter>_sim.onnx`` through onnxsim.
        external_data: also write ``<exporter>_external.onnx`` with its weights in
            ``<exporter>_external.onnx.data``.

    Returns:
        ``Exports``: the files written and the failures, by variant.

    Raises:
        ParityError: an unknown exporter, a bad ``dynamic``, or names that do not fit the module.
    """
    done, steps = export_each(module, args, out, kwargs=kwargs, exporters=exporters, opset=opset, dynamic=dynamic,
                              input_names=input_names, output_names=output_names, simplify=simplify,
                              external_data=external_data)
    for _ in steps:
        pass
    return done


def export_each(module: Any, args: Any, out: str | os.PathLike, *, kwargs: Mapping[str, Any] | None = None,
                exporters: Sequence[str] = EXPORTERS, opset: int | None = None,
                dynamic: str | Mapping[str, Any] | None = None, input_names: Sequence[str] | None = None,
                output_names: Sequence[str] | None = None, simplify: bool = False,
                external_data: bool = False) -> tuple[Exports, Iterator[tuple[str, Path]]]:
    """``export`` one exporter at a time, so that a caller can use one export while the next is
    made: the ``Exports`` it fills (its names set at once, after the arguments are checked), and
    an iterator that runs the exporters in turn, yielding each variant as its file is written."""
    import torch

    unknown = sorted(set(exporters) - set(EXPORTERS))
    if unknown:
        raise ParityError(f"unknown exporter(s) {', '.join(unknown)} (known: {', '.join(EXPORTERS)})")
    args = args if isinstance(args, tuple) else (args,)
    kwargs = dict(kwargs or {})
    module.eval()
    with torch.no_grad():
        outputs = module(*args, **kwargs)
    flat_outputs = torch.utils._pytree.tree_leaves(outputs)
    names = _Names.of(module, args, kwargs, len(flat_outputs), input_names, output_names)
    axes = dynamic_axes(dynamic, names.inputs, names.outputs)
    if kwargs and _has_dim(axes):
        raise ParityError("torch.export.Dim axes need the inputs given as positional args, not kwargs")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    done = Exports(input_names=names.inputs, output_names=names.outputs)
    provenance = {
        "torch_version": torch.__version__,
        "module_class": _provenance.module_class(module),
        "state_dict_sha256": _provenance.state_dict_sha256(module),
    }

    def steps() -> Iterator[tuple[str, Path]]:
        for exporter in exporters:
            try:
                proto = _run_exporter(exporter, module, args, kwargs, names, axes, opset)
            except Exception as exc:  # noqa: BLE001 - any exporter failure is recorded, the others go on
                done.failures[exporter] = _first_line(exc)
                continue
            _provenance.set_metadata(proto, {**provenance, "exporter": exporter, "opset": str(_opset(proto))})
            before = set(done.files)
            _write_variants(proto, exporter, out, done, simplify, external_data)
            yield from ((variant, path) for variant, path in done.files.items() if variant not in before)

    return done, steps()


@dataclass
class _Names:
    inputs: list[str]
    outputs: list[str]

    @staticmethod
    def of(module, args, kwargs, n_outputs, input_names, output_names) -> _Names:
        n_inputs = len(args) + len(kwargs)
        if input_names is None:
            params = [p for p in inspect.signature(module.forward).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            input_names = [p.name for p in params[: len(args)]] + list(kwargs)
            if len(input_names) != n_inputs:
                input_names = [f"input_{i}" for i in range(n_inputs)]
        if output_names is None:
            output_names = [f"output_{i}" for i in range(n_outputs)]
        if len(input_names) != n_inputs:
            raise ParityError(f"input_names names {len(input_names)} inputs; the module takes {n_inputs}")
        if len(output_names) != n_outputs:
            raise ParityError(f"output_names names {len(output_names)} outputs; the module gives {n_outputs}")
        return _Names(list(input_names), list(output_names))


def dynamic_axes(dynamic, inputs: list[str], outputs: list[str]) -> dict[str, dict[int, str]] | None:
    """``dynamic`` as the legacy exporter's ``dynamic_axes`` (the dynamo exporter converts it):
    ``{input or output name: {axis: symbol}}``."""
    if dynamic is None:
        return None
    if dynamic == "batch":
        return {name: {0: DYNAMIC_AXIS} for name in inputs + outputs}
    if not isinstance(dynamic, Mapping):
        raise ParityError(f"dynamic must be None, 'batch' or {{input name: axes}}, not {dynamic!r}")
    axes: dict[str, dict[int, str]] = {}
    for name, given in dynamic.items():
        if name not in inputs + outputs:
            raise ParityError(f"dynamic names '{name}', which is not an input or output ({', '.join(inputs)})")
        given = given if isinstance(given, Mapping) else {int(a): f"{name}_{a}" for a in given}
        axes[name] = {int(a): n if _is_dim(n) else str(n) for a, n in given.items()}
    return axes


def _is_dim(axis: Any) -> bool:
    """Whether ``axis`` is a ``torch.export.Dim`` (a name with bounds) rather than a name."""
    import torch

    return isinstance(axis, torch.export.Dim)


def _has_dim(axes) -> bool:
    return bool(axes) and any(_is_dim(n) for given in axes.values() for n in given.values())


def _dynamo_shapes(axes, names: _Names) -> dict[str, Any]:
    """The dynamo exporter's dynamic-axes argument: ``dynamic_axes`` (torch makes each named axis
    ``Dim.DYNAMIC``), or, where ``torch.export.Dim`` axes are given, ``dynamic_shapes`` (one entry per
    positional input; a named axis there is ``Dim.DYNAMIC``)."""
    import torch

    if not _has_dim(axes):
        return {"dynamic_axes": axes}
    dynamic = torch.export.Dim.DYNAMIC
    return {"dynamic_shapes": tuple(
        {a: n if _is_dim(n) else dynamic for a, n in axes[name].items()} if name in axes else None
        for name in names.inputs
    )}


def _run_exporter(exporter, module, args, kwargs, names: _Names, axes, opset):
    """One exporter's ONNX model, loaded (weights in the proto)."""
    import onnx
    import torch

    common: dict[str, Any] = dict(input_names=names.inputs, output_names=names.outputs)
    if opset is not None:
        common["opset_version"] = opset
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if exporter == "legacy":
            buffer = io.BytesIO()
            named = {n: {a: d.__name__ if _is_dim(d) else d for a, d in given.items()} for n, given in axes.items()} if axes else None
            torch.onnx.export(module, args, buffer, kwargs=kwargs or None, dynamo=False, dynamic_axes=named, **common)
            return onnx.load_from_string(buffer.getvalue())
        common.update(_dynamo_shapes(axes, names))
        program = torch.onnx.export(module, args, kwargs=kwargs or None, dynamo=True, verbose=False, **common)
        return program.model_proto


def _write_variants(proto, exporter: str, out: Path, done: Exports, simplify: bool, external: bool) -> None:
    """The exporter's file, and its simplified and external-data variants when asked."""
    _save(proto, out / f"{exporter}.onnx", done, exporter)
    if simplify:
        simplified, why = _simplified(proto)
        if simplified is None:
            done.failures[f"{exporter}_sim"] = why
        else:
            _provenance.set_metadata(simplified, {"simplified_from": f"{exporter}.onnx"})
            _save(simplified, out / f"{exporter}_sim.onnx", done, f"{exporter}_sim")
    if external:
        _save(proto, out / f"{exporter}_external.onnx", done, f"{exporter}_external", external=True)


def _simplified(proto):
    """onnxsim's simplification of ``proto``, or ``None`` and why not."""
    try:
        import onnxsim
    except ImportError:
        return None, "onnxsim is not installed (pip install onnxsim)"
    try:
        simplified, ok = onnxsim.simplify(proto)
    except Exception as exc:  # noqa: BLE001 - recorded as this variant's failure
        return None, _first_line(exc)
    return (simplified, None) if ok else (None, "onnxsim's own check of the result failed")


def _save(proto, path: Path, done: Exports, variant: str, external: bool = False) -> None:
    """Writes ``proto`` to ``path`` (with its weights beside it in ``path.data`` when ``external``)
    after onnx.checker passes it; both are written under temporary names, then renamed."""
    import onnx

    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".export-") as tmp:
        staged = Path(tmp) / path.name
        data = path.name + ".data"
        if external:
            onnx.save_model(proto, staged, save_as_external_data=True, all_tensors_to_one_file=True,
                            location=data, size_threshold=0)
        else:
            onnx.save_model(proto, staged)
        try:
            onnx.checker.check_model(str(staged), full_check=False)
        except onnx.checker.ValidationError as exc:
            done.failures[variant] = f"onnx.checker: {_first_line(exc)}"
            return
        if external:
            os.replace(Path(tmp) / data, path.parent / data)
        os.replace(staged, path)
    done.files[variant] = path


def _opset(proto) -> int | None:
    return next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
