// Runs plan.js on test cases and prints the results as JSON (see tests/test_js_plan.py).
//
//   node tests/js_parity/plan.mjs cases.json > results.json
//
// cases.json: {data: tools data (with `exponentials`, Python's draws for seed 0), plans: [{id, models,
// workload, targets, space, today}], workloads: [{id, n, rate, isl, osl}] (browser-drawn arrivals)}.

import { readFileSync } from "node:fs";
import * as planjs from "../../generators/site/static/js/plan.js";
import { MORE } from "../../generators/site/static/js/predict_more.js";

const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
const data = input.data;

/** The plan as Python's `Plan.to_json` writes it. */
function planJson(result) {
  const { workload: w, targets: t, space } = result;
  return {
    workload: { isl: w.isl, osl: w.osl, rate: w.rate, users: w.users, think_time_s: w.think_time_s },
    targets: { ttft_s: t.ttft_s, tpot_s: t.tpot_s, percentile: t.percentile },
    space: { gpus: [...space.gpus], max_gpus: space.max_gpus, engines: [...space.engines],
      weights: [...space.weights], kv_dtypes: [...space.kv_dtypes], pricing: space.pricing,
      disaggregation: space.disaggregation },
    feasible: result.frontier.length > 0,
    frontier: result.frontier.map((c) => planjs.candidateJson(c, w, t)),
    simulated: result.simulated.length, shapes_screened: result.shapes,
    rejected: result.rejected.map((r) => ({ what: r.what, reason: r.reason })),
    unpriced_gpus: result.unpriced, stale_offers: result.stale_offers,
  };
}

function runPlan(c) {
  const start = performance.now();
  const result = planjs.plan(data, c.models, c.workload, c.targets, c.space, c.today,
    c.space.disaggregation ? MORE : null);
  const seconds = (performance.now() - start) / 1000;
  const out = { ...planJson(result), seconds };
  const best = result.frontier[0];
  if (best) {
    const block = planjs.deployment(data, best, result.workload, result.targets);
    out.launch = block.launch;
    out.benchmark = block.benchmark;
    out.tensorrt_llm_extra_yaml = block.tensorrt_llm_extra_yaml ?? null;
    out.disaggregation_note = block.disaggregation ?? null;
  }
  return out;
}

function run(kind, item) {
  try {
    if (kind === "plan") return { id: item.id, result: runPlan(item) };
    const reqs = planjs.poissonWorkload(item.n, item.rate, item.isl, item.osl);
    return { id: item.id, result: reqs.map((r) => [r.arrival, r.input_tokens, r.output_tokens]) };
  } catch (e) {
    return { id: item.id, error: String(e.stack ?? e.message ?? e) };
  }
}

const out = {
  plans: (input.plans ?? []).map((c) => run("plan", c)),
  workloads: (input.workloads ?? []).map((c) => run("workload", c)),
};
process.stdout.write(JSON.stringify(out));
