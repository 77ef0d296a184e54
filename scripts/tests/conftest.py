"""Shared fixtures for the reference-pipeline tests (run from the repo root:
`.venv/bin/python -m pytest scripts/tests -q`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
SHARED = REPO.parent / "shared"
CHECKPOINT = SHARED / "ssrnet" / "ssrnet_megaage_asian.pth"
MODELS = REPO / "models"
IMAGES = REPO / "fixtures" / "images"
GOLDEN = REPO / "fixtures" / "golden"
GOLDEN_PB = REPO / "fixtures" / "golden_pb"

sys.path.insert(0, str(SCRIPTS))
torch.set_num_threads(1)

import pipeline  # noqa: E402
import ssrnet  # noqa: E402


def need_checkpoint() -> Path:
    """The pretrained checkpoint from ../shared, or skip (it is never in the repository)."""
    if not CHECKPOINT.is_file():
        pytest.skip(f"pretrained checkpoint not found at {CHECKPOINT} (../shared is absent on this machine)")
    return CHECKPOINT


def run_pipeline(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONHASHSEED="0")
    return subprocess.run(
        [sys.executable, str(SCRIPTS / "pipeline.py"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="session")
def demo_model():
    model, prov = ssrnet.load_weights(None, 0)
    return model


@pytest.fixture(scope="session")
def checkpoint_model():
    model, _ = ssrnet.load_weights(need_checkpoint())
    return model


@pytest.fixture(scope="session")
def demo_regen(tmp_path_factory) -> Path:
    """`pipeline.py all --out TMP` with the demo weights: a fresh export and golden set."""
    out = tmp_path_factory.mktemp("demo_regen")
    proc = run_pipeline("all", "--out", str(out), "--demo-seed", "0")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.fixture(scope="session")
def checkpoint_export(tmp_path_factory) -> Path:
    """`pipeline.py all --checkpoint ../shared/... --out TMP`: the real checkpoint, end to end, outside the repo."""
    ckpt = need_checkpoint()
    out = tmp_path_factory.mktemp("checkpoint_export")
    proc = run_pipeline("all", "--out", str(out), "--checkpoint", str(ckpt))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out
