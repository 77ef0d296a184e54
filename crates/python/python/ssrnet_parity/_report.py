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
    command line prints after ``error:`` when the verdict is an error.
    """

    def __init__(self, command: str, document: dict[str, Any], exit_code: int, error: str | None = None):
        self.command = command
        self._document = document
        self.exit_code = exit_code
        self.error = error

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

    def _repr_markdown_(self) -> str:
        return markdown(self.command, self._document)


def markdown(command: str, doc: dict[str, Any]) -> str:
    """A report as Markdown: the verdict, what was compared, one table row per side."""
    lines = [f"### ssrnet-parity {command}: {str(doc.get('verdict', 'error')).upper()}", ""]
    for key in ("model", "against", "reference", "profile", "cases"):
        if key in doc and doc[key] is not None:
            lines.append(f"- **{key}**: {_cell(doc[key])}")
    if "culprit" in doc and doc["culprit"]:
        lines.append(f"- **culprit**: {_cell(_name_of(doc['culprit']))}")
    lines.append("")
    sides = doc.get("backends") or doc.get("runs") or []
    if sides:
        lines += ["| side | verdict | worst max abs error | note |", "|---|---|---|---|"]
        for side in sides:
            worst = max(
                (o.get("max_abs") or 0.0 for o in side.get("outputs", []) if isinstance(o, dict)),
                default=None,
            )
            note = side.get("error") or side.get("skipped") or ""
            name = side.get("name") or side.get("backend") or "?"
            shown = "-" if worst is None else f"{worst:.3g}"
            lines.append(f"| {_cell(name)} | {_cell(side.get('verdict', ''))} | {shown} | {_cell(note)} |")
    return "\n".join(lines) + "\n"


def _name_of(culprit: Any) -> Any:
    return culprit.get("node", culprit) if isinstance(culprit, dict) else culprit


def _cell(value: Any) -> str:
    """A value for a Markdown table cell: pipes and newlines escaped."""
    return str(value).replace("|", "\\|").replace("\n", " ")
