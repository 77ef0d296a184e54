"""``ssrnet_parity.pytorch.record``: PyTorch's outputs and intermediates as a golden set of a real
export, checked by the engine, and ``localize`` naming the PyTorch module of a wrong node."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

import ssrnet_parity as sp
from ssrnet_parity.pytorch import Exports, Reference, export, random_cases, record


class Block(torch.nn.Module):
    """Conv, BatchNorm (folded into the Conv by both exporters) and a ReLU called twice."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(c_in, c_out, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(c_out)
        self.relu = torch.nn.ReLU()
        self.mix = torch.nn.Conv2d(c_out, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.mix(self.relu(self.bn(self.conv(x)))))


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = torch.nn.Sequential(Block(3, 8), Block(8, 8))
        self.head = torch.nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean((2, 3)))


class Mixed(torch.nn.Module):
    """Two inputs (float32, int64) and a dict of outputs (float32, int64, bool)."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(4, 3)

    def forward(self, x: torch.Tensor, ids: torch.Tensor) -> dict[str, torch.Tensor]:
        y = self.proj(x)
        return {"y": y, "count": (ids > 0).sum(dim=1), "positive": y > 0}


def trained(module: torch.nn.Module) -> torch.nn.Module:
    """``module`` with seeded weights and BatchNorm statistics that are not the identity."""
    torch.manual_seed(0)
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            torch.nn.init.uniform_(m.weight, 0.5, 1.5)
    return module.eval()


def manifest(golden: str | Path) -> dict:
    return json.loads((Path(golden) / "manifest.json").read_text())


@pytest.mark.parametrize("exporter", ["legacy", "dynamo"])
def test_a_cnn_is_recorded_mapped_and_checked_on_every_backend(tmp_path: Path, exporter: str) -> None:
    module = trained(Net())
    x = torch.randn(2, 3, 16, 16)
    exports = export(module, (x,), tmp_path, exporters=[exporter], dynamic="batch")
    golden = record(module, tmp_path / "golden", model=exports[exporter], cases=[(x,)] + random_cases((x,), 2))
    m = manifest(golden)
    assert list(m["cases"]) == ["case_000", "random_s0", "random_s1"]
    assert m["provenance"]["exporter"] == exporter and m["provenance"]["module_class"].endswith("Net")
    with torch.no_grad():
        expected = module(x).numpy()
    np.testing.assert_array_equal(np.load(Path(golden) / "case_000.npz")["output_0"], expected)
    section = m["intermediates"]
    mapped = {key for keys in section["mapped"].values() for key in keys}
    # The ReLU called twice per block is two outputs, each mapped; the folded BatchNorm's Conv is not.
    assert {"features.0.relu", "features.0.relu#1", "features.1.relu#1", "features.0.bn", "head"} <= mapped
    assert "fused" in section["unmapped"]["features.0.conv"], section["unmapped"]
    assert section["classes"]["features.0.bn"] == "torch.nn.modules.batchnorm.BatchNorm2d"
    report = sp.check(exports[exporter], golden, backends=["ort", "tract", "rten"])
    assert report.passed, report


def test_dict_outputs_and_integer_inputs_are_keyed_by_the_exports_names(tmp_path: Path) -> None:
    module = trained(Mixed())
    x, ids = torch.randn(2, 4), torch.randint(-3, 4, (2, 5))
    exports = export(module, (x, ids), tmp_path, exporters=["legacy"], output_names=["y", "count", "positive"])
    golden = record(module, tmp_path / "golden", model=exports["legacy"], cases=random_cases((x, ids), 3, seed=7))
    case = np.load(Path(golden) / "random_s7.npz")
    assert case["ids"].dtype == np.int64 and case["ids"].min() >= -3 and case["ids"].max() <= 3
    with torch.no_grad():
        out = module(torch.from_numpy(case["x"]), torch.from_numpy(case["ids"]))
    np.testing.assert_array_equal(case["count"], out["count"].numpy())
    np.testing.assert_array_equal(case["positive"], out["positive"].numpy())
    assert manifest(golden)["outputs"]["positive"]["dtype"] == "bool"
    assert sp.check(exports["legacy"], golden, backends=["ort", "tract"]).passed


def test_a_dataloader_gives_its_first_batches_as_cases(tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = trained(Net())
    images = torch.randn(10, 3, 8, 8)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images), batch_size=4)
    exports = export(module, (images[:4],), tmp_path / "exports", exporters=["legacy"], dynamic="batch")
    golden = record(module, tmp_path / "golden", model=exports["legacy"], cases=loader, limit=2)
    cases = manifest(golden)["cases"]
    assert len(cases) == 2, cases
    # The manifest declares the export's shapes, its dynamic batch axis by name.
    assert manifest(golden)["inputs"] == {"x": {"dtype": "float32", "shape": ["N", 3, 8, 8]}}
    assert manifest(golden)["outputs"] == {"output_0": {"dtype": "float32", "shape": ["N", 4]}}
    with torch.no_grad():
        want = [module(images[:4]).numpy(), module(images[4:8]).numpy()]
    for (name, _), batch, expected in zip(cases.items(), (images[:4], images[4:8]), want):
        with np.load(Path(golden) / f"{name}.npz") as z:
            np.testing.assert_array_equal(z["x"], batch.numpy())
            np.testing.assert_allclose(z["output_0"], expected, rtol=1e-6, atol=1e-6)
    report = sp.check(exports["legacy"], golden, backends=["ort", "tract"])
    assert report.passed, report


def test_cases_that_do_not_fit_the_export_raise_parity_error(tmp_path: Path) -> None:
    module = trained(Mixed())
    x, ids = torch.randn(2, 4), torch.randint(0, 4, (2, 5))
    exports = export(module, (x, ids), tmp_path, exporters=["legacy"])
    with pytest.raises(sp.ParityError, match="gives 1 tensors; the export takes 2 inputs"):
        record(module, tmp_path / "golden", model=exports["legacy"], cases=(x,))
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x08\xff\xff not a model")
    with pytest.raises(sp.ParityError, match="garbage.onnx: not an ONNX model"):
        record(module, tmp_path / "golden", model=garbage, cases=(x, ids))
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "keep.txt").write_text("mine")
    with pytest.raises(sp.ParityError, match="is not a golden set"):
        record(module, tmp_path / "notes", model=exports["legacy"], cases=(x, ids))
    assert (tmp_path / "notes" / "keep.txt").read_text() == "mine"


def test_a_shared_reference_runs_each_case_once_for_the_sets_of_both_exports(tmp_path: Path) -> None:
    module = trained(Mixed())
    calls = []
    module.register_forward_hook(lambda *_: calls.append(1))
    x, ids = torch.randn(2, 4), torch.randint(-3, 4, (2, 5))
    exports = export(module, (x, ids), tmp_path)
    calls.clear()
    cases = random_cases((x, ids), 3)
    reference = Reference(module)
    sets = [record(module, tmp_path / variant, model=path, cases=cases, intermediates=False, reference=reference)
            for variant, path in exports]
    assert len(calls) == 3, "each case run once for both sets"
    for golden in sets:
        assert sp.check(golden=golden, backends=["ort"]).passed
    first, second = (np.load(Path(g) / "random_s0.npz") for g in sets)
    assert all(np.array_equal(first[k], second[k]) for k in first.files)
    assert manifest(sets[0])["provenance"]["state_dict_sha256"] == manifest(sets[1])["provenance"]["state_dict_sha256"]
    with pytest.raises(sp.ParityError, match="reference was made for another module"):
        record(trained(Mixed()), tmp_path / "other", model=exports["legacy"], cases=cases, reference=reference)


def scaled(model: Path, out: Path, value: str, factor: float) -> Path:
    """``model`` with the weight of the Conv computing ``value`` scaled: an exporter bug."""
    proto = onnx.load(str(model))
    node = next(n for n in proto.graph.node if value in n.output)
    assert node.op_type == "Conv", node
    weight = next(t for t in proto.graph.initializer if t.name == node.input[1])
    weight.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(weight) * factor, weight.name))
    onnx.save(proto, str(out))
    return out


def wrong_mix(tmp_path: Path, exporter: str) -> tuple[Exports, Path, Path]:
    """Net exported, its PyTorch golden set, and the export with `features.1.mix`'s Conv 1% off."""
    module = trained(Net())
    x = torch.randn(1, 3, 16, 16)
    exports = export(module, (x,), tmp_path, exporters=[exporter])
    golden = Path(record(module, tmp_path / "golden", model=exports[exporter], cases=(x,)))
    mapped = manifest(golden)["intermediates"]["mapped"]
    value = next(v for v, keys in mapped.items() if keys[0] == "features.1.mix")
    return exports, golden, scaled(exports[exporter], tmp_path / "wrong.onnx", value, 1.01)


