"""Read knowledge-base folders into validated entries, collecting every problem.

Data enters the project here: each `kb/<kind>/<id>.yaml` file is parsed by
`yamlio`, validated against its pydantic model, and kept with the positions
of its values so that graph checks and lint rules can point at lines too.
Several folders can be layered (`--kb public --kb private`): a later folder may
add entries, and may replace earlier ones only when its `_layer.yaml` lists
them under `replaces`. Each folder is read on its own (`load_layer`) and the layers
are then merged in order (`merge_layers`), so a caller may supply a layer read
another way (the wheel's compiled bundle, a cache) as long as it is a `LayerLoad`.
`_layer.yaml` also says whether a folder is a complete knowledge base (`base`) and
how `inferbook lint` treats its entries (`lint: {ignore: [...], allowed_hosts: [...]}`).

Only plain folders and regular files inside a layer are read. Every symbolic link in
a layer is refused (IB007) whatever it points at, inside the layer, outside it or into
a loop, and is never followed: no file from outside the layer can be published, and no
link loop is walked. FIFOs, devices and sockets are refused (IB008) without being opened,
since opening a FIFO blocks. The layer folder itself, named by the caller, may be a link.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .diagnostics import Diagnostic
from .schema import KINDS, EntryBase
from .schema.base import ARTICLE_KINDS, slug_ok
from .yamlio import Document, YamlError, disallowed_character, parse_bytes, read_bytes, read_file, text_position

FIGURE_FILE = re.compile(r"[a-z0-9]+(?:[.-][a-z0-9]+)*\.[a-z0-9]+(?:-[a-z0-9]+)*\.svg")
"""A figure drawing beside its entry: `<entry-id>.<figure-id>.svg` (see figures.py)."""

LAYER_FILE = "_layer.yaml"


@dataclass(slots=True)
class LoadedEntry:
    """An entry that passed its schema, with where it came from."""

    kind: str
    entry: EntryBase
    path: Path
    display_path: str
    doc: Document
    layer: int


@dataclass(slots=True)
class LoadResult:
    """Everything read from the folders: valid entries and all findings."""

    entries: dict[str, LoadedEntry] = field(default_factory=dict)
    layers: list[Layer] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files_read: int = 0

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


def display_path(path: Path) -> str:
    """A path relative to the working directory when possible, with unprintable
    characters of hostile file names escaped (\\x1b, \\u200b)."""
    try:
        shown = os.path.relpath(path)
    except ValueError:  # pragma: no cover - other drive on Windows
        shown = str(path)
    return _printable(shown)


def _printable(text: str) -> str:
    """``text`` with every unprintable character written as its Python escape."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


