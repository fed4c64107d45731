// Batching strategy simulator: static, dynamic and continuous batching of a seeded workload on the roofline model.
// The setup (mean request length, the batch limit as concurrency) goes through the feasibility check first.
import { checkSetup, chosenWeights, engineProfile, simSummary, simulate, workload } from "../calc.js";
import { Roofline, stepModel } from "../roofline.js";
import {
  fillSelect, fmt, formatOptions, loadData, modelsByTitle, mountTool, replaceable, rooflineGpus, showNotes, svgEl,
  toolShell, wireForm
} from "../data.js";

const POLICIES = ["continuous", "dynamic", "static"];
const LABELS = { continuous: "Continuous", dynamic: "Dynamic", static: "Static" };
const MAX_REQUESTS = 3000;
const BINS = 160;

/** Time-averaged number of requests generating (first token .. finish) and waiting (arrival .. first token) per bin. */
function occupancy(records, end) {
  const width = end / BINS;
  const gen = new Float64Array(BINS);
  const wait = new Float64Array(BINS);
  const add = (arr, a, b) => {
    if (!(b > a)) return;
    const first = Math.min(BINS - 1, Math.floor(a / width));
    const last = Math.min(BINS - 1, Math.floor(b / width));
    for (let i = first; i <= last; i++) {
      arr[i] += (Math.min(b, (i + 1) * width) - Math.max(a, i * width)) / width;
    }
  };
  for (const r of records) {
    add(wait, r.arrival, r.firstToken);
    add(gen, r.firstToken, r.finish);
  }
  return { gen, wait, width };
}

function niceStep(max, ticks) {
  const raw = max / ticks;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) || p * 10;
}

function chart(container, runs, single) {
  const W = 800;
  const H = 240;
  const L = 48;
  const B = 36;
  const T = 12;
  const end = Math.max(...runs.map((r) => r.end));
  const series = [];
  for (const run of runs) {
    const occ = occupancy(run.result.records, end);
    series.push({ key: run.policy, label: `${LABELS[run.policy]}: sequences generating`, values: occ.gen, width: occ.width });
    if (single) series.push({ key: "wait", label: "Waiting for the first token", values: occ.wait, width: occ.width });
  }
  const ymax = Math.max(1, ...series.map((s) => Math.max(...s.values)));
  const ystep = niceStep(ymax, 4);
  const ytop = Math.ceil(ymax / ystep) * ystep;
  const x = (t) => L + (t / end) * (W - L - 10);
  const y = (v) => T + (1 - v / ytop) * (H - T - B);
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: "timeline", role: "img",
    "aria-label": `Requests generating over time, up to ${fmt(ymax, 0)} at once, over ${fmt(end, 1)} s` });
  for (let v = 0; v <= ytop + 1e-9; v += ystep) {
    svg.append(svgEl("line", { x1: L, x2: W - 10, y1: y(v), y2: y(v), class: "grid" }));
    const t = svgEl("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "chart-text" });
    t.textContent = fmt(v, 0);
    svg.append(t);
  }
  const xstep = niceStep(end, 6);
  for (let s = 0; s <= end + 1e-9; s += xstep) {
    svg.append(svgEl("line", { x1: x(s), x2: x(s), y1: H - B, y2: H - B + 5, class: "axis" }));
    const t = svgEl("text", { x: x(s), y: H - B + 18, "text-anchor": "middle", class: "chart-text" });
    t.textContent = fmt(s, 1);
    svg.append(t);
  }
  const xl = svgEl("text", { x: W - 10, y: H - 4, "text-anchor": "end", class: "chart-text" });
  xl.textContent = "time (s)";
  svg.append(xl, svgEl("line", { x1: L, x2: W - 10, y1: H - B, y2: H - B, class: "axis" }));
  for (const s of series) {
    const pts = [];
    s.values.forEach((v, i) => {
      pts.push(`${x(i * s.width).toFixed(1)},${y(v).toFixed(1)}`, `${x((i + 1) * s.width).toFixed(1)},${y(v).toFixed(1)}`);
    });
    svg.append(svgEl("polyline", { points: pts.join(" "), class: `series series-${s.key}` }));
  }
  const legend = document.createElement("ul");
  legend.className = "legend";
  for (const s of series) {
    const li = document.createElement("li");
    const sw = document.createElement("span");
    sw.className = `swatch swatch-${s.key}`;
    li.append(sw, s.label);
    legend.append(li);
  }
  container.replaceChildren(svg, legend);
}

