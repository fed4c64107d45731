// Runs test vectors through generators/site/static/js/calc.js (with roofline.js and fit.js) and prints
// the results as JSON.
//
//   node tests/js_parity/run.mjs vectors.json > results.json
//
// The vector file holds the knowledge-base entries the vectors refer to
// ({models, gpus, formats}, each by id, as Python's model_dump(mode="json") writes
// them) and a list of vectors {id, fn, args}. Each result is {id, result} or
// {id, error} (the thrown message). Non-finite numbers are written as the strings
// "NaN", "Infinity" and "-Infinity", since JSON has no literal for them.

import { readFileSync } from "node:fs";
import * as calcModule from "../../generators/site/static/js/calc.js";
import * as fitModule from "../../generators/site/static/js/fit.js";
import * as rooflineModule from "../../generators/site/static/js/roofline.js";

/** calc.js with the modules split out of it (roofline.js, fit.js): the browser port of inferbook.calc. */
const calc = { ...calcModule, ...rooflineModule, ...fitModule };

const data = JSON.parse(readFileSync(process.argv[2], "utf8"));
const arch = (id) => data.models[id].architecture;
const gpu = (id) => data.gpus[id];
/** A GPU entry, with its scale-up domain replaced when `domain` is given (as the Python vectors do). */
const gpuWith = (id, domain) => (domain == null ? gpu(id)
  : { ...gpu(id), interconnect: { ...gpu(id).interconnect, domain_gpus: domain } });
const fmt = (id) => data.formats[id];
/** Per-group formats {group: format id} as Format JSON (null when none). */
const groupsOf = (groups) => (groups ? Object.fromEntries(Object.entries(groups).map(([k, id]) => [k, fmt(id)])) : null);

/** A Roofline from {model, gpu, format, kv_bits, tp, efficiency, groups}. */
function roofline(spec) {
  return new calc.Roofline(arch(spec.model), gpu(spec.gpu), fmt(spec.format), spec.kv_bits, spec.tp,
    spec.efficiency, groupsOf(spec.groups));
}

/** A step model: from a roofline spec, or coefficients given directly. */
function stepModelOf(spec) {
  return spec.roofline ? calc.stepModel(roofline(spec.roofline)) : spec.coefficients;
}

/** An engine profile from an EngineConfig dict (null: vLLM V1 defaults). */
const engineOf = (cfg) => (cfg == null ? calc.VLLM_V1 : { name: calc.VLLM_V1.name, config: cfg });

/** A Setup from the vector's arguments (Python field names, entries by id). */
function setupOf(a) {
  return {
    model: data.models[a.model], gpu: gpuWith(a.gpu, a.domain), weights: fmt(a.weights),
    kv: a.kv ? fmt(a.kv) : null, kv_bits: a.kv_bits, tp: a.tp, pp: a.pp, ep: a.ep, gpus: a.gpus,
    context: a.context, sequences: a.sequences, mode: a.mode, engine: engineOf(a.cfg), groups: groupsOf(a.groups),
    mtp: a.mtp ?? false, attention_dp: a.attention_dp ?? 1,
  };
}

