"""Schema and graph checks on small fixture knowledge bases."""

from __future__ import annotations

import zlib

import pytest
from conftest import concept

from inferbook import KnowledgeBaseError, load, validate


def codes(result):
    return [(d.file.rsplit("/", 1)[-1], d.line, d.col, d.code) for d in result.diagnostics]


def test_clean_fixture_loads(make_kb):
    kb_dir = make_kb({"concepts/a.yaml": concept("a", related="[b]"), "concepts/b.yaml": concept("b")})
    result = validate(kb_dir)
    assert result.ok, result.diagnostics
    kb = load(kb_dir)
    assert set(kb.concepts) == {"a", "b"}
    assert kb.get("a").sources[0].source == "src"  # a bare id became a Citation


def test_unknown_field_points_at_key_with_suggestion(make_kb):
    text = concept("a") + "sumary: typo\n"
    result = validate(make_kb({"concepts/a.yaml": text}))
    [diag] = [d for d in result.errors]
    assert diag.code == "IB101" and "unknown field 'sumary'" in diag.message
    assert diag.hint == "did you mean 'summary'?"
    assert diag.line == text.count("\n")  # the last line


def test_missing_and_wrong_type(make_kb):
    text = concept("a").replace("summary: A concept used by the tests.\n", "").replace(
        "chapter: ch1", "chapter: 5")
    result = validate(make_kb({"concepts/a.yaml": text}))
    messages = sorted(d.message for d in result.errors)
    assert any("missing required field 'summary'" in m for m in messages)
    assert any(m.startswith("chapter: Input should be a valid string") for m in messages)
    chapter_diag = next(d for d in result.errors if d.message.startswith("chapter"))
    assert chapter_diag.line == 3 and chapter_diag.col == 10


def test_id_must_match_file_name(make_kb):
    result = validate(make_kb({"concepts/a.yaml": concept("b")}))
    assert [(d.code, d.line) for d in result.errors] == [("IB102", 1)]


def test_bad_file_names_and_stray_items(make_kb):
    kb_dir = make_kb({"concepts/Bad_Name.yaml": concept("a"), "concepts/notes.txt": "x",
                      "widgets/a.yaml": "id: a\n"})
    found = {d.code for d in validate(kb_dir).errors}
    assert {"IB003", "IB005", "IB006"} <= found


def test_dangling_wrong_kind_and_self_references(make_kb):
    kb_dir = make_kb({
        "concepts/a.yaml": concept("a", related="[a, nope, ch2]", prerequisites="[src]"),
    })
    result = validate(kb_dir)
    got = {(d.code, d.line, d.col) for d in result.errors}
    # related: [a, nope, ch2] is line 7; prerequisites: [src] is line 6
    assert ("IB203", 7, 11) in got
    assert ("IB201", 7, 14) in got
    assert ("IB202", 6, 17) in got
    assert len(result.errors) == 3  # chapters are valid `related` targets


def test_typo_in_reference_gets_suggestion(make_kb):
    kb_dir = make_kb({"concepts/kv-cache.yaml": concept("kv-cache"),
                      "concepts/b.yaml": concept("b", related="[kv-cahce]")})
    [diag] = validate(kb_dir).errors
    assert diag.hint == "did you mean 'kv-cache'?"


def test_prerequisite_cycle_is_one_error(make_kb):
    kb_dir = make_kb({
        "concepts/a.yaml": concept("a", prerequisites="[b]"),
        "concepts/b.yaml": concept("b", prerequisites="[c]"),
        "concepts/c.yaml": concept("c", prerequisites="[a]"),
    })
    errors = validate(kb_dir).errors
    assert [d.code for d in errors] == ["IB204"]
    assert errors[0].message == "prerequisite cycle: a requires b requires c requires a"
    with pytest.raises(KnowledgeBaseError, match="prerequisite cycle"):
        load(kb_dir)


def test_alias_collisions(make_kb):
    kb_dir = make_kb({
        "concepts/a.yaml": concept("a", aliases="[TTFT]"),
        "concepts/b.yaml": concept("b", aliases="[ttft]", related="[a]"),
    })
    [diag] = validate(kb_dir).errors
    assert diag.code == "IB205" and "'a'" in diag.message


def test_orphans_are_warnings_only(make_kb):
    kb_dir = make_kb({"concepts/a.yaml": concept("a"), "sources/unused.yaml":
                      "id: unused\ntitle: T\nkind: docs\nurl: https://e.org\naccessed: 2026-01-01\n"
                      "last_reviewed: 2026-01-01\n"})
    result = validate(kb_dir)
    assert result.ok
    assert {d.file.rsplit("/", 1)[-1] for d in result.warnings} == {"a.yaml", "unused.yaml"}
    assert {d.code for d in result.warnings} == {"IB206"}


