"""The Python API reference: read from the code, complete, and published with the site."""

from __future__ import annotations

import re
from pathlib import Path

from inferbook import api_reference
from inferbook.schema import KINDS


def test_every_public_object_and_member_has_a_docstring():
    assert api_reference.undocumented() == []


def test_signatures_are_read_from_the_code():
    from inferbook.calc.predict import predict

    text = api_reference.signature(predict)
    assert text.startswith("(kb: KnowledgeBase, model_id: str | LlmModel, gpu_id: str, load: Load, *, gpus: int = 1")
    assert "-> Prediction" in text
    documented = {d.name: d for s in api_reference.sections() for d in s.items}
    kb_members = {m.name for m in documented["KnowledgeBase"].members}
    assert {"get", "where", "search", "table", "learning_order", "prerequisites", "graph", "gpus"} <= kb_members
    assert documented["load"].doc.startswith(inferbook_load_doc_first_line())


def inferbook_load_doc_first_line() -> str:
    import inferbook

    return (inferbook.load.__doc__ or "").strip().splitlines()[0]


def test_every_kind_and_field_is_listed():
    kinds = {k.kind: k for k in api_reference.kind_fields()}
    assert list(kinds) == list(KINDS)
    gpu_fields = {name: doc for name, _, doc in kinds["gpus"].fields}
    assert set(gpu_fields) == set(KINDS["gpus"].model_fields)
    assert "GiB" in gpu_fields["memory_gib"]


def test_the_reference_page_is_published(built_site: Path):
    page = (built_site / "api" / "python.html").read_text(encoding="utf-8")
    assert '<h1>Python API reference</h1>' in page
    for anchor in ("load", "KnowledgeBase-where", "predict", "plan", "check_setup", "kv_bytes"):
        assert f'id="{anchor}"' in page, anchor
    assert re.search(r'<code>kv_bytes\(arch: ModelArchitecture, tokens: int', page)
    assert 'href="../api/python.html"' in (built_site / "catalog" / "gpus.html").read_text(encoding="utf-8")
