"""Shared fixtures: small knowledge bases written into temporary folders, the handbook's
site and the wheel (each built once per session), and the markers of the slow tier.

Test tiers: `./dev.sh test --fast` runs `pytest -m "not slow"`, `./dev.sh test` runs everything.
The slow tier is what needs Chromium, Jupyter kernels or a fresh virtualenv: tests marked
`browser`, `pdf`, `notebook` or `wheel` (registered in pyproject.toml), or `slow` directly.
`pytest_collection_modifyitems` below adds `slow` to the first four, and adds the kind to any
test that uses the `browser`, `executed` (notebooks run in kernels) or `wheel` fixture, so a
new test of that kind lands in the slow tier even when nobody marks it."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import venv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent

# The load cache (inferbook/api.py) goes to a folder of this test run, never the user's ~/.cache;
# subprocesses inherit it, and so do pytest-xdist's workers, which share the controller's folder
# (its writes are atomic). A test that checks the cache itself sets its own folder.
if "PYTEST_XDIST_WORKER" not in os.environ:
    os.environ["INFERBOOK_CACHE_DIR"] = tempfile.mkdtemp(prefix="inferbook-test-cache-")

SLOW_KINDS = ("browser", "pdf", "notebook", "wheel")
"""Markers of the tests `./dev.sh test --fast` leaves out; each implies `slow`."""
FIXTURE_KINDS = {"browser": "browser", "executed": "notebook", "wheel": "wheel"}
"""Fixture -> marker given to every test that uses the fixture (directly or through another one)."""
SHARED_BUILDS = ("built_site", "wheel")
"""Session fixtures that build something large once. Under pytest-xdist (`./dev.sh test` runs one
worker per core with `--dist loadgroup`) every test that uses one goes to the same worker, so each
is built once per run rather than once per worker; other tests go with the rest of their module,
so module fixtures are built once too."""
SOURCE_DATE_EPOCH = "1764201600"
"""The build time of the session's site build (test_reproducible.py builds again with it)."""


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects anything
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = getattr(item, "fixturenames", ())
        for fixture, kind in FIXTURE_KINDS.items():
            if fixture in names and item.get_closest_marker(kind) is None:
                item.add_marker(kind)
        if item.get_closest_marker("slow") is None and any(item.get_closest_marker(k) for k in SLOW_KINDS):
            item.add_marker("slow")
        if item.get_closest_marker("xdist_group") is None:
            shared = [f for f in SHARED_BUILDS if f in names]
            item.add_marker(pytest.mark.xdist_group(shared[0] if shared else item.nodeid.split("::")[0]))


def tree_digest(root: Path) -> str:
    """One hash over the relative paths and bytes of every file under ``root``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def isolated_result_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *memos: Any) -> Iterator[Path]:
    """Body of a fixture giving a test its own empty cache folder with nothing remembered in this
    process by ``memos`` (functools caches, cleared before and after); yields the result cache's folder."""
    monkeypatch.setenv("INFERBOOK_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("INFERBOOK_NO_CACHE", raising=False)
    for memo in memos:
        memo.cache_clear()
    yield tmp_path / "results"
    for memo in memos:
        memo.cache_clear()


def stored_result(folder: Path, kind: str) -> Path:
    """The one file the result cache keeps in ``folder`` for ``kind`` (e.g. "engine-profiles")."""
    [path] = folder.glob(f"{kind}-*.json")
    return path


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The handbook's site built from kb/, once per session, for test_site.py, test_site_tools.py,
    test_site_update.py and test_reproducible.py. Shared: read it, never change it; copy it
    (`shutil.copytree`) to modify it. The session ends with an error if a test changed it.
    Built cold (the session's cache folder starts empty) it takes 15-20 s on a 2-core machine,
    most of it the plan searches the prose asks for; the first test to use it shows that as its
    setup time."""
    from inferbook.generators import build

    out = tmp_path_factory.mktemp("site-build")
    start = time.perf_counter()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        (path,) = build(["site"], out=out)
    print(f"site built in {time.perf_counter() - start:.1f} s")
    before = tree_digest(path)
    yield path
    assert tree_digest(path) == before, f"a test changed the shared site build in {path}; copy it first"


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built once per test session."""
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO)],
                   check=True, capture_output=True)
    [built] = dist.glob("inferbook-*.whl")
    return built


def venv_with(env_dir: Path, *packages: str) -> Path:
    """A fresh virtualenv in ``env_dir`` with ``packages`` (paths or names) installed; its python.
    This environment's pip installs into it (`pip --python`), so the new one gets no pip of its
    own: seeding one with ensurepip and running it uncompiled took twice as long as the install."""
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-compile",
                    "--disable-pip-version-check", *packages], check=True, capture_output=True)
    return python

SOURCE = """\
id: {id}
title: A test source
kind: docs
url: https://example.org/{id}
publisher: Example
accessed: 2026-11-27
last_reviewed: 2026-11-27
"""

CHAPTER = """\
id: {id}
title: Chapter {id}
number: {number}
summary: A chapter used by the tests.
last_reviewed: 2026-11-27
"""

CONCEPT = """\
id: {id}
title: {title}
summary: A concept used by the tests.
chapter: {chapter}
body: Text.
prerequisites: {prerequisites}
related: {related}
aliases: {aliases}
sources: [src]
last_reviewed: 2026-11-27
"""


def concept(id: str, title: str | None = None, chapter: str = "ch1", prerequisites: str = "[]",
            related: str = "[]", aliases: str = "[]") -> str:
    return CONCEPT.format(id=id, title=title or id.title(), chapter=chapter, prerequisites=prerequisites,
                          related=related, aliases=aliases)


def write_kb(root: Path, files: dict[str, str], base: bool = True) -> Path:
    """Write ``files`` (path relative to the KB folder -> text) plus, with ``base``,
    a source `src`, two chapters `ch1`/`ch2` and a concept `a` that cites it."""
    root.mkdir(parents=True, exist_ok=True)
    all_files = {}
    if base:
        all_files = {
            "sources/src.yaml": SOURCE.format(id="src"),
            "chapters/ch1.yaml": CHAPTER.format(id="ch1", number=1),
            "chapters/ch2.yaml": CHAPTER.format(id="ch2", number=2),
        }
    all_files.update(files)
    for rel, text in all_files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text if isinstance(text, bytes) else textwrap.dedent(text).encode()
        path.write_bytes(data)
    return root


@pytest.fixture
def make_kb(tmp_path: Path):
    counter = iter(range(1000))

    def _make(files: dict[str, str], base: bool = True) -> Path:
        return write_kb(tmp_path / f"kb{next(counter)}", files, base)

    return _make
