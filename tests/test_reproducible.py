"""Two builds of the same input give byte-identical outputs (the PDF and the
notebooks have their own reproducibility tests next to their other checks)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from inferbook.generators import build


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_site_and_tables_are_byte_identical(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764201600")
    first, second = tmp_path / "a", tmp_path / "b"
    build(["site", "tables"], out=first)
    build(["site", "tables"], out=second)
    for target in ("site", "tables"):
        a, b = _hashes(first / target), _hashes(second / target)
        assert a.keys() == b.keys() and len(a) > 5
        different = [name for name in a if a[name] != b[name]]
        assert not different, different[:10]
