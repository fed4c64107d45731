"""The `inferbook` command line. Exit codes: 0 success, 1 invalid data or
nothing found, 2 usage error."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import cli_args as opt
from .api import kb_folders, load, validate
from .diagnostics import KnowledgeBaseError, render
from .kb import KnowledgeBase, field_value
from .schema import KINDS
from .version import __version__

Handler = Callable[[argparse.Namespace], int]
_COMMANDS: dict[str, Handler] = {}


class UsageError(Exception):
    """A command was called with arguments it cannot use."""


def _out(text: str) -> None:
    sys.stdout.write(text + ("\n" if not text.endswith("\n") else ""))


def _json(data: Any) -> None:
    _out(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _kb(args: argparse.Namespace) -> KnowledgeBase:
    return load(args.kb or None)


# validate -------------------------------------------------------------------
def split_paths(kb: list[str] | None, paths: list[str]) -> tuple[list[Path], list[Path]]:
    """`--kb` folders plus positional paths, split into folders and single entry files."""
    folders = [Path(p) for p in (kb or [])]
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            folders.append(path)
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"no such file or folder: {raw}")
    return folders, files


def cmd_validate(args: argparse.Namespace) -> int:
    folders, files = split_paths(args.kb, args.paths)
    if files and not folders:
        folders = kb_folders(None)
    result = validate(folders or None, files=files)
    if args.format == "json":
        _out(render(result.diagnostics, "json"))
    elif result.diagnostics:
        _out(render(result.diagnostics, args.format))
    if args.format != "json":
        summary = (f"{result.result.files_read} files, {len(result.result.entries)} valid entries: "
                   f"{len(result.errors)} error(s), {len(result.warnings)} warning(s)")
        print(summary, file=sys.stderr)
    failed = bool(result.errors) or (args.strict and bool(result.warnings))
    return 1 if failed else 0


# show / list / search -------------------------------------------------------------
def cmd_show(args: argparse.Namespace) -> int:
    kb = _kb(args)
    entry = kb.get(args.id)
    kind = kb.kind_of(entry.id)
    data = entry.model_dump(mode="json", exclude_defaults=True)
    backlinks = [e.id for e in kb.backlinks(entry.id)]
    if args.json:
        _json({"kind": kind, **data, "backlinks": backlinks})
        return 0
    _out(f"{entry.title}  [{kind}/{entry.id}]")
    for key, value in data.items():
        if key in ("id", "title"):
            continue
        _out(f"  {key}: {_short(value)}")
    if backlinks:
        _out(f"  backlinks: {', '.join(backlinks)}")
    return 0


def _short(value: Any, width: int = 110) -> str:
    if isinstance(value, dict) and set(value) >= {"value"}:
        text = str(_num(value["value"]))
    elif isinstance(value, (dict, list)):
        text = json.dumps(_compact(value), ensure_ascii=False)
    else:
        text = str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 3] + "..."


def _compact(value: Any) -> Any:
    if isinstance(value, dict):
        if "value" in value and set(value) <= {"value", "source", "locator", "note", "alternatives"}:
            return _num(value["value"])
        return {k: _compact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


def _num(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def cmd_list(args: argparse.Namespace) -> int:
    kb = _kb(args)
    if args.kind not in KINDS:
        raise UsageError(f"unknown kind '{args.kind}'; kinds: {', '.join(KINDS)}")
    try:
        rows = kb.where(args.kind, *args.where)
    except (ValueError, KeyError) as exc:
        raise UsageError(str(exc).strip('"')) from None
    fields = [f for f in (args.fields or "").split(",") if f]
    table = []
    for entry in rows:
        row = {"id": entry.id, "title": entry.title}
        for f in fields:
            try:
                row[f] = field_value(entry, f)
            except KeyError as exc:
                raise UsageError(str(exc).strip('"')) from None
        table.append(row)
    if args.json:
        _json(table)
    else:
        _print_table(table)
        print(f"{len(table)} {args.kind}", file=sys.stderr)
    return 0 if table else 1


def _print_table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    cols = list(rows[0])
    cells = [[("" if r[c] is None else str(_num(r[c]))) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    _out("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=False)).rstrip())
    for row in cells:
        _out("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)).rstrip())


def cmd_search(args: argparse.Namespace) -> int:
    kb = _kb(args)
    hits = kb.search(args.text, kind=args.kind, limit=args.limit)
    if args.json:
        _json([{"id": h.id, "kind": h.kind, "title": h.title, "score": h.score} for h in hits])
    else:
        _print_table([{"id": h.id, "kind": h.kind, "title": h.title} for h in hits])
    return 0 if hits else 1


# schema / build / version ---------------------------------------------------------
def cmd_schema(args: argparse.Namespace) -> int:
    from .jsonschema import export_schemas, stale_schemas

    out = Path(args.out) if args.out else None
    if args.check:
        stale = stale_schemas(out)
        for name in stale:
            print(f"stale: {name} (run `inferbook schema` to regenerate)", file=sys.stderr)
        return 1 if stale else 0
    for path in export_schemas(out):
        _out(str(path))
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from .generators import TARGETS, build

    targets = list(TARGETS) if args.target == "all" else [args.target]
    for target in targets:
        if TARGETS.get(target) is None:
            print(f"build target '{target}' is not available yet", file=sys.stderr)
            return 2
    pdf_options = None
    if args.chapter or args.paper != "a4":
        from .generators.pdf import PdfOptions

        if "pdf" not in targets:
            raise UsageError("--chapter and --paper apply to the pdf target")
        pdf_options = PdfOptions(chapter=args.chapter, paper=args.paper)
    from .generators import BuildError
    from .generators.pdf import PdfError

    try:
        outputs = build(targets, kb=args.kb or None, out=Path(args.out), pdf_options=pdf_options)
    except PdfError as exc:
        raise UsageError(str(exc)) from None
    except BuildError as exc:  # a dangerous, unwritable or foreign output folder
        print(f"inferbook build: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # e.g. the disk filled up while writing
        where = f" {exc.filename}" if exc.filename else ""
        print(f"inferbook build: cannot write{where}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    for path in outputs:
        _out(str(path))
    return 0


def cmd_calc(args: argparse.Namespace) -> int:
    from .cli_calc import COMMANDS, CalcError

    try:
        return COMMANDS[args.command](_kb(args), args)
    except CalcError as exc:
        raise UsageError(str(exc)) from None


def cmd_version(args: argparse.Namespace) -> int:
    kb = _kb(args)
    info = {"package_version": __version__, "data_version": kb.data_version, "data_date": kb.data_date,
            "entries": len(kb)}
    if args.json:
        _json(info)
    else:
        _out(f"inferbook {__version__}, data {kb.data_version} ({kb.data_date}), {len(kb)} entries")
    return 0


# provenance -------------------------------------------------------------------
def cmd_provenance(args: argparse.Namespace) -> int:
    from .provenance import all_number_sources, number_sources, provenance_report

    kb = _kb(args)
    if not args.ids and not args.json and not args.secondary:
        _out(provenance_report(kb))
        return 0
    rows = [r for i in args.ids for r in number_sources(kb, i)] if args.ids else all_number_sources(kb)
    if args.secondary:
        rows = [r for r in rows if r.secondary]
    if args.json:
        _json([dataclasses.asdict(r) for r in rows])
        return 0
    for r in rows:
        mark = " (secondary)" if r.secondary else ""
        alt = f", {r.alternatives} alternative(s)" if r.alternatives else ""
        _out(f"{r.entry_id:32s} {r.field:34s} {r.value:>12g}  {r.source_id}{mark}{alt}")
    return 0


# parser -----------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--kb", action="append", metavar="DIR",
                        help="knowledge-base folder (repeat to layer folders; default: the built-in kb/)")
    parser = argparse.ArgumentParser(prog="inferbook", description="The LLM inference handbook as data.")
    parser.add_argument("--version", action="version", version=f"inferbook {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("validate", parents=[common], help="check schema and references; exit 1 on errors")
    p.add_argument("paths", nargs="*", help="knowledge-base folders or single entry files")
    p.add_argument("--format", choices=("text", "json", "github"), default="text",
                   help="findings as text lines, JSON or GitHub annotations (default: %(default)s)")
    p.add_argument("--strict", action="store_true", help="warnings fail too")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("show", parents=[common], help="print one entry by id or alias")
    p.add_argument("id", help="entry id or alias")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("list", parents=[common], help="list entries of a kind, optionally filtered")
    p.add_argument("kind", help="one of: " + ", ".join(KINDS))
    p.add_argument("--where", action="append", default=[], metavar="EXPR",
                   help="filter FIELD OP VALUE, e.g. memory_gib>=80 or vendor=nvidia; FIELD a dotted field path, "
                        "OP one of = != < <= > >= ~ (~ means contains); < <= > >= need a number, text matches "
                        "ignore case; repeatable, all must match")
    p.add_argument("--fields", help="comma-separated extra columns, e.g. memory_gib,vendor (default: id and title)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("search", parents=[common], help="full-text search")
    p.add_argument("text", help="words to look for")
    p.add_argument("--kind", choices=list(KINDS), help="only entries of this kind (default: every kind)")
    p.add_argument("--limit", type=opt.ROWS, default=20, help=opt.helptext("results shown", opt.ROWS))
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("build", parents=[common], help="generate outputs into build/")
    p.add_argument("target", nargs="?", default="all", choices=("site", "pdf", "notebooks", "tables", "all"),
                   help="what to build (default: %(default)s)")
    p.add_argument("--out", default="build", metavar="DIR", help="output folder (default: build/)")
    p.add_argument("--chapter", metavar="ID", help="pdf: print one chapter (build/pdf/inferbook-ID.pdf)")
    p.add_argument("--paper", choices=("a4", "letter"), default="a4", help="pdf: paper size (default: %(default)s)")
    p.set_defaults(func=cmd_build)

    from .cli_calc import COMMANDS, add_parsers

    add_parsers(sub, common)
    for name in COMMANDS:
        sub.choices[name].set_defaults(func=cmd_calc)

    from .contrib.cli import add_contrib_parsers  # new, fmt, lint, diff

    add_contrib_parsers(sub, common)

    from .cli_notebook import add_notebook_parser
    add_notebook_parser(sub, common)

    from .serve import add_serve_parser
    add_serve_parser(sub, common)

    from .importer import add_import_parser  # import-config
    add_import_parser(sub, common)

    p = sub.add_parser("provenance", parents=[common],
                       help="which source vouches for each number of GPUs, models, formats and frameworks")
    p.add_argument("ids", nargs="*", help="entry ids or aliases (default: a summary of every entry)")
    p.add_argument("--secondary", action="store_true", help="only numbers that rest on secondary sources")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_provenance)

    p = sub.add_parser("schema", help="export the JSON Schema of every kind")
    p.add_argument("--out", metavar="DIR", help="folder (default: the project's schema/)")
    p.add_argument("--check", action="store_true", help="exit 1 if the exported files are stale")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("version", parents=[common], help="package and data versions")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_version)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KnowledgeBaseError as exc:
        print(render(exc.diagnostics), file=sys.stderr)
        print(f"{len(exc.diagnostics)} error(s); run `inferbook validate` for details", file=sys.stderr)
        return 1
    except KeyError as exc:
        print(f"inferbook: {str(exc).strip(chr(34))}", file=sys.stderr)
        return 1
    except UsageError as exc:
        print(f"inferbook {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return 0
