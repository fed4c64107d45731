"""What an SVG figure may contain: the allow-list the sanitizer (render.py) applies and the
figure check (figures.py) enforces at load. Plain data and one regular expression, so the core
install can check figures without the site's rendering libraries."""

from __future__ import annotations

import re

SVG_TAGS = {"svg", "g", "rect", "line", "polyline", "polygon", "path", "circle", "ellipse", "text", "tspan",
            "title", "desc", "defs", "marker"}
"""SVG for figures: shapes and text only (no script, foreignObject, use, image or animation)."""
SVG_ATTRS = {"viewBox", "width", "height", "x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "rx", "ry", "d",
             "points", "fill", "fill-opacity", "stroke", "stroke-width", "stroke-dasharray", "stroke-linecap",
             "stroke-linejoin", "opacity", "transform", "font-size", "font-weight", "font-family", "font-style",
             "text-anchor", "dominant-baseline", "dx", "dy", "role", "aria-label", "aria-hidden", "class", "id",
             "marker-end", "marker-start", "markerWidth", "markerHeight", "refX", "refY", "orient",
             "preserveAspectRatio", "xmlns"}
"""The attributes an SVG element may carry."""
SVG_PAINT = re.compile(r"#[0-9A-Fa-f]{3,8}|none|currentColor|[a-z]{3,20}|url\(#[a-z][a-z0-9-]{0,40}\)")
"""A paint or marker value: a colour, or a reference inside the same figure (never an outside URL)."""
CLASS_NAME = re.compile(r"[a-z][a-z0-9-]*")
ELEMENT_ID = re.compile(r"[a-z][a-z0-9-]{0,60}")


def value_problem(attr: str, value: str) -> str | None:
    """Why an allowed attribute's value is refused, or None when it is fine."""
    if attr == "class" and not all(CLASS_NAME.fullmatch(c) for c in value.split()):
        return f"class {value!r} (lower-case names only)"
    if attr in {"fill", "stroke", "marker-end", "marker-start"} and not SVG_PAINT.fullmatch(value):
        return f"{attr} {value!r} (a colour, none, currentColor or url(#id) in the same figure)"
    if attr == "id" and not ELEMENT_ID.fullmatch(value):
        return f"id {value!r} (lower-case letters, digits and hyphens)"
    return None
