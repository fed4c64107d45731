"""`plan`: the cheapest configurations that serve a workload within latency targets.

The search runs in three passes, so a whole catalogue of GPUs is searched in seconds:

1. **Screen.** Every shape (model, GPU, engine, weight format, KV dtype, TP x PP x EP, and for a
   MoE model in expert parallelism without pipeline stages, attention data parallelism over the
   whole TP group on the engines that have it) goes through `feasibility.check_setup`; those
   that can run are timed by the calibrated step model (`perf`) and the closed-form steady state
   (`steady_state`), which gives the fewest replicas whose estimated mean TTFT and TPOT meet the
   targets. Each offer of the GPU then prices the machines that hold them (`pricing`).
2. **Simulate.** The estimated Pareto frontier of hourly cost against request latency, plus
   the cheapest others, are run through `predict` (the simulator), which gives percentile
   TTFT and TPOT, goodput, the error band and the basis. A finalist that misses a target at
   the asked percentile gets another replica, up to `MAX_EXTRA_REPLICAS` times.
3. **Disaggregate.** The cheapest frontier configurations with two replicas or more are also
   tried as a prefill pool and a decode pool on the same machines.

The answer is the Pareto frontier of the simulated configurations that meet the targets:
hourly cost against latency at the percentile (TTFT plus the output's TPOT), cheapest first.
Cost per million input tokens and per million output tokens split the hourly cost by the
share of step time the prompts' prefill adds (`steady_state.OperatingPoint.prefill_share`);
a disaggregated deployment charges its prefill pool to input and its decode pool to output."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ..kb import KnowledgeBase
from ..schema import Format, Gpu, LlmModel, Offer
from .bands import Band
from .engines import ATTENTION_DP_ENGINES, ENGINE_ALIASES, ENGINES, engine_defaults
from .feasibility import EngineProfile, Setup, check_setup
from .params import is_moe_layer
from .perf import Deployment, PerfParams, StepCost, calibrated_params, step_cost
from .predict import Disaggregation, Load, PredictError, Prediction, engine_unsupported, kv_bits_for, predict
from .pricing import Machines, Pricing, is_stale, machines_for
from .simulator import Lengths, Request, workload
from .steady_state import Engine, OperatingPoint, operating_point
from .weights import native_groups

DEFAULT_MAX_GPUS = 16
PERCENTILES = (50.0, 90.0, 95.0, 99.0)
"""Percentiles the targets may be set at (those `predict.Stats` keeps)."""
KV_DTYPES = ("auto", "fp8-e4m3")
"""KV-cache choices tried: the engine's default for the checkpoint, and FP8."""
TP_SIZES = (1, 2, 4, 8, 16, 32, 64)
PP_SIZES = (1, 2, 4)
SIM_REQUESTS = 240
"""Requests each finalist's simulation runs (spread over its replicas)."""
FRONTIER_FINALISTS = 10
"""Points of the estimated frontier simulated (the cheapest ones)."""
FINALISTS = 16
"""Configurations simulated in all: the estimated frontier's cheapest, then the cheapest others."""
MAX_EXTRA_REPLICAS = 3
DISAGGREGATION_TRIES = 3
"""Frontier configurations tried as prefill and decode pools."""
USERS_BISECTION_STEPS = 30
USERS_TOLERANCE = 0.005
"""Users: the arrival rate is found to within 0.5%."""
IDLE_RATE = 1e-9
"""Requests per second of an idle engine (its zero-load latency)."""
MAX_STREAM = 2000
"""Requests of a trace a plan simulates (the first ones)."""
DRAWN_REQUESTS = 1000
"""Requests drawn for a length distribution."""


class PlanError(ValueError):
    """A planning question that cannot be asked (unknown id, inconsistent options); the message says why."""


