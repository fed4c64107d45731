"""The feasibility check on the shared case table (tests/feasibility_cases.py): each rule
on both sides of its boundary through the Python API, and the same setups through the
CLI where its options can describe them (exit 0 with figures, or 1 with the reasons and
no figure). tests/test_js_parity.py runs the table through the site's JS port."""

from __future__ import annotations

import json
import math

import pytest
from feasibility_cases import CASES, Case, outcome, resolve, setup

import inferbook
from inferbook.calc.capacity import EngineConfig
from inferbook.calc.feasibility import VLLM_V1, EngineProfile, Setup, check_setup, format_status
from inferbook.cli import main


@pytest.fixture(scope="module")
def kb():
    return inferbook.load()


def test_the_table_is_large_and_covers_every_rule():
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)
    failing = {rule for c in CASES for rule in c.failing}
    assert failing == {"context", "memory", "kv-capacity", "formats", "parallelism", "interconnect"}
    assert sum(not c.feasible for c in CASES) >= 20 and sum(c.feasible for c in CASES) >= 15


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_python_api(kb, case: Case):
    case = resolve(kb, case)
    got = outcome(check_setup(setup(kb, case)))
    assert got["feasible"] is case.feasible, got["texts"]
    assert got["failing"] == sorted(case.failing), got["texts"]
    assert set(case.warning) <= set(got["warning"]), got["texts"]
    if case.phrase:
        assert any(case.phrase in text for text in got["texts"]), got["texts"]


CLI_CASES = [c for c in CASES if c.cli]


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.name for c in CLI_CASES])
def test_cli(capsys, case: Case):
    code = main([*case.cli])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    if case.feasible:
        assert code == 0, err
        assert "cannot run" not in out + err
    else:
        assert code == 1, out
        assert "cannot run" in err
        if case.phrase:
            assert case.phrase in " ".join(err.split()), err
    assert main([*case.cli, "--json"]) == code  # the same answer as JSON
    data = json.loads(capsys.readouterr().out)
    assert data["feasible"] is case.feasible and bool(data["reasons"]) is not case.feasible


def test_an_infeasible_answer_carries_no_negative_memory(kb):
    result = check_setup(Setup(kb.models["llama-4-scout-17b-16e-instruct"], kb.gpus["h100-sxm"],
                               kb.formats["bf16"]))
    assert not result.feasible
    memory = result.to_json()["memory_gib_per_gpu"]
    assert all(value >= 0 for value in memory.values()), memory


def test_less_than_one_block_is_explained(kb):
    model, gpu, fmt = kb.models["llama-3.1-8b-instruct"], kb.gpus["rtx-4090"], kb.formats["bf16"]
    # find the utilisation at which the space left is under one 16-token block
    low, high = 0.5, 1.0
    for _ in range(60):
        mid = (low + high) / 2
        result = check_setup(Setup(model, gpu, fmt, context=16, engine=EngineProfile("t", EngineConfig(mid))))
        low, high = (mid, high) if not result.feasible else (low, mid)
    result = check_setup(Setup(model, gpu, fmt, context=16, engine=EngineProfile("t", EngineConfig(low))))
    assert not result.feasible
    assert "less than one 16-token KV block" in result.reasons[0] or "nothing for the KV cache" in result.reasons[0]


def test_every_answer_names_the_engine_profile(kb):
    result = check_setup(Setup(kb.models["llama-3.1-8b-instruct"], kb.gpus["h100-sxm"], kb.formats["bf16"]))
    assert result.engine == VLLM_V1.describe()
    assert result.engine.startswith("vLLM V1 defaults: 90% of GPU memory, 16-token KV blocks")
    assert result.to_json()["engine"] == result.engine


def test_format_status_comes_from_the_entries(kb):
    assert format_status(kb.formats["fp8-e4m3"], kb.gpus["h100-sxm"]) == "native"
    assert format_status(kb.formats["bf16"], kb.gpus["t4"]) == "cast"
    assert format_status(kb.formats["nvfp4"], kb.gpus["apple-m3-ultra"]) == "unsupported"
    for fmt in kb.formats.values():
        for gpu in kb.gpus.values():
            status = format_status(fmt, gpu)
            if gpu.architecture in fmt.native_tensor_core:
                assert status == "native"
            elif gpu.architecture in fmt.converted_on:
                assert status in ("converted", "cast")


def test_max_sequences_is_finite_or_absent(kb):
    for case in CASES:
        result = check_setup(setup(kb, resolve(kb, case)))
        if result.max_sequences is not None:
            assert math.isfinite(result.max_sequences) and result.max_sequences >= 0
