"""`inferbook lint`: every rule fires on its failing fixture and not on its passing one,
rules are well-formed, the real knowledge base has no lint errors, and the command
prints all findings (validation included) in every format."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import SOURCE, concept

from inferbook.cli import main
from inferbook.contrib.lint import RULES, lint, rule_table, select_rules
from inferbook.contrib.lint.base import url_problem
from inferbook.contrib.lint.ib310_params_vs_architecture import significant_digits
from inferbook.contrib.lint.ib311_bandwidth_vs_bus import memory_kind
from inferbook.contrib.lint.ib321_alias_collisions import normalise

FIXTURES = Path(__file__).parent / "lint_fixtures"
ROOT = Path(__file__).parent.parent
TODAY = dt.date(2026, 11, 27)
CODES = [rule.CODE for rule in RULES]
GOOD_SOURCE = {"sources/src.yaml": SOURCE.format(id="src").replace("https://example.org/", "https://docs.vendor.com/")}
"""conftest's source cites example.org, which IB301 rejects; these tests use a real-looking host."""


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_rules_are_well_formed():
    assert len(RULES) >= 12
    assert len(set(CODES)) == len(CODES)
    for rule in RULES:
        assert "IB301" <= rule.CODE <= "IB399", rule.CODE
        assert rule.SEVERITY in ("error", "warning")
        for text in (rule.RATIONALE, rule.HINT):
            assert text and "\n" not in text and len(text) < 400
        assert rule.NAME and rule.NAME == rule.NAME.lower()
    assert [row["code"] for row in rule_table()] == CODES


def test_every_rule_has_fixtures():
    assert sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()) == CODES


@pytest.mark.parametrize("code", CODES)
def test_rule_fires_on_fail_and_not_on_pass(code, monkeypatch):
    monkeypatch.chdir(ROOT)
    case = FIXTURES / code
    for which in ("pass", "fail"):
        result = lint([case.relative_to(ROOT) / which], today=TODAY)
        schema_errors = [d for d in result.diagnostics if d.severity == "error" and not d.code.startswith("IB3")]
        assert not schema_errors, f"{which} fixture must be a valid knowledge base: {schema_errors}"
        found = [d for d in result.diagnostics if d.code == code]
        if which == "pass":
            assert not found, f"{code} fired on its passing fixture: {found}"
        else:
            prefix = f"{(case / 'fail').relative_to(ROOT)}/"
            lines = [d.format().removeprefix(prefix) for d in found]
            assert lines == (case / "expected.txt").read_text().splitlines()


def test_real_kb_has_no_lint_errors():
    data_date = yaml.safe_load((ROOT / "kb" / "_layer.yaml").read_text())["data_date"]
    result = lint(today=dt.date.fromisoformat(data_date))  # reviews are judged on the data's own date
    assert not result.errors, "\n".join(d.format() for d in result.errors)
    codes = {d.code for d in result.warnings if d.code.startswith("IB3")}
    assert codes <= {"IB302", "IB304", "IB306", "IB310", "IB312", "IB321"}, codes  # no IB340: no typed figures


def test_rounded_and_documented_exceptions_are_warnings(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    model = FIXTURES / "IB310" / "fail" / "models" / "llama-3.1-8b-instruct.yaml"
    text = model.read_text()
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURES / "IB310" / "fail", kb)
    (kb / "models" / model.name).write_text(text.replace("params_total_b: 9.53", "params_total_b: 8.4"))
    found = [d for d in lint([kb], today=TODAY).diagnostics if d.code == "IB310"]
    assert [d.severity for d in found] == ["warning"] and "rounded figure" in found[0].message
    (kb / "models" / model.name).write_text(text.replace(
        "params_total_b: 9.53", 'params_total_b: {value: 8.5, note: "size class from the name"}'))
    found = [d for d in lint([kb], today=TODAY).diagnostics if d.code == "IB310"]
    assert [d.severity for d in found] == ["warning"] and "note explains" in found[0].message
    (kb / "models" / model.name).write_text(text.replace("params_total_b: 9.53", "params_total_b: 16"))
    assert [d.severity for d in lint([kb], today=TODAY).diagnostics if d.code == "IB310"] == ["error"]

    shutil.rmtree(kb)
    shutil.copytree(FIXTURES / "IB312" / "fail", kb)
    gpu = kb / "gpus" / "x100.yaml"
    note = 'notes: "FP8 sparsity gives only 1x here"\n'
    gpu.write_text(gpu.read_text().replace("last_reviewed:", note + "last_reviewed:"))
    found = [d for d in lint([kb], today=TODAY).diagnostics if d.code == "IB312"]
    assert [d.severity for d in found] == ["warning"]


