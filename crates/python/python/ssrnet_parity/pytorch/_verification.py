"""``Verification``: what ``verify`` found, one row per export x backend, and the files it wrote."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._report import framed, write_page
from . import _page
from ._export import Exports

#: The verdicts of a row that do not make a verification fail: the runtime could not run the export.
NOT_RUN = ("unsupported", "skipped")


@dataclass
class Row:
    """One export on one backend."""

    export: str
    backend: str
    #: ``pass``, ``fail``, ``error``, ``unsupported: OP, ...`` or ``skipped: why``.
    verdict: str
    #: The largest absolute error over every output and case (None when nothing was compared).
    max_abs: float | None = None
    #: With ``fail``: localize's culprit or crossing (node, op, value, module, module_class, source).
    culprit: dict[str, Any] | None = None
    #: localize's verdict (``culprit`` or ``accumulation``) with ``fail``.
    localized: str | None = None
    #: Why it errored, or what stopped localize.
    error: str | None = None
    #: With ``fail``: the first case that failed (the one localized).
    case: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def module(self) -> str:
        """The culprit's PyTorch module as ``path (Class)``, or ``-``."""
        if not self.culprit or self.culprit.get("module") is None:
            return "-"
        module = self.culprit["module"] or "<model>"
        cls = self.culprit.get("module_class")
        return f"{module} ({cls.rsplit('.', 1)[-1]})" if cls else module


@dataclass
class Verification:
    """``verify``'s result: ``rows`` (export x backend), the exports (with the exporters that failed),
    the cases, and every file written (``None`` when the temporary directory was removed)."""

    rows: list[Row]
    exports: Exports
    cases: list[str]
    out: Path | None
    files: dict[str, str] = field(default_factory=dict)
    #: The HTML page of each check and localize run, by section id (``check-legacy``).
    pages: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def passed(self) -> bool:
        """Every export passes on every backend that can run it (an exporter that failed makes no
        export and no row; there must be at least one export)."""
        runs = [r for r in self.rows if not r.verdict.startswith(NOT_RUN)]
        return bool(self.exports.files) and bool(runs) and all(r.verdict == "pass" for r in runs)

    def table(self, markdown: bool = False) -> str:
        """One line per export x backend: verdict, max abs error, culprit module; then the
        exporters that failed."""
        header = ["export", "backend", "verdict", "max abs error", "culprit module", "culprit node"]
        lines = [[r.export, r.backend, r.verdict, _sci(r.max_abs), r.module, _node(r.culprit)] for r in self.rows]
        lines += [[variant, "-", f"export failed: {why}", "-", "-", "-"] for variant, why in self.exports.failures.items()]
        if markdown:
            escape = lambda s: s.replace("|", "\\|").replace("\n", " ")  # noqa: E731
            out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            out += ["| " + " | ".join(escape(c) for c in line) + " |" for line in lines]
            return "\n".join(out)
        widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        return "\n".join(fmt.format(*line).rstrip() for line in [header, *lines])

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "rows": [r.to_dict() for r in self.rows],
            "exports": self.exports.to_dict(),
            "cases": list(self.cases),
            "out": None if self.out is None else str(self.out),
            "files": dict(self.files),
        }

    def __repr__(self) -> str:
        failed = [f"{r.export}/{r.backend}" for r in self.rows if r.verdict in ("fail", "error")]
        state = "passed" if self.passed else f"FAILED ({', '.join(failed) or 'nothing ran'})"
        return f"<Verification {state}: {len(self.exports.files)} export(s) x {len(self.cases)} case(s)>"

    def __str__(self) -> str:
        return ("PASS" if self.passed else "FAIL") + "\n" + self.table()

    def html(self) -> str:
        """One self-contained page: the table, each cell linking to its check or localize report."""
        return _page.render(self, self.pages)

    def save_html(self, path: str | os.PathLike) -> str:
        """Writes ``html()`` to ``path`` (whole or not at all); returns it."""
        return write_page(path, self.html())

    def _repr_html_(self) -> str:
        return framed(self.html())

    def _repr_markdown_(self) -> str:
        head = f"### verify: {'PASS' if self.passed else 'FAIL'} ({len(self.cases)} cases)\n\n"
        return head + self.table(markdown=True) + "\n"


def _sci(x: float | None) -> str:
    return "-" if x is None else f"{x:.3e}"


def _node(culprit: dict[str, Any] | None) -> str:
    return "-" if not culprit else f"{culprit['node']} ({culprit['op']})"
