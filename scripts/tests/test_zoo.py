"""scripts/zoo.py: the exports load in onnxruntime, the goldens are PyTorch's, the manifests declare what
the Rust tools read, and bad arguments are one error line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from conftest import REPO, SCRIPTS

sys.path.insert(0, str(SCRIPTS))
import zoo  # noqa: E402


@pytest.fixture(scope="module")
def two_input(tmp_path_factory):
    out = tmp_path_factory.mktemp("zoo") / "out"
    zoo.main(["--out", str(out), "--only", "two_input"])
    return out


def test_two_input_exports_and_goldens(two_input):
    assert sorted(p.name for p in two_input.iterdir()) == [
        "two_input_dynamo",
        "two_input_dynamo.onnx",
        "two_input_legacy",
        "two_input_legacy.onnx",
    ]
    for exporter in ("legacy", "dynamo"):
        model = two_input / f"two_input_{exporter}.onnx"
        proto = onnx.load(str(model))
        assert [i.name for i in proto.graph.input] == ["x", "idx"]
        assert [o.name for o in proto.graph.output] == ["logits", "energy"]
        assert proto.graph.input[1].type.tensor_type.elem_type == onnx.TensorProto.INT64
        manifest = json.loads((two_input / f"two_input_{exporter}" / "manifest.json").read_text())
        assert manifest["model"]["file"] == f"../two_input_{exporter}.onnx"
        assert manifest["inputs"]["idx"] == {"dtype": "int64", "shape": ["N"]}
        assert manifest["tolerance"] == {"logits": zoo.SMALL_TOLERANCE, "energy": zoo.SMALL_TOLERANCE}
        assert sorted(manifest["cases"]) == sorted(zoo.CASES)
        sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
        for case in zoo.CASES:
            arrays = np.load(two_input / f"two_input_{exporter}" / f"{case}.npz")
            logits, energy = sess.run(["logits", "energy"], {"x": arrays["x"], "idx": arrays["idx"]})
            np.testing.assert_allclose(logits, arrays["logits"], atol=1e-5, rtol=1e-5)
            np.testing.assert_allclose(energy, arrays["energy"], atol=1e-5, rtol=1e-5)
            # The energy is the row sum of squared logits, independently of the export.
            np.testing.assert_allclose(arrays["energy"], (arrays["logits"] ** 2).sum(axis=1), rtol=1e-5)


def test_unknown_model_is_one_error_line(tmp_path):
    r = subprocess.run(
        [sys.executable, str(SCRIPTS / "zoo.py"), "--out", str(tmp_path / "z"), "--only", "vgg"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == ["error: --only: unknown model(s) vgg (known: resnet18, mobilenet_v3_small, two_input)"]
    assert not (tmp_path / "z").exists()
