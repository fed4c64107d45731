/**
 * inferbook calculator core for the browser: a dependency-free ES module port of
 * `inferbook/calc/` (params, kv, weights, roofline, capacity, feasibility, fit, metrics,
 * simulator).
 * Each function gives the numbers of its Python counterpart (checked by
 * `tests/test_js_parity.py`); arithmetic follows the Python order of operations.
 *
 * - Inputs are the JSON of Python's `model_dump(mode="json")` (`arch.kv_heads`,
 *   `gpu.memory_bandwidth_gb_s.value`, `fmt.effective_bits_per_weight`); settings
 *   (engine and simulator config, SLOs, requests, records) use the Python
 *   dataclass field names, missing fields taking the Python defaults.
 * - Results use camelCase names (`bytesPerGpu`, `computeS`, `kvSpaceBytes`).
 * - Invalid inputs throw an `Error` with the message of Python's `ValueError`.
 * - `checkSetup` answers whether a setup can run with findings whose messages are
 *   byte-identical to Python's (`pyFixed`/`pyComma`/`pyPercent` format numbers as Python's
 *   f-strings do); `feasibilityJson` gives Python's `Feasibility.to_json()`.
 * - `workload` draws from the same distributions as Python's, with its own PRNG
 *   (mulberry32): a seed gives other numbers than `random.Random(seed)`.
 *
 * @module calc
 */

// === constants ===

/** Fraction of dense peak FLOP/s a prefill reaches (Python's fitted `DEFAULT_MFU`). */
export const DEFAULT_MFU = 0.48;
/** Fraction of peak memory bandwidth a decode step reaches (Python's fitted `DEFAULT_MBU`). */
export const DEFAULT_MBU = 0.65;
/** Fixed cost (seconds) of one all-reduce launch and synchronisation. */
export const ALLREDUCE_LATENCY_S = 10e-6;
/** Bytes in a GiB. */
export const GIB = 2 ** 30;

/** Peak bytes per (sequence x vocabulary entry) of vLLM V1's sampler profiling run. */
export const SAMPLER_BYTES_PER_LOGIT = 38.7;
/** Non-PyTorch memory (GiB) vLLM logs for one GPU. */
export const NON_TORCH_GIB_TP1 = 0.13;
/** The same with tensor parallelism (NCCL buffers added). */
export const NON_TORCH_GIB_TP = 0.55;

/**
 * Engine memory settings; the defaults model vLLM V1 on a large GPU (Python `EngineConfig`).
 * @typedef {object} EngineConfig
 * @property {number} [gpu_memory_utilization=0.9]
 * @property {number} [max_num_batched_tokens=8192]
 * @property {number} [max_num_seqs=1024]
 * @property {number} [block_size=16]
 * @property {number} [usable_fraction=0.9889] Share of nominal memory a process may use.
 * @property {number|null} [non_torch_gib=null] CUDA context, NCCL buffers; null takes the
 *   logged figure for the TP size (0.13 GiB, 0.55 GiB with tensor parallelism).
 * @property {number} [cuda_graph_gib=0]
 * @property {number} [sampler_bytes_per_logit=38.7] 0 ignores the sampler run.
 * @property {number} [activation_scale=1]
 * @property {number|null} [total_memory_gib=null] Memory the driver reports (overrides
 *   nominal x usable_fraction).
 */
export const DEFAULT_ENGINE_CONFIG = Object.freeze({
  gpu_memory_utilization: 0.9, max_num_batched_tokens: 8192, max_num_seqs: 1024, block_size: 16,
  usable_fraction: 0.9889, non_torch_gib: null, cuda_graph_gib: 0.0,
  sampler_bytes_per_logit: SAMPLER_BYTES_PER_LOGIT, activation_scale: 1.0, total_memory_gib: null,
  fraction_of: "total",
});

/**
 * Scheduler settings (Python `SimConfig`).
 * @typedef {object} SimConfig
 * @property {"static"|"dynamic"|"continuous"} [policy="continuous"]
 * @property {number} [max_batch=256] Most sequences in a batch.
 * @property {number} [max_batched_tokens=8192] Token budget of one step.
 * @property {boolean} [chunked_prefill=true]
 * @property {number} [kv_capacity_tokens=2**40] KV-cache capacity in tokens.
 * @property {number} [batch_window_s=0.05] How long a dynamic batch waits.
 * @property {boolean} [closed_loop=false] A closed loop of clients: a request arrives when admitted.
 */
export const DEFAULT_SIM_CONFIG = Object.freeze({
  policy: "continuous", max_batch: 256, max_batched_tokens: 8192, chunked_prefill: true,
  kv_capacity_tokens: 2 ** 40, batch_window_s: 0.05, closed_loop: false, reserve_full_length: false,
  lockstep_ranks: 1,
});

// === small helpers ===

