"""`inferbook fmt`: one canonical layout for entry files, keeping every comment.

What is canonical:

- the first line is the `# yaml-language-server: $schema=../../schema/<kind>.schema.json`
  pragma that lets editors validate the file;
- keys follow the order the schema model declares its fields, at every level
  (`last_reviewed`, the review stamp, goes last; unknown keys after the known ones);
- quoting follows the field's type: ids, references, fixed choices and URLs are
  plain (quoted only where plain would read back as something else); dates written
  as text (`"2024-07"`) and free text are quoted, with double quotes unless the text
  holds a backslash or a double quote and no single quote (LaTeX reads better in
  single quotes); block text (`|`) stays block text;
- the lists whose order means nothing (`native_tensor_core`, `used_for`) follow the
  schema's order of their fixed set; every other list keeps the contributor's order;
- two-space indentation, sequences indented under their key, `null` spelled out,
  no line folding.

Scalars and flow collections (`[a, b]`, `{value: 1, note: x}`) are rewritten with
ruamel.yaml's round-trip mode, which keeps comments. Block mappings are reordered
as whole lines, so the comment lines above a key travel with it. Every result is
checked before it is written: it must read back (with inferbook's reader) to the
same data and hold the same comments, otherwise the file is left alone and the
problem reported.
"""

from __future__ import annotations

import difflib
import io
import os
import re
import tempfile
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeGuard, TypeVar

import yaml
from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    PlainScalarString,
    SingleQuotedScalarString,
)

from ..schema import KINDS
from ..schema.base import ID_PATTERN, PARTIAL_DATE_PATTERN
from ..yamlio import YamlError, parse_text

PRAGMA = "# yaml-language-server: $schema=../../schema/{kind}.schema.json"
_PRAGMA_LINE = re.compile(r"^#\s*yaml-language-server:")
TRAILING_KEYS = ("last_reviewed",)
"""Keys placed after every other key (the review stamp closes an entry)."""

_BaseLoader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


class FormatError(Exception):
    """A file that fmt cannot format safely."""


# schema lookups -------------------------------------------------------------------
def _annotation(model: type[BaseModel] | None, key: str) -> Any:
    if model is None or key not in model.model_fields:
        return None
    return model.model_fields[key].annotation


def _find(annotation: Any, want: typing.Callable[[Any], bool]) -> Any:
    stack = [annotation]
    while stack:
        item = stack.pop()
        if want(item):
            return item
        stack.extend(typing.get_args(item))
    return None


def submodel(model: type[BaseModel] | None, key: str) -> type[BaseModel] | None:
    """The model of the mapping (or of the list items) written under ``key``."""
    return _find(_annotation(model, key), lambda a: isinstance(a, type) and issubclass(a, BaseModel))


UNORDERED_LISTS: frozenset[tuple[str, str]] = frozenset({("Format", "used_for"), ("Format", "native_tensor_core")})
"""(model, field) of the lists whose order carries no meaning, sorted into the schema's
order of their fixed set. Only these: other fixed-set lists, such as a model's
`layer_pattern`, are sequences whose order matters."""


def literal_order(model: type[BaseModel] | None, key: str) -> tuple[str, ...] | None:
    """For a list field whose items come from a fixed set, that set in schema order."""
    annotation = _annotation(model, key)
    if annotation is None or typing.get_origin(annotation) is not tuple:
        return None
    literal = _find(annotation, lambda a: typing.get_origin(a) is Literal)
    return tuple(typing.get_args(literal)) if literal is not None else None


def sort_order(model: type[BaseModel] | None, key: str) -> tuple[str, ...] | None:
    """The order to sort the list under ``key`` into, or None to keep the contributor's."""
    if model is None or (model.__name__, key) not in UNORDERED_LISTS:
        return None
    return literal_order(model, key)


def key_rank(model: type[BaseModel] | None) -> typing.Callable[[str], tuple[int, int]]:
    """Sort key for a mapping's keys: schema order, unknown keys next, trailing keys last."""
    fields = [f for f in (model.model_fields if model else ()) if f not in TRAILING_KEYS]
    trailing = [f for f in TRAILING_KEYS if model and f in model.model_fields]
    order = {name: i for i, name in enumerate(fields)}

    def rank(key: str) -> tuple[int, int]:
        if key in order:
            return (0, order[key])
        if key in trailing:
            return (2, trailing.index(key))
        return (1, 0)

    return rank


# step 1: scalars and flow collections with ruamel ------------------------------------
class _Representer(RoundTripRepresenter):
    """Round-trip representer that spells null out."""


_Representer.add_representer(type(None), lambda self, data: self.represent_scalar("tag:yaml.org,2002:null", "null"))


