"""The step model's structure: attention data parallelism, the KV dtype engines take from a
checkpoint, and the batch limits trtllm-bench picks for itself."""

from __future__ import annotations

import pytest

import inferbook
from inferbook.calc import calibrate
from inferbook.calc.engines import checkpoint_kv_bits, engine_defaults, trtllm_bench_limits
from inferbook.calc.perf import Deployment, routed_expert_params, step_cost
from inferbook.calc.published import load as load_published


@pytest.fixture(scope="module")
def kb():
    return inferbook.load()


def test_attention_dp_runs_each_batch_on_one_gpu_with_the_experts_spread(kb):
    """With attention DP over all of TP 8, a batch runs on one GPU: its own attention and dense
    weights and full KV heads, one eighth of the routed experts, which every group's tokens reach."""
    arch = kb.models["qwen3-235b-a22b-instruct-2507"].architecture
    gpu, fmt = kb.gpus["b200"], kb.formats["nvfp4"]
    plain = step_cost(Deployment(arch, gpu, fmt, 8.0, tp=8, engine="tensorrt-llm"))
    dp = step_cost(Deployment(arch, gpu, fmt, 8.0, tp=8, engine="tensorrt-llm", attention_dp=8))
    single = step_cost(Deployment(arch, gpu, fmt, 8.0, tp=1, engine="tensorrt-llm"))
    routed = routed_expert_params(arch) * fmt.effective_bits_per_weight / 8
    assert dp.gemm_rate == pytest.approx(plain.gemm_rate / 8)
    assert dp.kv_bytes_full == pytest.approx(single.kv_bytes_full)
    assert dp.routed_expert_bytes == pytest.approx(plain.routed_expert_bytes) == pytest.approx(routed / 8)
    assert dp.weight_bytes == pytest.approx(single.weight_bytes - routed * 7 / 8)
    assert (dp.expert_token_share, plain.expert_token_share) == (8, 1)
    # no all-reduce inside a one-GPU group, but each token travels to its 8 experts and back: more per
    # token of the group's batch, less per token of the whole TP group, whose 8 links work side by side
    assert plain.comm_per_token_s < dp.comm_per_token_s < 8 * plain.comm_per_token_s
    # one token per group already touches as many experts as eight tokens of plain TP
    one = dp.seconds(1, 1, 1000.0, 0.0, 1000.0, 0.0, 1)
    assert one > single.seconds(1, 1, 1000.0, 0.0, 1000.0, 0.0, 1)
    with pytest.raises(ValueError, match="must divide"):
        step_cost(Deployment(arch, gpu, fmt, 8.0, tp=8, attention_dp=3))


def test_checkpoints_bring_their_fp8_kv_cache(kb):
    """Engines that take the checkpoint's KV quantization cache FP8 for FP8 and NVFP4 checkpoints
    (ModelOpt exports FP8 KV scales with both by default); vLLM only when asked."""
    trt, vllm = engine_defaults("tensorrt-llm"), engine_defaults("vllm")
    assert [checkpoint_kv_bits(trt, f) for f in ("fp8-e4m3", "nvfp4", "bf16", "int4")] == [8.0, 8.0, 16.0, 16.0]
    assert checkpoint_kv_bits(vllm, "nvfp4") == checkpoint_kv_bits(vllm, "fp8-e4m3") == 16.0


def test_trtllm_bench_sizes_its_own_batch(kb):
    """trtllm-bench's heuristic: Llama 3.1 8B FP8 on an 80 GiB GPU holds some 4400 requests of 256
    tokens (capped at 4096; tokens 2 x 4096), but only 564 of 2000 tokens (rounded up to 640, tokens
    2048, the minimum); a format it does not tune keeps TensorRT-LLM's defaults."""
    arch = kb.models["llama-3.1-8b-instruct"].architecture
    assert trtllm_bench_limits(arch, "fp8", 8.0, 1, 1, 128, 128, 80.0) == (4096, 8192)
    assert trtllm_bench_limits(arch, "fp8", 8.0, 1, 1, 1000, 1000, 80.0) == (640, 2048)
    assert trtllm_bench_limits(arch, "other", 8.0, 1, 1, 1000, 1000, 80.0) == (2048, 8192)
    # without chunked prefill a whole prompt must fit one step beside the batch
    assert trtllm_bench_limits(arch, "fp8", 8.0, 1, 1, 20000, 2000, 80.0)[1] >= 20000


