"""Prefill-decode disaggregation: a prefill pool, a decode pool and the KV transfer between them.

Requests are spread round-robin over the prefill replicas, each of which prefills its
share and emits the first token. Each request's KV cache then crosses the interconnect
(its bytes at the link's bandwidth and efficiency, plus one collective latency) and
arrives at a decode replica (round-robin again) that continues from the last prompt
token without prefilling again (`Request.prefilled`). TTFT comes from the prefill pool,
TPOT from the decode pool; throughput is the whole system's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..kb import KnowledgeBase
from ..schema import Format, LlmModel
from .engines import engine_defaults
from .feasibility import EngineProfile, Setup, check_setup
from .kv import kv_bytes
from .metrics import RequestRecord, summarize
from .perf import (
    Deployment,
    PerfParams,
    StepCost,
    calibrated_params,
    link_class,
    link_gb_s_per_direction,
    step_cost,
)
from .simulator import Lengths, Request, SimConfig, simulate, workload
from .weights import native_groups

if TYPE_CHECKING:
    from .predict import Disaggregation, Load, Prediction


def _stream(load: Load, seed: int, rate: float | None = None) -> list[Request]:
    if load.mode in ("rate", "max-rate"):
        r = rate if rate is not None else load.rate
        assert r is not None
        n = load.requests or 1000
        return workload(n, r, Lengths("fixed", mean=load.isl), Lengths("fixed", mean=load.osl), seed=seed)
    return [Request(i, 0.0, load.isl, load.osl) for i in range(load.requests or 1000)]


def _pool(model: LlmModel, gpu: Any, fmt: Format, kv_bits: float, tp: int, pp: int, ep: int, gpus: int,
          engine: str, context: int, groups: dict[str, Format]) -> tuple[list[str], int | None, Any]:
    defaults = engine_defaults(engine, gpu, tp, pp)
    check = check_setup(Setup(model=model, gpu=gpu, weights=fmt, kv_bits=kv_bits, tp=tp, pp=pp, ep=ep, gpus=gpus,
                              context=context, sequences=1, mode="concurrency",
                              engine=EngineProfile(defaults.name, defaults.config()), groups=groups or None))
    reasons = [f.message for f in check.findings if f.severity in ("fail", "warn")]
    tokens = check.capacity.kv_tokens if check.feasible and check.capacity is not None else None
    return reasons, tokens, defaults


def transfer_seconds(model: LlmModel, gpu: Any, kv_bits: float, tokens: int, params: PerfParams) -> float:
    """Time to move one request's KV cache of ``tokens`` tokens from a prefill to a decode replica."""
    size = kv_bytes(model.architecture, tokens, kv_bits, 1, 1, state=True).bytes_per_gpu
    per_direction = link_gb_s_per_direction(gpu) * 1e9 * params.lookup(params.link_eff, link_class(gpu))
    return size / per_direction + params.lookup(params.link_latency_s, link_class(gpu))


def _completed(share: list[Request], rejected: list[int]) -> list[Request]:
    """The requests of ``share`` that completed, in the order of `SimResult.records` (by id)."""
    refused = set(rejected)
    return sorted((q for q in share if q.id not in refused), key=lambda q: q.id)


def run_pools(requests: list[Request], prefill_cost: StepCost, prefill_cfg: SimConfig, prefill_replicas: int,
              decode_cost: StepCost, decode_cfg: SimConfig, decode_replicas: int,
              transfer_s: float) -> tuple[list[RequestRecord], int]:
    """Records of every request through both pools, and the preemptions counted."""
    first: dict[int, float] = {}
    preemptions = 0
    for r in range(prefill_replicas):
        share = [Request(q.id, q.arrival, q.input_tokens, 1) for q in requests[r::prefill_replicas]]
        result = simulate(share, prefill_cost, prefill_cfg)
        preemptions += result.preemptions
        for q, rec in zip(_completed(share, result.rejected), result.records, strict=True):
            first[q.id] = rec.first_token
    ready = sorted((q for q in requests if q.id in first), key=lambda q: (first[q.id], q.id))
    records: list[RequestRecord] = []
    by_id = {q.id: q for q in requests}
    for r in range(decode_replicas):
        share = [Request(q.id, first[q.id] + transfer_s, q.input_tokens + 1, max(q.output_tokens - 1, 1),
                         prefilled=True) for q in ready[r::decode_replicas]]
        result = simulate(share, decode_cost, decode_cfg)
        preemptions += result.preemptions
        for q, rec in zip(_completed(share, result.rejected), result.records, strict=True):
            original = by_id[q.id]
            finish = rec.finish if original.output_tokens > 1 else first[q.id]
            records.append(RequestRecord(original.arrival, first[q.id], max(finish, first[q.id]),
                                         original.input_tokens, original.output_tokens))
    return records, preemptions


