"""Parity of the site's speed-prediction port (generators/site/static/js/predict.js) with
`inferbook.calc.perf`, `engines` and `predict`: step costs, engine defaults on every GPU
class, and whole predictions for the deterministic loads (offline, closed loop, lockstep),
each number within a relative 1e-9, strings exactly."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_js_parity import compare

import inferbook
from inferbook.calc.bands import calibration, measured_index
from inferbook.calc.engines import ENGINES, engine_defaults, raw_profiles
from inferbook.calc.perf import Deployment, PerfParams, step_cost
from inferbook.calc.predict import Disaggregation, Load, predict
from inferbook.calc.speculation import Speculation

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "tests" / "js_parity" / "predict.mjs"
OTHER = PerfParams(gemm_eff={"*": 0.45, "hopper": 0.7}, mbu={"*": 0.8}, attn_eff={"*": 0.3}, step_s={"*": 0.003},
                   seq_s={"*": 4e-5}, request_s={"*": 0.02}, link_latency_s={"*": 2e-5, "pcie": 5e-5},
                   gemm_half_tokens=32.0, link_eff={"*": 0.6, "pcie": 0.4})
CALLS = ((1, 1, 1000.0, 0.0, 1000.0, 0.0, 1), (8192, 1, 8192 * 8193 / 2, 0.0, 0.0, 0.0, 1),
         (256, 256, 256 * 3000.0, 256 * 1024.0, 256 * 3000.0, 256 * 1024.0, 256), (0, 0, 0.0, 0.0, 0.0, 0.0, 0),
         (16, 16, 16 * 90001.0, 16 * 2049.0, 16 * 90000.0, 16 * 2048.0, 16))
DEPLOYMENTS = (("llama-3.1-8b-instruct", "h100-sxm", "bf16", 16.0, 1, 1, 1, "vllm", None),
               ("llama-3.1-70b-instruct", "rtx-pro-6000-blackwell", "nvfp4", 8.0, 4, 1, 1, "tensorrt-llm", None),
               ("deepseek-v3", "h200-sxm", "fp8-e4m3", 8.0, 8, 1, 8, "sglang", None),
               ("deepseek-v3.2", "h200-sxm", "fp8-e4m3", 8.0, 8, 1, 1, "vllm", None),
               ("glm-5", "b200", "bf16", 16.0, 8, 1, 8, "sglang", None),
               ("gpt-oss-120b", "mi300x", "mxfp4", 16.0, 2, 2, 1, "vllm", None),
               ("gemma-3-27b-it", "rtx-4090", "gguf-q4-k-m", 16.0, 1, 1, 1, "llama-cpp", None),
               ("qwen3-next-80b-a3b-thinking", "b200", "bf16", 16.0, 2, 1, 1, "vllm", None),
               ("nvidia-nemotron-3-nano-30b-a3b", "h100-sxm", "bf16", 16.0, 2, 1, 1, "vllm", None),
               ("nemotron-h-56b-base-8k", "h200-sxm", "fp8-e4m3", 8.0, 4, 1, 1, "sglang", None),
               # attention DP: every GPU its own batch, and groups of two GPUs with TP inside
               ("qwen3-235b-a22b-instruct-2507", "b200", "nvfp4", 8.0, 8, 1, 8, "tensorrt-llm", None, 8),
               ("deepseek-v3", "h200-sxm", "fp8-e4m3", 8.0, 8, 1, 8, "sglang", None, 4))
LOADS = ((Load(1000, 200, "offline", requests=300), {}),
         (Load(512, 128, "concurrency", concurrency=16, requests=64), {}),
         (Load(2048, 64, "batch", batch=4), {}),
         (Load(1024, 256, "concurrency", concurrency=32, requests=64), {"gpus": 4, "tp": 2}),
         (Load(1024, 256, "offline", requests=96), {"gpus": 4, "tp": 2, "pp": 2}),
         (Load(300, 64, "concurrency", concurrency=8, requests=32, image_tokens=768), {}))
ATTENTION_DP_PREDICTS = (
    # (model, gpu, weights, engine, load, GPUs, TP, attention DP): a lockstep MoE run with a KV figure of
    # four groups, a group of two GPUs, and a dense model the feasibility check refuses
    ("deepseek-r1", "b200", "nvfp4", "tensorrt-llm", Load(1000, 1000, "offline", requests=64), 4, 4, 4),
    ("qwen3-30b-a3b-thinking-2507", "h100-sxm", None, "sglang",
     Load(512, 128, "concurrency", concurrency=32, requests=64), 4, 4, 2),
    ("llama-3.1-8b-instruct", "h100-sxm", None, "vllm", Load(512, 128, "batch", batch=2), 2, 2, 2))
DISAGGREGATED_PREDICTS = (
    # (model, gpu, load, GPUs, TP, prefill GPUs, prefill TP): offline runs, compared exactly; a Poisson run,
    # whose arrivals come from calc.js's own generator, is compared in test_js_disaggregation_at_a_rate
    ("llama-3.1-8b-instruct", "h100-sxm", Load(4096, 64, "offline", requests=120), 4, 1, 2, 1),
    ("llama-3.1-70b-instruct", "h100-sxm", Load(2000, 300, "offline", requests=80), 8, 2, 4, 4),
    ("llama-3.1-70b-instruct", "l40s", Load(1000, 100, "offline", requests=40), 2, 1, 1, 1),
    ("llama-3.1-8b-instruct", "h100-sxm", Load(4096, 64, "rate", rate=4.0, requests=600), 4, 1, 2, 1))
SPECULATION_PREDICTS = (
    # (model, gpu, load, GPUs, speculative tokens, acceptance, draft cost): a free draft, a draft that costs
    # a tenth of a step each token, and DeepSeek-V3's MTP module loaded as the draft
    ("llama-3.1-8b-instruct", "h100-sxm", Load(1000, 200, "offline", requests=64), 1, 3, 0.7, 0.0),
    ("llama-3.1-8b-instruct", "h100-sxm", Load(512, 128, "concurrency", concurrency=16, requests=64), 1, 4, 0.6, 0.1),
    ("deepseek-v3", "h200-sxm", Load(1000, 200, "concurrency", concurrency=32, requests=64), 8, 1, 0.8, 0.0))
MAX_RATE_PREDICTS = (
    # (model, gpu, load, GPUs, TP): the highest Poisson rate under SLOs, one replica and two
    ("llama-3.1-8b-instruct", "h100-sxm", Load(512, 64, "max-rate", requests=300, slo_ttft_s=0.5, slo_tpot_s=0.03),
     1, 1),
    ("qwen3-8b", "l40s", Load(1000, 200, "max-rate", requests=300, slo_ttft_s=2.0, percentile=90.0), 2, 1),
    ("llama-3.1-70b-instruct", "h100-sxm", Load(1000, 200, "max-rate", requests=300, slo_tpot_s=0.005), 2, 2))
"""The last asks a TPOT no setup of it meets: both ports must refuse."""
PREDICT_SETUPS = (("llama-3.1-8b-instruct", "h100-sxm", None, "vllm"),
                  ("llama-3.1-8b-instruct", "h100-sxm", "fp8-e4m3", "tensorrt-llm"),
                  ("qwen3-30b-a3b-thinking-2507", "l40s", None, "sglang"),
                  ("llama-3.1-8b-instruct", "rtx-4090", "gguf-q4-k-m", "llama-cpp"),
                  ("llama-3.1-405b-instruct", "rtx-4090", None, "vllm"),
                  ("nvidia-nemotron-3-nano-30b-a3b", "h100-sxm", None, "vllm"),
                  ("qwen3-vl-4b-instruct", "l40s", None, "sglang"))
PREDICT_KEYS = ("feasible", "reasons", "setup", "ttft_s", "tpot_s", "output_tokens_per_s", "input_tokens_per_s",
                "requests_per_s", "error_band", "basis", "basis_detail", "measured", "kv_cache_tokens")


def _vectors(kb: Any) -> tuple[list[dict[str, Any]], list[Any]]:
    items: list[dict[str, Any]] = []
    expected: list[Any] = []

    def add(fn: str, args: dict[str, Any], value: Any) -> None:
        items.append({"id": len(items), "fn": fn, "args": args})
        expected.append(value)

    for model, gpu, fmt, bits, tp, pp, ep, engine, groups, *dp in DEPLOYMENTS:
        if model not in kb.models or gpu not in kb.gpus or fmt not in kb.formats:
            continue
        attention_dp = dp[0] if dp else 1
        d = Deployment(kb.models[model].architecture, kb.gpus[gpu], kb.formats[fmt], bits, tp, pp, ep, engine, groups,
                       attention_dp)
        for params, given in ((None, None), (OTHER, OTHER.to_json())):
            cost = step_cost(d, params)
            for call in CALLS:
                args = {"model": model, "gpu": gpu, "format": fmt, "kv_bits": bits, "tp": tp, "pp": pp, "ep": ep,
                        "engine": engine, "groups": groups, "call": list(call), "params": given,
                        "attention_dp": attention_dp}
                add("stepSeconds", args, {"result": cost.seconds(*call)})
    for engine in ENGINES:
        for gpu in (None, "h100-sxm", "a100-sxm-80gb", "b200", "l4", "rtx-4090", "mi300x"):
            for tp in (1, 4):
                e = engine_defaults(engine, kb.gpus[gpu] if gpu else None, tp, 1)
                add("engineDefaults", {"engine": engine, "gpu": gpu, "tp": tp, "pp": 1}, {"result": {
                    "describe": e.describe(), "fraction_of": e.fraction_of, "memory_fraction": e.memory_fraction,
                    "block_tokens": e.block_tokens, "max_num_seqs": e.max_num_seqs,
                    "max_num_batched_tokens": e.max_num_batched_tokens, "chunked_prefill": e.chunked_prefill,
                    "fp8_checkpoint_kv": e.fp8_checkpoint_kv, "reserve_full_length": e.reserve_full_length}})
    for model, gpu, weights, engine in PREDICT_SETUPS:
        for load, extra in LOADS:
            p = predict(kb, model, gpu, load, weights=weights, engine=engine, **extra).to_json()
            args = {"model": model, "gpu": gpu, "weights": weights, "engine": engine, "isl": load.isl,
                    "osl": load.osl, "mode": load.mode, "batch": load.batch, "concurrency": load.concurrency,
                    "rate": load.rate, "requests": load.requests, "gpus": extra.get("gpus", 1), "tp": extra.get("tp"),
                    "pp": extra.get("pp", 1), "image_tokens": load.image_tokens}
            add("predict", args, {"result": {k: p[k] for k in PREDICT_KEYS if k in p and p[k] is not None}})
    for model, gpu, weights, engine, load, gpus, tp, dp in ATTENTION_DP_PREDICTS:
        p = predict(kb, model, gpu, load, gpus=gpus, tp=tp, weights=weights, engine=engine, attention_dp=dp).to_json()
        args = {"model": model, "gpu": gpu, "weights": weights, "engine": engine, "isl": load.isl, "osl": load.osl,
                "mode": load.mode, "batch": load.batch, "concurrency": load.concurrency, "rate": load.rate,
                "requests": load.requests, "gpus": gpus, "tp": tp, "pp": 1, "attention_dp": dp}
        add("predict", args, {"result": {k: p[k] for k in PREDICT_KEYS if k in p and p[k] is not None}})
    for model, gpu, load, gpus, tp, prefill, prefill_tp in DISAGGREGATED_PREDICTS:
        split = Disaggregation(prefill, prefill_tp)
        p = predict(kb, model, gpu, load, gpus=gpus, tp=tp, disaggregation=split).to_json()
        args = {"model": model, "gpu": gpu, "weights": None, "engine": "vllm", "isl": load.isl, "osl": load.osl,
                "mode": load.mode, "rate": load.rate, "requests": load.requests, "gpus": gpus, "tp": tp, "pp": 1,
                "prefill_gpus": prefill, "prefill_tp": prefill_tp}
        keys = (*PREDICT_KEYS, "notes")
        add("predictDisaggregated" if load.mode == "rate" else "predict", args,
            {"result": {k: p[k] for k in keys if k in p and p[k] is not None}})
    for model, gpu, load, gpus, k, acceptance, draft_cost in SPECULATION_PREDICTS:
        p = predict(kb, model, gpu, load, gpus=gpus, speculation=Speculation(k, acceptance, draft_cost)).to_json()
        args = {"model": model, "gpu": gpu, "weights": None, "engine": "vllm", "isl": load.isl, "osl": load.osl,
                "mode": load.mode, "concurrency": load.concurrency, "requests": load.requests, "gpus": gpus,
                "tp": gpus, "pp": 1, "speculative_tokens": k, "acceptance": acceptance, "draft_cost": draft_cost}
        keys = (*PREDICT_KEYS, "notes")
        add("predict", args, {"result": {k: p[k] for k in keys if k in p and p[k] is not None}})
    for model, gpu, load, gpus, tp in MAX_RATE_PREDICTS:
        p = predict(kb, model, gpu, load, gpus=gpus, tp=tp).to_json()
        args = {"model": model, "gpu": gpu, "weights": None, "engine": "vllm", "isl": load.isl, "osl": load.osl,
                "mode": "max-rate", "requests": load.requests, "gpus": gpus, "tp": tp, "pp": 1,
                "slo_ttft_s": load.slo_ttft_s, "slo_tpot_s": load.slo_tpot_s, "percentile": load.percentile}
        add("predictMaxRate", args, {"result": p})
    return items, expected


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], list[Any], dict[int, Any]]:
    node = shutil.which("node")
    assert node, "Node.js (`node` on PATH) is required to check the JS port; install Node 20 or later"
    kb = inferbook.load()
    items, expected = _vectors(kb)
    cal = calibration()
    models = {}
    for i, m in kb.models.items():
        models[i] = {**m.model_dump(mode="json"), "family": m.family}
    data = {"models": models, "gpus": {i: g.model_dump(mode="json") for i, g in kb.gpus.items()},
            "formats": {i: f.model_dump(mode="json") for i, f in kb.formats.items()},
            "perf": {"params": cal["params"], "calibration": {"cv": cal["cv"], "fitted_on": cal["fitted_on"]},
                     "engines": raw_profiles(), "measured": measured_index(kb)},
            "vectors": items}
    path = tmp_path_factory.mktemp("js_predict") / "vectors.json"
    path.write_text(json.dumps(data, allow_nan=False), encoding="utf-8")
    proc = subprocess.run([node, str(RUNNER), str(path)], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return items, expected, {r["id"]: r for r in json.loads(proc.stdout)}


def test_js_disaggregation_at_a_rate(results: tuple[list[dict[str, Any]], list[Any], dict[int, Any]]) -> None:
    """Disaggregated serving under Poisson arrivals: the same setup, notes and KV figures, and speeds near
    Python's (the arrivals come from another generator: over 600 requests at 4 per second the run's length,
    which sets the throughput, varies by about 4% between draws)."""
    items, expected, got = results
    cases = [(want["result"], got[item["id"]]["result"]) for item, want in zip(items, expected, strict=True)
             if item["fn"] == "predictDisaggregated"]
    assert len(cases) == 1
    for want, actual in cases:
        assert actual["feasible"] and want["feasible"]
        assert actual["setup"] == want["setup"] and actual["kv_cache_tokens"] == want["kv_cache_tokens"]
        assert actual["notes"] == want["notes"] and actual["basis"] == want["basis"]
        for key in ("output_tokens_per_s", "requests_per_s"):
            assert actual[key] == pytest.approx(want[key], rel=0.15), key
        for key in ("ttft_s", "tpot_s"):
            assert actual[key]["mean"] == pytest.approx(want[key]["mean"], rel=0.15), key


def test_js_max_rate_agrees_with_python(results: tuple[list[dict[str, Any]], list[Any], dict[int, Any]]) -> None:
    """`--rate max` in the browser: its Poisson arrivals come from calc.js's own generator, so the rate it
    finds agrees with Python's within the spread of a 300-request run, not to the digit; every run it
    reports meets the SLOs at their percentile, and a setup Python refuses is refused."""
    items, expected, got = results
    cases = [(item, want["result"], got[item["id"]]["result"]) for item, want in zip(items, expected, strict=True)
             if item["fn"] == "predictMaxRate"]
    assert len(cases) == len(MAX_RATE_PREDICTS)
    for item, want, actual in cases:
        name = f"{item['args']['model']} on {item['args']['gpu']}"
        assert actual["feasible"] is want["feasible"], (name, actual["reasons"], want["reasons"])
        if not want["feasible"]:
            assert "no request rate meets the SLOs" in " ".join(actual["reasons"]), name
            continue
        assert actual["rate"] == pytest.approx(want["rate"], rel=0.15), name
        pct = f"p{item['args']['percentile']:g}"
        if item["args"]["slo_ttft_s"] is not None:
            assert actual["ttft_s"]["p99" if pct == "p99" else "p90"] <= item["args"]["slo_ttft_s"] * 1.000001, name
        if item["args"]["slo_tpot_s"] is not None:
            assert actual["tpot_s"]["p99" if pct == "p99" else "p90"] <= item["args"]["slo_tpot_s"] * 1.000001, name


@pytest.mark.parametrize("fn", ["stepSeconds", "engineDefaults", "predict"])
def test_js_predict_matches_python(results: tuple[list[dict[str, Any]], list[Any], dict[int, Any]], fn: str) -> None:
    items, expected, got = results
    problems: list[str] = []
    count = 0
    for item, want in zip(items, expected, strict=True):
        if item["fn"] != fn:
            continue
        count += 1
        actual = {k: v for k, v in got[item["id"]].items() if k != "id"}
        if fn == "predict" and "result" in actual:  # JS adds notes and the like; compare the stable fields
            actual["result"] = {k: v for k, v in actual["result"].items() if k in want["result"]}
        compare(want, actual, f"#{item['id']} {fn}", problems)
    assert count >= 10
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems[:30])
