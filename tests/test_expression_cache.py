"""The disk cache of computed results (`inferbook/result_cache.py`) behind `{{ plan(...) }}` in the
prose: answers are reused across processes, a change to anything they depend on (the entries a
plan reads, the data date, the question, the code and calibration) is a miss, broken or foreign
files are ignored, concurrent writers leave one whole file, and nothing is written outside the
cache folder. Also `validate(cached=True)`, which `inferbook validate` uses: the same findings as
an uncached run, from the cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import concept

import inferbook
import inferbook.api as api
from inferbook import expressions, result_cache
from inferbook.calc import plan as plan_module
from inferbook.expressions import Evaluator, ExpressionError
from inferbook.paths import PACKAGE_DIR

ROOT = Path(__file__).resolve().parent.parent
QUESTION = 'plan("llama-3.1-8b-instruct", "{figure}", isl=1000, osl=200, rate=1)'


@pytest.fixture(autouse=True)
def cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of this test's own, and no plan answers remembered in this process."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("INFERBOOK_CACHE_DIR", str(folder))
    monkeypatch.delenv("INFERBOOK_NO_CACHE", raising=False)
    monkeypatch.setattr(expressions, "_PLANS", {})
    return folder


@pytest.fixture(scope="module")
def kb() -> inferbook.KnowledgeBase:
    return inferbook.load()


class FakePlans:
    """Stands in for `calc.plan.plan`: counts the searches and answers with fixed figures."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, kb: Any, models: list[str], *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        best = SimpleNamespace(usd_per_hour=2.5, gpus=2, shape=SimpleNamespace(tp=2), replicas=1,
                               usd_per_million=lambda isl, osl: (0.125, 1.75),
                               ttft_s=lambda q: 0.25, tpot_s=lambda q: 0.0125)
        return SimpleNamespace(best=best, shapes=321)


@pytest.fixture
def fake_plans(monkeypatch: pytest.MonkeyPatch) -> FakePlans:
    fake = FakePlans()
    monkeypatch.setattr(plan_module, "plan", fake)
    return fake


def evaluate(kb: inferbook.KnowledgeBase, figure: str = "usd_per_hour") -> str:
    """A plan figure evaluated as a new process would: nothing remembered in memory."""
    expressions._PLANS.clear()
    return Evaluator(kb).evaluate(QUESTION.format(figure=figure))


def result_files(cache: Path) -> list[Path]:
    return sorted((cache / result_cache.SUBFOLDER).glob("plan-*.json"))


def with_offer_price(kb: inferbook.KnowledgeBase, offer_id: str, price: float) -> inferbook.KnowledgeBase:
    """``kb`` with one offer's on-demand price changed (the entries a plan reads)."""
    entries = dict(kb._entries) | dict(kb._redirects)
    entries[offer_id] = entries[offer_id].model_copy(update={"on_demand_usd_per_hour": price})
    return inferbook.KnowledgeBase(entries, dict(kb._kinds), dict(kb._paths), list(kb._edges), kb.data_version,
                                   kb.data_date)


# reuse and invalidation --------------------------------------------------------------------
def test_a_real_plan_answer_is_read_back_from_disk(kb, cache, monkeypatch):
    """One real search: its figures are stored, and a later process reads the same figures
    without searching."""
    calls = []
    real = plan_module.plan

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(plan_module, "plan", counting)
    figures = ("usd_per_hour", "gpus", "ttft_s", "shapes")
    first = [evaluate(kb, f) for f in figures]
    assert len(calls) == 1 and len(result_files(cache)) == 1
    assert [evaluate(kb, f) for f in figures] == first and len(calls) == 1
    stored = json.loads(result_files(cache)[0].read_bytes())
    assert stored["value"]["shapes"] == float(first[-1].replace(",", ""))


