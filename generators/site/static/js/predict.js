// The calibrated performance model and `predict`, ported from inferbook/calc/perf.py,
// engines.py, bands.py and predict.py for the site's "Speed prediction" tool. Same rules,
// same numbers: tests/test_js_parity.py checks step costs, engine defaults and whole
// predictions (offline, closed-loop and lockstep loads) against Python. Poisson loads draw
// their arrivals from calc.js's own generator, so they agree statistically, not exactly.

import {
  attentionCoefficients, blocks, checkSetup, computeTflops, countParams, isMoeLayer, kvBytes, kvDtypeBits,
  nativeGroups,
  pyComma, pyFixed, pyPercent, routedExpertParams, SAMPLER_BYTES_PER_LOGIT, simulate, stateBytesPerSequence,
  summarize, weightBytes, workload,
} from "./calc.js";
import {
  ATTENTION_DP_ENGINES, DEFAULT_REQUESTS, MAX_OFFLINE_REQUESTS, OFFLINE_WAVES, PCIE_GB_S_PER_DIRECTION, PCIE_X16_GB_S,
} from "./calc/constants.js";

export { DEFAULT_REQUESTS, PCIE_GB_S_PER_DIRECTION };

/** A fitted table's value for `key`, else its default ("*"), as Python's `PerfParams.lookup`. */
export const lookup = (table, key) => (key in table ? table[key] : table["*"]);

/** The dense 16-bit peak (FP32 where a GPU lists only that); the format's own peak if none. */
export function sixteenBitTflops(gpu, fmt) {
  const d = gpu.dense;
  const s = d.bf16_tflops ?? d.fp16_tflops ?? d.fp32_tflops;
  return s ? s.value : computeTflops(gpu, fmt);
}

/** The peak attention runs at: FP8 for an 8-bit KV cache on a GPU with FP8 units, else 16-bit. */
export function attentionTflops(gpu, fmt, kvBits) {
  const fp8 = gpu.dense.fp8_tflops;
  if (kvBits <= 8 && fp8) return fp8.value;
  return sixteenBitTflops(gpu, fmt);
}

/** Which compute efficiency applies to a weight format (Python `dtype_class`). */
export function dtypeClass(fmt, gpu) {
  const native = computeTflops(gpu, fmt) !== sixteenBitTflops(gpu, fmt);
  const fid = fmt.id;
  if (native && (fid.startsWith("fp8") || fid === "mxfp8")) return "fp8";
  if (native && ["nvfp4", "mxfp4", "fp4-e2m1"].includes(fid)) return "fp4";
  if (native && fid === "int8") return "int8";
  if (fmt.effective_bits_per_weight < 16) return "weight-only";
  return "16-bit";
}

/** "nvlink" (an NVIDIA scale-up link), "infinity-fabric" (an AMD one) or "pcie". */
export function linkClass(gpu) {
  if (gpu.interconnect?.bandwidth_gb_s == null) return "pcie";
  return gpu.vendor === "amd" ? "infinity-fabric" : "nvlink";
}

/** One direction of a GPU-to-GPU transfer: half the scale-up link, else the x16 PCIe link named. */
export function linkGbSPerDirection(gpu) {
  const link = gpu.interconnect?.bandwidth_gb_s;
  if (link != null) return link.value / 2;
  const found = /PCIe\s*(?:Gen\s*)?([3-6])/i.exec(gpu.interconnect?.host_interface ?? "");
  return found ? PCIE_X16_GB_S[Number(found[1])] : PCIE_GB_S_PER_DIRECTION;
}

/** The efficiencies' key: the architecture, with "-gddr" for GDDR memory ("-consumer" on a GeForce-class card). */
export function archKey(gpu) {
  if (!gpu.memory_type.toLowerCase().includes("gddr")) return gpu.architecture;
  return gpu.market === "consumer" ? `${gpu.architecture}-consumer` : `${gpu.architecture}-gddr`;
}

/**
 * The step cost of a deployment {arch, gpu, fmt, kvBits, tp, pp, ep, engine, groups} under
 * `params` (Python `perf.step_cost`); its `seconds` has the simulator's step signature.
 */
