"""Building blocks shared by every entry kind: the strict base model, ids,
typed references, citations, sourced quantities and the bounds of numbers.

Every value is hostile until checked. Text: patterns are written for JSON Schema
(ECMA-262, where `$` ends the input) and checked in Python with `re.fullmatch`
(`full_match`), since pydantic's `re.search` lets `$` match before a final line
break; every string of every model is refused if it holds a control, invisible or
text-direction character (`Strict._plain_text`), and line breaks and tabs are
allowed only in fields marked `MULTILINE`. Numbers: every numeric field has a
physically plausible lower and upper bound (`Count`, `Width`, `Bandwidth`, ...),
and non-finite floats are refused."""

from __future__ import annotations

import datetime as dt
import functools
import re
import typing
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ..yamlio import disallowed_character

ID_PATTERN = r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$"
"""Lower-case letters and digits, single dots or hyphens between them."""

PARTIAL_DATE_PATTERN = r"^[0-9]{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12][0-9]|3[01]))?)?$"

URL_PATTERN = r"^https?://[^\s<>\"']+$"

FIELD_PATH_PATTERN = r"^[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*$"


def full_match(pattern: str) -> AfterValidator:
    """A validator that requires the whole string to match ``pattern`` (`re.fullmatch`), with
    the message of pydantic's own pattern check. Pair it with `StringConstraints(pattern=...)`,
    which puts the pattern into the JSON Schema but lets "abc\\n" through."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if compiled.fullmatch(value) is None:
            raise PydanticCustomError("string_pattern_mismatch", "String should match pattern '{pattern}'",
                                      {"pattern": pattern})
        return value

    return AfterValidator(check)


EntryId = Annotated[str, StringConstraints(pattern=ID_PATTERN, min_length=1, max_length=80), full_match(ID_PATTERN)]
PartialDate = Annotated[
    str,
    StringConstraints(pattern=PARTIAL_DATE_PATTERN),
    full_match(PARTIAL_DATE_PATTERN),
    Field(description="A date as precise as known: YYYY, YYYY-MM or YYYY-MM-DD (quote it in YAML)."),
]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=300, strip_whitespace=False)]
NoteText = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
"""Free-form notes: provenance, caveats, revisions."""
Url = Annotated[str, StringConstraints(pattern=URL_PATTERN, max_length=500), full_match(URL_PATTERN)]


class MultiLine:
    """Marks a text type whose values may hold line breaks and tabs (Markdown prose)."""


MULTILINE = MultiLine()
"""Put into `Annotated[str, ...]` to allow line breaks and tabs; every other string is one line."""

# Bounds of plain numbers: physically plausible, yet generous.
Count = Annotated[int, Field(ge=1, le=100_000)]
"""A number of heads or experts: 1 to 100,000."""
Width = Annotated[int, Field(ge=1, le=1_000_000)]
"""A hidden, head, FFN or latent width, or a block of elements: 1 to 1,000,000."""
TokenCount = Annotated[int, Field(ge=1, le=1_000_000_000)]
"""A context length, window or chunk in tokens: 1 to 10^9."""
VocabSize = Annotated[int, Field(ge=1, le=10_000_000)]
"""Tokens in a vocabulary: 1 to 10^7."""
LayerCount = Annotated[int, Field(ge=1, le=1000)]
"""Layers of a model: 1 to 1,000."""


class Strict(BaseModel):
    """Base of every schema model: unknown keys are errors, values are immutable,
    and no type coercion happens (a quoted "5" is not a number)."""

    model_config = ConfigDict(
        defer_build=True,
        extra="forbid",
        frozen=True,
        strict=True,
        use_attribute_docstrings=False,  # field docstrings are read on demand: schema/docs.py
        regex_engine="python-re",
        allow_inf_nan=False,
    )

    @field_validator("*", mode="after")
    @classmethod
    def _plain_text(cls, value: Any, info: ValidationInfo) -> Any:
        """Every string of every field: no control, invisible or text-direction characters,
        and no line break or tab unless the field is marked `MULTILINE`."""
        if isinstance(value, (str, tuple)):
            allowed = "\t\n" if info.field_name and _multiline(cls, info.field_name) else ""
            for at, text in _strings(value):
                problem = disallowed_character(text, allowed)
                if problem is not None:
                    offset, message, _ = problem
                    if not allowed and text[offset] in "\t\n":
                        message += " in a single-line field"
                    raise PydanticCustomError("disallowed_character", "{problem}",
                                              {"problem": message, "at": at, "got": text})
        return value

    @model_validator(mode="before")
    @classmethod
    def _lists_to_tuples(cls, data: Any) -> Any:
        """Accept lists from Python callers and JSON for the tuple fields (values stay immutable)."""
        if isinstance(data, dict):
            return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return data


@functools.cache
def _multiline(model: type[BaseModel], name: str) -> bool:
    """Whether field ``name`` of ``model`` is marked `MULTILINE` (in its type or metadata)."""
    info = model.model_fields.get(name)
    stack: list[Any] = [*info.metadata, info.annotation] if info else []
    while stack:
        item = stack.pop()
        if isinstance(item, MultiLine):
            return True
        stack.extend(typing.get_args(item))
    return False


def _strings(value: Any, at: str = "") -> list[tuple[str, str]]:
    """The strings in ``value`` (a string or nested tuples), with their dotted place in it."""
    if isinstance(value, str):
        return [(at, value)]
    if isinstance(value, tuple):
        return [found for i, item in enumerate(value) for found in _strings(item, f"{at}.{i}".lstrip("."))]
    return []


@dataclass(frozen=True, slots=True)
class Ref:
    """Marks a field as a reference to entries of the given kinds (an edge in the graph)."""

    kinds: tuple[str, ...]
    edge: str

    def __hash__(self) -> int:
        return hash((self.kinds, self.edge))


ARTICLE_KINDS = ("concepts", "metrics", "techniques")
"""The article kinds: the handbook's prose, read in `KnowledgeBase.learning_order`."""
REFERENCE_KINDS = ("gpus", "models", "formats", "frameworks")
"""The reference-data kinds whose numbers cite sources (provenance, coverage, lint IB306)."""
ANY_KIND = ("chapters", "concepts", "metrics", "techniques", "gpus", "models", "formats", "frameworks", "sources")


