"""Spec tables: the field-by-field table of a reference entry's page (a GPU, model, format,
framework, offer or source), with each field's label, tooltip, shown value and citation, and
the number and display-name formatting that the site's and the PDF's tables share.

Citations and entry links come from the page-context layer (`page_contexts.PageContexts`),
which this module sees only through the small `Linker` protocol.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel

from ..kb import KnowledgeBase
from ..provenance import fallback_source
from ..schema import Quantity
from ..schema.docs import field_doc
from ..schema.gpus import VENDOR_NAMES


class Linker(Protocol):
    """What a spec table needs from the page it sits on: the knowledge base, a link to an
    entry and numbered citations."""

    kb: KnowledgeBase

    def link(self, eid: str) -> dict[str, str]:
        """Title, kind and site path of an entry."""
        ...

    def citations(self, citations: Iterable[Any]) -> list[dict[str, Any]]:
        """Each citation with its bibliography number and source."""
        ...


@dataclass
class Cite:
    """A citation made up for a number that carries no citation record of its own."""

    source: str
    locator: str | None
    note: str | None = None


ARCHITECTURE_NAMES = {
    "volta": "Volta", "turing": "Turing", "ampere": "Ampere", "ada": "Ada Lovelace", "hopper": "Hopper",
    "blackwell": "Blackwell", "blackwell-ultra": "Blackwell Ultra", "rubin": "Rubin", "cdna2": "CDNA 2",
    "cdna3": "CDNA 3", "cdna4": "CDNA 4", "gaudi2": "Gaudi 2", "gaudi3": "Gaudi 3", "tpu": "TPU",
    "neuron": "Neuron", "apple-m": "Apple M-series", "cpu": "CPU", "rdna3": "RDNA 3", "rdna3.5": "RDNA 3.5",
    "xe2": "Xe2", "qualcomm-ai100": "Qualcomm Cloud AI 100",
}
"""How each `formats.Architecture` value is written on the site."""
DISPLAY_NAMES: dict[str, dict[str, str]] = {
    "vendor": VENDOR_NAMES, "accelerator_vendors": VENDOR_NAMES, "architecture": ARCHITECTURE_NAMES,
    "native_tensor_core": ARCHITECTURE_NAMES, "converted_on": ARCHITECTURE_NAMES,
    "form_factor": {"sxm": "SXM", "pcie": "PCIe", "oam": "OAM", "superchip": "Superchip", "board": "Board",
                    "chip": "Chip", "soc": "SoC"},
    "market": {"datacenter": "Data center", "workstation": "Workstation", "consumer": "Consumer", "edge": "Edge"},
    "role": {"engine": "Engine", "server": "Server", "orchestrator": "Orchestrator",
             "local-runtime": "Local runtime", "library": "Library"},
}
"""Fields whose stored values (ids such as "amd", "cdna3") have a name to show instead."""


def display(field_name: str, value: Any) -> Any:
    """``value`` of the field ``field_name`` as the site shows it: display names for coded values
    (one or a tuple of them), other values unchanged."""
    names = DISPLAY_NAMES.get(field_name)
    if names is None:
        return value
    if isinstance(value, tuple):
        return ", ".join(names.get(v, str(v)) for v in value)
    return names.get(value, value) if isinstance(value, str) else value


def num(value: Any, digits: int = 2) -> str:
    """A value as a table cell (the templates' `num` filter): numbers with thousands separators and
    at most ``digits`` decimals, booleans as yes/no, None and NaN as empty text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return f"{int(value):,}"
        return f"{value:,.{digits}f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def spec_rows(model: BaseModel, linker: Linker, prefix: str = "",
              root: BaseModel | None = None) -> Iterable[dict[str, Any]]:
    """Rows of a spec table: label, value, source link and note, for every filled field.
    Numbers without a source of their own are cited as ``inferbook.provenance`` does:
    by ``config_source`` under ``architecture``, else by the entry's primary ``source``."""
    root = root if root is not None else model
    skip = {"id", "title", "aliases", "last_reviewed", "summary", "body", "sources", "field_sources", "notes"}
    for name in type(model).model_fields:
        if not prefix and name in skip:
            continue
        value = getattr(model, name)
        if value is None or value == () or value == "":
            continue
        label = field_label(prefix, name)
        desc = field_help(field_doc(type(model), name) or "")
        if isinstance(value, Quantity):
            cite = value.source or fallback_source(root, prefix + name)
            yield {"label": label, "help": desc, "value": num(value.value), "note": value.note, "links": None,
                   "source": linker.citations([Cite(cite, value.locator)])[0] if cite else None,
                   "alternatives": [{"value": num(a.value), "note": a.note,
                                     "source": linker.citations([Cite(a.source, None)])[0]}
                                    for a in value.alternatives]}
        elif isinstance(value, BaseModel):
            yield from spec_rows(value, linker, prefix + name + ".", root)
        elif isinstance(value, tuple) and value and isinstance(value[0], BaseModel):
            for i, item in enumerate(value):
                yield {"help": desc, "note": None, "source": None, "alternatives": [], "links": None,
                       **item_row(f"{label} {i + 1}", item, linker)}
        else:
            links = None
            if name in _REF_FIELDS:
                ids = value if isinstance(value, tuple) else (value,)
                if all(isinstance(i, str) and i in linker.kb for i in ids):
                    links = [linker.link(i) for i in ids]
            value = display(name, value)
            shown = ", ".join(map(str, value)) if isinstance(value, tuple) else num(value)
            cite = None
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                cite = fallback_source(root, prefix + name)
            yield {"label": label, "help": desc, "value": shown, "links": links, "note": None,
                   "source": linker.citations([Cite(cite, None)])[0] if cite else None, "alternatives": []}


