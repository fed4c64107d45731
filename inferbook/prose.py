"""Checks on the prose of articles that need the whole knowledge base: every
`{{ expression }}` in bodies and FAQ answers must evaluate."""

from __future__ import annotations

import re

from .content_checks import capped, text_fields
from .diagnostics import Diagnostic
from .expressions import Evaluator
from .kb import KnowledgeBase
from .loader import LoadedEntry
from .yamlio import text_position

EXPANDED_FIELDS = {("body",), ("faq", "a"), ("exercises", "question"), ("exercises", "solution")}
"""Prose fields whose `{{ expressions }}` are expanded when rendered (others show braces as text)."""

_RELATIVE_LINK = re.compile(r"\]\(\s*(?:<\s*)?([^)\s>]+)")


def _expanded(path: tuple[str | int, ...]) -> bool:
    return tuple(p for p in path if isinstance(p, str)) in EXPANDED_FIELDS


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
    that is not absolute, an anchor, or an entry id (`[KV cache](kv-cache)`). Links are
    checked in every prose field (`content_checks.text_fields`), expressions where they
    are expanded; each field reports at most MAX_FINDINGS_PER_FIELD of each."""
    evaluator = Evaluator(kb)
    diags = []
    for loaded in entries.values():
        for path, text, is_markdown in text_fields(loaded.entry):
            if not is_markdown:
                continue
            found = [(offset, "IB208", message, "link to another entry with its id, e.g. [KV cache](kv-cache)")
                     for offset, message in _link_problems(kb, text)]
            if _expanded(path):
                found += [(offset, "IB207", f"expression {message}",
                           "see inferbook/expressions.py for the functions and filters")
                          for offset, message in evaluator.check(text)]
            for offset, code, message, hint in capped(found):
                mark = text_position(loaded.doc, path, text, offset)
                diags.append(Diagnostic(loaded.display_path, mark.line, mark.col, code, message, hint=hint))
        for i, exercise in enumerate(getattr(loaded.entry, "exercises", ())):
            problem = answer_problem(evaluator, exercise.answer)
            if problem is not None:
                mark = text_position(loaded.doc, ("exercises", i, "answer"), exercise.answer, 0)
                diags.append(Diagnostic(loaded.display_path, mark.line, mark.col, "IB207", f"answer {problem}",
                                        hint="write the answer as one expression without braces, e.g. "
                                             'kv_bytes("llama-3.1-8b-instruct", tokens=8192) | gib(2)'))
    return diags


def answer_problem(evaluator: Evaluator, answer: str) -> str | None:
    """Why an exercise's answer expression does not evaluate, or None."""
    if "{{" in answer or "}}" in answer:
        return "must be a bare expression, without {{ }}"
    found = evaluator.check("{{ " + answer + " }}")
    return found[0][1] if found else None
