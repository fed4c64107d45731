// The parts of `predict` only the Speed prediction tool uses (ports of inferbook/calc/speculation.py,
// disaggregation.py and predict.highest_rate), kept apart from predict.js so that pages which only
// need predict.js (the deployment planner) stay within the JavaScript budget. `predictMore` is
// `predict` with them: tests/test_js_predict.py checks its answers against Python.

import { checkSetup, kvBytes, percentile, pyComma, simulate, stepSeconds, summarize, workload } from "./calc.js";
import { MAX_RATE_STEPS } from "./calc/constants.js";
import {
  basisFor, engineDefaults, errorBand, linkClass, linkGbSPerDirection, lookup, predict, sloAttainment, stats, stepCost,
} from "./predict.js";
import { speculativeSpeedup } from "./roofline.js";

// === speculative decoding (speculation.py) ===

/**
 * A draft of `draftTokens` per step kept at `acceptance`, each proposed token costing `draftCostRatio`
 * of a target decode step (Python `Speculation`): the tokens kept per step and the decode iterations a
 * request of n output tokens needs (the prefill's token counted as the first).
 */
export function speculation(draftTokens, acceptance, draftCostRatio = 0.0) {
  const { tokensPerStep } = speculativeSpeedup(acceptance, draftTokens, draftCostRatio);
  return {
    draftTokens, acceptance, draftCostRatio, tokensPerStep,
    stepsFor: (n) => (n <= 1 ? n : 1 + Math.ceil((n - 1) / tokensPerStep)),
  };
}

/**
 * A step model whose decoding sequences verify the draft's tokens every step (Python
 * `SpeculativeStep`): the target's verification of k more tokens per logit, plus the draft's k
 * proposals at their cost ratio of a plain step.
 * @param {object} base A step model (`stepCost`'s, or anything `stepSeconds` times).
 * @param {ReturnType<typeof speculation>} spec
 */
export function speculativeStep(base, spec) {
  const k = spec.draftTokens;
  return {
    window: base.window ?? null,
    seconds(tokens, logits, spanFull, spanWindow, kvFull, kvWindow, sequences = 0) {
      const verify = stepSeconds(base, tokens + k * logits, logits * (k + 1), spanFull + k * kvFull,
        spanWindow + k * kvWindow, kvFull, kvWindow, sequences);
      if (!spec.draftCostRatio) return verify;
      const plain = stepSeconds(base, tokens, logits, spanFull, spanWindow, kvFull, kvWindow, sequences);
      return verify + k * spec.draftCostRatio * plain;
    },
  };
}

// === prefill-decode disaggregation (disaggregation.py) ===

/** Seconds to move one request's KV cache of `tokens` tokens from a prefill to a decode replica. */
export function transferSeconds(model, gpu, kvBits, tokens, p) {
  const size = kvBytes(model.architecture, tokens, kvBits, 1, 1, 1, true).bytesPerGpu;
  const linkEff = typeof p.link_eff === "number" ? p.link_eff : lookup(p.link_eff, linkClass(gpu));
  return size / (linkGbSPerDirection(gpu) * 1e9 * linkEff) + lookup(p.link_latency_s, linkClass(gpu));
}

/**
 * Every request through a prefill pool of `rp` replicas and a decode pool of `rd` (round-robin into
 * each; the decode replicas take the request `transferS` after its first token, prefilled): the
 * records, and the preemptions counted (Python `run_pools`).
 * @param {{id: number, arrival: number, input_tokens: number, output_tokens: number}[]} requests
 */
export function runPools(requests, costP, cfgP, rp, costD, cfgD, rd, transferS) {
  /** @type {Map<number, number>} */
  const first = new Map();
  let preemptions = 0;
  const completed = (share, rejected) => {
    const refused = new Set(rejected);
    return share.filter((q) => !refused.has(q.id)).sort((a, b) => a.id - b.id);
  };
  for (let r = 0; r < rp; r++) {
    const share = requests.filter((_, i) => i % rp === r)
      .map((q) => ({ id: q.id, arrival: q.arrival, input_tokens: q.input_tokens, output_tokens: 1 }));
    const result = simulate(share, costP, cfgP);
    preemptions += result.preemptions;
    completed(share, result.rejected).forEach((q, k) => first.set(q.id, result.records[k].firstToken));
  }
  const ready = requests.filter((q) => first.has(q.id))
    .sort((a, b) => first.get(a.id) - first.get(b.id) || a.id - b.id);
  const byId = new Map(requests.map((q) => [q.id, q]));
  const records = [];
  for (let r = 0; r < rd; r++) {
    const share = ready.filter((_, i) => i % rd === r).map((q) => ({ id: q.id, arrival: first.get(q.id) + transferS,
      input_tokens: q.input_tokens + 1, output_tokens: Math.max(q.output_tokens - 1, 1), prefilled: true }));
    const result = simulate(share, costD, cfgD);
    preemptions += result.preemptions;
    completed(share, result.rejected).forEach((q, k) => {
      const original = byId.get(q.id);
      const firstToken = first.get(q.id);
      const finish = original.output_tokens > 1 ? result.records[k].finish : firstToken;
      records.push({ arrival: original.arrival, firstToken, finish: Math.max(finish, firstToken),
        inputTokens: original.input_tokens, outputTokens: original.output_tokens });
    });
  }
  return { records, preemptions };
}

