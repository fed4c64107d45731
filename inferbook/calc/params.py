"""Parameter counts from an architecture: embeddings, attention (standard or
MLA), dense and MoE feed-forward layers, norms; total and active per token."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..schema import ModelArchitecture


@dataclass(frozen=True, slots=True)
class ParamCount:
    """Parameter counts (plain numbers of weights) by tensor group."""

    embedding: int
    """Input token embedding."""
    lm_head: int
    """Output projection; 0 when tied to the embedding."""
    attention: int
    """All attention projections of all layers."""
    ffn_dense: int
    """Dense feed-forward layers."""
    ffn_experts: int
    """All routed and shared expert weights plus routers."""
    ffn_experts_active: int
    """Expert weights one token passes through (routed top-k plus shared) plus routers."""
    norms: int
    approximate: bool
    """True when linear-attention layers without a `linear_attention` shape are counted
    with the attention formula."""

    @property
    def total(self) -> int:
        return self.embedding + self.lm_head + self.attention + self.ffn_dense + self.ffn_experts + self.norms

    @property
    def active(self) -> int:
        """Weights used for one token (the embedding row lookup counted in full, by convention)."""
        return self.embedding + self.lm_head + self.attention + self.ffn_dense + self.ffn_experts_active + self.norms

    @property
    def linear(self) -> int:
        """Weights of matrix multiplications inside the layers (what quantization formats compress)."""
        return self.attention + self.ffn_dense + self.ffn_experts


def attention_params(arch: ModelArchitecture) -> int:
    """Projection weights of one attention layer (biases ignored: under 0.1% of a layer)."""
    h = arch.hidden_size
    if arch.mla is not None:
        m = arch.mla
        qk = m.qk_nope_head_dim + m.qk_rope_head_dim
        if m.q_lora_rank:
            q = h * m.q_lora_rank + m.q_lora_rank + m.q_lora_rank * arch.attention_heads * qk
        else:
            q = h * arch.attention_heads * qk
        kv_a = h * (m.kv_lora_rank + m.qk_rope_head_dim) + m.kv_lora_rank
        kv_b = m.kv_lora_rank * arch.attention_heads * (m.qk_nope_head_dim + m.v_head_dim)
        o = arch.attention_heads * m.v_head_dim * h
        return q + kv_a + kv_b + o
    q = h * arch.attention_heads * arch.head_dim * (2 if arch.attention_output_gate else 1)
    kv = 2 * h * arch.kv_heads * arch.head_dim
    o = arch.attention_heads * arch.head_dim * h
    return q + kv + o


def linear_attention_params(arch: ModelArchitecture) -> int:
    """Weights of one Gated DeltaNet layer (the layout of Qwen3-Next in Hugging Face
    transformers): one input projection to query, key, value and output gate, one to the
    per-head beta and decay inputs, a depthwise convolution over q, k and v, per-head decay
    parameters, a gated RMS norm over one value head, and the output projection."""
    la = arch.linear_attention
    if la is None:
        raise ValueError("the model has no linear_attention shape")
    h = arch.hidden_size
    key_dim = la.key_heads * la.key_head_dim
    value_dim = la.value_heads * la.value_head_dim
    projections = h * (2 * key_dim + 2 * value_dim) + h * 2 * la.value_heads
    convolution = (2 * key_dim + value_dim) * la.conv_kernel
    decay = 2 * la.value_heads  # A_log and dt_bias
    return projections + convolution + decay + la.value_head_dim + value_dim * h


def mixer_params(arch: ModelArchitecture, kind: str) -> int:
    """Weights of the token mixer of one layer of ``kind`` (attention or linear attention)."""
    if kind == "linear" and arch.linear_attention is not None:
        return linear_attention_params(arch)
    return attention_params(arch)


def is_moe_layer(arch: ModelArchitecture, layer: int) -> bool:
    """Whether layer ``layer`` (0-based) uses the MoE feed-forward block."""
    moe = arch.moe
    if moe is None or layer < moe.dense_layers:
        return False
    return (layer - moe.dense_layers) % moe.layer_interval == moe.layer_interval - 1


def count_params(arch: ModelArchitecture) -> ParamCount:
    """Count parameters of a decoder-only transformer described by ``arch``."""
    try:
        return _count_params_cached(arch)
    except TypeError:  # unhashable: an architecture copied with a list in it (model_copy does not validate)
        return _count_params(arch)


@lru_cache(maxsize=1024)
def _count_params_cached(arch: ModelArchitecture) -> ParamCount:
    """`_count_params` remembered per architecture. The roofline asks for the same counts
    several times per decode step; the architecture is a frozen pydantic model, hashed and
    compared by the values of its fields, and the result is an immutable dataclass, so a
    cached answer is the answer."""
    return _count_params(arch)


def _count_params(arch: ModelArchitecture) -> ParamCount:
    h = arch.hidden_size
    matrices = 3 if arch.gated_mlp else 2
    embedding = arch.vocab_size * h
    lm_head = 0 if arch.tie_word_embeddings else arch.vocab_size * h
    pattern = arch.layer_pattern
    attention = sum(mixer_params(arch, pattern[i % len(pattern)]) for i in range(arch.layers))
    dense = experts = experts_active = 0
    for layer in range(arch.layers):
        if is_moe_layer(arch, layer):
            moe = arch.moe
            assert moe is not None
            per_expert = matrices * h * moe.expert_intermediate_size
            router = h * moe.experts
            experts += per_expert * (moe.experts + moe.shared_experts) + router
            experts_active += per_expert * (moe.experts_per_token + moe.shared_experts) + router
        else:
            if arch.intermediate_size is None:
                raise ValueError("a dense layer exists but intermediate_size is not set")
            dense += matrices * h * arch.intermediate_size
    norms = 2 * h * arch.layers + h
    return ParamCount(embedding, lm_head, attention, dense, experts, experts_active, norms,
                      approximate="linear" in arch.layer_pattern and arch.linear_attention is None)
