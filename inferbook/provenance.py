"""Where each number of the reference data comes from.

Every numeric field of a GPU, model, format or framework entry is cited by some source:
a sourced number (``Quantity``) names its own source or falls back to the entry's ``source``;
a plain integer (a model's layer count, a format's bit width) is cited by a ``field_sources``
entry for its path when there is one, else by the entry's ``config_source`` when it sits under
``architecture`` and by ``source`` otherwise.
This module resolves those rules into one row per number, so tests, the command line and
the site can ask which numbers rest on a secondary source (press coverage, a third-party
catalogue) rather than the maker's own publication."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from pydantic import BaseModel

from .kb import KnowledgeBase
from .schema.base import REFERENCE_KINDS, Citation, Quantity
from .schema.sources import Source


@dataclass(frozen=True, slots=True)
class NumberSource:
    """One number of one entry and the source that vouches for it."""

    entry_id: str
    field: str
    """Dotted field path, e.g. ``dense.bf16_tflops`` or ``architecture.kv_heads``."""
    value: float
    source_id: str | None
    """None when neither the number nor the entry names a source."""
    secondary: bool
    """True when the citing source is marked ``secondary`` (not the maker's own publication)."""
    alternatives: int
    """How many other published values are recorded for the same number."""


def fallback_source(entry: BaseModel, path: str) -> str | None:
    """The source that cites a number which names none itself: a `field_sources` citation
    for that path, else the config for architecture fields, else the entry's source."""
    for cite in getattr(entry, "field_sources", ()):
        if cite.field == path:
            return cite.source
    if path.startswith("architecture."):
        config_source = getattr(entry, "config_source", None)
        if config_source:
            return config_source
    primary = getattr(entry, "source", None)
    if primary:
        return primary
    for cite in getattr(entry, "sources", ()):
        return cite.source if isinstance(cite, Citation) else cite
    return None


def _numbers(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, float, Quantity | None]]:
    """(path, value, quantity-or-None) for every number in ``model``, depth first."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        path = prefix + name
        if isinstance(value, Quantity):
            yield path, value.value, value
        elif isinstance(value, BaseModel):
            yield from _numbers(value, path + ".")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield path, float(value), None


def entry_number_sources(entry: BaseModel, sources: Mapping[str, Source]) -> list[NumberSource]:
    """One row per number of ``entry``; ``sources`` maps source ids to source entries."""
    rows = []
    for path, value, quantity in _numbers(entry):
        own = quantity.source if quantity is not None else None
        source_id = own or fallback_source(entry, path)
        source = sources.get(source_id) if source_id else None
        rows.append(NumberSource(
            entry_id=entry.id, field=path, value=value, source_id=source_id,  # type: ignore[attr-defined]
            secondary=bool(source is not None and source.secondary),
            alternatives=len(quantity.alternatives) if quantity is not None else 0,
        ))
    return rows


def number_sources(kb: KnowledgeBase, entry_id: str) -> list[NumberSource]:
    """One row per number of the entry ``entry_id`` (an id or alias)."""
    return entry_number_sources(kb.get(entry_id), kb.sources)


def all_number_sources(kb: KnowledgeBase, kinds: Iterable[str] = REFERENCE_KINDS) -> list[NumberSource]:
    """Rows for every entry of ``kinds``, in kind then id order."""
    return [row for kind in kinds for eid in sorted(kb.kind(kind)) for row in number_sources(kb, eid)]


def provenance_report(kb: KnowledgeBase, kinds: Iterable[str] = REFERENCE_KINDS) -> str:
    """Plain-text summary: numbers per kind, how many rest on secondary sources, and where."""
    lines = []
    for kind in kinds:
        rows = all_number_sources(kb, (kind,))
        secondary = [r for r in rows if r.secondary]
        uncited = [r for r in rows if r.source_id is None]
        disputed = sum(1 for r in rows if r.alternatives)
        lines.append(f"{kind}: {len(rows)} numbers, {len(secondary)} on secondary sources, "
                     f"{disputed} with alternative published values, {len(uncited)} uncited")
        by_entry: dict[str, list[NumberSource]] = {}
        for r in secondary:
            by_entry.setdefault(r.entry_id, []).append(r)
        for eid, items in by_entry.items():
            fields = ", ".join(f"{r.field} [{r.source_id}]" for r in items)
            lines.append(f"  {eid}: {fields}")
    return "\n".join(lines)
