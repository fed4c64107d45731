"""Roofline latency: prefill is bounded by compute, a decode step by memory
(weights plus the KV cache it reads); each takes the slower of the two, scaled
by efficiency factors (MFU for compute, MBU for bandwidth), plus tensor-parallel
communication. MoE steps read only the experts the batch touches."""

from __future__ import annotations

from dataclasses import dataclass

from ..schema import Format, Gpu, ModelArchitecture
from .kv import indexer_key_bytes, kv_bytes, state_bytes_per_sequence
from .params import blocks, count_params, is_moe_layer
from .weights import weight_bytes

DEFAULT_MFU = 0.48
"""Fraction of dense peak FLOP/s a prefill reaches in this textbook roofline. Fitted by
`accuracy.fit_efficiency` on the single-stream TTFT of a 5,000-token prompt (Llama 3.3 70B
FP8, 2 x H100, NVIDIA NIM benchmark page); a test keeps it equal to the fit. The calibrated
model behind `predict` is `perf`, with efficiencies per architecture, type and engine."""
DEFAULT_MBU = 0.65
"""Fraction of peak memory bandwidth a decode step reaches in the textbook roofline. Fitted
the same way on the single-stream decode TPOT rows of the NIM benchmark page."""
ALLREDUCE_LATENCY_S = 10e-6
"""Fixed cost of one all-reduce launch and synchronisation."""


@dataclass(frozen=True, slots=True)
class Efficiency:
    """How close to the hardware peaks an engine gets."""

    mfu: float = DEFAULT_MFU
    mbu: float = DEFAULT_MBU

    def __post_init__(self) -> None:
        if not (0 < self.mfu <= 1 and 0 < self.mbu <= 1):
            raise ValueError("the compute and bandwidth efficiencies must be above 0 and at most 1")


@dataclass(frozen=True, slots=True)
class StepTime:
    """Time of one forward pass, with its parts."""

    seconds: float
    compute_s: float
    memory_s: float
    comm_s: float
    flops: float
    bytes_read: float

    @property
    def bound(self) -> str:
        return "compute" if self.compute_s >= self.memory_s else "memory"


def compute_tflops(gpu: Gpu, fmt: Format) -> float:
    """Dense peak TFLOPS the matrix units reach for a weight format: FP8 and FP4
    checkpoints run their own type where the chip supports it, everything else
    runs in 16-bit (weight-only formats dequantize to it). A GPU that lists only its FP32
    vector rate (Apple silicon) is taken to run 16-bit at that rate."""
    d = gpu.dense
    candidates: list[str] = []
    fid = fmt.id
    if fid.startswith("fp8") or fid == "mxfp8":
        candidates.append("fp8_tflops")
    if fid in ("nvfp4", "mxfp4", "fp4-e2m1"):
        candidates.append("fp4_tflops")
    if fid == "int8":
        candidates.append("int8_tops")
    candidates += ["bf16_tflops", "fp16_tflops", "fp32_tflops"]  # a GPU listing only FP32 (Apple) runs 16-bit at it
    for name in candidates:
        value = getattr(d, name)
        if value is not None:
            return value.value
    raise ValueError(f"{gpu.id} has no dense 16-bit throughput in the knowledge base")


