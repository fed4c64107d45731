"""Subcommands for contributors: new, fmt, lint, diff and rename. Each command's work
lives in its own module; this file only declares the arguments and prints.

new, fmt, diff and rename rewrite YAML with ruamel.yaml: they need the 'contrib' extra
(`extras.require`). Without --kb, every command here works on the checkout's kb/; an
installed package has no YAML files and asks for --kb (`paths.source_kb_dirs`). Both are
usage errors: one line on stderr, exit 2."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from ..diagnostics import render
from ..extras import require
from ..paths import source_kb_dirs
from ..schema import KINDS


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _out(text: str) -> None:
    if text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _err(text: str) -> None:
    print(text, file=sys.stderr)


# new ---------------------------------------------------------------------------------
def cmd_new(args: argparse.Namespace) -> int:
    require("contrib", "this command")
    from .new import create, skeleton

    try:
        if args.stdout:
            _out(skeleton(args.kind, args.id, args.title, args.today))
            return 0
        folder = source_kb_dirs(args.kb)[-1]
        path = create(args.kind, args.id, folder, args.title, args.today, force=args.force)
    except ValueError as exc:
        _err(f"inferbook new: {exc}")
        return 2
    except FileExistsError as exc:
        _err(f"inferbook new: {exc} (use --force to overwrite)")
        return 1
    _out(str(path))
    _err(f"fill in the TODOs, then run `inferbook fmt {path}` and `inferbook lint {path}`")
    return 0


# fmt ---------------------------------------------------------------------------------
def cmd_fmt(args: argparse.Namespace) -> int:
    require("contrib", "this command")
    from .fmt import entry_files, format_file, write_atomic

    roots = [Path(p) for p in args.paths] or source_kb_dirs(args.kb)
    missing = [str(p) for p in roots if not p.exists()]
    if missing:
        _err(f"inferbook fmt: no such file or folder: {', '.join(missing)}")
        return 2
    results = [format_file(path) for path in entry_files(roots)]
    failed = [r for r in results if r.error]
    changed = [r for r in results if r.changed]
    for r in failed:
        _err(f"{r.path}: cannot format: {r.error}")
    for r in changed:
        if args.check:
            _out(f"would reformat {r.path}")
            if args.diff:
                _out(r.diff())
        else:
            write_atomic(r.path, r.formatted or "")
            _out(f"reformatted {r.path}")
    verb = "would be reformatted" if args.check else "reformatted"
    _err(f"{len(results)} file(s): {len(changed)} {verb}, {len(failed)} could not be formatted")
    if failed or (args.check and changed):
        if args.check and changed:
            _err("run `inferbook fmt` to fix the layout")
        return 1
    return 0


# lint --------------------------------------------------------------------------------
def cmd_lint(args: argparse.Namespace) -> int:
    from . import lint as lint_pkg

    if args.list_rules:
        rows = lint_pkg.rule_table()
        if args.format == "json":
            _out(json.dumps(rows, indent=2))
        else:
            for row in rows:
                _out(f"{row['code']} {row['name']} ({row['severity']}): {row['rationale']}\n"
                     f"      fix: {row['hint']}")
        return 0
    from ..cli import UsageError, split_paths

    try:
        folders, files = split_paths(args.kb, args.paths)
    except UsageError as exc:
        _err(f"inferbook lint: {exc}")
        return 2
    if not folders:
        folders = source_kb_dirs(None)
    result = lint_pkg.lint(folders, files=files, today=args.today,
                           select=_codes(args.select), ignore=_codes(args.ignore))
    if args.format == "json":
        _out(render(result.diagnostics, "json"))
    elif result.diagnostics:
        _out(render(result.diagnostics, args.format))
    if args.format != "json":
        checked = result.validation.result
        _err(f"{checked.files_read} files, {len(lint_pkg.select_rules(_codes(args.select), _codes(args.ignore)))} "
             f"lint rules: {len(result.errors)} error(s), {len(result.warnings)} warning(s)")
    failed = bool(result.errors) or (args.strict and bool(result.warnings))
    return 1 if failed else 0


def _codes(values: list[str] | None) -> list[str]:
    return [c.strip() for v in (values or []) for c in v.split(",") if c.strip()]


# diff --------------------------------------------------------------------------------
def cmd_diff(args: argparse.Namespace) -> int:
    require("contrib", "this command")
    from .diff import DiffError, diff_kb, render_json, render_text

    folders = source_kb_dirs(args.kb)
    try:
        result = diff_kb(args.base, folders)
    except DiffError as exc:
        _err(f"inferbook diff: {exc}")
        return 2
    if args.json:
        _out(render_json(result))
    else:
        _out(render_text(result))
    return 1 if result.problems else 0


# rename ------------------------------------------------------------------------------
def cmd_rename(args: argparse.Namespace) -> int:
    require("contrib", "this command")
    from .redirects import RenameError, rename

    folders = source_kb_dirs(args.kb)
    try:
        result = rename(args.old, args.new, folders, args.reason, args.today)
    except RenameError as exc:
        _err(f"inferbook rename: {exc}")
        return 1
    _out(f"moved to {result.moved_to}")
    _out(f"redirect {result.redirect}")
    for path in result.updated:
        _out(f"updated {path}")
    if result.remaining:
        _out(render(result.remaining))
    return 0


# parsers -----------------------------------------------------------------------------
def add_contrib_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register the contributor subcommands (new, fmt, lint, diff, rename) on the CLI."""
    today = argparse.ArgumentParser(add_help=False)
    today.add_argument("--today", type=_date, default=None, metavar="YYYY-MM-DD",
                       help="date to measure review ages against (default: today)")

    p = sub.add_parser("new", parents=[common, today], help="write a skeleton entry with every field explained")
    p.add_argument("kind", choices=list(KINDS), help="kind of the new entry (its folder)")
    p.add_argument("id", help="the new id (also the file name)")
    p.add_argument("--title", help="display name")
    p.add_argument("--stdout", action="store_true", help="print the skeleton instead of writing the file")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("fmt", parents=[common], help="rewrite entry files in canonical layout (keeps comments)")
    p.add_argument("paths", nargs="*", help="files or folders (default: the knowledge base)")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file would change")
    p.add_argument("--diff", action="store_true", help="with --check, show what would change")
    p.set_defaults(func=cmd_fmt)

    p = sub.add_parser("lint", parents=[common, today],
                       help="validate, then check rules beyond the schema; exit 1 on errors")
    p.add_argument("paths", nargs="*", help="knowledge-base folders or single entry files")
    p.add_argument("--format", choices=("text", "json", "github"), default="text",
                   help="findings as text lines, JSON or GitHub annotations (default: %(default)s)")
    p.add_argument("--strict", action="store_true", help="warnings fail too")
    p.add_argument("--select", action="append", metavar="CODES", help="only these rules (e.g. IB310,IB31)")
    p.add_argument("--ignore", action="append", metavar="CODES", help="skip these rules")
    p.add_argument("--list-rules", action="store_true", help="print every rule with its rationale and fix")
    p.set_defaults(func=cmd_lint)

    p = sub.add_parser("diff", parents=[common],
                       help="what the working tree changes in the knowledge base relative to a git revision")
    p.add_argument("base", metavar="BASE", help="git revision to compare with, e.g. origin/main")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("rename", parents=[common, today],
                       help="rename an entry, update references, and leave a redirect")
    p.add_argument("old", help="the id to rename")
    p.add_argument("new", help="the new id")
    p.add_argument("--reason", default="renamed",
                   help="why, in a few words (stored in the redirect; default: %(default)s)")
    p.set_defaults(func=cmd_rename)
