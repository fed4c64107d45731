"""Two builds of the same input give byte-identical outputs (the PDF and the
notebooks have their own reproducibility tests next to their other checks)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from conftest import SOURCE_DATE_EPOCH

from inferbook.generators import build


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# 14-26 s (14 s alone here, 26 s in CI beside the other worker): the comparison needs a second build
# of the site and two of the tables; the plan answers the prose asks for come from the session's cache
def test_site_and_tables_are_byte_identical(tmp_path, monkeypatch, built_site):
    # The first site is the session's build (made with the same SOURCE_DATE_EPOCH).
    monkeypatch.setenv("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
    first, second = tmp_path / "a", tmp_path / "b"
    build(["tables"], out=first)
    build(["site", "tables"], out=second)
    for target, folder in (("site", built_site), ("tables", first / "tables")):
        a, b = _hashes(folder), _hashes(second / target)
        assert a.keys() == b.keys() and len(a) > 5
        different = [name for name in a if a[name] != b[name]]
        assert not different, different[:10]
