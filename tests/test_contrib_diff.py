"""`inferbook diff BASE`: entries added, removed (with or without a redirect) and changed
field by field, plus the pages, table rows and calculator results the change affects."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from inferbook.cli import main
from inferbook.contrib.diff import flatten

FIXTURES = Path(__file__).parent / "lint_fixtures"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@localhost", "-c", "commit.gpgsign=false",
                    *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path):
    if shutil.which("git") is None:  # pragma: no cover
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    kb = root / "kb"
    shutil.copytree(FIXTURES / "IB310" / "pass", kb)
    shutil.copytree(FIXTURES / "IB311" / "pass" / "gpus", kb / "gpus")
    shutil.copytree(FIXTURES / "IB311" / "pass" / "concepts", kb / "concepts")
    for name in ("other", "gone"):
        (kb / "concepts" / f"{name}.yaml").write_text(
            (kb / "concepts" / "hardware.yaml").read_text().replace("id: hardware", f"id: {name}")
            .replace('title: "Hardware"', f'title: "{name.title()}"'))
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


def test_diff_reports_entries_pages_tables_and_calculators(repo, capsys):
    kb = repo / "kb"
    edit(kb / "models" / "llama-3.1-8b-instruct.yaml", "kv_heads: 8", "kv_heads: 4")
    edit(kb / "gpus" / "x100.yaml", "memory_bandwidth_gb_s: 3350", "memory_bandwidth_gb_s: 3352")
    edit(kb / "concepts" / "hardware.yaml", 'title: "Hardware"', 'title: "Accelerators"')
    (kb / "concepts" / "other.yaml").unlink()
    (kb / "redirects").mkdir()
    (kb / "redirects" / "other.yaml").write_text(
        "id: other\ntitle: Other\nkind: moved\ntargets: [hardware]\ndate: 2026-11-27\nreason: merged\n"
        "last_reviewed: 2026-11-27\n")
    (kb / "concepts" / "gone.yaml").unlink()
    shutil.copy(kb / "concepts" / "hardware.yaml", kb / "concepts" / "fresh.yaml")
    edit(kb / "concepts" / "fresh.yaml", "id: hardware", "id: fresh")
    edit(kb / "concepts" / "fresh.yaml", 'title: "Accelerators"', 'title: "Fresh"')

    code = main(["diff", "HEAD", "--kb", str(kb)])
    out, err = capsys.readouterr()
    assert code == 1, err  # 'gone' has no redirect
    assert "1 added, 2 removed, 3 changed" in out
    assert "+ concepts/fresh" in out and "redirects/other" not in out
    assert '- concepts/other  "Other"  (moved to hardware)' in out
    assert "- concepts/gone" in out and "NO REDIRECT" in out and "kb/redirects/gone.yaml" in out
    assert "architecture.kv_heads: 8 -> 4" in out
    assert "memory_bandwidth_gb_s: 3350 -> 3352" in out
    assert 'title: "Hardware" -> "Accelerators"' in out
    assert "entries/models/llama-3.1-8b-instruct.html  [updated]" in out
    assert "entries/concepts/other.html  [redirect] moved to hardware" in out
    assert "entries/concepts/gone.html  [deleted]" in out
    assert "entries/concepts/fresh.html  [new]" in out
    assert "entries/chapters/basics.html  [updated]" in out
    assert "kv_cache.json kv_cache.csv" in out and "gpus.json gpus.csv" in out
    assert "llama-3.1-8b-instruct: kv_bytes_per_token_bf16 131,072 -> 65,536" in out

    code = main(["diff", "HEAD", "--kb", str(kb), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["base"] == "HEAD"
    changed = {e["id"]: e for e in data["entries"]}
    assert changed["llama-3.1-8b-instruct"]["fields"] == [{"path": "architecture.kv_heads", "old": 8, "new": 4}]
    assert changed["other"]["redirect"] == "moved to hardware" and changed["gone"]["redirect"] is None
    tables = {t["table"]: t for t in data["tables"]}
    assert tables["kv_cache"]["changed"] == 3 and tables["gpus"]["changed"] == 1
    assert {c["quantity"] for c in data["calculators"]} == {"kv_bytes_per_token_bf16", "params_computed_b",
                                                              "weight_bytes_native"}


def test_diff_without_changes_and_bad_revision(repo, capsys):
    assert main(["diff", "HEAD", "--kb", str(repo / "kb")]) == 0
    assert "no entry differs" in capsys.readouterr().out
    assert main(["diff", "no-such-revision", "--kb", str(repo / "kb")]) == 2
    assert "inferbook diff:" in capsys.readouterr().err


def test_flatten():
    assert flatten({"a": {"value": 3.0, "note": "n"}, "b": [1, 2], "c": [{"source": "s"}], "d": {}}) == {
        "a": 3.0, "a.note": "n", "b": [1, 2], "c.0.source": "s", "d": {}}
