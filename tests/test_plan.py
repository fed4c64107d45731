"""`plan` and `inferbook plan`: cases with a clear answer, monotonicity, consistency with
`fit`/`predict`, prices and machines, the closed-form screen against the simulator, launch commands."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import yaml
from pydantic import ValidationError

import inferbook
from inferbook.calc.engines import engine_defaults
from inferbook.calc.feasibility import EngineProfile, Setup, check_setup
from inferbook.calc.launch import bench_commands, deployment, server_commands, to_yaml
from inferbook.calc.perf import Deployment, calibrated_params, step_cost
from inferbook.calc.plan import PlanError, Space, Targets, Workload, _layouts, plan, weight_options
from inferbook.calc.predict import Load, predict
from inferbook.calc.pricing import STALE_AFTER_DAYS, is_stale, machines_for
from inferbook.calc.steady_state import Engine, operating_point
from inferbook.cli import main
from inferbook.schema import Offer

TODAY = dt.date(2026, 12, 7)


@pytest.fixture(scope="module")
def kb():
    return inferbook.load()


def _offer(**extra):
    base = {"id": "x", "title": "x", "provider": "P", "provider_kind": "gpu-cloud", "instance": "node",
            "gpu": "h100-sxm", "gpu_count": 8, "quoted_per": "gpu", "on_demand_usd_per_hour": 2.0,
            "region": "r", "checked": dt.date(2026, 11, 1), "source": "s", "last_reviewed": dt.date(2026, 12, 1)}
    base.update(extra)
    return Offer.model_validate(base)


# --- cases with a clear answer -------------------------------------------------------------------
def test_a_small_model_at_a_low_rate_picks_one_small_gpu(kb):
    p = plan(kb, ["llama-3.1-8b-instruct"], Workload(512, 128, rate=0.2), Targets(2.0, 0.1), today=TODAY)
    best = p.best
    assert best is not None and best.gpus == 1
    assert best.shape.gpu.memory_gib.value <= 48
    assert best.meets(p.targets) and best.prediction is not None and best.prediction.feasible


def test_a_405b_model_needs_a_node_of_eight(kb):
    p = plan(kb, ["llama-3.1-405b-instruct"], Workload(1000, 200, rate=0.5), Targets(3.0, 0.1),
             Space(gpus=("h100-sxm",)), today=TODAY)
    assert p.frontier, [r.reason for r in p.rejected[:5]]
    assert all(c.gpus >= 8 for c in p.frontier)
    best = p.best
    assert best is not None and best.shape.group == 8 and best.gpus == 8
    # fewer GPUs were screened and ruled out for memory, with the reason in words
    small = [r for r in p.rejected if ", TP1, " in r.what or ", TP2, " in r.what]
    assert small and all("GiB" in r.reason for r in small)


def test_a_tight_tpot_excludes_slow_gpus(kb):
    def bandwidth(c):
        return c.shape.gpu.memory_bandwidth_gb_s.value

    loose = plan(kb, ["llama-3.1-8b-instruct"], Workload(512, 128, rate=0.5), Targets(2.0, 0.2),
                 Space(disaggregation=False), today=TODAY)
    assert loose.best is not None and bandwidth(loose.best) < 1200  # so the tight case is not vacuous
    tight = plan(kb, ["llama-3.1-8b-instruct"], Workload(512, 128, rate=0.5), Targets(2.0, 0.005),
                 Space(disaggregation=False), today=TODAY)
    assert tight.frontier
    assert all(bandwidth(c) > 1200 for c in tight.frontier)
    assert all(c.tpot_s(95) <= 0.005 for c in tight.frontier)
    assert any("estimated to miss the targets" in r.reason and "rtx-4090" in r.what for r in tight.rejected)


def test_nothing_meets_an_impossible_target_and_the_plan_says_why(kb):
    p = plan(kb, ["llama-3.1-70b-instruct"], Workload(1000, 200, rate=1.0), Targets(0.01, 0.0005),
             Space(gpus=("h100-sxm", "l40s")), today=TODAY)
    assert p.best is None and not p.to_json()["feasible"]
    assert p.rejected and all(r.reason for r in p.rejected)


# --- monotonicity and consistency ----------------------------------------------------------------
def test_a_higher_rate_never_needs_fewer_gpus(kb):
    space = Space(gpus=("h100-sxm",), disaggregation=False, max_gpus=32)
    counts, costs = [], []
    for rate in (0.25, 2.0, 8.0, 24.0, 48.0):
        p = plan(kb, ["llama-3.1-70b-instruct"], Workload(1000, 200, rate=rate), Targets(2.0, 0.06), space,
                 today=TODAY)
        assert p.best is not None, rate
        counts.append(p.best.gpus)
        costs.append(p.best.usd_per_hour)
    assert counts == sorted(counts) and counts[-1] > counts[0]
    assert costs == sorted(costs)


def test_every_recommended_configuration_passes_fit_and_predict(kb):
    p = plan(kb, ["llama-3.1-70b-instruct", "qwen3-30b-a3b-thinking-2507"], Workload(2000, 300, rate=2.0),
             Targets(2.0, 0.05), today=TODAY)
    assert len(p.frontier) >= 3
    for c in p.frontier:
        s = c.shape
        d = engine_defaults(s.engine, s.gpu, s.tp, s.pp)
        check = check_setup(Setup(s.model, s.gpu, s.weights, kv_bits=s.kv_bits, tp=s.tp, pp=s.pp, ep=s.ep,
                                  context=2300, sequences=1, mode="concurrency",
                                  engine=EngineProfile(d.name, d.config())))
        assert check.feasible, (c.describe(), check.summary())
        assert c.gpus <= 16 and c.gpus == sum(c.machines.sizes)
        if c.disaggregation is None:
            again = predict(kb, s.model.id, s.gpu.id,
                            Load(2000, 300, "rate", rate=c.rate, requests=240, slo_ttft_s=2.0, slo_tpot_s=0.05,
                                 percentile=95), gpus=c.replicas * s.group, tp=s.tp, pp=s.pp, ep=s.ep,
                            weights=s.weights.id, kv_dtype=None if s.kv_dtype == "auto" else s.kv_dtype,
                            engine=s.engine)
            assert again.feasible and again.ttft_s is not None and again.tpot_s is not None
            assert again.ttft_s.p95 == pytest.approx(c.ttft_s(95)) and again.tpot_s.p95 <= 0.05
        assert c.band is not None and c.basis in ("measured", "calibrated", "estimated")
    # the frontier trades cost for latency: each dearer row is faster
    lat = [c.latency_s(95, 300) for c in p.frontier]
    cost = [c.usd_per_hour for c in p.frontier]
    assert cost == sorted(cost) and lat == sorted(lat, reverse=True)


def test_costs_per_million_tokens_add_up_to_the_hourly_cost(kb):
    p = plan(kb, ["llama-3.1-8b-instruct"], Workload(1000, 250, rate=3.0), Targets(1.0, 0.05), today=TODAY)
    for c in p.frontier:
        usd_in, usd_out = c.usd_per_million(1000, 250)
        per_hour = (usd_in * 3.0 * 1000 + usd_out * 3.0 * 250) * 3600 / 1e6
        assert per_hour == pytest.approx(c.usd_per_hour, rel=1e-9)
        assert usd_in >= 0 and usd_out > 0


def test_only_published_checkpoints_are_searched(kb):
    model = kb.models["llama-3.1-405b-instruct"]
    formats = [f.id for f, _ in weight_options(kb, model)]
    assert formats[0] == model.native_dtype
    assert set(formats[1:]) == {ck.format for ck in model.quantized_checkpoints}
    assert [f.id for f, _ in weight_options(kb, model, ["fp8-e4m3"])] == ["fp8-e4m3"]
    with pytest.raises(PlanError, match="unknown weight format"):
        weight_options(kb, model, ["fp7"])


def test_users_with_think_time_become_an_arrival_rate(kb):
    p = plan(kb, ["llama-3.1-8b-instruct"], Workload(500, 100, users=50, think_time_s=10.0), Targets(2.0, 0.1),
             Space(gpus=("l40s", "h100-sxm"), disaggregation=False), today=TODAY)
    best = p.best
    assert best is not None
    latency = best.estimate.ttft_s + 99 * best.estimate.step_s
    assert best.rate == pytest.approx(50 / (10.0 + latency), rel=1e-6)


def test_a_trace_or_drawn_lengths_are_the_workload(kb, tmp_path):
    trace = tmp_path / "trace.csv"
    rows = ["arrival,input_tokens,output_tokens"] + [f"{i * 0.25:.2f},{300 + (i * 37) % 900},{50 + (i * 13) % 200}"
                                                     for i in range(400)]
    trace.write_text("\n".join(rows) + "\n", encoding="utf-8")
    from inferbook.calc.simulator import load_trace

    w = Workload.from_trace(load_trace(trace))
    assert w.rate == pytest.approx(4.0) and len(w.stream) == 400
    assert w.context == max(r.input_tokens + r.output_tokens for r in w.stream)
    p = plan(kb, ["llama-3.1-8b-instruct"], w, Targets(2.0, 0.05), Space(gpus=("l40s",), disaggregation=False),
             today=TODAY)
    assert p.best is not None and p.best.meets(p.targets)
    drawn = Workload.drawn(800, 200, 3.0, "lognormal", sigma=0.8)
    lengths = [r.input_tokens for r in drawn.stream]
    assert len(set(lengths)) > 100 and drawn.context > 1000
    assert sum(lengths) / len(lengths) == pytest.approx(800, rel=0.1)
    with pytest.raises(PlanError, match="arrival rate"):
        Workload(100, 10, users=5, stream=drawn.stream)
    assert main(["plan", "llama-3.1-8b-instruct", "--trace", str(trace), "--slo-ttft", "2", "--slo-tpot", "0.05",
                 "--gpus", "l40s", "--no-disagg"]) == 0
    assert main(["plan", "llama-3.1-8b-instruct", "--trace", str(trace), "--rate", "2", "--slo-ttft", "2",
                 "--slo-tpot", "0.05"]) == 2


def test_disaggregated_pools_stay_inside_one_machine(kb):
    # 6 requests/s: enough that some of the cheapest rows run two or more replicas (the recalibrated
    # model serves 3 requests/s with single replicas)
    p = plan(kb, ["llama-3.1-70b-instruct"], Workload(4000, 300, rate=6.0), Targets(3.0, 0.05),
             Space(gpus=("h100-sxm",)), today=TODAY)
    split = [c for c in p.simulated if c.disaggregation is not None]
    assert split, "the cheapest frontier rows with two or more replicas are tried disaggregated"
    for c in split:
        assert len(c.machines.sizes) == 1 and 0 < c.disaggregation.prefill_gpus < c.gpus
        assert c.prediction is not None and c.prediction.setup["prefill_gpus"] == c.disaggregation.prefill_gpus
        assert c.input_share() == c.disaggregation.prefill_gpus / c.gpus


def test_decode_heavy_moe_serving_finds_attention_data_parallelism(kb):
    """Attention DP is searched for MoE models in expert parallelism without pipeline stages (never for
    a dense model, never on llama.cpp); here, long outputs at a high rate, only it meets the targets, and
    each frontier row is what `predict` says of the same setup."""
    w, t = Workload(500, 4000, rate=20.0), Targets(10.0, 0.15)
    p = plan(kb, ["deepseek-v3"], w, t, Space(gpus=("h200-sxm", "b200"), engines=("sglang", "trtllm"), max_gpus=32),
             today=TODAY)
    assert p.frontier
    for c in p.frontier:
        s = c.shape
        assert s.attention_dp == s.tp == s.ep > 1 and s.pp == 1 and "attention-DP" in c.describe()
        again = predict(kb, s.model.id, s.gpu.id, Load(500, 4000, "rate", rate=c.rate, requests=240, slo_ttft_s=10.0,
                                                        slo_tpot_s=0.15, percentile=95),
                        gpus=c.replicas * s.group, tp=s.tp, ep=s.ep, weights=s.weights.id, engine=s.engine,
                        kv_dtype=None if s.kv_dtype == "auto" else s.kv_dtype, attention_dp=s.attention_dp)
        assert again.ttft_s is not None and again.tpot_s is not None
        assert again.ttft_s.p95 == pytest.approx(c.ttft_s(95)) and again.tpot_s.p95 == pytest.approx(c.tpot_s(95))
        assert c.to_json(w, t)["attention_dp"] == s.attention_dp
    assert not any(c.disaggregation is not None and c.shape.attention_dp > 1 for c in p.simulated)
    moe = kb.models["qwen3-30b-a3b-thinking-2507"]
    splits = set(_layouts(moe, 8, "vllm"))
    assert {(tp, 1, tp, tp) for tp in (2, 4, 8)} <= splits
    assert all(ep == tp and pp == 1 for tp, pp, ep, dp in splits if dp > 1)
    assert all(dp == 1 for *_, dp in _layouts(moe, 8, "llama-cpp"))
    assert all(dp == 1 for *_, dp in _layouts(kb.models["llama-3.1-70b-instruct"], 8, "vllm"))


def test_bad_questions_are_plan_errors(kb):
    with pytest.raises(PlanError, match="--rate or --users"):
        Workload(100, 10)
    with pytest.raises(PlanError, match="percentile"):
        Targets(1.0, 0.1, 97.0)
    with pytest.raises(PlanError, match="unknown model"):
        plan(kb, ["no-such-model"], Workload(100, 10, rate=1.0), Targets(1.0, 0.1))
    with pytest.raises(PlanError, match="unknown GPU"):
        plan(kb, ["llama-3.1-8b-instruct"], Workload(100, 10, rate=1.0), Targets(1.0, 0.1), Space(gpus=("h999",)))


def test_engines_only_run_on_the_vendors_they_support(kb):
    p = plan(kb, ["llama-3.1-8b-instruct"], Workload(512, 128, rate=0.5), Targets(2.0, 0.1),
             Space(gpus=("mi300x",), engines=("tensorrt-llm",)), today=TODAY)
    assert p.best is None
    assert any("does not run on AMD" in r.reason for r in p.rejected)


# --- prices and machines -------------------------------------------------------------------------
def test_machines_pack_groups_and_use_every_gpu_paid_for(kb):
    h100 = kb.gpus["h100-sxm"]
    whole = _offer(quoted_per="instance", on_demand_usd_per_hour=80.0)
    m = machines_for(whole, h100, 2, 1, 1)
    assert m is not None and m.sizes == (8,) and m.replicas == 4 and m.usd_per_hour == 80.0
    m = machines_for(whole, h100, 4, 1, 3)
    assert m is not None and m.sizes == (8, 8) and m.replicas == 4
    assert machines_for(whole, h100, 4, 1, 3, max_gpus=8) is None
    flexible = _offer(rentable_counts=(1, 2, 4))
    m = machines_for(flexible, h100, 1, 1, 3)
    assert m is not None and m.sizes == (4,) and m.usd_per_hour == 8.0
    m = machines_for(flexible, h100, 2, 1, 5)
    assert m is not None and m.sizes == (8, 2) and m.replicas == 5
    assert machines_for(_offer(gpu_count=1), h100, 2, 1, 1) is None  # a group never spans machines
    assert machines_for(whole, h100, 1, 1, 1, pricing="spot") is None  # no spot price published


def test_prices_per_gpu_and_owned_hardware():
    assert _offer(quoted_per="instance", on_demand_usd_per_hour=16.0).gpu_hour_usd() == 2.0
    owned = _offer(provider_kind="owned", on_demand_usd_per_hour=None,
                   ownership={"purchase_usd": 280_512.0, "amortise_years": 4.0, "power_kw": 10.0,
                              "usd_per_kwh": 0.1, "hosting_usd_per_hour": 1.0})
    hours = 4.0 * 365.25 * 24
    assert owned.gpu_hour_usd() == pytest.approx((280_512.0 / hours + 1.0 + 1.0) / 8)
    assert owned.gpu_hour_usd("spot") == owned.gpu_hour_usd()


@pytest.mark.parametrize("extra, message", [
    ({"on_demand_usd_per_hour": None}, "give a price"),
    ({"ownership": {"purchase_usd": 1.0, "amortise_years": 1.0}}, "not both"),
    ({"reserved_usd_per_hour": 1.0}, "go together"),
    ({"quoted_per": "instance", "rentable_counts": (1, 2)}, "per-GPU price"),
    ({"rentable_counts": (8,)}, "smaller than gpu_count"),
    ({"linked_gpus": 9}, "cannot exceed"),
    ({"on_demand_usd_per_hour": -1.0}, "greater than 0"),
])
def test_an_offer_that_contradicts_itself_is_refused(extra, message):
    with pytest.raises(ValidationError, match=message):
        _offer(**extra)


def test_old_prices_are_flagged_stale(kb):
    offer = _offer(checked=TODAY - dt.timedelta(days=STALE_AFTER_DAYS + 1))
    assert is_stale(offer, TODAY) and not is_stale(_offer(checked=TODAY), TODAY)
    stale = [o for o in kb.offers.values() if is_stale(o, TODAY)]
    p = plan(kb, ["llama-3.1-8b-instruct"], Workload(256, 64, rate=0.2), Targets(5.0, 0.5),
             Space(gpus=tuple({o.gpu for o in stale}) or ("l4",), disaggregation=False), today=TODAY)
    assert set(p.stale_offers) == {o.id for o in stale if o.gpu in {g for g in p.space.gpus}}


def test_every_offer_names_a_gpu_and_a_price(kb):
    assert len(kb.offers) >= 30
    assert len({o.gpu for o in kb.offers.values()}) >= 10
    for offer in kb.offers.values():
        assert offer.gpu in kb.gpus and offer.source in kb.sources
        assert offer.gpu_hour_usd() is not None or offer.gpu_hour_usd("spot") is not None


# --- the closed-form screen against the simulator ------------------------------------------------
@pytest.mark.parametrize("model, gpu, tp, rate", [
    ("llama-3.1-70b-instruct", "h100-sxm", 4, 2.0),
    ("llama-3.1-70b-instruct", "h100-sxm", 4, 6.0),
    ("llama-3.1-8b-instruct", "l40s", 1, 1.5),
    ("qwen3-30b-a3b-thinking-2507", "h100-sxm", 1, 3.0),
])
def test_the_screen_stays_close_to_the_simulator_below_saturation(kb, model, gpu, tp, rate):
    m, g = kb.models[model], kb.gpus[gpu]
    f = kb.formats[m.native_dtype]
    p = predict(kb, model, gpu, Load(1000, 200, "rate", rate=rate, requests=600), gpus=tp)
    assert p.feasible and p.tpot_s is not None and p.ttft_s is not None and p.kv_cache_tokens
    d = engine_defaults("vllm", g, tp, 1)
    params = calibrated_params()
    cost = step_cost(Deployment(m.architecture, g, f, 16.0, tp, 1, 1, "vllm"))
    point = operating_point(cost, Engine(d.max_num_seqs, d.max_num_batched_tokens, p.kv_cache_tokens,
                                         d.chunked_prefill, params.lookup(params.request_s, "vllm")), 1000, 200, rate)
    assert point is not None
    assert point.step_s == pytest.approx(p.tpot_s.mean, rel=0.2)
    assert point.ttft_s == pytest.approx(p.ttft_s.mean, rel=0.5)
    assert 0 < point.prefill_share < 1


def test_the_screen_says_when_the_engine_falls_behind(kb):
    m, g = kb.models["llama-3.1-8b-instruct"], kb.gpus["l4"]
    d = engine_defaults("vllm", g, 1, 1)
    cost = step_cost(Deployment(m.architecture, g, kb.formats["bf16"], 16.0, 1, 1, 1, "vllm"))
    engine = Engine(d.max_num_seqs, d.max_num_batched_tokens, 40_000, d.chunked_prefill)
    assert operating_point(cost, engine, 2000, 300, 0.05) is not None
    assert operating_point(cost, engine, 2000, 300, 50.0) is None


def test_the_screen_stays_close_to_the_simulator_with_attention_dp(kb):
    """Eight attention-DP groups stepping together: the closed form's mean TPOT and TTFT against the
    simulator's, on the setup `predict` runs (each group's limits, the groups' KV cache)."""
    m, g = kb.models["deepseek-v3"], kb.gpus["h200-sxm"]
    f = kb.formats[m.native_dtype]
    # 2 requests/s: 600 requests of 2,000 output tokens reach the steady state for most of the run
    p = predict(kb, m.id, g.id, Load(1000, 2000, "rate", rate=2.0, requests=600), gpus=8, ep=8, engine="sglang",
                attention_dp=8)
    assert p.feasible and p.tpot_s is not None and p.ttft_s is not None and p.kv_cache_tokens
    d = engine_defaults("sglang", g, 8, 1)
    params = calibrated_params()
    cost = step_cost(Deployment(m.architecture, g, f, p.setup["kv_bits"], 8, 1, 8, "sglang", None, 8))
    engine = Engine(d.max_num_seqs * 8, d.max_num_batched_tokens * 8, p.kv_cache_tokens, d.chunked_prefill,
                    params.lookup(params.request_s, "sglang"), lockstep_ranks=8)
    point = operating_point(cost, engine, 1000, 2000, 2.0)
    assert point is not None
    assert point.step_s == pytest.approx(p.tpot_s.mean, rel=0.2)
    assert point.ttft_s == pytest.approx(p.ttft_s.mean, rel=0.5)
    plain = operating_point(cost, Engine(d.max_num_seqs * 8, d.max_num_batched_tokens * 8, p.kv_cache_tokens,
                                         d.chunked_prefill, params.lookup(params.request_s, "sglang")),
                            1000, 2000, 2.0)
    assert plain is not None and plain.step_s > point.step_s  # without lockstep groups one GPU times every decode


