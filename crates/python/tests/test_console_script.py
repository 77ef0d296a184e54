"""The `ssrnet-parity` console script of the wheel: the cargo binary's output and exit codes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import GOLDEN, MODEL, REPO, cli


def script() -> Path:
    path = Path(sys.executable).parent / "ssrnet-parity"
    assert path.is_file(), "the wheel installs the ssrnet-parity console script beside the interpreter"
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--backend", "ort,tract", "--format", "json"],
        ["check", "--backend", "rten", "--atol", "1e-9"],
        ["compare", "--model", str(MODEL), "--random", "3", "--backend", "tract", "--format", "markdown"],
        ["inspect", str(MODEL), "--format", "json"],
        ["check", "--golden", "/no/such/golden"],
        ["check", "--backend", "onnx-mlir"],
        ["--version"],
        ["diff", str(MODEL)],
    ],
)
def test_console_script_prints_and_exits_as_the_binary(args: list[str]) -> None:
    expected = cli(*args)
    got = subprocess.run([script(), *args], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert (got.returncode, got.stdout, got.stderr) == (expected.returncode, expected.stdout, expected.stderr)


def test_console_script_is_on_path_of_the_venv() -> None:
    assert shutil.which("ssrnet-parity", path=str(Path(sys.executable).parent)) == str(script())
