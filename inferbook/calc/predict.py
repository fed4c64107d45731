"""`predict`: how fast a deployment serves a workload, with its feasibility, error band and basis.

One function behind `inferbook predict`, the Python API and the site's tools (through
the JS port). It checks the setup (`feasibility.check_setup`), sizes the KV cache with
the engine's memory profile (`engines`), times steps with the calibrated model
(`perf`), simulates the requests on one replica (`simulator`) and scales to the
``gpus / (tp x pp)`` data-parallel replicas. A pipeline of ``pp`` stages is simulated as
``pp`` streams (micro-batches in flight, vLLM's virtual engines), each stepping one pass
through every stage with 1/pp of the KV cache. Prefill-decode disaggregation runs a
prefill pool and a decode pool with the KV transfer between them.

Load modes (as benchmark tools name them):
- ``offline``: every request queued at once (trtllm-bench throughput, vLLM benchmark_throughput);
- ``concurrency``: a closed loop of C clients (a new request as soon as one ends);
- ``rate``: Poisson arrivals at R requests per second;
- ``batch``: B sequences in lockstep (llama-bench when B is 1);
- ``max-rate``: the highest Poisson rate whose percentile TTFT and TPOT meet the SLOs."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar

from ..kb import KnowledgeBase
from ..schema import Format, Gpu, LlmModel
from ..schema.gpus import VENDOR_NAMES
from .bands import Band, basis_for, error_band
from .engines import ATTENTION_DP_ENGINES, ENGINE_ALIASES, ENGINES, checkpoint_kv_bits, engine_defaults
from .feasibility import EngineProfile, Setup, check_setup
from .kv import kv_dtype_bits
from .metrics import Distribution, RequestRecord, summarize
from .perf import Deployment, PerfParams, calibrated_params, step_cost
from .simulator import Request, SimConfig, SimResult, simulate, workload
from .speculation import Speculation, SpeculativeStep
from .weights import native_groups

LoadMode = Literal["offline", "concurrency", "rate", "batch", "max-rate"]
DEFAULT_REQUESTS = 1000
OFFLINE_WAVES = 6
"""An offline run simulates at least this many full batches, so its throughput is the steady state's."""
MAX_OFFLINE_REQUESTS = 20_000


def offline_requests(requested: int | None, slots: int) -> int:
    """Requests an offline run simulates on one replica: those asked for, or when none were,
    `OFFLINE_WAVES` full batches of the ``slots`` sequences the engine holds at once (at least
    `DEFAULT_REQUESTS`, at most `MAX_OFFLINE_REQUESTS`)."""
    if requested is not None:
        return max(1, min(requested, MAX_OFFLINE_REQUESTS))
    return max(DEFAULT_REQUESTS, min(OFFLINE_WAVES * max(slots, 1), MAX_OFFLINE_REQUESTS))
MAX_RATE_STEPS = 14
"""Bisection steps of the ``max-rate`` search (the rate is found to within 2^-14 of its bracket)."""


class PredictError(ValueError):
    """A question `predict` cannot answer (unknown id, inconsistent options); the message says why."""


@dataclass(frozen=True, slots=True)
class Load:
    """The workload: request shape and how it arrives."""

    isl: int
    """Prompt (input) tokens per request."""
    osl: int
    """Output tokens per request."""
    mode: LoadMode = "offline"
    """How requests arrive: offline, concurrency, rate, batch or max-rate (see the module docstring)."""
    batch: int | None = None
    """Sequences run in lockstep; required in ``batch`` mode."""
    concurrency: int | None = None
    """Clients in a closed loop, each sending its next request when one ends; required in ``concurrency`` mode."""
    rate: float | None = None
    """Poisson arrival rate in requests per second, for all replicas together; required in ``rate`` mode."""
    requests: int | None = None
    """Requests to simulate; None for `DEFAULT_REQUESTS`, or offline enough for the steady state."""
    slo_ttft_s: float | None = None
    """Time-to-first-token target in seconds, for ``max-rate`` and SLO attainment; None for none."""
    slo_tpot_s: float | None = None
    """Time-per-output-token target in seconds, for ``max-rate`` and SLO attainment; None for none."""
    percentile: float = 99.0
    """Percentile (between 0 and 100) at which ``max-rate`` checks the TTFT and TPOT targets."""
    image_tokens: int = 0
    """Tokens of the images each request carries (`vision.image_tokens`), prefilled with the prompt."""

    def __post_init__(self) -> None:
        if self.isl < 1 or self.osl < 1 or (self.requests is not None and self.requests < 1):
            raise PredictError("--isl, --osl and --requests must each be at least 1")
        if self.image_tokens < 0:
            raise PredictError("--image-tokens cannot be negative")
        needs = {"batch": self.batch, "concurrency": self.concurrency, "rate": self.rate}
        if self.mode in needs and not needs[self.mode]:
            raise PredictError(f"mode {self.mode} needs --{self.mode}")
        if self.mode == "max-rate" and self.slo_ttft_s is None and self.slo_tpot_s is None:
            raise PredictError("--rate max needs --slo-ttft and/or --slo-tpot")
        if not 0 < self.percentile < 100:
            raise PredictError("--percentile must be between 0 and 100")


