"""The calibrated performance model: how long one forward pass (a scheduler step) takes.

A step is timed kernel by kernel, each at its own roofline, then summed:

- the linear layers (GEMMs) take the slower of their FLOPs at the weight format's
  peak and the weights they read at the memory bandwidth. Their compute efficiency
  depends on the GPU architecture and the data type, and grows with the number of
  tokens a GEMM multiplies (its M dimension): ``eff(M) = eff_max * M / (M + min(M, T_half))``,
  so small batches never reach the efficiency of large GEMMs (and one token, a GEMV,
  runs at half of it). A dense layer's M is the step's tokens; a routed expert's is only
  the tokens routed to it, so the experts of a small batch run far from their peak
  (experts no token routes to are neither computed nor read: ``E (1 - (1 - k/E)^tokens)``
  of them are touched);
- attention takes the slower of its score and value FLOPs at the peak of the KV cache's
  precision (FP8 for an 8-bit cache on a GPU with FP8 units, else 16-bit; its own
  efficiency) and the KV cache and linear-attention state it reads;
- tensor parallelism adds two all-reduces per layer, expert parallelism a dispatch
  and a combine all-to-all per MoE layer, each timed from the interconnect's
  bandwidth, its latency and the message size;
- the engine adds a fixed cost per step and a cost per sequence in the step
  (scheduling, sampling, kernel launches).

Every efficiency and overhead is a parameter in `PerfParams`, fitted on published
measurements by `calibrate` and stored in `calibration.json`; a key that was not
fitted falls back to the value under ``"*"`` (the median of the fitted ones)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ..schema import Format, Gpu, ModelArchitecture
from .kv import kv_bytes, state_bytes_per_sequence
from .params import blocks, count_params, is_moe_layer, routed_expert_params
from .roofline import attention_layout, compute_tflops
from .weights import weight_bytes

CALIBRATION = Path(__file__).with_name("calibration.json")
PCIE_GB_S_PER_DIRECTION = 31.5
"""Assumed link when a GPU lists neither a scale-up interconnect nor its PCIe generation:
PCIe 4.0 x16, per direction (16 GT/s x 16 lanes, 128b/130b encoding)."""
PCIE_X16_GB_S = {3: 15.75, 4: 31.5, 5: 63.0, 6: 121.0}
"""Per-direction bandwidth of a x16 PCIe link by generation (8, 16, 32 and 64 GT/s per lane;
generation 6 uses FLIT encoding, about 242/256 of the raw rate)."""
_PCIE_GEN = re.compile(r"PCIe\s*(?:Gen\s*)?([3-6])", re.IGNORECASE)


def link_gb_s_per_direction(gpu: Gpu) -> float:
    """The bandwidth one direction of a GPU-to-GPU transfer gets: half the scale-up link's
    (listed as both directions together), else the x16 PCIe link of the generation named in
    `interconnect.host_interface`, else `PCIE_GB_S_PER_DIRECTION`."""
    link = gpu.interconnect.bandwidth_gb_s
    if link is not None:
        return link.value / 2
    found = _PCIE_GEN.search(gpu.interconnect.host_interface or "")
    return PCIE_X16_GB_S[int(found.group(1))] if found else PCIE_GB_S_PER_DIRECTION


def arch_key(gpu: Gpu) -> str:
    """The key of the per-architecture efficiencies: the GPU architecture, with "-gddr" for
    GDDR memory (a Blackwell workstation card does not reach a B200's HBM efficiency) and
    "-consumer" for a consumer GDDR card (GeForce parts halve the tensor rate with FP32
    accumulation, the peak their datasheets list, and run consumer engines such as llama.cpp)."""
    if "gddr" not in gpu.memory_type.lower():
        return gpu.architecture
    return f"{gpu.architecture}-consumer" if gpu.market == "consumer" else f"{gpu.architecture}-gddr"


def sixteen_bit_tflops(gpu: Gpu, fmt: Format) -> float:
    """The dense 16-bit peak (FP32 where a GPU lists only that); the format's own peak if none."""
    sixteen = gpu.dense.bf16_tflops or gpu.dense.fp16_tflops or gpu.dense.fp32_tflops
    return sixteen.value if sixteen is not None else compute_tflops(gpu, fmt)


def attention_tflops(gpu: Gpu, fmt: Format, kv_bits: float) -> float:
    """The peak attention runs at: FP8 when the KV cache is 8-bit and the GPU multiplies FP8 natively
    (FP8 attention kernels take the cached keys and values as they are stored), else 16-bit."""
    fp8 = gpu.dense.fp8_tflops
    if kv_bits <= 8 and fp8 is not None:
        return fp8.value
    return sixteen_bit_tflops(gpu, fmt)


def dtype_class(fmt: Format, gpu: Gpu) -> str:
    """Which compute efficiency applies to a weight format: "fp8" or "fp4" when the
    GPU runs it natively, "int8" for INT8, "weight-only" when weights are stored
    narrow but multiplied in 16 bits (AWQ, GPTQ, GGUF), else "16-bit"."""
    native = compute_tflops(gpu, fmt) != sixteen_bit_tflops(gpu, fmt)
    fid = fmt.id
    if native and (fid.startswith("fp8") or fid == "mxfp8"):
        return "fp8"
    if native and fid in ("nvfp4", "mxfp4", "fp4-e2m1"):
        return "fp4"
    if native and fid == "int8":
        return "int8"
    if fmt.effective_bits_per_weight < 16:
        return "weight-only"
    return "16-bit"


def link_class(gpu: Gpu) -> str:
    """The interconnect family whose latency applies: "nvlink" (an NVIDIA scale-up link, with NCCL),
    "infinity-fabric" (an AMD one, with RCCL) or "pcie"."""
    if gpu.interconnect.bandwidth_gb_s is None:
        return "pcie"
    return "infinity-fabric" if gpu.vendor == "amd" else "nvlink"


@dataclass(frozen=True, slots=True)
class PerfParams:
    """The fitted constants of the performance model. Each mapping is keyed by GPU
    architecture, data-type class, engine or link class, with ``"*"`` as the fallback."""

    gemm_eff: Mapping[str, float] = field(default_factory=lambda: {"*": 0.6})
    """Share of the dense peak that large GEMMs reach, by GPU architecture."""
    dtype_eff: Mapping[str, float] = field(default_factory=lambda: {"16-bit": 1.0, "*": 0.8})
    """Multiplier on `gemm_eff` for the data-type class (16-bit is 1 by definition)."""
    gemm_half_tokens: float = 64.0
    """Tokens in a step at which a GEMM reaches half its large-shape efficiency."""
    attn_eff: Mapping[str, float] = field(default_factory=lambda: {"*": 0.4})
    """Share of the attention peak (`attention_tflops`) that prefill attention reaches, by GPU architecture."""
    mbu: Mapping[str, float] = field(default_factory=lambda: {"*": 0.7})
    """Share of the memory bandwidth that weight and KV reads reach, by GPU architecture."""
    step_s: Mapping[str, float] = field(default_factory=lambda: {"*": 0.002})
    """Fixed time of one scheduler step, by engine (seconds)."""
    seq_s: Mapping[str, float] = field(default_factory=lambda: {"*": 2e-5})
    """Time per sequence in a step, by engine (seconds)."""
    request_s: Mapping[str, float] = field(default_factory=lambda: {"*": 0.01})
    """Time every request spends outside the GPU before its first token, by engine (seconds):
    the API server, tokenization, admission. Added to TTFT and end-to-end latency."""
    link_latency_s: Mapping[str, float] = field(default_factory=lambda: {"nvlink": 1e-5, "infinity-fabric": 1e-5,
                                                                         "pcie": 3e-5, "*": 1e-5})
    """Fixed time of one collective, by link class (seconds)."""
    link_eff: Mapping[str, float] = field(default_factory=lambda: {"*": 0.7})
    """Share of the link bandwidth a collective reaches, by link class (an all-reduce over PCIe,
    through the host's switches, gets a smaller share than one over NVLink)."""

    @staticmethod
    def lookup(table: Mapping[str, float], key: str) -> float:
        """``table[key]``, or the fallback ``table["*"]``."""
        return table[key] if key in table else table["*"]

    def to_json(self) -> dict[str, Any]:
        return {name: (dict(sorted(v.items())) if isinstance(v, Mapping) else v)
                for name in self.__dataclass_fields__ for v in [getattr(self, name)]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PerfParams:
        fields: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else float(v)) for k, v in data.items()
                                  if k in cls.__dataclass_fields__}
        if isinstance(fields.get("link_eff"), float):  # one share for every link (calibrations before 2026-12)
            fields["link_eff"] = {"*": fields["link_eff"]}
        return cls(**fields)


