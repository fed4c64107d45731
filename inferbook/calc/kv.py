"""KV-cache size: per token and per sequence, for MHA, GQA, MQA and MLA, with
sliding-window, chunked and linear-attention layers, any KV data type, and
tensor/pipeline parallelism (KV heads split across TP ranks, replicated when
TP exceeds the KV heads; an MLA latent is replicated on every TP rank).

Linear-attention (Gated DeltaNet) and Mamba-2 layers keep no per-token cache but a fixed
state per sequence: a key x value matrix per value head (Gated DeltaNet) or a head_dim x
state_size matrix per SSM head (Mamba-2), plus the last conv_kernel - 1 convolution inputs;
`kv_bytes(..., state=True)` adds it for models whose `linear_attention` or `mamba` shape is
known. The state is counted at ``state_bits`` (16: the model's dtype, vLLM's default for
`--mamba-cache-dtype auto`); a Mamba-2 SSM state whose `ssm_state_dtype` is recorded (the
config's mamba_ssm_cache_dtype, which vLLM honours for Nemotron-H) is counted in that dtype, and
its convolution state in ``state_bits``. Under tensor parallelism the heads and groups are split
over the ranks (a single group is replicated on each, as vLLM does).

A DeepSeek Sparse Attention layer (`sparse_attention`) also caches one lightning-indexer key per
token: vLLM's DeepseekV32IndexerCache keeps it in FP8 with one float32 scale per 128 values
(index_head_dim + index_head_dim // 128 x 4 bytes, 132 for a 128-wide key), whatever the main KV
dtype, and replicates it on every TP rank as it does the MLA latent (source vllm-code-deepseek-v2-indexer)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from ..schema import Format, ModelArchitecture
from ..schema.models import ATTENTION_KINDS, STATE_KINDS

KV_DTYPE_ALIASES = {"fp8": "fp8-e4m3", "bfloat16": "bf16", "float16": "fp16", "auto": "bf16"}
"""Other names of KV data types (as engines and configs write them) -> format id; "auto" is taken as bf16."""
KV_FALLBACK_BITS = {"fp32": 32.0, "bf16": 16.0, "fp16": 16.0, "fp8-e4m3": 8.0, "fp8-e5m2": 8.0, "int8": 8.0,
                    "int4": 4.0}
"""Bits per KV element of the common types, used when no format entries are given."""


def kv_dtype_bits(dtype: str, formats: Mapping[str, Format] | None = None) -> float:
    """Bits per stored KV element for a format id (or alias such as "fp8")."""
    key = KV_DTYPE_ALIASES.get(dtype, dtype)
    if formats is not None and key in formats:
        return float(formats[key].bits_per_value)
    if key in KV_FALLBACK_BITS:
        return KV_FALLBACK_BITS[key]
    raise ValueError(f"unknown KV data type {dtype!r}; use e.g. bf16, fp16, fp8, int8, int4")


def layer_kinds(arch: ModelArchitecture) -> list[str]:
    """Attention kind of every layer, expanding the cyclic layer pattern."""
    pattern = arch.layer_pattern
    return [pattern[i % len(pattern)] for i in range(arch.layers)]


@lru_cache(maxsize=1024)
def _layer_groups(arch: ModelArchitecture, pp: int) -> tuple[tuple[int, str, int], ...]:
    """(pipeline stage, attention kind, layers) for every kind of layer in every stage, stages in
    order and kinds in order of first appearance: `kv_bytes` sums per group what the layers of a
    group each add (byte counts are whole or dyadic numbers, so the sums are exact either way)."""
    stage_layers = math.ceil(arch.layers / pp)
    counts: dict[tuple[int, str], int] = {}
    for index, kind in enumerate(layer_kinds(arch)):
        key = (index // stage_layers, kind)
        counts[key] = counts.get(key, 0) + 1
    return tuple((stage, kind, n) for (stage, kind), n in counts.items())


def _elements_per_token_per_layer(arch: ModelArchitecture, tp: int) -> tuple[float, float]:
    """KV elements one token adds to one layer: (per GPU, whole model across the TP group)."""
    if arch.mla is not None:
        latent = arch.mla.kv_lora_rank + arch.mla.qk_rope_head_dim
        return latent, latent * tp  # the latent is replicated on every TP rank
    heads_per_gpu = max(1, math.ceil(arch.kv_heads / tp))
    per_gpu = 2 * heads_per_gpu * arch.head_dim
    return per_gpu, per_gpu * tp


INDEXER_SCALE_BLOCK = 128
"""Values per float32 scale of the FP8 indexer key cache (vLLM's quant_block_size)."""


def indexer_key_bytes(arch: ModelArchitecture) -> float:
    """Bytes of the lightning-indexer key one token adds to one DSA layer (0 without `sparse_attention`):
    the key in FP8 plus a 4-byte float32 scale per `INDEXER_SCALE_BLOCK` values, as vLLM stores it."""
    dsa = arch.sparse_attention
    if dsa is None:
        return 0.0
    return float(dsa.index_head_dim + dsa.index_head_dim // INDEXER_SCALE_BLOCK * 4)


def _state_elements(arch: ModelArchitecture, tp: int, kind: str = "linear",
                    state_bits: float = 16.0) -> tuple[float, float]:
    """State elements one layer of ``kind`` (linear or mamba) keeps per sequence: (per GPU, whole TP
    group), at ``state_bits`` each (a Mamba-2 SSM state in another recorded dtype is scaled to it)."""
    if kind == "mamba":
        m = arch.mamba
        if m is None:
            return 0.0, 0.0
        heads = max(1, math.ceil(m.heads / tp))
        groups = max(1, math.ceil(m.groups / tp))
        ssm = heads * m.head_dim * m.state_size
        conv = (m.conv_kernel - 1) * (heads * m.head_dim + 2 * groups * m.state_size)
        ssm_bits = STATE_DTYPE_BITS[m.ssm_state_dtype] if m.ssm_state_dtype else state_bits
        per_gpu = conv + ssm * (ssm_bits / state_bits)
        return per_gpu, per_gpu * tp
    la = arch.linear_attention
    if la is None or kind != "linear":
        return 0.0, 0.0
    value_heads = max(1, math.ceil(la.value_heads / tp))
    key_heads = max(1, math.ceil(la.key_heads / tp))
    recurrent = value_heads * la.key_head_dim * la.value_head_dim
    conv = (la.conv_kernel - 1) * (2 * key_heads * la.key_head_dim + value_heads * la.value_head_dim)
    per_gpu = float(recurrent + conv)
    return per_gpu, per_gpu * tp


STATE_DTYPE_BITS = {"fp32": 32.0, "bf16": 16.0, "fp16": 16.0}
"""Bits per element of the types a Mamba-2 SSM state is recorded in (`ssm_state_dtype`)."""


def _cached_tokens(kind: str, arch: ModelArchitecture, tokens: int) -> int:
    if kind == "full":
        return tokens
    if kind == "sliding":
        return min(tokens, arch.sliding_window or tokens)
    if kind == "chunked":
        return min(tokens, arch.attention_chunk_size or tokens)
    return 0  # linear-attention and Mamba layers keep a fixed-size state; feed-forward layers nothing


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
    """Linear-attention and Mamba state included in the figures above (without TP replication)."""


def kv_bytes(arch: ModelArchitecture, tokens: int, dtype_bits: float = 16.0, batch: int = 1, tp: int = 1,
             pp: int = 1, state: bool = False, state_bits: float = 16.0) -> KvBreakdown:
    """KV-cache bytes of ``batch`` sequences of ``tokens`` tokens each; with ``state``, plus
    the fixed state of linear-attention and Mamba layers (``state_bits`` per element) for
    sequences that hold at least one token."""
    if tokens < 0 or batch < 0:
        raise ValueError("tokens and batch must not be negative")
    if tp < 1 or pp < 1:
        raise ValueError("tensor and pipeline parallelism must each be at least 1")
    if pp > arch.layers:
        raise ValueError(f"pipeline parallelism {pp} exceeds the model's {arch.layers} layers")
    per_gpu_elems, group_elems = _elements_per_token_per_layer(arch, tp)
    unique_elems, _ = _elements_per_token_per_layer(arch, 1)
    bytes_per_elem = dtype_bits / 8
    with_state = state and tokens > 0
    state_gpu = {k: _state_elements(arch, tp, k, state_bits) if with_state else (0.0, 0.0) for k in STATE_KINDS}
    state_unique = {k: _state_elements(arch, 1, k, state_bits)[0] if with_state else 0.0 for k in STATE_KINDS}
    state_bytes_per_elem = state_bits / 8
    indexer = indexer_key_bytes(arch)  # replicated on every TP rank, like the MLA latent
    total = unique = state_total = 0.0
    stages = [0.0] * pp
    attention_layers = 0
    for stage, kind, layers in _layer_groups(arch, pp):
        cached = _cached_tokens(kind, arch, tokens) * batch
        total += layers * (cached * group_elems * bytes_per_elem)
        unique += layers * (cached * unique_elems * bytes_per_elem)
        stages[stage] += layers * (cached * per_gpu_elems * bytes_per_elem)
        if kind in ATTENTION_KINDS:
            attention_layers += layers
            if indexer:
                total += layers * (cached * indexer * tp)
                unique += layers * (cached * indexer)
                stages[stage] += layers * (cached * indexer)
        if kind in STATE_KINDS and state_gpu[kind][0]:
            gpu_elems, group_state = state_gpu[kind]
            total += layers * (batch * group_state * state_bytes_per_elem)
            unique += layers * (batch * state_unique[kind] * state_bytes_per_elem)
            state_total += layers * (batch * state_unique[kind] * state_bytes_per_elem)
            stages[stage] += layers * (batch * gpu_elems * state_bytes_per_elem)
    return KvBreakdown(total, max(stages), unique, attention_layers, state_total)


def state_bytes_per_sequence(arch: ModelArchitecture, state_bits: float = 16.0, tp: int = 1) -> float:
    """Fixed memory one sequence needs in the linear-attention and Mamba layers (0 without them),
    on each GPU of a tensor-parallel group of ``tp``."""
    kinds = layer_kinds(arch)
    total = 0.0
    for kind in ("linear", "mamba"):  # a fixed order, so the sum is the same in every port
        elems, _ = _state_elements(arch, tp, kind, state_bits)
        total += sum(1 for k in kinds if k == kind) * elems * state_bits / 8
    return total


def kv_bytes_per_token(arch: ModelArchitecture, dtype_bits: float = 16.0) -> float:
    """Bytes one token adds to the cache across all layers, while the context is
    shorter than every sliding window (linear-attention, Mamba and feed-forward layers add nothing),
    the FP8 lightning-indexer key of DeepSeek Sparse Attention layers included."""
    unique_elems, _ = _elements_per_token_per_layer(arch, 1)
    layers = sum(1 for k in layer_kinds(arch) if k in ATTENTION_KINDS)
    return layers * unique_elems * dtype_bits / 8 + layers * indexer_key_bytes(arch)
