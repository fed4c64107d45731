"""The `inferbook import-config PATH` command: import a config.json, print the report on stderr,
and write the entry to kb/models/ID.yaml (never over an existing file) or print it (--stdout).
Exit codes: 0 done, 1 a config refused or a write failed, 2 a path or option that cannot be used."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..schema.base import slug_ok
from .convert import import_config
from .entry import derive_id, render_entry, write_new
from .reading import MAX_CONFIG_BYTES, ConfigError, ConfigUsageError


def _fail(message: str, code: int) -> int:
    """Print ``message`` as the command's error on stderr and return the exit ``code``."""
    print(f"inferbook import-config: {message}", file=sys.stderr)
    return code


def cmd_import_config(args: argparse.Namespace) -> int:
    """`inferbook import-config PATH [--id ID] [--stdout] [--index PATH]`. The entry is laid out by
    `inferbook fmt`'s formatter, so the command needs the 'contrib' extra (`extras.require`)."""
    from ..extras import require
    from ..paths import source_kb_dirs

    require("contrib", "this command")
    if not args.stdout:
        source_kb_dirs(args.kb)  # an installed package has no kb/ to write into: say so before importing
    try:
        imported = import_config(Path(args.path), Path(args.index) if args.index else None)
    except ConfigUsageError as exc:
        return _fail(str(exc), 2)
    except ConfigError as exc:
        return _fail(str(exc), 1)
    if args.id is not None and not slug_ok(args.id):
        return _fail(f"{args.id!r} is not a valid id: use lower-case letters, digits and single '-' or '.'", 2)
    eid = args.id or derive_id(imported, Path(args.path))
    if eid is None:
        return _fail("cannot derive an id from the config; give --id", 2)
    text = render_entry(imported, eid)
    for line in imported.report.lines():
        print(line, file=sys.stderr)
    if args.stdout:
        sys.stdout.write(text)
        return 0
    folder = source_kb_dirs(args.kb)[-1] / "models"
    path = folder / f"{eid}.yaml"
    exists = f"{path} already exists; not overwritten (use --stdout to compare)"
    if path.exists() or path.is_symlink():
        return _fail(exists, 1)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_new(path, text)
    except FileExistsError:
        return _fail(exists, 1)
    except OSError as exc:
        return _fail(f"cannot write {path}: {exc.strerror or exc}", 1)
    sys.stdout.write(f"{path}\n")
    print(f"fill in the TODOs, add the sources it names, then run `inferbook fmt {path}` and `inferbook validate`",
          file=sys.stderr)
    return 0


def add_import_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register `import-config`."""
    p = sub.add_parser("import-config", parents=[common],
                       help="a kb/models/ entry from a Hugging Face config.json (architecture and native format)")
    p.add_argument("path", metavar="PATH", help=f"the config.json (at most {MAX_CONFIG_BYTES:,} bytes)")
    p.add_argument("--id", help="entry id (default: from _name_or_path or the file name)")
    p.add_argument("--index", metavar="PATH",
                   help="model.safetensors.index.json, to cross-check the parameter count (default: none)")
    p.add_argument("--stdout", action="store_true",
                   help="print the entry instead of writing kb/models/ID.yaml (an existing file is never overwritten)")
    p.set_defaults(func=cmd_import_config)
