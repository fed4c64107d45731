"""The `inferbook` command line. Exit codes: 0 success, 1 invalid data or
nothing found, 2 usage error.

Knowledge-base folders: `--kb DIR` (repeatable) or, without it, $INFERBOOK_KB
(folders separated by os.pathsep) are layered over the built-in knowledge base,
unless the bottom folder is a complete knowledge base of its own (it has chapters/,
or its `_layer.yaml` says `base: true`) or `--no-builtin` is given. `main` settles
this once, before any command runs, so every command reads the same layers. Commands
that write YAML (new, fmt, rename, import-config) and `diff` work on exactly the
folders named, and refuse to write into an installed package or the built-in
knowledge base (`api.write_refusal`)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import api
from . import cli_args as opt
from .api import env_folders, kb_folders, load, unique_folders, validate
from .completion import SHELLS
from .diagnostics import KnowledgeBaseError, render
from .kb import KnowledgeBase, plain
from .schema import KINDS
from .version import __version__

Handler = Callable[[argparse.Namespace], int]
_COMMANDS: dict[str, Handler] = {}

WRITERS = ("new", "fmt", "rename", "import-config")
"""Commands that write into a knowledge-base folder: they get exactly the folders named."""
LITERAL = ("diff",)
"""Commands that read exactly the folders named (nothing layered under them)."""
LIST_FORMATS = ("table", "csv", "json", "jsonl")


class UsageError(Exception):
    """A command was called with arguments it cannot use."""


def _out(text: str) -> None:
    sys.stdout.write(text + ("\n" if not text.endswith("\n") else ""))


def _json(data: Any) -> None:
    _out(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _kb(args: argparse.Namespace) -> KnowledgeBase:
    return load(args.kb or None)


# knowledge-base folders -----------------------------------------------------------------
def split_paths(kb: list[str] | None, paths: list[str]) -> tuple[list[Path], list[Path]]:
    """`--kb` folders plus positional paths, split into folders (each once) and single entry files."""
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
    return unique_folders(folders), files


def prepare_layers(args: argparse.Namespace) -> None:
    """Settle `args.kb` for the command: the folders given (--kb, then folder paths of validate
    and lint, else $INFERBOOK_KB), each once, with the built-in knowledge base underneath
    unless --no-builtin or the bottom folder is complete; exactly the folders named for
    writers and diff, which also must not write where `api.write_refusal` forbids."""
    if not hasattr(args, "kb"):
        return
    given = [Path(p) for p in (args.kb or [])]
    if args.command in ("validate", "lint") and not getattr(args, "list_rules", False):
        folders, files = split_paths(None, args.paths)
        given += folders
        args.paths = [str(f) for f in files]
    if not given:
        given = env_folders()
    if args.command in WRITERS or args.command in LITERAL:
        args.kb = [str(p) for p in unique_folders(given)] or None
        if args.command in WRITERS:
            _check_writes(args, explicit=bool(given))
        return
    if not given:
        args.kb = None
        return
    builtin = False if getattr(args, "no_builtin", False) else None
    args.kb = [str(p) for p in kb_folders(given, builtin=builtin)]


def _check_writes(args: argparse.Namespace, explicit: bool) -> None:
    """UsageError when the command would write into the installed package or the built-in KB."""
    command = args.command
    if (command == "new" and args.stdout) or (command == "fmt" and args.check):
        return
    if command == "import-config" and (args.stdout or not Path(args.path).is_file()):
        return  # a config that cannot be read is reported first, by the command
    folders = [Path(p) for p in args.kb] if args.kb else [api.default_kb_dir()]
    if command == "fmt" and args.paths:
        targets, explicit = [Path(p) for p in args.paths], True
    elif command in ("new", "import-config"):
        targets = folders[-1:]
    else:
        targets = folders
    for target in targets:
        reason = api.write_refusal(target, explicit)
        if reason is not None:
            raise UsageError(f"refusing to write: {reason}")


# validate -------------------------------------------------------------------
def cmd_validate(args: argparse.Namespace) -> int:
    folders, files = split_paths(args.kb, args.paths)
    if files and not folders:
        folders = kb_folders(None)
    result = validate(folders or None, files=files, cached=True)
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


# show ------------------------------------------------------------------------------
QUANTITY_KEYS = frozenset({"value", "source", "locator", "note", "alternatives"})


def cmd_show(args: argparse.Namespace) -> int:
    kb = _kb(args)
    entry = kb.get(args.id)
    kind = kb.kind_of(entry.id)
    data = entry.model_dump(mode="json", exclude_defaults=True)
    # kb.backlinks(entry.id), without indexing every link of the knowledge base for one entry
    backlinks = list(dict.fromkeys(source for source, target, _ in kb.links() if target == entry.id))
    if args.json:
        _json({"kind": kind, **data, "backlinks": backlinks})
        return 0
    expand = _expander(kb) if {"body", "faq", "exercises"} & set(data) else str
    _out(f"{entry.title}  [{kind}/{entry.id}]")
    for key, value in data.items():
        if key in ("id", "title"):
            continue
        if key == "body" and isinstance(value, str):
            _out("\n".join(_body_lines(expand(value), args.full)))
        elif key in PROSE_ITEMS and isinstance(value, list):
            shown = [{k: expand(v) if k in PROSE_ITEMS[key] and isinstance(v, str) else v for k, v in item.items()}
                     if isinstance(item, dict) else item for item in value]
            if key == "exercises":  # the answer is an expression without braces: show its value
                shown = [{**item, "answer": expand("{{ " + item["answer"] + " }}")} if "answer" in item else item
                         for item in shown]
            if key == "figures":  # the drawing itself is SVG text, not for a terminal
                shown = [{k: v for k, v in item.items() if k != "svg"} for item in shown]
            _out("\n".join(_field_lines(key, shown, 2)))
        else:
            _out("\n".join(_field_lines(key, value, 2)))
    if backlinks:
        _out(f"  backlinks: {', '.join(backlinks)}")
    return 0


PROSE_ITEMS = {"faq": ("q", "a"), "exercises": ("question", "solution"), "figures": ("caption",)}
"""List fields whose items hold prose with expressions: `show` prints those parts evaluated."""


def _expander(kb: KnowledgeBase) -> Callable[[str], str]:
    """Prose with every `{{ expression }}` replaced by its value (or by a bracketed note
    saying why it cannot be evaluated), as the handbook prints it."""
    from .expressions import Evaluator, ExpressionError, replace_expressions

    evaluator = Evaluator(kb)

    def one(span: str) -> str:
        try:
            return evaluator.evaluate(span[2:-2])
        except ExpressionError as exc:
            return f"[cannot evaluate: {exc}]"

    return lambda text: replace_expressions(text, one)


def _body_lines(text: str, full: bool) -> list[str]:
    """The body under `body:`: all of it with --full, else its first paragraph and a note."""
    paragraphs = [p for p in text.strip("\n").split("\n\n") if p.strip()]
    shown = paragraphs if full else paragraphs[:1]
    lines = ["  body: |"] + [f"    {line}".rstrip() for line in "\n\n".join(shown).splitlines()]
    rest = len(paragraphs) - len(shown)
    if rest:
        lines.append(f"    ... {rest} more paragraph{'s' if rest > 1 else ''} (show --full prints the whole body)")
    return lines


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(_num(value))


def _is_quantity(value: Any) -> bool:
    return isinstance(value, dict) and "value" in value and set(value) <= QUANTITY_KEYS


def _quantity_text(value: dict[str, Any]) -> str:
    """A sourced number on one line: the value, then its source, locator and note."""
    extra = [f"{k}: {value[k]}" for k in ("source", "locator", "note") if value.get(k)]
    return _scalar(value["value"]) + (f"  ({'; '.join(extra)})" if extra else "")


def _field_lines(key: str, value: Any, indent: int) -> list[str]:
    """``key: value`` written out in full, nested groups and lists indented below their key."""
    pad = " " * indent
    if _is_quantity(value):
        lines = [f"{pad}{key}: {_quantity_text(value)}"]
        for alt in value.get("alternatives", ()):
            lines.append(f"{pad}  alternative: {_quantity_text(alt)}")
        return lines
    if isinstance(value, dict):
        lines = [f"{pad}{key}:"]
        for k, v in value.items():
            lines += _field_lines(k, v, indent + 2)
        return lines
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) and not any(c in str(v) for c in ",\n") for v in value):
            return [f"{pad}{key}: {', '.join(_scalar(v) for v in value)}"]
        lines = [f"{pad}{key}:"]
        for item in value:
            lines += _item_lines(item, indent + 2)
        return lines
    if isinstance(value, str) and "\n" in value.strip("\n"):
        return [f"{pad}{key}: |"] + [f"{pad}  {line}".rstrip() for line in value.strip("\n").splitlines()]
    return [f"{pad}{key}: {_scalar(value.strip(chr(10)) if isinstance(value, str) else value)}"]


def _item_lines(item: Any, indent: int) -> list[str]:
    """One list item: `- value`, or `- first: ...` with the rest of a group aligned under it."""
    pad = " " * indent
    if isinstance(item, dict) and not _is_quantity(item):
        lines: list[str] = []
        for k, v in item.items():
            lines += _field_lines(k, v, indent + 2)
        if lines:
            lines[0] = f"{pad}- {lines[0][indent + 2:]}"
        return lines or [f"{pad}- {{}}"]
    if _is_quantity(item):
        return [f"{pad}- {_quantity_text(item)}"]
    if isinstance(item, list):
        return [f"{pad}- {', '.join(_scalar(v) for v in item)}"]
    if isinstance(item, str) and "\n" in item.strip("\n"):
        return [f"{pad}- |"] + [f"{pad}  {line}".rstrip() for line in item.strip("\n").splitlines()]
    return [f"{pad}- {_scalar(item.strip(chr(10)) if isinstance(item, str) else item)}"]


def _num(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


# list / search ---------------------------------------------------------------------
def cmd_list(args: argparse.Namespace) -> int:
    kb = _kb(args)
    if args.kind not in KINDS:
        raise UsageError(f"unknown kind '{args.kind}'; kinds: {', '.join(KINDS)}")
    fields = ["title", *(f for f in (args.fields or "").split(",") if f.strip())]
    try:
        table = kb.table(args.kind, [f.strip() for f in fields], where=args.where, sort=args.sort)
    except (ValueError, KeyError) as exc:
        raise UsageError(str(exc).strip('"')) from None
    fmt = "json" if args.json else args.format
    if fmt == "json":
        _json(list(table))
    elif fmt == "jsonl":
        for row in table:
            _out(json.dumps(row, ensure_ascii=False, default=str))
    elif fmt == "csv":
        _out(_csv(table, table.columns))
    else:
        _print_table(list(table))
        print(f"{len(table)} {args.kind}", file=sys.stderr)
    return 0 if table else 1


def _cell(value: Any) -> str:
    """A value in one text cell: lists joined with '; ', groups as JSON, integral floats without .0."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return _scalar(value)