@dataclass(frozen=True, slots=True)
class Workload:
    """What the deployment must serve: request lengths and either an arrival rate or a
    number of users, each sending a request ``think_time_s`` after the last one ended."""

    isl: int
    """Prompt tokens per request (the mean when `stream` is given)."""
    osl: int
    """Output tokens per request (the mean when `stream` is given)."""
    rate: float | None = None
    """Arrival rate in requests per second, above 0 and at most 10^6; give this or `users`, not both."""
    users: int | None = None
    """Users sending requests in a closed loop, from 1 to 10^7; give this or `rate`, not both."""
    think_time_s: float = 0.0
    """Seconds a user waits after a response before sending the next request (0 to 86,400)."""
    stream: tuple[Request, ...] = ()
    """The requests themselves, when their lengths vary (a trace, or lengths drawn from a
    distribution): the screen uses the mean lengths and the feasibility check the longest
    request; the finalists are simulated on these requests. Use `from_trace` or `drawn`."""

    @classmethod
    def from_trace(cls, requests: Sequence[Request], limit: int = MAX_STREAM) -> Workload:
        """A trace's first ``limit`` requests: their mean lengths and their average arrival rate."""
        if not requests:
            raise PlanError("the trace holds no requests")
        kept = tuple(requests[:limit])
        span = kept[-1].arrival - kept[0].arrival
        if len(kept) < 2 or span <= 0:
            raise PlanError("a trace needs at least two requests arriving at different times")
        return cls(round(sum(r.input_tokens for r in kept) / len(kept)),
                   round(sum(r.output_tokens for r in kept) / len(kept)),
                   rate=(len(kept) - 1) / span, stream=kept)

    @classmethod
    def drawn(cls, isl: int, osl: int, rate: float, kind: Literal["uniform", "lognormal"], sigma: float = 0.5,
              requests: int = DRAWN_REQUESTS, seed: int = 0) -> Workload:
        """Poisson arrivals at ``rate`` whose lengths vary around ``isl`` and ``osl``: uniform
        from 1 to twice the mean, or lognormal with ``sigma`` (capped at eight times the mean)."""
        if not 0 < sigma <= 3:
            raise PlanError("--length-sigma must be in (0, 3]")
        if rate <= 0:
            raise PlanError("a length distribution needs --rate")

        def lengths(mean: int) -> Lengths:
            if kind == "uniform":
                return Lengths("uniform", mean=mean, low=1, high=2 * mean)
            return Lengths("lognormal", mean=mean, high=8 * mean, sigma=sigma)
        stream = workload(requests, rate, lengths(isl), lengths(osl), seed=seed)
        return cls(isl, osl, rate=rate, stream=tuple(stream))

    @property
    def context(self) -> int:
        """Tokens of the longest request."""
        if self.stream:
            return max(r.input_tokens + r.output_tokens for r in self.stream)
        return self.isl + self.osl

    def __post_init__(self) -> None:
        if self.isl < 1 or self.osl < 1:
            raise PlanError("--isl and --osl must each be at least 1")
        if self.stream and self.rate is None:
            raise PlanError("a trace or a length distribution goes with an arrival rate, not --users")
        if (self.rate is None) == (self.users is None):
            raise PlanError("give either --rate or --users")
        if self.rate is not None and not 0 < self.rate <= 1e6:
            raise PlanError("--rate must be above 0 and at most 10^6 requests per second")
        if self.users is not None and not 1 <= self.users <= 10_000_000:
            raise PlanError("--users must be between 1 and 10^7")
        if not 0 <= self.think_time_s <= 86_400:
            raise PlanError("--think-time must be between 0 and 86,400 seconds")

    def arrival_rate(self, latency_s: float) -> float:
        """Requests per second: the rate, or for users, ``users / (think time + latency)``."""
        if self.rate is not None:
            return self.rate
        assert self.users is not None
        return self.users / max(self.think_time_s + latency_s, 1e-9)


@dataclass(frozen=True, slots=True)
class Targets:
    """Latency targets at a percentile, in seconds."""

    ttft_s: float
    """Most time to first token, in seconds (above 0, at most 3,600)."""
    tpot_s: float
    """Most time per output token, in seconds (above 0, at most 60)."""
    percentile: float = 95.0
    """The percentile both targets apply at: 50, 90, 95 or 99."""

    def __post_init__(self) -> None:
        if not (0 < self.ttft_s <= 3600 and 0 < self.tpot_s <= 60):
            raise PlanError("--slo-ttft must be in (0, 3600] and --slo-tpot in (0, 60] seconds")
        if float(self.percentile) not in PERCENTILES:
            raise PlanError(f"--percentile must be one of {', '.join(f'{p:g}' for p in PERCENTILES)}")


@dataclass(frozen=True, slots=True)
class Space:
    """Where to search. Empty tuples mean every choice the knowledge base offers."""

    gpus: tuple[str, ...] = ()
    """GPU ids (or names the knowledge base resolves) to search; empty: every GPU, those without an offer
    being rejected."""
    max_gpus: int = DEFAULT_MAX_GPUS
    """Most GPUs one deployment may rent, from 1 to 1,024."""
    engines: tuple[str, ...] = ("vllm",)
    """Inference engines to try, by id or alias."""
    weights: tuple[str, ...] = ()
    """Weight formats to allow; empty: the native checkpoint and its published quantisations."""
    kv_dtypes: tuple[str, ...] = KV_DTYPES
    """KV-cache formats to try: "auto" (the engine's default for the checkpoint) or format ids."""
    pricing: Pricing = "on_demand"
    """Which price of each offer to use: "on_demand", "reserved" or "spot"."""
    disaggregation: bool = True
    """Also try the cheapest frontier configurations as separate prefill and decode pools."""

    def __post_init__(self) -> None:
        if not 1 <= self.max_gpus <= 1024:
            raise PlanError("--max-gpus must be between 1 and 1024")