@dataclass(frozen=True, slots=True)
class Roofline:
    """A model x GPU x format setup that answers latency questions."""

    arch: ModelArchitecture
    """The model's architecture."""
    gpu: Gpu
    """The GPU type; its dense peak throughput, memory bandwidth and interconnect are used."""
    fmt: Format
    """The weight format: it sets the bytes read per weight and which peak throughput applies."""
    kv_dtype_bits: float = 16.0
    """Bits per KV-cache value."""
    tp: int = 1
    """Tensor-parallel size: GPUs each layer is split over (at least 1)."""
    efficiency: Efficiency = Efficiency()
    """Shares of the peak compute (MFU) and peak bandwidth (MBU) the engine reaches."""
    groups: dict[str, Format] | None = None
    """Tensor groups stored in another format than ``fmt`` (see `weights.native_groups`)."""

    def __post_init__(self) -> None:
        if self.tp < 1:
            raise ValueError("tensor parallelism must be at least 1")

    # building blocks --------------------------------------------------------
    @property
    def peak_flops(self) -> float:
        """Dense peak throughput of one GPU's matrix units for the weight format, in FLOP/s (see `compute_tflops`)."""
        return compute_tflops(self.gpu, self.fmt) * 1e12

    @property
    def bandwidth(self) -> float:
        """Peak memory bandwidth of one GPU, in bytes per second."""
        return self.gpu.memory_bandwidth_gb_s.value * 1e9

    def _linear_flops_per_token(self, with_head: bool) -> float:
        p = count_params(self.arch)
        active_linear = p.attention + p.ffn_dense + p.ffn_experts_active
        return 2.0 * (active_linear + (p.lm_head or p.embedding if with_head else 0))

    def _attention_flops(self, context: float) -> float:
        """Score and value FLOPs of one new token attending to ``context`` tokens."""
        a = self.arch
        if a.mla is not None:
            qk, v = a.mla.qk_nope_head_dim + a.mla.qk_rope_head_dim, a.mla.v_head_dim
        else:
            qk = v = a.head_dim
        total = 0.0
        for i in range(a.layers):
            kind = a.layer_pattern[i % len(a.layer_pattern)]
            if kind not in ("full", "sliding", "chunked"):  # linear, Mamba and feed-forward layers
                continue
            span = context
            if kind == "sliding" and a.sliding_window:
                span = min(context, a.sliding_window)
            elif kind == "chunked" and a.attention_chunk_size:
                span = min(context, a.attention_chunk_size)
            if a.sparse_attention is not None:  # DSA: the indexer scores every token, attention keeps the top k
                dsa = a.sparse_attention
                total += 2.0 * dsa.index_heads * dsa.index_head_dim * span
                span = min(span, dsa.index_topk)
            total += 2.0 * a.attention_heads * (qk + v) * span
        return total

    def _kv_read_bytes(self, batch: int, context: int) -> float:
        """KV-cache bytes a decode step reads per GPU: the whole cache, except that a DeepSeek Sparse
        Attention layer reads its indexer keys for every token but the latents of at most index_topk."""
        footprint = kv_bytes(self.arch, context, self.kv_dtype_bits, batch, self.tp).bytes_per_gpu
        dsa = self.arch.sparse_attention
        if dsa is None or context <= dsa.index_topk:
            return footprint
        indexer = kv_bytes(self.arch, 1, self.kv_dtype_bits, 1, self.tp)
        layers = indexer.layers_cached
        key = indexer_key_bytes(self.arch)
        main_per_token = indexer.bytes_per_gpu - layers * key
        return batch * layers * key * context + batch * main_per_token * dsa.index_topk

    def _comm_seconds(self, tokens: int) -> float:
        if self.tp == 1:
            return 0.0
        link = self.gpu.interconnect.bandwidth_gb_s
        per_direction = (link.value / 2 if link else 32.0) * 1e9  # no NVLink: PCIe 4.0 x16 per direction
        payload = tokens * self.arch.hidden_size * 2  # 16-bit activations
        ring = 2 * (self.tp - 1) / self.tp * payload / per_direction
        return blocks(self.arch) * (ring + ALLREDUCE_LATENCY_S)

    def weight_bytes_per_gpu(self, touched_experts_fraction: float = 1.0) -> float:
        """Weight bytes one GPU reads in a step: its whole share under TP, less the routed experts a step
        does not touch when ``touched_experts_fraction`` (0 to 1) is below 1 on an MoE model."""
        w = weight_bytes(self.arch, self.fmt, tp=self.tp, groups=self.groups)
        if self.arch.moe is None or touched_experts_fraction >= 1:
            return w.per_gpu_bytes
        p = count_params(self.arch)
        routed = p.ffn_experts - self._shared_and_router_params()
        untouched = routed * (1 - touched_experts_fraction) * self._expert_bits() / 8
        return w.per_gpu_bytes - untouched / self.tp

    def _expert_bits(self) -> float:
        fmt = (self.groups or {}).get("experts", self.fmt)
        return fmt.effective_bits_per_weight

    def _shared_and_router_params(self) -> float:
        moe = self.arch.moe
        assert moe is not None
        per_expert = (3 if self.arch.gated_mlp else 2) * self.arch.hidden_size * moe.expert_intermediate_size
        layers = sum(1 for i in range(self.arch.layers) if is_moe_layer(self.arch, i))
        return layers * (per_expert * moe.shared_experts + self.arch.hidden_size * moe.experts)

    def experts_touched_fraction(self, tokens: int) -> float:
        """Expected share of routed experts a step touches when ``tokens`` tokens each
        pick top-k of E experts uniformly: 1 - (1 - k/E)^tokens."""
        moe = self.arch.moe
        if moe is None:
            return 1.0
        return 1.0 - (1.0 - moe.experts_per_token / moe.experts) ** max(tokens, 0)

    # latency ------------------------------------------------------------
    def step_time(self, flops: float, bytes_read: float, tokens: int) -> StepTime:
        """A step of ``flops`` and ``bytes_read`` over ``tokens`` tokens: the slower of its compute
        and memory time at this roofline's efficiencies, plus the tensor-parallel all-reduces."""
        compute = flops / (self.peak_flops * self.efficiency.mfu * self.tp)
        memory = bytes_read / (self.bandwidth * self.efficiency.mbu)
        comm = self._comm_seconds(tokens)
        return StepTime(max(compute, memory) + comm, compute, memory, comm, flops, bytes_read)

    def prefill(self, prompt_tokens: int, batch: int = 1, cached_tokens: int = 0) -> StepTime:
        """One forward pass over ``batch`` prompts of ``prompt_tokens`` tokens, of which the
        first ``cached_tokens`` come from a prefix cache (logits for the last token only)."""
        if prompt_tokens < 1 or batch < 1:
            raise ValueError("the prompt and the batch must each be at least 1")
        if not 0 <= cached_tokens < prompt_tokens:
            raise ValueError("a cached prefix cannot be negative and must be shorter than the prompt")
        new = prompt_tokens - cached_tokens
        n = new * batch
        flops = self._linear_flops_per_token(False) * n + 2.0 * count_params(self.arch).embedding * batch
        # causal attention: new token i (cached+1..P) attends to i tokens; mean span (cached+1+P)/2
        flops += batch * self._attention_flops((cached_tokens + 1 + prompt_tokens) / 2) * new
        frac = self.experts_touched_fraction(n)
        bytes_read = self.weight_bytes_per_gpu(frac)
        bytes_read += kv_bytes(self.arch, prompt_tokens, self.kv_dtype_bits, batch, self.tp, state=True).bytes_per_gpu
        return self.step_time(flops, bytes_read, n)

    def decode_step(self, batch: int, context: int) -> StepTime:
        """One decode step: ``batch`` sequences each add one token after ``context`` tokens."""
        if batch < 1 or context < 0:
            raise ValueError("batch must be at least 1 and context not negative")
        flops = batch * (self._linear_flops_per_token(True) + self._attention_flops(context))
        bytes_read = self.weight_bytes_per_gpu(self.experts_touched_fraction(batch))
        bytes_read += self._kv_read_bytes(batch, context)
        # a linear-attention or Mamba layer reads its state and writes it back every step
        bytes_read += 2.0 * batch * state_bytes_per_sequence(self.arch, tp=self.tp)
        return self.step_time(flops, bytes_read, batch)

    def decode_throughput(self, batch: int, context: int) -> float:
        """Output tokens per second of the whole group at this batch size."""
        return batch / self.decode_step(batch, context).seconds

    def compute_bound_batch(self, context: int, limit: int = 1 << 16) -> int | None:
        """Smallest batch at which a decode step becomes compute-bound (None if not below ``limit``)."""
        lo, hi = 1, limit
        if self.decode_step(hi, context).bound != "compute":
            return None
        while lo < hi:
            mid = (lo + hi) // 2
            if self.decode_step(mid, context).bound == "compute":
                hi = mid
            else:
                lo = mid + 1
        return lo

    def request_latency(self, prompt_tokens: int, output_tokens: int, batch: int = 1) -> dict[str, float]:
        """TTFT, mean TPOT and E2E latency (seconds) of a request in a steady batch."""
        ttft = self.prefill(prompt_tokens, 1).seconds
        steps = [self.decode_step(batch, prompt_tokens + i).seconds for i in range(1, output_tokens)]
        tpot = sum(steps) / len(steps) if steps else 0.0
        return {"ttft_s": ttft, "tpot_s": tpot, "e2el_s": ttft + sum(steps)}