def test_each_input_of_a_plan_is_part_of_its_key(kb, cache, fake_plans, monkeypatch):
    assert evaluate(kb) == "2.5" and fake_plans.calls == 1
    assert evaluate(kb) == "2.5" and fake_plans.calls == 1  # from disk
    offer_id = next(o.id for o in kb.offers.values() if o.on_demand_usd_per_hour is not None)
    cheaper = with_offer_price(kb, offer_id, 0.01)
    evaluate(cheaper)
    assert fake_plans.calls == 2  # an entry a plan reads changed: searched again
    evaluate(kb)
    assert fake_plans.calls == 2  # the first answer is still on disk
    later = inferbook.KnowledgeBase(dict(kb._entries), dict(kb._kinds), dict(kb._paths), list(kb._edges),
                                    kb.data_version, "2099-01-01")
    evaluate(later)
    assert fake_plans.calls == 3  # another data date (the day prices are judged stale on)
    Evaluator(kb).evaluate('plan("llama-3.1-8b-instruct", "gpus", isl=1000, osl=201, rate=1)')
    assert fake_plans.calls == 4  # another question
    monkeypatch.setattr(result_cache, "package_code_digest", lambda *a: "another version of the code")
    evaluate(kb)
    assert fake_plans.calls == 5  # another version of the code or calibration
    assert len(result_files(cache)) == 5


def with_entry(kb: inferbook.KnowledgeBase, kind: str, entry: Any) -> inferbook.KnowledgeBase:
    """``kb`` with one entry of ``kind`` added or replaced."""
    entries = dict(kb._entries) | dict(kb._redirects)
    entries[entry.id] = entry
    kinds = dict(kb._kinds) | {entry.id: kind}
    paths = dict(kb._paths) | {entry.id: kb._paths.get(entry.id, f"{kind}/{entry.id}.yaml")}
    return inferbook.KnowledgeBase(entries, kinds, paths, list(kb._edges), kb.data_version, kb.data_date)


def test_entries_a_plan_does_not_read_leave_its_key(kb, cache, fake_plans):
    """A plan reads its own model and the priced GPUs: another model (an imported config) or a GPU
    without a price (a private layer's) keeps every answer; the asked model or a priced GPU does not."""
    assert evaluate(kb) == "2.5" and fake_plans.calls == 1
    other = kb.models["qwen3-8b"].model_copy(update={"id": "qwen3-8b-copy"})
    priced = {o.gpu for o in kb.offers.values()}
    unpriced = next(g for g in kb.gpus.values() if g.id not in priced)
    evaluate(with_entry(kb, "models", other))
    evaluate(with_entry(kb, "gpus", unpriced.model_copy(update={"id": "acme-x1"})))
    evaluate(with_entry(kb, "gpus", unpriced.model_copy(update={"title": "Another title"})))
    assert fake_plans.calls == 1
    asked = kb.models["llama-3.1-8b-instruct"]
    evaluate(with_entry(kb, "models", asked.model_copy(update={"title": "Llama renamed"})))
    assert fake_plans.calls == 2
    gpu = kb.gpus[sorted(priced)[0]]
    evaluate(with_entry(kb, "gpus", gpu.model_copy(update={"title": "Another title"})))
    assert fake_plans.calls == 3


def test_the_code_digest_covers_code_calibration_and_versions(tmp_path, monkeypatch):
    files = result_cache.package_files(*expressions.PLAN_CODE)
    names = {p.relative_to(PACKAGE_DIR).as_posix() for p in files}
    assert {"calc/plan.py", "calc/calibration.json", "calc/engine_profiles.yaml", "schema/offers.py",
            "expressions.py"} <= names
    code = tmp_path / "code"
    code.mkdir()
    (code / "a.py").write_text("x = 1\n")
    (code / "calibration.json").write_text('{"k": 1}')
    before = result_cache.code_digest(list(code.iterdir()), code)
    (code / "calibration.json").write_text('{"k": 2}')
    after = result_cache.code_digest(list(code.iterdir()), code)
    assert before is not None and after is not None and before != after
    monkeypatch.setattr(result_cache, "__version__", "0.0.0-other")
    assert result_cache.code_digest(list(code.iterdir()), code) != after
    assert result_cache.code_digest([code / "missing.py"], code) is None  # unreadable: nothing cached


def test_an_error_answer_is_kept_too(kb, monkeypatch):
    calls = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        raise plan_module.PlanError("no offer prices any GPU here")

    monkeypatch.setattr(plan_module, "plan", failing)
    for _ in range(2):
        with pytest.raises(ExpressionError, match="no offer prices any GPU here"):
            evaluate(kb)
    assert len(calls) == 1


