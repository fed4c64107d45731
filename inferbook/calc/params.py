"""Parameter counts from an architecture: embeddings, token mixers (standard or MLA
attention, Gated DeltaNet, Mamba-2), dense and MoE feed-forward layers, norms; total and
active per token. The multi-token-prediction modules and the vision encoder are counted
apart (`ParamCount.mtp`, `ParamCount.vision`): `total` stays the language model vendors state.

Sources of the layouts: Mamba-2 as NemotronHMamba2Mixer in Hugging Face transformers (in_proj to
gate, x, B, C and dt; a depthwise convolution over x, B and C; dt_bias, A_log and D per head; a
gated RMS norm over the inner width; out_proj), one block per layer with one norm as NemotronHBlock;
DeepSeek Sparse Attention's lightning indexer as class Indexer in DeepSeek-V3.2-Exp's inference/model.py
(source deepseek-v32-exp-code-indexer; the MTP layer carries one too, as its decoder layer is a main one);
MTP as vLLM's DeepSeekMultiTokenPredictorLayer (enorm, hnorm, eh_proj 2h -> h, one decoder layer,
the shared head's norm); the vision towers as Qwen3VLVisionModel (Conv3d patch embedding, learned
positions, LayerNorm ViT blocks with biased qkv/proj and a two-matrix MLP, patch mergers), as
SiglipVisionModel with Gemma3MultiModalProjector, as PixtralVisionModel with
Mistral3MultiModalProjector, as Glm4vMoeVisionModel (GLM-4.5V and GLM-4.6V) and as Kimi-K2.5's
MoonViT3dPretrainedModel with its PatchMergerMLP (`vision_params`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..schema import ModelArchitecture
from ..schema.models import ATTENTION_KINDS, FFN_KINDS, VisionEncoder


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
    """Norm weights: one or two per layer (one when each layer is a single block) plus the final norm,
    each of hidden size."""
    approximate: bool
    """True when linear-attention layers without a `linear_attention` shape are counted
    with the attention formula."""
    mtp: int = 0
    """Multi-token-prediction modules (`mtp_layers`), not in `total`: loaded only for MTP
    speculative decoding."""
    vision: int = 0
    """Vision encoder and merger, not in `total` (vendors state the language model)."""

    @property
    def total(self) -> int:
        """All weights of the language model, every expert included; without `mtp` and `vision`."""
        return self.embedding + self.lm_head + self.attention + self.ffn_dense + self.ffn_experts + self.norms

    @property
    def active(self) -> int:
        """Weights used for one token (the embedding row lookup counted in full, by convention)."""
        return self.embedding + self.lm_head + self.attention + self.ffn_dense + self.ffn_experts_active + self.norms

    @property
    def linear(self) -> int:
        """Weights of matrix multiplications inside the layers (what quantization formats compress)."""
        return self.attention + self.ffn_dense + self.ffn_experts


def indexer_params(arch: ModelArchitecture) -> int:
    """Weights of the lightning indexer of one DeepSeek Sparse Attention layer (0 without
    `sparse_attention`), as class Indexer in DeepSeek-V3.2-Exp's inference/model.py and in vLLM's
    deepseek_v2.py define it: wq_b (q_lora_rank -> index_heads x index_head_dim, from the compressed
    query), wk (hidden -> one index_head_dim key), k_norm (a LayerNorm over index_head_dim with weight
    and bias) and weights_proj (hidden -> one weight per index head); no biases on the projections."""
    dsa = arch.sparse_attention
    if dsa is None or arch.mla is None or not arch.mla.q_lora_rank:
        return 0
    h, d = arch.hidden_size, dsa.index_head_dim
    return arch.mla.q_lora_rank * dsa.index_heads * d + h * d + 2 * d + h * dsa.index_heads


def attention_params(arch: ModelArchitecture) -> int:
    """Projection weights of one attention layer (biases ignored: under 0.1% of a layer), with the
    lightning indexer of a DeepSeek Sparse Attention layer."""
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
        return q + kv_a + kv_b + o + indexer_params(arch)
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


def mamba_params(arch: ModelArchitecture) -> int:
    """Weights of one Mamba-2 mixer (NemotronHMamba2Mixer / GraniteMoeHybridMambaLayer): in_proj from
    hidden to the gate z, x, B, C and dt (inner + conv channels + heads), a depthwise convolution over
    x, B and C (conv channels = inner + 2 x groups x state_size) with its bias, dt_bias, A_log and D per
    head, the gated RMS norm over the inner width, and out_proj back to hidden."""
    m = arch.mamba
    if m is None:
        raise ValueError("the model has no mamba shape")
    h = arch.hidden_size
    inner = m.heads * m.head_dim
    conv_dim = inner + 2 * m.groups * m.state_size
    proj_out = inner + conv_dim + m.heads
    in_proj = h * proj_out + (proj_out if m.proj_bias else 0)
    convolution = conv_dim * m.conv_kernel + (conv_dim if m.conv_bias else 0)
    out_proj = inner * h + (h if m.proj_bias else 0)
    return in_proj + convolution + 3 * m.heads + inner + out_proj


def mixer_params(arch: ModelArchitecture, kind: str) -> int:
    """Weights of the token mixer of one layer of ``kind`` (attention, linear attention or Mamba-2)."""
    if kind == "linear" and arch.linear_attention is not None:
        return linear_attention_params(arch)
    if kind == "mamba":
        return mamba_params(arch)
    return attention_params(arch)


@lru_cache(maxsize=256)
def _one_block(pattern: tuple[str, ...]) -> bool:
    return bool(FFN_KINDS.intersection(pattern))


def one_block_layers(arch: ModelArchitecture) -> bool:
    """Whether each layer holds one block (a token mixer or a feed-forward block, Nemotron-H) rather
    than a mixer and a feed-forward block."""
    return _one_block(arch.layer_pattern)


def blocks(arch: ModelArchitecture) -> int:
    """Residual blocks of the model (each ends in one all-reduce under tensor parallelism)."""
    return arch.layers if one_block_layers(arch) else 2 * arch.layers


def attention_layers(arch: ModelArchitecture) -> int:
    """Layers that keep a per-token KV cache (full, sliding or chunked attention)."""
    pattern = arch.layer_pattern
    return sum(1 for i in range(arch.layers) if pattern[i % len(pattern)] in ATTENTION_KINDS)


def is_moe_layer(arch: ModelArchitecture, layer: int) -> bool:
    """Whether layer ``layer`` (0-based) uses the MoE feed-forward block."""
    moe = arch.moe
    if moe is None:
        return False
    if one_block_layers(arch):
        return arch.layer_pattern[layer % len(arch.layer_pattern)] == "moe"
    if layer < moe.dense_layers:
        return False
    return (layer - moe.dense_layers) % moe.layer_interval == moe.layer_interval - 1


def moe_layer_params(arch: ModelArchitecture) -> tuple[int, int]:
    """(all, active per token) weights of one MoE block: routed and shared experts plus the router."""
    moe = arch.moe
    if moe is None:
        raise ValueError("the model has no moe block")
    h = arch.hidden_size
    per_expert = (3 if arch.gated_mlp else 2) * h * moe.expert_intermediate_size
    router = h * moe.experts
    return (per_expert * (moe.experts + moe.shared_experts) + router,
            per_expert * (moe.experts_per_token + moe.shared_experts) + router)


@dataclass(frozen=True, slots=True)
class MtpParams:
    """Weights of the multi-token-prediction modules by tensor group."""

    attention: int
    """The attention of each module plus its eh_proj (2 x hidden -> hidden)."""
    ffn_dense: int
    ffn_experts: int
    norms: int

    @property
    def total(self) -> int:
        return self.attention + self.ffn_dense + self.ffn_experts + self.norms


def mtp_params(arch: ModelArchitecture) -> MtpParams:
    """Weights of the `mtp_layers` modules, each counted as vLLM's DeepSeekMultiTokenPredictorLayer:
    enorm and hnorm, eh_proj (2 x hidden -> hidden), one full-attention decoder layer with the model's
    feed-forward block (MoE when the model has experts, as DeepSeek-V3, GLM-4.5 and Qwen3.5-MoE do;
    dense otherwise, as MiMo and Qwen3.5-27B) and its two norms, and the shared head's norm. The
    embedding and output head are the main model's."""
    n = arch.mtp_layers
    if not n:
        return MtpParams(0, 0, 0, 0)
    h = arch.hidden_size
    dense = experts = 0
    if arch.moe is not None:
        experts = moe_layer_params(arch)[0]
    else:
        if arch.intermediate_size is None:
            raise ValueError("the MTP layer has a dense feed-forward block but intermediate_size is not set")
        dense = (3 if arch.gated_mlp else 2) * h * arch.intermediate_size
    return MtpParams(n * (attention_params(arch) + 2 * h * h), n * dense, n * experts, n * 5 * h)


