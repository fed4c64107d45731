"""Figures inside articles: conceptual SVG drawings kept beside their entry, and charts
drawn from the data at build time.

An article lists its figures under `figures:`; a drawing is the file
`<entry-id>.<figure-id>.svg` in the entry's own folder (the name is made from the two ids,
so a figure can never point at another path). The loader reads it (`read_figure`), refuses
anything beyond plain vector shapes and text (`svg_problems`: no script, no links, no
images, no styles, no entities, no values outside `svg_rules`; nothing needs the site's
libraries, so the core install checks figures too), and stores it in the figure's `svg` field,
so figures travel with the entry into the cache and the wheel's bundle. The pages pass every
drawing through the one sanitizer (`render.sanitize`) as they place it. A chart figure
(`chart: roofline`) is drawn from the knowledge base when the page is built
(`generators/charts.py`).

In the body, a paragraph that is only `[[figure:ID]]` places a figure; figures the body does
not place follow the text. The same marker inside a sentence is a reference to the figure,
written "Figure N" and linked to it. `place_figures` does that for the site and the PDF alike,
numbering the figures of each entry from 1 (each entry is a page of the site); the PDF numbers
them by chapter instead ("Figure 3.2") with `renumber_figures`, references included. The
drawing inherits the page's text colour (`currentColor`), so it follows the dark theme.
"""

from __future__ import annotations

import html
import re
import stat
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .schema.articles import Figure

MAX_SVG_BYTES = 256 * 1024
"""Largest drawing file read."""
PLACEHOLDER = re.compile(r"<p>\[\[figure:([a-z0-9]+(?:-[a-z0-9]+)*)\]\]</p>")
"""A body paragraph that places a figure (as Markdown renders `[[figure:ID]]`)."""
SOURCE_PLACEHOLDER = re.compile(r"\[\[figure:([^\]\n]{0,80})\]\]")
"""The same marker in the Markdown source (checked at load: the id must be declared)."""
REFERENCE = re.compile(r"(<code[^>]*>.*?</code>)|\[\[figure:([a-z0-9]+(?:-[a-z0-9]+)*)\]\]", re.DOTALL)
"""The marker inside a paragraph (a reference to the figure), or a code element, left as it is."""
_NUMBERED = re.compile(r'(<figure class="figure" id=")([a-z0-9-]+)(">.*?<span class="figure-number">Figure )'
                       r'[0-9.]+\.</span>', re.DOTALL)
"""A placed figure (`figure_html`): its element id and, after its drawing, the number in its caption."""
_REFERENCED = re.compile(r'<a class="figure-ref" href="#([a-z0-9-]+)">Figure [0-9.]+</a>')
"""A reference to a figure (`reference_html`)."""
_SVG_NS = "{http://www.w3.org/2000/svg}"
_LABEL_ATTRS = re.compile(r'\s(?:role|aria-label)="[^"]*"')


def figure_path(entry_file: Path, figure_id: str) -> Path:
    """Where a drawing lives: beside the entry file, named after the entry and figure ids."""
    return entry_file.with_name(f"{entry_file.name[: -len('.yaml')]}.{figure_id}.svg")


def svg_problems(text: str) -> list[str]:
    """What makes a drawing unacceptable: not one well-formed `<svg>` element with a viewBox,
    or any element or attribute outside the sanitizer's SVG allow-list (nothing is silently
    dropped: the author hears about it)."""
    from .svg_rules import SVG_ATTRS, SVG_TAGS, value_problem

    if "<!" in text:
        return ["a DOCTYPE, entity, CDATA section or comment (<!...) is not allowed in a figure"]
    if "<?" in text.replace('<?xml version="1.0" encoding="UTF-8"?>', "", 1):
        return ["processing instructions (<?...?>) are not allowed in a figure"]
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        return [f"not well-formed XML: {exc}"]
    problems: list[str] = []
    if root.tag not in ("svg", f"{_SVG_NS}svg"):
        return [f"the root element must be <svg>, not <{root.tag}>"]
    if "viewBox" not in root.attrib:
        problems.append("the <svg> element needs a viewBox, so the figure scales with the page")
    for element in root.iter():
        tag = element.tag.removeprefix(_SVG_NS)
        if tag not in SVG_TAGS:
            problems.append(f"element <{tag}> is not allowed (allowed: {', '.join(sorted(SVG_TAGS))})")
            continue
        for name, value in element.attrib.items():
            if name not in SVG_ATTRS:
                problems.append(f"attribute '{name}' on <{tag}> is not allowed")
            elif (problem := value_problem(name, value)) is not None:
                problems.append(f"<{tag}> {problem}")
    return sorted(set(problems))[:10]


