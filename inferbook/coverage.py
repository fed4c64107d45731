"""Field coverage: for each kind, how many entries fill each optional field."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel

from .kb import KnowledgeBase


def _leaf_fields(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, bool]]:
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        path = f"{prefix}{name}"
        annotation = info.annotation
        nested = isinstance(value, BaseModel) and not hasattr(value, "value")
        if nested and name in ("dense", "sparse", "interconnect", "features", "architecture", "moe", "mla"):
            yield path, True
            yield from _leaf_fields(value, path + ".")
        else:
            filled = value not in (None, (), "") and annotation is not None
            yield path, filled


def field_coverage(kb: KnowledgeBase, kind: str) -> dict[str, tuple[int, int]]:
    """Field path -> (entries filling it, entries of the kind)."""
    entries = list(kb.kind(kind).values())
    counts: dict[str, int] = {}
    for entry in entries:
        for path, filled in _leaf_fields(entry):
            counts[path] = counts.get(path, 0) + int(filled)
    return {path: (n, len(entries)) for path, n in counts.items()}


def coverage_report(kb: KnowledgeBase, kinds: tuple[str, ...] = ("gpus", "models", "formats", "frameworks")) -> str:
    """A plain-text table of fields that some entries leave empty."""
    lines = []
    for kind in kinds:
        cov = field_coverage(kb, kind)
        total = len(kb.kind(kind))
        lines.append(f"{kind} ({total} entries): fields not filled everywhere")
        for path, (n, m) in sorted(cov.items()):
            if n < m:
                lines.append(f"  {path:40s} {n:4d}/{m}")
    return "\n".join(lines)
