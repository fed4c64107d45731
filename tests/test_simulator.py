"""Metrics and the batching simulator on step models whose timings are easy to check by hand."""

from __future__ import annotations

import math

import pytest

from inferbook.calc.metrics import RequestRecord, Slo, percentile, summarize
from inferbook.calc.roofline import StepModel
from inferbook.calc.simulator import Lengths, Request, SimConfig, TraceError, load_trace, simulate, workload


def unit_model(per_token: float = 0.0, fixed: float = 1.0) -> StepModel:
    """Every step costs `fixed` seconds plus `per_token` per processed token."""
    return StepModel(linear_flops_per_token=per_token, head_flops=0, attn_flops_full=0, attn_flops_window=0,
                     kv_bytes_full=0, kv_bytes_window=0, weight_bytes=fixed, routed_expert_bytes=0,
                     experts_per_token=0, experts=0, compute_rate=1.0, memory_rate=1.0, comm_per_token_s=0,
                     comm_fixed_s=0, window=None)


def test_percentile_is_linear_interpolation():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10], 99) == 10
    assert percentile(list(range(101)), 90) == 90
    assert math.isnan(percentile([], 50))


def test_tpot_excludes_first_token_and_goodput_counts_slo_requests():
    a = RequestRecord(arrival=0, first_token=1.0, finish=5.0, input_tokens=10, output_tokens=5)
    b = RequestRecord(arrival=1, first_token=4.0, finish=5.0, input_tokens=10, output_tokens=3)
    assert a.ttft == 1 and a.tpot() == 1.0 and a.tpot(includes_first_token=True) == 1.0
    assert b.tpot() == 0.5 and b.tpot(includes_first_token=True) == 4 / 3
    s = summarize([a, b], slo=Slo(ttft=2.0))
    assert s.duration_s == 5 and s.goodput == 1 / 5 and s.slo_attainment == 0.5
    assert s.output_token_throughput == 8 / 5 and s.total_token_throughput == 28 / 5
    assert s.tpot.mean == 0.75
    weighted = summarize([a, b], average="token")
    assert weighted.tpot.mean == pytest.approx((4 * 1.0 + 2 * 0.5) / 6)
    with pytest.raises(ValueError):
        RequestRecord(arrival=2, first_token=1, finish=3, input_tokens=1, output_tokens=1)


def test_single_request_timeline():
    result = simulate([Request(0, 0.0, 10, 5)], unit_model())
    [rec] = result.records
    # step 1 prefills and emits the first token; four decode steps follow, one second each
    assert (rec.first_token, rec.finish) == (1.0, 5.0)
    assert rec.tpot() == 1.0
    assert result.step_decode_tokens == [0, 1, 1, 1, 1]


def test_continuous_batching_admits_while_others_decode():
    reqs = [Request(0, 0.0, 10, 10), Request(1, 0.5, 10, 2)]
    r0, r1 = simulate(reqs, unit_model()).records
    # continuous: request 1 is prefilled in step 2 (1s-2s) while request 0 decodes
    assert (r0.first_token, r0.finish) == (1.0, 10.0)
    assert (r1.first_token, r1.finish) == (2.0, 3.0)
    s0, s1 = simulate(reqs, unit_model(), SimConfig(policy="static", max_batch=2)).records
    # static: waits for both (0.5s), one prefill step, then decodes the padded batch
    assert s0.first_token == s1.first_token == 1.5
    assert (s1.finish, s0.finish) == (2.5, 10.5)


def test_dynamic_batching_window():
    reqs = [Request(0, 0.0, 4, 2), Request(1, 0.02, 4, 2), Request(2, 0.5, 4, 2)]
    recs = simulate(reqs, unit_model(), SimConfig(policy="dynamic", max_batch=8, batch_window_s=0.1)).records
    assert recs[0].first_token == recs[1].first_token == pytest.approx(1.1)
    assert recs[2].first_token > recs[1].finish


