"""Entry points: `validate()` checks folders or files, `load()` returns a
`KnowledgeBase`. A wheel carries a precompiled bundle of the built-in KB
(`_data/kb.json`, written at build time by `bundle.write_bundle`), so loading
it needs neither YAML parsing nor the graph checks.

Layering: `load("mine", builtin=True)` puts the built-in knowledge base under
your folder; `builtin=None` does so unless the bottom folder is a complete
knowledge base of its own (`loader.is_complete`). The command line uses None,
so `--kb mine` means "the built-in one plus mine". The same folder named twice
is loaded once.

Cache: `load()` keeps what it built in a user cache folder (`cache_dir()`:
$INFERBOOK_CACHE_DIR, else $XDG_CACHE_HOME/inferbook or ~/.cache/inferbook; off
with INFERBOOK_NO_CACHE=1), one file per set of folders and one per large folder,
each keyed by a hash of every file of those folders, of the loading code and of the
Python and pydantic versions. A file is written whole under a temporary name and
renamed into place, so readers never see half of one. A file is trusted only when it
is the current user's, not writable by others, starts with the format header, has
the expected key and a matching digest, and unpickles (with only the schema's
classes and `datetime.date` allowed) into exactly what the loader produces: entries
of the schema's classes, their kinds and the edges between them. Anything else is
ignored and rebuilt. `inferbook validate` (``validate(cached=True)``) takes unchanged folders
from the same cache, with the warnings their reading gave; results computed from the data, such
as the plans in the prose, are kept beside it by `result_cache`."""

from __future__ import annotations

import functools
import gc
import hashlib
import io
import json
import os
import pickle
import site
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from .diagnostics import Diagnostic, KnowledgeBaseError
from .kb import KnowledgeBase, entry_records
from .paths import PACKAGE_DIR, default_kb_dir, in_checkout
from .schema import KINDS
from .version import __version__
from .yamlio import Document, Mark, Path_, YamlError

if TYPE_CHECKING:  # the loader and graph checks are imported on first use
    from .graph import Edge
    from .loader import LayerLoad, LoadResult

BUNDLE_PATH = PACKAGE_DIR / "_data" / "kb.json"

KbArg = str | PathLike[str] | Sequence[str | PathLike[str]] | None
P = ParamSpec("P")
R = TypeVar("R")

ENV_KB = "INFERBOOK_KB"
"""Folders (separated by os.pathsep) the command line layers over the built-in KB when no --kb is given."""
ENV_CACHE_DIR = "INFERBOOK_CACHE_DIR"
ENV_NO_CACHE = "INFERBOOK_NO_CACHE"
CACHE_FORMAT = 1
"""Version of the cache file layout; a file of another version is ignored."""
CACHE_MIN_FILES = 100
"""Folders with fewer entry files than this load faster than a cache can be checked: not cached."""
CACHE_KEEP = 32
"""Cache files kept; the least recently used beyond this are removed when one is written."""
_CACHE_MAGIC = b"inferbook-cache\n"
_CODE_FILES = ("api.py", "kb.py", "loader.py", "yamlio.py", "graph.py", "refs.py", "content_checks.py",
               "version.py")
"""Modules (besides schema/) whose code decides what a load produces: part of every cache key."""


# folders and layering ------------------------------------------------------------------
def env_folders() -> list[Path]:
    """The folders named by $INFERBOOK_KB (separated by os.pathsep), in order."""
    return [Path(p) for p in os.environ.get(ENV_KB, "").split(os.pathsep) if p.strip()]


def _real(path: Path) -> str:
    return os.path.realpath(path)


def unique_folders(folders: Iterable[Path]) -> list[Path]:
    """``folders`` with repeats of the same folder (by its real path) left out, first kept."""
    seen: set[str] = set()
    out = []
    for folder in folders:
        key = _real(folder)
        if key not in seen:
            seen.add(key)
            out.append(folder)
    return out


def is_builtin(folder: Path) -> bool:
    """Whether ``folder`` is the built-in knowledge-base folder (wherever it is named from)."""
    return _real(folder) == _real(default_kb_dir())


def _complete(folder: Path) -> bool:
    """`loader.is_complete`, with what a `_layer.yaml` says under `base` kept in the result cache by
    the file's bytes: a command that layers a private folder need not import the YAML parser."""
    if is_builtin(folder):
        return True
    layer_file = folder / _LAYER_FILE
    if not os.path.lexists(layer_file):
        return (folder / "chapters").is_dir()
    try:
        base = _layer_base(layer_file)
    except (OSError, YamlError):  # a link, a special or unreadable file: the loader says what it makes of it
        from .loader import is_complete

        return is_complete(folder)
    return base if base is not None else (folder / "chapters").is_dir()


