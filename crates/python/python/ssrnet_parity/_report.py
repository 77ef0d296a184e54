"""The report of a check, compare, diff, merge or localize: the CLI's JSON document, as an object."""

from __future__ import annotations

import copy
from typing import Any

#: The exit code each verdict gives, as on the command line.
_EXIT = {"pass": 0, "none": 0, "fail": 1, "culprit": 1, "accumulation": 1, "error": 2}


class Report:
    """What a run concluded.

    ``to_dict()`` is the JSON document ``ssrnet-parity <command> --format json`` prints for the same
    call. ``verdict`` is ``"pass"``, ``"fail"`` or ``"error"`` (check, compare, diff, merge), or
    ``"none"``, ``"culprit"``, ``"accumulation"`` or ``"error"`` (localize). ``exit_code`` is the
    command line's: 0 pass (or no culprit), 1 a mismatch, 2 an error. ``error`` is the line the
    command line prints after ``error:`` when the verdict is an error. In a notebook it shows as the
    Markdown report ``--format markdown`` prints.
    """

    def __init__(
        self,
        command: str,
        document: dict[str, Any],
        exit_code: int,
        error: str | None = None,
        markdown: str | None = None,
    ):
        self.command = command
        self._document = document
        self.exit_code = exit_code
        self.error = error
        self._markdown = markdown

    @property
    def verdict(self) -> str:
        """The report's verdict word (see the class docstring)."""
        return str(self._document.get("verdict", "error"))

    @property
    def passed(self) -> bool:
        """Whether the run passed: exit code 0."""
        return self.exit_code == 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON document the command line prints with ``--format json``, as a new dict."""
        return copy.deepcopy(self._document)

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        doc = self._document
        sides = doc.get("backends") or doc.get("runs") or []
        cases = doc.get("cases")
        parts = [f"{len(sides)} side(s)"]
        if isinstance(cases, int):
            parts.append(f"{cases} case(s)")
        model = doc.get("model", "?")
        return f"<Report {self.command} {self.verdict.upper()}: {model}, {', '.join(parts)}>"

    def _repr_markdown_(self) -> str | None:
        """The Markdown report the command line prints with ``--format markdown``."""
        return self._markdown
