"""IB302: a source entry whose URL looks unreachable."""

from __future__ import annotations

from collections.abc import Iterator

from ...diagnostics import Diagnostic, Severity
from .base import LintContext, at

CODE = "IB302"
NAME = "source-url"
SEVERITY: Severity = "warning"
RATIONALE = ("A source's URL is how readers check a fact; plain http, placeholder or private hosts, IP "
             "addresses and link shorteners break or hide it (judged offline from the URL text and a list "
             "of known-bad hosts; nothing is fetched).")
HINT = "use the canonical https:// address of the document (an archive.org copy if the original is gone)"


def check(ctx: LintContext) -> Iterator[Diagnostic]:
    for loaded in ctx.of_kind("sources"):
        problem = ctx.url_problem(loaded)
        if problem:
            yield at(loaded, ("url",), CODE, SEVERITY, f"url looks unreachable: {problem}", HINT)