def run_disaggregated(kb: KnowledgeBase, model: LlmModel, gpu_id: str, load: Load, gpus: int, tp: int, pp: int,
                      ep: int, fmt: Format, kv_bits: float, engine: str, dis: Disaggregation,
                      params: PerfParams | None, seed: int, setup_json: dict[str, Any]) -> Prediction:
    """`predict` for a disaggregated deployment (see the module docstring)."""
    from .bands import basis_for, error_band
    from .predict import PredictError, Prediction, Stats, highest_rate, slo_attainment

    if load.mode not in ("offline", "rate", "max-rate"):
        raise PredictError("disaggregation is modelled for --offline and --rate (a number or max)")
    gpu = kb.gpus[gpu_id]
    p = params or calibrated_params()
    prefill_tp = dis.prefill_tp if dis.prefill_tp > 1 else tp
    decode_gpus = gpus - dis.prefill_gpus
    if decode_gpus < tp * pp or dis.prefill_gpus % (prefill_tp * pp) or decode_gpus % (tp * pp):
        raise PredictError(f"{dis.prefill_gpus} prefill GPUs and {decode_gpus} decode GPUs do not split into "
                           f"replicas of TP {prefill_tp} / TP {tp} x PP {pp}")
    groups = native_groups(model, dict(kb.formats)) if fmt.id == model.native_dtype else {}
    context = load.isl + load.osl
    reasons_p, tokens_p, defaults_p = _pool(model, gpu, fmt, kv_bits, prefill_tp, pp, ep, dis.prefill_gpus, engine,
                                            context, groups)
    reasons_d, tokens_d, defaults_d = _pool(model, gpu, fmt, kv_bits, tp, pp, ep, decode_gpus, engine, context,
                                            groups)
    setup_json.update(prefill_gpus=dis.prefill_gpus, prefill_tp=prefill_tp, decode_gpus=decode_gpus)
    reasons = [f"prefill pool: {r}" for r in reasons_p] + [f"decode pool: {r}" for r in reasons_d]
    if tokens_p is None or tokens_d is None:
        return Prediction(False, reasons, setup_json)
    cost_p = step_cost(Deployment(model.architecture, gpu, fmt, kv_bits, prefill_tp, pp, ep, engine, groups or None), p)
    cost_d = step_cost(Deployment(model.architecture, gpu, fmt, kv_bits, tp, pp, ep, engine, groups or None), p)
    cfg_p = SimConfig(max_batch=defaults_p.max_num_seqs, max_batched_tokens=defaults_p.max_num_batched_tokens,
                      kv_capacity_tokens=tokens_p, max_steps=2_000_000,
                      reserve_full_length=defaults_p.reserve_full_length)
    cfg_d = SimConfig(max_batch=defaults_d.max_num_seqs, max_batched_tokens=defaults_d.max_num_batched_tokens,
                      kv_capacity_tokens=tokens_d, max_steps=2_000_000,
                      reserve_full_length=defaults_d.reserve_full_length)
    rp, rd = dis.prefill_gpus // (prefill_tp * pp), decode_gpus // (tp * pp)
    transfer = transfer_seconds(model, gpu, kv_bits, load.isl, p)

    def run(rate: float | None) -> list[RequestRecord]:
        return run_pools(_stream(load, seed, rate), cost_p, cfg_p, rp, cost_d, cfg_d, rd, transfer)[0]

    result = Prediction(True, reasons, setup_json, kv_cache_tokens=tokens_d)
    result.notes.append(f"KV transfer {transfer * 1e3:,.2f} ms per request over {link_class(gpu)}")
    if load.mode == "max-rate":
        probe = Load(load.isl, load.osl, "offline", requests=min(load.requests or 512, 512))
        offline = summarize(run_pools(_stream(probe, seed), cost_p, cfg_p, rp, cost_d, cfg_d, rd, transfer)[0])
        found = highest_rate(run, lambda records: records, offline.request_throughput, load,
                             p.lookup(p.request_s, engine))
        if found is None:
            result.feasible = False
            result.reasons.append("no request rate meets the SLOs: even a trickle of requests misses them")
            return result
        result.rate, records = found
    else:
        records = run(None)
    if not records:
        result.feasible = False
        result.reasons.append("no request completed")
        return result
    s = summarize(records)
    extra = p.lookup(p.request_s, engine)
    result.ttft_s = Stats.of(s.ttft, extra)
    result.tpot_s = Stats.of(s.tpot)
    result.output_tokens_per_s = s.output_token_throughput
    result.input_tokens_per_s = s.input_token_throughput
    result.requests_per_s = s.request_throughput
    result.slo_attainment = slo_attainment(load, records, extra)
    if result.slo_attainment is not None:
        result.goodput_rps = result.slo_attainment * s.request_throughput
    result.error_band = error_band(model, gpu, engine)
    result.basis, result.basis_detail, result.measured = basis_for(kb, model, gpu, engine, fmt, load, gpus, tp)
    result.notes.append("disaggregated serving was not among the fitted measurements: the band is that of the "
                        "colocated model, and the KV transfer is modelled, not measured")
    if result.basis == "calibrated":
        result.basis = "estimated"
        result.basis_detail = "disaggregation extrapolated from colocated measurements; " + result.basis_detail
    return result
