"""Calculator core on hand-checked architectures (numbers worked out in comments)."""

from __future__ import annotations

import pytest

from inferbook.calc import count_params, kv_bytes, kv_bytes_per_token, kv_dtype_bits, weight_bytes
from inferbook.schema import Format, ModelArchitecture, SparseAttention

LLAMA_31_8B = ModelArchitecture(  # meta-llama/Llama-3.1-8B-Instruct config.json
    layers=32, hidden_size=4096, attention_heads=32, kv_heads=8, head_dim=128, intermediate_size=14336,
    vocab_size=128256, context_length=131072, tie_word_embeddings=False, attention="gqa")

DEEPSEEK_V3_LIKE = ModelArchitecture.model_validate({  # deepseek-ai/DeepSeek-V3 config.json values
    "layers": 61, "hidden_size": 7168, "attention_heads": 128, "kv_heads": 128, "head_dim": 192,
    "intermediate_size": 18432, "vocab_size": 129280, "context_length": 163840, "tie_word_embeddings": False,
    "attention": "mla",
    "mla": {"kv_lora_rank": 512, "q_lora_rank": 1536, "qk_rope_head_dim": 64, "qk_nope_head_dim": 128,
            "v_head_dim": 128},
    "moe": {"experts": 256, "experts_per_token": 8, "shared_experts": 1, "expert_intermediate_size": 2048,
            "dense_layers": 3},
})

GEMMA3_LIKE = LLAMA_31_8B.model_copy(update={
    "layers": 12, "layer_pattern": ("sliding",) * 5 + ("full",), "sliding_window": 1024})


def fmt(bits: float, category: str = "float") -> Format:
    return Format.model_validate({
        "id": "f", "title": "f", "summary": "A test format for the tests.", "category": category,
        "bits_per_value": bits, "effective_bits_per_weight": bits, "sources": ["s"],
        "last_reviewed": __import__("datetime").date(2026, 1, 1)})


def test_llama_31_8b_parameters():
    p = count_params(LLAMA_31_8B)
    # per layer: q,o 2*4096*4096 + k,v 2*4096*1024 = 41,943,040; FFN 3*4096*14336 = 176,160,768
    assert p.attention == 32 * 41_943_040
    assert p.ffn_dense == 32 * 176_160_768
    assert p.embedding == p.lm_head == 128256 * 4096
    assert p.norms == 2 * 4096 * 32 + 4096
    assert p.total == 8_030_261_248  # the published safetensors total of Llama 3.1 8B
    assert p.active == p.total


def test_llama_31_8b_kv_cache():
    # 2 (K and V) * 8 KV heads * 128 head_dim * 2 bytes * 32 layers = 131,072 bytes per token
    assert kv_bytes_per_token(LLAMA_31_8B, 16) == 131_072
    assert kv_bytes(LLAMA_31_8B, 8192, 16).bytes_unique == 8192 * 131_072 == 2**30
    assert kv_bytes(LLAMA_31_8B, 8192, 8, batch=4).bytes_unique == 2 * 2**30
    # MHA with the same shape would need 4x: GQA is what keeps it at 1 GiB
    mha = LLAMA_31_8B.model_copy(update={"kv_heads": 32, "attention": "mha"})
    assert kv_bytes_per_token(mha, 16) == 4 * 131_072


def test_tensor_parallel_kv_split_and_replication():
    tp2 = kv_bytes(LLAMA_31_8B, 1000, 16, tp=2)
    assert tp2.bytes_per_gpu == tp2.bytes_unique / 2 and tp2.bytes_total == tp2.bytes_unique
    tp16 = kv_bytes(LLAMA_31_8B, 1000, 16, tp=16)  # 8 KV heads on 16 GPUs: one head each, replicated
    assert tp16.bytes_per_gpu == tp16.bytes_unique / 8
    assert tp16.bytes_total == 2 * tp16.bytes_unique
    pp4 = kv_bytes(LLAMA_31_8B, 1000, 16, pp=4)
    assert pp4.bytes_per_gpu == pp4.bytes_unique / 4


