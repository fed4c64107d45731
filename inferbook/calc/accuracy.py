"""The calculators checked against published measurements.

`measurements.yaml` (next to this module) holds values quoted from engine logs,
benchmark tables and documentation, each with its URL. `compare()` recomputes
every one of them with the calculators and reports the error; the site's
accuracy table and the tests read the result. Memory quantities that are exact
(weights, KV bytes per token) are compared exactly; KV capacity aims for 5%,
latency and throughput for 25%."""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..kb import KnowledgeBase
from ..schema import Format, Gpu
from .capacity import GIB, EngineConfig, activation_peak_bytes, capacity
from .kv import kv_bytes_per_token
from .roofline import Efficiency, Roofline, step_model
from .simulator import Request, SimConfig, simulate
from .weights import native_groups, weight_bytes

MEASUREMENTS = Path(__file__).with_name("measurements.yaml")

TOLERANCE = {  # target relative error per kind
    "weights_memory_gib": 0.02, "kv_bytes_per_token": 0.005, "available_kv_memory_gib": 0.05,
    "kv_cache_tokens": 0.05, "max_concurrency": 0.05, "activation_peak_gib": 0.25,
    "non_torch_memory_gib": 0.5, "output_tokens_per_s": 0.25, "ttft_ms": 0.25, "decode_tpot_ms": 0.25,
}


@dataclass(frozen=True, slots=True)
class Measurement:
    """One published number and how it was obtained."""

    id: str
    kind: str
    model: str
    gpu: str | None
    gpu_count: int | None
    engine: str
    engine_version: str | None
    config: dict[str, Any]
    value: float
    unit: str
    quote: str
    url: str
    title: str
    notes: str


@dataclass(frozen=True, slots=True)
class Comparison:
    """A measurement next to the calculators' prediction."""

    measurement: Measurement
    predicted: float | None
    reason: str = ""
    """Why no prediction was made (when `predicted` is None)."""

    @property
    def calibration_point(self) -> bool:
        """True when this measurement was used to fit a calculator constant (not an independent check)."""
        m = self.measurement
        return m.kind == "non_torch_memory_gib" or (
            m.kind == "activation_peak_gib" and m.engine == "vllm" and m.engine_version is None)

    @property
    def error(self) -> float | None:
        if self.predicted is None or self.measurement.value == 0:
            return None
        return (self.predicted - self.measurement.value) / abs(self.measurement.value)

    @property
    def within_target(self) -> bool | None:
        err = self.error
        return None if err is None else abs(err) <= TOLERANCE.get(self.measurement.kind, 0.25)


