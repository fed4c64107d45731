"""Which source vouches for each number: the citation rules, the secondary-source flag,
the command, and where the site and tables show it."""

from __future__ import annotations

import json

import pytest

import inferbook
from inferbook.cli import main
from inferbook.generators.tables import provenance_table
from inferbook.provenance import all_number_sources, number_sources, provenance_report


@pytest.fixture(scope="module")
def kb():
    return inferbook.load()


def by_field(kb, entry_id):
    return {r.field: r for r in number_sources(kb, entry_id)}


def test_every_reference_number_has_a_source(kb):
    rows = all_number_sources(kb)
    assert len(rows) > 1000
    assert not [r for r in rows if r.source_id is None]
    assert all(r.source_id in kb.sources for r in rows)


def test_citation_rules(kb):
    h100 = kb.gpus["h100-sxm"]
    rows = by_field(kb, "h100-sxm")
    # a bare number falls back to the entry's primary source
    assert not isinstance(h100.memory_gib.source, str)
    assert rows["memory_gib"].source_id == h100.source
    # a mapping with its own source keeps it
    own = [(path, q) for path, q in (("dense." + f, getattr(h100.dense, f)) for f in type(h100.dense).model_fields)
           if q is not None and q.source]
    for path, q in own:
        assert rows[path].source_id == q.source
    # architecture integers of a model are cited by its config.json, other numbers by the card
    model = kb.models["llama-3.1-8b-instruct"]
    rows = by_field(kb, "llama-3.1-8b-instruct")
    assert rows["architecture.kv_heads"].source_id == model.config_source
    assert rows["architecture.kv_heads"].value == model.architecture.kv_heads
    assert rows["params_total_b"].source_id == (model.params_total_b.source or model.source)


def test_secondary_flag_follows_the_source(kb):
    secondary_sources = {sid for sid, s in kb.sources.items() if s.secondary}
    assert secondary_sources, "the knowledge base marks its press and catalogue sources"
    for r in all_number_sources(kb):
        assert r.secondary == (r.source_id in secondary_sources)
    flagged = {r.entry_id for r in all_number_sources(kb) if r.secondary}
    # every entry that leans on a secondary source says so in its notes
    words = ("coverage", "third-party", "secondary", "quot", "press", "catalogue", "report")
    for eid in flagged:
        notes = (kb.get(eid).notes or "").lower()
        assert any(w in notes for w in words), f"{eid} cites a secondary source without saying so in notes"


def test_report_and_command(kb, capsys):
    report = provenance_report(kb)
    for kind in ("gpus", "models", "formats", "frameworks"):
        assert f"{kind}: " in report
    flagged = sorted({r.entry_id for r in all_number_sources(kb) if r.secondary})
    for eid in flagged:
        assert f"  {eid}: " in report

    assert main(["provenance", "--secondary", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(r["secondary"] for r in rows)
    assert sorted({r["entry_id"] for r in rows}) == flagged

    assert main(["provenance", "h100-sxm"]) == 0
    out = capsys.readouterr().out
    assert "memory_bandwidth_gb_s" in out and "(secondary)" not in out


def test_provenance_table_matches(kb):
    rows = provenance_table(kb)
    assert len(rows) == len(all_number_sources(kb))
    assert {"entry", "field", "value", "source", "secondary", "alternatives"} == set(rows[0])


def test_field_sources_cite_single_plain_numbers(kb):
    rows = by_field(kb, "deepseek-r1")
    model = kb.models["deepseek-r1"]
    assert rows["architecture.mla.v_head_dim"].source_id == "hf-config-deepseek-v3"
    assert rows["architecture.layers"].source_id == model.config_source  # the rest stays with the config
    assert by_field(kb, "gemma-3-4b-it")["architecture.kv_heads"].source_id == "transformers-gemma3-code"


@pytest.mark.parametrize(("field", "message"), [
    ("architecture.nonsense", "is not a field"),
    ("params_total_b", "is a sourced number"),
    ("architecture.moe", "is not a number"),
])
def test_field_sources_must_name_plain_numbers(kb, field, message):
    from pydantic import ValidationError

    from inferbook.schema import LlmModel

    data = kb.models["llama-3.1-8b-instruct"].model_dump()
    data["field_sources"] = [{"field": field, "source": "hf-card-llama-3.1-8b-instruct"}]
    with pytest.raises(ValidationError, match=message):
        LlmModel.model_validate(data)
    data["field_sources"] = [{"field": "architecture.layers", "source": "x"}] * 2
    with pytest.raises(ValidationError, match="twice"):
        LlmModel.model_validate(data)
