// The deployment planner (`inferbook plan`) for the site's "Deployment planner" tool, ported from
// inferbook/calc/plan.py, steady_state.py, pricing.py and launch.py. Same enumeration, same screen,
// same arithmetic: tests/test_js_plan.py checks whole plans against Python's.
//
// The simulator's Poisson arrivals come from calc.js's generator; the parity tests hand in Python's
// own draws (`data.exponentials`) so that whole plans can be compared exactly.
// Prefill-decode disaggregation is tried (`space.disaggregation`) only when the caller passes
// predict_more.js's `MORE`, which times the two pools; the planner's page loads it on demand.

import {
  checkSetup, feasibilitySummary, isMoeLayer, kvDtypeBits, nativeGroups, pyFixed, workload as drawWorkload,
} from "./calc.js";
import { engineDefaults, predict, stepCost } from "./predict.js";
import {
  ATTENTION_DP_ENGINES, DEFAULT_MAX_GPUS, DISAGGREGATION_TRIES, ENGINE_ALIASES, ENGINES, FINALISTS, FRONTIER_FINALISTS,
  IDLE_RATE, KV_DTYPES, LAUNCH_ENGINES, MAX_EXTRA_REPLICAS, PERCENTILES, PORT, PP_SIZES, PRICINGS, ROOT_STEPS,
  SIM_REQUESTS, STALE_AFTER_DAYS, TP_SIZES, USERS_BISECTION_STEPS, USERS_TOLERANCE,
} from "./calc/constants.js";

export {
  DEFAULT_MAX_GPUS, DISAGGREGATION_TRIES, ENGINE_ALIASES, ENGINES, FINALISTS, FRONTIER_FINALISTS, IDLE_RATE, KV_DTYPES,
  LAUNCH_ENGINES,
  MAX_EXTRA_REPLICAS, PERCENTILES, PORT, PP_SIZES, PRICINGS, ROOT_STEPS, SIM_REQUESTS, STALE_AFTER_DAYS, TP_SIZES,
  USERS_BISECTION_STEPS, USERS_TOLERANCE,
};

/**
 * `n` requests with fixed lengths and Poisson arrivals at `rate` per second. With `exponentials`
 * (the tests pass Python's own draws of -log(1 - random()) for seed 0) the gaps are those draws over
 * the rate, so the arrivals are Python's; otherwise they come from calc.js's generator, which draws
 * other numbers from the same distribution.
 */
export function poissonWorkload(n, rate, isl, osl, exponentials = null) {
  if (exponentials === null || exponentials.length < n) {
    return drawWorkload(n, rate, { kind: "fixed", mean: isl }, { kind: "fixed", mean: osl }, "poisson", 4.0, 0);
  }
  const out = [];
  let t = 0.0;
  for (let i = 0; i < n; i++) {
    t += exponentials[i] / rate;
    out.push({ id: i, arrival: t, input_tokens: Math.max(1, isl), output_tokens: Math.max(1, osl) });
  }
  return out;
}

// === Python's text formatting ===

/** Python's `f"{x:g}"` (`precision` significant digits, trailing zeros dropped). */
export function pyG(x, precision = 6) {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const sign = x < 0 ? "-" : "";
  const a = Math.abs(x);
  const strip = (s) => (s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s);
  const exp = Number(a.toExponential(precision - 1).split("e")[1]);
  if (exp >= -4 && exp < precision) return sign + strip(pyFixed(a, precision - 1 - exp));
  const [mantissa, e] = a.toExponential(precision - 1).split("e");
  const digits = String(Math.abs(Number(e))).padStart(2, "0");
  return `${sign}${strip(mantissa)}e${Number(e) < 0 ? "-" : "+"}${digits}`;
}

/** Python's `round(x)` for a float: the nearest integer, ties to even. */
export function pyRoundInt(x) {
  let r = Math.round(x);
  if (r - x === 0.5 && r % 2 !== 0) r -= 1;
  return r;
}

/** Python's `str.title()` for ASCII words. */
function pyTitle(s) {
  return s.toLowerCase().replace(/(^|[^a-z])([a-z])/g, (_, before, letter) => before + letter.toUpperCase());
}

/** Python's `shlex.quote`: the word as is when it is safe, else in single quotes. */
export function shlexQuote(s) {
  if (!s) return "''";
  if (!/[^\w@%+=:,./-]/.test(s)) return s;
  return `'${s.replaceAll("'", "'\"'\"'")}'`;
}

export const shlexJoin = (words) => words.map(shlexQuote).join(" ");

// === steady state (steady_state.py) ===

function stepSeconds(cost, decoding, prompt, prompts, isl, osl) {
  const context = isl + osl / 2;
  const window = cost.window;
  const spanFull = prompt * isl / 2 + decoding * (context + 1);
  const kvFull = decoding * context;
  let spanWindow = 0.0;
  let kvWindow = 0.0;
  if (window !== null && window !== undefined) {
    spanWindow = prompt * Math.min(isl / 2, window) + decoding * (Math.min(context, window) + 1);
    kvWindow = decoding * Math.min(context, window);
  }
  return cost.seconds(decoding + prompt, decoding + prompts, spanFull, spanWindow, kvFull, kvWindow,
    decoding + prompts);
}

