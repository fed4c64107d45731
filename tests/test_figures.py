"""Figures: drawings beside their entry, checked and sanitized at load, placed in the body."""

from __future__ import annotations

import os
import re

import pytest
from conftest import concept

from inferbook import load, validate
from inferbook.figures import place_figures, svg_problems

DRAWING = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 80">'
           '<rect x="5" y="5" width="80" height="40" fill="none" stroke="currentColor"/>'
           '<text x="10" y="30" fill="currentColor" class="accent">prefill</text>'
           '<path d="M90 25 L150 25" stroke="currentColor" marker-end="url(#arrow)"/></svg>\n')
FIGURES = """\
figures:
  - id: loop
    alt: Two boxes, prefill and decode, with an arrow from the first to the second.
    caption: "Prefill runs once; decode repeats."
"""


def with_figure(body: str = "Text.\\n\\n[[figure:loop]]\\n\\nMore.", figures: str = FIGURES) -> str:
    return concept("a").replace("body: Text.", f'body: "{body}"') + figures


def test_a_drawing_is_read_checked_and_placed(make_kb):
    kb_dir = make_kb({"concepts/a.yaml": with_figure(), "concepts/a.loop.svg": DRAWING})
    result = validate(kb_dir)
    assert result.ok, result.diagnostics
    figure = load(kb_dir).get("a").figures[0]
    assert figure.svg.startswith("<svg") and "prefill" in figure.svg and 'class="accent"' in figure.svg
    html = place_figures("<p>Text.</p>\n<p>[[figure:loop]]</p>\n<p>More.</p>", (figure,), lambda f: f.svg,
                         lambda c: c)
    assert html.index("Text.") < html.index('<figure class="figure" id="figure-loop">') < html.index("More.")
    assert 'role="img" aria-label="Two boxes, prefill and decode' in html
    assert "<figcaption><span class=\"figure-number\">Figure 1.</span> Prefill runs once; decode repeats." in html


def test_figures_the_body_does_not_place_follow_it(make_kb):
    kb_dir = make_kb({"concepts/a.yaml": with_figure(body="Text."), "concepts/a.loop.svg": DRAWING})
    figure = load(kb_dir).get("a").figures[0]
    html = place_figures("<p>Text.</p>", (figure,), lambda f: f.svg, lambda c: c)
    assert html.startswith("<p>Text.</p><figure") and "Figure 1." in html


@pytest.mark.parametrize(("svg", "says"), [
    ('<svg viewBox="0 0 1 1"><script>alert(1)</script></svg>', "element <script> is not allowed"),
    ('<svg viewBox="0 0 1 1" onload="alert(1)"></svg>', "attribute 'onload' on <svg> is not allowed"),
    ('<svg viewBox="0 0 1 1"><image href="https://example.com/x.png"/></svg>', "element <image>"),
    ('<svg viewBox="0 0 1 1"><use href="#a"/></svg>', "element <use>"),
    ('<svg viewBox="0 0 1 1"><foreignObject><p>x</p></foreignObject></svg>', "element <foreignObject>"),
    ('<svg viewBox="0 0 1 1"><rect style="fill:red"/></svg>', "attribute 'style' on <rect>"),
    ('<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg viewBox="0 0 1 1">&a;</svg>', "DOCTYPE, entity"),
    ('<svg viewBox="0 0 1 1"><rect></svg>', "not well-formed"),
    ('<svg><rect/></svg>', "needs a viewBox"),
    ('<html><svg viewBox="0 0 1 1"/></html>', "root element must be <svg>"),
    ('<svg viewBox="0 0 1 1"><a href="javascript:alert(1)"><text>x</text></a></svg>', "element <a>"),
])
def test_unsafe_or_broken_drawings_are_refused_with_their_place(make_kb, svg, says):
    kb_dir = make_kb({"concepts/a.yaml": with_figure(), "concepts/a.loop.svg": svg})
    result = validate(kb_dir)
    [diag] = [d for d in result.errors if d.code == "IB105"]
    assert diag.file.endswith("concepts/a.yaml") and diag.line > 1 and says in diag.message
    assert svg_problems(svg)


def test_missing_linked_or_oversized_drawings_are_refused(make_kb, tmp_path):
    kb_dir = make_kb({"concepts/a.yaml": with_figure()})
    assert any("not found beside the entry" in d.message for d in validate(kb_dir).errors)
    outside = tmp_path / "outside.svg"
    outside.write_text(DRAWING)
    os.symlink(outside, kb_dir / "concepts" / "a.loop.svg")
    errors = validate(kb_dir).errors
    assert any("links are not followed" in d.message or d.code == "IB007" for d in errors)
    (kb_dir / "concepts" / "a.loop.svg").unlink()
    (kb_dir / "concepts" / "a.loop.svg").write_text(DRAWING.replace("</svg>", "<g/>" * 80_000 + "</svg>"))
    assert any("the limit is" in d.message for d in validate(kb_dir).errors)