def test_mla_caches_one_latent_replicated_over_tp():
    # (kv_lora_rank 512 + rope 64) * 2 bytes * 61 layers = 70,272 bytes per token
    assert kv_bytes_per_token(DEEPSEEK_V3_LIKE, 16) == 70_272
    tp8 = kv_bytes(DEEPSEEK_V3_LIKE, 100, 16, tp=8)
    assert tp8.bytes_per_gpu == tp8.bytes_unique and tp8.bytes_total == 8 * tp8.bytes_unique


def test_deepseek_v3_parameter_count_matches_published_671b():
    p = count_params(DEEPSEEK_V3_LIKE)
    assert abs(p.total / 1e9 - 671) / 671 < 0.01   # card: 671B without the MTP module
    assert abs(p.active / 1e9 - 37) / 37 < 0.03     # card: 37B activated


def test_sliding_window_caps_per_sequence_cache():
    per_token = kv_bytes_per_token(GEMMA3_LIKE, 16)
    assert per_token == 12 * 2 * 8 * 128 * 2
    short = kv_bytes(GEMMA3_LIKE, 1000, 16).bytes_unique
    assert short == 1000 * per_token
    long = kv_bytes(GEMMA3_LIKE, 32768, 16).bytes_unique
    layer = 2 * 8 * 128 * 2
    assert long == (10 * 1024 + 2 * 32768) * layer  # 10 sliding layers capped at 1024 tokens


def test_linear_layers_add_no_cache():
    hybrid = LLAMA_31_8B.model_copy(update={"layer_pattern": ("linear", "linear", "linear", "full")})
    assert kv_bytes_per_token(hybrid, 16) == 8 * 2 * 8 * 128 * 2
    assert count_params(hybrid).approximate


QWEN3_NEXT_LIKE = ModelArchitecture.model_validate({  # Qwen/Qwen3-Next-80B-A3B config.json values
    "layers": 48, "hidden_size": 2048, "attention_heads": 16, "kv_heads": 2, "head_dim": 256,
    "vocab_size": 151936, "context_length": 262144, "tie_word_embeddings": False, "attention": "gqa",
    "layer_pattern": ["linear", "linear", "linear", "full"],
    "linear_attention": {"key_heads": 16, "value_heads": 32, "key_head_dim": 128, "value_head_dim": 128,
                         "conv_kernel": 4},
    "moe": {"experts": 512, "experts_per_token": 10, "shared_experts": 1, "expert_intermediate_size": 512},
})


def test_gated_deltanet_layers_count_their_own_weights():
    from inferbook.calc.params import attention_params, linear_attention_params

    h, key_dim, value_dim = 2048, 16 * 128, 32 * 128
    expected = (h * (2 * key_dim + 2 * value_dim) + h * 2 * 32  # in_proj_qkvz, in_proj_ba
                + (2 * key_dim + value_dim) * 4 + 2 * 32 + 128  # conv1d, A_log + dt_bias, gated norm
                + value_dim * h)  # out_proj
    assert linear_attention_params(QWEN3_NEXT_LIKE) == expected
    p = count_params(QWEN3_NEXT_LIKE)
    assert not p.approximate
    assert p.attention == 36 * expected + 12 * attention_params(QWEN3_NEXT_LIKE)


def test_linear_state_is_per_sequence_and_split_by_tp():
    from inferbook.calc.kv import state_bytes_per_sequence

    per_layer = 32 * 128 * 128 + 3 * (2 * 16 * 128 + 32 * 128)  # recurrent matrices + conv inputs
    assert state_bytes_per_sequence(QWEN3_NEXT_LIKE) == 36 * per_layer * 2
    plain = kv_bytes(QWEN3_NEXT_LIKE, 8192, 16, batch=3)
    with_state = kv_bytes(QWEN3_NEXT_LIKE, 8192, 16, batch=3, state=True)
    assert with_state.bytes_unique - plain.bytes_unique == with_state.state_bytes == 3 * 36 * per_layer * 2
    assert kv_bytes(QWEN3_NEXT_LIKE, 0, 16, batch=3, state=True).bytes_unique == 0  # no tokens, no state yet
    tp2 = kv_bytes(QWEN3_NEXT_LIKE, 8192, 16, batch=3, tp=2, state=True)
    assert tp2.bytes_per_gpu - kv_bytes(QWEN3_NEXT_LIKE, 8192, 16, batch=3, tp=2).bytes_per_gpu == \
        pytest.approx(with_state.state_bytes / 2)
    # models without linear layers are unchanged
    assert kv_bytes(LLAMA_31_8B, 4096, 16, state=True) == kv_bytes(LLAMA_31_8B, 4096, 16)


