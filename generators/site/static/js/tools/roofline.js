// Roofline explorer: decode throughput vs batch, the compute-bound batch and ridge point, plus speculative-decoding,
// prefix-caching and cost-per-token calculators on the same roofline. The setup goes through the feasibility check
// first: a setup that cannot run shows its reasons instead of figures, and no batch beyond what the KV cache holds
// gets a figure.
import { checkSetup, chosenWeights, pyComma, VLLM_V1 } from "../calc.js";
import { costPerMillionTokens, prefixCacheSavings, ridgePoint, Roofline, speculativeSpeedup } from "../roofline.js";
import {
  fillSelect, fmt, formatOptions, modelsByTitle, mountTool, replaceable, rooflineGpus, showNotes, startTool, svgEl,
  wireForm,
} from "../data.js";

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

function chart(container, points, cb, fits) {
  const [W, H, L, B, T, R] = [800, 260, 64, 40, 14, 16];
  const ymax = Math.max(...points.map((p) => p.tps));
  const ystep = niceStep(ymax, 5);
  const ytop = Math.ceil(ymax / ystep) * ystep;
  const x = (b) => L + (Math.log2(b) / Math.log2(MAX_BATCH)) * (W - L - R);
  const y = (v) => T + (1 - v / ytop) * (H - T - B);
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: "timeline", role: "img",
    "aria-label": `Decode throughput from ${fmt(points[0].tps, 0)} tokens/s at batch 1 to `
      + `${fmt(points[points.length - 1].tps, 0)} tokens/s at batch ${points[points.length - 1].batch}` });
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
  if (cb !== null && cb <= MAX_BATCH && cb <= fits) {
    svg.append(svgEl("line", { x1: x(cb), x2: x(cb), y1: T, y2: H - B, class: "marker-line" }));
    text(x(cb) - 6, T + 14, `compute-bound from ${fmt(cb, 0)}`, "end");
  }
  if (fits < MAX_BATCH) { // the KV cache holds no more sequences: the curve stops there
    svg.append(svgEl("line", { x1: x(fits), x2: x(fits), y1: T, y2: H - B, class: "marker-line" }));
    text(x(fits) + 6, T + 14, `KV cache full at ${fmt(fits, 0)}`, "start");
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

/**
 * One row per batch size: step time, throughput, arithmetic intensity per GPU and the bound. The bound
 * compares that intensity with the effective ridge printed above it (the same two quantities); a batch
 * the KV cache cannot hold gets the reason instead of figures.
 */
function batchTable(r, context, fits, effRidge) {
  const t = document.createElement("table");
  const head = t.createTHead().insertRow();
  for (const h of ["Batch", "Step time", "Output tokens/s", "Per sequence (tokens/s)", "FLOP per byte (per GPU)",
    `Bound (ridge ${fmt(effRidge, 0)})`]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    head.append(th);
  }
  const body = t.createTBody();
  for (const b of TABLE_BATCHES) {
    const tr = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = String(b);
    tr.append(th);
    if (b > fits) {
      const td = tr.insertCell();
      td.colSpan = 5;
      td.className = "refused";
      td.dataset.out = `refused-${b}`;
      td.textContent = `cannot run: ${kvFull(fits, context)}`;
      continue;
    }
    const step = r.decodeStep(b, context);
    const tps = r.decodeThroughput(b, context);
    const cells = [dur(step.seconds), fmt(tps, 0), fmt(tps / b, 1), fmt(intensity(r, step), 1), step.bound];
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

/** FLOP per byte one GPU of the TP group does in a step (the quantity its ridge point applies to). */
function intensity(r, step) {
  return step.flops / r.tp / step.bytesRead;
}

/** Why a batch beyond the KV cache cannot run, in the CLI's words. */
function kvFull(fits, context) {
  return `only ${pyComma(fits)} sequences of ${pyComma(context)} tokens fit in the KV cache`;
}

async function init(root) {
  const tool = await startTool(root, "roofline");
  if (!tool) return;
  const { form, out, guard, data } = tool;
  const f = form.elements;
  const models = modelsByTitle(data);
  const gpus = rooflineGpus(data);
  fillSelect(f.model, models.map((m) => ({ value: m.id, label: m.title })),
    data.models["llama-3.1-8b-instruct"] ? "llama-3.1-8b-instruct" : models[0].id);
  fillSelect(f.gpu, gpus.map((g) => ({ value: g.id, label: g.label })), data.gpus["h100-sxm"] ? "h100-sxm" : gpus[0].id);
  fillSelect(f.format, formatOptions(data), "native");
  fillSelect(f.kv, Object.keys(data.kv_dtype_bits).map((d) => ({ value: d, label: d })), "bf16");

  const set = (name, text, value) => {
    out(name).textContent = text;
    out(name).dataset.value = String(value);
  };
  const whole = replaceable(root, "setup");
  const prefixBlock = replaceable(root, "prefix");
  const costBlock = replaceable(root, "cost");
  const update = guard(() => {
    const model = data.models[f.model.value];
    const gpu = data.gpus[f.gpu.value];
    const { format: wfmt, groups } = chosenWeights(model, data.formats, f.format.value);
    const tp = Number(f.tp.value);
    const context = Math.round(Number(f.context.value));
    if (!(context >= 1)) throw new Error("the context must be at least 1 token");
    const acceptance = Number(f.acceptance.value);
    const draft = Number(f.draft.value);
    const draftCost = Number(f.draft_cost.value);
    if (!(acceptance >= 0 && acceptance <= 1)) throw new Error("the acceptance rate must be between 0 and 1");
    if (!(Number.isInteger(draft) && draft >= 1)) throw new Error("draft tokens per step must be a whole number of at least 1");
    if (!(draftCost >= 0)) throw new Error("the draft cost must not be negative");
    const prompt = Math.round(Number(f.prompt.value));
    const cached = Math.round(Number(f.cached.value));
    if (!(prompt >= 2)) throw new Error("the prompt must be at least 2 tokens");
    if (!(cached >= 0)) throw new Error("the cached prefix must not be negative");
    const price = Number(f.price.value);
    if (!(price >= 0) || f.price.value.trim() === "") throw new Error("the price per GPU-hour must be a number of at least 0");
    const batch = Math.round(Number(f.cost_batch.value));
    if (!(batch >= 1)) throw new Error("the decode batch must be at least 1");
    const kvId = f.kv.value;
    const kvBits = data.kv_dtype_bits[kvId];
    const kv = data.formats[kvId] ?? null;
    /** @type {import("../calc.js").Setup} */
    const base = { model, gpu, weights: wfmt, kv, kv_bits: kvBits, tp, engine: VLLM_V1, groups, mode: "batch" };
    // one sequence of the context must run; larger batches are checked against what the KV cache holds
    const result = checkSetup({ ...base, context, sequences: 1 });
    showNotes(root, result);
    if (!result.feasible) {
      whole.refuse(`${model.title} on ${tp} × ${gpu.title} cannot run at a context of ${fmt(context, 0)} tokens:`,
        result.reasons);
      return;
    }
    whole.show();
    const fits = Number.isFinite(result.maxSequences) ? Math.floor(result.maxSequences) : Infinity;
    const r = new Roofline(model.architecture, gpu, wfmt, kvBits, tp, {}, groups);
    const ridge = ridgePoint(gpu, wfmt);
    // a step is compute-bound when compute time >= memory time: per GPU, FLOP/byte >= ridge × MFU / MBU
    const effRidge = ridge * r.efficiency.mfu / r.efficiency.mbu;
    const cb = r.computeBoundBatch(context);
    set("ridge", `${fmt(ridge, 0)} FLOP/byte`, ridge);
    set("ridge-effective", `${fmt(effRidge, 0)} FLOP/byte`, effRidge);
    out("ridge-detail").textContent = `(peak × ${fmt(r.efficiency.mfu, 2)} MFU ÷ ${fmt(r.efficiency.mbu, 2)} MBU: `
      + "the Bound column compares each step's FLOP per byte on one GPU with this)";
    if (cb !== null && cb <= fits) set("cb-batch", fmt(cb, 0), cb);
    else {
      set("cb-batch", Number.isFinite(fits) ? `never: memory-bound up to the ${fmt(fits, 0)} sequences that fit`
        : "never (below 65,536)", null);
    }
    const points = [];
    for (let b = 1; b <= Math.min(MAX_BATCH, fits); b++) {
      const step = r.decodeStep(b, context);
      points.push({ batch: b, tps: b / step.seconds, bound: step.bound });
    }
    chart(out("chart"), points, cb, fits);
    out("table").replaceChildren(batchTable(r, context, fits, effRidge));
    const one = r.decodeStep(1, context);
    out("explain").textContent = `At batch 1 a decode step does ${fmt(intensity(r, one), 1)} FLOP per byte read `
      + `on each GPU, far below the effective ridge of ${fmt(effRidge, 0)}: it waits on memory, so adding sequences `
      + "is almost free until the batch nears the compute-bound point (KV reads grow with batch × context, so long "
      + `contexts delay it or prevent it). The KV cache holds ${Number.isFinite(fits) ? fmt(fits, 0) : "any number of"} `
      + `sequences of ${fmt(context, 0)} tokens.`;
    // speculative decoding (batch 1, which fits)
    const spec = speculativeSpeedup(acceptance, draft, draftCost);
    set("spec-tokens", fmt(spec.tokensPerStep, 2), spec.tokensPerStep);
    set("spec-speedup", `${fmt(spec.speedup, 2)}×`, spec.speedup);
    const tps1 = r.decodeThroughput(1, context);
    out("spec-detail").textContent = `(batch 1: ${fmt(tps1, 0)} → ${fmt(tps1 * spec.speedup, 0)} tokens/s; `
      + "speculation pays off while decode is memory-bound)";
    // prefix caching: one prompt of its own length, a cached part no longer than the prompt
    const promptCheck = checkSetup({ ...base, context: prompt, sequences: 1 });
    if (cached > prompt) {
      prefixBlock.refuse("Cannot compute the saving:", [`the cached prefix (${fmt(cached, 0)} tokens) is longer `
        + `than the prompt (${fmt(prompt, 0)} tokens); a prefix cache can only supply part of the prompt`]);
    } else if (!promptCheck.feasible) {
      prefixBlock.refuse(`A prompt of ${fmt(prompt, 0)} tokens cannot run:`, promptCheck.reasons);
    } else {
      prefixBlock.show();
      const saving = prefixCacheSavings(prompt, cached, r);
      set("prefix-full", dur(saving.fullS), saving.fullS);
      set("prefix-cached", dur(saving.withCacheS), saving.withCacheS);
      set("prefix-saved", `${fmt(saving.savedFraction * 100, 1)} %`, saving.savedFraction);
    }
    // cost: only for a batch the KV cache holds
    if (batch > fits) {
      costBlock.refuse("No price for this batch:", [`batch ${batch} cannot run: ${kvFull(fits, context)}`]);
    } else {
      costBlock.show();
      const tps = r.decodeThroughput(batch, context);
      const cost = costPerMillionTokens(price * tp, tps);
      set("cost", fmt(cost, 3), cost);
      out("cost-detail").textContent = `(USD ${fmt(price, 2)} × ${tp} GPU-hours per hour at ${fmt(tps, 0)} `
        + `tokens/s, batch ${fmt(batch, 0)}, context ${fmt(context, 0)}; decode only, fully busy)`;
    }
  });
  wireForm(form, update);
}

mountTool("roofline", init);
