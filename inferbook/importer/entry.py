"""The model entry: the YAML text of a kb/models/ entry for an import (each value with its origin,
TODOs for what a config cannot tell), the id derived from the config, and the atomic write that
never overwrites an existing file."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from ..schema import ModelArchitecture
from ..schema.base import slug_ok
from .result import Imported
from .tables import LINEAR_ATTENTION_KEYS, MAMBA_FLAGS, MAMBA_KEYS, SPARSE_ATTENTION_KEYS, VISION_FIELDS, VISION_KEYS


def derive_id(imported: Imported, path: Path) -> str | None:
    """An entry id from `_name_or_path` (its last part) or the file name, when one can be made."""
    for candidate in (imported.short_name, path.stem if path.stem.lower() not in ("config", "") else None):
        if candidate:
            slug = re.sub(r"[^a-z0-9.]+", "-", candidate.lower()).strip("-.")
            slug = re.sub(r"\.{2,}", ".", re.sub(r"-{2,}", "-", slug))
            if slug_ok(slug):
                return slug
    return None


def _variant(name: str) -> str | None:
    """The entry's variant as the model name suggests it (None: the name does not say)."""
    text = name.lower()
    if "thinking" in text or "reason" in text:
        return "reasoning"
    if "instruct" in text or re.search(r"(^|[-_])it($|[-_])", text):
        return "instruct"
    if "chat" in text:
        return "chat"
    if "base" in text:
        return "base"
    return None


