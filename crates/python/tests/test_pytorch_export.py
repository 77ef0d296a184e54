"""``ssrnet_parity.pytorch.export``: real torch exports with both exporters, checked by onnx and run
by the engine against the module's own outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

import ssrnet_parity as sp
from ssrnet_parity.pytorch import export


class TwoInTwoOut(torch.nn.Module):
    """Two inputs (float32, int64), a tuple of outputs (float32, bool)."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(4, 3)

    def forward(self, x: torch.Tensor, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = self.linear(x) + ids.to(x.dtype)
        return y, y > 0


class Spectrum(torch.nn.Module):
    """An rFFT: the dynamo exporter writes it as DFT; the TorchScript exporter has no rule for it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.fft.rfft(x).abs()


def example(rows: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(rows, 4, generator=g), torch.randint(-3, 4, (rows, 3), generator=g)


def metadata(path: Path) -> dict[str, str]:
    return {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}


def test_both_exporters_write_checked_files_that_compute_what_the_module_computes(tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = TwoInTwoOut()
    x, ids = example()
    exports = export(module, (x, ids), tmp_path, dynamic="batch")
    assert exports.failures == {}
    assert sorted(exports.files) == ["dynamo", "legacy"]
    assert exports.input_names == ["x", "ids"] and exports.output_names == ["output_0", "output_1"]
    with torch.no_grad():
        y, positive = module(*example(5))  # another batch size than the example's
    x5, ids5 = example(5)
    for variant, path in exports:
        onnx.checker.check_model(str(path))
        meta = metadata(path)
        assert meta["exporter"] == variant and meta["module_class"].endswith("TwoInTwoOut")
        assert meta["torch_version"] == torch.__version__ and len(meta["state_dict_sha256"]) == 64
        assert int(meta["opset"]) >= 11
        assert [i["name"] for i in sp.inspect(path)["inputs"]] == ["x", "ids"]
        out = sp.run(path, {"x": x5.numpy(), "ids": ids5.numpy()}, backend="ort")
        np.testing.assert_allclose(out["output_0"], y.numpy(), rtol=1e-5, atol=1e-5, err_msg=variant)
        np.testing.assert_array_equal(out["output_1"], positive.numpy(), err_msg=variant)
    # The same weights give the same digest; other weights another.
    again = export(module, (x, ids), tmp_path / "again", exporters=["legacy"])
    assert metadata(again["legacy"])["state_dict_sha256"] == metadata(exports["legacy"])["state_dict_sha256"]
    torch.nn.init.zeros_(module.linear.bias)
    other = export(module, (x, ids), tmp_path / "other", exporters=["legacy"])
    assert metadata(other["legacy"])["state_dict_sha256"] != metadata(exports["legacy"])["state_dict_sha256"]


class SequencePool(torch.nn.Module):
    """Mean over a sequence axis of ``x`` (batch, seq, 4), masked by ``keep`` (batch, seq)."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(4, 2)

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        w = keep.to(x.dtype).unsqueeze(-1)
        return self.linear((x * w).sum(1) / w.sum(1).clamp(min=1))


def dims(path: Path) -> dict[str, list]:
    graph = onnx.load(str(path), load_external_data=False).graph
    return {
        i.name: [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in graph.input
    }


def test_per_input_dynamic_axes_are_exported_as_named_and_the_rest_stay_fixed(tmp_path: Path) -> None:
    torch.manual_seed(0)
    module = SequencePool().eval()
    x, keep = torch.randn(2, 5, 4), torch.rand(2, 5) > 0.3
    exports = export(module, (x, keep), tmp_path, dynamic={"x": {1: "seq"}, "keep": [1]})
    assert exports.failures == {}
    for variant, path in exports:
        declared = dims(path)
        assert declared["x"][0] == 2 and declared["x"][2] == 4, (variant, declared)
        assert isinstance(declared["x"][1], str) and isinstance(declared["keep"][1], str), (variant, declared)
        assert declared["keep"][0] == 2, (variant, declared)
        # Another sequence length runs and computes what the module computes.
        x9, keep9 = torch.randn(2, 9, 4), torch.rand(2, 9) > 0.3
        with torch.no_grad():
            want = module(x9, keep9).numpy()
        got = sp.run(path, {"x": x9.numpy(), "keep": keep9.numpy()}, backend="ort")["output_0"]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=variant)
        # The batch axis stayed fixed: another batch is refused, naming the axis.
        with pytest.raises(sp.ParityError, match="axis 0 must be 2"):
            sp.run(path, {"x": torch.randn(3, 9, 4).numpy(), "keep": np.ones((3, 9), bool)}, backend="tract")


def test_a_torch_export_dim_bounds_the_dynamo_axis_and_names_the_legacy_one(tmp_path: Path) -> None:
    module = SequencePool().eval()
    x, keep = torch.randn(2, 5, 4), torch.rand(2, 5) > 0.3
    seq = torch.export.Dim("seq", min=2, max=64)
    exports = export(module, (x, keep), tmp_path, dynamic={"x": {1: seq}, "keep": {1: seq}})
    assert exports.failures == {}, exports.failures
    assert dims(exports["legacy"])["x"] == [2, "seq", 4]
    assert isinstance(dims(exports["dynamo"])["x"][1], str)
    x9, keep9 = torch.randn(2, 9, 4), torch.rand(2, 9) > 0.3
    with torch.no_grad():
        want = module(x9, keep9).numpy()
    for variant, path in exports:
        got = sp.run(path, {"x": x9.numpy(), "keep": keep9.numpy()}, backend="ort")["output_0"]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=variant)
    with pytest.raises(sp.ParityError, match="positional"):
        export(module, (), tmp_path / "kw", kwargs={"x": x, "keep": keep}, exporters=["dynamo"],
               dynamic={"x": {1: seq}})


