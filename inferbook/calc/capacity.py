"""Serving capacity the way engines compute it (vLLM's memory profiler):

    budget   = usable GPU memory x gpu_memory_utilization
    KV space = budget - weights - activation peak - non-torch memory - CUDA graphs
    tokens   = KV space / KV bytes per token per GPU, rounded down to whole blocks

and from it the longest context one sequence can hold and how many sequences of
a given context fit at once. The fit search (`calc.fit`) builds on it through the
feasibility check (`calc.feasibility`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from ..schema import Format, Gpu, ModelArchitecture
from .kv import kv_bytes
from .params import routed_expert_params
from .weights import weight_bytes

GIB = 2**30


SAMPLER_BYTES_PER_LOGIT = 38.7
"""Bytes per (sequence x vocabulary entry) at vLLM V1's memory-profiling peak: the
sampler's dummy run over `max_num_seqs` rows holds float32 logits plus sorting and
probability buffers. Fitted by least squares on the vLLM activation-peak logs in
`measurements/llm-d-empirical-vllm-memory.yaml` (see `accuracy.fit_sampler_bytes`); those peaks scale with vocabulary
size and not with model size."""

NON_TORCH_GIB_TP1 = 0.13
"""Non-PyTorch memory vLLM logged for one GPU (CUDA context and allocator state)."""
NON_TORCH_GIB_TP = 0.55
"""The same with tensor parallelism (NCCL buffers added), from the TP=2 log."""


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Engine memory settings; the defaults model vLLM V1 on a large GPU."""

    gpu_memory_utilization: float = 0.9
    """Share of GPU memory the engine may use, above 0 and at most 1 (of what, `fraction_of` says)."""
    max_num_batched_tokens: int = 8192
    """Tokens one engine step may process; the profiling forward pass runs over this many."""
    max_num_seqs: int = 1024
    """Sequences one step may hold; the sampler's profiling run covers this many rows of logits."""
    block_size: int = 16
    """Tokens per KV-cache block; the cache's token count is rounded down to whole blocks."""
    usable_fraction: float = 0.9889
    """Share of the nominal memory the driver lets a process use (an 80 GiB H100 reports 79.11 GiB)."""
    non_torch_gib: float | None = None
    """Memory outside PyTorch's allocator: CUDA context, NCCL buffers; None takes the
    logged figure for the tensor-parallel size (`non_torch_for_tp`)."""
    cuda_graph_gib: float = 0.0
    """Memory CUDA graphs take when the engine counts it separately."""
    sampler_bytes_per_logit: float = SAMPLER_BYTES_PER_LOGIT
    """Peak bytes per (sequence x vocabulary entry) of the sampler's profiling run; 0 to ignore."""
    activation_scale: float = 1.0
    """Multiplier on the activation-peak estimate."""
    total_memory_gib: float | None = None
    """Memory the driver reports (overrides nominal x usable_fraction; e.g. an A10G reports 22.3 GiB)."""
    fraction_of: Literal["total", "free"] = "total"
    """What `gpu_memory_utilization` is a share of: the whole usable memory (vLLM, SGLang), or
    what is free after weights, activations and runtime reserve (TensorRT-LLM's
    kv_cache_free_gpu_mem_fraction)."""

    def __post_init__(self) -> None:
        if not 0 < self.gpu_memory_utilization <= 1:
            raise ValueError("the share of GPU memory the engine may use must be above 0 and at most 1")
        if self.max_num_batched_tokens < 1 or self.max_num_seqs < 1 or self.block_size < 1:
            raise ValueError("the step's token budget, the sequence limit and the KV block size must each be "
                             "at least 1")

    @staticmethod
    def non_torch_for_tp(tp: int) -> float:
        """The non-torch memory vLLM logs for a tensor-parallel size."""
        return NON_TORCH_GIB_TP1 if tp == 1 else NON_TORCH_GIB_TP


def forward_peak_bytes(arch: ModelArchitecture, cfg: EngineConfig, tp: int = 1) -> float:
    """Activations of the profiling forward pass over `max_num_batched_tokens` tokens in
    16-bit: the widest FFN intermediate (gate and up outputs plus the activation) or
    the attention projections, plus two hidden-state buffers."""
    tokens = cfg.max_num_batched_tokens
    ffn = arch.intermediate_size or 0
    if arch.moe is not None:
        ffn = max(ffn, arch.moe.expert_intermediate_size * arch.moe.experts_per_token)
    ffn_bytes = tokens * (3 if arch.gated_mlp else 2) * ffn / tp * 2
    qkv = tokens * (arch.attention_heads + 2 * arch.kv_heads) * arch.head_dim / tp * 2
    if arch.mamba is not None:  # a Mamba-2 in_proj: gate, x, B, C and dt
        m = arch.mamba
        qkv = max(qkv, tokens * (2 * m.heads * m.head_dim + 2 * m.groups * m.state_size + m.heads) / tp * 2)
    return max(ffn_bytes, qkv) + tokens * arch.hidden_size * 2 * 2


def activation_peak_bytes(arch: ModelArchitecture, cfg: EngineConfig, tp: int = 1) -> float:
    """Peak activation memory of the engine's profiling runs: the larger of the forward
    pass and the sampler pass (logits are gathered whole on every TP rank)."""
    sampler = cfg.max_num_seqs * arch.vocab_size * cfg.sampler_bytes_per_logit
    return max(forward_peak_bytes(arch, cfg, tp), sampler) * cfg.activation_scale


