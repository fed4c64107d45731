// Port of inferbook/calc/kv.py: KV-cache bytes per token and per sequence, and the state of linear layers.
import {
  ATTENTION_KINDS, INDEXER_SCALE_BLOCK, KV_DTYPE_ALIASES, KV_FALLBACK_BITS, STATE_DTYPE_BITS,
} from "./constants.js";
import { truthy } from "./builtins.js";

/** Kind of every layer, expanding the cyclic layer pattern. */
export function layerKinds(arch) {
  const pattern = arch.layer_pattern ?? ["full"];
  const kinds = new Array(arch.layers);
  for (let i = 0; i < arch.layers; i++) kinds[i] = pattern[i % pattern.length];
  return kinds;
}

/**
 * Bits per stored KV element for a format id or alias ("fp8", "bfloat16", "auto").
 * @param {string} dtype
 * @param {Object<string, object>} [formats] Format JSON by id; its `bits_per_value` wins.
 */
export function kvDtypeBits(dtype, formats = null) {
  const key = Object.hasOwn(KV_DTYPE_ALIASES, dtype) ? KV_DTYPE_ALIASES[dtype] : dtype;
  if (formats && Object.hasOwn(formats, key)) return formats[key].bits_per_value;
  if (Object.hasOwn(KV_FALLBACK_BITS, key)) return KV_FALLBACK_BITS[key];
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
 * Bytes one token adds to the cache across all layers while the context is
 * shorter than every window (linear-attention layers add nothing).
 */
export function kvBytesPerToken(arch, dtypeBits = 16.0) {
  const [uniqueElems] = elementsPerTokenPerLayer(arch, 1);
  const layers = layerKinds(arch).filter((k) => ATTENTION_KINDS.includes(k)).length;
  return layers * uniqueElems * dtypeBits / 8 + layers * indexerKeyBytes(arch);
}
