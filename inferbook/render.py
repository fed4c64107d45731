"""Markdown and LaTeX to safe HTML, shared by the site and the PDF.

Contributor text is untrusted. Markdown is parsed with raw HTML disabled (any
`<tag>` comes out as text), LaTeX is converted to MathML at build time (no
JavaScript needed to read formulas), links may only use http, https or mailto
or point inside the site, and the final HTML goes through an allow-list
sanitizer (nh3) that drops every element and attribute not listed here."""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable

import latex2mathml.converter
import nh3
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

from .content_checks import SAFE_SCHEMES, unsafe_link_target
from .svg_rules import SVG_ATTRS, SVG_PAINT, SVG_TAGS

MATHML_TAGS = {
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup", "mfrac", "msqrt",
    "mroot", "mtable", "mtr", "mtd", "mover", "munder", "munderover", "mstyle", "mpadded", "mphantom",
    "menclose", "semantics", "annotation", "merror", "mfenced",
}
HTML_TAGS = {
    "p", "a", "em", "strong", "code", "pre", "ul", "ol", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td", "hr", "br", "span", "div", "del", "sup", "sub", "abbr",
}
MATH_ATTRS = {"xmlns", "display", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace", "accent",
              "accentunder", "linethickness", "displaystyle", "scriptlevel", "columnalign", "rowalign",
              "columnspacing", "rowspacing", "width", "height", "depth", "minsize", "maxsize", "movablelimits",
              "symmetric", "largeop", "form", "notation", "encoding", "open", "close", "separators", "columnlines",
              "rowlines", "frame", "voffset"}
ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(MATH_ATTRS) for tag in MATHML_TAGS},
    **{tag: set(SVG_ATTRS) for tag in SVG_TAGS},
    "a": {"href", "title", "class"},
    "code": {"class"},
    "span": {"class"},
    "div": {"class"},
    "th": {"class"},
    "td": {"class"},
    "abbr": {"title"},
}
_ALIGN = re.compile(r' style="text-align:(left|right|center)"')
_EXTERNAL = re.compile(r'<a href="(https?://[^"]*)"', re.IGNORECASE)


def _safe_href(url: str) -> bool:
    return unsafe_link_target(url) is None


@functools.lru_cache(maxsize=4096)
def latex_to_mathml(latex: str, display: bool = False) -> str:
    """Sanitized MathML for a LaTeX formula; on a conversion failure, the source as code.
    latex2mathml copies `\\text{...}` content through unescaped, so its output is
    contributor markup like any other and goes through `sanitize`.
    Cached: a rebuild (``inferbook serve``) converts only formulas it has not seen."""
    try:
        mathml = latex2mathml.converter.convert(latex.strip(), display="block" if display else "inline")
    except Exception:  # latex2mathml raises many types; show the source instead
        return f'<code class="math-error">{html.escape(latex)}</code>'
    return sanitize(mathml)


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table").enable("strikethrough")
    md.use(dollarmath_plugin, allow_labels=False, allow_space=True, allow_digits=False, double_inline=True)
    md.validateLink = _safe_href  # type: ignore[method-assign]
    md.add_render_rule("math_inline", lambda self, tokens, idx, options, env: latex_to_mathml(tokens[idx].content))
    md.add_render_rule("math_inline_double",
                       lambda self, tokens, idx, options, env: latex_to_mathml(tokens[idx].content, True))
    md.add_render_rule("math_block", lambda self, tokens, idx, options, env:
                       f'<div class="math-display">{latex_to_mathml(tokens[idx].content, True)}</div>\n')
    return md


_MD = _markdown()


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if attr == "href":
        return value if _safe_href(value) else None
    if attr == "class":
        return " ".join(c for c in value.split() if re.fullmatch(r"[a-z][a-z0-9-]*", c)) or None
    if attr in {"fill", "stroke", "marker-end", "marker-start"}:
        # paint may only be a colour or a reference inside the same figure (never an outside URL)
        return value if SVG_PAINT.fullmatch(value) else None
    if attr == "id":
        return value if re.fullmatch(r"[a-z][a-z0-9-]{0,60}", value) else None
    return value


def sanitize(fragment: str) -> str:
    """Keep only allow-listed elements and attributes; external links open safely.
    The one sanitizer: every piece of HTML, MathML or SVG that reaches a page, the
    book or a notebook passes through here."""
    cleaned = nh3.clean(fragment, tags=HTML_TAGS | MATHML_TAGS | SVG_TAGS, attributes=ATTRIBUTES,
                        attribute_filter=_attribute_filter, link_rel=None, url_schemes=set(SAFE_SCHEMES),
                        strip_comments=True)
    return _EXTERNAL.sub(r'<a href="\1" rel="noopener noreferrer" class="external"', cleaned)


_TABLE_OPEN = re.compile(r"<table(?=[\s>])")


@functools.lru_cache(maxsize=4096)
def markdown_to_html(text: str) -> str:
    """Render trusted-structure, untrusted-content Markdown to sanitized HTML. Each table sits in
    a box that scrolls sideways on its own, so a wide table never widens a phone's page."""
    # table alignment becomes a class: the site's CSP allows no inline styles
    html = sanitize(_ALIGN.sub(r' class="align-\1"', _MD.render(text)))
    # after sanitizing, every "<table" left is a real element (text was escaped), so wrapping is safe
    return _TABLE_OPEN.sub('<div class="table-scroll"><table', html).replace("</table>", "</table></div>")


_ENTRY_HREF = re.compile(r'href="([a-z0-9]+(?:[.-][a-z0-9]+)*)"')


def resolve_entry_links(fragment: str, resolve: Callable[[str], str | None]) -> str:
    """Rewrite links written as a bare entry id (`[KV cache](kv-cache)`) with ``resolve``;
    ids it does not know are left as they are (validation reports them)."""
    def swap(m: re.Match[str]) -> str:
        target = resolve(m.group(1))
        return f'href="{target}"' if target is not None else m.group(0)

    return _ENTRY_HREF.sub(swap, fragment)


def inline_markdown(text: str) -> str:
    """Render a one-line Markdown string without the surrounding paragraph."""
    rendered = markdown_to_html(text).strip()
    if rendered.startswith("<p>") and rendered.endswith("</p>") and rendered.count("<p>") == 1:
        rendered = rendered[3:-4]
    return rendered


def render_text(text: str, expand: Callable[[str], str] | None = None) -> str:
    """Markdown with `{{ expressions }}` expanded first (by ``expand``)."""
    return markdown_to_html(expand(text) if expand else text)