/** Left-to-right sum, as Python 3.11's built-in `sum()` computes it for floats. */
export function sum(values) {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/** Python's truthiness for a number or a missing value. */
export function truthy(value) {
  return value !== null && value !== undefined && value !== 0 && !Number.isNaN(value);
}

/** Layer kinds that keep a per-token KV cache. */
export const ATTENTION_KINDS = Object.freeze(["full", "sliding", "chunked"]);
/** Layer kinds that hold a feed-forward block alone (Nemotron-H's one-block layers). */
export const FFN_KINDS = Object.freeze(["mlp", "moe"]);

/** Kind of every layer, expanding the cyclic layer pattern. */
export function layerKinds(arch) {
  const pattern = arch.layer_pattern ?? ["full"];
  const kinds = new Array(arch.layers);
  for (let i = 0; i < arch.layers; i++) kinds[i] = pattern[i % pattern.length];
  return kinds;
}

/** Fill in the defaults of an engine configuration and check it. */
function engineConfig(cfg) {
  const c = { ...DEFAULT_ENGINE_CONFIG, ...(cfg ?? {}) };
  if (!(c.gpu_memory_utilization > 0 && c.gpu_memory_utilization <= 1)) {
    throw new Error("the share of GPU memory the engine may use must be above 0 and at most 1");
  }
  if (c.max_num_batched_tokens < 1 || c.max_num_seqs < 1 || c.block_size < 1) {
    throw new Error("the step's token budget, the sequence limit and the KV block size must each be at least 1");
  }
  return c;
}

// === parameters (params.py) ===

/**
 * Weights of the lightning indexer of one DeepSeek Sparse Attention layer (0 without
 * `sparse_attention`): wq_b from the compressed query, wk, the k_norm LayerNorm (weight and bias)
 * and weights_proj, as DeepSeek-V3.2-Exp's class Indexer defines them.
 * @param {object} arch ModelArchitecture JSON.
 * @returns {number}
 */
export function indexerParams(arch) {
  const dsa = arch.sparse_attention;
  if (!dsa || !arch.mla || !truthy(arch.mla.q_lora_rank)) return 0;
  const h = arch.hidden_size;
  const d = dsa.index_head_dim;
  return arch.mla.q_lora_rank * dsa.index_heads * d + h * d + 2 * d + h * dsa.index_heads;
}

/**
 * Projection weights of one attention layer (biases ignored), with the lightning indexer of a
 * DeepSeek Sparse Attention layer.
 * @param {object} arch ModelArchitecture JSON.
 * @returns {number}
 */
export function attentionParams(arch) {
  const h = arch.hidden_size;
  const heads = arch.attention_heads;
  if (arch.mla) {
    const m = arch.mla;
    const qk = m.qk_nope_head_dim + m.qk_rope_head_dim;
    const q = truthy(m.q_lora_rank)
      ? h * m.q_lora_rank + m.q_lora_rank + m.q_lora_rank * heads * qk
      : h * heads * qk;
    const kvA = h * (m.kv_lora_rank + m.qk_rope_head_dim) + m.kv_lora_rank;
    const kvB = m.kv_lora_rank * heads * (m.qk_nope_head_dim + m.v_head_dim);
    const o = heads * m.v_head_dim * h;
    return q + kvA + kvB + o + indexerParams(arch);
  }
  const q = h * heads * arch.head_dim * (arch.attention_output_gate ? 2 : 1);
  const kv = 2 * h * arch.kv_heads * arch.head_dim;
  const o = heads * arch.head_dim * h;
  return q + kv + o;
}

/**
 * Weights of one Gated DeltaNet layer (Qwen3-Next's layout): input projections to q, k, v and
 * the output gate and to beta and the decay input, a depthwise convolution over q, k and v,
 * per-head decay parameters, a gated norm over one value head, and the output projection.
 * @param {object} arch ModelArchitecture JSON with `linear_attention`.
 */
export function linearAttentionParams(arch) {
  const la = arch.linear_attention;
  if (!la) throw new Error("the model has no linear_attention shape");
  const h = arch.hidden_size;
  const keyDim = la.key_heads * la.key_head_dim;
  const valueDim = la.value_heads * la.value_head_dim;
  const projections = h * (2 * keyDim + 2 * valueDim) + h * 2 * la.value_heads;
  const convolution = (2 * keyDim + valueDim) * la.conv_kernel;
  const decay = 2 * la.value_heads; // A_log and dt_bias
  return projections + convolution + decay + la.value_head_dim + valueDim * h;
}

/**
 * Weights of one Mamba-2 mixer (Nemotron-H's layout): in_proj to z, x, B, C and dt, the depthwise
 * convolution over x, B and C with its bias, dt_bias, A_log and D per head, the gated norm and out_proj.
 * @param {object} arch ModelArchitecture JSON with `mamba`.
 */
export function mambaParams(arch) {
  const m = arch.mamba;
  if (!m) throw new Error("the model has no mamba shape");
  const h = arch.hidden_size;
  const inner = m.heads * m.head_dim;
  const convDim = inner + 2 * m.groups * m.state_size;
  const projOut = inner + convDim + m.heads;
  const inProj = h * projOut + (m.proj_bias ? projOut : 0);
  const convolution = convDim * m.conv_kernel + ((m.conv_bias ?? true) ? convDim : 0);
  const outProj = inner * h + (m.proj_bias ? h : 0);
  return inProj + convolution + 3 * m.heads + inner + outProj;
}

/** Weights of the token mixer of one layer of `kind` (attention, linear attention or Mamba-2). */
function mixerParams(arch, kind) {
  if (kind === "linear" && arch.linear_attention) return linearAttentionParams(arch);
  if (kind === "mamba") return mambaParams(arch);
  return attentionParams(arch);
}

/** Whether each layer holds one block (a mixer or a feed-forward block, Nemotron-H). */
export function oneBlockLayers(arch) {
  return (arch.layer_pattern ?? ["full"]).some((k) => FFN_KINDS.includes(k));
}

/** Residual blocks (each ends in one all-reduce under tensor parallelism). */
export function blocks(arch) {
  return oneBlockLayers(arch) ? arch.layers : 2 * arch.layers;
}

/** Mixture-of-experts settings with the schema defaults filled in (null for dense models). */
export function moeOf(arch) {
  const m = arch.moe;
  if (!m) return null;
  return { shared_experts: 0, dense_layers: 0, layer_interval: 1, ...m };
}

/**
 * Whether layer `layer` (0-based) uses the MoE feed-forward block.
 * @param {object} arch
 * @param {number} layer
 */
export function isMoeLayer(arch, layer) {
  const moe = moeOf(arch);
  if (!moe) return false;
  if (oneBlockLayers(arch)) {
    const pattern = arch.layer_pattern;
    return pattern[layer % pattern.length] === "moe";
  }
  if (layer < moe.dense_layers) return false;
  return (layer - moe.dense_layers) % moe.layer_interval === moe.layer_interval - 1;
}

/** [all, active per token] weights of one MoE block (routed and shared experts plus the router). */
function moeLayerParams(arch) {
  const moe = moeOf(arch);
  const h = arch.hidden_size;
  const perExpert = ((arch.gated_mlp ?? true) ? 3 : 2) * h * moe.expert_intermediate_size;
  const router = h * moe.experts;
  return [perExpert * (moe.experts + moe.shared_experts) + router,
    perExpert * (moe.experts_per_token + moe.shared_experts) + router];
}

/**
 * Weights of the `mtp_layers` multi-token-prediction modules by group: each one full-attention layer
 * with the model's feed-forward block (MoE when it has experts), eh_proj (2 x hidden -> hidden) and
 * five norms (enorm, hnorm, the layer's two, the shared head's); embedding and head are shared.
 * @returns {{attention: number, ffnDense: number, ffnExperts: number, norms: number, total: number}}
 */
export function mtpParams(arch) {
  const n = arch.mtp_layers ?? 0;
  if (!n) return { attention: 0, ffnDense: 0, ffnExperts: 0, norms: 0, total: 0 };
  const h = arch.hidden_size;
  let dense = 0;
  let experts = 0;
  if (arch.moe) experts = moeLayerParams(arch)[0];
  else {
    if (arch.intermediate_size == null) {
      throw new Error("the MTP layer has a dense feed-forward block but intermediate_size is not set");
    }
    dense = ((arch.gated_mlp ?? true) ? 3 : 2) * h * arch.intermediate_size;
  }
  const out = { attention: n * (attentionParams(arch) + 2 * h * h), ffnDense: n * dense, ffnExperts: n * experts,
    norms: n * 5 * h, total: 0 };
  out.total = out.attention + out.ffnDense + out.ffnExperts + out.norms;
  return out;
}

/** Weights of a vision tower and projector, by kind (params.py). */
export function visionParams(vision) {
  const v = { temporal_patch_size: 2, in_channels: 3, position_embeddings: 0, deepstack_mergers: 0, ...vision };
  const h = v.hidden_size, i = v.intermediate_size, o = v.out_hidden_size, m = v.spatial_merge_size || 1, L = v.layers;
  const conv = v.in_channels * v.patch_size ** 2 * h, vit = L * (9 * h + 4 * h * h + 2 * h * i + i), g = h * m * m;
  if (v.kind === "siglip") return conv + 4 * h + Math.floor(v.image_size / v.patch_size) ** 2 * h + h * o + vit;
  if (v.kind === "pixtral") return conv + 2 * h + L * (2 * h + 4 * h * h + 3 * h * i) + g * h + h * o + o * o;
  if (v.kind === "glm4v") {
    const rows = Math.floor(v.image_size / v.patch_size) ** 2;
    return v.temporal_patch_size * conv + 3 * h + rows * h + L * (2 * h + 4 * h * h + 3 * h * o) + m * m * h * o
      + o + o * o + 2 * o + 3 * o * i;
  }
  if (v.kind === "moonvit") return conv + 3 * h + v.position_embeddings * h + vit + 2 * h + g * g + g + g * o + o;
  const merger = (n) => 2 * n + g * g + g + g * o + o;
  return v.temporal_patch_size * conv + h + v.position_embeddings * h + vit + merger(h) + v.deepstack_mergers * merger(g);
}

const GLM4V_MIN_PIXELS = 112 * 112, GLM4V_MAX_PIXELS = 14 * 14 * 2 * 2 * 2 * 6144, GLM4V_MAX_RATIO = 200;
const MOONVIT_PATCH_LIMIT = 16384, MOONVIT_SIDE_LIMIT = 512;

/** Glm4vImageProcessor's smart_resize of a still image: [width, height] (vision.py). */
function glm4vResized(vision, factor, width, height, minPixels, maxPixels) {
  if (height < factor || width < factor) {
    const scale = Math.max(factor / height, factor / width);
    [height, width] = [Math.trunc(height * scale), Math.trunc(width * scale)];
  }
  if (Math.max(height, width) / Math.min(height, width) > GLM4V_MAX_RATIO) {
    throw new Error(`the image's aspect ratio exceeds ${GLM4V_MAX_RATIO}, which the GLM-4V processor refuses`);
  }
  const t = vision.temporal_patch_size ?? 2;
  let hBar = roundHalfEven(height / factor) * factor;
  let wBar = roundHalfEven(width / factor) * factor;
  if (t * hBar * wBar > maxPixels) {
    const beta = Math.sqrt(t * height * width / maxPixels);
    hBar = Math.max(factor, Math.floor(height / beta / factor) * factor);
    wBar = Math.max(factor, Math.floor(width / beta / factor) * factor);
  } else if (t * hBar * wBar < minPixels) {
    const beta = Math.sqrt(minPixels / (t * height * width));
    hBar = Math.ceil(height * beta / factor) * factor;
    wBar = Math.ceil(width * beta / factor) * factor;
  }
  return [wBar, hBar];
}

/** Tokens of one `width` x `height` image, by kind (vision.py). */
export function imageTokens(vision, width, height, minPixels = null, maxPixels = null) {
  if (width < 1 || height < 1) throw new Error("an image's width and height must each be at least 1 pixel");
  if (vision.kind === "siglip") return vision.tokens_per_image;
  const factor = vision.patch_size * (vision.spatial_merge_size || 1);
  if (vision.kind === "glm4v") {
    const [w, h] = glm4vResized(vision, factor, width, height, minPixels ?? GLM4V_MIN_PIXELS, maxPixels ?? GLM4V_MAX_PIXELS);
    return Math.floor(h / factor) * Math.floor(w / factor);
  }
  if (vision.kind === "moonvit") {
    const p = vision.patch_size, side = MOONVIT_SIDE_LIMIT * p;
    const s1 = Math.sqrt(MOONVIT_PATCH_LIMIT / (Math.max(1, Math.floor(width / p)) * Math.max(1, Math.floor(height / p))));
    const scale = Math.min(1, s1, side / width, side / height);
    const w = Math.min(Math.max(1, Math.trunc(width * scale)), side), h = Math.min(Math.max(1, Math.trunc(height * scale)), side);
    return Math.ceil(h / factor) * Math.ceil(w / factor);
  }
  if (vision.kind === "pixtral") {
    const r = Math.max(1, Math.max(width, height) / vision.image_size), f = (x) => Math.max(1, Math.floor(x / r)) - 1;
    const rows = Math.floor(f(height) / factor) + 1;
    return rows * (Math.floor(f(width) / factor) + 2) - 1;
  }
  let hBar = Math.max(factor, roundHalfEven(height / factor) * factor);
  let wBar = Math.max(factor, roundHalfEven(width / factor) * factor);
  if (maxPixels != null && hBar * wBar > maxPixels) {
    const beta = Math.sqrt(height * width / maxPixels);
    hBar = Math.max(factor, Math.floor(height / beta / factor) * factor);
    wBar = Math.max(factor, Math.floor(width / beta / factor) * factor);
  } else if (minPixels != null && hBar * wBar < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    hBar = Math.ceil(height * beta / factor) * factor;
    wBar = Math.ceil(width * beta / factor) * factor;
  }
  return Math.floor(hBar / factor) * Math.floor(wBar / factor);
}

/**
 * @typedef {object} ParamCount
 * @property {number} embedding
 * @property {number} lmHead 0 when tied to the embedding.
 * @property {number} attention
 * @property {number} ffnDense
 * @property {number} ffnExperts Routed and shared experts plus routers.
 * @property {number} ffnExpertsActive Experts one token passes through, plus routers.
 * @property {number} norms
 * @property {number} total
 * @property {number} active Weights used for one token (embedding counted in full).
 * @property {number} linear Matrix weights inside the layers (what quantization compresses).
 * @property {boolean} approximate Linear layers without a `linear_attention` shape counted as attention.
 * @property {number} mtp Multi-token-prediction modules (not in `total`).
 * @property {number} vision Vision encoder (not in `total`).
 */

/**
 * Count the parameters of a decoder-only transformer.
 * @param {object} arch ModelArchitecture JSON.
 * @returns {ParamCount}
 */
export function countParams(arch) {
  const h = arch.hidden_size;
  const matrices = (arch.gated_mlp ?? true) ? 3 : 2;
  const embedding = arch.vocab_size * h;
  const lmHead = arch.tie_word_embeddings ? 0 : arch.vocab_size * h;
  const kinds = layerKinds(arch);
  const oneBlock = oneBlockLayers(arch);
  const attention = sum(kinds.filter((kind) => !oneBlock || !FFN_KINDS.includes(kind))
    .map((kind) => mixerParams(arch, kind)));
  let [dense, experts, expertsActive] = [0, 0, 0];
  for (let layer = 0; layer < arch.layers; layer++) {
    if (isMoeLayer(arch, layer)) {
      const [all, active] = moeLayerParams(arch);
      experts += all;
      expertsActive += active;
    } else if (!oneBlock || kinds[layer] === "mlp") {
      if (arch.intermediate_size == null) {
        throw new Error("a dense layer exists but intermediate_size is not set");
      }
      dense += matrices * h * arch.intermediate_size;
    }
  }
  const norms = (oneBlock ? 1 : 2) * h * arch.layers + h;
  return {
    embedding, lmHead, attention, ffnDense: dense, ffnExperts: experts, ffnExpertsActive: expertsActive, norms,
    total: embedding + lmHead + attention + dense + experts + norms,
    active: embedding + lmHead + attention + dense + expertsActive + norms,
    linear: attention + dense + experts,
    approximate: (arch.layer_pattern ?? ["full"]).includes("linear") && !arch.linear_attention,
    mtp: mtpParams(arch).total, vision: arch.vision ? visionParams(arch.vision) : 0,
  };
}

// === KV cache (kv.py) ===

const DTYPE_ALIASES = { fp8: "fp8-e4m3", bfloat16: "bf16", float16: "fp16", auto: "bf16" };
const FALLBACK_BITS = {
  fp32: 32.0, bf16: 16.0, fp16: 16.0, "fp8-e4m3": 8.0, "fp8-e5m2": 8.0, int8: 8.0, int4: 4.0,
};

/**
 * Bits per stored KV element for a format id or alias ("fp8", "bfloat16", "auto").
 * @param {string} dtype
 * @param {Object<string, object>} [formats] Format JSON by id; its `bits_per_value` wins.
 */
export function kvDtypeBits(dtype, formats = null) {
  const key = Object.hasOwn(DTYPE_ALIASES, dtype) ? DTYPE_ALIASES[dtype] : dtype;
  if (formats && Object.hasOwn(formats, key)) return formats[key].bits_per_value;
  if (Object.hasOwn(FALLBACK_BITS, key)) return FALLBACK_BITS[key];
  throw new Error(`unknown KV data type '${dtype}'; use e.g. bf16, fp16, fp8, int8, int4`);
}

/** KV elements one token adds to one layer: [per GPU, whole TP group]. */
function elementsPerTokenPerLayer(arch, tp) {
  if (arch.mla) {
    const latent = arch.mla.kv_lora_rank + arch.mla.qk_rope_head_dim;
    return [latent, latent * tp]; // the latent is replicated on every TP rank
  }
  const headsPerGpu = Math.max(1, Math.ceil(arch.kv_heads / tp));
  const perGpu = 2 * headsPerGpu * arch.head_dim;
  return [perGpu, perGpu * tp];
}

const STATE_DTYPE_BITS = { fp32: 32.0, bf16: 16.0, fp16: 16.0 };

/**
 * State elements one layer of `kind` (linear or mamba) keeps per sequence: [per GPU, whole TP group],
 * at `stateBits` each (a Mamba-2 SSM state in another recorded dtype scaled to it).
 */
function stateElements(arch, tp, kind = "linear", stateBits = 16.0) {
  if (kind === "mamba") {
    const m = arch.mamba;
    if (!m) return [0.0, 0.0];
    const heads = Math.max(1, Math.ceil(m.heads / tp));
    const groups = Math.max(1, Math.ceil(m.groups / tp));
    const ssm = heads * m.head_dim * m.state_size;
    const conv = (m.conv_kernel - 1) * (heads * m.head_dim + 2 * groups * m.state_size);
    const ssmBits = m.ssm_state_dtype ? STATE_DTYPE_BITS[m.ssm_state_dtype] : stateBits;
    const perGpu = conv + ssm * (ssmBits / stateBits);
    return [perGpu, perGpu * tp];
  }
  const la = arch.linear_attention;
  if (!la || kind !== "linear") return [0.0, 0.0];
  const valueHeads = Math.max(1, Math.ceil(la.value_heads / tp));
  const keyHeads = Math.max(1, Math.ceil(la.key_heads / tp));
  const recurrent = valueHeads * la.key_head_dim * la.value_head_dim;
  const conv = (la.conv_kernel - 1) * (2 * keyHeads * la.key_head_dim + valueHeads * la.value_head_dim);
  const perGpu = recurrent + conv;
  return [perGpu, perGpu * tp];
}

/** Tokens a layer of `kind` keeps for a sequence of `tokens` tokens. */
export function cachedTokens(kind, arch, tokens) {
  if (kind === "full") return tokens;
  if (kind === "sliding") return Math.min(tokens, truthy(arch.sliding_window) ? arch.sliding_window : tokens);
  if (kind === "chunked") {
    return Math.min(tokens, truthy(arch.attention_chunk_size) ? arch.attention_chunk_size : tokens);
  }
  return 0; // linear attention keeps a fixed-size state
}

/**
 * KV-cache bytes: bytesTotal (the TP group, replicas included), bytesPerGpu (the fullest
 * pipeline stage's GPU), bytesUnique (without TP replication), layersCached, and stateBytes
 * (linear-attention state included in the figures, without TP replication).
 * @typedef {object} KvBreakdown
 */

/** Values per float32 scale of the FP8 indexer key cache (vLLM's quant_block_size). */
export const INDEXER_SCALE_BLOCK = 128;

/**
 * Bytes of the lightning-indexer key one token adds to one DSA layer (0 without
 * `sparse_attention`): FP8 values plus a float32 scale per 128, whatever the KV dtype.
 * @param {object} arch ModelArchitecture JSON.
 */
export function indexerKeyBytes(arch) {
  const dsa = arch.sparse_attention;
  if (!dsa) return 0.0;
  return dsa.index_head_dim + Math.floor(dsa.index_head_dim / INDEXER_SCALE_BLOCK) * 4;
}

/**
 * KV-cache bytes of `batch` sequences of `tokens` tokens each, over TP x PP GPUs; with
 * `state`, plus the fixed state of linear-attention layers (`stateBits` per element) for
 * sequences that hold at least one token. DSA layers add their FP8 indexer keys.
 * @param {object} arch ModelArchitecture JSON.
 * @returns {KvBreakdown}
 */
export function kvBytes(arch, tokens, dtypeBits = 16.0, batch = 1, tp = 1, pp = 1, state = false, stateBits = 16.0) {
  if (tokens < 0 || batch < 0) throw new Error("tokens and batch must not be negative");
  if (tp < 1 || pp < 1) throw new Error("tensor and pipeline parallelism must each be at least 1");
  if (pp > arch.layers) throw new Error(`pipeline parallelism ${pp} exceeds the model's ${arch.layers} layers`);
  const [perGpuElems, groupElems] = elementsPerTokenPerLayer(arch, tp);
  const [uniqueElems] = elementsPerTokenPerLayer(arch, 1);
  const kinds = layerKinds(arch);
  const stageLayers = Math.ceil(arch.layers / pp);
  const bytesPerElem = dtypeBits / 8;
  const withState = state && tokens > 0;
  const stateOf = {};
  for (const k of ["linear", "mamba"]) {
    stateOf[k] = withState ? [...stateElements(arch, tp, k, stateBits), stateElements(arch, 1, k, stateBits)[0]]
      : [0.0, 0.0, 0.0];
  }
  const stateBytesPerElem = stateBits / 8;
  const indexer = indexerKeyBytes(arch); // replicated on every TP rank, like the MLA latent
  let [total, unique, stateTotal, layersCached] = [0.0, 0.0, 0.0, 0];
  const stages = new Array(pp).fill(0.0);
  kinds.forEach((kind, index) => {
    const cached = cachedTokens(kind, arch, tokens) * batch;
    total += cached * groupElems * bytesPerElem;
    unique += cached * uniqueElems * bytesPerElem;
    stages[Math.floor(index / stageLayers)] += cached * perGpuElems * bytesPerElem;
    if (indexer && ATTENTION_KINDS.includes(kind)) {
      total += cached * indexer * tp;
      unique += cached * indexer;
      stages[Math.floor(index / stageLayers)] += cached * indexer;
    }
    if (Object.hasOwn(stateOf, kind) && stateOf[kind][0]) {
      const [stateGpu, stateGroup, stateUnique] = stateOf[kind];
      total += batch * stateGroup * stateBytesPerElem;
      unique += batch * stateUnique * stateBytesPerElem;
      stateTotal += batch * stateUnique * stateBytesPerElem;
      stages[Math.floor(index / stageLayers)] += batch * stateGpu * stateBytesPerElem;
    }
    if (ATTENTION_KINDS.includes(kind)) layersCached += 1;
  });
  return {
    bytesTotal: total, bytesPerGpu: Math.max(...stages), bytesUnique: unique, layersCached, stateBytes: stateTotal,
  };
}

/** Fixed memory one sequence needs in the linear-attention and Mamba layers (0 without them), on
 * each GPU of a tensor-parallel group of `tp`. */
export function stateBytesPerSequence(arch, stateBits = 16.0, tp = 1) {
  const kinds = layerKinds(arch);
  let total = 0.0;
  for (const kind of ["linear", "mamba"]) {
    const [elems] = stateElements(arch, tp, kind, stateBits);
    total += kinds.filter((k) => k === kind).length * elems * stateBits / 8;
  }
  return total;
}

/**
 * The attention part of a step model (roofline.py's and perf.py's `attention_layout` with its
 * `coefficients`): FLOPs and KV bytes per attended position in full and windowed layers, and the
 * window. With DeepSeek Sparse Attention every attention layer counts twice: its indexer as a full
 * layer (2 x index_heads x index_head_dim FLOPs and the indexer key per position) and its main
 * attention as a windowed layer whose window is index_topk.
 * @param {object} a ModelArchitecture JSON.
 * @param {number} kvPerToken Cache bytes one token adds per GPU (kvBytes of one token).
 */
export function attentionCoefficients(a, kvPerToken) {
  const kinds = layerKinds(a);
  const [qk, v] = a.mla ? [a.mla.qk_nope_head_dim + a.mla.qk_rope_head_dim, a.mla.v_head_dim]
    : [a.head_dim, a.head_dim];
  const perLayerAttn = 2.0 * a.attention_heads * (qk + v);
  const dsa = a.sparse_attention;
  if (dsa) {
    const layers = kinds.filter((k) => ATTENTION_KINDS.includes(k)).length;
    const indexKv = indexerKeyBytes(a) * layers;
    return {
      attnFlopsFull: 2.0 * dsa.index_heads * dsa.index_head_dim * layers, attnFlopsWindow: perLayerAttn * layers,
      kvBytesFull: indexKv, kvBytesWindow: kvPerToken - indexKv, window: layers ? dsa.index_topk : null,
    };
  }
  const nFull = kinds.filter((k) => k === "full").length;
  const nWindow = kinds.filter((k) => k === "sliding" || k === "chunked").length;
  const window = kinds.includes("sliding") ? a.sliding_window : a.attention_chunk_size;
  const perLayerKv = kvPerToken / Math.max(nFull + nWindow, 1);
  return {
    attnFlopsFull: perLayerAttn * nFull, attnFlopsWindow: perLayerAttn * nWindow,
    kvBytesFull: perLayerKv * nFull, kvBytesWindow: perLayerKv * nWindow, window: nWindow ? (window ?? null) : null,
  };
}

/**
 * Bytes one token adds to the cache across all layers while the context is
 * shorter than every window (linear-attention layers add nothing).
 */
export function kvBytesPerToken(arch, dtypeBits = 16.0) {
  const [uniqueElems] = elementsPerTokenPerLayer(arch, 1);
  const layers = layerKinds(arch).filter((k) => ATTENTION_KINDS.includes(k)).length;
  return layers * uniqueElems * dtypeBits / 8 + layers * indexerKeyBytes(arch);
}

// === weights (weights.py) ===

/**
 * Weight bytes by group: linearBytes, embeddingBytes, lmHeadBytes, normBytes,
 * totalBytes, and perGpuBytes (the largest share one GPU holds under TP and PP).
 * @typedef {object} WeightBreakdown
 */

/**
 * Weight bytes of `arch` stored in `fmt`, sharded over TP x PP. Embedding and head
 * stay 16-bit for formats under 16 bits except GGUF types (override with
 * `embeddingBits`); norms stay 16-bit.
 * `groups` maps "embeddings", "attention", "dense_ffn" or "experts" to the Format JSON
 * that group is stored in when it differs from `fmt`.
 * @param {object} arch ModelArchitecture JSON.
 * @param {object} fmt Format JSON.
 * @returns {WeightBreakdown}
 */
export function weightBytes(arch, fmt, tp = 1, pp = 1, embeddingBits = null, groups = null, mtp = false) {
  if (tp < 1 || pp < 1) throw new Error("tensor and pipeline parallelism must each be at least 1");
  if (pp > arch.layers) throw new Error(`pipeline parallelism ${pp} exceeds the model's ${arch.layers} layers`);
  const params = countParams(arch);
  const g = groups ?? {};
  const bits = fmt.effective_bits_per_weight;
  const groupBits = (name) => (Object.hasOwn(g, name) ? g[name].effective_bits_per_weight : bits);
  if (embeddingBits == null) {
    if (Object.hasOwn(g, "embeddings")) embeddingBits = groupBits("embeddings");
    else embeddingBits = (fmt.category === "gguf" || bits >= 16) ? bits : 16.0;
  }
  const normBits = Math.max(16.0, bits);
  const linear = (params.attention * groupBits("attention") + params.ffnDense * groupBits("dense_ffn")
    + params.ffnExperts * groupBits("experts")) / 8;
  const embedding = params.embedding * embeddingBits / 8;
  const head = params.lmHead * embeddingBits / 8;
  const norms = params.norms * normBits / 8;
  const vision = params.vision * normBits / 8;
  let extra = 0.0;
  if (mtp && arch.mtp_layers) {
    const m = mtpParams(arch);
    extra = (m.attention * groupBits("attention") + m.ffnDense * groupBits("dense_ffn")
      + m.ffnExperts * groupBits("experts") + m.norms * normBits) / 8;
  }
  // pipeline stages split the layers; the first holds the embedding (and a vision encoder), the last the
  // head (a tied head is a second copy on the last stage when pp > 1) and the MTP modules
  const stageShare = Math.ceil(arch.layers / pp) / arch.layers;
  const layerBytes = (linear + norms) * stageShare;
  const first = layerBytes + embedding + vision;
  const last = layerBytes + (truthy(head) ? head : (pp > 1 ? embedding : 0.0)) + extra;
  const stage = pp > 1 ? Math.max(first, last) : layerBytes + embedding + head + vision + extra;
  return {
    linearBytes: linear, embeddingBytes: embedding, lmHeadBytes: head, normBytes: norms,
    perGpuBytes: stage / tp, visionBytes: vision, mtpBytes: extra,
    totalBytes: linear + embedding + head + norms + vision + extra,
  };
}

/**
 * Per-group formats of a model's released checkpoint (`model.native_groups`), as
 * Format JSON by group name; empty when the checkpoint is uniform.
 * @param {object} model LlmModel JSON.
 * @param {Object<string, object>} formats Format JSON by id.
 */
export function nativeGroups(model, formats) {
  const out = {};
  for (const [group, fid] of Object.entries(model.native_groups ?? {})) if (fid != null) out[group] = formats[fid];
  return out;
}

/**
 * What a weight-format choice means for `model`: "native" is the released checkpoint (its
 * `native_dtype` plus the tensor groups it stores differently); any other value is one format id.
 * @returns {{format: object, groups: Object<string, object>|null, native: boolean}}
 */
export function chosenWeights(model, formats, choice) {
  if (choice !== "native") return { format: formats[choice], groups: null, native: false };
  return { format: formats[model.native_dtype], groups: nativeGroups(model, formats), native: true };
}

/**
 * Weight bytes of the released checkpoint, honouring groups kept in other formats.
 * @param {object} model LlmModel JSON.
 * @param {Object<string, object>} formats Format JSON by id.
 * @returns {WeightBreakdown}
 */
export function nativeWeightBytes(model, formats, tp = 1, pp = 1, mtp = false) {
  return weightBytes(model.architecture, formats[model.native_dtype], tp, pp, null, nativeGroups(model, formats), mtp);
}

// === roofline (roofline.py): the peak rate and the step-time call; the rest is in roofline.js ===

/**
 * Dense peak TFLOPS the matrix units reach for a weight format: FP8 and FP4
 * formats run their own type where the chip has it, int8 uses INT8 TOPS,
 * everything else runs in 16-bit.
 * @param {object} gpu Gpu JSON.
 * @param {object} fmt Format JSON.
 */
export function computeTflops(gpu, fmt) {
  const d = gpu.dense ?? {};
  const fid = fmt.id;
  const candidates = [];
  if (fid.startsWith("fp8") || fid === "mxfp8") candidates.push("fp8_tflops");
  if (fid === "nvfp4" || fid === "mxfp4" || fid === "fp4-e2m1") candidates.push("fp4_tflops");
  if (fid === "int8") candidates.push("int8_tops");
  candidates.push("bf16_tflops", "fp16_tflops", "fp32_tflops"); // a GPU listing only FP32 (Apple) runs 16-bit at it
  for (const name of candidates) {
    if (d[name] != null) return d[name].value;
  }
  throw new Error(`${gpu.id} has no dense 16-bit throughput in the knowledge base`);
}

/**
 * What the simulator times steps with: the roofline's coefficients (`stepModel`) or the calibrated
 * step cost (predict.js), which has its own `seconds`; `window` is the attention window, if any.
 * @typedef {{window?: (number|null), seconds?: Function, [coefficient: string]: any}} StepModel
 */

/**
 * Seconds of one step that processes `tokens` new tokens, produces `logits`
 * distributions, attends over `spanFull`/`spanWindow` key positions and reads the
 * KV cache of `kvFull`/`kvWindow` tokens.
 * @param {StepModel} m
 */
export function stepSeconds(m, tokens, logits, spanFull, spanWindow, kvFull, kvWindow, sequences = 0) {
  if (typeof m.seconds === "function") {  // the calibrated step cost (predict.js) times itself
    return m.seconds(tokens, logits, spanFull, spanWindow, kvFull, kvWindow, sequences);
  }
  const flops = m.linearFlopsPerToken * tokens + m.headFlops * logits
    + m.attnFlopsFull * spanFull + m.attnFlopsWindow * spanWindow;
  let weights = m.weightBytes;
  if (m.experts) {
    const untouched = (1.0 - m.expertsPerToken / m.experts) ** tokens;
    weights -= m.routedExpertBytes * untouched;
  }
  const memory = weights + m.kvBytesFull * kvFull + m.kvBytesWindow * kvWindow + (m.stateBytes ?? 0) * sequences;
  const comm = m.commFixedS ? m.commPerTokenS * tokens + m.commFixedS : 0.0;
  return Math.max(flops / m.computeRate, memory / m.memoryRate) + comm;
}

// === capacity (capacity.py) ===

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
 * `groups` as for `weightBytes`.
 * @returns {Capacity}
 */
export function capacity(arch, gpu, fmt, kvBits = 16.0, tp = 1, pp = 1, cfg = null, groups = null, mtp = false) {
  const c = engineConfig(cfg);
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

// === Python number formatting (the messages below are byte-identical to Python's) ===

/**
 * Python's `format(x, f".{digits}f")`: the exact binary value correctly rounded, ties to even
 * (Number#toFixed rounds exact ties up; a tie at `digits` decimals is a value x for which
 * x * 2^(digits+1) is an odd integer).
 * @param {number} x
 * @param {number} digits
 */
export function pyFixed(x, digits) {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const sign = x < 0 || Object.is(x, -0) ? "-" : "";
  const a = Math.abs(x);
  const y = a * 2 ** (digits + 1);
  let body;
  if (Number.isInteger(y) && y % 2 === 1) {
    // a * 10^digits = y * 5^digits / 2 exactly: round the half to the even neighbour
    const twice = BigInt(y) * 5n ** BigInt(digits);
    let n = (twice - 1n) / 2n;
    if (n % 2n) n += 1n;
    const s = n.toString().padStart(digits + 1, "0");
    body = digits ? `${s.slice(0, s.length - digits)}.${s.slice(s.length - digits)}` : s;
  } else if (a >= 1e21) {
    body = BigInt(a).toString() + (digits ? `.${"0".repeat(digits)}` : "");
  } else {
    body = a.toFixed(digits);
  }
  return sign + body;
}

/**
 * Python's `f"{x:,.{digits}f}"`: `pyFixed` with thousands separators.
 * @param {number} x
 * @param {number} [digits=0]
 */
export function pyComma(x, digits = 0) {
  const s = pyFixed(x, digits);
  const m = /^(-?)(\d+)(.*)$/.exec(s);
  if (!m) return s;
  return m[1] + m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + m[3];
}

/** Python's `f"{x:.0%}"` (a share as a whole percentage). */
export function pyPercent(x) {
  return `${pyFixed(x * 100, 0)}%`;
}

/** Python's `round(x, digits)`: correctly rounded, ties to even. */
export function pyRound(x, digits) {
  return Number.isFinite(x) ? Number(pyFixed(x, digits)) : x;
}

// === feasibility (feasibility.py) ===

/** The formats every accelerator can compute in, natively or through its vector units. */
export const SIXTEEN_BIT = Object.freeze(["bf16", "fp16"]);

/**
 * The engine behaviour the memory and scheduling checks assume (Python `EngineProfile`):
 * `{name, config}` with an `EngineConfig`.
 * @typedef {object} EngineProfile
 */

/** The profile used when none is given; its memory model is `capacity`. */
export const VLLM_V1 = Object.freeze({ name: "vLLM V1 defaults", config: DEFAULT_ENGINE_CONFIG });

/**
 * A profile with VLLM_V1's name and other memory settings (as the CLI builds one from its options).
 * @param {EngineConfig|null} cfg Missing fields take the defaults.
 * @returns {EngineProfile}
 */
export function engineProfile(cfg = null) {
  return cfg == null ? VLLM_V1 : { name: VLLM_V1.name, config: engineConfig(cfg) };
}

/**
 * One line for the answer: which engine, which memory settings (Python `EngineProfile.describe`).
 * @param {EngineProfile} [profile=VLLM_V1]
 */
export function describeEngine(profile = VLLM_V1) {
  const c = engineConfig(profile.config);
  return `${profile.name}: ${pyPercent(c.gpu_memory_utilization)} of GPU memory, ${c.block_size}-token KV blocks, `
    + `at most ${pyComma(c.max_num_seqs)} sequences and ${pyComma(c.max_num_batched_tokens)} batched tokens per step`;
}

/**
 * The outcome of one rule: `check` (parallelism, interconnect, formats, context, memory or
 * kv-capacity), `severity` ("fail" makes the setup infeasible, "warn" runs at a stated cost,
 * "note" records an assumption) and `message` in plain words with the numbers.
 * @typedef {{check: string, severity: "fail"|"warn"|"note", message: string}} Finding
 */

function finding(check, severity, message) {
  return { check, severity, message };
}

const gibText = (bytes) => `${pyComma(bytes / GIB, 1)} GiB`;
const tokensText = (n) => pyComma(n, 0);

/**
 * Whether TP, PP and EP split the model the way engines require, and the GPU count holds them.
 * @param {object} arch ModelArchitecture JSON.
 * @returns {Finding[]}
 */
export function parallelFindings(arch, tp, pp, ep, gpus) {
  const out = [];
  const fail = (message) => out.push(finding("parallelism", "fail", message));
  for (const [name, value] of [["tensor parallelism", tp], ["pipeline parallelism", pp],
    ["expert parallelism", ep], ["the GPU count", gpus]]) {
    if (value < 1) fail(`${name} must be at least 1, got ${value}`);
  }
  if (out.length) return out;
  if (arch.attention_heads % tp) fail(`tensor parallelism ${tp} does not divide the ${arch.attention_heads} attention heads`);
  if (!arch.mla && arch.kv_heads % tp && tp % arch.kv_heads) {
    fail(`tensor parallelism ${tp} neither divides the ${arch.kv_heads} KV heads nor is a multiple of them`);
  }
  const linear = arch.linear_attention;
  if (linear && (linear.key_heads % tp || linear.value_heads % tp)) {
    fail(`tensor parallelism ${tp} does not divide the ${linear.key_heads} key and ${linear.value_heads} value `
      + "heads of the linear-attention layers");
  }
  const mamba = arch.mamba;
  if (mamba && (mamba.heads % tp || (mamba.groups > 1 && mamba.groups % tp))) {
    fail(`tensor parallelism ${tp} does not divide the ${mamba.heads} heads and ${mamba.groups} groups of the `
      + "Mamba layers");
  }
  if (pp > arch.layers) fail(`pipeline parallelism ${pp} is more than the ${arch.layers} layers`);
  if (ep > 1) {
    if (!arch.moe) fail(`expert parallelism ${ep} needs a mixture-of-experts model; this one is dense`);
    else if (arch.moe.experts % ep) fail(`expert parallelism ${ep} does not divide the ${arch.moe.experts} routed experts`);
    else if (gpus % ep) fail(`expert parallelism ${ep} does not divide the ${gpus} GPUs`);
  }
  if (gpus % (tp * pp)) fail(`${gpus} GPUs cannot be split into groups of TP ${tp} x PP ${pp} = ${tp * pp}`);
  return out;
}

/**
 * TP all-reduces every layer, so its group must share a scale-up link (`interconnect.domain_gpus`).
 * @param {object} gpu Gpu JSON.
 * @returns {Finding[]}
 */
export function interconnectFindings(gpu, tp, pp) {
  if (tp === 1) return [];
  const link = gpu.interconnect ?? {};
  const domain = link.domain_gpus ?? null;
  if (domain === null) {
    return [finding("interconnect", "note", `the knowledge base does not record how many ${gpu.title} share a `
      + `scale-up link; assumed TP ${tp} stays inside one`)];
  }
  if (tp > domain) {
    const hint = domain > 1 ? `split it as TP ${domain} x PP ${Math.ceil(tp / domain) * pp}`
      : "split it with pipeline parallelism instead";
    const where = domain > 1 && link.name ? `${domain} GPUs share ${link.name}` : "each GPU sits alone on PCIe";
    if (domain <= 1) {
      return [finding("interconnect", "warn", `tensor parallelism ${tp} over PCIe (${where}): every layer's `
        + `all-reduce crosses the host bus, which is slow; ${hint}`)];
    }
    return [finding("interconnect", "fail", `tensor parallelism ${tp} spans more than one scale-up domain `
      + `(${where}); its all-reduces need that link; ${hint}`)];
  }
  return [];
}

/**
 * "native", "converted" (stored in the format, computed in 16-bit), "cast" (16-bit run as the
 * other 16-bit type) or "unsupported", for `fmt` on `gpu`'s generation.
 * @param {object} fmt Format JSON.
 * @param {object} gpu Gpu JSON.
 */
export function formatStatus(fmt, gpu) {
  const arch = gpu.architecture;
  const converted = fmt.converted_on ?? [];
  if ((fmt.native_tensor_core ?? []).includes(arch) || (gpu.supported_formats ?? []).includes(fmt.id)) return "native";
  if (SIXTEEN_BIT.includes(fmt.id)) return "cast";
  if (converted.includes(arch)) return "converted";
  // unpacked by its own kernels; where they run is not recorded per generation
  if (!converted.length && (fmt.category === "weight-quantization" || fmt.category === "gguf")) return "converted";
  return "unsupported";
}

/**
 * The weight, activation and KV formats on the GPU: native, converted (with its cost) or unsupported.
 * @param {object} weights Format JSON of the weights.
 * @param {object|null} kv Format JSON of the KV cache (null: 16-bit, not checked).
 * @param {object} gpu Gpu JSON.
 * @returns {[Finding[], Object<string, string>]} The findings and role -> status.
 */
export function formatFindings(weights, kv, gpu) {
  const out = [];
  /** @type {Object<string, string>} */
  const status = {};
  const arch = gpu.architecture;
  const w = formatStatus(weights, gpu);
  status.weights = w;
  if (w === "unsupported") {
    out.push(finding("formats", "fail", `${weights.title} weights do not run on ${gpu.title} (${arch}): its `
      + `matrix units do not compute on them and no engine conversion for ${arch} is recorded`));
  } else if (w === "converted") {
    out.push(finding("formats", "warn", `${weights.title} weights are converted to 16-bit on ${gpu.title} `
      + `(${arch}): memory and bandwidth as ${weights.title}, compute at the 16-bit rate`));
  } else if (w === "cast") {
    out.push(finding("formats", "note", `${weights.title} is not among ${gpu.title}'s native matrix types; `
      + "engines run it as the other 16-bit type or on vector units"));
  }
  // activations follow the weights where the chip computes on that type, else 16-bit
  status.activations = w === "native" && (weights.used_for ?? []).includes("activations") ? weights.id : "16-bit";
  if (kv != null) {
    const k = formatStatus(kv, gpu);
    status["kv-cache"] = k;
    if (k === "unsupported") {
      out.push(finding("formats", "fail", `a ${kv.title} KV cache does not run on ${gpu.title} (${arch}): no `
        + "native support and no conversion recorded"));
    } else if (k === "converted") {
      out.push(finding("formats", "warn", `the ${kv.title} KV cache is converted to 16-bit inside attention `
        + `on ${gpu.title}: memory as ${kv.title}, attention at the 16-bit rate`));
    }
  }
  return [out, status];
}

/**
 * The context rule: at least one token, at most the model's maximum.
 * @param {object} model LlmModel JSON (`title`, `architecture.context_length`).
 * @returns {Finding[]}
 */
export function contextFindings(model, context, sequences = 1) {
  if (context < 1 || sequences < 1) return [finding("context", "fail", "context and sequences must be at least 1")];
  const max = model.architecture.context_length;
  if (context > max) {
    return [finding("context", "fail", `a context of ${tokensText(context)} tokens is more than `
      + `${model.title}'s maximum of ${tokensText(max)}`)];
  }
  return [];
}

/**
 * What to check (Python `Setup`, same field names): a model in a format on `gpus` GPUs, split
 * TP x PP (x EP), serving `sequences` of `context` tokens, in lockstep (`mode: "batch"`) or as a
 * concurrency the scheduler may queue (`mode: "concurrency"`).
 * @typedef {object} Setup
 * @property {object} model LlmModel JSON.
 * @property {object} gpu Gpu JSON.
 * @property {object} weights Format JSON of the weights.
 * @property {object|null} [kv=null] Format JSON of the KV cache; null keeps `kv_bits`.
 * @property {number} [kv_bits=16]
 * @property {number} [tp=1]
 * @property {number} [pp=1]
 * @property {number} [ep=1]
 * @property {number|null} [gpus=null] GPUs in all; null means TP x PP.
 * @property {number} [context=8192]
 * @property {number} [sequences=1]
 * @property {"batch"|"concurrency"} [mode="batch"]
 * @property {EngineProfile} [engine=VLLM_V1]
 * @property {Object<string, object>|null} [groups=null] Tensor groups stored in other formats.
 */
const SETUP_DEFAULTS = Object.freeze({
  kv: null, kv_bits: 16.0, tp: 1, pp: 1, ep: 1, gpus: null, context: 8192, sequences: 1, mode: "batch",
  engine: VLLM_V1, groups: null, mtp: false,
});

/**
 * Whether a setup can run, why, and the memory figures behind the answer: feasible, findings,
 * engine (the profile assumed, in words), capacity (null when the split failed), maxSequences
 * (null without a memory answer), formatStatus (role -> status), and reasons, warnings and
 * notes (the messages of each severity).
 * @typedef {object} Feasibility
 */

export function feasibility(feasible, findings, engine, cap = null, maxSequences = null, status = {}) {
  const of = (severity) => findings.filter((f) => f.severity === severity).map((f) => f.message);
  return {
    feasible, findings, engine, capacity: cap, maxSequences, formatStatus: status,
    reasons: of("fail"), warnings: of("warn"), notes: of("note"),
  };
}

/** The reasons joined into one paragraph, or "feasible" (Python `Feasibility.summary`). */
export function feasibilitySummary(result) {
  return result.reasons.length ? result.reasons.join("; ") : "feasible";
}

/**
 * Plain values as Python's `Feasibility.to_json()` writes them (snake_case keys, GiB rounded to
 * three decimals, no negative KV space).
 * @param {Feasibility} result
 */
export function feasibilityJson(result) {
  const cap = result.capacity;
  const ms = result.maxSequences;
  return {
    feasible: result.feasible, reasons: result.reasons, warnings: result.warnings, notes: result.notes,
    engine: result.engine, formats: { ...result.formatStatus },
    max_sequences: ms === null || ms === Infinity ? null : pyRound(ms, 3),
    memory_gib_per_gpu: cap === null ? null : {
      budget: pyRound(cap.budgetBytes / GIB, 3), weights: pyRound(cap.weightsBytes / GIB, 3),
      activations: pyRound(cap.activationBytes / GIB, 3), runtime: pyRound(cap.otherBytes / GIB, 3),
      kv_cache: pyRound(Math.max(cap.kvSpaceBytes, 0.0) / GIB, 3),
    },
  };
}

/**
 * Every rule on one setup (Python `check_setup`): parallelism, interconnect, formats, context,
 * memory and KV capacity, each a finding in plain words; the engine profile is always named.
 * @param {Setup} setup
 * @returns {Feasibility}
 */
export function checkSetup(setup) {
  const s = { ...SETUP_DEFAULTS, ...setup };
  const arch = s.model.architecture;
  const gpus = s.gpus != null ? s.gpus : s.tp * s.pp;
  const profile = s.engine ?? VLLM_V1;
  const cfg = engineConfig(profile.config);
  const engine = describeEngine(profile);
  const findings = parallelFindings(arch, s.tp, s.pp, s.ep, gpus);
  // memory per GPU is meaningless for a split that cannot exist
  if (findings.some((f) => f.severity === "fail")) return feasibility(false, findings, engine);
  findings.push(...interconnectFindings(s.gpu, s.tp, s.pp));
  const [fmtFindings, status] = formatFindings(s.weights, s.kv, s.gpu);
  findings.push(...fmtFindings, ...contextFindings(s.model, s.context, s.sequences));
  const kvBits = s.kv != null ? s.kv.bits_per_value : s.kv_bits;
  const groups = s.groups && Object.keys(s.groups).length ? s.groups : null;
  const cap = capacity(arch, s.gpu, s.weights, kvBits, s.tp, s.pp, cfg, groups, Boolean(s.mtp));
  let seqs = null;
  const fixed = cap.weightsBytes + cap.activationBytes + cap.otherBytes;
  if (!cap.fits) {
    const split = s.tp * s.pp > 1 ? ` (split over TP ${s.tp} x PP ${s.pp})` : "";
    findings.push(finding("memory", "fail",
      `needs ${gibText(cap.weightsBytes)} of weights plus ${gibText(cap.activationBytes + cap.otherBytes)} of `
      + `activations and runtime reserve per GPU${split}; one ${s.gpu.title} may use ${gibText(cap.budgetBytes)} `
      + `(${pyPercent(cfg.gpu_memory_utilization)} of its usable ${gibText(cap.usableBytes)}), `
      + (cap.kvSpaceBytes <= 0 ? "leaving nothing for the KV cache"
        : `leaving ${pyComma(cap.kvSpaceBytes / 2 ** 20, 1)} MiB, less than one ${cfg.block_size}-token KV block`)));
  } else if (s.context >= 1 && s.sequences >= 1) {
    seqs = maxConcurrency(arch, cap, Math.min(s.context, arch.context_length), kvBits, s.tp, s.pp);
    if (seqs < 1) {
      findings.push(finding("kv-capacity", "fail", `one sequence of ${tokensText(s.context)} tokens needs more KV `
        + `cache than the ${gibText(cap.kvSpaceBytes)} left on each GPU after ${gibText(fixed)} of weights and `
        + "overheads"));
    } else if (s.sequences > seqs) {
      const fit = Math.floor(seqs);
      if (s.mode === "batch") {
        findings.push(finding("kv-capacity", "fail", `a batch of ${pyComma(s.sequences)} sequences of `
          + `${tokensText(s.context)} tokens needs more KV cache than fits: only ${pyComma(fit)} fit in the `
          + `${gibText(cap.kvSpaceBytes)} left on each GPU; an engine would run ${pyComma(fit)} at a time and queue `
          + "or preempt the rest"));
      } else {
        findings.push(finding("kv-capacity", "warn", `${pyComma(s.sequences)} concurrent sequences of `
          + `${tokensText(s.context)} tokens do not all fit: ${pyComma(fit)} run at once in the `
          + `${gibText(cap.kvSpaceBytes)} of KV cache per GPU, the rest wait in the queue (or are preempted as `
          + "contexts grow)"));
      }
    }
  }
  findings.push(finding("memory", "note", `assumes ${engine}`));
  const feasible = !findings.some((f) => f.severity === "fail");
  return feasibility(feasible, findings, engine, cap, seqs, status);
}

// === fit search: fit.js ===

/** Lexicographic comparison of arrays of numbers or strings (Python tuple order). */
export function compareTuples(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] < b[i]) return -1;
    if (a[i] > b[i]) return 1;
  }
  return a.length - b.length;
}

