"""Types of the Rust extension under the package (the package's own modules carry their types
inline; ``py.typed`` marks both)."""

from collections.abc import Mapping

import numpy as np

__version__: str

class ParityError(ValueError):
    """A bad file or argument: the message is the line the command line prints after ``error: ``."""

def document(argv: list[str]) -> tuple[str | None, int, list[str], str | None, str | None, str | None]:
    """The command line ``argv`` (no program name) run without printing: ``(json document or None,
    exit code, warnings, error line printed after the document, the report in Markdown or None, the
    report as an HTML page or None)``."""

def cli_main(argv: list[str]) -> int:
    """The ``ssrnet-parity`` command line (program name first) run as the binary runs it."""

def run(
    model: str, feeds: Mapping[str, np.ndarray], backend: str = "ort", threads: int | None = None
) -> dict[str, np.ndarray]:
    """One backend run once on ``feeds``."""

def values(
    model: str, cases: list[dict[str, np.ndarray]], backend: str = "ort", threads: int | None = None
) -> list[dict[str, np.ndarray]]:
    """Every value the model computes on one backend for each case, by value name."""

def origins(model: str) -> dict[str, tuple[str | None, str | None, str | None]]:
    """The PyTorch module of each value as the export records it: ``{value: (module, class, source)}``."""

def check_arrays(
    model: str,
    cases: list[dict[str, np.ndarray]],
    expected: list[dict[str, np.ndarray]],
    backends: list[str] | None = None,
    atol: float | None = None,
    rtol: float | None = None,
) -> tuple[str, int, str, str]:
    """The JSON of a check of in-memory cases, its exit code, and the report in Markdown and HTML."""