def test_helpers():
    assert url_problem("https://docs.nvidia.com/cuda/") is None
    assert "https" in url_problem("http://docs.nvidia.com/")
    assert "placeholder" in url_problem("https://www.example.com/x")
    assert "placeholder" in url_problem("https://intranet/x")
    assert "IP address" in url_problem("https://10.0.0.1/x")
    assert "placeholder marker" in url_problem("https://vendor.com/TODO")
    assert significant_digits(70) == 1 and significant_digits(46.7) == 3 and significant_digits(0.6) == 1
    assert significant_digits(1000) == 1 and significant_digits(14.77) == 4
    assert memory_kind("HBM3 (HBM3e in the 144 GB version)") == "HBM3"
    assert memory_kind("GDDR6 (ECC)") == "GDDR6" and memory_kind("HBM3e") == "HBM3E"
    assert memory_kind("unified memory") is None
    assert normalise("H100 SXM-5") == normalise("h100sxm5")
    assert [r.CODE for r in select_rules(["IB31"], ["IB311"])] == ["IB310", "IB312", "IB313"]
    assert [r.CODE for r in select_rules(["smart-quotes"])] == ["IB330"]


# the command ------------------------------------------------------------------------------
@pytest.fixture
def mixed_kb(make_kb):
    """One schema error (IB101), one graph error (IB201), one lint error (IB305), one lint warning (IB330)."""
    return make_kb({
        **GOOD_SOURCE,
        "concepts/a.yaml": concept("a", title="TODO", related="[missing]"),
        "concepts/b.yaml": concept("b", related="[a]").replace("body: Text.", "body: It’s here.") + "bogus: 1\n",
        "concepts/c.yaml": concept("c", related="[a]").replace("body: Text.", "body: It’s here."),
    })


def test_lint_reports_validation_and_lint_findings_together(capsys, mixed_kb):
    code, out, err = run(capsys, "lint", str(mixed_kb), "--today", "2026-11-27")
    assert code == 1
    codes = [line.split(": ")[1].split()[0] for line in out.splitlines()]
    assert {"IB101", "IB201", "IB305", "IB330"} <= set(codes)
    assert all(":" in line.split(" ")[0] for line in out.splitlines())  # file:line:col: CODE ...
    assert "error(s)" in err and "Traceback" not in out + err


def test_lint_formats_and_exit_codes(capsys, make_kb, mixed_kb):
    code, out, _ = run(capsys, "lint", str(mixed_kb), "--format", "json", "--today", "2026-11-27")
    data = json.loads(out)
    assert code == 1 and {"IB305", "IB330"} <= {d["code"] for d in data}
    assert all({"file", "line", "col", "code", "message", "severity", "hint"} <= set(d) for d in data)
    code, out, _ = run(capsys, "lint", str(mixed_kb), "--format", "github", "--today", "2026-11-27")
    assert "::error file=" in out and "::warning file=" in out and "title=IB330" in out

    warn_only = make_kb({**GOOD_SOURCE, "concepts/a.yaml": concept("a").replace("body: Text.", "body: “Quoted”."),
                         "concepts/b.yaml": concept("b", related="[a]")})
    code, out, _ = run(capsys, "lint", str(warn_only), "--today", "2026-11-27")
    assert code == 0 and "IB330 warning:" in out
    assert run(capsys, "lint", str(warn_only), "--strict", "--today", "2026-11-27")[0] == 1
    assert run(capsys, "lint", str(warn_only), "--ignore", "IB330,IB206", "--strict", "--today", "2026-11-27")[0] == 0
    code, out, _ = run(capsys, "lint", str(warn_only), "--today", "2024-01-01")
    assert "IB313" in out and "in the future" in out and code == 1


def test_lint_single_file_and_rule_list(capsys, mixed_kb):
    code, out, _ = run(capsys, "lint", "--kb", str(mixed_kb), str(mixed_kb / "concepts" / "c.yaml"),
                       "--today", "2026-11-27")
    assert code == 0 and out.count("IB330") == 1 and "IB305" not in out
    code, out, _ = run(capsys, "lint", "--list-rules")
    assert code == 0 and all(c in out for c in CODES)
    code, out, _ = run(capsys, "lint", "--list-rules", "--format", "json")
    assert [r["code"] for r in json.loads(out)] == CODES
    assert run(capsys, "lint", "no/such/folder")[0] == 2