// === metrics (metrics.py) ===

/**
 * The q-th percentile (0-100), linear interpolation between order statistics
 * (numpy's "linear"); NaN for no values.
 * @param {number[]} values
 * @param {number} q
 */
export function percentile(values, q) {
  if (!values.length) return NaN;
  if (!(q >= 0 && q <= 100)) throw new Error("q must be between 0 and 100");
  const ordered = Array.from(values).sort((x, y) => x - y);
  const rank = (ordered.length - 1) * q / 100;
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo);
}

/**
 * What happened to one request. Accepts the Python field names (`first_token`,
 * `input_tokens`, `output_tokens`, `token_times`) or the camelCase ones the
 * simulator returns, and checks it like `RequestRecord`.
 */
function requestRecord(r) {
  const rec = {
    arrival: r.arrival, firstToken: r.first_token ?? r.firstToken, finish: r.finish,
    inputTokens: r.input_tokens ?? r.inputTokens, outputTokens: r.output_tokens ?? r.outputTokens,
    tokenTimes: r.token_times ?? r.tokenTimes ?? [],
  };
  if (rec.outputTokens < 1 || rec.inputTokens < 0) {
    throw new Error("a request needs at least one output token and no negative input");
  }
  if (!(rec.arrival <= rec.firstToken && rec.firstToken <= rec.finish)) {
    throw new Error("times must satisfy arrival <= first_token <= finish");
  }
  if (rec.tokenTimes.length && rec.tokenTimes.length !== rec.outputTokens) {
    throw new Error("token_times must hold one time per output token");
  }
  return rec;
}

