"""Checks on contributor text that the schema cannot express: Markdown bodies
must not carry raw HTML or links with dangerous schemes, and LaTeX must not use
commands that link, read files, redefine macros or smuggle markup. These run on
every entry at load time (codes IB110-IB112); the renderer escapes and sanitizes
again (see docs/security.md).

Contributor text is hostile, so every scan here runs in time linear in the length
of the text: code spans and fences are found by explicit scanners rather than
backtracking regular expressions, and every regular expression used has bounded
repetition or cannot overlap itself. `tests/test_security_render.py` times each
on inputs a hundred times larger than the schema allows."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel

from .schema.articles import Exercise, Faq, Figure, Formula, ToolDefinition

_BACKTICKS = re.compile(r"`+")
_FENCE_OPEN = re.compile(r" {0,3}(`{3,}(?=[^`]*$)|~{3,})")  # a backtick fence's info string has no backtick
_HTML_TAG = re.compile(r"<(?:!--|/?[A-Za-z][A-Za-z0-9-]{0,64}(?:\s[^<>]*)?/?>)")
_AUTOLINK = re.compile(r"<[A-Za-z][A-Za-z0-9+.-]{0,31}:[^<>\s]*>")
_LINK_TARGET = re.compile(r"\]\(\s*(?:<\s*)?([^)\s>]+)")
# a reference label is at most 999 characters (CommonMark), which bounds the scan of each line
_REF_DEF = re.compile(r"^ {0,3}\[[^\]]{1,999}\]:[ \t]*\n?[ \t]*<?([^\s>]+)", re.MULTILINE)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_UNSAFE_LATEX = re.compile(
    r"\\(href|url|input|include|includegraphics|write\d*|openin|openout|read|immediate|def|edef|gdef|xdef|let|"
    r"newcommand|renewcommand|providecommand|DeclareMathOperator|catcode|csname|special|htmlClass|htmlId|"
    r"htmlStyle|htmlData|html)(?![A-Za-z])")
_MARKUP_IN_LATEX = re.compile(r"[<>]")
_TEXT_COMMAND = re.compile(r"\\(?:text[a-z]*|mbox|hbox|mathrm|operatorname)\s*\{([^{}]*)\}")
_MATH = re.compile(r"\$\$([^$]+)\$\$|\$([^$\n]+)\$")
MAX_FINDINGS_PER_FIELD = 10
"""A field with more problems than this reports the first ones and a count (keeps output and time bounded)."""


def capped(findings: list[tuple[int, str, str, str]],
           limit: int = MAX_FINDINGS_PER_FIELD) -> list[tuple[int, str, str, str]]:
    """The first ``limit`` findings of one field (by offset), then one finding that counts the rest."""
    findings = sorted(findings)
    if len(findings) <= limit:
        return findings
    rest = len(findings) - limit
    offset, code = findings[limit][0], findings[limit][1]
    return [*findings[:limit], (offset, code, f"... and {rest:,} more problems of this kind in this field",
                                "fix the ones above first")]


def unsafe_link_target(target: str) -> str | None:
    """Why a link target may not be used, or None when it is fine. Allowed: http, https and
    mailto (in any letter case), anchors, and paths inside the site. Protocol-relative
    (`//host`) and backslash targets leave the site without saying so and are refused."""
    target = target.strip()
    if target.startswith(("//", "\\", "/\\")):
        return "protocol-relative links are not allowed; write the full https:// address"
    scheme = _SCHEME.match(target)
    if scheme and scheme.group(1).lower() not in SAFE_SCHEMES:
        return f"link scheme '{scheme.group(1)}:' is not allowed"
    return None


def code_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every fenced code block and inline code span, in one pass.

    Fences: a line opening with three or more backticks (and no backtick after them)
    or tildes runs to a line that closes with at least as many of the same character
    (or to the end of the text). Inline code: a run of n backticks runs to the next run of exactly n
    backticks; a run without a partner is plain text. Linear in len(text)."""
    length = len(text)
    fences: list[tuple[int, int]] = []
    line_start = 0
    while line_start < length:
        line_end = text.find("\n", line_start)
        line_end = length if line_end < 0 else line_end
        opened = _FENCE_OPEN.match(text, line_start, line_end)
        if opened:
            mark = opened.group(1)
            close = re.compile(rf" {{0,3}}{re.escape(mark[0])}{{{len(mark)},}}[ \t]*$")
            scan = line_end + 1
            end = length
            while scan < length:
                next_end = text.find("\n", scan)
                next_end = length if next_end < 0 else next_end
                if close.match(text, scan, next_end):
                    end = next_end
                    break
                scan = next_end + 1
            fences.append((line_start, end))
            line_start = end + 1
        else:
            line_start = line_end + 1
    # inline spans, outside fences
    runs: list[tuple[int, int]] = []
    fence_iter = iter(fences)
    fence = next(fence_iter, None)
    for m in _BACKTICKS.finditer(text):
        while fence is not None and fence[1] <= m.start():
            fence = next(fence_iter, None)
        if fence is not None and fence[0] <= m.start() < fence[1]:
            continue
        runs.append((m.start(), m.end()))
    # for each run, the index of the next run of the same length (scanning from the end)
    following: list[int | None] = [None] * len(runs)
    last_seen: dict[int, int] = {}
    for i in range(len(runs) - 1, -1, -1):
        size = runs[i][1] - runs[i][0]
        following[i] = last_seen.get(size)
        last_seen[size] = i
    spans = list(fences)
    i = 0
    while i < len(runs):
        j = following[i]
        if j is None:
            i += 1
            continue
        spans.append((runs[i][0], runs[j][1]))
        i = j + 1
    spans.sort()
    yield from spans


