"""IB340: a number typed into prose next to a unit the calculators compute."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...content_checks import text_fields
from ...diagnostics import Diagnostic, Severity
from ...expressions import expression_spans
from ...schema.base import ARTICLE_KINDS
from .base import LintContext, in_text

CODE = "IB340"
NAME = "typed-numbers"
SEVERITY: Severity = "warning"
RATIONALE = ("A figure the knowledge base can compute (memory in GiB or GB, bandwidth, TFLOPS, tokens per "
             "second, bytes per token) goes stale when the data changes if it is typed into the text; an "
             "expression keeps it right.")
HINT = ('compute it with an expression, e.g. {{ weight_bytes("model-id", format="fp8-e4m3") | gib(1) }}; a figure '
        'quoted from a source stays as written inside {{ quoted("3,958 TFLOPS") }}')

UNITS = (r"GiB|MiB|KiB|TiB|GB|MB|TB|GB/s|TB/s|MB/s|TFLOPS|PFLOPS|TOPS|tokens/s|tok/s|tokens per second"
         r"|bytes per token|bytes/token|KiB per token|MiB per token")
TYPED = re.compile(rf"(?<![\w.,/$])(\d[\d,]*(?:\.\d+)?)(?:\s|\u202f|\u00a0)?(?:{UNITS})(?![\w/])")
"""A number (digits, thousands commas, decimals) and, right after it, a unit the calculators compute."""
_HIDDEN = re.compile(r"```.*?```|`[^`\n]*`|\$\$.*?\$\$|\$[^$\n]*\$|\]\([^)\n]*\)", re.DOTALL)
"""Code, math and link targets: not prose."""


def _prose_only(text: str) -> str:
    """``text`` with expressions, code, math and link targets blanked out (same offsets)."""
    chars = list(text)
    for start, end, _ in expression_spans(text):
        chars[start:end] = " " * (end - start)
    blanked = "".join(chars)
    return _HIDDEN.sub(lambda m: " " * len(m.group(0)), blanked)


def check(ctx: LintContext) -> Iterator[Diagnostic]:
    for loaded in ctx.of_kind(*ARTICLE_KINDS):
        for path, text, is_markdown in text_fields(loaded.entry):
            if not is_markdown:
                continue
            found = list(TYPED.finditer(_prose_only(text)))
            if found:
                shown = ", ".join(repr(m.group(0)) for m in found[:3]) + (", ..." if len(found) > 3 else "")
                yield in_text(loaded, path, text, found[0].start(), CODE, SEVERITY,
                              f"{'.'.join(map(str, path))}: {len(found)} typed figure(s) with a computed unit: "
                              f"{shown}", HINT)
