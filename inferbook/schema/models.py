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

LayerKind = Literal["full", "sliding", "chunked", "linear"]


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
    """Attention kind of each layer, repeated cyclically from the first layer:
    full, sliding (window), chunked (local chunks) or linear (no growing KV)."""
    sliding_window: TokenCount | None = None
    """Window of sliding layers in tokens."""
    attention_chunk_size: TokenCount | None = None
    """Chunk length of chunked layers in tokens."""
    attention_output_gate: bool = False
    """attn_output_gate: the query projection is twice as wide and its second half gates the
    attention output through a sigmoid (Qwen3-Next, Qwen3.5)."""
    linear_attention: LinearAttention | None = None
    """Shape of the linear layers in layer_pattern (without it they are counted like attention
    layers for parameters and hold no state in the memory calculators)."""
    gated_mlp: bool = True
    """Three FFN matrices (SwiGLU/GeGLU) rather than two."""
    moe: Moe | None = None

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
        if self.attention_heads % self.kv_heads:
            raise ValueError("attention_heads must be a multiple of kv_heads")
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