def _ruamel() -> YAML:
    y = YAML(typ="rt")
    y.Representer = _Representer
    y.width = 1_000_000
    y.indent(mapping=2, sequence=4, offset=2)
    y.preserve_quotes = True
    return y


StringStyle = Literal["token", "date", "text"]


def _constraint_patterns(annotation: Any, metadata: Iterable[Any] = ()) -> list[str]:
    found = [getattr(m, "pattern", None) for m in metadata]
    stack = [annotation]
    while stack:
        item = stack.pop()
        found += [getattr(m, "pattern", None) for m in getattr(item, "__metadata__", ())]
        stack.extend(typing.get_args(item))
    return [p for p in found if isinstance(p, str)]


def string_style(model: type[BaseModel] | None, key: str) -> StringStyle | None:
    """How strings under ``key`` are quoted: `token` (ids, references, choices, URLs:
    plain), `date` (dates as text: quoted) or `text` (free text: quoted); None for
    keys the schema does not know (left as written)."""
    if model is None or key not in model.model_fields:
        return None
    info = model.model_fields[key]
    patterns = _constraint_patterns(info.annotation, info.metadata)
    if any(p == PARTIAL_DATE_PATTERN for p in patterns):
        return "date"
    if any(p == ID_PATTERN or p.startswith("^https?://") for p in patterns):
        return "token"
    if _find(info.annotation, lambda a: typing.get_origin(a) is Literal) is not None:
        return "token"
    if _find(info.annotation, lambda a: a is str) is None:
        return "token"  # a model that also accepts a bare id (a citation written as its source id)
    return "text"


def plain_ok(text: str, flow: bool) -> bool:
    """Whether ``text`` can be written without quotes and read back as the same string."""
    if not text or text != text.strip() or "\n" in text or any(ord(c) < 32 for c in text):
        return False
    probes = (f"k: [{text}]\n", f"k: {{x: {text}}}\n") if flow else (f"k: {text}\n",)
    for probe in probes:
        try:
            data = parse_text(probe).data["k"]
        except (YamlError, KeyError, TypeError):
            return False
        if (data[0] if flow and isinstance(data, tuple) and len(data) == 1 else
                data.get("x") if flow and isinstance(data, dict) else data) != text:
            return False
    return True


def _style(value: Any, style: StringStyle | None, flow: bool) -> Any:
    if style is None or not isinstance(value, str) or isinstance(value, (LiteralScalarString, FoldedScalarString)):
        return value
    if "\n" in value:
        return value if isinstance(value, DoubleQuotedScalarString) else DoubleQuotedScalarString(value)
    if style == "token" and plain_ok(value, flow):
        return PlainScalarString(value)
    if style == "text" and ("\\" in value or '"' in value) and "'" not in value:
        return SingleQuotedScalarString(value)
    return DoubleQuotedScalarString(value)


def _canonical_tree(node: Any, model: type[BaseModel] | None, item_style: StringStyle | None = None) -> None:
    """Quote scalars, sort fixed-set lists and reorder flow mappings, in place. A list's
    items take ``item_style`` (the style of the field holding the list)."""
    if isinstance(node, CommentedMap):
        flow = bool(node.fa.flow_style())
        for key in list(node):
            child = node[key]
            if isinstance(child, CommentedMap):
                _canonical_tree(child, submodel(model, str(key)))
            elif isinstance(child, CommentedSeq):
                _canonical_tree(child, submodel(model, str(key)), string_style(model, str(key)))
                _sort_literals(child, sort_order(model, str(key)))
            else:
                node[key] = _style(child, string_style(model, str(key)), flow)
        if flow:
            _reorder_flow(node, key_rank(model))
    elif isinstance(node, CommentedSeq):
        flow = bool(node.fa.flow_style())
        for i, item in enumerate(node):
            if isinstance(item, (CommentedMap, CommentedSeq)):
                _canonical_tree(item, model)
            else:
                node[i] = _style(item, item_style, flow)


def _sort_literals(seq: CommentedSeq, order: tuple[str, ...] | None) -> None:
    if not order or seq.ca.items or not all(isinstance(v, str) for v in seq):
        return
    index = {v: i for i, v in enumerate(order)}
    items = sorted(seq, key=lambda v: index.get(str(v), len(order)))
    for i, v in enumerate(items):
        seq[i] = v


def _reorder_flow(node: CommentedMap, rank: typing.Callable[[str], tuple[int, int]]) -> None:
    keys = list(node)
    wanted = sorted(keys, key=lambda k: rank(str(k)))
    if wanted == keys:
        return
    items = [(k, node[k]) for k in wanted]
    comments = dict(node.ca.items)
    for k in keys:
        del node[k]
    for k, v in items:
        node[k] = v
    node.ca.items.update(comments)