/** TPOT of a record, or null when it has a single token and the first is excluded. */
function recordTpot(rec, includesFirstToken) {
  if (includesFirstToken) return (rec.finish - rec.arrival) / rec.outputTokens;
  if (rec.outputTokens < 2) return null;
  return (rec.finish - rec.firstToken) / (rec.outputTokens - 1);
}

/**
 * Summary of one latency metric: mean, p50, p90, p95, p99, max (seconds) and count.
 * @typedef {object} Distribution
 */

/**
 * Mean, percentiles and maximum of `values` (NaN fields and count 0 when empty).
 * @param {number[]} values
 * @returns {Distribution}
 */
export function distribution(values) {
  if (!values.length) return { mean: NaN, p50: NaN, p90: NaN, p95: NaN, p99: NaN, max: NaN, count: 0 };
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  return {
    mean: sum(values) / values.length, p50: percentile(values, 50), p90: percentile(values, 90),
    p95: percentile(values, 95), p99: percentile(values, 99), max, count: values.length,
  };
}

/**
 * Service-level objectives in seconds, {ttft, tpot, e2el}; null or missing is unconstrained.
 * @typedef {object} Slo
 */

function sloMet(slo, rec, includesFirstToken) {
  const tpot = recordTpot(rec, includesFirstToken);
  return (slo.ttft == null || rec.firstToken - rec.arrival <= slo.ttft)
    && (slo.tpot == null || tpot === null || tpot <= slo.tpot)
    && (slo.e2el == null || rec.finish - rec.arrival <= slo.e2el);
}

