"""``verify`` on the architectures users bring: a transformer encoder with an int64 attention mask,
a bidirectional LSTM, and an upsampling net with GroupNorm, each with both exporters on every
backend. A runtime that cannot run an export is reported (``unsupported: OP`` or ``skipped: why``),
never passed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ssrnet_parity.pytorch import verify


class Encoder(torch.nn.Module):
    """Token ids and an int64 attention mask in; a pooled, projected state out."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(50, 32)
        layer = torch.nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = torch.nn.Linear(32, 3)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(self.embed(ids), src_key_padding_mask=mask == 0)
        return self.head(hidden.mean(1))


class BiLSTM(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = torch.nn.LSTM(8, 16, batch_first=True, bidirectional=True)
        self.out = torch.nn.Linear(32, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, _ = self.lstm(x)
        return self.out(y[:, -1])


class Upsampler(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.norm = torch.nn.GroupNorm(2, 8)
        self.up = torch.nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.outc = torch.nn.Conv2d(8, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.outc(self.up(torch.relu(self.norm(self.conv(x)))))


def encoder() -> tuple[torch.nn.Module, tuple]:
    mask = torch.tensor([[1] * 7, [1] * 5 + [0] * 2])
    return Encoder(), (torch.randint(0, 50, (2, 7)), mask)


ARCHITECTURES = {
    # name: (make, backends that must pass)
    "encoder": (encoder, ("ort", "tract", "rten")),
    "bilstm": (lambda: (BiLSTM(), (torch.randn(2, 5, 8),)), ("ort", "rten")),
    "upsample_groupnorm": (lambda: (Upsampler(), (torch.randn(1, 3, 16, 16),)), ("ort", "tract", "rten")),
}


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_verify_passes_where_the_runtime_has_the_ops(tmp_path: Path, name: str) -> None:
    torch.manual_seed(0)
    make, must_pass = ARCHITECTURES[name]
    module, args = make()
    result = verify(module.eval(), args, tmp_path, dynamic="batch", intermediates=True)
    assert result.passed, result.table()
    assert result.exports.failures == {}
    cells = {(r.export, r.backend): r.verdict for r in result.rows}
    for exporter in ("legacy", "dynamo"):
        for backend in must_pass:
            assert cells[(exporter, backend)] == "pass", result.table()
        for backend in set(("ort", "tract", "candle", "rten")) - set(must_pass):
            assert cells[(exporter, backend)].startswith(("pass", "unsupported: ", "skipped: ")), result.table()
        section = json.loads((tmp_path / "golden" / exporter / "manifest.json").read_text())["intermediates"]
        assert sum(len(keys) for keys in section["mapped"].values()) > 0, section
