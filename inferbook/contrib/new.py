"""`inferbook new KIND ID`: a skeleton entry with every field, each explained.

The skeleton is a valid YAML file in canonical format (`inferbook fmt --check`
passes) whose placeholders fail validation or lint until they are filled in:
`TODO: fill in` where text is expected, `todo` where an id or a fixed choice is,
`null` where a number is, today's date where a review or access date is. Optional
fields are written out too (as null or an empty list), so contributors see
everything the schema offers; delete what does not apply.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ..schema import KINDS, Redirect
from ..schema.base import slug_ok
from ..schema.docs import field_doc
from ..yamlio import disallowed_character
from .fmt import PRAGMA, format_text, literal_order, string_style, submodel

PLACEHOLDER = "todo"
"""Placeholder for ids and fixed choices (a valid id that names nothing)."""
TEXT_PLACEHOLDER = "TODO: fill in"
"""Placeholder for text (long enough for the schema; lint rule IB305 rejects it)."""

EXPECTED_SOURCES: dict[str, str] = {
    "gpus": "Primary source: the vendor's datasheet or product page, cited as `source`; every bare number "
            "comes from it. Enter dense figures (halve with-sparsity values and say so in a note) and cite "
            "other documents per number or under `sources`.",
    "models": "Copy `architecture` from the model's config.json on Hugging Face (a sources/ entry "
              "hf-config-<id>, cited as `config_source`); take the other facts from the model card (hf-card-<id>, "
              "cited as `source`). Note in params_total_b when the card gives only a size class.",
    "formats": "Cite the specification, paper or reference implementation that defines the format and its "
               "bit layout.",
    "frameworks": "Cite the project's README, licence file and the documentation page of every feature and "
                  "flag you list.",
    "offers": "Primary source: the provider's price list, cited as `source`, with `locator` naming the row. Copy "
              "prices exactly as printed and say in `quoted_per` whether they are per GPU or per machine; "
              "`checked` is the date the page gives for them.",
    "sources": "One document: its canonical https:// URL, the date you read it (accessed), and enough in notes "
               "(revision, section) for someone to find the same text again.",
    "chapters": "A chapter groups articles; it cites nothing itself.",
    "concepts": "Cite papers, official documentation or code for every claim (ids of kb/sources/ entries); "
                "link what a reader should know first under prerequisites.",
    "metrics": "Cite the definition you use and, under tool_definitions, how each benchmark tool reports it.",
    "techniques": "Cite the paper that introduced the technique and the docs of frameworks that implement it.",
    "redirects": "Leave a redirect when an id is renamed (kind: moved, one target) or divided (kind: split); "
                 "the file name is the OLD id. Nothing is cited.",
}
"""What each kind of entry should cite, written at the top of its skeleton."""

WIDTH = 100


def _comment(text: str, indent: int) -> list[str]:
    prefix = " " * indent + "# "
    return textwrap.wrap(" ".join(text.split()), width=WIDTH, initial_indent=prefix, subsequent_indent=prefix,
                         break_on_hyphens=False, break_long_words=False)


def _describe(name: str, info: FieldInfo, model: type[BaseModel], key: str) -> str:
    doc = field_doc(model, key)
    parts = [doc.strip()] if doc else []
    order = literal_order(model, key)
    choice = _literal(info.annotation)
    if choice:
        parts.append("One of: " + ", ".join(choice) + ".")
    elif order:
        parts.append("Any of: " + ", ".join(order) + ".")
    head = f"{name} ({'required' if info.is_required() else 'optional'})"
    return f"{head}: {' '.join(parts)}" if parts else head


def _literal(annotation: Any) -> tuple[str, ...] | None:
    if typing.get_origin(annotation) is tuple:
        return None
    stack = [annotation]
    while stack:
        item = stack.pop()
        if typing.get_origin(item) is Literal:
            return tuple(typing.get_args(item))
        stack.extend(typing.get_args(item))
    return None


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid double-quoted YAML scalar


def _placeholder(model: type[BaseModel], key: str, info: FieldInfo, today: dt.date, indent: int = 0) -> str:
    """The YAML text of a leaf field's placeholder."""
    annotation = info.annotation
    if info.default is not PydanticUndefined and not isinstance(info.default, BaseModel):
        default = info.default
        if isinstance(default, tuple):
            return "[" + ", ".join(_scalar(v) for v in default) + "]"
        return _scalar(default)
    if annotation is dt.date:
        return today.isoformat()
    if typing.get_origin(annotation) is tuple:
        return f"[{PLACEHOLDER}]"
    if key == "body":
        return f"|\n{' ' * indent}  TODO: write the text in Markdown"
    style = string_style(model, key)
    if style in ("token", "date", "text") and _accepts_str(annotation):
        return {"token": PLACEHOLDER, "date": '"TODO"'}.get(style, f'"{TEXT_PLACEHOLDER}"')
    return "null"