_LAYER_FILE = "_layer.yaml"
"""`loader.LAYER_FILE` (the loader is imported only when a folder is read)."""


def _layer_base(path: Path) -> bool | None:
    """What the `_layer.yaml` at ``path`` says under `base` (None: nothing, or not a boolean, as
    `loader.read_layer` takes it), read from the result cache by the file's bytes when it holds
    them, else parsed from those same bytes and stored. OSError or YamlError for a file the loader
    would refuse (a link, a special file, one too large)."""
    from . import result_cache
    from .yamlio import parse_bytes, read_bytes

    raw = read_bytes(path, follow_symlinks=False)
    code = result_cache.package_code_digest((), ("api.py", "loader.py", "yamlio.py"))
    key = result_cache.digest("layer-base", code, raw) if code is not None else None
    if key is not None:
        found = result_cache.read("layer-base", key, lambda v: isinstance(v, dict) and set(v) == {"base"}
                                  and (v["base"] is None or type(v["base"]) is bool))
        if found is not None:
            return found["base"]
    try:
        said = parse_bytes(raw).data.get("base")
    except YamlError:
        said = None  # the loader reports it; the folder is judged by its chapters/
    base = said if isinstance(said, bool) else None
    if key is not None:
        result_cache.write("layer-base", key, {"base": base})
    return base


def kb_folders(kb: KbArg = None, builtin: bool | None = False) -> list[Path]:
    """Normalise the `kb` argument: None means the built-in kb/; one path or several (layered
    in order), each folder once. With ``builtin`` True the built-in KB goes underneath; with
    None it does unless the bottom folder is a complete knowledge base (`loader.is_complete`)."""
    if kb is None:
        return [default_kb_dir()]
    folders = unique_folders([Path(kb)] if isinstance(kb, (str, PathLike)) else [Path(p) for p in kb])
    if not folders:
        return [default_kb_dir()]
    if builtin or (builtin is None and not _complete(folders[0])):
        folders = unique_folders([default_kb_dir(), *folders])
    return folders


def _bundled(folder: Path) -> bool:
    """Whether ``folder`` is the built-in KB of an installed package, read from its bundle."""
    return is_builtin(folder) and not folder.is_dir() and BUNDLE_PATH.is_file()


def _builtin_below(folders: Sequence[Path]) -> bool:
    """Whether the built-in KB lies under other layers (its own warnings are not reported then)."""
    return len(folders) > 1 and is_builtin(folders[0])


# writing -------------------------------------------------------------------------------
def site_dirs() -> list[Path]:
    """Folders Python installs packages into (site-packages of this interpreter and the user's)."""
    import sysconfig

    found = {sysconfig.get_paths().get(k) for k in ("purelib", "platlib")}
    try:
        found.update(site.getsitepackages())
    except AttributeError:  # pragma: no cover - some virtualenv tools remove it
        pass
    found.add(site.getusersitepackages())
    return [Path(p) for p in sorted(f for f in found if f)]


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def write_refusal(target: Path, explicit: bool = True) -> str | None:
    """Why nothing may be written into ``target`` (a folder or a file), or None when it may.
    Refused: the installed package, any site-packages folder, and the built-in knowledge
    base of an installed package. In a checkout its kb/ is the contributors' working copy
    (`inferbook new gpus my-gpu` writes there, as CONTRIBUTING.md shows), named or not;
    ``explicit`` is kept for callers that say how the folder was chosen."""
    del explicit  # the checkout's kb/ may be written whether named or defaulted
    real = _real(target)
    builtin = default_kb_dir()
    if _within(real, _real(builtin)):
        if in_checkout():
            return None
        return (f"{builtin} is the installed package's built-in knowledge base; write your entries into a folder "
                f"of yours with --kb DIR (it is layered over the built-in one)")
    for root in [PACKAGE_DIR, *site_dirs()]:
        if _within(real, _real(root)):
            return (f"{target} is inside an installed package ({root}), which is never written to; use --kb DIR "
                    f"with a folder of yours (it is layered over the built-in knowledge base)")
    return None


