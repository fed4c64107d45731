"""Parity of the site's JavaScript calculator (generators/site/static/js/calc.js)
with `inferbook.calc`.

Test vectors are built from the knowledge base and evaluated with the Python
calculators; `node tests/js_parity/run.mjs` evaluates the same vectors with the
JS module, and every number must agree within a relative tolerance of 1e-9
(strings, booleans, nulls, list lengths and error messages exactly). Simulator
workloads come from Python's seeded `workload()` and are passed to JS as request
lists, since the JS generator draws from its own PRNG.

The feasibility check runs on every case of tests/feasibility_cases.py and on generated
setups: the JS answer (`feasibilityJson(checkSetup(...))` plus each finding's rule and
severity) must equal Python's `Feasibility.to_json()` key for key, messages byte for byte."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from feasibility_cases import CASES, resolve, setup

import inferbook
from inferbook.calc import count_params, kv_bytes, kv_bytes_per_token, kv_dtype_bits, weight_bytes
from inferbook.calc.capacity import (
    EngineConfig,
    activation_peak_bytes,
    capacity,
    forward_peak_bytes,
    max_concurrency,
)
from inferbook.calc.feasibility import (
    VLLM_V1,
    EngineProfile,
    Feasibility,
    Setup,
    check_setup,
    format_status,
    interconnect_findings,
    parallel_findings,
)
from inferbook.calc.fit import FIT_COUNTS, fit_options, min_gpus, parallel_layout
from inferbook.calc.kv import state_bytes_per_sequence
from inferbook.calc.metrics import RequestRecord, Slo, percentile, summarize
from inferbook.calc.params import mtp_params
from inferbook.calc.roofline import (
    Efficiency,
    Roofline,
    StepModel,
    compute_tflops,
    cost_per_million_tokens,
    prefix_cache_savings,
    ridge_point,
    speculative_speedup,
    step_model,
)
from inferbook.calc.simulator import Lengths, Request, SimConfig, simulate, workload
from inferbook.calc.vision import image_tokens
from inferbook.calc.weights import native_groups, native_weight_bytes

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "tests" / "js_parity" / "run.mjs"
REL_TOL = 1e-9

# Minimum number of vectors per JS function (the generator makes at least this many).
MINIMUM = {
    "countParams": 50, "kvDtypeBits": 20, "kvBytesPerToken": 100, "kvBytes": 1000, "weightBytes": 1000,
    "computeTflops": 500, "ridgePoint": 100, "prefill": 300, "decodeStep": 1000, "decodeThroughput": 50,
    "computeBoundBatch": 50, "requestLatency": 10, "expertsTouchedFraction": 20, "stepModel": 100,
    "stepSeconds": 100, "speculativeSpeedup": 20, "prefixCacheSavings": 20, "costPerMillionTokens": 5,
    "activationPeakBytes": 100, "forwardPeakBytes": 100, "nativeWeightBytes": 200, "capacity": 500,
    "maxConcurrency": 50, "fitOptions": 10, "minGpus": 5, "percentile": 20, "summarize": 30, "simulate": 15,
    "stateBytesPerSequence": 50, "checkSetup": 400, "parallelFindings": 300, "interconnectFindings": 150,
    "formatStatus": 1000, "parallelLayout": 1000, "describeEngine": 3, "pyFormat": 100,
    "mtpParams": 50, "imageTokens": 20,
}
FUNCTIONS = sorted(MINIMUM)

# What the vectors draw from the knowledge base (the first few ids that exist are used).
GROUPS = ({"experts": "mxfp4", "attention": "bf16", "embeddings": "bf16"}, {"dense_ffn": "fp8-e4m3"},
          {"embeddings": "gguf-q8-0", "attention": "awq-int4", "experts": "nvfp4", "dense_ffn": "fp32"})
"""Per-tensor-group formats the vectors try (ids that are missing from the KB are dropped)."""
DECODE_GPUS = ("h100-sxm", "a100-sxm-80gb", "b200", "l4", "mi300x", "rtx-3090", "tpu-v5e")
DECODE_FORMATS = ("bf16", "fp8-e4m3", "nvfp4", "awq-int4", "int8")
WEIGHT_FORMATS = ("bf16", "fp32", "fp8-e4m3", "nvfp4", "awq-int4", "gguf-q4-k-m", "gguf-q8-0")
CAPACITY_GPUS = ("h100-sxm", "l4", "b200", "rtx-4090", "mi300x")
FIT_MODELS = ("llama-3.1-8b-instruct", "llama-3.1-70b-instruct", "deepseek-v3", "gemma-3-27b-it",
              "qwen3-30b-a3b-thinking-2507", "gpt-oss-120b", "llama-4-scout-17b-16e-instruct",
              "qwen3-next-80b-a3b-thinking")


# conversion of Python results to the JS shapes ------------------------------------------------
def camel(name: str) -> str:
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)


PROPERTIES = {"ParamCount": ("total", "active", "linear"), "WeightBreakdown": ("total_bytes",),
              "StepTime": ("bound",), "Capacity": ("fits",)}


def plain(value: Any) -> Any:
    """A Python result as JSON data with camelCase keys and non-finite floats as strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {camel(f.name): plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for prop in PROPERTIES.get(type(value).__name__, ()):
            out[camel(prop)] = plain(getattr(value, prop))
        return out
    if isinstance(value, dict):
        return {camel(str(k)): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def sim_output(result: Any, slo: Slo | None) -> dict[str, Any]:
    records = [{"arrival": r.arrival, "firstToken": r.first_token, "finish": r.finish,
                "inputTokens": r.input_tokens, "outputTokens": r.output_tokens} for r in result.records]
    return {"records": records, "stepDurations": list(result.step_durations),
            "stepDecodeTokens": list(result.step_decode_tokens), "preemptions": result.preemptions,
            "rejected": list(result.rejected), "summary": plain(result.summary(slo)) if result.records else None}


# vector generation -----------------------------------------------------------------------------
class Vectors:
    """Collects vectors {id, fn, args} and the Python result of each."""

    def __init__(self, kb: Any):
        self.kb = kb
        self.items: list[dict[str, Any]] = []
        self.expected: list[dict[str, Any]] = []

    def add(self, fn: str, args: dict[str, Any], compute: Callable[[], Any], raw: bool = False) -> Any:
        """Record a vector; ``raw`` keeps the result's keys as they are (JSON the Python code already
        shapes, such as `Feasibility.to_json()`) instead of converting them to camelCase."""
        try:
            value = compute()
            self.expected.append({"result": value if raw else plain(value)})
        except ValueError as exc:
            value = None
            self.expected.append({"error": str(exc)})
        self.items.append({"id": len(self.items), "fn": fn, "args": args})
        return value

    def arch(self, model_id: str) -> Any:
        return self.kb.models[model_id].architecture

    def groups(self, groups: dict[str, str] | None) -> dict[str, Any] | None:
        return {k: self.kb.formats[f] for k, f in groups.items()} if groups else None

    def roof(self, spec: dict[str, Any]) -> Roofline:
        return Roofline(self.arch(spec["model"]), self.kb.gpus[spec["gpu"]], self.kb.formats[spec["format"]],
                        spec.get("kv_bits", 16.0), spec.get("tp", 1), Efficiency(**spec.get("efficiency", {})),
                        self.groups(spec.get("groups")))


def existing(ids: tuple[str, ...], entries: Any) -> list[str]:
    found = [i for i in ids if i in entries]
    assert found, f"none of {ids} is in the knowledge base"
    return found


def build_vectors(kb: Any) -> Vectors:
    v = Vectors(kb)
    models = sorted(kb.models)
    gpus = sorted(kb.gpus)
    formats = sorted(kb.formats)
    decode_gpus = existing(DECODE_GPUS, kb.gpus)
    decode_formats = existing(DECODE_FORMATS, kb.formats)
    weight_formats = existing(WEIGHT_FORMATS, kb.formats)
    capacity_gpus = existing(CAPACITY_GPUS, kb.gpus)
    fit_models = existing(FIT_MODELS, kb.models)
    group_sets = [{k: f for k, f in g.items() if f in kb.formats} for g in GROUPS]
    tps = (1, 2, 4, 8)

    # parameters, KV cache, weights: every model
    for m in models:
        a = v.arch(m)
        v.add("countParams", {"model": m}, lambda a=a: count_params(a))
        for bits in (16.0, 8.0, 4.0):
            v.add("kvBytesPerToken", {"model": m, "bits": bits}, lambda a=a, b=bits: kv_bytes_per_token(a, b))
        for bits in (16.0, 8.0):
            for tokens in (0, 1, 777, 8192, 131072):
                for tp in (1, 2, 8):
                    for pp in (1, 3):
                        batch = 1 if tokens % 2 else 4
                        args = {"model": m, "tokens": tokens, "bits": bits, "batch": batch, "tp": tp, "pp": pp}
                        v.add("kvBytes", args, lambda a=a, t=tokens, b=bits, n=batch, tp=tp, pp=pp:
                              kv_bytes(a, t, b, n, tp, pp))
        for tokens in (0, 777, 8192):  # with the fixed state of linear-attention layers
            for tp, pp in ((1, 1), (2, 1), (8, 3)):
                args = {"model": m, "tokens": tokens, "bits": 8.0, "batch": 3, "tp": tp, "pp": pp, "state": True,
                        "state_bits": 16.0 if tp < 8 else 32.0}
                v.add("kvBytes", args, lambda a=a, t=tokens, tp=tp, pp=pp, sb=args["state_bits"]:
                      kv_bytes(a, t, 8.0, 3, tp, pp, state=True, state_bits=sb))
        for sb, tp in ((16.0, 1), (32.0, 4)):
            v.add("stateBytesPerSequence", {"model": m, "state_bits": sb, "tp": tp},
                  lambda a=a, sb=sb, tp=tp: state_bytes_per_sequence(a, sb, tp))
        for bad in ({"tokens": -1, "tp": 1, "pp": 1}, {"tokens": 8, "tp": 0, "pp": 1},
                    {"tokens": 8, "tp": 1, "pp": a.layers + 1}):
            args = {"model": m, "bits": 16.0, "batch": 1, **bad}
            v.add("kvBytes", args, lambda a=a, b=bad: kv_bytes(a, b["tokens"], 16.0, 1, b["tp"], b["pp"]))
        for f in weight_formats:
            fmt = kb.formats[f]
            for tp, pp in ((1, 1), (2, 1), (4, 2), (1, 4), (8, 3)):
                args = {"model": m, "format": f, "tp": tp, "pp": pp, "embedding_bits": None}
                v.add("weightBytes", args, lambda a=a, fmt=fmt, tp=tp, pp=pp: weight_bytes(a, fmt, tp, pp))
        for f, emb in ((weight_formats[0], 8.0), (weight_formats[-1], 16.0)):
            args = {"model": m, "format": f, "tp": 2, "pp": 2, "embedding_bits": emb}
            v.add("weightBytes", args, lambda a=a, fmt=kb.formats[f], e=emb: weight_bytes(a, fmt, 2, 2, e))
        for k, groups in enumerate(group_sets):
            f = weight_formats[(k + 2) % len(weight_formats)]
            tp, pp = ((1, 1), (2, 2), (4, 1))[k]
            args = {"model": m, "format": f, "tp": tp, "pp": pp, "embedding_bits": None, "groups": groups}
            v.add("weightBytes", args, lambda a=a, f=f, tp=tp, pp=pp, g=groups:
                  weight_bytes(a, kb.formats[f], tp, pp, groups=v.groups(g)))
        for tp, pp in ((1, 1), (2, 1), (8, 2), (1, 4)):
            v.add("nativeWeightBytes", {"model": m, "tp": tp, "pp": pp},
                  lambda llm=kb.models[m], tp=tp, pp=pp: native_weight_bytes(llm, kb.formats, tp, pp))
        # with the multi-token-prediction modules loaded (MTP speculative decoding)
        v.add("mtpParams", {"model": m}, lambda a=a: dataclasses.asdict(mtp_params(a)) | {"total": mtp_params(a).total})
        for tp, pp in ((1, 1), (2, 3)):
            v.add("nativeWeightBytes", {"model": m, "tp": tp, "pp": pp, "mtp": True},
                  lambda llm=kb.models[m], tp=tp, pp=pp: native_weight_bytes(llm, kb.formats, tp, pp, mtp=True))
        for k, groups in enumerate(group_sets[:2]):
            f = weight_formats[(k + 1) % len(weight_formats)]
            args = {"model": m, "format": f, "tp": 2, "pp": 1 + k, "embedding_bits": None, "groups": groups,
                    "mtp": True}
            v.add("weightBytes", args, lambda a=a, f=f, pp=1 + k, g=groups:
                  weight_bytes(a, kb.formats[f], 2, pp, groups=v.groups(g), mtp=True))
        if a.vision is not None:  # image tokens, with and without the processor's pixel bounds
            for width, height, low, high in ((1024, 768, None, None), (1, 1, None, None), (48, 80, None, None),
                                             (3000, 2000, None, 1_000_000), (100, 50, 200_000, None),
                                             (1920, 1080, 65_536, 16_777_216), (0, 10, None, None)):
                v.add("imageTokens", {"model": m, "width": width, "height": height, "min_pixels": low,
                                      "max_pixels": high},
                      lambda a=a, w=width, h=height, lo=low, hi=high: image_tokens(a.vision, w, h, lo, hi))
        v.add("weightBytes", {"model": m, "format": weight_formats[0], "tp": 1, "pp": a.layers + 1,
                              "embedding_bits": None},
              lambda a=a: weight_bytes(a, kb.formats[weight_formats[0]], 1, a.layers + 1))
        for k, cfg in enumerate((EngineConfig(), EngineConfig(max_num_batched_tokens=2048, max_num_seqs=64,
                                                               activation_scale=1.3))):
            tp = tps[k * 2]
            v.add("activationPeakBytes", {"model": m, "cfg": dataclasses.asdict(cfg), "tp": tp},
                  lambda a=a, c=cfg, tp=tp: activation_peak_bytes(a, c, tp))
            v.add("forwardPeakBytes", {"model": m, "cfg": dataclasses.asdict(cfg), "tp": tp},
                  lambda a=a, c=cfg, tp=tp: forward_peak_bytes(a, c, tp))

    for dtype in ("fp8", "bfloat16", "float16", "auto", "bf16", "fp16", "fp32", "fp8-e4m3", "fp8-e5m2", "int8",
                  "int4", "nvfp4", "mxfp4", "awq-int4", "bogus"):
        for with_formats in (False, True):
            v.add("kvDtypeBits", {"dtype": dtype, "with_formats": with_formats},
                  lambda d=dtype, w=with_formats: kv_dtype_bits(d, kb.formats if w else None))

    # compute peaks: every GPU x every format (errors for chips without 16-bit figures)
    for g in gpus:
        for f in formats:
            v.add("computeTflops", {"gpu": g, "format": f}, lambda g=g, f=f: compute_tflops(kb.gpus[g], kb.formats[f]))
        for f in decode_formats:
            v.add("ridgePoint", {"gpu": g, "format": f}, lambda g=g, f=f: ridge_point(kb.gpus[g], kb.formats[f]))

    # roofline: model x GPU x format x batch, rotating TP, KV bits and efficiency
    effs = ({}, {"mfu": 0.35, "mbu": 0.8}, {"mfu": 1.0, "mbu": 1.0})
    k = 0
    for index, m in enumerate(models):
        for g in decode_gpus:
            for f in decode_formats:
                k += 1
                spec = {"model": m, "gpu": g, "format": f, "kv_bits": (16.0, 8.0, 4.0)[k % 3],
                        "tp": tps[k % 4], "efficiency": effs[k % 3]}
                for batch, context in ((1, 1000 + k), (64, 4096 + 37 * k)):
                    v.add("decodeStep", {"roofline": spec, "batch": batch, "context": context},
                          lambda s=spec, b=batch, c=context: v.roof(s).decode_step(b, c))
                if f in decode_formats[:2] and g in decode_gpus[:3]:
                    for prompt, batch, cached in ((512 + k, 1, 0), (3000, 2, 1000 + k), (65, 8, 64)):
                        v.add("prefill", {"roofline": spec, "prompt": prompt, "batch": batch, "cached": cached},
                              lambda s=spec, p=prompt, b=batch, c=cached: v.roof(s).prefill(p, b, c))
        base = {"model": m, "gpu": decode_gpus[0], "format": decode_formats[0]}
        tp_spec = {**base, "tp": 2, "kv_bits": 8.0, "efficiency": {"mfu": 0.4, "mbu": 0.6}}
        for spec in (base, tp_spec):
            v.add("stepModel", {"roofline": spec}, lambda s=spec: step_model(v.roof(s)))
            call = [37, 5, 12345.5, 678.0, 9000, 1200, 6]
            v.add("stepSeconds", {"step_model": {"roofline": spec}, "call": call},
                  lambda s=spec, c=call: step_model(v.roof(s)).seconds(*c))
            v.add("computeBoundBatch", {"roofline": spec, "context": 2048},
                  lambda s=spec: v.roof(s).compute_bound_batch(2048))
        grouped = {**base, "format": "nvfp4" if "nvfp4" in kb.formats else "bf16", "groups": group_sets[0], "tp": 2}
        for batch, context in ((1, 500), (48, 6000)):
            v.add("decodeStep", {"roofline": grouped, "batch": batch, "context": context},
                  lambda s=grouped, b=batch, c=context: v.roof(s).decode_step(b, c))
        v.add("prefill", {"roofline": grouped, "prompt": 2000, "batch": 2, "cached": 0},
              lambda s=grouped: v.roof(s).prefill(2000, 2))
        v.add("stepModel", {"roofline": grouped}, lambda s=grouped: step_model(v.roof(s)))
        v.add("decodeThroughput", {"roofline": tp_spec, "batch": 16, "context": 3000},
              lambda s=tp_spec: v.roof(s).decode_throughput(16, 3000))
        v.add("expertsTouchedFraction", {"roofline": base, "tokens": 7},
              lambda s=base: v.roof(s).experts_touched_fraction(7))
        if index % 3 == 0:
            v.add("requestLatency", {"roofline": tp_spec, "prompt": 900, "output": 40, "batch": 8},
                  lambda s=tp_spec: v.roof(s).request_latency(900, 40, 8))
        v.add("prefixCacheSavings", {"roofline": base, "prompt": 4000, "cached": 3000},
              lambda s=base: prefix_cache_savings(4000, 3000, v.roof(s)))
    # DeepSeek Sparse Attention past index_topk: the indexer scans every key, attention reads the top k
    for m in [m for m in ("deepseek-v3.2", "glm-5") if m in kb.models]:
        for kv_bits, tp in ((16.0, 1), (8.0, 8)):
            dsa = {"model": m, "gpu": decode_gpus[0], "format": "fp8-e4m3", "kv_bits": kv_bits, "tp": tp}
            for batch, context in ((1, 1500), (1, 2048), (8, 32768), (64, 131072)):
                v.add("decodeStep", {"roofline": dsa, "batch": batch, "context": context},
                      lambda s=dsa, b=batch, c=context: v.roof(s).decode_step(b, c))
            v.add("prefill", {"roofline": dsa, "prompt": 20000, "batch": 1, "cached": 4000},
                  lambda s=dsa: v.roof(s).prefill(20000, 1, 4000))
            v.add("stepModel", {"roofline": dsa}, lambda s=dsa: step_model(v.roof(s)))
            call = [8, 8, 8 * 60001.0, 8 * 2049.0, 8 * 60000, 8 * 2048, 8]
            v.add("stepSeconds", {"step_model": {"roofline": dsa}, "call": call},
                  lambda s=dsa, c=call: step_model(v.roof(s)).seconds(*c))
    first = {"model": models[0], "gpu": decode_gpus[0], "format": decode_formats[0]}
    for bad in ({**first, "tp": 0}, {**first, "efficiency": {"mfu": 0.0}}, {**first, "efficiency": {"mbu": 1.5}}):
        v.add("decodeStep", {"roofline": bad, "batch": 1, "context": 10}, lambda s=bad: v.roof(s).decode_step(1, 10))
    for batch, context in ((0, 10), (1, -1)):
        v.add("decodeStep", {"roofline": first, "batch": batch, "context": context},
              lambda b=batch, c=context: v.roof(first).decode_step(b, c))
    for prompt, batch, cached in ((0, 1, 0), (10, 0, 0), (10, 1, 10), (10, 1, -1)):
        v.add("prefill", {"roofline": first, "prompt": prompt, "batch": batch, "cached": cached},
              lambda p=prompt, b=batch, c=cached: v.roof(first).prefill(p, b, c))
    for output in (1, 2, 25):
        v.add("requestLatency", {"roofline": first, "prompt": 100, "output": output, "batch": 1},
              lambda o=output: v.roof(first).request_latency(100, o, 1))
    for prompt, cached in ((100, 500), (2, 1)):
        v.add("prefixCacheSavings", {"roofline": first, "prompt": prompt, "cached": cached},
              lambda p=prompt, c=cached: prefix_cache_savings(p, c, v.roof(first)))
    coeffs = StepModel(1e9, 2e8, 3e4, 5e3, 1e5, 2e4, 5e9, 2e9, 2, 16, 4e14, 2e12, 1e-7, 2e-4, 512, state_bytes=3e6)
    for call in ([1, 1, 1.0, 1.0, 0, 0], [4096, 3, 8.5e6, 2e6, 40000, 1500, 9], [0, 0, 0.0, 0.0, 0, 0]):
        v.add("stepSeconds", {"step_model": {"coefficients": plain(coeffs)}, "call": call},
              lambda c=call: coeffs.seconds(*c))

    for a in (0.0, 0.3, 0.6, 0.8, 0.95, 1.0):
        for draft, ratio in ((1, 0.0), (4, 0.05), (7, 0.2)):
            v.add("speculativeSpeedup", {"acceptance": a, "draft_tokens": draft, "draft_cost_ratio": ratio},
                  lambda a=a, d=draft, r=ratio: speculative_speedup(a, d, r))
    for a, draft, ratio in ((1.2, 4, 0.1), (0.5, 0, 0.1), (0.5, 4, -1.0)):
        v.add("speculativeSpeedup", {"acceptance": a, "draft_tokens": draft, "draft_cost_ratio": ratio},
              lambda a=a, d=draft, r=ratio: speculative_speedup(a, d, r))
    for price, tps_ in ((2.5, 1000.0), (0.0, 50.0), (12.0, 1e-3), (3.7, 12345.6), (-1.0, 10.0), (1.0, 0.0)):
        v.add("costPerMillionTokens", {"price": price, "tokens_per_second": tps_},
              lambda p=price, t=tps_: cost_per_million_tokens(p, t))

    # capacity: every model on a few GPUs, formats, TP (errors where TP does not divide the heads)
    cfgs = (EngineConfig(), EngineConfig(fraction_of="free", sampler_bytes_per_logit=0.0),
            EngineConfig(gpu_memory_utilization=0.95, block_size=32, cuda_graph_gib=1.5,
                         non_torch_gib=0.5, usable_fraction=1.0))
    k = 0
    for m in models:
        a = v.arch(m)
        for g in capacity_gpus:
            for f in decode_formats[:3]:
                k += 1
                for tp in (1, 2, 8):
                    cfg = cfgs[k % 3]
                    pp = 2 if (k + tp) % 5 == 0 else 1
                    kvb = (16.0, 8.0)[(k + tp) % 2]
                    args = {"model": m, "gpu": g, "format": f, "kv_bits": kvb, "tp": tp, "pp": pp,
                            "cfg": dataclasses.asdict(cfg)}
                    v.add("capacity", args, lambda a=a, g=g, f=f, kvb=kvb, tp=tp, pp=pp, cfg=cfg:
                          capacity(a, kb.gpus[g], kb.formats[f], kvb, tp, pp, cfg))
        g = capacity_gpus[0]
        driver = EngineConfig(total_memory_gib=75.5, non_torch_gib=0.13)
        for groups, cfg in ((group_sets[0], EngineConfig()), (group_sets[2], driver), (None, driver)):
            args = {"model": m, "gpu": g, "format": "fp8-e4m3", "kv_bits": 8.0, "tp": 2, "pp": 1,
                    "cfg": dataclasses.asdict(cfg), "groups": groups}
            v.add("capacity", args, lambda a=a, g=g, gr=groups, cfg=cfg:
                  capacity(a, kb.gpus[g], kb.formats["fp8-e4m3"], 8.0, 2, 1, cfg, v.groups(gr)))
        if a.moe is not None:  # attention data parallelism: groups of one GPU, of two with PP, of TP 4 free fraction
            for tp, pp, dp, cfg in ((8, 1, 8, EngineConfig()), (4, 2, 2, driver),
                                    (8, 1, 2, EngineConfig(fraction_of="free", gpu_memory_utilization=0.85))):
                args = {"model": m, "gpu": g, "format": "fp8-e4m3", "kv_bits": 8.0, "tp": tp, "pp": pp,
                        "cfg": dataclasses.asdict(cfg), "groups": group_sets[0], "attention_dp": dp}
                v.add("capacity", args, lambda a=a, g=g, tp=tp, pp=pp, dp=dp, cfg=cfg:
                      capacity(a, kb.gpus[g], kb.formats["fp8-e4m3"], 8.0, tp, pp, cfg, v.groups(group_sets[0]),
                               attention_dp=dp))
        if a.mtp_layers:
            args = {"model": m, "gpu": g, "format": "fp8-e4m3", "kv_bits": 8.0, "tp": 8, "pp": 2,
                    "cfg": dataclasses.asdict(EngineConfig()), "mtp": True}
            v.add("capacity", args, lambda a=a, g=g: capacity(a, kb.gpus[g], kb.formats["fp8-e4m3"], 8.0, 8, 2,
                                                              EngineConfig(), mtp=True))
        for context in (0, 8192):
            args = {"model": m, "gpu": g, "format": "bf16", "kv_bits": 16.0, "tp": 1, "pp": 1, "cfg": None,
                    "context": context}
            v.add("maxConcurrency", args, lambda a=a, g=g, c=context:
                  max_concurrency(a, capacity(a, kb.gpus[g], kb.formats["bf16"]), c))
    v.add("capacity", {"model": models[0], "gpu": capacity_gpus[0], "format": "bf16", "kv_bits": 16.0, "tp": 1,
                       "pp": 1, "cfg": {**dataclasses.asdict(EngineConfig()), "gpu_memory_utilization": 0.0}},
          lambda: capacity(v.arch(models[0]), kb.gpus[capacity_gpus[0]], kb.formats["bf16"],
                           cfg=EngineConfig(gpu_memory_utilization=0.0)))

    # fit search over every GPU
    prices = {"h100-sxm": 2.5, "a100-sxm-80gb": 1.6, "l4": 0.8, "b200": 5.0, "h200-sxm": 3.2, "mi300x": 2.2,
              "rtx-4090": 0.0}
    fit_cfg = EngineConfig(gpu_memory_utilization=0.92)
    counts = list(FIT_COUNTS)
    for k, m in enumerate(fit_models):
        llm = kb.models[m]
        for context, conc, p, f, kvb, kv in ((8192, 16, None, "bf16", 16.0, None),
                                             (32768, 64, prices, "fp8-e4m3", 8.0, "fp8-e4m3"),
                                             (1_000_000, 4, prices, "bf16", 16.0, "bf16"),
                                             (4096, 8, None, "awq-int4", 4.0, "int4")):
            f = f if f in kb.formats else "bf16"
            kv = kv if kv is not None and kv in kb.formats else None
            cfg = fit_cfg if k % 2 else EngineConfig()
            args = {"model": m, "format": f, "gpus": gpus, "context": context, "concurrency": conc,
                    "kv_bits": kvb, "counts": counts, "prices": p, "cfg": dataclasses.asdict(cfg), "kv": kv}
            v.add("fitOptions", args, lambda llm=llm, f=f, c=context, n=conc, kvb=kvb, p=p, cfg=cfg, kv=kv:
                  fit_options(llm, kb.formats[f], [kb.gpus[g] for g in gpus], c, n, kvb, FIT_COUNTS, p, cfg,
                              kv=kb.formats[kv] if kv else None))
        for g in capacity_gpus[:2]:
            args = {"model": m, "format": "bf16", "gpu": g, "context": 16384, "concurrency": 32, "kv_bits": 16.0,
                    "counts": [1, 2, 4, 8, 16], "cfg": None}
            v.add("minGpus", args, lambda llm=llm, g=g: min_gpus(llm, kb.formats["bf16"], kb.gpus[g], 16384, 32,
                                                                 16.0, (1, 2, 4, 8, 16)))
            args = {"model": m, "format": "fp8-e4m3", "gpu": g, "context": 131072, "concurrency": 64,
                    "kv_bits": 8.0, "counts": counts, "cfg": None, "kv": "fp8-e4m3"}
            v.add("minGpus", args, lambda llm=llm, g=g: min_gpus(llm, kb.formats["fp8-e4m3"], kb.gpus[g], 131072,
                                                                 64, 8.0, kv=kb.formats["fp8-e4m3"]))
    # counts out of order, and one the heads cannot be split into (no layout: left out)
    odd = "qwen3-14b" if "qwen3-14b" in kb.models else fit_models[0]
    v.add("fitOptions", {"model": odd, "format": "bf16", "gpus": capacity_gpus, "context": 8192,
                         "concurrency": 4, "kv_bits": 16.0, "counts": [16, 3, 1, 6, 40], "prices": None,
                         "cfg": None},
          lambda: fit_options(kb.models[odd], kb.formats["bf16"], [kb.gpus[g] for g in capacity_gpus],
                              8192, 4, counts=(16, 3, 1, 6, 40)))
    v.add("fitOptions", {"model": fit_models[0], "format": "bf16", "gpus": gpus[:2], "context": 0,
                         "concurrency": 1, "kv_bits": 16.0, "counts": [1], "prices": {}, "cfg": None},
          lambda: fit_options(kb.models[fit_models[0]], kb.formats["bf16"], [kb.gpus[g] for g in gpus[:2]], 0, 1))
    # a mixed checkpoint (gpt-oss keeps attention and embeddings in BF16) through fit and min-GPU search
    mixed = next((m for m in sorted(kb.models) if kb.models[m].native_groups is not None), None)
    if mixed is not None:
        model = kb.models[mixed]
        groups = native_groups(model, dict(kb.formats))
        group_ids = {k: f.id for k, f in groups.items()}
        v.add("fitOptions", {"model": mixed, "format": model.native_dtype, "gpus": gpus, "context": 8192,
                             "concurrency": 16, "kv_bits": 16.0, "counts": counts, "prices": None,
                             "cfg": None, "groups": group_ids},
              lambda: fit_options(model, kb.formats[model.native_dtype], [kb.gpus[g] for g in gpus], 8192, 16,
                                  groups=groups))
        for g in capacity_gpus[:2]:
            v.add("minGpus", {"model": mixed, "format": model.native_dtype, "gpu": g, "context": 8192,
                              "concurrency": 16, "kv_bits": 16.0, "counts": counts, "cfg": None,
                              "groups": group_ids},
                  lambda g=g: min_gpus(model, kb.formats[model.native_dtype], kb.gpus[g], 8192, 16, groups=groups))
    # an exact .x5 GiB need exercises Python's round-half-even formatting of the reason
    v.add("fitOptions", {"model": "llama-3.1-8b-instruct", "format": "bf16", "gpus": ["l4"], "context": 10240,
                         "concurrency": 5, "kv_bits": 16.0, "counts": [1], "prices": None, "cfg": None},
          lambda: fit_options(kb.models["llama-3.1-8b-instruct"], kb.formats["bf16"], [kb.gpus["l4"]], 10240, 5,
                              counts=(1,)))

    add_feasibility(v)
    add_metrics(v)
    add_simulations(v, decode_gpus, decode_formats)
    return v


# feasibility ------------------------------------------------------------------------------------
FEASIBILITY_GPUS = ("h100-sxm", "rtx-4090", "a100-pcie-80gb", "b200", "t4", "apple-m3-ultra", "mi300x", "l4",
                    "h200-sxm", "gb200", "tpu-v5e")
FEASIBILITY_FORMATS = ("native", "bf16", "fp8-e4m3", "awq-int4", "nvfp4", "gguf-q4-k-m", "int4", "mxfp4", "fp16",
                       "fp32")
KV_FORMATS = (None, "bf16", "fp8-e4m3", "int4", "int8", "fp8-e5m2", "gguf-q8-0", "fp16")
SPLITS = ((1, 1, 1, None), (2, 1, 1, None), (4, 1, 1, 8), (8, 1, 1, None), (3, 1, 1, None), (16, 1, 1, 16),
          (2, 2, 1, None), (1, 4, 1, None), (8, 2, 1, 16), (1, 1, 2, 2), (4, 1, 4, 8), (2, 1, 8, 8), (6, 1, 1, 6))
"""(TP, PP, EP, GPUs) splits the generated setups rotate through."""
DOMAINS = (None, 1, 2, 8, 72)


def feasibility_json(result: Feasibility) -> dict[str, Any]:
    """`Feasibility.to_json()` plus each finding's rule and severity, in order."""
    return {**result.to_json(), "checks": [[f.check, f.severity] for f in result.findings]}


def add_feasibility(v: Vectors) -> None:
    """check_setup on every shared case (tests/feasibility_cases.py) and on generated setups, and
    its parts: parallel and interconnect findings, format status, the fit search's layout rule."""
    kb = v.kb
    gpu_ids = existing(FEASIBILITY_GPUS, kb.gpus)
    weight_ids = [f for f in FEASIBILITY_FORMATS if f == "native" or f in kb.formats]
    kv_ids = [f for f in KV_FORMATS if f is None or f in kb.formats]

    def gpu_with(gid: str, domain: int | None) -> Any:
        gpu = kb.gpus[gid]
        if domain is None:
            return gpu
        return gpu.model_copy(update={"interconnect": gpu.interconnect.model_copy(update={"domain_gpus": domain})})

    def engine_of(cfg: dict[str, Any] | None) -> EngineProfile:
        return VLLM_V1 if cfg is None else EngineProfile(VLLM_V1.name, EngineConfig(**cfg))

    def add_setup(args: dict[str, Any], make: Callable[[], Setup] | None = None) -> None:
        def build() -> Setup:
            kv = kb.formats[args["kv"]] if args["kv"] else None
            return Setup(kb.models[args["model"]], gpu_with(args["gpu"], args["domain"]), kb.formats[args["weights"]],
                         kv=kv, kv_bits=args["kv_bits"], tp=args["tp"], pp=args["pp"], ep=args["ep"],
                         gpus=args["gpus"], context=args["context"], sequences=args["sequences"],
                         mode=args["mode"], engine=engine_of(args["cfg"]), groups=v.groups(args["groups"]),
                         mtp=args.get("mtp", False), attention_dp=args.get("attention_dp", 1))

        v.add("checkSetup", args, lambda: feasibility_json(check_setup((make or build)())), raw=True)

    def args_for(model_id: str, gpu: str, weights: str, **over: Any) -> dict[str, Any]:
        model = kb.models[model_id]
        groups = None
        if weights == "native":
            weights = model.native_dtype
            groups = {k: f.id for k, f in native_groups(model, dict(kb.formats)).items()} or None
        args = {"model": model_id, "gpu": gpu, "domain": None, "weights": weights, "kv": None, "kv_bits": 16.0,
                "tp": 1, "pp": 1, "ep": 1, "gpus": None, "context": 8192, "sequences": 1, "mode": "batch",
                "cfg": None, "groups": groups}
        args.update(over)
        if args["kv"]:
            args["kv_bits"] = float(kb.formats[args["kv"]].bits_per_value)
        return args

    # every shared case, exactly as tests/test_feasibility.py builds it
    for case in CASES:
        c = resolve(kb, case)
        args = args_for(c.model, c.gpu, c.weights or "native", domain=c.domain, kv=c.kv, tp=c.tp, pp=c.pp, ep=c.ep,
                        gpus=c.gpus, context=c.context, sequences=c.sequences, mode=c.mode, case=c.name,
                        attention_dp=c.attention_dp)
        add_setup(args, lambda c=c: setup(kb, c))

    # generated setups: every model, rotating GPU, formats, split, domain, context, load and engine
    cfgs = (None, {"gpu_memory_utilization": 0.5}, {"gpu_memory_utilization": 0.95, "block_size": 32,
                                                    "max_num_seqs": 256, "max_num_batched_tokens": 2048})
    k = 0
    for m in sorted(kb.models):
        arch = kb.models[m].architecture
        for context in (1, 4096, arch.context_length, arch.context_length + 1, 1_000_000):
            k += 1
            tp, pp, ep, gpus = SPLITS[k % len(SPLITS)]
            args = args_for(m, gpu_ids[k % len(gpu_ids)], weight_ids[k % len(weight_ids)],
                            kv=kv_ids[k % len(kv_ids)], tp=tp, pp=pp, ep=ep, gpus=gpus,
                            domain=DOMAINS[k % len(DOMAINS)], context=context, sequences=(1, 7, 64, 2000)[k % 4],
                            mode=("batch", "concurrency")[(k // 4) % 2], cfg=cfgs[k % 3])
            add_setup(args)
        if arch.mtp_layers:  # the MTP modules loaded too (MTP speculative decoding)
            add_setup(args_for(m, "h200-sxm" if "h200-sxm" in kb.gpus else gpu_ids[0], "native", tp=8, gpus=8,
                               sequences=64, mode="concurrency", mtp=True))
    # bad numbers: each must be a finding, not an exception
    base = existing(("llama-3.1-8b-instruct",), kb.models)[0]
    for over in ({"tp": 0}, {"pp": -1}, {"ep": 0}, {"gpus": 0}, {"context": 0}, {"sequences": 0},
                 {"context": -5, "sequences": 0}, {"tp": 2, "gpus": 3}):
        add_setup(args_for(base, gpu_ids[0], "bf16", **over))
    # less than one KV block left: the message in MiB (the utilization found by bisection)
    model, gpu, fmt = kb.models[base], kb.gpus["rtx-4090"], kb.formats["bf16"]
    low, high = 0.5, 1.0
    for _ in range(60):
        mid = (low + high) / 2
        result = check_setup(Setup(model, gpu, fmt, context=16, engine=EngineProfile("t", EngineConfig(mid))))
        low, high = (mid, high) if not result.feasible else (low, mid)
    for util in (low, high):
        add_setup(args_for(base, "rtx-4090", "bf16", context=16, cfg={"gpu_memory_utilization": util}))

    # Python's number formatting in the messages: ties round to even, thousands separators, signs
    numbers = (0.0, -0.0, 0.25, 0.35, 0.05, 1.45, 2.5, 3.5, -2.5, 9.95, 131.4, 0.0625, 0.9, 0.875, 1234567.125,
               -0.04, 123456789.75, 999.95, 1e22, 2**53 + 2.0, 7.0)
    for x in numbers:
        for digits in (0, 1, 2, 3):
            v.add("pyFormat", {"x": x, "digits": digits, "style": "comma"}, lambda x=x, d=digits: f"{x:,.{d}f}")
            v.add("pyFormat", {"x": x, "digits": digits, "style": "fixed"}, lambda x=x, d=digits: f"{x:.{d}f}")
        v.add("pyFormat", {"x": x, "digits": 0, "style": "percent"}, lambda x=x: f"{x:.0%}")

    for cfg in (None, {"gpu_memory_utilization": 0.875, "max_num_seqs": 12345, "max_num_batched_tokens": 1_000_000},
                {"gpu_memory_utilization": 0.005, "block_size": 1}):
        v.add("describeEngine", {"cfg": cfg}, lambda cfg=cfg: engine_of(cfg).describe())

    for m in sorted(kb.models):
        arch = kb.models[m].architecture
        for tp, pp, ep, gpus in (*SPLITS, (5, 1, 1, 5), (1, arch.layers + 1, 1, None)):
            gpus = tp * pp if gpus is None else gpus
            v.add("parallelFindings", {"model": m, "tp": tp, "pp": pp, "ep": ep, "gpus": gpus},
                  lambda a=arch, tp=tp, pp=pp, ep=ep, g=gpus: parallel_findings(a, tp, pp, ep, g))
        for gid in gpu_ids[:3]:
            for count in (*FIT_COUNTS, 3, 6, 12):
                v.add("parallelLayout", {"model": m, "gpu": gid, "domain": None, "count": count},
                      lambda a=arch, g=kb.gpus[gid], n=count: parallel_layout(a, g, n))
        for domain in (1, 2):
            v.add("parallelLayout", {"model": m, "gpu": gpu_ids[0], "domain": domain, "count": 8},
                  lambda a=arch, d=domain: parallel_layout(a, gpu_with(gpu_ids[0], d), 8))
    for gid in sorted(kb.gpus):
        for tp, pp, domain in ((1, 1, None), (2, 1, None), (16, 1, 8), (16, 2, 8), (4, 1, 1), (3, 1, 2), (8, 1, 72)):
            v.add("interconnectFindings", {"gpu": gid, "domain": domain, "tp": tp, "pp": pp},
                  lambda g=gid, tp=tp, pp=pp, d=domain: interconnect_findings(gpu_with(g, d), tp, pp))
        for fid in sorted(kb.formats):
            v.add("formatStatus", {"gpu": gid, "format": fid},
                  lambda g=kb.gpus[gid], f=kb.formats[fid]: format_status(f, g))


def add_metrics(v: Vectors) -> None:
    series = ([3.0], [1.0, 2.0, 3.0, 4.0], [0.5, 0.1, 0.9, 0.3, 0.7, 0.2, 1e-3, 12.5], [float(i) for i in range(101)],
              [0.1 * i for i in range(37, 0, -1)])
    for values in series:
        for q in (0, 25, 50, 90, 99, 99.9, 100):
            v.add("percentile", {"values": values, "q": q}, lambda x=values, q=q: percentile(x, q))
    v.add("percentile", {"values": [], "q": 50}, lambda: percentile([], 50))
    v.add("percentile", {"values": [1.0], "q": 101}, lambda: percentile([1.0], 101))

    def rec(arrival: float, first: float, finish: float, inp: int, out: int,
            times: tuple[float, ...] = ()) -> dict[str, Any]:
        return {"arrival": arrival, "first_token": first, "finish": finish, "input_tokens": inp,
                "output_tokens": out, "token_times": list(times)}

    plain_records = [rec(0.0, 0.21, 1.7, 512, 30), rec(0.05, 0.4, 0.4, 100, 1), rec(0.3, 0.9, 5.25, 2048, 200),
                     rec(1.1, 1.15, 1.9, 10, 2), rec(1.2, 2.0, 3.3, 700, 64), rec(2.0, 2.5, 2.6, 50, 11)]
    timed_records = [rec(0.0, 0.2, 1.0, 10, 4, (0.2, 0.5, 0.6, 1.0)), rec(0.1, 0.35, 0.35, 20, 1, (0.35,)),
                     rec(0.4, 0.7, 1.9, 30, 3, (0.7, 1.3, 1.9))]
    slos = (None, {"ttft": 0.5}, {"tpot": 0.02, "e2el": 3.0}, {"ttft": 0.3, "tpot": 0.5, "e2el": 1.0})
    for records in (plain_records, timed_records):
        for slo in slos:
            for average in ("request", "token"):
                for includes in (False, True):
                    args = {"records": records, "slo": slo, "average": average, "tpot_includes_first_token": includes}
                    v.add("summarize", args, lambda r=records, s=slo, a=average, i=includes: summarize(
                        [RequestRecord(**x) for x in r], Slo(**s) if s is not None else None, a, i))
    bad_cases = ([], [rec(1.0, 1.0, 1.0, 1, 1)], [rec(1.0, 0.5, 2.0, 1, 1)], [rec(0.0, 0.1, 2.0, 1, 0)],
                 [rec(0.0, 0.1, 2.0, 1, 2, (0.1,))])
    for records in bad_cases:
        args = {"records": records, "slo": None, "average": "request", "tpot_includes_first_token": False}
        v.add("summarize", args, lambda r=records: summarize([RequestRecord(**x) for x in r]))
    args = {"records": plain_records, "slo": None, "average": "median", "tpot_includes_first_token": False}
    v.add("summarize", args, lambda: summarize([RequestRecord(**x) for x in plain_records], average="median"))


def add_simulations(v: Vectors, decode_gpus: list[str], decode_formats: list[str]) -> None:
    kb = v.kb
    unit = StepModel(0.01, 0, 0, 0, 0, 0, 1.0, 0, 0, 0, 1.0, 1.0, 0, 0, None)  # 1 s per step + 0.01 s per token

    def add(reqs: list[Request], step: dict[str, Any], config: dict[str, Any], slo: Slo | None = None,
            check: Callable[[Any], bool] | None = None) -> None:
        def run() -> dict[str, Any]:
            model = step_model(v.roof(step["roofline"])) if "roofline" in step else unit
            result = simulate(reqs, model, SimConfig(**config))
            if check is not None:
                assert check(result), f"simulator case {config} does not exercise what it is meant to"
            return sim_output(result, slo)

        args = {"requests": [dataclasses.asdict(r) for r in reqs], "step_model": step, "config": config,
                "slo": dataclasses.asdict(slo) if slo else None}
        v.add("simulate", args, run)

    def roof(model: str, gpu: str = decode_gpus[0], fmt: str = "bf16", tp: int = 1) -> dict[str, Any]:
        return {"roofline": {"model": model, "gpu": gpu, "format": fmt, "kv_bits": 16.0, "tp": tp}}

    chat = workload(150, 25.0, Lengths("lognormal", mean=512, high=4096), Lengths("lognormal", mean=128, high=1024),
                    seed=1)
    dense = roof("llama-3.1-8b-instruct")
    slo = Slo(ttft=0.2, tpot=0.03)
    add(chat, dense, {}, slo)
    add(chat, dense, {"chunked_prefill": False, "max_batched_tokens": 2048})
    add(chat, dense, {"policy": "static", "max_batch": 16}, slo)
    add(chat, dense, {"policy": "dynamic", "max_batch": 16, "batch_window_s": 0.05})
    add(chat, dense, {"policy": "dynamic", "max_batch": 4, "batch_window_s": 0.0})
    # sliding-window and chunked-attention models (window aggregates), chunked prefill over several steps
    for model in ("gemma-3-4b-it", "gpt-oss-20b", "llama-4-scout-17b-16e-instruct"):
        if model in kb.models:
            add(chat, roof(model), {"max_batched_tokens": 512})
            add(chat[:60], roof(model), {"policy": "static", "max_batch": 8})
    # KV pressure: preemptions, recomputation and rejected requests
    long = workload(120, 40.0, Lengths("uniform", low=200, high=1500), Lengths("uniform", low=50, high=900), seed=7)
    add(long, dense, {"kv_capacity_tokens": 2200, "max_batch": 64},
        check=lambda r: r.preemptions > 0 and bool(r.rejected))
    add(long, roof("gemma-2-9b-it"), {"kv_capacity_tokens": 5000, "max_batch": 32, "max_batched_tokens": 1024},
        check=lambda r: r.preemptions > 0)
    add(long, dense, {"kv_capacity_tokens": 8000, "chunked_prefill": False, "max_batched_tokens": 1024},
        check=lambda r: r.preemptions > 0)
    # TensorRT-LLM's admission: whole requests reserved, so the same pressure preempts nothing
    add(long, dense, {"kv_capacity_tokens": 8000, "max_batch": 64, "reserve_full_length": True},
        check=lambda r: r.preemptions == 0 and len(r.records) == len(long))
    # attention-DP ranks in lockstep: decodes shared out, every prompt chunk whole
    add(chat, dense, {"lockstep_ranks": 4, "max_batch": 64, "max_batched_tokens": 4096})
    # a disaggregated decode server: prompts arrive prefilled, their caches held, under KV pressure too
    prefilled = [dataclasses.replace(r, prefilled=True) for r in long]
    add(prefilled, dense, {})
    add(prefilled, dense, {"kv_capacity_tokens": 6000, "max_batch": 64}, check=lambda r: r.preemptions > 0)
    add(long, dense, {"policy": "static", "max_batch": 8, "kv_capacity_tokens": 2200},
        check=lambda r: bool(r.rejected))
    add(long, dense, {"policy": "dynamic", "max_batch": 8, "kv_capacity_tokens": 4000, "batch_window_s": 0.1})
    # every request larger than the cache (a model that leaves no room): all rejected, no crash
    for policy in ("continuous", "static", "dynamic"):
        add(long[:10], dense, {"policy": policy, "kv_capacity_tokens": 16},
            check=lambda r: len(r.rejected) == 10)
    # MoE with tensor parallelism, MLA, bursty arrivals
    bursty = workload(100, 10.0, Lengths("lognormal", mean=1024, high=8192), Lengths("fixed", mean=64),
                      arrivals="bursty", burstiness=6.0, seed=3)
    moe = roof("mixtral-8x7b-instruct", decode_gpus[1], "bf16", tp=2)
    add(bursty, moe, {"max_batch": 32})
    add(bursty, moe, {"policy": "dynamic", "max_batch": 32, "batch_window_s": 0.2})
    add(bursty, roof("deepseek-v2-lite", decode_gpus[0], decode_formats[1]), {}, Slo(e2el=10.0))
    # a linear-attention hybrid: every step also moves each sequence's recurrent state
    if "qwen3-next-80b-a3b-thinking" in kb.models:
        hybrid = roof("qwen3-next-80b-a3b-thinking", decode_gpus[0], decode_formats[1], tp=2)
        add(chat[:80], hybrid, {"max_batched_tokens": 1024})
        add(chat[:40], hybrid, {"policy": "static", "max_batch": 8})
    # the unit step model with hand-made requests: ties, one-token outputs, fixed arrivals, bad settings
    unit_spec = {"coefficients": plain(unit)}
    hand = [Request(0, 0.0, 10, 5), Request(1, 0.0, 3, 1), Request(2, 0.5, 7, 3), Request(4, 0.5, 2, 1),
            Request(3, 2.25, 30, 12), Request(5, 9.0, 5, 2)]
    for config in ({}, {"policy": "static", "max_batch": 2}, {"policy": "dynamic", "max_batch": 3},
                   {"max_batched_tokens": 8, "kv_capacity_tokens": 40}, {"policy": "bogus"}, {"max_batch": 0},
                   {"batch_window_s": -1.0}):
        add(hand, unit_spec, config)
    fixed = workload(40, 5.0, Lengths("fixed", mean=300), Lengths("uniform", low=1, high=40), arrivals="fixed",
                     seed=11)
    add(fixed, unit_spec, {"max_batch": 4})


# the test -----------------------------------------------------------------------------------------
def compare(expected: Any, actual: Any, path: str, problems: list[str]) -> None:
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or set(expected) != set(actual):
            got = sorted(actual) if isinstance(actual, dict) else repr(actual)
            problems.append(f"{path}: keys {sorted(expected)} != {got}")
            return
        for key in expected:
            compare(expected[key], actual[key], f"{path}.{key}", problems)
    elif isinstance(expected, list):
        if not isinstance(actual, list) or len(expected) != len(actual):
            problems.append(f"{path}: list of {len(expected)} != {actual!r:.200}")
            return
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            compare(e, a, f"{path}[{i}]", problems)
    elif isinstance(expected, bool) or expected is None or isinstance(expected, str):
        if type(expected) is not type(actual) or expected != actual:
            problems.append(f"{path}: Python {expected!r} != JS {actual!r}")
    elif isinstance(expected, (int, float)):
        if (isinstance(actual, bool) or not isinstance(actual, (int, float))
                or not math.isclose(expected, actual, rel_tol=REL_TOL, abs_tol=0.0)):
            problems.append(f"{path}: Python {expected!r} != JS {actual!r}")
    else:  # pragma: no cover - plain() only produces JSON types
        problems.append(f"{path}: unexpected Python value {expected!r}")


@pytest.fixture(scope="module")
def parity(tmp_path_factory: pytest.TempPathFactory) -> tuple[Vectors, dict[int, dict[str, Any]]]:
    node = shutil.which("node")
    assert node, "Node.js (`node` on PATH) is required to check the JS calculator; install Node 20 or later"
    kb = inferbook.load()
    vectors = build_vectors(kb)
    data = {
        "models": {i: m.model_dump(mode="json") for i, m in kb.models.items()},
        "gpus": {i: g.model_dump(mode="json") for i, g in kb.gpus.items()},
        "formats": {i: f.model_dump(mode="json") for i, f in kb.formats.items()},
        "vectors": vectors.items,
    }
    path = tmp_path_factory.mktemp("js_parity") / "vectors.json"
    path.write_text(json.dumps(data, allow_nan=False), encoding="utf-8")
    proc = subprocess.run([node, str(RUNNER), str(path)], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          check=False)
    assert proc.returncode == 0, f"node failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
    results = {item["id"]: item for item in json.loads(proc.stdout)}
    return vectors, results


def test_vector_counts(parity: tuple[Vectors, dict[int, dict[str, Any]]]) -> None:
    vectors, results = parity
    counts = Counter(item["fn"] for item in vectors.items)
    assert len(vectors.items) >= 250
    short = {fn: (counts[fn], least) for fn, least in MINIMUM.items() if counts[fn] < least}
    assert not short, f"too few vectors (have, want): {short}"
    assert set(counts) == set(MINIMUM)
    assert sorted(results) == list(range(len(vectors.items)))


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_js_matches_python(parity: tuple[Vectors, dict[int, dict[str, Any]]], fn: str) -> None:
    vectors, results = parity
    problems: list[str] = []
    for item, expected in zip(vectors.items, vectors.expected, strict=True):
        if item["fn"] != fn:
            continue
        actual = {k: v for k, v in results[item["id"]].items() if k != "id"}
        before = len(problems)
        compare(expected, actual, f"#{item['id']} {fn}", problems)
        if len(problems) > before:
            problems.append(f"  args: {json.dumps(item['args'])[:300]}")
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems[:40])


def test_every_feasibility_case_is_answered_alike(parity: tuple[Vectors, dict[int, dict[str, Any]]]) -> None:
    """Each case of tests/feasibility_cases.py is a checkSetup vector, and the JS port answers it as
    tests/test_feasibility.py requires of Python: feasible or not, exactly the failing rules, the
    warnings asked for, and the phrase in a reason or warning."""
    vectors, results = parity
    by_name = {item["args"]["case"]: results[item["id"]] for item in vectors.items
               if item["fn"] == "checkSetup" and "case" in item["args"]}
    assert set(by_name) == {c.name for c in CASES}
    for case in CASES:
        got = by_name[case.name]["result"]
        assert got["feasible"] is case.feasible, (case.name, got["reasons"])
        assert sorted({c for c, sev in got["checks"] if sev == "fail"}) == sorted(case.failing), case.name
        assert set(case.warning) <= {c for c, sev in got["checks"] if sev == "warn"}, case.name
        if case.phrase:
            assert any(case.phrase in t for t in got["reasons"] + got["warnings"]), case.name
        memory = got["memory_gib_per_gpu"]
        assert memory is None or all(x >= 0 for x in memory.values()), case.name


def test_js_workload_generator(tmp_path: Path) -> None:
    """The browser's workload generator has its own PRNG, so it cannot match Python's draws;
    it must be deterministic per seed and follow the same distributions."""
    node = shutil.which("node")
    assert node, "Node.js (`node` on PATH) is required to check the JS calculator; install Node 20 or later"
    n, rate = 20000, 8.0
    lognormal = {"kind": "lognormal", "mean": 512, "high": 8192}
    uniform = {"kind": "uniform", "low": 10, "high": 100}
    cases = [(arrivals, seed) for arrivals in ("poisson", "bursty", "fixed") for seed in (42, 42, 43)]
    vectors = [{"id": i, "fn": "workload", "args": {"n": n, "rate": rate, "inputs": lognormal, "outputs": uniform,
                                                   "arrivals": arrivals, "burstiness": 6.0, "seed": seed}}
               for i, (arrivals, seed) in enumerate(cases)]
    path = tmp_path / "workload.json"
    path.write_text(json.dumps({"models": {}, "gpus": {}, "formats": {}, "vectors": vectors}), encoding="utf-8")
    proc = subprocess.run([node, str(RUNNER), str(path)], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    runs = [item["result"] for item in json.loads(proc.stdout)]
    for k, (arrivals, _) in enumerate(cases[::3]):
        first, same, other = runs[3 * k: 3 * k + 3]
        assert first == same and first != other, "a seed must give one workload, another seed another"
        assert [r["id"] for r in first] == list(range(n))
        times = [r["arrival"] for r in first]
        gaps = [b - a for a, b in zip([0.0, *times], times, strict=False)]
        mean = sum(gaps) / n
        cv2 = sum((g - mean) ** 2 for g in gaps) / n / mean**2
        assert mean == pytest.approx(1 / rate, rel=0.05)
        assert cv2 == pytest.approx({"poisson": 1.0, "bursty": 6.0, "fixed": 0.0}[arrivals], abs=0.8)
        inputs = [r["input_tokens"] for r in first]
        outputs = [r["output_tokens"] for r in first]
        assert 1 <= min(inputs) and max(inputs) <= 8192 and sum(inputs) / n == pytest.approx(512, rel=0.05)
        assert 10 <= min(outputs) and max(outputs) <= 100 and sum(outputs) / n == pytest.approx(55, rel=0.05)
        assert all(isinstance(x, int) for x in inputs + outputs)


# the committed golden sample (tests/js_parity/golden.py) ----------------------------------------
def test_golden_vectors_are_fresh(parity: tuple[Vectors, dict[int, dict[str, Any]]]) -> None:
    from js_parity.golden import GOLDEN, REFRESH, golden_data, golden_text

    vectors, _ = parity
    text = golden_text(golden_data(vectors.items, vectors.expected))
    assert GOLDEN.read_text(encoding="utf-8") == text, f"tests/js_parity/golden.json is stale: run {REFRESH}"


def _golden_problems(runner: Path, tmp_path: Path) -> list[str]:
    """Run the committed golden vectors through the JS modules ``runner`` imports; the mismatches."""
    from js_parity.golden import GOLDEN

    node = shutil.which("node")
    assert node, "Node.js (`node` on PATH) is required to check the JS calculator; install Node 20 or later"
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))["vectors"]
    assert {v["fn"] for v in golden} == set(FUNCTIONS)
    kb = inferbook.load()
    data = {"models": {i: m.model_dump(mode="json") for i, m in kb.models.items()},
            "gpus": {i: g.model_dump(mode="json") for i, g in kb.gpus.items()},
            "formats": {i: f.model_dump(mode="json") for i, f in kb.formats.items()},
            "vectors": [{"id": i, "fn": v["fn"], "args": v["args"]} for i, v in enumerate(golden)]}
    path = tmp_path / "golden-vectors.json"
    path.write_text(json.dumps(data, allow_nan=False), encoding="utf-8")
    proc = subprocess.run([node, str(runner), str(path)], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    results = {item["id"]: item for item in json.loads(proc.stdout)}
    problems: list[str] = []
    for i, vector in enumerate(golden):
        expected = {k: v for k, v in vector.items() if k in ("result", "error")}
        compare(expected, {k: v for k, v in results[i].items() if k != "id"}, f"golden #{i} {vector['fn']}", problems)
    return problems


def test_js_gives_the_golden_answers(tmp_path: Path) -> None:
    """The JS port, run on the committed vectors alone, gives the committed answers."""
    problems = _golden_problems(RUNNER, tmp_path)
    assert not problems, "\n".join(problems[:40])


def test_served_js_gives_the_golden_answers(tmp_path: Path) -> None:
    """The copies the site serves (comment lines left out, generators/assets.py) give the same answers."""
    from inferbook.generators.assets import served_js

    mirror = tmp_path / "mirror"
    js = mirror / "generators" / "site" / "static" / "js"
    (js / "calc").mkdir(parents=True)
    static_js = ROOT / "generators" / "site" / "static" / "js"
    for source in [*static_js.glob("*.js"), *static_js.glob("calc/*.js")]:
        target = js / source.relative_to(static_js)
        target.write_text(served_js(source.read_text(encoding="utf-8")), encoding="utf-8")
    runner = mirror / "tests" / "js_parity" / "run.mjs"
    runner.parent.mkdir(parents=True)
    shutil.copy(RUNNER, runner)
    problems = _golden_problems(runner, tmp_path)
    assert not problems, "\n".join(problems[:40])
