"""Hostile trace files and simulator limits: every bad input is a TraceError naming the
file, line and field, never a traceback, a hang or a silent coercion."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from inferbook.calc import simulator
from inferbook.calc.roofline import StepModel
from inferbook.calc.simulator import (
    MAX_TRACE_BYTES,
    Request,
    SimConfig,
    SimulationLimit,
    TraceError,
    load_trace,
    simulate,
)

HEADER = "arrival,input_tokens,output_tokens\n"
GOOD = '{"arrival": 0, "input_tokens": 5, "output_tokens": 1}\n'


def unit_model() -> StepModel:
    """One second per step."""
    return StepModel(linear_flops_per_token=0, head_flops=0, attn_flops_full=0, attn_flops_window=0,
                     kv_bytes_full=0, kv_bytes_window=0, weight_bytes=1.0, routed_expert_bytes=0,
                     experts_per_token=0, experts=0, compute_rate=1.0, memory_rate=1.0, comm_per_token_s=0,
                     comm_fixed_s=0, window=None)


def error_of(path: Path) -> str:
    with pytest.raises(TraceError) as info:
        load_trace(path)
    return str(info.value)


JSONL_CASES = {
    # the third line is the bad one; {} is replaced by the value under test
    '{"arrival": 1e400, "input_tokens": 5, "output_tokens": 1}': "arrival must be a finite number, got 1e400",
    '{"arrival": NaN, "input_tokens": 5, "output_tokens": 1}': "arrival must be a finite number, got NaN",
    '{"arrival": -Infinity, "input_tokens": 5, "output_tokens": 1}':
        "arrival must be a finite number, got -Infinity",
    '{"arrival": 1, "input_tokens": 5, "output_tokens": 2.5}': "output_tokens must be a whole number ≥ 1, got 2.5",
    '{"arrival": 1, "input_tokens": 0.5, "output_tokens": 2}': "input_tokens must be a whole number ≥ 1, got 0.5",
    '{"arrival": 1, "input_tokens": true, "output_tokens": 2}':
        "needs numeric arrival, input_tokens, output_tokens; input_tokens is true",
    '{"arrival": "1", "input_tokens": 5, "output_tokens": 2}':
        'needs numeric arrival, input_tokens, output_tokens; arrival is the text "1"',
    '{"arrival": 1, "input_tokens": null, "output_tokens": 2}':
        "needs numeric arrival, input_tokens, output_tokens; input_tokens is missing",
    '{"arrival": 1, "input_tokens": 5}': "needs numeric arrival, input_tokens, output_tokens; output_tokens is missing",
    '{"arrival": [1], "input_tokens": 5, "output_tokens": 2}':
        "needs numeric arrival, input_tokens, output_tokens; arrival is a list",
    '{"arrival": 1, "input_tokens": {"n": 5}, "output_tokens": 2}':
        "needs numeric arrival, input_tokens, output_tokens; input_tokens is an object",
    '{"arrival": 1, "input_tokens": 5, "output_tokens": 1' + "0" * 400 + "}":
        "output_tokens must be a finite number, got 1" + "0" * 400,
    '{"arrival": 1, "input_tokens": 5, "output_tokens": 1' + "0" * 24 + "}":
        "output_tokens must be at most 100,000,000 tokens, got 1e+24",
    '{"arrival": 1, "input_tokens": 5, "output_tokens": 200000000}':
        "output_tokens must be at most 100,000,000 tokens, got 200,000,000",
    '{"arrival": 1, "input_tokens": 100000001, "output_tokens": 2}':
        "input_tokens must be at most 100,000,000 tokens, got 100,000,001",
    '{"arrival": 1, "input_tokens": 0, "output_tokens": 2}':
        "arrival must be >= 0 and token counts >= 1; input_tokens is 0",
    '{"arrival": -0.5, "input_tokens": 5, "output_tokens": 2}': "arrival must be >= 0, got -0.5",
    '{"arrival": 0.5, "input_tokens": 5, "output_tokens": 2}':
        "arrival times must not decrease; 0.5 s comes after 1 s",
    '{"arrival": 1, "input_tokens": 5, "output_tokens": 2, "meta": ' + "[" * 100_000 + "]" * 100_000 + "}":
        "not a trace row: values are nested too deeply",
    "[1, 5, 2]": "each line must be a JSON object",
    '{"arrival": 1,': "not JSON: Expecting property name enclosed in double quotes",
}


@pytest.mark.parametrize("line", list(JSONL_CASES), ids=lambda line: line[:60])
def test_bad_jsonl_rows_name_file_line_and_field(tmp_path, line):
    path = tmp_path / "trace.jsonl"
    path.write_text(GOOD + '{"arrival": 1, "input_tokens": 5, "output_tokens": 1}\n' + line + "\n")
    assert error_of(path) == f"{path}:3: {JSONL_CASES[line]}"


CSV_CASES = {
    "x,10,5": "needs numeric arrival, input_tokens, output_tokens; arrival is 'x'",
    ",10,5": "needs numeric arrival, input_tokens, output_tokens; arrival is empty",
    "1,10": "needs numeric arrival, input_tokens, output_tokens; output_tokens is missing",
    "nan,10,5": "arrival must be a finite number, got nan",
    "1,inf,5": "input_tokens must be a finite number, got inf",
    "1e400,10,5": "arrival must be a finite number, got 1e400",
    "1,10,2.5": "output_tokens must be a whole number ≥ 1, got 2.5",
    "1,1_000,5": "needs numeric arrival, input_tokens, output_tokens; input_tokens is '1_000'",
    "1,true,5": "needs numeric arrival, input_tokens, output_tokens; input_tokens is 'true'",
    "1,-3,5": "arrival must be >= 0 and token counts >= 1; input_tokens is -3",
    "-1,3,5": "arrival must be >= 0, got -1",
    "0.5,3,5": "arrival times must not decrease; 0.5 s comes after 1 s",
}


@pytest.mark.parametrize("row", list(CSV_CASES))
def test_bad_csv_cells_name_file_line_and_field(tmp_path, row):
    path = tmp_path / "trace.csv"
    path.write_text(HEADER + "1,10,5\n" + row + "\n")
    assert error_of(path) == f"{path}:3: {CSV_CASES[row]}"


def test_accepted_forms(tmp_path):
    """Whole numbers written as 5.0 are whole; a BOM, CRLF line ends and spaces are fine."""
    jl = tmp_path / "t.jsonl"
    jl.write_text('{"arrival": 0, "input_tokens": 5.0, "output_tokens": 1e1, "id": "a"}\r\n')
    assert load_trace(jl) == [Request(0, 0.0, 5, 10)]
    csv = tmp_path / "t.csv"
    csv.write_bytes(b"\xef\xbb\xbfarrival, input_tokens ,output_tokens\r\n0, 7 ,3\r\n\r\n1.5,8,4\r\n")
    assert load_trace(csv) == [Request(0, 0.0, 7, 3), Request(1, 1.5, 8, 4)]


def test_only_regular_files_are_read(tmp_path):
    assert error_of(tmp_path) == f"{tmp_path}: not a regular file; a trace must be a CSV or JSONL file"
    missing = tmp_path / "missing.csv"
    assert error_of(missing) == f"{missing}: no such file"
    if os.path.exists("/dev/zero"):
        assert error_of(Path("/dev/zero")) == "/dev/zero: not a regular file; a trace must be a CSV or JSONL file"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "trace.csv"
    os.mkfifo(fifo)
    outcome: list[str] = []

    def read() -> None:
        try:
            load_trace(fifo)
        except TraceError as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive(), "load_trace blocked on a FIFO"
    assert outcome == [f"{fifo}: not a regular file; a trace must be a CSV or JSONL file"]


def test_large_files_are_refused_before_reading(tmp_path):
    big = tmp_path / "big.csv"
    with big.open("wb") as handle:  # sparse: no disk used
        handle.truncate(MAX_TRACE_BYTES + 1)
    assert error_of(big) == f"{big}: the trace is larger than 50,000,000 bytes (50 MB), the most that is read"


def test_row_count_is_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(simulator, "MAX_TRACE_ROWS", 2)
    jl = tmp_path / "t.jsonl"
    jl.write_text(GOOD * 2 + "\n" + GOOD)
    assert error_of(jl) == f"{jl}:4: more than 2 requests, the most a trace may hold"
    csv = tmp_path / "t.csv"
    csv.write_text(HEADER + "0,1,1\n" * 3)
    assert error_of(csv) == f"{csv}:4: more than 2 requests, the most a trace may hold"


def test_undecodable_and_unreadable_csv(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(HEADER.encode() + b"0,1,1\n\xff,1,1\n")
    assert error_of(path) == f"{path}:3: not UTF-8 text"
    path.write_text(HEADER + '0,1,"' + "x" * 200_000 + '"\n')
    assert error_of(path) == f"{path}:2: not valid CSV (field larger than field limit (131072))"


def test_last_arrivals_rejected_while_idle_do_not_crash():
    """Regression: a rejected request arriving after the rest finished raised IndexError."""
    reqs = [Request(0, 0.0, 10, 10), Request(1, 100.0, 900, 200)]
    for policy in ("continuous", "static", "dynamic"):
        result = simulate(reqs, unit_model(), SimConfig(policy=policy, kv_capacity_tokens=1000))
        assert result.rejected == [1] and len(result.records) == 1
    result = simulate([Request(0, 0.0, 900, 200)], unit_model(), SimConfig(kv_capacity_tokens=1000))
    assert result.rejected == [0] and result.records == []


def test_step_limit_stops_long_runs():
    reqs = [Request(i, float(i), 10, 50) for i in range(10)]
    for policy in ("continuous", "static"):
        with pytest.raises(SimulationLimit) as info:
            simulate(reqs, unit_model(), SimConfig(policy=policy, max_batch=2, max_steps=100))
        assert info.value.steps == 100
        assert str(info.value).startswith("the simulation was stopped after 100 scheduler steps (")
    assert len(simulate(reqs, unit_model(), SimConfig(max_steps=10_000)).records) == 10
    with pytest.raises(ValueError):
        SimConfig(max_steps=0)