@dataclass(frozen=True, slots=True)
class Disaggregation:
    """Prefill-decode disaggregation: ``prefill_gpus`` GPUs prefill (TP ``prefill_tp``) and the
    rest decode; each request's KV cache crosses the interconnect in between."""

    prefill_gpus: int
    """GPUs in the prefill pool; the deployment's other GPUs decode."""
    prefill_tp: int = 1
    """Tensor-parallel size of each prefill replica; 1 takes the decode replicas' TP."""


@dataclass(frozen=True, slots=True)
class Stats:
    """A latency distribution in seconds."""

    mean: float
    """Mean over requests, in seconds."""
    p50: float
    """Median, in seconds."""
    p90: float
    """90th percentile, in seconds."""
    p95: float
    """95th percentile, in seconds."""
    p99: float
    """99th percentile, in seconds."""

    @classmethod
    def of(cls, d: Distribution, shift: float = 0.0) -> Stats:
        """The distribution's summary, every figure plus ``shift`` seconds."""
        return cls(d.mean + shift, d.p50 + shift, d.p90 + shift, d.p95 + shift, d.p99 + shift)

    def at(self, q: float) -> float | None:
        """The figure at percentile ``q`` when it is one of those kept (50, 90, 95, 99)."""
        return {50.0: self.p50, 90.0: self.p90, 95.0: self.p95, 99.0: self.p99}.get(float(q))

    def to_json(self) -> dict[str, float]:
        """The five figures as a plain dict keyed mean, p50, p90, p95 and p99 (seconds)."""
        return {"mean": self.mean, "p50": self.p50, "p90": self.p90, "p95": self.p95, "p99": self.p99}


@dataclass(slots=True)
class Prediction:
    """The answer: feasible or not and why; speeds; error band and basis."""

    feasible: bool
    """True when the setup runs and the speeds below were predicted."""
    reasons: list[str]
    """Why the setup cannot run, and the warnings of its feasibility check (a feasible one may have some)."""
    setup: dict[str, Any]
    """The deployment as predicted, in plain values: model, GPU, counts, parallelism, formats, engine, load."""
    ttft_s: Stats | None = None
    """Time to first token in seconds, with the engine's per-request time outside the GPU."""
    tpot_s: Stats | None = None
    """Time per output token after the first, in seconds."""
    output_tokens_per_s: float | None = None
    """Output tokens per second, all replicas together."""
    input_tokens_per_s: float | None = None
    """Prompt tokens per second, all replicas together."""
    requests_per_s: float | None = None
    """Completed requests per second, all replicas together."""
    rate: float | None = None
    """In ``max-rate`` mode, the highest Poisson rate (requests per second, all replicas) that meets the SLOs;
    None in other modes."""
    error_band: Band | None = None
    """The cross-validated error of the nearest fitted group (GPU, model family or engine); None when infeasible."""
    basis: str = "none"
    """measured, calibrated or estimated; "none" when the setup cannot run (no figures)."""
    basis_detail: str = "the setup cannot run"
    """The basis explained in words: which measurements match, or what was extrapolated from."""
    measured: list[dict[str, Any]] = field(default_factory=list)
    """Published measurements of this exact setup (with basis "measured"); empty otherwise."""
    kv_cache_tokens: int | None = None
    """Tokens the KV cache of one replica holds (of one decode replica when disaggregated)."""
    notes: list[str] = field(default_factory=list)
    """Remarks on the answer: preemptions, speculative decoding, KV transfer time, what was not fitted."""
    slo_attainment: float | None = None
    """Share of the simulated requests meeting every SLO given (None without SLOs)."""
    goodput_rps: float | None = None
    """Requests per second meeting every SLO given, all replicas together."""

    def to_json(self) -> dict[str, Any]:
        """Every field as plain JSON values, as `inferbook predict --json` prints them."""
        def stats(s: Stats | None) -> dict[str, float] | None:
            return None if s is None else s.to_json()
        return {
            "feasible": self.feasible, "reasons": self.reasons, "setup": self.setup,
            "ttft_s": stats(self.ttft_s), "tpot_s": stats(self.tpot_s),
            "output_tokens_per_s": self.output_tokens_per_s, "input_tokens_per_s": self.input_tokens_per_s,
            "requests_per_s": self.requests_per_s, "rate": self.rate,
            "error_band": None if self.error_band is None else self.error_band.to_json(),
            "basis": self.basis, "basis_detail": self.basis_detail, "measured": self.measured,
            "kv_cache_tokens": self.kv_cache_tokens, "notes": self.notes,
            "slo_attainment": self.slo_attainment, "goodput_rps": self.goodput_rps,
        }