def test_linear_attention_needs_linear_layers():
    from pydantic import ValidationError

    data = QWEN3_NEXT_LIKE.model_dump()
    data["layer_pattern"] = ["full"]
    with pytest.raises(ValidationError, match="no linear layers"):
        ModelArchitecture.model_validate(data)
    data = QWEN3_NEXT_LIKE.model_dump()
    data["linear_attention"]["value_heads"] = 20
    with pytest.raises(ValidationError, match="multiple of key_heads"):
        ModelArchitecture.model_validate(data)


def test_weights_keep_embeddings_16bit_when_quantized():
    p = count_params(LLAMA_31_8B)
    bf16 = weight_bytes(LLAMA_31_8B, fmt(16))
    assert bf16.total_bytes == p.total * 2
    int4 = weight_bytes(LLAMA_31_8B, fmt(4.25, "weight-quantization"))
    assert int4.linear_bytes == p.linear * 4.25 / 8
    assert int4.embedding_bytes == p.embedding * 2 and int4.lm_head_bytes == p.lm_head * 2
    gguf = weight_bytes(LLAMA_31_8B, fmt(4.5, "gguf"))
    assert gguf.embedding_bytes == p.embedding * 4.5 / 8


def test_weights_per_gpu_under_parallelism():
    w = weight_bytes(LLAMA_31_8B, fmt(16), tp=4)
    assert w.per_gpu_bytes == pytest.approx(w.total_bytes / 4)
    w2 = weight_bytes(LLAMA_31_8B, fmt(16), pp=2)
    # each stage: 16 of 32 layers plus the embedding (first) or the head (last), equal in size here
    assert w2.per_gpu_bytes == pytest.approx((w.linear_bytes + w.norm_bytes) / 2 + w.embedding_bytes)


@pytest.mark.parametrize("bad", [dict(tokens=-1), dict(tp=0), dict(pp=33)])
def test_bad_arguments_are_clear_errors(bad):
    args = {"tokens": 10, "dtype_bits": 16, "batch": 1, "tp": 1, "pp": 1} | bad
    with pytest.raises(ValueError):
        kv_bytes(LLAMA_31_8B, **args)


def test_kv_dtype_aliases():
    assert kv_dtype_bits("fp8") == 8 and kv_dtype_bits("auto") == 16 and kv_dtype_bits("int4") == 4
    with pytest.raises(ValueError, match="unknown KV data type"):
        kv_dtype_bits("fp7")


def test_attention_output_gate_doubles_the_query_projection():
    from inferbook.calc.params import attention_params

    gated = LLAMA_31_8B.model_copy(update={"attention_output_gate": True})
    assert attention_params(gated) - attention_params(LLAMA_31_8B) == 4096 * 32 * 128


# Mamba-2 hybrids, MTP modules, vision encoders ----------------------------------------------------
NEMOTRON_H_56B = ModelArchitecture.model_validate({  # nvidia/Nemotron-H-56B-Base-8K config.json
    "layers": 118, "hidden_size": 8192, "attention_heads": 64, "kv_heads": 8, "head_dim": 128,
    "intermediate_size": 32768, "vocab_size": 131072, "context_length": 8192, "tie_word_embeddings": False,
    "attention": "gqa", "gated_mlp": False,
    "layer_pattern": [{"M": "mamba", "-": "mlp", "*": "full"}[c] for c in
                      "M-M-M-M*-M-M-M-M-M*-M-M-M-M-M*-M-M-M-M-M*-M-M-M-M-M*-M-M-M-M-M*-M-M-M-M-M*-M-M-M-M-M*"
                      "-M-M-M-M-M*-M-M-M-M-M*-M-M-M-M-M-"],
    "mamba": {"heads": 256, "head_dim": 64, "state_size": 256, "groups": 8, "conv_kernel": 4},
})


