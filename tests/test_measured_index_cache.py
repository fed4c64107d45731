"""The index of published measurements behind every prediction's basis (`bands.measured_index`) is
kept in the result cache: a later process reads it back instead of parsing the measurement files,
gets the same index, and ignores a stored file that is broken or changed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import isolated_result_cache, stored_result

import inferbook
from inferbook import result_cache
from inferbook.calc import bands


@pytest.fixture(scope="module")
def kb():
    return inferbook.load()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty cache folder of this test's own, and no index remembered in this process."""
    yield from isolated_result_cache(tmp_path, monkeypatch, bands._measured_index)


def stored(folder: Path) -> Path:
    return stored_result(folder, "measured-index")


def no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building the index now fails: it must come from the disk."""
    def refuse() -> tuple:
        raise AssertionError("the measurement files were parsed")
    monkeypatch.setattr(bands, "_published", refuse)


def test_a_later_process_reads_the_same_index_back(kb, cache, monkeypatch):
    built = bands.measured_index(kb)
    assert len(built) > 50 and stored(cache).stat().st_size > 65_536  # over the default result size limit
    bands._measured_index.cache_clear()  # as a new process would start
    with monkeypatch.context() as m:
        no_parsing(m)
        assert bands.measured_index(kb) == built


@pytest.mark.parametrize("damage", ["truncated", "a value as text", "an extra field", "another key"])
def test_a_damaged_or_foreign_file_is_rebuilt(kb, cache, damage):
    built = bands.measured_index(kb)
    path = stored(cache)
    data = json.loads(path.read_text())
    first = next(iter(data["value"]))
    if damage == "truncated":
        path.write_text(path.read_text()[:1000])
    else:
        if damage == "a value as text":
            data["value"][first][0]["value"] = "12"
        elif damage == "an extra field":
            data["value"][first][0]["script"] = "x"
        else:
            data["key"] = "0" * 40
        path.write_text(json.dumps(data))
    bands._measured_index.cache_clear()
    natives = bands.index_inputs(kb)
    key = result_cache.digest("measured-index", result_cache.package_code_digest(*bands.MEASURED_INDEX_CODE) or "",
                              json.dumps(natives))
    assert result_cache.read("measured-index", key, bands._is_index, bands.INDEX_MAX_BYTES) is None
    assert bands.measured_index(kb) == built  # rebuilt from the files
    assert json.loads(stored(cache).read_text())["value"] == json.loads(json.dumps(built))  # and stored again


def test_the_key_follows_the_models_native_formats(kb, cache, monkeypatch):
    """The index reads from the knowledge base each model's native format and whether it is a MoE:
    other formats, or a MoE read as dense, are another key, never the stored index."""
    bands.measured_index(kb)
    bands._measured_index.cache_clear()
    natives = tuple((mid, "fp8-e4m3", moe) for mid, _, moe in bands.index_inputs(kb))
    rebuilt = bands._measured_index(natives)
    assert len(list(cache.glob("measured-index-*.json"))) == 2 and rebuilt != bands.measured_index(kb)
    dense = tuple((mid, native, False) for mid, native, _ in bands.index_inputs(kb))
    as_dense = bands._measured_index(dense)
    assert len(list(cache.glob("measured-index-*.json"))) == 3
    assert not any("attention-dp" in key for key in as_dense) and any("attention-dp" in key for key in rebuilt)
