"""`inferbook lint`: rules beyond the schema, one module per rule.

Every module of this package named `ibNNN_<name>.py` is a rule (see `base.py` for
what it exposes); `RULES` lists them by code. `lint()` runs the schema and graph
checks of `inferbook validate` first and the rules after, so one run reports every
finding. Codes IB301-IB399 belong to lint rules.
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ...api import KbArg, Validation, builtin_files, is_builtin, kb_folders, validate
from ...diagnostics import Diagnostic
from .base import LintContext

_RULE_MODULE = re.compile(r"^ib(3\d\d)_[a-z0-9_]+$")
REQUIRED = ("CODE", "NAME", "SEVERITY", "RATIONALE", "HINT", "check")


def _discover() -> tuple[ModuleType, ...]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        match = _RULE_MODULE.match(info.name)
        if not match:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        missing = [name for name in REQUIRED if not hasattr(module, name)]
        if missing:
            raise ImportError(f"lint rule {info.name} lacks {', '.join(missing)}")
        if module.CODE != f"IB{match.group(1)}":
            raise ImportError(f"lint rule {info.name} declares code {module.CODE}")
        if module.SEVERITY not in ("error", "warning"):
            raise ImportError(f"lint rule {info.name} has severity {module.SEVERITY!r}")
        found.append(module)
    return tuple(sorted(found, key=lambda m: m.CODE))


RULES: tuple[ModuleType, ...] = _discover()
"""Every lint rule module, by code."""


def rules_by_code() -> dict[str, ModuleType]:
    """Code -> rule module."""
    return {rule.CODE: rule for rule in RULES}


def select_rules(select: Iterable[str] = (), ignore: Iterable[str] = ()) -> list[ModuleType]:
    """Rules whose code (or name) is selected and not ignored; prefixes such as IB31 work."""
    def matches(rule: ModuleType, patterns: list[str]) -> bool:
        return any(rule.CODE.startswith(p.upper()) or rule.NAME == p for p in patterns)

    chosen, dropped = [s for s in select if s], [s for s in ignore if s]
    return [r for r in RULES if (not chosen or matches(r, chosen)) and not matches(r, dropped)]


def run_rules(ctx: LintContext, rules: Sequence[ModuleType] = RULES) -> list[Diagnostic]:
    """Findings of ``rules`` on the context; a rule that fails reports that as an error."""
    diags: list[Diagnostic] = []
    for rule in rules:
        try:
            diags.extend(rule.check(ctx))
        except Exception as exc:  # a broken rule must not hide the other findings
            diags.append(Diagnostic("(lint)", 1, 1, rule.CODE, f"rule {rule.NAME} failed: {exc!r}",
                                    hint="this is a bug in inferbook; please report it"))
    return diags


def layer_filter(found: Sequence[Diagnostic], ctx: LintContext) -> list[Diagnostic]:
    """``found`` without the findings of rules a layer's `_layer.yaml` ignores in its own files."""
    ignored: dict[str, tuple[str, ...]] = {}
    for loaded in ctx.entries.values():
        layer = ctx.layer_of(loaded)
        if layer is not None and layer.lint.ignore:
            ignored[loaded.display_path] = layer.lint.ignore
    if not ignored:
        return list(found)
    names = {rule.CODE: rule.NAME for rule in RULES}

    def dropped(d: Diagnostic) -> bool:
        return any(d.code.startswith(p.upper()) or names.get(d.code) == p for p in ignored.get(d.file, ()))

    return [d for d in found if not dropped(d)]


@dataclass(slots=True)
class LintResult:
    """Validation findings plus lint findings, sorted."""

    validation: Validation
    diagnostics: list[Diagnostic]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


def lint(kb: KbArg = None, files: Sequence[Path] = (), today: dt.date | None = None,
         select: Iterable[str] = (), ignore: Iterable[str] = (), *, builtin: bool | None = False) -> LintResult:
    """Validate ``kb`` (as `inferbook validate` does) and run the selected rules on
    every entry that passed its schema. With ``files``, keep only findings in them.
    Each layer's `_layer.yaml` may drop rules for its own files (`lint: {ignore: [...]}`)
    and allow source hosts (`allowed_hosts`, see `LintContext.url_problem`). When the
    built-in knowledge base lies under other layers, findings in its files are left out
    (lint it alone to see them). ``builtin`` as in `api.kb_folders`."""
    folders = kb_folders(kb, builtin=builtin)
    checked = validate(folders, files=files)
    ctx = LintContext(checked.result.entries, today or dt.date.today(), tuple(checked.result.layers))
    found = layer_filter(run_rules(ctx, select_rules(select, ignore)), ctx)
    if len(folders) > 1 and is_builtin(folders[0]):
        inside = builtin_files(checked.result, folders[0])
        found = [d for d in found if d.file not in inside]
    if files:
        from ...loader import display_path

        wanted = {display_path(f) for f in files}
        found = [d for d in found if d.file in wanted]
    return LintResult(checked, sorted(checked.diagnostics + found, key=Diagnostic.sort_key))


def rule_table() -> list[dict[str, str]]:
    """One row per rule: code, name, severity, rationale, hint."""
    return [{"code": r.CODE, "name": r.NAME, "severity": r.SEVERITY, "rationale": r.RATIONALE, "hint": r.HINT}
            for r in RULES]


__all__ = ["RULES", "LintContext", "LintResult", "layer_filter", "lint", "rule_table", "run_rules", "select_rules"]