@dataclass(frozen=True, slots=True)
class StepModel:
    """The roofline reduced to coefficients, so a simulator can time a step in O(1).

    A step processes ``tokens`` new tokens (prefill chunks plus one per decoding
    sequence), produces ``logits`` next-token distributions, attends over
    ``span_full`` key positions in full-attention layers and ``span_window`` in
    windowed layers (summed over the step's tokens), reads the KV cache of
    ``kv_full`` tokens in full layers and ``kv_window`` in windowed ones, and reads and
    writes the linear-attention state of ``sequences`` sequences."""

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
    compute_rate: float
    memory_rate: float
    comm_per_token_s: float
    comm_fixed_s: float
    window: int | None
    state_bytes: float = 0.0
    """Linear-attention state one sequence reads and writes back in a step, per GPU."""

    def seconds(self, tokens: int, logits: int, span_full: float, span_window: float, kv_full: float,
                kv_window: float, sequences: int = 0) -> float:
        flops = (self.linear_flops_per_token * tokens + self.head_flops * logits
                 + self.attn_flops_full * span_full + self.attn_flops_window * span_window)
        weights = self.weight_bytes
        if self.experts:
            untouched = (1.0 - self.experts_per_token / self.experts) ** tokens
            weights -= self.routed_expert_bytes * untouched
        memory = (weights + self.kv_bytes_full * kv_full + self.kv_bytes_window * kv_window
                  + self.state_bytes * sequences)
        comm = (self.comm_per_token_s * tokens + self.comm_fixed_s) if self.comm_fixed_s else 0.0
        return max(flops / self.compute_rate, memory / self.memory_rate) + comm