@cache
def calibration() -> dict[str, Any]:
    """`calibration.json`, read once: fitted parameters, what they were fitted on, held-out errors."""
    data: dict[str, Any] = json.loads(CALIBRATION.read_text(encoding="utf-8"))
    return data


@cache
def calibrated_params() -> PerfParams:
    """The parameters fitted on every published measurement."""
    return PerfParams.from_json(calibration()["params"])


@dataclass(frozen=True, slots=True)
class Deployment:
    """What a step runs on: a model in a format on one replica of TP x PP GPUs (EP for
    the experts), under an engine."""

    arch: ModelArchitecture
    gpu: Gpu
    fmt: Format
    kv_bits: float = 16.0
    tp: int = 1
    pp: int = 1
    ep: int = 1
    engine: str = "vllm"
    groups: Mapping[str, Format] | None = None
    attention_dp: int = 1
    """Attention data parallelism inside the TP group (TensorRT-LLM's enable_attention_dp, SGLang's
    --enable-dp-attention): the ``tp`` GPUs form ``attention_dp`` groups of tp / attention_dp GPUs,
    each running its own batch through attention and the dense layers with its own KV cache, while
    the routed experts are spread over all ``tp`` GPUs and see every group's tokens. 1 is plain TP."""

    @property
    def group_gpus(self) -> int:
        """GPUs that share one batch: tp / attention_dp (all of TP without attention DP)."""
        if self.attention_dp < 1 or self.tp % self.attention_dp:
            raise ValueError(f"attention data parallelism {self.attention_dp} must divide tensor parallelism {self.tp}")
        return self.tp // self.attention_dp


