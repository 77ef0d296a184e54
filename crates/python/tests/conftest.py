"""Fixtures of the Python package's tests. They run against the installed wheel (tools/test builds
and installs it into .venv), never the source tree, and compare it with the cargo-built command
line: `SSRNET_PARITY_BIN` (tools/test sets it), else target/release/ssrnet-parity. Run from the repo root:
`.venv/bin/python -m pytest crates/python/tests -q`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import ssrnet_parity

REPO = Path(__file__).resolve().parents[3]
GOLDEN = REPO / "fixtures" / "golden"
IMAGES = REPO / "fixtures" / "images"
MODEL = REPO / "models" / "ssrnet_legacy_dynamic.onnx"
SIM = REPO / "models" / "ssrnet_legacy_dynamic_sim.onnx"
STRICT = os.environ.get("SSRNET_PARITY_STRICT") == "1"

# The package under test is the installed wheel: a source checkout on sys.path would hide it.
assert "site-packages" in ssrnet_parity.__file__, ssrnet_parity.__file__


def binary() -> Path:
    """The cargo-built command line, or skip (a failure under SSRNET_PARITY_STRICT=1)."""
    path = Path(os.environ.get("SSRNET_PARITY_BIN") or REPO / "target" / "release" / "ssrnet-parity")
    if not path.is_file():
        message = f"the cargo-built ssrnet-parity is not at {path} (build it, or set SSRNET_PARITY_BIN)"
        if STRICT:
            pytest.fail(message)
        pytest.skip(message)
    return path


def cli(*args: str | os.PathLike) -> subprocess.CompletedProcess:
    """The cargo-built command line run from the repo root."""
    return subprocess.run([binary(), *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=600)


def cli_json(*args: str | os.PathLike) -> tuple[object, int]:
    """The JSON document the command line prints with `--format json`, and its exit code."""
    done = cli(*args)
    assert done.stdout, done.stderr
    return json.loads(done.stdout), done.returncode


def error_line(done: subprocess.CompletedProcess) -> str:
    """The command line's one `error:` line, without `error: `."""
    lines = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, done.stderr
    return lines[0].removeprefix("error: ")


@pytest.fixture(autouse=True)
def _from_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Relative paths in reports read the same from Python as from the command line."""
    monkeypatch.chdir(REPO)


@pytest.fixture(scope="session")
def typed_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`write_typed_model`'s model with scale 2."""
    return write_typed_model(tmp_path_factory.mktemp("typed") / "typed.onnx", 2.0)


def write_typed_model(path: Path, scale: float) -> Path:
    """A model with one input and one output of each of float32, int64 and bool (made with onnx's
    helper): y = scale * x + 1, j = i * 3, c = not b, on any batch of 4 columns."""
    import onnx
    from onnx import TensorProto, helper

    def io(name: str, dtype: int) -> object:
        return helper.make_tensor_value_info(name, dtype, ["N", 4])

    two = helper.make_tensor("two", TensorProto.FLOAT, [], [scale])
    one = helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])
    three = helper.make_tensor("three", TensorProto.INT64, [], [3])
    nodes = [
        helper.make_node("Mul", ["x", "two"], ["x2"]),
        helper.make_node("Add", ["x2", "one"], ["y"]),
        helper.make_node("Mul", ["i", "three"], ["j"]),
        helper.make_node("Not", ["b"], ["c"]),
    ]
    graph = helper.make_graph(
        nodes,
        "typed",
        [io("x", TensorProto.FLOAT), io("i", TensorProto.INT64), io("b", TensorProto.BOOL)],
        [io("y", TensorProto.FLOAT), io("j", TensorProto.INT64), io("c", TensorProto.BOOL)],
        initializer=[two, one, three],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def write_half_model(path: Path) -> Path:
    """A float16 model, its constants in raw_data as torch writes them: g = 2 * h + 1 on any batch
    of 4 columns, computed in float16."""
    import onnx
    from onnx import TensorProto, helper

    def constant(name: str, value: float) -> object:
        data = np.array([value], dtype=np.float16).tobytes()
        return helper.make_tensor(name, TensorProto.FLOAT16, [], data, raw=True)

    def io(name: str) -> object:
        return helper.make_tensor_value_info(name, TensorProto.FLOAT16, ["N", 4])

    nodes = [helper.make_node("Mul", ["h", "two"], ["h2"]), helper.make_node("Add", ["h2", "one"], ["g"])]
    graph = helper.make_graph(nodes, "half", [io("h")], [io("g")], [constant("two", 2), constant("one", 1)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def typed_feeds(rows: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x": rng.standard_normal((rows, 4), dtype=np.float32),
        "i": rng.integers(-1000, 1000, (rows, 4), dtype=np.int64),
        "b": rng.integers(0, 2, (rows, 4)).astype(bool),
    }