def _accepts_str(annotation: Any) -> bool:
    stack = [annotation]
    while stack:
        item = stack.pop()
        if item is str or typing.get_origin(item) is Literal:
            return True
        if isinstance(item, type) and issubclass(item, BaseModel):
            return item.__name__ == "Citation"
        stack.extend(typing.get_args(item))
    return False


def _fields(model: type[BaseModel], indent: int, today: dt.date, values: dict[str, str]) -> list[str]:
    lines: list[str] = []
    names = [n for n in model.model_fields if n != "last_reviewed" and not (n == "aliases" and model is Redirect)]
    if "last_reviewed" in model.model_fields:
        names.append("last_reviewed")
    for name in names:
        info = model.model_fields[name]
        lines += _comment(_describe(name, info, model, name), indent)
        pad = " " * indent
        if name in values:
            lines.append(f"{pad}{name}: {values[name]}")
            continue
        nested = submodel(model, name)
        is_list = typing.get_origin(info.annotation) is tuple
        expand = (nested is not None and not is_list and nested.__name__ not in ("Quantity", "Citation")
                  and (info.is_required() or isinstance(info.default, BaseModel)))
        if expand:
            assert nested is not None
            lines.append(f"{pad}{name}:")
            lines += _fields(nested, indent + 2, today, {})
        else:
            lines.append(f"{pad}{name}: {_placeholder(model, name, info, today, indent)}")
    return lines


def skeleton(kind: str, eid: str, title: str | None = None, today: dt.date | None = None) -> str:
    """The text of a new entry of ``kind`` with id ``eid``, in canonical format."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind '{kind}'; kinds: {', '.join(KINDS)}")
    if not slug_ok(eid):
        raise ValueError(f"{eid!r} is not a valid id: use lower-case letters, digits and single '-' or '.'")
    problem = disallowed_character(title, "") if title else None
    if problem is not None:
        raise ValueError(f"title {title!r}: {problem[1]}")
    today = today or dt.date.today()
    model = KINDS[kind]
    values = {"id": eid, "title": _scalar(title or TEXT_PLACEHOLDER)}
    if kind == "models":
        values.update(config_source=f"hf-config-{eid}", source=f"hf-card-{eid}")
    lines = [PRAGMA.format(kind=kind)]
    lines += _comment(f"New {kind[:-1] if kind.endswith('s') else kind} entry. Fill in every TODO, todo and null, "
                      "delete optional fields that do not apply, then run `inferbook fmt` and `inferbook lint`.", 0)
    lines += _comment(EXPECTED_SOURCES.get(kind, ""), 0)
    lines += _fields(model, 0, today, values)
    return format_text("\n".join(lines) + "\n", kind)


def create(kind: str, eid: str, folder: Path, title: str | None = None, today: dt.date | None = None,
           force: bool = False) -> Path:
    """Write the skeleton to ``folder/kind/eid.yaml``; FileExistsError unless ``force``."""
    text = skeleton(kind, eid, title, today)
    path = folder / kind / f"{eid}.yaml"
    if path.exists() and not force:
        raise FileExistsError(f"{path} already exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
