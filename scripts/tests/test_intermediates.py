"""scripts/intermediates.py (ssrnet_parity.pytorch.record on SSRNet's cases): PyTorch's module outputs mapped
to the ONNX values of legacy and dynamo exports alike; what the exporters fuse away (a Conv's output before its folded BatchNorm) is listed as unmapped with a
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


def onnx_values(model_path, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every node output of the model on `feed`, by onnxruntime's Python API with every value made a graph
    output (independent of the engine, which `record` maps with)."""
    import onnx
    import onnxruntime as ort

    proto = onnx.load(str(model_path))
    names = [o for n in proto.graph.node for o in n.output if o]
    declared = {o.name for o in proto.graph.output}
    proto.graph.output.extend(onnx.ValueInfoProto(name=n) for n in names if n not in declared)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(proto.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return dict(zip(names, sess.run(names, feed)))


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
        ort_values = onnx_values(MODELS / f"{export}.onnx", {"input": data["input"]})
        for key in keys:
            np.testing.assert_allclose(ort_values[key], data[intermediates.PREFIX + key], rtol=0, atol=1e-4)