/**
 * `predict` for a disaggregated deployment (Python `run_disaggregated`): `q.prefill_gpus` of the GPUs
 * prefill (TP `q.prefill_tp`, else the decode TP) and the rest decode. Poisson arrivals are `q.workload`
 * in mode "rate" when given (the planner hands in its own), else calc.js's own generator's (seed 0), so
 * rate answers agree with Python's statistically; offline ones exactly.
 */
export function predictDisaggregated(data, q, c) {
  const { model, gpu, fmt, kvBits, tp, pp, ep, gpus, groups, setup, none } = c;
  if (!["offline", "rate", "max-rate"].includes(q.mode)) {
    throw new Error("disaggregation is modelled for --offline and --rate (a number or max)");
  }
  const p = data.perf.params;
  const raw = data.perf.engines[q.engine];
  const prefillTp = (q.prefill_tp ?? 1) > 1 ? q.prefill_tp : tp;
  const decodeGpus = gpus - q.prefill_gpus;
  if (decodeGpus < tp * pp || q.prefill_gpus % (prefillTp * pp) || decodeGpus % (tp * pp)) {
    throw new Error(`${q.prefill_gpus} prefill GPUs and ${decodeGpus} decode GPUs do not split into replicas of `
      + `TP ${prefillTp} / TP ${tp} x PP ${pp}`);
  }
  const groupsOrNull = Object.keys(groups).length ? groups : null;
  const pool = (poolTp, poolGpus) => {
    const defaults = engineDefaults(raw, gpu, poolTp, pp);
    const check = checkSetup({ model, gpu, weights: fmt, kv: null, kv_bits: kvBits, tp: poolTp, pp, ep, gpus: poolGpus,
      context: q.isl + q.osl, sequences: 1, mode: "concurrency", engine: { name: defaults.name, config: defaults.config },
      groups: groupsOrNull });
    const reasons = check.findings.filter((f) => f.severity === "fail" || f.severity === "warn").map((f) => f.message);
    return { reasons, tokens: check.feasible && check.capacity ? check.capacity.kvTokens : null, defaults };
  };
  const pre = pool(prefillTp, q.prefill_gpus);
  const dec = pool(tp, decodeGpus);
  Object.assign(setup, { prefill_gpus: q.prefill_gpus, prefill_tp: prefillTp, decode_gpus: decodeGpus });
  const reasons = [...pre.reasons.map((r) => `prefill pool: ${r}`), ...dec.reasons.map((r) => `decode pool: ${r}`)];
  if (pre.tokens === null || dec.tokens === null) return { feasible: false, reasons, setup, notes: [], ...none };
  const cost = (poolTp) => stepCost({ arch: model.architecture, gpu, fmt, kvBits, tp: poolTp, pp, ep, engine: q.engine,
    groups: groupsOrNull }, p);
  const config = (d, tokens) => ({ max_batch: d.max_num_seqs, max_batched_tokens: d.max_num_batched_tokens,
    kv_capacity_tokens: tokens, reserve_full_length: d.reserve_full_length });
  const [costP, costD] = [cost(prefillTp), cost(tp)];
  const [cfgP, cfgD] = [config(pre.defaults, pre.tokens), config(dec.defaults, dec.tokens)];
  const rp = Math.floor(q.prefill_gpus / (prefillTp * pp));
  const rd = Math.floor(decodeGpus / (tp * pp));
  const transfer = transferSeconds(model, gpu, kvBits, q.isl, p);
  const fixed = (n) => Array.from({ length: n }, (_, i) => ({ id: i, arrival: 0.0, input_tokens: q.isl,
    output_tokens: q.osl }));
  const given = q.mode === "rate" && Array.isArray(q.workload) ? q.workload : null;
  const stream = (rate) => (rate === null ? fixed(q.requests ?? 1000) : given ?? workload(q.requests ?? 1000, rate,
    { kind: "fixed", mean: q.isl }, { kind: "fixed", mean: q.osl }, "poisson", 4.0, 0));
  const run = (rate) => runPools(stream(rate), costP, cfgP, rp, costD, cfgD, rd, transfer).records;
  const result = { feasible: true, reasons, setup, kv_cache_tokens: dec.tokens,
    notes: [`KV transfer ${pyComma(transfer * 1e3, 2)} ms per request over ${linkClass(gpu)}`] };
  const extra = lookup(p.request_s, q.engine);
  let records;
  if (q.mode === "max-rate") {
    const probe = runPools(fixed(Math.min(q.requests ?? 512, 512)), costP, cfgP, rp, costD, cfgD, rd, transfer).records;
    const found = highestRate((rate) => ({ records: run(rate) }), summarize(probe).requestThroughput, q, extra);
    if (found === null) {
      Object.assign(result, none, { feasible: false });
      result.reasons.push("no request rate meets the SLOs: even a trickle of requests misses them");
      return result;
    }
    result.rate = found[0];
    records = found[1].records;
  } else {
    records = run(q.mode === "rate" ? q.rate : null);
  }
  if (!records.length) {
    Object.assign(result, none, { feasible: false });
    result.reasons.push("no request completed");
    return result;
  }
  const s = summarize(records);
  Object.assign(result, { ttft_s: stats(s.ttft, extra), tpot_s: stats(s.tpot),
    output_tokens_per_s: s.outputTokenThroughput, input_tokens_per_s: s.inputTokenThroughput,
    requests_per_s: s.requestThroughput });
  const attainment = sloAttainment(q, records, extra);
  if (attainment !== null) Object.assign(result, { slo_attainment: attainment, goodput_rps: attainment * s.requestThroughput });
  result.error_band = errorBand(data.perf.calibration, model, gpu, q.engine);
  const [basis, detail, measured] = basisFor(data.perf.calibration, data.perf.measured, model, gpu, q.engine, fmt, q,
    gpus, tp);
  Object.assign(result, { basis, basis_detail: detail, measured });
  result.notes.push("disaggregated serving was not among the fitted measurements: the band is that of the "
    + "colocated model, and the KV transfer is modelled, not measured");
  if (basis === "calibrated") {
    Object.assign(result, { basis: "estimated",
      basis_detail: `disaggregation extrapolated from colocated measurements; ${detail}` });
  }
  return result;
}