def test_token_budget_splits_long_prompts_with_chunked_prefill():
    model = unit_model(per_token=0.001, fixed=0.0)
    result = simulate([Request(0, 0.0, 1000, 1)], model, SimConfig(max_batched_tokens=256))
    assert len(result.step_durations) == 4  # 256 + 256 + 256 + 232 tokens
    assert result.records[0].first_token == pytest.approx(1.0)


def test_kv_pressure_preempts_and_still_finishes_everything():
    reqs = workload(60, 50.0, Lengths("fixed", mean=100), Lengths("uniform", low=50, high=400), seed=3)
    result = simulate(reqs, unit_model(per_token=1e-4, fixed=0.01), SimConfig(kv_capacity_tokens=3000))
    assert result.preemptions > 0
    assert len(result.records) == 60 and not result.rejected
    assert all(r.arrival <= r.first_token <= r.finish for r in result.records)


def test_reserving_whole_lengths_never_preempts():
    """TensorRT-LLM's GUARANTEED_NO_EVICT: a request is admitted only when its prompt and all its
    output fit beside the full lengths of those already running, so nothing is ever preempted."""
    reqs = [Request(i, 0.0, 100, 300) for i in range(20)]
    grow = simulate(reqs, unit_model(fixed=0.01), SimConfig(kv_capacity_tokens=2000, max_batch=64))
    reserve = simulate(reqs, unit_model(fixed=0.01), SimConfig(kv_capacity_tokens=2000, max_batch=64,
                                                               reserve_full_length=True))
    assert grow.preemptions > 0 and reserve.preemptions == 0
    assert len(reserve.records) == 20 and not reserve.rejected
    # five requests of 400 tokens fit 2000: the sixth starts only when one of the first five ends
    firsts = sorted(r.first_token for r in reserve.records)
    finishes = sorted(r.finish for r in reserve.records)
    assert firsts[4] < finishes[0] <= firsts[5]


def test_lockstep_ranks_are_timed_by_the_busiest_rank():
    """Attention-DP ranks stepping together: a step is timed as the busiest rank, with its share of
    the decodes and of the prompt chunks, but never less than the largest chunk (one rank prefills it
    alone while the others wait)."""
    reqs = [Request(i, 0.0, 100, 3) for i in range(4)]
    result = simulate(reqs, unit_model(per_token=0.01, fixed=0.0),
                      SimConfig(lockstep_ranks=4, record_steps=True, chunked_prefill=False))
    first, *rest = result.steps
    assert first[0] == 100 and first[6] == 1  # four prompts over four ranks: one each
    assert rest and all(step[0] == 1.0 and step[6] == 1.0 for step in rest)  # 4 decodes over 4 ranks
    assert result.step_durations[0] == pytest.approx(1.0)
    assert result.step_durations[1] == pytest.approx(0.01)
    # a lone prompt holds every rank: the step is timed with all of it
    lone = simulate([Request(0, 0.0, 100, 3)], unit_model(per_token=0.01, fixed=0.0),
                    SimConfig(lockstep_ranks=4, record_steps=True, chunked_prefill=False))
    assert lone.steps[0][0] == 100 and lone.steps[0][6] == 1
    # unequal prompts: the largest (300 of 400 tokens) outweighs an even share (100)
    mixed = simulate([Request(0, 0.0, 300, 3), Request(1, 0.0, 100, 3)], unit_model(per_token=0.01, fixed=0.0),
                     SimConfig(lockstep_ranks=4, record_steps=True, chunked_prefill=False))
    assert mixed.steps[0][0] == pytest.approx(300) and mixed.steps[0][6] == pytest.approx(1.5)


def test_requests_that_can_never_fit_are_rejected():
    result = simulate([Request(0, 0.0, 900, 200), Request(1, 0.0, 10, 10)], unit_model(),
                      SimConfig(kv_capacity_tokens=1000))
    assert result.rejected == [0] and len(result.records) == 1


def test_seeded_workloads_are_deterministic():
    a = workload(500, 10.0, Lengths("lognormal", mean=300), Lengths("lognormal", mean=100), "bursty", seed=7)
    b = workload(500, 10.0, Lengths("lognormal", mean=300), Lengths("lognormal", mean=100), "bursty", seed=7)
    assert a == b
    model = unit_model(per_token=1e-5, fixed=0.005)
    assert simulate(a, model).records == simulate(b, model).records
    rate = len(a) / a[-1].arrival
    assert 5 < rate < 20