def read_figure(path: Path) -> tuple[str | None, str | None]:
    """(SVG text, None) or (None, the problem): the file is read only if it is a regular file
    inside the folder (links are not followed) and not too large, and kept only when
    `svg_problems` finds nothing. (The pages pass it through the sanitizer once more.)"""
    try:
        info = path.lstat()
    except OSError:
        return None, f"figure file {path.name} not found beside the entry"
    if not stat.S_ISREG(info.st_mode):
        return None, f"figure file {path.name} is not a regular file (links are not followed)"
    if info.st_size > MAX_SVG_BYTES:
        return None, f"figure file {path.name} is {info.st_size:,} bytes; the limit is {MAX_SVG_BYTES:,}"
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"cannot read figure file {path.name}: {exc}"
    problems = svg_problems(text)
    if problems:
        return None, f"{path.name}: " + "; ".join(problems)
    return text.strip(), None


def figure_anchor(figure_id: str) -> str:
    """The element id of a placed figure on its entry's page."""
    return f"figure-{figure_id}"


def figure_html(figure: Figure, number: int | str, svg: str, caption_html: str) -> str:
    """One figure as the page shows it: the drawing labelled by its alt text, and a numbered caption."""
    alt = html.escape(figure.alt, quote=True)
    opening, _, rest = svg.partition(">")
    opening = _LABEL_ATTRS.sub("", opening)
    labelled = opening.replace("<svg", f'<svg role="img" aria-label="{alt}"', 1) + ">" + rest if svg else ""
    return (f'<figure class="figure" id="{figure_anchor(figure.id)}">{labelled}'
            f"<figcaption><span class=\"figure-number\">Figure {number}.</span> {caption_html}</figcaption></figure>")


def reference_html(anchor: str, number: int | str) -> str:
    """A reference in the text to the figure whose element id is ``anchor``."""
    return f'<a class="figure-ref" href="#{anchor}">Figure {number}</a>'


def place_figures(body_html: str, figures: Sequence[Figure], draw: Callable[[Figure], str],
                  caption: Callable[[str], str]) -> str:
    """The body with each `[[figure:ID]]` paragraph replaced by its figure, and the figures
    it does not place appended, numbered in reading order; a `[[figure:ID]]` inside a sentence
    (not in code) becomes a linked "Figure N". ``draw`` gives a figure's SVG (its stored
    drawing, or a chart drawn now); ``caption`` renders caption Markdown."""
    by_id = {f.id: f for f in figures}
    order: list[str] = []

    def swap(match: re.Match[str]) -> str:
        figure = by_id.get(match.group(1))
        if figure is None or figure.id in order:
            return ""  # validation reports unknown or repeated ids
        order.append(figure.id)
        return figure_html(figure, len(order), draw(figure), caption(figure.caption))

    out = PLACEHOLDER.sub(swap, body_html)
    for figure in figures:
        if figure.id not in order:
            order.append(figure.id)
            out += figure_html(figure, len(order), draw(figure), caption(figure.caption))
    numbers = {fid: n for n, fid in enumerate(order, 1)}

    def refer(match: re.Match[str]) -> str:
        fid = match.group(2)
        if fid is None or fid not in numbers:
            return match.group(0)  # code, or an id validation reports
        return reference_html(figure_anchor(fid), numbers[fid])

    return REFERENCE.sub(refer, out)


def renumber_figures(body_html: str, label: Callable[[int], str],
                     anchor: Callable[[str], str]) -> tuple[str, int]:
    """A body from `place_figures` with its figures numbered ``label(1)``, ``label(2)``, ... in
    reading order and their element ids ``anchor(figure id)``, the references to them changed
    alike; and how many figures it holds. The PDF numbers by chapter this way ("Figure 3.2")
    and keeps figure ids unique across the book."""
    found: dict[str, tuple[str, str]] = {}  # element id on the page -> (new id, new number)

    def number(match: re.Match[str]) -> str:
        fid = match.group(2).removeprefix("figure-")
        new = found[match.group(2)] = (anchor(fid), label(len(found) + 1))
        return f"{match.group(1)}{new[0]}{match.group(3)}{new[1]}.</span>"

    out = _NUMBERED.sub(number, body_html)

    def refer(match: re.Match[str]) -> str:
        new = found.get(match.group(1))
        return reference_html(*new) if new else match.group(0)

    return _REFERENCED.sub(refer, out), len(found)
