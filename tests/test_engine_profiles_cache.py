"""The engine profiles (`calc/engine_profiles.yaml`) are kept in the result cache once validated: a
later process reads them back without parsing or validating the file, gets the same profiles, and
ignores a stored file that is broken, changed or filed under another key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import isolated_result_cache, stored_result

from inferbook.calc import engines


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty cache folder of this test's own, and no profiles remembered in this process."""
    yield from isolated_result_cache(tmp_path, monkeypatch, engines._entries)


def stored(folder: Path) -> Path:
    return stored_result(folder, "engine-profiles")


def no_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading the YAML file now fails: the profiles must come from the disk cache."""
    def refuse(*_: object) -> engines.ProfileFile:
        raise AssertionError("engine_profiles.yaml was parsed")
    monkeypatch.setattr(engines, "read_profiles", refuse)


def every_default() -> list[engines.EngineDefaults]:
    return [engines.engine_defaults(e) for e in engines.ENGINES]


def test_a_later_process_reads_the_same_profiles_back(cache, monkeypatch):
    validated = engines.read_profiles()
    first = every_default()
    assert json.loads(stored(cache).read_text())["value"] == validated.model_dump(mode="json")
    engines._entries.cache_clear()  # as a new process would start
    with monkeypatch.context() as m:
        no_reading(m)
        assert every_default() == first
        assert engines._profiles() == validated


@pytest.mark.parametrize("damage", ["truncated", "a list as a value", "an unknown field", "an extra key",
                                    "an unknown engine", "another key"])
def test_a_damaged_or_foreign_file_is_read_again(cache, monkeypatch, damage):
    first = every_default()
    path = stored(cache)
    data = json.loads(path.read_text())
    value = data["value"]["engines"][0]["values"][0]
    if damage == "truncated":
        path.write_text(path.read_text()[:500])
    else:
        if damage == "a list as a value":
            value["value"] = [value["value"]]
        elif damage == "an unknown field":
            value["field"] = "gpu_memory_utilisation"
        elif damage == "an extra key":
            value["script"] = "x"
        elif damage == "an unknown engine":
            data["value"]["engines"][0]["id"] = "tgi"
        else:
            data["key"] = "0" * 40
        path.write_text(json.dumps(data))
    engines._entries.cache_clear()
    read = []
    real = engines.read_profiles
    monkeypatch.setattr(engines, "read_profiles", lambda *a: read.append(1) or real(*a))
    assert every_default() == first and read == [1]  # read from the YAML file again
    assert json.loads(stored(cache).read_text())["value"] == real().model_dump(mode="json")  # and stored again


def test_without_a_cache_the_file_is_read(cache, monkeypatch):
    """INFERBOOK_NO_CACHE=1: the YAML file is read in every process and nothing is stored."""
    monkeypatch.setenv("INFERBOOK_NO_CACHE", "1")
    read = []
    real = engines.read_profiles
    monkeypatch.setattr(engines, "read_profiles", lambda *a: read.append(1) or real(*a))
    for _ in range(2):
        engines._entries.cache_clear()  # a new process
        assert every_default()
    assert read == [1, 1] and not list(cache.parent.rglob("engine-profiles-*.json"))
