"""The committed golden set: format, exact cv2 preprocessing, ONNX test-data copy, and regeneration."""

from __future__ import annotations

import hashlib
import json
import os

import cv2
import numpy as np
import onnx
import pytest
from conftest import GOLDEN, GOLDEN_PB, IMAGES, MODELS
from onnx import TensorProto, numpy_helper

MEAN_BGR = np.array([0.485, 0.456, 0.406], dtype=np.float32)  # ARCHITECTURE.md, stored (B, G, R) order
STD_BGR = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def cv2_preprocess(path):
    """ARCHITECTURE.md's OpenCV path, written out here independently of scripts/ssrnet.py."""
    bgr = cv2.imread(str(path))
    assert bgr is not None, path
    resized = cv2.resize(bgr, (64, 64), interpolation=cv2.INTER_LINEAR)
    x = (resized.astype(np.float32) / np.float32(255.0) - MEAN_BGR) / STD_BGR
    return x.transpose(2, 0, 1)[None], resized[None]


@pytest.fixture(scope="module")
def manifest():
    return json.loads((GOLDEN / "manifest.json").read_text())


def load(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def test_manifest_has_the_contract_keys(manifest):
    assert {"format", "version", "model", "tolerance", "preprocess", "provenance", "cases"} <= manifest.keys()
    assert manifest["format"] == "ssrnet-parity-golden" and manifest["version"] == 1
    assert manifest["tolerance"] == {"age": {"atol": 1e-4, "rtol": 0.0}}
    prov = manifest["provenance"]
    assert {"torch", "onnx", "onnxruntime", "opencv", "numpy", "exporter", "opset", "weights"} <= prov.keys()
    assert prov["weights"] == "demo" and prov["weights_source"] == "demo seed 0"
    assert manifest["preprocess"]["mean"] == MEAN_BGR.tolist() or np.allclose(manifest["preprocess"]["mean"], MEAN_BGR)


def test_manifest_model_sha256_matches_the_committed_model(manifest):
    path = (GOLDEN / manifest["model"]["file"]).resolve()
    assert path == (MODELS / "ssrnet_legacy_dynamic.onnx").resolve()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == manifest["model"]["sha256"]


def test_every_fixture_image_has_a_case_and_every_case_a_file(manifest):
    stems = sorted(p.stem for p in IMAGES.iterdir())
    assert len(stems) == len(set(stems)), "fixture image stems must be unique"
    image_cases = sorted(c for c, m in manifest["cases"].items() if "image" in m)
    assert image_cases == stems
    for case, meta in manifest["cases"].items():
        if "image" in meta:
            assert (GOLDEN / meta["image"]).resolve().parent == IMAGES.resolve()
            assert (GOLDEN / meta["image"]).resolve().stem == case
    npz = sorted(p.stem for p in GOLDEN.glob("*.npz"))
    assert npz == sorted(manifest["cases"])
    assert {f"random_normal_s{s}" for s in (0, 1, 2)} <= set(npz)
    assert sum(1 for m in manifest["cases"].values() if m["batch"] == 8) == 1


def test_arrays_have_the_documented_names_dtypes_and_shapes(manifest):
    for case, meta in manifest["cases"].items():
        arrays = load(GOLDEN / f"{case}.npz")
        n = meta["batch"]
        assert arrays["input"].dtype == np.float32 and arrays["input"].shape == (n, 3, 64, 64), case
        assert arrays["age"].dtype == np.float32 and arrays["age"].shape == (n,), case
        assert np.all(np.isfinite(arrays["age"])), case
        if "image" in meta or "images" in meta:
            r = arrays["preprocess.resized_bgr_u8"]
            assert r.dtype == np.uint8 and r.shape == (n, 64, 64, 3), case
        else:
            assert set(arrays) == {"input", "age"}, case


def test_image_inputs_equal_cv2_preprocessing_exactly(manifest):
    for case, meta in manifest["cases"].items():
        paths = [meta["image"]] if "image" in meta else meta.get("images", [])
        if not paths:
            continue
        pairs = [cv2_preprocess(GOLDEN / p) for p in paths]
        arrays = load(GOLDEN / f"{case}.npz")
        assert np.array_equal(arrays["input"], np.concatenate([x for x, _ in pairs])), case
        assert np.array_equal(arrays["preprocess.resized_bgr_u8"], np.concatenate([r for _, r in pairs])), case


def test_random_cases_are_the_documented_draws(manifest):
    for seed in (0, 1, 2):
        arrays = load(GOLDEN / f"random_normal_s{seed}.npz")
        want = np.random.default_rng(seed).standard_normal((1, 3, 64, 64)).astype(np.float32)
        assert np.array_equal(arrays["input"], want)


def test_golden_ages_are_pytorch_of_the_demo_model(manifest, demo_model):
    import ssrnet

    for case in manifest["cases"]:
        arrays = load(GOLDEN / f"{case}.npz")
        np.testing.assert_allclose(ssrnet.run(demo_model, arrays["input"]), arrays["age"], rtol=1e-6, atol=1e-6)


def test_golden_pb_holds_the_same_cases_in_sorted_order(manifest):
    cases = json.loads((GOLDEN_PB / "cases.json").read_text())
    assert [cases[str(i)] for i in range(len(cases))] == sorted(manifest["cases"])
    dirs = sorted(p.name for p in GOLDEN_PB.iterdir() if p.is_dir())
    assert dirs == sorted(f"test_data_set_{i}" for i in range(len(cases)))
    for i, case in cases.items():
        arrays = load(GOLDEN / f"{case}.npz")
        for kind, name in (("input_0.pb", "input"), ("output_0.pb", "age")):
            proto = TensorProto()
            proto.ParseFromString((GOLDEN_PB / f"test_data_set_{i}" / kind).read_bytes())
            assert proto.name == name
            assert np.array_equal(numpy_helper.to_array(proto), arrays[name]), (case, kind)


def assert_same_model(fresh_path, committed_path):
    """The same graph, metadata and initializer names, dtypes and shapes exactly; float initializers within
    1e-6 absolute plus 1e-6 relative. The exporters and onnxsim fold BatchNorm and constants into weights
    and biases with torch's and onnxruntime's CPU kernels, whose rounding differs between processors and
    kernel paths, so those bytes are not portable; everything else is. A folded bias is a difference of
    terms of order 1 (beta - mean * gamma / sqrt(var + eps)), so its rounding error is absolute, not
    relative to the result. Measured: 16 folded tensors differ by at most 2.4e-7 relative between two
    x86-64 machines; under ATEN_CPU_CAPABILITY=default the simplified legacy export's folded tensors differ
    by at most 2.85e-8 absolute (1.5e-4 relative on a bias element near zero): the bound has a 35x margin,
    while a wrong fold moves weights by orders of magnitude more."""
    fresh, committed = onnx.load(str(fresh_path)), onnx.load(str(committed_path))
    fresh_init = {t.name: numpy_helper.to_array(t) for t in fresh.graph.initializer}
    committed_init = {t.name: numpy_helper.to_array(t) for t in committed.graph.initializer}
    assert fresh_init.keys() == committed_init.keys(), committed_path
    for name, want in committed_init.items():
        got = fresh_init[name]
        assert (got.dtype, got.shape) == (want.dtype, want.shape), (committed_path, name)
        if want.dtype.kind == "f":
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=f"{committed_path}: {name}")
        else:
            assert np.array_equal(got, want), (committed_path, name)
    del fresh.graph.initializer[:]
    del committed.graph.initializer[:]
    assert fresh == committed, f"{committed_path}: graph or metadata differs"