def without_code(text: str) -> str:
    """The text with fenced code blocks and inline code blanked out, offsets and newlines kept."""
    parts: list[str] = []
    done = 0
    for start, end in code_spans(text):
        if start < done:
            continue
        parts.append(text[done:start])
        chunk = text[start:end]
        parts.append("".join("\n" if c == "\n" else " " for c in chunk))
        done = end
    parts.append(text[done:])
    return "".join(parts)


def markdown_problems(text: str) -> Iterator[tuple[int, str, str, str]]:
    """(offset, code, message, hint) for raw HTML, unsafe links and unsafe LaTeX in Markdown."""
    plain = without_code(text)
    for m in _HTML_TAG.finditer(plain):
        if _AUTOLINK.match(plain, m.start()):
            continue
        yield (m.start(), "IB110", f"raw HTML {m.group(0)[:40]!r} is not allowed in Markdown",
               "use Markdown syntax; write < as &lt; or put code in backticks")
    targets = [(m.start(1), m.group(1)) for m in _LINK_TARGET.finditer(plain)]
    targets += [(m.start(1), m.group(1)) for m in _REF_DEF.finditer(plain)]
    targets += [(m.start() + 1, m.group(0)[1:-1]) for m in _AUTOLINK.finditer(plain)]
    for offset, target in sorted(targets):
        why = unsafe_link_target(target)
        if why:
            yield (offset, "IB111", why, "links may use http, https or mailto, or point inside the site")
    for m in _MATH.finditer(plain):
        body = m.group(1) if m.group(1) is not None else m.group(2)
        start = m.start(1) if m.group(1) is not None else m.start(2)
        yield from latex_problems(body, start)


def latex_problems(latex: str, base: int = 0) -> Iterator[tuple[int, str, str, str]]:
    """(offset, code, message, hint) for LaTeX commands that link, include files or define
    macros, and for `<` or `>` inside text commands (they would reach the page as markup)."""
    for m in _UNSAFE_LATEX.finditer(latex):
        yield (base + m.start(), "IB112", f"LaTeX command \\{m.group(1)} is not allowed",
               "formulas may use math commands only (no links, files or macro definitions)")
    for m in _TEXT_COMMAND.finditer(latex):
        inner = _MARKUP_IN_LATEX.search(m.group(1))
        if inner:
            yield (base + m.start(1) + inner.start(), "IB112", "'<' or '>' inside a LaTeX text command is not allowed",
                   "write \\lt or \\gt in math, or 'less than' in words")


def text_fields(entry: BaseModel) -> Iterator[tuple[tuple[str | int, ...], str, bool]]:
    """(path, text, is_markdown) for every prose field of an entry: body, summary, FAQ
    questions and answers, formula LaTeX and `where` lines, and metric tool definitions.
    The one list of prose fields: load-time checks, link checks and lint rules all use it."""
    body = getattr(entry, "body", None)
    if body:
        yield ("body",), body, True
    for i, item in enumerate(getattr(entry, "faq", ())):
        if isinstance(item, Faq):
            yield ("faq", i, "a"), item.a, True
            yield ("faq", i, "q"), item.q, True
    for i, item in enumerate(getattr(entry, "exercises", ())):
        if isinstance(item, Exercise):
            yield ("exercises", i, "question"), item.question, True
            yield ("exercises", i, "solution"), item.solution, True
    for i, item in enumerate(getattr(entry, "figures", ())):
        if isinstance(item, Figure):
            yield ("figures", i, "alt"), item.alt, True
            yield ("figures", i, "caption"), item.caption, True
    for i, item in enumerate(getattr(entry, "formulas", ())):
        if isinstance(item, Formula):
            yield ("formulas", i, "latex"), item.latex, False
            for j, line in enumerate(item.where):
                yield ("formulas", i, "where", j), line, True
    for i, item in enumerate(getattr(entry, "tool_definitions", ())):
        if isinstance(item, ToolDefinition):
            yield ("tool_definitions", i, "definition"), item.definition, True
    summary = getattr(entry, "summary", None)
    if summary:
        yield ("summary",), summary, True
