// Port of inferbook/calc/capacity.py: the engine's memory budget and what it leaves for the KV cache.
import {
  DEFAULT_ENGINE_CONFIG, GIB, NON_TORCH_GIB_TP, NON_TORCH_GIB_TP1,
} from "./constants.js";
import { kvBytes } from "./kv.js";
import { routedExpertParams } from "./params.js";
import { weightBytes } from "./weights.js";

/**
 * Engine memory settings (Python `EngineConfig`); missing fields take `DEFAULT_ENGINE_CONFIG`
 * (constants.js, Python's defaults: vLLM V1 on a large GPU).
 * @typedef {object} EngineConfig
 * @property {number} [gpu_memory_utilization]
 * @property {number} [max_num_batched_tokens]
 * @property {number} [max_num_seqs]
 * @property {number} [block_size]
 * @property {number} [usable_fraction] Share of nominal memory a process may use.
 * @property {number|null} [non_torch_gib] CUDA context, NCCL buffers; null takes the
 *   logged figure for the TP size (NON_TORCH_GIB_TP1, NON_TORCH_GIB_TP with tensor parallelism).
 * @property {number} [cuda_graph_gib]
 * @property {number} [sampler_bytes_per_logit] 0 ignores the sampler run.
 * @property {number} [activation_scale]
 * @property {number|null} [total_memory_gib] Memory the driver reports (overrides
 *   nominal x usable_fraction).
 * @property {"total"|"free"} [fraction_of] What gpu_memory_utilization is a share of.
 */

/** Fill in the defaults of an engine configuration and check it. */
export function engineConfig(cfg) {
  const c = { ...DEFAULT_ENGINE_CONFIG, ...(cfg ?? {}) };
  if (!(c.gpu_memory_utilization > 0 && c.gpu_memory_utilization <= 1)) {
    throw new Error("the share of GPU memory the engine may use must be above 0 and at most 1");
  }
  if (c.max_num_batched_tokens < 1 || c.max_num_seqs < 1 || c.block_size < 1) {
    throw new Error("the step's token budget, the sequence limit and the KV block size must each be at least 1");
  }
  return c;
}

/** The non-torch memory (GiB) vLLM logs for a tensor-parallel size. */
export function nonTorchForTp(tp) {
  return tp === 1 ? NON_TORCH_GIB_TP1 : NON_TORCH_GIB_TP;
}

/**
 * Activations (bytes per GPU) of the profiling forward pass over `max_num_batched_tokens`
 * tokens in 16-bit: the widest FFN intermediate or the attention projections, plus two
 * hidden-state buffers.
 * @param {object} arch
 * @param {EngineConfig} [cfg]
 */
export function forwardPeakBytes(arch, cfg = null, tp = 1) {
  const c = engineConfig(cfg);
  const tokens = c.max_num_batched_tokens;
  let ffn = arch.intermediate_size || 0;
  if (arch.moe) ffn = Math.max(ffn, arch.moe.expert_intermediate_size * arch.moe.experts_per_token);
  const ffnBytes = tokens * (arch.gated_mlp === false ? 2 : 3) * ffn / tp * 2;
  let qkv = tokens * (arch.attention_heads + 2 * arch.kv_heads) * arch.head_dim / tp * 2;
  if (arch.mamba) { // a Mamba-2 in_proj: gate, x, B, C and dt
    const m = arch.mamba;
    qkv = Math.max(qkv, tokens * (2 * m.heads * m.head_dim + 2 * m.groups * m.state_size + m.heads) / tp * 2);
  }
  return Math.max(ffnBytes, qkv) + tokens * arch.hidden_size * 2 * 2;
}

/**
 * Peak activation memory (bytes per GPU) of the engine's profiling runs: the larger of
 * the forward pass and the sampler pass (logits are gathered whole on every TP rank).
 * @param {object} arch
 * @param {EngineConfig} [cfg]
 */
export function activationPeakBytes(arch, cfg = null, tp = 1) {
  const c = engineConfig(cfg);
  const sampler = c.max_num_seqs * arch.vocab_size * c.sampler_bytes_per_logit;
  return Math.max(forwardPeakBytes(arch, c, tp), sampler) * c.activation_scale;
}

