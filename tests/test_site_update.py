"""`update_site`, the incremental rebuild behind `inferbook serve`: it produces exactly the
files a full build does, writes only what changed, removes what is gone, and leaves the
site untouched when the knowledge base is broken."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from inferbook.diagnostics import KnowledgeBaseError
from inferbook.generators import build, update_site
from inferbook.generators.output import MemoryOutput, folder_manifest, sync_folder

ROOT = Path(__file__).parent.parent


def test_sync_folder_writes_only_changes_and_removes_stale_files(tmp_path: Path) -> None:
    site = tmp_path / "site"
    first = sync_folder({"a.html": b"A", "d/b.html": b"B", "old.html": b"O"}, site)
    assert (first.written, first.removed) == (3, 0)
    before = (site / "a.html").stat().st_mtime_ns
    second = sync_folder({"a.html": b"A", "d/b.html": b"B2"}, site, first.manifest)
    assert (second.written, second.removed) == (1, 1)
    assert (site / "d/b.html").read_bytes() == b"B2" and not (site / "old.html").exists()
    assert (site / "a.html").stat().st_mtime_ns == before  # untouched
    assert second.manifest == folder_manifest(site)
    assert not list(site.rglob(".tmp-*"))
    # without a manifest it compares against what is on disk
    third = sync_folder({"a.html": b"A", "d/b.html": b"B2"}, site)
    assert (third.written, third.removed) == (0, 0)


@pytest.fixture(scope="module")
def kb_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kb = tmp_path_factory.mktemp("kb") / "kb"
    shutil.copytree(ROOT / "kb", kb)
    return kb


def test_update_matches_a_full_build_and_touches_few_files(kb_copy: Path, built_site: Path, tmp_path: Path) -> None:
    # Start from the session's full build of kb/ (kb_copy is an identical copy of it, and a
    # build does not depend on the folder it reads), copied because the update rewrites it.
    out = tmp_path / "out"
    shutil.copytree(built_site, out / "site")
    manifest = folder_manifest(out / "site")
    entry = kb_copy / "concepts" / "kv-cache.yaml"
    original = entry.read_text(encoding="utf-8")
    try:
        entry.write_text(re.sub(r"(?m)^title: .*$", "title: KV cache (edited)", original, count=1), encoding="utf-8")
        result = update_site(kb=[str(kb_copy)], out=out, previous=manifest)
        # the title appears on its own page, in links, lists and the JSON API: a few dozen files, not all
        assert 0 < result.written < len(manifest) / 4, result.written
        assert result.removed == 0
        full = tmp_path / "full"
        build(["site"], kb=[str(kb_copy)], out=full)
        assert folder_manifest(out / "site") == folder_manifest(full / "site") == result.manifest

        # a broken knowledge base raises and changes nothing
        entry.write_text(original + "broken: [\n", encoding="utf-8")
        with pytest.raises(KnowledgeBaseError):
            update_site(kb=[str(kb_copy)], out=out, previous=result.manifest)
        assert folder_manifest(out / "site") == result.manifest
    finally:
        entry.write_text(original, encoding="utf-8")


def test_memory_output_collects_trees(tmp_path: Path) -> None:
    src = tmp_path / "static"
    (src / "js").mkdir(parents=True)
    (src / "js" / "a.js").write_text("x", encoding="utf-8")
    (src / "style.css").write_text("y", encoding="utf-8")
    memory = MemoryOutput()
    memory.tree("assets", src)
    memory.text("index.html", "é")
    assert memory.files == {"assets/js/a.js": b"x", "assets/style.css": b"y", "index.html": "é".encode()}
