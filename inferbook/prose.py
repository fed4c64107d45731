"""Checks on the prose of articles that need the whole knowledge base: every
`{{ expression }}` in bodies and FAQ answers must evaluate."""

from __future__ import annotations

import re

from .diagnostics import Diagnostic
from .expressions import Evaluator
from .kb import KnowledgeBase
from .loader import LoadedEntry
from .yamlio import text_position

TEXT_FIELDS = ("body",)


def _text_fields(loaded: LoadedEntry) -> list[tuple[tuple, str]]:
    entry = loaded.entry
    fields: list[tuple[tuple, str]] = []
    for name in TEXT_FIELDS:
        text = getattr(entry, name, None)
        if text:
            fields.append(((name,), text))
    for i, item in enumerate(getattr(entry, "faq", ())):
        fields.append((("faq", i, "a"), item.a))
    return fields


_RELATIVE_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)")


def _link_problems(kb: KnowledgeBase, text: str) -> list[tuple[int, str]]:
    """Links that are neither absolute, anchors, nor the id of an entry."""
    problems = []
    for m in _RELATIVE_LINK.finditer(text):
        target = m.group(1)
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", target) or target.startswith("#"):
            continue
        if target not in kb:
            problems.append((m.start(1), f"link target '{target}' is not an entry id"))
    return problems


def check_expressions(kb: KnowledgeBase, entries: dict[str, LoadedEntry]) -> list[Diagnostic]:
    """IB207 for each expression that does not evaluate; IB208 for each Markdown link
    that is not absolute, an anchor, or an entry id (`[KV cache](kv-cache)`)."""
    evaluator = Evaluator(kb)
    diags = []
    for loaded in entries.values():
        for path, text in _text_fields(loaded):
            for offset, message in _link_problems(kb, text):
                mark = text_position(loaded.doc, path, text, offset)
                diags.append(Diagnostic(loaded.display_path, mark.line, mark.col, "IB208", message,
                                        hint="link to another entry with its id, e.g. [KV cache](kv-cache)"))
            for offset, message in evaluator.check(text):
                mark = text_position(loaded.doc, path, text, offset)
                diags.append(Diagnostic(loaded.display_path, mark.line, mark.col, "IB207", f"expression {message}",
                                        hint="see inferbook/expressions.py for the functions and filters"))
    return diags