/**
 * Aggregate metrics over completed requests. Duration runs from the first arrival
 * to the last finish. TPOT excludes the first token unless `tpotIncludesFirstToken`;
 * `average="token"` weights each request's TPOT by its token gaps.
 * @param {object[]} records Request records (Python or simulator field names).
 * @param {Slo|null} [slo]
 * @param {"request"|"token"} [average="request"]
 * @param {boolean} [tpotIncludesFirstToken=false]
 */
export function summarize(records, slo = null, average = "request", tpotIncludesFirstToken = false) {
  if (!records.length) throw new Error("no requests to summarize");
  if (average !== "request" && average !== "token") throw new Error("average must be 'request' or 'token'");
  const recs = records.map(requestRecord);
  let lastFinish = -Infinity;
  let firstArrival = Infinity;
  for (const r of recs) {
    if (r.finish > lastFinish) lastFinish = r.finish;
    if (r.arrival < firstArrival) firstArrival = r.arrival;
  }
  const duration = lastFinish - firstArrival;
  if (duration <= 0) throw new Error("the run has no duration");
  let tpots = [];
  for (const r of recs) {
    const t = recordTpot(r, tpotIncludesFirstToken);
    if (t === null) continue;
    if (average === "token") for (let i = 0; i < Math.max(r.outputTokens - 1, 1); i++) tpots.push(t);
    else tpots.push(t);
  }
  let itls = [];
  for (const r of recs) for (let i = 1; i < r.tokenTimes.length; i++) itls.push(r.tokenTimes[i] - r.tokenTimes[i - 1]);
  if (!itls.length && average === "token") itls = tpots;
  const inputs = sum(recs.map((r) => r.inputTokens));
  const outputs = sum(recs.map((r) => r.outputTokens));
  let goodput = null;
  let attainment = null;
  if (slo != null) {
    const met = recs.filter((r) => sloMet(slo, r, tpotIncludesFirstToken)).length;
    goodput = met / duration;
    attainment = met / recs.length;
  }
  return {
    requests: recs.length, durationS: duration,
    ttft: distribution(recs.map((r) => r.firstToken - r.arrival)), tpot: distribution(tpots),
    itl: distribution(itls), e2el: distribution(recs.map((r) => r.finish - r.arrival)),
    requestThroughput: recs.length / duration, inputTokenThroughput: inputs / duration,
    outputTokenThroughput: outputs / duration, totalTokenThroughput: (inputs + outputs) / duration,
    goodput, sloAttainment: attainment,
    options: { average, tpotIncludesFirstToken },
  };
}