def ref(*kinds: str, edge: str) -> Any:
    """An id field that must name an entry of one of ``kinds``. The schema's own fields spell
    this out as `Annotated[EntryId, Ref(kinds, edge)]`: type checkers refuse calls in annotations."""
    return Annotated[EntryId, Ref(tuple(kinds), edge)]


SourceId = Annotated[EntryId, Ref(("sources",), "cites")]


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

    field: Annotated[str, StringConstraints(pattern=FIELD_PATH_PATTERN, max_length=80), full_match(FIELD_PATH_PATTERN)]
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

    value: float = Field(ge=0)
    """The other value, in the field's unit (bounded like the field's own value)."""
    source: SourceId
    note: ShortText
    """Why this value was not chosen."""


def _operand(other: Any) -> float | None:
    """The number ``other`` stands for in arithmetic with a `Quantity` (None: not a number)."""
    if isinstance(other, Quantity):
        return other.value
    if isinstance(other, (int, float)) and not isinstance(other, bool):
        return float(other)
    return None


def _arithmetic(name: str, swap: bool = False) -> Any:
    """A binary operator method of `Quantity` that works on the value and gives a plain float."""
    import operator

    op = getattr(operator, name)

    def method(self: Quantity, other: Any) -> Any:
        number = _operand(other)
        if number is None:
            return NotImplemented
        return float(op(number, self.value) if swap else op(self.value, number))

    method.__name__ = f"__{'r' if swap else ''}{name.rstrip('_')}__"
    method.__doc__ = f"``{name}`` on the value; a plain float."
    return method


def _comparison(name: str) -> Any:
    """An ordering method of `Quantity`: compares values with numbers and other quantities."""
    import operator

    op = getattr(operator, name)

    def method(self: Quantity, other: Any) -> Any:
        number = _operand(other)
        return NotImplemented if number is None else op(self.value, number)

    method.__name__ = f"__{name}__"
    method.__doc__ = f"``{name}`` of the values."
    return method


