"""Ad-hoc models for the calculators: `kv --config` and `fit --config` get an in-memory `LlmModel`
from a config.json, with placeholder provenance, never added to the knowledge base."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..schema import LlmModel
from .convert import import_config
from .entry import derive_id, printable
from .reading import ConfigError
from .result import Report


@dataclass(slots=True)
class AdHocModel:
    """A model described only by a config.json, for `kv --config` and `fit --config`."""

    model: LlmModel
    report: Report
    native_known: bool
    """False when the config does not say the weights' format (the model then claims bf16)."""


def adhoc_model(path: Path, formats: Any = None) -> AdHocModel:
    """An in-memory `LlmModel` for the config at ``path``, with placeholder provenance; it is not
    added to the knowledge base. ``formats`` (id -> entry) drops formats the KB does not have."""
    imported = import_config(path)
    eid = derive_id(imported, path) or "config"
    known = imported.native_dtype is not None and (formats is None or imported.native_dtype in formats)
    groups = {g: f for g, f in imported.native_groups.items() if f is not None}
    if len(groups) < len(imported.native_groups):
        imported.report.checks.append(f"native_groups left out: the tensors stored apart from "
                                      f"{imported.native_dtype} have no known format, so every weight is counted "
                                      f"in {imported.native_dtype}")
        groups = {}
    if formats is not None and any(f not in formats for f in groups.values()):
        groups = {}
    title = printable(imported.short_name or f"{path.name} ({eid})")[:200]
    data = {
        "id": eid, "title": title, "family": "ad hoc", "organization": "unknown", "release_date": "2000",
        "license": "unknown", "variant": "base",
        "hf_repo": imported.hf_repo or "unknown",
        "params_total_b": {"value": max(imported.params / 1e9, 1e-9), "note": "computed from config.json"},
        "architecture": imported.architecture, "native_dtype": imported.native_dtype if known else "bf16",
        "native_groups": groups or None, "config_source": "config-json", "source": "config-json",
        "last_reviewed": dt.date.today(),
    }
    if imported.architecture.moe is not None:
        data["params_active_b"] = {"value": max(imported.params_active / 1e9, 1e-9)}
    try:
        model = LlmModel.model_validate(data)
    except ValidationError as exc:  # pragma: no cover - the architecture was validated already
        raise ConfigError(str(exc)) from None
    return AdHocModel(model, imported.report, known)