def load_measurements(path: Path = MEASUREMENTS) -> list[Measurement]:
    """Read the measurement file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for item in data["measurements"]:
        out.append(Measurement(
            id=item["id"], kind=item["kind"], model=item["model"], gpu=item.get("gpu"),
            gpu_count=item.get("gpu_count"), engine=item["engine"], engine_version=item.get("engine_version"),
            config=dict(item.get("config") or {}), value=float(item["value"]), unit=item["unit"],
            quote=item["quote"], url=item["url"], title=item.get("title", ""), notes=item.get("notes", "")))
    return out


def _format_id(m: Measurement, kb: KnowledgeBase) -> str:
    model = kb.models[m.model]
    text = " ".join(str(m.config.get(k, "")) for k in ("precision", "quantization", "dtype")).lower()
    if "fp8" in text:
        return "fp8-e4m3"
    if "fp16" in text.split() or m.config.get("precision") == "fp16":
        return "fp16" if model.native_dtype != "bf16" else "bf16"
    return model.native_dtype


def engine_config(m: Measurement) -> EngineConfig:
    """The engine settings a measurement ran with (defaults where the page is silent).
    vLLM before V1 (0.7 and older) profiled a 256-sequence sampler run with float32
    logits only; TensorRT-LLM reserves a fraction of the free memory (0.95 in NVIDIA's
    performance runs) and has no sampler profiling run."""
    util = float(m.config.get("gpu_memory_utilization", 0.9))
    version = m.engine_version or ""
    total = m.config.get("total_gpu_memory_gib")
    total = float(total) if total is not None else None
    if m.engine == "tensorrt-llm":
        return EngineConfig(gpu_memory_utilization=float(m.config.get("kv_cache_free_gpu_mem_fraction", 0.95)),
                            sampler_bytes_per_logit=0.0, total_memory_gib=total)
    if m.engine == "vllm" and version.startswith("0.") and int(version.split(".")[1]) <= 7:
        return EngineConfig(gpu_memory_utilization=util, max_num_seqs=256, sampler_bytes_per_logit=4.0,
                            total_memory_gib=total)
    return EngineConfig(gpu_memory_utilization=util, total_memory_gib=total)


def _tp(m: Measurement) -> int:
    return int(m.config.get("tp", m.gpu_count or 1))


def _setup(m: Measurement, kb: KnowledgeBase) -> tuple[Gpu, Format, dict[str, Format], int]:
    """GPU, weight format, tensor groups stored in another format, and TP of a measurement
    whose model and GPU are in the knowledge base."""
    model = kb.models[m.model]
    fmt = kb.formats[_format_id(m, kb)]
    groups = native_groups(model, dict(kb.formats)) if fmt.id == model.native_dtype else {}
    return kb.gpus[m.gpu], fmt, groups, _tp(m)


def predict(m: Measurement, kb: KnowledgeBase, efficiency: Efficiency | None = None) -> Comparison:
    """The calculators' value for one measurement."""
    if m.model not in kb.models:
        return Comparison(m, None, f"model {m.model} not in the knowledge base")
    model = kb.models[m.model]
    arch = model.architecture
    if m.kind == "kv_bytes_per_token":
        return Comparison(m, kv_bytes_per_token(arch, 16) * 1000 / GIB)  # printed as GB per 1000 tokens
    if m.gpu is None or m.gpu not in kb.gpus:
        return Comparison(m, None, "no GPU named")
    gpu, fmt, groups, tp = _setup(m, kb)
    cfg = engine_config(m)
    if m.kind == "weights_memory_gib":
        return Comparison(m, weight_bytes(arch, fmt, tp=tp, groups=groups).per_gpu_bytes / GIB)
    if m.kind == "activation_peak_gib":
        return Comparison(m, activation_peak_bytes(arch, cfg, tp) / GIB)
    if m.kind == "non_torch_memory_gib":
        return Comparison(m, EngineConfig.non_torch_for_tp(tp))
    cap = capacity(arch, gpu, fmt, 16.0, tp=tp, cfg=cfg, groups=groups)
    if m.kind == "available_kv_memory_gib":
        return Comparison(m, cap.kv_space_bytes / GIB)
    if m.kind == "kv_cache_tokens":
        return Comparison(m, cap.kv_tokens)
    if m.kind == "max_concurrency":
        return Comparison(m, cap.kv_tokens / float(m.config["max_model_len"]))
    roof = Roofline(arch, gpu, fmt, 16.0, tp, efficiency or Efficiency(), groups or None)
    if m.kind in ("ttft_ms", "decode_tpot_ms") and int(m.config.get("concurrency", 1)) == 1:
        lat = roof.request_latency(int(m.config["input_len"]), int(m.config["output_len"]))
        return Comparison(m, (lat["ttft_s"] if m.kind == "ttft_ms" else lat["tpot_s"]) * 1e3)
    if m.kind == "output_tokens_per_s":
        return Comparison(m, _simulated_throughput(m, roof, cap.kv_tokens))
    return Comparison(m, None, f"no calculator for {m.kind} at this concurrency")


def _simulated_throughput(m: Measurement, roof: Roofline, kv_tokens: int) -> float | None:
    inp = int(m.config["input_len"])
    out = int(m.config.get("output_len") or m.config.get("output_len_avg_observed") or 0)
    if out < 1:
        return None
    concurrency = m.config.get("concurrency")
    n = int(m.config.get("num_requests") or (4 * int(concurrency) if concurrency else 2000))
    n = min(n, 3000)
    if concurrency:  # closed loop: a fixed number of users, modelled as a batch limit
        config = SimConfig(max_batch=int(concurrency), kv_capacity_tokens=max(kv_tokens, 1))
    else:  # offline: every request queued at once
        config = SimConfig(max_batch=2048, kv_capacity_tokens=max(kv_tokens, 1))
    result = simulate([Request(i, 0.0, inp, out) for i in range(n)], step_model(roof), config)
    if not result.records:
        return None
    return result.summary().output_token_throughput


def compare(kb: KnowledgeBase, measurements: list[Measurement] | None = None,
            efficiency: Efficiency | None = None) -> list[Comparison]:
    """Predictions for every measurement (unknown models or kinds are reported, not dropped)."""
    return [predict(m, kb, efficiency) for m in (measurements or load_measurements())]


_COMPARISONS: dict[str, list[Comparison]] = {}


