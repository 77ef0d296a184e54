"""scripts/intermediates.py: PyTorch's module outputs mapped to the ONNX values of legacy and dynamo exports
alike; what the exporters fuse away (a Conv's output before its folded BatchNorm) is listed as unmapped with a
reason; the written golden set holds exactly the mapped values, equal to onnxruntime's within 1e-4, and its ages equal
the committed goldens' within the regeneration bound (1e-6 + 1e-6 * |age|)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import GOLDEN, MODELS, REPO, SCRIPTS

import intermediates
import ssrnet


def conv_before_batchnorm(module: torch.nn.Module) -> set[str]:
    """Qualified names of the Conv2d modules directly followed by a BatchNorm2d in their Sequential: the
    outputs an exporter folds away (independent of intermediates.py: read from the module tree)."""
    names = set()
    for parent, seq in module.named_modules():
        if isinstance(seq, torch.nn.Sequential):
            kids = list(seq.named_children())
            for (name, m), (_, nxt) in zip(kids, kids[1:]):
                if isinstance(m, torch.nn.Conv2d) and isinstance(nxt, torch.nn.BatchNorm2d):
                    names.add(f"{parent}.{name}" if parent else name)
    return names


@pytest.mark.parametrize("export", ["ssrnet_legacy_dynamic", "ssrnet_dynamo_dynamic", "ssrnet_legacy_static_sim"])
def test_every_module_output_but_the_folded_convs_is_mapped(tmp_path, export):
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / "intermediates.py"), "--model", str(MODELS / f"{export}.onnx"),
         "--cases", "chelsea,random_normal_s2", "--out", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / export
    manifest = json.loads((out / "manifest.json").read_text())
    info = manifest["intermediates"]
    module, _ = ssrnet.load_weights(None, 0)
    folded = conv_before_batchnorm(module)
    assert len(folded) == 8
    assert set(info["unmapped"]) == folded
    assert all("fused" in why for why in info["unmapped"].values())
    hooked = [n for n, _ in module.named_modules() if n]
    assert info["modules"] == len(hooked)
    assert info["fraction"] == round((len(hooked) - len(folded)) / len(hooked), 4)
    assert manifest["model"]["sha256"] and set(manifest["cases"]) == {"chelsea", "random_normal_s2"}

    # The arrays are the mapped values exactly, and onnxruntime computes them within 1e-4.
    for case in ("chelsea", "random_normal_s2"):
        data = np.load(out / f"{case}.npz")
        keys = {k[len(intermediates.PREFIX):] for k in data.files if k.startswith(intermediates.PREFIX)}
        assert keys == set(info["mapped"])
        golden = np.load(GOLDEN / f"{case}.npz")
        np.testing.assert_array_equal(data["input"], golden["input"])
        # The age is PyTorch's, computed afresh; the committed one was computed on another processor, whose
        # kernels round differently (ATEN_CPU_CAPABILITY=default moves it by 1.9e-6, one float32 ulp at age
        # 16-32). The regeneration test's bound, 1e-6 + 1e-6 * |age|, allows about 15 ulps at age 30.
        np.testing.assert_allclose(data["age"], golden["age"], rtol=1e-6, atol=1e-6)
        ort_values = intermediates.onnx_values(MODELS / f"{export}.onnx", {"input": data["input"]})
        for key in keys:
            np.testing.assert_allclose(ort_values[key], data[intermediates.PREFIX + key], rtol=0, atol=1e-4)


def test_a_value_off_by_more_than_the_bound_is_not_mapped():
    x = np.linspace(-1, 1, 64, dtype=np.float32).reshape(1, 64)
    torch_out = {"exact": x, "close": x * np.float32(1.001), "off": x * np.float32(1.05), "odd": x[:, :8]}
    mapped, unmapped = intermediates.map_outputs([torch_out], [{"v0": x, "v1": x.copy()}])
    assert mapped == {"v0": ["exact"], "v1": ["close"]}, "ties go to a value not yet taken; 1e-3 off still maps"
    assert set(unmapped) == {"off", "odd"}
    assert "shape" in unmapped["odd"] and "0.0476" in unmapped["off"]


def test_a_value_degenerate_on_one_case_maps_by_the_others():
    zeros, a, b = np.zeros((1, 3), np.float32), np.array([[1, 2, 3]], np.float32), np.array([[3, 1, 2]], np.float32)
    cases_torch = [{"relu": zeros}, {"relu": b}]
    cases_onnx = [{"first": zeros, "second": zeros}, {"first": a, "second": b}]
    mapped, unmapped = intermediates.map_outputs(cases_torch, cases_onnx)
    assert mapped == {"second": ["relu"]} and not unmapped


def test_equal_outputs_of_two_modules_keep_their_own_values():
    # Two blocks whose ReLU is dead on every case (found with the real checkpoint's stage2/stage3), each
    # container hooked after its child.
    zeros = np.zeros((1, 3), np.float32)
    cases_torch = [{"stage2.1": zeros, "stage2": zeros, "stage3.1": zeros, "stage3": zeros}]
    cases_onnx = [{"v2": zeros, "v3": zeros}]
    mapped, _ = intermediates.map_outputs(cases_torch, cases_onnx)
    assert mapped == {"v2": ["stage2.1", "stage2"], "v3": ["stage3.1", "stage3"]}