@dataclass(frozen=True, slots=True)
class AttentionLayout:
    """How a model's layers attend: full and windowed layer counts, the window, and the score
    and value FLOPs one token spends per attended position in one attention layer.

    With DeepSeek Sparse Attention (`sparse`) every attention layer is counted twice: its main
    attention as a windowed layer whose window is index_topk (a query attends to at most that many
    latents), and its lightning indexer as a full layer that scores every cached token, spending
    `full_flops_per_position` (2 x index_heads x index_head_dim) and reading `full_kv_bytes_per_position`
    (the FP8 indexer key) per position."""

    n_full: int
    n_window: int
    window: int | None
    flops_per_position: float
    sparse: bool = False
    full_flops_per_position: float = 0.0
    """FLOPs per position of a full layer when `sparse` (the indexer's)."""
    full_kv_bytes_per_position: float = 0.0
    """KV bytes per position of a full layer when `sparse` (the indexer key's, per GPU: replicated)."""

    def coefficients(self, kv_bytes_per_token: float) -> tuple[float, float, float, float]:
        """(attention FLOPs per full-layer position, per windowed position, KV bytes per full position, per
        windowed position), all layers together, given the cache bytes one token adds per GPU."""
        if not self.sparse:
            per_layer_kv = kv_bytes_per_token / max(self.n_full + self.n_window, 1)
            return (self.flops_per_position * self.n_full, self.flops_per_position * self.n_window,
                    per_layer_kv * self.n_full, per_layer_kv * self.n_window)
        index_kv = self.full_kv_bytes_per_position * self.n_full
        return (self.full_flops_per_position * self.n_full, self.flops_per_position * self.n_window,
                index_kv, kv_bytes_per_token - index_kv)


def attention_layout(a: ModelArchitecture) -> AttentionLayout:
    """The attention layout of ``a`` (shared by the roofline's and the calibrated step models)."""
    kinds = [a.layer_pattern[i % len(a.layer_pattern)] for i in range(a.layers)]
    if a.mla is not None:
        qk, v = a.mla.qk_nope_head_dim + a.mla.qk_rope_head_dim, a.mla.v_head_dim
    else:
        qk = v = a.head_dim
    dsa = a.sparse_attention
    if dsa is not None:  # every attention layer: indexer over all tokens, attention over the top k
        layers = sum(1 for k in kinds if k in ("full", "sliding", "chunked"))
        return AttentionLayout(layers, layers, dsa.index_topk, 2.0 * a.attention_heads * (qk + v), True,
                               2.0 * dsa.index_heads * dsa.index_head_dim, indexer_key_bytes(a))
    n_full = sum(1 for k in kinds if k == "full")
    n_window = sum(1 for k in kinds if k in ("sliding", "chunked"))
    window = a.sliding_window if "sliding" in kinds else a.attention_chunk_size
    return AttentionLayout(n_full, n_window, window, 2.0 * a.attention_heads * (qk + v))