def compare_cached(kb: KnowledgeBase) -> list[Comparison]:
    """`compare(kb)`, recomputed only when the models, GPUs, formats or the measurements
    change: one build of the tables and the site runs the simulations once, and a preview
    rebuild after editing prose skips them. The list is shared; do not modify it."""
    digest = hashlib.sha256(MEASUREMENTS.read_bytes())
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
    """Per kind: count, median and worst absolute error, share within target."""
    out: dict[str, dict[str, float]] = {}
    for kind in sorted({c.measurement.kind for c in comparisons}):
        errs = sorted(abs(c.error) for c in comparisons if c.measurement.kind == kind and c.error is not None)
        if not errs:
            continue
        within = sum(1 for c in comparisons if c.measurement.kind == kind and c.within_target)
        out[kind] = {"count": len(errs), "median_abs_error": errs[len(errs) // 2], "max_abs_error": errs[-1],
                     "within_target": within / len(errs), "target": TOLERANCE.get(kind, 0.25)}
    return out


def fit_sampler_bytes(kb: KnowledgeBase, measurements: list[Measurement] | None = None) -> float:
    """Least-squares (through the origin) bytes per sequence x vocabulary entry from the
    vLLM V1 activation-peak logs."""
    xs, ys = [], []
    for m in measurements or load_measurements():
        if m.kind == "activation_peak_gib" and m.engine == "vllm" and m.engine_version is None:
            xs.append(EngineConfig().max_num_seqs * kb.models[m.model].architecture.vocab_size)
            ys.append(m.value * GIB)
    return sum(x * y for x, y in zip(xs, ys, strict=True)) / sum(x * x for x in xs)


def fit_efficiency(kb: KnowledgeBase, measurements: list[Measurement] | None = None) -> tuple[Efficiency, float]:
    """Fit each roofline factor on its own regime: MBU on single-stream decode TPOT
    (memory-bound), MFU on single-stream TTFT of long prompts (compute-bound), each by
    a 0.01-step search minimising the mean absolute log error. Throughput measurements
    are left out of the fit so that they check the model independently. Returns the
    factors and the mean absolute log error over the fitted points."""
    rows = measurements or load_measurements()
    decode = [m for m in rows if m.kind == "decode_tpot_ms" and int(m.config.get("concurrency", 1)) == 1]
    prefill = [m for m in rows if m.kind == "ttft_ms" and int(m.config.get("concurrency", 1)) == 1
               and int(m.config.get("input_len", 0)) >= 2048]

    # Each point is predicted 82 times; do the part that does not depend on the factors once.
    predictors = {id(m): _single_stream_predictor(m, kb) for m in decode + prefill}

    def score(points: list[Measurement], eff: Efficiency) -> float:
        errs = []
        for m in points:
            predicted = predictors[id(m)](eff)
            if predicted:
                errs.append(abs(math.log(predicted / m.value)))
        return sum(errs) / len(errs) if errs else math.inf

    grid = [round(0.2 + 0.01 * i, 2) for i in range(81)]
    mbu = min(grid, key=lambda b: score(decode, Efficiency(0.5, b)))
    mfu = min(grid, key=lambda f: score(prefill, Efficiency(f, mbu)))
    fitted = Efficiency(mfu, mbu)
    return fitted, score(decode + prefill, fitted)


def _single_stream_predictor(m: Measurement, kb: KnowledgeBase) -> Callable[[Efficiency], float | None]:
    """For a single-stream TTFT or TPOT measurement: a function giving exactly
    ``predict(m, kb, eff).predicted`` for any efficiency ``eff``, fast.

    The FLOPs and bytes of every step of `Roofline.request_latency` do not depend on the
    efficiency factors, only the step times do. They are computed once here, and each call
    times the same steps with `Roofline._step` under the new factors: the same arithmetic
    in the same order, so the same floats. Should a step not come out identical when
    re-timed under the factors it was computed with (the roofline changed), every call
    falls back to `predict`."""
    base = predict(m, kb)  # the checks and errors of predict, once
    if base.predicted is None:
        return lambda eff: None
    gpu, fmt, groups, tp = _setup(m, kb)
    roof = Roofline(kb.models[m.model].architecture, gpu, fmt, 16.0, tp, Efficiency(), groups or None)
    prompt = int(m.config["input_len"])
    if m.kind == "ttft_ms":
        timed = [(roof.prefill(prompt, 1), prompt)]  # (step, tokens it processes), as request_latency runs them
    else:
        timed = [(roof.decode_step(1, prompt + i), 1) for i in range(1, int(m.config["output_len"]))]
    if any(roof._step(step.flops, step.bytes_read, tokens) != step for step, tokens in timed):
        return lambda eff: predict(m, kb, eff).predicted
    steps = [(step.flops, step.bytes_read, tokens) for step, tokens in timed]

    def predicted(eff: Efficiency) -> float:
        r = dataclasses.replace(roof, efficiency=eff)
        seconds = [r._step(*step).seconds for step in steps]
        if m.kind == "ttft_ms":
            return seconds[0] * 1e3
        return (sum(seconds) / len(seconds) if seconds else 0.0) * 1e3

    return predicted