# loading ---------------------------------------------------------------------------------
def _gc_paused(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` with Python's cyclic garbage collector paused (restored afterwards).
    Reading a knowledge base allocates many objects that all stay alive; each full
    collection re-scans every one of them, which made validation grow faster than the
    number of entries (and cost a third of it at 10,000). Reference counting still frees
    everything that is dropped; nothing else changes."""
    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return wrapper


@dataclass(slots=True)
class Validation:
    """Result of validating a knowledge base: the load, its graph checks and all findings."""

    result: LoadResult
    diagnostics: list[Diagnostic]
    kb: KnowledgeBase | None = None
    """The knowledge base, when the load had no errors."""

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


@_gc_paused
def validate(kb: KbArg = None, files: Sequence[Path] = (), *, builtin: bool | None = False,
             cached: bool = False) -> Validation:
    """Load folders (and extra single files), run schema and graph checks, return every finding.
    With ``files``, only findings located in those files are kept. ``builtin`` as in `kb_folders`;
    when the built-in KB lies under other folders, its own warnings are left out (validate it
    alone to see them) and it may come from the cache, since nothing of it is reported.

    With ``cached`` (what `inferbook validate` asks for), every folder whose files are unchanged
    since it was last read comes from the cache with the findings its reading gave then, instead
    of being parsed again; its entries then carry no YAML positions (``result.entries[i].doc`` is
    empty, so callers that locate their own findings, such as lint, leave it off). When the merge,
    graph or prose checks ask for a position in such a file (to place a finding), the validation
    runs again without the cache, so the findings are always exactly those of an uncached run. When
    every folder is cacheable, that the prose of exactly these files checked clean is noted in the
    result cache (`_clean_prose_key`), and a later run with the same files and code skips it."""
    folders = kb_folders(kb, builtin=builtin)
    resolved_folders = [f.resolve() for f in folders]
    from .graph import check_graph
    from .loader import add_extra_files, display_path, merge_layers

    below = _builtin_below(folders)
    extra = [f for f in files if not any(_inside(f.resolve(), r) for r in resolved_folders)]
    reuse = set(range(len(folders))) if cached else {0} if below else set()
    stat_keys: dict[int, str] = {}
    parts, from_cache = _layer_parts(folders, _Cache.open() if reuse else None, cached=reuse, findings=cached,
                                     stat_keys=stat_keys)
    result = merge_layers(parts)
    add_extra_files(result, extra, len(folders))
    edges, graph_diags = check_graph(result.entries)
    diags = result.diagnostics + graph_diags
    kb_obj = None
    clean_key = _clean_prose_key(stat_keys, len(folders)) if cached and not extra else None
    wanted = {display_path(f) for f in files}  # with files, only their findings are reported
    if not any(d.severity == "error" for d in diags):
        from . import result_cache

        kb_obj = _knowledge_base(result, edges)
        if clean_key is None or not result_cache.read("prose", clean_key, lambda v: v == {"clean": True}):
            from .prose import check_expressions

            # so only their prose is checked (another entry's expressions cannot change what is
            # reported, and a plan in them costs a simulation)
            found = check_expressions(kb_obj, {k: le for k, le in result.entries.items()
                                               if le.display_path in wanted} if files else result.entries)
            diags += found
            if clean_key is not None and not found and not files:  # all of the prose was checked
                result_cache.write("prose", clean_key, {"clean": True})
    if any(isinstance(le.doc, _Unparsed) and le.doc.asked for i in from_cache for le in parts[i].entries[:1]):
        # the merge, graph or prose checks wanted the position of something in a file read from the
        # cache, whose YAML was not parsed: find everything again from the files
        return validate(kb, files, builtin=builtin)
    if below:
        inside = builtin_files(result, folders[0])
        diags = [d for d in diags if d.severity == "error" or d.file not in inside]
    if files:
        diags = [d for d in diags if d.file in wanted]
    return Validation(result, sorted(diags, key=Diagnostic.sort_key), kb_obj)


PROSE_CODE = (("calc", "schema"), ("content_checks.py", "expressions.py", "kb.py", "prose.py", "version.py"))
"""What the prose checks' verdict depends on besides the files (whose stat keys already cover the
loading code): every expression function and calculator, and the checks themselves."""


def _clean_prose_key(stat_keys: dict[int, str], folders: int) -> str | None:
    """The result-cache key under which `validate(cached=True)` notes that the prose of exactly these
    files (every folder's stat key: names, sizes, times and the loading code) checked clean; None when
    a folder has no key (too small to cache, or changed while it was read)."""
    from . import result_cache

    if len(stat_keys) != folders:
        return None
    code = result_cache.package_code_digest(*PROSE_CODE)
    if code is None:
        return None
    return result_cache.digest("prose", code, *(stat_keys[i] for i in range(folders)))


def builtin_files(result: LoadResult, folder: Path) -> set[str]:
    """Display paths of the files of layer 0 (``folder``) in ``result``, and of the folder's own items."""
    from .loader import LAYER_FILE, display_path

    shown = {le.display_path for le in result.entries.values() if le.layer == 0}
    shown.add(display_path(folder / LAYER_FILE))
    return shown


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def knowledge_base_from(result: LoadResult) -> KnowledgeBase:
    """Build the query object from a load that passed validation."""
    from .graph import check_graph

    edges, diags = check_graph(result.entries)
    errors = [d for d in result.diagnostics + diags if d.severity == "error"]
    if errors:
        raise KnowledgeBaseError(sorted(errors, key=Diagnostic.sort_key))
    return _knowledge_base(result, edges)


def _knowledge_base(result: LoadResult, edges: list[Edge]) -> KnowledgeBase:
    base = result.layers[0] if result.layers else None
    version = (base.data_version if base else None) or "unversioned"
    names = [layer.name for layer in result.layers[1:]]
    if names:
        version = "+".join([version, *names])
    return KnowledgeBase(
        entries={i: le.entry for i, le in result.entries.items()},
        kinds={i: le.kind for i, le in result.entries.items()},
        paths={i: le.path for i, le in result.entries.items()},
        edges=[(e.source, e.target, e.type) for e in edges],
        data_version=version,
        data_date=(base.data_date if base else None) or "",
    )


@_gc_paused
def load(kb: KbArg = None, *, builtin: bool | None = False) -> KnowledgeBase:
    """Load and validate a knowledge base (default: the built-in one).

    ``kb`` may be a folder or a list of folders layered in order; ``builtin=True`` puts the
    built-in KB underneath them, ``builtin=None`` does so unless the bottom folder is a
    complete knowledge base (see `kb_folders`). Raises `KnowledgeBaseError` listing every
    problem when the data is invalid. Uses the cache described in the module doc."""
    folders = kb_folders(kb, builtin=builtin)
    cache = _Cache.open()
    key = _kb_key(folders) if cache is not None else None
    if cache is not None and key is not None:
        found = _kb_from_payload(cache.read(key), folders)
        if found is not None:
            return found
    if key is not None:
        key.content_key()
    if kb is None and BUNDLE_PATH.exists():
        built = _load_bundle(BUNDLE_PATH, folders[0])
    else:
        from .loader import load_folders, merge_layers

        parts, from_cache = _layer_parts(folders, cache if key is not None else None, cached=range(len(folders)))
        try:
            built = knowledge_base_from(merge_layers(parts))
        except KnowledgeBaseError:
            if not from_cache:
                raise
            built = knowledge_base_from(load_folders(folders))  # raises with every finding where it stands
    if cache is not None and key is not None and key.unchanged(folders):
        payload = _payload(built, folders)
        if payload is not None:
            cache.write(key, payload)
    return built


def _load_bundle(path: Path, kb_dir: Path) -> KnowledgeBase:
    data = json.loads(path.read_bytes())
    entries, kinds, paths = {}, {}, {}
    for item in data["entries"]:
        eid, kind = item["id"], item["kind"]
        # the bundle was validated strictly when it was built; JSON has no date type,
        # so dates arrive as ISO strings and need the lax mode to become dates again
        entries[eid] = KINDS[kind].model_validate_json(item["json"], strict=False)
        kinds[eid] = kind
        paths[eid] = kb_dir / kind / f"{eid}.yaml"
    return KnowledgeBase(entries, kinds, paths, [tuple(e) for e in data["edges"]],
                         data["data_version"], data["data_date"])


def _bundle_layer(folder: Path, index: int) -> LayerLoad:
    """The built-in KB of an installed package as a layer, read from its bundle."""
    from .loader import Layer, LayerLoad, LoadedEntry, display_path
    from .yamlio import Document

    data = json.loads(BUNDLE_PATH.read_bytes())
    part = LayerLoad(folder, Layer("inferbook", data["data_version"], data["data_date"], base=True))
    for item in data["entries"]:
        kind = item["kind"]
        path = folder / kind / f"{item['id']}.yaml"
        entry = KINDS[kind].model_validate_json(item["json"], strict=False)
        part.entries.append(LoadedEntry(kind, entry, path, display_path(path), Document(data={}), index))
    return part


def _layer_parts(folders: Sequence[Path], cache: _Cache | None, cached: Iterable[int],
                 findings: bool = False, stat_keys: dict[int, str] | None = None) -> tuple[list[LayerLoad], set[int]]:
    """Each folder as a `LayerLoad`: the installed package's built-in KB from its bundle; a
    folder whose number is in ``cached`` from the cache when it holds it (files are not
    parsed then, and positions in them are unknown), else read and, when it has no errors
    and enough files, stored. With ``findings`` a cached folder brings the warnings its
    reading gave (and is read again when they were worded in another working directory).
    Also the numbers of the parts that came from the cache; ``stat_keys`` receives, by number, the
    stat key of each part whose data is that of its files as they stand (from the cache, or read
    and unchanged since)."""
    from .loader import load_layer

    allowed = set(cached)
    parts: list[LayerLoad] = []
    from_cache: set[int] = set()
    for index, folder in enumerate(folders):
        if _bundled(folder):
            parts.append(_bundle_layer(folder, index))
            continue
        key = _layer_key(folder) if cache is not None and index in allowed else None
        if cache is not None and key is not None:
            part = _layer_from_payload(cache.read(key), folder, index, findings)
            if part is not None:
                parts.append(part)
                from_cache.add(index)
                if stat_keys is not None:
                    stat_keys[index] = key.stat_key
                continue
        if key is not None:
            key.content_key()
        part = load_layer(folder, index)
        if (cache is not None and key is not None and not any(d.severity == "error" for d in part.diagnostics)
                and key.unchanged([folder])):
            cache.write(key, _layer_payload(part))
            if stat_keys is not None:
                stat_keys[index] = key.stat_key
        parts.append(part)
    return parts, from_cache


# the cache -----------------------------------------------------------------------------
def cache_dir() -> Path | None:
    """Where `load()` keeps its cache, or None when $INFERBOOK_NO_CACHE is set (to anything
    but 0 or nothing): $INFERBOOK_CACHE_DIR, else $XDG_CACHE_HOME/inferbook (an absolute
    path only), else ~/.cache/inferbook."""
    if os.environ.get(ENV_NO_CACHE, "").strip() not in ("", "0"):
        return None
    chosen = os.environ.get(ENV_CACHE_DIR, "").strip()
    if chosen:
        return Path(chosen)
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "inferbook"
    try:
        return Path.home() / ".cache" / "inferbook"
    except RuntimeError:  # no home folder
        return None


def _digest(*parts: bytes) -> str:
    h = hashlib.blake2b(digest_size=20)
    for part in parts:
        h.update(len(part).to_bytes(8, "little") + part)
    return h.hexdigest()


@functools.cache
def _code_key() -> str | None:
    """A hash of the code that decides what a load produces, and of the versions of Python
    and pydantic (whose objects the cache holds); None when a file cannot be read."""
    import pydantic
    import pydantic_core

    versions = f"{CACHE_FORMAT}|{__version__}|{sys.version}|{pydantic.VERSION}|{pydantic_core.__version__}"
    files = sorted((PACKAGE_DIR / "schema").glob("*.py")) + [PACKAGE_DIR / name for name in _CODE_FILES]
    try:
        return _digest(versions.encode(), *(p.name.encode() + b"\0" + p.read_bytes() for p in files))
    except OSError:
        return None


@dataclass(slots=True)
class _Scan:
    """What `loader.discover` would read in one folder: its files (with a label saying where
    each stands) and how many are entry files, plus a digest of their names, sizes, times and
    inodes, which changes when any file is written, added, removed or renamed."""

    files: list[tuple[bytes, str]]
    count: int
    stat_digest: str

    def content_digest(self) -> str | None:
        """A digest of the names and bytes of the files; None when one cannot be read."""
        try:
            return _digest(*(label + b"\0" + Path(path).read_bytes() for label, path in self.files))
        except OSError:
            return None


def _scan(folder: Path) -> _Scan | None:
    """Scan ``folder`` as `loader.discover` walks it: hidden items and README.md skipped,
    `_layer.yaml` included, one level of kind folders. None when it holds a link, a special
    file or a file too large to read, which the loader reports instead (nothing cached)."""
    from .yamlio import MAX_FILE_BYTES

    if _bundled(folder):
        try:
            info = BUNDLE_PATH.stat()
        except OSError:
            return None
        bundle_stats = f"{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}".encode()
        return _Scan([(b"bundle", str(BUNDLE_PATH))], CACHE_MIN_FILES, _digest(b"bundle", bundle_stats))
    files: list[tuple[bytes, str]] = []
    stats: list[bytes] = []
    count = 0

    def add(item: os.DirEntry, label: bytes) -> bool:
        if item.is_symlink() or not item.is_file(follow_symlinks=False):
            return False
        info = item.stat(follow_symlinks=False)
        if info.st_size > MAX_FILE_BYTES:
            return False
        files.append((label, item.path))
        stats.append(label + f":{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}:{info.st_ino}".encode())
        return True

    try:
        with os.scandir(folder) as listing:
            top = sorted(listing, key=lambda e: e.name)
        for item in top:
            if item.name.startswith(".") or item.name == "README.md":
                continue
            if not item.is_symlink() and item.is_dir(follow_symlinks=False):
                stats.append(b"D" + os.fsencode(item.name))
                with os.scandir(item.path) as listing:
                    inner = sorted(listing, key=lambda e: e.name)
                for sub in inner:
                    if sub.name.startswith("."):
                        continue
                    if not sub.is_symlink() and sub.is_dir(follow_symlinks=False):
                        stats.append(b"d" + os.fsencode(item.name) + b"/" + os.fsencode(sub.name))
                    elif add(sub, b"f" + os.fsencode(item.name) + b"/" + os.fsencode(sub.name)):
                        count += 1
                    else:
                        return None
            elif not add(item, b"F" + os.fsencode(item.name)):
                return None
    except OSError:
        return None
    return _Scan(files, count, _digest(*stats))


@dataclass(slots=True)
class _Key:
    """Where a cache entry lives (``name``) and what it must match: the digest of the file
    stats (checked first, cheaply) or else the digest of the files' bytes."""

    name: str
    prefix: bytes
    scans: list[_Scan]
    stat_key: str
    _content: str | None = None

    def unchanged(self, folders: Sequence[Path]) -> bool:
        """Whether the files still have the stats they had when this key was made (checked
        after a load, so that a file written meanwhile is never cached under the old key)."""
        scans = [_scan(f) for f in folders]
        return all(scans) and _digest(self.prefix, *(s.stat_digest.encode() for s in scans if s)) == self.stat_key

    def content_key(self) -> str | None:
        """The key over the bytes of every file (read once, on first use: before the load, so
        the key never describes newer bytes than the ones that were loaded)."""
        if self._content is None:
            digests = [s.content_digest() for s in self.scans]
            if any(d is None for d in digests):
                return None
            self._content = _digest(self.prefix, *(d.encode() for d in digests if d))
        return self._content


def _key(kind: bytes, folders: Sequence[Path], minimum: int) -> _Key | None:
    """The cache key of ``folders`` (a whole knowledge base or one layer), or None when it is
    not cached: a folder cannot be scanned, or they hold fewer than ``minimum`` entry files."""
    code = _code_key()
    scans = [_scan(f) for f in folders]
    if code is None or any(s is None for s in scans) or sum(s.count for s in scans if s) < minimum:
        return None
    where = [_real(f).encode() for f in folders]
    prefix = _digest(kind, code.encode(), *where).encode()
    found = [s for s in scans if s]
    return _Key(f"{kind.decode()}-{_digest(kind, *where)[:24]}", prefix, found,
                _digest(prefix, *(s.stat_digest.encode() for s in found)))


def _kb_key(folders: Sequence[Path]) -> _Key | None:
    """The cache key of the knowledge base layered from ``folders``."""
    return _key(b"kb", folders, CACHE_MIN_FILES)


def _layer_key(folder: Path) -> _Key | None:
    """The cache key of one folder read as a layer."""
    return _key(b"layer", [folder], CACHE_MIN_FILES)


class _Unpickler(pickle.Unpickler):
    """Unpickles only the schema's model classes and `datetime.date`: no other callable,
    so a tampered file cannot run code."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("datetime", "date"):
            import datetime

            return datetime.date
        if module == "inferbook.schema" or module.startswith("inferbook.schema."):
            found = getattr(sys.modules.get(module), name, None)
            from pydantic import BaseModel

            if isinstance(found, type) and issubclass(found, BaseModel):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in an inferbook cache")


class _Cache:
    """Cache files in one folder; see the module doc for what makes one trusted."""

    def __init__(self, folder: Path):
        self.folder = folder

    @classmethod
    def open(cls) -> _Cache | None:
        """The cache in `cache_dir()`, or None when caching is off."""
        folder = cache_dir()
        return cls(folder) if folder is not None else None

    def read(self, key: _Key) -> Any:
        """The object stored for ``key`` when every check of the module doc passes, else None.
        A file that matches by content but not by file stats is written again with the new stats."""
        path = self.folder / f"{key.name}.cache"
        try:
            with open(path, "rb") as handle:
                info = os.fstat(handle.fileno())
                if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & 0o022):
                    return None
                raw = handle.read()
        except OSError:
            return None
        if not raw.startswith(_CACHE_MAGIC):
            return None
        meta_line, _, payload = raw[len(_CACHE_MAGIC):].partition(b"\n")
        try:
            meta = json.loads(meta_line)
            if (not isinstance(meta, dict) or meta.get("format") != CACHE_FORMAT or meta.get("size") != len(payload)
                    or meta.get("digest") != _digest(payload)):
                return None
            fresh = meta.get("stat") == key.stat_key
            if not fresh and (meta.get("key") is None or meta.get("key") != key.content_key()):
                return None
            found = _Unpickler(io.BytesIO(payload)).load()
        except Exception:  # a corrupt or foreign file: ignored, rebuilt on the next write
            return None
        if not fresh:
            self._store(key, meta["key"], payload)
            return found
        try:
            os.utime(path)  # recently used: kept when old files are removed
        except OSError:
            pass
        return found

    def write(self, key: _Key, value: Any) -> None:
        """Store ``value`` for ``key``; errors (an unwritable folder, a full disk) are ignored."""
        content = key.content_key()
        if content is None:
            return
        try:
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, ValueError, RecursionError):
            return
        self._store(key, content, payload)

    def _store(self, key: _Key, content: str, payload: bytes) -> None:
        """Write the file whole under a temporary name, then rename it into place."""
        import tempfile

        meta = json.dumps({"format": CACHE_FORMAT, "key": content, "stat": key.stat_key, "size": len(payload),
                           "digest": _digest(payload), "inferbook": __version__}, sort_keys=True).encode()
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle = tempfile.NamedTemporaryFile(dir=self.folder, prefix=f".{key.name}.", suffix=".tmp", delete=False)
            try:
                with handle:
                    handle.write(_CACHE_MAGIC + meta + b"\n" + payload)
                os.replace(handle.name, self.folder / f"{key.name}.cache")
            except BaseException:
                os.unlink(handle.name)
                raise
            self._prune()
        except OSError:
            return

    def _prune(self) -> None:
        """Remove the least recently used cache files beyond `CACHE_KEEP`, and temporary files
        an interrupted writer left behind over an hour ago."""
        import time

        files = []
        for path in self.folder.iterdir():
            try:
                mtime = path.stat().st_mtime
            except OSError:
                continue
            if path.suffix == ".cache":
                files.append((mtime, path))
            elif path.name.startswith(".") and path.suffix == ".tmp" and mtime < time.time() - 3600:
                files.append((float("-inf"), path))
        keep = {p for _, p in sorted((f for f in files if f[0] != float("-inf")), reverse=True)[:CACHE_KEEP]}
        for _, path in files:
            if path not in keep:
                try:
                    path.unlink()
                except OSError:
                    pass


def _payload(kb: KnowledgeBase, folders: Sequence[Path]) -> dict[str, Any] | None:
    """What the cache stores of ``kb``: each entry with its kind and layer number, the edges and
    the versions. None when an entry's file is not `FOLDER/KIND/ID.yaml` of one of ``folders``."""
    index = {str(f): i for i, f in enumerate(folders)}
    items = []
    for eid, kind, path, entry in entry_records(kb):
        layer = index.get(str(path.parent.parent))
        if layer is None or path.name != f"{eid}.yaml" or path.parent.name != kind:
            return None
        items.append((eid, kind, layer, entry))
    return {"entries": items, "edges": [tuple(e) for e in kb.links()], "version": kb.data_version,
            "date": kb.data_date}


def _kb_from_payload(payload: Any, folders: Sequence[Path]) -> KnowledgeBase | None:
    """The knowledge base a cached payload describes, when it has exactly the expected shape."""
    if not isinstance(payload, dict) or set(payload) != {"entries", "edges", "version", "date"}:
        return None
    if not isinstance(payload["version"], str) or not isinstance(payload["date"], str):
        return None
    entries: dict[str, Any] = {}
    kinds: dict[str, str] = {}
    paths: dict[str, Path] = {}
    if not isinstance(payload["entries"], list) or not isinstance(payload["edges"], list):
        return None
    places: dict[tuple[int, str], Path] = {}  # (layer, kind) -> its folder, joined once
    for item in payload["entries"]:
        if not (isinstance(item, tuple) and len(item) == 4):
            return None
        eid, kind, layer, entry = item
        if (not isinstance(kind, str) or type(entry) is not KINDS.get(kind) or entry.id != eid or eid in entries
                or type(layer) is not int or not 0 <= layer < len(folders)):
            return None
        place = places.get((layer, kind))
        if place is None:
            place = places[layer, kind] = folders[layer] / kind
        entries[eid], kinds[eid], paths[eid] = entry, kind, place / f"{eid}.yaml"
    for edge in payload["edges"]:
        if not (type(edge) is tuple and len(edge) == 3 and type(edge[0]) is str and type(edge[1]) is str
                and type(edge[2]) is str and edge[0] in entries and edge[1] in entries):
            return None
    return KnowledgeBase(entries, kinds, paths, payload["edges"], payload["version"], payload["date"])


def _layer_payload(part: LayerLoad) -> dict[str, Any]:
    """What the cache stores of one folder read without errors: its `_layer.yaml`, entries and
    warnings, and the working directory the warnings' paths are relative to."""
    layer = part.layer
    return {"layer": (layer.name, layer.data_version, layer.data_date, tuple(sorted(layer.replaces)), layer.base,
                      layer.lint.ignore, layer.lint.allowed_hosts),
            "entries": [(le.kind, le.entry) for le in part.entries], "files_read": part.files_read,
            "findings": [(d.file, d.line, d.col, d.code, d.message, d.severity, d.hint) for d in part.diagnostics],
            "cwd": _cwd()}


def _cwd() -> str:
    """The working directory ("" when it was removed), which displayed paths are relative to."""
    try:
        return os.getcwd()
    except OSError:
        return ""


class _Unparsed(Document):
    """The document of entries read from the cache: it knows no positions (every `locate` gives
    line 1, column 1) and remembers whether a check asked it for one."""

    __slots__ = ("asked",)

    def __init__(self) -> None:
        super().__init__(data={})
        self.asked = False

    def locate(self, path: Path_, prefer_key: bool = False) -> Mark:
        self.asked = True
        return super().locate(path, prefer_key)


def _findings_from(items: Any) -> list[Diagnostic] | None:
    """The warnings a cached layer payload holds, when each has exactly the expected shape."""
    if not isinstance(items, list):
        return None
    found = []
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 7):
            return None
        file, line, col, code, message, severity, hint = item
        if (not all(isinstance(t, str) for t in (file, code, message)) or type(line) is not int
                or type(col) is not int or severity != "warning" or not (hint is None or isinstance(hint, str))):
            return None
        found.append(Diagnostic(file, line, col, code, message, severity, hint))
    return found


def _layer_from_payload(payload: Any, folder: Path, index: int, findings: bool = False) -> LayerLoad | None:
    """The `LayerLoad` a cached layer payload describes, when it has exactly the expected shape;
    with ``findings`` also its warnings, which must then have been worded in this working directory."""
    from .loader import Layer, LayerLint, LayerLoad, LoadedEntry, display_path
    from .schema.base import slug_ok

    if not isinstance(payload, dict) or set(payload) != {"layer", "entries", "files_read", "findings", "cwd"}:
        return None
    info, items, files_read = payload["layer"], payload["entries"], payload["files_read"]
    if not (isinstance(info, tuple) and len(info) == 7 and isinstance(items, list) and type(files_read) is int):
        return None
    diagnostics = _findings_from(payload["findings"])
    if diagnostics is None or (findings and diagnostics and payload["cwd"] != _cwd()):
        return None
    name, version, date, replaces, base, ignore, hosts = info
    texts = (version, date)
    if (not isinstance(name, str) or not all(t is None or isinstance(t, str) for t in texts)
            or base not in (None, True, False)
            or not all(isinstance(group, tuple) and all(isinstance(x, str) for x in group)
                       for group in (replaces, ignore, hosts))):
        return None
    part = LayerLoad(folder, Layer(name, version, date, frozenset(replaces), base, LayerLint(ignore, hosts)),
                     diagnostics=diagnostics if findings else [], files_read=files_read)
    empty = _Unparsed()  # one for the folder: whether any check asked it for a position
    places: dict[str, tuple[Path, str]] = {}  # kind -> its folder and how that is displayed, found once
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2):
            return None
        kind, entry = item
        if not isinstance(kind, str) or type(entry) is not KINDS.get(kind) or not slug_ok(entry.id):
            return None
        place = places.get(kind)
        if place is None:
            place = places[kind] = (folder / kind, display_path(folder / kind))
        file_name = f"{entry.id}.yaml"  # an id is a slug: printable and without separators, nothing to escape
        shown = file_name if place[1] == "." else f"{place[1]}{os.sep}{file_name}"
        part.entries.append(LoadedEntry(kind, entry, place[0] / file_name, shown, empty, index))
    return part