/**
 * Each row: [key, label, value from (summary, result), value in words].
 * @type {[string, string, (s: any, r?: any) => number, (v: number) => string][]}
 */
const ROWS = [
  ["completed", "Completed requests", (s, r) => r.records.length, (v) => fmt(v, 0)],
  ["rejected", "Rejected (never fit the KV cache)", (s, r) => r.rejected.length, (v) => fmt(v, 0)],
  ["preemptions", "Preemptions", (s, r) => r.preemptions, (v) => fmt(v, 0)],
  ["duration", "Duration (s)", (s) => s.durationS, (v) => fmt(v, 2)],
  ["ttft-mean", "TTFT mean (ms)", (s) => s.ttft.mean, (v) => fmt(v * 1e3, 1)],
  ["ttft-p99", "TTFT P99 (ms)", (s) => s.ttft.p99, (v) => fmt(v * 1e3, 1)],
  ["tpot-mean", "TPOT mean (ms)", (s) => s.tpot.mean, (v) => fmt(v * 1e3, 2)],
  ["tpot-p99", "TPOT P99 (ms)", (s) => s.tpot.p99, (v) => fmt(v * 1e3, 2)],
  ["itl-mean", "ITL mean (ms)", (s) => s.itl.mean, (v) => fmt(v * 1e3, 2)],
  ["itl-p99", "ITL P99 (ms)", (s) => s.itl.p99, (v) => fmt(v * 1e3, 2)],
  ["e2el-mean", "E2E latency mean (s)", (s) => s.e2el.mean, (v) => fmt(v, 2)],
  ["e2el-p99", "E2E latency P99 (s)", (s) => s.e2el.p99, (v) => fmt(v, 2)],
  ["req-throughput", "Requests/s", (s) => s.requestThroughput, (v) => fmt(v, 2)],
  ["tok-throughput", "Output tokens/s", (s) => s.outputTokenThroughput, (v) => fmt(v, 0)],
  ["goodput", "Goodput (requests/s meeting the SLOs)", (s) => s.goodput, (v) => fmt(v, 2)],
  ["attainment", "SLO attainment (%)", (s) => s.sloAttainment, (v) => fmt(v * 100, 1)],
];

function metricsTable(runs) {
  const t = document.createElement("table");
  const head = t.createTHead().insertRow();
  for (const h of ["Metric", ...runs.map((r) => LABELS[r.policy])]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    head.append(th);
  }
  const body = t.createTBody();
  for (const [key, label, get, show] of ROWS) {
    const tr = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = label;
    tr.append(th);
    for (const run of runs) {
      const td = tr.insertCell();
      const v = run.summary ? get(run.summary, run.result) : key === "rejected" ? run.result.rejected.length : NaN;
      td.textContent = v === null ? "–" : show(v);
      td.className = "num";
      td.dataset.out = `${run.policy}-${key}`;
      td.dataset.value = String(v);
    }
  }
  return t;
}