def test_trace_files(tmp_path):
    good = tmp_path / "t.csv"
    good.write_text("arrival,input_tokens,output_tokens\n0.0,10,5\n0.5,20,3\n")
    assert [r.input_tokens for r in load_trace(good)] == [10, 20]
    jl = tmp_path / "t.jsonl"
    jl.write_text('{"arrival": 0, "input_tokens": 5, "output_tokens": 1}\n\n{"arrival": 1, "input_tokens": 5, '
                  '"output_tokens": 2}\n')
    assert len(load_trace(jl)) == 2
    cases = {
        "arrival,input_tokens\n0,1\n": "missing columns: output_tokens",
        "arrival,input_tokens,output_tokens\n1,10,5\n0.5,10,5\n": ":3: arrival times must not decrease",
        "arrival,input_tokens,output_tokens\nx,10,5\n": ":2: needs numeric",
        "arrival,input_tokens,output_tokens\n0,-3,5\n": ":2: arrival must be >= 0",
        "arrival,input_tokens,output_tokens\n": "holds no requests",
    }
    for text, message in cases.items():
        bad = tmp_path / "bad.csv"
        bad.write_text(text)
        with pytest.raises(TraceError, match=message):
            load_trace(bad)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"arrival": 0, "input_tokens": 5, "output_tokens": 1}\n{oops\n')
    with pytest.raises(TraceError, match=":2: not JSON"):
        load_trace(bad)


def test_bad_configuration():
    with pytest.raises(ValueError):
        SimConfig(policy="magic")
    with pytest.raises(ValueError):
        SimConfig(max_batch=0)
    with pytest.raises(ValueError):
        workload(10, 0.0, Lengths(), Lengths())


def test_hybrid_models_pay_for_their_state_every_step():
    import inferbook
    from inferbook.calc.roofline import Roofline, step_model

    kb = inferbook.load()
    arch = kb.models["qwen3-next-80b-a3b-thinking"].architecture
    model = step_model(Roofline(arch, kb.gpus["h100-sxm"], kb.formats["fp8-e4m3"], 16.0, 2))
    from inferbook.calc.kv import state_bytes_per_sequence

    assert model.state_bytes == pytest.approx(2 * state_bytes_per_sequence(arch) / 2)  # read + write, split over TP 2
    plain = model.seconds(64, 64, 64 * 4096, 0, 64 * 4096, 0)
    assert model.seconds(64, 64, 64 * 4096, 0, 64 * 4096, 0, sequences=64) > plain
    dense = step_model(Roofline(kb.models["llama-3.1-8b-instruct"].architecture, kb.gpus["h100-sxm"],
                                kb.formats["bf16"], 16.0, 1))
    assert dense.state_bytes == 0


def test_the_steady_state_times_the_busiest_attention_dp_group():
    """The planner's closed form follows the simulator's lockstep rule: a group's share of a step's
    prompts, but never less than one prompt."""
    from inferbook.calc.steady_state import Engine, _mix

    model = unit_model(per_token=0.001, fixed=0.0)
    engine = Engine(max_batch=10_000, max_batched_tokens=100_000, kv_tokens=10**9, lockstep_ranks=4)
    # osl 1: no decodes. At 80 requests/s a 0.1 s step prefills 8 prompts of 100 tokens, 2 per group
    assert _mix(model, engine, 100, 1, 80.0, 0.1).prefill_s == pytest.approx(0.001 * 200)
    # at 10 requests/s one prompt arrives per step, and its group holds the other three
    assert _mix(model, engine, 100, 1, 10.0, 0.1).prefill_s == pytest.approx(0.001 * 100)
    # one group alone times the whole step
    single = Engine(max_batch=10_000, max_batched_tokens=100_000, kv_tokens=10**9)
    assert _mix(model, single, 100, 1, 80.0, 0.1).prefill_s == pytest.approx(0.001 * 800)