def test_mamba_2_hybrid_parameters_are_exact():
    from inferbook.calc.params import blocks, mamba_params

    p = count_params(NEMOTRON_H_56B)
    # Mamba-2 mixer: inner 256*64 = 16384, conv channels 16384 + 2*8*256 = 20480;
    # in_proj 8192*(16384 + 20480 + 256) = 304,087,040; conv 20480*4 + 20480 bias = 102,400;
    # dt_bias, A_log, D 3*256 = 768; gated norm 16384; out_proj 16384*8192 = 134,217,728
    assert mamba_params(NEMOTRON_H_56B) == 438_424_320
    # 54 Mamba mixers and 10 attention layers (q, o 8192^2 each, k, v 8192*1024 each) hold the mixer weights
    assert p.attention == 54 * 438_424_320 + 10 * 150_994_944
    assert p.ffn_dense == 54 * 2 * 8192 * 32768  # the "-" blocks: up and down projections only
    assert p.norms == 118 * 8192 + 8192  # one norm per block, and norm_f
    assert p.total == 56_324_350_464 and p.active == p.total
    assert blocks(NEMOTRON_H_56B) == 118 and blocks(LLAMA_31_8B) == 64


def test_mamba_state_is_per_sequence_split_by_tp_and_kept_in_its_dtype():
    from inferbook.calc.kv import state_bytes_per_sequence

    # per layer: SSM 256*64*256 = 4,194,304 + conv 3*20480 = 61,440 elements, 16 bits each
    assert state_bytes_per_sequence(NEMOTRON_H_56B) == 54 * 4_255_744 * 2
    # TP 8: 32 heads and one group per rank: 32*64*256 + 3*(2048 + 2*256) = 531,968 elements
    assert state_bytes_per_sequence(NEMOTRON_H_56B, tp=8) == 54 * 531_968 * 2
    assert NEMOTRON_H_56B.mamba is not None
    fp32_state = NEMOTRON_H_56B.mamba.model_copy(update={"ssm_state_dtype": "fp32"})
    fp32 = NEMOTRON_H_56B.model_copy(update={"mamba": fp32_state})
    assert state_bytes_per_sequence(fp32) == 54 * (4_194_304 * 4 + 61_440 * 2)  # the convolution stays 16-bit
    kv = kv_bytes(NEMOTRON_H_56B, 1000, 16.0, batch=2, state=True)
    assert kv.layers_cached == 10 and kv_bytes_per_token(NEMOTRON_H_56B) == 10 * 2 * 8 * 128 * 2
    assert kv.state_bytes == 2 * state_bytes_per_sequence(NEMOTRON_H_56B)
    assert kv.bytes_unique == 2 * 1000 * 10 * 2 * 8 * 128 * 2 + kv.state_bytes


def test_schema_checks_the_new_layouts():
    with pytest.raises(ValueError, match="mamba shape is missing"):
        ModelArchitecture.model_validate({**NEMOTRON_H_56B.model_dump(), "mamba": None})
    with pytest.raises(ValueError, match="moe layers but the moe block is missing"):
        ModelArchitecture.model_validate({**NEMOTRON_H_56B.model_dump(),
                                          "layer_pattern": ["mamba", "moe", "full", "mlp"]})
    with pytest.raises(ValueError, match="multiple of the groups"):
        ModelArchitecture.model_validate({**NEMOTRON_H_56B.model_dump(),
                                          "mamba": {**NEMOTRON_H_56B.mamba.model_dump(), "groups": 7}})


