"""Every sub-module's output on one call of a module, recorded by forward hooks.

Each call of a sub-module is its own entry: the first is keyed by the module's path
(``encoder.layer.1.attention``), the k-th after it by ``path#k``; an output of several tensors (a
tuple, a dict, nested) gives one entry per tensor, ``key[i]`` in flattening order. Entries come in
the order the calls finish (a module after its own sub-modules)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _provenance


@dataclass
class Output:
    """One tensor a sub-module call produced, with the module's path and qualified class (as the
    dynamo exporter's ``pkg.torch.onnx.class_hierarchy`` names it)."""

    module: str
    module_class: str
    value: np.ndarray


def module_outputs(module: Any, args: tuple, kwargs: dict[str, Any]) -> tuple[dict[str, Output], Any]:
    """``({key: Output}, the module's own output)`` of ``module(*args, **kwargs)`` under ``no_grad``."""
    import torch

    recorded: dict[str, Output] = {}
    calls: dict[str, int] = {}
    handles = []

    def hook(path: str, sub: Any):
        cls = _provenance.module_class(sub)

        def record(_module, _args, output):
            call = calls.get(path, 0)
            calls[path] = call + 1
            key = path if call == 0 else f"{path}#{call}"
            leaves = [t for t in torch.utils._pytree.tree_leaves(output) if isinstance(t, torch.Tensor)]
            for i, tensor in enumerate(leaves):
                name = key if len(leaves) == 1 else f"{key}[{i}]"
                recorded[name] = Output(path, cls, to_numpy(tensor))

        return record

    for path, sub in module.named_modules():
        if path:
            handles.append(sub.register_forward_hook(hook(path, sub)))
    try:
        with torch.no_grad():
            result = module(*args, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    return recorded, result


def to_numpy(tensor: Any) -> np.ndarray:
    """A tensor as a numpy array of its own dtype (bfloat16, which numpy lacks, as float32)."""
    import torch

    tensor = tensor.detach().cpu()
    if tensor.dtype == torch.bfloat16:
        tensor = tensor.to(torch.float32)
    return tensor.contiguous().numpy().copy()