def test_yaml_may_not_carry_svg_and_placeholders_must_name_a_figure(make_kb):
    own_svg = FIGURES + '    svg: "<svg viewBox=\\"0 0 1 1\\"/>"\n'
    kb_dir = make_kb({"concepts/a.yaml": with_figure(figures=own_svg), "concepts/a.loop.svg": DRAWING})
    assert any("svg is read from the drawing file" in d.message for d in validate(kb_dir).errors)
    kb_dir = make_kb({"concepts/a.yaml": with_figure(body="See [[figure:nope]]."), "concepts/a.loop.svg": DRAWING})
    [diag] = validate(kb_dir).errors
    assert "[[figure:nope]] names no figure" in diag.message and diag.line > 1


def test_a_drawing_nobody_declares_is_a_warning(make_kb):
    kb_dir = make_kb({"concepts/a.yaml": concept("a"), "concepts/a.orphan.svg": DRAWING})
    result = validate(kb_dir)
    assert result.ok
    assert [d.code for d in result.warnings if d.file.endswith(".svg")] == ["IB009"]


def test_a_chart_figure_is_drawn_from_the_data():
    import inferbook
    from inferbook.generators.charts import CHART_MAKERS, chart_svg
    from inferbook.schema.articles import CHARTS, Figure

    assert tuple(CHART_MAKERS) == CHARTS
    kb = inferbook.load()
    figure = Figure(id="roof", alt="The roofline of several GPUs.", caption="Rooflines.", chart="roofline")
    html = place_figures("<p>x</p>", (figure,), lambda f: chart_svg(kb, f.chart or ""), lambda c: c)
    assert "<polyline" in html and html.count('role="img"') == 1 and 'aria-label="The roofline' in html


