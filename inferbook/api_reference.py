"""The Python API reference, read from the code: which names are public, their signatures
and their docstrings, and the fields of every entry kind. The site renders it as
`api/python.html`; nothing here is written by hand except the list of what is public."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from .schema import KINDS
from .schema.docs import attribute_docs, field_doc

PUBLIC: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Loading and validating", "inferbook", ("load", "validate", "KnowledgeBaseError", "Diagnostic")),
    ("Querying", "inferbook.kb", ("KnowledgeBase", "Entries", "Table", "field_value")),
    ("Querying", "inferbook.search", ("SearchHit",)),
    ("Memory", "inferbook.calc", ("count_params", "ParamCount", "weight_bytes", "WeightBreakdown", "kv_bytes",
                                  "kv_bytes_per_token", "kv_dtype_bits", "KvBreakdown")),
    ("Memory", "inferbook.calc.capacity", ("capacity", "Capacity", "EngineConfig", "max_concurrency")),
    ("Will it run?", "inferbook.calc.feasibility", ("check_setup", "Setup", "Feasibility", "Finding")),
    ("Will it run?", "inferbook.calc.fit", ("fit_options", "FitOption", "min_gpus")),
    ("Speed", "inferbook.calc.predict", ("predict", "Load", "Disaggregation", "Prediction", "Stats",
                                         "PredictError")),
    ("Speed", "inferbook.calc.roofline", ("Roofline", "ridge_point", "cost_per_million_tokens")),
    ("Speed", "inferbook.calc.simulator", ("simulate", "SimConfig", "SimResult", "Request", "Lengths",
                                           "workload")),
    ("Speed", "inferbook.calc.vision", ("image_tokens",)),
    ("Planning", "inferbook.calc.plan", ("plan", "Workload", "Targets", "Space", "Plan", "Candidate",
                                         "PlanError")),
    ("Planning", "inferbook.calc.launch", ("server_commands", "bench_commands", "deployment")),
    ("Notebooks", "inferbook.notebook_support", ("load_case", "NotebookCase", "show")),
)
"""(section, module, names) in the order the reference shows them."""

_ADDRESS = re.compile(r" at 0x[0-9a-f]+")
"""The memory address in a default repr (it differs between runs)."""
_MAX_DEFAULT = 48
"""Characters of a default value's repr shown in a signature."""


@dataclass
class Documented:
    """One public function, class, method or property."""

    name: str
    qualname: str
    kind: str
    signature: str
    doc: str
    members: list[Documented] = field(default_factory=list)


@dataclass
class Section:
    """A heading of the reference and what it documents."""

    title: str
    module: str
    items: list[Documented]


@dataclass
class KindFields:
    """One entry kind: its folder, model and fields (name, type, first line of its docstring)."""

    kind: str
    model: str
    doc: str
    fields: list[tuple[str, str, str]]


def _annotation(value: Any) -> str:
    if value is inspect.Parameter.empty:
        return ""
    return value if isinstance(value, str) else type_text(value)


def type_text(annotation: Any) -> str:
    """A type as a reader writes it: `Annotated` constraints dropped (they hold validator
    functions whose reprs carry memory addresses), unions with `|`, classes by name."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_text(args[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_text(a) for a in args)
    if origin is typing.Literal:
        return "Literal[" + ", ".join(repr(a) for a in args) + "]"
    if annotation is Ellipsis:
        return "..."
    if annotation is type(None):
        return "None"
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(type_text(a) for a in args)}]" if args else name
    if isinstance(annotation, type):
        return annotation.__name__
    return _ADDRESS.sub("", str(annotation).replace("typing.", ""))


def _default(value: Any) -> str:
    text = _ADDRESS.sub("", repr(value))
    return text if len(text) <= _MAX_DEFAULT else text[:_MAX_DEFAULT - 3] + "..."


def signature(obj: Any) -> str:
    """``(a: int, b: str = 'x') -> float``, from the annotations as written."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return ""
    parts = []
    star_done = False
    for param in sig.parameters.values():
        if param.name == "self":
            continue
        if param.kind is param.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        text = param.name
        if param.kind is param.VAR_POSITIONAL:
            text, star_done = "*" + text, True
        elif param.kind is param.VAR_KEYWORD:
            text = "**" + text
        note = _annotation(param.annotation)
        if note:
            text += f": {note}"
        if param.default is not param.empty:
            text += f" = {_default(param.default)}" if note else f"={_default(param.default)}"
        parts.append(text)
    out = f"({', '.join(parts)})"
    returned = _annotation(sig.return_annotation)
    return f"{out} -> {returned}" if returned else out


def _doc(obj: Any) -> str:
    return inspect.cleandoc(obj.__doc__) if isinstance(getattr(obj, "__doc__", None), str) else ""


def _members(cls: type) -> list[Documented]:
    found: list[Documented] = []
    fields = attribute_docs(cls)
    if dataclasses.is_dataclass(cls):
        for f in dataclasses.fields(cls):
            if not f.name.startswith("_"):
                found.append(Documented(f.name, f"{cls.__name__}.{f.name}", "field", f": {_annotation(f.type)}",
                                        fields.get(f.name, "")))
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        qual = f"{cls.__name__}.{name}"
        if isinstance(value, (staticmethod, classmethod)):
            found.append(Documented(name, qual, "method", signature(value.__func__), _doc(value.__func__)))
        elif inspect.isfunction(value):
            found.append(Documented(name, qual, "method", signature(value), _doc(value)))
        elif isinstance(value, property):
            note = _annotation(inspect.signature(value.fget).return_annotation) if value.fget else ""
            found.append(Documented(name, qual, "property", f": {note}" if note else "", _doc(value)))
        elif isinstance(value, functools.cached_property):
            note = _annotation(inspect.signature(value.func).return_annotation)
            found.append(Documented(name, qual, "property", f": {note}" if note else "", _doc(value)))
    return found


def document(obj: Any, name: str) -> Documented:
    """One public object with its members (for a class: fields, methods and properties)."""
    if inspect.isclass(obj):
        init = signature(obj) if dataclasses.is_dataclass(obj) or "__init__" in vars(obj) else ""
        return Documented(name, name, "class", init, _doc(obj), _members(obj))
    return Documented(name, name, "function", signature(obj), _doc(obj))


def sections() -> list[Section]:
    """The public API in reading order; names of one section title are merged."""
    merged: dict[str, Section] = {}
    for title, module_name, names in PUBLIC:
        module = importlib.import_module(module_name)
        items = [document(getattr(module, n), n) for n in names]
        if title in merged:
            merged[title].items += items
            merged[title].module += f", {module_name}"
        else:
            merged[title] = Section(title, module_name, items)
    return list(merged.values())


def kind_fields() -> list[KindFields]:
    """Every entry kind's model and fields, in load order."""
    out = []
    for kind, model in KINDS.items():
        rows = [(name, _annotation(info.annotation), (field_doc(model, name) or "").split("\n")[0])
                for name, info in model.model_fields.items()]
        out.append(KindFields(kind, model.__name__, _doc(model), rows))
    return out


def undocumented() -> list[str]:
    """Qualified names of public objects and members with no docstring (the tests keep this empty)."""
    missing = []
    for section in sections():
        for item in section.items:
            missing += [item.qualname] if not item.doc else []
            missing += [m.qualname for m in item.members if not m.doc]
    return missing
