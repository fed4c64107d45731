"""The query API: an immutable, typed view of a validated knowledge base."""

from __future__ import annotations

import difflib
import functools
import math
import operator
import re
import types
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel

from .schema import (
    KINDS,
    Chapter,
    Concept,
    EntryBase,
    Format,
    Framework,
    Gpu,
    LlmModel,
    Metric,
    Offer,
    Redirect,
    Source,
    Technique,
)
from .schema.base import Quantity

if TYPE_CHECKING:
    import networkx as nx

    from .search import SearchHit, SearchIndex

E = TypeVar("E", bound=EntryBase)


class Entries(Mapping[str, E], Generic[E]):
    """A read-only mapping of id to entry for one kind, with filtering. Lookups (`[]`,
    `in`, `.get`) also accept what `KnowledgeBase.resolve` accepts (an alias or title in
    any case, a format family such as "fp8"), when it names an entry of this kind;
    iteration, `keys()` and `len()` give ids only."""

    def __init__(self, items: dict[str, E], resolve: Callable[[str], str | None] | None = None,
                 names: Callable[[], dict[str, str]] | None = None):
        self._items = MappingProxyType(items)
        self._resolve = resolve
        self._names = names

    def __getitem__(self, key: str) -> E:
        found = self._items.get(key) if isinstance(key, str) else None
        if found is not None:
            return found
        if isinstance(key, str) and self._resolve is not None:
            eid = self._resolve(key)
            if eid is not None and eid in self._items:
                return self._items[eid]
        if not isinstance(key, str):
            raise KeyError(f"{key!r} not found")
        names = {i: i for i in self._items}
        if self._names is not None:
            names.update({n: i for n, i in self._names().items() if i in self._items})
        close = suggestions(key, names)
        raise KeyError(f"{key!r} not found" + (f"; did you mean {', '.join(close)}?" if close else "")) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Entries({len(self)} entries)"

    def filter(self, predicate: Callable[[E], bool] | None = None, /, **equals: Any) -> list[E]:
        """Entries for which ``predicate`` is true and every ``field=value`` matches
        (dotted fields as ``architecture__kv_heads=8``; sourced numbers compare by value)."""
        out = []
        for entry in self._items.values():
            if predicate is not None and not predicate(entry):
                continue
            if all(field_value(entry, k.replace("__", ".")) == v for k, v in equals.items()):
                out.append(entry)
        return out


def suggestions(key: str, names: Mapping[str, str], n: int = 3) -> list[str]:
    """Up to ``n`` ids whose id, alias or title (``names``: lower-cased name -> id) is close
    to ``key``, each id once, closest first."""
    close = difflib.get_close_matches(key.lower(), list(names), n=n * 4)
    return list(dict.fromkeys(names[c] for c in close))[:n]


