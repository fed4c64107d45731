// The roofline model of roofline.py beyond the peak rate (calc.js `computeTflops`): the Roofline class,
// its step model for the simulators, and the speculation, prefix-caching and cost helpers.
// Kept out of calc.js so that tools that do not draw a roofline do not load it.

import {
  ALLREDUCE_LATENCY_S, ATTENTION_KINDS, DEFAULT_MBU, DEFAULT_MFU, attentionCoefficients, blocks, cachedTokens,
  computeTflops, countParams, indexerKeyBytes, isMoeLayer, kvBytes, kvDtypeBits, layerKinds, moeOf,
  stateBytesPerSequence, sum, truthy,
  weightBytes,
} from "./calc.js";

/**
 * Time of one forward pass with its parts: seconds, computeS, memoryS, commS, flops,
 * bytesRead and bound ("compute" or "memory").
 * @typedef {object} StepTime
 */

/** Head and value widths used by attention FLOPs: [qk, v]. */
function attentionWidths(a) {
  if (a.mla) return [a.mla.qk_nope_head_dim + a.mla.qk_rope_head_dim, a.mla.v_head_dim];
  return [a.head_dim, a.head_dim];
}

/** Per-direction link bandwidth in bytes/s (PCIe 4.0 x16 when no scale-up link is known). */
function perDirectionBandwidth(gpu) {
  const link = gpu.interconnect?.bandwidth_gb_s;
  return (link != null ? link.value / 2 : 32.0) * 1e9;
}

/**
 * A model x GPU x format setup that answers latency questions (Python `Roofline`).
 */
export class Roofline {
  /**
   * @param {object} arch ModelArchitecture JSON.
   * @param {object} gpu Gpu JSON.
   * @param {object} fmt Format JSON of the weights.
   * @param {number} [kvDtypeBits=16]
   * @param {number} [tp=1]
   * @param {{mfu?: number, mbu?: number}} [efficiency] Defaults: DEFAULT_MFU, DEFAULT_MBU.
   * @param {Object<string, object>|null} [groups] Groups stored in another format (see `weightBytes`).
   */
  constructor(arch, gpu, fmt, kvDtypeBits = 16.0, tp = 1, efficiency = {}, groups = null) {
    const eff = { mfu: DEFAULT_MFU, mbu: DEFAULT_MBU, ...(efficiency ?? {}) };
    if (!(eff.mfu > 0 && eff.mfu <= 1 && eff.mbu > 0 && eff.mbu <= 1)) {
      throw new Error("the compute and bandwidth efficiencies must be above 0 and at most 1");
    }
    if (tp < 1) throw new Error("tensor parallelism must be at least 1");
    this.arch = arch;
    this.gpu = gpu;
    this.fmt = fmt;
    this.kvDtypeBits = kvDtypeBits;
    this.tp = tp;
    this.efficiency = eff;
    this.groups = groups;
    this._params = countParams(arch);
  }

  /** Dense peak FLOP/s of one GPU for the weight format. */
  get peakFlops() {
    return computeTflops(this.gpu, this.fmt) * 1e12;
  }

  /** Peak memory bandwidth in bytes/s. */
  get bandwidth() {
    return this.gpu.memory_bandwidth_gb_s.value * 1e9;
  }

  _linearFlopsPerToken(withHead) {
    const p = this._params;
    const activeLinear = p.attention + p.ffnDense + p.ffnExpertsActive;
    return 2.0 * (activeLinear + (withHead ? (p.lmHead || p.embedding) : 0));
  }

  /** Score and value FLOPs of one new token attending to `context` tokens. */
  _attentionFlops(context) {
    const a = this.arch;
    const [qk, v] = attentionWidths(a);
    let total = 0.0;
    for (const kind of layerKinds(a)) {
      if (!ATTENTION_KINDS.includes(kind)) continue; // linear-attention, Mamba and feed-forward layers
      let span = context;
      if (kind === "sliding" && truthy(a.sliding_window)) span = Math.min(context, a.sliding_window);
      else if (kind === "chunked" && truthy(a.attention_chunk_size)) span = Math.min(context, a.attention_chunk_size);
      if (a.sparse_attention) { // DSA: the indexer scores every token, attention keeps the top k
        const dsa = a.sparse_attention;
        total += 2.0 * dsa.index_heads * dsa.index_head_dim * span;
        span = Math.min(span, dsa.index_topk);
      }
      total += 2.0 * a.attention_heads * (qk + v) * span;
    }
    return total;
  }

  /** KV bytes a decode step reads per GPU: a DSA layer reads every indexer key but at most index_topk latents. */
  _kvReadBytes(batch, context) {
    const footprint = kvBytes(this.arch, context, this.kvDtypeBits, batch, this.tp).bytesPerGpu;
    const dsa = this.arch.sparse_attention;
    if (!dsa || context <= dsa.index_topk) return footprint;
    const one = kvBytes(this.arch, 1, this.kvDtypeBits, 1, this.tp);
    const key = indexerKeyBytes(this.arch);
    const mainPerToken = one.bytesPerGpu - one.layersCached * key;
    return batch * one.layersCached * key * context + batch * mainPerToken * dsa.index_topk;
  }

