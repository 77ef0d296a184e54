"""ssrnet-parity from Python: proves that an ONNX export computes what PyTorch computes, on
onnxruntime, tract, candle and RTen.

Each function is one subcommand of the ``ssrnet-parity`` command line, run inside this package's
Rust extension with the GIL released: the same checks, the same messages, and a ``Report`` whose
``to_dict()`` is the JSON document the command line prints with ``--format json``. A bad file or
argument raises ``ParityError`` (a ``ValueError``) with the command line's one-line message; a
backend that cannot run a model is an entry of the report. Ctrl-C stops a check or compare between
cases and raises ``KeyboardInterrupt``.

    >>> import ssrnet_parity
    >>> report = ssrnet_parity.check()          # the committed demo goldens, every backend
    >>> report.passed, report.verdict
    (True, 'pass')
"""

from . import _ort

_ort.use_wheel_library()

from ._commands import (  # noqa: E402
    ParityWarning,
    check,
    check_arrays,
    compare,
    diff,
    inspect,
    localize,
    merge,
    predict,
    record,
    run,
    values,
)
from ._native import ParityError, __version__  # noqa: E402
from ._report import Report  # noqa: E402

__all__ = [
    "ParityError",
    "ParityWarning",
    "Report",
    "__version__",
    "check",
    "check_arrays",
    "compare",
    "diff",
    "inspect",
    "localize",
    "merge",
    "predict",
    "record",
    "run",
    "values",
]
