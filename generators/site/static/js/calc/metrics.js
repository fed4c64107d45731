// Port of inferbook/calc/metrics.py: percentiles, latency distributions and the summary of a run.
import { sum } from "./builtins.js";

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
