"""Find the typed references inside a validated entry by reading the schema's
`Ref` annotations, so the graph needs no per-kind code."""

from __future__ import annotations

import functools
import typing
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import BaseModel

from .schema.base import Ref


@dataclass(frozen=True, slots=True)
class Reference:
    """One id written in an entry, with where it was written."""

    target: str
    kinds: tuple[str, ...]
    edge: str
    path: tuple[str | int, ...]


def _find_ref(annotation: object) -> Ref | None:
    for meta in getattr(annotation, "__metadata__", ()):
        if isinstance(meta, Ref):
            return meta
    for arg in typing.get_args(annotation):
        found = _find_ref(arg)
        if found is not None:
            return found
    return None


@functools.cache
def _field_refs(cls: type[BaseModel]) -> dict[str, Ref | None]:
    out: dict[str, Ref | None] = {}
    for name, info in cls.model_fields.items():
        ref = next((m for m in info.metadata if isinstance(m, Ref)), None)
        out[name] = ref or _find_ref(info.annotation)
    return out


def iter_references(model: BaseModel, path: tuple[str | int, ...] = ()) -> Iterator[Reference]:
    """Every reference in ``model`` and its nested models, in field order."""
    refs = _field_refs(type(model))
    for name in type(model).model_fields:
        value = getattr(model, name)
        if value is None:
            continue
        ref = refs[name]
        here = (*path, name)
        if isinstance(value, str):
            if ref is not None:
                yield Reference(value, ref.kinds, ref.edge, here)
        elif isinstance(value, BaseModel):
            yield from iter_references(value, here)
        elif isinstance(value, tuple):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from iter_references(item, (*here, i))
                elif isinstance(item, str) and ref is not None:
                    yield Reference(item, ref.kinds, ref.edge, (*here, i))
