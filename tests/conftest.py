"""Shared fixtures: small knowledge bases written into temporary folders."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built once per test session."""
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO)],
                   check=True, capture_output=True)
    [built] = dist.glob("inferbook-*.whl")
    return built


def venv_with(env_dir: Path, *packages: str) -> Path:
    """A fresh virtualenv in ``env_dir`` with ``packages`` (paths or names) installed; its python."""
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-compile", "--disable-pip-version-check",
                    *packages], check=True, capture_output=True)
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
