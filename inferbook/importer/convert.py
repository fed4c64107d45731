"""The import: a config (and optionally a safetensors index) read into `Imported`. It runs the
builder and the checkpoint reading, reports the keys nobody used, validates the architecture with
the schema's own model, and words the schema's complaints under the config's key names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..schema import ModelArchitecture
from ..yamlio import disallowed_character
from .architecture import Builder
from .checkpoint import index_check, native_format
from .reading import MAX_CONFIG_BYTES, MAX_INDEX_BYTES, ConfigError, json_type, non_finite, read_json, shown
from .result import Imported
from .tables import ARCH_KEYS, IGNORED_KEYS


def import_data(data: dict[str, Any], index: dict[str, Any] | None = None) -> Imported:
    """Read a parsed config (and optionally a parsed safetensors index) into the schema's terms.
    ConfigError with every problem found, each naming its config key."""
    if not isinstance(data, dict):
        raise ConfigError(f"the config must be one JSON object, not {json_type(data)}")
    builder = Builder(data)
    arch_data = builder.build()
    native, groups, native_origin = native_format(builder)
    name = builder.top.text("_name_or_path")
    if name is not None and (not name.strip() or len(name) > 200 or disallowed_character(name, "") is not None):
        builder.report.checks.append(f"_name_or_path {shown(name)} is not used for the id, title or hf_repo: "
                                     "empty, too long or holding control or invisible characters")
        name = None
    unused = builder.text.unused(IGNORED_KEYS)
    if builder.text is not builder.top:
        unused = builder.top.unused(IGNORED_KEYS) + unused
    builder.report.not_used = sorted(set(unused + builder.report.not_used))
    if builder.errors:
        raise ConfigError(_join(builder.errors))
    try:
        arch = ModelArchitecture.model_validate(arch_data)
    except ValidationError as exc:
        raise ConfigError(_join(_schema_errors(exc, builder))) from None
    from ..calc.params import count_params

    try:
        counted = count_params(arch)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    imported = Imported(arch, native, groups, name, builder.origins, native_origin, builder.report,
                        counted.total, counted.active, builder.vision)
    if index is not None:
        builder.report.checks += index_check(index, imported, arch.layers)
    return imported


def _join(errors: list[str]) -> str:
    """One message for every distinct problem: the problem itself, or a list of them."""
    unique = list(dict.fromkeys(errors))
    if len(unique) == 1:
        return unique[0]
    return "\n".join(["the config cannot be imported:"] + [f"  - {e}" for e in unique])


def _schema_errors(exc: ValidationError, builder: Builder) -> list[str]:
    """The schema's complaints about the architecture, under the config's key names."""
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        if loc:
            key = _key_of(loc, builder)
            out.append(f"{key} = {shown(err.get('input'))}: {err['msg']}")
            continue
        message = str(err["msg"]).removeprefix("Value error, ")
        mentioned = [f for f in ("attention_heads", "kv_heads", "sliding_window", "attention_chunk_size",
                                 "value_heads", "key_heads") if f in message]
        keys = ", ".join(_key_of(f, builder) for f in mentioned)
        out.append(message + (f" ({keys})" if keys else ""))
    return out


def _key_of(loc: str, builder: Builder) -> str:
    """The config key behind a schema field path."""
    origin = builder.origins.get(loc)
    if origin and " " not in origin:
        return origin
    key = ARCH_KEYS.get(loc)
    return builder.text.name(key) if key else f"architecture.{loc}"


def import_config(path: Path, index_path: Path | None = None) -> Imported:
    """Read and import the config.json at ``path`` (and a safetensors index), refusing hostile input."""
    data = read_json(path, MAX_CONFIG_BYTES, "config")
    index = read_json(index_path, MAX_INDEX_BYTES, "index") if index_path is not None else None
    if index is not None:
        bad = list(non_finite(index))
        if bad:
            raise ConfigError(f"index: {bad[0]}: a non-finite number is refused")
    return import_data(data, index)