// === workloads (browser PRNG; draws differ from Python's random.Random) ===

/**
 * A seeded PRNG (mulberry32) returning floats in [0, 1). Not Python's Mersenne
 * Twister: the same seed gives different draws than `random.Random(seed)`.
 * @param {number} seed
 * @returns {() => number}
 */
export function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal deviate (Box-Muller). */
function normal(rng) {
  const u = 1 - rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** Gamma deviate with shape k and scale theta (Marsaglia-Tsang; boosted for k < 1). */
function gamma(rng, k, theta) {
  if (k < 1) return gamma(rng, k + 1, theta) * (1 - rng()) ** (1 / k);
  const d = k - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x, v;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v * theta;
  }
}

/** Python's round(): to the nearest integer, ties to even. */
function roundHalfEven(x) {
  const r = Math.round(x);
  return (Math.abs(x % 1) === 0.5 && r % 2 !== 0) ? r - 1 : r;
}

/**
 * Draw one token length from a Python `Lengths` shape: {kind: "fixed"|"uniform"|"lognormal",
 * mean=512, low=1, high=1024, sigma=0.5} (fixed: mean; uniform: low..high; lognormal
 * around mean, capped at high).
 * @param {object} lengths
 * @param {() => number} rng
 */
export function drawLength(lengths, rng) {
  const l = { kind: "fixed", mean: 512, low: 1, high: 1024, sigma: 0.5, ...lengths };
  if (l.kind === "fixed") return Math.max(1, l.mean);
  if (l.kind === "uniform") {
    const lo = Math.max(1, l.low);
    const hi = Math.max(1, l.high);
    return lo + Math.floor(rng() * (hi - lo + 1));
  }
  const mu = Math.log(Math.max(l.mean, 1)) - l.sigma ** 2 / 2;
  return Math.max(1, Math.min(l.high, roundHalfEven(Math.exp(mu + l.sigma * normal(rng)))));
}

