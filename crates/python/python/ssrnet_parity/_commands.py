"""The package's functions: each is a subcommand of the command line, run inside the extension with
the same checks, messages and JSON document (``Report.to_dict()``), plus ``run`` and
``check_arrays``, which take numpy arrays and no files."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Union

import numpy as np

from . import _native
from ._report import Report

PathLike = Union[str, "os.PathLike[str]"]
#: Per-output tolerance: ``{name: atol}`` or ``{name: (atol, rtol)}``.
OutputTol = Mapping[str, Union[float, Sequence[float]]]


class ParityWarning(UserWarning):
    """What the command line prints as ``warning:`` at the end of a run."""


def _flag(argv: list[str], name: str, value: Any) -> None:
    """``--name=value`` when value is given (``True`` alone for switches); one token, so that a
    value starting with ``-`` is read as the value, as on the command line."""
    if value is None or value is False:
        return
    if value is True:
        argv.append(f"--{name}")
        return
    argv.append(f"--{name}={os.fspath(value) if isinstance(value, os.PathLike) else value}")


def _names(argv: list[str], name: str, names: str | Iterable[str] | None) -> None:
    """``--name a,b`` from a list (or one name)."""
    if names is None:
        return
    joined = names if isinstance(names, str) else ",".join(names)
    argv.append(f"--{name}={joined}")


def _source(argv: list[str], golden: Any, inputs: Any, tensors: Any, random: Any, seed: int) -> None:
    """Where a run's cases come from: a golden set, images, tensor files or seeded random inputs."""
    _flag(argv, "golden", golden)
    _flag(argv, "inputs", inputs)
    if tensors is not None:
        files = [tensors] if isinstance(tensors, (str, os.PathLike)) else tensors
        argv += [f"--tensors={os.fspath(t)}" for t in files]
    _flag(argv, "random", random)
    if seed:
        argv.append(f"--seed={seed}")


def _tolerances(argv: list[str], atol: Any, rtol: Any, output_tol: OutputTol | None, nan_equal: bool) -> None:
    _flag(argv, "atol", atol)
    _flag(argv, "rtol", rtol)
    for name, tol in (output_tol or {}).items():
        parts = [tol] if isinstance(tol, (int, float)) else list(tol)
        argv.append("--output-tol=" + ":".join([name, *(repr(float(p)) for p in parts)]))
    _flag(argv, "nan-equal", nan_equal)


def _maps(argv: list[str], name: str, pairs: Mapping[str, str] | None) -> None:
    for old, new in (pairs or {}).items():
        argv.append(f"--{name}={old}={new}")


def _run(argv: list[str]) -> tuple[dict[str, Any] | None, int, str | None]:
    """The command line ``argv`` run inside the extension; its warnings become ``ParityWarning``."""
    document, code, warned, error = _native.document(argv)
    for line in warned:
        warnings.warn(line, ParityWarning, stacklevel=3)
    return (json.loads(document) if document is not None else None), code, error


def _report(argv: list[str]) -> Report:
    document, code, error = _run(argv)
    return Report(argv[0], document or {}, code, error)


def check(
    model: PathLike | None = None,
    golden: PathLike | None = None,
    *,
    backends: Sequence[str] | str | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    output_tol: OutputTol | None = None,
    nan_equal: bool = False,
    batch: int = 1,
    jobs: int | None = None,
    threads: int | None = None,
    profile: str | None = None,
    shard: str | None = None,
) -> Report:
    """``ssrnet-parity check``: every case of a golden set on every chosen backend."""
    argv = ["check", "--format", "json"]
    _flag(argv, "model", model)
    _flag(argv, "golden", golden)
    _names(argv, "backend", backends)
    _tolerances(argv, atol, rtol, output_tol, nan_equal)
    _scale(argv, batch, jobs, threads, shard)
    _flag(argv, "profile", profile)
    return _report(argv)


def _scale(argv: list[str], batch: int, jobs: int | None, threads: int | None, shard: str | None) -> None:
    if batch != 1:
        argv.append(f"--batch={batch}")
    _flag(argv, "jobs", jobs)
    _flag(argv, "threads", threads)
    _flag(argv, "shard", shard)


def compare(
    model: PathLike,
    *,
    golden: PathLike | None = None,
    inputs: PathLike | None = None,
    tensors: PathLike | Sequence[PathLike] | None = None,
    random: int | None = None,
    seed: int = 0,
    reference: str = "ort",
    backends: Sequence[str] | str | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    output_tol: OutputTol | None = None,
    nan_equal: bool = False,
    batch: int = 1,
    jobs: int | None = None,
    threads: int | None = None,
    profile: str | None = None,
    skip_unreadable: bool = False,
    shard: str | None = None,
) -> Report:
    """``ssrnet-parity compare``: backends against a reference backend on the same inputs."""
    argv = ["compare", "--format", "json", f"--model={os.fspath(model)}", f"--reference={reference}"]
    _source(argv, golden, inputs, tensors, random, seed)
    _flag(argv, "skip-unreadable", skip_unreadable)
    _names(argv, "backend", backends)
    _tolerances(argv, atol, rtol, output_tol, nan_equal)
    _scale(argv, batch, jobs, threads, shard)
    _flag(argv, "profile", profile)
    return _report(argv)