@dataclass(frozen=True, slots=True)
class StepCost:
    """A deployment reduced to coefficients, so the simulator times a step in O(1).
    Same call as `roofline.StepModel.seconds`; see the module docstring for the model."""

    linear_flops_per_token: float
    head_flops: float
    attn_flops_full: float
    attn_flops_window: float
    kv_bytes_full: float
    kv_bytes_window: float
    weight_bytes: float
    routed_expert_bytes: float
    experts_per_token: int
    experts: int
    gemm_rate: float
    half_tokens: float
    attn_rate: float
    memory_rate: float
    comm_per_token_s: float
    comm_fixed_s: float
    step_s: float
    seq_s: float
    window: int | None
    state_bytes: float = 0.0
    expert_token_share: int = 1
    """Tokens the routed experts on one GPU see per token of this batch: the attention-DP degree,
    as every group's tokens reach every GPU's experts."""
    routed_flops_per_token: float = 0.0
    """The part of `linear_flops_per_token` spent in routed experts (the top k of them)."""

    def untouched(self, tokens: float) -> float:
        """Share of the routed experts no token of a step of ``tokens`` routes to (0 for a dense model)."""
        if not self.experts:
            return 0.0
        return (1.0 - self.experts_per_token / self.experts) ** (tokens * self.expert_token_share)

    def gemm_work(self, tokens: float, logits: float) -> float:
        """The step's GEMM FLOPs as if at full efficiency. A GEMM of M rows costs as if it had
        M + min(M, T_half): beyond T_half the tile overhead fades, below it kernels pick tiles that
        fit and run at half efficiency. Dense layers have M = the step's tokens; each routed expert
        the step touches has M = the tokens routed to it (spread evenly over the touched experts)."""
        if not tokens:
            return self.head_flops * logits
        dense = (self.linear_flops_per_token - self.routed_flops_per_token) * tokens + self.head_flops * logits
        work = dense * (tokens + min(tokens, self.half_tokens)) / tokens + self.routed_flops_per_token * tokens
        if self.experts:  # per touched expert min(T_half, its tokens), in FLOPs of one token through one expert
            touched = self.experts * (1.0 - self.untouched(tokens))
            routed_tokens = tokens * self.expert_token_share * self.experts_per_token
            work += (self.routed_flops_per_token / self.experts_per_token / self.expert_token_share
                     * min(self.half_tokens * touched, routed_tokens))
        return work

    def seconds(self, tokens: int, logits: int, span_full: float, span_window: float, kv_full: float,
                kv_window: float, sequences: int = 0) -> float:
        weights = self.weight_bytes - self.routed_expert_bytes * self.untouched(tokens)
        gemm = max(self.gemm_work(tokens, logits) / self.gemm_rate, weights / self.memory_rate)
        attn_flops = self.attn_flops_full * span_full + self.attn_flops_window * span_window
        attn_bytes = self.kv_bytes_full * kv_full + self.kv_bytes_window * kv_window + self.state_bytes * sequences
        attn = max(attn_flops / self.attn_rate, attn_bytes / self.memory_rate)
        comm = self.comm_per_token_s * tokens + self.comm_fixed_s
        return gemm + attn + comm + self.step_s + self.seq_s * sequences

    def decode_timer(self, tokens: float, logits: float,
                     sequences: float) -> Callable[[float, float, float, float], float]:
        """`seconds` for steps of fixed ``tokens``, ``logits`` and ``sequences`` (a run of decode
        steps), as a function of the attention spans and cached tokens. The terms that do not
        change are worked out once; the sum is taken in `seconds`' order, so the times are the
        same floats."""
        weights = self.weight_bytes - self.routed_expert_bytes * self.untouched(tokens)
        gemm = max(self.gemm_work(tokens, logits) / self.gemm_rate, weights / self.memory_rate)
        comm = self.comm_per_token_s * tokens + self.comm_fixed_s
        step_s, per_seq = self.step_s, self.seq_s * sequences
        state = self.state_bytes * sequences
        flops_full, flops_window, attn_rate = self.attn_flops_full, self.attn_flops_window, self.attn_rate
        bytes_full, bytes_window, memory_rate = self.kv_bytes_full, self.kv_bytes_window, self.memory_rate

        def timer(span_full: float, span_window: float, kv_full: float, kv_window: float) -> float:
            attn = max((flops_full * span_full + flops_window * span_window) / attn_rate,
                       (bytes_full * kv_full + bytes_window * kv_window + state) / memory_rate)
            return gemm + attn + comm + step_s + per_seq

        return timer


