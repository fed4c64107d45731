"""Findings about knowledge-base files, and how they are printed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem, located in a file. Codes: IB0xx file and YAML, IB1xx schema,
    IB2xx graph, IB3xx and up lint rules."""

    file: str
    line: int
    col: int
    code: str
    message: str
    severity: Severity = "error"
    hint: str | None = None

    def format(self) -> str:
        """`file:line:col: CODE message (hint)` for people and editors."""
        text = f"{self.file}:{self.line}:{self.col}: {self.code} {self.message}"
        if self.severity == "warning":
            text = f"{self.file}:{self.line}:{self.col}: {self.code} warning: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text

    def github(self) -> str:
        """A GitHub Actions workflow command that annotates the pull request."""
        title = self.code
        msg = self.message + (f" ({self.hint})" if self.hint else "")
        msg = msg.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return f"::{self.severity} file={self.file},line={self.line},col={self.col},title={title}::{msg}"

    def sort_key(self) -> tuple[str, int, int, str]:
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
    if fmt == "json":
        return json.dumps([asdict(d) for d in items], indent=2)
    if fmt == "github":
        return "\n".join(d.github() for d in items)
    return "\n".join(d.format() for d in items)
