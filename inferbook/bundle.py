"""Precompile a validated knowledge base into one JSON file, shipped in the wheel
so `inferbook.load()` skips YAML parsing and graph checks."""

from __future__ import annotations

import json
from pathlib import Path

from .api import validate
from .diagnostics import KnowledgeBaseError


def bundle_json(kb_dir: Path) -> str:
    """The bundle text for the knowledge base in ``kb_dir``; raises KnowledgeBaseError when
    the full validation (schema, graph, expressions and links) finds an error."""
    checked = validate(kb_dir)
    if not checked.ok or checked.kb is None:
        raise KnowledgeBaseError(checked.errors)
    kb = checked.kb
    entries = [
        {"id": eid, "kind": le.kind, "json": le.entry.model_dump_json(exclude_defaults=True)}
        for eid, le in sorted(checked.result.entries.items())
    ]
    payload = {
        "data_version": kb.data_version,
        "data_date": kb.data_date,
        "entries": entries,
        "edges": [list(edge) for edge in kb.links()],  # resolved once, by the validation
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True)


def write_bundle(kb_dir: Path, out: Path) -> Path:
    """Write the bundle for ``kb_dir`` to ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(bundle_json(kb_dir), encoding="utf-8")
    return out
