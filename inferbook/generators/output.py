"""Where a generator's files go: straight into a folder, or into memory first.

`DirOutput` writes each file as it is produced (a full build into a staging folder).
`MemoryOutput` collects them so that `sync_folder` can write only what changed into a
live folder, one atomic rename per file: the fast path `inferbook serve` uses after an
edit, when creating every file of the site again would dominate the rebuild."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


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


def sync_folder(files: dict[str, bytes], root: Path, previous: Manifest | None = None) -> SyncResult:
    """Make ``root`` hold exactly ``files``: write the files whose bytes differ from
    ``previous`` (the manifest of what ``root`` holds; read from disk when None), each
    through a temporary file and an atomic rename, and delete files no longer produced."""
    root.mkdir(parents=True, exist_ok=True)
    before = folder_manifest(root) if previous is None else previous
    manifest: Manifest = {}
    written = 0
    for rel, data in files.items():
        digest = _digest(data)
        manifest[rel] = digest
        if before.get(rel) == digest:
            continue
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
        written += 1
    removed = 0
    for rel in sorted(set(before) - set(manifest)):
        with_path = root / rel
        if with_path.is_file():
            with_path.unlink()
            removed += 1
    return SyncResult(written=written, removed=removed, manifest=manifest)