def test_cases_follow_the_benchmark_and_attention_dp(kb):
    """A trtllm-bench row gets the tool's own limits and reserves whole requests; an attention-DP row
    runs one stream per group, each with the KV cache of its GPU."""
    pubs = {p.m.id: p for p in load_published()}
    case = calibrate.build_case(kb, pubs["m001"])
    assert not isinstance(case, str)
    m = case.pub.m
    arch = kb.models[m.model].architecture
    assert (case.config.max_batch, case.config.max_batched_tokens) == trtllm_bench_limits(
        arch, "fp8", case.deployment.kv_bits, 1, 1, 128, 128, kb.gpus["h100-sxm"].memory_gib.value, 0.95)
    assert case.config.reserve_full_length
    dp_case = calibrate.build_case(kb, pubs["trtllm-dg-dsr1-b200-dep4-fp4-1000-1000"])  # DEP4: 4 GPUs, DP 4
    assert not isinstance(dp_case, str)
    assert dp_case.deployment.attention_dp == 4 and dp_case.replicas == 4
    assert dp_case.config.lockstep_ranks == 1  # its ranks balance their prompts (attention_dp_enable_balance)
    # without balancing, the eight ranks step together: one stream holding all of them
    lock = calibrate.build_case(kb, pubs["trtllm-1.0-q3-235b-b200-tp8-fp4-1000-1000"])
    assert not isinstance(lock, str)
    assert (lock.deployment.attention_dp, lock.config.lockstep_ranks, lock.replicas) == (8, 8, 1)


def test_gemm_efficiency_follows_each_gemms_rows(kb):
    """A GEMM of M rows costs as if it had M + min(M, T_half): one token runs at half efficiency, and a
    routed expert's M is only the tokens routed to it, so a MoE's small batches are far from peak."""
    arch = kb.models["llama-3.1-8b-instruct"].architecture
    cost = step_cost(Deployment(arch, kb.gpus["h100-sxm"], kb.formats["bf16"]))
    h = cost.half_tokens
    dense = cost.linear_flops_per_token
    assert cost.gemm_work(1, 0) == pytest.approx(2 * dense)
    assert cost.gemm_work(4 * h, 0) == pytest.approx(dense * 5 * h)
    moe = step_cost(Deployment(kb.models["qwen3-30b-a3b-thinking-2507"].architecture, kb.gpus["h100-sxm"],
                               kb.formats["bf16"]))
    per_token = [moe.gemm_work(t, 0) / t for t in (16, 256, 4096)]
    assert per_token[0] > per_token[1] > per_token[2] > moe.linear_flops_per_token
    # 256 tokens route 16 to each of the 128 experts (top 8): under T_half, so the experts cost double;
    # 4096 tokens route 256 to each, and each expert adds only T_half
    routed, other = moe.routed_flops_per_token, moe.linear_flops_per_token - moe.routed_flops_per_token
    assert moe.gemm_work(256, 0) == pytest.approx(other * (256 + h) + routed * 256 * 2, rel=1e-3)
    assert moe.gemm_work(4096, 0) == pytest.approx(other * (4096 + h) + routed * (4096 + h * 128 / 8), rel=1e-3)


def test_link_and_architecture_keys(kb):
    """Collectives over AMD's Infinity Fabric and over PCIe get their own latency and efficiency; a
    GeForce card its own efficiencies, apart from the data-center card of its architecture."""
    from inferbook.calc.perf import arch_key, link_class

    assert [link_class(kb.gpus[g]) for g in ("h100-sxm", "mi300x", "l40s")] == ["nvlink", "infinity-fabric", "pcie"]
    assert [arch_key(kb.gpus[g]) for g in ("rtx-4090", "l40s", "h100-sxm")] == ["ada-consumer", "ada-gddr", "hopper"]
