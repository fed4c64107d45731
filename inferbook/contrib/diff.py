"""`inferbook diff BASE`: what a change does to the knowledge base, for reviewers.

The knowledge base at git revision BASE is read with `git ls-tree` and
`git cat-file --batch` (the plumbing behind `git show BASE:path`) into a temporary
folder; both versions are loaded with the loader and compared entry by entry:
added, removed (and whether a redirect keeps the old id alive), and every changed
field as a dotted path with its old and new value. It then lists what the change
does downstream: the site pages (`entries/<kind>/<id>.html`), the rows of the
generated tables (`build/tables/*.json`) and calculator results (parameters,
weight bytes, KV bytes per token) that differ. Removing an id without a redirect is
reported as a problem (exit 1): ids are permanent.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..diagnostics import no_workflow_commands
from ..loader import LoadedEntry, LoadResult, load_folders
from ..refs import iter_references
from ..schema.base import ARTICLE_KINDS

PAGE = "entries/{kind}/{id}.html"
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "gpus": ("id",), "models": ("id",), "kv_cache": ("model", "kv_dtype"), "weights": ("model", "format"),
    "fit_matrix": ("model", "gpu"), "roofline": ("model", "gpu", "format", "batch"), "accuracy": ("id",),
}
"""Columns that identify a row of each generated table."""
TABLE_KINDS = ("models", "gpus", "formats")
"""Kinds whose entries feed the generated tables and calculators."""
LONG_TEXT = 120


class DiffError(Exception):
    """BASE cannot be read (not a git checkout, unknown revision, git missing)."""


# reading BASE ---------------------------------------------------------------------------
def _git(args: Sequence[str], cwd: Path, data: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, input=data, capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DiffError(f"cannot run git: {exc}") from None
    if done.returncode != 0:
        raise DiffError(done.stderr.decode(errors="replace").strip() or f"git {' '.join(args)} failed")
    return done.stdout


def unsafe_tree_path(path: str, rel: PurePosixPath, mode: str, kind: str) -> str | None:
    """Why the `git ls-tree` entry ``path`` (mode ``mode``, object type ``kind``) must not be
    written under the export folder of ``rel``, or None when it is a plain file inside it."""
    parts = path.split("/")
    if path.startswith("/") or any(part in ("", ".", "..") for part in parts):
        return "a path that is absolute or has an empty, '.' or '..' part"
    if (rel.parts and tuple(parts[: len(rel.parts)]) != rel.parts) or len(parts) <= len(rel.parts):
        return f"a path outside {rel}/"
    if any(ord(ch) < 32 for ch in path):
        return "a path with control characters"
    if mode == "120000":
        return "a symbolic link"
    if kind != "blob" or mode not in ("100644", "100755"):
        return f"not a regular file (mode {mode}, {kind})"
    return None


def _write_new(root: Path, parts: Sequence[str], data: bytes) -> None:
    """Create the file ``root/parts...`` holding ``data``: folders are made one at a time,
    nothing that exists is overwritten and no symbolic link is followed."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        for part in parts[:-1]:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o755, dir_fd=fd)
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = inner
        new = os.open(parts[-1], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=fd)
        with os.fdopen(new, "wb") as handle:
            handle.write(data)
    finally:
        os.close(fd)


