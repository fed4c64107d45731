"""The simulator's fast path for runs of decode-only steps (`_Continuous._decode_run`) gives the
very same results as taking every step through `_one_step`: the same records, step times, step
inputs, preemptions and rejections, float for float."""

from __future__ import annotations

import dataclasses

import pytest

import inferbook
from inferbook.calc import simulator
from inferbook.calc.perf import Deployment, step_cost
from inferbook.calc.roofline import StepModel
from inferbook.calc.simulator import Lengths, SimConfig, SimResult, SimulationLimit, simulate, workload


@pytest.fixture(scope="module")
def kb():
    return inferbook.load()


def step_by_step(monkeypatch: pytest.MonkeyPatch, *args, **kwargs) -> SimResult:
    """`simulate` with the fast path turned off."""
    with monkeypatch.context() as m:
        m.setattr(simulator._Continuous, "_decode_run", lambda self, next_arrival: 0)
        return simulate(*args, **kwargs)


def fields(result: SimResult) -> dict:
    return {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}


def roofline_model(window: int | None) -> StepModel:
    """A small hand-made roofline model whose attention terms matter, windowed or not."""
    return StepModel(linear_flops_per_token=2e9, head_flops=1e8, attn_flops_full=4e5, attn_flops_window=2e5,
                     kv_bytes_full=6e4, kv_bytes_window=3e4, weight_bytes=2e9, routed_expert_bytes=0,
                     experts_per_token=0, experts=0, compute_rate=4e14, memory_rate=2e12, comm_per_token_s=1e-7,
                     comm_fixed_s=1e-5, window=window)


CONFIGS = {
    "plain": SimConfig(max_batch=64, max_batched_tokens=2048, kv_capacity_tokens=400_000),
    "kv-pressure": SimConfig(max_batch=64, max_batched_tokens=2048, kv_capacity_tokens=2_000),
    "batch-limit": SimConfig(max_batch=4, max_batched_tokens=8192, kv_capacity_tokens=400_000),
    "reserve": SimConfig(max_batch=64, max_batched_tokens=2048, kv_capacity_tokens=20_000,
                         reserve_full_length=True),
    "unchunked": SimConfig(max_batch=32, max_batched_tokens=1024, kv_capacity_tokens=200_000,
                           chunked_prefill=False),
    "lockstep": SimConfig(max_batch=64, max_batched_tokens=2048, kv_capacity_tokens=400_000, lockstep_ranks=4),
    "recorded": SimConfig(max_batch=16, max_batched_tokens=2048, kv_capacity_tokens=30_000, record_steps=True),
    "closed-loop": SimConfig(max_batch=8, max_batched_tokens=2048, kv_capacity_tokens=400_000, closed_loop=True),
}


def requests(rate: float, seed: int = 3) -> list[simulator.Request]:
    return workload(60, rate, Lengths("uniform", low=20, high=900), Lengths("uniform", low=1, high=400), seed=seed)


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("window", [None, 128])
@pytest.mark.parametrize("rate", [0.5, 40.0])
def test_roofline_model_runs_are_identical(monkeypatch, name, window, rate):
    model, reqs, cfg = roofline_model(window), requests(rate), CONFIGS[name]
    fast = simulate(reqs, model, cfg)
    assert fields(fast) == fields(step_by_step(monkeypatch, reqs, model, cfg))
    assert len(fast.records) + len(fast.rejected) == len(reqs)
    if name == "kv-pressure":
        assert fast.preemptions > 0


@pytest.mark.parametrize(("model_id", "gpu_id", "fmt_id", "tp", "attention_dp"), [
    ("llama-3.1-8b-instruct", "h100-sxm", "bf16", 1, 1),
    ("gpt-oss-20b", "h100-sxm", "mxfp4", 1, 1),  # alternating sliding-window layers
    ("qwen3-235b-a22b-instruct-2507", "b200", "nvfp4", 8, 8),  # MoE with attention data parallelism
])
@pytest.mark.parametrize("name", ["plain", "kv-pressure", "lockstep", "recorded"])
def test_calibrated_step_costs_give_identical_runs(monkeypatch, kb, model_id, gpu_id, fmt_id, tp, attention_dp, name):
    """`perf.StepCost.decode_timer` works out the fixed terms once and must time each step as `seconds` does."""
    d = Deployment(kb.models[model_id].architecture, kb.gpus[gpu_id], kb.formats[fmt_id], 16.0, tp=tp,
                   attention_dp=attention_dp)
    cost, reqs, cfg = step_cost(d), requests(8.0), CONFIGS[name]
    fast = simulate(reqs, cost, cfg)
    assert fields(fast) == fields(step_by_step(monkeypatch, reqs, cost, cfg))
    assert sum(1 for n in fast.step_decode_tokens if n) > 100  # long decode runs were taken


def test_decode_timer_is_seconds_with_the_batch_fixed(kb):
    d = Deployment(kb.models["gpt-oss-20b"].architecture, kb.gpus["h100-sxm"], kb.formats["mxfp4"], 16.0)
    cost = step_cost(d)
    timer = cost.decode_timer(24, 24, 24)
    cases = [(24.0, 24.0, 0, 0), (9000.0, 3096.0, 8976, 3072), (1e6, 3e3, 1e6, 3e3)]
    for span_full, span_win, kv_full, kv_win in cases:
        expected = cost.seconds(24, 24, span_full, span_win, kv_full, kv_win, 24)
        assert timer(span_full, span_win, kv_full, kv_win) == expected


def test_the_step_limit_stops_a_decode_run_where_it_stops_single_steps(monkeypatch):
    reqs = requests(0.5)
    cfg = dataclasses.replace(CONFIGS["plain"], max_steps=700)
    with pytest.raises(SimulationLimit) as fast:
        simulate(reqs, roofline_model(None), cfg)
    with pytest.raises(SimulationLimit) as slow:
        step_by_step(monkeypatch, reqs, roofline_model(None), cfg)
    assert (fast.value.steps, fast.value.clock) == (slow.value.steps, slow.value.clock) == (700, slow.value.clock)