def test_all_errors_reported_in_one_run(make_kb):
    kb_dir = make_kb({
        "concepts/a.yaml": "id: a\ntitle: [broken\n",
        "concepts/b.yaml": concept("b", related="[zzz]"),
        "concepts/c.yaml": concept("c") + "extra: 1\n",
    })
    assert sorted(d.code for d in validate(kb_dir).errors) == ["IB001", "IB101", "IB201"]


def test_layering_rules(make_kb):
    public = make_kb({"concepts/a.yaml": concept("a", title="Public A", related="[ch1]")})
    private = make_kb({"concepts/a.yaml": concept("a", title="Private A", related="[ch1]"),
                       "concepts/mine.yaml": concept("mine", related="[a]")}, base=False)
    collision = validate([public, private])
    assert [d.code for d in collision.errors] == ["IB103"]
    assert "replaces" in collision.errors[0].hint

    (private / "_layer.yaml").write_text("name: acme\nreplaces: [a]\n")
    kb = load([public, private])
    assert kb.get("a").title == "Private A"
    assert "mine" in kb.concepts
    assert kb.data_version.endswith("+acme")


def test_layer_file_is_checked(make_kb):
    public = make_kb({"concepts/a.yaml": concept("a")})
    private = make_kb({}, base=False)
    (private / "_layer.yaml").write_text("name: acme\noverrides: [a]\n")
    [diag] = validate([public, private]).errors
    assert diag.code == "IB101" and "overrides" in diag.message


# the plain-Python graph algorithms, checked against networkx (the `graph` extra) ---------------
def _random_graph(seed: int, nodes: int, edges: int) -> dict[str, list[str]]:
    import random

    rng = random.Random(seed)
    names = [f"n{i:02d}" for i in range(nodes)]
    successors: dict[str, list[str]] = {n: [] for n in names}
    for _ in range(edges):
        a, b = rng.sample(names, 2)
        if b not in successors[a]:
            successors[a].append(b)
    return successors


@pytest.mark.parametrize("seed", range(40))
def test_cyclic_groups_and_cycles_match_networkx(seed):
    import networkx as nx  # the graph extra, part of [dev]

    from inferbook.graph import cycle_in, cyclic_groups

    successors = _random_graph(seed, nodes=12 + seed % 7, edges=6 + seed)
    digraph = nx.DiGraph([(a, b) for a, nexts in successors.items() for b in nexts])
    digraph.add_nodes_from(successors)
    expected = sorted(sorted(c) for c in nx.strongly_connected_components(digraph) if len(c) > 1)
    groups = cyclic_groups(successors)
    assert sorted(groups) == expected
    for group in groups:
        cycle = cycle_in(group, successors)
        assert cycle[0] == group[0] and len(set(cycle)) == len(cycle) and set(cycle) <= set(group)
        assert all(b in successors[a] for a, b in zip(cycle, [*cycle[1:], cycle[0]], strict=True))


@pytest.mark.parametrize("seed", range(40))
def test_reading_order_matches_networkx_lexicographic_sort(seed):
    import networkx as nx  # the graph extra, part of [dev]

    from inferbook.graph import reading_order

    successors = _random_graph(seed, nodes=15, edges=25)
    acyclic = {a: [b for b in nexts if a < b] for a, nexts in successors.items()}  # only forward edges
    weight = {n: (zlib.crc32(f"{seed}{n}".encode()) % 5, n[::-1]) for n in acyclic}
    digraph = nx.DiGraph([(a, b) for a, nexts in acyclic.items() for b in nexts])
    digraph.add_nodes_from(acyclic)
    expected = list(nx.lexicographical_topological_sort(digraph, key=weight.__getitem__))
    assert reading_order(acyclic, weight.__getitem__) == expected


def test_a_long_prerequisite_chain_does_not_exhaust_the_stack():
    from inferbook.graph import cyclic_groups, reading_order

    chain = {f"n{i}": [f"n{i + 1}"] for i in range(50_000)} | {"n50000": ["n0"]}
    [group] = cyclic_groups(chain)
    assert len(group) == 50_001
    line = {f"n{i}": [f"n{i + 1}"] for i in range(50_000)} | {"n50000": []}
    assert reading_order(line, lambda n: 0)[-1] == "n50000"