function stepMix(cost, engine, isl, osl, rate, tau) {
  const decoding = rate * Math.max(osl - 1, 0) * tau;
  const arriving = rate * tau;
  const room = engine.max_batched_tokens - decoding;
  let stepsPerPrompt = 1;
  if (engine.chunked_prefill) {
    if (room < 1 || arriving * isl > room) return null;
    stepsPerPrompt = Math.ceil(isl / room);
  }
  const fraction = Math.min(1.0, arriving * stepsPerPrompt);
  const prompts = fraction > 0 ? arriving / fraction : 0.0;
  const tokens = fraction > 0 ? arriving * isl / fraction : 0.0;
  const ranks = engine.lockstep_ranks ?? 1;
  const share = decoding / ranks; // one attention-DP group's decodes
  // the busiest group's prompts: a share of them, but at least one prompt's chunk (Python steady_state._mix)
  const spread = prompts > 0 ? Math.min(1.0, Math.max(1 / prompts, 1 / ranks)) : 1.0;
  const decodeS = stepSeconds(cost, share, 0.0, 0.0, isl, osl);
  const prefillS = fraction > 0 ? stepSeconds(cost, share, tokens * spread, prompts * spread, isl, osl) : decodeS;
  return { decode_s: decodeS, prefill_s: prefillS, prefill_fraction: fraction, decoding,
    steps_per_prompt: stepsPerPrompt, mean_s: (1 - fraction) * decodeS + fraction * prefillS };
}

/**
 * The steady state of one stream at `rate` requests per second (Python `steady_state.operating_point`):
 * {rate, step_s, ttft_s, decoding, prefill_share}, or null when the engine cannot keep up.
 * @param {object} engine {max_batch, max_batched_tokens, kv_tokens, chunked_prefill, request_s, lockstep_ranks
 *   (attention-DP groups stepping together; default 1)}
 */
export function operatingPoint(cost, engine, isl, osl, rate) {
  if (rate <= 0 || isl < 1 || osl < 1) throw new Error("rate, isl and osl must be positive");
  const maxDecoding = Math.min(engine.max_batch, engine.kv_tokens / (isl + osl));
  if (maxDecoding < 1) return null;
  const tauHi = osl > 1 ? maxDecoding / (rate * (osl - 1)) : 1e6;
  const gap = (tau) => {
    const mix = stepMix(cost, engine, isl, osl, rate, tau);
    return mix === null ? Infinity : mix.mean_s - tau;
  };
  const first = stepMix(cost, engine, isl, osl, rate, 0.0);
  if (first === null) return null;
  let lo = first.mean_s;
  let hi = tauHi;
  if (lo >= hi) return null;
  let fLo = gap(lo);
  let fHi = gap(hi);
  if (fHi > 0) return null;
  // regula falsi with the Illinois rule: the root of gap between lo (gap >= 0) and hi (gap <= 0)
  let side = 0;
  for (let n = 0; n < ROOT_STEPS; n++) {
    if (hi - lo <= 1e-9 * hi || fLo === 0) break;
    let mid = (lo * fHi - hi * fLo) / (fHi - fLo);
    if (!(lo < mid && mid < hi)) mid = (lo + hi) / 2;
    const fMid = gap(mid);
    if (fMid > 0) {
      lo = mid;
      fLo = fMid;
      if (side === 1) fHi /= 2;
      side = 1;
    } else {
      hi = mid;
      fHi = fMid;
      if (side === -1) fLo /= 2;
      side = -1;
    }
  }
  if (fLo === 0) hi = lo;
  const mix = stepMix(cost, engine, isl, osl, rate, hi);
  const share = mix.prefill_fraction * (mix.prefill_s - mix.decode_s) / mix.mean_s;
  const ttft = engine.request_s + 0.5 * mix.mean_s + mix.steps_per_prompt * mix.prefill_s;
  return { rate, step_s: mix.mean_s, ttft_s: ttft, decoding: mix.decoding,
    prefill_share: Math.min(Math.max(share, 0.0), 1.0) };
}

// === pricing (pricing.py, schema/offers.py) ===

/** GPU counts one machine of the offer can be rented with, smallest first. */
export function offerCounts(offer) {
  return [...new Set([...(offer.rentable_counts ?? []), offer.gpu_count])].sort((a, b) => a - b);
}

/** Price of one GPU for one hour under `pricing`, or null when not published. */
export const gpuHourUsd = (offer, pricing) => offer.gpu_hour_usd[pricing] ?? null;

const domainGpus = (gpu) => gpu.interconnect?.domain_gpus || 1;

/** GPUs one scale-up link joins inside a machine of `size` GPUs of this offer. */
export function linkedGpus(offer, gpu, size) {
  if (offer.linked_gpus !== null && offer.linked_gpus !== undefined) return Math.min(offer.linked_gpus, size);
  return Math.min(domainGpus(gpu), size);
}

/** Whether one TP x PP group fits a machine of `size` GPUs with its TP inside the link. */
export function groupFits(offer, gpu, tp, pp, size) {
  if (tp * pp > size) return false;
  return domainGpus(gpu) === 1 || tp <= linkedGpus(offer, gpu, size);
}

/**
 * The cheapest machines of `offer` that hold `replicas` groups of tp x pp GPUs (Python
 * `pricing.machines_for`): {offer, sizes, usd_per_hour, replicas, gpus}, or null.
 */
export function machinesFor(offer, gpu, tp, pp, replicas, pricing = "on_demand", maxGpus = null) {
  const perGpu = gpuHourUsd(offer, pricing);
  if (perGpu === null || replicas < 1) return null;
  const group = tp * pp;
  const sizes = offerCounts(offer).filter((s) => groupFits(offer, gpu, tp, pp, s));
  if (!sizes.length) return null;
  const largest = sizes[sizes.length - 1];
  const perLargest = Math.floor(largest / group);
  const full = Math.floor(replicas / perLargest);
  const rest = replicas % perLargest;
  const chosen = new Array(full).fill(largest);
  if (rest) chosen.push(sizes.find((s) => Math.floor(s / group) >= rest));
  const total = chosen.reduce((a, b) => a + b, 0);
  if (maxGpus !== null && total > maxGpus) return null;
  const held = chosen.reduce((a, s) => a + Math.floor(s / group), 0);
  return { offer, sizes: chosen, usd_per_hour: perGpu * total, replicas: held, gpus: total };
}

/** The machines in words, e.g. "2 x p5.48xlarge" (Python `Machines.describe`). */
export function describeMachines(m) {
  const counts = new Map();
  for (const size of m.sizes) counts.set(size, (counts.get(size) ?? 0) + 1);
  const sized = counts.size > 1 || (m.offer.rentable_counts ?? []).length > 0;
  return [...counts.entries()].sort((a, b) => b[0] - a[0])
    .map(([size, n]) => `${n} x ${m.offer.instance}` + (sized ? ` (${size} GPUs)` : "")).join(" + ");
}

