"""`run` and `check_arrays`: numpy arrays in and out, no files but the model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ssrnet_parity as sp

from conftest import GOLDEN, MODEL, cli_json, typed_feeds, write_half_model, write_typed_model

BACKENDS = ["ort", "tract", "rten"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_run_takes_and_gives_float32_int64_and_bool(typed_model: Path, backend: str) -> None:
    feeds = typed_feeds(3)
    out = sp.run(typed_model, feeds, backend=backend)
    # Expected values from numpy, an independent computation of the same graph.
    np.testing.assert_allclose(out["y"], 2 * feeds["x"] + 1, rtol=1e-6, atol=1e-6)
    assert out["y"].dtype == np.float32 and out["y"].shape == (3, 4)
    np.testing.assert_array_equal(out["j"], feeds["i"] * 3)
    assert out["j"].dtype == np.int64
    np.testing.assert_array_equal(out["c"], ~feeds["b"])
    assert out["c"].dtype == np.bool_


def test_run_takes_and_gives_float16_as_the_cli_compare_runs_it(tmp_path: Path) -> None:
    model = write_half_model(tmp_path / "half.onnx")
    h = np.random.default_rng(7).standard_normal((3, 4)).astype(np.float16)
    # numpy's float16 arithmetic: 2h is exact, + 1 rounds once, as a runtime computing in float16
    # (or in float32, rounded back) gives.
    expected = h * np.float16(2) + np.float16(1)
    # Every backend runs this model.
    for backend in ["ort", "tract", "candle", "rten"]:
        out = sp.run(model, {"h": h}, backend=backend)["g"]
        assert out.dtype == np.float16 and out.shape == (3, 4), backend
        np.testing.assert_array_equal(out, expected, err_msg=backend)
    np.savez(tmp_path / "case.npz", h=h)
    report, code = cli_json("compare", "--model", model, "--tensors", tmp_path / "case.npz",
                            "--backend", "tract,candle,rten", "--format", "json")
    assert code == 0 and [s["verdict"] for s in report["backends"]] == ["pass"] * 3, report


def test_run_takes_non_contiguous_arrays(typed_model: Path) -> None:
    feeds = typed_feeds(6)
    strided = {name: array[::2] for name, array in feeds.items()}
    assert not strided["x"].flags["C_CONTIGUOUS"]
    out = sp.run(typed_model, strided)
    np.testing.assert_array_equal(out["j"], feeds["i"][::2] * 3)
    fortran = {name: np.asfortranarray(array) for name, array in feeds.items()}
    assert not fortran["x"].flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(sp.run(typed_model, fortran)["y"], 2 * feeds["x"] + 1, rtol=1e-6)


def test_run_reads_read_only_feeds_in_place_and_leaves_them_as_they_were(typed_model: Path) -> None:
    # A C-contiguous feed is read where numpy keeps it (no copy): a read-only array is fine, and
    # every backend leaves the caller's memory untouched.
    feeds = typed_feeds(4)
    before = {name: array.copy() for name, array in feeds.items()}
    for array in feeds.values():
        array.flags.writeable = False
    for backend in BACKENDS:
        out = sp.run(typed_model, feeds, backend=backend)
        np.testing.assert_array_equal(out["j"], feeds["i"] * 3, err_msg=backend)
        for name, array in feeds.items():
            np.testing.assert_array_equal(array, before[name], err_msg=f"{backend} {name}")


def test_run_on_ssrnet_matches_the_cli_compare_of_the_same_inputs(tmp_path: Path) -> None:
    # The golden set's inputs through `run` on each backend, against the goldens the CLI checks.
    golden = np.load(GOLDEN / "astronaut_face.npz")
    inputs = {"input": golden["input"]}
    outputs = {b: sp.run(MODEL, inputs, backend=b)["age"] for b in BACKENDS}
    report, code = cli_json("check", "--backend", ",".join(BACKENDS), "--format", "json")
    assert code == 0
    for backend, age in outputs.items():
        np.testing.assert_allclose(age, golden["age"], atol=1e-4, rtol=0, err_msg=backend)
    assert all(side["verdict"] == "pass" for side in report["backends"])


def test_check_arrays_passes_on_the_right_outputs_and_fails_on_wrong_ones(typed_model: Path) -> None:
    cases = [typed_feeds(2, seed) for seed in range(4)]
    expected = [{"y": 2 * c["x"] + 1, "j": c["i"] * 3, "c": ~c["b"]} for c in cases]
    report = sp.check_arrays(typed_model, cases, expected, backends=BACKENDS)
    assert report.passed and report.verdict == "pass", report.to_dict()
    assert report.to_dict()["cases"] == 4
    assert report._repr_markdown_().startswith("### ssrnet-parity check: PASS")
    assert [s["name"] for s in report.to_dict()["backends"]] == BACKENDS

    expected[2] = dict(expected[2], y=expected[2]["y"] + 0.01)
    report = sp.check_arrays(typed_model, cases, expected, backends=["ort"], atol=1e-3)
    assert (report.verdict, report.exit_code) == ("fail", 1)
    assert report.to_dict()["backends"][0]["failed_cases"] == ["case_0002"]


def test_check_arrays_on_every_backend_skips_the_one_that_cannot_run(typed_model: Path) -> None:
    cases = [typed_feeds(1)]
    expected = [{"y": 2 * cases[0]["x"] + 1, "j": cases[0]["i"] * 3, "c": ~cases[0]["b"]}]
    report = sp.check_arrays(typed_model, cases, expected)
    verdicts = {s["name"]: s["verdict"] for s in report.to_dict()["backends"]}
    assert set(verdicts) == {"ort", "tract", "candle", "rten"}
    assert verdicts["ort"] == verdicts["tract"] == verdicts["rten"] == "pass"
    assert verdicts["candle"] in {"pass", "skipped"}


def test_arrays_of_a_dtype_the_engine_does_not_hold_are_refused(typed_model: Path) -> None:
    feeds = typed_feeds(1)
    feeds["x"] = feeds["x"].astype(np.complex64)
    with pytest.raises(sp.ParityError, match="feed 'x': dtype complex64 is not one the engine runs"):
        sp.run(typed_model, feeds)
    with pytest.raises(sp.ParityError, match="2 cases but 1 expected outputs"):
        sp.check_arrays(typed_model, [typed_feeds(1), typed_feeds(1)], [{}])


def test_a_feed_that_does_not_fit_the_model_is_a_parity_error(typed_model: Path) -> None:
    feeds = typed_feeds(1)
    feeds["x"] = np.zeros((1, 5), dtype=np.float32)
    with pytest.raises(sp.ParityError, match="input 'x'"):
        sp.run(typed_model, feeds, backend="tract")
    del feeds["x"]
    with pytest.raises(sp.ParityError, match="missing input 'x'"):
        sp.run(typed_model, feeds, backend="rten")


def test_run_keeps_the_loaded_model_until_its_file_changes(tmp_path: Path) -> None:
    model = write_typed_model(tmp_path / "m.onnx", 2.0)
    feeds = typed_feeds(2)
    for backend in BACKENDS:
        first = sp.run(model, feeds, backend=backend)["y"]
        np.testing.assert_allclose(sp.run(model, feeds, backend=backend)["y"], first)
    # Rewritten in place (a new modification time): the next call loads the new model.
    write_typed_model(tmp_path / "m.onnx", 3.5)
    for backend in BACKENDS:
        again = sp.run(model, feeds, backend=backend)["y"]
        np.testing.assert_allclose(again, 3.5 * feeds["x"] + 1, rtol=1e-6, atol=1e-6, err_msg=backend)


def test_run_refuses_absurd_thread_counts(typed_model: Path) -> None:
    with pytest.raises(sp.ParityError, match="threads must be at most"):
        sp.run(typed_model, typed_feeds(1), threads=10**6)
    with pytest.raises(sp.ParityError, match="threads must be at least 1"):
        sp.run(typed_model, typed_feeds(1), backend="tract", threads=0)
