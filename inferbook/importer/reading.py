"""Reading untrusted JSON: a bounded, strict parse (size, nesting depth, UTF-8, one object, unique
keys, finite numbers) and `Keys`, which reads one config object key by key, type-checks every
value, and reports the keys nobody read."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_CONFIG_BYTES = 5 * 1024 * 1024
"""Largest config.json read (real ones are a few kilobytes)."""
MAX_INDEX_BYTES = 64 * 1024 * 1024
"""Largest model.safetensors.index.json read (DeepSeek-V3's is about 9 MB)."""
MAX_DEPTH = 64
"""Deepest nesting of JSON arrays and objects accepted."""
MAX_SHOWN = 60
"""Characters of a refused value that a message repeats."""


class ConfigError(Exception):
    """A config (or index) that cannot be imported; the message names the config keys."""


class ConfigUsageError(Exception):
    """A path or option that cannot be used (exit code 2)."""


@dataclass(frozen=True, slots=True)
class NonFinite:
    """A NaN, Infinity or overflowing number met while parsing; refused wherever it stands."""

    text: str


def shown(value: Any) -> str:
    """A value as a message repeats it: JSON spelling, shortened."""
    if isinstance(value, NonFinite):
        return value.text
    try:
        text = json.dumps(value, ensure_ascii=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."


def word(value: Any) -> str:
    """A config string in a message: bare when it is one plain word, else quoted and shortened."""
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_.\-]{1,40}", value):
        return value
    return shown(value)


def is_whole(value: Any) -> bool:
    """Whether a parsed JSON value is a whole number (a boolean is not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def json_type(value: Any) -> str:
    """The JSON type of a parsed value, with its article, for messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float, NonFinite)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null"


def non_finite(value: Any, at: str = "") -> Iterator[str]:
    """Dotted paths of the non-finite numbers inside ``value``."""
    if isinstance(value, NonFinite):
        yield at or "(top level)"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from non_finite(item, f"{at}.{key}" if at else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from non_finite(item, f"{at}.{i}" if at else str(i))


def value_at(data: Any, dotted: str) -> Any:
    """The value at a dotted path that `non_finite` gave."""
    for part in dotted.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's members as a dict; ConfigError when a key appears twice."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ConfigError(f"key {shown(key)} appears twice in one object")
        result[key] = value
    return result


def _parse_float(text: str) -> float | NonFinite:
    """A JSON number with a fraction or exponent; `NonFinite` when it overflows."""
    value = float(text)
    return value if math.isfinite(value) else NonFinite(text)


def _depth_ok(text: str) -> bool:
    """Whether no array or object nests deeper than MAX_DEPTH (brackets inside strings excluded)."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif char in "]}":
            depth -= 1
    return True


def read_json(path: Path, limit: int, what: str) -> dict[str, Any]:
    """The JSON object in ``path``: at most ``limit`` bytes of UTF-8, unique keys, one object.
    ConfigUsageError when the path is not a readable file, ConfigError when its content is refused."""
    if not path.is_file():
        raise ConfigUsageError(f"{what}: no such file: {path}")
    try:
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise ConfigUsageError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > limit:
        raise ConfigError(f"{what} is larger than {limit:,} bytes; refused")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} is not UTF-8 text (byte {exc.start})") from None
    if not _depth_ok(text):
        raise ConfigError(f"{what} nests arrays and objects deeper than {MAX_DEPTH} levels; refused")
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_float=_parse_float,
                          parse_constant=NonFinite)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of more than 4,300 digits
        raise ConfigError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{what} must hold one JSON object {{...}}, not {json_type(data)}")
    return data


class Keys:
    """One config object, read key by key: each read marks the key used, checks its type and
    records a message (naming the key) for a wrong one."""

    def __init__(self, data: dict[str, Any], prefix: str, errors: list[str]) -> None:
        self.data = data
        self.prefix = prefix
        self.errors = errors
        self.used: set[str] = set()

    def name(self, key: str) -> str:
        """The key as messages name it (text_config.hidden_size)."""
        return f"{self.prefix}{key}"

    def has(self, key: str) -> bool:
        """Whether the key is present and not null."""
        return self.data.get(key) is not None

    def raw(self, key: str) -> Any:
        """The value (None when absent or null), marking the key used."""
        self.used.add(key)
        value = self.data.get(key)
        return None if isinstance(value, NonFinite) else value  # already reported

    def _typed(self, key: str, ok: Callable[[Any], bool], expected: str) -> Any:
        """The value when it is absent, null or ``ok``; else None, with a message saying what was ``expected``."""
        value = self.raw(key)
        if value is None or ok(value):
            return value
        self.errors.append(f"{self.name(key)}: expected {expected}, got {json_type(value)} {shown(value)}")
        return None

    def whole(self, key: str) -> int | None:
        """A whole number (a boolean or a fraction is refused)."""
        return self._typed(key, is_whole, "a whole number")

    def flag(self, key: str) -> bool | None:
        """true or false."""
        return self._typed(key, lambda v: isinstance(v, bool), "true or false")

    def text(self, key: str) -> str | None:
        """A string."""
        return self._typed(key, lambda v: isinstance(v, str), "a string")

    def array(self, key: str) -> list[Any] | None:
        """A list."""
        return self._typed(key, lambda v: isinstance(v, list), "a list")

    def mapping(self, key: str) -> dict[str, Any] | None:
        """An object."""
        return self._typed(key, lambda v: isinstance(v, dict), "an object")

    def unused(self, ignored: Collection[str]) -> list[str]:
        """Keys neither read nor in ``ignored`` (known to be irrelevant)."""
        return [self.name(k) for k in self.data if k not in self.used and k not in ignored]
