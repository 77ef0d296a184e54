"""The mapping of module outputs to ONNX values on hand-made arrays: the bound, cases taken
together, ties between equal outputs (cases found on SSRNet's real checkpoint)."""

from __future__ import annotations

import numpy as np

from ssrnet_parity.pytorch._hooks import Output
from ssrnet_parity.pytorch._mapping import map_outputs


def outputs(arrays: dict[str, np.ndarray]) -> dict[str, Output]:
    """Module outputs keyed by module path (each module called once, one tensor each)."""
    return {key: Output(key, "Module", value) for key, value in arrays.items()}


def test_a_value_off_by_more_than_the_bound_is_not_mapped() -> None:
    x = np.linspace(-1, 1, 64, dtype=np.float32).reshape(1, 64)
    mine = outputs({"exact": x, "close": x * np.float32(1.001), "off": x * np.float32(1.05), "odd": x[:, :8]})
    found = map_outputs([mine], [{"v0": x, "v1": x.copy()}])
    assert found.mapped == {"v0": ["exact"], "v1": ["close"]}, "ties go to a value not yet taken; 1e-3 off still maps"
    assert set(found.unmapped) == {"off", "odd"}
    assert "shape" in found.unmapped["odd"] and "0.0476" in found.unmapped["off"]


def test_a_value_degenerate_on_one_case_maps_by_the_others() -> None:
    zeros, a, b = np.zeros((1, 3), np.float32), np.array([[1, 2, 3]], np.float32), np.array([[3, 1, 2]], np.float32)
    cases_torch = [outputs({"relu": zeros}), outputs({"relu": b})]
    cases_onnx = [{"first": zeros, "second": zeros}, {"first": a, "second": b}]
    found = map_outputs(cases_torch, cases_onnx)
    assert found.mapped == {"second": ["relu"]} and not found.unmapped


def test_equal_outputs_of_two_modules_keep_their_own_values() -> None:
    # Two blocks whose ReLU is dead on every case (found with the real checkpoint's stage2/stage3),
    # each container hooked after its child.
    zeros = np.zeros((1, 3), np.float32)
    cases_torch = [outputs({"stage2.1": zeros, "stage2": zeros, "stage3.1": zeros, "stage3": zeros})]
    found = map_outputs(cases_torch, [{"v2": zeros, "v3": zeros}])
    assert found.mapped == {"v2": ["stage2.1", "stage2"], "v3": ["stage3.1", "stage3"]}


def test_integer_outputs_map_only_to_equal_values() -> None:
    ids = np.arange(6, dtype=np.int64).reshape(2, 3)
    found = map_outputs([outputs({"ids": ids, "shifted": ids + 1})], [{"a": ids.astype(np.int32), "b": ids + 2}])
    assert found.mapped == {"a": ["ids"]} and set(found.unmapped) == {"shifted"}