export function stepCost(d, p) {
  const a = d.arch;
  const gpu = d.gpu;
  const tp = d.tp ?? 1;
  const pp = d.pp ?? 1;
  const ep = d.ep ?? 1;
  // attention DP: groups of tp / dp GPUs each run a batch; the routed experts stay spread over all tp GPUs
  const dp = d.attentionDp ?? 1;
  if (dp < 1 || tp % dp) throw new Error(`attention data parallelism ${dp} must divide tensor parallelism ${tp}`);
  const shards = tp / dp;
  const counts = countParams(a);
  const attn = attentionCoefficients(a, kvBytes(a, 1, d.kvBits, 1, shards).bytesPerGpu);
  const groups = d.groups && Object.keys(d.groups).length ? d.groups : null;
  const expertFmt = (groups && groups.experts) || d.fmt;
  const routedAll = routedExpertParams(a) * expertFmt.effective_bits_per_weight / 8;
  const routed = routedAll / tp;
  const arch = archKey(gpu);
  const peak = computeTflops(gpu, d.fmt) * 1e12;
  const peak16 = attentionTflops(gpu, d.fmt, d.kvBits) * 1e12;
  const gemmRate = peak * lookup(p.gemm_eff, arch) * lookup(p.dtype_eff, dtypeClass(d.fmt, gpu)) * shards;
  const attnRate = peak16 * lookup(p.attn_eff, arch) * shards;
  const memoryRate = gpu.memory_bandwidth_gb_s.value * 1e9 * lookup(p.mbu, arch);
  // one share for every link in calibrations before 2026-12, a table by link class since
  const linkEff = typeof p.link_eff === "number" ? p.link_eff : lookup(p.link_eff, linkClass(gpu));
  const perDirection = linkGbSPerDirection(gpu) * 1e9 * linkEff;
  const latency = lookup(p.link_latency_s, linkClass(gpu));
  let commToken = 0.0;
  let commFixed = 0.0;
  if (shards > 1) {
    commToken += blocks(a) * 2 * (shards - 1) / shards * a.hidden_size * 2 / perDirection;
    commFixed += blocks(a) * latency;
  }
  if (dp > 1 && a.moe) {
    let moeLayers = 0;
    for (let i = 0; i < a.layers; i++) if (isMoeLayer(a, i)) moeLayers += 1;
    commToken += 2 * moeLayers * a.moe.experts_per_token * a.hidden_size * 2 * (tp - 1) / tp / perDirection / shards;
    commFixed += 2 * moeLayers * latency;
  } else if (ep > 1 && a.moe) {
    let moeLayers = 0;
    for (let i = 0; i < a.layers; i++) if (isMoeLayer(a, i)) moeLayers += 1;
    const share = (ep - 1) / ep;
    commToken += 2 * moeLayers * a.moe.experts_per_token * a.hidden_size * 2 * share / perDirection / ep;
    commFixed += 2 * moeLayers * latency;
  }
  if (pp > 1) {
    commToken += (pp - 1) * a.hidden_size * 2 / perDirection;
    commFixed += (pp - 1) * latency;
  }
  const c = {
    linearFlopsPerToken: 2.0 * (counts.attention + counts.ffnDense + counts.ffnExpertsActive),
    headFlops: 2.0 * (counts.lmHead || counts.embedding),
    attnFlopsFull: attn.attnFlopsFull, attnFlopsWindow: attn.attnFlopsWindow,
    kvBytesFull: attn.kvBytesFull, kvBytesWindow: attn.kvBytesWindow,
    weightBytes: weightBytes(a, d.fmt, shards, 1, null, groups).perGpuBytes - routedAll * (1 / shards - 1 / tp),
    routedExpertBytes: routed, expertTokenShare: dp,
    routedFlopsPerToken: a.moe ? 2.0 * routedExpertParams(a) * a.moe.experts_per_token / a.moe.experts : 0.0,
    expertsPerToken: a.moe ? a.moe.experts_per_token : 0, experts: a.moe ? a.moe.experts : 0,
    gemmRate, halfTokens: p.gemm_half_tokens, attnRate, memoryRate, commPerTokenS: commToken,
    commFixedS: commFixed, stepS: lookup(p.step_s, d.engine), seqS: lookup(p.seq_s, d.engine),
    window: attn.window, stateBytes: 2.0 * stateBytesPerSequence(a, 16.0, shards),
  };
  // share of the routed experts no token of a step routes to (every attention-DP group's tokens reach them)
  const untouched = (tokens) => (c.experts ? (1.0 - c.expertsPerToken / c.experts) ** (tokens * c.expertTokenShare)
    : 0.0);
  // GEMM FLOPs as if at full efficiency: a GEMM of M rows costs as if it had M + min(M, T_half); dense
  // layers have M = the step's tokens, each touched routed expert the tokens routed to it
  // (Python `StepCost.gemm_work`)
  c.gemmWork = (tokens, logits) => {
    if (!tokens) return c.headFlops * logits;
    const dense = (c.linearFlopsPerToken - c.routedFlopsPerToken) * tokens + c.headFlops * logits;
    let work = dense * (tokens + Math.min(tokens, c.halfTokens)) / tokens + c.routedFlopsPerToken * tokens;
    if (c.experts) {
      const touched = c.experts * (1.0 - untouched(tokens));
      const routedTokens = tokens * c.expertTokenShare * c.expertsPerToken;
      work += c.routedFlopsPerToken / c.expertsPerToken / c.expertTokenShare
        * Math.min(c.halfTokens * touched, routedTokens);
    }
    return work;
  };
  c.seconds = (tokens, logits, spanFull, spanWindow, kvFull, kvWindow, sequences = 0) => {
    const weights = c.weightBytes - c.routedExpertBytes * untouched(tokens);
    const gemm = Math.max(c.gemmWork(tokens, logits) / c.gemmRate, weights / c.memoryRate);
    const attnFlops = c.attnFlopsFull * spanFull + c.attnFlopsWindow * spanWindow;
    const attnBytes = c.kvBytesFull * kvFull + c.kvBytesWindow * kvWindow + c.stateBytes * sequences;
    const attn = Math.max(attnFlops / c.attnRate, attnBytes / c.memoryRate);
    const comm = c.commPerTokenS * tokens + c.commFixedS;
    return gemm + attn + comm + c.stepS + c.seqS * sequences;
  };
  return c;
}