@dataclass(frozen=True, slots=True)
class Shape:
    """One replica's configuration."""

    model: LlmModel
    gpu: Gpu
    engine: str
    weights: Format
    checkpoint: str
    """The Hugging Face repository that holds these weights."""
    kv_dtype: str
    kv_bits: float
    tp: int
    pp: int
    ep: int
    attention_dp: int = 1
    """Attention data-parallel groups of a MoE model (1: plain tensor parallelism); see `predict.predict`."""

    @property
    def group(self) -> int:
        return self.tp * self.pp

    def describe(self) -> str:
        split = f"TP{self.tp}" + (f" PP{self.pp}" if self.pp > 1 else "") + (f" EP{self.ep}" if self.ep > 1 else "")
        split += f" attention-DP{self.attention_dp}" if self.attention_dp > 1 else ""
        kv = "auto" if self.kv_dtype == "auto" else self.kv_dtype
        return (f"{self.model.id} {self.weights.id} on {self.gpu.id}, {split}, KV {kv} "
                f"({self.kv_bits:g}-bit), {self.engine}")


@dataclass(slots=True)
class Candidate:
    """A priced deployment: a shape, its machines and what it is predicted to do."""

    shape: Shape
    """One replica's configuration: model, GPU, engine, formats and parallelism."""
    machines: Machines
    """The machines rented from one offer, and the replicas they hold."""
    rate: float
    """Requests per second it serves."""
    estimate: OperatingPoint
    """The closed-form steady state of one stream (screening figures)."""
    prediction: Prediction | None = None
    """The simulated prediction; None until the candidate is simulated."""
    disaggregation: Disaggregation | None = None
    """The prefill and decode split of the GPUs; None for colocated serving."""
    stale_price: bool = False
    """True when the offer's price was checked more than `pricing.STALE_AFTER_DAYS` days ago."""

    @property
    def replicas(self) -> int:
        """Replicas (TP x PP groups) the rented machines hold."""
        return self.machines.replicas

    @property
    def gpus(self) -> int:
        """GPUs rented, over all machines."""
        return self.machines.gpus

    @property
    def usd_per_hour(self) -> float:
        """Price of all rented GPUs, in USD per hour, under the search's pricing."""
        return self.machines.usd_per_hour

    def ttft_s(self, q: float) -> float | None:
        """Simulated time to first token at percentile ``q``, in seconds; None when not simulated, the
        setup cannot run, or ``q`` is not one of 50, 90, 95 and 99."""
        p = self.prediction
        return None if p is None or p.ttft_s is None else p.ttft_s.at(q)

    def tpot_s(self, q: float) -> float | None:
        """Simulated time per output token at percentile ``q``, in seconds; None as for `ttft_s`."""
        p = self.prediction
        return None if p is None or p.tpot_s is None else p.tpot_s.at(q)

    def latency_s(self, q: float, osl: int) -> float:
        """The simulated latency at percentile ``q`` (TTFT + (osl - 1) TPOT), or the estimate's mean."""
        ttft, tpot = self.ttft_s(q), self.tpot_s(q)
        if ttft is None or tpot is None:
            return self.estimate.ttft_s + (osl - 1) * self.estimate.step_s
        return ttft + (osl - 1) * tpot

    def meets(self, targets: Targets) -> bool:
        """Whether the simulation ran, found the setup feasible, and its TTFT and TPOT at the targets'
        percentile are within the targets."""
        ttft, tpot = self.ttft_s(targets.percentile), self.tpot_s(targets.percentile)
        return (self.prediction is not None and self.prediction.feasible and ttft is not None and tpot is not None
                and ttft <= targets.ttft_s and tpot <= targets.tpot_s)

    def input_share(self) -> float:
        """Share of the hourly cost charged to input tokens."""
        if self.disaggregation is not None:
            return self.disaggregation.prefill_gpus / self.gpus
        return self.estimate.prefill_share

    def usd_per_million(self, isl: int, osl: int) -> tuple[float, float]:
        """(input, output) cost per million tokens at the served rate."""
        share = self.input_share()
        per_s = self.usd_per_hour / 3600
        return (per_s * share / (self.rate * isl) * 1e6, per_s * (1 - share) / (self.rate * osl) * 1e6)

    @property
    def band(self) -> Band | None:
        """The prediction's error band; None when not simulated or the setup cannot run."""
        return None if self.prediction is None else self.prediction.error_band

    @property
    def basis(self) -> str:
        """The prediction's basis: "measured", "calibrated" or "estimated"; "none" when not simulated or the
        setup cannot run."""
        return "none" if self.prediction is None else self.prediction.basis

    def describe(self) -> str:
        """One line: the shape, the replicas, the machines, and the prefill and decode split when disaggregated."""
        disagg = ""
        if self.disaggregation is not None:
            prefill = self.disaggregation.prefill_gpus
            disagg = f", disaggregated: {prefill} prefill + {self.gpus - prefill} decode GPUs"
        return f"{self.shape.describe()}, {self.replicas} replica(s) on {self.machines.describe()}{disagg}"

    def to_json(self, workload: Workload, targets: Targets) -> dict[str, Any]:
        """Plain JSON values: the configuration, machines, prices (USD per hour and per million input and
        output tokens), latencies at the targets' percentile, the screening estimate, error band and basis."""
        q = targets.percentile
        usd_in, usd_out = self.usd_per_million(workload.isl, workload.osl)
        s = self.shape
        p = self.prediction
        return {
            "model": s.model.id, "checkpoint": s.checkpoint, "gpu": s.gpu.id, "engine": s.engine,
            "weights": s.weights.id, "kv_dtype": s.kv_dtype, "kv_bits": s.kv_bits, "tp": s.tp, "pp": s.pp, "ep": s.ep,
            "attention_dp": s.attention_dp, "replicas": self.replicas, "gpus": self.gpus,
            "disaggregation": None if self.disaggregation is None else {
                "prefill_gpus": self.disaggregation.prefill_gpus, "prefill_tp": self.disaggregation.prefill_tp},
            "offer": self.machines.offer.id, "machines": list(self.machines.sizes),
            "provider": self.machines.offer.provider, "instance": self.machines.offer.instance,
            "usd_per_hour": self.usd_per_hour, "usd_per_million_input": usd_in, "usd_per_million_output": usd_out,
            "price_checked": self.machines.offer.checked.isoformat(), "stale_price": self.stale_price,
            "rate": self.rate, "percentile": q,
            "ttft_s": None if p is None or p.ttft_s is None else p.ttft_s.to_json(),
            "tpot_s": None if p is None or p.tpot_s is None else p.tpot_s.to_json(),
            "latency_s": self.latency_s(q, workload.osl),
            "goodput_rps": None if p is None or p.slo_attainment is None else self.rate * p.slo_attainment,
            "slo_attainment": None if p is None else p.slo_attainment,
            "meets_targets": self.meets(targets),
            "estimate": {"ttft_s": self.estimate.ttft_s, "tpot_s": self.estimate.step_s,
                         "prefill_share": self.estimate.prefill_share},
            "error_band": None if self.band is None else self.band.to_json(),
            "basis": self.basis, "basis_detail": None if p is None else p.basis_detail,
            "notes": [] if p is None else p.notes,
        }