async function init(root) {
  const form = root.querySelector("form[data-tool='batching-simulator']");
  if (!form) return;
  const { out, fail, guard } = toolShell(root, form, {
    verb: "simulate", onFail: () => { root.querySelector("[data-out='status']").textContent = ""; },
  });
  let data;
  try {
    data = await loadData("tools-data.json");
  } catch (err) {
    fail(err);
    return;
  }
  const models = modelsByTitle(data);
  fillSelect(form.elements.model, models.map((m) => ({ value: m.id, label: m.title })),
    data.models["llama-3.1-8b-instruct"] ? "llama-3.1-8b-instruct" : models[0].id);
  const gpus = rooflineGpus(data);
  fillSelect(form.elements.gpu, gpus.map((g) => ({ value: g.id, label: g.label })),
    data.gpus["h100-sxm"] ? "h100-sxm" : gpus[0].id);
  fillSelect(form.elements.format, formatOptions(data), "native");
  fillSelect(form.elements.kv, Object.keys(data.kv_dtype_bits).map((d) => ({ value: d, label: d })), "bf16");

  const setup = replaceable(root, "setup");
  const run = guard(() => {
    const f = form.elements;
    const num = (name) => Number(f[name].value);
    const int = (name) => Math.round(num(name));
    const model = data.models[f.model.value];
    const gpu = data.gpus[f.gpu.value];
    const { format: wfmt, groups } = chosenWeights(model, data.formats, f.format.value);
    const tp = int("tp");
    const kvBits = data.kv_dtype_bits[f.kv.value];
    const n = int("n");
    if (!(n >= 1 && n <= MAX_REQUESTS)) throw new Error(`requests must be between 1 and ${fmt(MAX_REQUESTS, 0)}`);
    if (!(int("input") >= 1 && int("output") >= 1)) throw new Error("mean lengths must be at least 1 token");
    if (!(num("rate") > 0)) throw new Error("the arrival rate must be above 0 requests per second");
    if (!(int("max_batch") >= 1 && int("budget") >= 1)) {
      throw new Error("the max batch and the token budget per step must be at least 1");
    }
    if (!(num("window") >= 0)) throw new Error("the dynamic batch window must not be negative");
    if (!(num("util") > 0 && num("util") <= 1)) throw new Error("GPU memory utilization must be above 0 and at most 1");
    if (!(num("slo_ttft") >= 0 || f.slo_ttft.value === "") || !(num("slo_tpot") >= 0 || f.slo_tpot.value === "")) {
      throw new Error("the SLOs must not be negative");
    }
    const cfg = { gpu_memory_utilization: num("util"), max_num_batched_tokens: int("budget"),
      max_num_seqs: int("max_batch") };
    // a request of the mean lengths, up to max_batch of them at once (the scheduler queues the rest)
    const context = int("input") + int("output");
    const result = checkSetup({ model, gpu, weights: wfmt, kv: data.formats[f.kv.value] ?? null, kv_bits: kvBits,
      tp, context, sequences: int("max_batch"), mode: "concurrency", engine: engineProfile(cfg), groups });
    showNotes(root, result);
    if (!result.feasible) {
      setup.refuse(`${model.title} on ${tp} × ${gpu.title} cannot serve requests of ${fmt(context, 0)} tokens:`,
        result.reasons);
      out("status").textContent = "";
      return;
    }
    setup.show();
    const cap = result.capacity;
    out("kv-tokens").textContent = `${fmt(cap.kvTokens, 0)} tokens`;
    out("kv-tokens").dataset.value = String(cap.kvTokens);
    out("kv-detail").textContent = `(${fmt(cap.kvSpaceBytes / 2 ** 30, 2)} GiB of KV cache on each GPU)`;
    const lengths = (mean) => (f.lengths.value === "fixed" ? { kind: "fixed", mean }
      : { kind: "lognormal", mean, high: 4 * mean, sigma: 0.5 });
    const requests = workload(n, num("rate"), lengths(int("input")), lengths(int("output")), f.arrivals.value,
      4.0, int("seed"));
    const model1 = stepModel(new Roofline(model.architecture, gpu, wfmt, kvBits, tp, {}, groups));
    const slo = { ttft: f.slo_ttft.value === "" ? null : num("slo_ttft") / 1e3,
      tpot: f.slo_tpot.value === "" ? null : num("slo_tpot") / 1e3, e2el: null };
    const policies = f.policy.value === "compare" ? POLICIES : [f.policy.value];
    const runs = policies.map((policy) => {
      const result = simulate(requests, model1, { policy, max_batch: int("max_batch"),
        max_batched_tokens: int("budget"), chunked_prefill: f.chunked.checked, kv_capacity_tokens: cap.kvTokens,
        batch_window_s: num("window") / 1e3 });
      const summary = result.records.length ? simSummary(result, slo) : null;
      const end = result.records.reduce((m, r) => Math.max(m, r.finish), 0);
      return { policy, result, summary, end };
    });
    if (runs.every((r) => !r.summary)) {
      throw new Error(`no request fits in the KV cache of ${fmt(cap.kvTokens, 0)} tokens; shorten the requests or `
        + "add GPUs");
    }
    chart(out("chart"), runs.filter((r) => r.summary), runs.length === 1);
    out("metrics").replaceChildren(metricsTable(runs));
    const last = requests.length ? requests[requests.length - 1].arrival : 0;
    out("explain").textContent = `${fmt(n, 0)} requests arrive over ${fmt(last, 1)} s (seed ${int("seed")}; the `
      + "browser's generator draws other numbers than Python's for the same seed). Static batching waits for a full "
      + "batch, dynamic batching for the window or a full batch; neither admits requests while a batch runs. "
      + "Continuous batching admits and retires sequences at every step.";
    out("status").textContent = "";
  });
  let timer = null;
  const schedule = () => {
    form.dataset.ready = "false";
    out("status").textContent = "Simulating…";
    clearTimeout(timer);
    timer = setTimeout(run, 150);
  };
  wireForm(form, schedule, { runNow: false });
  run();
}

mountTool("batching-simulator", init);
