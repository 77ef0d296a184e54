"""onnxruntime's library from the ``onnxruntime`` wheel, when one of the version the engine binds
(1.31.x) is installed beside this package: the engine then loads it instead of provisioning its own
copy. ``ORT_DYLIB_PATH``, when set, always wins."""

from __future__ import annotations

import importlib.util
import os
import pathlib

#: The onnxruntime minor version the engine binds (its C API version).
BOUND = "1.31."

_NAMES = ("libonnxruntime.so*", "libonnxruntime*.dylib", "onnxruntime.dll")


def wheel_library() -> pathlib.Path | None:
    """The library of an installed ``onnxruntime`` 1.31.x wheel, found without importing it (nor
    ``importlib.metadata``, which costs more than the rest of this package's import)."""
    spec = importlib.util.find_spec("onnxruntime")
    if spec is None or spec.origin is None:
        return None
    package = pathlib.Path(spec.origin).parent
    versions = [d.name.split("-")[1] for d in package.parent.glob("onnxruntime-*.dist-info")]
    if len(versions) != 1 or not versions[0].startswith(BOUND):
        return None
    for pattern in _NAMES:
        found = sorted((package / "capi").glob(pattern))
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
