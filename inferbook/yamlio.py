"""Strict YAML reading for untrusted knowledge-base files.

PyYAML's defaults are wrong for a data project that takes pull requests:
duplicate keys silently keep the last value, ``no`` becomes ``False``,
``1e3`` stays a string, ``010`` is octal and aliases can expand
exponentially. This module composes the YAML node tree with a resolver
that recognises nothing, then builds plain Python values itself under
YAML 1.2 core-schema rules, rejecting every ambiguous spelling with a
message that names the line and column. It also returns the position of
every value so later validation errors can point at the right line.

Text and numbers are checked here too, for every value of every file: control,
invisible and text-direction characters are refused wherever they stand (see
`disallowed_character`, which the schema applies again per field), and numbers
must be finite, at most 18 digits long, at most 1e18 in magnitude and, unless zero,
at least 1e-18 (the schema then bounds each field more tightly).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # PyYAML is imported when a file is parsed: commands served from the cache never need it
    import yaml

MAX_FILE_BYTES = 1_000_000
"""Largest accepted entry file (10^6 bytes); real entries are a few kB."""

MAX_DEPTH = 32
"""Deepest accepted nesting of mappings and sequences."""

MAX_DIGITS = 18
"""Most digits an integer may have (Python ints are unbounded; floats are not)."""

MAX_MAGNITUDE = 1e18
"""Largest accepted magnitude of a number; the schema bounds each field more tightly."""

MIN_MAGNITUDE = 1e-18
"""Smallest accepted magnitude of a non-zero number (so no quotient of two numbers overflows)."""

_DISALLOWED_RANGES = (
    "\x7f-\x9f"  # DEL and the C1 controls (NEL included)
    "\u00ad"  # soft hyphen
    "\u061c"  # Arabic letter mark
    "\u180e"  # Mongolian vowel separator
    "\u200b-\u200f"  # zero-width space, non-joiner, joiner; LRM, RLM
    "\u2028-\u202e"  # line and paragraph separators; bidi embeddings and overrides
    "\u2060-\u206f"  # word joiner, invisible operators, bidi isolates, deprecated format characters
    "\ufeff"  # zero-width no-break space (byte-order mark)
    "\ufff9-\ufffb"  # interlinear annotation
    "\ud800-\udfff"  # lone surrogates (only reachable through escapes)
    "\U000e0000-\U000e007f"  # tag characters
)
"""Characters besides the C0 controls that no entry may contain: they are invisible
or change how the text around them is displayed, so two strings that look equal differ."""


@functools.cache
def _base_loader() -> type[yaml.BaseLoader]:
    """PyYAML's loader that resolves nothing (its C version when built with libyaml)."""
    import yaml

    return getattr(yaml, "CBaseLoader", yaml.BaseLoader)

_NULL = re.compile(r"^(?:~|null|Null|NULL)\Z")
_BOOL_TRUE = re.compile(r"^(?:true|True|TRUE)\Z")
_BOOL_FALSE = re.compile(r"^(?:false|False|FALSE)\Z")
_YAML11_BOOL = re.compile(r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)\Z")
_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)\Z")
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9_]+\Z")
_RADIX_INT = re.compile(r"^[-+]?0[xXoObB][0-9a-fA-F_]+\Z")
_FLOAT = re.compile(
    r"^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*|[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)?\Z"
)
_SPECIAL_FLOAT = re.compile(r"^[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)\Z")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}[Tt ]")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?\Z")

_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"


@dataclass(frozen=True, slots=True)
class Mark:
    """A 1-based position in a source file."""

    line: int
    col: int