# --- launch commands and the deployment block ----------------------------------------------------
def test_launch_commands_carry_the_planned_configuration(kb):
    p = plan(kb, ["llama-3.1-70b-instruct"], Workload(1000, 200, rate=4.0), Targets(2.0, 0.04),
             Space(gpus=("h100-sxm",), disaggregation=False), today=TODAY)
    best = p.best
    assert best is not None
    s = best.shape
    vllm = server_commands(best, "vllm", p.workload)
    assert vllm and all(f"--tensor-parallel-size {s.tp}" in c and s.checkpoint in c for c in vllm)
    assert all(("--kv-cache-dtype fp8" in c) == s.kv_dtype.startswith("fp8") for c in vllm)
    assert all("--max-model-len 1200" in c and "--gpu-memory-utilization" in c for c in vllm)
    sglang = server_commands(best, "sglang", p.workload)
    assert all(f"--tp {s.tp}" in c and "--mem-fraction-static" in c for c in sglang)
    trt = server_commands(best, "tensorrt-llm", p.workload)
    assert all(f"--tp_size {s.tp}" in c and "--kv_cache_free_gpu_memory_fraction" in c for c in trt)
    bench = bench_commands(best, p.workload, p.targets)
    assert "--random-input-len 1000" in bench[0] and "--random-output-len 200" in bench[0]
    assert f"--request-rate {best.rate:.4g}" in bench[0] and "--goodput ttft:2000 tpot:40" in bench[0]
    block = deployment(kb, best, p.workload, p.targets)
    assert yaml.safe_load(to_yaml(block)) == json.loads(json.dumps(block))
    assert block["parallelism"]["replicas"] == best.replicas and set(block["launch"]) >= {"vllm", "sglang"}