def _format(kb: KnowledgeBase, model: LlmModel, weights: str | None) -> Format:
    fid = weights or model.native_dtype
    if fid not in kb.formats:
        raise PredictError(f"unknown weight format {fid!r}; see `inferbook list formats`")
    return kb.formats[fid]


def engine_unsupported(kb: KnowledgeBase, engine: str, gpu: Gpu) -> str | None:
    """Why ``engine`` does not run on ``gpu`` (its framework entry's `accelerator_vendors`), or None."""
    framework = kb.frameworks.get(engine)
    if framework is None or not framework.accelerator_vendors or gpu.vendor in framework.accelerator_vendors:
        return None
    return (f"{framework.title} does not run on {VENDOR_NAMES[gpu.vendor]} accelerators such as the {gpu.title} "
            f"(it runs on: {', '.join(framework.hardware)})")


def kv_bits_for(kb: KnowledgeBase, model: LlmModel, fmt: Format, kv_dtype: str | None, engine: str) -> float:
    """Bits per KV element: as asked, else the engine's rule for "auto" (the model's
    activation dtype; FP8 for an FP8 or NVFP4 checkpoint on engines that read its KV scales)."""
    if kv_dtype not in (None, "auto"):
        try:
            return kv_dtype_bits(str(kv_dtype), dict(kb.formats))
        except ValueError as exc:
            raise PredictError(str(exc)) from None
    return checkpoint_kv_bits(engine_defaults(engine), fmt.id)


