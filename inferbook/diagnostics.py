"""Findings about knowledge-base files, and how they are printed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]


def escape_data(text: str) -> str:
    """Escape the message part of a GitHub Actions workflow command (%, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value of a GitHub Actions workflow command (also : and ,)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def no_workflow_commands(text: str) -> str:
    """``text`` with nothing a GitHub Actions runner would run as a workflow command: a line
    (ended by LF, CR or CRLF, as the runner splits them) that starts with `::` after any
    blanks, which the runner skips, gets a backslash before the `::`, and the legacy `##[`
    form, recognised anywhere in a line, becomes `##\\[`."""
    parts = re.split(r"(\r\n|\r|\n)", text.replace("##[", "##\\["))
    for i in range(0, len(parts), 2):  # even items are lines, odd ones the breaks between them
        stripped = parts[i].lstrip()
        if stripped.startswith("::"):
            parts[i] = parts[i][: len(parts[i]) - len(stripped)] + "\\" + stripped
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem, located in a file. Codes: IB0xx file and YAML, IB1xx schema,
    IB2xx graph, IB3xx and up lint rules."""

    file: str
    """The file's path as displayed: usually relative to the working directory, unprintable characters escaped."""
    line: int
    """Line number, counted from 1."""
    col: int
    """Column number, counted from 1."""
    code: str
    """The diagnostic code, such as `IB101`, or a lint rule's code."""
    message: str
    """What is wrong, in one line."""
    severity: Severity = "error"
    """`"error"` (`inferbook.load()` raises) or `"warning"` (reported, but loading goes on)."""
    hint: str | None = None
    """How to fix it, when known; printed in parentheses after the message."""

    def format(self) -> str:
        """`file:line:col: CODE message (hint)` for people and editors."""
        text = f"{self.file}:{self.line}:{self.col}: {self.code} {self.message}"
        if self.severity == "warning":
            text = f"{self.file}:{self.line}:{self.col}: {self.code} warning: {self.message}"
        return no_workflow_commands(f"{text} ({self.hint})" if self.hint else text)

    def github(self) -> str:
        """A GitHub Actions workflow command that annotates the pull request: the file and
        title escaped as properties, the message as data, so neither can end the command."""
        msg = escape_data(self.message + (f" ({self.hint})" if self.hint else ""))
        return (f"::{self.severity} file={escape_property(self.file)},line={self.line},col={self.col},"
                f"title={escape_property(self.code)}::{msg}")

    def sort_key(self) -> tuple[str, int, int, str]:
        """The key findings are sorted by: file, line, column, then code."""
        return (self.file, self.line, self.col, self.code)


class KnowledgeBaseError(Exception):
    """Raised by `inferbook.load()` when the knowledge base has errors."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.severity == "error"]
        shown = "\n".join(d.format() for d in errors[:20])
        more = f"\n... and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"{len(errors)} error(s) in the knowledge base:\n{shown}{more}")


def render(diagnostics: Iterable[Diagnostic], fmt: str = "text") -> str:
    """Render findings as plain lines, JSON, or GitHub annotations."""
    items = sorted(diagnostics, key=Diagnostic.sort_key)
    if fmt == "json":  # "##[" only occurs inside JSON strings, where \u005b reads back as "["
        return json.dumps([asdict(d) for d in items], indent=2).replace("##[", "##\\u005b")
    if fmt == "github":
        return "\n".join(d.github() for d in items)
    return "\n".join(d.format() for d in items)
