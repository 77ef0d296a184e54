"""``ssrnet_parity.pytorch.verify``: real modules, both exporters, every backend; what a trace bakes
in is caught, and a wrong export is localised to its PyTorch module."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
import torch
from onnx import numpy_helper

import ssrnet_parity as sp
from ssrnet_parity.pytorch import _verify, verify

from test_pytorch_record import Net, trained


class Branchy(torch.nn.Module):
    """Control flow on the data: a trace keeps the branch the example took."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.mean() > 0.5:
            return x * 2
        return x - 1


class Spectrum(torch.nn.Module):
    """An rFFT: the dynamo exporter writes it as DFT; the TorchScript exporter has no rule for it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.fft.rfft(x).abs()


def test_a_cnn_passes_on_every_backend_that_runs_it_with_both_exporters(tmp_path: Path) -> None:
    result = verify(trained(Net()), (torch.randn(2, 3, 16, 16),), tmp_path, dynamic="batch")
    assert result.passed, result.table()
    assert result.cases == ["example", "random_s0", "random_s1", "random_s2", "dynamic_N"]
    cells = {(r.export, r.backend): r.verdict for r in result.rows}
    assert set(cells) == {(e, b) for e in ("legacy", "dynamo") for b in ("ort", "tract", "candle", "rten")}
    for exporter in ("legacy", "dynamo"):
        for backend in ("ort", "tract", "rten"):
            assert cells[(exporter, backend)] == "pass", result.table()
        assert cells[(exporter, "candle")] == "pass" or cells[(exporter, "candle")].startswith("unsupported: ")
    assert Path(result.files["legacy"]).is_file() and Path(result.files["golden/dynamo"]).is_dir()
    # Intermediates are recorded for localize, so only once a check fails.
    assert "intermediates" not in json.loads((tmp_path / "golden" / "dynamo" / "manifest.json").read_text())
    assert "| legacy | ort | pass |" in result._repr_markdown_()
    assert result.to_dict()["passed"] is True


def test_a_branch_baked_in_by_the_trace_fails(tmp_path: Path) -> None:
    result = verify(Branchy(), (torch.ones(1, 4),), exporters=["legacy"], backends=["ort", "tract"])
    assert not result.passed, result.table()
    assert {r.verdict for r in result.rows} == {"fail"}
    assert result.out is None, "no out: a temporary directory, removed"


@pytest.mark.parametrize("factor", [1.005, 1.2])
def test_a_wrong_export_is_localised_to_its_module_on_every_backend(monkeypatch, tmp_path: Path, factor: float) -> None:
    """The real export, then the last Conv's weight scaled: an exporter bug's stand-in. At 0.5%
    the module outputs map by their numbers (within 1e-2); at 20% the wrong Conv's module maps by
    the export's scope."""

    def buggy_export_each(*args, **kwargs):
        exports, written = _export_each(*args, **kwargs)

        def scaled():
            for variant, path in written:
                proto = onnx.load(str(path))
                convs = [n for n in proto.graph.node if n.op_type == "Conv"]
                weight = next(t for t in proto.graph.initializer if t.name == convs[3].input[1])
                weight.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(weight) * factor, weight.name))
                onnx.save(proto, str(path))
                yield variant, path

        return exports, scaled()

    _export_each = _verify.export_each
    monkeypatch.setattr(_verify, "export_each", buggy_export_each)
    result = verify(trained(Net()), (torch.randn(1, 3, 16, 16),), tmp_path, backends=["ort", "tract", "rten"])
    assert not result.passed
    for row in result.rows:
        assert row.verdict == "fail" and row.localized == "culprit", result.table()
        # The fourth Conv of the graph is the second block's 1x1 mix.
        assert row.culprit["module"] == "features.1.mix", (row.export, row.backend, row.culprit)
        assert row.culprit["op"] == "Conv"
    assert "features.1.mix (Conv2d)" in result.table()
    for exporter in ("legacy", "dynamo"):
        section = json.loads((tmp_path / "golden" / exporter / "manifest.json").read_text())["intermediates"]
        assert ("features.1.mix" in section["by_scope"]) == (factor > 1.1), section["by_scope"]


def test_an_exporter_that_fails_is_shown_and_the_other_verified() -> None:
    result = verify(Spectrum(), (torch.randn(1, 16),), backends=["ort"])
    assert list(result.exports.failures) == ["legacy"]
    assert [(r.export, r.backend, r.verdict) for r in result.rows] == [("dynamo", "ort", "pass")]
    assert result.passed
    assert "export failed" in result.table()


def test_bad_cases_raise_parity_error() -> None:
    with pytest.raises(sp.ParityError, match="a case must be"):
        verify(Net(), (torch.randn(1, 3, 16, 16),), cases=[object()], exporters=["legacy"])