# broken files ------------------------------------------------------------------------------
@pytest.mark.parametrize("corrupt", [
    lambda raw: b"",
    lambda raw: b"\xff\xfe garbage",
    lambda raw: raw[: len(raw) // 2],  # a truncated write
    lambda raw: raw.replace(b'"usd_per_hour":2.5', b'"usd_per_hour":"2.5"'),  # a value of the wrong type
    lambda raw: raw.replace(b'"usd_per_hour":2.5', b'"usd_per_hour":NaN'),
    lambda raw: raw.replace(b'"shapes":321.0', b'"shapes":321.0,"extra":1'),
    lambda raw: raw.replace(b'"format":1', b'"format":99'),  # another layout version
    lambda raw: raw.replace(b'"key":"', b'"key":"0'),  # filed under a name that is not its key
    lambda raw: b"[" * 100_000,  # nested beyond the parser's recursion limit
], ids=["empty", "garbage", "truncated", "wrong-type", "nan", "extra-key", "format", "foreign-key", "deep"])
def test_a_broken_file_is_a_miss_and_is_replaced(kb, cache, fake_plans, corrupt):
    assert evaluate(kb) == "2.5"
    [path] = result_files(cache)
    good = path.read_bytes()
    path.write_bytes(corrupt(good))
    assert evaluate(kb) == "2.5" and fake_plans.calls == 2  # ignored and searched again
    assert path.read_bytes() == good  # written whole again
    assert evaluate(kb) == "2.5" and fake_plans.calls == 2


def test_files_others_could_have_written_are_not_trusted(kb, cache, fake_plans, tmp_path):
    evaluate(kb)
    [path] = result_files(cache)
    path.chmod(0o666)  # writable by anyone
    evaluate(kb)
    assert fake_plans.calls == 2 and path.stat().st_mode & 0o022 == 0  # replaced by a private file
    good = path.read_bytes()
    elsewhere = tmp_path / "planted.json"
    elsewhere.write_bytes(good)
    path.unlink()
    path.symlink_to(elsewhere)  # a link is never followed
    evaluate(kb)
    assert fake_plans.calls == 3 and not path.is_symlink()
    big = good[:-1] + b" " * result_cache.MAX_BYTES + b"}"
    path.write_bytes(big)
    evaluate(kb)
    assert fake_plans.calls == 4


# concurrent writers --------------------------------------------------------------------------
WRITER = textwrap.dedent("""\
    import sys
    from inferbook import result_cache
    value = {"shapes": float(sys.argv[1]), "best": None, "pad": "x" * int(sys.argv[2])}
    for _ in range(int(sys.argv[3])):
        assert result_cache.write("race", "k" * 40, value)
""")


def test_concurrent_writers_leave_one_whole_file(cache):
    """Two processes write the same key, with values of different sizes, over and over while this
    one reads it: every read is one of the two values whole, and so is the file left behind."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(n), str(size), "150"], env=env, cwd=ROOT)
               for n, size in ((1, 10), (2, 20_000))]
    values = {1.0: 10, 2.0: 20_000}
    seen = set()

    def check(value: Any) -> bool:
        return set(value) == {"shapes", "best", "pad"} and len(value["pad"]) == values[value["shapes"]]

    deadline = time.monotonic() + 60
    while any(w.poll() is None for w in writers) and time.monotonic() < deadline:
        found = result_cache.read("race", "k" * 40, lambda v: True)
        if found is not None:
            assert check(found), "a reader saw a mixed or partial file"
            seen.add(found["shapes"])
    assert [w.wait(timeout=60) for w in writers] == [0, 0]
    last = result_cache.read("race", "k" * 40, check)
    assert last is not None and last["shapes"] in values
    folder = cache / result_cache.SUBFOLDER
    assert [p.name for p in folder.iterdir()] == [f"race-{'k' * 40}.json"]  # no temporary file left over
    assert seen  # the reader did see the file while it was being rewritten


# where files go --------------------------------------------------------------------------
def package_files() -> dict[str, float]:
    return {p.relative_to(ROOT).as_posix(): p.stat().st_mtime for p in (ROOT / "inferbook").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def test_results_are_written_only_under_the_cache_folder(kb, cache, fake_plans, tmp_path, monkeypatch):
    before = package_files()
    monkeypatch.chdir(tmp_path)
    evaluate(kb)
    assert package_files() == before
    assert [p.relative_to(cache).parts[0] for p in cache.rglob("*") if p.is_file()] == [result_cache.SUBFOLDER]
    assert not list(tmp_path.iterdir())  # nothing in the working directory
    inside = PACKAGE_DIR / "_test_cache_do_not_create"
    monkeypatch.setenv("INFERBOOK_CACHE_DIR", str(inside))
    assert not result_cache.write("plan", "a" * 40, {"error": "x"})
    evaluate(kb)
    assert not inside.exists() and package_files() == before  # refused inside the installed package
    monkeypatch.setenv("INFERBOOK_NO_CACHE", "1")
    assert result_cache.folder() is None and not result_cache.write("plan", "a" * 40, {"error": "x"})
    calls = fake_plans.calls
    evaluate(kb)
    assert fake_plans.calls == calls + 1  # no cache: searched every time


def test_old_result_files_are_pruned(cache, monkeypatch):
    monkeypatch.setattr(result_cache, "KEEP", 3)
    folder = cache / result_cache.SUBFOLDER
    folder.mkdir()
    stale = folder / ".plan.abc.tmp"
    stale.write_bytes(b"half")
    os.utime(stale, (0, 0))  # left by a writer that died long ago
    for i in range(5):
        assert result_cache.write("plan", f"{i}" * 40, {"error": str(i)})
        os.utime(folder / f"plan-{f'{i}' * 40}.json", (1000 + i, 1000 + i))
    assert sorted(p.name[5:6] for p in folder.iterdir()) == ["2", "3", "4"] and not stale.exists()


# validate from the cache ------------------------------------------------------------------
def test_cached_validation_reports_what_an_uncached_one_does(make_kb, monkeypatch, tmp_path):
    monkeypatch.setattr(api, "CACHE_MIN_FILES", 1)
    drawing = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="1" height="1"/></svg>'
    kb_dir = make_kb({"concepts/a.yaml": concept("a"), "concepts/a.unused.svg": drawing})  # a warning (IB009)
    reads: list[Path] = []
    import inferbook.loader as loader

    original = loader.load_layer
    monkeypatch.setattr(loader, "load_layer", lambda folder, layer=0: reads.append(folder) or original(folder, layer))
    plain = inferbook.validate(kb_dir)
    assert [d.code for d in plain.diagnostics] == ["IB009", "IB206"]  # a graph warning at 1:1 too
    first = inferbook.validate(kb_dir, cached=True)
    second = inferbook.validate(kb_dir, cached=True)
    assert first.diagnostics == second.diagnostics == plain.diagnostics
    assert len(reads) == 2 and second.result.files_read == plain.result.files_read  # the last one: no YAML read
    monkeypatch.chdir(tmp_path)  # the warning's path is displayed relative to another folder now
    moved = inferbook.validate(kb_dir, cached=True)
    assert len(reads) == 3 and moved.diagnostics == inferbook.validate(kb_dir).diagnostics
    assert moved.diagnostics[0].file != plain.diagnostics[0].file


def test_a_finding_in_a_cached_file_is_located_from_the_yaml(make_kb, monkeypatch):
    """The prose and graph checks need positions: when they ask for one in a file read from the
    cache, the validation runs again from the files, with the same findings as without the cache."""
    import inferbook.loader as loader

    monkeypatch.setattr(api, "CACHE_MIN_FILES", 1)
    body = concept("b", related="[a]").replace("body: Text.", 'body: "Text {{ params_b(\\"no-such-model\\") }}."')
    assert "no-such-model" in body
    kb_dir = make_kb({"concepts/a.yaml": concept("a"), "concepts/b.yaml": body})
    expected = inferbook.validate(kb_dir).diagnostics
    lines = (kb_dir / "concepts" / "b.yaml").read_text().splitlines()
    where = next((n, line.index("{{") + 1) for n, line in enumerate(lines, 1) if "{{" in line)
    assert [(d.code, d.line, d.col) for d in expected] == [("IB207", *where)]  # where the braces stand
    inferbook.validate(kb_dir, cached=True)  # stores the folder
    reads: list[Path] = []
    original = loader.load_layer
    monkeypatch.setattr(loader, "load_layer", lambda folder, layer=0: reads.append(folder) or original(folder, layer))
    assert inferbook.validate(kb_dir, cached=True).diagnostics == expected
    assert reads == [kb_dir]  # from the cache first, then once from the files for the position


# what a private folder's _layer.yaml says ----------------------------------------------------
@pytest.mark.parametrize("text", [None, "name: mine\n", "base: true\n", "base: false\n", "base: maybe\n",
                                  "base: [\n", "name: mine\nbase: yes\n", "link"])
@pytest.mark.parametrize("chapters", [False, True])
def test_layer_base_from_the_cache_matches_the_loader(tmp_path, monkeypatch, text, chapters):
    """`api._complete` answers as `loader.is_complete` does, from the result cache the second time
    (without parsing the file again), for every kind of `_layer.yaml`."""
    import inferbook.yamlio as yamlio
    from inferbook.loader import is_complete

    folder = tmp_path / "mine"
    (folder / "concepts").mkdir(parents=True)
    if chapters:
        (folder / "chapters").mkdir()
    if text == "link":
        (tmp_path / "elsewhere.yaml").write_text("base: true\n")
        (folder / "_layer.yaml").symlink_to(tmp_path / "elsewhere.yaml")  # refused by the loader, never followed
    elif text is not None:
        (folder / "_layer.yaml").write_text(text)
    expected = is_complete(folder)
    assert api._complete(folder) is expected
    monkeypatch.setattr(yamlio, "parse_bytes", lambda raw: pytest.fail("parsed again"))
    if text not in (None, "link"):
        assert api._complete(folder) is expected  # from the cache, by the file's bytes
        (folder / "_layer.yaml").write_text(text + "# changed\n")
        with pytest.raises(pytest.fail.Exception):
            api._complete(folder)  # other bytes: a miss


def test_clean_prose_is_not_checked_again_until_a_file_or_the_code_changes(make_kb, monkeypatch):
    """`validate(cached=True)` notes that the prose of exactly these files checked clean; the next run
    skips the expression checks, and any change to a file or to the code checks them again."""
    import inferbook.prose as prose

    monkeypatch.setattr(api, "CACHE_MIN_FILES", 1)
    expression = 'value(\\"concepts/a\\", \\"order\\")'  # a's reading order, a number
    body = concept("b", related="[a]").replace("body: Text.", f'body: "Text {{{{ {expression} }}}}."')
    kb_dir = make_kb({"concepts/a.yaml": concept("a"), "concepts/b.yaml": body})
    checks: list[int] = []
    original = prose.check_expressions
    monkeypatch.setattr(prose, "check_expressions", lambda kb, entries: checks.append(1) or original(kb, entries))
    first = inferbook.validate(kb_dir, cached=True)
    assert first.ok and not first.diagnostics and len(checks) == 1
    again = inferbook.validate(kb_dir, cached=True)
    assert again.ok and again.kb is not None and len(checks) == 1  # the verdict came from the cache
    assert inferbook.validate(kb_dir).ok and len(checks) == 2  # an uncached validation always checks
    path = kb_dir / "concepts" / "b.yaml"
    path.write_text(path.read_text().replace('\\"order\\"', '\\"no_such_field\\"'))
    broken = inferbook.validate(kb_dir, cached=True)
    assert [d.code for d in broken.diagnostics] == ["IB207"] and len(checks) == 3
    path.write_text(body)
    inferbook.validate(kb_dir, cached=True)
    checked = len(checks)
    monkeypatch.setattr(result_cache, "package_code_digest", lambda *a: "another version of the code")
    inferbook.validate(kb_dir, cached=True)
    assert len(checks) == checked + 1  # the expression code changed


def test_validating_files_checks_only_their_prose(make_kb, monkeypatch):
    """`validate(files=...)` reports only those files' findings, so only their prose is evaluated (a
    plan in another article costs a simulation); such a run never notes all of the prose as clean."""
    import inferbook.prose as prose

    monkeypatch.setattr(api, "CACHE_MIN_FILES", 1)
    broken = 'body: "Text {{ value(\\"concepts/a\\", \\"no_such_field\\") }}."'
    kb_dir = make_kb({"concepts/a.yaml": concept("a"), "concepts/b.yaml": concept("b", related="[a]").replace(
        "body: Text.", broken), "concepts/c.yaml": concept("c", related="[a]")})
    checked: list[set[str]] = []
    original = prose.check_expressions
    monkeypatch.setattr(prose, "check_expressions",
                        lambda kb, entries: checked.append(set(entries)) or original(kb, entries))
    only_c = inferbook.validate(kb_dir, files=[kb_dir / "concepts" / "c.yaml"], cached=True)
    assert only_c.ok and not only_c.diagnostics and checked == [{"c"}]
    only_b = inferbook.validate(kb_dir, files=[kb_dir / "concepts" / "b.yaml"], cached=True)
    assert [d.code for d in only_b.diagnostics] == ["IB207"] and checked[-1] == {"b"}
    whole = inferbook.validate(kb_dir, cached=True)  # c alone checked clean, yet the whole KB is checked
    assert [d.code for d in whole.diagnostics] == ["IB207"] and {"a", "b", "c"} <= checked[-1]
