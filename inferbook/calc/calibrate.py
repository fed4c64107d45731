"""Fit the performance model on published measurements and cross-validate it.

    python -m inferbook.calc.calibrate                     # fit, cross-validate, print the errors
    python -m inferbook.calc.calibrate --write --jobs 2    # ... and write calibration.json, two folds at a time

A development tool (needs numpy and scipy: ``pip install inferbook[calibrate]``); the
runtime only reads the `calibration.json` it writes.

Every speed measurement becomes a `Case`: the deployment, the load on one replica
and the engine limits. Each case is simulated once and its schedule recorded (which
tokens each step processes); in offline, closed-loop and lockstep runs the schedule
does not depend on step times, so any parameter vector re-times the recorded steps
exactly with array arithmetic (`Replay`), which makes least squares cheap. Poisson
runs are re-timed on their recorded schedule, an approximation used only while
fitting.

Fitting minimises the log error of every case with `scipy.optimize.least_squares`
within physical bounds (`BOUNDS`), soft-L1 loss, and a weak pull of each parameter
towards its prior so that a parameter few cases inform stays plausible.

Cross-validation: for each partition (GPU, model family, engine) and each of its
groups, the model is refitted without the group and the group's cases are
predicted with the full simulator. Only these held-out errors are reported. Each
fold's refit is the whole fit (`fit_everything`) on the other cases alone: from
the prior, over the whole `HALF_TOKENS_GRID`, with the Poisson runs recorded again
under the fold's own fit. Nothing a fold sees comes from the fit on everything, so
the held-out group informs none of its parameters."""

from __future__ import annotations

import argparse
import functools
import json
import math
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NamedTuple

from ..kb import KnowledgeBase
from ..schema import Format, Gpu
from .bands import family_group, model_class
from .capacity import capacity
from .engines import ENGINES, checkpoint_kv_bits, engine_defaults, trtllm_bench_limits
from .kv import kv_dtype_bits
from .metrics import percentile
from .perf import (
    CALIBRATION,
    Deployment,
    PerfParams,
    arch_key,
    attention_tflops,
    dtype_class,
    link_class,
    step_cost,
)
from .predict import offline_requests
from .published import LATENCY_METRICS, SPEED_METRICS, Published
from .published import load as load_published
from .simulator import Lengths, Request, SimConfig, SimResult, simulate, workload
from .weights import native_groups

if TYPE_CHECKING:  # numpy is imported where it is used: the calibration extra installs it
    import numpy as np
    from numpy.typing import NDArray

MAX_REQUESTS_PER_REPLICA = 256
"""Requests simulated per replica and case: enough for the steady state; published runs
of tens of thousands of requests are simulated as their first 256."""
MAX_POISSON_REQUESTS_PER_REPLICA = 1024
"""The same for a Poisson run: its queue, and so its TTFT, grows with every request that
arrives faster than the server finishes them, so more of the run is simulated."""
PRIOR = PerfParams()
BOUNDS: dict[str, tuple[float, float]] = {
    "gemm_eff": (0.15, 0.95), "dtype_eff": (0.3, 1.0), "gemm_half_tokens": (1.0, 1024.0),
    "attn_eff": (0.1, 0.9), "mbu": (0.3, 0.95), "step_s": (1e-5, 0.05), "seq_s": (1e-7, 5e-4),
    "link_latency_s": (1e-6, 2e-4), "link_eff": (0.3, 0.95), "request_s": (1e-5, 0.5),
}
"""Physical bounds of each parameter: efficiencies are shares of a peak, overheads are
between tens of microseconds and tens of milliseconds."""
PER_STRATUM = 3
"""Cases per stratum that enter a fit (`fit_sample`)."""
RERECORD_ROUNDS = 1
"""Times `run` records the Poisson runs again under the latest fit and refits."""
PRIOR_WEIGHT = 0.05
"""Weight of each parameter's pull towards its prior (in log units), against each case's log error."""


@dataclass
class Case:
    """One published speed number and the deployment and load that produced it."""

    pub: Published
    deployment: Deployment
    requests: list[Request]
    config: SimConfig
    replicas: int
    """Identical streams the run is split over: data-parallel replicas x pipeline stages."""
    kv_tokens: int
    groups: dict[str, str]

    @property
    def id(self) -> str:
        return self.pub.m.id

    @functools.cached_property
    def tokens(self) -> tuple[float, float]:
        """Mean prompt and output tokens of the simulated requests."""
        n = max(len(self.requests), 1)
        return (sum(r.input_tokens for r in self.requests) / n, sum(r.output_tokens for r in self.requests) / n)


def request_lengths(pub: Published) -> tuple[int, int]:
    """Prompt and output tokens per request: the nominal lengths, or the means of the
    printed totals where the benchmark drew random lengths (SGLang and vLLM print
    total input and generated tokens)."""
    m = pub.m
    isl, osl = m.isl or 1, m.osl or 1  # llama-bench decodes after a prompt of a token or so
    total_in = pub.setting("total_input_tokens")
    total_out = pub.setting("total_generated_tokens", "total_output_tokens")
    if m.requests and total_in and total_out:
        isl = max(1, round(total_in / m.requests))
        osl = max(1, round(total_out / m.requests))
    return isl, osl


def length_draws(pub: Published, isl: int, osl: int) -> tuple[Lengths, Lengths]:
    """The request lengths a run drew: SGLang's random dataset without a range ratio draws
    each length uniformly from 1 to the nominal length (its bench_serving rule), so clients
    fall out of step; everything else is simulated at fixed (mean) lengths."""
    m = pub.m
    if m.engine == "sglang" and m.settings.get("dataset") == "random" and "random_range_ratio" not in m.settings \
            and m.isl and m.osl:
        return Lengths("uniform", low=1, high=m.isl), Lengths("uniform", low=1, high=m.osl)
    return Lengths("fixed", mean=isl), Lengths("fixed", mean=osl)


def bench_format(fmt: Format, gpu: Gpu) -> str:
    """The weight format as trtllm-bench's tuning names it: "16-bit", "fp8", "nvfp4", or "other"."""
    kind = dtype_class(fmt, gpu)
    return {"16-bit": "16-bit", "fp8": "fp8"}.get(kind, "nvfp4" if fmt.id == "nvfp4" else "other")


