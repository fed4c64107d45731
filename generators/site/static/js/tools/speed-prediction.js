// Speed prediction: `inferbook predict` in the browser (predict.js), with the feasibility check first, the
// error band of the nearest held-out groups and the basis of every answer. The settings live in the URL
// (wireForm), so an answer can be shared.
import { pyComma, workload } from "../calc.js";
import { predictMore } from "../predict_more.js";
import {
  fillSelect, fmt, formatOptions, modelsByTitle, mountTool, replaceable, rooflineGpus, siteRoot, startTool, wireForm,
} from "../data.js";

/**
 * The fields of a `predict` answer (predict.js, Python `Prediction`) that the tool shows. An infeasible
 * answer has `feasible`, `reasons`, `setup` and the basis; the figures come with a feasible one.
 * @typedef {{mean: number, p50: number, p99: number}} Spread
 * @typedef {{median_abs_error: number, p90_abs_error: number, n: number}} HeldOutError
 * @typedef {object} Prediction
 * @property {boolean} feasible
 * @property {string[]} reasons Why it cannot run, or warnings when it can.
 * @property {{engine_profile: string, replicas?: number, tp: number, attention_dp: number, prefill_gpus?: number,
 *   prefill_tp?: number, decode_gpus?: number}} setup
 * @property {Spread} [ttft_s]
 * @property {Spread} [tpot_s]
 * @property {number} [output_tokens_per_s]
 * @property {number} [requests_per_s]
 * @property {number} [rate] The highest Poisson rate meeting the objectives (mode "max-rate").
 * @property {number} [slo_attainment] Share of requests meeting the objectives, when any are set.
 * @property {number} [goodput_rps] Requests per second meeting them.
 * @property {number} [kv_cache_tokens] Per replica.
 * @property {{throughput: HeldOutError|null, latency: HeldOutError|null, group: string}} [error_band]
 * @property {string} basis
 * @property {string} basis_detail
 * @property {{metric: string, value: number, url: string}[]} measured
 * @property {string[]} [notes] Remarks: attention DP, speculative decoding, preemptions.
 */

function dur(s) {
  return s < 1 ? `${fmt(s * 1e3, 1)} ms` : `${fmt(s, 2)} s`;
}

function band(e) {
  return e ? `±${fmt(e.median_abs_error * 100, 0)}% median, ±${fmt(e.p90_abs_error * 100, 0)}% p90 (n = ${e.n})`
    : "none measured";
}