def test_an_exporter_that_fails_is_recorded_and_the_other_still_exports(tmp_path: Path) -> None:
    x = torch.randn(1, 16)
    exports = export(Spectrum(), (x,), tmp_path)
    assert list(exports.files) == ["dynamo"], exports.to_dict()
    assert "fft_rfft" in exports.failures["legacy"], exports.failures
    assert not (tmp_path / "legacy.onnx").exists()
    out = sp.run(exports["dynamo"], {"x": x.numpy()}, backend="ort")
    np.testing.assert_allclose(out["output_0"], torch.fft.rfft(x).abs().numpy(), rtol=1e-4, atol=1e-4)


def test_simplified_and_external_data_variants(tmp_path: Path) -> None:
    module = TwoInTwoOut()
    x, ids = example()
    exports = export(module, (x, ids), tmp_path, exporters=["legacy"], simplify=True, external_data=True)
    assert sorted(exports.files) == ["legacy", "legacy_external", "legacy_sim"], exports.to_dict()
    assert (tmp_path / "legacy_external.onnx.data").stat().st_size > 0
    assert metadata(exports["legacy_sim"])["simplified_from"] == "legacy.onnx"
    with torch.no_grad():
        y, _ = module(x, ids)
    for variant, path in exports:
        out = sp.run(path, {"x": x.numpy(), "ids": ids.numpy()}, backend="tract")
        np.testing.assert_allclose(out["output_0"], y.numpy(), rtol=1e-5, atol=1e-5, err_msg=variant)
    assert not list(tmp_path.glob(".export-*")), "no staging left behind"


def test_bad_arguments_raise_parity_error(tmp_path: Path) -> None:
    x, ids = example()
    with pytest.raises(sp.ParityError, match="unknown exporter"):
        export(TwoInTwoOut(), (x, ids), tmp_path, exporters=["onnx2000"])
    with pytest.raises(sp.ParityError, match="input_names names 1 inputs; the module takes 2"):
        export(TwoInTwoOut(), (x, ids), tmp_path, input_names=["only"])
    with pytest.raises(sp.ParityError, match="dynamic names 'nope'"):
        export(TwoInTwoOut(), (x, ids), tmp_path, dynamic={"nope": [0]})