def _names_of(value: str | Sequence[str] | None) -> list[str]:
    """Field names from a comma-separated string or a list of them (blanks dropped)."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else [p for v in value for p in str(v).split(",")]
    return [item.strip() for item in items if item.strip()]


def _check_path(model: type[BaseModel], kind: str, dotted: str) -> None:
    """KeyError naming the fields there are when ``dotted`` is not a field path of ``model``."""
    owner: Any = model
    parts = dotted.split(".")
    for depth, part in enumerate(parts):
        fields = owner.model_fields if isinstance(owner, type) and issubclass(owner, BaseModel) else {}
        if part not in fields:
            of = f" of {'.'.join(parts[:depth])!r}" if depth else ""
            names = ", ".join(sorted(fields)) or "none"
            raise KeyError(f"no field {'.'.join(parts[: depth + 1])!r} on {kind} entries; fields{of}: {names}")
        groups = [t for t in _types(fields[part].annotation)
                  if isinstance(t, type) and issubclass(t, BaseModel) and not issubclass(t, Quantity)]
        owner = groups[0] if len(groups) == 1 else None


def field_value(entry: BaseModel, dotted: str) -> Any:
    """The value at a dotted field path of an entry (or any schema model), e.g.
    ``field_value(gpu, "memory_bandwidth_gb_s")`` or ``field_value(model, "architecture.kv_heads")``.

    A sourced number (`Quantity`) gives its plain ``.value``; a missing optional group on the
    way gives None; lists stay tuples and groups stay models. Raises KeyError naming the path
    when a part is not a field. `kb.where`, `kb.table` and the `list --fields` option use it."""
    value: Any = entry
    for part in dotted.split("."):
        if value is None:
            return None
        if not isinstance(value, BaseModel) or part not in type(value).model_fields:
            raise KeyError(f"no field {dotted!r} on {type(entry).__name__}")
        value = getattr(value, part)
    return value.value if isinstance(value, Quantity) else value


def plain(value: Any) -> Any:
    """``value`` as plain Python data: a sourced number becomes its float, a group of fields
    a dict (unset fields left out), a tuple a list; text, numbers, booleans and dates stay."""
    if isinstance(value, Quantity):
        return float(value.value)
    if isinstance(value, BaseModel):
        return {name: plain(v) for name in type(value).model_fields if (v := getattr(value, name)) is not None}
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    return value


class Table(list[dict[str, Any]]):
    """Records from `KnowledgeBase.table`: a list of dicts (column -> plain value) with
    the column names in `columns`, convertible to a pandas or polars DataFrame."""

    def __init__(self, records: Iterable[dict[str, Any]] = (), columns: Sequence[str] = ()):
        super().__init__(records)
        self.columns: list[str] = list(columns)

    def to_pandas(self) -> Any:
        """A `pandas.DataFrame` with one row per record; ImportError when pandas is not installed."""
        try:
            import pandas
        except ImportError:
            raise ImportError("Table.to_pandas() needs pandas, which is not installed: pip install pandas",
                              name="pandas") from None
        return pandas.DataFrame.from_records(list(self), columns=self.columns)

    def to_polars(self) -> Any:
        """A `polars.DataFrame` with one row per record; ImportError when polars is not installed."""
        try:
            import polars
        except ImportError:
            raise ImportError("Table.to_polars() needs polars, which is not installed: pip install polars",
                              name="polars") from None
        columns = {c: [row.get(c) for row in self] for c in self.columns}
        return polars.DataFrame(columns, strict=False)


def _sort_key(value: Any) -> tuple:
    """Numbers (and dates) first, then text ignoring case, then lists and groups."""
    if isinstance(value, str):
        return (1, value.casefold())
    if isinstance(value, (list, dict)):
        return (2, str(value))
    return (0, value)


def _sort_rows(rows: list[tuple[EntryBase, dict[str, Any]]], keys: Sequence[str]) -> None:
    """Sort ``rows`` (entry, record) in place by each `FIELD` or `-FIELD` (descending) of
    ``keys``, the first one most significant. Entries without a value come last either way."""
    for key in reversed(keys):
        name = key[1:] if key.startswith("-") else key
        valued = [(row, row[1][name] if name in row[1] else plain(field_value(row[0], name))) for row in rows]
        present = [(row, v) for row, v in valued if v is not None]
        present.sort(key=lambda item: _sort_key(item[1]), reverse=key.startswith("-"))
        rows[:] = [row for row, _ in present] + [row for row, v in valued if v is None]


_OPERATORS = ("<=", ">=", "!=", "=", "<", ">", "~")
"""Filter operators, two-character ones first so `>=` is not read as `>`."""
_ORDERING = frozenset({"<", "<=", ">", ">="})
_OP_CHARS = frozenset("<>=!~")
_NUMBER_CHARS = frozenset("0123456789+-.eE")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
"""A dotted field path; no part can match a dot, so matching is linear."""
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_GRAMMAR = "write FIELD OP VALUE with OP one of = != < <= > >= ~, e.g. memory_gib>=80 or vendor=nvidia"


def _quoted(text: str, limit: int = 60) -> str:
    """``text`` quoted for a message, shortened when long."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _number(text: str) -> float | None:
    """The finite number ``text`` spells (digits, sign, point, exponent only), else None."""
    if not text or not set(text) <= _NUMBER_CHARS or not any(c.isdigit() for c in text[:64]):
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _types(annotation: Any) -> set[Any]:
    """The plain types a field annotation allows: through Optional, Annotated, unions,
    tuples and Literal (whose values give their types)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _types(get_args(annotation)[0])
    if origin is Literal:
        return {type(a) for a in get_args(annotation)}
    if origin in (Union, types.UnionType, tuple, list, frozenset, set):
        return {t for a in get_args(annotation) if a is not Ellipsis for t in _types(a)}
    if annotation is type(None):
        return set()
    return {annotation if isinstance(annotation, type) else object}


def _check_field(model: type[BaseModel], field: str, op: str, expression: str) -> None:
    """Check that ``field`` names a plain value on ``model`` (numeric for ordering operators):
    KeyError for an unknown field, ValueError for a group, a list of groups or text under < <= > >=."""
    find = _field_problem if len(field) <= 200 else _field_problem.__wrapped__  # cache short paths only
    problem = find(model, field, op)
    if problem is not None:
        unknown, message = problem
        message = f"bad filter {_quoted(expression)}: {message}"
        raise KeyError(message) if unknown else ValueError(message)


@functools.lru_cache(maxsize=512)
def _field_problem(model: type[BaseModel], field: str, op: str) -> tuple[bool, str] | None:
    """What is wrong with filtering ``model`` on ``field`` ((is it unknown, message)), or None."""
    owner: type[BaseModel] = model
    parts = field.split(".")
    for depth, part in enumerate(parts):
        path = _quoted(".".join(parts[: depth + 1]))
        info = owner.model_fields.get(part)
        if info is None:
            kind = next((k for k, cls in KINDS.items() if cls is model), model.__name__)
            of = f" of {_quoted('.'.join(parts[:depth]))}" if depth else ""
            return True, f"no field {path} on {kind} entries; fields{of}: {', '.join(sorted(owner.model_fields))}"
        found = _types(info.annotation)
        groups = [t for t in found if isinstance(t, type) and issubclass(t, BaseModel)]
        if groups and get_origin(_plain(info.annotation)) is not None:
            return False, f"{path} is a list of groups of fields, which filters cannot look into"
        if depth < len(parts) - 1:
            if len(groups) != 1:
                return False, f"{path} has no sub-fields"
            owner = groups[0]
        elif groups and not issubclass(groups[0], Quantity):
            return False, (f"{path} is a group of fields; filter on one of them, e.g. "
                           f"{'.'.join(parts)}.{next(iter(groups[0].model_fields))}")
        elif op in _ORDERING and object not in found and not any(
                t is not bool and isinstance(t, type) and issubclass(t, (int, float, Quantity)) for t in found):
            return False, f"{path} is not a number; {op} compares numbers, use = != or ~ for text"
    return None


def _plain(annotation: Any) -> Any:
    """``annotation`` without Annotated and Optional wrappers (a tuple or list stays)."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            rest = [a for a in get_args(annotation) if a is not type(None)]
            if len(rest) != 1:
                return annotation
            annotation = rest[0]
        else:
            return annotation