class YamlError(Exception):
    """A file that is not acceptable YAML for the knowledge base."""

    def __init__(self, message: str, line: int = 1, col: int = 1, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col
        self.hint = hint


Path_ = tuple[str | int, ...]


@functools.cache
def _disallowed(allowed: str) -> re.Pattern[str]:
    controls = "".join(f"\\x{c:02x}" for c in range(0x20) if chr(c) not in allowed)
    return re.compile(f"[{controls}{_DISALLOWED_RANGES}]")


def describe_character(char: str) -> str:
    """A character by code point and name, e.g. "U+200B ZERO WIDTH SPACE"."""
    code = f"U+{ord(char):04X}"
    if unicodedata.category(char) == "Cc":
        extra = {"\t": " (tab)", "\n": " (line break)", "\r": " (carriage return)", "\x1b": " (escape)"}
        return f"control character {code}{extra.get(char, '')}"
    return f"{code} {unicodedata.name(char, '')}".rstrip()


def disallowed_character(text: str, allowed: str = "\t\n") -> tuple[int, str, str] | None:
    """The first character of ``text`` that entries may not contain, as (offset, message,
    hint), or None. Refused: the C0 controls except those in ``allowed``, DEL, the C1
    controls, zero-width and other invisible format characters, and bidi controls.
    The reader passes tab and line break (the schema refuses them in single-line fields)."""
    found = _disallowed(allowed).search(text)
    if found is None:
        return None
    char = found.group()
    if unicodedata.category(char) == "Cc":
        return found.start(), f"{describe_character(char)} is not allowed", "remove it; use plain text"
    return (found.start(), f"{describe_character(char)} is not allowed",
            "remove it; invisible and text-direction characters make text differ from how it looks")


@dataclass(slots=True)
class Document:
    """The values of one YAML file and where each of them stands."""

    data: dict[str, Any]
    value_marks: dict[Path_, Mark] = field(default_factory=dict)
    key_marks: dict[Path_, Mark] = field(default_factory=dict)

    def locate(self, path: Path_, prefer_key: bool = False) -> Mark:
        """Best position for ``path``: the value (or its key), else the nearest parent."""
        path = tuple(path)
        while True:
            if prefer_key and path in self.key_marks:
                return self.key_marks[path]
            if path in self.value_marks:
                return self.value_marks[path]
            if path in self.key_marks:
                return self.key_marks[path]
            if not path:
                return Mark(1, 1)
            path = path[:-1]


def text_position(doc: Document, path: Path_, text: str, offset: int) -> Mark:
    """Position of character ``offset`` inside the text value at ``path``. Multi-line
    values are assumed to be block scalars (`|`), whose text starts on the next line."""
    mark = doc.locate(path)
    before = text[:offset]
    newlines = before.count("\n")
    col = offset - (before.rfind("\n") + 1) + 1
    if "\n" in text.rstrip("\n"):
        return Mark(mark.line + newlines + 1, col + mark.col + 1)
    return Mark(mark.line, col + mark.col)


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def _scalar(node: yaml.ScalarNode) -> Any:
    """Resolve one scalar under YAML 1.2 core rules, refusing ambiguous plain scalars."""
    text = node.value
    if node.tag != _STR_TAG:
        raise YamlError(f"explicit tag {node.tag!r} is not allowed", *_pos(node),
                        hint="remove the tag; types come from the schema")
    if node.style:  # quoted or block scalar: always a string ('' or None is plain)
        if node.style == '"':
            _check_escapes(node)
        return text
    if text == "" or _NULL.match(text):
        return None
    if _BOOL_TRUE.match(text):
        return True
    if _BOOL_FALSE.match(text):
        return False
    if _YAML11_BOOL.match(text):
        raise YamlError(f"ambiguous value {text!r}: YAML 1.1 reads it as a boolean", *_pos(node),
                        hint=f"write true/false for a boolean, or quote it (\"{text}\") for text")
    if _LEADING_ZERO.match(text):
        raise YamlError(f"ambiguous number {text!r} with a leading zero", *_pos(node),
                        hint=f"write it without the leading zero, or quote it (\"{text}\") for text")
    if _RADIX_INT.match(text) or _SEXAGESIMAL.match(text):
        raise YamlError(f"ambiguous value {text!r}: YAML 1.1 reads it as a number", *_pos(node),
                        hint="write a plain decimal number, or quote it for text")
    if _SPECIAL_FLOAT.match(text):
        raise YamlError(f"non-finite number {text!r} is not allowed", *_pos(node))
    if _INT.match(text):
        digits = text.lstrip("+-").replace("_", "")
        if len(digits) > MAX_DIGITS:
            raise YamlError(f"number {_shown(text)} has {len(digits):,} digits; at most {MAX_DIGITS} are allowed",
                            *_pos(node), hint="check the value and its unit")
        return int(text.replace("_", ""))
    if _FLOAT.match(text) and any(c.isdigit() for c in text):
        return _float(text, node)
    if _DATE.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError as exc:
            raise YamlError(f"invalid date {text!r}: {exc}", *_pos(node)) from None
    if _TIMESTAMP.match(text):
        raise YamlError(f"timestamps are not used in the knowledge base: {text!r}", *_pos(node),
                        hint="write a date as YYYY-MM-DD")
    return text


def _shown(text: str) -> str:
    """A literal for a message, shortened when long."""
    return repr(text) if len(text) <= 40 else f"{text[:24]!r}... ({len(text):,} characters)"


def _float(text: str, node: yaml.ScalarNode) -> float:
    """A decimal number, refused when it is not finite, too large or too close to zero."""
    value = float(text.replace("_", ""))
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        raise YamlError(f"number {_shown(text)} is out of range: at most 1e18 in magnitude",
                        *_pos(node), hint="check the value and its unit")
    mantissa = re.split("[eE]", text)[0]
    if abs(value) < MIN_MAGNITUDE and any(c in "123456789" for c in mantissa):
        raise YamlError(f"number {_shown(text)} is too close to zero: at least 1e-18 in magnitude",
                        *_pos(node), hint="check the value and its unit")
    return value


def _check_escapes(node: yaml.ScalarNode) -> None:
    """Refuse disallowed characters that a double-quoted scalar spells as escapes."""
    problem = disallowed_character(node.value)
    if problem is not None:
        raise YamlError(f"{problem[1]}, even written as an escape", *_pos(node), hint=problem[2])


def _pos(node: yaml.Node) -> tuple[int, int]:
    m = _mark(node)
    return m.line, m.col


class _Builder:
    """Turns a composed node tree into plain values, recording positions."""

    def __init__(self, doc: Document):
        import yaml

        self.doc = doc
        self.seen: set[int] = set()
        self.scalar, self.sequence, self.mapping = yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode

    def build(self, node: yaml.Node, path: Path_, depth: int) -> Any:
        if id(node) in self.seen:  # a composed alias is the anchored node itself
            where = self.doc.key_marks.get(path) or _mark(node)
            raise YamlError("anchors and aliases (&name / *name) are not allowed", where.line, where.col,
                            hint="write the value out in full")
        self.seen.add(id(node))
        if depth > MAX_DEPTH:
            raise YamlError(f"nesting deeper than {MAX_DEPTH} levels", *_pos(node))
        self.doc.value_marks[path] = _mark(node)
        if isinstance(node, self.scalar):
            return _scalar(node)
        if isinstance(node, self.sequence):
            if node.tag != _SEQ_TAG:
                raise YamlError(f"explicit tag {node.tag!r} is not allowed", *_pos(node))
            return tuple(self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value))
        if isinstance(node, self.mapping):
            if node.tag != _MAP_TAG:
                raise YamlError(f"explicit tag {node.tag!r} is not allowed", *_pos(node))
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, self.scalar) or key_node.tag != _STR_TAG:
                    raise YamlError("mapping keys must be plain text", *_pos(key_node))
                key = key_node.value
                problem = disallowed_character(key, "")  # field names: one line, no tab
                if problem is not None:
                    raise YamlError(f"{problem[1]} in a key", *_pos(key_node), hint=problem[2])
                if key == "<<" and not key_node.style:
                    raise YamlError("merge keys (<<) are not allowed", *_pos(key_node),
                                    hint="write the keys out in full")
                if key in out:
                    first = self.doc.key_marks[(*path, key)]
                    raise YamlError(f"duplicate key {key!r} (first defined at line {first.line})",
                                    *_pos(key_node), hint="keep one of the two")
                self.doc.key_marks[(*path, key)] = _mark(key_node)
                out[key] = self.build(value_node, (*path, key), depth + 1)
            return out
        raise YamlError("unsupported YAML node", *_pos(node))  # pragma: no cover


