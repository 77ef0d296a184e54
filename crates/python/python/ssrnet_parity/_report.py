"""The report of a check, compare, diff, merge or localize: the CLI's JSON document, as an object."""

from __future__ import annotations

import copy
import html as _html
import os
import tempfile
from pathlib import Path
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
    HTML page ``--format html`` writes (or, where HTML is not shown, the Markdown report
    ``--format markdown`` prints); ``save_html(path)`` writes that page.
    """

    def __init__(
        self,
        command: str,
        document: dict[str, Any],
        exit_code: int,
        error: str | None = None,
        markdown: str | None = None,
        html: str | None = None,
    ):
        self.command = command
        self._document = document
        self.exit_code = exit_code
        self.error = error
        self._markdown = markdown
        self._html = html

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

    def html(self) -> str | None:
        """The self-contained HTML page ``--format html`` writes for this report."""
        return self._html

    def save_html(self, path: str | os.PathLike) -> str:
        """Writes the page ``--format html`` writes to ``path`` (whole or not at all); returns it."""
        if self._html is None:
            raise ValueError(f"a {self.command} report has no HTML page")
        return write_page(path, self._html)

    def _repr_html_(self) -> str | None:
        """The page in a sandboxed frame, so its styles and policy stay its own in a notebook."""
        return framed(self._html) if self._html is not None else None


def write_page(path: str | os.PathLike, page: str) -> str:
    """``page`` written to ``path`` through a temporary file beside it, renamed into place."""
    path = Path(path)
    fd, staged = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent if str(path.parent) else ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
        os.chmod(staged, 0o644)  # a report to share, not mkstemp's 0600
        os.replace(staged, path)
    except BaseException:
        Path(staged).unlink(missing_ok=True)
        raise
    return str(path)


def framed(page: str, height: int = 640) -> str:
    """``page`` as a sandboxed ``<iframe srcdoc>`` (scripts allowed, nothing else)."""
    return (f'<iframe sandbox="allow-scripts" style="width:100%;height:{height}px;border:0" '
            f'srcdoc="{_html.escape(page, quote=True)}"></iframe>')
