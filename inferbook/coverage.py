"""Field coverage: for each kind, how many entries fill each optional field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, get_args, get_origin

from pydantic import BaseModel

from .kb import KnowledgeBase
from .schema.base import REFERENCE_KINDS, Quantity


def _submodel(annotation: Any) -> type[BaseModel] | None:
    """The nested schema model a field holds (``X`` or ``X | None``), unless it is a sourced number."""
    if get_origin(annotation) is tuple:
        return None
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel) and not issubclass(candidate, Quantity):
            return candidate
    return None


def _leaf_fields(model: BaseModel | None, cls: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, bool]]:
    """(path, filled) for every field of ``cls``, descending into nested groups (dense, moe, ...).
    A missing group counts as missing every field inside it."""
    for name, info in cls.model_fields.items():
        value = getattr(model, name) if model is not None else None
        path = f"{prefix}{name}"
        sub = _submodel(info.annotation)
        if sub is not None:
            yield path, value is not None
            yield from _leaf_fields(value, sub, path + ".")
        else:
            yield path, value not in (None, (), "")


def field_coverage(kb: KnowledgeBase, kind: str) -> dict[str, tuple[int, int]]:
    """Field path -> (entries filling it, entries of the kind)."""
    missing = missing_by_field(kb, kind)
    total = len(kb.kind(kind))
    return {path: (total - len(ids), total) for path, ids in missing.items()}


def missing_by_field(kb: KnowledgeBase, kind: str) -> dict[str, list[str]]:
    """Field path -> ids of the entries of ``kind`` that leave it empty (sorted)."""
    missing: dict[str, list[str]] = {}
    entries = kb.kind(kind)
    for eid in sorted(entries):
        entry = entries[eid]
        for path, filled in _leaf_fields(entry, type(entry)):
            ids = missing.setdefault(path, [])
            if not filled:
                ids.append(eid)
    return missing


def coverage_report(kb: KnowledgeBase, kinds: tuple[str, ...] = REFERENCE_KINDS,
                    list_up_to: int = 8) -> str:
    """A plain-text table of fields that some entries leave empty; when few entries miss a
    field (at most ``list_up_to``), their ids are listed."""
    lines = []
    for kind in kinds:
        missing = missing_by_field(kb, kind)
        total = len(kb.kind(kind))
        lines.append(f"{kind} ({total} entries): fields not filled everywhere")
        for path, ids in sorted(missing.items()):
            if ids:
                where = f"  missing: {', '.join(ids)}" if len(ids) <= list_up_to else ""
                lines.append(f"  {path:40s} {total - len(ids):4d}/{total}{where}")
    return "\n".join(lines)
