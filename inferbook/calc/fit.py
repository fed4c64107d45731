"""The fit search: which GPU types and counts serve a model, format, context and
concurrency. Every candidate goes through `check_setup`, so a configuration
"fits" exactly when the feasibility check says it can run with the whole
concurrency in its KV cache, and its reason is that check's answer.

One rule lays out a GPU count (`parallel_layout`): tensor parallelism as wide as
the scale-up domain and the heads allow, pipeline stages for the rest; and one
rule picks the smallest tensor-parallel group a setup runs on (`smallest_group`).
Tables, notebooks, the CLI and the site's JS port all use them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..schema import Format, Gpu, LlmModel, ModelArchitecture
from .capacity import GIB, EngineConfig
from .feasibility import VLLM_V1, EngineProfile, Feasibility, Setup, check_setup, parallel_findings
from .kv import kv_bytes

FIT_COUNTS = (1, 2, 4, 8, 16, 32, 64)
"""GPU counts the fit search tries."""
DEFAULT_DOMAIN = 8
"""Scale-up domain assumed where a GPU entry records none (an 8-GPU server)."""


@dataclass(frozen=True, slots=True)
class FitOption:
    """One GPU configuration for a model, and whether it serves the requested load."""

    gpu: str
    """The GPU entry's id."""
    count: int
    """GPUs in the configuration (TP x PP)."""
    tp: int
    """Tensor-parallel size chosen by `parallel_layout`."""
    pp: int
    """Pipeline-parallel size chosen by `parallel_layout`."""
    fits: bool
    """True when the feasibility check passes with the whole concurrency in the KV cache at once."""
    weights_gib_per_gpu: float
    """Weights on the most loaded GPU, in GiB."""
    kv_needed_gib_per_gpu: float
    """KV cache (and recurrent state) the whole concurrency at the full context needs per GPU, in GiB."""
    kv_space_gib_per_gpu: float
    """Memory left for the KV cache on each GPU, in GiB (0 when nothing is left)."""
    max_concurrency: float
    """Sequences of the context that fit in the KV cache at once (may be fractional; 0 when the memory check fails)."""
    cost_per_hour: float | None
    """Price of all `count` GPUs per hour, in the currency of the given per-GPU-hour prices (USD from the CLI);
    None when no price was given for this GPU."""
    reason: str
    """"fits", or why not, in plain words with the numbers."""


def parallel_layout(arch: ModelArchitecture, gpu: Gpu, count: int) -> tuple[int, int] | None:
    """(TP, PP) for ``count`` GPUs: the widest TP that divides ``count``, fits the GPU's
    scale-up domain and splits the heads; PP takes the rest. None when no split works."""
    domain = gpu.interconnect.domain_gpus or DEFAULT_DOMAIN
    for tp in range(min(count, max(domain, 1)), 0, -1):
        if count % tp:
            continue
        pp = count // tp
        if not parallel_findings(arch, tp, pp, 1, count):
            return tp, pp
    return None


def fit_options(model: LlmModel, fmt: Format, gpus: Iterable[Gpu], context: int, concurrency: int,
                kv_bits: float = 16.0, counts: tuple[int, ...] = FIT_COUNTS,
                prices: Mapping[str, float] | None = None, cfg: EngineConfig | None = None,
                groups: Mapping[str, Format] | None = None, kv: Format | None = None) -> list[FitOption]:
    """Every (GPU type, count) laid out by `parallel_layout`, ranked: fitting options first,
    then by GPU count, then by hourly cost when ``prices`` (per GPU-hour) are given, then by
    headroom. ``groups`` gives tensor groups stored in other formats (a native mixed checkpoint);
    ``kv`` the KV-cache format entry, checked for support like the weights."""
    if context < 1 or concurrency < 1:
        raise ValueError("context and concurrency must be at least 1")
    arch = model.architecture
    engine = VLLM_V1 if cfg is None else EngineProfile(VLLM_V1.name, cfg)
    options = []
    for gpu in gpus:
        for count in counts:
            layout = parallel_layout(arch, gpu, count)
            if layout is None:
                continue
            tp, pp = layout
            result = check_setup(Setup(model, gpu, fmt, kv=kv, kv_bits=kv_bits, tp=tp, pp=pp, gpus=count,
                                       context=context, sequences=concurrency, mode="batch", engine=engine,
                                       groups=groups))
            cap = result.capacity
            assert cap is not None  # parallel_layout only returns splits whose memory can be worked out
            need = kv_bytes(arch, context, kv_bits, concurrency, tp=tp, pp=pp, state=True).bytes_per_gpu
            price = prices.get(gpu.id) if prices else None
            options.append(FitOption(
                gpu.id, count, tp, pp, result.feasible,
                cap.weights_bytes / GIB, need / GIB, max(cap.kv_space_bytes, 0) / GIB,
                result.max_sequences if result.max_sequences is not None else 0.0,
                price * count if price is not None else None,
                "fits" if result.feasible else result.summary()))
    options.sort(key=lambda o: (not o.fits, o.count, o.cost_per_hour if o.cost_per_hour is not None else math.inf,
                                -o.kv_space_gib_per_gpu, o.gpu))
    return options


def min_gpus(model: LlmModel, fmt: Format, gpu: Gpu, context: int, concurrency: int, kv_bits: float = 16.0,
             counts: tuple[int, ...] = FIT_COUNTS, cfg: EngineConfig | None = None,
             groups: Mapping[str, Format] | None = None, kv: Format | None = None) -> int | None:
    """Fewest GPUs of one type that serve the load (None if even the largest count fails)."""
    for option in fit_options(model, fmt, [gpu], context, concurrency, kv_bits, counts, cfg=cfg, groups=groups,
                              kv=kv):
        if option.fits:
            return option.count
    return None


def smallest_group(model: LlmModel, gpu: Gpu, fmt: Format, context: int, sequences: int = 1,
                   kv_bits: float = 16.0, groups: Mapping[str, Format] | None = None,
                   kv: Format | None = None) -> tuple[int | None, Feasibility]:
    """The fewest GPUs of one tensor-parallel group (inside the GPU's scale-up domain, no pipeline
    stages) on which ``sequences`` of ``context`` tokens can run, with that setup's feasibility;
    (None, the widest group's answer) when no such group exists."""
    domain = gpu.interconnect.domain_gpus or DEFAULT_DOMAIN
    answer: Feasibility | None = None
    for tp in (t for t in FIT_COUNTS if t <= max(domain, 1)):
        if parallel_findings(model.architecture, tp, 1, 1, tp):
            continue
        answer = check_setup(Setup(model, gpu, fmt, kv=kv, kv_bits=kv_bits, tp=tp, context=context,
                                   sequences=sequences, groups=groups))
        if answer.feasible:
            return tp, answer
    if answer is None:  # no TP size splits the heads: the single-GPU answer says why it cannot run
        answer = check_setup(Setup(model, gpu, fmt, kv=kv, kv_bits=kv_bits, context=context, sequences=sequences,
                                   groups=groups))
    return None, answer