class Quantity(Strict):
    """A number with its provenance. Written as a bare number, it is cited by the
    entry's primary `source`; written as a mapping, it may name its own."""

    # In Python a quantity behaves as its number (this note is a comment, not part of the
    # docstring, which the JSON Schema export carries): `q > 80`, `float(q)`, `int(q)`,
    # `round(q, 1)`, `f"{q:.1f}"`, `q * 2` and `sum(...)` work on `.value`, and arithmetic
    # gives plain floats. `q == 80.0` compares the value; two quantities are equal only when
    # their value and provenance are, and the hash is the value's, so equal objects hash alike.
    # `bool(q)` stays True (the field is present), even for 0.

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

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Quantity):
            return super().__eq__(other)
        number = _operand(other)
        return NotImplemented if number is None else self.value == number

    def __hash__(self) -> int:
        return hash(self.value)

    __lt__ = _comparison("lt")
    __le__ = _comparison("le")
    __gt__ = _comparison("gt")
    __ge__ = _comparison("ge")
    __add__ = _arithmetic("add")
    __radd__ = _arithmetic("add", swap=True)
    __sub__ = _arithmetic("sub")
    __rsub__ = _arithmetic("sub", swap=True)
    __mul__ = _arithmetic("mul")
    __rmul__ = _arithmetic("mul", swap=True)
    __truediv__ = _arithmetic("truediv")
    __rtruediv__ = _arithmetic("truediv", swap=True)
    __floordiv__ = _arithmetic("floordiv")
    __rfloordiv__ = _arithmetic("floordiv", swap=True)
    __mod__ = _arithmetic("mod")
    __rmod__ = _arithmetic("mod", swap=True)
    __pow__ = _arithmetic("pow")
    __rpow__ = _arithmetic("pow", swap=True)

    def __neg__(self) -> float:
        return -self.value

    def __pos__(self) -> float:
        return self.value

    def __abs__(self) -> float:
        return abs(self.value)

    def __float__(self) -> float:
        return self.value

    def __int__(self) -> int:
        return int(self.value)

    def __round__(self, ndigits: int | None = None) -> float | int:
        return round(self.value, ndigits)

    def __trunc__(self) -> int:
        return int(self.value)

    def __format__(self, spec: str) -> str:
        """A format spec formats the value (`f"{q:,.1f}"`); an empty one gives `str(q)`."""
        return format(self.value, spec) if spec else str(self)


def _quantity_from_number(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return {"value": float(value)}
        except OverflowError:  # an int beyond any float: the value check refuses it
            return {"value": value}
    return _tuples(value)


def _within(gt: float | None, le: float) -> Any:
    """An after-validator: the quantity's value and its alternatives' values lie in (gt, le]
    (or [0, le] without gt). Errors carry `at` (where inside the quantity) and `got` (the value)."""

    def check(quantity: Quantity) -> Quantity:
        values = [("value", quantity.value)]
        values += [(f"alternatives.{i}.value", alt.value) for i, alt in enumerate(quantity.alternatives)]
        for at, value in values:
            if gt is not None and not value > gt:
                raise PydanticCustomError("greater_than", "Input should be greater than {gt}",
                                          {"gt": gt, "at": at, "got": value})
            if not value <= le:
                raise PydanticCustomError("less_than_equal", "Input should be less than or equal to {le}",
                                          {"le": le, "at": at, "got": value})
        return quantity

    return check


def sourced(*, gt: float | None = None, le: float) -> Any:
    """A sourced number (`Quantity`, written as a bare number or a mapping with `value`) whose
    value and alternatives lie in (gt, le], or [0, le] without ``gt``. The JSON Schema shows
    the bounds on the bare-number form."""
    number = Annotated[float, Field(gt=gt, ge=None if gt is not None else 0, le=le)]
    return Annotated[
        Quantity,
        BeforeValidator(_quantity_from_number, json_schema_input_type=number | Quantity),
        AfterValidator(_within(gt, le)),
    ]


# Bounds of sourced numbers, per physical quantity.
MemoryGib = sourced(gt=0, le=100_000)
"""Memory capacity in GiB: more than 0, at most 100,000."""
Bandwidth = sourced(gt=0, le=1_000_000)
"""A bandwidth in GB/s: more than 0, at most 10^6."""
Tflops = sourced(gt=0, le=10_000_000)
"""Peak throughput in TFLOPS or TOPS: more than 0, at most 10^7."""
Watts = sourced(gt=0, le=1_000_000)
"""Power in watts: more than 0, at most 10^6."""
Billions = sourced(gt=0, le=100_000)
"""A parameter count in billions: more than 0, at most 100,000 (10^14 parameters)."""


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
    return re.fullmatch(ID_PATTERN, value) is not None
