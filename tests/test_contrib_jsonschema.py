"""The exported JSON Schemas (schema/*.schema.json), checked by an independent validator
(`jsonschema`, which check-jsonschema uses) against every entry of the knowledge base, so
editors that validate with the schema see the same rules as inferbook; and a set of
broken entries that both must reject."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from pydantic import ValidationError

from inferbook.paths import default_kb_dir, schema_dir
from inferbook.schema import KINDS
from inferbook.yamlio import read_file

KB = default_kb_dir()


@cache
def validator(kind: str) -> Draft202012Validator:
    schema = json.loads((schema_dir() / f"{kind}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def as_json(value: Any) -> Any:
    """YAML data as an editor's language server sees it: dates as text, lists as arrays."""
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_json(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def test_every_kind_has_a_schema_and_the_pragma_points_at_it():
    for kind in KINDS:
        assert (schema_dir() / f"{kind}.schema.json").is_file(), kind
    for path in sorted(KB.glob("*/*.yaml")):
        first = path.read_text(encoding="utf-8").split("\n", 1)[0]
        assert first == f"# yaml-language-server: $schema=../../schema/{path.parent.name}.schema.json", path


@pytest.mark.parametrize("kind", [k for k in KINDS if (KB / k).is_dir()])
def test_every_entry_matches_its_exported_schema(kind):
    check = validator(kind)
    failures = []
    for path in sorted((KB / kind).glob("*.yaml")):
        errors = list(check.iter_errors(as_json(read_file(path).data)))
        failures += [f"{path.name}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:3]]
    assert not failures, "\n".join(failures[:20])


BROKEN: list[Any] = [
    ("unknown field", {"bogus": 1}),
    ("missing field", {"memory_gib": None}),
    ("wrong type", {"memory_bus_bits": "5120"}),
    ("out of range", {"memory_bus_bits": 8}),
    ("negative number", {"memory_gib": -1}),
    ("bad id", {"id": "H100_SXM"}),
    ("bad choice", {"vendor": "nvidai"}),
    ("bad partial date", {"release_date": "2022-13"}),
    ("bad reference id", {"supported_formats": ["FP8"]}),
    ("unknown nested field", {"dense": {"fp8_tflops": 1, "fp9_tflops": 2}}),
    ("quantity without value", {"tdp_w": {"note": "no value"}}),
]


@pytest.mark.parametrize("what, change", [c if type(c) is not tuple else pytest.param(*c, id=c[0])
                                          for c in BROKEN])
def test_schema_and_models_reject_the_same_broken_entries(what, change):
    data = as_json(read_file(KB / "gpus" / "h100-sxm.yaml").data)
    for key, value in change.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    assert list(validator("gpus").iter_errors(data)), f"the JSON Schema accepts an entry with a {what}"
    with pytest.raises(ValidationError):
        KINDS["gpus"].model_validate(read_back(data))


def read_back(data: dict[str, Any]) -> dict[str, Any]:
    """JSON data as the YAML reader would give it (dates as dates)."""
    out = dict(data)
    out["last_reviewed"] = dt.date.fromisoformat(out["last_reviewed"])
    return out


def test_field_docstrings_reach_the_schemas_whatever_was_built_first():
    """Field docstrings are read on demand (schema/docs.py); models built before that, outer
    ones first, must still export descriptions identical to the committed schemas."""
    import subprocess
    import sys

    code = ("from inferbook.schema.base import Strict\n"
            "from inferbook.schema.docs import _models\n"
            "for model in _models(Strict):\n"
            "    model.model_rebuild(force=True)\n"
            "from inferbook.jsonschema import stale_schemas\n"
            "from inferbook.schema import Gpu\n"
            "assert Gpu.model_fields['memory_gib'].description is None\n"
            "print(stale_schemas())\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"


def test_field_doc_reads_the_docstring_under_a_field():
    from inferbook.schema import Gpu
    from inferbook.schema.docs import field_doc

    assert "GiB" in (field_doc(Gpu, "memory_gib") or "")
    assert field_doc(Gpu, "title")  # declared on the base class
    assert field_doc(Gpu, "no_such_field") is None