def _csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buffer.getvalue()


def _print_table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    cols = list(rows[0])
    cells = [[_cell(r[c]) for c in cols] for r in rows]
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


# compare / prerequisites -------------------------------------------------------------
_SKIPPED = frozenset({"id", "title", "aliases", "summary", "body", "faq", "notes", "source", "sources",
                      "field_sources", "config_source", "last_reviewed", "formulas", "tool_definitions"})
"""Fields `compare` leaves out: names, prose and citations (`show` prints them)."""
_FIRST = {
    "gpus": ("memory_gib", "memory_bandwidth_gb_s", "dense.", "tdp_w", "interconnect.bandwidth_gb_s"),
    "models": ("params_total_b", "params_active_b", "architecture.layers", "architecture.hidden_size",
               "architecture.attention_heads", "architecture.kv_heads", "architecture.head_dim",
               "architecture.context_length", "native_dtype"),
    "formats": ("bits_per_value", "effective_bits_per_weight"),
}
"""Rows `compare` shows first for a kind (a trailing dot takes a whole group); the rest follow in schema order."""
_UNIT_NAMES = {"context_length": "tokens", "sliding_window": "tokens", "attention_chunk_size": "tokens",
               "vocab_size": "tokens", "domain_gpus": "GPUs", "bits_per_value": "bits",
               "effective_bits_per_weight": "bits"}
