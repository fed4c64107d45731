"""Where a generator's files go: straight into a folder, or into memory first.

`DirOutput` writes each file as it is produced (a full build into a staging folder).
`MemoryOutput` collects them so that `sync_folder` can write only what changed into a
live folder as one all-or-nothing update: the fast path `inferbook serve` uses after an
edit, when creating every file of the site again would dominate the rebuild.

Every output folder is made mode 0755 and every file 0644 by explicit chmod (the umask
plays no part), so that a web server running as another user can read a build.
`MARKER` is the file by which a build recognises an output folder it wrote itself."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

DIR_MODE = 0o755
FILE_MODE = 0o644
MARKER = ".inferbook-build"
"""Written into every output folder a build creates (but notebooks/, whose notebooks carry
`metadata.inferbook` instead): JSON that names the target and lists every file written."""


class Output(Protocol):
    """A sink for generated files, addressed by '/'-separated paths relative to the output root."""

    def text(self, rel: str, text: str) -> None:
        """Write ``text`` as UTF-8."""

    def copy(self, rel: str, src: Path) -> None:
        """Copy the file ``src``."""

    def tree(self, rel: str, src: Path) -> None:
        """Copy the folder ``src`` and everything in it."""


class DirOutput:
    """Writes files under ``root`` as they come."""

    def __init__(self, root: Path):
        self.root = root

    def _target(self, rel: str) -> Path:
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def text(self, rel: str, text: str) -> None:
        self._target(rel).write_text(text, encoding="utf-8")

    def copy(self, rel: str, src: Path) -> None:
        shutil.copyfile(src, self._target(rel))

    def tree(self, rel: str, src: Path) -> None:
        shutil.copytree(src, self.root / rel, dirs_exist_ok=True)


class MemoryOutput:
    """Keeps every file's bytes in ``files`` (path -> bytes)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def text(self, rel: str, text: str) -> None:
        self.files[rel] = text.encode("utf-8")

    def copy(self, rel: str, src: Path) -> None:
        self.files[rel] = src.read_bytes()

    def tree(self, rel: str, src: Path) -> None:
        for path in sorted(src.rglob("*")):
            if path.is_file():
                self.files[f"{rel}/{path.relative_to(src).as_posix()}"] = path.read_bytes()


Manifest = dict[str, str]
"""Relative path -> SHA-256 of the file's bytes."""


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What `sync_folder` did."""

    written: int
    removed: int
    manifest: Manifest


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def folder_manifest(root: Path) -> Manifest:
    """Hashes of every file under ``root``."""
    return {p.relative_to(root).as_posix(): _digest(p.read_bytes()) for p in root.rglob("*") if p.is_file()}


def marker_bytes(target: str, files: Iterable[str]) -> bytes:
    """The content of `MARKER` for an output folder of ``target`` that holds ``files``
    (relative '/'-separated paths; the marker itself is left out of the list)."""
    listed = sorted(f for f in files if f != MARKER)
    data = {"written_by": "inferbook", "target": target, "files": listed}
    return (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def normalize_modes(root: Path) -> None:
    """Make ``root`` and every folder under it mode 0755 and every file 0644 (links are left alone)."""
    os.chmod(root, DIR_MODE)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, DIR_MODE)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, FILE_MODE)


def _write_file(path: Path, data: bytes) -> None:
    """Create ``path`` (which must not exist; links are not followed) holding ``data``, mode 0644."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


_replace = os.replace
"""The rename that moves a file into place (a seam for tests that simulate a failing disk)."""


def _staging_for(root: Path) -> Path:
    """A fresh folder for an update's temporary files: beside ``root`` (not served) when that is on
    the same file system, so that renames are atomic, else hidden inside ``root``."""
    prefix = f".{root.name}-update-{os.getpid()}-"
    staging = Path(tempfile.mkdtemp(prefix=prefix, dir=root.parent))
    if os.stat(staging).st_dev != os.stat(root).st_dev:
        os.rmdir(staging)
        staging = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
    return staging


def _keep_copy(target: Path, backup: Path) -> None:
    """Keep the current ``target`` as ``backup`` (a hard link, or a copy where links are not possible)."""
    try:
        os.link(target, backup, follow_symlinks=False)
    except OSError:
        shutil.copy2(target, backup, follow_symlinks=False)


def _new_folders(root: Path, rels: Iterable[str]) -> list[Path]:
    """Folders under ``root`` that the files ``rels`` need and that do not exist yet, parents first."""
    missing: dict[Path, None] = {}
    for rel in rels:
        parent = (root / rel).parent
        chain = []
        while parent != root and not parent.is_dir():
            chain.append(parent)
            parent = parent.parent
        missing.update(dict.fromkeys(reversed(chain)))
    return list(missing)


def sync_folder(files: dict[str, bytes], root: Path, previous: Manifest | None = None) -> SyncResult:
    """Make ``root`` hold exactly ``files``: write the files whose bytes differ from
    ``previous`` (the manifest of what ``root`` holds; read from disk when None) and delete
    files no longer produced, all or nothing.

    Every changed file is first written to a temporary folder beside ``root``; only when all
    are written are they renamed into place (each rename is atomic; the file it replaces is
    kept until the end). Any error (a full disk, say) removes the temporary files, puts back
    every file already replaced or deleted and removes the folders made for new files, then
    raises: ``root`` is left as it was."""
    if not root.is_dir():
        root.mkdir(parents=True)
        os.chmod(root, DIR_MODE)
    before = folder_manifest(root) if previous is None else previous
    manifest = {rel: _digest(data) for rel, data in files.items()}
    changed = [rel for rel, digest in manifest.items() if before.get(rel) != digest]
    gone = [rel for rel in sorted(set(before) - set(manifest)) if (root / rel).is_file()]
    if not changed and not gone:
        return SyncResult(written=0, removed=0, manifest=manifest)
    staging = _staging_for(root)
    made: list[Path] = []
    replaced: list[tuple[Path, Path | None]] = []
    removed: list[tuple[Path, Path]] = []
    try:
        staged = []
        for i, rel in enumerate(changed):  # 1. every new file, outside root
            tmp = staging / f"new-{i}"
            _write_file(tmp, files[rel])
            staged.append((root / rel, tmp))
        for folder in _new_folders(root, changed):  # 2. folders for new files
            folder.mkdir()
            made.append(folder)
            os.chmod(folder, DIR_MODE)
        for i, (target, tmp) in enumerate(staged):  # 3. swap them in, keeping the old copies
            backup = None
            if os.path.lexists(target):
                backup = staging / f"old-{i}"
                _keep_copy(target, backup)
            _replace(tmp, target)
            replaced.append((target, backup))
        for i, rel in enumerate(gone):  # 4. park the files no longer produced
            parked = staging / f"gone-{i}"
            _replace(root / rel, parked)
            removed.append((root / rel, parked))
    except BaseException:
        _roll_back(replaced, removed, made)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return SyncResult(written=len(changed), removed=len(gone), manifest=manifest)


def _roll_back(replaced: list[tuple[Path, Path | None]], removed: list[tuple[Path, Path]],
               made: list[Path]) -> None:
    """Undo a failed `sync_folder` as far as the file system lets us (best effort)."""
    for target, parked in reversed(removed):
        try:
            os.replace(parked, target)
        except OSError:
            pass
    for target, backup in reversed(replaced):
        try:
            if backup is None:
                target.unlink(missing_ok=True)
            else:
                os.replace(backup, target)
        except OSError:
            pass
    for folder in reversed(made):
        try:
            folder.rmdir()
        except OSError:
            pass