def _decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raise YamlError("file starts with a UTF-8 byte-order mark", 1, 1,
                        hint="save the file as UTF-8 without BOM")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise YamlError(f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})", line, col,
                        hint="save the file as UTF-8") from None


def parse_text(text: str) -> Document:
    """Parse one YAML document whose top level must be a mapping."""
    problem = disallowed_character(text, "\t\n\r")
    if problem is not None:
        offset, message, hint = problem
        before = text[:offset]
        raise YamlError(message, before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1, hint=hint)
    if "\t" in text:
        for lineno, line in enumerate(text.splitlines(), 1):
            stripped = line.lstrip(" ")
            if stripped.startswith("\t"):
                raise YamlError("tab character in indentation", lineno, len(line) - len(stripped) + 1,
                                hint="indent with spaces")
    import yaml

    loader = _base_loader()(text)
    try:
        node = loader.get_single_node()
    except yaml.composer.ComposerError as exc:
        raise _from_marked(exc, "more than one YAML document in the file" if "single document" in str(exc)
                           else None) from None
    except yaml.MarkedYAMLError as exc:
        raise _from_marked(exc) from None
    except yaml.reader.ReaderError as exc:  # e.g. control characters
        before = text[: exc.position]
        row, col = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise YamlError(f"{describe_character(char)} is not allowed", row, col,
                        hint="remove it; use plain text") from None
    except yaml.YAMLError as exc:  # pragma: no cover - other reader failures
        raise YamlError(f"YAML error: {exc}".splitlines()[0], 1, 1) from None
    finally:
        loader.dispose()
    if node is None:
        raise YamlError("file is empty", 1, 1, hint="an entry is a YAML mapping of fields")
    doc = Document(data={})
    if not isinstance(node, yaml.MappingNode):
        raise YamlError("top level must be a mapping of fields", *_pos(node))
    doc.data = _Builder(doc).build(node, (), 0)
    return doc


