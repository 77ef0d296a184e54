"""The package's functions: each is a subcommand of the command line, run inside the extension with
the same checks, messages and JSON document (``Report.to_dict()``), plus ``run`` and
``check_arrays``, which take numpy arrays and no files."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Union

from . import _native
from ._report import Report

if TYPE_CHECKING:
    import numpy as np

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


def _run(argv: list[str]) -> tuple[dict[str, Any] | None, int, str | None, str | None, str | None]:
    """The command line ``argv`` run inside the extension; its warnings become ``ParityWarning``.
    Returns the JSON document, the exit code, the error line and the report in Markdown and HTML."""
    document, code, warned, error, markdown, html = _native.document(argv)
    for line in warned:
        warnings.warn(line, ParityWarning, stacklevel=3)
    return (json.loads(document) if document is not None else None), code, error, markdown, html


def _report(argv: list[str]) -> Report:
    document, code, error, markdown, html = _run(argv)
    return Report(argv[0], document or {}, code, error, markdown, html)


def check(
    model: PathLike | None = None,
    golden: PathLike | None = None,
    *,
    backends: Sequence[str] | str | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    output_tol: OutputTol | None = None,
    nan_equal: bool = False,
    batch: int | str = 1,
    jobs: int | None = None,
    threads: int | None = None,
    profile: str | None = None,
    shard: str | None = None,
) -> Report:
    """``ssrnet-parity check``: every case of a golden set on every chosen backend.

    Args:
        model: the ONNX model (default: the model the golden set's manifest names).
        golden: the golden set: npz files with manifest.json, or the ONNX test-data layout
            (default: the committed demo goldens, fixtures/golden).
        backends: backend names (``ort``, ``tract``, ``candle``, ``rten``): a list, or one
            comma-separated string. Default: all four; one of them that cannot load the model
            is then skipped, not an error.
        atol: absolute tolerance of every output (default: the golden set's, else 1e-4).
        rtol: relative tolerance of every output (default: the golden set's, else 0).
        output_tol: per-output tolerances, ``{name: atol}`` or ``{name: (atol, rtol)}``; they win
            over ``atol`` and ``rtol``.
        nan_equal: count NaN against NaN as equal (NaN against a number always fails).
        batch: cases per inference call where the model's batch axis is dynamic (1: each alone;
            ``"auto"``: 8 where a batched call stays within tolerance of batch-1 runs).
        jobs: workers at once, each running a chunk of cases on one backend instance
            (default: one per core, or the cores divided by ``threads``).
        threads: intra-op threads of each backend instance (default: one when several workers
            run, else the backend's own choice).
        profile: ``"auto"`` (default), ``"ssrnet"`` or ``"plain"``: the model family's profile.
        shard: ``"K/N"`` runs part K of N of the cases and keeps each case's report for
            ``merge``; ``"auto"`` takes K and N from a Slurm array or Kubernetes Indexed Job.

    Returns:
        Report: ``to_dict()`` is ``check --format json``'s document; verdict pass, fail or error.

    Raises:
        ParityError: a bad file or argument, with the command line's one-line message.
    """
    argv = ["check", "--format", "json"]
    _flag(argv, "model", model)
    _flag(argv, "golden", golden)
    _names(argv, "backend", backends)
    _tolerances(argv, atol, rtol, output_tol, nan_equal)
    _scale(argv, batch, jobs, threads, shard)
    _flag(argv, "profile", profile)
    return _report(argv)


def _scale(argv: list[str], batch: int | str, jobs: int | None, threads: int | None, shard: str | None) -> None:
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
    batch: int | str = 1,
    jobs: int | None = None,
    threads: int | None = None,
    profile: str | None = None,
    skip_unreadable: bool = False,
    shard: str | None = None,
) -> Report:
    """``ssrnet-parity compare``: backends against a reference backend on the same inputs.

    Give at most one source of inputs: ``golden``, ``inputs``, ``tensors`` or ``random``
    (default: 8 random cases from seed 0).

    Args:
        model: the ONNX model.
        golden: the inputs of this golden set's cases.
        inputs: images, decoded and resized exactly as cv2: a directory, a glob pattern or
            ``@LIST``.
        tensors: tensor files, one case each: ``.npz`` holding every input by name, or ``.npy``
            for a model with one input; one path or a list.
        random: this many seeded random batch-1 cases (at most 100,000; floats standard-normal,
            integers from {0, 1}, fair bools).
        seed: the seed of the first random case (case i uses seed + i; default 0).
        reference: the backend whose outputs the others are compared with (default ``ort``).
        backends: backend names (``ort``, ``tract``, ``candle``, ``rten``): a list, or one
            comma-separated string. Default: all four; one of them that cannot load the model
            is then skipped, not an error.
        atol: absolute tolerance of every output (default: the golden set's, else 1e-4).
        rtol: relative tolerance of every output (default: the golden set's, else 0).
        output_tol: per-output tolerances, ``{name: atol}`` or ``{name: (atol, rtol)}``; they win
            over ``atol`` and ``rtol``.
        nan_equal: count NaN against NaN as equal (NaN against a number always fails).
        batch: cases per inference call where the model's batch axis is dynamic (1: each alone;
            ``"auto"``: 8 where a batched call stays within tolerance of batch-1 runs).
        jobs: workers at once, each running a chunk of cases on one backend instance
            (default: one per core, or the cores divided by ``threads``).
        threads: intra-op threads of each backend instance (default: one when several workers
            run, else the backend's own choice).
        profile: ``"auto"`` (default), ``"ssrnet"`` or ``"plain"``: the model family's profile.
        skip_unreadable: go on past images that cannot be read (each is still named).
        shard: ``"K/N"`` runs part K of N of the cases and keeps each case's report for
            ``merge``; ``"auto"`` takes K and N from a Slurm array or Kubernetes Indexed Job.

    Returns:
        Report: ``to_dict()`` is ``compare --format json``'s document.

    Raises:
        ParityError: a bad file or argument, with the command line's one-line message.
    """
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
    """``ssrnet-parity diff``: the same inputs through an old and a new export on one backend.

    Args:
        old: the earlier export.
        new: the re-export, run on the same inputs.
        golden: the inputs of this golden set's cases.
        inputs: images, decoded and resized exactly as cv2: a directory, a glob pattern or
            ``@LIST``.
        tensors: tensor files, one case each: ``.npz`` holding every input by name, or ``.npy``
            for a model with one input; one path or a list.
        random: this many seeded random batch-1 cases (at most 100,000; floats standard-normal,
            integers from {0, 1}, fair bools).
        seed: the seed of the first random case (case i uses seed + i; default 0).
        backend: the backend both exports run on (default ``ort``).
        atol: absolute tolerance of every output (default: the golden set's, else 1e-4).
        rtol: relative tolerance of every output (default: the golden set's, else 0).
        output_tol: per-output tolerances, ``{name: atol}`` or ``{name: (atol, rtol)}``; they win
            over ``atol`` and ``rtol``.
        nan_equal: count NaN against NaN as equal (NaN against a number always fails).
        output_map: ``{old output: new output}`` where names differ (default: by name, then
            by position).
        input_map: ``{old input: new input}`` where names differ.
        threads: intra-op threads of each backend (default: the backend's own choice).
        profile: ``"auto"`` (default), ``"ssrnet"`` or ``"plain"``: the model family's profile.

    Returns:
        Report: ``to_dict()`` is ``diff --format json``'s document.

    Raises:
        ParityError: a bad file or argument, with the command line's one-line message.
    """
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
    """``ssrnet-parity localize``: the first node where two runs part.

    Args:
        model: the ONNX model.
        against: a second export of the same model: localize export against export on each
            backend, instead of backend against reference.
        golden: the inputs of this golden set's cases.
        inputs: images, decoded and resized exactly as cv2: a directory, a glob pattern or
            ``@LIST``.
        tensors: tensor files, one case each: ``.npz`` holding every input by name, or ``.npy``
            for a model with one input; one path or a list.
        random: this many seeded random batch-1 cases (at most 100,000; floats standard-normal,
            integers from {0, 1}, fair bools).
        seed: the seed of the first random case (case i uses seed + i; default 0).
        backends: the backends to run (default: all, or all but the reference without
            ``against``; those that cannot run the model are skipped).
        reference: the backend whose outputs the others are compared with (default ``ort``).
        atol: absolute tolerance of a node's error (default 1e-4).
        rtol: relative tolerance of a node's error (default 0).
        case: the case to localize (default: the first).
        repro: a directory (that must not exist) to write the culprit node into as
            ``model.onnx`` plus ``test_data_set_0``.
        top: how many of the worst nodes the text report lists per run (default 5).
        threads: intra-op threads of each backend (default: the backend's own choice).
        jobs: backends run at once (default: all of them on a machine with more than one core).
        profile: ``"auto"`` (default), ``"ssrnet"`` or ``"plain"``: the model family's profile.

    Returns:
        Report: verdict ``none``, ``culprit``, ``accumulation`` or ``error``; ``to_dict()`` is
        ``localize --format json``'s document (its ``timing`` in seconds differs run to run).

    Raises:
        ParityError: a bad file or argument, with the command line's one-line message.
    """
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
    batch: int | str = 1,
    profile: str | None = None,
    allow_nonfinite: bool = False,
) -> str:
    """``ssrnet-parity record``: writes a golden set computed by a trusted backend.

    Args:
        model: the ONNX model.
        out: the directory to write the golden set into (refused when it holds anything else).
        golden: the inputs of this golden set's cases.
        inputs: images, decoded and resized exactly as cv2: a directory, a glob pattern or
            ``@LIST``.
        tensors: tensor files, one case each: ``.npz`` holding every input by name, or ``.npy``
            for a model with one input; one path or a list.
        random: this many seeded random batch-1 cases (at most 100,000; floats standard-normal,
            integers from {0, 1}, fair bools).
        seed: the seed of the first random case (case i uses seed + i; default 0).
        backend: the trusted backend that computes the expected outputs (default ``ort``).
        threads: intra-op threads of each backend (default: the backend's own choice).
        batch: cases per inference call where the model's batch axis is dynamic (1: each alone;
            ``"auto"``: 8 where a batched call stays within tolerance of batch-1 runs).
        profile: ``"auto"`` (default), ``"ssrnet"`` or ``"plain"``: the model family's profile.
        allow_nonfinite: record NaN and infinite outputs instead of refusing them.

    Returns:
        str: the golden set's directory, ``out``.

    Raises:
        ParityError: a bad file or argument, with the command line's one-line message.
    """
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
    """``ssrnet-parity inspect``: what a model declares and which backends can run it.

    Args:
        model: the ONNX model.
        backends: the backends to ask about op support (default: all).

    Returns:
        dict: ``inspect --format json``'s document.

    Raises:
        ParityError: a bad file or argument, with the command line's one-line message.
    """
    argv = ["inspect", "--format", "json"]
    _names(argv, "backend", backends)
    argv += ["--", os.fspath(model)]
    document, *_ = _run(argv)
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
    """``ssrnet-parity predict``: the age of each face crop.

    Args:
        paths: face crops: image files, directories or glob patterns (one or a list).
        model: the age model (default: the committed demo model, which carries demo weights).
        backend: the backend to run (default ``ort``).
        batch: images per inference call (default 8).
        jobs: inference sessions running batches at once.
        threads: intra-op threads of each backend (default: the backend's own choice).
        skip_unreadable: go on past images that cannot be read (each is still named).

    Returns:
        list[dict]: one ``{image, age, interval}`` per image, as ``predict --format json``.

    Raises:
        ParityError: a bad file or argument, with the command line's one-line message.
    """
    argv = ["predict", "--format", "json", f"--backend={backend}", f"--batch={batch}"]
    _flag(argv, "model", model)
    _flag(argv, "jobs", jobs)
    _flag(argv, "threads", threads)
    _flag(argv, "skip-unreadable", skip_unreadable)
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    argv += ["--", *(os.fspath(p) for p in items)]
    document, *_ = _run(argv)
    return list(document or [])


def merge(paths: Sequence[PathLike]) -> Report:
    """``ssrnet-parity merge``: the JSON reports of a run's shards folded into one report.

    Args:
        paths: the shards' JSON reports (``check(..., shard="K/N").to_dict()`` written as
            JSON, or the command line's ``--shard K/N --format json``), all N of them.

    Returns:
        Report: the report one run over every case would have given.

    Raises:
        ParityError: a bad file or argument, with the command line's one-line message.
    """
    argv = ["merge", "--format", "json", "--", *(os.fspath(p) for p in paths)]
    return _report(argv)


def run(
    model: PathLike,
    feeds: Mapping[str, Any],
    *,
    backend: str = "ort",
    threads: int | None = None,
) -> dict[str, np.ndarray]:
    """One backend run once on numpy feeds.

    Args:
        model: the ONNX model.
        feeds: ``{input name: array}``; numpy arrays of float16, float32, float64, int64, int32,
            uint8 or bool (anything else ``numpy.asarray`` takes is converted first). A
            C-contiguous array is read where it lies, without a copy; another thread must not write
            into it during the call.
        backend: the backend to run (default ``ort``).
        threads: intra-op threads of each backend (default: the backend's own choice).

    Returns:
        dict[str, numpy.ndarray]: ``{output name: array}``, each array made without a copy.

    Raises:
        ParityError: a bad file or argument, with the command line's one-line message.
    """
    import numpy as np  # only here, in values and in check_arrays: the other functions start without it

    arrays = {name: np.asarray(value) for name, value in feeds.items()}
    return _native.run(os.fspath(model), arrays, backend, threads)


def values(
    model: PathLike,
    cases: Sequence[Mapping[str, Any]],
    *,
    backend: str = "ort",
    threads: int | None = None,
) -> list[dict[str, np.ndarray]]:
    """Every value the model computes, on one backend for each case of numpy feeds: each node's
    outputs, as ``localize`` reads them (onnxruntime and tract run the graph with every value
    exposed as an output, as Polygraphy's "mark all" does; RTen reads them natively). The model
    is prepared once for all the cases.

    Args:
        model: the ONNX model.
        cases: ``[{input name: array}]``, each as ``run`` takes its feeds.
        backend: the backend to run (default ``ort``).
        threads: intra-op threads of the backend (default: the backend's own choice).

    Returns:
        list[dict[str, numpy.ndarray]]: per case, ``{value name: array}`` for every node output.

    Raises:
        ParityError: a bad file or argument, with the command line's one-line message.
    """
    import numpy as np

    arrays = [{name: np.asarray(value) for name, value in case.items()} for case in cases]
    return _native.values(os.fspath(model), arrays, backend, threads)


def check_arrays(
    model: PathLike,
    cases: Sequence[Mapping[str, Any]],
    expected: Sequence[Mapping[str, Any]],
    *,
    backends: Sequence[str] | str | None = None,
    atol: float | None = None,
    rtol: float | None = None,
) -> Report:
    """A check whose goldens are arrays in memory: no files but the model.

    ``cases[i]`` must give ``expected[i]`` on each backend.

    Args:
        model: the ONNX model.
        cases: one ``{input name: array}`` per case.
        expected: one ``{output name: array}`` per case: what the model must give.
        backends: as in ``check`` (default: all, those that cannot load skipped).
        atol: absolute tolerance (default 1e-4).
        rtol: relative tolerance (default 0).

    Returns:
        Report: as ``check``'s, the cases named ``case_0000``, ``case_0001``, ... in order.

    Raises:
        ParityError: a bad file or argument, with the command line's one-line message.
    """
    import numpy as np

    names = [backends] if isinstance(backends, str) else (list(backends) if backends is not None else None)
    inputs = [{k: np.asarray(v) for k, v in case.items()} for case in cases]
    outputs = [{k: np.asarray(v) for k, v in case.items()} for case in expected]
    document, code, markdown, html = _native.check_arrays(os.fspath(model), inputs, outputs, names, atol, rtol)
    return Report("check", json.loads(document), code, markdown=markdown, html=html)