_UNITS = (("_gb_s", " (GB/s)"), ("_gib", " (GiB)"), ("_tflops", " (TFLOPS)"), ("_tops", " (TOPS)"),
          ("_b", " (billions)"), ("_w", " (W)"), ("_bits", " (bits)"))
_WORDS = {"params": "parameters", "hf": "Hugging Face", "tdp": "TDP", "kv": "KV", "fp": "FP", "bf16": "BF16",
          "fp64": "FP64", "fp32": "FP32", "tf32": "TF32", "fp16": "FP16", "fp8": "FP8", "fp6": "FP6", "fp4": "FP4",
          "int8": "INT8", "int4": "INT4", "usd": "USD", "gpu": "GPU", "gpus": "GPUs", "mtp": "MTP", "lora": "LoRA",
          "qk": "QK", "q": "Q", "v": "V", "mlp": "MLP", "ssm": "SSM", "openai": "OpenAI", "api": "API", "url": "URL",
          "dtype": "data type",
          "mla": "MLA", "moe": "MoE", "tp": "TP", "id": "id"}


def field_label(prefix: str, name: str) -> str:
    """A readable row label: words instead of underscores, the unit in brackets."""
    unit = ""
    for suffix, text in _UNITS:
        if name.endswith(suffix):
            name, unit = name[: -len(suffix)], text
            break
    words = [_WORDS.get(w, w) for w in (prefix.replace(".", " ") + name).replace("_", " ").split()]
    text = " ".join(words)
    return (text[:1].upper() + text[1:] + unit) if text else unit


_REF_FIELDS = {"supported_formats", "native_dtype", "quantization_formats", "variant_of", "base_model",
               "config_source", "source", "element_format", "embeddings", "attention", "dense_ffn", "experts"}


def field_help(doc: str) -> str:
    """A field's docstring as a reader's tooltip: its first paragraph on one line, without the
    hints meant for whoever writes the YAML and without reStructuredText code marks."""
    text = " ".join(doc.split("\n\n")[0].split())
    text = re.sub(r"\s*\(quote it in YAML\)", "", text)
    return re.sub(r"``([^`]+)``", lambda m: field_label("", m.group(1)).lower(), text)


def item_row(label: str, item: BaseModel, linker: Linker) -> dict[str, Any]:
    """The label, value, note and source of one item of a list of records on a spec page: a
    framework's flag under the feature it controls, a published checkpoint under its format,
    anything else as its fields in words."""
    fields = item.model_dump(exclude_none=True)
    if {"feature", "flag"} <= fields.keys():
        return {"label": fields["feature"], "value": fields["flag"], "note": fields.get("note")}
    if {"format", "hf_repo"} <= fields.keys():
        fmt = linker.kb.formats.get(fields["format"])
        note = " ".join(filter(None, [f"Published by {fields['publisher']}." if "publisher" in fields else "",
                                      fields.get("notes")]))
        cite = linker.citations([Cite(fields["source"], None)])[0] if fields.get("source") else None
        return {"label": f"Quantized checkpoint ({fmt.title if fmt else fields['format']})", "value": fields["hf_repo"],
                "note": note or None, "source": cite}
    text = "; ".join(f"{field_label('', k)}: {display(k, v) if not isinstance(v, dict) else v}"
                     for k, v in fields.items())
    return {"label": label, "value": text}