_SPECIAL_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
                  (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def refused_item(path: Path, root: Path | None = None) -> Diagnostic | None:
    """A finding when ``path`` is a symbolic link (IB007) or neither a regular file nor a
    folder (IB008), found with lstat: nothing is followed or opened. ``root`` is the
    layer the item belongs to (None for a file named by the caller)."""
    shown = display_path(path)
    try:
        mode = path.lstat().st_mode
    except OSError as exc:
        return Diagnostic(shown, 1, 1, "IB002", f"cannot read file: {exc.strerror or exc}")
    if stat.S_ISLNK(mode):
        try:
            target = Path(os.path.realpath(path))  # never opens the target; a loop stays unresolved
            inside = root is not None and target.is_relative_to(Path(os.path.realpath(root)))
        except (OSError, ValueError):
            inside = False
        if root is None:
            what = "symbolic link: entry files are not read through links"
        elif inside:
            what = "symbolic link: links are not followed, even to files inside the knowledge base"
        else:
            what = "symbolic link pointing outside the knowledge base: it is not followed"
        return Diagnostic(shown, 1, 1, "IB007", what, hint="replace the link with the file or folder itself")
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    kind = next((name for test, name in _SPECIAL_KINDS if test(mode)), "a special file")
    return Diagnostic(shown, 1, 1, "IB008", f"not a regular file but {kind}; it is not opened",
                      hint="entries are plain YAML files")


def schema_diagnostics(exc: ValidationError, doc: Document, file: str, model: type[EntryBase]) -> list[Diagnostic]:
    """Each error of a schema validation as a finding at the line and column of the value at fault."""
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if isinstance(p, int) or not str(p).startswith(("function-", "tagged-")))
        ctx = err.get("ctx") or {}
        if ctx.get("at"):  # our checks name the place inside the value that they refused
            loc += tuple(int(p) if p.isdigit() else p for p in str(ctx["at"]).split("."))
        kind = err["type"]
        dotted = ".".join(str(p) for p in loc) or "(entry)"
        hint = None
        if kind == "extra_forbidden":
            parent = _model_at(model, loc[:-1])
            names = list(parent.model_fields) if parent else []
            close = difflib.get_close_matches(str(loc[-1]), names, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "remove it, or see the schema for allowed fields"
            message = f"unknown field '{dotted}'"
            mark = doc.locate(loc, prefer_key=True)
        elif kind == "missing":
            message = f"missing required field '{dotted}'"
            mark = doc.locate(loc[:-1], prefer_key=True) if loc[:-1] else doc.locate(())
            hint = _field_doc(model, loc)
        else:
            value = ctx["got"] if "got" in ctx else err.get("input")
            shown = repr(value) if isinstance(value, (str, int, float, bool)) else type(value).__name__
            if len(shown) > 60:
                shown = f"{shown[:40]}... ({len(str(value)):,} characters)"
            msg = err["msg"]
            if kind in ("model_type", "dict_type") and err.get("ctx", {}).get("class_name") == "Quantity":
                msg = "expected a number in the field's unit (or a mapping with value and source)"
            elif kind == "model_type":
                msg = "expected a mapping of fields"
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
            message = f"{dotted}: {msg} (got {shown})" if loc else msg
            mark = doc.locate(loc)
        out.append(Diagnostic(file, mark.line, mark.col, "IB101", message, hint=hint))
    return out


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model class that holds the field at ``loc``."""
    import typing

    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            return None
        ann = current.model_fields[part].annotation
        stack, found = [ann], None
        while stack:
            a = stack.pop()
            if isinstance(a, type) and issubclass(a, BaseModel):
                found = a
                break
            stack.extend(typing.get_args(a))
        current = found
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _field_doc(model: type[BaseModel], loc: tuple) -> str | None:
    parent = _model_at(model, loc[:-1])
    if parent is None or not loc:
        return None
    from .schema.docs import field_doc

    doc = field_doc(parent, str(loc[-1]))
    if not doc:
        return None
    first = doc.strip().split("\n")[0]
    return first if len(first) < 160 else first[:157] + "..."


_FILE_CACHE: dict[tuple[str, str, str, int, bytes, bytes], tuple[LoadedEntry | None, list[Diagnostic]]] = {}
"""Results of `load_file` keyed by path, kind, layer and a hash of the file's bytes, so a
long-running process (`inferbook serve`) parses and validates only the files that changed."""


def load_file(path: Path, kind: str, layer: int = 0) -> tuple[LoadedEntry | None, list[Diagnostic]]:
    """Parse and validate one entry file of ``kind`` (cached while the file is unchanged).
    A symbolic link or a special file is refused without being followed or opened."""
    refused = refused_item(path)
    if refused is not None:
        return None, [refused]
    try:
        raw = read_bytes(path, follow_symlinks=False)
    except (YamlError, OSError) as exc:  # too large, replaced by a special file, unreadable
        return _load_file(path, kind, layer, exc)
    key = (display_path(path), str(path.resolve()), kind, layer, hashlib.blake2b(raw, digest_size=16).digest(),
           _drawings_key(path) if kind in ARTICLE_KINDS else b"")
    if key not in _FILE_CACHE:
        if len(_FILE_CACHE) > 50_000:
            _FILE_CACHE.clear()
        _FILE_CACHE[key] = _load_file(path, kind, layer, raw)
    loaded, diags = _FILE_CACHE[key]
    return loaded, list(diags)


def _drawings_key(path: Path) -> bytes:
    """A digest of the figure drawings beside an entry file (names, sizes and times), so that an
    edited drawing is read again."""
    import glob

    stem = path.name[: -len(".yaml")]
    digest = hashlib.blake2b(digest_size=16)
    for drawing in sorted(path.parent.glob(f"{glob.escape(stem)}.*.svg")):
        try:
            info = drawing.lstat()
        except OSError:
            continue
        digest.update(f"{drawing.name}:{info.st_size}:{info.st_mtime_ns}:{info.st_ino}\n".encode())
    return digest.digest()


def _read_problem(shown: str, exc: YamlError | OSError) -> Diagnostic:
    """The finding for a file that could not be read (IB002) or parsed (IB001)."""
    if isinstance(exc, YamlError):
        return Diagnostic(shown, exc.line, exc.col, "IB001", exc.message, hint=exc.hint)
    return Diagnostic(shown, 1, 1, "IB002", f"cannot read file: {exc.strerror or exc}")


def _load_file(path: Path, kind: str, layer: int,
               raw: bytes | YamlError | OSError) -> tuple[LoadedEntry | None, list[Diagnostic]]:
    """Check the file name, then parse ``raw`` (or report why it could not be read) and validate."""
    shown = display_path(path)
    stem = path.name[: -len(".yaml")]
    if not slug_ok(stem):
        return None, [Diagnostic(shown, 1, 1, "IB003", f"file name '{_printable(path.name)}' is not a valid id",
                                 hint="use lower-case letters, digits and single '-' or '.', e.g. h100-sxm.yaml")]
    try:
        if isinstance(raw, (YamlError, OSError)):
            raise raw
        doc = parse_bytes(raw)
    except (YamlError, OSError) as exc:
        return None, [_read_problem(shown, exc)]
    model = KINDS[kind]
    data, figure_problems = _with_figures(doc, path, shown) if kind in ARTICLE_KINDS else (doc.data, [])
    try:
        entry = model.model_validate(data)
    except ValidationError as exc:
        return None, schema_diagnostics(exc, doc, shown, model) + figure_problems
    if figure_problems:
        return None, figure_problems
    problems = _content_diagnostics(entry, doc, shown)
    if entry.id != stem:
        mark = doc.locate(("id",))
        return None, [Diagnostic(shown, mark.line, mark.col, "IB102",
                                 f"id '{entry.id}' does not match the file name '{path.name}'",
                                 hint=f"rename the file to {entry.id}.yaml or set id: {stem}")]
    return LoadedEntry(kind, entry, path, shown, doc, layer), problems


def _with_figures(doc: Document, path: Path, shown: str) -> tuple[Any, list[Diagnostic]]:
    """The entry's data with each drawing's checked SVG in its figure's `svg` field, and the
    problems: a drawing missing, unsafe or too large, an `svg:` written in the YAML, or a
    `[[figure:ID]]` in the body naming no figure."""
    from .figures import SOURCE_PLACEHOLDER, figure_path, read_figure

    data = doc.data
    figures = data.get("figures") if isinstance(data, dict) else None
    problems: list[Diagnostic] = []
    declared: set[str] = set()
    if isinstance(figures, (list, tuple)):
        filled = []
        for i, figure in enumerate(figures):
            if not isinstance(figure, dict):
                filled.append(figure)
                continue
            figure = dict(figure)
            fid = figure.get("id")
            if isinstance(fid, str):
                declared.add(fid)
            if "svg" in figure:
                mark = doc.locate(("figures", i, "svg"), prefer_key=True)
                problems.append(Diagnostic(shown, mark.line, mark.col, "IB105",
                                           "svg is read from the drawing file beside the entry, not written here",
                                           hint="remove the svg key"))
            elif figure.get("chart") is None and isinstance(fid, str) and slug_ok(fid) and "." not in fid:
                text, problem = read_figure(figure_path(path, fid))
                if problem is not None:
                    mark = doc.locate(("figures", i, "id"))
                    problems.append(Diagnostic(shown, mark.line, mark.col, "IB105", problem,
                                               hint=f"draw it as {figure_path(path, fid).name}: plain SVG shapes "
                                                    "and text, with a viewBox"))
                else:
                    figure["svg"] = text
            filled.append(figure)
        data = {**data, "figures": tuple(filled)}
    body = data.get("body") if isinstance(data, dict) else None
    if isinstance(body, str):
        for match in SOURCE_PLACEHOLDER.finditer(body):
            if match.group(1) not in declared:
                mark = text_position(doc, ("body",), body, match.start())
                problems.append(Diagnostic(shown, mark.line, mark.col, "IB105",
                                           f"[[figure:{match.group(1)}]] names no figure of this entry",
                                           hint="declare it under figures: or fix the id"))
    return data, problems


def _content_diagnostics(entry: EntryBase, doc: Document, shown: str) -> list[Diagnostic]:
    from .content_checks import capped, latex_problems, markdown_problems, text_fields

    diags = []
    for path, text, is_markdown in text_fields(entry):
        found = markdown_problems(text) if is_markdown else latex_problems(text)
        for offset, code, message, hint in capped(list(found)):
            mark = text_position(doc, path, text, offset)
            diags.append(Diagnostic(shown, mark.line, mark.col, code, message, hint=hint))
    return diags


@dataclass(frozen=True, slots=True)
class LayerLint:
    """How `inferbook lint` treats the entries of one layer (`lint:` in `_layer.yaml`)."""

    ignore: tuple[str, ...] = ()
    """Lint rule codes, code prefixes (IB30) or rule names whose findings in this layer are dropped."""
    allowed_hosts: tuple[str, ...] = ()
    """Host names (and their subdomains) whose source URLs are accepted in this layer, e.g. an internal wiki."""


@dataclass(frozen=True, slots=True)
class Layer:
    """What a folder's optional `_layer.yaml` says about it."""

    name: str
    data_version: str | None = None
    data_date: str | None = None
    replaces: frozenset[str] = frozenset()
    base: bool | None = None
    """True: a complete knowledge base, loaded alone; False: a layer over the built-in one;
    None (not written): a folder with chapters of its own is complete, any other is a layer."""
    lint: LayerLint = LayerLint()


_LAYER_FIELDS = ("name", "description", "data_version", "data_date", "replaces", "base", "lint")
_LINT_FIELDS = ("ignore", "allowed_hosts")
_RULE_PATTERN = re.compile(r"(?:IB3[0-9]{0,2}|[a-z0-9]+(?:-[a-z0-9]+)*)")
"""A lint rule code, code prefix or rule name."""
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_PATTERN = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*")
"""A lower-case host name (labels of letters, digits and inner hyphens)."""


def read_layer(folder: Path) -> tuple[Layer, list[Diagnostic]]:
    """Read `_layer.yaml` of a folder (name, data version and date, ids it replaces,
    whether it is a complete knowledge base, lint settings)."""
    path = folder / LAYER_FILE
    if not os.path.lexists(path):
        return Layer(folder.name), []
    shown = display_path(path)
    refused = refused_item(path, folder)
    if refused is not None:
        return Layer(folder.name), [refused]
    try:
        doc = read_file(path, follow_symlinks=False)
    except (YamlError, OSError) as exc:
        return Layer(folder.name), [_read_problem(shown, exc)]
    data = doc.data
    diags = [Diagnostic(shown, *_lc(doc, (k,)), "IB101", f"unknown field '{k}'",
                        hint="allowed: " + ", ".join(_LAYER_FIELDS)) for k in sorted(set(data) - set(_LAYER_FIELDS))]
    for key in ("name", "data_version", "data_date"):
        if key in data and not isinstance(data[key], str):
            diags.append(Diagnostic(shown, *_lc(doc, (key,)), "IB101", f"{key} must be quoted text"))
            data.pop(key)
        elif key in data and (problem := disallowed_character(data[key], "")) is not None:
            diags.append(Diagnostic(shown, *_lc(doc, (key,)), "IB101", f"{key}: {problem[1]} in a single-line field"))
            data.pop(key)
    replaces = data.get("replaces", ())
    if not isinstance(replaces, tuple) or not all(isinstance(r, str) and slug_ok(r) for r in replaces):
        diags.append(Diagnostic(shown, *_lc(doc, ("replaces",)), "IB101", "replaces must be a list of ids"))
        replaces = ()
    base = data.get("base")
    if base is not None and not isinstance(base, bool):
        diags.append(Diagnostic(shown, *_lc(doc, ("base",)), "IB101", "base must be true or false"))
        base = None
    lint, lint_diags = _read_lint(doc, shown)
    diags += lint_diags
    layer = Layer(data.get("name", folder.name), data.get("data_version"), data.get("data_date"), frozenset(replaces),
                  base, lint)
    return layer, diags


def _read_lint(doc: Document, shown: str) -> tuple[LayerLint, list[Diagnostic]]:
    """The `lint:` mapping of a `_layer.yaml`: rule codes to ignore and source hosts to allow."""
    data = doc.data.get("lint")
    if data is None:
        return LayerLint(), []
    if not isinstance(data, dict):
        return LayerLint(), [Diagnostic(shown, *_lc(doc, ("lint",)), "IB101",
                                        "lint must be a mapping, e.g. lint: {ignore: [IB302], allowed_hosts: "
                                        "[wiki.internal]}")]
    diags = [Diagnostic(shown, *_lc(doc, ("lint", k)), "IB101", f"unknown field 'lint.{k}'",
                        hint="allowed: " + ", ".join(_LINT_FIELDS)) for k in sorted(set(data) - set(_LINT_FIELDS))]
    found: dict[str, tuple[str, ...]] = {}
    checks = {"ignore": (_RULE_PATTERN, "lint rule codes (IB302), code prefixes (IB30) or rule names"),
              "allowed_hosts": (_HOST_PATTERN, "lower-case host names such as wiki.internal")}
    for key, (pattern, what) in checks.items():
        values = data.get(key, ())
        if not isinstance(values, tuple) or not all(isinstance(v, str) and pattern.fullmatch(v) for v in values):
            diags.append(Diagnostic(shown, *_lc(doc, ("lint", key)), "IB101", f"lint.{key} must be a list of {what}"))
            values = ()
        found[key] = values
    return LayerLint(found["ignore"], found["allowed_hosts"]), diags


def is_complete(folder: Path) -> bool:
    """Whether ``folder`` is a complete knowledge base rather than a layer over the built-in one:
    its `_layer.yaml` says `base: true`, or says nothing and the folder has a chapters/ folder."""
    layer, _ = read_layer(folder)
    if layer.base is not None:
        return layer.base
    return (folder / "chapters").is_dir()


def _lc(doc: Document, path: tuple) -> tuple[int, int]:
    m = doc.locate(path, prefer_key=True)
    return m.line, m.col


def discover(folder: Path) -> tuple[list[tuple[str, Path]], list[Diagnostic]]:
    """List the entry files of one knowledge-base folder, in a stable order. Symbolic
    links and special files are refused with a finding (see the module doc); hidden
    items and README.md are skipped unread, `_layer.yaml` is left to `read_layer`."""
    files: list[tuple[str, Path]] = []
    diags: list[Diagnostic] = []
    if not folder.is_dir():
        return files, [Diagnostic(display_path(folder), 1, 1, "IB004", "knowledge-base folder not found")]
    for child in sorted(folder.iterdir()):
        name = child.name
        if name.startswith(".") or name in (LAYER_FILE, "README.md"):
            continue
        refused = refused_item(child, folder)
        if refused is not None:
            diags.append(refused)
            continue
        if child.is_dir() and name in KINDS:
            for item in sorted(child.iterdir()):
                if item.name.startswith("."):
                    continue
                refused = refused_item(item, folder)
                if refused is not None:
                    diags.append(refused)
                    continue
                if item.is_file() and item.name.endswith(".yaml"):
                    files.append((name, item))
                elif item.is_file() and name in ARTICLE_KINDS and FIGURE_FILE.fullmatch(item.name):
                    continue  # a figure drawing, read with its entry (figures.py)
                else:
                    diags.append(Diagnostic(display_path(item), 1, 1, "IB005",
                                            "not an entry file: expected <id>.yaml",
                                            hint="entries are YAML files named after their id"))
        else:
            diags.append(Diagnostic(display_path(child), 1, 1, "IB006",
                                    f"unexpected item '{_printable(name)}' in a knowledge-base folder",
                                    hint="kinds: " + ", ".join(KINDS)))
    return files, diags


@dataclass(slots=True)
class LayerLoad:
    """One folder read on its own: its `_layer.yaml`, the entries that passed their schema
    (in file order, duplicates included: `merge_layers` reports them) and the findings."""

    folder: Path
    layer: Layer
    entries: list[LoadedEntry] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files_read: int = 0


def load_layer(folder: Path, layer: int = 0) -> LayerLoad:
    """Read one knowledge-base folder as layer number ``layer``."""
    files, diags = discover(folder)
    layer_info, layer_diags = read_layer(folder)
    part = LayerLoad(folder, layer_info, diagnostics=diags + layer_diags)
    for kind, path in files:
        part.files_read += 1
        loaded, file_diags = load_file(path, kind, layer)
        part.diagnostics.extend(file_diags)
        if loaded is not None:
            part.entries.append(loaded)
    part.diagnostics.extend(_unused_drawings(folder, part.entries))
    return part


def _unused_drawings(folder: Path, entries: Sequence[LoadedEntry]) -> list[Diagnostic]:
    """A warning for each drawing in the folder that no loaded entry declares as a figure."""
    from .figures import figure_path

    wanted = {figure_path(loaded.path, figure.id) for loaded in entries if loaded.kind in ARTICLE_KINDS
              for figure in getattr(loaded.entry, "figures", ())}
    diags = []
    for kind in ARTICLE_KINDS:
        kind_dir = folder / kind
        if not kind_dir.is_dir():
            continue
        for drawing in sorted(kind_dir.glob("*.svg")):
            if FIGURE_FILE.fullmatch(drawing.name) and drawing not in wanted:
                diags.append(Diagnostic(display_path(drawing), 1, 1, "IB009",
                                        "figure drawing that no entry declares under figures:", severity="warning",
                                        hint="declare it in its entry's figures: list, or delete it"))
    return diags


def merge_layers(parts: Sequence[LayerLoad]) -> LoadResult:
    """Layer the folders in order: a later one may add entries, and replace an earlier
    entry of the same kind only when its `_layer.yaml` lists the id under `replaces`;
    every other repeated id is an error (IB103). Entries keep the layer number they were
    read with, which must be their position in ``parts``."""
    result = LoadResult()
    for part in parts:
        result.diagnostics.extend(part.diagnostics)
        result.layers.append(part.layer)
        result.files_read += part.files_read
        for loaded in part.entries:
            _place(result, loaded, part)
    return result


def _place(result: LoadResult, loaded: LoadedEntry, part: LayerLoad) -> None:
    """Add one entry to the merged result, or report its id as a duplicate."""
    previous = result.entries.get(loaded.entry.id)
    if previous is None:
        result.entries[loaded.entry.id] = loaded
    elif previous.layer < loaded.layer and loaded.entry.id in part.layer.replaces and previous.kind == loaded.kind:
        result.entries[loaded.entry.id] = loaded
    else:
        mark = loaded.doc.locate(("id",))
        hint = (f"list '{loaded.entry.id}' under replaces: in {part.folder / LAYER_FILE} to override it"
                if previous.layer < loaded.layer else "ids must be unique across all kinds")
        result.diagnostics.append(Diagnostic(
            loaded.display_path, mark.line, mark.col, "IB103",
            f"duplicate id '{loaded.entry.id}', already defined in {previous.display_path}", hint=hint))


def add_extra_files(result: LoadResult, extra_files: Sequence[Path], layer: int) -> None:
    """Load single entry files outside the folders, each replacing an entry of the same id."""
    for path in extra_files:
        kind = path.parent.name
        result.files_read += 1
        if kind not in KINDS:
            result.diagnostics.append(Diagnostic(display_path(path), 1, 1, "IB006",
                                                 f"cannot tell the kind of '{path}'",
                                                 hint="entry files live in a folder named after their kind: "
                                                 + ", ".join(KINDS)))
            continue
        loaded, file_diags = load_file(path, kind, layer)
        result.diagnostics.extend(file_diags)
        if loaded is not None:
            result.entries[loaded.entry.id] = loaded


def load_folders(folders: Sequence[Path], extra_files: Sequence[Path] = ()) -> LoadResult:
    """Load and layer knowledge-base folders, then any ``extra_files`` (single entries
    outside those folders, each replacing an entry of the same id)."""
    result = merge_layers([load_layer(folder, i) for i, folder in enumerate(folders)])
    add_extra_files(result, extra_files, len(folders))
    return result
