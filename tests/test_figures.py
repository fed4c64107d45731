"""Figures: drawings beside their entry, checked and sanitized at load, placed in the body."""

from __future__ import annotations

import os

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
