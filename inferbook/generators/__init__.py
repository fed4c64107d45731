"""Generators turn a loaded knowledge base into outputs under build/.

`TARGETS` maps each build target to its generator function, or to None while a
target is not implemented. `build()` runs each generator in a fresh staging folder
inside the output folder and swaps it into place only when the generator succeeds,
under a lock, so a failed or concurrent build never leaves a half-written output behind.

A build only ever deletes what a build wrote: it refuses output folders that are
dangerous (`/`, a home, system or knowledge-base folder, a repository root), it
replaces an existing target folder only when that folder carries the marker a build
leaves (`output.MARKER`; tables also accept their manifest.json, notebooks the
`metadata.inferbook` of each notebook) and holds no file the marker does not list,
and it removes only staging folders of its own naming whose process is gone.

The generators are imported when a build runs them: site, pdf and notebooks need the
optional extras of the same names (`EXTRA_OF`, checked by `require_extras` before a build
starts), tables needs none.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..api import KbArg, kb_folders, validate
from ..diagnostics import KnowledgeBaseError
from ..extras import require
from ..kb import KnowledgeBase
from ..paths import project_root
from .output import (
    DIR_MODE,
    FILE_MODE,
    MARKER,
    Manifest,
    MemoryOutput,
    SyncResult,
    marker_bytes,
    normalize_modes,
    sync_folder,
)

if TYPE_CHECKING:  # the generators are imported when a build runs them (their extras are optional)
    from .pdf import PdfOptions

Generator = Callable[[KnowledgeBase, Path], None]


def build_tables(kb: KnowledgeBase, out: Path) -> None:
    """The tables target (`tables.build_tables`); needs no extra."""
    from .tables import build_tables as generate

    generate(kb, out)


def build_site(kb: KnowledgeBase, out: Path) -> None:
    """The site target (`site.build_site`); needs the 'site' extra."""
    from .site import build_site as generate

    generate(kb, out)


def build_notebooks(kb: KnowledgeBase, out: Path) -> None:
    """The notebooks target (`notebooks.build_notebooks`); needs the 'notebooks' extra."""
    from .notebooks import build_notebooks as generate

    generate(kb, out)


def build_pdf_target(kb: KnowledgeBase, out: Path) -> None:
    """The pdf target (`pdf.build_pdf_target`); needs the 'pdf' extra."""
    from .pdf import build_pdf_target as generate

    generate(kb, out)


def build_pdf(kb: KnowledgeBase, out: Path, options: PdfOptions | None = None) -> Path:
    """One PDF (`pdf.build_pdf`); needs the 'pdf' extra."""
    from .pdf import build_pdf as generate

    return generate(kb, out, options)


def __getattr__(name: str) -> Any:
    if name == "PdfOptions":  # kept importable from here, as before the generators became lazy
        from .pdf import PdfOptions

        return PdfOptions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


TARGETS: dict[str, Generator | None] = {
    "tables": build_tables,
    "site": build_site,
    "notebooks": build_notebooks,
    "pdf": build_pdf_target,
}

EXTRA_OF: dict[str, str | None] = {"tables": None, "site": "site", "notebooks": "notebooks", "pdf": "pdf"}
"""Build target -> the optional extra it needs (`inferbook.extras`); checked before a build starts."""


def require_extras(targets: Sequence[str]) -> None:
    """Raise `extras.MissingExtra` (a usage error naming the extra) when a target's extra is missing."""
    for target in targets:
        extra = EXTRA_OF.get(target)
        if extra is not None:
            require(extra, f"the {target} target")


SYSTEM_FOLDERS = frozenset({
    "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media", "/mnt", "/opt",
    "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/usr/bin", "/usr/include",
    "/usr/lib", "/usr/lib64", "/usr/libexec", "/usr/local", "/usr/local/bin", "/usr/local/lib", "/usr/sbin",
    "/usr/share", "/usr/src", "/var/cache", "/var/lib", "/var/log", "/var/mail", "/var/spool", "/var/tmp",
    "/Applications", "/Library", "/System", "/Users", "/Volumes", "/private", "/private/etc", "/private/tmp",
    "/private/var",
})
"""Folders that are never an output folder themselves."""
SYSTEM_TREES = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/sbin", "/sys",
                "/usr/bin", "/usr/include", "/usr/lib", "/usr/lib64", "/usr/libexec", "/usr/sbin", "/System",
                "/private/etc")
"""Folders inside which no output is written either."""


class BuildError(Exception):
    """The build cannot write where it was asked to; the message is one line for the user."""

    exit_code = 1


class UnsafeOutputError(BuildError):
    """The output folder is one a build must never write into (a usage error)."""

    exit_code = 2