def test_regenerating_the_demo_goldens_reproduces_the_committed_ones(demo_regen, manifest):
    """`pipeline.py all --out TMP` (fresh export + goldens) against the committed set: the same models (see
    `assert_same_model`), the same inputs exactly, ages within 1e-6 (atol and rtol)."""
    fresh = json.loads((demo_regen / "fixtures" / "golden" / "manifest.json").read_text())
    assert fresh["model"]["file"] == manifest["model"]["file"]
    for name in os.listdir(MODELS):
        if name.endswith(".onnx"):
            assert_same_model(demo_regen / "models" / name, MODELS / name)
    assert sorted(fresh["cases"]) == sorted(manifest["cases"])
    for case in manifest["cases"]:
        old = load(GOLDEN / f"{case}.npz")
        new = load(demo_regen / "fixtures" / "golden" / f"{case}.npz")
        assert old.keys() == new.keys(), case
        for key in old:
            if key == "age":
                np.testing.assert_allclose(new[key], old[key], rtol=1e-6, atol=1e-6, err_msg=case)
            else:
                assert np.array_equal(new[key], old[key]), (case, key)
    assert json.loads((demo_regen / "fixtures" / "golden_pb" / "cases.json").read_text()) == json.loads(
        (GOLDEN_PB / "cases.json").read_text()
    )
