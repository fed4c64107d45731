// Runs predict.js on test vectors and prints the results as JSON (see tests/test_js_predict.py).
//
//   node tests/js_parity/predict.mjs vectors.json > results.json

import { readFileSync } from "node:fs";
import * as predict from "../../generators/site/static/js/predict.js";
import { predictMore } from "../../generators/site/static/js/predict_more.js";

const data = JSON.parse(readFileSync(process.argv[2], "utf8"));
const groupsOf = (groups) => (groups ? Object.fromEntries(Object.entries(groups).map(([k, id]) => [k, data.formats[id]]))
  : null);

const handlers = {
  stepSeconds: (a) => {
    const d = { arch: data.models[a.model].architecture, gpu: data.gpus[a.gpu], fmt: data.formats[a.format],
      kvBits: a.kv_bits, tp: a.tp, pp: a.pp, ep: a.ep, engine: a.engine, groups: groupsOf(a.groups),
      attentionDp: a.attention_dp ?? 1 };
    return predict.stepCost(d, a.params ?? data.perf.params).seconds(...a.call);
  },
  engineDefaults: (a) => {
    const d = predict.engineDefaults(data.perf.engines[a.engine], a.gpu ? data.gpus[a.gpu] : null, a.tp, a.pp);
    return { describe: d.describe, fraction_of: d.fraction_of, memory_fraction: d.memory_fraction,
      block_tokens: d.block_tokens, max_num_seqs: d.max_num_seqs, max_num_batched_tokens: d.max_num_batched_tokens,
      chunked_prefill: d.chunked_prefill, fp8_checkpoint_kv: d.fp8_checkpoint_kv,
      reserve_full_length: d.reserve_full_length };
  },
  predict: (a) => predictMore(data, a),
  predictMaxRate: (a) => predictMore(data, a),
  predictDisaggregated: (a) => predictMore(data, a),
};

const out = data.vectors.map((v) => {
  try {
    return { id: v.id, result: handlers[v.fn](v.args) };
  } catch (e) {
    return { id: v.id, error: String(e.message ?? e) };
  }
});
process.stdout.write(JSON.stringify(out));
