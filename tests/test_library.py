"""The library as a data source and the commands built on it: sourced numbers that behave
as numbers, `kb.table` and `list --format/--sort`, aliases everywhere, one suggestion per
id, search ranking, `compare`, `prerequisites`, `show` in full and shell completion."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import inferbook
from inferbook.cli import build_parser, main
from inferbook.completion import completion_script
from inferbook.kb import Table, field_value
from inferbook.schema.base import Quantity
from inferbook.search import Document, SearchIndex


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every load in this module caches into a folder of its own, never the user's."""
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INFERBOOK_CACHE_DIR", str(folder))
        mp.delenv("INFERBOOK_NO_CACHE", raising=False)
        mp.delenv("INFERBOOK_KB", raising=False)
        yield folder


@pytest.fixture(scope="module")
def kb(private_cache: Path) -> inferbook.KnowledgeBase:
    return inferbook.load()


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# Quantity -----------------------------------------------------------------------------
def test_quantity_behaves_as_a_number():
    q = Quantity(value=80.0, source="datasheet", note="binary GB")
    r = Quantity(value=3.0)
    assert q > 79 and q >= 80 and q < 81 and q <= 80 and r < q and q > r and not q < r
    assert 79 < q and 100 > q  # reflected comparisons
    assert float(q) == 80.0 and int(q) == 80 and round(q) == 80 and round(Quantity(value=2.345), 2) == 2.35
    assert math.isclose(q, 80) and math.floor(Quantity(value=2.5)) == 2 and math.trunc(Quantity(value=2.5)) == 2
    assert f"{q:.1f}" == "80.0" and f"{q:,.0f}" == "80" and format(q, "g") == "80"
    results = [q + 1, 1 + q, q - r, 100 - q, q * 2, 2 * q, q / 2, 160 / q, q // 3, q % 7, q ** 2, 2 ** r, -q, +q,
               abs(q), sum([q, r]), q + r]
    assert all(type(x) is float for x in results)
    assert results[:7] == [81.0, 81.0, 77.0, 20.0, 160.0, 160.0, 40.0] and sum([q, r]) == 83.0
    assert max(q, r) is q and sorted([q, r]) == [r, q]
    assert q.value == 80.0 and q.source == "datasheet"  # still the sourced model


def test_quantity_equality_and_hash_stay_sane():
    q = Quantity(value=80.0, source="datasheet")
    assert q == 80 and q == 80.0 and q != 81 and 80 == q
    assert q == Quantity(value=80.0, source="datasheet")
    assert q != Quantity(value=80.0, source="other")  # provenance is part of a quantity's identity
    assert q != "80" and q != True  # noqa: E712 - text and booleans are not numbers
    assert hash(q) == hash(80.0) == hash(Quantity(value=80.0, source="datasheet"))
    assert len({q, Quantity(value=80.0, source="datasheet")}) == 1
    assert bool(Quantity(value=0.0))  # a present field stays truthy
    with pytest.raises(TypeError):
        q + "1"
    with pytest.raises(TypeError):
        assert q < "1"
    with pytest.raises(pydantic_error()):
        q.value = 1.0  # still frozen


def pydantic_error() -> type[Exception]:
    import pydantic

    return pydantic.ValidationError


def test_quantity_in_real_entries_and_schema_unchanged(kb):
    from inferbook.jsonschema import stale_schemas

    gpu = kb.gpus["h100-sxm"]
    assert gpu.memory_gib > 79 and gpu.memory_bandwidth_gb_s / gpu.memory_gib > 1
    assert isinstance(field_value(gpu, "memory_gib"), float)
    assert field_value(gpu, "interconnect.domain_gpus") == 8
    assert stale_schemas() == []


# kb.table -----------------------------------------------------------------------------
def test_table_gives_plain_sorted_records(kb):
    table = kb.table("gpus", ["vendor", "memory_gib", "dense.fp8_tflops", "supported_formats", "interconnect"],
                     where=["memory_gib>=80", "vendor=nvidia"], sort=["-memory_gib", "id"])
    assert isinstance(table, Table) and isinstance(table, list) and table
    assert table.columns == ["id", "vendor", "memory_gib", "dense.fp8_tflops", "supported_formats", "interconnect"]
    for row in table:
        assert list(row) == table.columns and row["vendor"] == "nvidia" and row["memory_gib"] >= 80
        assert type(row["memory_gib"]) is float
        assert row["dense.fp8_tflops"] is None or type(row["dense.fp8_tflops"]) is float
        assert isinstance(row["supported_formats"], list) and isinstance(row["interconnect"], dict)
        assert not any(isinstance(v, Quantity) for v in row["interconnect"].values())
    keys = [(-r["memory_gib"], r["id"]) for r in table]
    assert keys == sorted(keys)
    json.dumps(list(table))  # plain data all the way down


