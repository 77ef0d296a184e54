"""A new venv holding only numpy and the wheel runs the README's Python example."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, STRICT


def the_wheel() -> Path:
    wheels = sorted((REPO / "target" / "wheels").glob("ssrnet_parity-*-cp310-abi3-*.whl"))
    if len(wheels) != 1:
        message = f"expected one wheel in target/wheels (tools/wheel builds it), found {len(wheels)}"
        if STRICT:
            pytest.fail(message)
        pytest.skip(message)
    return wheels[0]


def readme_example() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## From Python") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_a_venv_with_numpy_and_the_wheel_runs_the_readme_example(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, f"numpy=={np.__version__}", the_wheel()], check=True, timeout=600)
    installed = subprocess.run([python, "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True, check=True)
    names = sorted(line.split("==")[0].lower() for line in installed.stdout.split())
    assert names == ["numpy", "pip", "ssrnet-parity"] or names == ["numpy", "pip", "setuptools", "ssrnet-parity"], names
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([python, "-c", readme_example()], cwd=REPO, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "True pass",
        "[('ort', 'pass'), ('tract', 'pass'), ('candle', 'pass'), ('rten', 'pass')]",
        "pass",
        "no/such/dir: golden set not found (expected a directory)",
    ]
    script = subprocess.run([env_dir / "bin" / "ssrnet-parity", "check", "--backend", "ort"], cwd=REPO, capture_output=True, text=True, env=env, timeout=600)
    assert script.returncode == 0 and "PASS" in script.stdout, script.stderr
    assert sys.prefix != str(env_dir)
