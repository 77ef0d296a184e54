"""The committed demo models: onnx.checker, io contract, metadata, and agreement with PyTorch in onnxruntime."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from conftest import IMAGES, MODELS

import ssrnet

STATIC = ["ssrnet_legacy_static.onnx", "ssrnet_legacy_static_sim.onnx", "ssrnet_dynamo_static.onnx", "ssrnet_dynamo_static_sim.onnx"]
DYNAMIC = [
    "ssrnet_legacy_dynamic.onnx",
    "ssrnet_legacy_dynamic_sim.onnx",
    "ssrnet_dynamo_dynamic.onnx",
    "ssrnet_dynamo_dynamic_sim.onnx",
    "ssrnet_dynamo_dynamic_external.onnx",
]
ALL = STATIC + DYNAMIC
ATOL = 1e-4  # the golden tolerance for `age` (manifest.json)
BATCH1_IMAGES = ["astronaut_face.png", "camera_gray_q90.jpg", "tiny_1x1.png", "exif_orientation_6.jpg", "odd_37x53.png"]


def session(path):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def dims(value_info):
    return [d.dim_param if d.HasField("dim_param") else d.dim_value for d in value_info.type.tensor_type.shape.dim]


def test_the_model_set_is_complete():
    names = {p.name for p in MODELS.iterdir()}
    assert set(ALL) | {"ssrnet_dynamo_dynamic_external.onnx.data"} == names


@pytest.mark.parametrize("name", ALL)
def test_model_passes_checker_and_has_the_io_contract(name):
    path = MODELS / name
    onnx.checker.check_model(str(path))
    model = onnx.load(str(path), load_external_data=False)
    inits = {t.name for t in model.graph.initializer}
    ins = [i for i in model.graph.input if i.name not in inits]
    assert [i.name for i in ins] == ["input"] and [o.name for o in model.graph.output] == ["age"]
    assert ins[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert model.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    di, do = dims(ins[0]), dims(model.graph.output[0])
    if name in STATIC:
        assert di == [1, 3, 64, 64] and do == [1]
    else:
        assert di == ["N", 3, 64, 64] and do == ["N"]


@pytest.mark.parametrize("name", ALL)
def test_model_metadata_records_demo_weights_and_exporter(name):
    import torch

    model = onnx.load(str(MODELS / name), load_external_data=False)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["weights"] == "demo" and meta["weights_source"] == "demo seed 0"
    assert "demo weights" in meta["weights_note"]
    assert meta["torch_version"] == torch.__version__
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    assert meta["opset"] == str(opset)
    if "legacy" in name:
        assert opset == 11 and "dynamo=False" in meta["exporter"]
    else:
        assert "dynamo=True" in meta["exporter"]
    assert ("simplifier" in meta) == name.endswith("_sim.onnx")


def test_external_data_form_keeps_its_weights_outside():
    model = onnx.load(str(MODELS / "ssrnet_dynamo_dynamic_external.onnx"), load_external_data=False)
    external = [t for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    assert external, "no initializer stored as external data"
    locations = {e.value for t in external for e in t.external_data if e.key == "location"}
    assert locations == {"ssrnet_dynamo_dynamic_external.onnx.data"}


@pytest.fixture(scope="module")
def batch1_inputs():
    xs = [ssrnet.preprocess_file(IMAGES / n)[0] for n in BATCH1_IMAGES]
    xs.append(np.random.default_rng(99).standard_normal((1, 3, 64, 64)).astype(np.float32))
    return xs


@pytest.mark.parametrize("name", ALL)
def test_model_agrees_with_pytorch_at_batch_1(name, demo_model, batch1_inputs):
    sess = session(MODELS / name)
    for x in batch1_inputs:
        want = ssrnet.run(demo_model, x)
        got = sess.run(["age"], {"input": x})[0]
        assert got.shape == (1,) and got.dtype == np.float32
        assert np.max(np.abs(got - want)) <= ATOL, (name, got, want)


@pytest.mark.parametrize("name", DYNAMIC)
def test_dynamic_model_agrees_with_pytorch_at_batch_8(name, demo_model, batch1_inputs):
    x = np.concatenate(batch1_inputs + [np.random.default_rng(98).standard_normal((2, 3, 64, 64)).astype(np.float32)])
    assert x.shape[0] == 8
    want = ssrnet.run(demo_model, x)
    got = session(MODELS / name).run(["age"], {"input": x})[0]
    assert got.shape == (8,)
    assert np.max(np.abs(got - want)) <= ATOL, (name, got - want)
