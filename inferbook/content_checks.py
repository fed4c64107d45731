"""Checks on contributor text that the schema cannot express: Markdown bodies
must not carry raw HTML or links with dangerous schemes, and LaTeX must not use
commands that link, read files or redefine macros. These run on every entry at
load time (codes IB110-IB112); the site's renderer escapes and sanitizes again."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel

from .schema.articles import Faq, Formula

_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.DOTALL | re.MULTILINE)
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
_HTML_TAG = re.compile(r"<(?:!--|/?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>)")
_AUTOLINK = re.compile(r"<[A-Za-z][A-Za-z0-9+.-]*:[^<>\s]*>")
_LINK_TARGET = re.compile(r"\]\(\s*<?\s*([^)\s>]+)")
_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
SAFE_SCHEMES = {"http", "https", "mailto"}
_UNSAFE_LATEX = re.compile(
    r"\\(href|url|input|include|includegraphics|write\d*|openin|openout|read|immediate|def|edef|gdef|xdef|let|"
    r"newcommand|renewcommand|providecommand|DeclareMathOperator|catcode|csname|special|htmlClass|htmlId|"
    r"htmlStyle|htmlData|html)(?![A-Za-z])")
_MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.DOTALL)


def _without_code(text: str) -> str:
    """Blank out fenced code blocks and inline code, keeping offsets."""
    def blank(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))

    return _INLINE_CODE.sub(blank, _FENCE.sub(blank, text))


def markdown_problems(text: str) -> Iterator[tuple[int, str, str, str]]:
    """(offset, code, message, hint) for raw HTML, unsafe links and unsafe LaTeX in Markdown."""
    plain = _without_code(text)
    for m in _HTML_TAG.finditer(plain):
        if _AUTOLINK.match(plain, m.start()):
            continue
        yield (m.start(), "IB110", f"raw HTML {m.group(0)[:40]!r} is not allowed in Markdown",
               "use Markdown syntax; write < as &lt; or put code in backticks")
    targets = [(m.start(1), m.group(1)) for m in _LINK_TARGET.finditer(plain)]
    targets += [(m.start(1), m.group(1)) for m in _REF_DEF.finditer(plain)]
    targets += [(m.start() + 1, m.group(0)[1:-1]) for m in _AUTOLINK.finditer(plain)]
    for offset, target in targets:
        scheme = _SCHEME.match(target)
        if scheme and scheme.group(1).lower() not in SAFE_SCHEMES:
            yield (offset, "IB111", f"link scheme '{scheme.group(1)}:' is not allowed",
                   "links may use http, https or mailto, or point inside the site")
    for m in _MATH.finditer(plain):
        body = m.group(1) if m.group(1) is not None else m.group(2)
        start = m.start(1) if m.group(1) is not None else m.start(2)
        yield from latex_problems(body, start)


def latex_problems(latex: str, base: int = 0) -> Iterator[tuple[int, str, str, str]]:
    """(offset, code, message, hint) for LaTeX commands that link, include files or define macros."""
    for m in _UNSAFE_LATEX.finditer(latex):
        yield (base + m.start(), "IB112", f"LaTeX command \\{m.group(1)} is not allowed",
               "formulas may use math commands only (no links, files or macro definitions)")


def text_fields(entry: BaseModel) -> Iterator[tuple[tuple, str, bool]]:
    """(path, text, is_markdown) for every prose field of an entry."""
    for name in ("body",):
        value = getattr(entry, name, None)
        if value:
            yield (name,), value, True
    for i, item in enumerate(getattr(entry, "faq", ())):
        if isinstance(item, Faq):
            yield ("faq", i, "a"), item.a, True
            yield ("faq", i, "q"), item.q, True
    for i, item in enumerate(getattr(entry, "formulas", ())):
        if isinstance(item, Formula):
            yield ("formulas", i, "latex"), item.latex, False
    summary = getattr(entry, "summary", None)
    if summary:
        yield ("summary",), summary, True