def test_launch_commands_for_attention_data_parallelism(kb):
    """Each engine's own switches for attention DP over a TP group: vLLM's data-parallel ranks of the
    group's TP share, SGLang's --dp with --enable-dp-attention (and its server-wide limits, which it
    divides among the groups), TensorRT-LLM's enable_attention_dp; a machine holding two such groups
    runs one server per group."""
    from inferbook.calc.plan import Candidate, Shape
    from inferbook.calc.steady_state import OperatingPoint

    m, g = kb.models["deepseek-v3"], kb.gpus["h200-sxm"]
    offer = _offer(gpu="h200-sxm", gpu_count=8)
    for tp, replicas, copies in ((8, 1, False), (4, 2, True)):
        shape = Shape(m, g, "sglang", kb.formats[m.native_dtype], m.hf_repo, "auto", 8.0, tp, 1, tp, tp)
        machines = machines_for(offer, g, tp, 1, replicas)
        assert machines is not None and machines.replicas == replicas
        c = Candidate(shape, machines, 1.0, OperatingPoint(1.0, 0.05, 0.5, 10.0, 0.2))
        w = Workload(1000, 1000, rate=1.0)
        [vllm] = server_commands(c, "vllm", w)
        assert f"--tensor-parallel-size 1 --data-parallel-size {tp} --enable-expert-parallel" in vllm
        [sglang] = server_commands(c, "sglang", w)
        d = engine_defaults("sglang", g, tp, 1)
        assert f"--tp {tp} --dp {tp} --enable-dp-attention --ep-size {tp}" in sglang
        assert f"--max-running-requests {d.max_num_seqs * tp} --chunked-prefill-size " \
               f"{d.max_num_batched_tokens * tp}" in sglang
        [trt] = server_commands(c, "tensorrt-llm", w)
        assert f"--tp_size {tp} --ep_size {tp}" in trt and "--extra_llm_api_options extra.yaml" in trt
        for command in (vllm, sglang, trt):
            assert command.startswith(f"# run {replicas} copies, one per group of {tp} GPUs") is copies
        block = deployment(kb, c, w, Targets(2.0, 0.1))
        assert block["parallelism"]["attention_dp"] == tp
        assert "enable_attention_dp: true" in block["tensorrt_llm_extra_yaml"]