const handlers = {
  countParams: (a) => calc.countParams(arch(a.model)),
  kvDtypeBits: (a) => calc.kvDtypeBits(a.dtype, a.with_formats ? data.formats : null),
  kvBytesPerToken: (a) => calc.kvBytesPerToken(arch(a.model), a.bits),
  kvBytes: (a) => calc.kvBytes(arch(a.model), a.tokens, a.bits, a.batch, a.tp, a.pp, a.state ?? false,
    a.state_bits ?? 16.0),
  stateBytesPerSequence: (a) => calc.stateBytesPerSequence(arch(a.model), a.state_bits, a.tp ?? 1),
  weightBytes: (a) => calc.weightBytes(arch(a.model), fmt(a.format), a.tp, a.pp, a.embedding_bits,
    groupsOf(a.groups), a.mtp ?? false),
  nativeWeightBytes: (a) => calc.nativeWeightBytes(data.models[a.model], data.formats, a.tp, a.pp, a.mtp ?? false),
  mtpParams: (a) => calc.mtpParams(arch(a.model)),
  imageTokens: (a) => calc.imageTokens(arch(a.model).vision, a.width, a.height, a.min_pixels ?? null,
    a.max_pixels ?? null),
  computeTflops: (a) => calc.computeTflops(gpu(a.gpu), fmt(a.format)),
  ridgePoint: (a) => calc.ridgePoint(gpu(a.gpu), fmt(a.format)),
  prefill: (a) => roofline(a.roofline).prefill(a.prompt, a.batch, a.cached),
  decodeStep: (a) => roofline(a.roofline).decodeStep(a.batch, a.context),
  decodeThroughput: (a) => roofline(a.roofline).decodeThroughput(a.batch, a.context),
  computeBoundBatch: (a) => roofline(a.roofline).computeBoundBatch(a.context),
  requestLatency: (a) => roofline(a.roofline).requestLatency(a.prompt, a.output, a.batch),
  expertsTouchedFraction: (a) => roofline(a.roofline).expertsTouchedFraction(a.tokens),
  stepModel: (a) => calc.stepModel(roofline(a.roofline)),
  stepSeconds: (a) => calc.stepSeconds(stepModelOf(a.step_model), ...a.call),
  speculativeSpeedup: (a) => calc.speculativeSpeedup(a.acceptance, a.draft_tokens, a.draft_cost_ratio),
  prefixCacheSavings: (a) => calc.prefixCacheSavings(a.prompt, a.cached, roofline(a.roofline)),
  costPerMillionTokens: (a) => calc.costPerMillionTokens(a.price, a.tokens_per_second),
  activationPeakBytes: (a) => calc.activationPeakBytes(arch(a.model), a.cfg, a.tp),
  forwardPeakBytes: (a) => calc.forwardPeakBytes(arch(a.model), a.cfg, a.tp),
  capacity: (a) => calc.capacity(arch(a.model), gpu(a.gpu), fmt(a.format), a.kv_bits, a.tp, a.pp, a.cfg,
    groupsOf(a.groups), a.mtp ?? false, a.attention_dp ?? 1),
  maxConcurrency: (a) => {
    const cap = calc.capacity(arch(a.model), gpu(a.gpu), fmt(a.format), a.kv_bits, a.tp, a.pp, a.cfg);
    return calc.maxConcurrency(arch(a.model), cap, a.context, a.kv_bits, a.tp, a.pp);
  },
  fitOptions: (a) => calc.fitOptions(data.models[a.model], fmt(a.format), a.gpus.map(gpu), a.context,
    a.concurrency, a.kv_bits, a.counts, a.prices, a.cfg, groupsOf(a.groups), a.kv ? fmt(a.kv) : null),
  minGpus: (a) => calc.minGpus(data.models[a.model], fmt(a.format), gpu(a.gpu), a.context, a.concurrency,
    a.kv_bits, a.counts, a.cfg, groupsOf(a.groups), a.kv ? fmt(a.kv) : null),
  checkSetup: (a) => {
    const result = calc.checkSetup(setupOf(a));
    return { ...calc.feasibilityJson(result), checks: result.findings.map((f) => [f.check, f.severity]) };
  },
  describeEngine: (a) => calc.describeEngine(engineOf(a.cfg)),
  parallelFindings: (a) => calc.parallelFindings(arch(a.model), a.tp, a.pp, a.ep, a.gpus),
  interconnectFindings: (a) => calc.interconnectFindings(gpuWith(a.gpu, a.domain), a.tp, a.pp),
  formatStatus: (a) => calc.formatStatus(fmt(a.format), gpu(a.gpu)),
  parallelLayout: (a) => calc.parallelLayout(arch(a.model), gpuWith(a.gpu, a.domain), a.count),
  pyFormat: (a) => (a.style === "comma" ? calc.pyComma(a.x, a.digits) : a.style === "fixed"
    ? calc.pyFixed(a.x, a.digits) : calc.pyPercent(a.x)),
  percentile: (a) => calc.percentile(a.values, a.q),
  workload: (a) => calc.workload(a.n, a.rate, a.inputs, a.outputs, a.arrivals, a.burstiness, a.seed),
  summarize: (a) => calc.summarize(a.records, a.slo, a.average, a.tpot_includes_first_token),
  simulate: (a) => {
    const result = calc.simulate(a.requests, stepModelOf(a.step_model), a.config);
    return { ...result, summary: result.records.length ? calc.simSummary(result, a.slo) : null };
  },
};

const out = data.vectors.map((v) => {
  const handler = handlers[v.fn];
  if (!handler) return { id: v.id, error: `run.mjs: no handler for ${v.fn}` };
  try {
    return { id: v.id, result: handler(v.args) };
  } catch (err) {
    return { id: v.id, error: err instanceof Error ? err.message : String(err) };
  }
});

const finite = (_key, value) => (typeof value === "number" && !Number.isFinite(value) ? String(value) : value);
process.stdout.write(JSON.stringify(out, finite));