def _from_marked(exc: yaml.MarkedYAMLError, message: str | None = None) -> YamlError:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    text = message or " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
    return YamlError(f"YAML syntax error: {text}", line, col)


def read_bytes(path: Path, follow_symlinks: bool = True) -> bytes:
    """The bytes of a regular file of at most `MAX_FILE_BYTES`. Anything else (a FIFO, a
    device; a symbolic link unless ``follow_symlinks``) is refused without blocking on it:
    the file is opened non-blocking and checked through its descriptor. OSError when
    it cannot be opened (ELOOP for a refused link)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    if not stat.S_ISREG((os.stat(path) if follow_symlinks else os.lstat(path)).st_mode):
        raise YamlError("not a regular file", 1, 1, hint="entries are plain files")
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # replaced since the check above
            raise YamlError("not a regular file", 1, 1, hint="entries are plain files")
        if info.st_size > MAX_FILE_BYTES:
            raise YamlError(f"file is {info.st_size:,} bytes; the limit is {MAX_FILE_BYTES:,}", 1, 1,
                            hint="split the entry or move long text elsewhere")
        raw = handle.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise YamlError(f"file is more than {MAX_FILE_BYTES:,} bytes", 1, 1,
                        hint="split the entry or move long text elsewhere")
    return raw


def parse_bytes(raw: bytes) -> Document:
    """Decode (UTF-8, no byte-order mark) and parse the bytes of an entry file."""
    return parse_text(_decode(raw))


def read_file(path: Path, follow_symlinks: bool = True) -> Document:
    """Read and parse an entry file, enforcing type, size and encoding rules (`read_bytes`)."""
    return parse_bytes(read_bytes(path, follow_symlinks))
