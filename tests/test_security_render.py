"""Hostile prose: the one sanitizer, link targets, bounded expressions, and scans that
stay linear on inputs ten times larger than the schema allows (bodies are at most 60,000
characters; each input here is 600,000). The time bounds are loose on purpose: a linear scan
of 600 KB takes a fraction of a second here, a quadratic one hours."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

import inferbook
from inferbook.content_checks import code_spans, latex_problems, markdown_problems, without_code
from inferbook.expressions import Evaluator, ExpressionError, expression_spans
from inferbook.generators.output import MemoryOutput
from inferbook.generators.site import SOURCE_GUARD, SiteBuilder
from inferbook.render import inline_markdown, latex_to_mathml, markdown_to_html, sanitize

TEN_TIMES = 600_000
LINEAR_SECONDS = 20.0


@pytest.fixture(scope="module")
def kb():
    return inferbook.load()


# -- the sanitizer ---------------------------------------------------------------------------------

@pytest.mark.parametrize("latex", [
    r'\text{<iframe src="file:///etc/hostname">}',
    r"\text{<script>alert(1)</script>}",
    r"\text{<meta http-equiv=refresh content=0;url=https://evil.example>}",
    r'\mathrm{<img src=x onerror=alert(1)>}',
    r'\text{<a href="javascript:alert(1)">x</a>}',
])
def test_formula_markup_never_reaches_the_page(latex):
    for html in (latex_to_mathml(latex), latex_to_mathml(latex, True), markdown_to_html(f"$${latex}$$"),
                 markdown_to_html(f"${latex}$")):
        lowered = html.lower()
        for bad in ("<iframe", "<script", "<meta", "<img", "onerror", "javascript:", "http-equiv"):
            assert bad not in lowered, (latex, html)


def test_ordinary_math_survives_the_sanitizer():
    html = latex_to_mathml(r"\frac{a}{b} + \sqrt{x^2} \le \text{peak}")
    for tag in ("<math", "<mfrac>", "<msqrt>", "<msup>", "<mtext>peak</mtext>"):
        assert tag in html


def test_svg_keeps_shapes_and_text_and_drops_everything_active():
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" role="img" aria-label="chart">'
           '<rect x="0" y="0" width="5" height="5" fill="#ff0000" onclick="alert(1)"/>'
           '<rect x="1" y="1" width="5" height="5" fill="url(https://evil.example/x)"/>'
           '<text x="1" y="2">a &lt; b</text><script>alert(1)</script>'
           '<foreignObject><iframe src="https://evil.example"></iframe></foreignObject>'
           '<image href="https://evil.example/track.png"/><use href="https://evil.example/x.svg#a"/>'
           '<animate attributeName="href" to="javascript:alert(1)"/></svg>')
    clean = sanitize(svg)
    assert 'viewBox="0 0 10 10"' in clean and 'fill="#ff0000"' in clean and "a &lt; b" in clean
    for bad in ("onclick", "evil.example", "<script", "foreignobject", "<iframe", "<image", "<use", "<animate",
                "javascript:"):
        assert bad not in clean.lower(), bad


@pytest.mark.parametrize(("markdown", "link"), [
    ("[x](//evil.example/a)", False),
    ("[x](JAVASCRIPT:alert(1))", False),
    ("[x](data:text/html,hi)", False),
    ("[x](HTTPS://example.com/a)", True),
])
def test_link_targets(markdown, link):
    html = inline_markdown(markdown)
    assert ("<a " in html) is link, html
    if link:
        assert 'rel="noopener noreferrer"' in html and 'class="external"' in html


def test_a_backslash_never_turns_a_path_into_another_host():
    html = inline_markdown("[x](/\\evil.example/a)")
    assert 'href="/%5Cevil.example/a"' in html  # browsers read a raw /\ as //, an escaped one as a path


def test_published_entry_sources_cannot_run_as_script(kb, tmp_path):
    out = MemoryOutput()
    SiteBuilder(kb)._write_sources(out)
    sources = {path: data for path, data in out.files.items() if path.startswith("source/")}
    assert len(sources) == len(list(kb))
    for data in sources.values():
        assert data.decode().startswith(SOURCE_GUARD)
    node = shutil.which("node")
    if node:  # the guard line must be a JavaScript syntax error (node is installed by dev.sh)
        script = tmp_path / "entry.js"
        script.write_bytes(sources["source/concepts/kv-cache.yaml"])
        result = subprocess.run([node, "--check", str(script)], capture_output=True, text=True)
        assert result.returncode != 0 and "SyntaxError" in result.stderr


# -- linear time ----------------------------------------------------------------------------------

def _repeat(unit: str) -> str:
    return unit * (TEN_TIMES // len(unit))


SCAN_INPUTS = {
    "one backtick run": _repeat("`"),
    "alternating backtick runs": _repeat("`a``b"),
    "growing backtick runs": "".join("`" * k + "a" for k in range(1, 3400)),
    "unclosed fences": _repeat("```\n"),
    "fence never closed": "````\n" + _repeat("```\n"),
    "tilde fences": _repeat("~~~a\n"),
    "open brackets": _repeat("["),
    "link openers": _repeat("[a]("),
    "link with blank target": "](" + _repeat(" "),
    "link with angle and blanks": "](<" + _repeat(" "),
    "reference labels never closed": _repeat("[a\n"),
    "angle brackets": _repeat("<"),
    "tag openers": _repeat("<a "),
    "autolink openers": _repeat("<a:"),
    "tag with endless attributes": "<a" + _repeat(" "),
    "comments": _repeat("<!--"),
    "dollars": _repeat("$"),
    "display math openers": _repeat("$$a$"),
    "text command": "$\\text{" + _repeat("a") + "$",
}


@pytest.mark.parametrize("name", SCAN_INPUTS)
def test_markdown_checks_are_linear(name):
    text = SCAN_INPUTS[name]
    start = time.perf_counter()
    list(markdown_problems(text))
    assert time.perf_counter() - start < LINEAR_SECONDS


def test_latex_and_expression_scans_are_linear():
    start = time.perf_counter()
    list(latex_problems(_repeat("\\text{")))
    assert list(expression_spans(_repeat("{{"))) == []
    assert len(list(expression_spans(_repeat("{{}}")))) == TEN_TIMES // 4
    assert time.perf_counter() - start < LINEAR_SECONDS


def test_code_spans_follow_commonmark_pairs():
    text = "a ``b`` c `d ``e`` f` g ```\n"
    spans = [text[s:e] for s, e in code_spans(text)]
    assert spans == ["``b``", "`d ``e`` f`"]
    fenced = "x\n```py\n<b>\n```\n<i>\n"
    assert "<b>" not in without_code(fenced) and "<i>" in without_code(fenced)
    assert len(without_code(fenced)) == len(fenced)
    # a backtick fence's info string may not hold a backtick, so this line is text, not a fence
    assert without_code("``` a ` b\n<i>") == "``` a ` b\n<i>"


def test_one_thousand_two_hundred_backticks_check_fast():
    text = "Text " + "`" * 1200 + " <script>"
    start = time.perf_counter()
    found = list(markdown_problems(text))
    assert time.perf_counter() - start < 1.0
    assert [f[1] for f in found] == ["IB110"]


# -- expressions -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("expression", "message"), [
    ('value("gpus/h100-sxm", "memory_gib") | round(2000000000)',
     "round: decimals must be a whole number from 0 to 6, got 2000000000"),
    ('value("gpus/h100-sxm", "memory_gib") | gib(-1)', "gib: decimals must be a whole number from 0 to 6, got -1"),
    ('value("gpus/h100-sxm", "memory_gib") | pct(1.5)', "pct: decimals must be a whole number from 0 to 6, got 1.5"),
    ('kv_bytes("llama-3.1-8b-instruct", tokens=' + "1" * 40 + ")",
     "number 11111111111111111111... has more than 15 digits"),
    ('kv_bytes("llama-3.1-8b-instruct", tokens=100000000000)',
     "kv_bytes: tokens must be a whole number from 1 to 1,000,000,000, got 100000000000"),
    ('kv_bytes("llama-3.1-8b-instruct", tokens=0)',
     "kv_bytes: tokens must be a whole number from 1 to 1,000,000,000, got 0"),
    ('kv_bytes("llama-3.1-8b-instruct", tokens=8192.5)',
     "kv_bytes: tokens must be a whole number from 1 to 1,000,000,000, got 8192.5"),
    ('kv_bytes("llama-3.1-8b-instruct", tokens=8192, batch=10000000)',
     "kv_bytes: batch must be a whole number from 1 to 1,000,000, got 10000000"),
    ('weight_bytes("llama-3.1-8b-instruct", tp=100000)',
     "weight_bytes: tp must be a whole number from 1 to 1,024, got 100000"),
    ('value("gpus/h100-sxm", "' + "a" * 600 + '")', "expression is 626 characters long; the limit is 500"),
    ("value(0, 0)", "value: the entry must be quoted text, got 0"),  # found by bench/fuzz.py
    ('kv_bytes_per_token("llama-3.1-8b-instruct", dtype=8)', "kv_bytes_per_token: dtype must be quoted text, got 8"),
])
def test_expression_bounds(kb, expression, message):
    with pytest.raises(ExpressionError) as info:
        Evaluator(kb).evaluate(expression)
    assert str(info.value) == message


def test_expression_results_stay_ordinary(kb):
    evaluator = Evaluator(kb)
    assert evaluator.evaluate('kv_bytes_per_token("llama-3.1-8b-instruct", dtype="bf16") | comma') == "131,072"
    text = "{{" * 30_000 + 'x {{ kv_bytes_per_token("llama-3.1-8b-instruct") | comma }}'
    start = time.perf_counter()
    assert evaluator.check("{{" * 30_000) == []
    assert len(evaluator.check(text)) == 1  # the first {{ runs to the only }}: one bad expression
    assert time.perf_counter() - start < 2.0
