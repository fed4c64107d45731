"""Checks on the prose of articles that need the whole knowledge base: every
`{{ expression }}` in bodies and FAQ answers must evaluate."""

from __future__ import annotations

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


def check_expressions(kb: KnowledgeBase, entries: dict[str, LoadedEntry]) -> list[Diagnostic]:
    """One IB207 error for each expression that does not evaluate."""
    evaluator = Evaluator(kb)
    diags = []
    for loaded in entries.values():
        for path, text in _text_fields(loaded):
            for offset, message in evaluator.check(text):
                mark = text_position(loaded.doc, path, text, offset)
                diags.append(Diagnostic(loaded.display_path, mark.line, mark.col, "IB207", f"expression {message}",
                                        hint="see inferbook/expressions.py for the functions and filters"))
    return diags
