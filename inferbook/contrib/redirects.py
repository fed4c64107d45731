"""Renames that never lose an id: `inferbook rename OLD NEW`.

Renaming moves `kb/<kind>/OLD.yaml` to `NEW.yaml` with its id changed, rewrites
every reference to OLD in other entries (and `{{ expressions }}` and `](OLD)` links
in their text), and leaves `kb/redirects/OLD.yaml` (kind: moved), which the API
resolves with a DeprecationWarning and the site serves as a redirect page. For a
split, divide the content by hand and describe it with `inferbook new redirects OLD`.

The new id must be a valid id (checked with `slug_ok`, a full match), and no other
entry may already answer to it: not as an id, and not as a title or alias, compared
after NFKC normalisation and case folding (lookups ignore case, and "ｈ１００" is
"h100" to a reader), or the rename would leave two entries behind one name.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..diagnostics import Diagnostic
from ..expressions import replace_expressions
from ..loader import LoadedEntry, load_folders
from ..refs import iter_references
from ..schema.base import slug_ok
from .fmt import PRAGMA, format_text, write_atomic


class RenameError(Exception):
    """A rename that cannot be done (unknown id, taken id, unreadable files)."""


@dataclass(slots=True)
class RenameResult:
    """Files written by a rename."""

    moved_to: Path
    redirect: Path
    updated: list[Path] = field(default_factory=list)
    remaining: list[Diagnostic] = field(default_factory=list)
    """Mentions of the old id that were not rewritten (plain prose)."""


def redirect_text(old: str, title: str, targets: list[str], reason: str, today: dt.date) -> str:
    """The canonical text of `kb/redirects/<old>.yaml`."""
    kind = "moved" if len(targets) == 1 else "split"
    lines = [
        PRAGMA.format(kind="redirects"),
        f"id: {old}",
        f"title: {json.dumps(title, ensure_ascii=False)}",
        f"kind: {kind}",
        f"targets: [{', '.join(targets)}]",
        f"date: {today.isoformat()}",
        f"reason: {json.dumps(reason, ensure_ascii=False)}",
        f"last_reviewed: {today.isoformat()}",
    ]
    return format_text("\n".join(lines) + "\n", "redirects")


def _replace_at(lines: list[str], line: int, col: int, old: str, new: str) -> bool:
    """Replace the scalar ``old`` (plain or quoted) that starts at 1-based ``line``/``col``."""
    text = lines[line - 1]
    start = col - 1
    for quote in ("", '"', "'"):
        token = f"{quote}{old}{quote}"
        if text.startswith(token, start):
            end = start + len(token)
            if quote or end == len(text.rstrip("\n")) or not re.match(r"[a-z0-9.-]", text[end]):
                lines[line - 1] = text[:start] + f"{quote}{new}{quote}" + text[end:]
                return True
    return False


def _rewrite_text(text: str, old: str, new: str) -> str:
    """Update `{{ expressions }}` that name ``old`` and Markdown links to it."""
    quoted = re.compile(r"""(["'])((?:[a-z]+/)?)""" + re.escape(old) + r"\1")
    text = replace_expressions(text, lambda span: quoted.sub(lambda q: f"{q.group(1)}{q.group(2)}{new}{q.group(1)}",
                                                             span))
    return re.sub(r"\]\((" + re.escape(old) + r")([)#])", lambda m: f"]({new}{m.group(2)}", text)


def name_key(name: str) -> str:
    """How lookups compare names: NFKC-normalised and case-folded."""
    return unicodedata.normalize("NFKC", name).casefold()


def _owner_of_name(entries: dict[str, LoadedEntry], old: str, new: str) -> str | None:
    """A message naming the entry other than ``old`` whose title or alias reads as ``new``."""
    key = name_key(new)
    for eid, item in sorted(entries.items()):
        if eid == old or item.kind == "redirects":
            continue
        for what, name in [("id", eid), ("title", item.entry.title), *(("alias", a) for a in item.entry.aliases)]:
            if name_key(name) == key:
                return f"'{new}' is already the {what} {name!r} of '{eid}' ({item.display_path})"
    return None


def rename(old: str, new: str, folders: list[Path], reason: str, today: dt.date | None = None) -> RenameResult:
    """Rename entry ``old`` to ``new`` in the last of ``folders`` that holds it; see the module doc."""
    today = today or dt.date.today()
    if not slug_ok(new):
        raise RenameError(f"{new!r} is not a valid id: use lower-case letters, digits and single '-' or '.'")
    loaded = load_folders(folders)
    entries = loaded.entries
    if old not in entries:
        raise RenameError(f"no entry with id {old!r} (or it does not pass its schema; run `inferbook validate`)")
    if new in entries:
        raise RenameError(f"id '{new}' is already used by {entries[new].display_path}")
    taken = _owner_of_name(entries, old, new)
    if taken is not None:
        raise RenameError(f"{taken}: lookups would find two entries; choose another id")
    source = entries[old]
    if source.kind == "redirects":
        raise RenameError(f"'{old}' is already a redirect")
    target_path = source.path.with_name(f"{new}.yaml")
    redirect_path = source.path.parent.parent / "redirects" / f"{old}.yaml"
    if target_path.exists() or redirect_path.exists():
        raise RenameError(f"{target_path if target_path.exists() else redirect_path} already exists")

    result = RenameResult(target_path, redirect_path)
    edits: dict[Path, list[str]] = {}
    for eid, item in sorted(entries.items()):
        lines = edits.get(item.path) or item.path.read_text(encoding="utf-8").splitlines(keepends=True)
        marks = [item.doc.locate(ref.path) for ref in iter_references(item.entry) if ref.target == old]
        if eid == old:
            marks.append(item.doc.locate(("id",)))
        changed = False
        for mark in sorted(marks, key=lambda m: (m.line, m.col), reverse=True):
            changed |= _replace_at(lines, mark.line, mark.col, old, new)
        text = _rewrite_text("".join(lines), old, new)
        if changed or text != "".join(lines):
            edits[item.path] = text.splitlines(keepends=True)
        result.remaining += _mentions(item, old)
    for path, lines in edits.items():
        text = "".join(lines)
        if path == source.path:
            write_atomic(target_path, text)
            path.unlink()
        else:
            write_atomic(path, text)
            result.updated.append(path)
    if source.path not in edits:  # only possible if the id could not be located
        raise RenameError(f"could not find the id in {source.display_path}")
    redirect_path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(redirect_path, redirect_text(old, source.entry.title, [new], reason, today))
    return result


_LINK = re.compile(r"\]\([^)]*\)")


def _mentions(item: LoadedEntry, old: str) -> list[Diagnostic]:
    """Plain-text mentions of ``old`` left in an entry's prose (worth a look, not rewritten)."""
    out = []
    pattern = re.compile(rf"(?<![\w/-]){re.escape(old)}(?![\w-])")
    for field_name in ("body", "summary", "notes"):
        text = getattr(item.entry, field_name, None)
        if isinstance(text, str):
            cleaned = _LINK.sub("", replace_expressions(text, lambda _: ""))
            if pattern.search(cleaned):
                mark = item.doc.locate((field_name,))
                out.append(Diagnostic(item.display_path, mark.line, mark.col, "RENAME",
                                      f"{field_name} still mentions '{old}'", severity="warning",
                                      hint="check whether the text should name the new id"))
    return out