def diff(
    old: PathLike,
    new: PathLike,
    *,
    golden: PathLike | None = None,
    inputs: PathLike | None = None,
    tensors: PathLike | Sequence[PathLike] | None = None,
    random: int | None = None,
    seed: int = 0,
    backend: str = "ort",
    atol: float | None = None,
    rtol: float | None = None,
    output_tol: OutputTol | None = None,
    nan_equal: bool = False,
    output_map: Mapping[str, str] | None = None,
    input_map: Mapping[str, str] | None = None,
    threads: int | None = None,
    profile: str | None = None,
) -> Report:
    """``ssrnet-parity diff``: the same inputs through an old and a new export on one backend."""
    argv = ["diff", "--format", "json", f"--backend={backend}"]
    _source(argv, golden, inputs, tensors, random, seed)
    _tolerances(argv, atol, rtol, output_tol, nan_equal)
    _maps(argv, "output-map", output_map)
    _maps(argv, "input-map", input_map)
    _flag(argv, "threads", threads)
    _flag(argv, "profile", profile)
    argv += ["--", os.fspath(old), os.fspath(new)]
    return _report(argv)


def localize(
    model: PathLike,
    *,
    against: PathLike | None = None,
    golden: PathLike | None = None,
    inputs: PathLike | None = None,
    tensors: PathLike | Sequence[PathLike] | None = None,
    random: int | None = None,
    seed: int = 0,
    backends: Sequence[str] | str | None = None,
    reference: str = "ort",
    atol: float = 1e-4,
    rtol: float = 0.0,
    case: str | None = None,
    repro: PathLike | None = None,
    top: int = 5,
    threads: int | None = None,
    jobs: int | None = None,
    profile: str | None = None,
) -> Report:
    """``ssrnet-parity localize``: the first node where two runs part."""
    argv = ["localize", "--format", "json", f"--model={os.fspath(model)}", f"--reference={reference}"]
    _flag(argv, "against", against)
    _source(argv, golden, inputs, tensors, random, seed)
    _names(argv, "backend", backends)
    argv += [f"--atol={float(atol)!r}", f"--rtol={float(rtol)!r}", f"--top={top}"]
    _flag(argv, "case", case)
    _flag(argv, "repro", repro)
    _flag(argv, "threads", threads)
    _flag(argv, "jobs", jobs)
    _flag(argv, "profile", profile)
    return _report(argv)


def record(
    model: PathLike,
    out: PathLike,
    *,
    golden: PathLike | None = None,
    inputs: PathLike | None = None,
    tensors: PathLike | Sequence[PathLike] | None = None,
    random: int | None = None,
    seed: int = 0,
    backend: str = "ort",
    threads: int | None = None,
    batch: int = 1,
    profile: str | None = None,
    allow_nonfinite: bool = False,
) -> str:
    """``ssrnet-parity record``: writes a golden set from a trusted backend; returns its directory."""
    argv = ["record", f"--model={os.fspath(model)}", f"--out={os.fspath(out)}", f"--backend={backend}"]
    _source(argv, golden, inputs, tensors, random, seed)
    _flag(argv, "threads", threads)
    if batch != 1:
        argv.append(f"--batch={batch}")
    _flag(argv, "profile", profile)
    _flag(argv, "allow-nonfinite", allow_nonfinite)
    _run(argv)
    return os.fspath(out)


def inspect(model: PathLike, *, backends: Sequence[str] | str | None = None) -> dict[str, Any]:
    """``ssrnet-parity inspect``: what a model declares and which backends can run it."""
    argv = ["inspect", "--format", "json"]
    _names(argv, "backend", backends)
    argv += ["--", os.fspath(model)]
    document, _, _ = _run(argv)
    return document or {}


def predict(
    paths: PathLike | Sequence[PathLike],
    *,
    model: PathLike | None = None,
    backend: str = "ort",
    batch: int = 8,
    jobs: int | None = None,
    threads: int | None = None,
    skip_unreadable: bool = False,
) -> list[dict[str, Any]]:
    """``ssrnet-parity predict``: the age of each face crop, one dict per image."""
    argv = ["predict", "--format", "json", f"--backend={backend}", f"--batch={batch}"]
    _flag(argv, "model", model)
    _flag(argv, "jobs", jobs)
    _flag(argv, "threads", threads)
    _flag(argv, "skip-unreadable", skip_unreadable)
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    argv += ["--", *(os.fspath(p) for p in items)]
    document, _, _ = _run(argv)
    return list(document or [])


def merge(paths: Sequence[PathLike]) -> Report:
    """``ssrnet-parity merge``: the JSON reports of a run's shards folded into one report."""
    argv = ["merge", "--format", "json", "--", *(os.fspath(p) for p in paths)]
    return _report(argv)


def run(
    model: PathLike,
    feeds: Mapping[str, Any],
    *,
    backend: str = "ort",
    threads: int | None = None,
) -> dict[str, np.ndarray]:
    """One backend run once on numpy ``feeds`` (``{input name: array}``); returns ``{output name:
    array}``. Arrays of float32, float64, int64, int32, uint8 and bool are taken as they are."""
    arrays = {name: np.asarray(value) for name, value in feeds.items()}
    return _native.run(os.fspath(model), arrays, backend, threads)


def check_arrays(
    model: PathLike,
    cases: Sequence[Mapping[str, Any]],
    expected: Sequence[Mapping[str, Any]],
    *,
    backends: Sequence[str] | str | None = None,
    atol: float | None = None,
    rtol: float | None = None,
) -> Report:
    """A check whose goldens are arrays: ``cases[i]`` (``{input name: array}``) must give
    ``expected[i]`` (``{output name: array}``) on each backend. The cases are named
    ``case_0000``, ``case_0001``, ... in the report."""
    names = [backends] if isinstance(backends, str) else (list(backends) if backends is not None else None)
    inputs = [{k: np.asarray(v) for k, v in case.items()} for case in cases]
    outputs = [{k: np.asarray(v) for k, v in case.items()} for case in expected]
    document, code = _native.check_arrays(os.fspath(model), inputs, outputs, names, atol, rtol)
    return Report("check", json.loads(document), code)
