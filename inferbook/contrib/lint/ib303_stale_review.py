"""IB303: an entry nobody has checked against its sources for over a year."""

from __future__ import annotations

from collections.abc import Iterator

from ...diagnostics import Diagnostic, Severity
from .base import LintContext, at

CODE = "IB303"
NAME = "stale-review"
SEVERITY: Severity = "warning"
RATIONALE = ("Specs get revised, software changes defaults and links move; an entry not reviewed for over "
             "a year has probably drifted from its sources.")
HINT = "re-read the entry against its sources, fix what changed, and set last_reviewed to today"

MAX_AGE_DAYS = 365


def check(ctx: LintContext) -> Iterator[Diagnostic]:
    for loaded in ctx.entries.values():
        if loaded.kind == "redirects":
            continue
        age = (ctx.today - loaded.entry.last_reviewed).days
        if age > MAX_AGE_DAYS:
            yield at(loaded, ("last_reviewed",), CODE, SEVERITY,
                     f"last reviewed {loaded.entry.last_reviewed} ({age} days ago; the limit is {MAX_AGE_DAYS})",
                     HINT)
