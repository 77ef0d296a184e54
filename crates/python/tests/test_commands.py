"""Every function on the demo goldens, and its report equal to the command line's JSON document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ssrnet_parity as sp

from conftest import GOLDEN, IMAGES, MODEL, SIM, cli, cli_json


def without_timing(document: dict) -> dict:
    """A localize report without its wall-clock seconds, the one field two runs differ in."""
    return {k: v for k, v in document.items() if k != "timing"}


def test_check_report_is_the_cli_json_document() -> None:
    report = sp.check(backends=["ort", "tract"])
    expected, code = cli_json("check", "--backend", "ort,tract", "--format", "json")
    assert report.to_dict() == expected
    assert (report.passed, report.verdict, report.exit_code) == (True, "pass", code)
    assert report.to_dict()["cases"] == 38


def test_check_with_tolerances_fails_as_the_cli_does() -> None:
    # An absolute tolerance below the demo's worst error: both front ends find the same mismatch.
    args = dict(backends="tract", atol=1e-9, rtol=0.0)
    report = sp.check(MODEL, GOLDEN, **args)
    expected, code = cli_json(
        "check", "--model", MODEL, "--golden", GOLDEN, "--backend", "tract", "--atol", "1e-09",
        "--rtol", "0.0", "--format", "json",
    )
    assert report.to_dict() == expected
    assert (report.verdict, report.exit_code, code) == ("fail", 1, 1)
    assert not report.passed and not report


def test_check_batch_auto_passes_and_a_bad_batch_is_a_parity_error() -> None:
    report = sp.check(backends="tract", batch="auto")
    one = sp.check(backends="tract")
    assert report.passed and report.to_dict()["cases"] == one.to_dict()["cases"] == 38
    auto, alone = report.to_dict()["backends"][0]["outputs"][0], one.to_dict()["backends"][0]["outputs"][0]
    assert abs(auto["max_abs"] - alone["max_abs"]) <= 1e-5
    with pytest.raises(sp.ParityError, match="auto"):
        sp.check(backends="tract", batch="sometimes")


def test_compare_report_is_the_cli_json_document() -> None:
    report = sp.compare(MODEL, golden=GOLDEN, backends=["rten"], reference="ort")
    expected, code = cli_json(
        "compare", "--model", MODEL, "--golden", GOLDEN, "--backend", "rten", "--format", "json"
    )
    assert report.to_dict() == expected and code == 0 and report.passed


def test_compare_on_random_inputs_with_a_seed() -> None:
    report = sp.compare(MODEL, random=5, seed=7, backends="tract")
    expected, _ = cli_json(
        "compare", "--model", MODEL, "--random", "5", "--seed", "7", "--backend", "tract", "--format", "json"
    )
    assert report.to_dict() == expected and report.to_dict()["cases"] == 5


def test_diff_report_is_the_cli_json_document() -> None:
    report = sp.diff(MODEL, SIM, golden=GOLDEN, backend="ort")
    expected, code = cli_json("diff", MODEL, SIM, "--golden", GOLDEN, "--backend", "ort", "--format", "json")
    assert report.to_dict() == expected
    assert report.exit_code == code == 0


def test_localize_report_is_the_cli_json_document() -> None:
    report = sp.localize(MODEL, golden=GOLDEN, backends=["tract"], case="astronaut_face")
    expected, code = cli_json(
        "localize", "--model", MODEL, "--golden", GOLDEN, "--backend", "tract", "--case",
        "astronaut_face", "--format", "json",
    )
    assert without_timing(report.to_dict()) == without_timing(expected)
    assert (report.verdict, report.exit_code, code) == ("none", 0, 0)
    markdown = cli(
        "localize", "--model", MODEL, "--golden", GOLDEN, "--backend", "tract", "--case",
        "astronaut_face", "--format", "markdown",
    ).stdout
    assert report._repr_markdown_() == markdown and markdown.startswith("### ssrnet-parity localize: NONE")


def test_merge_report_is_the_cli_json_document(tmp_path: Path) -> None:
    shards = []
    for k in range(2):
        done = cli("check", "--backend", "ort", "--shard", f"{k}/2", "--format", "json")
        assert done.returncode == 0, done.stderr
        shards.append(tmp_path / f"shard{k}.json")
        shards[-1].write_text(done.stdout)
    report = sp.merge(shards)
    expected, code = cli_json("merge", *shards, "--format", "json")
    assert report.to_dict() == expected and code == 0
    assert report.to_dict()["cases"] == 38


def test_inspect_is_the_cli_json_document() -> None:
    expected, _ = cli_json("inspect", MODEL, "--format", "json")
    assert sp.inspect(MODEL) == expected
    assert sp.inspect(MODEL, backends=["rten"])["backends"][0]["backend"] == "rten"


def test_record_then_check_the_recording(tmp_path: Path) -> None:
    out = tmp_path / "golden"
    assert sp.record(MODEL, out, random=3, seed=1, backend="ort") == str(out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "ssrnet-parity-golden"
    report = sp.check(MODEL, out, backends=["tract", "rten"])
    assert report.passed and report.to_dict()["cases"] == 3


def test_predict_gives_one_row_per_image_as_the_cli() -> None:
    images = sorted(IMAGES.glob("astronaut_face*.png"))
    with pytest.warns(sp.ParityWarning, match="carries demo weights"):
        rows = sp.predict(images, model=MODEL, batch=2)
    expected, _ = cli_json("predict", *images, "--model", MODEL, "--batch", "2", "--format", "json")
    assert rows == expected and len(rows) == len(images)
    assert all(set(row) >= {"image", "age", "interval"} for row in rows)


def test_report_renders_for_people_and_notebooks() -> None:
    report = sp.check(backends="ort")
    assert repr(report).startswith("<Report check PASS: ")
    # The command line's own Markdown report, not a second renderer.
    expected = cli("check", "--backend", "ort", "--format", "markdown").stdout
    assert report._repr_markdown_() == expected
    assert expected.startswith("### ssrnet-parity check: PASS")