def test_figures_are_checked_without_the_site_extra(make_kb):
    """The core install validates a knowledge base with figures: the check needs none of the
    rendering libraries (the wheel build itself validates kb/ with pydantic and PyYAML only)."""
    import subprocess
    import sys

    kb_dir = make_kb({"concepts/a.yaml": with_figure(), "concepts/a.loop.svg": DRAWING})
    code = ("import sys\n"
            "for name in ('nh3', 'latex2mathml', 'markdown_it', 'jinja2'):\n"
            "    sys.modules[name] = None\n"
            "from inferbook.loader import load_folders\n"
            f"result = load_folders([__import__('pathlib').Path({str(kb_dir)!r})])\n"
            "assert not [d for d in result.diagnostics if d.severity == 'error'], result.diagnostics\n"
            "print(result.entries['a'].entry.figures[0].svg[:4])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "<svg"


@pytest.mark.parametrize(("svg", "says"), [
    ('<svg viewBox="0 0 1 1"><rect fill="url(https://example.com/x)"/></svg>', "fill"),
    ('<svg viewBox="0 0 1 1"><rect class="Bad_Class"/></svg>', "class"),
    ('<svg viewBox="0 0 1 1"><path id="X1" d="M0 0"/></svg>', "id"),
])
def test_attribute_values_outside_the_rules_are_refused(svg, says):
    problems = svg_problems(svg)
    assert problems and says in problems[0]


TWO_FIGURES = FIGURES + """\
  - id: grid
    alt: A grid of blocks, some shaded, in rows of four.
    caption: "The grid the body leaves to the end."
"""


def reading_order(entry) -> list[str]:
    """The ids of an entry's figures as a reader meets them: each paragraph that is only
    `[[figure:ID]]` in the body's order, then the figures the body does not place."""
    declared = [f.id for f in entry.figures]
    placed = [fid for fid in dict.fromkeys(re.findall(r"^\s*\[\[figure:([a-z0-9-]+)\]\]\s*$", entry.body, re.M))
              if fid in declared]
    return placed + [fid for fid in declared if fid not in placed]


def test_a_marker_inside_a_sentence_refers_to_the_figure_by_its_number(make_kb):
    from inferbook.generators.page_contexts import PageContexts

    body = "As [[figure:grid]] shows, and unlike `[[figure:grid]]` in code.\\n\\n[[figure:loop]]\\n\\nMore."
    kb_dir = make_kb({"concepts/a.yaml": with_figure(body=body, figures=TWO_FIGURES),
                      "concepts/a.loop.svg": DRAWING, "concepts/a.grid.svg": DRAWING})
    result = validate(kb_dir)
    assert result.ok, result.diagnostics
    kb = load(kb_dir)
    html = PageContexts(kb).article_body(kb.get("a"))
    # grid is met second (the body does not place it), so it is Figure 2 wherever the text names it
    assert '<p>As <a class="figure-ref" href="#figure-grid">Figure 2</a> shows' in html
    assert "<code>[[figure:grid]]</code>" in html
    assert html.index('id="figure-loop"') < html.index("Figure 1.") < html.index('id="figure-grid"') \
        < html.index("Figure 2.")
    # the Markdown copy (and llms-full.txt) numbers them the same way
    from inferbook.generators.markdown_copies import MarkdownCopies

    copy = MarkdownCopies(kb).article("concepts", "a")
    assert "As Figure 2 shows" in copy and "[[figure:" not in copy.replace("`[[figure:grid]]`", "")
    assert copy.index("*Figure 1: ") < copy.index("*Figure 2: ")


def test_the_pdf_numbers_figures_by_chapter_with_the_references(make_kb):
    """Chapter 2's figures run 2.1, 2.2 across its entries, each text's references follow its
    figures' numbers, and two entries' figures of the same id keep apart; the site still
    numbers each entry's figures from 1."""
    pytest.importorskip("jinja2")
    from inferbook.generators.page_contexts import PageContexts
    from inferbook.generators.pdf import BookBuilder, PdfOptions

    second = concept("c", chapter="ch2", prerequisites="[b]").replace(
        "body: Text.", 'body: "Before [[figure:loop]].\\n\\n[[figure:loop]]"') + FIGURES
    kb_dir = make_kb({"concepts/b.yaml": with_figure(figures=TWO_FIGURES).replace("id: a", "id: b", 1)
                      .replace("chapter: ch1", "chapter: ch2"),
                      "concepts/b.loop.svg": DRAWING, "concepts/b.grid.svg": DRAWING,
                      "concepts/c.yaml": second, "concepts/c.loop.svg": DRAWING})
    kb = load(kb_dir)
    [chapter] = [ch for ch in BookBuilder(kb, PdfOptions()).chapters() if ch["id"] == "ch2"]
    b, c = (e["body"] for e in chapter["entries"])
    assert re.findall(r'<figure class="figure" id="([a-z0-9-]+)">', b + c) == [
        "figure-b-loop", "figure-b-grid", "figure-c-loop"]
    assert re.findall(r'class="figure-number">Figure ([0-9.]+)\.<', b + c) == ["2.1", "2.2", "2.3"]
    assert '<p>Before <a class="figure-ref" href="#figure-c-loop">Figure 2.3</a>.</p>' in c
    site = PageContexts(kb).article_body(kb.get("c"))
    assert 'href="#figure-loop">Figure 1</a>' in site and 'class="figure-number">Figure 1.</span>' in site


def test_every_figure_is_on_its_entry_page_once_in_reading_order(built_site):
    """Every figure an article declares (placed by `[[figure:ID]]` or following the text) is on
    the built page of its entry once, numbered in reading order, its drawing labelled by its
    alt text, its caption under it. (tests/test_pdf.py checks the PDF.)"""
    import html

    import inferbook
    from inferbook.generators.page_contexts import entry_path

    kb = inferbook.load()
    with_figures = [e for e in kb.learning_order() if e.figures]
    assert with_figures
    for entry in with_figures:
        page = (built_site / entry_path(kb.kind_of(entry.id), entry.id)).read_text(encoding="utf-8")
        found = re.findall(r'<figure class="figure" id="figure-([a-z0-9-]+)">(.*?)</figure>', page, re.S)
        assert [fid for fid, _ in found] == reading_order(entry), entry.id
        by_id = {f.id: f for f in entry.figures}
        for n, (fid, inner) in enumerate(found, 1):
            figure = by_id[fid]
            drawing, _, caption = inner.partition("<figcaption>")
            assert drawing.startswith(f'<svg role="img" aria-label="{html.escape(figure.alt, quote=True)}"'), fid
            assert re.search(r"<(path|rect|line|polyline|polygon|circle|text)\b", drawing), f"{fid} draws nothing"
            text = html.unescape(re.sub(r"<[^>]+>", "", caption))
            assert text.startswith(f"Figure {n}. {caption_head(figure.caption)}"), (fid, text[:120])


def caption_head(caption: str) -> str:
    """The first words of a caption, up to its first Markdown or LaTeX mark: the same text
    however the page or the PDF renders the rest."""
    head = re.split(r"[$*`_\[\\{<]", caption, maxsplit=1)[0]
    return " ".join(head.split()[:6])