// === engine defaults (engines.py) ===

function sglangChunk(mem) {
  if (mem == null) return 4096;
  for (const [below, size] of [[35, 2048], [60, 4096], [160, 8192]]) if (mem < below) return size;
  return 16384;
}

function sglangGraphBs(mem, tp) {
  if (mem == null) return 160;
  if (mem < 20) return 8;
  if (mem < 35) return tp < 4 ? 24 : 80;
  if (mem < 60) return tp < 4 ? 32 : 160;
  if (mem < 160) return tp < 4 ? 256 : 512;
  return 512;
}

function sglangFraction(mem, tp, pp) {
  if (mem == null) return 0.88;
  let reserve = 512 + 1.5 * Math.max(sglangChunk(mem), 2048) + tp * pp / 8 * 1024 + 2 * sglangGraphBs(mem, tp);
  if (mem > 60) reserve = Math.max(reserve, 10 * 1024);
  return Math.round((mem * 1024 - reserve) / (mem * 1024) * 1000) / 1000;
}

function vllmLimits(gpu) {
  const mem = gpu ? gpu.memory_gib.value : null;
  if (mem == null || mem < 70 || gpu.id.startsWith("a100")) return [256, 2048];
  return [1024, mem >= 160 ? 16384 : 8192];
}

/**
 * An engine's defaults on a GPU (Python `engines.engine_defaults`), from the stated values
 * `raw` (tools data: numbers, or null where the engine states a rule).
 */