def test_table_defaults_missing_values_and_errors(kb):
    assert kb.table("formats")[0].keys() == {"id", "title"}
    assert kb.table("gpus", "memory_gib,vendor", where="memory_gib>=80").columns == ["id", "memory_gib", "vendor"]
    rows = kb.table("gpus", ["dense.fp8_tflops"], sort="dense.fp8_tflops")
    values = [r["dense.fp8_tflops"] for r in rows]
    present = [v for v in values if v is not None]
    assert present == sorted(present) and values == present + [None] * (len(values) - len(present))
    descending = [r["dense.fp8_tflops"] for r in kb.table("gpus", ["dense.fp8_tflops"], sort="-dense.fp8_tflops")]
    assert descending[: len(present)] == sorted(present, reverse=True) and descending[-1] is None
    with pytest.raises(KeyError, match=r"dense\.fp9"):
        kb.table("gpus", ["dense.fp9"])
    with pytest.raises(KeyError, match="nope"):
        kb.table("gpus", sort="-nope")
    with pytest.raises(ValueError, match="FIELD OP VALUE"):
        kb.table("gpus", where="memory_gib")
    with pytest.raises(KeyError, match="unknown kind"):
        kb.table("spaceships")


def test_table_dataframes(kb, monkeypatch):
    table = kb.table("gpus", ["memory_gib"], where="memory_gib>=141")
    for method, package in (("to_pandas", "pandas"), ("to_polars", "polars")):
        monkeypatch.setitem(sys.modules, package, None)  # as if not installed
        with pytest.raises(ImportError, match=f"pip install {package}"):
            getattr(table, method)()
        monkeypatch.delitem(sys.modules, package)
    try:
        import pandas  # noqa: F401
    except ImportError:
        return
    frame = table.to_pandas()
    assert list(frame.columns) == ["id", "memory_gib"] and len(frame) == len(table)


# list --format / --sort ------------------------------------------------------------------
def test_list_formats_and_sort(capsys, kb):
    base = ["list", "gpus", "--where", "memory_gib>=141", "--fields", "memory_gib,vendor,supported_formats"]
    code, out, _ = run(capsys, *base, "--format", "csv", "--sort", "-memory_gib")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and list(rows[0]) == ["id", "title", "memory_gib", "vendor", "supported_formats"]
    sizes = [float(r["memory_gib"]) for r in rows]
    assert sizes == sorted(sizes, reverse=True) and all(s >= 141 for s in sizes)
    assert any("; " in r["supported_formats"] for r in rows)  # lists joined in one cell
    code, out, _ = run(capsys, *base, "--format", "json", "--sort=-memory_gib,id")
    data = json.loads(out)
    assert code == 0 and [r["id"] for r in data] == [r["id"] for r in rows]
    assert all(type(r["memory_gib"]) is float and isinstance(r["supported_formats"], list) for r in data)
    code, out, _ = run(capsys, *base, "--format", "jsonl", "--sort", "memory_gib")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["memory_gib"] for r in lines] == sorted(sizes)
    code, out, err = run(capsys, *base, "--sort", "-memory_gib")  # table, the default
    assert code == 0 and out.splitlines()[0].split() == ["id", "title", "memory_gib", "vendor", "supported_formats"]
    assert f"{len(rows)} gpus" in err
    code, out, _ = run(capsys, *base, "--json")
    assert code == 0 and sorted(r["id"] for r in json.loads(out)) == sorted(r["id"] for r in rows)
    code, _, err = run(capsys, "list", "gpus", "--sort", "nope")
    assert code == 2 and "no field 'nope'" in err
    code, _, err = run(capsys, "list", "gpus", "--where", "memory_gib>=100000")
    assert code == 1  # nothing found


# aliases and suggestions ----------------------------------------------------------------
def test_mappings_accept_aliases(kb):
    assert kb.gpus["H100"].id == "h100-sxm" == kb.get("H100").id
    assert "H100" in kb.gpus and "h100" in kb.gpus and "H100" not in kb.models
    assert kb.gpus.get("nvidia h100 80gb hbm3").id == "h100-sxm" and kb.gpus.get("nothing") is None
    assert "H100" not in list(kb.gpus)  # iteration gives ids only
    assert kb.formats["fp8"].id == "fp8-e4m3" and kb.formats["FP4"].id == "fp4-e2m1"  # alias, then family
    assert kb.resolve("fp4") == "fp4-e2m1" and "fp4" in kb
    assert set(kb.family("fp6")) == {"fp6-e2m3", "fp6-e3m2"}
    with pytest.raises(KeyError, match="several formats: fp6-e2m3, fp6-e3m2"):
        kb.get("fp6")
    with pytest.raises(KeyError):
        kb.models["H100"]  # an alias of another kind


