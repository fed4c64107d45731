"""Open-weight LLMs and their architectures, as their config.json states them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import (
    Billions,
    CitationOrId,
    Count,
    EntryBase,
    EntryId,
    FieldCitation,
    LayerCount,
    NoteText,
    PartialDate,
    Ref,
    ShortText,
    SourceId,
    Strict,
    TokenCount,
    VocabSize,
    Width,
    check_field_sources,
)

LayerKind = Literal["full", "sliding", "chunked", "linear", "mamba", "mlp", "moe"]
ATTENTION_KINDS = frozenset({"full", "sliding", "chunked"})
"""Layer kinds that keep a per-token KV cache."""
STATE_KINDS = frozenset({"linear", "mamba"})
"""Layer kinds that keep a fixed-size state per sequence instead."""
FFN_KINDS = frozenset({"mlp", "moe"})
"""Layer kinds that hold a feed-forward block alone (Nemotron-H's one-block layers)."""


class Mla(Strict):
    """Multi-head latent attention ranks (DeepSeek-V2 style)."""

    kv_lora_rank: Width
    """Width of the compressed KV latent that is cached."""
    q_lora_rank: Width | None = None
    """Width of the compressed query (null when queries are not compressed)."""
    qk_rope_head_dim: Width
    """Per-head rotary part of the key; one shared copy is cached per token."""
    qk_nope_head_dim: Width
    """Per-head non-rotary part of query and key."""
    v_head_dim: Width
    """Per-head value width."""


class SparseAttention(Strict):
    """DeepSeek Sparse Attention (DSA, DeepSeek-V3.2 and GLM-5): a lightning indexer scores every
    earlier token with its own small per-token key cache, and each query then attends only to the
    `index_topk` best-scoring tokens."""

    kind: Literal["dsa"] = "dsa"
    """Design: decides how the indexer's weights, cache and cost are counted."""
    index_heads: Count
    """index_n_heads: query heads of the indexer (one shared key head is cached per token)."""
    index_head_dim: Width
    """index_head_dim: width of each indexer query head and of the cached indexer key."""
    index_topk: TokenCount
    """index_topk: tokens each query attends to once the context is longer than this."""


class Moe(Strict):
    """Mixture-of-experts layout."""

    experts: int = Field(ge=2, le=100_000)
    """Routed experts per MoE layer."""
    experts_per_token: Count
    """Routed experts each token activates."""
    shared_experts: int = Field(default=0, ge=0, le=100_000)
    """Experts every token passes through."""
    expert_intermediate_size: Width
    """FFN width of one expert."""
    dense_layers: int = Field(default=0, ge=0, le=1000)
    """Leading layers that use a dense FFN instead (DeepSeek's first_k_dense_replace)."""
    layer_interval: int = Field(default=1, ge=1, le=1000)
    """Every n-th layer (after the dense ones) is MoE; 1 means all of them."""


class LinearAttention(Strict):
    """Shape of the linear-attention layers of a hybrid model (Gated DeltaNet, as in
    Qwen3-Next): the projections and the fixed-size state they keep per sequence."""

    kind: Literal["gated-deltanet"] = "gated-deltanet"
    """Layer design: decides how parameters and state are counted."""
    key_heads: Count
    """linear_num_key_heads: query and key heads."""
    value_heads: Count
    """linear_num_value_heads: value heads, one recurrent state matrix each."""
    key_head_dim: Width
    """linear_key_head_dim."""
    value_head_dim: Width
    """linear_value_head_dim."""
    conv_kernel: int = Field(ge=1, le=100_000)
    """linear_conv_kernel_dim: width of the short causal convolution over q, k and v; the last
    conv_kernel - 1 inputs are kept per sequence."""

    @model_validator(mode="after")
    def _heads(self) -> LinearAttention:
        if self.value_heads % self.key_heads:
            raise ValueError("value_heads must be a multiple of key_heads")
        return self


class Mamba(Strict):
    """Shape of the Mamba-2 layers of a hybrid model (Nemotron-H, Granite 4.0-H): the mixer's
    projections and the fixed-size state it keeps per sequence."""

    heads: Count
    """mamba_num_heads / mamba_n_heads: SSM heads; the inner width is heads x head_dim."""
    head_dim: Width
    """mamba_head_dim / mamba_d_head."""
    state_size: Width
    """ssm_state_size / mamba_d_state (d_state): state entries per head channel."""
    groups: Count
    """n_groups / mamba_n_groups: groups sharing one B and one C projection."""
    conv_kernel: int = Field(ge=1, le=100_000)
    """conv_kernel / mamba_d_conv: width of the causal convolution over x, B and C; the last
    conv_kernel - 1 inputs are kept per sequence."""
    chunk_size: TokenCount | None = None
    """chunk_size / mamba_chunk_size: block length of the chunked scan in prefill (recorded, not
    used by the calculators)."""
    conv_bias: bool = True
    """use_conv_bias / mamba_conv_bias: the convolution has a bias per channel."""
    proj_bias: bool = False
    """use_bias / mamba_proj_bias: the input and output projections have biases."""
    ssm_state_dtype: Literal["fp32", "bf16", "fp16"] | None = None
    """mamba_ssm_cache_dtype: the precision the recurrent (SSM) state is kept in, which vLLM honours
    for Nemotron-H; null keeps it at the calculators' state precision (the model's 16-bit dtype)."""

    @model_validator(mode="after")
    def _groups(self) -> Mamba:
        if self.heads % self.groups:
            raise ValueError("mamba heads must be a multiple of the groups")
        return self

    @property
    def inner(self) -> int:
        """Inner width (d_inner = heads x head_dim)."""
        return self.heads * self.head_dim


class VisionEncoder(Strict):
    """The vision tower of a vision-language model and its projector into the language model. `kind`
    picks the layout: qwen3-vl (Qwen3-VL / Qwen3.5: a ViT over patch_size x patch_size patches,
    temporal_patch_size frames deep, then a merger that concatenates spatial_merge_size^2 neighbouring
    patches into one token), siglip (Gemma 3: a SigLIP ViT over image_size x image_size images, pooled
    to tokens_per_image tokens and projected), pixtral (Mistral 3: a Pixtral ViT over images up to
    image_size pixels a side, a patch merger of spatial_merge_size^2 patches and a two-layer projector),
    glm4v (GLM-4.5V / GLM-4.6V: a Conv3d patch embedding, a learned position table interpolated to the
    image, RMSNorm ViT blocks whose gated MLP is out_hidden_size wide, a Conv2d downsample of
    spatial_merge_size^2 patches and a gated merger intermediate_size wide) or moonvit (Kimi-K2.5's
    MoonViT: a Conv2d patch embedding, a learned position grid of position_embeddings rows, LayerNorm ViT
    blocks, then a patch merger of spatial_merge_size^2 patches and a two-layer projector)."""

    kind: Literal["qwen3-vl", "siglip", "pixtral", "glm4v", "moonvit"] = "qwen3-vl"
    """Layout: decides how parameters and image tokens are counted (qwen3-vl, siglip, pixtral, glm4v or moonvit)."""
    layers: LayerCount
    """depth / num_hidden_layers / vt_num_hidden_layers: ViT blocks."""
    hidden_size: Width
    intermediate_size: Width
    """Width of each block's MLP; glm4v: the width of the merger's gated MLP (context_dim), its blocks' MLP
    being out_hidden_size wide as Glm4vVisionMlp builds it."""
    heads: Count
    """num_heads / num_attention_heads / vt_num_attention_heads."""
    patch_size: Width
    temporal_patch_size: int = Field(default=2, ge=1, le=1000)
    """Frames one patch spans (an image is repeated to fill it; qwen3-vl and glm4v, whose Conv3d kernel is
    this deep)."""
    spatial_merge_size: int | None = Field(default=None, ge=1, le=1000)
    """Patches merged per side into one language-model token (qwen3-vl, pixtral, glm4v and moonvit, whose
    merge_kernel_size is square)."""
    out_hidden_size: Width
    """Width of the tokens handed to the language model (its hidden size)."""
    in_channels: int = Field(default=3, ge=1, le=1000)
    position_embeddings: int = Field(default=0, ge=0, le=10_000_000)
    """Learned position table rows (0 when none): num_position_embeddings (qwen3-vl) or
    init_pos_emb_height x init_pos_emb_width (moonvit)."""
    deepstack_mergers: int = Field(default=0, ge=0, le=1000)
    """len(deepstack_visual_indexes): extra mergers feeding intermediate ViT features to the
    language model (Qwen3-VL; none in Qwen3.5)."""
    image_size: int | None = Field(default=None, ge=1, le=100_000)
    """siglip: the side every image is resized to (its position table holds (image_size /
    patch_size)^2 rows); pixtral: the longest side an image is scaled down to; glm4v: the side of the
    pretraining image, whose (image_size // patch_size)^2 learned positions are interpolated to each image."""
    tokens_per_image: int | None = Field(default=None, ge=1, le=1_000_000)
    """mm_tokens_per_image: language-model tokens of every image (siglip)."""

    @model_validator(mode="after")
    def _heads(self) -> VisionEncoder:
        if self.hidden_size % self.heads:
            raise ValueError("the vision hidden_size must be a multiple of its heads")
        needs = {"qwen3-vl": ("spatial_merge_size",), "siglip": ("image_size", "tokens_per_image"),
                 "pixtral": ("spatial_merge_size", "image_size"), "glm4v": ("spatial_merge_size", "image_size"),
                 "moonvit": ("spatial_merge_size",)}[self.kind]
        for name in needs:
            if getattr(self, name) is None:
                raise ValueError(f"a {self.kind} vision encoder needs {name}")
        other = {"spatial_merge_size", "image_size", "tokens_per_image"} - set(needs)
        if self.kind not in ("qwen3-vl", "moonvit") and self.position_embeddings:
            other.add("position_embeddings")
        if self.kind != "qwen3-vl" and self.deepstack_mergers:
            other.add("deepstack_mergers")
        if self.kind not in ("qwen3-vl", "glm4v") and self.temporal_patch_size != 2:
            other.add("temporal_patch_size")
        for name in sorted(other):
            if getattr(self, name) is not None and name in self.model_fields_set:
                raise ValueError(f"{name} does not apply to a {self.kind} vision encoder")
        if self.kind == "siglip" and self.image_size is not None and self.image_size % self.patch_size:
            raise ValueError("a siglip image_size must be a multiple of its patch_size")
        return self


class ModelArchitecture(Strict):
    """Transformer shape, copied from the model's config.json."""

    layers: LayerCount
    """num_hidden_layers."""
    hidden_size: Width
    attention_heads: Count
    """num_attention_heads (query heads)."""
    kv_heads: Count
    """num_key_value_heads; equals attention_heads for MHA."""
    head_dim: Width
    """Per-head width as the config gives it (not always hidden/heads)."""
    intermediate_size: Width | None = None
    """Dense FFN width (null when every layer is MoE and no dense width exists)."""
    vocab_size: VocabSize
    context_length: TokenCount
    """max_position_embeddings or the documented maximum context."""
    tie_word_embeddings: bool
    """Whether the output head shares the embedding matrix."""
    attention: Literal["mha", "gqa", "mqa", "mla"]
    """Attention type."""
    mla: Mla | None = None
    """MLA ranks; required when attention is mla."""
    layer_pattern: tuple[LayerKind, ...] = ("full",)
    """Kind of each layer, repeated cyclically from the first layer (a list as long as `layers`
    spells out a pattern that does not repeat): full, sliding (window), chunked (local chunks),
    linear (Gated DeltaNet) or mamba (Mamba-2), the last two with a fixed state instead of a
    growing KV cache. mlp and moe are layers that hold a feed-forward block alone (Nemotron-H's
    hybrid_override_pattern "-" and "E"): when the pattern has any, every layer is one block, the
    other kinds a token mixer without a feed-forward block."""
    sliding_window: TokenCount | None = None
    """Window of sliding layers in tokens."""
    attention_chunk_size: TokenCount | None = None
    """Chunk length of chunked layers in tokens."""
    attention_output_gate: bool = False
    """attn_output_gate: the query projection is twice as wide and its second half gates the
    attention output through a sigmoid (Qwen3-Next, Qwen3.5)."""
    sparse_attention: SparseAttention | None = None
    """DeepSeek Sparse Attention on every attention layer (lightning indexer plus top-k selection),
    when the config names it (index_n_heads, index_head_dim, index_topk)."""
    linear_attention: LinearAttention | None = None
    """Shape of the linear layers in layer_pattern (without it they are counted like attention
    layers for parameters and hold no state in the memory calculators)."""
    mamba: Mamba | None = None
    """Shape of the mamba layers in layer_pattern (required when it has any)."""
    gated_mlp: bool = True
    """Three FFN matrices (SwiGLU/GeGLU) rather than two."""
    moe: Moe | None = None
    mtp_layers: int = Field(default=0, ge=0, le=100)
    """num_nextn_predict_layers / mtp_num_hidden_layers: multi-token-prediction modules after the
    main model, each one full-attention layer with the model's feed-forward block (MoE when the model
    has experts) plus a projection of the embedding and hidden state (2 x hidden to hidden) and its
    norms; the embedding and output head are shared. Not part of the stated total; loaded only for
    MTP speculative decoding."""
    vision: VisionEncoder | None = None
    """The vision encoder of a vision-language model (vision_config), when its layout is known."""

    @model_validator(mode="after")
    def _consistent(self) -> ModelArchitecture:
        if self.attention == "mla" and self.mla is None:
            raise ValueError("attention is mla but the mla ranks are missing")
        if self.attention != "mla" and self.mla is not None:
            raise ValueError("mla ranks are given but attention is not mla")
        if "sliding" in self.layer_pattern and self.sliding_window is None:
            raise ValueError("layer_pattern has sliding layers but sliding_window is missing")
        if "chunked" in self.layer_pattern and self.attention_chunk_size is None:
            raise ValueError("layer_pattern has chunked layers but attention_chunk_size is missing")
        if self.linear_attention is not None and "linear" not in self.layer_pattern:
            raise ValueError("linear_attention is given but layer_pattern has no linear layers")
        if "mamba" in self.layer_pattern and self.mamba is None:
            raise ValueError("layer_pattern has mamba layers but the mamba shape is missing")
        if self.mamba is not None and "mamba" not in self.layer_pattern:
            raise ValueError("mamba is given but layer_pattern has no mamba layers")
        if FFN_KINDS & set(self.layer_pattern):
            if not ATTENTION_KINDS & set(self.layer_pattern) and "mamba" not in self.layer_pattern \
                    and "linear" not in self.layer_pattern:
                raise ValueError("layer_pattern has feed-forward layers but no token-mixer layers")
            if "moe" in self.layer_pattern and self.moe is None:
                raise ValueError("layer_pattern has moe layers but the moe block is missing")
            if self.moe is not None and "moe" not in self.layer_pattern:
                raise ValueError("the moe block is given but layer_pattern (one block per layer) has no moe layers")
            if self.moe is not None and (self.moe.dense_layers or self.moe.layer_interval != 1):
                raise ValueError("with one block per layer the moe layers are named in layer_pattern; "
                                 "moe.dense_layers and moe.layer_interval must keep their defaults")
            if "mlp" in self.layer_pattern and self.intermediate_size is None:
                raise ValueError("layer_pattern has mlp layers but intermediate_size is missing")
        if self.attention_heads % self.kv_heads:
            raise ValueError("attention_heads must be a multiple of kv_heads")
        if self.sparse_attention is not None and (self.mla is None or not self.mla.q_lora_rank):
            raise ValueError("sparse_attention (DSA) needs MLA with a compressed query (q_lora_rank)")
        return self


class WeightGroups(Strict):
    """Formats of tensor groups that a released checkpoint stores differently from
    `native_dtype` (e.g. gpt-oss: MXFP4 experts, BF16 attention and embeddings)."""

    embeddings: Annotated[EntryId, Ref(("formats",), "stored_in")] | None = None
    """Token embedding and output head."""
    attention: Annotated[EntryId, Ref(("formats",), "stored_in")] | None = None
    """Attention projections."""
    dense_ffn: Annotated[EntryId, Ref(("formats",), "stored_in")] | None = None
    """Feed-forward layers that are not MoE."""
    experts: Annotated[EntryId, Ref(("formats",), "stored_in")] | None = None
    """MoE experts and shared experts."""


class QuantizedCheckpoint(Strict):
    """A published quantisation of the model: a checkpoint someone released in another
    weight format, which engines load as it is. The planner only considers the native
    checkpoint and these."""

    format: Annotated[EntryId, Ref(("formats",), "quantized_as")]
    """Weight format of the checkpoint."""
    hf_repo: ShortText
    """Hugging Face repository id, owner/name."""
    publisher: ShortText
    """Who released it (the model's maker, NVIDIA, Red Hat, ...)."""
    source: SourceId
    """The model card or page that describes it."""
    groups: WeightGroups | None = None
    """Tensor groups kept in another format (e.g. embeddings left in BF16), where stated."""
    notes: NoteText | None = None


class LlmModel(EntryBase):
    """An open-weight language model."""

    family: ShortText
    """Model family, e.g. "Llama 3.1"."""
    organization: ShortText
    release_date: PartialDate
    license: ShortText
    """Licence name or SPDX id as the model card gives it."""
    hf_repo: ShortText
    """Hugging Face repository id, owner/name."""
    variant: Literal["base", "instruct", "reasoning", "chat"] = "instruct"
    params_total_b: Billions
    """Total parameters in billions (10^9), as the model card states them."""
    params_active_b: Billions | None = None
    """Parameters active per token in billions (MoE models)."""
    architecture: ModelArchitecture
    native_dtype: Annotated[EntryId, Ref(("formats",), "stored_in")]
    """Format of the released weights (torch_dtype or quantization_config)."""
    native_groups: WeightGroups | None = None
    """Tensor groups the checkpoint keeps in another format (quantization_config's
    modules_to_not_convert and the like)."""
    quantized_checkpoints: tuple[QuantizedCheckpoint, ...] = ()
    """Published quantisations in other weight formats (not community re-uploads of the same)."""
    config_source: SourceId
    """The config.json the architecture was copied from."""
    source: SourceId
    """Primary source for the other numbers (usually the model card)."""
    base_model: Annotated[EntryId, Ref(("models",), "derived_from")] | None = None
    """Model this one was fine-tuned or distilled from, when in the KB."""
    sources: tuple[CitationOrId, ...] = ()
    field_sources: tuple[FieldCitation, ...] = ()
    """Sources of plain numbers that do not come from config_source (architecture fields) or
    source (the rest), e.g. a context length taken from the card."""
    notes: NoteText | None = None

    @model_validator(mode="after")
    def _field_sources(self) -> LlmModel:
        check_field_sources(self, self.field_sources)
        return self