# --- the command ---------------------------------------------------------------------------------
def test_the_command_prints_a_frontier_and_commands(capsys):
    code = main(["plan", "llama-3.1-8b-instruct", "--isl", "512", "--osl", "128", "--rate", "1", "--slo-ttft",
                 "1", "--slo-tpot", "0.05", "--gpus", "l40s", "h100-sxm", "--no-disagg"])
    out = capsys.readouterr().out
    assert code == 0
    assert "cost-latency frontier" in out and "vllm serve" in out and "vllm bench serve" in out
    assert "band" in out and "basis" in out


def test_the_command_json_and_yaml(capsys):
    args = ["plan", "llama-3.1-8b-instruct", "--isl", "512", "--osl", "128", "--rate", "1", "--slo-ttft", "1",
            "--slo-tpot", "0.05", "--gpus", "l40s", "--no-disagg"]
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["feasible"] and data["frontier"] and data["deployment"]["launch"]["vllm"]
    row = data["frontier"][0]
    for key in ("usd_per_hour", "usd_per_million_input", "usd_per_million_output", "ttft_s", "tpot_s",
                "goodput_rps", "error_band", "basis", "offer", "price_checked"):
        assert row[key] is not None, key
    assert main([*args, "--yaml"]) == 0
    block = yaml.safe_load(capsys.readouterr().out)
    assert block["model"] == "llama-3.1-8b-instruct" and block["hardware"]["gpu"] == "l40s"


