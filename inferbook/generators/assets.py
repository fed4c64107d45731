"""The site's static assets as served.

The JavaScript under `generators/site/static/js/` is written for readers: about a quarter of
the calculator port (calc.js and the modules under js/calc/) is comments. A page's JavaScript
must stay under 150 KB, so the copies the site serves of js/*.js and js/calc/*.js leave out
whole-line comments (`// ...` lines and `/* ... */` blocks that start a line). Code
lines are never touched, so the served file runs exactly as the source does; the tests run the
parity vectors on the served copies too (tests/test_site.py)."""

from __future__ import annotations

from pathlib import Path

from .output import Output


def served_js(source: str) -> str:
    """``source`` without its whole-line comments (lines that are only a comment, and comment
    blocks whose first line starts with `/*`). A line with code and a trailing comment is kept."""
    out: list[str] = []
    in_block = False
    for line in source.splitlines(keepends=True):
        stripped = line.strip()
        if in_block:
            if "*/" in stripped:
                in_block = False
                if stripped.split("*/", 1)[1].strip():
                    raise ValueError(f"code after a comment block closes: {line!r}")
            continue
        if stripped.startswith("//"):
            continue
        if stripped.startswith("/*"):
            if "*/" in stripped:
                if stripped.split("*/", 1)[1].strip():
                    out.append(line)  # a short comment followed by code: keep the line whole
                continue
            in_block = True
            continue
        out.append(line)
    if in_block:
        raise ValueError("a comment block is never closed")
    return "".join(out)


def write_static(out: Output, static: Path) -> None:
    """Copy the static folder to `assets/`, the JavaScript of `js/` and of the calculator port
    `js/calc/` as `served_js` gives it."""
    out.tree("assets", static)
    js = static / "js"
    for path in sorted([*js.glob("*.js"), *(js / "calc").glob("*.js")]):
        out.text(f"assets/{path.relative_to(static).as_posix()}", served_js(path.read_text(encoding="utf-8")))
