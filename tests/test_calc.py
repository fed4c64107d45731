"""Calculator core on hand-checked architectures (numbers worked out in comments)."""

from __future__ import annotations

import pytest

from inferbook.calc import count_params, kv_bytes, kv_bytes_per_token, kv_dtype_bits, weight_bytes
from inferbook.schema import Format, ModelArchitecture

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
