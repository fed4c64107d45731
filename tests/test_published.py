"""The published-measurement files: strict schema, located errors, reserved sources refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from inferbook.calc.published import FOLDER, RESERVED_SOURCES, Measurement, read_folder

GOOD = """source:
  url: https://example.org/bench
  title: "A benchmark page"
  accessed: "2026-12-07"
measurements:
  - id: example-1
    metric: output_tokens_per_s
    value: 1000
    quote: "| 128/128 | 1,000 |"
    model: llama-3.1-8b-instruct
    gpu: h100-sxm
    gpus: 1
    engine: vllm
    isl: 128
    osl: 128
    mode: offline
"""


def _write(tmp_path: Path, text: str, name: str = "bench.yaml") -> Path:
    folder = tmp_path / "m"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_the_shipped_files_validate():
    found, problems = read_folder(FOLDER)
    assert not problems, [p.format() for p in problems]
    assert len({p.m.id for p in found}) == len(found)


def test_a_good_file_loads(tmp_path):
    found, problems = read_folder(_write(tmp_path, GOOD))
    assert not problems and [p.m.id for p in found] == ["example-1"]
    assert found[0].source.url == "https://example.org/bench"


@pytest.mark.parametrize(("change", "line", "needle"), [
    (("value: 1000", 'value: "1000"'), 8, "value"),
    (("mode: offline", "mode: sometimes"), 16, "mode"),
    (("    mode: offline\n", ""), 6, "needs a mode"),
    (("gpus: 1", "gpus: 0"), 12, "gpus"),
    (("    isl: 128\n", "    isl: 128\n    colour: blue\n"), 15, "unknown field"),
    (("https://example.org/bench", f"https://example.org/{RESERVED_SOURCES[0]}/results"), 2, "reserved"),
])
def test_mistakes_are_located(tmp_path, change, line, needle):
    folder = _write(tmp_path, GOOD.replace(*change))
    found, problems = read_folder(folder)
    assert not found and problems
    assert any(needle in p.message and p.line == line for p in problems), [p.format() for p in problems]
    assert all(p.file.endswith("bench.yaml") for p in problems)


def test_duplicate_ids_and_unknown_references(tmp_path):
    folder = _write(tmp_path, GOOD)
    _write(tmp_path, GOOD.replace("gpu: h100-sxm", "gpu: h999"), "other.yaml")
    found, problems = read_folder(folder, known={"models": ["llama-3.1-8b-instruct"], "gpus": ["h100-sxm"]})
    messages = [p.message for p in problems]
    assert any("also used in" in m for m in messages)
    assert len(found) == 1


def test_speed_needs_its_setup():
    with pytest.raises(ValueError, match="needs gpu and gpus"):
        Measurement.model_validate({"id": "x", "metric": "ttft_ms", "value": 5.0, "quote": "5", "model": "m",
                                    "engine": "vllm", "mode": "batch", "batch": 1})
    with pytest.raises(ValueError, match="needs the field concurrency"):
        Measurement.model_validate({"id": "x", "metric": "ttft_ms", "value": 5.0, "quote": "5", "model": "m",
                                    "gpu": "g", "gpus": 1, "engine": "vllm", "mode": "concurrency"})
    negative = Measurement.model_validate({"id": "x", "metric": "cuda_graph_memory_gib", "value": -0.4,
                                           "quote": "-0.4", "model": "m", "engine": "vllm"})
    assert negative.value == -0.4
