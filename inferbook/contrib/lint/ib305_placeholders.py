"""IB305: skeleton placeholders (TODO) left in an entry."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ...diagnostics import Diagnostic, Severity
from .base import LintContext, at

CODE = "IB305"
NAME = "placeholders"
SEVERITY: Severity = "error"
RATIONALE = ("`inferbook new` writes TODO where a fact is missing; text placeholders pass the schema, so "
             "this rule keeps an unfinished entry from being merged.")
HINT = "replace the placeholder with the fact and its source, or delete the optional field"

PLACEHOLDER = re.compile(r"^\s*(TODO|TBD|FIXME)\b")


def _strings(value: Any, path: tuple) -> Iterator[tuple[tuple, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _strings(item, (*path, i))


def check(ctx: LintContext) -> Iterator[Diagnostic]:
    for loaded in ctx.entries.values():
        for path, text in _strings(loaded.doc.data, ()):
            if PLACEHOLDER.match(text):
                where = ".".join(str(p) for p in path)
                yield at(loaded, path, CODE, SEVERITY, f"{where} is still a placeholder ({text.strip()[:40]!r})",
                         HINT)