def step_cost(d: Deployment, params: PerfParams | None = None) -> StepCost:
    """The coefficients of deployment ``d`` under ``params`` (the calibrated ones by default)."""
    p = params or calibrated_params()
    a = d.arch
    gpu = d.gpu
    counts = count_params(a)
    layout = attention_layout(a)
    n_window, window = layout.n_window, layout.window
    attn_full, attn_window, kv_full, kv_window = layout.coefficients(
        kv_bytes(a, 1, d.kv_bits, 1, d.group_gpus).bytes_per_gpu)
    groups = dict(d.groups) if d.groups else None
    expert_fmt = (groups or {}).get("experts", d.fmt)
    # a step is one pass through every pipeline stage in turn (the latency view; the overlap of
    # micro-batches across stages is not modelled), so the stages' work adds up. With attention DP
    # a batch runs on tp / attention_dp GPUs; the routed experts stay spread over all tp GPUs.
    shards = d.group_gpus
    dp = d.attention_dp
    routed_all = routed_expert_params(a) * expert_fmt.effective_bits_per_weight / 8
    routed = routed_all / d.tp
    arch = arch_key(gpu)
    peak = compute_tflops(gpu, d.fmt) * 1e12
    peak16 = attention_tflops(gpu, d.fmt, d.kv_bits) * 1e12
    gemm_rate = peak * p.lookup(p.gemm_eff, arch) * p.lookup(p.dtype_eff, dtype_class(d.fmt, gpu)) * shards
    attn_rate = peak16 * p.lookup(p.attn_eff, arch) * shards
    memory_rate = gpu.memory_bandwidth_gb_s.value * 1e9 * p.lookup(p.mbu, arch)
    per_direction = link_gb_s_per_direction(gpu) * 1e9 * p.lookup(p.link_eff, link_class(gpu))
    latency = p.lookup(p.link_latency_s, link_class(gpu))
    comm_token = comm_fixed = 0.0
    if shards > 1:  # an all-reduce of the hidden state per block, two per layer (ring: 2 (n-1)/n of the message)
        comm_token += blocks(a) * 2 * (shards - 1) / shards * a.hidden_size * 2 / per_direction
        comm_fixed += blocks(a) * latency
    if dp > 1 and a.moe is not None:  # the batch's tokens to the experts on all tp GPUs and back
        moe_layers = sum(1 for i in range(a.layers) if is_moe_layer(a, i))
        comm_token += (2 * moe_layers * a.moe.experts_per_token * a.hidden_size * 2 * (d.tp - 1) / d.tp
                       / per_direction / shards)
        comm_fixed += 2 * moe_layers * latency
    elif d.ep > 1 and a.moe is not None:  # dispatch and combine: each token's hidden state to its k experts
        moe_layers = sum(1 for i in range(a.layers) if is_moe_layer(a, i))
        share = (d.ep - 1) / d.ep
        comm_token += 2 * moe_layers * a.moe.experts_per_token * a.hidden_size * 2 * share / per_direction / d.ep
        comm_fixed += 2 * moe_layers * latency
    if d.pp > 1:  # the hidden state crosses pp - 1 stage boundaries
        comm_token += (d.pp - 1) * a.hidden_size * 2 / per_direction
        comm_fixed += (d.pp - 1) * latency
    return StepCost(
        linear_flops_per_token=2.0 * (counts.attention + counts.ffn_dense + counts.ffn_experts_active),
        routed_flops_per_token=(2.0 * routed_expert_params(a) * a.moe.experts_per_token / a.moe.experts
                                if a.moe else 0.0),
        head_flops=2.0 * (counts.lm_head or counts.embedding),
        attn_flops_full=attn_full, attn_flops_window=attn_window, kv_bytes_full=kv_full, kv_bytes_window=kv_window,
        weight_bytes=(weight_bytes(a, d.fmt, tp=shards, groups=groups).per_gpu_bytes
                      - routed_all * (1 / shards - 1 / d.tp)),
        routed_expert_bytes=routed,
        experts_per_token=a.moe.experts_per_token if a.moe else 0, experts=a.moe.experts if a.moe else 0,
        gemm_rate=gemm_rate, half_tokens=p.gemm_half_tokens, attn_rate=attn_rate,
        memory_rate=memory_rate, comm_per_token_s=comm_token, comm_fixed_s=comm_fixed,
        step_s=p.lookup(p.step_s, d.engine), seq_s=p.lookup(p.seq_s, d.engine),
        window=window if n_window else None,
        state_bytes=2.0 * state_bytes_per_sequence(a, tp=shards),
        expert_token_share=dp,
    )
