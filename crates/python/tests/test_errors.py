"""Bad files and arguments through Python: `ParityError` (a `ValueError`) carrying the line the
command line prints after `error: `, and an interpreter that survives every hostile input class of
the Rust suite (missing, directories, empty, truncated and corrupt models, bad golden sets, special
files, control bytes, absurd values)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

import ssrnet_parity as sp

from conftest import GOLDEN, MODEL, cli, error_line


def hostile_files(root: Path) -> dict[str, Path]:
    """One file of each hostile class."""
    files = {
        "missing": root / "missing.onnx",
        "directory": root / "a_directory.onnx",
        "empty": root / "empty.onnx",
        "truncated": root / "truncated.onnx",
        "garbage": root / "garbage.onnx",
        "control bytes": root / "bad\x1b[31mname.onnx",
        "fifo": root / "fifo.onnx",
    }
    files["directory"].mkdir()
    files["empty"].write_bytes(b"")
    files["truncated"].write_bytes(MODEL.read_bytes()[: MODEL.stat().st_size // 2])
    files["garbage"].write_bytes(os.urandom(4096))
    files["control bytes"].write_bytes(b"\x08\x07not a model")
    os.mkfifo(files["fifo"])
    return files


CALLS: dict[str, tuple[Callable[[Path], object], Callable[[Path], list]]] = {
    "inspect": (lambda m: sp.inspect(m), lambda m: ["inspect", m]),
    "check": (lambda m: sp.check(m, GOLDEN, backends="tract"), lambda m: ["check", "--model", m, "--golden", GOLDEN, "--backend", "tract"]),
    "compare": (lambda m: sp.compare(m, random=1, backends="rten"), lambda m: ["compare", "--model", m, "--random", "1", "--backend", "rten"]),
    "record": (lambda m: sp.record(m, m.parent / "out", random=1), lambda m: ["record", "--model", m, "--out", m.parent / "out", "--random", "1"]),
}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("kind", ["missing", "directory", "empty", "truncated", "garbage", "control bytes", "fifo"])
def test_hostile_models_raise_the_cli_line(tmp_path: Path, call: str, kind: str) -> None:
    model = hostile_files(tmp_path)[kind]
    in_python, on_cli = CALLS[call]
    done = cli(*on_cli(model))
    assert done.returncode == 2, done.stderr
    with pytest.raises(sp.ParityError) as raised:
        in_python(model)
    assert str(raised.value) == error_line(done)
    assert isinstance(raised.value, ValueError)
    assert not (tmp_path / "out").exists()


def test_bad_golden_sets_raise_the_cli_line(tmp_path: Path) -> None:
    golden = tmp_path / "golden"
    shutil.copytree(GOLDEN, golden)
    (golden / "astronaut_face.npz").write_bytes(b"PK\x03\x04 not a zip")
    done = cli("check", "--model", MODEL, "--golden", golden, "--backend", "ort")
    with pytest.raises(sp.ParityError) as raised:
        sp.check(MODEL, golden, backends="ort")
    assert done.returncode == 2 and str(raised.value) == error_line(done)
    assert "astronaut_face.npz" in str(raised.value)


@pytest.mark.parametrize(
    "python_kwargs, cli_args",
    [
        (dict(backends=["onnx-mlir"]), ["--backend", "onnx-mlir"]),
        (dict(atol=-1.0), ["--atol=-1.0"]),
        (dict(atol=float("nan")), ["--atol", "nan"]),
        (dict(batch=0), ["--batch", "0"]),
        (dict(jobs=10**9), ["--jobs", str(10**9)]),
        (dict(threads=0), ["--threads", "0"]),
        (dict(output_tol={"no_such_output": 1e-3}), ["--output-tol", "no_such_output:0.001"]),
        (dict(shard="3/2"), ["--shard", "3/2"]),
    ],
)
def test_absurd_values_raise_the_cli_line(python_kwargs: dict, cli_args: list) -> None:
    done = cli("check", *cli_args)
    assert done.returncode == 2, done.stderr
    with pytest.raises(sp.ParityError) as raised:
        sp.check(**python_kwargs)
    assert str(raised.value) == error_line(done)


def test_no_panic_or_backtrace_reaches_the_interpreter(tmp_path: Path) -> None:
    # A fresh interpreter with backtraces asked for: every hostile model is one ParityError line,
    # and nothing else is printed.
    script = (
        "import sys, ssrnet_parity as sp\n"
        "for path in sys.argv[1:]:\n"
        "    for call in (sp.inspect, lambda m: sp.compare(m, random=1), lambda m: sp.run(m, {})):\n"
        "        try:\n"
        "            call(path)\n"
        "        except sp.ParityError:\n"
        "            pass\n"
        "print('survived')\n"
    )
    files = [str(p) for p in hostile_files(tmp_path).values()]
    env = dict(os.environ, RUST_BACKTRACE="full", RUST_LIB_BACKTRACE="1")
    done = subprocess.run([sys.executable, "-c", script, *files], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "survived\n"
    assert done.stderr == ""