def predict(kb: KnowledgeBase, model_id: str | LlmModel, gpu_id: str, load: Load, *, gpus: int = 1,
            tp: int | None = None, pp: int = 1, ep: int = 1, weights: str | None = None, kv_dtype: str | None = None,
            engine: str = "vllm", disaggregation: Disaggregation | None = None,
            speculation: Speculation | None = None, params: PerfParams | None = None,
            seed: int = 0, stream: Sequence[Request] | None = None, attention_dp: int = 1) -> Prediction:
    """Predict one deployment under one load; see the module docstring. ``model_id`` is a model id, or
    a model that is not an entry (`importer.adhoc_model`, for ``--config``). In ``rate`` mode,
    ``stream`` gives the requests themselves (a trace, or lengths drawn from a distribution) for
    all replicas together: each of the ``replicas x pp`` streams serves every n-th request, and
    the setup is checked for the longest request. A load's ``image_tokens`` are prefilled as part of
    every prompt. With ``speculation`` on a model that has MTP modules, they are loaded too (MTP
    speculative decoding), which takes memory from the KV cache. ``attention_dp`` above 1 splits a
    MoE model's TP GPUs into that many attention groups, each with its own batch and KV cache,
    stepping together without balancing their prompts (as the calibration models TensorRT-LLM's
    enable_attention_dp and SGLang's --enable-dp-attention)."""
    model = model_id if isinstance(model_id, LlmModel) else kb.models.get(model_id)  # an entry, or an ad-hoc model
    if model is None:
        raise PredictError(f"unknown model {model_id!r}; see `inferbook list models`")
    gpu = kb.gpus.get(gpu_id)
    if gpu is None:
        raise PredictError(f"unknown GPU {gpu_id!r}; see `inferbook list gpus`")
    engine = ENGINE_ALIASES.get(engine, engine)  # trtllm, llamacpp: the names the CLI also takes
    if engine not in ENGINES:
        raise PredictError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
    fmt = _format(kb, model, weights)
    tp = tp if tp is not None else gpus // pp if disaggregation is None else 1
    if tp < 1 or pp < 1 or ep < 1 or gpus < 1 or attention_dp < 1:
        raise PredictError("--gpus, --tp, --pp, --ep and --attention-dp must each be at least 1")
    if attention_dp > 1 and engine not in ATTENTION_DP_ENGINES:
        raise PredictError("llama.cpp has no attention data parallelism; use vllm, sglang or trtllm")
    if attention_dp > 1 and disaggregation is not None:
        raise PredictError("attention data parallelism is modelled for colocated serving only, not with "
                           "--prefill-gpus")
    groups = native_groups(model, dict(kb.formats)) if fmt.id == model.native_dtype else {}
    kv_bits = kv_bits_for(kb, model, fmt, kv_dtype, engine)
    defaults = engine_defaults(engine, gpu, tp, pp)
    setup_json: dict[str, Any] = {"model": model.id, "gpu": gpu.id, "gpus": gpus, "tp": tp, "pp": pp, "ep": ep,
                                  "attention_dp": attention_dp, "weights": fmt.id, "kv_bits": kv_bits,
                                  "engine": engine,
                                  "engine_profile": defaults.describe(), "isl": load.isl, "osl": load.osl,
                                  "mode": load.mode}
    if load.image_tokens:  # the images' tokens are prefilled with the prompt
        setup_json["image_tokens"] = load.image_tokens
        load = replace(load, isl=load.isl + load.image_tokens, image_tokens=0)
    mtp = speculation is not None and model.architecture.mtp_layers > 0
    if speculation is not None and load.mode == "max-rate":
        raise PredictError("speculative decoding with --rate max is not modelled yet; give --rate R")
    if disaggregation is not None and speculation is not None:
        raise PredictError("speculative decoding is modelled for colocated serving only, not with --prefill-gpus")
    if disaggregation is not None:
        return _predict_disaggregated(kb, model, gpu.id, load, gpus, tp, pp, ep, fmt, kv_bits, engine,
                                      disaggregation, params, seed, setup_json)
    replicas = gpus // max(tp * pp, 1)
    # a pipeline of pp stages keeps pp micro-batches in flight (vLLM's virtual engines): each is a
    # stream whose step is one pass through every stage, holding 1/pp of the replica's KV cache
    streams = replicas * pp
    replica_load = _per_replica_load(load, replicas)
    sequences = replica_load.batch or replica_load.concurrency or 1
    per_replica = _per_replica_load(load, streams)
    if stream is not None and (load.mode != "rate" or not stream):
        raise PredictError("a request stream goes with rate mode and holds at least one request")
    context = max((r.input_tokens + r.output_tokens for r in stream), default=0) if stream else load.isl + load.osl
    check = check_setup(Setup(model=model, gpu=gpu, weights=fmt, kv_bits=kv_bits, tp=tp, pp=pp, ep=ep, gpus=gpus,
                              context=context, sequences=sequences,
                              mode="batch" if load.mode == "batch" else "concurrency",
                              engine=EngineProfile(defaults.name, defaults.config()), groups=groups or None,
                              mtp=mtp, attention_dp=attention_dp))
    reasons = [f.message for f in check.findings if f.severity in ("fail", "warn")]
    unsupported = engine_unsupported(kb, engine, gpu)
    if unsupported is not None:
        return Prediction(False, [unsupported, *reasons], setup_json)
    if not check.feasible or check.capacity is None:
        return Prediction(False, reasons, setup_json)
    setup_json["replicas"] = replicas
    try:
        cost = step_cost(Deployment(model.architecture, gpu, fmt, kv_bits, tp, pp, ep, engine, groups or None,
                                    attention_dp), params)
    except ValueError as exc:  # the GPU entry lacks the throughput a step is timed with
        return Prediction(False, [f"its speed cannot be predicted: {exc}", *reasons], setup_json)
    perf = params or calibrated_params()
    request_s = perf.lookup(perf.request_s, engine)
    # attention-DP groups step together as one stream: each holds its own share of the sequences and
    # its own KV cache and step budget, and a step waits for its busiest group (`SimConfig.lockstep_ranks`)
    ranks = attention_dp
    replica_kv_tokens = ranks * check.capacity.kv_tokens
    kv_tokens = replica_kv_tokens // pp
    closed = load.mode in ("batch", "concurrency")  # clients send the next request when one ends
    stream_sequences = per_replica.batch or per_replica.concurrency or 1
    max_batch = defaults.max_num_seqs * ranks
    config = SimConfig(max_batch=min(max_batch, stream_sequences) if closed else max_batch,
                       max_batched_tokens=defaults.max_num_batched_tokens * ranks, lockstep_ranks=ranks,
                       chunked_prefill=defaults.chunked_prefill, kv_capacity_tokens=kv_tokens, closed_loop=closed,
                       max_steps=2_000_000, reserve_full_length=defaults.reserve_full_length)
    result = Prediction(True, reasons, setup_json, kv_cache_tokens=replica_kv_tokens)
    if ranks > 1:
        result.notes.append(f"attention data parallelism {ranks}: {ranks} groups of {tp // ranks} GPU(s) step "
                            "together, each with its own sequences and KV cache; a step waits for the group with "
                            "the most prompt tokens (no balancing of prompts across groups)")
    if load.mode == "max-rate":
        found = _max_rate(per_replica, cost, config, seed, request_s)
        if found is None:
            result.reasons.append("no request rate meets the SLOs: even one request at a time misses them")
            result.feasible = False
            return result
        rate, sim = found
        result.rate = rate * streams
        _fill(result, sim, streams, request_s, load)
    else:
        if load.mode == "offline":
            slots = min(config.max_batch, kv_tokens // (load.isl + load.osl))
            per_replica = replace(per_replica, requests=offline_requests(per_replica.requests, slots))
        requests = _requests(per_replica, seed) if stream is None else _share(stream, streams)
        timer: Any = cost
        if speculation is not None:
            requests = [replace(r, output_tokens=speculation.steps_for(r.output_tokens)) for r in requests]
            timer = SpeculativeStep(cost, speculation)
        sim = simulate(requests, timer, config)
        if speculation is not None:
            sim.records = [replace(rec, output_tokens=load.osl) for rec in sim.records]
            if mtp:
                result.notes.append(f"the model's {model.architecture.mtp_layers} MTP module(s) are loaded as the "
                                    "draft, which the KV cache gives room to")
            result.notes.append(f"speculative decoding: {speculation.draft_tokens} drafted tokens at acceptance "
                                f"{speculation.acceptance:.0%} keep {speculation.tokens_per_step:.2f} tokens per step"
                                + ("" if speculation.draft_cost_ratio else "; the draft's own time is not counted")
                                + "; no fitted measurement used speculation, so this is an estimate")
        if not sim.records:
            result.feasible = False
            result.reasons.append(f"no request fits the KV cache of {kv_tokens:,} tokens per replica")
            return result
        _fill(result, sim, streams, request_s, load)
    result.error_band = error_band(model, gpu, engine)
    result.basis, result.basis_detail, result.measured = basis_for(kb, model, gpu, engine, fmt, load, gpus, tp,
                                                                   attention_dp)
    if speculation is not None:
        result.basis, result.measured = "estimated", []
        result.basis_detail = "speculative decoding extrapolated from measurements without it; " + result.basis_detail
    return result


def _per_replica_load(load: Load, replicas: int) -> Load:
    """The share of the load one of ``replicas`` identical replicas serves (requests and
    clients spread evenly, Poisson arrivals split into Poisson streams)."""
    if replicas <= 1:
        return load
    def share(n: int | None) -> int | None:
        return None if n is None else max(1, math.ceil(n / replicas))
    return Load(load.isl, load.osl, load.mode, load.batch, share(load.concurrency),
                None if load.rate is None else load.rate / replicas, share(load.requests),
                load.slo_ttft_s, load.slo_tpot_s, load.percentile)


def _share(stream: Sequence[Request], streams: int) -> list[Request]:
    """Every ``streams``-th request of a stream (round-robin dispatch), renumbered from 0."""
    return [replace(r, id=i) for i, r in enumerate(stream[::max(streams, 1)])]


def _requests(load: Load, seed: int) -> list[Request]:
    if load.mode == "rate":
        assert load.rate is not None
        from .simulator import Lengths
        return workload(load.requests or DEFAULT_REQUESTS, load.rate, Lengths("fixed", mean=load.isl),
                        Lengths("fixed", mean=load.osl),
                        seed=seed)
    n = load.requests or DEFAULT_REQUESTS
    if load.mode == "batch":
        n = load.batch or 1
    return [Request(i, 0.0, load.isl, load.osl) for i in range(n)]


def _fill(result: Prediction, sim: SimResult, replicas: int, request_s: float = 0.0,
          load: Load | None = None) -> None:
    """Speeds from a replica's run; ``request_s`` (the engine's time outside the GPU before the
    first token) is added to TTFT. With a load that sets SLOs, the attainment and goodput too."""
    summary = summarize(sim.records)  # the replica's ITL distribution is not reported, so not computed
    if load is not None:
        result.slo_attainment = slo_attainment(load, sim.records, request_s)
        if result.slo_attainment is not None:
            result.goodput_rps = result.slo_attainment * summary.request_throughput * replicas
    result.ttft_s = Stats.of(summary.ttft, request_s)
    result.tpot_s = Stats.of(summary.tpot)
    result.output_tokens_per_s = summary.output_token_throughput * replicas
    result.input_tokens_per_s = summary.input_token_throughput * replicas
    result.requests_per_s = summary.request_throughput * replicas
    if sim.preemptions:
        result.notes.append(f"{sim.preemptions:,} preemptions per replica: the KV cache ran full")


def slo_attainment(load: Load, records: list[RequestRecord], request_s: float = 0.0) -> float | None:
    """Share of ``records`` meeting the load's TTFT and TPOT SLOs (TTFT with the engine's request
    time); None when the load sets no SLO or nothing completed."""
    if (load.slo_ttft_s is None and load.slo_tpot_s is None) or not records:
        return None
    met = sum(1 for r in records if (load.slo_ttft_s is None or r.ttft + request_s <= load.slo_ttft_s)
              and (load.slo_tpot_s is None or (t := r.tpot()) is None or t <= load.slo_tpot_s))
    return met / len(records)


def _meets(load: Load, records: list[RequestRecord], request_s: float = 0.0) -> bool:
    """Whether a run meets the load's SLOs at its percentile (TTFT with the engine's request overhead)."""
    from .metrics import percentile
    ttfts = [r.ttft + request_s for r in records]
    tpots = [t for r in records if (t := r.tpot()) is not None]
    ok = True
    if load.slo_ttft_s is not None:
        ok = ok and percentile(ttfts, load.percentile) <= load.slo_ttft_s
    if load.slo_tpot_s is not None and tpots:
        ok = ok and percentile(tpots, load.percentile) <= load.slo_tpot_s
    return ok


T = TypeVar("T")


def highest_rate(run: Callable[[float], T], records: Callable[[T], list[RequestRecord]], offline_rps: float,
                 load: Load, request_s: float) -> tuple[float, T] | None:
    """Bisection (geometric, `MAX_RATE_STEPS` at most) on the Poisson rate between 1/1000 and 1.2
    times the offline request rate: the highest rate whose run meets the load's SLOs, with that run;
    None when even the lowest misses them."""
    high = offline_rps * 1.2
    low = high / 1000
    low_run = run(low)
    if not records(low_run) or not _meets(load, records(low_run), request_s):
        return None
    best = (low, low_run)
    for _ in range(MAX_RATE_STEPS):
        mid = math.sqrt(low * high)
        trial = run(mid)
        if records(trial) and _meets(load, records(trial), request_s):
            low, best = mid, (mid, trial)
        else:
            high = mid
        if high / low < 1.01:
            break
    return best


def _max_rate(load: Load, cost: Any, config: SimConfig, seed: int,
              request_s: float = 0.0) -> tuple[float, SimResult] | None:
    """The highest Poisson rate one replica serves within the SLOs (`highest_rate`)."""
    def run(rate: float) -> SimResult:
        return simulate(_requests(Load(load.isl, load.osl, "rate", rate=rate, requests=load.requests), seed),
                        cost, config)
    offline = simulate([Request(i, 0.0, load.isl, load.osl) for i in range(min(load.requests or 512, 512))], cost,
                       config)
    if not offline.records:
        return None
    return highest_rate(run, lambda sim: sim.records, offline.summary().request_throughput, load, request_s)


def _predict_disaggregated(kb: KnowledgeBase, model: LlmModel, gpu_id: str, load: Load, gpus: int, tp: int,
                           pp: int, ep: int, fmt: Format, kv_bits: float, engine: str, dis: Disaggregation,
                           params: PerfParams | None, seed: int, setup_json: dict[str, Any]) -> Prediction:
    """A prefill pool and a decode pool: requests are prefilled (one output token each) on
    the prefill replicas, their KV cache crosses the interconnect, and the decode replicas
    continue them without prefilling again."""
    from .disaggregation import run_disaggregated
    return run_disaggregated(kb, model, gpu_id, load, gpus, tp, pp, ep, fmt, kv_bits, engine, dis, params, seed,
                             setup_json)

