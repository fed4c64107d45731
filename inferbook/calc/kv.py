"""KV-cache size: per token and per sequence, for MHA, GQA, MQA and MLA, with
sliding-window, chunked and linear-attention layers, any KV data type, and
tensor/pipeline parallelism (KV heads split across TP ranks, replicated when
TP exceeds the KV heads; an MLA latent is replicated on every TP rank).

Linear-attention layers keep no per-token cache but a fixed state per sequence
(a key x value matrix per value head plus the last conv_kernel - 1 convolution
inputs); `kv_bytes(..., state=True)` adds it for models whose `linear_attention`
shape is known. The state is counted at 16 bits unless ``state_bits`` says otherwise;
engines can keep it in FP32 (vLLM's mamba cache dtype settings), which doubles it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from ..schema import Format, ModelArchitecture

KV_DTYPE_ALIASES = {"fp8": "fp8-e4m3", "bfloat16": "bf16", "float16": "fp16", "auto": "bf16"}
_FALLBACK_BITS = {"fp32": 32.0, "bf16": 16.0, "fp16": 16.0, "fp8-e4m3": 8.0, "fp8-e5m2": 8.0, "int8": 8.0,
                  "int4": 4.0}


def kv_dtype_bits(dtype: str, formats: Mapping[str, Format] | None = None) -> float:
    """Bits per stored KV element for a format id (or alias such as "fp8")."""
    key = KV_DTYPE_ALIASES.get(dtype, dtype)
    if formats is not None and key in formats:
        return float(formats[key].bits_per_value)
    if key in _FALLBACK_BITS:
        return _FALLBACK_BITS[key]
    raise ValueError(f"unknown KV data type {dtype!r}; use e.g. bf16, fp16, fp8, int8, int4")


def layer_kinds(arch: ModelArchitecture) -> list[str]:
    """Attention kind of every layer, expanding the cyclic layer pattern."""
    pattern = arch.layer_pattern
    return [pattern[i % len(pattern)] for i in range(arch.layers)]


def _elements_per_token_per_layer(arch: ModelArchitecture, tp: int) -> tuple[float, float]:
    """KV elements one token adds to one layer: (per GPU, whole model across the TP group)."""
    if arch.mla is not None:
        latent = arch.mla.kv_lora_rank + arch.mla.qk_rope_head_dim
        return latent, latent * tp  # the latent is replicated on every TP rank
    heads_per_gpu = max(1, math.ceil(arch.kv_heads / tp))
    per_gpu = 2 * heads_per_gpu * arch.head_dim
    return per_gpu, per_gpu * tp


def _state_elements(arch: ModelArchitecture, tp: int) -> tuple[float, float]:
    """State elements one linear layer keeps per sequence: (per GPU, whole TP group)."""
    la = arch.linear_attention
    if la is None:
        return 0.0, 0.0
    value_heads = max(1, math.ceil(la.value_heads / tp))
    key_heads = max(1, math.ceil(la.key_heads / tp))
    recurrent = value_heads * la.key_head_dim * la.value_head_dim
    conv = (la.conv_kernel - 1) * (2 * key_heads * la.key_head_dim + value_heads * la.value_head_dim)
    per_gpu = float(recurrent + conv)
    return per_gpu, per_gpu * tp


def _cached_tokens(kind: str, arch: ModelArchitecture, tokens: int) -> int:
    if kind == "full":
        return tokens
    if kind == "sliding":
        return min(tokens, arch.sliding_window or tokens)
    if kind == "chunked":
        return min(tokens, arch.attention_chunk_size or tokens)
    return 0  # linear attention keeps a fixed-size state instead of a growing cache


@dataclass(frozen=True, slots=True)
class KvBreakdown:
    """KV-cache bytes for a batch of sequences."""

    bytes_total: float
    """All GPUs of the tensor-parallel group together (replicas included)."""
    bytes_per_gpu: float
    """The most any one GPU holds (the fullest pipeline stage)."""
    bytes_unique: float
    """The cache without TP replication: what the model needs on one device."""
    layers_cached: int
    """Layers that keep a per-token cache."""
    state_bytes: float = 0.0
    """Linear-attention state included in the figures above (without TP replication)."""


def kv_bytes(arch: ModelArchitecture, tokens: int, dtype_bits: float = 16.0, batch: int = 1, tp: int = 1,
             pp: int = 1, state: bool = False, state_bits: float = 16.0) -> KvBreakdown:
    """KV-cache bytes of ``batch`` sequences of ``tokens`` tokens each; with ``state``, plus
    the fixed state of linear-attention layers (``state_bits`` per element) for sequences
    that hold at least one token."""
    if tokens < 0 or batch < 0:
        raise ValueError("tokens and batch must not be negative")
    if tp < 1 or pp < 1:
        raise ValueError("tensor and pipeline parallelism must each be at least 1")
    if pp > arch.layers:
        raise ValueError(f"pipeline parallelism {pp} exceeds the model's {arch.layers} layers")
    per_gpu_elems, group_elems = _elements_per_token_per_layer(arch, tp)
    unique_elems, _ = _elements_per_token_per_layer(arch, 1)
    kinds = layer_kinds(arch)
    stage_layers = math.ceil(arch.layers / pp)
    bytes_per_elem = dtype_bits / 8
    state_gpu, state_group = _state_elements(arch, tp) if state and tokens > 0 else (0.0, 0.0)
    state_unique, _ = _state_elements(arch, 1) if state and tokens > 0 else (0.0, 0.0)
    state_bytes_per_elem = state_bits / 8
    total = unique = state_total = 0.0
    stages = [0.0] * pp
    for index, kind in enumerate(kinds):
        cached = _cached_tokens(kind, arch, tokens) * batch
        total += cached * group_elems * bytes_per_elem
        unique += cached * unique_elems * bytes_per_elem
        stages[index // stage_layers] += cached * per_gpu_elems * bytes_per_elem
        if kind == "linear" and state_gpu:
            total += batch * state_group * state_bytes_per_elem
            unique += batch * state_unique * state_bytes_per_elem
            state_total += batch * state_unique * state_bytes_per_elem
            stages[index // stage_layers] += batch * state_gpu * state_bytes_per_elem
    return KvBreakdown(total, max(stages), unique, sum(1 for k in kinds if k != "linear"), state_total)


def state_bytes_per_sequence(arch: ModelArchitecture, state_bits: float = 16.0, tp: int = 1) -> float:
    """Fixed memory one sequence needs in the linear-attention layers (0 without them), on
    each GPU of a tensor-parallel group of ``tp``."""
    elems, _ = _state_elements(arch, tp)
    return sum(1 for k in layer_kinds(arch) if k == "linear") * elems * state_bits / 8


def kv_bytes_per_token(arch: ModelArchitecture, dtype_bits: float = 16.0) -> float:
    """Bytes one token adds to the cache across all layers, while the context is
    shorter than every sliding window (linear-attention layers add nothing)."""
    unique_elems, _ = _elements_per_token_per_layer(arch, 1)
    layers = sum(1 for k in layer_kinds(arch) if k != "linear")
    return layers * unique_elems * dtype_bits / 8