def test_one_suggestion_per_id(kb):
    for lookup in (kb.get, kb.gpus.__getitem__):
        with pytest.raises(KeyError) as info:
            lookup("mi30x")
        suggested = str(info.value).split("did you mean ")[1].rstrip("?'\"").split(", ")
        assert "mi300x" in suggested[:2] and len(suggested) == len(set(suggested))
        assert all(s in kb.gpus for s in suggested)  # ids, not lower-cased aliases


def test_cli_arguments_take_aliases(capsys, kb):
    code, out, _ = run(capsys, "show", "H100", "--json")
    assert code == 0 and json.loads(out)["id"] == "h100-sxm"
    code, out, _ = run(capsys, "compare", "H100", "MI300X", "--json")
    assert code == 0 and [e["id"] for e in json.loads(out)["entries"]] == ["h100-sxm", "mi300x"]
    code, out, _ = run(capsys, "prerequisites", "PagedAttention", "--json")
    assert code == 0 and json.loads(out)["id"] == "paged-attention"
    code, out, _ = run(capsys, "fit", "llama-3.1-8b-instruct", "--format", "fp8", "--json")
    assert code == 0 and json.loads(out)["format"] == "fp8-e4m3"
    code, _, err = run(capsys, "show", "mi30x")
    suggested = err.split("did you mean ")[1].strip().rstrip("?").split(", ")
    assert code == 1 and len(suggested) == len(set(suggested))


# search -----------------------------------------------------------------------------
def test_search_ranks_exact_names_then_entries_above_sources(kb, capsys):
    hits = kb.search("paged attention")
    assert hits[0].id == "paged-attention"
    kinds = [h.kind for h in hits[1:]]
    assert kinds == sorted(kinds, key=lambda k: k == "sources")  # no source above an entry
    assert kb.search("TTFT")[0].id == "ttft" and kb.search("pagedattention")[0].id == "paged-attention"
    code, out, _ = run(capsys, "search", "paged attention")
    assert code == 0 and out.splitlines()[1].split()[0] == "paged-attention"


def test_search_index_ranking_rules():
    def doc(eid: str, kind: str, title: str, body: str, aliases: tuple[str, ...] = ()) -> Document:
        fields = (("id", eid), ("title", title), ("body", body), *(("alias", a) for a in aliases))
        return Document(eid, kind, title, "", fields)

    index = SearchIndex([
        doc("kv-notes", "sources", "KV cache KV cache KV cache", "kv cache " * 50),
        doc("caching", "concepts", "Caching", "the kv cache and more kv cache"),
        doc("kv-cache", "concepts", "Key-value store (for attention)", "stores keys", aliases=("KV cache",)),
    ])
    assert [h.id for h in index.search("kv cache")] == ["kv-cache", "caching", "kv-notes"]
    assert [h.id for h in index.search("key value store")] == ["kv-cache"]  # title without its parenthesis


# compare / prerequisites ------------------------------------------------------------------
def test_compare_gpus_models_and_any_kind(capsys, kb):
    code, out, _ = run(capsys, "compare", "h100-sxm", "mi300x", "--json")
    data = json.loads(out)
    rows = {r["field"]: r for r in data["rows"]}
    assert code == 0 and [e["kind"] for e in data["entries"]] == ["gpus", "gpus"]
    assert rows["memory_gib"]["unit"] == "GiB" and rows["memory_gib"]["values"] == {"h100-sxm": 80.0, "mi300x": 192.0}
    assert rows["memory_bandwidth_gb_s"]["unit"] == "GB/s" and rows["dense.fp8_tflops"]["unit"] == "TFLOPS"
    assert data["rows"][0]["field"] == "memory_gib"  # the figures people compare first
    code, out, _ = run(capsys, "compare", "h100-sxm", "mi300x")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["field", "unit", "h100-sxm", "mi300x"]
    assert any(line.split()[:4] == ["memory_gib", "GiB", "80", "192"] for line in lines)
    code, out, _ = run(capsys, "compare", "llama-3.1-8b-instruct", "qwen3-8b", "--json")
    fields = [r["field"] for r in json.loads(out)["rows"]]
    assert code == 0 and fields[0] == "params_total_b" and fields.index("architecture.layers") < fields.index("family")
    assert {"architecture.attention_heads", "architecture.kv_heads"} <= set(fields)
    code, out, _ = run(capsys, "compare", "kv-cache", "paged-attention", "--json")
    fields = [r["field"] for r in json.loads(out)["rows"]]
    assert code == 0 and "chapter" in fields and "body" not in fields
    code, _, err = run(capsys, "compare", "h100-sxm", "H100")
    assert code == 2 and "two different entries" in err