def build_case(kb: KnowledgeBase, pub: Published) -> Case | str:
    """The case of a speed measurement, or why it cannot be predicted."""
    from .feasibility import EngineProfile, Setup, check_setup

    m = pub.m
    if m.metric not in SPEED_METRICS:
        return "not a speed metric"
    model = kb.models.get(m.model)
    gpu = kb.gpus.get(m.gpu or "")
    if model is None or gpu is None:
        return "model or GPU not in the knowledge base"
    if m.isl is None and m.metric != "decode_tokens_per_s":
        return "input length not stated"
    if m.osl is None and m.metric not in ("prefill_tokens_per_s", "ttft_ms"):
        return "output length not stated"
    if m.speculative is not None:
        return "speculative decoding is not modelled yet"
    if (unmodelled := pub.not_modelled()) is not None:
        return unmodelled
    if m.settings.get("enforce_eager") is True or m.settings.get("cuda_graphs") is False:
        return "eager execution (no CUDA graphs) is not modelled: every engine profile captures its decode steps"
    if m.engine == "llama-cpp" and m.settings.get("split_mode") == "row":
        return "llama.cpp's row split (weights split by rows, results gathered through the host) is not modelled"
    if m.settings.get("includes_cold_start") is True:
        return "the run includes a cold start (a request waiting on warm-up), which the model does not time"
    fmt = kb.formats[m.weights or model.native_dtype]
    gpus = m.gpus or 1
    pp = m.pp or 1
    tp = m.tp or max(gpus // pp, 1)
    if gpus % (tp * pp):
        return f"{gpus} GPUs do not split into TP {tp} x PP {pp} replicas"
    replicas = gpus // (tp * pp)
    dp = pub.attention_dp(model.architecture.moe is not None, tp)
    # attention-DP ranks that balance their prompts run as independent streams; unbalanced ones step in
    # lockstep, simulated as one stream timed by its busiest rank (`SimConfig.lockstep_ranks`)
    ranks = 1 if dp == 1 or m.settings.get("attention_dp_enable_balance") is True else dp
    # pipeline micro-batches in flight (as predict simulates them) and attention-DP groups each run a batch
    streams = replicas * pp * dp // ranks
    engine = m.engine if m.engine in ENGINES else "vllm"
    defaults = engine_defaults(engine, gpu, tp, pp)
    kv_bits = (kv_dtype_bits(m.kv_dtype, dict(kb.formats)) if m.kv_dtype not in (None, "auto", "fp8-ds-mla")
               else 8.0 if m.kv_dtype == "fp8-ds-mla" else checkpoint_kv_bits(defaults, fmt.id))
    groups = native_groups(model, dict(kb.formats)) if fmt.id == model.native_dtype else {}
    cfg = defaults.config()
    fraction = pub.setting("gpu_memory_utilization", "kv_cache_free_gpu_mem_fraction", "mem_fraction_static")
    seqs_limit = pub.setting("max_num_seqs", "max_batch_size", "max_running_requests")
    budget = pub.setting("max_num_batched_tokens", "max_num_tokens", "chunked_prefill_size")
    if fraction is not None and 0 < fraction <= 1:
        cfg = replace(cfg, gpu_memory_utilization=fraction)
    isl, osl = request_lengths(pub)
    load_n = {"concurrency": m.concurrency, "batch": m.batch}.get(m.mode or "", None)
    sequences = max(1, math.ceil((load_n or 1) / streams))
    check = check_setup(Setup(model=model, gpu=gpu, weights=fmt, kv_bits=kv_bits, tp=tp, pp=pp, ep=m.ep or 1,
                              gpus=gpus, context=min(isl + osl, model.architecture.context_length),
                              sequences=1, mode="concurrency",
                              engine=EngineProfile(defaults.name, cfg), groups=groups or None))
    if not check.feasible or check.capacity is None:
        return "infeasible by the feasibility check: " + "; ".join(
            f.message for f in check.findings if f.severity == "fail")
    if m.settings.get("benchmark") == "trtllm-bench" and not (seqs_limit and budget):
        # trtllm-bench throughput sizes the batch and step budget itself from the dataset and memory
        bench_batch, bench_budget = trtllm_bench_limits(
            model.architecture, bench_format(fmt, gpu), kv_bits, tp, pp, isl, osl, gpu.memory_gib.value,
            fraction if fraction is not None and 0 < fraction <= 1 else 0.9)
        seqs_limit, budget = seqs_limit or bench_batch, budget or bench_budget
    max_batch = (int(seqs_limit) if seqs_limit else defaults.max_num_seqs) * ranks
    closed = m.mode in ("concurrency", "batch")
    if closed:
        max_batch = min(max_batch, sequences)
    # with attention DP the check above sized plain TP; a group's cache is `capacity`'s with attention_dp
    kv_tokens = (check.capacity.kv_tokens if dp == 1 else ranks * capacity(
        model.architecture, gpu, fmt, kv_bits, tp, pp, cfg, groups or None, attention_dp=dp).kv_tokens) // pp
    most = MAX_POISSON_REQUESTS_PER_REPLICA if m.mode == "rate" else MAX_REQUESTS_PER_REPLICA
    n = max(1, min(most, math.ceil((m.requests or MAX_REQUESTS_PER_REPLICA * streams) / streams)))
    if m.mode == "offline":  # enough waves of the largest batch the engine holds to reach the steady state
        slots = min(max_batch, kv_tokens // max(isl + osl, 1))
        steady = offline_requests(None, slots)
        n = min(steady, math.ceil(m.requests / streams)) if m.requests else steady
    if m.mode == "batch":
        n = sequences
    elif m.mode == "concurrency":
        n = min(max(n, 4 * sequences), MAX_REQUESTS_PER_REPLICA)
    inputs, outputs = length_draws(pub, isl, osl)
    if m.mode == "rate":
        assert m.rate is not None
        requests = workload(n, m.rate / streams, inputs, outputs, seed=0)
    else:
        rng = random.Random(0)
        requests = [Request(i, 0.0, inputs.draw(rng), outputs.draw(rng)) for i in range(n)]
    step_budget = (int(budget) if budget else defaults.max_num_batched_tokens) * ranks
    config = SimConfig(max_batch=max_batch, max_batched_tokens=step_budget, lockstep_ranks=ranks,
                       chunked_prefill=defaults.chunked_prefill, kv_capacity_tokens=max(kv_tokens, 1),
                       closed_loop=closed, record_steps=True, max_steps=3_000_000,
                       reserve_full_length=defaults.reserve_full_length)
    deployment = Deployment(model.architecture, gpu, fmt, kv_bits, tp, pp, m.ep or 1, m.engine, groups or None, dp)
    group_keys = {"gpu": gpu.id, "family": family_group(model), "engine": m.engine}
    return Case(pub, deployment, requests, config, streams, kv_tokens, group_keys)


def _stat(values: Sequence[float], statistic: str) -> float:
    if statistic == "mean":
        return sum(values) / len(values)
    return percentile(values, {"median": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0}[statistic])


def metric_of(case: Case, ttfts: Sequence[float], tpots: Sequence[float], e2es: Sequence[float],
              duration: float, n_done: int, statistic: str | None = None) -> float:
    """The measured metric computed from a run's per-request latencies and duration."""
    m = case.pub.m
    isl, osl = case.tokens
    stat = statistic or m.statistic
    out = n_done * osl * case.replicas / duration
    if m.metric == "output_tokens_per_s":
        return out
    if m.metric == "output_tokens_per_s_per_gpu":
        return out / (m.gpus or 1)
    if m.metric == "total_tokens_per_s":
        return n_done * (osl + isl) * case.replicas / duration
    if m.metric == "requests_per_s":
        return n_done * case.replicas / duration
    if m.metric == "ttft_ms":
        return _stat(ttfts, stat) * 1e3
    if m.metric in ("tpot_ms", "itl_ms"):
        return _stat(tpots, stat) * 1e3
    if m.metric == "e2e_latency_s":
        return _stat(e2es, stat)
    if m.metric == "prefill_tokens_per_s":
        return isl * (m.batch or 1) / _stat(ttfts, "mean")
    if m.metric == "decode_tokens_per_s":
        return (m.batch or 1) / _stat(tpots, "mean")
    raise ValueError(f"no prediction for {m.metric}")


def simulate_case(case: Case, params: PerfParams) -> tuple[SimResult, float]:
    """Run the case through the simulator under ``params``; the result and the predicted metric."""
    result = simulate(case.requests, step_cost(case.deployment, params), case.config)
    if not result.records:
        raise ValueError(f"{case.id}: no request completed")
    return result, value_of_result(case, result, params)


def value_of_result(case: Case, result: SimResult, params: PerfParams = PRIOR) -> float:
    recs = result.records
    tpots = [t for r in recs if (t := r.tpot()) is not None] or [0.0]
    duration = max(r.finish for r in recs) - min(r.arrival for r in recs)
    extra = params.lookup(params.request_s, case.deployment.engine)
    return metric_of(case, [r.ttft + extra for r in recs], tpots, [r.e2el + extra for r in recs], duration,
                     len(recs))


# fast re-timing --------------------------------------------------------------------------
class Replay:
    """A recorded schedule of one case: the parameter-free inputs of every step and each
    request's admission, first-token and finish steps. `ReplaySet` re-times many at once."""

    def __init__(self, case: Case, result: SimResult):
        import numpy as np

        self.case = case
        d = case.deployment
        base = step_cost(d, PRIOR)  # the parameter-free coefficients are the same under any params
        steps = np.array(result.steps, dtype=float).reshape(-1, 7)
        tokens, logits, span_f, span_w, kv_f, kv_w, seqs = steps.T
        self.tokens, self.seqs = tokens, seqs
        # GEMM work in three parts, as `perf.StepCost.gemm_work` adds them: dense FLOPs (scaled by
        # (T + T_half) / T), routed-expert FLOPs, and the routed experts touched (each T_half tokens' worth)
        self.gemm_dense = ((base.linear_flops_per_token - base.routed_flops_per_token) * tokens
                           + base.head_flops * logits)
        self.gemm_routed = base.routed_flops_per_token * tokens
        untouched = ((1.0 - base.experts_per_token / base.experts) ** (tokens * base.expert_token_share)
                     if base.experts else np.zeros_like(tokens))
        # the experts' tile overhead min(T_half x touched, routed tokens), in units of one token through one expert
        unit = (base.routed_flops_per_token / base.experts_per_token / base.expert_token_share
                if base.experts else 0.0)
        self.expert_touched = unit * base.experts * (1.0 - untouched)
        self.expert_routed = unit * tokens * base.expert_token_share * base.experts_per_token
        self.weights = base.weight_bytes - base.routed_expert_bytes * untouched
        self.attn_flops = base.attn_flops_full * span_f + base.attn_flops_window * span_w
        self.attn_bytes = base.kv_bytes_full * kv_f + base.kv_bytes_window * kv_w + base.state_bytes * seqs
        gpu, fmt = d.gpu, d.fmt
        from .roofline import compute_tflops
        self.peak = compute_tflops(gpu, fmt) * 1e12 * d.group_gpus
        self.peak16 = attention_tflops(gpu, fmt, d.kv_bits) * 1e12 * d.group_gpus
        self.bandwidth = gpu.memory_bandwidth_gb_s.value * 1e9
        self.keys = {"arch": arch_key(gpu), "dtype": dtype_class(fmt, gpu), "engine": d.engine,
                     "link": link_class(gpu)}
        lat = PRIOR.lookup(PRIOR.link_latency_s, self.keys["link"])
        # seconds per token at full link speed
        self.comm_token_full = base.comm_per_token_s * PRIOR.lookup(PRIOR.link_eff, self.keys["link"])
        self.collectives = base.comm_fixed_s / lat if lat else 0.0
        starts = np.array(result.step_starts, dtype=float)
        durations = np.array(result.step_durations, dtype=float)
        gaps = np.diff(starts, prepend=0.0) - np.concatenate(([0.0], durations[:-1]))
        self.idle = np.maximum(gaps, 0.0)
        ids = sorted(result.request_steps)
        req = {r.id: r for r in case.requests}
        self.admit = np.array([result.request_steps[i][0] for i in ids], dtype=np.int64)
        # an open-loop step cannot start before the first request it admits has arrived: re-timed,
        # its start is the later of the previous step's end and that arrival (`ReplaySet`)
        gate = np.full(len(self.tokens), np.inf)
        np.minimum.at(gate, np.clip(self.admit, 0, len(self.tokens) - 1),
                      np.array([req[i].arrival for i in ids], dtype=float))
        self.gate = np.where(np.isfinite(gate), gate, -np.inf)
        self.first = np.array([result.request_steps[i][1] for i in ids], dtype=np.int64)
        self.finish = np.array([result.request_steps[i][2] for i in ids], dtype=np.int64)
        self.arrival = np.array([req[i].arrival for i in ids], dtype=float)
        self.osl = np.array([req[i].output_tokens for i in ids], dtype=float)
        self.closed = case.config.closed_loop
        self.arrives_over_time = not self.closed and bool(np.any(self.arrival > 0))
        """An open-loop (Poisson) run: its steps wait for arrivals, so re-timing it needs `gate`."""

    def rates(self, p: PerfParams) -> Rates:
        """The case's rates under ``p`` (the lookups `perf.step_cost` makes, for re-timing)."""
        look, k = PerfParams.lookup, self.keys
        return Rates(gemm=self.peak * look(p.gemm_eff, k["arch"]) * look(p.dtype_eff, k["dtype"]),
                     memory=self.bandwidth * look(p.mbu, k["arch"]),
                     attention=self.peak16 * look(p.attn_eff, k["arch"]),
                     fixed=self.collectives * look(p.link_latency_s, k["link"]) + look(p.step_s, k["engine"]),
                     per_sequence=look(p.seq_s, k["engine"]), per_request=look(p.request_s, k["engine"]),
                     link=look(p.link_eff, k["link"]))


class Rates(NamedTuple):
    """A case's rates under some parameters: what `perf.step_cost` derives from them."""

    gemm: float
    """FLOP/s of large GEMMs (all TP ranks)."""
    memory: float
    """Bytes/s of weight and KV reads."""
    attention: float
    """FLOP/s of prefill attention."""
    fixed: float
    """Seconds of collective latency and engine overhead per step."""
    per_sequence: float
    per_request: float
    link: float
    """Share of the link bandwidth collectives reach."""


def gemm_work(dense: Any, routed: Any, touched: Any, routed_tokens: Any, tokens: Any, half_tokens: float) -> Any:
    """`perf.StepCost.gemm_work` over arrays of steps: GEMM FLOPs as if at full efficiency."""
    import numpy as np

    scale = np.where(tokens > 0, (tokens + np.minimum(tokens, half_tokens)) / np.maximum(tokens, 1e-9), 1.0)
    return dense * scale + routed + np.minimum(half_tokens * touched, routed_tokens)


_STAT_Q = {"median": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0}


class ReplaySet:
    """Many replays re-timed at once: one array pass over every recorded step of every case.
    `values` mirrors `perf.StepCost.seconds` and `metric_of` term by term (a test keeps a
    replay equal to the simulator)."""

    # Every replay's per-step and per-request arrays, concatenated (`__init__` sets them by name).
    tokens: NDArray[np.float64]
    seqs: NDArray[np.float64]
    gemm_dense: NDArray[np.float64]
    gemm_routed: NDArray[np.float64]
    expert_touched: NDArray[np.float64]
    expert_routed: NDArray[np.float64]
    weights: NDArray[np.float64]
    attn_flops: NDArray[np.float64]
    attn_bytes: NDArray[np.float64]
    idle: NDArray[np.float64]
    gate: NDArray[np.float64]
    admit: NDArray[np.int64]
    first: NDArray[np.int64]
    finish: NDArray[np.int64]
    arrival: NDArray[np.float64]
    osl: NDArray[np.float64]

    def __init__(self, replays: Sequence[Replay]):
        import numpy as np

        self.replays = list(replays)
        cat = np.concatenate
        r = self.replays
        n_steps = np.array([len(x.tokens) for x in r])
        n_reqs = np.array([len(x.first) for x in r])
        self.step_case = np.repeat(np.arange(len(r)), n_steps)
        self.req_case = np.repeat(np.arange(len(r)), n_reqs)
        self.step_offset = np.concatenate(([0], np.cumsum(n_steps)[:-1]))
        self.req_offset = np.concatenate(([0], np.cumsum(n_reqs)[:-1]))
        self.n_reqs = n_reqs
        for name in ("tokens", "seqs", "gemm_dense", "gemm_routed", "expert_touched", "expert_routed", "weights",
                     "attn_flops", "attn_bytes", "idle", "gate"):
            setattr(self, name, cat([getattr(x, name) for x in r]))
        self.open = [i for i, x in enumerate(r) if x.arrives_over_time]
        for name in ("admit", "first", "finish", "arrival", "osl"):
            setattr(self, name, cat([getattr(x, name) for x in r]))
        self.comm_token = np.repeat([x.comm_token_full for x in r], n_steps)
        self.collectives = np.array([x.collectives for x in r])
        self.peak = np.array([x.peak for x in r])
        self.peak16 = np.array([x.peak16 for x in r])
        self.bandwidth = np.array([x.bandwidth for x in r])
        self.closed = np.repeat([x.closed for x in r], n_reqs)
        self.targets = np.array([x.case.pub.m.value for x in r])

    def values(self, p: PerfParams) -> Any:
        import numpy as np

        r = self.replays
        gemm, mem, attn, fixed, per_seq, per_request, link = np.array([x.rates(p) for x in r]).T
        c = self.step_case
        t = self.tokens
        work = gemm_work(self.gemm_dense, self.gemm_routed, self.expert_touched, self.expert_routed, t,
                         p.gemm_half_tokens)
        dt = (np.maximum(work / gemm[c], self.weights / mem[c])
              + np.maximum(self.attn_flops / attn[c], self.attn_bytes / mem[c])
              + t * self.comm_token / link[c] + fixed[c] + per_seq[c] * self.seqs)
        cum = np.cumsum(dt + self.idle)
        base = np.where(self.step_offset > 0, cum[np.maximum(self.step_offset - 1, 0)], 0.0)
        if self.open:  # open loop: a step starts at the previous one's end or its first admission's arrival
            cum = cum - base[c]
            ends = np.concatenate((self.step_offset[1:], [len(t)]))
            for i in self.open:
                s, e = self.step_offset[i], ends[i]
                before = np.concatenate(([0.0], np.cumsum(dt[s:e])[:-1]))  # busy time before each step
                start = before + np.maximum.accumulate(np.maximum(self.gate[s:e] - before, 0.0))
                cum[s:e] = start + dt[s:e]
            base = np.zeros_like(base)

        def clock(step: Any) -> Any:  # the clock at the end of 1-based step `step` of each request's case
            rc = self.req_case
            pos = self.step_offset[rc] + step - 1
            return np.where(step > 0, cum[np.maximum(pos, 0)] - base[rc], 0.0)

        arrival = np.where(self.closed, clock(self.admit), self.arrival)
        first, finish = clock(self.first), clock(self.finish)
        per_request = per_request[self.req_case]
        ttft = first - arrival + per_request
        gaps = np.maximum(self.osl - 1, 1)
        tpot = np.where(self.osl > 1, (finish - first) / gaps, np.nan)
        e2e = finish - arrival + per_request
        rc = self.req_case
        n = self.n_reqs
        end = np.maximum.reduceat(finish, self.req_offset)
        begin = np.minimum.reduceat(arrival, self.req_offset)
        duration = end - begin
        mean_ttft = np.bincount(rc, ttft, len(r)) / n
        valid = ~np.isnan(tpot)
        count_tpot = np.maximum(np.bincount(rc, valid.astype(float), len(r)), 1)
        mean_tpot = np.bincount(rc, np.where(valid, tpot, 0.0), len(r)) / count_tpot
        mean_e2e = np.bincount(rc, e2e, len(r)) / n
        out = np.empty(len(r))
        for i, x in enumerate(r):
            m = x.case.pub.m
            stat = m.statistic
            if stat == "mean" or m.metric not in LATENCY_METRICS:
                tt, tp, ee = mean_ttft[i], mean_tpot[i], mean_e2e[i]
            else:
                s = slice(self.req_offset[i], self.req_offset[i] + n[i])
                q = _STAT_Q[stat]
                tt = float(np.percentile(ttft[s], q))
                sel = tpot[s][~np.isnan(tpot[s])]
                tp = float(np.percentile(sel, q)) if len(sel) else 0.0
                ee = float(np.percentile(e2e[s], q))
            out[i] = _metric_from(x.case, tt, tp, ee, float(duration[i]), int(n[i]))
        return out


HALF_TOKENS_GRID = (8.0, 16.0, 32.0, 64.0, 128.0, 256.0)
"""Values of `PerfParams.gemm_half_tokens` tried by `fit` (each with its own least squares)."""


class FitSet:
    """Many replays reduced so that any parameters re-time them exactly in O(log steps) per case.

    With `gemm_half_tokens` fixed, a step's time is max(g/R, W/M) + max(A/Ra, B/M) + linear
    terms, where g, W, A and B do not depend on the parameters and R, Ra and M are one number
    per case. A case's metric is a weighted sum of its step times (weights: 1 for the run's
    duration; how many requests' first token, admission or finish lies at or after the step
    for TTFT, end-to-end latency and TPOT). Sorting the steps by W/g (and B/A) and keeping
    prefix sums turns each weighted sum of maxima into one binary search: the steps before
    the crossing ratio are compute-bound, the rest memory-bound. Mean statistics only; cases
    reporting a median or percentile are fitted through `ReplaySet`'s exact values elsewhere."""

    def __init__(self, replays: Sequence[Replay], half_tokens: float):
        self.replays = list(replays)
        self.half_tokens = half_tokens
        self.parts = [self._reduce(r, half_tokens) for r in self.replays]
        import numpy as np

        self.targets = np.array([r.case.pub.m.value for r in self.replays])

    @staticmethod
    def _weights(r: Replay) -> tuple[Any, float, str]:
        """The step weights of a case's metric, the constant to add, and which statistic it is."""
        import numpy as np

        steps = len(r.tokens)
        metric = r.case.pub.m.metric

        def at_or_after(events: Any) -> Any:  # w[k] = number of events e with e >= k + 1
            counts = np.bincount(np.clip(events, 0, steps), minlength=steps + 1)
            return np.cumsum(counts[::-1])[::-1][1:].astype(float)

        start = r.admit if r.closed else None
        if metric in ("ttft_ms", "prefill_tokens_per_s"):
            w = at_or_after(r.first) - (at_or_after(start) if start is not None else 0.0)
            return w, 0.0 if r.closed else -float(r.arrival.sum()), "ttft"
        if metric == "e2e_latency_s":
            w = at_or_after(r.finish) - (at_or_after(start) if start is not None else 0.0)
            return w, 0.0 if r.closed else -float(r.arrival.sum()), "e2e"
        if metric in ("tpot_ms", "itl_ms", "decode_tokens_per_s"):
            multi = r.osl > 1
            scale = np.where(multi, 1.0 / np.maximum(r.osl - 1, 1), 0.0) / max(int(multi.sum()), 1)
            delta = np.zeros(steps + 1)  # steps first+1 .. finish (1-based) are indices first .. finish-1
            np.add.at(delta, np.clip(r.first, 0, steps), scale)
            np.add.at(delta, np.clip(r.finish, 0, steps), -scale)
            return np.cumsum(delta)[:steps], 0.0, "tpot"
        return np.ones(steps), 0.0 if r.closed else -float(r.arrival.min()), "duration"

    @classmethod
    def _reduce(cls, r: Replay, half_tokens: float) -> dict[str, Any]:
        import numpy as np

        w, constant, kind = cls._weights(r)
        g = gemm_work(r.gemm_dense, r.gemm_routed, r.expert_touched, r.expert_routed, r.tokens, half_tokens)
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.where(g > 0, r.weights / g, np.inf)
            y = np.where(r.attn_flops > 0, r.attn_bytes / r.attn_flops, np.inf)
        ox, oy = np.argsort(x, kind="stable"), np.argsort(y, kind="stable")
        zero = np.zeros(1)
        return {
            "kind": kind, "constant": constant + float(np.dot(w, r.idle)),
            "x": x[ox], "pg": np.concatenate((zero, np.cumsum((w * g)[ox]))),
            "pw": np.concatenate((zero, np.cumsum((w * r.weights)[ox]))),
            "y": y[oy], "pa": np.concatenate((zero, np.cumsum((w * r.attn_flops)[oy]))),
            "pb": np.concatenate((zero, np.cumsum((w * r.attn_bytes)[oy]))),
            "linear": float(np.dot(w, r.tokens)) * r.comm_token_full, "count": float(w.sum()),
            "seqs": float(np.dot(w, r.seqs)), "n": len(r.first),
        }

    def values(self, p: PerfParams) -> Any:
        import numpy as np

        out = np.empty(len(self.replays))
        for i, (r, q) in enumerate(zip(self.replays, self.parts, strict=True)):
            gemm, mem, attn, fixed, per_seq, extra, link = r.rates(p)
            a = int(np.searchsorted(q["x"], mem / gemm, side="right"))
            b = int(np.searchsorted(q["y"], mem / attn, side="right"))
            total = (q["pg"][a] / gemm + (q["pw"][-1] - q["pw"][a]) / mem
                     + q["pa"][b] / attn + (q["pb"][-1] - q["pb"][b]) / mem
                     + q["linear"] / link + fixed * q["count"] + per_seq * q["seqs"] + q["constant"])
            n = q["n"]
            ttft = total / n + extra if q["kind"] == "ttft" else 0.0
            e2e = total / n + extra if q["kind"] == "e2e" else 0.0
            tpot = total if q["kind"] == "tpot" else 0.0
            duration = total if q["kind"] == "duration" else 1.0
            out[i] = _metric_from(r.case, ttft, tpot, e2e, duration, n)
        return out


def _metric_from(case: Case, ttft: float, tpot: float, e2e: float, duration: float, n_done: int) -> float:
    """`metric_of` when the statistics are already taken."""
    return metric_of(case, [ttft], [tpot], [e2e], duration, n_done, statistic="mean")


# parameters as a vector -----------------------------------------------------------------
@dataclass
class Space:
    """Which parameters the training cases inform, as (field, key) pairs."""

    entries: list[tuple[str, str | None]] = field(default_factory=list)

    @classmethod
    def for_cases(cls, replays: Sequence[Replay]) -> Space:
        keys: dict[str, set[str]] = defaultdict(set)
        for r in replays:
            keys["gemm_eff"].add(r.keys["arch"])
            keys["attn_eff"].add(r.keys["arch"])
            keys["mbu"].add(r.keys["arch"])
            if r.keys["dtype"] != "16-bit":
                keys["dtype_eff"].add(r.keys["dtype"])
            keys["step_s"].add(r.keys["engine"])
            keys["seq_s"].add(r.keys["engine"])
            keys["request_s"].add(r.keys["engine"])
            if r.collectives:
                keys["link_latency_s"].add(r.keys["link"])
                keys["link_eff"].add(r.keys["link"])
        return cls([(f, k) for f in sorted(keys) for k in sorted(keys[f])])

    def prior(self, name: str, key: str | None) -> float:
        value = getattr(PRIOR, name)
        return float(value) if key is None else PerfParams.lookup(value, key)

    def vector(self, p: PerfParams) -> list[float]:
        out = []
        for name, key in self.entries:
            value = getattr(p, name)
            out.append(math.log(float(value) if key is None else PerfParams.lookup(value, key)))
        return out

    def params(self, x: Sequence[float]) -> PerfParams:
        tables: dict[str, dict[str, float]] = {}
        scalars: dict[str, float] = {}
        for (name, key), v in zip(self.entries, x, strict=True):
            if key is None:
                scalars[name] = math.exp(v)
            else:
                tables.setdefault(name, {})[key] = math.exp(v)
        out: dict[str, Any] = {}
        for name in PerfParams.__dataclass_fields__:
            base = getattr(PRIOR, name)
            if name in scalars:
                out[name] = scalars[name]
            elif isinstance(base, dict) or hasattr(base, "items"):
                table = dict(base)
                fitted = tables.get(name, {})
                table.update(fitted)
                if fitted:  # the fallback for unseen keys: the median of the fitted ones
                    table["*"] = statistics.median(fitted.values())
                if name == "dtype_eff":
                    table["16-bit"] = 1.0
                out[name] = table
            else:
                out[name] = base
        return PerfParams(**out)

    def bounds(self) -> tuple[list[float], list[float]]:
        lo = [math.log(BOUNDS[name][0]) for name, _ in self.entries]
        hi = [math.log(BOUNDS[name][1]) for name, _ in self.entries]
        return lo, hi


def fit_sample(replays: Sequence[Replay]) -> list[Replay]:
    """At most `PER_STRATUM` cases of each (source file, model, GPU, GPU count, metric), spread
    evenly over the stratum: a long table of one setup at many lengths informs the fit once,
    not forty times, and the fit stays fast. Every case is still predicted when held out."""
    strata: dict[tuple[Any, ...], list[Replay]] = defaultdict(list)
    for r in replays:
        m = r.case.pub.m
        strata[(r.case.pub.file, m.model, m.gpu, m.gpus, m.metric)].append(r)
    out = []
    for members in strata.values():
        members.sort(key=lambda r: r.case.id)
        step = max(1, len(members) / PER_STRATUM)
        out += [members[int(i * step)] for i in range(min(PER_STRATUM, len(members)))]
    return out


QUEUEING_METRICS = ("ttft_ms", "e2e_latency_s", "prefill_tokens_per_s")
"""Metrics that include the wait for a free slot: in a Poisson run that wait grows with every step
of a recorded schedule made slower, so they are not fitted on re-timed Poisson runs."""


def fits_on(r: Replay, queueing: bool = False) -> bool:
    """Whether a case enters the fit: mean latencies only (percentiles are predicted, not fitted), and the
    queueing latency of a Poisson run only with ``queueing``: its recorded schedule holds only near the
    parameters it was recorded under, so `run` fits on it once the runs are recorded under a first fit."""
    m = r.case.pub.m
    if m.metric in LATENCY_METRICS and m.statistic != "mean":
        return False
    return queueing or not (r.arrives_over_time and m.metric in QUEUEING_METRICS)


def fit(replays: Sequence[Replay], start: PerfParams = PRIOR, max_evaluations: int = 40,
        halves: Sequence[float] = HALF_TOKENS_GRID, queueing: bool = False) -> PerfParams:
    """Least squares of the log errors within `BOUNDS`, with a weak pull to the prior, for each
    `gemm_half_tokens` of `HALF_TOKENS_GRID`; the best fit wins. ``max_evaluations`` bounds
    each search (in Jacobians' worth of evaluations); ``queueing`` fits on the TTFT of Poisson runs too
    (`fits_on`), for replays recorded near ``start``."""
    import numpy as np
    from scipy.optimize import least_squares

    replays = [r for r in fit_sample(replays) if fits_on(r, queueing)]
    space = Space.for_cases(replays)
    prior = np.array([math.log(space.prior(n, k)) for n, k in space.entries])
    lo, hi = space.bounds()
    x0 = np.clip(np.array(space.vector(start)), np.array(lo) + 1e-9, np.array(hi) - 1e-9)
    best: tuple[float, PerfParams] | None = None
    # Poisson runs wait for arrivals: their clock is not a weighted sum of step times, so they are
    # re-timed step by step (`ReplaySet`); every other case through the prefix sums of `FitSet`
    waiting = [r for r in replays if r.arrives_over_time]
    others = [r for r in replays if not r.arrives_over_time]
    open_set = ReplaySet(waiting) if waiting else None
    for half in halves:
        batch = FitSet(others, half)

        def values(p: PerfParams, batch: FitSet = batch) -> Any:
            parts = [batch.values(p)] + ([open_set.values(p)] if open_set is not None else [])
            return np.concatenate(parts)

        all_targets = np.concatenate([batch.targets] + ([open_set.targets] if open_set is not None else []))
        start_params = replace(space.params(x0), gemm_half_tokens=half)
        keep = np.isfinite(values(start_params)) & (all_targets > 0)
        targets = np.log(all_targets)

        def residuals(x: Any, values: Callable[[PerfParams], Any] = values, targets: Any = targets,
                      keep: Any = keep, half: float = half) -> Any:
            predicted = np.log(np.maximum(values(replace(space.params(x), gemm_half_tokens=half)), 1e-30))
            return np.concatenate(((predicted - targets)[keep], PRIOR_WEIGHT * (x - prior)))

        solution = least_squares(residuals, x0, bounds=(lo, hi), loss="soft_l1", f_scale=0.1,
                                 max_nfev=max_evaluations * (len(x0) + 1))
        if best is None or solution.cost < best[0]:
            best = (float(solution.cost), replace(space.params(solution.x), gemm_half_tokens=half))
    assert best is not None
    return best[1]


def held_out_values(cases: Sequence[Case], replays: dict[str, Replay], params: PerfParams) -> dict[str, float]:
    """Predictions for ``cases`` under ``params``: re-timed replays where the schedule does not
    depend on step times (equal to the simulator), the full simulator for Poisson runs."""
    fixed = [c for c in cases if c.pub.m.mode != "rate"]
    out: dict[str, float] = {}
    if fixed:
        values = ReplaySet([replays[c.id] for c in fixed]).values(params)
        out.update({c.id: float(v) for c, v in zip(fixed, values, strict=True)})
    for c in cases:
        if c.pub.m.mode == "rate":
            try:
                out[c.id] = simulate_case(c, params)[1]
            except ValueError:
                continue
    return out


# cross-validation -----------------------------------------------------------------------
def _summary(errors: Sequence[float]) -> dict[str, float] | None:
    if not errors:
        return None
    a = sorted(abs(e) for e in errors)
    return {"n": len(a), "median": statistics.median(a), "p90": percentile(a, 90), "max": a[-1]}


def kind_of(case: Case) -> str:
    """"latency" or "throughput": which error band a case counts towards."""
    m = case.pub.m.metric
    return "latency" if m in LATENCY_METRICS or m in ("prefill_tokens_per_s", "decode_tokens_per_s") else "throughput"


def fit_everything(cases: Sequence[Case], replays: dict[str, Replay]) -> PerfParams:
    """The whole fit on ``cases``, whose ``replays`` were recorded under `PRIOR`: least squares
    from the prior over `HALF_TOKENS_GRID`, then `RERECORD_ROUNDS` times the Poisson runs recorded
    again under the latest fit (their schedule depends on step times) and refitted from there."""
    own = {c.id: replays[c.id] for c in cases}
    params = fit(list(own.values()))
    for _ in range(RERECORD_ROUNDS):
        for c in cases:
            if own[c.id].arrives_over_time:
                own[c.id] = Replay(c, simulate_case(c, params)[0])
        params = fit(list(own.values()), start=params, halves=(params.gemm_half_tokens,), queueing=True)
    return params


_FOLD_INPUT: tuple[Sequence[Case], dict[str, Replay]] | None = None
"""The cases and their prior replays, for `_fold` in worker processes (inherited by fork)."""


def _fold(task: tuple[str, str]) -> tuple[str, str, dict[str, float], float]:
    """One fold: (partition, group, held-out relative error by case id, seconds taken)."""
    assert _FOLD_INPUT is not None
    cases, replays = _FOLD_INPUT
    started = time.perf_counter()
    partition, key = task
    train = [c for c in cases if c.groups[partition] != key]
    held = [c for c in cases if c.groups[partition] == key]
    params = fit_everything(train, replays) if train else PRIOR
    errors = {cid: value / replays[cid].case.pub.m.value - 1
              for cid, value in held_out_values(held, replays, params).items()}
    return partition, key, errors, time.perf_counter() - started


def cross_validate(cases: Sequence[Case], replays: dict[str, Replay], partitions: Sequence[str],
                   log: Callable[[str], None] = lambda s: None, jobs: int = 1) -> dict[str, dict[str, float]]:
    """Held-out relative error of every case when its whole group of each partition is left out,
    by partition. ``replays`` are every case's recorded under `PRIOR`; each fold refits from
    scratch (`fit_everything`). ``jobs`` above 1 runs that many folds at a time in forked processes."""
    global _FOLD_INPUT
    tasks = [(partition, key) for partition in partitions for key in sorted({c.groups[partition] for c in cases})]
    found: dict[str, dict[str, float]] = {partition: {} for partition in partitions}
    _FOLD_INPUT = (cases, replays)
    try:
        if jobs > 1:
            import multiprocessing

            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                results = pool.imap_unordered(_fold, tasks)
                for partition, key, errors, took in results:
                    found[partition].update(errors)
                    log(f"  {partition} {key}: {len(errors)} held out ({took:.0f} s)")
        else:
            for task in tasks:
                partition, key, errors, took = _fold(task)
                found[partition].update(errors)
                log(f"  {partition} {key}: {len(errors)} held out ({took:.0f} s)")
    finally:
        _FOLD_INPUT = None
    return found


def run(kb: KnowledgeBase, write: bool = False, partitions: Sequence[str] = ("gpu", "family", "engine"),
        log: Callable[[str], None] = print, jobs: int = 1) -> dict[str, Any]:
    """Fit on everything, cross-validate, and return (and optionally write) the calibration."""
    started = time.perf_counter()
    cases: list[Case] = []
    skipped: list[dict[str, str]] = []
    for pub in load_published(known={"models": kb.models, "gpus": kb.gpus, "formats": kb.formats}):
        if pub.m.metric not in SPEED_METRICS:
            continue
        built = build_case(kb, pub)
        if isinstance(built, str):
            skipped.append({"id": pub.m.id, "reason": built})
        else:
            cases.append(built)
    replays: dict[str, Replay] = {}
    usable = []
    for c in cases:
        try:
            result, _ = simulate_case(c, PRIOR)
        except ValueError as exc:
            skipped.append({"id": c.id, "reason": str(exc)})
            continue
        replays[c.id] = Replay(c, result)
        usable.append(c)
    cases = usable
    log(f"{len(cases)} speed cases, {len(skipped)} skipped ({time.perf_counter() - started:.0f} s)")
    params = fit_everything(cases, replays)
    in_sample = {cid: v / replays[cid].case.pub.m.value - 1
                 for cid, v in held_out_values(cases, replays, params).items()}
    log(f"fitted on all cases: in-sample median |error| "
        f"{statistics.median(abs(e) for e in in_sample.values()):.1%} ({time.perf_counter() - started:.0f} s)")
    cv: dict[str, Any] = {}
    per_case: dict[str, dict[str, float]] = {}
    held_by_partition = cross_validate(cases, replays, partitions, log, jobs)
    for partition in partitions:
        held = held_by_partition[partition]
        groups: dict[str, dict[str, Any]] = {}
        for key in sorted({c.groups[partition] for c in cases}):
            members = [c for c in cases if c.groups[partition] == key and c.id in held]
            groups[key] = {kind: _summary([held[c.id] for c in members if kind_of(c) == kind])
                           for kind in ("throughput", "latency")}
        cv[f"by_{partition}"] = groups
        for cid, e in held.items():
            per_case.setdefault(cid, {})[partition] = e
        log(f"held out by {partition}: {_line(cases, held)} ({time.perf_counter() - started:.0f} s)")
    overall: dict[str, Any] = {}
    first = f"by_{partitions[0]}" if partitions else None
    if first:
        errs = {cid: v[partitions[0]] for cid, v in per_case.items() if partitions[0] in v}
        overall = {kind: _summary([errs[c.id] for c in cases if c.id in errs and kind_of(c) == kind])
                   for kind in ("throughput", "latency")}
    cv["overall"] = overall
    data = {
        "about": "Written by `python -m inferbook.calc.calibrate --write`; do not edit by hand.",
        "params": params.to_json(),
        "fitted_on": {
            "cases": len(cases), "architectures": sorted({arch_key(c.deployment.gpu) for c in cases}),
            "gpus": sorted({c.deployment.gpu.id for c in cases}),
            "engines": sorted({c.deployment.engine for c in cases}),
            "families": sorted({c.groups["family"] for c in cases}),
            "model_classes": sorted({model_class(kb.models[c.pub.m.model]) for c in cases}),
        },
        "cv": cv,
        "cases": {c.id: {"kind": kind_of(c), "metric": c.pub.m.metric, "measured": c.pub.m.value,
                         "in_sample_error": in_sample.get(c.id), "held_out_error": per_case.get(c.id, {}),
                         "groups": c.groups, "file": c.pub.file, "url": c.pub.source.url} for c in cases},
        "skipped": skipped,
        "run": {"seconds": round(time.perf_counter() - started), "jobs": jobs},
    }
    if write:
        from .accuracy_report import write as write_report

        CALIBRATION.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        log(f"wrote {CALIBRATION} and {write_report(data)}")
    return data


def _line(cases: Sequence[Case], held: dict[str, float]) -> str:
    parts = []
    for kind in ("throughput", "latency"):
        s = _summary([held[c.id] for c in cases if c.id in held and kind_of(c) == kind])
        if s:
            parts.append(f"{kind} median {s['median']:.1%}, p90 {s['p90']:.1%}, max {s['max']:.0%} (n={s['n']})")
    return "; ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m inferbook.calc.calibrate", description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="write calibration.json")
    parser.add_argument("--partition", action="append", choices=("gpu", "family", "engine"),
                        help="cross-validate only over these partitions (default: all three)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="folds refitted at a time, each in its own process (default 1; each fold is a "
                             "whole fit, several minutes)")
    args = parser.parse_args(argv)
    from ..api import load
    from ..extras import require

    require("calibrate", "python -m inferbook.calc.calibrate")

    run(load(), write=args.write, partitions=tuple(args.partition or ("gpu", "family", "engine")),
        jobs=max(1, args.jobs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
