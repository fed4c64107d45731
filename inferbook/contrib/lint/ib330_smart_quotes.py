"""IB330: typographic quotes typed into the text."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...content_checks import text_fields
from ...diagnostics import Diagnostic, Severity
from .base import LintContext, in_text

CODE = "IB330"
NAME = "smart-quotes"
SEVERITY: Severity = "warning"
RATIONALE = ("Entries use straight quotes and the site's typesetter curls them; typed curly quotes make "
             "search miss ('NVIDIA's' vs 'NVIDIA’s'), break copied code and flags, and make diffs noisy.")
HINT = "replace them with straight quotes (' and \")"

SMART = re.compile(r"[\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u2032\u2033]")


def prose(entry: object) -> Iterator[tuple[tuple, str]]:
    """(path, text) of every free-text field: bodies, summaries, FAQs, formulas, notes, definitions."""
    for path, text, _ in text_fields(entry):  # type: ignore[arg-type]
        yield path, text
    notes = getattr(entry, "notes", None)
    if notes:
        yield ("notes",), notes
    for i, item in enumerate(getattr(entry, "tool_definitions", ())):
        yield ("tool_definitions", i, "definition"), item.definition


def check(ctx: LintContext) -> Iterator[Diagnostic]:
    for loaded in ctx.entries.values():
        for path, text in prose(loaded.entry):
            found = list(SMART.finditer(text))
            if found:
                shown = "".join(sorted({m.group(0) for m in found}))
                yield in_text(loaded, path, text, found[0].start(), CODE, SEVERITY,
                              f"{'.'.join(map(str, path))}: {len(found)} typographic quote(s) ({shown})", HINT)
