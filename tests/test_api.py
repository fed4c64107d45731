"""The query API on fixture data: lookup, filters, search, graph, immutability."""

from __future__ import annotations

import dataclasses

import pydantic
import pytest
from conftest import concept

from inferbook import load


@pytest.fixture
def kb(make_kb):
    files = {
        "concepts/prefill.yaml": concept("prefill", title="Prefill", aliases="[prompt processing]"),
        "concepts/decode.yaml": concept("decode", title="Decode", prerequisites="[prefill]"),
        "concepts/kv-cache.yaml": concept("kv-cache", title="KV cache", prerequisites="[decode, prefill]",
                                          aliases="[KV]"),
        "concepts/intro.yaml": concept("intro", title="Intro", chapter="ch2", related="[kv-cache]"),
    }
    return load(make_kb(files))


def test_lookup_by_id_alias_and_title(kb):
    assert kb.get("kv-cache").title == "KV cache"
    assert kb.get("kv").id == "kv-cache"            # alias, any case
    assert kb.get("Prompt Processing").id == "prefill"
    assert kb.get("kv cache").id == "kv-cache"      # title
    assert "KV" in kb and "nothing" not in kb
    with pytest.raises(KeyError, match="did you mean"):
        kb.get("kv-cach")
    with pytest.raises(KeyError, match="did you mean"):
        kb.concepts["decod"]


def test_kind_views_and_filters(kb):
    assert len(kb.concepts) == 4 and len(kb.gpus) == 0
    assert kb.kind_of("decode") == "concepts"
    assert [e.id for e in kb.where("concepts", "chapter=ch2")] == ["intro"]
    assert {e.id for e in kb.where("concepts", "title~k")} == {"kv-cache"}
    assert {e.id for e in kb.concepts.filter(chapter="ch1")} == {"prefill", "decode", "kv-cache"}
    assert {e.id for e in kb.where("concepts", "prerequisites=prefill")} == {"decode", "kv-cache"}
    with pytest.raises(ValueError, match="FIELD OP VALUE"):
        kb.where("concepts", "no operator")
    with pytest.raises(KeyError, match="no field"):
        kb.where("concepts", "nonsense=1")


def test_graph_queries(kb):
    assert [e.id for e in kb.prerequisites("kv-cache")] == ["decode", "prefill"]
    assert [e.id for e in kb.prerequisites("kv-cache", recursive=True)] == ["prefill", "decode"]
    assert {e.id for e in kb.backlinks("prefill")} == {"decode", "kv-cache"}
    assert {e.id for e in kb.related("kv-cache")} == {"decode", "prefill", "intro"}
    order = [e.id for e in kb.learning_order()]
    assert order == ["prefill", "decode", "kv-cache", "intro"]
    assert kb.graph.number_of_nodes() == len(kb)
    assert {d["type"] for _, _, d in kb.graph.edges(data=True)} >= {"requires", "related", "cites", "in_chapter"}
    assert "kv-cache" in {e.id for e in kb.neighbourhood("intro")}


def test_search_titles_aliases_and_prefixes(kb):
    assert kb.search("kv cache")[0].id == "kv-cache"
    assert kb.search("prompt processing")[0].id == "prefill"
    assert kb.search("deco")[0].id == "decode"      # prefix of the last word
    assert kb.search("zzzz") == []
    assert all(h.kind == "chapters" for h in kb.search("chapter", kind="chapters"))


def test_knowledge_base_is_immutable(kb):
    entry = kb.get("decode")
    with pytest.raises(pydantic.ValidationError):
        entry.title = "changed"
    with pytest.raises(AttributeError):
        entry.prerequisites.append("x")  # tuples, not lists
    with pytest.raises(TypeError):
        kb.concepts._items["new"] = entry
    import networkx as nx
    with pytest.raises(nx.NetworkXError):
        kb.graph.add_node("x")
    assert kb.get("decode").title == "Decode"
    assert not dataclasses.is_dataclass(entry)