@dataclass(frozen=True, slots=True)
class Capacity:
    """Memory budget of one GPU of the group and what it leaves for the KV cache (bytes)."""

    usable_bytes: float
    """Memory the driver lets a process use: `total_memory_gib`, else nominal memory x `usable_fraction`."""
    budget_bytes: float
    """What the engine may use: usable x `gpu_memory_utilization` (all of usable when `fraction_of` is "free")."""
    weights_bytes: float
    """Weights this GPU holds: the largest share under the TP x PP split."""
    activation_bytes: float
    """Peak activation memory of the engine's profiling runs (forward pass or sampler, the larger)."""
    other_bytes: float
    """Memory outside PyTorch's allocator plus CUDA graphs."""
    kv_space_bytes: float
    """What is left for the KV cache; negative when the rest does not fit."""
    kv_bytes_per_token: float
    """Per GPU, for a token of a sequence shorter than every window."""
    kv_tokens: int
    """Tokens the cache holds (whole blocks), as engines log it."""

    @property
    def fits(self) -> bool:
        """True when some memory is left for the KV cache and it holds at least one block of tokens."""
        return self.kv_space_bytes > 0 and self.kv_tokens > 0


def capacity(arch: ModelArchitecture, gpu: Gpu, fmt: Format, kv_bits: float = 16.0, tp: int = 1, pp: int = 1,
             cfg: EngineConfig = EngineConfig(), groups: dict[str, Format] | None = None,
             mtp: bool = False, attention_dp: int = 1) -> Capacity:
    """Capacity of one GPU of a TP x PP group serving ``arch`` in ``fmt`` (with ``mtp``, the
    multi-token-prediction modules loaded for MTP speculative decoding).

    With ``attention_dp`` above 1 (a MoE model's attention data parallelism), the ``tp`` GPUs
    form that many groups of tp / attention_dp GPUs: each GPU holds its group's share of the
    attention and dense weights but only 1/tp of the routed experts, and caches its group's
    sequences with the group's share of the KV heads; `Capacity.kv_tokens` is then one
    group's cache."""
    if attention_dp > 1:
        return _attention_dp_capacity(arch, gpu, fmt, kv_bits, tp, pp, cfg, groups, mtp, attention_dp)
    if arch.attention_heads % tp:
        raise ValueError(f"tensor parallelism {tp} must divide the {arch.attention_heads} attention heads")
    total = cfg.total_memory_gib if cfg.total_memory_gib is not None else gpu.memory_gib.value * cfg.usable_fraction
    usable = total * GIB
    budget = usable * cfg.gpu_memory_utilization
    weights = weight_bytes(arch, fmt, tp=tp, pp=pp, groups=groups, mtp=mtp).per_gpu_bytes
    activation = activation_peak_bytes(arch, cfg, tp)
    non_torch = cfg.non_torch_gib if cfg.non_torch_gib is not None else EngineConfig.non_torch_for_tp(tp)
    other = (non_torch + cfg.cuda_graph_gib) * GIB
    if cfg.fraction_of == "free":
        budget = usable
        kv_space = (usable - weights - activation - other) * cfg.gpu_memory_utilization
    else:
        kv_space = budget - weights - activation - other
    per_token = kv_bytes(arch, 1, kv_bits, 1, tp, pp).bytes_per_gpu
    tokens = 0
    if kv_space > 0 and per_token > 0:
        tokens = math.floor(kv_space / per_token / cfg.block_size) * cfg.block_size
    return Capacity(usable, budget, weights, activation, other, kv_space, per_token, tokens)


def max_concurrency(arch: ModelArchitecture, cap: Capacity, context: int, kv_bits: float = 16.0, tp: int = 1,
                    pp: int = 1) -> float:
    """Sequences of ``context`` tokens that fit at once (windowed layers cap what each holds)."""
    per_seq = kv_bytes(arch, context, kv_bits, 1, tp, pp, state=True).bytes_per_gpu
    if per_seq <= 0:
        return math.inf
    return max(cap.kv_space_bytes, 0.0) / per_seq


def _attention_dp_capacity(arch: ModelArchitecture, gpu: Gpu, fmt: Format, kv_bits: float, tp: int, pp: int,
                           cfg: EngineConfig, groups: dict[str, Format] | None, mtp: bool, dp: int) -> Capacity:
    """`capacity` with attention data parallelism: a group of tp / dp GPUs as plain TP, less the
    routed experts a GPU does not hold because they are spread over all ``tp`` GPUs."""
    if dp < 1 or tp % dp:
        raise ValueError(f"attention data parallelism {dp} must divide tensor parallelism {tp}")
    group = tp // dp
    cap = capacity(arch, gpu, fmt, kv_bits, group, pp, cfg, groups, mtp)
    expert_fmt = (groups or {}).get("experts", fmt)
    stage_share = math.ceil(arch.layers / pp) / arch.layers
    saved = routed_expert_params(arch) * expert_fmt.effective_bits_per_weight / 8 * stage_share * (1 / group - 1 / tp)
    space = cap.kv_space_bytes + saved * (cfg.gpu_memory_utilization if cfg.fraction_of == "free" else 1.0)
    tokens = 0
    if space > 0 and cap.kv_bytes_per_token > 0:
        tokens = math.floor(space / cap.kv_bytes_per_token / cfg.block_size) * cfg.block_size
    return replace(cap, weights_bytes=cap.weights_bytes - saved, kv_space_bytes=space, kv_tokens=tokens)

