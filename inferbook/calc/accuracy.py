"""The calculators checked against published measurements.

The measurements are the files in `measurements/` (see `published`). Memory
quantities (weights, KV bytes per token, KV capacity, activation peaks) are
recomputed here with the capacity calculator under each engine's profile
(`engines`) and the settings the source states; exact quantities are compared
exactly, KV capacity aims for 5%. Speeds (throughput and latency) are not
recomputed: their predictions are the held-out ones in `calibration.json`,
made by the performance model refitted without the measurement's whole GPU
(`calibrate`), so every speed error shown is one the model was not fitted on."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal

from pydantic import Field

from ..kb import KnowledgeBase
from ..schema import Format, Gpu
from ..schema.base import NoteText, ShortText, Strict, Url
from .capacity import GIB, EngineConfig, activation_peak_bytes, capacity
from .kv import kv_bytes_per_token, kv_dtype_bits
from .published import FOLDER, MEMORY_METRICS, SPEED_METRICS, Published
from .published import load as load_published
from .roofline import Efficiency, Roofline
from .weights import native_groups, weight_bytes

TOLERANCE = {  # target relative error per metric
    "weights_memory_gib": 0.02, "kv_gib_per_1000_tokens": 0.005, "available_kv_memory_gib": 0.05,
    "kv_cache_tokens": 0.05, "max_concurrency": 0.05, "activation_peak_gib": 0.25,
    "non_torch_memory_gib": 0.5, "cuda_graph_memory_gib": 1.0,
}
SPEED_TOLERANCE = 0.10
"""The issue's target for held-out throughput and latency errors."""


@dataclass(frozen=True, slots=True)
class Comparison:
    """A measurement next to the calculators' prediction."""

    published: Published
    predicted: float | None
    reason: str = ""
    """Why no prediction was made (when `predicted` is None)."""
    held_out: str | None = None
    """For speeds: the group left out of the fit that made this prediction ("gpu h100-sxm")."""

    @property
    def measurement(self) -> Any:
        return self.published.m

    @property
    def calibration_point(self) -> bool:
        """True when this measurement fitted a capacity constant (not an independent check)."""
        m = self.published.m
        return m.metric == "non_torch_memory_gib" or (
            m.metric == "activation_peak_gib" and m.engine == "vllm" and m.engine_version is None)

    @property
    def error(self) -> float | None:
        if self.predicted is None or self.published.m.value == 0:
            return None
        return (self.predicted - self.published.m.value) / abs(self.published.m.value)

    @property
    def within_target(self) -> bool | None:
        err = self.error
        target = SPEED_TOLERANCE if self.published.m.metric in SPEED_METRICS else TOLERANCE.get(
            self.published.m.metric, 0.25)
        return None if err is None else abs(err) <= target


def engine_config(p: Published, gpu: Gpu | None = None, tp: int = 1) -> EngineConfig:
    """The engine settings a measurement ran with: the engine's profile, overridden by what
    the source states. vLLM before V1 (0.7 and older) profiled an 8,192-token forward pass
    and a 256-sequence sampler run with float32 logits only; a source's own memory fraction
    wins over the profile's."""
    from .engines import ENGINES, engine_defaults

    m = p.m
    engine = m.engine if m.engine in ENGINES else "vllm"
    cfg = engine_defaults(engine, gpu, tp).config()
    if engine == "vllm":  # the sources' vLLM runs predate the 0.92 default unless they say otherwise
        cfg = replace(cfg, gpu_memory_utilization=0.9)
    version = m.engine_version or ""
    fraction = p.setting("gpu_memory_utilization", "kv_cache_free_gpu_mem_fraction", "mem_fraction_static")
    if fraction is not None:
        cfg = replace(cfg, gpu_memory_utilization=fraction)
    total = p.setting("total_gpu_memory_gib")
    if total is not None:
        cfg = replace(cfg, total_memory_gib=total)
    seqs = p.setting("max_num_seqs")
    if seqs is not None:
        cfg = replace(cfg, max_num_seqs=int(seqs))
    if engine == "vllm" and version.startswith("0.") and version.split(".")[1].isdigit() \
            and int(version.split(".")[1]) <= 7:
        cfg = replace(cfg, max_num_seqs=256, max_num_batched_tokens=8192, sampler_bytes_per_logit=4.0)
    return cfg


def _format(p: Published, kb: KnowledgeBase) -> Format:
    return kb.formats[p.m.weights or kb.models[p.m.model].native_dtype]


def _kv_bits(p: Published, kb: KnowledgeBase) -> float:
    kv = p.m.kv_dtype
    if kv in (None, "auto"):
        return 16.0
    if kv == "fp8-ds-mla":
        return 8.0
    return kv_dtype_bits(kv.replace("q8-0", "int8").replace("q4-0", "int4"), dict(kb.formats))


