"""IB306: numbers that rest on a secondary source (press coverage, a third-party catalogue)."""

from __future__ import annotations

from collections.abc import Iterator

from ...diagnostics import Diagnostic, Severity
from ...provenance import entry_number_sources
from ...schema import Source
from ...schema.base import REFERENCE_KINDS
from .base import LintContext, at

CODE = "IB306"
NAME = "secondary-sources"
SEVERITY: Severity = "warning"
RATIONALE = ("Reference numbers should come from the maker's own datasheet, config or paper; a press report "
             "or catalogue can round, mix up variants or print sparse figures as dense.")
HINT = ("replace the citation with the maker's publication when one is found, or keep it and say in notes "
        "why no primary source is available")


def check(ctx: LintContext) -> Iterator[Diagnostic]:
    sources = {eid: loaded.entry for eid, loaded in ctx.entries.items()
               if loaded.kind == "sources" and isinstance(loaded.entry, Source)}
    for loaded in ctx.of_kind(*REFERENCE_KINDS):
        rows = [r for r in entry_number_sources(loaded.entry, sources) if r.secondary]
        if not rows:
            continue
        cited = sorted({r.source_id for r in rows if r.source_id})
        fields = ", ".join(r.field for r in rows)
        first = tuple(rows[0].field.split("."))
        yield at(loaded, first, CODE, SEVERITY,
                 f"{len(rows)} number(s) rest on secondary source(s) {', '.join(cited)}: {fields}", HINT)