# step 2: block mappings as whole lines ---------------------------------------------
def _is_blank_or_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _last_line(node: yaml.Node) -> int:
    """0-based index of the last line holding part of ``node``."""
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False) or not node.value:
        end = node.end_mark
        return end.line if end.column > 0 else max(end.line - 1, node.start_mark.line)
    last = node.value[-1]
    return _last_line(last[1] if isinstance(node, yaml.MappingNode) else last)


_Collection = TypeVar("_Collection", bound=yaml.CollectionNode)


def _is_block(node: yaml.Node | None, kind: type[_Collection]) -> TypeGuard[_Collection]:
    return isinstance(node, kind) and not node.flow_style and bool(node.value)


Splice = tuple[int, int, list[str]]


def _apply(start: int, block: list[str], splices: list[Splice]) -> list[str]:
    out = list(block)
    for s, e, new in sorted(splices, key=lambda x: x[0], reverse=True):
        out[s - start: e - start + 1] = new
    return out


def _children(value: yaml.Node, model: type[BaseModel] | None, lines: list[str]) -> list[Splice]:
    if _is_block(value, yaml.MappingNode):
        return [_mapping(value, model, lines, in_sequence=False)]
    if _is_block(value, yaml.SequenceNode):
        return [_mapping(item, model, lines, in_sequence=True)
                for item in value.value if _is_block(item, yaml.MappingNode)]
    return []


def _mapping(node: yaml.MappingNode, model: type[BaseModel] | None, lines: list[str],
             in_sequence: bool, top: bool = False) -> Splice:
    """New lines for the region of a block mapping, keys in canonical order."""
    pairs = node.value
    key_lines = [k.start_mark.line for k, _ in pairs]
    lasts = [_last_line(v) for _, v in pairs]
    starts = []
    for i, line in enumerate(key_lines):
        floor = lasts[i - 1] + 1 if i else (line if (top or in_sequence) else _opening(node, lines))
        start = line
        while start > floor and _is_blank_or_comment(lines[start - 1]):
            start -= 1
        if any(not _is_blank_or_comment(x) for x in lines[floor:start]):
            raise FormatError(f"unexpected content before line {line + 1}")
        starts.append(start)
    blocks = []
    for i, (key, value) in enumerate(pairs):
        block = lines[starts[i]: lasts[i] + 1]
        blocks.append((key.value, key_lines[i] - starts[i], _apply(starts[i], block,
                                                                    _children(value, submodel(model, key.value),
                                                                              lines))))
    rank = key_rank(model)
    ordered = sorted(range(len(blocks)), key=lambda i: rank(blocks[i][0]))
    if in_sequence and ordered[0] != 0:
        col = pairs[0][0].start_mark.column
        prefix = lines[key_lines[0]][:col]
        _, at0, first = blocks[0]
        first[at0] = " " * col + first[at0][col:]
        _, atn, new_first = blocks[ordered[0]]
        if new_first[atn][:col].strip():
            raise FormatError(f"cannot move key '{blocks[ordered[0]][0]}' to the front of its list item")
        new_first[atn] = prefix + new_first[atn][col:]
        # comment lines above the new first key now precede the whole item
    new_lines = [line for i in ordered for line in blocks[i][2]]
    return (starts[0], lasts[-1], new_lines)


def _opening(node: yaml.MappingNode, lines: list[str]) -> int:
    """First line after the parent's key line, for a nested block mapping."""
    first = node.value[0][0].start_mark.line
    line = first
    while line > 0 and _is_blank_or_comment(lines[line - 1]):
        line -= 1
    return line


def _reorder_blocks(text: str, model: type[BaseModel]) -> str:
    lines = text.splitlines(keepends=True)
    loader = _BaseLoader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    if not _is_block(node, yaml.MappingNode):
        return text
    start, end, new = _mapping(node, model, lines, in_sequence=False, top=True)
    return "".join(lines[:start] + new + lines[end + 1:])


# step 3: the pragma, and the whole pipeline --------------------------------------------
def _with_pragma(text: str, kind: str) -> str:
    lines = text.splitlines(keepends=True)
    head = 0
    while head < len(lines) and _is_blank_or_comment(lines[head]) and lines[head].strip():
        head += 1
    kept = [line for i, line in enumerate(lines) if i >= head or not _PRAGMA_LINE.match(line)]
    return PRAGMA.format(kind=kind) + "\n" + "".join(kept)