def test_the_command_exit_codes(capsys):
    assert main(["plan", "llama-3.1-70b-instruct", "--isl", "1000", "--osl", "200", "--rate", "1", "--slo-ttft",
                 "0.01", "--slo-tpot", "0.0005", "--gpus", "l40s"]) == 1
    assert "no configuration meets the targets" in capsys.readouterr().err
    assert main(["plan", "llama-3.1-8b-instruct", "--isl", "10", "--osl", "10", "--rate", "1", "--slo-ttft", "1",
                 "--slo-tpot", "0.1", "--percentile", "97"]) == 2
    assert main(["plan", "llama-3.1-8b-instruct", "--isl", "10", "--osl", "10", "--slo-ttft", "1",
                 "--slo-tpot", "1"]) == 2
    assert "--rate or --users" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["plan", "llama-3.1-8b-instruct", "--isl", "10", "--osl", "10", "--slo-ttft", "1"])
    assert exc.value.code == 2


def test_a_gpu_without_a_16_bit_rate_is_refused_with_a_reason_not_a_crash(kb):
    from inferbook.calc.plan import Shape, _screen_shape
    from inferbook.schema import Throughput

    model = kb.models["qwen3-0.6b"]
    bare = kb.gpus["l4"].model_copy(update={"dense": Throughput(), "supported_formats": ()})
    shape = Shape(model, bare, "vllm", kb.formats["bf16"], model.hf_repo, "auto", 16.0, 1, 1, 1)
    screened, why = _screen_shape(kb, shape, Workload(100, 10, rate=0.5), calibrated_params())
    assert screened is None and why is not None and "no dense 16-bit throughput" in why


