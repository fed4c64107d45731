// Runs plan.js on test cases and prints the results as JSON (see tests/test_js_plan.py).
//
//   node tests/js_parity/plan.mjs cases.json > results.json
//
// cases.json: {data: tools data, plans: [{id, models, workload, targets, space, today}],
// random: [{id, seed, n}], workloads: [{id, seed, n, rate, isl, osl}]}.

import { readFileSync } from "node:fs";
import * as planjs from "../../generators/site/static/js/plan.js";

const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
const data = input.data;

function runPlan(c) {
  const start = performance.now();
  const result = planjs.plan(data, c.models, c.workload, c.targets, c.space, c.today);
  const seconds = (performance.now() - start) / 1000;
  const out = { ...planjs.planJson(result), seconds };
  const best = result.frontier[0];
  if (best) {
    const block = planjs.deployment(data, best, result.workload, result.targets);
    out.launch = block.launch;
    out.benchmark = block.benchmark;
    out.tensorrt_llm_extra_yaml = block.tensorrt_llm_extra_yaml ?? null;
  }
  return out;
}

function run(kind, item) {
  try {
    if (kind === "plan") return { id: item.id, result: runPlan(item) };
    if (kind === "random") {
      const rng = new planjs.PyRandom(item.seed);
      return { id: item.id, result: Array.from({ length: item.n }, () => rng.random()) };
    }
    const reqs = planjs.poissonWorkload(item.n, item.rate, item.isl, item.osl, item.seed);
    return { id: item.id, result: reqs.map((r) => [r.arrival, r.input_tokens, r.output_tokens]) };
  } catch (e) {
    return { id: item.id, error: String(e.stack ?? e.message ?? e) };
  }
}

const out = {
  plans: (input.plans ?? []).map((c) => run("plan", c)),
  random: (input.random ?? []).map((c) => run("random", c)),
  workloads: (input.workloads ?? []).map((c) => run("workload", c)),
};
process.stdout.write(JSON.stringify(out));