def step_model(r: Roofline) -> StepModel:
    """Coefficients of ``r`` for fast step timing."""
    a = r.arch
    p = count_params(a)
    layout = attention_layout(a)
    n_window, window = layout.n_window, layout.window
    per_token_kv = kv_bytes(a, 1, r.kv_dtype_bits, 1, r.tp).bytes_per_gpu
    attn_full, attn_window, kv_full, kv_window = layout.coefficients(per_token_kv)
    routed = 0.0
    if a.moe is not None:
        routed = (p.ffn_experts - r._shared_and_router_params()) * r._expert_bits() / 8 / r.tp
    link = r.gpu.interconnect.bandwidth_gb_s
    per_direction = (link.value / 2 if link else 32.0) * 1e9
    comm_token = comm_fixed = 0.0
    if r.tp > 1:
        comm_token = blocks(a) * 2 * (r.tp - 1) / r.tp * a.hidden_size * 2 / per_direction
        comm_fixed = blocks(a) * ALLREDUCE_LATENCY_S
    return StepModel(
        linear_flops_per_token=2.0 * (p.attention + p.ffn_dense + p.ffn_experts_active),
        head_flops=2.0 * (p.lm_head or p.embedding),
        attn_flops_full=attn_full, attn_flops_window=attn_window, kv_bytes_full=kv_full, kv_bytes_window=kv_window,
        weight_bytes=weight_bytes(a, r.fmt, tp=r.tp, groups=r.groups).per_gpu_bytes, routed_expert_bytes=routed,
        experts_per_token=a.moe.experts_per_token if a.moe else 0, experts=a.moe.experts if a.moe else 0,
        compute_rate=r.peak_flops * r.efficiency.mfu * r.tp, memory_rate=r.bandwidth * r.efficiency.mbu,
        comm_per_token_s=comm_token, comm_fixed_s=comm_fixed, window=window if n_window else None,
        state_bytes=2.0 * state_bytes_per_sequence(a, tp=r.tp),
    )


def speculative_speedup(acceptance: float, draft_tokens: int, draft_cost_ratio: float) -> dict[str, float]:
    """Expected tokens per target step and speedup of speculative decoding
    (Leviathan et al. 2023): E[tokens] = (1 - a^(k+1)) / (1 - a), cost = 1 + k*c."""
    if not 0 <= acceptance <= 1 or draft_tokens < 1 or draft_cost_ratio < 0:
        raise ValueError("the acceptance rate must be between 0 and 1, the draft must propose at least one token, "
                         "and its cost ratio cannot be negative")
    a, k = acceptance, draft_tokens
    expected = k + 1.0 if a == 1 else (1 - a ** (k + 1)) / (1 - a)
    cost = 1 + k * draft_cost_ratio
    return {"tokens_per_step": expected, "speedup": expected / cost}


def prefix_cache_savings(prompt_tokens: int, cached_tokens: int, roofline: Roofline) -> dict[str, float]:
    """Prefill time without and with a cached prefix of ``cached_tokens`` tokens."""
    full = roofline.prefill(prompt_tokens).seconds
    partial = roofline.prefill(prompt_tokens, cached_tokens=min(cached_tokens, prompt_tokens - 1)).seconds
    return {"full_s": full, "with_cache_s": partial, "saved_fraction": 1 - partial / full}


def cost_per_million_tokens(price_per_hour: float, tokens_per_second: float) -> float:
    """Dollars (or any currency) per 10^6 tokens at a steady throughput."""
    if price_per_hour < 0 or tokens_per_second <= 0:
        raise ValueError("a price cannot be negative, and the throughput must be above 0")
    return price_per_hour / (tokens_per_second * 3600) * 1e6


def ridge_point(gpu: Gpu, fmt: Format) -> float:
    """Arithmetic intensity (FLOP per byte) where the roofline turns from memory- to compute-bound."""
    return compute_tflops(gpu, fmt) * 1e12 / (gpu.memory_bandwidth_gb_s.value * 1e9)