_UNIT_SUFFIXES = (("_gb_s", "GB/s"), ("_gib", "GiB"), ("_tflops", "TFLOPS"), ("_tops", "TOPS"), ("_w", "W"),
                  ("_b", "billion"), ("_bits", "bits"), ("_bytes", "bytes"))


def unit_of(field: str) -> str:
    """The unit a field's name states (memory_gib -> GiB, dense.fp8_tflops -> TFLOPS), or ''."""
    name = field.rsplit(".", 1)[-1]
    if name in _UNIT_NAMES:
        return _UNIT_NAMES[name]
    return next((unit for suffix, unit in _UNIT_SUFFIXES if name.endswith(suffix)), "")


def _walk(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted field, plain value) of every field of a model, groups opened, in schema order;
    lists of groups (citations, FAQ) and the fields in `_SKIPPED` left out."""
    from pydantic import BaseModel

    from .schema.base import Quantity

    rows: list[tuple[str, Any]] = []
    for name in type(value).model_fields:
        if not prefix and name in _SKIPPED:
            continue
        item = getattr(value, name)
        path = f"{prefix}{name}"
        if isinstance(item, BaseModel) and not isinstance(item, Quantity):
            rows += _walk(item, path + ".")
        elif isinstance(item, tuple) and any(isinstance(i, BaseModel) for i in item):
            continue
        else:
            rows.append((path, plain(item)))
    return rows


def comparison(kb: KnowledgeBase, keys: Sequence[str]) -> dict[str, Any]:
    """Entries side by side: {"entries": [{id, kind, title}], "rows": [{field, unit, values}]},
    one row per field that any of them fills, in schema order (plain values; None where unset)."""
    entries = list({e.id: e for e in (kb.get(k) for k in keys)}.values())
    walked = [dict(_walk(e)) for e in entries]
    fields = list(dict.fromkeys(f for w in walked for f in w))
    first = [p for e in entries for p in _FIRST.get(kb.kind_of(e.id), ())]

    def rank(field: str) -> int:
        return next((i for i, p in enumerate(first) if field == p or (p.endswith(".") and field.startswith(p))),
                    len(first))

    fields.sort(key=rank)  # stable: schema order within each rank
    rows = []
    for field in fields:
        values = {e.id: w.get(field) for e, w in zip(entries, walked, strict=True)}
        if any(v not in (None, [], "") for v in values.values()):
            rows.append({"field": field, "unit": unit_of(field), "values": values})
    return {"entries": [{"id": e.id, "kind": kb.kind_of(e.id), "title": e.title} for e in entries], "rows": rows}


def cmd_compare(args: argparse.Namespace) -> int:
    kb = _kb(args)
    data = comparison(kb, args.ids)
    if len(data["entries"]) < 2:
        raise UsageError("give at least two different entries to compare")
    if args.json:
        _json(data)
        return 0
    ids = [e["id"] for e in data["entries"]]
    table = [{"field": "title", "unit": "", **{e["id"]: e["title"] for e in data["entries"]}},
             {"field": "kind", "unit": "", **{e["id"]: e["kind"] for e in data["entries"]}}]
    table += [{"field": r["field"], "unit": r["unit"], **{i: r["values"][i] for i in ids}} for r in data["rows"]]
    _print_table(table)
    return 0


def cmd_prerequisites(args: argparse.Namespace) -> int:
    kb = _kb(args)
    entry = kb.get(args.id)
    path = kb.prerequisites(entry.id, recursive=not args.direct)
    rows = [{"id": e.id, "kind": kb.kind_of(e.id), "title": e.title} for e in path]
    if args.json:
        _json({"id": entry.id, "title": entry.title, "prerequisites": rows})
        return 0
    if not rows:
        _out(f"{entry.title} [{entry.id}] has no prerequisites")
        return 0
    what = "direct prerequisites" if args.direct else "read first, in this order"
    _out(f"{entry.title} [{entry.id}]: {what}")
    for number, row in enumerate(rows, 1):
        _out(f"  {number:>2}. {row['title']}  [{row['kind']}/{row['id']}]")
    return 0


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


def cmd_completion(args: argparse.Namespace) -> int:
    if args.ids:
        kb = _kb(args)
        _out("\n".join(e.id for e in kb))
        return 0
    if args.shell is None:
        raise UsageError(f"name a shell ({', '.join(SHELLS)}) or give --ids")
    from .completion import completion_script

    _out(completion_script(args.shell, build_parser()))
    return 0


# parser -----------------------------------------------------------------------
_GROUPS: dict[str, tuple[str, ...]] = {
    "calc": ("kv", "fit", "roofline", "simulate", "predict", "plan"),
    "contrib": ("new", "fmt", "lint", "diff", "rename"),
    "notebook": ("notebook",),
    "serve": ("serve",),
    "import": ("import-config",),
    "mcp": ("mcp",),
}
"""Subcommands other modules declare, by the module that declares them: `main` builds only the
group a command needs (importing a group's module costs time), or all for help and completion."""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: every command, or with ``only`` (a command name) the commands of
    this module plus that command's group."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--kb", action="append", metavar="DIR",
                        help="knowledge-base folder, layered over the built-in one (repeat to layer several, in "
                             "order; default: the folders in $INFERBOOK_KB, else the built-in kb/ alone)")
    common.add_argument("--no-builtin", action="store_true",
                        help="load only the --kb folders, without the built-in knowledge base underneath (default: "
                             "it goes underneath unless the bottom folder has chapters/ of its own or its "
                             "_layer.yaml says base: true)")
    parser = argparse.ArgumentParser(prog="inferbook", description="The LLM inference handbook as data.")
    parser.add_argument("--version", action="version", version=f"inferbook {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("validate", parents=[common], help="check schema and references; exit 1 on errors")
    p.add_argument("paths", nargs="*", help="knowledge-base folders or single entry files")
    p.add_argument("--format", choices=("text", "json", "github"), default="text",
                   help="findings as text lines, JSON or GitHub annotations (default: %(default)s)")
    p.add_argument("--strict", action="store_true", help="warnings fail too (default: only errors fail)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("show", parents=[common], help="print one entry by id or alias")
    p.add_argument("id", help="entry id or alias")
    p.add_argument("--full", action="store_true",
                   help="print the whole article body, its expressions evaluated (default: its first paragraph)")
    p.add_argument("--json", action="store_true", help="print the entry's data as JSON (default: text)")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("list", parents=[common], help="list entries of a kind, optionally filtered and sorted")
    p.add_argument("kind", help="one of: " + ", ".join(KINDS))
    p.add_argument("--where", action="append", default=[], metavar="EXPR",
                   help="filter FIELD OP VALUE, e.g. memory_gib>=80 or vendor=nvidia; FIELD a dotted field path, "
                        "OP one of = != < <= > >= ~ (~ means contains); < <= > >= need a number, text matches "
                        "ignore case; repeatable, all must match (default: no filter)")
    p.add_argument("--fields", help="comma-separated extra columns, e.g. memory_gib,vendor (default: id and title)")
    p.add_argument("--sort", action="append", default=[], metavar="FIELD",
                   help="sort by a field, -FIELD for descending (e.g. --sort -memory_gib); repeatable or "
                        "comma-separated, the first most significant; entries without a value last "
                        "(default: by id)")
    p.add_argument("--format", choices=LIST_FORMATS, default="table",
                   help="an aligned table, CSV, a JSON array or JSON lines (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="same as --format json")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("search", parents=[common], help="full-text search")
    p.add_argument("text", help="words to look for")
    p.add_argument("--kind", choices=list(KINDS), help="only entries of this kind (default: every kind)")
    p.add_argument("--limit", type=opt.ROWS, default=20, help=opt.helptext("results shown", opt.ROWS))
    p.add_argument("--json", action="store_true", help="print JSON (default: a table)")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("compare", parents=[common],
                       help="entries side by side with units (GPUs, models, formats or any other kind)")
    p.add_argument("ids", nargs="+", metavar="ID", help="two or more entry ids or aliases")
    p.add_argument("--json", action="store_true", help="print JSON (default: a table)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("prerequisites", parents=[common],
                       help="what to read before an entry, in reading order")
    p.add_argument("id", help="entry id or alias")
    p.add_argument("--direct", action="store_true",
                   help="only the entry's own prerequisites (default: the whole chain, in reading order)")
    p.add_argument("--json", action="store_true", help="print JSON (default: a numbered list)")
    p.set_defaults(func=cmd_prerequisites)

    p = sub.add_parser("build", parents=[common], help="generate outputs into build/")
    p.add_argument("target", nargs="?", default="all", choices=("site", "pdf", "notebooks", "tables", "all"),
                   help="what to build (default: %(default)s)")
    p.add_argument("--out", default="build", metavar="DIR", help="output folder (default: build/)")
    p.add_argument("--chapter", metavar="ID", help="pdf: print one chapter (build/pdf/inferbook-ID.pdf)")
    p.add_argument("--paper", choices=("a4", "letter"), default="a4", help="pdf: paper size (default: %(default)s)")
    p.set_defaults(func=cmd_build)

    group = next((g for g, names in _GROUPS.items() if only in names), None)
    if only is None or group == "calc":
        from .cli_calc import COMMANDS, add_parsers

        add_parsers(sub, common, only)  # with a calculator named, its parser alone
        for name in COMMANDS:
            if name in sub.choices:
                sub.choices[name].set_defaults(func=cmd_calc)
    if only is None or group == "contrib":
        from .contrib.cli import add_contrib_parsers  # new, fmt, lint, diff

        add_contrib_parsers(sub, common)
    if only is None or group == "notebook":
        from .cli_notebook import add_notebook_parser
        add_notebook_parser(sub, common)
    if only is None or group == "serve":
        from .serve import add_serve_parser
        add_serve_parser(sub, common)
    if only is None or group == "import":
        from .importer import add_import_parser  # import-config
        add_import_parser(sub, common)
    if only is None or group == "mcp":
        from .mcp_server import add_mcp_parser
        add_mcp_parser(sub, common)

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

    p = sub.add_parser("completion", parents=[common], help="print a shell completion script",
                       description='Print a completion script: eval "$(inferbook completion bash)" in ~/.bashrc, '
                                   'eval "$(inferbook completion zsh)" in ~/.zshrc, or '
                                   "inferbook completion fish > ~/.config/fish/completions/inferbook.fish.")
    p.add_argument("shell", nargs="?", choices=SHELLS, help="the shell to complete in (one of: bash, zsh, fish)")
    p.add_argument("--ids", action="store_true",
                   help="print every entry id, one a line, instead (the scripts call this; default: off)")
    p.set_defaults(func=cmd_completion)
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (its first word that is not an option), if any."""
    return next((a for a in argv if not a.startswith("-")), None)


def _joined_sort(argv: Sequence[str]) -> list[str]:
    """``argv`` with `--sort -FIELD` written as `--sort=-FIELD`, which argparse would otherwise
    take for an unknown option."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1] == "--sort" and arg.startswith("-") and len(arg) > 1 and arg[1] != "-":
            out[-1] = f"--sort={arg}"
        else:
            out.append(arg)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    argv = _joined_sort(sys.argv[1:] if argv is None else [str(a) for a in argv])
    command = _command_of(argv)
    known = {n for names in _GROUPS.values() for n in names}
    own = ("validate", "show", "list", "search", "compare", "prerequisites", "build", "provenance", "schema",
           "version", "completion")
    parser = build_parser(command if command in known or command in own else None)
    args = parser.parse_args(argv)
    try:
        prepare_layers(args)
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