def test_prerequisites_learning_path(capsys, kb):
    chain = [e.id for e in kb.prerequisites("paged-attention", recursive=True)]
    code, out, _ = run(capsys, "prerequisites", "paged-attention")
    listed = [line.rsplit("/", 1)[-1].rstrip("]") for line in out.splitlines()[1:]]
    assert code == 0 and listed == chain and "kv-cache" in listed
    order = [e.id for e in kb.learning_order()]
    assert [order.index(i) for i in listed] == sorted(order.index(i) for i in listed)
    code, out, _ = run(capsys, "prerequisites", "paged-attention", "--direct", "--json")
    direct = [r["id"] for r in json.loads(out)["prerequisites"]]
    assert code == 0 and direct == [e.id for e in kb.prerequisites("paged-attention")]
    first = kb.learning_order()[0].id
    code, out, _ = run(capsys, "prerequisites", first)
    assert code == 0 and "no prerequisites" in out


# show ---------------------------------------------------------------------------------
def test_show_prints_nested_values_in_full(capsys, kb):
    gpu = kb.gpus["h100-sxm"]
    code, out, _ = run(capsys, "show", "h100-sxm")
    assert code == 0 and "  dense:\n    fp64_tflops: " in out and "    fp8_tflops: 1979" in out
    assert gpu.notes in out and "..." not in out.replace(gpu.notes, "")
    assert "    domain_gpus: 8" in out


EXPRESSION = re.compile(r"\{\{\s*[a-z_]+\(")
"""The start of a `{{ call(...) }}` in prose (LaTeX such as `{\\sqrt{d}}` has braces too)."""


def test_show_full_renders_bodies_without_braces(capsys, kb):
    article = next(e for e in kb.concepts.values() if EXPRESSION.search(e.body or "") and "\n\n" in e.body)
    code, short, _ = run(capsys, "show", article.id)
    assert code == 0 and "show --full prints the whole body" in short and not EXPRESSION.search(short)
    code, full, _ = run(capsys, "show", article.id, "--full")
    assert code == 0 and not EXPRESSION.search(full) and "show --full" not in full
    assert "cannot evaluate" not in full
    last_paragraph = article.body.strip().split("\n\n")[-1].splitlines()[-1]
    if "{{" not in last_paragraph:
        assert last_paragraph.strip() in full
    code, out, _ = run(capsys, "show", "attention-mechanism", "--full")
    assert code == 0 and "GiB of KV cache per sequence" in out and "kv_bytes(" not in out


# completion ---------------------------------------------------------------------------
def test_completion_scripts_mention_every_command(capsys, kb):
    parser = build_parser()
    sub = next(a for a in parser._actions if hasattr(a, "choices") and isinstance(a.choices, dict))
    commands = set(sub.choices)
    assert {"compare", "prerequisites", "completion", "show", "list", "kv", "new", "serve"} <= commands
    for shell in ("bash", "zsh", "fish"):
        code, out, _ = run(capsys, "completion", shell)
        assert code == 0 and out == completion_script(shell, build_parser())
        missing = [c for c in commands if c not in out]
        assert not missing, (shell, missing)
        assert "inferbook completion --ids" in out and "no-builtin" in out
    script = completion_script("bash", build_parser())
    bash = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
    assert bash.returncode == 0, bash.stderr
    code, out, _ = run(capsys, "completion", "--ids")
    assert code == 0 and "h100-sxm" in out.split() and len(out.split()) == len(kb)
    code, _, err = run(capsys, "completion")
    assert code == 2 and "name a shell" in err


def test_every_new_option_states_its_default():
    parser = build_parser()
    sub = next(a for a in parser._actions if hasattr(a, "choices") and isinstance(a.choices, dict))
    new = {"list": ("--sort", "--format"), "show": ("--full",), "prerequisites": ("--direct",),
           "completion": ("--ids",), "validate": ("--no-builtin",), "compare": ("--json", "--no-builtin")}
    for command, options in new.items():
        actions = {o: a for a in sub.choices[command]._actions for o in a.option_strings}
        for option in options:
            assert "default" in (actions[option].help or ""), (command, option)
