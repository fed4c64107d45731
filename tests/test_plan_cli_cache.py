"""`inferbook plan` keeps its answers in the result cache: the same question with the same entries,
options, code and date is printed again without a search, byte for byte and with the same exit
code; anything that changes the answer, a trace file, a broken file or a cache turned off searches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inferbook import result_cache
from inferbook.calc import plan as plan_module
from inferbook.cli import main

QUESTION = ["plan", "llama-3.1-8b-instruct", "--isl", "1000", "--osl", "200", "--rate", "2", "--slo-ttft", "2",
            "--slo-tpot", "0.05", "--gpus", "h100-sxm", "l40s"]


@pytest.fixture
def searches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """An empty cache folder of this test's own; the list grows by one per plan search."""
    monkeypatch.setenv("INFERBOOK_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("INFERBOOK_NO_CACHE", raising=False)
    calls: list[int] = []
    real = plan_module.plan

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(plan_module, "plan", counting)
    return calls


def ask(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main([*QUESTION, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def stored(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / result_cache.SUBFOLDER).glob("plan-cli-*.json"))


def test_the_same_question_is_printed_again_without_a_search(capsys, searches, tmp_path):
    first = ask(capsys)
    assert first[0] == 0 and "cheapest:" in first[1] and searches == [1]
    assert ask(capsys) == first and searches == [1]
    as_json = ask(capsys, "--json")
    assert json.loads(as_json[1])["frontier"] and searches == [1, 1]  # another option, another answer
    assert ask(capsys, "--json") == as_json and searches == [1, 1]
    assert len(stored(tmp_path)) == 2


def test_an_answer_with_nothing_found_is_kept_with_its_exit_code(capsys, searches):
    first = ask(capsys, "--slo-tpot", "0.0001")
    assert first[0] == 1 and "no configuration meets the targets" in first[2]
    assert ask(capsys, "--slo-tpot", "0.0001") == first and searches == [1]


def test_what_changes_the_answer_searches_again(capsys, searches, monkeypatch):
    ask(capsys)
    ask(capsys, "--slo-ttft", "1.5")
    assert searches == [1, 1]
    monkeypatch.setattr(result_cache, "package_code_digest", lambda *a: "another version of the code")
    ask(capsys)
    assert searches == [1, 1, 1]


def test_a_trace_is_never_answered_from_the_cache(capsys, searches, tmp_path):
    trace = tmp_path / "trace.csv"
    trace.write_text("arrival,input_tokens,output_tokens\n" + "".join(f"{i * 0.5},800,150\n" for i in range(40)))
    argv = ["plan", "llama-3.1-8b-instruct", "--trace", str(trace), "--slo-ttft", "2", "--slo-tpot", "0.05",
            "--gpus", "h100-sxm"]
    for _ in range(2):
        assert main(argv) == 0
    capsys.readouterr()
    assert searches == [1, 1] and not stored(tmp_path)


def test_a_broken_or_foreign_file_is_a_miss(capsys, searches, tmp_path):
    first = ask(capsys)
    [path] = stored(tmp_path)
    data = json.loads(path.read_text())
    data["value"]["code"] = "0"  # a value of the wrong type
    path.write_text(json.dumps(data))
    assert ask(capsys) == first and searches == [1, 1]
    path.write_text(path.read_text()[:200])  # truncated
    assert ask(capsys) == first and searches == [1, 1, 1]


def test_no_cache_searches_every_time(capsys, searches, tmp_path, monkeypatch):
    monkeypatch.setenv("INFERBOOK_NO_CACHE", "1")
    ask(capsys)
    ask(capsys)
    assert searches == [1, 1] and not stored(tmp_path)