@dataclass(frozen=True, slots=True)
class Where:
    """A parsed filter `FIELD OP VALUE`."""

    field: str
    op: str
    text: str
    """The value as written."""
    number: float | None
    """The value as a finite number, when it is one."""


def parse_filter(expression: str) -> Where:
    """Read `FIELD OP VALUE` in one left-to-right pass (linear in the length).
    FIELD is a dotted field path, OP one of = != < <= > >= ~; spaces around OP are
    allowed. < <= > >= need a finite number; = != ~ take a number or text. ValueError,
    naming the filter, when anything is malformed."""
    if not isinstance(expression, str):
        raise ValueError(f"a filter must be text, got {type(expression).__name__}")
    text = expression.strip()
    match = _FIELD.match(text)
    if match is None:
        raise ValueError(f"cannot read filter {_quoted(expression)}: it must start with a field name; {_GRAMMAR}")
    field, rest = match.group(), text[match.end():].lstrip()
    op = next((o for o in _OPERATORS if rest.startswith(o)), None)
    if op is None:
        after = f"after {_quoted(field)}, found {_quoted(rest[:20])}" if rest else f"after {_quoted(field)}"
        raise ValueError(f"cannot read filter {_quoted(expression)}: no operator {after}; {_GRAMMAR}")
    value = rest[len(op):].strip()
    if not value:
        raise ValueError(f"cannot read filter {_quoted(expression)}: no value after {op}; {_GRAMMAR}")
    if value[0] in _OP_CHARS:
        raise ValueError(f"cannot read filter {_quoted(expression)}: {_quoted(op + value[0])} is not an operator; "
                         f"{_GRAMMAR}")
    number = _number(value)
    if op in _ORDERING and number is None:
        raise ValueError(f"bad filter {_quoted(expression)}: {op} needs a finite number, got {_quoted(value, 30)}")
    return Where(field, op, value, number)