@pytest.mark.parametrize("exporter", ["legacy", "dynamo"])
def test_localize_names_the_pytorch_module_of_a_wrong_node(tmp_path: Path, exporter: str) -> None:
    exports, golden, wrong = wrong_mix(tmp_path, exporter)
    report = sp.localize(wrong, golden=golden, backends=["ort", "tract", "rten"])
    doc = report.to_dict()
    assert report.verdict == "culprit", report
    assert doc["culprit"]["module"] == "features.1.mix", doc["culprit"]
    assert doc["culprit"]["module_class"] == "torch.nn.modules.conv.Conv2d"
    for run in doc["runs"]:
        assert run["culprit"]["module"] == "features.1.mix", run["name"]
    assert "module features.1.mix (Conv2d)" in report._repr_markdown_()


@pytest.mark.parametrize("exporter", ["legacy", "dynamo"])
def test_localize_against_the_right_export_names_the_module_from_the_export_alone(tmp_path: Path, exporter: str) -> None:
    """Without PyTorch: the module comes from the export's scopes, and agrees with the intermediates'."""
    exports, golden, wrong = wrong_mix(tmp_path, exporter)
    report = sp.localize(wrong, against=exports[exporter], random=1, backends=["ort", "tract"])
    culprit = report.to_dict()["culprit"]
    assert report.verdict == "culprit" and culprit["module"] == "features.1.mix", culprit
    if exporter == "dynamo":
        assert culprit["module_class"] == "torch.nn.modules.conv.Conv2d"
        assert culprit["source"].endswith(f"{Path(__file__).name}:{Block.forward.__code__.co_firstlineno + 1}")
    # Every value the intermediates name a module for is in that module's scope by the export too,
    # but where the exporter fused two modules into one node: the legacy exporter names a Conv with
    # a BatchNorm folded into it after the Conv, whose own output the intermediates list unmapped.
    # (The legacy exporter writes a module's second call as `relu_1`.)
    unmapped = manifest(golden)["intermediates"]["unmapped"]
    by_pytorch = sp.localize(wrong, golden=golden, backends=["ort"]).to_dict()["runs"][0]["nodes"]
    by_export = {r["value"]: r.get("module") for r in report.to_dict()["runs"][0]["nodes"]}
    both = [r for r in by_pytorch if r.get("module") is not None and by_export.get(r["value"]) is not None]
    assert len(both) >= 6, both
    for row in both:
        if re.fullmatch(re.escape(row["module"]) + r"(_\d+)?", by_export[row["value"]]) is None:
            assert "fused" in unmapped.get(by_export[row["value"]], ""), (row, by_export[row["value"]])
