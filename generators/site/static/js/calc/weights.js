// Port of inferbook/calc/weights.py: weight bytes by group and per GPU, and a checkpoint's per-group formats.
import { truthy } from "./builtins.js";
import { countParams, mtpParams } from "./params.js";

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