def test_mtp_modules_are_counted_apart_and_loaded_only_on_request():
    from inferbook.calc.params import attention_params, mtp_params

    with_mtp = DEEPSEEK_V3_LIKE.model_copy(update={"mtp_layers": 1})
    p, plain = count_params(with_mtp), count_params(DEEPSEEK_V3_LIKE)
    assert p.total == plain.total and plain.mtp == 0  # the stated total stays the main model's
    moe = 3 * 7168 * 2048 * (256 + 1) + 7168 * 256  # routed and shared experts, router
    m = mtp_params(with_mtp)
    assert (m.attention, m.ffn_experts, m.ffn_dense, m.norms) == (attention_params(with_mtp) + 2 * 7168 * 7168,
                                                                  moe, 0, 5 * 7168)
    assert p.mtp == m.total == 11_610_067_968
    bf16, fp8 = fmt(16.0), fmt(8.0)
    assert weight_bytes(with_mtp, bf16).total_bytes == weight_bytes(DEEPSEEK_V3_LIKE, bf16).total_bytes
    loaded = weight_bytes(with_mtp, fp8, mtp=True)
    assert loaded.mtp_bytes == (m.attention + m.ffn_experts) * 1 + m.norms * 2
    assert loaded.total_bytes == weight_bytes(with_mtp, fp8).total_bytes + loaded.mtp_bytes
    # the modules sit on the last pipeline stage, sharded over TP
    last_stage = weight_bytes(with_mtp, fp8, tp=4, pp=2, mtp=True).per_gpu_bytes
    assert last_stage > weight_bytes(with_mtp, fp8, tp=4, pp=2).per_gpu_bytes
    assert weight_bytes(LLAMA_31_8B, fp8, mtp=True) == weight_bytes(LLAMA_31_8B, fp8)  # nothing to add


QWEN35_VISION = {"layers": 27, "hidden_size": 1152, "intermediate_size": 4304, "heads": 16, "patch_size": 16,
                 "temporal_patch_size": 2, "spatial_merge_size": 2, "out_hidden_size": 5120,
                 "position_embeddings": 2304}  # Qwen/Qwen3.5-27B vision_config


def test_vision_tower_parameters_and_weights():
    from inferbook.calc.vision import image_tokens
    from inferbook.schema import VisionEncoder

    vision = VisionEncoder.model_validate(QWEN35_VISION)
    arch = LLAMA_31_8B.model_copy(update={"vision": vision})
    # patch embed 3*2*16*16*1152 + 1152; positions 2304*1152; per block 4*1152 (two LayerNorms) + qkv 3*1152^2 + 3*1152
    # + proj 1152^2 + 1152 + fc1 1152*4304 + 4304 + fc2 4304*1152 + 1152; merger over 4608 = 1152*4:
    # LayerNorm 2*1152, fc1 4608^2 + 4608, fc2 4608*5120 + 5120
    block = 4 * 1152 + 3 * 1152 ** 2 + 3 * 1152 + 1152 ** 2 + 1152 + 1152 * 4304 + 4304 + 4304 * 1152 + 1152
    expected = 1_769_472 + 1152 + 2304 * 1152 + 27 * block + 2 * 1152 + 4608 ** 2 + 4608 + 4608 * 5120 + 5120
    p = count_params(arch)
    assert p.vision == expected == 460_730_096 and p.total == count_params(LLAMA_31_8B).total
    deepstack = VisionEncoder.model_validate({**QWEN35_VISION, "deepstack_mergers": 3})
    merger_post = 2 * 4608 + 4608 ** 2 + 4608 + 4608 * 5120 + 5120  # LayerNorm over the merged width
    assert count_params(LLAMA_31_8B.model_copy(update={"vision": deepstack})).vision == expected + 3 * merger_post
    # the tower is loaded with the model, in 16 bits under a 4-bit format
    assert weight_bytes(arch, fmt(4.0)).vision_bytes == expected * 2
    # 32-pixel tokens (16-pixel patches, 2 x 2 merged); sides rounded to the nearest multiple, halves to even
    assert image_tokens(vision, 1024, 768) == 32 * 24
    assert image_tokens(vision, 1000, 700) == 31 * 22
    assert image_tokens(vision, 80, 48) == 2 * 2 and image_tokens(vision, 1, 1) == 1
    assert image_tokens(vision, 4000, 3000, max_pixels=1_000_000) == 36 * 27  # scaled down to the pixel budget
    with pytest.raises(ValueError, match="at least 1 pixel"):
        image_tokens(vision, 0, 10)


