"""Computed results kept across processes, beside the load cache.

`inferbook validate`, the site build and `show` evaluate the `{{ plan(...) }}` expressions in
the prose; each is a deployment-plan search of about half a second. Their answers are small
JSON values that depend only on the entries the search reads, the data's date, the question
and the code and calibration that compute them, so they are kept in files under
``cache_dir()/results/`` (`api.cache_dir`: $INFERBOOK_CACHE_DIR, else the user's cache
folder; nothing is kept with INFERBOOK_NO_CACHE=1), one file per key. Other results live
there too: what a private folder's `_layer.yaml` says under `base`, by the file's bytes
(`api._complete`), that the prose of unchanged files checked clean (`api.validate`), and what
`predict` reads from the calc package's data files, the index of measured setups
(`calc.bands`) and the validated engine profiles (`calc.engines`), and what `inferbook plan`
printed for a question (`cli_plan`), replayed when the same question is asked again.

- the key is a digest the caller makes of everything the result depends on, including
  `code_digest` of the code and data files that compute it, so a code change is a miss;
- a file is written whole under a temporary name in the same folder and renamed into place
  (`os.replace`), so two processes writing the same key leave one complete file and a reader
  never sees half of one;
- a file is trusted only when it is a regular file of the current user that others cannot
  write, at most `MAX_BYTES` long, JSON of exactly the expected layout, holds the full key it
  is filed under, and its value passes the caller's check; anything else is a miss (and is
  replaced on the next write);
- nothing is written inside the installed package or a site-packages folder, even when the
  cache folder is set there; every error (an unwritable folder, a full disk) is a miss.

The `KEEP` most recently used files are kept; older ones are removed when a new one is written."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import stat
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .version import __version__

FORMAT = 1
"""Layout version of a result file; a file of another version is a miss."""
SUBFOLDER = "results"
"""Folder under the cache folder that holds the result files."""
KEEP = 2048
"""Result files kept; the least recently used beyond this are removed when one is written."""
MAX_BYTES = 65536
"""Largest result file read; a longer one is a miss."""
_TOUCH_AFTER_S = 3600
"""A file read is marked as recently used when its time is older than this (one utime, not one per read)."""


def folder() -> Path | None:
    """The folder of result files, or None when caching is off (`api.cache_dir`)."""
    from .api import cache_dir

    base = cache_dir()
    return base / SUBFOLDER if base is not None else None


def digest(*parts: bytes | str) -> str:
    """A hex digest of ``parts`` (each length-prefixed, so the split between parts counts)."""
    h = hashlib.blake2b(digest_size=20)
    for part in parts:
        raw = part.encode() if isinstance(part, str) else part
        h.update(len(raw).to_bytes(8, "little") + raw)
    return h.hexdigest()


def entries_digest(named: Iterable[tuple[str, Any]]) -> str:
    """A `digest` of (name, entry) pairs, each entry by its JSON (`model_dump_json`), None as "missing"."""
    return digest(*(part for name, entry in named
                    for part in (name, "missing" if entry is None else entry.model_dump_json())))


def code_digest(files: Iterable[Path], root: Path) -> str | None:
    """A digest of the package version, the Python version and the names (relative to ``root``)
    and bytes of ``files``; None when one cannot be read (then nothing is cached)."""
    parts: list[bytes | str] = [f"{FORMAT}|{__version__}|{sys.version}"]
    try:
        for path in sorted(files):
            parts += [path.relative_to(root).as_posix(), path.read_bytes()]
    except (OSError, ValueError):
        return None
    return digest(*parts)


def package_files(subfolders: tuple[str, ...], modules: tuple[str, ...]) -> list[Path]:
    """The package's ``modules`` and every file of code or data (.py, .json, .yaml) under its
    ``subfolders``, compiled caches left out."""
    from .paths import PACKAGE_DIR

    files = [PACKAGE_DIR / name for name in modules]
    for sub in subfolders:
        files += [p for p in (PACKAGE_DIR / sub).rglob("*")
                  if p.suffix in (".py", ".json", ".yaml") and "__pycache__" not in p.parts and p.is_file()]
    return files


@functools.cache
def package_code_digest(subfolders: tuple[str, ...], modules: tuple[str, ...]) -> str | None:
    """`code_digest` of `package_files` (computed once per process)."""
    from .paths import PACKAGE_DIR

    return code_digest(package_files(subfolders, modules), PACKAGE_DIR)


def _path(where: Path, namespace: str, key: str) -> Path:
    return where / f"{namespace}-{key[:40]}.json"


def read(namespace: str, key: str, check: Callable[[Any], bool], max_bytes: int = MAX_BYTES) -> Any:
    """The value stored under ``namespace`` and ``key`` when the file passes every test of the
    module doc (with ``max_bytes`` as its size limit) and ``check(value)`` is true; else None."""
    where = folder()
    if where is None:
        return None
    path = _path(where, namespace, key)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if (not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes or info.st_mode & 0o022
                or (hasattr(os, "getuid") and info.st_uid != os.getuid())):
            return None
        raw = os.read(fd, max_bytes + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # truncated, not UTF-8, not JSON
        return None
    if (not isinstance(data, dict) or set(data) != {"format", "namespace", "key", "value"}
            or data["format"] != FORMAT or data["namespace"] != namespace or data["key"] != key):
        return None
    value = data["value"]
    try:
        trusted = check(value)
    except Exception:  # a check that trips over an unexpected shape: not trusted
        trusted = False
    if not trusted:
        return None
    import time

    if info.st_mtime < time.time() - _TOUCH_AFTER_S:
        try:
            os.utime(path)  # recently used: kept when old files are removed
        except OSError:
            pass
    return value


def writable(where: Path) -> bool:
    """Whether result files may be written into ``where``: not inside the installed package
    or a site-packages folder (`api.write_refusal` says the same for entries)."""
    from .api import site_dirs
    from .paths import PACKAGE_DIR

    real = os.path.realpath(where)
    for root in [PACKAGE_DIR, *site_dirs()]:
        top = os.path.realpath(root)
        if real == top or real.startswith(top.rstrip(os.sep) + os.sep):
            return False
    return True


def write(namespace: str, key: str, value: Any, max_bytes: int = MAX_BYTES) -> bool:
    """Store ``value`` (JSON without NaN or infinities, at most ``max_bytes`` written) under
    ``namespace`` and ``key``; whether it was stored. Never raises for a folder or a value it
    cannot write."""
    where = folder()
    if where is None:
        return False
    try:
        text = json.dumps({"format": FORMAT, "namespace": namespace, "key": key, "value": value},
                          allow_nan=False, sort_keys=True, separators=(",", ":")).encode()
    except (TypeError, ValueError, RecursionError):
        return False
    if len(text) > max_bytes:
        return False
    import tempfile

    try:
        if not writable(where):
            return False
        where.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle = tempfile.NamedTemporaryFile(dir=where, prefix=f".{namespace}.", suffix=".tmp", delete=False)
        try:
            with handle:
                handle.write(text)
            os.replace(handle.name, _path(where, namespace, key))
        except BaseException:
            os.unlink(handle.name)
            raise
        _prune(where)
    except OSError:
        return False
    return True


def _prune(where: Path) -> None:
    """Remove the least recently used result files beyond `KEEP`, and temporary files an
    interrupted writer left behind over an hour ago."""
    import time

    results, stale = [], []
    with os.scandir(where) as listing:
        for item in listing:
            try:
                mtime = item.stat(follow_symlinks=False).st_mtime
            except OSError:
                continue
            if item.name.endswith(".json") and not item.name.startswith("."):
                results.append((mtime, item.path))
            elif item.name.startswith(".") and item.name.endswith(".tmp") and mtime < time.time() - 3600:
                stale.append(item.path)
    if len(results) > KEEP:
        stale += [path for _, path in sorted(results, reverse=True)[KEEP:]]
    for path in stale:
        try:
            os.unlink(path)
        except OSError:
            pass
