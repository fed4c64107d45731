"""IB304: a summary that is not one short sentence."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...diagnostics import Diagnostic, Severity
from .base import LintContext, at, in_text

CODE = "IB304"
NAME = "summary-length"
SEVERITY: Severity = "warning"
RATIONALE = ("Summaries appear in search results, tooltips, link previews and tables; one sentence that fits "
             "those places reads better than a paragraph cut off mid-word (the schema's hard limit is 240).")
HINT = "keep the summary to one sentence of at most 220 characters; move detail into the body"

MAX_CHARS = 220
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.", "approx.", "no.", "fig.", "al.")
_SENTENCE_END = re.compile(r"[.!?][\"')\]]?\s+(?=[A-Z])")


def sentence_breaks(text: str) -> list[int]:
    """Offsets where a new sentence starts inside ``text`` (abbreviations excluded)."""
    out = []
    for m in _SENTENCE_END.finditer(text):
        before = text[: m.start() + 1].lower()
        if before.endswith(_ABBREVIATIONS) or re.search(r"\b[a-z]\.$", before):
            continue
        out.append(m.end())
    return out


def check(ctx: LintContext) -> Iterator[Diagnostic]:
    for loaded in ctx.entries.values():
        summary = getattr(loaded.entry, "summary", None)
        if not summary:
            continue
        if len(summary) > MAX_CHARS:
            yield at(loaded, ("summary",), CODE, SEVERITY,
                     f"summary is {len(summary)} characters (aim for at most {MAX_CHARS})", HINT)
        breaks = sentence_breaks(summary)
        if breaks:
            yield in_text(loaded, ("summary",), summary, breaks[0], CODE, SEVERITY,
                          f"summary has {len(breaks) + 1} sentences (aim for one)", HINT)