def test_mamba_heads_must_divide_tp():
    from inferbook.calc.feasibility import parallel_findings

    assert parallel_findings(NEMOTRON_H_56B, 8, 1, 1, 8) == []
    found = parallel_findings(NEMOTRON_H_56B, 16, 1, 1, 16)  # 8 groups cannot be split 16 ways
    assert any("Mamba layers" in f.message for f in found)


DEEPSEEK_V32_LIKE = DEEPSEEK_V3_LIKE.model_copy(update={  # deepseek-ai/DeepSeek-V3.2 config.json: V3 plus DSA
    "sparse_attention": SparseAttention(kind="dsa", index_heads=64, index_head_dim=128, index_topk=2048)})


def test_dsa_indexer_parameters():
    from inferbook.calc.params import attention_params, indexer_params
    # wq_b 1536 -> 64*128 = 12,582,912; wk 7168 -> 128 = 917,504; k_norm weight+bias 256; weights_proj 7168 -> 64
    # = 458,752: 13,959,424 per layer (class Indexer of DeepSeek-V3.2-Exp's inference/model.py)
    assert indexer_params(DEEPSEEK_V32_LIKE) == 1536 * 64 * 128 + 7168 * 128 + 2 * 128 + 7168 * 64 == 13_959_424
    assert indexer_params(DEEPSEEK_V3_LIKE) == 0
    assert attention_params(DEEPSEEK_V32_LIKE) - attention_params(DEEPSEEK_V3_LIKE) == 13_959_424
    assert count_params(DEEPSEEK_V32_LIKE).total - count_params(DEEPSEEK_V3_LIKE).total == 61 * 13_959_424


def test_dsa_kv_cache_adds_the_fp8_indexer_key():
    a = DEEPSEEK_V32_LIKE
    assert a.mla is not None and a.sparse_attention is not None
    latent = a.mla.kv_lora_rank + a.mla.qk_rope_head_dim  # 576 values per token and layer
    d = a.sparse_attention.index_head_dim
    index_key = d + d // 128 * 4  # FP8 key plus a float32 scale per 128 values: 132 bytes, whatever the KV dtype
    assert index_key == 132
    for bits in (16, 8):
        assert kv_bytes_per_token(a, bits) == 61 * (latent * bits / 8 + index_key)
        assert kv_bytes_per_token(DEEPSEEK_V3_LIKE, bits) == 61 * latent * bits / 8
    assert kv_bytes_per_token(a, 8) == 61 * (576 + 132) == 43_188
    tp8 = kv_bytes(a, 1000, 8, tp=8)  # latent and indexer key are both replicated on every rank
    assert tp8.bytes_per_gpu == tp8.bytes_unique == 1000 * 43_188 and tp8.bytes_total == 8 * tp8.bytes_unique


