"""Export each kind's JSON Schema (field docstrings become descriptions) so
editors validate YAML as it is typed, via the `# yaml-language-server` line."""

from __future__ import annotations

import json
from pathlib import Path

from .paths import schema_dir, schema_export_dir
from .schema import KINDS
from .schema.docs import with_field_docs


def schema_text(kind: str) -> str:
    """The JSON Schema of one kind, as the exported file holds it."""
    with_field_docs()
    schema = KINDS[kind].model_json_schema(mode="validation")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "$id": f"https://inferbook.dev/schema/{kind}.schema.json", **schema}
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def export_schemas(out: Path | None = None) -> list[Path]:
    """Write `<kind>.schema.json` for every kind; return the paths. Without ``out``, into the
    checkout's schema/ (an installed package refuses: its files are never rewritten)."""
    folder = out or schema_export_dir()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in KINDS:
        path = folder / f"{kind}.schema.json"
        path.write_text(schema_text(kind), encoding="utf-8")
        written.append(path)
    return written


def stale_schemas(out: Path | None = None) -> list[str]:
    """Names of exported schema files that are missing or differ from the models."""
    folder = out or schema_dir()
    stale = []
    for kind in KINDS:
        path = folder / f"{kind}.schema.json"
        if not path.exists() or path.read_text(encoding="utf-8") != schema_text(kind):
            stale.append(path.name)
    return stale
