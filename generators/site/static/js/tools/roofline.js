// Roofline explorer: decode throughput vs batch, the compute-bound batch and ridge point, plus speculative-decoding,
// prefix-caching and cost-per-token calculators on the same roofline.
import {
  chosenWeights, costPerMillionTokens, prefixCacheSavings, ridgePoint, Roofline, speculativeSpeedup,
} from "../calc.js";
import { fillSelect, fmt, formatOptions, mountTool, rooflineGpus, startTool, svgEl, wireForm } from "../data.js";

const MAX_BATCH = 512;
const TABLE_BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

function dur(s) {
  return s < 1 ? `${fmt(s * 1e3, 2)} ms` : `${fmt(s, 3)} s`;
}

function niceStep(max, ticks) {
  const raw = max / ticks;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) || p * 10;
}

function chart(container, points, cb) {
  const [W, H, L, B, T, R] = [800, 260, 64, 40, 14, 16];
  const ymax = Math.max(...points.map((p) => p.tps));
  const ystep = niceStep(ymax, 5);
  const ytop = Math.ceil(ymax / ystep) * ystep;
  const x = (b) => L + (Math.log2(b) / Math.log2(MAX_BATCH)) * (W - L - R);
  const y = (v) => T + (1 - v / ytop) * (H - T - B);
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: "timeline", role: "img",
    "aria-label": `Decode throughput from ${fmt(points[0].tps, 0)} tokens/s at batch 1 to `
      + `${fmt(points[points.length - 1].tps, 0)} tokens/s at batch ${MAX_BATCH}` });
  const text = (tx, ty, s, anchor = "middle", cls = "chart-text") => {
    const t = svgEl("text", { x: tx, y: ty, "text-anchor": anchor, class: cls });
    t.textContent = s;
    svg.append(t);
  };
  for (let v = 0; v <= ytop + 1e-9; v += ystep) {
    svg.append(svgEl("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
    text(L - 6, y(v) + 4, fmt(v, 0), "end");
  }
  for (const b of TABLE_BATCHES) {
    svg.append(svgEl("line", { x1: x(b), x2: x(b), y1: H - B, y2: H - B + 5, class: "axis" }));
    text(x(b), H - B + 18, String(b));
  }
  svg.append(svgEl("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis" }));
  text(W - R, H - 4, "batch (sequences, log scale)", "end");
  text(L, T - 2, "output tokens/s", "start");
  if (cb !== null && cb <= MAX_BATCH) {
    svg.append(svgEl("line", { x1: x(cb), x2: x(cb), y1: T, y2: H - B, class: "marker-line" }));
    text(x(cb) - 6, T + 14, `compute-bound from ${fmt(cb, 0)}`, "end");
  }
  const memory = points.filter((p) => p.bound === "memory");
  const compute = points.filter((p) => p.bound === "compute");
  const line = (pts, cls) => {
    if (pts.length) {
      svg.append(svgEl("polyline", { points: pts.map((p) => `${x(p.batch).toFixed(1)},${y(p.tps).toFixed(1)}`)
        .join(" "), class: `series ${cls}` }));
    }
  };
  line(memory, "series-memory");
  line(compute.length && memory.length ? [memory[memory.length - 1], ...compute] : compute, "series-compute");
  const legend = document.createElement("ul");
  legend.className = "legend";
  for (const [cls, label] of [["memory", "memory-bound steps"], ["compute", "compute-bound steps"]]) {
    const li = document.createElement("li");
    const sw = document.createElement("span");
    sw.className = `swatch swatch-${cls}`;
    li.append(sw, label);
    legend.append(li);
  }
  container.replaceChildren(svg, legend);
}

function batchTable(r, context) {
  const t = document.createElement("table");
  const head = t.createTHead().insertRow();
  for (const h of ["Batch", "Step time", "Output tokens/s", "Per sequence (tokens/s)", "FLOP per byte", "Bound"]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    head.append(th);
  }
  const body = t.createTBody();
  for (const b of TABLE_BATCHES) {
    const step = r.decodeStep(b, context);
    const tps = r.decodeThroughput(b, context);
    const tr = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = String(b);
    tr.append(th);
    const cells = [dur(step.seconds), fmt(tps, 0), fmt(tps / b, 1), fmt(step.flops / step.bytesRead, 1), step.bound];
    cells.forEach((c, i) => {
      const td = tr.insertCell();
      td.textContent = c;
      if (i < 4) td.className = "num";
      if (i === 1) {
        td.dataset.out = `tput-${b}`;
        td.dataset.value = String(tps);
      }
    });
  }
  return t;
}

