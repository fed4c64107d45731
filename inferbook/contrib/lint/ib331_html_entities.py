"""IB331: HTML character references in Markdown text."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...content_checks import text_fields, without_code
from ...diagnostics import Diagnostic, Severity
from .base import LintContext, in_text

CODE = "IB331"
NAME = "html-entities"
SEVERITY: Severity = "warning"
RATIONALE = ("Markdown bodies are plain UTF-8 text; references such as &nbsp; or &#8217; hide the real "
             "character from search, the PDF and notebooks (raw HTML tags are already error IB110).")
HINT = "type the character itself (only &lt;, &gt; and &amp; are needed, to escape < > &)"

ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
ALLOWED = frozenset({"lt", "gt", "amp"})

def check(ctx: LintContext) -> Iterator[Diagnostic]:
    for loaded in ctx.entries.values():
        for path, text, is_markdown in text_fields(loaded.entry):
            if not is_markdown:
                continue
            for m in ENTITY.finditer(without_code(text)):
                if m.group(1) in ALLOWED:
                    continue
                yield in_text(loaded, path, text, m.start(), CODE, SEVERITY,
                              f"{'.'.join(map(str, path))}: HTML character reference {m.group(0)}", HINT)
