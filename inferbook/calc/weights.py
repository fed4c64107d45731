"""Weight memory of a model in a format, by tensor group and per GPU.

Quantized checkpoints usually keep the token embedding and the output head in
16-bit (AWQ, GPTQ, FP8 and FP4 checkpoints of common engines do); GGUF files
quantize them too. Norms stay 16-bit. Linear layers take the format's effective
bits per weight, which includes block scales and zero points.

A vision encoder (`architecture.vision`) is loaded with the language model and counted at
16 bits (or the format's bits when wider), sharded over TP on the first pipeline stage.
The multi-token-prediction modules are loaded only for MTP speculative decoding: with
``mtp=True`` they are added in the formats of their tensor groups, on the last stage."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..schema import Format, LlmModel, ModelArchitecture
from .params import count_params, mtp_params


@dataclass(frozen=True, slots=True)
class WeightBreakdown:
    """Bytes of weights by group, whole model and per GPU."""

    linear_bytes: float
    """Attention, dense feed-forward and expert matrices of the whole model, each group in its format."""
    embedding_bytes: float
    """The input token embedding (16-bit by default for quantized formats other than GGUF)."""
    lm_head_bytes: float
    """The output head, at the embedding's bits (0 when tied to the embedding)."""
    norm_bytes: float
    """Norm weights, at 16 bits or the format's bits when wider."""
    per_gpu_bytes: float
    """Largest share one GPU holds under the given TP and PP."""
    vision_bytes: float = 0.0
    """The vision encoder (0 for text-only models)."""
    mtp_bytes: float = 0.0
    """The multi-token-prediction modules (0 unless asked for with ``mtp=True``)."""

    @property
    def total_bytes(self) -> float:
        """Bytes of the whole model: every group above summed, before any sharding."""
        return (self.linear_bytes + self.embedding_bytes + self.lm_head_bytes + self.norm_bytes + self.vision_bytes
                + self.mtp_bytes)


def weight_bytes(arch: ModelArchitecture, fmt: Format, tp: int = 1, pp: int = 1,
                 embedding_bits: float | None = None, groups: dict[str, Format] | None = None,
                 mtp: bool = False) -> WeightBreakdown:
    """Weight bytes of ``arch`` stored in ``fmt`` (per tensor group), sharded over TP x PP.
    ``embedding_bits`` overrides the bits of embedding and output head (default:
    16 for formats under 16 bits except GGUF types, which quantize them too).
    ``groups`` maps "embeddings", "attention", "dense_ffn" or "experts" to the format
    that group is stored in when it differs from ``fmt``. ``mtp`` adds the
    multi-token-prediction modules (what an engine loads for MTP speculative decoding)."""
    if tp < 1 or pp < 1:
        raise ValueError("tensor and pipeline parallelism must each be at least 1")
    if pp > arch.layers:
        raise ValueError(f"pipeline parallelism {pp} exceeds the model's {arch.layers} layers")
    params = count_params(arch)
    groups = groups or {}
    bits = fmt.effective_bits_per_weight

    def group_bits(name: str) -> float:
        return groups[name].effective_bits_per_weight if name in groups else bits

    if embedding_bits is None:
        if "embeddings" in groups:
            embedding_bits = group_bits("embeddings")
        else:
            embedding_bits = bits if (fmt.category == "gguf" or bits >= 16) else 16.0
    norm_bits = max(16.0, bits)
    linear = (params.attention * group_bits("attention") + params.ffn_dense * group_bits("dense_ffn")
              + params.ffn_experts * group_bits("experts")) / 8
    embedding = params.embedding * embedding_bits / 8
    head = params.lm_head * embedding_bits / 8
    norms = params.norms * norm_bits / 8
    vision = params.vision * norm_bits / 8
    extra = 0.0
    if mtp and arch.mtp_layers:
        m = mtp_params(arch)
        extra = (m.attention * group_bits("attention") + m.ffn_dense * group_bits("dense_ffn")
                 + m.ffn_experts * group_bits("experts") + m.norms * norm_bits) / 8
    # Pipeline stages split the layers; the first holds the embedding (and a vision encoder), the last
    # the head (a tied head is a second copy on the last stage when pp > 1) and the MTP modules.
    stage_share = math.ceil(arch.layers / pp) / arch.layers
    layer_bytes = (linear + norms) * stage_share
    first = layer_bytes + embedding + vision
    last = layer_bytes + (head if head else (embedding if pp > 1 else 0.0)) + extra
    stage = max(first, last) if pp > 1 else layer_bytes + embedding + head + vision + extra
    return WeightBreakdown(linear, embedding, head, norms, stage / tp, vision, extra)


def native_groups(model: LlmModel, formats: dict[str, Format]) -> dict[str, Format]:
    """The per-group formats of a model's released checkpoint (empty when uniform)."""
    if model.native_groups is None:
        return {}
    chosen = model.native_groups.model_dump(exclude_none=True)
    return {group: formats[fid] for group, fid in chosen.items()}


def native_weight_bytes(model: LlmModel, formats: dict[str, Format], tp: int = 1, pp: int = 1,
                        mtp: bool = False) -> WeightBreakdown:
    """Weight bytes of the released checkpoint, honouring groups kept in other formats."""
    return weight_bytes(model.architecture, formats[model.native_dtype], tp, pp,
                        groups=native_groups(model, formats), mtp=mtp)
