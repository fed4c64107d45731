"""IB312: a sparse throughput that is not twice the dense one."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...diagnostics import Diagnostic, Severity
from ...schema import Throughput
from .base import LintContext, at, quantity_text

CODE = "IB312"
NAME = "dense-vs-sparse"
SEVERITY: Severity = "error"
RATIONALE = ("2:4 structured sparsity doubles the math rate, so vendors' sparse figures are twice the dense "
             "ones; any other ratio usually means a sparse figure was entered as dense (or halved twice).")
HINT = ("enter dense figures under dense (halve a with-sparsity datasheet value); where the vendor really "
        "prints another ratio, say so in a note that mentions sparsity")

RATIO = 2.0
TOLERANCE = 0.03


def _documented(entry: object, field: str) -> bool:
    """Whether a note explains an unusual ratio: the field's own dense or sparse note (or
    locator) mentions sparsity, or a note elsewhere mentions sparsity and this format."""
    dense, sparse = entry.dense, entry.sparse  # type: ignore[attr-defined]
    own = quantity_text(getattr(dense, field)) + " " + quantity_text(getattr(sparse, field))
    if re.search(r"spars", own, re.IGNORECASE):
        return True
    label = field.split("_")[0]
    texts = [entry.notes or ""] + [quantity_text(getattr(sparse, f)) for f in Throughput.model_fields]  # type: ignore[attr-defined]
    return any(re.search(r"spars", t, re.IGNORECASE) and re.search(rf"\b{label}\b", t, re.IGNORECASE)
               for t in texts)


def check(ctx: LintContext) -> Iterator[Diagnostic]:
    for loaded in ctx.of_kind("gpus"):
        gpu = loaded.entry
        if gpu.sparse is None:  # type: ignore[attr-defined]
            continue
        for field in Throughput.model_fields:
            sparse = getattr(gpu.sparse, field)  # type: ignore[attr-defined]
            dense = getattr(gpu.dense, field)  # type: ignore[attr-defined]
            if sparse is None:
                continue
            where = ("sparse", field)
            if dense is None:
                yield at(loaded, where, CODE, "warning",
                         f"sparse.{field} is given without dense.{field}",
                         "add the dense figure (usually half the sparse one); dense figures drive the calculators")
                continue
            if dense.value <= 0:
                continue
            ratio = sparse.value / dense.value
            if abs(ratio - RATIO) / RATIO <= TOLERANCE:
                continue
            message = (f"sparse.{field} {sparse.value:g} is {ratio:.2f}x dense.{field} {dense.value:g} "
                       f"(expected {RATIO:g}x)")
            if _documented(gpu, field):
                yield at(loaded, where, CODE, "warning", message + "; a note documents the exception",
                         "nothing to fix if the vendor's table prints this ratio")
            else:
                yield at(loaded, where, CODE, "error", message, HINT)