def export_revision(rev: str, folder: Path, dest: Path, findings: list[str] | None = None) -> Path:
    """Write the files of knowledge-base ``folder`` as they were at ``rev`` under ``dest``;
    return the exported folder (empty when the folder did not exist at ``rev``).

    Every path `git ls-tree` lists is checked before anything is written: absolute paths,
    '.' or '..' parts, symbolic links and other non-files are not read, and each one adds a
    line to ``findings``. Files are created inside the export folder only, never through a link."""
    folder = folder.resolve()
    root = Path(_git(["rev-parse", "--show-toplevel"], folder).decode().strip())
    commit = _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], root).decode().strip()
    rel = PurePosixPath(folder.relative_to(root).as_posix())
    out = dest / folder.name
    out.mkdir(parents=True, exist_ok=True)
    listing = _git(["ls-tree", "-r", "-z", "--full-tree", commit, "--", str(rel)], root)
    wanted: list[tuple[str, str]] = []
    for record in listing.decode(errors="surrogateescape").split("\0"):
        if not record:
            continue
        info, _, path = record.partition("\t")
        mode, kind, oid = [*info.split(), "", "", ""][:3]
        why = unsafe_tree_path(path, rel, mode, kind)
        if why is not None:
            if findings is not None:
                findings.append(f"BASE ({rev}) holds {path!r}: {why}; it was not read")
            continue
        wanted.append((path, oid))
    if not wanted:
        return out
    raw = _git(["cat-file", "--batch"], root, "".join(f"{oid}\n" for _, oid in wanted).encode())
    pos = 0
    for path, _ in wanted:
        end = raw.index(b"\n", pos)
        header = raw[pos:end].decode().split()
        if len(header) < 3 or header[1] != "blob":
            raise DiffError(f"unexpected git output for {path!r}: {' '.join(header)}")
        size = int(header[2])
        body = raw[end + 1: end + 1 + size]
        pos = end + 1 + size + 1
        parts = path.split("/")[len(rel.parts):]
        try:
            _write_new(out, parts, body)
        except OSError as exc:  # e.g. a path that is a file and a folder at once
            if findings is not None:
                findings.append(f"BASE ({rev}) holds {path!r}, which cannot be written ({exc.strerror}); "
                                f"it was not read")
    return out


# comparing entries ------------------------------------------------------------------------
@dataclass(slots=True)
class FieldChange:
    """One changed field: a dotted path and its old and new values (None: not set)."""

    path: str
    old: Any
    new: Any


@dataclass(slots=True)
class EntryChange:
    """An entry that was added, removed or changed."""

    id: str
    kind: str
    status: str
    """added, removed or changed."""
    title: str
    fields: list[FieldChange] = field(default_factory=list)
    redirect: str | None = None
    """For a removed id: what its redirect says ("moved to x", "split into a, b"), or None."""


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted path -> value; lists of plain values stay whole, a sourced number's
    `value` is shown under the field's own name."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if key == "value" and prefix and not isinstance(item, (dict, list)):
                path = prefix
            out.update(flatten(item, path))
        return out or {prefix: {}}
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        out = {}
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}.{i}"))
        return out
    return {prefix: value}


def _dump(loaded: LoadedEntry) -> dict[str, Any]:
    return flatten(loaded.entry.model_dump(mode="json", exclude_defaults=True))


def _redirect_text(loaded: LoadedEntry) -> str:
    redirect = loaded.entry
    targets = redirect.targets  # type: ignore[attr-defined]
    return f"moved to {targets[0]}" if redirect.kind == "moved" else f"split into {', '.join(targets)}"  # type: ignore[attr-defined]


def compare_entries(base: Mapping[str, LoadedEntry], head: Mapping[str, LoadedEntry]) -> list[EntryChange]:
    """Every added, removed and changed entry. An entry replaced by a redirect of the
    same id counts as removed, with what the redirect says."""
    changes = []
    for eid in sorted(set(base) | set(head)):
        old, new = base.get(eid), head.get(eid)
        if old is None and new is not None:
            changes.append(EntryChange(eid, new.kind, "added", new.entry.title))
        elif old is not None and (new is None or (new.kind == "redirects" and old.kind != "redirects")):
            redirect = _redirect_text(new) if new is not None else None
            changes.append(EntryChange(eid, old.kind, "removed", old.entry.title, redirect=redirect))
        elif old is not None and new is not None:
            before, after = _dump(old), _dump(new)
            fields = [FieldChange(p, before.get(p), after.get(p)) for p in _ordered(before, after)
                      if before.get(p) != after.get(p) and not _same_set(new.kind, p, before.get(p), after.get(p))]
            if old.kind != new.kind:
                fields.insert(0, FieldChange("(kind)", old.kind, new.kind))
            if fields:
                changes.append(EntryChange(eid, new.kind, "changed", new.entry.title, fields))
    return sorted(changes, key=lambda c: ({"added": 0, "removed": 1, "changed": 2}[c.status], c.kind, c.id))