# where a build may write ------------------------------------------------------------------
def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies under it (both resolved)."""
    return path == folder or folder in path.parents


def unsafe_output(out: Path, kb: KbArg = None) -> str | None:
    """Why ``out`` must not be an output folder, or None when it may be."""
    real = Path(os.path.realpath(out))
    if real == Path(real.anchor):
        return f"--out {out} is the root folder"
    if real == Path(os.path.realpath(Path.home())):
        return f"--out {out} is your home folder"
    if str(real) in SYSTEM_FOLDERS or any(_inside(real, Path(t)) for t in SYSTEM_TREES):
        return f"--out {out} is a system folder"
    root = project_root()
    if root is not None and real == Path(os.path.realpath(root)):
        return f"--out {out} is the repository root"
    if (real / ".git").exists() or (real / "kb").is_dir():
        return f"--out {out} holds {'.git' if (real / '.git').exists() else 'kb/'}: choose a folder of its own"
    for folder in kb_folders(kb):
        kb_real = Path(os.path.realpath(folder))
        if _inside(real, kb_real):
            where = "" if real == kb_real else "inside "
            return f"--out {out} is {where}the knowledge-base folder {folder}"
    return None


def _claimed(target: str, folder: Path) -> set[str] | None:
    """The files (relative paths) that a build says it wrote into ``folder``, or None
    when nothing in the folder says a build wrote it."""
    marker = folder / MARKER
    try:
        if marker.is_file() and not marker.is_symlink():
            data = json.loads(marker.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("written_by") == "inferbook" and data.get("target") == target \
                    and isinstance(data.get("files"), list):
                return {str(f) for f in data["files"]} | {MARKER}
        manifest = folder / "manifest.json"
        if target == "tables" and manifest.is_file() and not manifest.is_symlink():  # tables built before markers
            data = json.loads(manifest.read_text(encoding="utf-8"))
            if isinstance(data, dict) and "package_version" in data and isinstance(data.get("files"), dict):
                return set(data["files"]) | {"manifest.json"}
        if target == "notebooks":  # no marker: every notebook says which tool it is
            names = set()
            for path in folder.glob("*.ipynb"):
                if path.is_file() and not path.is_symlink():
                    meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("inferbook", {})
                    if isinstance(meta, dict) and f"{meta.get('tool')}.ipynb" == path.name:
                        names.add(path.name)
            return names or None
    except (OSError, ValueError, AttributeError):
        return None
    return None


def _files_under(folder: Path) -> list[str]:
    """Every entry under ``folder`` that is not a folder (links included), as relative paths."""
    found = []
    for parent, dirs, files in os.walk(folder):
        rel = Path(parent).relative_to(folder)
        found += [(rel / name).as_posix() for name in files]
        found += [(rel / name).as_posix() for name in dirs if os.path.islink(os.path.join(parent, name))]
    return sorted(found)


def check_replaceable(target: str, dest: Path) -> None:
    """Raise BuildError unless ``dest`` is missing, empty, or an output folder of ``target``
    that a build wrote and that holds nothing else."""
    if not os.path.lexists(dest):
        return
    if dest.is_symlink() or not dest.is_dir():
        raise BuildError(f"{dest} exists and was not written by inferbook; remove it or choose another --out")
    files = _files_under(dest)
    if not files:
        return
    claimed = _claimed(target, dest)
    if claimed is None:
        raise BuildError(f"{dest} exists and was not written by inferbook; remove it or choose another --out")
    foreign = [f for f in files if f not in claimed]
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise BuildError(f"{dest} holds {len(foreign)} file(s) that inferbook did not write ({shown}); "
                         f"move them away or choose another --out")


# staging folders --------------------------------------------------------------------------
def _staging_pattern() -> re.Pattern[str]:
    """Names of the folders a build makes inside the output folder: `.<target>-<pid>-<random>`,
    `.old-<target>-<pid>-<random>` and `.<target>-update-<pid>-<random>`."""
    names = "|".join(re.escape(t) for t in sorted(TARGETS))
    return re.compile(rf"\.(?:old-)?(?:{names})(?:-update)?-(?P<pid>[0-9]+)-[a-z0-9_]{{8}}")


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (ours, or one we may not signal, count as alive)."""
    if pid <= 0 or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def remove_stale_staging(out: Path) -> list[Path]:
    """Remove the staging folders in ``out`` left by builds whose process is gone
    (killed mid-build); return them. Only folders named as a build names them are touched."""
    pattern = _staging_pattern()
    removed = []
    for path in sorted(out.iterdir()):
        match = pattern.fullmatch(path.name)
        if match and path.is_dir() and not path.is_symlink() and not _alive(int(match["pid"])):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _staging(out: Path, label: str) -> Path:
    """A fresh folder `.<label>-<pid>-<random>` in ``out`` (see `_staging_pattern`)."""
    return Path(tempfile.mkdtemp(prefix=f".{label}-{os.getpid()}-", dir=out))