def format_text(text: str, kind: str) -> str:
    """The canonical form of one entry file of ``kind``; FormatError when it cannot be made safely."""
    if kind not in KINDS:
        raise FormatError(f"unknown kind '{kind}'")
    try:
        before = parse_text(text)
    except YamlError as exc:
        raise FormatError(f"line {exc.line}: {exc.message} (fix it first; `inferbook validate` explains)") from None
    model = KINDS[kind]
    y = _ruamel()
    data = y.load(text)
    _canonical_tree(data, model)
    buffer = io.StringIO()
    y.dump(data, buffer)
    result = _with_pragma(_reorder_blocks(buffer.getvalue(), model), kind)
    try:
        after = parse_text(result)
    except YamlError as exc:  # pragma: no cover - a bug in fmt
        raise FormatError(f"formatting would break the file (line {exc.line}: {exc.message})") from None
    if _normalised(before.data, model) != _normalised(after.data, model):
        raise FormatError("formatting would change the data; file left unchanged (please report this)")
    if sorted(comments(text)) != sorted(comments(result)):
        raise FormatError("formatting would lose or alter a comment; file left unchanged (please report this)")
    return result


def _normalised(value: Any, model: type[BaseModel] | None) -> Any:
    """Data with fixed-set lists sorted, so canonical list order compares equal."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = _normalised(v, submodel(model, k))
            order = sort_order(model, k)
            if order and isinstance(v, tuple) and all(isinstance(x, str) for x in v):
                v = tuple(sorted(v))
            out[k] = v
        return out
    if isinstance(value, tuple):
        return tuple(_normalised(v, model) for v in value)
    return value


def comments(text: str) -> list[str]:
    """Every comment in a YAML text (without the schema pragma), sorted: the `#` runs
    that no scalar token covers."""
    lines = text.splitlines()
    covered: dict[int, list[tuple[int, int]]] = {}
    for token in yaml.scan(text, Loader=_BaseLoader):
        if not isinstance(token, yaml.ScalarToken):
            continue
        start, end = token.start_mark, token.end_mark
        for row in range(start.line, min(end.line, len(lines) - 1) + 1):
            first = start.column if row == start.line else 0
            last = end.column if row == end.line else len(lines[row])
            covered.setdefault(row, []).append((first, last))
    found = []
    for number, line in enumerate(lines):
        spans = covered.get(number, [])
        for match in re.finditer("#", line):
            pos = match.start()
            if (pos == 0 or line[pos - 1] in " \t") and not any(a <= pos < b for a, b in spans):
                comment = line[pos:].strip()
                if not _PRAGMA_LINE.match(comment):
                    found.append(comment)
                break
    return sorted(found)


# files --------------------------------------------------------------------------------
@dataclass(slots=True)
class FileResult:
    """What fmt found for one file."""

    path: Path
    original: str
    formatted: str | None
    error: str | None = None

    @property
    def changed(self) -> bool:
        return self.formatted is not None and self.formatted != self.original

    def diff(self) -> str:
        """A unified diff from the file to its formatted text."""
        if not self.changed:
            return ""
        assert self.formatted is not None
        return "".join(difflib.unified_diff(self.original.splitlines(True), self.formatted.splitlines(True),
                                            *((str(self.path),) * 2 if self.path.is_absolute()
                                              else (f"a/{self.path}", f"b/{self.path}"))))


def kind_of_path(path: Path) -> str | None:
    """The kind of an entry file, from the folder it sits in."""
    return path.parent.name if path.parent.name in KINDS else None


def entry_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Entry files under ``paths`` (folders are searched one level of kind folders deep)."""
    for path in paths:
        if path.is_dir():
            if path.name in KINDS:
                yield from sorted(p for p in path.glob("*.yaml") if not p.name.startswith("."))
            else:
                for kind in KINDS:
                    yield from sorted(p for p in (path / kind).glob("*.yaml") if not p.name.startswith("."))
        else:
            yield path


def format_file(path: Path) -> FileResult:
    """Format one file in memory (nothing is written)."""
    try:
        original = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return FileResult(path, "", None, f"cannot read: {exc}")
    kind = kind_of_path(path)
    if kind is None:
        return FileResult(path, original, None, "cannot tell the kind: entry files live in kb/<kind>/")
    try:
        return FileResult(path, original, format_text(original, kind))
    except FormatError as exc:
        return FileResult(path, original, None, str(exc))
    except Exception as exc:  # ruamel parse errors and the like: report, never traceback
        return FileResult(path, original, None, f"cannot format: {str(exc).splitlines()[0] if str(exc) else exc!r}")


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` through a temporary file and a rename."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