def test_dsa_decode_reads_less_attention_but_holds_more_cache():
    import inferbook
    from inferbook.calc.perf import Deployment, step_cost
    from inferbook.calc.roofline import Roofline, attention_layout, step_model
    kb = inferbook.load()
    gpu, fp8 = kb.gpus["h200-sxm"], kb.formats["fp8-e4m3"]
    sparse, dense = DEEPSEEK_V32_LIKE, DEEPSEEK_V32_LIKE.model_copy(update={"sparse_attention": None})
    context = 100_000
    assert kv_bytes(sparse, context, 8).bytes_unique > kv_bytes(dense, context, 8).bytes_unique
    r_sparse, r_dense = Roofline(sparse, gpu, fp8, 8.0, 8), Roofline(dense, gpu, fp8, 8.0, 8)
    weights = r_sparse.weight_bytes_per_gpu(r_sparse.experts_touched_fraction(16))
    read_sparse = r_sparse.decode_step(16, context).bytes_read - weights
    read_dense = r_dense.decode_step(16, context).bytes_read - r_dense.weight_bytes_per_gpu(
        r_dense.experts_touched_fraction(16))
    # dense: every latent; sparse: every 132-byte indexer key plus 2,048 latents per layer
    assert read_dense == pytest.approx(16 * context * 61 * 576)
    assert read_sparse == pytest.approx(16 * 61 * (context * 132 + 2048 * 576))
    assert read_sparse < read_dense / 3
    assert r_sparse.decode_step(16, context).flops < r_dense.decode_step(16, context).flops
    # the step models: indexer as the full part, the top-k attention as a window of index_topk
    layout = attention_layout(sparse)
    assert (layout.n_full, layout.n_window, layout.window) == (61, 61, 2048)
    assert layout.full_flops_per_position == 2 * 64 * 128
    costs = (step_cost(Deployment(sparse, gpu, fp8, 8.0, 8)), step_cost(Deployment(dense, gpu, fp8, 8.0, 8)))
    for m_sparse, m_dense in ((step_model(r_sparse), step_model(r_dense)), costs):
        assert m_sparse.window == 2048 and m_dense.window is None
        assert m_sparse.kv_bytes_full == 61 * 132 and m_sparse.kv_bytes_window == pytest.approx(61 * 576)
        call_sparse = (16, 16, 16 * (context + 1.0), 16 * 2049.0, 16 * context, 16 * 2048.0, 16)
        call_dense = (16, 16, 16 * (context + 1.0), 0.0, 16 * context, 0.0, 16)
        assert m_sparse.seconds(*call_sparse) < m_dense.seconds(*call_dense)


def test_siglip_and_pixtral_towers():
    from inferbook.calc.params import vision_params
    from inferbook.calc.vision import image_tokens
    from inferbook.schema import VisionEncoder

    # google/gemma-3-4b-it: SigLIP 27 x 1152 (MLP 4304), 14-pixel patches over 896 pixels, 256 tokens an image
    siglip = VisionEncoder(kind="siglip", layers=27, hidden_size=1152, intermediate_size=4304, heads=16,
                           patch_size=14, out_hidden_size=2560, image_size=896, tokens_per_image=256)
    h, i = 1152, 4304
    block = 2 * 2 * h + 4 * (h * h + h) + h * i + i + i * h + h
    tower = 3 * 14 * 14 * h + h + 64 * 64 * h + 27 * block + 2 * h  # conv, positions, blocks, post LayerNorm
    assert tower == 416_866_032 and vision_params(siglip) == tower + h + h * 2560 == 419_816_304
    assert image_tokens(siglip, 1920, 1080) == image_tokens(siglip, 1, 1) == 256
    # mistralai/Ministral-3-3B: Pixtral 24 x 1024 (gated MLP 4096), 2 x 2 patch merger, projector to 3072
    pixtral = VisionEncoder(kind="pixtral", layers=24, hidden_size=1024, intermediate_size=4096, heads=16,
                            patch_size=14, spatial_merge_size=2, out_hidden_size=3072, image_size=1540)
    h, i = 1024, 4096
    tower = 3 * 14 * 14 * h + h + 24 * (2 * h + 4 * h * h + 3 * h * i)
    assert vision_params(pixtral) == tower + h + 4 * h * h + h * 3072 + 3072 * 3072 == 420_083_712
    # 28-pixel cells, a partial cell counts, one break token per row but the last
    assert image_tokens(pixtral, 1024, 768) == 28 * 37 + 27
    assert image_tokens(pixtral, 1, 1) == 1
    assert image_tokens(pixtral, 3080, 1540) == 28 * 55 + 27  # scaled down to 1540 x 770
    with pytest.raises(ValueError, match="needs image_size"):
        VisionEncoder(kind="pixtral", layers=1, hidden_size=64, intermediate_size=64, heads=1, patch_size=14,
                      spatial_merge_size=2, out_hidden_size=64)
    with pytest.raises(ValueError, match="does not apply"):
        VisionEncoder(kind="siglip", layers=1, hidden_size=64, intermediate_size=64, heads=1, patch_size=14,
                      out_hidden_size=64, image_size=896, tokens_per_image=256, spatial_merge_size=2)


