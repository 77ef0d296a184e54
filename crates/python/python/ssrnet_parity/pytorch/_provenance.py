"""What an export records of where it came from: the module's class and a digest of its weights,
and the versions that made it, written into the ONNX file's ``metadata_props``."""

from __future__ import annotations

import hashlib
from typing import Any


def module_class(module: Any) -> str:
    """The module's class, qualified by its Python module (``torchvision.models.resnet.ResNet``)."""
    cls = type(module)
    return f"{cls.__module__}.{cls.__qualname__}"


def state_dict_sha256(module: Any) -> str:
    """sha256 over the module's state_dict in order: each entry's name, dtype, shape and bytes.
    Equal weights give equal digests across processes and machines."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        flat = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{name}\0{flat.dtype}\0{tuple(tensor.shape)}\0".encode())
        digest.update(flat.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def set_metadata(proto: Any, entries: dict[str, str]) -> None:
    """Sets ``entries`` in the model's ``metadata_props``, keeping the others."""
    kept = {p.key: p.value for p in proto.metadata_props if p.key not in entries}
    del proto.metadata_props[:]
    for key, value in {**kept, **entries}.items():
        prop = proto.metadata_props.add()
        prop.key, prop.value = key, str(value)