  _commSeconds(tokens) {
    if (this.tp === 1) return 0.0;
    const perDirection = perDirectionBandwidth(this.gpu);
    const payload = tokens * this.arch.hidden_size * 2; // 16-bit activations
    const ring = 2 * (this.tp - 1) / this.tp * payload / perDirection;
    return blocks(this.arch) * (ring + ALLREDUCE_LATENCY_S);
  }

  /** Effective bits per weight of the experts (their group's format when given). */
  expertBits() {
    const g = this.groups ?? {};
    return (Object.hasOwn(g, "experts") ? g.experts : this.fmt).effective_bits_per_weight;
  }

  /** Routed-expert weights excluded: shared experts and routers of all MoE layers. */
  sharedAndRouterParams() {
    const moe = moeOf(this.arch);
    const perExpert = ((this.arch.gated_mlp ?? true) ? 3 : 2) * this.arch.hidden_size * moe.expert_intermediate_size;
    let layers = 0;
    for (let i = 0; i < this.arch.layers; i++) if (isMoeLayer(this.arch, i)) layers += 1;
    return layers * (perExpert * moe.shared_experts + this.arch.hidden_size * moe.experts);
  }

  /**
   * Weight bytes one GPU reads in a step touching `touchedExpertsFraction` of the routed experts.
   * @param {number} [touchedExpertsFraction=1]
   */
  weightBytesPerGpu(touchedExpertsFraction = 1.0) {
    const w = weightBytes(this.arch, this.fmt, this.tp, 1, null, this.groups);
    if (!this.arch.moe || touchedExpertsFraction >= 1) return w.perGpuBytes;
    const routed = this._params.ffnExperts - this.sharedAndRouterParams();
    const untouched = routed * (1 - touchedExpertsFraction) * this.expertBits() / 8;
    return w.perGpuBytes - untouched / this.tp;
  }

  /**
   * Expected share of routed experts a step of `tokens` tokens touches: 1 - (1 - k/E)^tokens.
   * @param {number} tokens
   */
  expertsTouchedFraction(tokens) {
    const moe = this.arch.moe;
    if (!moe) return 1.0;
    return 1.0 - (1.0 - moe.experts_per_token / moe.experts) ** Math.max(tokens, 0);
  }

  _step(flops, bytesRead, tokens) {
    const compute = flops / (this.peakFlops * this.efficiency.mfu * this.tp);
    const memory = bytesRead / (this.bandwidth * this.efficiency.mbu);
    const comm = this._commSeconds(tokens);
    return {
      seconds: Math.max(compute, memory) + comm, computeS: compute, memoryS: memory, commS: comm,
      flops, bytesRead, bound: compute >= memory ? "compute" : "memory",
    };
  }

  /**
   * One forward pass over `batch` prompts of `promptTokens` tokens, the first
   * `cachedTokens` of which come from a prefix cache.
   * @returns {StepTime}
   */
  prefill(promptTokens, batch = 1, cachedTokens = 0) {
    if (promptTokens < 1 || batch < 1) throw new Error("the prompt and the batch must each be at least 1");
    if (!(cachedTokens >= 0 && cachedTokens < promptTokens)) {
      throw new Error("a cached prefix cannot be negative and must be shorter than the prompt");
    }
    const fresh = promptTokens - cachedTokens;
    const n = fresh * batch;
    let flops = this._linearFlopsPerToken(false) * n + 2.0 * this._params.embedding * batch;
    // causal attention: mean span (cached + 1 + prompt) / 2
    flops += batch * this._attentionFlops((cachedTokens + 1 + promptTokens) / 2) * fresh;
    const frac = this.expertsTouchedFraction(n);
    let bytesRead = this.weightBytesPerGpu(frac);
    bytesRead += kvBytes(this.arch, promptTokens, this.kvDtypeBits, batch, this.tp, 1, true).bytesPerGpu;
    return this._step(flops, bytesRead, n);
  }

  /**
   * One decode step: `batch` sequences each add one token after `context` tokens.
   * @returns {StepTime}
   */
  decodeStep(batch, context) {
    if (batch < 1 || context < 0) throw new Error("batch must be at least 1 and context not negative");
    const flops = batch * (this._linearFlopsPerToken(true) + this._attentionFlops(context));
    let bytesRead = this.weightBytesPerGpu(this.expertsTouchedFraction(batch));
    bytesRead += this._kvReadBytes(batch, context);
    // a linear layer reads its state and writes it back every step
    bytesRead += 2.0 * batch * stateBytesPerSequence(this.arch, 16.0, this.tp);
    return this._step(flops, bytesRead, batch);
  }

  /** Output tokens per second of the whole group at this batch size. */
  decodeThroughput(batch, context) {
    return batch / this.decodeStep(batch, context).seconds;
  }