async function init(root) {
  const tool = await startTool(root, "speed-prediction");
  if (!tool) return;
  const { form, out, guard, data } = tool;
  const f = form.elements;
  const models = modelsByTitle(data);
  const gpus = rooflineGpus(data).concat(Object.values(data.gpus).filter((g) => g.dense && g.dense.fp32_tflops
    && !g.dense.bf16_tflops && !g.dense.fp16_tflops));
  fillSelect(f.model, models.map((m) => ({ value: m.id, label: m.title })), "llama-3.1-8b-instruct");
  fillSelect(f.gpu, gpus.map((g) => ({ value: g.id, label: g.label })), "h100-sxm");
  fillSelect(f.format, formatOptions(data), "native");
  out("accuracy-link").href = `${siteRoot()}accuracy.html`;
  const whole = replaceable(root, "setup");
  const update = guard(() => {
    const num = (name) => Number(f[name].value);
    const mode = f.mode.value;
    const load = num("load");
    const n = Math.min(Math.max(Math.round(num("n")), 1), 3000);
    const q = {
      model: f.model.value, gpu: f.gpu.value, gpus: Math.round(num("gpus")), tp: Math.round(num("tp")),
      attention_dp: Math.round(num("adp")),
      weights: f.format.value === "native" ? null : f.format.value, engine: f.engine.value,
      isl: Math.round(num("isl")), osl: Math.round(num("osl")), mode, requests: n,
      batch: mode === "batch" ? Math.round(load) : null, concurrency: mode === "concurrency" ? Math.round(load) : null,
      rate: mode === "rate" ? load : null,
    };
    if (!(q.gpus >= 1 && q.tp >= 1 && q.attention_dp >= 1 && q.isl >= 1 && q.osl >= 1 && load > 0)) {
      throw new Error("every number must be above 0");
    }
    const ttft = num("slo-ttft");
    const tpot = num("slo-tpot");
    const pct = num("percentile");
    if (!(ttft >= 0 && tpot >= 0 && pct > 0 && pct < 100)) {
      throw new Error("the objectives cannot be negative, and the percentile is between 0 and 100");
    }
    Object.assign(q, { slo_ttft_s: ttft > 0 ? ttft : null, slo_tpot_s: tpot > 0 ? tpot : null, percentile: pct });
    if (mode === "max-rate" && q.slo_ttft_s === null && q.slo_tpot_s === null) {
      throw new Error("the highest rate needs a TTFT or a TPOT objective");
    }
    const prefill = Math.round(num("prefill"));
    if (prefill > 0) {
      if (mode === "concurrency" || mode === "batch") {
        throw new Error("disaggregated serving is modelled offline and at a Poisson rate (or the highest one)");
      }
      q.prefill_gpus = prefill;
    }
    const k = Math.round(num("spec-k"));
    if (k > 0) Object.assign(q, { speculative_tokens: k, acceptance: num("spec-a"), draft_cost: num("spec-cost") });
    if (q.gpus % q.tp) throw new Error(`${q.gpus} GPUs do not split into replicas of ${q.tp}`);
    if (mode === "rate" && !q.prefill_gpus) { // one replica's share; disaggregated pools draw the whole stream
      const replicas = q.gpus / q.tp;
      const lengths = (mean) => ({ kind: "fixed", mean });
      q.workload = workload(Math.ceil(n / replicas), load / replicas, lengths(q.isl), lengths(q.osl), "poisson",
        4.0, 0);
    }
    const p = /** @type {Prediction} */ (predictMore(data, q));
    out("engine").textContent = `Assumes ${p.setup.engine_profile}.`;
    if (!p.feasible) {
      whole.refuse("This setup cannot run:", p.reasons);
      return;
    }
    whole.show();
    const warnings = /** @type {HTMLElement} */ (root.querySelector("[data-out='warnings']"));
    warnings.replaceChildren(...p.reasons.map((r) => Object.assign(document.createElement("li"),
      { className: "finding-warn", textContent: r })));
    warnings.hidden = !p.reasons.length;
    const row = (name) => /** @type {HTMLElement} */ (root.querySelector(`[data-row='${name}']`));
    row("rate").hidden = p.rate == null;
    out("rate").textContent = p.rate == null ? "–" : fmt(p.rate, 2);
    out("rate").dataset.value = String(p.rate ?? "");
    row("slo").hidden = p.slo_attainment == null;
    out("slo").textContent = p.slo_attainment == null ? "–"
      : `${fmt(p.slo_attainment * 100, 1)}% (goodput ${fmt(p.goodput_rps, 2)} requests/s)`;
    out("ttft").textContent = dur(p.ttft_s.mean);
    out("ttft").dataset.value = String(p.ttft_s.mean);
    out("ttft-detail").textContent = `mean (p50 ${dur(p.ttft_s.p50)}, p99 ${dur(p.ttft_s.p99)})`;
    out("tpot").textContent = dur(p.tpot_s.mean);
    out("tpot").dataset.value = String(p.tpot_s.mean);
    out("tpot-detail").textContent = `mean (p50 ${dur(p.tpot_s.p50)}, p99 ${dur(p.tpot_s.p99)})`;
    out("throughput").textContent = fmt(p.output_tokens_per_s, 0);
    out("throughput").dataset.value = String(p.output_tokens_per_s);
    out("throughput-detail").textContent = p.setup.prefill_gpus
      ? `(${fmt(p.requests_per_s, 2)} requests/s; ${p.setup.prefill_gpus} GPU(s) prefill with TP ${p.setup.prefill_tp}, `
        + `${p.setup.decode_gpus} decode with TP ${p.setup.tp}; KV cache ${pyComma(p.kv_cache_tokens)} tokens per `
        + "decode replica)"
      : `(${fmt(p.requests_per_s, 2)} requests/s over ${p.setup.replicas} `
        + `replica(s) of TP ${p.setup.tp}${p.setup.attention_dp > 1 ? ` with attention DP ${p.setup.attention_dp}` : ""}; `
        + `KV cache ${pyComma(p.kv_cache_tokens)} tokens per replica)`;
    out("band").textContent = `throughput ${band(p.error_band.throughput)}; latency ${band(p.error_band.latency)} `
      + `— ${p.error_band.group}`;
    out("basis").textContent = p.basis;
    out("basis-detail").textContent = `(${p.basis_detail})`;
    out("notes").replaceChildren(...(p.notes ?? []).map((n) => Object.assign(document.createElement("li"),
      { className: "finding-note", textContent: n })));
    out("measured").replaceChildren(...p.measured.map((m) => {
      const li = document.createElement("li");
      const a = Object.assign(document.createElement("a"), { href: m.url, textContent: "source",
        rel: "noopener noreferrer", className: "external" });
      li.append(`measured ${m.metric} = ${fmt(m.value, 2)} `, a);
      return li;
    }));
  });
  wireForm(form, update);
}

mountTool("speed-prediction", init);
