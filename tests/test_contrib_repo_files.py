"""The contributor workflow files: CI runs every check, the pre-commit hooks call the
project's commands, the issue forms are well-formed, and CONTRIBUTING names real commands."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from inferbook.cli import build_parser

ROOT = Path(__file__).parent.parent


def test_ci_workflow_runs_every_check():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    runs = "\n".join(step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"])
    for command in ("./dev.sh test", "inferbook validate", "inferbook lint", "inferbook fmt --check",
                    "inferbook diff \"origin/"):
        assert command in runs, command
    assert "pull_request" in workflow[True]  # the `on:` key reads as a boolean in YAML 1.1
    import tomllib

    classifiers = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["classifiers"]
    supported = sorted(c.rsplit(" ", 1)[1] for c in classifiers if re.fullmatch(r".*:: Python :: 3\.\d+", c))
    assert workflow["jobs"]["check"]["strategy"]["matrix"]["python-version"] == supported == ["3.11", "3.12", "3.13"]


def test_pre_commit_hooks_call_the_project():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    entries = [hook["entry"] for repo in config["repos"] if repo["repo"] == "local" for hook in repo["hooks"]]
    assert any("inferbook fmt --check" in e for e in entries)
    assert any("inferbook validate" in e for e in entries)
    assert any("inferbook lint" in e for e in entries)
    assert any("ruff" in e for e in entries)
    assert any(e.endswith("mypy") for e in entries)
    standard = {hook["id"] for repo in config["repos"] if repo["repo"].endswith("pre-commit-hooks")
                for hook in repo["hooks"]}
    assert {"trailing-whitespace", "end-of-file-fixer", "check-yaml", "check-merge-conflict"} <= standard


def test_issue_forms_and_pr_template():
    forms = sorted((ROOT / ".github" / "ISSUE_TEMPLATE").glob("*.yml"))
    names = {p.stem for p in forms}
    assert {"gpu", "model", "format", "framework", "concept-correction"} <= names
    for path in forms:
        if path.stem == "config":
            continue
        form = yaml.safe_load(path.read_text())
        assert form["name"] and form["description"] and form["body"], path
        ids = [item["id"] for item in form["body"]]
        assert len(ids) == len(set(ids)) and "sources" in ids, path
    template = (ROOT / ".github" / "pull_request_template.md").read_text()
    assert "## Sources" in template


def test_contributing_names_real_commands():
    text = (ROOT / "CONTRIBUTING.md").read_text()
    code = "\n".join(re.findall(r"```.*?```|`[^`\n]+`", text, flags=re.DOTALL))  # code, not prose
    commands = set(re.findall(r"\binferbook ([a-z]+)", code))
    known = set(build_parser()._subparsers._group_actions[0].choices)
    assert {"new", "fmt", "lint", "diff", "rename"} <= commands <= known