/** Whether a run meets the load's SLOs at its percentile, TTFT with the engine's request time (Python `_meets`). */
function meets(q, records, requestS) {
  const ttfts = records.map((r) => r.firstToken - r.arrival + requestS);
  const tpots = records.filter((r) => r.outputTokens >= 2)
    .map((r) => (r.finish - r.firstToken) / (r.outputTokens - 1));
  const pct = q.percentile ?? 99.0;
  let ok = true;
  if (q.slo_ttft_s != null) ok = ok && percentile(ttfts, pct) <= q.slo_ttft_s;
  if (q.slo_tpot_s != null && tpots.length) ok = ok && percentile(tpots, pct) <= q.slo_tpot_s;
  return ok;
}

/**
 * Bisection (geometric, MAX_RATE_STEPS at most) on the Poisson rate between 1/1000 and 1.2 times the
 * offline request rate: [the highest rate whose run meets the SLOs, that run], or null when even the
 * lowest misses them (Python `predict.highest_rate`).
 * @param {(rate: number) => {records: object[]}} run
 * @returns {[number, {records: object[]}] | null}
 */
export function highestRate(run, offlineRps, q, requestS) {
  let high = offlineRps * 1.2;
  let low = high / 1000;
  const lowRun = run(low);
  if (!lowRun.records.length || !meets(q, lowRun.records, requestS)) return null;
  /** @type {[number, {records: object[]}]} */
  let best = [low, lowRun];
  for (let i = 0; i < MAX_RATE_STEPS; i++) {
    const mid = Math.sqrt(low * high);
    const trial = run(mid);
    if (trial.records.length && meets(q, trial.records, requestS)) {
      low = mid;
      best = [mid, trial];
    } else high = mid;
    if (high / low < 1.01) break;
  }
  return best;
}

/** The extensions `predict` takes as its `more` argument (the deployment planner passes them to `plan`). */
export const MORE = { speculation, speculativeStep, highestRate, predictDisaggregated };

/** `predict` with speculative decoding, the highest rate under objectives and disaggregation. */
export function predictMore(data, q) {
  return predict(data, q, MORE);
}