async function init(root) {
  const tool = await startTool(root, "roofline");
  if (!tool) return;
  const { form, out, guard, data } = tool;
  const f = form.elements;
  const models = Object.values(data.models).sort((a, b) => a.title.localeCompare(b.title));
  const gpus = rooflineGpus(data);
  const params = new URLSearchParams(location.search);
  fillSelect(f.model, models.map((m) => ({ value: m.id, label: m.title })), data.models[params.get("model")]
    ? params.get("model") : data.models["llama-3.1-8b-instruct"] ? "llama-3.1-8b-instruct" : models[0].id);
  fillSelect(f.gpu, gpus.map((g) => ({ value: g.id, label: g.title })), gpus.some((g) => g.id === params.get("gpu"))
    ? params.get("gpu") : data.gpus["h100-sxm"] ? "h100-sxm" : gpus[0].id);
  fillSelect(f.format, formatOptions(data), "native");
  fillSelect(f.kv, Object.keys(data.kv_dtype_bits).map((d) => ({ value: d, label: d })), "bf16");

  const set = (name, text, value) => {
    out(name).textContent = text;
    out(name).dataset.value = String(value);
  };
  const update = guard(() => {
    const model = data.models[f.model.value];
    const gpu = data.gpus[f.gpu.value];
    const { format: wfmt, groups } = chosenWeights(model, data.formats, f.format.value);
    const tp = Number(f.tp.value);
    const context = Math.round(Number(f.context.value));
    if (!(context >= 0)) throw new Error("context must not be negative");
    const r = new Roofline(model.architecture, gpu, wfmt, data.kv_dtype_bits[f.kv.value], tp, {}, groups);
    const ridge = ridgePoint(gpu, wfmt);
    const cb = r.computeBoundBatch(context);
    set("ridge", `${fmt(ridge, 0)} FLOP/byte`, ridge);
    set("cb-batch", cb === null ? "never (below 65,536)" : fmt(cb, 0), cb);
    const points = [];
    for (let b = 1; b <= MAX_BATCH; b++) {
      const step = r.decodeStep(b, context);
      points.push({ batch: b, tps: b / step.seconds, bound: step.bound });
    }
    chart(out("chart"), points, cb);
    out("table").replaceChildren(batchTable(r, context));
    const one = r.decodeStep(1, context);
    out("explain").textContent = `At batch 1 a decode step does ${fmt(one.flops / one.bytesRead, 1)} FLOP per byte `
      + `read, far below the ridge of ${fmt(ridge, 0)}: it waits on memory, so adding sequences is almost free `
      + "until the batch nears the compute-bound point (KV reads grow with batch × context, so long contexts "
      + "delay it or prevent it).";
    // speculative decoding
    const spec = speculativeSpeedup(Number(f.acceptance.value), Math.round(Number(f.draft.value)),
      Number(f.draft_cost.value));
    set("spec-tokens", fmt(spec.tokensPerStep, 2), spec.tokensPerStep);
    set("spec-speedup", `${fmt(spec.speedup, 2)}×`, spec.speedup);
    const base = r.decodeThroughput(1, context);
    out("spec-detail").textContent = `(batch 1: ${fmt(base, 0)} → ${fmt(base * spec.speedup, 0)} tokens/s; `
      + "speculation pays off while decode is memory-bound)";
    // prefix caching
    const prompt = Math.round(Number(f.prompt.value));
    const cached = Math.round(Number(f.cached.value));
    if (!(prompt >= 2 && cached >= 0)) throw new Error("prompt must be at least 2 tokens and the cached prefix not negative");
    const saving = prefixCacheSavings(prompt, cached, r);
    set("prefix-full", dur(saving.fullS), saving.fullS);
    set("prefix-cached", dur(saving.withCacheS), saving.withCacheS);
    set("prefix-saved", `${fmt(saving.savedFraction * 100, 1)} %`, saving.savedFraction);
    // cost
    const batch = Math.round(Number(f.cost_batch.value));
    if (!(batch >= 1)) throw new Error("the decode batch must be at least 1");
    const tps = r.decodeThroughput(batch, context);
    const cost = costPerMillionTokens(Number(f.price.value) * tp, tps);
    set("cost", fmt(cost, 3), cost);
    out("cost-detail").textContent = `(${fmt(Number(f.price.value), 2)} × ${tp} GPU-hours per hour at `
      + `${fmt(tps, 0)} tokens/s, batch ${fmt(batch, 0)}, context ${fmt(context, 0)}; decode only, fully busy)`;
  });
  wireForm(form, update);
}

mountTool("roofline", init);