def vision_params(vision: VisionEncoder) -> int:
    """Weights of a vision tower with its projector into the language model, by `vision.kind`.

    qwen3-vl (Qwen3VLVisionModel in transformers): the Conv3d patch embedding with bias, the learned
    position table, `layers` blocks of two LayerNorms (weight and bias), a biased qkv and output projection
    and a biased two-matrix MLP, the merger (LayerNorm over one patch, fc1 over the merged width, fc2 to
    out_hidden_size, both biased), and the DeepStack mergers, whose LayerNorm spans the merged width (none
    in Qwen3.5). siglip (SiglipVisionModel without its head, as Gemma 3 loads it): a biased Conv2d patch
    embedding, a position table of (image_size / patch_size)^2 rows, blocks of two LayerNorms, biased q, k, v
    and output projections and a biased fc1/fc2 MLP, the post LayerNorm, then Gemma3MultiModalProjector's
    RMSNorm and bias-free projection to out_hidden_size. pixtral (PixtralVisionModel): a bias-free Conv2d
    patch embedding, an RMSNorm, blocks of two RMSNorms, bias-free q, k, v, o and a gated three-matrix MLP
    (rotary positions, no table), then Mistral3MultiModalProjector: RMSNorm, the bias-free patch merger over
    spatial_merge_size^2 patches and two bias-free linears to out_hidden_size.

    glm4v (Glm4vMoeVisionModel in transformers, as vLLM's Glm4vVisionTransformer builds it too): a biased Conv3d
    patch embedding temporal_patch_size frames deep, an RMSNorm after it (post_conv_layernorm), a learned position
    table of (image_size // patch_size)^2 rows, `layers` blocks of two RMSNorms, a bias-free qkv and output
    projection (attention_bias false, which the importer checks) and a bias-free gated MLP whose width is
    out_hidden_size, the post RMSNorm, a biased Conv2d downsample of spatial_merge_size^2 patches to
    out_hidden_size, then the merger: a bias-free out x out projection, a LayerNorm (weight and bias) and a bias-free
    gated MLP intermediate_size wide. moonvit (MoonViT3dPretrainedModel in Kimi-K2.5's modeling_kimi_k25.py): a
    biased Conv2d patch embedding, a learned position grid of position_embeddings rows (its temporal table is a
    fixed sin-cos buffer), blocks of two LayerNorms, a biased wqkv and wo and a biased fc0/fc1 MLP, the final
    LayerNorm, then PatchMergerMLP: a LayerNorm over one patch, a biased linear over the spatial_merge_size^2
    merged patches and a biased linear to out_hidden_size."""
    h = vision.hidden_size
    i = vision.intermediate_size
    out = vision.out_hidden_size
    merge = vision.spatial_merge_size or 1
    conv = vision.in_channels * vision.patch_size ** 2 * h
    if vision.kind == "siglip":
        rows = ((vision.image_size or 0) // vision.patch_size) ** 2
        block = 4 * h + 4 * (h * h + h) + (h * i + i) + (i * h + h)
        return conv + h + rows * h + vision.layers * block + 2 * h + h + h * out
    if vision.kind == "pixtral":
        block = 2 * h + 4 * h * h + 3 * h * i
        return conv + h + vision.layers * block + h + merge ** 2 * h * h + h * out + out * out
    if vision.kind == "glm4v":
        rows = ((vision.image_size or 0) // vision.patch_size) ** 2
        block = 2 * h + 4 * h * h + 3 * h * out
        downsample = merge ** 2 * h * out + out
        gated_merger = out * out + 2 * out + 3 * out * i
        return (vision.temporal_patch_size * conv + h + h + rows * h + vision.layers * block + h + downsample
                + gated_merger)
    if vision.kind == "moonvit":
        block = 4 * h + 4 * (h * h + h) + (h * i + i) + (i * h + h)
        merged = h * merge ** 2
        projector = 2 * h + merged * merged + merged + merged * out + out
        return conv + h + vision.position_embeddings * h + vision.layers * block + 2 * h + projector
    patch = vision.temporal_patch_size * conv + h
    positions = vision.position_embeddings * h
    block = 4 * h + (3 * h * h + 3 * h) + (h * h + h) + (h * i + i) + (i * h + h)
    merged = h * merge ** 2

    def merger(norm_width: int) -> int:
        return 2 * norm_width + merged * merged + merged + merged * out + out

    return patch + positions + vision.layers * block + merger(h) + vision.deepstack_mergers * merger(merged)


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
    one_block = one_block_layers(arch)
    attention = sum(mixer_params(arch, pattern[i % len(pattern)]) for i in range(arch.layers)
                    if not one_block or pattern[i % len(pattern)] not in FFN_KINDS)
    dense = experts = experts_active = 0
    for layer in range(arch.layers):
        if is_moe_layer(arch, layer):
            layer_all, layer_active = moe_layer_params(arch)
            experts += layer_all
            experts_active += layer_active
        elif not one_block or pattern[layer % len(pattern)] == "mlp":
            if arch.intermediate_size is None:
                raise ValueError("a dense layer exists but intermediate_size is not set")
            dense += matrices * h * arch.intermediate_size
    norms = (1 if one_block else 2) * h * arch.layers + h
    return ParamCount(embedding, lm_head, attention, dense, experts, experts_active, norms,
                      approximate="linear" in arch.layer_pattern and arch.linear_attention is None,
                      mtp=mtp_params(arch).total, vision=vision_params(arch.vision) if arch.vision else 0)


def routed_expert_params(arch: ModelArchitecture) -> float:
    """Weights of all routed experts (shared experts and routers excluded); 0 for a dense model."""
    moe = arch.moe
    if moe is None:
        return 0.0
    per_expert = (3 if arch.gated_mlp else 2) * arch.hidden_size * moe.expert_intermediate_size
    layers = sum(1 for i in range(arch.layers) if is_moe_layer(arch, i))
    return float(layers * per_expert * moe.experts)