def _q(text: str) -> str:
    """A double-quoted YAML scalar (JSON string syntax is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def printable(text: str) -> str:
    """``text`` with every unprintable character (control, line break, format) shown as "?"."""
    return "".join(c if c.isprintable() else "?" for c in text)


def _comment(text: str) -> str:
    """A trailing YAML comment: one line of printable characters (config text is hostile)."""
    clean = " ".join(printable(" ".join(text.split())).split())
    return f"  # {clean}" if clean else ""


def _billions(count: int) -> str:
    """A parameter count in billions, as a TODO comment shows it."""
    return f"{count / 1e9:,.2f}B"


def render_entry(imported: Imported, eid: str, today: dt.date | None = None) -> str:
    """The YAML text of a kb/models/ entry, in the field order and style of the existing ones."""
    today = today or dt.date.today()
    arch = imported.architecture
    origins = imported.origins
    name = imported.short_name
    repo = imported.hf_repo
    variant = _variant(name or eid)
    lines = ["# yaml-language-server: $schema=../../schema/models.schema.json",
             "# Imported from config.json by `inferbook import-config`. Fill in every TODO from the model card",
             "# (validate refuses the entry until then), add the two sources it names, then run `inferbook fmt`.",
             f"id: {eid}",
             f"title: {_q(name)}" + _comment("from _name_or_path") if name else
             "title: null" + _comment("TODO: display name, e.g. from the model card"),
             "aliases: []",
             "family: null" + _comment("TODO: model family, e.g. \"Llama 3.1\""),
             "organization: null" + _comment("TODO: who released the model"),
             "release_date: null" + _comment("TODO: \"YYYY-MM-DD\" (or YYYY-MM) of the release"),
             "license: null" + _comment("TODO: licence name or SPDX id from the model card"),
             (f"hf_repo: {_q(repo)}" + _comment("from _name_or_path")) if repo else
             "hf_repo: null" + _comment("TODO: owner/name of the Hugging Face repository"),
             f"variant: {variant}" + _comment("from the name; check it") if variant else
             "variant: todo" + _comment("TODO: base, instruct, reasoning or chat"),
             "params_total_b: null" + _comment(f"TODO: total parameters in billions as the model card states them; "
                                               f"computed from the config: {_billions(imported.params)}"
                                               + _extras(imported))]
    if arch.moe is not None:
        lines.append("params_active_b: null" + _comment(f"TODO: active parameters per token from the card; computed: "
                                                        f"{_billions(imported.params_active)}"))
    head = "architecture:"
    if imported.vision is not None:
        head += _comment("text_config of a multimodal config; " + ("vision tower in vision" if arch.vision is not None
                                                                   else "vision tower excluded"))
    lines.append(head)
    lines += _arch_lines(arch, origins)
    if imported.native_dtype is not None:
        lines.append(f"native_dtype: {imported.native_dtype}" + _comment(imported.native_origin))
    else:
        lines.append("native_dtype: todo" + _comment(f"{imported.native_origin}; "
                                                     "TODO: the format id (kb/formats) of the released weights"))
    if imported.native_groups:
        lines.append("native_groups:" + _comment("quantization_config: tensors the quantization leaves out"))
        for group in ("embeddings", "attention", "dense_ffn", "experts"):
            if group in imported.native_groups:
                fid = imported.native_groups[group]
                lines.append(f"  {group}: {fid}" if fid else f"  {group}: todo" + _comment("TODO: their format"))
    lines.append(f"config_source: hf-config-{eid}" + _comment(f"TODO: add kb/sources/hf-config-{eid}.yaml for this "
                                                              "config.json"))
    lines.append(f"source: hf-card-{eid}" + _comment(f"TODO: add kb/sources/hf-card-{eid}.yaml (the model card)"))
    defaulted = sorted(f"architecture.{f}" for f, o in origins.items() if o.startswith("absent from config.json")
                       and "." not in f)
    if defaulted:
        lines += textwrap.wrap("TODO: cite the source of the config class defaults used for " + ", ".join(defaulted)
                               + " under field_sources.", width=100, initial_indent="# ", subsequent_indent="# ",
                               break_on_hyphens=False, break_long_words=False)
    lines.append(f"notes: {_q(_notes(imported))}")
    lines.append(f"last_reviewed: {today.isoformat()}")
    text = "\n".join(lines) + "\n"
    from ..contrib.fmt import FormatError, format_text

    try:
        return format_text(text, "models")
    except FormatError:  # pragma: no cover - the text above is written in canonical form already
        return text


def _extras(imported: Imported) -> str:
    """The MTP and vision parameters the total leaves out, for the params_total_b comment."""
    from ..calc.params import count_params

    counted = count_params(imported.architecture)
    parts = [f"MTP modules {_billions(counted.mtp)}" if counted.mtp else "",
             f"vision encoder {_billions(counted.vision)}" if counted.vision else ""]
    shown_parts = [p for p in parts if p]
    return f" (not in it: {', '.join(shown_parts)})" if shown_parts else ""


def _arch_lines(arch: ModelArchitecture, origins: dict[str, str]) -> list[str]:
    """The lines of the architecture block, each value with its origin as a comment."""

    def scalar(value: Any) -> str:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, tuple):
            return "[" + ", ".join(str(v) for v in value) + "]"
        return str(value)

    def line(indent: int, key: str, value: Any, at: str) -> str:
        return " " * indent + f"{key}: {scalar(value)}" + _comment(origins.get(at, ""))

    out = [line(2, k, getattr(arch, k), k) for k in ("layers", "hidden_size", "attention_heads", "kv_heads",
                                                    "head_dim", "intermediate_size", "vocab_size", "context_length",
                                                    "tie_word_embeddings", "attention")]
    if arch.mla is not None:
        out.append("  mla:")
        out += [line(4, k, getattr(arch.mla, k), f"mla.{k}") for k in ("kv_lora_rank", "q_lora_rank",
                                                                         "qk_rope_head_dim", "qk_nope_head_dim",
                                                                         "v_head_dim")]
    out.append(line(2, "layer_pattern", arch.layer_pattern, "layer_pattern"))
    for k in ("sliding_window", "attention_chunk_size"):
        if getattr(arch, k) is not None:
            out.append(line(2, k, getattr(arch, k), k))
    if arch.attention_output_gate:
        out.append(line(2, "attention_output_gate", True, "attention_output_gate"))
    if arch.sparse_attention is not None:
        out.append("  sparse_attention:")
        out.append(f"    kind: {arch.sparse_attention.kind}")
        out += [line(4, k, getattr(arch.sparse_attention, k), f"sparse_attention.{k}") for k in SPARSE_ATTENTION_KEYS]
    if arch.linear_attention is not None:
        out.append("  linear_attention:" + _comment(", ".join(LINEAR_ATTENTION_KEYS.values())))
        out += [f"    {k}: {getattr(arch.linear_attention, k)}" for k in ("kind", *LINEAR_ATTENTION_KEYS)]
    if arch.mamba is not None:
        out.append("  mamba:")
        fields = [*MAMBA_KEYS, *MAMBA_FLAGS, "ssm_state_dtype"]
        out += [line(4, k, getattr(arch.mamba, k), f"mamba.{k}") for k in fields
                if getattr(arch.mamba, k) is not None]
    out.append(line(2, "gated_mlp", arch.gated_mlp, "gated_mlp"))
    if arch.moe is not None:
        out.append("  moe:")
        out += [line(4, k, getattr(arch.moe, k), f"moe.{k}") for k in ("experts", "experts_per_token",
                                                                         "shared_experts", "expert_intermediate_size",
                                                                         "dense_layers", "layer_interval")]
    if arch.mtp_layers:
        out.append(line(2, "mtp_layers", arch.mtp_layers, "mtp_layers"))
    if arch.vision is not None:
        out.append("  vision:")
        out.append(f"    kind: {arch.vision.kind}")
        qwen = arch.vision.kind == "qwen3-vl"
        out += [line(4, k, getattr(arch.vision, k), f"vision.{k}") for k in VISION_FIELDS
                if (k in VISION_KEYS or k == "deepstack_mergers" if qwen else k in arch.vision.model_fields_set)]
    return out


def _notes(imported: Imported) -> str:
    """The entry's notes: where it came from and the designs the schema cannot express."""
    parts = ["Architecture imported from config.json by inferbook import-config."]
    parts += [line[0].upper() + line[1:] + "." for line in imported.report.cannot_express]
    text = " ".join(parts)
    return text if len(text) <= 1000 else text[:996] + "..."


def write_new(path: Path, text: str) -> None:
    """Create ``path`` with ``text`` atomically; FileExistsError when it exists (never overwritten)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        try:
            os.link(tmp, path)  # fails when the target exists, even if it appeared a moment ago
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links
            if path.exists() or path.is_symlink():
                raise FileExistsError(str(path)) from None
            os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
