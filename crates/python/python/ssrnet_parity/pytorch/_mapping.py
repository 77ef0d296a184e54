"""Which ONNX value holds which sub-module output.

Names are not used, so legacy scope names, dynamo's, or a simplifier's renaming all map alike. A
module output maps to the value of the same shape and kind whose numbers are nearest over every
mapping case taken together (relative L2 for floating point; integers and bools must be equal), if
that distance is at most ``BOUND``. On a tie (a dead layer, an identity copy) a container takes the
value one of its own sub-modules took (hooks fire children first), else the first value in graph
order not taken yet, so two modules with equal outputs keep their own values. The bound tells apart
what an exporter keeps from what it fuses away (a Conv's output before a BatchNorm folded into it
differs by far more) while a parity error of the size ``localize`` hunts (1e-3 and below) still
maps. A larger error (a real bug) is still mapped where the export records each node's module
(dynamo's metadata, legacy scope names): to the last value of that shape in the module's scope."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._hooks import Output

#: The largest relative L2 distance at which a module output is taken to be a value.
BOUND = 1e-2

METHOD = (
    "forward hooks on every sub-module call; each output mapped to the onnxruntime value of the same shape "
    f"and kind with the nearest numbers over the mapping cases (relative L2 <= {BOUND:g}; integers and bools "
    "equal); on a tie its sub-module's, else the first not taken; an output farther than that from every value "
    "maps to the last value of its shape its module's scope computes in the export, where the export records scopes"
)


@dataclass
class Mapping:
    """``mapped``: ``{value: [module output key, ...]}`` (innermost first); ``unmapped``: ``{key:
    reason}``; ``classes``: ``{key: class name}`` for every output hooked; ``by_scope``: ``{key:
    distance}`` for the outputs mapped by the export's scope rather than by their numbers."""

    mapped: dict[str, list[str]] = field(default_factory=dict)
    unmapped: dict[str, str] = field(default_factory=dict)
    classes: dict[str, str] = field(default_factory=dict)
    by_scope: dict[str, float] = field(default_factory=dict)

    def value_of(self) -> dict[str, str]:
        """``{module output key: value}`` for the mapped ones."""
        return {key: value for value, keys in self.mapped.items() for key in keys}


def map_outputs(
    outputs: list[dict[str, Output]],
    values: list[dict[str, np.ndarray]],
    scopes: dict[str, str] | None = None,
) -> Mapping:
    """Maps the module outputs of each case (``outputs[i]``) to the ONNX values of the same case
    (``values[i]``, every node output in graph order). ``scopes`` (``{value: module}``, what the
    export records) maps, second, an output whose numbers are too far from every value: to the
    last value of its shape that its module's scope computes, so that a bug of more than the
    bound still leaves its module mapped (``by_scope``, with the distance)."""
    found = Mapping(classes={key: out.module_class for key, out in outputs[0].items()})
    too_far: dict[str, tuple[list[str], dict[str, float]]] = {}
    for key in outputs[0]:
        mine = [case.get(key) for case in outputs]
        if any(m is None for m in mine):
            found.unmapped[key] = "not called on every case (control flow that depends on the input)"
            continue
        arrays = [m.value for m in mine]
        candidates = [n for n in values[0] if all(_fits(a, v.get(n)) for a, v in zip(arrays, values))]
        if not candidates:
            found.unmapped[key] = f"no value of the graph has its shape {list(arrays[0].shape)} and dtype {arrays[0].dtype}"
            continue
        # The first case rules out most candidates; the others are measured over every case.
        first = {n: _distance(arrays[:1], [values[0][n]]) for n in candidates}
        near = [n for n, d in first.items() if d <= BOUND]
        distances = {n: _distance(arrays, [v[n] for v in values]) for n in near} if near else first
        nearest = min(distances.values())
        tied = [n for n, d in distances.items() if d == nearest]
        own = [n for n in tied if any(k.startswith(mine[0].module + ".") for k in found.mapped.get(n, []))]
        best = next(iter(own), None) or next((n for n in tied if n not in found.mapped), tied[0])
        if nearest <= BOUND:
            found.mapped.setdefault(best, []).append(key)
        else:
            too_far[key] = (candidates, first)
            found.unmapped[key] = (
                f"no value of the graph holds it (nearest of its shape, '{best}', differs by {nearest:.3g} "
                "relative L2): the exporter computed it inside a fused node (a BatchNorm folded into the Conv "
                "before it, say) or not at all"
            )
    for key, (candidates, first) in too_far.items():
        value = _in_scope(key, outputs[0][key].module, candidates, found, scopes or {})
        if value is not None:
            found.mapped.setdefault(value, []).append(key)
            found.by_scope[key] = round(first[value], 6)
            del found.unmapped[key]
    return found


def _in_scope(key: str, module: str, candidates: list[str], found: Mapping, scopes: dict[str, str]) -> str | None:
    """The last candidate not mapped yet that the export computes in ``module``'s scope (its k-th
    call written ``module_k``, as the exporters write it)."""
    call = key.split("#")[1].split("[")[0] if "#" in key else None
    names = {module} | ({f"{module}_{call}"} if call else set())
    mine = [n for n in candidates if scopes.get(n) in names and n not in found.mapped]
    return mine[-1] if mine else None


def _fits(mine: np.ndarray, value: np.ndarray | None) -> bool:
    """Whether ``value`` can hold ``mine``: the same shape, and both floating point or both not."""
    if value is None or value.shape != mine.shape:
        return False
    return (mine.dtype.kind in "fc") == (value.dtype.kind in "fc")


def _distance(mine: list[np.ndarray], theirs: list[np.ndarray]) -> float:
    """Relative L2 of ``theirs`` from ``mine`` over all cases (0 or inf for integers and bools),
    in the arrays' own precision (ample for a bound of 1e-2)."""
    if mine[0].dtype.kind not in "fc":
        same = all(np.array_equal(a.astype(np.int64), b.astype(np.int64)) for a, b in zip(mine, theirs))
        return 0.0 if same else float("inf")
    norm = float(np.sqrt(sum(float(np.linalg.norm(a)) ** 2 for a in mine)))
    diff = float(np.sqrt(sum(float(np.linalg.norm(a - b.astype(a.dtype, copy=False))) ** 2 for a, b in zip(mine, theirs))))
    if not np.isfinite(diff):
        return float("inf")
    return diff / norm if norm > 0 else (0.0 if diff == 0 else float("inf"))