def parse_where(expression: str, model: type[BaseModel] | None = None) -> Callable[[BaseModel], bool]:
    """Turn `FIELD OP VALUE` (see `parse_filter`) into a predicate on entries.
    Numbers compare numerically, `true`/`false` match booleans, text matches ignoring
    case; `~` tests 'contains'. A list field matches = < <= > >= ~ when any item does,
    and != when no item equals the value. With ``model`` the field is checked up front:
    KeyError for an unknown field, ValueError for one that is not a plain value or not
    a number under an ordering operator."""
    spec = parse_filter(expression)
    if model is not None:
        _check_field(model, spec.field, spec.op, expression)
    field, op, number = spec.field, spec.op, spec.number
    folded = spec.text.casefold()

    def equals(v: Any) -> bool:
        if isinstance(v, bool):
            return folded == ("true" if v else "false")
        if isinstance(v, (int, float)):
            return number is not None and v == number
        return v is not None and str(v).casefold() == folded

    if op in _ORDERING:
        compare = _ORDER[op]

        def test(v: Any) -> bool:
            return isinstance(v, (int, float)) and not isinstance(v, bool) and compare(v, number)
    elif op == "~":
        def test(v: Any) -> bool:
            return v is not None and folded in str(v).casefold()
    else:
        test = equals

    negate = op == "!="

    def predicate(entry: BaseModel) -> bool:
        value = field_value(entry, field)
        if isinstance(value, (tuple, list)):
            return not any(map(equals, value)) if negate else any(map(test, value))
        return not equals(value) if negate else test(value)

    return predicate


