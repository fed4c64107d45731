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

from ...api import KbArg, Validation, validate
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
         select: Iterable[str] = (), ignore: Iterable[str] = ()) -> LintResult:
    """Validate ``kb`` (as `inferbook validate` does) and run the selected rules on
    every entry that passed its schema. With ``files``, keep only findings in them."""
    checked = validate(kb, files=files)
    ctx = LintContext(checked.result.entries, today or dt.date.today())
    found = run_rules(ctx, select_rules(select, ignore))
    if files:
        from ...loader import display_path

        wanted = {display_path(f) for f in files}
        found = [d for d in found if d.file in wanted]
    return LintResult(checked, sorted(checked.diagnostics + found, key=Diagnostic.sort_key))


def rule_table() -> list[dict[str, str]]:
    """One row per rule: code, name, severity, rationale, hint."""
    return [{"code": r.CODE, "name": r.NAME, "severity": r.SEVERITY, "rationale": r.RATIONALE, "hint": r.HINT}
            for r in RULES]


__all__ = ["RULES", "LintContext", "LintResult", "lint", "rule_table", "run_rules", "select_rules"]