export function engineDefaults(raw, gpu = null, tp = 1, pp = 1) {
  const mem = gpu ? gpu.memory_gib.value : null;
  let { memory_fraction: fraction, max_num_seqs: seqs, max_num_batched_tokens: budget,
    kv_block_tokens: block } = raw;
  if (raw.id === "vllm") [seqs, budget] = vllmLimits(gpu);
  else if (raw.id === "sglang") {
    fraction = fraction ?? sglangFraction(mem, tp, pp);
    budget = sglangChunk(mem);
    seqs = seqs ?? 4096;
  } else if (raw.id === "llama-cpp") {
    fraction = fraction ?? 1.0;
    block = block ?? 1;
  }
  const of = (raw.memory_fraction_of ?? "free").startsWith("free") ? "free" : "total";
  const d = {
    id: raw.id, name: raw.name, version: raw.version, memory_fraction: fraction, fraction_of: of,
    block_tokens: block, max_num_seqs: seqs, max_num_batched_tokens: budget,
    chunked_prefill: raw.chunked_prefill ?? true, fp8_checkpoint_kv: raw.kv_dtype_fp8_checkpoint === true,
    reserve_full_length: raw.capacity_policy === "guaranteed_no_evict",
  };
  d.config = {
    gpu_memory_utilization: fraction, fraction_of: of, block_size: block, max_num_seqs: seqs,
    max_num_batched_tokens: budget, sampler_bytes_per_logit: raw.id === "vllm" ? SAMPLER_BYTES_PER_LOGIT : 0.0,
    activation_scale: raw.id === "sglang" ? 0.0 : 1.0,
  };
  const ofText = of === "total" ? "of GPU memory" : "of the memory free after loading";
  d.describe = `${raw.name} ${raw.version} defaults: ${pyPercent(fraction)} ${ofText}, ${block}-token KV blocks, `
    + `at most ${pyComma(seqs)} sequences and ${pyComma(budget)} tokens per step`;
  return d;
}

// === error band and basis (bands.py) ===

/** The model family as cross-validation holds it out: its first word, lower-case. */
export function familyGroup(model) {
  const found = /[a-z]+/.exec(model.family.toLowerCase());
  return found ? found[0] : model.family.toLowerCase();
}

function groupError(e) {
  return e ? { n: e.n, median_abs_error: e.median, p90_abs_error: e.p90, max_abs_error: e.max } : null;
}

function worse(a, b) {
  if (a == null) return b;
  if (b == null) return a;
  return a.median_abs_error >= b.median_abs_error ? a : b;
}

/** The band of the nearest held-out groups (the worst of GPU, family and engine). */
export function errorBand(calibration, model, gpu, engine) {
  const cv = calibration.cv ?? {};
  let throughput = null;
  let latency = null;
  const names = [];
  for (const [partition, key] of [["gpu", gpu.id], ["family", familyGroup(model)], ["engine", engine]]) {
    const g = (cv[`by_${partition}`] ?? {})[key];
    if (!g) continue;
    const t = groupError(g.throughput);
    const l = groupError(g.latency);
    if (t == null && l == null) continue;
    names.push(`${partition} ${key}`);
    throughput = worse(throughput, t);
    latency = worse(latency, l);
  }
  if (!names.length) {
    const o = cv.overall ?? {};
    return { group: "all held-out groups (this GPU, family and engine were never measured)",
      throughput: groupError(o.throughput), latency: groupError(o.latency) };
  }
  return { group: `worst of held-out ${names.join(", ")}`, throughput, latency };
}

/** (basis, detail, matching measurement ids) as Python `bands.basis_for` says them. */
export function basisFor(calibration, measured, model, gpu, engine, fmt, load, gpus, tp, attentionDp = 1) {
  const parts = [model.id, gpu.id, engine, gpus, tp, fmt.id, load.isl, load.osl, load.mode,
    load.concurrency ?? null, load.rate ?? null, load.batch ?? null];
  if (attentionDp > 1) parts.push(`attention-dp ${attentionDp}`);
  const key = parts.join("|");
  const matches = measured[key] ?? [];
  const fitted = calibration.fitted_on ?? {};
  const gaps = [];
  const arch = archKey(gpu);
  const cls = model.architecture.moe ? "moe" : "dense";
  if (!(fitted.architectures ?? []).includes(arch)) {
    gaps.push(`no ${arch} GPU was measured (efficiencies are the median of `
      + `${(fitted.architectures ?? []).join(", ") || "none"})`);
  }
  if (!(fitted.engines ?? []).includes(engine)) {
    gaps.push(`${engine} was never measured (its overheads are the median of the other engines)`);
  }
  if (!(fitted.model_classes ?? []).includes(cls)) gaps.push(`no ${cls} model was measured`);
  if (matches.length) return ["measured", `${matches.length} published measurement(s) of this exact setup`, matches];
  if (gaps.length) return ["estimated", gaps.join("; "), []];
  return ["calibrated", `${arch} GPUs, ${engine} and ${cls} models are all in the fitted data`, []];
}

// === predict (predict.py) ===

