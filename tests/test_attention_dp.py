"""Attention data parallelism (a MoE model's TP GPUs in groups, each with its own batch and KV cache)
in the capacity rule, the feasibility check, `predict` and `inferbook predict`."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

import inferbook
from inferbook.calc import calibrate
from inferbook.calc.capacity import EngineConfig, capacity
from inferbook.calc.engines import engine_defaults
from inferbook.calc.feasibility import Setup, check_setup
from inferbook.calc.params import routed_expert_params
from inferbook.calc.predict import Disaggregation, Load, PredictError, predict
from inferbook.calc.published import load as load_published
from inferbook.calc.weights import weight_bytes
from inferbook.cli import main


@pytest.fixture(scope="module")
def kb():
    return inferbook.load()


def test_each_gpu_holds_its_groups_attention_and_a_tp_share_of_the_experts(kb):
    model = kb.models["qwen3-coder-30b-a3b-instruct"]
    arch, gpu, fmt = model.architecture, kb.gpus["h100-sxm"], kb.formats["bf16"]
    cfg = EngineConfig()
    plain = capacity(arch, gpu, fmt, 16, tp=4, cfg=cfg)
    dp4 = capacity(arch, gpu, fmt, 16, tp=4, cfg=cfg, attention_dp=4)
    one_gpu = weight_bytes(arch, fmt, tp=1).per_gpu_bytes
    experts = routed_expert_params(arch) * 2  # bytes of 16-bit routed experts
    assert dp4.weights_bytes == pytest.approx(one_gpu - experts * (1 - 1 / 4), rel=1e-12)
    assert plain.weights_bytes < dp4.weights_bytes < one_gpu
    # a group of one GPU caches its tokens with all the KV heads
    assert dp4.kv_bytes_per_token == pytest.approx(capacity(arch, gpu, fmt, 16, tp=1, cfg=cfg).kv_bytes_per_token)
    assert dp4.kv_bytes_per_token > plain.kv_bytes_per_token
    assert dp4.kv_tokens == (int(dp4.kv_space_bytes / dp4.kv_bytes_per_token) // cfg.block_size) * cfg.block_size
    with pytest.raises(ValueError, match="must divide tensor parallelism"):
        capacity(arch, gpu, fmt, 16, tp=4, cfg=cfg, attention_dp=3)


def test_predict_and_the_calibration_size_the_cache_by_the_same_rule(kb):
    """A balanced TensorRT-LLM run (each attention-DP rank its own stream): the calibration gives a
    stream one group's cache at the run's memory fraction; `predict` gives the replica all four
    groups' caches at the engine's default fraction."""
    pub = next(p for p in load_published() if p.m.id == "trtllm-dg-dsr1-b200-dep4-fp4-1000-1000")
    case = calibrate.build_case(kb, pub)
    assert not isinstance(case, str), case
    assert case.deployment.attention_dp == 4 and case.replicas == 4
    model, gpu, fmt = kb.models["deepseek-r1"], kb.gpus["b200"], kb.formats["nvfp4"]
    cfg = engine_defaults("tensorrt-llm", gpu, 4, 1).config()
    run_cfg = replace(cfg, gpu_memory_utilization=pub.m.settings["kv_cache_free_gpu_mem_fraction"])
    assert case.kv_tokens == capacity(model.architecture, gpu, fmt, 8, tp=4, cfg=run_cfg, attention_dp=4).kv_tokens
    p = predict(kb, "deepseek-r1", "b200", Load(1000, 1000, "offline", requests=16), gpus=4, tp=4, weights="nvfp4",
                engine="tensorrt-llm", attention_dp=4)
    assert p.feasible, p.reasons
    assert p.kv_cache_tokens == 4 * capacity(model.architecture, gpu, fmt, 8, tp=4, cfg=cfg, attention_dp=4).kv_tokens
    assert p.setup["attention_dp"] == 4 and any("attention data parallelism 4" in n for n in p.notes)


def test_feasibility_rules(kb):
    moe, dense = kb.models["qwen3-coder-30b-a3b-instruct"], kb.models["llama-3.1-8b-instruct"]
    gpu, bf16 = kb.gpus["h100-sxm"], kb.formats["bf16"]

    def check(model, tp, dp, **kw):
        return check_setup(Setup(model=model, gpu=gpu, weights=bf16, tp=tp, attention_dp=dp, **kw))

    assert "mixture-of-experts" in check(dense, 2, 2).summary()
    assert "does not divide tensor parallelism 4" in check(moe, 4, 3).summary()
    # the head rules apply to one group: 6 does not divide 32 heads, a group of 2 does
    assert moe.architecture.attention_heads % 6
    assert "attention heads" in check(moe, 6, 1).summary()
    assert not any("heads" in r for r in check(moe, 6, 3).reasons)
    # each group holds whole sequences: the batch limit is groups x whole sequences per group
    answer = check(moe, 4, 4, context=32768, sequences=1)
    per_group = answer.max_sequences / 4
    batch = int(answer.max_sequences) + 1
    full = check(moe, 4, 4, context=32768, sequences=batch, mode="batch")
    assert not full.feasible and f"only {4 * int(per_group):,} fit" in full.summary()


def test_a_measured_run_with_attention_dp_matches_only_with_it(kb):
    args = dict(gpus=4, tp=4, weights="nvfp4", engine="tensorrt-llm")
    load = Load(1000, 1000, "offline", requests=64)
    without = predict(kb, "deepseek-r1", "b200", load, **args)
    with_dp = predict(kb, "deepseek-r1", "b200", load, attention_dp=4, **args)
    assert without.basis != "measured"
    assert with_dp.basis == "measured" and with_dp.measured
    assert with_dp.kv_cache_tokens > without.kv_cache_tokens  # MLA's latent cache is not split over TP


def test_refused_where_it_is_not_modelled(kb):
    with pytest.raises(PredictError, match=r"llama\.cpp"):
        predict(kb, "qwen3-coder-30b-a3b-instruct", "h100-sxm", Load(100, 10, "batch", batch=1), gpus=2,
                tp=2, engine="llama-cpp", attention_dp=2)
    with pytest.raises(PredictError, match="colocated"):
        predict(kb, "qwen3-coder-30b-a3b-instruct", "h100-sxm", Load(100, 10, "rate", rate=1.0, requests=10),
                gpus=4, tp=2, disaggregation=Disaggregation(prefill_gpus=2), attention_dp=2)
    dense = predict(kb, "llama-3.1-8b-instruct", "h100-sxm", Load(100, 10, "batch", batch=1), gpus=2, tp=2,
                    attention_dp=2)
    assert not dense.feasible and any("mixture-of-experts" in r for r in dense.reasons)


def test_cli(capsys):
    argv = ["predict", "qwen3-coder-30b-a3b-instruct", "h100-sxm", "--gpus", "2", "--isl", "512", "--osl", "64",
            "--concurrency", "8", "--requests", "16"]
    assert main([*argv, "--attention-dp", "2"]) == 0
    out = capsys.readouterr().out
    assert "with attention DP 2" in out and "note: attention data parallelism 2" in out
    assert main([*argv, "--attention-dp", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["setup"]["attention_dp"] == 2
    assert main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["setup"]["attention_dp"] == 1
    with pytest.raises(SystemExit) as usage:
        main([*argv, "--attention-dp", "0"])
    assert usage.value.code == 2
    assert main(["predict", "llama-3.1-8b-instruct", "h100-sxm", "--gpus", "2", "--isl", "512", "--osl", "64",
                 "--batch", "1", "--attention-dp", "2"]) == 1
    assert "mixture-of-experts" in capsys.readouterr().err
