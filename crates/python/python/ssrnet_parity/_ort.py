"""onnxruntime's library from the ``onnxruntime`` wheel, when one of the version the engine binds
(1.31.x) is installed beside this package: the engine then loads it instead of provisioning its own
copy. ``ORT_DYLIB_PATH``, when set, always wins."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import pathlib

#: The onnxruntime minor version the engine binds (its C API version).
BOUND = "1.31."

_NAMES = ("libonnxruntime.so*", "libonnxruntime*.dylib", "onnxruntime.dll")


def wheel_library() -> pathlib.Path | None:
    """The library of an installed ``onnxruntime`` 1.31.x wheel, without importing it."""
    try:
        version = importlib.metadata.version("onnxruntime")
    except importlib.metadata.PackageNotFoundError:
        return None
    spec = importlib.util.find_spec("onnxruntime")
    if not version.startswith(BOUND) or spec is None or spec.origin is None:
        return None
    capi = pathlib.Path(spec.origin).parent / "capi"
    for pattern in _NAMES:
        found = sorted(capi.glob(pattern))
        if found:
            return found[0]
    return None


def use_wheel_library() -> None:
    """Points ``ORT_DYLIB_PATH`` at the wheel's library, unless the variable is set already."""
    if os.environ.get("ORT_DYLIB_PATH"):
        return
    library = wheel_library()
    if library is not None:
        os.environ["ORT_DYLIB_PATH"] = str(library)