function offlineRequests(requested, slots) {
  if (requested != null) return Math.max(1, Math.min(requested, MAX_OFFLINE_REQUESTS));
  return Math.max(DEFAULT_REQUESTS, Math.min(OFFLINE_WAVES * Math.max(slots, 1), MAX_OFFLINE_REQUESTS));
}

export function stats(d, extra = 0.0) {
  return { mean: d.mean + extra, p50: d.p50 + extra, p90: d.p90 + extra, p95: d.p95 + extra, p99: d.p99 + extra };
}

/**
 * Share of `records` meeting the load's SLOs `q.slo_ttft_s` and `q.slo_tpot_s` (TTFT with the engine's
 * request time `requestS`), or null when the load sets none (Python `predict.slo_attainment`).
 */
export function sloAttainment(q, records, requestS = 0.0) {
  const ttft = q.slo_ttft_s ?? null;
  const tpot = q.slo_tpot_s ?? null;
  if ((ttft === null && tpot === null) || !records.length) return null;
  let met = 0;
  for (const r of records) {
    const t = r.outputTokens < 2 ? null : (r.finish - r.firstToken) / (r.outputTokens - 1);
    if ((ttft === null || r.firstToken - r.arrival + requestS <= ttft) && (tpot === null || t === null || t <= tpot)) {
      met += 1;
    }
  }
  return met / records.length;
}

/**
 * The parts of `predict` that only the Speed prediction tool uses, in `predict_more.js` so that the
 * planner's page does not load them: speculative decoding, the highest rate under objectives and
 * disaggregation. `predict_more.js`'s `predictMore` passes them in.
 * @typedef {object} PredictMore
 * @property {Function} speculation
 * @property {Function} speculativeStep
 * @property {Function} highestRate
 * @property {Function} predictDisaggregated
 */

/**
 * Predict one deployment under one load (Python `predict.predict`). With `prefill_gpus` (and
 * `prefill_tp`), prefill-decode disaggregation. With `speculative_tokens` and `acceptance` (and `draft_cost`), speculative
 * decoding or MTP as `--speculative-tokens`; a model with MTP modules loads them as the draft. Mode "max-rate" searches the highest Poisson rate
 * meeting `slo_ttft_s` and/or `slo_tpot_s` at `percentile`; its arrivals come from calc.js's own
 * generator, so the rate agrees with Python's statistically, not exactly.
 * @param {object} data Tools data: {models, gpus, formats, perf: {params, calibration, engines, measured}}.
 * @param {object} q {model, gpu, gpus, tp, pp, ep, weights, kv_dtype, engine, isl, osl, mode, batch,
 *   concurrency, rate, requests, workload (for mode "rate": a request list), slo_ttft_s, slo_tpot_s
 *   (optional: with either, the answer has slo_attainment and goodput_rps), image_tokens (optional:
 *   tokens of the images each request carries, prefilled with the prompt), attention_dp (optional: a MoE
 *   model's attention data parallelism, Python's `attention_dp`; default 1)}.
 * @param {PredictMore|null} [more] Needed for speculation, mode "max-rate" and `prefill_gpus` (`predictMore`).
 */