def predict_memory(p: Published, kb: KnowledgeBase) -> Comparison:
    """The capacity calculator's value for one memory measurement."""
    m = p.m
    if m.model not in kb.models:
        return Comparison(p, None, f"model {m.model} not in the knowledge base")
    if (unmodelled := p.not_modelled()) is not None:
        return Comparison(p, None, unmodelled)
    model = kb.models[m.model]
    arch = model.architecture
    if m.metric == "kv_gib_per_1000_tokens":
        return Comparison(p, kv_bytes_per_token(arch, 16) * 1000 / GIB)
    if m.gpu is None or m.gpu not in kb.gpus:
        return Comparison(p, None, "no GPU named")
    gpu, fmt = kb.gpus[m.gpu], _format(p, kb)
    groups = native_groups(model, dict(kb.formats)) if fmt.id == model.native_dtype else {}
    tp = m.tp or m.gpus or 1
    cfg = engine_config(p, gpu, tp)
    if m.metric == "weights_memory_gib":
        return Comparison(p, weight_bytes(arch, fmt, tp=tp, groups=groups).per_gpu_bytes / GIB)
    if m.metric == "activation_peak_gib":
        return Comparison(p, activation_peak_bytes(arch, cfg, tp) / GIB)
    if m.metric == "non_torch_memory_gib":
        return Comparison(p, EngineConfig.non_torch_for_tp(tp))
    if m.metric == "cuda_graph_memory_gib":
        return Comparison(p, None, "CUDA-graph memory is not modelled (counted inside the activation estimate)")
    try:
        cap = capacity(arch, gpu, fmt, _kv_bits(p, kb), tp=tp, cfg=cfg, groups=groups)
    except ValueError as exc:
        return Comparison(p, None, str(exc))
    if m.metric == "available_kv_memory_gib":
        return Comparison(p, cap.kv_space_bytes / GIB)
    if m.metric == "kv_cache_tokens":
        return Comparison(p, cap.kv_tokens)
    if m.metric == "max_concurrency":
        length = p.setting("max_model_len")
        if not length:
            return Comparison(p, None, "max_model_len not stated")
        return Comparison(p, cap.kv_tokens / length)
    return Comparison(p, None, f"no calculator for {m.metric}")


def compare(kb: KnowledgeBase, published: Sequence[Published] | None = None) -> list[Comparison]:
    """Every measurement next to its prediction: memory recomputed, speeds held out (see the
    module docstring). Measurements without a prediction say why."""
    from .bands import calibration

    cal = calibration()
    cases = cal.get("cases", {})
    skipped = {s["id"]: s["reason"] for s in cal.get("skipped", [])}
    out = []
    for p in published if published is not None else load_published():
        m = p.m
        if m.metric in MEMORY_METRICS:
            out.append(predict_memory(p, kb))
            continue
        case = cases.get(m.id)
        held = (case or {}).get("held_out_error", {})
        if case is None or "gpu" not in held:
            out.append(Comparison(p, None, skipped.get(m.id, "not in the calibration run; rerun "
                                                           "python -m inferbook.calc.calibrate --write")))
            continue
        out.append(Comparison(p, m.value * (1 + held["gpu"]), held_out=f"gpu {case['groups']['gpu']}"))
    return out


_COMPARISONS: dict[str, list[Comparison]] = {}


