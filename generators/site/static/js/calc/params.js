// Port of inferbook/calc/params.py: parameter counts by group (attention, feed-forward, experts, MTP, vision).
import { FFN_KINDS, MOE_DEFAULTS, VISION_DEFAULTS } from "./constants.js";
import { sum, truthy } from "./builtins.js";
import { layerKinds } from "./kv.js";

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
  return { ...MOE_DEFAULTS, ...m };
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

/** Weights of every routed expert of every MoE layer (Python `params.routed_expert_params`). */
export function routedExpertParams(arch) {
  if (!arch.moe) return 0.0;
  const perExpert = (arch.gated_mlp === false ? 2 : 3) * arch.hidden_size * arch.moe.expert_intermediate_size;
  let layers = 0;
  for (let i = 0; i < arch.layers; i++) if (isMoeLayer(arch, i)) layers += 1;
  return layers * perExpert * arch.moe.experts;
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
  const v = { ...VISION_DEFAULTS, ...vision };
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
