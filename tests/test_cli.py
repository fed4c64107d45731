"""The command line: exit codes, output formats, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import concept

from inferbook.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def kb_dir(make_kb):
    return make_kb({
        "concepts/ttft.yaml": concept("ttft", title="Time to first token", aliases="[TTFT]"),
        "concepts/b.yaml": concept("b", related="[ttft]"),
    })


@pytest.fixture
def bad_kb(make_kb):
    return make_kb({"concepts/a.yaml": concept("a", related="[missing, ch1]"),
                    "concepts/b.yaml": concept("b", related="[a]") + "bogus: 1\n"})


def test_validate_clean_and_broken(capsys, kb_dir, bad_kb):
    code, out, err = run(capsys, "validate", str(kb_dir))
    assert code == 0 and out == "" and "0 error(s)" in err
    code, out, err = run(capsys, "validate", str(bad_kb))
    assert code == 1
    lines = out.splitlines()
    assert [line.split(":")[0].rsplit("/", 2)[-2:] for line in lines] == [["concepts", "a.yaml"],
                                                                           ["concepts", "b.yaml"]]
    assert lines[0].endswith(":7:11: IB201 related.0: unknown id 'missing' (fix the id, or create "
                             "the entry it names)")
    assert ":11:1: IB101 unknown field 'bogus'" in lines[1]
    assert "Traceback" not in out + err


def test_validate_formats(capsys, bad_kb):
    code, out, _ = run(capsys, "validate", str(bad_kb), "--format", "json")
    data = json.loads(out)
    assert code == 1 and {d["code"] for d in data} == {"IB101", "IB201"}
    assert all({"file", "line", "col", "message", "severity"} <= set(d) for d in data)
    code, out, _ = run(capsys, "validate", str(bad_kb), "--format", "github")
    assert out.startswith("::error file=") and ",line=" in out


def test_validate_single_file_reports_only_that_file(capsys, kb_dir, bad_kb):
    code, out, _ = run(capsys, "validate", "--kb", str(kb_dir), str(bad_kb / "concepts" / "a.yaml"))
    assert code == 1 and out.count("IB201") == 1 and "IB101" not in out
    code, out, _ = run(capsys, "validate", "--kb", str(kb_dir), str(kb_dir / "concepts" / "b.yaml"))
    assert code == 0


def test_validate_missing_path_is_usage_error(capsys):
    code, _, err = run(capsys, "validate", "/no/such/dir")
    assert code == 2 and "no such file" in err


def test_show_list_search(capsys, kb_dir):
    code, out, _ = run(capsys, "show", "TTFT", "--kb", str(kb_dir), "--json")
    data = json.loads(out)
    assert code == 0 and data["id"] == "ttft" and data["kind"] == "concepts" and data["backlinks"] == ["b"]
    code, out, _ = run(capsys, "show", "ttft", "--kb", str(kb_dir))
    assert code == 0 and "Time to first token  [concepts/ttft]" in out
    code, _, err = run(capsys, "show", "nope", "--kb", str(kb_dir))
    assert code == 1 and "no entry" in err
    code, out, _ = run(capsys, "list", "concepts", "--kb", str(kb_dir), "--where", "title~first",
                       "--fields", "chapter", "--json")
    assert code == 0 and json.loads(out) == [{"id": "ttft", "title": "Time to first token", "chapter": "ch1"}]
    code, _, err = run(capsys, "list", "concepts", "--kb", str(kb_dir), "--where", "bad")
    assert code == 2 and "FIELD OP VALUE" in err
    code, _, _ = run(capsys, "list", "gpus", "--kb", str(kb_dir))
    assert code == 1  # nothing found
    code, out, _ = run(capsys, "search", "first token", "--kb", str(kb_dir), "--json")
    assert code == 0 and json.loads(out)[0]["id"] == "ttft"


def test_broken_kb_gives_error_list_not_traceback(capsys, bad_kb):
    code, _, err = run(capsys, "show", "a", "--kb", str(bad_kb))
    assert code == 1 and "IB201" in err and "Traceback" not in err


def test_version_reports_package_and_data(capsys, kb_dir):
    code, out, _ = run(capsys, "version", "--json")
    data = json.loads(out)
    assert code == 0 and data["package_version"] and data["data_version"] and data["data_date"]


def test_help_for_every_command():
    for command in ("validate", "show", "list", "search", "build", "schema", "version"):
        proc = subprocess.run([sys.executable, "-m", "inferbook", command, "--help"], capture_output=True, text=True)
        assert proc.returncode == 0 and "usage: inferbook" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "inferbook", "frobnicate"], capture_output=True, text=True)
    assert proc.returncode == 2