def test_private_prices_and_owned_hardware_layer_in(tmp_path, capsys):
    layer = tmp_path / "prices"
    (layer / "offers").mkdir(parents=True)
    (layer / "sources").mkdir()
    (layer / "_layer.yaml").write_text('name: our-prices\ndescription: our own hardware\ndata_version: "1"\n'
                                       'data_date: "2026-12-01"\n', encoding="utf-8")
    (layer / "sources" / "our-invoice.yaml").write_text(
        "id: our-invoice\ntitle: Our purchase invoice\nkind: price-list\nurl: https://example.com/invoice\n"
        "accessed: 2026-12-01\nlast_reviewed: 2026-12-01\n", encoding="utf-8")
    (layer / "offers" / "our-h100-node.yaml").write_text(
        "id: our-h100-node\ntitle: Our HGX H100 node\nprovider: us\nprovider_kind: owned\ninstance: HGX H100\n"
        "gpu: h100-sxm\ngpu_count: 8\nquoted_per: instance\nownership: {purchase_usd: 200000, amortise_years: 5, "
        "power_kw: 10, usd_per_kwh: 0.1, hosting_usd_per_hour: 1}\nregion: our rack\nchecked: 2026-12-01\n"
        "source: our-invoice\nlast_reviewed: 2026-12-01\n", encoding="utf-8")
    args = ["plan", "llama-3.1-70b-instruct", "--isl", "1000", "--osl", "200", "--rate", "2", "--slo-ttft", "2",
            "--slo-tpot", "0.05", "--gpus", "h100-sxm", "--no-disagg", "--json", "--kb", str(layer)]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    best = data["frontier"][0]
    hourly = 200000 / (5 * 365.25 * 24) + 10 * 0.1 + 1
    assert best["offer"] == "our-h100-node" and best["usd_per_hour"] == pytest.approx(hourly)
    assert data["deployment"]["hardware"]["provider"] == "us"
