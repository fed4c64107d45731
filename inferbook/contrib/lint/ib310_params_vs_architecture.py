"""IB310: the stated parameter count disagrees with the count the architecture implies."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...calc import count_params
from ...diagnostics import Diagnostic, Severity
from .base import LintContext, at, quantity_text

CODE = "IB310"
NAME = "params-vs-architecture"
SEVERITY: Severity = "error"
RATIONALE = ("Every memory and speed figure is computed from the architecture fields, so a total that "
             "disagrees with them means a mistyped config value or a wrong card figure.")
HINT = ("compare the architecture with config.json; if the card's figure is a rounded size class, say so "
        "in params_total_b's note (e.g. 'size class', 'nominal', 'includes the vision encoder')")

TOLERANCE = 0.02
"""Relative difference accepted without comment."""
ROUNDED_LIMIT = 0.25
"""Largest difference a rounded or explained figure may show before it is an error again."""
EXPLAINED = re.compile(r"size class|nominal|headline|rounded|from the (model )?name|vision encoder|"
                       r"includ\w* (the )?(vision|mtp|multi-token)", re.IGNORECASE)


def significant_digits(value: float) -> int:
    """Significant digits a figure is written with (70 -> 1, 46.7 -> 3, 1000 -> 1)."""
    digits = f"{value:.6g}".replace(".", "").replace("-", "").lstrip("0").rstrip("0")
    return max(1, len(digits))


def check(ctx: LintContext) -> Iterator[Diagnostic]:
    for loaded in ctx.of_kind("models"):
        model = loaded.entry
        stated = model.params_total_b.value  # type: ignore[attr-defined]
        counted = count_params(model.architecture)  # type: ignore[attr-defined]
        computed = counted.total / 1e9
        if computed <= 0:
            continue
        diff = (stated - computed) / computed
        if abs(diff) <= TOLERANCE:
            continue
        why = []
        if EXPLAINED.search(quantity_text(model.params_total_b)):  # type: ignore[attr-defined]
            why.append("the note explains it")
        if significant_digits(stated) <= 2:
            why.append(f"{stated:g} is a rounded figure")
        if counted.approximate:
            why.append("the count is approximate for linear-attention layers")
        message = (f"params_total_b {stated:g}B differs from the {computed:.2f}B the architecture implies "
                   f"({diff:+.1%})")
        mark = ("params_total_b", "value") if ("params_total_b", "value") in loaded.doc.value_marks \
            else ("params_total_b",)
        if why and abs(diff) <= ROUNDED_LIMIT:
            yield at(loaded, mark, CODE, "warning", f"{message}; accepted because {' and '.join(why)}",
                     "nothing to fix if the source gives only a rounded size class")
        else:
            yield at(loaded, mark, CODE, "error", message, HINT)