/**
 * `n` requests arriving at `rate` per second on average (Poisson, bursty gamma
 * gaps with shape 1/burstiness, or fixed gaps). Deterministic for a seed, but
 * the draws differ from Python's `workload` for the same seed.
 * @returns {{id: number, arrival: number, input_tokens: number, output_tokens: number}[]}
 */
export function workload(n, rate, inputs, outputs, arrivals = "poisson", burstiness = 4.0, seed = 0) {
  if (n < 0 || !(rate > 0)) throw new Error("the number of requests cannot be negative and the arrival rate must be above 0");
  const rng = mulberry32(seed);
  let t = 0.0;
  const out = [];
  for (let i = 0; i < n; i++) {
    if (arrivals === "poisson") t += -Math.log(1 - rng()) / rate;
    else if (arrivals === "bursty") {
      const shape = 1.0 / burstiness;
      t += gamma(rng, shape, 1.0 / (rate * shape));
    } else if (arrivals === "fixed") t += 1.0 / rate;
    else throw new Error(`unknown arrival process '${arrivals}'`);
    out.push({ id: i, arrival: t, input_tokens: drawLength(inputs, rng), output_tokens: drawLength(outputs, rng) });
  }
  return out;
}

// === simulator (simulator.py) ===

/** Fill in and check a simulator configuration. */
function simConfig(config) {
  const c = { ...DEFAULT_SIM_CONFIG, ...(config ?? {}) };
  if (!["static", "dynamic", "continuous"].includes(c.policy)) throw new Error(`unknown policy '${c.policy}'`);
  if (c.max_batch < 1 || c.max_batched_tokens < 1 || c.kv_capacity_tokens < 1 || c.lockstep_ranks < 1) {
    throw new Error("the batch limit, the step's token budget and the KV-cache capacity must each be at least 1");
  }
  if (c.batch_window_s < 0) throw new Error("the batching window cannot be negative");
  return c;
}

/** A request with the Python field names or camelCase ones. */
function normRequest(r) {
  return {
    id: r.id, arrival: r.arrival, inputTokens: r.input_tokens ?? r.inputTokens,
    outputTokens: r.output_tokens ?? r.outputTokens,
  };
}

function byArrival(a, b) {
  return a.arrival - b.arrival || a.id - b.id;
}

/** Attention spans [full, windowed] of `fresh` tokens appended after `ctxBefore` (Python `_spans`). */
export function spans(model, ctxBefore, fresh) {
  const full = fresh * ctxBefore + fresh * (fresh + 1) / 2;
  const w = model.window;
  if (w == null) return [full, 0.0];
  let window;
  if (fresh < 64) {
    window = 0;
    for (let i = 1; i <= fresh; i++) window += Math.min(ctxBefore + i, w);
  } else {
    window = fresh * Math.min(ctxBefore + (fresh + 1) / 2, w);
  }
  return [full, window];
}

/** A binary min-heap of arrays compared like Python tuples (what `heapq` pops first). */
class TupleHeap {
  constructor() { this.a = []; }
  get size() { return this.a.length; }
  peek() { return this.a[0]; }

  push(item) {
    const a = this.a;
    let i = a.push(item) - 1;
    for (let up = (i - 1) >> 1; i > 0 && compareTuples(a[i], a[up]) < 0; i = up, up = (i - 1) >> 1) {
      [a[i], a[up]] = [a[up], a[i]];
    }
  }

  pop() {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (!a.length) return top;
    a[0] = last;
    for (let i = 0; ;) {
      let m = i;
      for (const c of [2 * i + 1, 2 * i + 2]) if (c < a.length && compareTuples(a[c], a[m]) < 0) m = c;
      if (m === i) return top;
      [a[i], a[m]] = [a[m], a[i]];
      i = m;
    }
  }
}

/** A double-ended queue: O(1) push and shift, unshift O(1) after a shift (the preemption case). */
class Deque {
  constructor() { this.a = []; this.head = 0; }
  get length() { return this.a.length - this.head; }
  first() { return this.a[this.head]; }
  push(x) { this.a.push(x); }

  shift() {
    const x = this.a[this.head];
    this.a[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.a.length) {
      this.a = this.a.slice(this.head);
      this.head = 0;
    }
    return x;
  }

  unshift(x) {
    if (this.head > 0) this.a[--this.head] = x;
    else this.a.unshift(x);
  }
}

/**
 * Outcome of a run: records (completed requests by id: arrival, firstToken, finish,
 * inputTokens, outputTokens), stepDurations, stepDecodeTokens (tokens each step emitted
 * for decoding sequences), preemptions, and rejected (ids that can never fit the cache).
 * @typedef {object} SimResult
 */

function makeRecord(req, firstToken, finish) {
  return {
    arrival: req.arrival, firstToken, finish, inputTokens: req.inputTokens, outputTokens: req.outputTokens,
  };
}

/** Iteration-level (continuous) batching, with aggregates and heaps so a step costs O(log n). */
class Continuous {
  constructor(requests, model, cfg) {
    this.model = model;
    this.cfg = cfg;
    this.pending = requests.map(normRequest).sort(byArrival);
    this.waiting = new Deque();
    this.prefilling = [];
    this.decoding = new Map();
    this.finishHeap = new TupleHeap();
    this.crossHeap = new TupleHeap();
    this.window = model.window ?? null;
    // aggregates over decoding sequences: ctx_i(k) = ctxStart_i + (k - start_i)
    this.nDec = 0;
    this.baseSum = 0; // sum of ctxStart_i - start_i
    this.nBelow = 0; // decoding sequences whose context is still under the window
    this.baseBelow = 0;
    this.kvUsed = 0; // tokens held by prefilling sequences (decoding ones are in the aggregates)
    this.step = 0;
    this.reserved = 0; // full lengths of the admitted sequences, with cfg.reserve_full_length
    this.clock = 0.0;
    this.records = new Map();
    this.result = { records: [], stepDurations: [], stepDecodeTokens: [], preemptions: 0, rejected: [] };
  }

  decodeCtxSum() {
    return this.baseSum + this.nDec * this.step;
  }

  kvTokens() {
    return this.decodeCtxSum() + this.kvUsed;
  }

  active() {
    return this.waiting.length > 0 || this.prefilling.length > 0 || this.decoding.size > 0;
  }

  run() {
    let i = 0;
    const n = this.pending.length;
    while (i < n || this.active()) {
      while (i < n && this.pending[i].arrival <= this.clock) {
        this.arrive(this.pending[i]);
        i += 1;
      }
      if (!this.active()) {
        if (i === n) break; // the last arrivals were all rejected
        this.clock = this.pending[i].arrival;
        continue;
      }
      this.oneStep();
    }
    this.result.records = [...this.records.keys()].sort((a, b) => a - b).map((k) => this.records.get(k));
    return this.result;
  }

  arrive(req) {
    if (req.inputTokens + req.outputTokens > this.cfg.kv_capacity_tokens) {
      this.result.rejected.push(req.id);
      return;
    }
    this.waiting.push({
      req, prefillLeft: req.inputTokens, doneTokens: 0, firstToken: null, startStep: 0, ctxStart: 0, stint: 0,
    });
  }

