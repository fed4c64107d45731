// Port of inferbook/calc/simulator.py: workloads (own PRNG) and static, dynamic and continuous batching.
import { DEFAULT_LENGTHS, DEFAULT_SIM_CONFIG } from "./constants.js";
import { compareTuples, roundHalfEven, sum } from "./builtins.js";
import { distribution, summarize } from "./metrics.js";
import { stepSeconds } from "./roofline.js";

/** @typedef {import("./metrics.js").Distribution} Distribution */
/** @typedef {import("./metrics.js").Slo} Slo */
/** @typedef {import("./roofline.js").StepModel} StepModel */

/**
 * Scheduler settings (Python `SimConfig`); missing fields take `DEFAULT_SIM_CONFIG` (constants.js,
 * Python's defaults).
 * @typedef {object} SimConfig
 * @property {"static"|"dynamic"|"continuous"} [policy]
 * @property {number} [max_batch] Most sequences in a batch.
 * @property {number} [max_batched_tokens] Token budget of one step.
 * @property {boolean} [chunked_prefill]
 * @property {number} [kv_capacity_tokens] KV-cache capacity in tokens.
 * @property {number} [batch_window_s] How long a dynamic batch waits.
 * @property {boolean} [closed_loop] A closed loop of clients: a request arrives when admitted.
 * @property {number} [lockstep_ranks] Attention-DP ranks that step together.
 * @property {boolean} [reserve_full_length] Admission reserves the whole prompt and output.
 */

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

/**
 * Draw one token length from a Python `Lengths` shape: {kind: "fixed"|"uniform"|"lognormal",
 * mean, low, high, sigma}, missing fields taking `DEFAULT_LENGTHS` (fixed: mean; uniform:
 * low..high; lognormal around mean, capped at high).
 * @param {object} lengths
 * @param {() => number} rng
 */
export function drawLength(lengths, rng) {
  const l = { ...DEFAULT_LENGTHS, ...lengths };
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
    outputTokens: r.output_tokens ?? r.outputTokens, prefilled: Boolean(r.prefilled),
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
    // a prefilled request (a disaggregated decode server's) brings its prompt's cache: only its last token runs
    this.waiting.push({
      req, prefillLeft: req.prefilled ? 1 : req.inputTokens, doneTokens: 0, firstToken: null, startStep: 0,
      ctxStart: 0, stint: 0,
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
      const held = seq.req.inputTokens + seq.doneTokens; // a prefilled request brings its cache along
      const full = seq.req.inputTokens + seq.req.outputTokens;
      if (this.kvTokens() + held > cfg.kv_capacity_tokens) break;
      // TensorRT-LLM's GUARANTEED_NO_EVICT: the whole prompt and output are reserved on admission
      if (cfg.reserve_full_length && this.reserved + full > cfg.kv_capacity_tokens) break;
      // unchunked, a prompt over the budget runs whole beside the decodes, with no other prompt
      if (!cfg.chunked_prefill && need > budget && this.prefilling.length) break;
      this.waiting.shift();
      if (seq.admitted === undefined) seq.admitted = this.clock;
      this.prefilling.push(seq);
      this.kvUsed += held;
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
    // attention-DP ranks in lockstep, timed by the busiest: its share of the decodes, and of the prompt
    // chunks a share too but never less than the largest chunk (Python `SimConfig.lockstep_ranks`)
    const r = cfg.lockstep_ranks;
    const dec = this.nDec / r;
    let f = 1.0;
    if (chunks.length) {
      let largest = 0;
      for (const [, t] of chunks) largest = Math.max(largest, t);
      f = Math.max(largest / (tokens - this.nDec), 1 / r);
    }
    const dt = stepSeconds(model, (tokens - this.nDec) * f + dec, dec + finished * f,
      spanFull * f + (ctxSum + this.nDec) / r, this.window ? spanWin * f + (winCtx + this.nDec) / r : 0.0,
      ctxSum / r, winCtx / r, dec + chunks.length * f);
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
