"""IB301: an entry whose every cited source looks unreachable has, in effect, no source."""

from __future__ import annotations

from collections.abc import Iterator

from ...diagnostics import Diagnostic, Severity
from ...refs import iter_references
from .base import LintContext, at

CODE = "IB301"
NAME = "unreachable-sources"
SEVERITY: Severity = "error"
RATIONALE = ("Every fact needs a source a reader can open; citations that all point at placeholder, private "
             "or non-https URLs leave it unsourced (judged offline from the URL text and a list of known-bad "
             "hosts; nothing is fetched).")
HINT = "cite at least one source with a public https:// URL (add it under kb/sources/)"

SKIP_KINDS = ("sources", "chapters", "redirects")


def check(ctx: LintContext) -> Iterator[Diagnostic]:
    for loaded in ctx.entries.values():
        if loaded.kind in SKIP_KINDS:
            continue
        cites = [r for r in iter_references(loaded.entry) if r.edge == "cites"]
        sources = {r.target: ctx.entries[r.target] for r in cites
                   if r.target in ctx.entries and ctx.entries[r.target].kind == "sources"}
        if not sources:
            continue  # no citations at all is the schema's business; dangling ids the graph's
        problems = {sid: ctx.url_problem(s) for sid, s in sources.items()}
        if all(problems.values()):
            listed = "; ".join(f"{sid}: {why}" for sid, why in sorted(problems.items()))
            yield at(loaded, cites[0].path, CODE, SEVERITY,
                     f"every cited source looks unreachable ({listed})", HINT)
