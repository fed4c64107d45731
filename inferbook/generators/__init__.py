"""Generators turn a loaded knowledge base into outputs under build/.

`TARGETS` maps each build target to its generator function, or to None while a
target is not implemented. `build()` runs each generator in a fresh temporary
folder inside the output folder and swaps it into place only when the generator
succeeds, under a lock, so a failed or concurrent build never leaves a
half-written output behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from ..api import KbArg, validate
from ..diagnostics import KnowledgeBaseError
from ..kb import KnowledgeBase
from .notebooks import build_notebooks
from .output import Manifest, MemoryOutput, SyncResult, sync_folder
from .pdf import PdfOptions, build_pdf, build_pdf_target
from .site import build_site
from .tables import build_tables

Generator = Callable[[KnowledgeBase, Path], None]

TARGETS: dict[str, Generator | None] = {
    "tables": build_tables,
    "site": build_site,
    "notebooks": build_notebooks,
    "pdf": build_pdf_target,
}


@contextlib.contextmanager
def build_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out`` (waits for a build already running)."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def swap_into_place(new: Path, dest: Path) -> None:
    """Replace ``dest`` by ``new`` (both in the same folder), removing the old copy."""
    old = None
    if dest.exists():
        old = Path(tempfile.mkdtemp(prefix=f".old-{dest.name}-", dir=dest.parent))
        dest.rename(old / dest.name)
    new.rename(dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def build(targets: Sequence[str], kb: KbArg = None, out: Path = Path("build"),
          pdf_options: PdfOptions | None = None) -> list[Path]:
    """Validate the knowledge base fully (expressions included), then run the
    generators for ``targets``; return the folders written. ``pdf_options`` selects
    one chapter or the paper size; a chapter PDF is added beside the PDFs already built."""
    checked = validate(kb)
    if not checked.ok or checked.kb is None:
        raise KnowledgeBaseError(checked.errors)
    knowledge = checked.kb
    written = []
    with build_lock(out):
        for target in targets:
            generator = TARGETS[target]
            if generator is None:
                raise NotImplementedError(target)
            staging = Path(tempfile.mkdtemp(prefix=f".{target}-", dir=out))
            try:
                if target == "pdf" and pdf_options is not None:
                    if (out / target).is_dir():  # keep the PDFs built before
                        shutil.copytree(out / target, staging, dirs_exist_ok=True)
                    build_pdf(knowledge, staging, pdf_options)
                else:
                    generator(knowledge, staging)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            dest = out / target
            swap_into_place(staging, dest)
            written.append(dest)
    return written


def update_site(kb: KbArg = None, out: Path = Path("build"), previous: Manifest | None = None) -> SyncResult:
    """Rebuild the site in place, writing only the files whose bytes changed.

    The whole site is rendered in memory first, so a failing build changes nothing; then
    each changed file replaces its old copy by an atomic rename and files no longer produced
    are deleted. A reader may briefly see old and new pages side by side, which suits a
    preview server (`inferbook serve`) but not a release build: use `build()` for that.
    ``previous`` is the manifest the last update returned (read from disk when None)."""
    checked = validate(kb)
    if not checked.ok or checked.kb is None:
        raise KnowledgeBaseError(checked.errors)
    memory = MemoryOutput()
    build_site(checked.kb, memory)
    with build_lock(out):
        return sync_folder(memory.files, out / "site", previous)