def _make_out(out: Path) -> None:
    """Create ``out`` (and missing parents, mode 0755); an existing folder is left as it is."""
    missing = []
    folder = out
    while not os.path.lexists(folder) and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    out.mkdir(parents=True, exist_ok=True)
    for made in missing:
        os.chmod(made, DIR_MODE)


@contextlib.contextmanager
def build_lock(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out`` (waits for a build already running).
    Raises BuildError when ``out`` cannot be created or written."""
    try:
        if os.path.lexists(out) and not out.is_dir():
            raise BuildError(f"cannot write to {out}: it is not a folder")
        _make_out(out)
        fd = os.open(out / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
    except OSError as exc:
        raise BuildError(f"cannot write to {out}: {exc.strerror or exc}") from None
    with contextlib.suppress(OSError):  # another user's lock file keeps its mode
        os.fchmod(fd, FILE_MODE)
    with os.fdopen(fd, "r+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def swap_into_place(new: Path, dest: Path) -> None:
    """Replace ``dest`` by ``new`` (both in the same folder), removing the old copy."""
    old = None
    if os.path.lexists(dest):
        old = _staging(dest.parent, f"old-{dest.name}")
        dest.rename(old / dest.name)
    new.rename(dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _seal(target: str, folder: Path) -> None:
    """Mark ``folder`` as written by a build of ``target`` and give it the modes of an output."""
    if target != "notebooks":  # the notebooks folder holds notebooks only; each one names its tool
        (folder / MARKER).write_bytes(marker_bytes(target, _files_under(folder)))
    normalize_modes(folder)


# building -----------------------------------------------------------------------------------
def _prepare(out: Path, kb: KbArg, targets: Sequence[str]) -> None:
    """Under the lock: drop stale staging folders and make sure every target may be replaced."""
    try:
        remove_stale_staging(out)
    except OSError as exc:
        raise BuildError(f"cannot read {out}: {exc.strerror or exc}") from None
    for target in targets:
        check_replaceable(target, out / target)


def build(targets: Sequence[str], kb: KbArg = None, out: Path = Path("build"),
          pdf_options: PdfOptions | None = None) -> list[Path]:
    """Validate the knowledge base fully (expressions included, unchanged folders from the load
    cache), then run the generators for ``targets``; return the folders written. ``pdf_options`` selects
    one chapter or the paper size; a chapter PDF is added beside the PDFs already built.
    Raises UnsafeOutputError for a dangerous ``out`` and BuildError when ``out`` cannot be
    written or a target folder there was not written by a build, and, before anything else,
    `extras.MissingExtra` when a target's optional extra is not installed."""
    require_extras(targets)
    out = Path(out)
    reason = unsafe_output(out, kb)
    if reason:
        raise UnsafeOutputError(reason)
    checked = validate(kb, cached=True)  # the findings of an uncached run; unchanged folders are not parsed again
    if not checked.ok or checked.kb is None:
        raise KnowledgeBaseError(checked.errors)
    knowledge = checked.kb
    written = []
    with build_lock(out):
        _prepare(out, kb, targets)
        for target in targets:
            generator = TARGETS[target]
            if generator is None:
                raise NotImplementedError(target)
            staging = _staging(out, target)
            try:
                if target == "pdf" and pdf_options is not None:
                    if (out / target).is_dir():  # keep the PDFs built before
                        shutil.copytree(out / target, staging, dirs_exist_ok=True)
                    build_pdf(knowledge, staging, pdf_options)
                else:
                    generator(knowledge, staging)
                _seal(target, staging)
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
    `sync_folder` writes every changed file to a temporary folder beside the site and renames
    them into place only when all are written, so a failing write (a full disk) changes
    nothing either. A reader may briefly see old and new pages side by side, which suits a
    preview server (`inferbook serve`) but not a release build: use `build()` for that.
    ``previous`` is the manifest the last update returned (read from disk when None)."""
    require_extras(["site"])
    out = Path(out)
    reason = unsafe_output(out, kb)
    if reason:
        raise UnsafeOutputError(reason)
    checked = validate(kb, cached=True)  # the findings of an uncached run; unchanged folders are not parsed again
    if not checked.ok or checked.kb is None:
        raise KnowledgeBaseError(checked.errors)
    memory = MemoryOutput()
    from .site import build_site as generate

    generate(checked.kb, memory)
    files = {**memory.files, MARKER: marker_bytes("site", memory.files)}
    with build_lock(out):
        _prepare(out, kb, ["site"])
        return sync_folder(files, out / "site", previous)
