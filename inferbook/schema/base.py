"""Building blocks shared by every entry kind: the strict base model, ids,
typed references, citations and sourced quantities."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

ID_PATTERN = r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$"
"""Lower-case letters and digits, single dots or hyphens between them."""

PARTIAL_DATE_PATTERN = r"^[0-9]{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12][0-9]|3[01]))?)?$"

EntryId = Annotated[str, StringConstraints(pattern=ID_PATTERN, min_length=1, max_length=80)]
PartialDate = Annotated[
    str,
    StringConstraints(pattern=PARTIAL_DATE_PATTERN),
    Field(description="A date as precise as known: YYYY, YYYY-MM or YYYY-MM-DD (quote it in YAML)."),
]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=300, strip_whitespace=False)]
NoteText = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
"""Free-form notes: provenance, caveats, revisions."""
Url = Annotated[str, StringConstraints(pattern=r"^https?://[^\s<>\"']+$", max_length=500)]


class Strict(BaseModel):
    """Base of every schema model: unknown keys are errors, values are immutable,
    and no type coercion happens (a quoted "5" is not a number)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        use_attribute_docstrings=True,
        regex_engine="python-re",
    )

    @model_validator(mode="before")
    @classmethod
    def _lists_to_tuples(cls, data: Any) -> Any:
        """Accept lists from Python callers and JSON for the tuple fields (values stay immutable)."""
        if isinstance(data, dict):
            return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return data


@dataclass(frozen=True, slots=True)
class Ref:
    """Marks a field as a reference to entries of the given kinds (an edge in the graph)."""

    kinds: tuple[str, ...]
    edge: str

    def __hash__(self) -> int:
        return hash((self.kinds, self.edge))


ARTICLE_KINDS = ("concepts", "metrics", "techniques")
ANY_KIND = ("chapters", "concepts", "metrics", "techniques", "gpus", "models", "formats", "frameworks", "sources")


def ref(*kinds: str, edge: str) -> Any:
    """An id field that must name an entry of one of ``kinds``."""
    return Annotated[EntryId, Ref(tuple(kinds), edge)]


SourceId = ref("sources", edge="cites")


class Citation(Strict):
    """A pointer to a `sources/` entry, optionally to a place inside it."""

    source: SourceId
    """Id of the cited entry in kb/sources/."""
    locator: ShortText | None = None
    """Where in the source: a page, table, section or file path."""
    note: ShortText | None = None
    """What the source supports, when not obvious."""


def _tuples(value: Any) -> Any:
    """Lists to tuples, recursively. A before-validator hands JSON input on as Python
    objects, where strict tuple fields would refuse JSON arrays."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


def _citation_from_str(value: Any) -> Any:
    return {"source": value} if isinstance(value, str) else _tuples(value)


CitationOrId = Annotated[
    Citation,
    BeforeValidator(_citation_from_str, json_schema_input_type=EntryId | Citation),
]
"""A citation written either as a bare source id or as a mapping."""


class FieldCitation(Strict):
    """A citation for one plain number of the entry (e.g. `architecture.context_length`) that
    does not come from the source the entry cites for its group by default."""

    field: Annotated[str, StringConstraints(pattern=r"^[a-z_]+(?:\.[a-z_]+)*$", max_length=80)]
    """Dotted path of the number inside the entry."""
    source: SourceId
    """Id of the cited entry in kb/sources/."""
    locator: ShortText | None = None
    """Where in the source: a page, table, section or file path."""
    note: ShortText | None = None
    """Why this number comes from here."""


def check_field_sources(entry: BaseModel, citations: tuple[FieldCitation, ...]) -> None:
    """Each cited path must name a plain number (or flag) that the entry fills, once."""
    seen = set()
    for cite in citations:
        if cite.field in seen:
            raise ValueError(f"field_sources cites {cite.field} twice")
        seen.add(cite.field)
        value: Any = entry
        for part in cite.field.split("."):
            if not isinstance(value, BaseModel) or part not in type(value).model_fields:
                raise ValueError(f"field_sources: {cite.field} is not a field of this entry")
            value = getattr(value, part)
        if isinstance(value, Quantity):
            raise ValueError(f"field_sources: {cite.field} is a sourced number; give it its own source instead")
        if not isinstance(value, (int, float)):
            raise ValueError(f"field_sources: {cite.field} is not a number the entry fills")


class Alternative(Strict):
    """A value that another source gives for the same quantity."""

    value: float
    source: SourceId
    note: ShortText
    """Why this value was not chosen."""


class Quantity(Strict):
    """A number with its provenance. Written as a bare number, it is cited by the
    entry's primary `source`; written as a mapping, it may name its own."""

    value: float = Field(ge=0)
    """The number, in the unit the field name states."""
    source: SourceId | None = None
    """Source for this number when it is not the entry's primary source."""
    locator: ShortText | None = None
    """Where in the source the number is printed."""
    note: NoteText | None = None
    """Caveats: derived (e.g. sparse halved), measured, rounded."""
    alternatives: tuple[Alternative, ...] = ()
    """Other published values, with why they were not chosen."""


def _quantity_from_number(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {"value": float(value)}
    return _tuples(value)


SourcedNumber = Annotated[
    Quantity,
    BeforeValidator(_quantity_from_number, json_schema_input_type=Annotated[float, Field(ge=0)] | Quantity),
]


class EntryBase(Strict):
    """Fields every entry has."""

    id: EntryId
    """Unique id; must equal the file name without `.yaml`."""
    title: ShortText
    """Display name."""
    aliases: tuple[Annotated[str, StringConstraints(min_length=1, max_length=80)], ...] = ()
    """Other names and abbreviations readers search for (e.g. "TTFT")."""
    last_reviewed: dt.date
    """Date a maintainer last checked the entry against its sources (YYYY-MM-DD)."""


def slug_ok(value: str) -> bool:
    """True when ``value`` is a valid entry id."""
    return re.match(ID_PATTERN, value) is not None