/**
 * Memory budget of one GPU of the group and what it leaves for the KV cache, in bytes:
 * usableBytes, budgetBytes, weightsBytes, activationBytes, otherBytes, kvSpaceBytes,
 * kvBytesPerToken (per GPU, under every window), kvTokens (whole blocks) and fits.
 * @typedef {object} Capacity
 */

/**
 * Capacity of one GPU of a TP x PP group serving `arch` in `fmt` (vLLM's accounting);
 * `groups` as for `weightBytes`. With `attentionDp` above 1 (a MoE model's attention data
 * parallelism) the TP GPUs form that many groups: a GPU holds its group's share of attention and
 * dense weights but 1/tp of the routed experts, and `kvTokens` is one group's cache.
 * @returns {Capacity}
 */
export function capacity(arch, gpu, fmt, kvBits = 16.0, tp = 1, pp = 1, cfg = null, groups = null, mtp = false,
  attentionDp = 1) {
  const c = engineConfig(cfg);
  if (attentionDp > 1) return attentionDpCapacity(arch, gpu, fmt, kvBits, tp, pp, c, groups, mtp, attentionDp);
  if (arch.attention_heads % tp) {
    throw new Error(`tensor parallelism ${tp} must divide the ${arch.attention_heads} attention heads`);
  }
  const total = c.total_memory_gib != null ? c.total_memory_gib : gpu.memory_gib.value * c.usable_fraction;
  const usable = total * GIB;
  const budget = usable * c.gpu_memory_utilization;
  const weights = weightBytes(arch, fmt, tp, pp, null, groups, mtp).perGpuBytes;
  const activation = activationPeakBytes(arch, c, tp);
  // null takes the logged figure for the TP size (TP adds NCCL buffers)
  const nonTorch = c.non_torch_gib != null ? c.non_torch_gib : nonTorchForTp(tp);
  const other = (nonTorch + c.cuda_graph_gib) * GIB;
  // TensorRT-LLM's fraction is a share of what is free after weights and reserve (Python `fraction_of`)
  const free = c.fraction_of === "free";
  const kvSpace = free ? (usable - weights - activation - other) * c.gpu_memory_utilization
    : budget - weights - activation - other;
  const perToken = kvBytes(arch, 1, kvBits, 1, tp, pp).bytesPerGpu;
  let tokens = 0;
  if (kvSpace > 0 && perToken > 0) tokens = Math.floor(kvSpace / perToken / c.block_size) * c.block_size;
  return {
    usableBytes: usable, budgetBytes: free ? usable : budget, weightsBytes: weights, activationBytes: activation,
    otherBytes: other, kvSpaceBytes: kvSpace, kvBytesPerToken: perToken, kvTokens: tokens,
    fits: kvSpace > 0 && tokens > 0,
  };
}

/** `capacity` with attention data parallelism (Python `_attention_dp_capacity`). */
function attentionDpCapacity(arch, gpu, fmt, kvBits, tp, pp, c, groups, mtp, dp) {
  if (dp < 1 || tp % dp) throw new Error(`attention data parallelism ${dp} must divide tensor parallelism ${tp}`);
  const group = tp / dp;
  const cap = capacity(arch, gpu, fmt, kvBits, group, pp, c, groups, mtp);
  const expertFmt = (groups && groups.experts) || fmt;
  const stageShare = Math.ceil(arch.layers / pp) / arch.layers;
  const saved = routedExpertParams(arch) * expertFmt.effective_bits_per_weight / 8 * stageShare * (1 / group - 1 / tp);
  const space = cap.kvSpaceBytes + saved * (c.fraction_of === "free" ? c.gpu_memory_utilization : 1.0);
  let tokens = 0;
  if (space > 0 && cap.kvBytesPerToken > 0) tokens = Math.floor(space / cap.kvBytesPerToken / c.block_size) * c.block_size;
  return { ...cap, weightsBytes: cap.weightsBytes - saved, kvSpaceBytes: space, kvTokens: tokens,
    fits: space > 0 && tokens > 0 };
}

/**
 * Sequences of `context` tokens that fit at once (Infinity when a sequence needs no cache).
 * @param {object} arch
 * @param {Capacity} cap
 */
export function maxConcurrency(arch, cap, context, kvBits = 16.0, tp = 1, pp = 1) {
  const perSeq = kvBytes(arch, context, kvBits, 1, tp, pp, true).bytesPerGpu;
  if (perSeq <= 0) return Infinity;
  return Math.max(cap.kvSpaceBytes, 0.0) / perSeq;
}
