"""Shared fixtures for the reference-pipeline tests (run from the repo root:
`.venv/bin/python -m pytest scripts/tests -q`)."""

from __future__ import annotations

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
    return subprocess.run(
        [sys.executable, str(SCRIPTS / "pipeline.py"), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )


class _Background:
    """The two slow end-to-end runs (`pipeline.py all` with demo weights and with the checkpoint) start together
    the first time either is needed, so they overlap on a 2-core machine."""

    def __init__(self, base: Path) -> None:
        self.procs: dict[str, tuple] = {}
        runs = {"demo": ["--demo-seed", "0"]}
        if CHECKPOINT.is_file():
            runs["checkpoint"] = ["--checkpoint", str(CHECKPOINT)]
        for key, extra in runs.items():
            out = base / key
            out.mkdir()
            cmd = [sys.executable, str(SCRIPTS / "pipeline.py"), "all", "--out", str(out), *extra]
            log = open(base / f"{key}.log", "w+")  # noqa: SIM115 - closed in result()
            proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, text=True)
            self.procs[key] = (out, proc, log)

    def result(self, key: str) -> Path:
        out, proc, log = self.procs[key]
        code = proc.wait(timeout=900)
        log.seek(0)
        text = log.read()
        assert code == 0, f"pipeline.py all ({key}) failed:\n{text[-3000:]}"
        return out


@pytest.fixture(scope="session")
def _background(tmp_path_factory) -> _Background:
    return _Background(tmp_path_factory.mktemp("pipeline_runs"))


@pytest.fixture(scope="session", autouse=True)
def _start_background_early(request) -> None:
    """Starts the slow runs at the beginning of the session when any selected test needs them."""
    if any({"demo_regen", "checkpoint_export"} & set(item.fixturenames) for item in request.session.items):
        request.getfixturevalue("_background")


@pytest.fixture(scope="session")
def demo_model():
    model, prov = ssrnet.load_weights(None, 0)
    return model


@pytest.fixture(scope="session")
def checkpoint_model():
    model, _ = ssrnet.load_weights(need_checkpoint())
    return model


@pytest.fixture(scope="session")
def demo_regen(_background) -> Path:
    """`pipeline.py all --out TMP` with the demo weights: a fresh export and golden set."""
    return _background.result("demo")


@pytest.fixture(scope="session")
def checkpoint_export(_background) -> Path:
    """`pipeline.py all --checkpoint ../shared/... --out TMP`: the real checkpoint, end to end, outside the repo."""
    need_checkpoint()
    return _background.result("checkpoint")
