"""Precompile a validated knowledge base into one JSON file, shipped in the wheel
so `inferbook.load()` skips YAML parsing and graph checks."""

from __future__ import annotations

import json
from pathlib import Path

from .api import knowledge_base_from
from .graph import collect_edges
from .loader import load_folders


def bundle_json(kb_dir: Path) -> str:
    """The bundle text for the knowledge base in ``kb_dir``; raises if it is invalid."""
    result = load_folders([kb_dir])
    kb = knowledge_base_from(result)  # raises KnowledgeBaseError on any error
    edges, _ = collect_edges(result.entries)
    entries = [
        {"id": eid, "kind": le.kind, "json": le.entry.model_dump_json(exclude_defaults=True)}
        for eid, le in sorted(result.entries.items())
    ]
    payload = {
        "data_version": kb.data_version,
        "data_date": kb.data_date,
        "entries": entries,
        "edges": [[e.source, e.target, e.type] for e in edges],
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True)


def write_bundle(kb_dir: Path, out: Path) -> Path:
    """Write the bundle for ``kb_dir`` to ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(bundle_json(kb_dir), encoding="utf-8")
    return out
