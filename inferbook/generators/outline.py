"""Heading anchors and the "On this page" outline of a rendered website page.

Every h2 and h3 inside the page's <main> gets an id made from its text (kept when it has
one already), unique on the page, and is followed by a link to itself and a copy-link
button (hidden until the page's script shows it). The outline lists those headings and
takes the place of the ``OUTLINE_MARK`` comment the page's template leaves for it.

This runs on the site's pages only: the PDF renders the same page contexts into its own
book template and gets no anchors or outline."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

OUTLINE_MARK = "<!-- outline -->"
"""Where a template wants the outline; pages without the mark get anchors only."""
MIN_HEADINGS = 2
"""A page with fewer headings gets no outline (one heading is no table of contents)."""

_HEADING = re.compile(r"<h([23])((?:\s[^>]*)?)>(.*?)</h\1>", re.S)
_ID_ATTR = re.compile(r"""\sid\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Heading:
    """One heading of the outline."""

    level: int
    id: str
    text: str


def slug(text: str) -> str:
    """A readable id from heading text: ASCII letters and digits joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "section"


def heading_text(inner_html: str) -> str:
    """The plain text of a heading's inner HTML, spaces collapsed."""
    return " ".join(html.unescape(_TAG.sub(" ", inner_html)).split())


def _ids(page: str) -> set[str]:
    return {a or b for a, b in _ID_ATTR.findall(page)}


def add_anchors(page: str) -> tuple[str, list[Heading]]:
    """``page`` with every h2/h3 in <main> anchored, and those headings in page order."""
    start = page.find("<main")
    end = page.rfind("</main>")
    if start < 0 or end < 0:
        return page, []
    taken = _ids(page)
    headings: list[Heading] = []

    def anchor(m: re.Match[str]) -> str:
        level, attrs, inner = int(m.group(1)), m.group(2), m.group(3)
        text = heading_text(inner)
        found = _ID_ATTR.search(attrs)
        if found:
            hid = found.group(1) or found.group(2) or ""
        else:
            base = hid = slug(text)
            n = 2
            while hid in taken:
                hid, n = f"{base}-{n}", n + 1
            taken.add(hid)
            attrs = f' id="{hid}"{attrs}'
        headings.append(Heading(level, hid, text))
        label = html.escape(text, quote=True)
        return (f'<div class="heading"><h{level}{attrs}>{inner}</h{level}>'
                f'<a class="heading-anchor" href="#{hid}" aria-label="Link to this section: {label}">#</a>'
                f'<button type="button" class="copy-link" data-copy-fragment="{hid}" hidden '
                f'aria-label="Copy link to this section: {label}">Copy link</button></div>')

    body = _HEADING.sub(anchor, page[start:end])
    return page[:start] + body + page[end:], headings


def outline_html(headings: list[Heading]) -> str:
    """The "On this page" box: h2s with their h3s nested; empty with too few headings."""
    if len(headings) < MIN_HEADINGS:
        return ""
    items: list[str] = []
    open_sub = False
    for h in headings:
        link = f'<a href="#{h.id}">{html.escape(h.text)}</a>'
        if h.level == 3 and items:
            items.append(("" if open_sub else "<ol>") + f"<li>{link}</li>")
            open_sub = True
            continue
        if open_sub:
            items.append("</ol>")
            open_sub = False
        items.append(("</li>" if items else "") + f"<li>{link}")
    items.append(("</ol>" if open_sub else "") + "</li>")
    return ('<details class="outline" data-open-from="78rem"><summary>On this page</summary>'
            '<nav aria-label="On this page"><ol>' + "".join(items) + "</ol></nav></details>")


def add_outline(page: str) -> str:
    """Anchors on the page's headings, and its outline in place of ``OUTLINE_MARK``."""
    page, headings = add_anchors(page)
    return page.replace(OUTLINE_MARK, outline_html(headings), 1)