@dataclass(frozen=True, slots=True)
class Rejection:
    """A configuration that cannot serve the workload, and why."""

    what: str
    reason: str


@dataclass(slots=True)
class Plan:
    """The answer: the Pareto frontier, what else was simulated, and what was ruled out."""

    workload: Workload
    """The workload searched for."""
    targets: Targets
    """The latency targets searched for."""
    space: Space
    """Where the search looked."""
    frontier: list[Candidate]
    """Configurations that meet the targets and that no other beats on both cost and latency, cheapest first."""
    simulated: list[Candidate]
    """Every configuration the simulator ran, the frontier included."""
    rejected: list[Rejection]
    """What was ruled out, with why: a GPU without an offer, a shape that cannot run or is too slow by estimate,
    no machine to hold it, or a finalist missing the targets in simulation."""
    unpriced: list[str]
    """GPUs in the search with no offer (add one in a private layer, `--kb`)."""
    stale_offers: list[str]
    """Ids of the searched GPUs' offers whose price was checked more than `pricing.STALE_AFTER_DAYS` days ago."""
    shapes: int
    """Shapes screened."""

    @property
    def best(self) -> Candidate | None:
        """The cheapest configuration that meets the targets; None when none does."""
        return self.frontier[0] if self.frontier else None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values: the question asked, whether anything meets it, the frontier in full, counts of
        what was simulated and screened, and what was rejected, unpriced or stale."""
        w, t = self.workload, self.targets
        return {
            "workload": {"isl": w.isl, "osl": w.osl, "rate": w.rate, "users": w.users,
                         "think_time_s": w.think_time_s},
            "targets": {"ttft_s": t.ttft_s, "tpot_s": t.tpot_s, "percentile": t.percentile},
            "space": {"gpus": list(self.space.gpus), "max_gpus": self.space.max_gpus,
                      "engines": list(self.space.engines), "weights": list(self.space.weights),
                      "kv_dtypes": list(self.space.kv_dtypes), "pricing": self.space.pricing,
                      "disaggregation": self.space.disaggregation},
            "feasible": bool(self.frontier),
            "frontier": [c.to_json(w, t) for c in self.frontier],
            "simulated": len(self.simulated), "shapes_screened": self.shapes,
            "rejected": [{"what": r.what, "reason": r.reason} for r in self.rejected],
            "unpriced_gpus": self.unpriced, "stale_offers": self.stale_offers,
        }


def weight_options(kb: KnowledgeBase, model: LlmModel, allowed: Sequence[str] = ()) -> list[tuple[Format, str]]:
    """(format, Hugging Face repository) of the checkpoints that exist for ``model``: the native
    one and its published quantisations, limited to ``allowed`` format ids when given."""
    found = [(kb.formats[model.native_dtype], model.hf_repo)]
    for ckpt in model.quantized_checkpoints:
        if ckpt.format not in {f.id for f, _ in found}:
            found.append((kb.formats[ckpt.format], ckpt.hf_repo))
    if allowed:
        unknown = [a for a in allowed if a not in kb.formats]
        if unknown:
            raise PlanError(f"unknown weight format(s) {', '.join(unknown)}; see `inferbook list formats`")
        keep = {kb.formats[a].id for a in allowed}
        found = [(f, repo) for f, repo in found if f.id in keep]
    return found


def _layouts(model: LlmModel, largest: int, engine: str) -> Iterable[tuple[int, int, int, int]]:
    """(tp, pp, ep, attention_dp) of every split tried: a MoE model's experts also in expert
    parallelism over the TP group, and then, without pipeline stages, its attention also
    data-parallel over the whole TP group (one GPU per attention group; TensorRT-LLM's "DEP"
    layout), on engines other than llama.cpp. With attention DP the step model spreads the routed
    experts over the TP group whether or not they are in expert parallelism (`perf.step_cost`), so
    the layout with EP1 would be the same prediction and is not tried."""
    arch = model.architecture
    moe = arch.moe is not None and any(is_moe_layer(arch, i) for i in range(arch.layers))
    for tp in TP_SIZES:
        for pp in PP_SIZES:
            if tp * pp > largest:
                continue
            for ep in ((1, tp) if moe and tp > 1 else (1,)):
                for dp in ((1, tp) if ep > 1 and pp == 1 and engine in ATTENTION_DP_ENGINES else (1,)):
                    yield tp, pp, ep, dp


@dataclass(slots=True)
class _Screened:
    shape: Shape
    cost: StepCost
    engine: Engine
    streams_per_replica: int
    estimates: dict[int, tuple[float, OperatingPoint] | None] = field(default_factory=dict)
    """`_estimate` by replica count (the same shape is priced for several offers)."""


def _screen_shape(kb: KnowledgeBase, shape: Shape, workload: Workload, params: PerfParams,
                  ) -> tuple[_Screened | None, str | None]:
    """Feasibility and the step model of one replica; (None, reason) when it cannot run."""
    model, gpu, fmt = shape.model, shape.gpu, shape.weights
    unsupported = engine_unsupported(kb, shape.engine, gpu)
    if unsupported is not None:
        return None, unsupported
    defaults = engine_defaults(shape.engine, gpu, shape.tp, shape.pp)
    groups = native_groups(model, dict(kb.formats)) if fmt.id == model.native_dtype else {}
    kv_format = kb.formats.get(shape.kv_dtype) if shape.kv_dtype != "auto" else None
    check = check_setup(Setup(model=model, gpu=gpu, weights=fmt, kv=kv_format, kv_bits=shape.kv_bits, tp=shape.tp,
                              pp=shape.pp, ep=shape.ep, gpus=shape.group, context=workload.context,
                              sequences=1, mode="concurrency",
                              engine=EngineProfile(defaults.name, defaults.config()), groups=groups or None,
                              attention_dp=shape.attention_dp))
    if not check.feasible or check.capacity is None:
        return None, check.summary()
    try:
        cost = step_cost(Deployment(model.architecture, gpu, fmt, shape.kv_bits, shape.tp, shape.pp, shape.ep,
                                    shape.engine, groups or None, shape.attention_dp), params)
    except ValueError as exc:  # the GPU entry lacks the throughput a step is timed with
        return None, f"its speed cannot be predicted: {exc}"
    # attention-DP groups each hold their own batch, token budget and KV cache (as `predict` sizes them)
    ranks = shape.attention_dp
    engine = Engine(defaults.max_num_seqs * ranks, defaults.max_num_batched_tokens * ranks,
                    ranks * check.capacity.kv_tokens // shape.pp, defaults.chunked_prefill,
                    params.lookup(params.request_s, shape.engine), ranks)
    return _Screened(shape, cost, engine, shape.pp), None


def _estimate(s: _Screened, workload: Workload, targets: Targets, replicas: int
              ) -> tuple[float, OperatingPoint] | None:
    """(rate, steady state of one stream) with ``replicas`` replicas, or None when they cannot keep up.

    Users send ``rate = users / (think + latency(rate))``: latency grows with the rate, so the rate is
    bisected between nothing and the rate at zero-load latency. When the engine saturates first, the
    users queue: the time they wait, ``users / rate - think - latency``, is added to TTFT."""
    if replicas not in s.estimates:
        s.estimates[replicas] = _estimate_uncached(s, workload, replicas)
    return s.estimates[replicas]


def _estimate_uncached(s: _Screened, workload: Workload, replicas: int) -> tuple[float, OperatingPoint] | None:
    streams = replicas * s.streams_per_replica
    isl, osl = workload.isl, workload.osl
    if workload.users is None:
        assert workload.rate is not None
        point = operating_point(s.cost, s.engine, isl, osl, workload.rate / streams)
        return None if point is None else (workload.rate, point)

    def latency(p: OperatingPoint) -> float:
        return p.ttft_s + (osl - 1) * p.step_s

    idle = operating_point(s.cost, s.engine, isl, osl, IDLE_RATE)
    if idle is None:
        return None
    low, high = 0.0, workload.arrival_rate(latency(idle))
    best: OperatingPoint | None = None
    for _ in range(USERS_BISECTION_STEPS):
        mid = (low + high) / 2
        p = operating_point(s.cost, s.engine, isl, osl, mid / streams)
        if p is not None and mid <= workload.arrival_rate(latency(p)):
            low, best = mid, p
        else:
            high = mid
        if high - low <= USERS_TOLERANCE * high:
            break
    if best is None:
        return None
    waiting = max(workload.users / low - workload.think_time_s - latency(best), 0.0)
    return low, replace(best, ttft_s=best.ttft_s + waiting)


def _meets_estimate(point: OperatingPoint, targets: Targets) -> bool:
    return point.ttft_s <= targets.ttft_s and point.step_s <= targets.tpot_s


def _fewest_replicas(s: _Screened, workload: Workload, targets: Targets, most: int) -> int | None:
    """The fewest replicas whose estimate meets the targets (more replicas never do worse), by bisection."""
    if most < 1:
        return None
    top = _estimate(s, workload, targets, most)
    if top is None or not _meets_estimate(top[1], targets):
        return None
    lo, hi = 0, most  # hi meets, lo does not (0 replicas serve nothing)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        found = _estimate(s, workload, targets, mid)
        if found is not None and _meets_estimate(found[1], targets):
            hi = mid
        else:
            lo = mid
    return hi


def _pareto(cands: Sequence[Candidate], q: float, osl: int) -> list[Candidate]:
    """Candidates no other beats on both hourly cost and latency, cheapest first."""
    ordered = sorted(cands, key=lambda c: (c.usd_per_hour, c.latency_s(q, osl), c.shape.describe()))
    front: list[Candidate] = []
    best = math.inf
    for c in ordered:
        lat = c.latency_s(q, osl)
        if lat < best - 1e-12:
            front.append(c)
            best = lat
    return front


def _simulate(kb: KnowledgeBase, c: Candidate, workload: Workload, targets: Targets, params: PerfParams,
              replicas: int | None = None) -> Prediction:
    s = c.shape
    gpus = (replicas or c.replicas) * s.group if c.disaggregation is None else c.gpus
    if workload.users is not None and workload.think_time_s == 0:
        load = Load(workload.isl, workload.osl, "concurrency", concurrency=workload.users, requests=SIM_REQUESTS,
                    slo_ttft_s=targets.ttft_s, slo_tpot_s=targets.tpot_s, percentile=targets.percentile)
    else:
        load = Load(workload.isl, workload.osl, "rate", rate=c.rate, requests=SIM_REQUESTS,
                    slo_ttft_s=targets.ttft_s, slo_tpot_s=targets.tpot_s, percentile=targets.percentile)
    if workload.stream and c.disaggregation is None:
        load = Load(workload.isl, workload.osl, "rate", rate=c.rate, slo_ttft_s=targets.ttft_s,
                    slo_tpot_s=targets.tpot_s, percentile=targets.percentile)
    return predict(kb, s.model.id, s.gpu.id, load, gpus=gpus, tp=s.tp, pp=s.pp, ep=s.ep, weights=s.weights.id,
                   kv_dtype=None if s.kv_dtype == "auto" else s.kv_dtype, engine=s.engine,
                   disaggregation=c.disaggregation, params=params,
                   stream=workload.stream if workload.stream and c.disaggregation is None else None,
                   attention_dp=s.attention_dp)


def _offers_by_gpu(kb: KnowledgeBase, space: Space) -> dict[str, list[Offer]]:
    found: dict[str, list[Offer]] = {}
    for offer in kb.offers.values():
        if offer.gpu_hour_usd(space.pricing) is not None:
            found.setdefault(offer.gpu, []).append(offer)
    return found


def plan(kb: KnowledgeBase, models: Sequence[str], workload: Workload, targets: Targets, space: Space = Space(),
         today: dt.date | None = None, params: PerfParams | None = None) -> Plan:
    """Search the configurations of ``models`` that serve ``workload`` within ``targets``; see the module docstring."""
    params = params or calibrated_params()
    today = today or dt.date.today()
    chosen_models = []
    for mid in models:
        if mid not in kb.models:
            raise PlanError(f"unknown model {mid!r}; see `inferbook list models`")
        chosen_models.append(kb.models[mid])
    if not chosen_models:
        raise PlanError("name at least one model")
    engines = tuple(ENGINE_ALIASES.get(e, e) for e in space.engines)
    for e in engines:
        if e not in ENGINES:
            raise PlanError(f"unknown engine {e!r}; use one of {', '.join(ENGINES)}")
    for kv in space.kv_dtypes:
        if kv != "auto" and kv not in kb.formats:
            raise PlanError(f"unknown KV dtype {kv!r}; use auto or a format id such as fp8-e4m3")
    gpu_ids = [kb.gpus[g].id if g in kb.gpus else g for g in space.gpus] or list(kb.gpus)
    missing = [g for g in gpu_ids if g not in kb.gpus]
    if missing:
        raise PlanError(f"unknown GPU(s) {', '.join(missing)}; see `inferbook list gpus`")
    offers = _offers_by_gpu(kb, space)
    unpriced = sorted(g for g in gpu_ids if g not in offers)
    rejected: list[Rejection] = [Rejection(g, f"no {space.pricing.replace('_', '-')} offer for this GPU in the "
                                              "knowledge base; add one in a private layer (--kb)") for g in unpriced]
    stale = sorted({o.id for g in gpu_ids for o in offers.get(g, []) if is_stale(o, today)})

    estimated: list[Candidate] = []
    shapes = 0
    for model in chosen_models:
        formats = weight_options(kb, model, space.weights)
        for gid in gpu_ids:
            if gid not in offers:
                continue
            gpu = kb.gpus[gid]
            gpu_offers = offers[gid]
            largest = min(max(max(o.counts()) for o in gpu_offers), space.max_gpus)
            for engine in engines:
                for fmt, repo in formats:
                    seen_bits: set[float] = set()
                    for kv in space.kv_dtypes:
                        try:
                            bits = kv_bits_for(kb, model, fmt, kv, engine)
                        except PredictError as exc:
                            raise PlanError(str(exc)) from None
                        if bits in seen_bits:
                            continue
                        seen_bits.add(bits)
                        for tp, pp, ep, dp in _layouts(model, largest, engine):
                            shape = Shape(model, gpu, engine, fmt, repo, kv, bits, tp, pp, ep, dp)
                            shapes += 1
                            screened, why = _screen_shape(kb, shape, workload, params)
                            if screened is None:
                                rejected.append(Rejection(shape.describe(), why or "cannot run"))
                                continue
                            estimated.extend(_price(screened, gpu_offers, workload, targets, space, today, rejected))
    q, osl = targets.percentile, workload.osl
    finalists = {id(c): c for c in _pareto(estimated, q, osl)[:FRONTIER_FINALISTS]}
    for c in sorted(estimated, key=lambda c: (c.usd_per_hour, c.latency_s(q, osl))):
        if len(finalists) >= FINALISTS:
            break
        finalists.setdefault(id(c), c)
    simulated: list[Candidate] = []
    for c in finalists.values():
        done = _settle(kb, c, workload, targets, space, params)
        if done is not None:
            simulated.append(done)
        else:
            rejected.append(Rejection(c.describe(), "simulated, it misses the targets at the "
                                                    f"{q:g}th percentile even with {MAX_EXTRA_REPLICAS} more replicas"))
    meeting = [c for c in simulated if c.meets(targets)]
    if space.disaggregation:
        for c in _pareto(meeting, q, osl)[:DISAGGREGATION_TRIES]:
            meeting.extend(_disaggregated(kb, c, workload, targets, params, simulated))
    frontier = _pareto(meeting, q, osl)
    return Plan(workload, targets, space, frontier, simulated, rejected, unpriced, stale, shapes)


def _price(s: _Screened, gpu_offers: Sequence[Offer], workload: Workload, targets: Targets, space: Space,
           today: dt.date, rejected: list[Rejection]) -> list[Candidate]:
    """A candidate per offer of the shape's GPU: the machines holding the fewest replicas that
    meet the targets by estimate (every group the machines hold is used)."""
    shape = s.shape
    most = space.max_gpus // shape.group
    fewest = _fewest_replicas(s, workload, targets, most)
    if fewest is None:
        rejected.append(Rejection(shape.describe(), f"even {most} replica(s) ({most * shape.group} GPUs, the most "
                                                    "allowed) are estimated to miss the targets or fall behind"))
        return []
    found = []
    for offer in gpu_offers:
        machines = machines_for(offer, shape.gpu, shape.tp, shape.pp, fewest, space.pricing, space.max_gpus)
        if machines is None:
            continue
        estimate = _estimate(s, workload, targets, machines.replicas)
        if estimate is None:
            continue
        rate, point = estimate
        found.append(Candidate(shape, machines, rate, point, stale_price=is_stale(offer, today)))
    if not found:
        rejected.append(Rejection(shape.describe(), "no offer rents a machine that holds this group within "
                                                    f"--max-gpus {space.max_gpus}"))
    return found


def _settle(kb: KnowledgeBase, c: Candidate, workload: Workload, targets: Targets, space: Space,
            params: PerfParams) -> Candidate | None:
    """Simulate a finalist; add replicas while it misses the targets. None when it never meets them."""
    shape = c.shape
    for extra in range(MAX_EXTRA_REPLICAS + 1):
        if extra:
            machines = machines_for(c.machines.offer, shape.gpu, shape.tp, shape.pp, c.replicas + 1, space.pricing,
                                    space.max_gpus)
            if machines is None:
                return None
            c = Candidate(shape, machines, c.rate, c.estimate, stale_price=c.stale_price)
        c.prediction = _simulate(kb, c, workload, targets, params)
        if c.meets(targets):
            return c
    return None


def _disaggregated(kb: KnowledgeBase, c: Candidate, workload: Workload, targets: Targets, params: PerfParams,
                   simulated: list[Candidate]) -> list[Candidate]:
    """The same machine split into a prefill pool and a decode pool, each split that meets the targets."""
    found: list[Candidate] = []
    # both pools sit in one machine, so the KV cache crosses the scale-up link the model times;
    # attention data parallelism is modelled for colocated serving only
    if c.replicas < 2 or c.shape.pp > 1 or len(c.machines.sizes) > 1 or c.shape.attention_dp > 1:
        return found
    group = c.shape.group
    for prefill_groups in range(1, c.replicas):
        dis = Disaggregation(prefill_gpus=prefill_groups * group, prefill_tp=c.shape.tp)
        trial = Candidate(c.shape, c.machines, c.rate, c.estimate, disaggregation=dis, stale_price=c.stale_price)
        try:
            trial.prediction = _simulate(kb, trial, workload, targets, params)
        except PredictError:
            continue
        simulated.append(trial)
        if trial.meets(targets):
            found.append(trial)
    return found


__all__ = ["DEFAULT_MAX_GPUS", "KV_DTYPES", "PERCENTILES", "Candidate", "Plan", "PlanError", "Rejection", "Shape",
           "Space", "Targets", "Workload", "plan", "weight_options"]
