"""Cases: the inputs a module is run on, each a named call (positional args, keyword args).

``cases`` given to ``record`` and ``verify`` may be the example args (a tensor, a tuple of them, or a
dict of keyword tensors), a list of those, any other iterable of them such as a DataLoader (its first
``limit`` items), or ``random_cases(example, n)``. ``verify``'s default adds to the example 3 seeded
random cases and, per dynamic axis, one case of another size on that axis: what a trace bakes in
from the example (a constant, one branch of control flow) then shows as a mismatch."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._native import ParityError

#: How many items of an iterable of cases (a DataLoader, say) are taken when no limit is given.
DEFAULT_LIMIT = 16


@dataclass
class Case:
    """One call of the module: ``module(*args, **kwargs)``, named for the golden set."""

    name: str
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    source: str = "given"

    def leaves(self) -> list[Any]:
        """The call's tensors in the exporter's order: positional, then keyword."""
        return list(self.args) + list(self.kwargs.values())


def as_call(item: Any) -> tuple[tuple, dict[str, Any]]:
    """One example as (args, kwargs): a tensor, a tuple or list of them, or a dict of keyword ones."""
    import torch

    if isinstance(item, torch.Tensor):
        return (item,), {}
    if isinstance(item, Mapping):
        return (), dict(item)
    if isinstance(item, (tuple, list)):
        return tuple(item), {}
    raise ParityError(f"a case must be a tensor, a tuple of tensors or a dict of them, not {type(item).__name__}")


def normalise(cases: Any, limit: int | None = None) -> list[Case]:
    """``cases`` as a list of named ``Case``: one example, a list of them, or an iterable's first ``limit``."""
    import torch

    if isinstance(cases, Case):
        return [cases]
    if isinstance(cases, (torch.Tensor, Mapping, tuple)):
        args, kwargs = as_call(cases)
        return [Case("example", args, kwargs, "the example")]
    if isinstance(cases, list) and all(isinstance(c, Case) for c in cases):
        return list(cases)
    if not isinstance(cases, Iterable):
        raise ParityError(f"cases must be an example, a list of them or an iterable, not {type(cases).__name__}")
    taken = list(itertools.islice(iter(cases), limit or DEFAULT_LIMIT))
    if not taken:
        raise ParityError("cases is empty: give at least one example")
    out = []
    for i, item in enumerate(taken):
        if isinstance(item, Case):
            out.append(item)
        else:
            args, kwargs = as_call(item)
            out.append(Case(f"case_{i:03d}", args, kwargs, f"item {i} of the cases given"))
    return out


def random_cases(example: Any, n: int, seed: int = 0) -> list[Case]:
    """``n`` seeded cases shaped and typed like ``example``: floats standard normal, integers
    uniform within the example's own range, bools fair. Equal seeds give equal cases."""
    args, kwargs = as_call(example)
    return [
        Case(
            f"random_s{seed + i}",
            tuple(_like(t, seed + i, k) for k, t in enumerate(args)),
            {name: _like(t, seed + i, len(args) + k) for k, (name, t) in enumerate(kwargs.items())},
            f"random like the example, seed {seed + i}",
        )
        for i in range(n)
    ]


def resized(example: Any, axes: Mapping[str, Mapping[int, str]], names: list[str], seed: int = 0) -> list[Case]:
    """Per dynamic axis (``{input name: {axis: name}}``, inputs named in order by ``names``), one
    random case whose size on that axis differs from the example's (one more); every input sharing
    the axis's name is resized with it, as a batch axis is."""
    args, kwargs = as_call(example)
    tensors = dict(zip(names, list(args) + list(kwargs.values())))
    out: list[Case] = []
    symbols = sorted({symbol for dims in axes.values() for symbol in dims.values()})
    for i, symbol in enumerate(symbols):
        sizes = {n: {a for a, s in axes.get(n, {}).items() if s == symbol} for n in tensors}
        grown = {n: _like(t, seed + 100 + i, k, {a: t.shape[a] + 1 for a in sizes[n]})
                 for k, (n, t) in enumerate(tensors.items())}
        values = list(grown.values())
        out.append(Case(f"dynamic_{symbol}", tuple(values[: len(args)]),
                        dict(zip(kwargs, values[len(args):])), f"axis '{symbol}' one longer than the example's"))
    return out


def _like(t: Any, seed: int, position: int, sizes: Mapping[int, int] | None = None) -> Any:
    """A random tensor like ``t`` (its dtype, its shape with ``sizes`` changed), from ``seed`` and the
    tensor's position so that two inputs of a case differ."""
    import torch

    if not isinstance(t, torch.Tensor):
        return t
    shape = list(t.shape)
    for axis, size in (sizes or {}).items():
        shape[axis] = size
    g = torch.Generator().manual_seed(seed * 1009 + position)
    if t.dtype == torch.bool:
        return torch.rand(shape, generator=g) < 0.5
    if t.dtype.is_floating_point:
        return torch.randn(shape, generator=g, dtype=torch.float32).to(t.dtype)
    if t.dtype.is_complex:
        raise ParityError("complex inputs cannot be drawn: give the cases")
    low, high = (int(t.min()), int(t.max())) if t.numel() else (0, 1)
    return torch.randint(low, high + 1, shape, generator=g, dtype=torch.int64).to(t.dtype)
