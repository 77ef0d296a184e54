"""scripts/localize_cases.py: the perturbed Conv is the only change, and the amplify pair differs only in
the early weight; both valid for onnx's checker and onnxruntime."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from conftest import MODELS, REPO, SCRIPTS
from onnx import numpy_helper


def run(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / "localize_cases.py"), *args], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def weights(path) -> dict[str, np.ndarray]:
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}


def test_perturb_conv_scales_exactly_one_convs_weights(tmp_path):
    src = MODELS / "ssrnet_legacy_dynamic.onnx"
    dst = tmp_path / "p.onnx"
    node, value = run("perturb-conv", str(src), str(dst), "--index", "2", "--scale", "1e-3").strip().split("\t")
    model = onnx.load(str(src))
    conv = [n for n in model.graph.node if n.op_type == "Conv"][2]
    assert (node, value) == (conv.name, conv.output[0])
    before, after = weights(src), weights(dst)
    changed = [k for k in before if not np.array_equal(before[k], after[k])]
    assert changed == [conv.input[1]]
    np.testing.assert_allclose(after[conv.input[1]], before[conv.input[1]] * np.float32(1.001), rtol=1e-6)


def test_amplify_pair_differs_only_in_the_early_weight(tmp_path):
    assert run("amplify", str(tmp_path)).strip() == "early"
    ref, per = tmp_path / "amplify_reference.onnx", tmp_path / "amplify_perturbed.onnx"
    a, b = weights(ref), weights(per)
    assert [k for k in a if not np.array_equal(a[k], b[k])] == ["w1"]
    np.testing.assert_allclose(b["w1"] - a["w1"], 2e-4, atol=1e-6)
    x = {"x": np.linspace(0.1, 1.0, 16, dtype=np.float32).reshape(1, 16)}
    ya = ort.InferenceSession(str(ref)).run(None, x)[0]
    yb = ort.InferenceSession(str(per)).run(None, x)[0]
    assert np.abs(ya - yb).max() > 1.0, "the gain of 1e4 makes the early 2e-4 large"


def test_accumulate_pair_differs_by_2e5_in_every_weight(tmp_path):
    run("accumulate", str(tmp_path))
    a = weights(tmp_path / "accumulate_reference.onnx")
    b = weights(tmp_path / "accumulate_perturbed.onnx")
    assert sorted(a) == [f"w{i}" for i in range(8)]
    for k in a:
        np.testing.assert_allclose(b[k] - a[k], 2e-5, atol=1e-7)