  oneStep() {
    const cfg = this.cfg;
    const model = this.model;
    let budget = cfg.max_batched_tokens - this.nDec;
    let seqs = this.nDec + this.prefilling.length;
    // admit new sequences: a prompt needs its KV reserved up front
    while (this.waiting.length && seqs < cfg.max_batch && budget > this.prefilling.length) {
      const seq = this.waiting.first();
      const need = seq.prefillLeft;
      const full = seq.req.inputTokens + seq.req.outputTokens;
      if (this.kvTokens() + need > cfg.kv_capacity_tokens) break;
      // TensorRT-LLM's GUARANTEED_NO_EVICT: the whole prompt and output are reserved on admission
      if (cfg.reserve_full_length && this.reserved + full > cfg.kv_capacity_tokens) break;
      // unchunked, a prompt over the budget runs whole beside the decodes, with no other prompt
      if (!cfg.chunked_prefill && need > budget && this.prefilling.length) break;
      this.waiting.shift();
      if (seq.admitted === undefined) seq.admitted = this.clock;
      this.prefilling.push(seq);
      this.kvUsed += need;
      if (cfg.reserve_full_length) this.reserved += full;
      seqs += 1;
    }
    // schedule prefill chunks within the budget
    let tokens = this.nDec;
    let spanFull = 0.0;
    let spanWin = 0.0;
    const chunks = [];
    for (const seq of this.prefilling) {
      if (budget <= 0) break;
      const take = !cfg.chunked_prefill ? seq.prefillLeft : Math.min(seq.prefillLeft, budget);
      if (!cfg.chunked_prefill && take > budget && chunks.length) break;
      const doneBefore = seq.req.inputTokens + seq.doneTokens - seq.prefillLeft;
      const [f, w] = spans(model, doneBefore, take);
      spanFull += f;
      spanWin += w;
      chunks.push([seq, take]);
      tokens += take;
      budget -= take;
    }
    const ctxSum = this.decodeCtxSum();
    const belowSum = this.baseBelow + this.nBelow * this.step;
    const above = this.nDec - this.nBelow;
    const winCtx = this.window ? belowSum + above * this.window : 0;
    let finished = 0;
    for (const [s, t] of chunks) if (t === s.prefillLeft) finished += 1;
    // attention-DP ranks in lockstep: one rank's share of the decodes beside the whole of every prompt chunk
    const r = cfg.lockstep_ranks;
    const dec = this.nDec / r;
    const dt = stepSeconds(model, tokens - this.nDec + dec, dec + finished, spanFull + (ctxSum + this.nDec) / r,
      this.window ? spanWin + (winCtx + this.nDec) / r : 0.0, ctxSum / r, winCtx / r, dec + chunks.length);
    this.clock += dt;
    this.step += 1;
    this.updateWindowCrossings();
    this.result.stepDurations.push(dt);
    this.result.stepDecodeTokens.push(this.nDec);
    // prefill progress: a finished prompt emits its first token now
    for (const [seq, take] of chunks) {
      seq.prefillLeft -= take;
      if (seq.prefillLeft === 0) {
        this.prefilling.splice(this.prefilling.indexOf(seq), 1);
        this.kvUsed -= seq.req.inputTokens + seq.doneTokens;
        if (seq.firstToken === null) seq.firstToken = this.clock;
        seq.doneTokens += 1;
        if (seq.doneTokens >= seq.req.outputTokens) this.finish(seq);
        else this.startDecoding(seq);
      }
    }
    // decoding sequences emitted one token each; retire the finished ones
    while (this.finishHeap.size && this.finishHeap.peek()[0] <= this.step) {
      const [, rid, stint] = this.finishHeap.pop();
      const seq = this.decoding.get(rid);
      if (seq !== undefined && seq.stint === stint) {
        this.stopDecoding(seq);
        seq.doneTokens = seq.req.outputTokens;
        this.finish(seq);
      }
    }
    while (this.kvTokens() > cfg.kv_capacity_tokens && (this.decoding.size || this.prefilling.length)) {
      this.preemptNewest();
    }
  }

  startDecoding(seq) {
    seq.stint += 1;
    seq.startStep = this.step;
    seq.ctxStart = seq.req.inputTokens + seq.doneTokens;
    this.decoding.set(seq.req.id, seq);
    this.nDec += 1;
    this.baseSum += seq.ctxStart - this.step;
    const remaining = seq.req.outputTokens - seq.doneTokens;
    this.finishHeap.push([this.step + remaining, seq.req.id, seq.stint]);
    if (this.window && seq.ctxStart < this.window) {
      this.nBelow += 1;
      this.baseBelow += seq.ctxStart - this.step;
      this.crossHeap.push([this.step + this.window - seq.ctxStart, seq.req.id, seq.stint]);
    }
  }

  stopDecoding(seq) {
    this.decoding.delete(seq.req.id);
    this.nDec -= 1;
    this.baseSum -= seq.ctxStart - seq.startStep;
    if (this.window && seq.ctxStart < this.window && seq.startStep + this.window - seq.ctxStart > this.step) {
      this.nBelow -= 1;
      this.baseBelow -= seq.ctxStart - seq.startStep;
    }
    seq.doneTokens += this.step - seq.startStep;
    seq.stint += 1;
  }

  updateWindowCrossings() {
    while (this.crossHeap.size && this.crossHeap.peek()[0] <= this.step) {
      const [, rid, stint] = this.crossHeap.pop();
      const seq = this.decoding.get(rid);
      if (seq !== undefined && seq.stint === stint) {
        this.nBelow -= 1;
        this.baseBelow -= seq.ctxStart - seq.startStep;
      }
    }
  }

  preemptNewest() {
    this.result.preemptions += 1;
    if (this.prefilling.length) {
      const seq = this.prefilling.pop();
      this.kvUsed -= seq.req.inputTokens + seq.doneTokens;
      seq.prefillLeft = seq.req.inputTokens + seq.doneTokens;
      this.waiting.unshift(seq);
      return;
    }
    let newest = null;
    for (const s of this.decoding.values()) {
      if (newest === null || compareTuples([s.startStep, s.req.id], [newest.startStep, newest.req.id]) > 0) newest = s;
    }
    this.stopDecoding(newest);
    newest.prefillLeft = newest.req.inputTokens + newest.doneTokens; // recompute prompt and output so far
    this.waiting.unshift(newest);
  }

  finish(seq) {
    if (this.cfg.reserve_full_length) this.reserved -= seq.req.inputTokens + seq.req.outputTokens;
    const first = seq.firstToken !== null ? seq.firstToken : this.clock;
    const record = makeRecord(seq.req, first, this.clock);
    // a closed loop of clients: the request arrives when it is admitted (Python `closed_loop`)
    if (this.cfg.closed_loop && seq.admitted !== undefined) record.arrival = seq.admitted;
    this.records.set(seq.req.id, record);
  }
}

/** Static and dynamic batching: whole batches, no admission while one runs. */
function batched(requests, model, cfg) {
  const pending = requests.map(normRequest).sort(byArrival);
  const result = { records: [], stepDurations: [], stepDecodeTokens: [], preemptions: 0, rejected: [] };
  const records = new Map();
  const window = model.window ?? null;
  let clock = 0.0;
  let i = 0;
  const n = pending.length;
  while (i < n) {
    const first = pending[i];
    if (first.inputTokens + first.outputTokens > cfg.kv_capacity_tokens) {
      result.rejected.push(first.id);
      i += 1;
      continue;
    }
    clock = Math.max(clock, first.arrival);
    if (cfg.policy === "dynamic") {
      // leave when the batch is full or the window since its first request has passed
      let deadline = first.arrival + cfg.batch_window_s;
      if (i + cfg.max_batch <= n) deadline = Math.min(deadline, pending[i + cfg.max_batch - 1].arrival);
      clock = Math.max(clock, deadline);
    } else {
      clock = Math.max(clock, pending[Math.min(i + cfg.max_batch, n) - 1].arrival);
    }
    const batch = [];
    let kv = 0;
    while (i < n && batch.length < cfg.max_batch && pending[i].arrival <= clock) {
      const need = pending[i].inputTokens + pending[i].outputTokens;
      if (kv + need > cfg.kv_capacity_tokens) break;
      batch.push(pending[i]);
      kv += need;
      i += 1;
    }
    if (!batch.length) continue;
    let prompt = 0;
    let longest = 0;
    for (const r of batch) {
      prompt = Math.max(prompt, r.inputTokens);
      longest = Math.max(longest, r.outputTokens);
    }
    const b = batch.length;
    const [f, w] = spans(model, 0, prompt);
    let dt = stepSeconds(model, prompt * b, b, f * b, w * b, 0, 0, b);
    clock += dt;
    result.stepDurations.push(dt);
    result.stepDecodeTokens.push(0);
    const firstToken = clock;
    const finishAt = new Map();
    for (const r of batch) if (r.outputTokens === 1) finishAt.set(r.id, clock);
    for (let s = 1; s <= longest - 1; s++) {
      const ctx = prompt + s - 1;
      const win = window ? Math.min(ctx, window) : 0;
      dt = stepSeconds(model, b, b, b * (ctx + 1), window ? b * (win + 1) : 0, b * ctx, b * win, b);
      clock += dt;
      let emitted = 0;
      for (const r of batch) {
        if (r.outputTokens > s) {
          emitted += 1;
          if (r.outputTokens === s + 1) finishAt.set(r.id, clock);
        }
      }
      result.stepDurations.push(dt);
      result.stepDecodeTokens.push(emitted);
    }
    for (const r of batch) records.set(r.id, makeRecord(r, firstToken, finishAt.get(r.id)));
  }
  result.records = [...records.keys()].sort((a, b) => a - b).map((k) => records.get(k));
  return result;
}

/**
 * Run a workload through a batching policy on a step model; deterministic.
 * @param {{id: number, arrival: number, input_tokens: number, output_tokens: number}[]} requests
 * @param {StepModel} model From `stepModel(roofline)`.
 * @param {SimConfig} [config]
 * @returns {SimResult}
 */
export function simulate(requests, model, config = null) {
  const cfg = simConfig(config);
  if (cfg.policy === "continuous") return new Continuous(requests, model, cfg).run();
  return batched(requests, model, cfg);
}

/**
 * Inter-token latencies of a run: each decode step's duration, once per token it emitted.
 * @param {SimResult} result
 * @returns {Distribution}
 */
export function simItl(result) {
  const pairs = [];
  result.stepDurations.forEach((d, k) => {
    const n = result.stepDecodeTokens[k];
    if (n) pairs.push([d, n]);
  });
  if (!pairs.length) return distribution([]);
  pairs.sort(compareTuples);
  const total = sum(pairs.map(([, n]) => n));
  const mean = sum(pairs.map(([d, n]) => d * n)) / total;
  const quantile = (q) => {
    const target = q / 100 * (total - 1);
    let seen = 0;
    for (const [d, n] of pairs) {
      if (seen + n > target) return d;
      seen += n;
    }
    return pairs[pairs.length - 1][0];
  };
  const max = pairs[pairs.length - 1][0];
  return { mean, p50: quantile(50), p90: quantile(90), p95: quantile(95), p99: quantile(99), max, count: total };
}

/**
 * Summary of a simulator run (Python `SimResult.summary`): `summarize` with the
 * inter-token latencies taken from the step durations.
 * @param {SimResult} result
 * @param {Slo|null} [slo]
 */
export function simSummary(result, slo = null) {
  return { ...summarize(result.records, slo), itl: simItl(result) };
}
