"""pipeline.py end to end with the real checkpoint (into a temp dir, never the repo), and its refusals."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from conftest import CHECKPOINT, REPO, need_checkpoint, run_pipeline

import pipeline
import ssrnet
from test_models import ALL, DYNAMIC

ATOL = 1e-4


def test_checkpoint_export_end_to_end(checkpoint_export, checkpoint_model):
    sha = hashlib.sha256(CHECKPOINT.read_bytes()).hexdigest()
    models = checkpoint_export / "models"
    x1, _ = ssrnet.preprocess_file(REPO / "fixtures" / "images" / "astronaut_face.png")
    x8 = np.concatenate([x1] + [np.random.default_rng(s).standard_normal((1, 3, 64, 64)).astype(np.float32) for s in range(7)])
    for name in ALL:
        path = models / name
        onnx.checker.check_model(str(path))
        meta = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
        assert meta["weights"] == "checkpoint" and meta["weights_source"] == f"checkpoint sha256 {sha}", name
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        for x in [x1, x8] if name in DYNAMIC else [x1]:
            got = sess.run(["age"], {"input": x})[0]
            assert np.max(np.abs(got - ssrnet.run(checkpoint_model, x))) <= ATOL, name
    # The golden set of the checkpoint: PyTorch ages of the strict-loaded module, REFERENCE.md's photo value.
    golden = checkpoint_export / "fixtures" / "golden"
    manifest = json.loads((golden / "manifest.json").read_text())
    assert manifest["provenance"]["weights"] == "checkpoint"
    assert manifest["model"]["sha256"] == hashlib.sha256((models / "ssrnet_legacy_dynamic.onnx").read_bytes()).hexdigest()
    for case in manifest["cases"]:
        with np.load(golden / f"{case}.npz") as z:
            np.testing.assert_allclose(z["age"], ssrnet.run(checkpoint_model, z["input"]), rtol=1e-6, atol=1e-6)
            if case == "astronaut_face":
                assert abs(float(z["age"][0]) - 22.389) <= 5e-4  # REFERENCE.md
    assert len(list((checkpoint_export / "fixtures" / "golden_pb").glob("test_data_set_*"))) == len(manifest["cases"])


@pytest.mark.parametrize("out", [".", "fixtures/from_checkpoint"])
def test_refuses_to_write_checkpoint_exports_into_the_repo(out):
    ckpt = need_checkpoint()
    with pytest.raises(SystemExit, match=r"^error: --out .*: refusing to write models or goldens made from a checkpoint"):
        pipeline.main(["all", "--out", str(REPO / out), "--checkpoint", str(ckpt)])
    assert not (REPO / "fixtures" / "from_checkpoint").exists()


def test_missing_checkpoint_is_one_clear_error(tmp_path):
    with pytest.raises(SystemExit) as exc:
        pipeline.main(["export", "--out", str(tmp_path), "--checkpoint", str(tmp_path / "nope.pth")])
    assert str(exc.value) == f"error: checkpoint {tmp_path / 'nope.pth'}: no such file"
    assert not (tmp_path / "models").exists()


def test_golden_without_models_is_one_clear_error(tmp_path):
    with pytest.raises(SystemExit, match=r"^error: model .*ssrnet_legacy_dynamic\.onnx: missing"):
        pipeline.main(["golden", "--out", str(tmp_path)])
    assert not (tmp_path / "fixtures" / "golden").exists()


def test_cli_prints_one_error_line_and_exits_nonzero(tmp_path):
    proc = run_pipeline("golden", "--out", str(tmp_path))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("error: model ")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("bad", ["empty.png", "text.jpg"])
def test_undecodable_image_is_one_clear_error(tmp_path, bad):
    (tmp_path / bad).write_bytes(b"" if bad == "empty.png" else b"not a jpeg")
    with pytest.raises(SystemExit, match=r"^error: image .*: cv2.imread cannot decode it"):
        ssrnet.preprocess_file(tmp_path / bad)