const dayNumber = (iso) => {
  const [y, m, d] = iso.split("-").map(Number);
  return Date.UTC(y, m - 1, d) / 86400000;
};

/** Days since the offer's price was checked, to `today` ("YYYY-MM-DD"). */
export const priceAgeDays = (offer, today) => dayNumber(today) - dayNumber(offer.checked);

/** Whether the offer's price is older than `STALE_AFTER_DAYS` on `today`. */
export const isStale = (offer, today) => priceAgeDays(offer, today) > STALE_AFTER_DAYS;

/** Today's date where the browser is, "YYYY-MM-DD" (Python `dt.date.today()`). */
export function localToday() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

// === the knowledge base ===

/** Entry ids in the knowledge base's order: its loader reads `<id>.yaml` files sorted by name. */
export function kbOrder(ids) {
  const key = (id) => `${id}.yaml`;
  return [...ids].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Why `engine` does not run on `gpu` (its framework's accelerator vendors), or null (Python `engine_unsupported`). */
export function engineUnsupported(data, engine, gpu) {
  const fw = (data.frameworks ?? {})[engine];
  if (!fw || !fw.accelerator_vendors.length || fw.accelerator_vendors.includes(gpu.vendor)) return null;
  const vendor = gpu.vendor.length <= 3 ? gpu.vendor.toUpperCase() : pyTitle(gpu.vendor);
  return `${fw.title} does not run on ${vendor} accelerators such as the ${gpu.title} `
    + `(it runs on: ${fw.hardware.join(", ")})`;
}

const lookup = (table, key) => (key in table ? table[key] : table["*"]);

/** Bits per KV element: as asked, else the engine's rule for "auto" (Python `predict.kv_bits_for`). */
export function kvBitsFor(data, fmt, kvDtype, engine) {
  if (kvDtype !== null && kvDtype !== undefined && kvDtype !== "auto") return kvDtypeBits(kvDtype, data.formats);
  const checkpointKv = fmt.id.startsWith("fp8") || fmt.id === "nvfp4"; // ModelOpt exports FP8 KV scales with both
  if (data.perf.engines[engine].kv_dtype_fp8_checkpoint === true && checkpointKv) return 8.0;
  return 16.0;
}

/** [format, Hugging Face repository] of each checkpoint of `model` (Python `plan.weight_options`). */
export function weightOptions(data, model, allowed = []) {
  let found = [[data.formats[model.native_dtype], model.hf_repo]];
  for (const ckpt of model.quantized_checkpoints ?? []) {
    if (!found.some(([f]) => f.id === ckpt.format)) found.push([data.formats[ckpt.format], ckpt.hf_repo]);
  }
  if (allowed.length) {
    const unknown = allowed.filter((a) => !(a in data.formats));
    if (unknown.length) {
      throw new Error(`unknown weight format(s) ${unknown.join(", ")}; see \`inferbook list formats\``);
    }
    const keep = new Set(allowed.map((a) => data.formats[a].id));
    found = found.filter(([f]) => keep.has(f.id));
  }
  return found;
}

// === the search (plan.py) ===

/**
 * [tp, pp, ep, attention_dp] of every split tried (Python `plan._layouts`): a MoE model's experts
 * also in expert parallelism, and then, without pipeline stages, attention data-parallel over the
 * whole TP group on engines other than llama.cpp.
 */
function* layouts(model, largest, engine) {
  const arch = model.architecture;
  let moe = false;
  if (arch.moe) for (let i = 0; i < arch.layers && !moe; i++) moe = isMoeLayer(arch, i);
  for (const tp of TP_SIZES) {
    for (const pp of PP_SIZES) {
      if (tp * pp > largest) continue;
      for (const ep of moe && tp > 1 ? [1, tp] : [1]) {
        for (const dp of ep > 1 && pp === 1 && ATTENTION_DP_ENGINES.includes(engine) ? [1, tp] : [1]) {
          yield [tp, pp, ep, dp];
        }
      }
    }
  }
}

/** One replica's configuration in words (Python `Shape.describe`). */
export function describeShape(s) {
  const split = `TP${s.tp}` + (s.pp > 1 ? ` PP${s.pp}` : "") + (s.ep > 1 ? ` EP${s.ep}` : "")
    + (s.attention_dp > 1 ? ` attention-DP${s.attention_dp}` : "");
  return `${s.model.id} ${s.weights.id} on ${s.gpu.id}, ${split}, KV ${s.kv_dtype} (${pyG(s.kv_bits)}-bit), ${s.engine}`;
}

/** A candidate's figure at percentile `q` ("ttft_s" or "tpot_s"), or null before it is simulated. */
function statAt(c, key, q) {
  const stats = c.prediction ? c.prediction[key] : null;
  if (!stats) return null;
  const field = { 50: "p50", 90: "p90", 95: "p95", 99: "p99" }[q];
  return field === undefined ? null : stats[field];
}

export const ttftAt = (c, q) => statAt(c, "ttft_s", q);
export const tpotAt = (c, q) => statAt(c, "tpot_s", q);

/** The simulated latency at percentile `q` (TTFT + (osl - 1) TPOT), or the estimate's mean. */
export function latencyAt(c, q, osl) {
  const ttft = ttftAt(c, q);
  const tpot = tpotAt(c, q);
  if (ttft === null || tpot === null) return c.estimate.ttft_s + (osl - 1) * c.estimate.step_s;
  return ttft + (osl - 1) * tpot;
}

/** Whether the simulated candidate meets the targets at their percentile. */
export function meets(c, targets) {
  const ttft = ttftAt(c, targets.percentile);
  const tpot = tpotAt(c, targets.percentile);
  return c.prediction !== null && c.prediction.feasible && ttft !== null && tpot !== null
    && ttft <= targets.ttft_s && tpot <= targets.tpot_s;
}

/**
 * [input, output] USD per million tokens at the served rate: prefill's share of the step time to input, or for
 * a disaggregated candidate its prefill pool's share of the GPUs (Python `Candidate.input_share`).
 */
export function usdPerMillion(c, isl, osl) {
  const share = c.disaggregation ? c.disaggregation.prefill_gpus / c.machines.gpus : c.estimate.prefill_share;
  const perS = c.machines.usd_per_hour / 3600;
  return [perS * share / (c.rate * isl) * 1e6, perS * (1 - share) / (c.rate * osl) * 1e6];
}

/** The candidate in words (Python `Candidate.describe`). */
export function describeCandidate(c) {
  const dis = c.disaggregation;
  return `${describeShape(c.shape)}, ${c.machines.replicas} replica(s) on ${describeMachines(c.machines)}`
    + (dis ? `, disaggregated: ${dis.prefill_gpus} prefill + ${c.machines.gpus - dis.prefill_gpus} decode GPUs` : "");
}

function candidate(shape, machines, rate, estimate, stale, disaggregation = null) {
  return { shape, machines, rate, estimate, prediction: null, stale_price: stale, disaggregation };
}

function arrivalRate(workload, latency) {
  if (workload.rate !== null && workload.rate !== undefined) return workload.rate;
  return workload.users / Math.max(workload.think_time_s + latency, 1e-9);
}

const byUsers = (w) => w.users !== null && w.users !== undefined;

function screenShape(data, shape, workload) {
  const { model, gpu, weights: fmt } = shape;
  const unsupported = engineUnsupported(data, shape.engine, gpu);
  if (unsupported !== null) return [null, unsupported];
  const defaults = engineDefaults(data.perf.engines[shape.engine], gpu, shape.tp, shape.pp);
  const groups = fmt.id === model.native_dtype ? nativeGroups(model, data.formats) : {};
  const hasGroups = Object.keys(groups).length > 0;
  const kvFormat = shape.kv_dtype !== "auto" ? (data.formats[shape.kv_dtype] ?? null) : null;
  const check = checkSetup({
    model, gpu, weights: fmt, kv: kvFormat, kv_bits: shape.kv_bits, tp: shape.tp, pp: shape.pp, ep: shape.ep,
    gpus: shape.tp * shape.pp, context: workload.isl + workload.osl, sequences: 1, mode: "concurrency",
    engine: { name: defaults.name, config: defaults.config }, groups: hasGroups ? groups : null,
    attention_dp: shape.attention_dp,
  });
  if (!check.feasible || !check.capacity) return [null, feasibilitySummary(check)];
  let cost;
  try {
    cost = stepCost({ arch: model.architecture, gpu, fmt, kvBits: shape.kv_bits, tp: shape.tp, pp: shape.pp,
      ep: shape.ep, engine: shape.engine, groups: hasGroups ? groups : null, attentionDp: shape.attention_dp },
    data.perf.params);
  } catch (err) { // the GPU entry lacks the throughput a step is timed with
    return [null, `its speed cannot be predicted: ${err.message}`];
  }
  // attention-DP groups each hold their own batch, token budget and KV cache (as `predict` sizes them)
  const ranks = shape.attention_dp;
  const engine = { max_batch: defaults.max_num_seqs * ranks, max_batched_tokens: defaults.max_num_batched_tokens * ranks,
    kv_tokens: Math.floor(ranks * check.capacity.kvTokens / shape.pp), chunked_prefill: defaults.chunked_prefill,
    request_s: lookup(data.perf.params.request_s, shape.engine), lockstep_ranks: ranks };
  return [{ shape, cost, engine, streams_per_replica: shape.pp, estimates: new Map() }, null];
}

function estimate(s, workload, replicas) {
  if (!s.estimates.has(replicas)) s.estimates.set(replicas, estimateUncached(s, workload, replicas));
  return s.estimates.get(replicas);
}

/**
 * (rate, steady state of one stream) with `replicas` replicas, or null (Python `plan._estimate`):
 * users send users / (think + latency(rate)), bisected between nothing and the rate at zero-load
 * latency; when the engine saturates first, the users' wait is added to TTFT.
 */
function estimateUncached(s, workload, replicas) {
  const streams = replicas * s.streams_per_replica;
  const { isl, osl } = workload;
  if (!byUsers(workload)) {
    const point = operatingPoint(s.cost, s.engine, isl, osl, workload.rate / streams);
    return point === null ? null : [workload.rate, point];
  }
  const latency = (p) => p.ttft_s + (osl - 1) * p.step_s;
  const idle = operatingPoint(s.cost, s.engine, isl, osl, IDLE_RATE);
  if (idle === null) return null;
  let low = 0.0;
  let high = arrivalRate(workload, latency(idle));
  let best = null;
  for (let n = 0; n < USERS_BISECTION_STEPS; n++) {
    const mid = (low + high) / 2;
    const p = operatingPoint(s.cost, s.engine, isl, osl, mid / streams);
    if (p !== null && mid <= arrivalRate(workload, latency(p))) {
      low = mid;
      best = p;
    } else {
      high = mid;
    }
    if (high - low <= USERS_TOLERANCE * high) break;
  }
  if (best === null) return null;
  const waiting = Math.max(workload.users / low - workload.think_time_s - latency(best), 0.0);
  return [low, { ...best, ttft_s: best.ttft_s + waiting }];
}

const meetsEstimate = (point, targets) => point.ttft_s <= targets.ttft_s && point.step_s <= targets.tpot_s;

function fewestReplicas(s, workload, targets, most) {
  if (most < 1) return null;
  const top = estimate(s, workload, most);
  if (top === null || !meetsEstimate(top[1], targets)) return null;
  let lo = 0;
  let hi = most;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const found = estimate(s, workload, mid);
    if (found !== null && meetsEstimate(found[1], targets)) hi = mid;
    else lo = mid;
  }
  return hi;
}

const compare = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** Candidates no other beats on both hourly cost and latency, cheapest first (Python `_pareto`). */
export function pareto(cands, q, osl) {
  const keyed = cands.map((c) => [c.machines.usd_per_hour, latencyAt(c, q, osl), describeShape(c.shape), c]);
  keyed.sort((a, b) => compare(a[0], b[0]) || compare(a[1], b[1]) || compare(a[2], b[2]));
  const front = [];
  let best = Infinity;
  for (const [, lat, , c] of keyed) {
    if (lat < best - 1e-12) {
      front.push(c);
      best = lat;
    }
  }
  return front;
}

function price(s, gpuOffers, workload, targets, space, today, rejected) {
  const shape = s.shape;
  const group = shape.tp * shape.pp;
  const most = Math.floor(space.max_gpus / group);
  const fewest = fewestReplicas(s, workload, targets, most);
  if (fewest === null) {
    rejected.push({ what: describeShape(shape), reason: `even ${most} replica(s) (${most * group} GPUs, the most `
      + "allowed) are estimated to miss the targets or fall behind" });
    return [];
  }
  const found = [];
  for (const offer of gpuOffers) {
    const machines = machinesFor(offer, shape.gpu, shape.tp, shape.pp, fewest, space.pricing, space.max_gpus);
    if (machines === null) continue;
    const est = estimate(s, workload, machines.replicas);
    if (est === null) continue;
    found.push(candidate(shape, machines, est[0], est[1], isStale(offer, today)));
  }
  if (!found.length) {
    rejected.push({ what: describeShape(shape), reason: "no offer rents a machine that holds this group within "
      + `--max-gpus ${space.max_gpus}` });
  }
  return found;
}

/**
 * The load of one finalist's simulation (Python `plan._simulate`), with the Poisson arrivals of
 * one stream (a replica, or a pipeline's micro-batch stream) as Python's `predict` draws them.
 */
export function simulationQuestion(c, workload, targets, exponentials = null) {
  const s = c.shape;
  const dis = c.disaggregation;
  // disaggregated: every GPU rented, split into the two pools, which share the whole deployment's requests
  const gpus = dis ? c.machines.gpus : c.machines.replicas * s.tp * s.pp;
  const q = { model: s.model.id, gpu: s.gpu.id, gpus, tp: s.tp, pp: s.pp, ep: s.ep, weights: s.weights.id,
    kv_dtype: s.kv_dtype === "auto" ? null : s.kv_dtype, engine: s.engine, isl: workload.isl, osl: workload.osl,
    requests: SIM_REQUESTS, slo_ttft_s: targets.ttft_s, slo_tpot_s: targets.tpot_s, percentile: targets.percentile,
    attention_dp: s.attention_dp, ...(dis ? { prefill_gpus: dis.prefill_gpus, prefill_tp: dis.prefill_tp } : {}) };
  if (byUsers(workload) && workload.think_time_s === 0) return { ...q, mode: "concurrency", concurrency: workload.users };
  const streams = dis ? 1 : Math.floor(gpus / (s.tp * s.pp)) * s.pp;
  const rate = streams > 1 ? c.rate / streams : c.rate;
  const n = streams > 1 ? Math.max(1, Math.ceil(SIM_REQUESTS / streams)) : SIM_REQUESTS;
  return { ...q, mode: "rate", rate: c.rate,
    workload: poissonWorkload(n, rate, workload.isl, workload.osl, exponentials) };
}

/**
 * The same machine split into a prefill pool and a decode pool, each split that meets the targets
 * (Python `plan._disaggregated`); every split simulated is added to `simulated`.
 */
function disaggregated(data, c, workload, targets, simulated, more) {
  const found = [];
  const s = c.shape;
  // both pools sit in one machine, so the KV cache crosses the scale-up link the model times;
  // attention data parallelism is modelled for colocated serving only
  if (c.machines.replicas < 2 || s.pp > 1 || c.machines.sizes.length > 1 || s.attention_dp > 1) return found;
  const group = s.tp * s.pp;
  for (let prefillGroups = 1; prefillGroups < c.machines.replicas; prefillGroups++) {
    const trial = candidate(s, c.machines, c.rate, c.estimate, c.stale_price,
      { prefill_gpus: prefillGroups * group, prefill_tp: s.tp });
    try {
      trial.prediction = predict(data, simulationQuestion(trial, workload, targets, data.exponentials ?? null), more);
    } catch { // a load the pools are not modelled for (Python's PredictError)
      continue;
    }
    simulated.push(trial);
    if (meets(trial, targets)) found.push(trial);
  }
  return found;
}

function settle(data, c, workload, targets, space) {
  const shape = c.shape;
  for (let extra = 0; extra <= MAX_EXTRA_REPLICAS; extra++) {
    if (extra) {
      const machines = machinesFor(c.machines.offer, shape.gpu, shape.tp, shape.pp, c.machines.replicas + 1,
        space.pricing, space.max_gpus);
      if (machines === null) return null;
      c = candidate(shape, machines, c.rate, c.estimate, c.stale_price);
    }
    c.prediction = predict(data, simulationQuestion(c, workload, targets, data.exponentials ?? null));
    if (meets(c, targets)) return c;
  }
  return null;
}

function checkQuestion(workload, targets, space) {
  const { isl, osl, rate, users } = workload;
  const think = workload.think_time_s ?? 0;
  if (!(isl >= 1 && osl >= 1)) throw new Error("--isl and --osl must each be at least 1");
  const hasRate = rate !== null && rate !== undefined;
  if (hasRate === byUsers(workload)) throw new Error("give either --rate or --users");
  if (hasRate && !(rate > 0 && rate <= 1e6)) {
    throw new Error("--rate must be above 0 and at most 10^6 requests per second");
  }
  if (byUsers(workload) && !(users >= 1 && users <= 10_000_000)) throw new Error("--users must be between 1 and 10^7");
  if (!(think >= 0 && think <= 86_400)) throw new Error("--think-time must be between 0 and 86,400 seconds");
  if (!(targets.ttft_s > 0 && targets.ttft_s <= 3600 && targets.tpot_s > 0 && targets.tpot_s <= 60)) {
    throw new Error("--slo-ttft must be in (0, 3600] and --slo-tpot in (0, 60] seconds");
  }
  if (!PERCENTILES.includes(targets.percentile)) {
    throw new Error(`--percentile must be one of ${PERCENTILES.map((p) => pyG(p)).join(", ")}`);
  }
  if (!(space.max_gpus >= 1 && space.max_gpus <= 1024)) throw new Error("--max-gpus must be between 1 and 1024");
}

/**
 * Search the configurations of `models` that serve `workload` within `targets` (Python `plan.plan`).
 * Disaggregated splits are tried when `space.disaggregation` is set, which needs `more`.
 * @param {object} data Tools data (models, gpus, formats, perf, offers, frameworks).
 * @param {string[]} models Model ids.
 * @param {object} workload {isl, osl, rate} or {isl, osl, users, think_time_s}.
 * @param {object} targets {ttft_s, tpot_s, percentile (50, 90, 95 or 99; default 95)}.
 * @param {object} [space] {gpus (ids; empty: all), max_gpus, engines, weights, kv_dtypes, pricing,
 *   disaggregation (default false)}.
 * @param {string} [today] "YYYY-MM-DD" for stale prices; default the browser's date.
 * @param {import("./predict.js").PredictMore|null} [more] predict_more.js's `MORE`, for disaggregation.
 * @returns {{workload, targets, space, frontier: object[], simulated: object[], rejected: {what: string,
 *   reason: string}[], unpriced: string[], stale_offers: string[], shapes: number}}
 */
export function plan(data, models, workload, targets, space = {}, today = null, more = null) {
  workload = { rate: null, users: null, think_time_s: 0.0, ...workload };
  targets = { percentile: 95, ...targets };
  space = { gpus: [], max_gpus: DEFAULT_MAX_GPUS, engines: ["vllm"], weights: [], kv_dtypes: [...KV_DTYPES],
    pricing: "on_demand", disaggregation: false, ...space };
  if (space.disaggregation && !more) throw new Error("disaggregated serving needs predict_more.js's MORE");
  today = today ?? localToday();
  checkQuestion(workload, targets, space);
  const chosen = models.map((mid) => {
    if (!(mid in data.models)) throw new Error(`unknown model '${mid}'; see \`inferbook list models\``);
    return data.models[mid];
  });
  if (!chosen.length) throw new Error("name at least one model");
  const engines = space.engines.map((e) => ENGINE_ALIASES[e] ?? e);
  for (const e of engines) {
    if (!ENGINES.includes(e)) throw new Error(`unknown engine '${e}'; use one of ${ENGINES.join(", ")}`);
  }
  for (const kv of space.kv_dtypes) {
    if (kv !== "auto" && !(kv in data.formats)) {
      throw new Error(`unknown KV dtype '${kv}'; use auto or a format id such as fp8-e4m3`);
    }
  }
  if (!PRICINGS.includes(space.pricing)) throw new Error(`unknown pricing '${space.pricing}'`);
  const gpuIds = space.gpus.length ? [...space.gpus] : kbOrder(Object.keys(data.gpus));
  const missing = gpuIds.filter((g) => !(g in data.gpus));
  if (missing.length) throw new Error(`unknown GPU(s) ${missing.join(", ")}; see \`inferbook list gpus\``);
  const offers = new Map();
  for (const oid of kbOrder(Object.keys(data.offers))) {
    const offer = data.offers[oid];
    if (gpuHourUsd(offer, space.pricing) === null) continue;
    if (!offers.has(offer.gpu)) offers.set(offer.gpu, []);
    offers.get(offer.gpu).push(offer);
  }
  const unpriced = gpuIds.filter((g) => !offers.has(g)).sort(compare);
  const rejected = unpriced.map((g) => ({ what: g, reason: `no ${space.pricing.replace("_", "-")} offer for this GPU `
    + "in the knowledge base; add one in a private layer (--kb)" }));
  const stale = [...new Set(gpuIds.flatMap((g) => (offers.get(g) ?? []).filter((o) => isStale(o, today))
    .map((o) => o.id)))].sort(compare);

  const estimated = [];
  let shapes = 0;
  for (const model of chosen) {
    const formats = weightOptions(data, model, space.weights);
    for (const gid of gpuIds) {
      if (!offers.has(gid)) continue;
      const gpu = data.gpus[gid];
      const gpuOffers = offers.get(gid);
      const largest = Math.min(Math.max(...gpuOffers.map((o) => Math.max(...offerCounts(o)))), space.max_gpus);
      for (const engine of engines) {
        for (const [fmt, repo] of formats) {
          const seenBits = new Set();
          for (const kv of space.kv_dtypes) {
            const bits = kvBitsFor(data, fmt, kv, engine);
            if (seenBits.has(bits)) continue;
            seenBits.add(bits);
            for (const [tp, pp, ep, dp] of layouts(model, largest, engine)) {
              const shape = { model, gpu, engine, weights: fmt, checkpoint: repo, kv_dtype: kv, kv_bits: bits, tp,
                pp, ep, attention_dp: dp };
              shapes += 1;
              const [screened, why] = screenShape(data, shape, workload);
              if (screened === null) {
                rejected.push({ what: describeShape(shape), reason: why || "cannot run" });
                continue;
              }
              estimated.push(...price(screened, gpuOffers, workload, targets, space, today, rejected));
            }
          }
        }
      }
    }
  }
  const q = targets.percentile;
  const osl = workload.osl;
  const finalists = new Set(pareto(estimated, q, osl).slice(0, FRONTIER_FINALISTS));
  const byCost = estimated.map((c) => [c.machines.usd_per_hour, latencyAt(c, q, osl), c]);
  byCost.sort((a, b) => compare(a[0], b[0]) || compare(a[1], b[1]));
  for (const [, , c] of byCost) {
    if (finalists.size >= FINALISTS) break;
    finalists.add(c);
  }
  const simulated = [];
  for (const c of finalists) {
    const done = settle(data, c, workload, targets, space);
    if (done !== null) simulated.push(done);
    else {
      rejected.push({ what: describeCandidate(c), reason: `simulated, it misses the targets at the ${pyG(q)}th `
        + `percentile even with ${MAX_EXTRA_REPLICAS} more replicas` });
    }
  }
  const meeting = simulated.filter((c) => meets(c, targets));
  if (space.disaggregation) {
    for (const c of pareto(meeting, q, osl).slice(0, DISAGGREGATION_TRIES)) {
      meeting.push(...disaggregated(data, c, workload, targets, simulated, more));
    }
  }
  const frontier = pareto(meeting, q, osl);
  return { workload, targets, space, frontier, simulated, rejected, unpriced, stale_offers: stale, shapes };
}

/** One frontier row as Python's `Candidate.to_json` writes it. */
export function candidateJson(c, workload, targets) {
  const q = targets.percentile;
  const [usdIn, usdOut] = usdPerMillion(c, workload.isl, workload.osl);
  const s = c.shape;
  const p = c.prediction;
  const m = c.machines;
  return {
    model: s.model.id, checkpoint: s.checkpoint, gpu: s.gpu.id, engine: s.engine, weights: s.weights.id,
    kv_dtype: s.kv_dtype, kv_bits: s.kv_bits, tp: s.tp, pp: s.pp, ep: s.ep, attention_dp: s.attention_dp,
    replicas: m.replicas, gpus: m.gpus,
    disaggregation: c.disaggregation ? { prefill_gpus: c.disaggregation.prefill_gpus,
      prefill_tp: c.disaggregation.prefill_tp } : null,
    offer: m.offer.id, machines: [...m.sizes], provider: m.offer.provider,
    instance: m.offer.instance, usd_per_hour: m.usd_per_hour, usd_per_million_input: usdIn,
    usd_per_million_output: usdOut, price_checked: m.offer.checked, stale_price: c.stale_price, rate: c.rate,
    percentile: q, ttft_s: p?.ttft_s ?? null, tpot_s: p?.tpot_s ?? null, latency_s: latencyAt(c, q, workload.osl),
    goodput_rps: p && p.slo_attainment != null ? c.rate * p.slo_attainment : null,
    slo_attainment: p ? (p.slo_attainment ?? null) : null,
    meets_targets: meets(c, targets),
    estimate: { ttft_s: c.estimate.ttft_s, tpot_s: c.estimate.step_s, prefill_share: c.estimate.prefill_share },
    error_band: p?.error_band ?? null, basis: p ? p.basis : "none", basis_detail: p ? p.basis_detail : null,
    notes: p ? p.notes ?? [] : [],
  };
}

// === launch and benchmark commands (launch.py) ===

function kvFlag(engine, kvDtype) {
  if (kvDtype === "auto" || !kvDtype.startsWith("fp8")) return [];
  return { vllm: ["--kv-cache-dtype", "fp8"], sglang: ["--kv-cache-dtype", "fp8_e4m3"] }[engine] ?? [];
}

function replicasPerMachine(c) {
  let left = c.machines.replicas;
  const group = c.shape.tp * c.shape.pp;
  return c.machines.sizes.map((size) => {
    const here = Math.min(Math.floor(size / group), left);
    left -= here;
    return here;
  });
}

/** One server command per machine for `engine` (Python `launch.server_commands`). */
export function serverCommands(data, c, engine, workload) {
  const s = c.shape;
  const d = engineDefaults(data.perf.engines[engine], s.gpu, s.tp, s.pp);
  const context = String(workload.isl + workload.osl);
  const commands = [];
  const adp = s.attention_dp;
  for (const dp of replicasPerMachine(c)) {
    if (dp === 0) continue;
    let args;
    if (engine === "vllm") {
      args = ["vllm", "serve", s.checkpoint, "--tensor-parallel-size", String(s.tp / adp)];
      if (s.pp > 1) args.push("--pipeline-parallel-size", String(s.pp));
      if (dp > 1 || adp > 1) args.push("--data-parallel-size", String(adp > 1 ? adp : dp));
      if (s.ep > 1) args.push("--enable-expert-parallel");
      args.push(...kvFlag(engine, s.kv_dtype));
      args.push("--max-num-seqs", String(d.max_num_seqs), "--max-num-batched-tokens", String(d.max_num_batched_tokens),
        "--gpu-memory-utilization", pyG(d.memory_fraction), "--max-model-len", context, "--port", String(PORT));
      if (d.chunked_prefill) args.push("--enable-chunked-prefill");
    } else if (engine === "sglang") {
      args = ["python", "-m", "sglang.launch_server", "--model-path", s.checkpoint, "--tp", String(s.tp)];
      if (s.pp > 1) args.push("--pp-size", String(s.pp));
      if (adp > 1) args.push("--dp", String(adp), "--enable-dp-attention");
      else if (dp > 1) args.push("--dp", String(dp));
      if (s.ep > 1) args.push("--ep-size", String(s.ep));
      args.push(...kvFlag(engine, s.kv_dtype));
      // with attention DP both limits are the server's, which SGLang divides among the groups
      args.push("--mem-fraction-static", pyG(d.memory_fraction), "--max-running-requests",
        String(d.max_num_seqs * adp), "--chunked-prefill-size", String(d.max_num_batched_tokens * adp),
        "--context-length", context, "--host", "0.0.0.0", "--port", String(PORT));
    } else {
      args = ["trtllm-serve", s.checkpoint, "--backend", "pytorch", "--tp_size", String(s.tp)];
      if (s.pp > 1) args.push("--pp_size", String(s.pp));
      if (s.ep > 1) args.push("--ep_size", String(s.ep));
      args.push("--max_batch_size", String(d.max_num_seqs), "--max_num_tokens", String(d.max_num_batched_tokens),
        "--max_seq_len", context, "--kv_cache_free_gpu_memory_fraction", pyG(d.memory_fraction), "--host", "0.0.0.0",
        "--port", String(PORT));
      if (trtllmExtraOptions(data, c) !== null) args.push("--extra_llm_api_options", "extra.yaml");
    }
    let command = shlexJoin(args);
    if (dp > 1 && (engine === "tensorrt-llm" || adp > 1)) { // one server per group
      command = `# run ${dp} copies, one per group of ${s.tp * s.pp} GPUs (CUDA_VISIBLE_DEVICES), on ports `
        + `${PORT}-${PORT + dp - 1}, behind a load balancer\n${command}`;
    }
    commands.push(command);
  }
  return commands;
}

/** The `extra.yaml` TensorRT-LLM reads for the KV dtype, chunked prefill and attention DP, or null. */
export function trtllmExtraOptions(data, c) {
  const d = engineDefaults(data.perf.engines["tensorrt-llm"], c.shape.gpu, c.shape.tp, c.shape.pp);
  const lines = [];
  if (d.chunked_prefill) lines.push("enable_chunked_prefill: true");
  if (c.shape.attention_dp > 1) lines.push("enable_attention_dp: true");
  if (c.shape.kv_dtype.startsWith("fp8")) lines.push("kv_cache_config:", "  dtype: fp8");
  return lines.length ? `${lines.join("\n")}\n` : null;
}

/** How to run the prefill and decode pools, or null when not disaggregated (Python `launch.disaggregated_note`). */
export function disaggregatedNote(c) {
  if (!c.disaggregation) return null;
  const prefill = c.disaggregation.prefill_gpus;
  return `prefill pool: ${prefill} GPU(s) in groups of TP ${c.disaggregation.prefill_tp}; decode pool: `
    + `${c.machines.gpus - prefill} GPU(s) in groups of TP ${c.shape.tp}. vLLM: start each pool's servers with `
    + "--kv-transfer-config '{\"kv_connector\":\"NixlConnector\",\"kv_role\":\"kv_both\"}' behind a "
    + "prefill-then-decode proxy; SGLang: --disaggregation-mode prefill / decode with "
    + "--disaggregation-transfer-backend nixl and the sglang_router in --pd-disaggregation mode; "
    + "TensorRT-LLM: trtllm-serve disaggregated with a context and a generation server list";
}

/** `vllm bench serve` and `guidellm` commands that check the prediction (Python `launch.bench_commands`). */
export function benchCommands(c, workload, targets) {
  const url = `http://localhost:${PORT}`;
  const prompts = Math.max(200, Math.min(2000, pyRoundInt(c.rate * 300)));
  const closed = byUsers(workload) && workload.think_time_s === 0;
  const vllm = ["vllm", "bench", "serve", "--backend", "openai", "--base-url", url, "--endpoint", "/v1/completions",
    "--model", c.shape.checkpoint, "--dataset-name", "random", "--random-input-len", String(workload.isl),
    "--random-output-len", String(workload.osl), "--ignore-eos", "--num-prompts", String(prompts)];
  if (closed) vllm.push("--max-concurrency", String(workload.users));
  else vllm.push("--request-rate", pyG(c.rate, 4));
  const q = pyG(targets.percentile);
  vllm.push("--percentile-metrics", "ttft,tpot,e2el", "--metric-percentiles",
    q !== "50" && q !== "99" ? `50,${q},99` : "50,95,99", "--goodput", `ttft:${pyG(targets.ttft_s * 1000)}`,
    `tpot:${pyG(targets.tpot_s * 1000)}`);
  const guidellm = ["guidellm", "benchmark", "--target", url, "--data",
    `prompt_tokens=${workload.isl},output_tokens=${workload.osl}`, "--max-requests", String(prompts)];
  if (closed) guidellm.push("--rate-type", "concurrent", "--rate", String(workload.users));
  else guidellm.push("--rate-type", "poisson", "--rate", pyG(c.rate, 4));
  return [shlexJoin(vllm), shlexJoin(guidellm)];
}

/** The plan's answer as plain data: what to rent, run and expect (Python `launch.deployment`). */
export function deployment(data, c, workload, targets) {
  const s = c.shape;
  const row = candidateJson(c, workload, targets);
  const launch = {};
  for (const engine of [s.engine, ...LAUNCH_ENGINES.filter((e) => e !== s.engine)]) {
    if (LAUNCH_ENGINES.includes(engine) && engineUnsupported(data, engine, s.gpu) === null) {
      launch[engine] = serverCommands(data, c, engine, workload);
    }
  }
  const offer = c.machines.offer;
  const block = {
    model: s.model.id, checkpoint: s.checkpoint, weights: s.weights.id,
    hardware: { offer: offer.id, provider: offer.provider, instance: offer.instance, region: offer.region,
      machines: [...c.machines.sizes], gpu: s.gpu.id, gpus: c.machines.gpus },
    parallelism: { tp: s.tp, pp: s.pp, ep: s.ep, attention_dp: s.attention_dp, replicas: c.machines.replicas },
    kv_cache_dtype: s.kv_dtype, engine: s.engine,
    workload: { isl: workload.isl, osl: workload.osl, rate_rps: c.rate },
    expected: Object.fromEntries(["ttft_s", "tpot_s", "goodput_rps", "usd_per_hour", "usd_per_million_input",
      "usd_per_million_output", "error_band", "basis"].map((k) => [k, row[k]])),
    launch,
    benchmark: benchCommands(c, workload, targets),
  };
  const extra = trtllmExtraOptions(data, c);
  if (extra && "tensorrt-llm" in launch) block.tensorrt_llm_extra_yaml = extra;
  const note = disaggregatedNote(c);
  if (note) block.disaggregation = note;
  return block;
}
