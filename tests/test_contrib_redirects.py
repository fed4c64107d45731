"""Redirects: retired ids stay resolvable. The schema and graph check them, the API
follows a moved id with a DeprecationWarning and names the parts of a split one,
and `inferbook rename` moves an entry, updates its references and leaves a redirect."""

from __future__ import annotations

import warnings

import pytest
from conftest import concept

from inferbook import load
from inferbook.api import validate
from inferbook.cli import main

MOVED = """\
id: old-a
title: Old A
kind: moved
targets: [a]
date: 2026-11-01
reason: renamed
last_reviewed: 2026-11-01
"""

SPLIT = """\
id: old-ab
title: Old AB
kind: split
targets: [a, b]
date: 2026-11-01
reason: divided into two articles
last_reviewed: 2026-11-01
"""


@pytest.fixture
def kb_dir(make_kb):
    return make_kb({
        "concepts/a.yaml": concept("a", title="Alpha", aliases="[AL]"),
        "concepts/b.yaml": concept("b", related="[a]"),
        "redirects/old-a.yaml": MOVED,
        "redirects/old-ab.yaml": SPLIT,
    })


def codes(folder):
    return [(d.code, d.message) for d in validate(folder).diagnostics if d.severity == "error"]


def test_api_resolves_moved_and_explains_split(kb_dir):
    assert codes(kb_dir) == []
    kb = load(kb_dir)
    with pytest.warns(DeprecationWarning, match="'old-a' was renamed to 'a'"):
        assert kb.get("old-a").id == "a"
    with pytest.raises(KeyError, match="split into a, b"):
        kb.get("old-ab")
    assert sorted(kb.redirects) == ["old-a", "old-ab"]
    assert kb.redirects["old-ab"].targets == ("a", "b")
    # redirects are not entries: not listed, searched, counted or linked
    assert len(kb) == 5 and "old-a" not in kb and "old-a" not in {e.id for e in kb}
    assert not kb.search("Old AB") or all(h.id != "old-ab" for h in kb.search("Old AB"))
    assert [e.id for e in kb.backlinks("a")] == ["b"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert kb.get("AL").id == "a"  # live names do not warn


def test_schema_and_graph_checks(make_kb):
    bad_moved = MOVED.replace("targets: [a]", "targets: [a, b]")
    assert any("exactly one target" in m for _, m in codes(make_kb({
        "concepts/a.yaml": concept("a"), "concepts/b.yaml": concept("b", related="[a]"),
        "redirects/old-a.yaml": bad_moved})))
    assert any(c == "IB201" for c, _ in codes(make_kb({"redirects/old-a.yaml": MOVED})))
    # an article may not link to a retired id; the hint names the new one
    found = validate(make_kb({"concepts/a.yaml": concept("a"), "concepts/b.yaml": concept("b", related="[old-a]"),
                              "redirects/old-a.yaml": MOVED})).errors
    assert [(d.code, d.hint) for d in found] == [("IB202", "link to 'a' instead")]
    # a redirect may not point at another redirect
    chained = SPLIT.replace("targets: [a, b]", "targets: [old-a, b]")
    assert "IB202" in [c for c, _ in codes(make_kb({"concepts/a.yaml": concept("a"),
                                                    "concepts/b.yaml": concept("b", related="[a]"),
                                                    "redirects/old-a.yaml": MOVED,
                                                    "redirects/old-ab.yaml": chained}))]
    # a redirect id may not be a live entry's id (IB103) or alias (IB210)
    assert "IB103" in [c for c, _ in codes(make_kb({"concepts/a.yaml": concept("a"),
                                                    "redirects/a.yaml": MOVED.replace("id: old-a", "id: a")}))]
    assert [c for c, _ in codes(make_kb({"concepts/a.yaml": concept("a"),
                                         "concepts/b.yaml": concept("b", related="[a]", aliases="[old-a]"),
                                         "redirects/old-a.yaml": MOVED}))] == ["IB210"]
    # the old title may equal the new one, and the target may keep the old id as an alias
    assert codes(make_kb({"concepts/a.yaml": concept("a", aliases="[old-a]"),
                          "concepts/b.yaml": concept("b", related="[a]"), "redirects/old-a.yaml": MOVED})) == []
    assert codes(make_kb({"concepts/a.yaml": concept("a", title="Old A"),
                          "concepts/b.yaml": concept("b", related="[a]"), "redirects/old-a.yaml": MOVED})) == []


def test_rename_command(make_kb, capsys):
    kb_dir = make_kb({
        "concepts/alpha.yaml": concept("alpha", title="Alpha"),
        "concepts/b.yaml": concept("b", related="[alpha, ch2]", prerequisites='["alpha"]').replace(
            "body: Text.", "body: 'See [Alpha](alpha) and {{ value(\"concepts/alpha\", \"order\") }}; alpha is old.'"),
    })
    code = main(["rename", "alpha", "alpha-2", "--kb", str(kb_dir), "--reason", "clearer id", "--today", "2026-11-27"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert not (kb_dir / "concepts" / "alpha.yaml").exists()
    assert "id: alpha-2" in (kb_dir / "concepts" / "alpha-2.yaml").read_text()
    b = (kb_dir / "concepts" / "b.yaml").read_text()
    assert "related: [alpha-2, ch2]" in b and 'prerequisites: ["alpha-2"]' in b
    assert "[Alpha](alpha-2)" in b and 'value("concepts/alpha-2"' in b
    assert "b.yaml" in out and "still mentions 'alpha'" in out
    redirect = (kb_dir / "redirects" / "alpha.yaml").read_text()
    assert redirect.startswith("# yaml-language-server: $schema=../../schema/redirects.schema.json")
    assert "kind: moved\ntargets: [alpha-2]\ndate: 2026-11-27\nreason: \"clearer id\"" in redirect
    assert validate(kb_dir).errors == []
    with pytest.warns(DeprecationWarning):
        assert load(kb_dir).get("alpha").id == "alpha-2"
    assert main(["rename", "alpha", "x", "--kb", str(kb_dir)]) == 1  # now a redirect
    assert main(["rename", "b", "alpha-2", "--kb", str(kb_dir)]) == 1  # taken
    assert main(["rename", "b", "Bad Id", "--kb", str(kb_dir)]) == 1
