"""Exercises: answers computed from the data, checked at validation, revealed on click on the
site and collected in an appendix of the PDF."""

from __future__ import annotations

import re

import pytest

import inferbook
from inferbook.expressions import Evaluator
from inferbook.generators.site import SiteBuilder

BAD_EXERCISE = """\
id: drill
title: Drill
summary: A concept with an exercise whose answer cannot be computed.
chapter: ch1
body: Text.
exercises:
  - question: How big is it?
    answer: 'kv_bytes("no-such-model", tokens=10) | gib(2)'
    solution: It cannot be worked out.
sources: [src]
last_reviewed: 2026-11-27
"""


@pytest.fixture(scope="module")
def kb():
    return inferbook.load()


def _exercises(kb):
    for entry in kb.learning_order():
        for i, exercise in enumerate(getattr(entry, "exercises", ())):
            yield entry, i, exercise


def test_every_answer_evaluates_to_a_number(kb):
    evaluator = Evaluator(kb)
    found = list(_exercises(kb))
    assert found, "the handbook has exercises"
    for entry, i, exercise in found:
        shown = evaluator.evaluate(exercise.answer)
        assert re.search(r"\d", shown), (entry.id, i, shown)
        assert exercise.solution.strip() and exercise.question.strip()


def test_an_answer_that_does_not_evaluate_is_an_error_at_its_line(make_kb, capsys):
    from inferbook.cli import main

    folder = make_kb({"concepts/drill.yaml": BAD_EXERCISE})
    code = main(["validate", "--no-builtin", "--kb", str(folder)])
    out = capsys.readouterr().out
    assert code == 1
    line = next(ln for ln in out.splitlines() if "IB207" in ln)
    assert "drill.yaml:8:" in line and "answer" in line and "no-such-model" in line


def test_braces_in_an_answer_are_refused(make_kb, capsys):
    from inferbook.cli import main

    text = BAD_EXERCISE.replace("""'kv_bytes("no-such-model", tokens=10) | gib(2)'""", """'{{ params_b("x") }}'""")
    folder = make_kb({"concepts/drill.yaml": text})
    assert main(["validate", "--no-builtin", "--kb", str(folder)]) == 1
    assert "without {{ }}" in capsys.readouterr().out


def test_the_site_hides_each_answer_behind_a_click(kb):
    entry, _, exercise = next(_exercises(kb))
    builder = SiteBuilder(kb)
    page = builder.contexts.article(entry)
    assert page["exercises"] and page["exercises"][0]["answer"] == Evaluator(kb).evaluate(exercise.answer)
    from inferbook.generators.page_contexts import entry_path
    from inferbook.generators.site import CSP

    path = entry_path(kb.kind_of(entry.id), entry.id)
    context = next(p.context for p in builder.pages() if p.path == path)  # with its navigation, as the site has it
    html = builder.env.get_template("article.html").render(**{"breadcrumbs": None, "sidebar": None, **context},
                                                           root="../../", page_path=path, csp=CSP, version="x",
                                                           data_version="x", data_date="x", nav_tools=[])
    section = html[html.index('<section class="exercises">'):]
    assert "<details><summary>Show the answer</summary>" in section
    assert section.index("Show the answer") < section.index(page["exercises"][0]["answer"])


def test_the_pdf_collects_the_answers_in_an_appendix(kb):
    from inferbook.generators.pdf import BookBuilder, PdfOptions

    entry, _, _ = next(_exercises(kb))
    book = BookBuilder(kb, PdfOptions())
    context = book.context(None)
    answers = {a["id"]: a for a in context["answers"]}
    assert entry.id in answers and answers[entry.id]["exercises"][0]["answer"]
    html = book.html(None)
    assert 'id="appendix-answers"' in html and "Appendix G. Bibliography" in html
