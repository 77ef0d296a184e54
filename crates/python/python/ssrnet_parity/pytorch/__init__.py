"""The PyTorch side of ssrnet-parity: a module's ONNX exports, written and described, and golden
sets of PyTorch's own outputs and intermediates for them.

Needs the ``torch`` extra (``pip install ssrnet_parity[torch]``: torch, onnx and onnxscript).

    >>> from ssrnet_parity.pytorch import export, record
    >>> exports = export(model, (x,), "out/", dynamic="batch")
    >>> exports.files            # {"legacy": Path("out/legacy.onnx"), "dynamo": Path("out/dynamo.onnx")}
    >>> exports.failures         # {exporter: torch's message} for an exporter that could not
    >>> record(model, "out/golden", model=exports["dynamo"], cases=random_cases((x,), 4))
    >>> result = verify(model, (x,))   # export, record, check on four backends, localize failures
    >>> print(result.table())
"""

from ._cases import Case, random_cases
from ._export import Exports, export
from ._record import Reference, record
from ._verification import Row, Verification
from ._verify import verify

__all__ = ["Case", "Exports", "Reference", "Row", "Verification", "export", "random_cases", "record", "verify"]