def test_glm4v_and_moonvit_towers():
    from inferbook.calc.params import vision_params
    from inferbook.calc.vision import image_tokens
    from inferbook.schema import VisionEncoder

    # zai-org/GLM-4.5V (and GLM-4.6V): 24 x 1536, blocks' gated MLP 4096 wide, Conv2d downsample, merger 10944 wide
    glm = VisionEncoder(kind="glm4v", layers=24, hidden_size=1536, intermediate_size=10944, heads=12, patch_size=14,
                        temporal_patch_size=2, spatial_merge_size=2, out_hidden_size=4096, image_size=336)
    h, o, i = 1536, 4096, 10944
    patch = 3 * 2 * 14 * 14 * h + h + h  # Conv3d with bias, post_conv_layernorm
    positions = 24 * 24 * h
    blocks = 24 * (2 * h + 3 * h * h + h * h + 3 * h * o)  # two RMSNorms, bias-free qkv and proj, gated MLP to o
    downsample = h * o * 2 * 2 + o
    merger = o * o + 2 * o + 3 * o * i  # proj, LayerNorm, gated MLP
    assert vision_params(glm) == patch + positions + blocks + h + downsample + merger == 858_681_856
    # smart_resize: sides rounded to 28, two frames of pixels held within the checkpoints' [12544, 9633792]
    assert image_tokens(glm, 1024, 768) == 27 * 37
    assert image_tokens(glm, 1, 1) == 3 * 3  # scaled up to 28 x 28, then to the 12,544-pixel floor (84 x 84)
    assert image_tokens(glm, 8000, 6000) == 67 * 90  # scaled down: 2 x 1876 x 2520 <= 9,633,792
    assert image_tokens(glm, 8000, 6000, max_pixels=2 * 1120 * 1120) == 34 * 46  # a caller's tighter bound
    with pytest.raises(ValueError, match="aspect ratio"):
        image_tokens(glm, 10_000, 40)
    # moonshotai/Kimi-K2.5: MoonViT 27 x 1152 (MLP 4304), 64 x 64 position grid, 2 x 2 merger, projector to 7168
    moon = VisionEncoder(kind="moonvit", layers=27, hidden_size=1152, intermediate_size=4304, heads=16, patch_size=14,
                         spatial_merge_size=2, out_hidden_size=7168, position_embeddings=64 * 64)
    h, i, g = 1152, 4304, 4 * 1152
    tower = 3 * 14 * 14 * h + h + 4096 * h + 27 * (4 * h + 4 * (h * h + h) + h * i + i + i * h + h) + 2 * h
    assert tower == 416_866_032  # the SigLIP-so400m shape
    assert vision_params(moon) == tower + 2 * h + g * g + g + g * 7168 + 7168 == 471_143_920
    # navit_resize_image: no upscaling, at most 16,384 patches and 512 a side, padded to 28-pixel cells
    assert image_tokens(moon, 1024, 768) == 28 * 37
    assert image_tokens(moon, 1, 1) == 1
    assert image_tokens(moon, 4000, 3000) == 56 * 75  # scaled by sqrt(16384 / (285 x 214)) to 2073 x 1555
    assert image_tokens(moon, 20_000, 100) == 2 * 256  # 512 patches a side: 7168 x 35, padded to 7168 x 56
    with pytest.raises(ValueError, match="does not apply"):
        VisionEncoder(kind="glm4v", layers=1, hidden_size=64, intermediate_size=64, heads=1, patch_size=14,
                      spatial_merge_size=2, out_hidden_size=64, image_size=336, position_embeddings=576)
    with pytest.raises(ValueError, match="needs spatial_merge_size"):
        VisionEncoder(kind="moonvit", layers=1, hidden_size=64, intermediate_size=64, heads=1, patch_size=14,
                      out_hidden_size=64)