def _same_set(kind: str, path: str, old: Any, new: Any) -> bool:
    """True for a list whose order means nothing (see `fmt.UNORDERED_LISTS`) that only changed order."""
    from ..schema import KINDS
    from .fmt import UNORDERED_LISTS

    return (isinstance(old, list) and isinstance(new, list) and sorted(map(str, old)) == sorted(map(str, new))
            and (KINDS[kind].__name__, path) in UNORDERED_LISTS)


def _ordered(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    seen = dict.fromkeys(list(before) + list(after))
    return list(seen)


# downstream outputs ------------------------------------------------------------------------
@dataclass(slots=True)
class PageChange:
    """A site page the change adds, removes, updates or turns into a redirect."""

    path: str
    status: str
    why: str


@dataclass(slots=True)
class TableChange:
    """Rows of one generated table that differ."""

    table: str
    files: list[str]
    added: int
    removed: int
    changed: int
    examples: list[str]


@dataclass(slots=True)
class CalcChange:
    """One calculator result that differs for one model."""

    model: str
    quantity: str
    old: float | None
    new: float | None


def affected_pages(changes: list[EntryChange], base: Mapping[str, LoadedEntry],
                   head: Mapping[str, LoadedEntry]) -> list[PageChange]:
    """Entry pages of changed entries, pages that show a changed title or summary, and redirect pages."""
    pages: dict[str, PageChange] = {}

    def add(kind: str, eid: str, status: str, why: str) -> None:
        path = PAGE.format(kind=kind, id=eid)
        pages.setdefault(path, PageChange(path, status, why))

    linked_from: dict[str, set[str]] = {}
    for eid, loaded in head.items():
        for ref in iter_references(loaded.entry):
            linked_from.setdefault(ref.target, set()).add(eid)
    for change in changes:
        if change.status == "added" and change.kind != "redirects":
            add(change.kind, change.id, "new", "entry added")
        elif change.status == "removed":
            status = "redirect" if change.redirect else "deleted"
            add(change.kind, change.id, status, change.redirect or "entry removed")
        elif change.status == "changed":
            add(change.kind, change.id, "updated", f"{len(change.fields)} field(s) changed")
            shown = {"title", "summary"} & {f.path for f in change.fields}
            for other in sorted(linked_from.get(change.id, ())):
                if shown and head[other].kind != "redirects":
                    add(head[other].kind, other, "updated", f"shows the {'/'.join(sorted(shown))} of {change.id}")
            for f in change.fields:
                if f.path == "chapter":
                    for chapter in (f.old, f.new):
                        if chapter:
                            add("chapters", chapter, "updated", f"{change.id} moved chapter")
        if change.kind in ARTICLE_KINDS and change.status != "changed":
            entry = (head.get(change.id) or base.get(change.id))
            chapter = getattr(entry.entry, "chapter", None) if entry else None
            if chapter:
                add("chapters", chapter, "updated", f"{change.id} {change.status}")
    return sorted(pages.values(), key=lambda p: p.path)


def _rows_by_key(table: str, rows: list[dict[str, Any]]) -> dict[tuple, str]:
    keys = TABLE_KEYS.get(table) or ((next(iter(rows[0])),) if rows else ())
    return {tuple(row.get(k) for k in keys): json.dumps(row, sort_keys=True, default=str) for row in rows}


def compare_tables(base_kb: Any, head_kb: Any,
                   tables: Mapping[str, Callable[[Any], list[dict[str, Any]]]] | None = None) -> list[TableChange]:
    """Rows of each generated table that differ between two knowledge bases."""
    if tables is None:
        from ..generators.tables import TABLES

        tables = TABLES
    out = []
    for name, make in tables.items():
        try:
            old, new = _rows_by_key(name, make(base_kb)), _rows_by_key(name, make(head_kb))
        except Exception as exc:  # a table that cannot be computed is reported, not fatal
            out.append(TableChange(name, [f"{name}.json", f"{name}.csv"], 0, 0, 0, [f"not compared: {exc!r}"]))
            continue
        added = [k for k in new if k not in old]
        removed = [k for k in old if k not in new]
        changed = [k for k in new if k in old and new[k] != old[k]]
        if added or removed or changed:
            examples = ["/".join(str(x) for x in k) for k in (changed + added + removed)[:5]]
            out.append(TableChange(name, [f"{name}.json", f"{name}.csv"], len(added), len(removed), len(changed),
                                   examples))
    return out


def compare_calculators(base_kb: Any, head_kb: Any, models: Sequence[str]) -> list[CalcChange]:
    """Parameter count, native weight bytes and BF16 KV bytes per token of ``models``, old vs new."""
    from ..calc import count_params, kv_bytes_per_token
    from ..calc.weights import native_weight_bytes

    def results(kb: Any, mid: str) -> dict[str, float | None]:
        if kb is None or mid not in kb.models:
            return {}
        model = kb.models[mid]
        out: dict[str, float | None] = {
            "params_computed_b": round(count_params(model.architecture).total / 1e9, 4),
            "kv_bytes_per_token_bf16": kv_bytes_per_token(model.architecture, 16),
        }
        try:
            out["weight_bytes_native"] = round(native_weight_bytes(model, dict(kb.formats)).total_bytes)
        except KeyError:
            out["weight_bytes_native"] = None
        return out

    changes = []
    for mid in models:
        old, new = results(base_kb, mid), results(head_kb, mid)
        for quantity in dict.fromkeys([*old, *new]):
            if old.get(quantity) != new.get(quantity):
                changes.append(CalcChange(mid, quantity, old.get(quantity), new.get(quantity)))
    return changes


# the whole review ------------------------------------------------------------------------------
@dataclass(slots=True)
class KbDiff:
    """Everything `inferbook diff` reports."""

    base: str
    entries: list[EntryChange]
    pages: list[PageChange]
    tables: list[TableChange]
    calculators: list[CalcChange]
    problems: list[str]
    notes: list[str]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _kb_or_none(result: LoadResult, label: str, notes: list[str]) -> Any:
    from ..api import knowledge_base_from
    from ..diagnostics import KnowledgeBaseError

    try:
        return knowledge_base_from(result)
    except KnowledgeBaseError as exc:
        notes.append(f"{label} has {len(exc.diagnostics)} error(s); tables and calculators were not compared "
                     f"(run `inferbook validate`)")
        return None


def diff_kb(base_rev: str, folders: Sequence[Path]) -> KbDiff:
    """Compare the knowledge base in ``folders`` (the working tree) with revision ``base_rev``."""
    notes: list[str] = []
    unsafe: list[str] = []
    with tempfile.TemporaryDirectory(prefix="inferbook-diff-") as tmp:
        base_folders = [export_revision(base_rev, folder, Path(tmp) / str(i), unsafe)
                        for i, folder in enumerate(folders)]
        base = load_folders(base_folders)
        head = load_folders(list(folders))
        changes = compare_entries(base.entries, head.entries)
        problems = unsafe + [f"{c.kind}/{c.id} was removed without a redirect: add kb/redirects/{c.id}.yaml "
                             f"(kind moved or split) so links and API calls to it keep working"
                             for c in changes if c.status == "removed" and not c.redirect]
        pages = affected_pages(changes, base.entries, head.entries)
        tables: list[TableChange] = []
        calcs: list[CalcChange] = []
        if any(c.kind in TABLE_KINDS for c in changes):
            base_kb = _kb_or_none(base, f"BASE ({base_rev})", notes)
            head_kb = _kb_or_none(head, "the working tree", notes)
            if base_kb is not None and head_kb is not None:
                tables = compare_tables(base_kb, head_kb)
                formats = {c.id for c in changes if c.kind == "formats"}
                models = sorted({c.id for c in changes if c.kind == "models"} |
                                {m for m, e in head_kb.models.items() if e.native_dtype in formats})
                calcs = compare_calculators(base_kb, head_kb, models)
    return KbDiff(base_rev, changes, pages, tables, calcs, problems, notes)


# text output ----------------------------------------------------------------------------------
def _show(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        return f"{value:,}"
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, (str, list, dict)) else str(value)
    return text


def _inline(text: str) -> str:
    """``text`` on one line: carriage returns and line feeds shown as \\r and \\n."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _field_line(change: FieldChange) -> str:
    return f"{_inline(change.path)}: {_field_values(change)}"


def _field_values(change: FieldChange) -> str:
    old, new = change.old, change.new
    if (isinstance(old, str) and (len(old) > LONG_TEXT or "\n" in old)) or \
            (isinstance(new, str) and (len(new) > LONG_TEXT or "\n" in new)):
        before = (old or "").splitlines()
        after = (new or "").splitlines()
        plus = len([x for x in after if x not in before])
        minus = len([x for x in before if x not in after])
        return f"text changed (+{plus} -{minus} lines, {len(old or '')} -> {len(new or '')} chars)"
    if isinstance(old, list) and isinstance(new, list) and all(isinstance(x, str) for x in old + new) and \
            len(old) + len(new) > 6:
        added = [x for x in new if x not in old]
        removed = [x for x in old if x not in new]
        parts = [f"+{_inline(x)}" for x in added] + [f"-{_inline(x)}" for x in removed]
        return " ".join(parts) if parts else "reordered"
    return f"{_show(old)} -> {_show(new)}"


def render_json(result: KbDiff) -> str:
    """The diff as indented JSON. "##[" can only occur inside JSON strings, where it is written
    "##\\u005b" (reads back as "["), so no line can start a legacy GitHub workflow command."""
    return json.dumps(result.to_json(), indent=2, ensure_ascii=False, default=str).replace("##[", "##\\u005b")


def render_text(result: KbDiff) -> str:
    """The review as plain text. No line can start a GitHub Actions workflow command (values
    stay on their line; see `diagnostics.no_workflow_commands`), so CI logs may show it."""
    counts = {s: sum(1 for c in result.entries if c.status == s) for s in ("added", "removed", "changed")}
    lines = [f"inferbook diff {result.base}..working tree: {counts['added']} added, {counts['removed']} removed, "
             f"{counts['changed']} changed"]
    marks = {"added": "+", "removed": "-", "changed": "~"}
    for status in ("added", "removed", "changed"):
        group = [c for c in result.entries if c.status == status]
        if not group:
            continue
        lines += ["", status.capitalize()]
        for c in group:
            extra = f"  ({c.redirect})" if c.redirect else ("  (NO REDIRECT)" if status == "removed" else "")
            lines.append(f"  {marks[status]} {c.kind}/{c.id}  {json.dumps(c.title, ensure_ascii=False)}{extra}")
            lines += [f"      {_field_line(f)}" for f in c.fields]
    if result.pages:
        lines += ["", "Site pages"]
        lines += [f"  {p.path}  [{p.status}] {p.why}" for p in result.pages]
    if result.tables:
        lines += ["", "Tables (build/tables/)"]
        for t in result.tables:
            counts_text = ", ".join(f"{n} {what}" for n, what in ((t.changed, "changed"), (t.added, "added"),
                                                                  (t.removed, "removed")) if n)
            lines.append(f"  {' '.join(t.files)}: {counts_text or 'see below'} "
                         f"(e.g. {', '.join(t.examples)})")
    if result.calculators:
        lines += ["", "Calculator results"]
        lines += [f"  {c.model}: {c.quantity} {_show(c.old)} -> {_show(c.new)}" for c in result.calculators]
    if result.notes:
        lines += ["", "Notes"] + [f"  {n}" for n in result.notes]
    if result.problems:
        lines += ["", "Problems"] + [f"  {p}" for p in result.problems]
    if not result.entries:
        lines.append("no entry differs")
    return no_workflow_commands("\n".join(lines))