def compare_cached(kb: KnowledgeBase) -> list[Comparison]:
    """`compare(kb)`, recomputed only when the models, GPUs, formats, measurements or the
    calibration change. The list is shared; do not modify it."""
    from .perf import CALIBRATION

    digest = hashlib.sha256(CALIBRATION.read_bytes())
    for path in sorted(FOLDER.glob("*.yaml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for kind in ("models", "gpus", "formats"):
        for eid, entry in sorted(kb.kind(kind).items()):
            digest.update(eid.encode())
            digest.update(entry.model_dump_json().encode())
    key = digest.hexdigest()
    if key not in _COMPARISONS:
        _COMPARISONS.clear()
        _COMPARISONS[key] = compare(kb)
    return _COMPARISONS[key]


def summary(comparisons: list[Comparison]) -> dict[str, dict[str, float]]:
    """Per metric: count, median and worst absolute error, share within target."""
    out: dict[str, dict[str, float]] = {}
    for metric in sorted({c.published.m.metric for c in comparisons}):
        rows = [c for c in comparisons if c.published.m.metric == metric and c.error is not None]
        errs = sorted(abs(c.error) for c in rows if c.error is not None)
        if not errs:
            continue
        within = sum(1 for c in rows if c.within_target)
        target = SPEED_TOLERANCE if metric in SPEED_METRICS else TOLERANCE.get(metric, 0.25)
        out[metric] = {"count": len(errs), "median_abs_error": errs[len(errs) // 2], "max_abs_error": errs[-1],
                       "within_target": within / len(errs), "target": target}
    return out


def fit_sampler_bytes(kb: KnowledgeBase, published: Sequence[Published] | None = None) -> float:
    """Least-squares (through the origin) bytes per sequence x vocabulary entry from the
    vLLM V1 activation-peak logs (the llm-d memory report)."""
    xs, ys = [], []
    for p in published if published is not None else load_published():
        m = p.m
        if m.metric == "activation_peak_gib" and m.engine == "vllm" and m.engine_version is None \
                and p.file.endswith(ROOFLINE_SAMPLER_SOURCE):
            xs.append(EngineConfig().max_num_seqs * kb.models[m.model].architecture.vocab_size)
            ys.append(m.value * GIB)
    return sum(x * y for x, y in zip(xs, ys, strict=True)) / sum(x * x for x in xs)


ROOFLINE_FIT_SOURCE = "nvidia-nim-1.0-llms.yaml"
"""The source the textbook roofline's MFU and MBU (`roofline.DEFAULT_MFU`, `DEFAULT_MBU`)
were fitted on: its single-stream TTFT and TPOT rows. The calibrated model (`perf`) is
fitted on every source instead; the roofline keeps two constants for teaching."""
ROOFLINE_SAMPLER_SOURCE = "llm-d-empirical-vllm-memory.yaml"
"""The vLLM V1 memory logs `SAMPLER_BYTES_PER_LOGIT` was fitted on."""


def roofline_points(published: Sequence[Published] | None = None) -> tuple[list[Published], list[Published]]:
    """The single-stream TPOT and long-prompt TTFT rows of `ROOFLINE_FIT_SOURCE`."""
    rows = [p for p in (published if published is not None else load_published())
            if p.file.endswith(ROOFLINE_FIT_SOURCE) and p.m.concurrency == 1]
    decode = [p for p in rows if p.m.metric == "tpot_ms"]
    prefill = [p for p in rows if p.m.metric == "ttft_ms" and (p.m.isl or 0) >= 2048]
    return decode, prefill


def fit_efficiency(kb: KnowledgeBase, published: Sequence[Published] | None = None) -> tuple[Efficiency, float]:
    """Fit the textbook roofline's factors on their own regimes: MBU on single-stream decode
    TPOT (memory-bound), MFU on single-stream TTFT of long prompts (compute-bound), each by
    a 0.01-step search minimising the mean absolute log error. Returns the factors and the
    mean absolute log error over the fitted points."""
    decode, prefill = roofline_points(published)
    predictors = {id(p): _single_stream_predictor(p, kb) for p in decode + prefill}

    def score(points: list[Published], eff: Efficiency) -> float:
        errs = []
        for p in points:
            predicted = predictors[id(p)](eff)
            if predicted:
                errs.append(abs(math.log(predicted / p.m.value)))
        return sum(errs) / len(errs) if errs else math.inf

    grid = [round(0.2 + 0.01 * i, 2) for i in range(81)]
    mbu = min(grid, key=lambda b: score(decode, Efficiency(0.5, b)))
    mfu = min(grid, key=lambda f: score(prefill, Efficiency(f, mbu)))
    fitted = Efficiency(mfu, mbu)
    return fitted, score(decode + prefill, fitted)


def _single_stream_predictor(p: Published, kb: KnowledgeBase) -> Callable[[Efficiency], float | None]:
    """For a single-stream TTFT or TPOT row: the textbook roofline's value under any
    efficiency. The FLOPs and bytes of every step do not depend on the factors, so they are
    computed once and only re-timed (`Roofline.step_time`)."""
    m = p.m
    if m.model not in kb.models or m.gpu is None or m.gpu not in kb.gpus or m.isl is None or m.osl is None:
        return lambda eff: None
    model = kb.models[m.model]
    fmt = _format(p, kb)
    groups = native_groups(model, dict(kb.formats)) if fmt.id == model.native_dtype else {}
    roof = Roofline(model.architecture, kb.gpus[m.gpu], fmt, 16.0, m.tp or 1, Efficiency(), groups or None)
    if m.metric == "ttft_ms":
        timed = [(roof.prefill(m.isl, 1), m.isl)]
    else:
        timed = [(roof.decode_step(1, m.isl + i), 1) for i in range(1, m.osl)]
    steps = [(step.flops, step.bytes_read, tokens) for step, tokens in timed]

    def predicted(eff: Efficiency) -> float:
        r = replace(roof, efficiency=eff)
        seconds = [r.step_time(*step).seconds for step in steps]
        if m.metric == "ttft_ms":
            return seconds[0] * 1e3
        return (sum(seconds) / len(seconds) if seconds else 0.0) * 1e3

    return predicted


PEERS = FOLDER.parent / "peer_accuracy.yaml"


class PeerFigure(Strict):
    """An accuracy figure another predictor publishes about itself, quoted from its source."""

    name: ShortText
    url: Url
    metric: ShortText
    value_percent: Annotated[float, Field(ge=0, le=1000)]
    bound: Literal["point", "upper", "range"] = "point"
    scope: ShortText | None = None
    measured_on: NoteText | None = None
    quote: ShortText
    source_read: Url | None = None
    value_printed: ShortText | None = None
    notes: NoteText | None = None


class PeerFile(Strict):
    """The peers' figures and the tools that publish none."""

    peers: tuple[PeerFigure, ...]
    not_found: tuple[dict[str, ShortText], ...] = ()


def peer_figures() -> PeerFile:
    """The validated peer figures (`peer_accuracy.yaml`), shown beside the held-out errors."""
    from ..yamlio import parse_bytes, read_bytes

    return PeerFile.model_validate(parse_bytes(read_bytes(PEERS, follow_symlinks=False)).data)