  /**
   * Smallest batch at which a decode step becomes compute-bound (null if not below `limit`).
   * @returns {number|null}
   */
  computeBoundBatch(context, limit = 1 << 16) {
    let lo = 1;
    let hi = limit;
    if (this.decodeStep(hi, context).bound !== "compute") return null;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.decodeStep(mid, context).bound === "compute") hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /**
   * TTFT, mean TPOT and E2E latency (seconds) of a request in a steady batch.
   * @returns {{ttftS: number, tpotS: number, e2elS: number}}
   */
  requestLatency(promptTokens, outputTokens, batch = 1) {
    const ttft = this.prefill(promptTokens, 1).seconds;
    const steps = [];
    for (let i = 1; i < outputTokens; i++) steps.push(this.decodeStep(batch, promptTokens + i).seconds);
    const total = sum(steps);
    const tpot = steps.length ? total / steps.length : 0.0;
    return { ttftS: ttft, tpotS: tpot, e2elS: ttft + total };
  }
}

/**
 * The roofline reduced to coefficients so a simulator times a step in O(1): Python's
 * `StepModel` with camelCase fields (linearFlopsPerToken, headFlops, attnFlopsFull,
 * attnFlopsWindow, kvBytesFull, kvBytesWindow, weightBytes, routedExpertBytes,
 * expertsPerToken, experts, computeRate, memoryRate, commPerTokenS, commFixedS, window).
 * @typedef {object} StepModel
 */

/**
 * Coefficients of a roofline for fast step timing.
 * @param {Roofline} r
 * @returns {StepModel}
 */
export function stepModel(r) {
  const a = r.arch;
  const p = countParams(a);
  const attn = attentionCoefficients(a, kvBytes(a, 1, r.kvDtypeBits, 1, r.tp).bytesPerGpu);
  let routed = 0.0;
  if (a.moe) routed = (p.ffnExperts - r.sharedAndRouterParams()) * r.expertBits() / 8 / r.tp;
  const perDirection = perDirectionBandwidth(r.gpu);
  let commToken = 0.0;
  let commFixed = 0.0;
  if (r.tp > 1) {
    commToken = blocks(a) * 2 * (r.tp - 1) / r.tp * a.hidden_size * 2 / perDirection;
    commFixed = blocks(a) * ALLREDUCE_LATENCY_S;
  }
  return {
    linearFlopsPerToken: 2.0 * (p.attention + p.ffnDense + p.ffnExpertsActive),
    headFlops: 2.0 * (p.lmHead || p.embedding),
    attnFlopsFull: attn.attnFlopsFull, attnFlopsWindow: attn.attnFlopsWindow,
    kvBytesFull: attn.kvBytesFull, kvBytesWindow: attn.kvBytesWindow,
    weightBytes: weightBytes(a, r.fmt, r.tp, 1, null, r.groups).perGpuBytes, routedExpertBytes: routed,
    expertsPerToken: a.moe ? a.moe.experts_per_token : 0, experts: a.moe ? a.moe.experts : 0,
    computeRate: r.peakFlops * r.efficiency.mfu * r.tp, memoryRate: r.bandwidth * r.efficiency.mbu,
    commPerTokenS: commToken, commFixedS: commFixed, window: attn.window,
    stateBytes: 2.0 * stateBytesPerSequence(a, 16.0, r.tp),
  };
}


/**
 * Expected tokens per target step and speedup of speculative decoding
 * (Leviathan et al. 2023).
 * @returns {{tokensPerStep: number, speedup: number}}
 */
export function speculativeSpeedup(acceptance, draftTokens, draftCostRatio) {
  if (!(acceptance >= 0 && acceptance <= 1) || draftTokens < 1 || draftCostRatio < 0) {
    throw new Error("the acceptance rate must be between 0 and 1, the draft must propose at least one token, and its cost ratio cannot be negative");
  }
  const a = acceptance;
  const k = draftTokens;
  const expected = a === 1 ? k + 1.0 : (1 - a ** (k + 1)) / (1 - a);
  const cost = 1 + k * draftCostRatio;
  return { tokensPerStep: expected, speedup: expected / cost };
}

/**
 * Prefill time without and with a cached prefix of `cachedTokens` tokens.
 * @param {number} promptTokens
 * @param {number} cachedTokens
 * @param {Roofline} roofline
 * @returns {{fullS: number, withCacheS: number, savedFraction: number}}
 */
export function prefixCacheSavings(promptTokens, cachedTokens, roofline) {
  const full = roofline.prefill(promptTokens).seconds;
  const partial = roofline.prefill(promptTokens, 1, Math.min(cachedTokens, promptTokens - 1)).seconds;
  return { fullS: full, withCacheS: partial, savedFraction: 1 - partial / full };
}

/** Currency per 10^6 tokens at a steady throughput. */
export function costPerMillionTokens(pricePerHour, tokensPerSecond) {
  if (pricePerHour < 0 || tokensPerSecond <= 0) throw new Error("a price cannot be negative, and the throughput must be above 0");
  return pricePerHour / (tokensPerSecond * 3600) * 1e6;
}

/** Arithmetic intensity (FLOP per byte) where the roofline turns compute-bound. */
export function ridgePoint(gpu, fmt) {
  return computeTflops(gpu, fmt) * 1e12 / (gpu.memory_bandwidth_gb_s.value * 1e9);
}