class KnowledgeBase:
    """All entries, their graph and search. Obtain one with `inferbook.load()`."""

    def __init__(self, entries: dict[str, EntryBase], kinds: dict[str, str], paths: dict[str, Path],
                 edges: list[tuple[str, str, str]], data_version: str, data_date: str):
        retired = {eid for eid, kind in kinds.items() if kind == "redirects"}
        self._entries = MappingProxyType({i: e for i, e in entries.items() if i not in retired})
        self._redirects: MappingProxyType[str, Redirect] = MappingProxyType(
            {i: e for i, e in entries.items() if i in retired})  # type: ignore[misc]
        self._kinds = MappingProxyType(dict(kinds))
        self._paths = MappingProxyType(dict(paths))
        self._edges = tuple(e for e in edges if e[0] not in retired)
        self.data_version = data_version
        """Version of the knowledge-base content."""
        self.data_date = data_date
        """Date of that content version (YYYY-MM-DD)."""
        by_kind: dict[str, dict[str, EntryBase]] = {k: {} for k in KINDS}
        for eid, entry in entries.items():
            by_kind[self._kinds[eid]][eid] = entry
        aliases: dict[str, str] = {}
        for eid, entry in self._entries.items():
            for name in (entry.title, *entry.aliases):
                aliases.setdefault(name.lower(), eid)
        self._aliases = MappingProxyType(aliases)
        self._by_kind = {k: Entries(v, self.resolve, self._names) for k, v in by_kind.items()}

    # kinds ---------------------------------------------------------------
    @property
    def chapters(self) -> Entries[Chapter]:
        """Chapters of the handbook, by id (kb/chapters/)."""
        return self._by_kind["chapters"]  # type: ignore[return-value]

    @property
    def concepts(self) -> Entries[Concept]:
        """Concept articles: ideas and mechanisms of inference, by id (kb/concepts/)."""
        return self._by_kind["concepts"]  # type: ignore[return-value]

    @property
    def metrics(self) -> Entries[Metric]:
        """Metric articles: quantities that measure inference speed, cost or quality (kb/metrics/)."""
        return self._by_kind["metrics"]  # type: ignore[return-value]

    @property
    def techniques(self) -> Entries[Technique]:
        """Technique articles: methods that change how inference is done (kb/techniques/)."""
        return self._by_kind["techniques"]  # type: ignore[return-value]

    @property
    def gpus(self) -> Entries[Gpu]:
        """Accelerators with their per-chip specifications (kb/gpus/)."""
        return self._by_kind["gpus"]  # type: ignore[return-value]

    @property
    def models(self) -> Entries[LlmModel]:
        """Open-weight language models with their architectures (kb/models/)."""
        return self._by_kind["models"]  # type: ignore[return-value]

    @property
    def formats(self) -> Entries[Format]:
        """Number formats: floating, integer, microscaling and weight-quantization schemes (kb/formats/)."""
        return self._by_kind["formats"]  # type: ignore[return-value]

    @property
    def frameworks(self) -> Entries[Framework]:
        """Inference engines, servers and orchestration layers (kb/frameworks/)."""
        return self._by_kind["frameworks"]  # type: ignore[return-value]

    @property
    def offers(self) -> Entries[Offer]:
        """Machines to rent or own with their hourly prices (kb/offers/, and private layers)."""
        return self._by_kind["offers"]  # type: ignore[return-value]

    @property
    def sources(self) -> Entries[Source]:
        """Documents that entries cite: datasheets, papers, model configs, documentation (kb/sources/)."""
        return self._by_kind["sources"]  # type: ignore[return-value]

    @property
    def redirects(self) -> Entries[Redirect]:
        """Retired ids (kb/redirects/): not entries, but `get` follows a moved one."""
        return self._by_kind["redirects"]  # type: ignore[return-value]

    def kind(self, name: str) -> Entries[EntryBase]:
        """Entries of the kind named like its kb/ folder (e.g. "gpus")."""
        if name not in self._by_kind:
            raise KeyError(f"unknown kind {name!r}; kinds: {', '.join(self._by_kind)}")
        return self._by_kind[name]

    def has_kind(self, name: str) -> bool:
        """Whether this knowledge base has a folder of the kind ``name`` (a private layer may lack some)."""
        return name in self._by_kind

    # lookup --------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[EntryBase]:
        return iter(self._entries.values())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.resolve(key) is not None

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={len(v)}" for k, v in self._by_kind.items())
        return f"KnowledgeBase(data_version={self.data_version!r}, {counts})"

    def resolve(self, key: str) -> str | None:
        """The id that ``key`` names: an id, or (case-insensitively) an alias or title, or a
        format family that names one format only ("fp4" -> fp4-e2m1; "fp6" names two)."""
        if not isinstance(key, str):
            return None
        if key in self._entries:
            return key
        found = self._aliases.get(key.lower())
        if found is None:
            family = self.family(key)
            found = family[0] if len(family) == 1 else None
        return found

    def family(self, key: str) -> list[str]:
        """Format ids of the family ``key`` names: those that start with ``key`` and a hyphen
        ("fp8" -> fp8-e4m3, fp8-e5m2; "gguf-q4" -> gguf-q4-0, gguf-q4-k-m), any case."""
        prefix = key.lower() + "-"
        return [eid for eid in self.formats if eid.startswith(prefix)] if len(prefix) > 2 else []

    def _names(self) -> dict[str, str]:
        """Every name a lookup accepts, lower-cased, mapped to its id (for suggestions)."""
        return {**self._aliases, **{eid: eid for eid in self._entries}}

    def get(self, key: str) -> EntryBase:
        """The entry with this id, alias or title (or format family); KeyError with
        suggestions otherwise, each id once. A retired id that moved gives its new entry
        with a DeprecationWarning; one that was split raises KeyError naming the entries
        it became."""
        eid = self.resolve(key) if key not in self._redirects else None  # an old id before any alias
        if eid is None and key in self._redirects:
            redirect = self._redirects[key]
            if redirect.kind == "split":
                raise KeyError(f"id {key!r} was split into {', '.join(redirect.targets)} on {redirect.date}; "
                               f"use one of those ids")
            eid = redirect.targets[0]
            warnings.warn(f"id {key!r} was renamed to {eid!r} on {redirect.date}; use the new id",
                          DeprecationWarning, stacklevel=2)
        if eid is None:
            family = self.family(key) if isinstance(key, str) else []
            if len(family) > 1:
                raise KeyError(f"{key!r} names several formats: {', '.join(family)}; give one of those ids")
            close = suggestions(key, self._names()) if isinstance(key, str) else []
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise KeyError(f"no entry with id or alias {key!r}{hint}")
        return self._entries[eid]

    def kind_of(self, key: str) -> str:
        """The kind (kb/ folder name) of an entry."""
        return self._kinds[self.get(key).id]

    def path_of(self, key: str) -> Path:
        """The YAML file an entry was loaded from."""
        return self._paths[self.get(key).id]

    def where(self, kind: str, *expressions: str) -> list[EntryBase]:
        """Entries of ``kind`` matching every `FIELD OP VALUE` expression (see `parse_where`).
        ValueError for a malformed filter, KeyError for an unknown kind or field."""
        entries = self.kind(kind)
        predicates = [parse_where(e, KINDS.get(kind)) for e in expressions]
        return entries.filter(lambda e: all(p(e) for p in predicates))

    def table(self, kind: str, fields: str | Sequence[str] | None = None, where: str | Sequence[str] = (),
              sort: str | Sequence[str] = ()) -> Table:
        """Entries of ``kind`` as plain records: a `Table` (a list of dicts) with the column
        ``id`` and then ``fields`` (dotted paths, a list or comma-separated; default: title).
        Values are plain Python: sourced numbers are floats, groups dicts, lists lists.
        ``where`` holds `FIELD OP VALUE` filters (see `parse_where`), all of which must
        match; ``sort`` names fields to sort by, `-FIELD` descending, entries without a
        value last. KeyError for an unknown kind or field, ValueError for a bad filter.

            kb.table("gpus", ["vendor", "memory_gib"], where="memory_gib>=80", sort="-memory_gib")
            kb.table("models", "params_total_b,architecture.layers").to_pandas()"""
        columns = list(dict.fromkeys(["id", *_names_of(fields if fields is not None else "title")]))
        keys = _names_of(sort)
        model = KINDS.get(kind)
        entries = self.kind(kind)
        if model is not None:
            for name in [*columns, *(k[1:] if k.startswith("-") else k for k in keys)]:
                _check_path(model, kind, name)
        predicates = [parse_where(e, model) for e in ([where] if isinstance(where, str) else where)]
        rows = [(entry, {c: plain(field_value(entry, c)) for c in columns})
                for entry in entries.values() if all(p(entry) for p in predicates)]
        _sort_rows(rows, keys)
        return Table((record for _, record in rows), columns)

    # search --------------------------------------------------------------
    @functools.cached_property
    def _index(self) -> SearchIndex:
        from .search import Document, SearchIndex

        docs = []
        for eid, entry in self._entries.items():
            summary = getattr(entry, "summary", None) or ""
            fields = [("id", eid), ("title", entry.title), ("summary", summary)]
            fields += [("alias", a) for a in entry.aliases]
            for name in ("body", "notes"):
                text = getattr(entry, name, None)
                if text:
                    fields.append(("body", text))
            docs.append(Document(eid, self._kinds[eid], entry.title, summary, tuple(fields)))
        return SearchIndex(docs)

    def search(self, text: str, kind: str | None = None, limit: int = 20) -> list[SearchHit]:
        """Full-text search over ids, titles, aliases, summaries and bodies; exact id, title
        or alias matches first, then entries other than sources (see `search`)."""
        return self._index.search(text, kind=kind, limit=limit)

    # graph ---------------------------------------------------------------
    @functools.cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The entries and links as a frozen networkx MultiDiGraph: nodes are ids (attribute
        `kind`), edges carry `type`. Needs the `graph` extra (networkx); the other graph
        queries here (`prerequisites`, `related`, `backlinks`, `neighbourhood`,
        `learning_order`) do not."""
        from .extras import require

        require("graph", "KnowledgeBase.graph")
        import networkx as nx

        graph = nx.MultiDiGraph()
        for eid in self._entries:
            graph.add_node(eid, kind=self._kinds[eid])
        for i, (src, dst, etype) in enumerate(self._edges):
            graph.add_edge(src, dst, key=i, type=etype)
        return nx.freeze(graph)

    def links(self) -> list[tuple[str, str, str]]:
        """Every link as (from id, to id, type), in entry and field order."""
        return list(self._edges)

    @functools.cached_property
    def _adjacency(self) -> tuple[dict[str, list[tuple[str, str]]], dict[str, list[tuple[str, str]]]]:
        """Outgoing and incoming (other id, edge type) lists per id, in edge order."""
        out: dict[str, list[tuple[str, str]]] = {}
        inc: dict[str, list[tuple[str, str]]] = {}
        for src, dst, etype in self._edges:
            out.setdefault(src, []).append((dst, etype))
            inc.setdefault(dst, []).append((src, etype))
        return out, inc

    def _linked(self, eid: str, types: tuple[str, ...] | None, outgoing: bool) -> list[EntryBase]:
        edges = self._adjacency[0 if outgoing else 1].get(eid, ())
        seen = dict.fromkeys(other for other, etype in edges if types is None or etype in types)
        return [self._entries[i] for i in seen]

    def prerequisites(self, key: str, recursive: bool = False) -> list[EntryBase]:
        """What to read first; with ``recursive``, the whole chain in reading order."""
        eid = self.get(key).id
        if not recursive:
            return self._linked(eid, ("requires",), outgoing=True)
        order = {e.id: i for i, e in enumerate(self.learning_order())}
        found: set[str] = set()
        stack = [eid]
        while stack:
            for dep in self._linked(stack.pop(), ("requires",), outgoing=True):
                if dep.id not in found:
                    found.add(dep.id)
                    stack.append(dep.id)
        return sorted((self._entries[i] for i in found), key=lambda e: order.get(e.id, 0))

    def related(self, key: str) -> list[EntryBase]:
        """Entries linked to this one in either direction, excluding chapters and sources."""
        eid = self.get(key).id
        out = {e.id: e for e in self._linked(eid, None, True) + self._linked(eid, None, False)}
        return [e for i, e in out.items() if self._kinds[i] not in ("chapters", "sources")]

    def backlinks(self, key: str) -> list[EntryBase]:
        """Entries that reference this one."""
        return self._linked(self.get(key).id, None, outgoing=False)

    def neighbourhood(self, key: str, radius: int = 1) -> list[EntryBase]:
        """Entries within ``radius`` links, ignoring direction, sorted by id."""
        eid = self.get(key).id
        out, inc = self._adjacency
        seen = {eid}
        frontier = [eid]
        for _ in range(radius):
            reached = []
            for node in frontier:
                for other, _ in (*out.get(node, ()), *inc.get(node, ())):
                    if other not in seen:
                        seen.add(other)
                        reached.append(other)
            frontier = reached
        return [self._entries[n] for n in sorted(seen - {eid})]

    def learning_order(self) -> tuple[EntryBase, ...]:
        """Concepts, metrics and techniques in reading order: chapters in sequence,
        `order` within a chapter, and every prerequisite before what needs it."""
        return self._learning_order

    @functools.cached_property
    def _learning_order(self) -> tuple[EntryBase, ...]:
        from .graph import prerequisite_successors, reading_order

        successors = prerequisite_successors(self._kinds, self._edges)
        chapter_no = {cid: c.number for cid, c in self.chapters.items()}

        def key(eid: str) -> tuple:
            entry = self._entries[eid]
            return (chapter_no.get(entry.chapter, 99), entry.order, entry.title.lower())  # type: ignore[attr-defined]

        return tuple(self._entries[i] for i in reading_order(successors, key))

    def chapter_entries(self, chapter_id: str) -> list[EntryBase]:
        """Articles of one chapter in reading order."""
        return [e for e in self.learning_order() if e.chapter == chapter_id]  # type: ignore[attr-defined]


def entry_records(kb: KnowledgeBase) -> Iterator[tuple[str, str, Path, EntryBase]]:
    """(id, kind, YAML file, entry) of every entry of ``kb`` in load order, then of every redirect
    (retired id): what ``kb`` was built from apart from its links (`KnowledgeBase.links`) and
    versions. The loader's cache (`api._payload`) stores it. A function rather than a method so
    that the Python API reference, which lists every public method, does not grow for it."""
    for eid, entry in (*kb._entries.items(), *kb._redirects.items()):
        yield eid, kb._kinds[eid], kb._paths[eid], entry