export function predict(data, q, more = null) {
  const model = data.models[q.model];
  const gpu = data.gpus[q.gpu];
  const perf = data.perf;
  const fmt = data.formats[q.weights ?? model.native_dtype];
  const pp = q.pp ?? 1;
  const ep = q.ep ?? 1;
  const gpus = q.gpus ?? 1;
  const tp = q.tp ?? (q.prefill_gpus ? 1 : Math.floor(gpus / pp));
  const attentionDp = q.attention_dp ?? 1;
  if (tp < 1 || pp < 1 || ep < 1 || gpus < 1 || attentionDp < 1) {
    throw new Error("--gpus, --tp, --pp, --ep and --attention-dp must each be at least 1");
  }
  if (attentionDp > 1 && !ATTENTION_DP_ENGINES.includes(q.engine)) {
    throw new Error("llama.cpp has no attention data parallelism; use vllm, sglang or trtllm");
  }
  if ((q.speculative_tokens == null) !== (q.acceptance == null)) {
    throw new Error("--speculative-tokens and --acceptance go together");
  }
  if (!more && (q.speculative_tokens || q.prefill_gpus || q.mode === "max-rate")) {
    throw new Error("speculative decoding, disaggregation and the highest rate need predict_more.js's predictMore");
  }
  const spec = q.speculative_tokens ? more.speculation(q.speculative_tokens, q.acceptance, q.draft_cost ?? 0.0) : null;
  if (spec && q.mode === "max-rate") {
    throw new Error("speculative decoding with --rate max is not modelled yet; give --rate R");
  }
  const mtp = spec !== null && (model.architecture.mtp_layers ?? 0) > 0;
  const raw = perf.engines[q.engine];
  const groups = fmt.id === model.native_dtype ? nativeGroups(model, data.formats) : {};
  let kvBits = 16.0;
  if (q.kv_dtype != null && q.kv_dtype !== "auto") kvBits = kvDtypeBits(q.kv_dtype, data.formats);
  else if (raw.kv_dtype_fp8_checkpoint === true && (fmt.id.startsWith("fp8") || fmt.id === "nvfp4")) kvBits = 8.0;
  const defaults = engineDefaults(raw, gpu, tp, pp);
  const setup = { model: model.id, gpu: gpu.id, gpus, tp, pp, ep, attention_dp: attentionDp, weights: fmt.id,
    kv_bits: kvBits,
    engine: q.engine, engine_profile: defaults.describe, isl: q.isl, osl: q.osl, mode: q.mode };
  if (q.image_tokens) { // the images' tokens are prefilled with the prompt
    if (q.image_tokens < 0) throw new Error("--image-tokens cannot be negative");
    setup.image_tokens = q.image_tokens;
    q = { ...q, isl: q.isl + q.image_tokens, image_tokens: 0 };
  }
  if (q.prefill_gpus) {
    if (attentionDp > 1) {
      throw new Error("attention data parallelism is modelled for colocated serving only, not with --prefill-gpus");
    }
    if (spec) throw new Error("speculative decoding is modelled for colocated serving only, not with --prefill-gpus");
    const none = { basis: "none", basis_detail: "the setup cannot run", measured: [] };
    return more.predictDisaggregated(data, q, { model, gpu, fmt, kvBits, tp, pp, ep, gpus, groups, setup, none });
  }
  const replicas = Math.floor(gpus / Math.max(tp * pp, 1));
  // a pipeline keeps pp micro-batches in flight: pp streams per replica, each with 1/pp of the KV cache
  const streams = replicas * pp;
  const shareOf = (parts) => {
    const share = (n) => (n == null ? null : Math.max(1, Math.ceil(n / parts)));
    return parts <= 1 ? { ...q } : { ...q, concurrency: share(q.concurrency),
      rate: q.rate == null ? null : q.rate / parts, requests: share(q.requests) };
  };
  const perReplica = shareOf(replicas);
  const per = shareOf(streams);
  const sequences = perReplica.batch || perReplica.concurrency || 1;
  const check = checkSetup({
    model, gpu, weights: fmt, kv: null, kv_bits: kvBits, tp, pp, ep, gpus, context: q.isl + q.osl, sequences,
    mode: q.mode === "batch" ? "batch" : "concurrency", engine: { name: defaults.name, config: defaults.config },
    groups: Object.keys(groups).length ? groups : null, attention_dp: attentionDp, mtp,
  });
  const reasons = check.findings.filter((f) => f.severity === "fail" || f.severity === "warn").map((f) => f.message);
  const none = { basis: "none", basis_detail: "the setup cannot run", measured: [] };
  if (!check.feasible || !check.capacity) return { feasible: false, reasons, setup, ...none };
  setup.replicas = replicas;
  const cost = stepCost({ arch: model.architecture, gpu, fmt, kvBits, tp, pp, ep, engine: q.engine,
    groups: Object.keys(groups).length ? groups : null, attentionDp }, perf.params);
  // attention-DP groups step together as one stream, each with its sequences, KV cache and step budget
  const ranks = attentionDp;
  const replicaKvTokens = ranks * check.capacity.kvTokens;
  const kvTokens = Math.floor(replicaKvTokens / pp);
  const closed = q.mode === "batch" || q.mode === "concurrency";
  const streamSequences = per.batch || per.concurrency || 1;
  const maxBatch = defaults.max_num_seqs * ranks;
  const config = { max_batch: closed ? Math.min(maxBatch, streamSequences) : maxBatch,
    max_batched_tokens: defaults.max_num_batched_tokens * ranks, lockstep_ranks: ranks,
    chunked_prefill: defaults.chunked_prefill, kv_capacity_tokens: kvTokens, closed_loop: closed,
    reserve_full_length: defaults.reserve_full_length };
  const result = { feasible: true, reasons, setup, kv_cache_tokens: replicaKvTokens, notes: [] };
  if (ranks > 1) {
    result.notes.push(`attention data parallelism ${ranks}: ${ranks} groups of ${tp / ranks} GPU(s) step together, `
      + "each with its own sequences and KV cache; a step waits for the group with the most prompt tokens "
      + "(no balancing of prompts across groups)");
  }
  const extra = lookup(perf.params.request_s, q.engine);
  const fixedRequests = (n) => Array.from({ length: n }, (_, i) => ({ id: i, arrival: 0.0, input_tokens: q.isl,
    output_tokens: q.osl }));
  let sim;
  if (q.mode === "max-rate") {
    const fixed = (mean) => ({ kind: "fixed", mean });
    const run = (rate) => simulate(workload(per.requests ?? DEFAULT_REQUESTS, rate, fixed(q.isl), fixed(q.osl),
      "poisson", 4.0, 0), cost, config);
    const offline = simulate(fixedRequests(Math.min(per.requests ?? 512, 512)), cost, config);
    const found = offline.records.length
      ? more.highestRate(run, summarize(offline.records).requestThroughput, q, extra) : null;
    if (found === null) {
      Object.assign(result, none);
      result.feasible = false;
      result.reasons.push("no request rate meets the SLOs: even one request at a time misses them");
      return result;
    }
    result.rate = found[0] * streams;
    sim = found[1];
  } else {
    let requests;
    if (q.mode === "rate") requests = q.workload;
    else {
      let n = per.requests ?? DEFAULT_REQUESTS;
      if (q.mode === "batch") n = per.batch || 1;
      if (q.mode === "offline") {
        n = offlineRequests(per.requests, Math.min(config.max_batch, Math.floor(kvTokens / (q.isl + q.osl))));
      }
      requests = fixedRequests(n);
    }
    if (spec) requests = requests.map((r) => ({ ...r, output_tokens: spec.stepsFor(r.output_tokens) }));
    sim = simulate(requests, spec ? more.speculativeStep(cost, spec) : cost, config);
    if (spec) {
      sim.records = sim.records.map((rec) => ({ ...rec, outputTokens: q.osl }));
      if (mtp) {
        result.notes.push(`the model's ${model.architecture.mtp_layers} MTP module(s) are loaded as the draft, `
          + "which the KV cache gives room to");
      }
      result.notes.push(`speculative decoding: ${spec.draftTokens} drafted tokens at acceptance `
        + `${pyPercent(spec.acceptance)} keep ${pyFixed(spec.tokensPerStep, 2)} tokens per step`
        + (spec.draftCostRatio ? "" : "; the draft's own time is not counted")
        + "; no fitted measurement used speculation, so this is an estimate");
    }
    if (!sim.records.length) {
      Object.assign(result, none);
      result.feasible = false;
      result.reasons.push(`no request fits the KV cache of ${pyComma(kvTokens)} tokens per replica`);
      return result;
    }
  }
  const s = summarize(sim.records);
  const attainment = sloAttainment(q, sim.records, extra);
  if (attainment !== null) {
    result.slo_attainment = attainment;
    result.goodput_rps = attainment * s.requestThroughput * streams;
  }
  result.ttft_s = stats(s.ttft, extra);
  result.tpot_s = stats(s.tpot);
  result.output_tokens_per_s = s.outputTokenThroughput * streams;
  result.input_tokens_per_s = s.inputTokenThroughput * streams;
  result.requests_per_s = s.requestThroughput * streams;
  if (sim.preemptions) result.notes.push(`${pyComma(sim.preemptions)} preemptions per replica: the KV cache ran full`);
  result.error_band = errorBand(perf.calibration, model, gpu, q.engine);
  const [basis, detail, measured] = basisFor(perf.calibration, perf.measured, model, gpu, q.engine, fmt, q, gpus, tp,
    attentionDp);
  Object.assign(result, { basis, basis_detail: detail, measured });
  if (spec) {
    Object.assign(result, { basis: "estimated", measured: [],
      basis_detail: `speculative decoding extrapolated from measurements without it; ${detail}` });
  }
  return result;
}
