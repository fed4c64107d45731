// GPU memory and fit: the feasibility check of one setup with its per-GPU memory breakdown (vLLM's accounting),
// and the GPU configurations that serve the load (the fit search, every candidate through the same check).
import { checkSetup, chosenWeights, engineProfile, kvBytes } from "../calc.js";
import { FIT_COUNTS, fitOptions } from "../fit.js";
import {
  fillSelect, fmt, formatOptions, GIB, headed, modelsByTitle, mountTool, replaceable, showNotes, siteRoot, startTool,
  wireForm,
} from "../data.js";

const TOP = 15;
const NEAR = 5;

function gib(bytes, digits = 2) {
  return `${fmt(bytes / GIB, digits)} GiB`;
}

function table(headers, rows) {
  const t = headed(headers);
  const body = t.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    if (row.className) tr.className = row.className;
    row.cells.forEach((c, i) => {
      const td = i === 0 ? document.createElement("th") : tr.insertCell();
      if (i === 0) {
        td.scope = "row";
        tr.append(td);
      }
      if (c instanceof Node) td.append(c);
      else td.textContent = c;
      if (row.out && row.out[i]) {
        td.dataset.out = row.out[i];
        td.dataset.value = String(row.values[i]);
      }
    });
  }
  return t;
}

function gpuLink(gpu) {
  const a = document.createElement("a");
  a.href = `${siteRoot()}entries/gpus/${gpu.id}.html`;
  a.textContent = gpu.title;
  return a;
}

function bar(container, segments, total) {
  container.replaceChildren(...segments.filter((s) => s.bytes > 0).map((s) => {
    const span = document.createElement("span");
    span.className = `seg seg-${s.key}`;
    span.title = `${s.label}: ${gib(s.bytes)}`;
    span.style.width = `${(s.bytes / total) * 100}%`;
    return span;
  }));
  container.setAttribute("role", "img");
  container.setAttribute("aria-label", segments.map((s) => `${s.label} ${gib(s.bytes)}`).join(", "));
}

async function init(root) {
  const tool = await startTool(root, "memory-fit");
  if (!tool) return;
  const { form, out, guard, data } = tool;
  const f = form.elements;
  const models = modelsByTitle(data);
  const gpus = Object.values(data.gpus).sort((a, b) => a.title.localeCompare(b.title));
  const start = data.models["llama-3.1-70b-instruct"] ? "llama-3.1-70b-instruct" : models[0].id;
  fillSelect(f.model, models.map((m) => ({ value: m.id, label: m.title })), start);
  fillSelect(f.format, formatOptions(data), "native");
  fillSelect(f.kv, Object.keys(data.kv_dtype_bits).map((d) => ({ value: d, label: d })), "bf16");
  fillSelect(f.gpu, gpus.map((g) => ({ value: g.id, label: g.label })),
    data.gpus["h100-sxm"] ? "h100-sxm" : gpus[0].id);
  f.tp.value = "4";
  const priceBox = form.querySelector("[data-prices]");
  priceBox.replaceChildren(...gpus.map((g) => {
    const label = document.createElement("label");
    const input = document.createElement("input");
    Object.assign(input, { type: "number", min: "0", step: "any", name: `price-${g.id}`, placeholder: "—" });
    input.dataset.gpu = g.id;
    label.append(`${g.title} (USD per GPU-hour)`, input);
    return label;
  }));

  const setup = replaceable(root, "setup");
  const update = guard(() => {
    const model = data.models[f.model.value];
    const arch = model.architecture;
    const { format: wfmt, groups, native } = chosenWeights(model, data.formats, f.format.value);
    const context = Math.round(Number(f.context.value));
    const conc = Math.round(Number(f.concurrency.value));
    if (!(context >= 1 && conc >= 1)) throw new Error("context and concurrency must be at least 1");
    const util = Number(f.util.value);
    if (!(util > 0 && util <= 1)) throw new Error("GPU memory utilization must be above 0 and at most 1");
    const pp = Number(f.pp.value);
    if (!(Number.isInteger(pp) && pp >= 1)) throw new Error("pipeline parallelism must be a whole number of at least 1");
    const kvBits = data.kv_dtype_bits[f.kv.value];
    const kvFormat = data.formats[f.kv.value] ?? null;
    const tp = Number(f.tp.value);
    const gpu = data.gpus[f.gpu.value];
    const cfg = { gpu_memory_utilization: util };
    const engine = engineProfile(cfg);
    // the whole concurrency in the KV cache at once, as the fit search asks
    const result = checkSetup({ model, gpu, weights: wfmt, kv: kvFormat, kv_bits: kvBits, tp, pp, context,
      sequences: conc, mode: "batch", engine, groups });
    showNotes(root, result);
    const where = `${tp * pp} × ${gpu.title}${pp > 1 ? ` (TP ${tp} × PP ${pp})` : ""}`;
    const verdict = out("verdict");
    verdict.className = `result-big ${result.feasible ? "fits-yes" : "fits-no"}`;
    verdict.dataset.value = String(result.feasible);
    if (!result.feasible) {
      verdict.textContent = `Cannot serve this load on ${where}`;
      out("verdict-detail").textContent = "";
      setup.refuse(`${model.title}, ${fmt(conc, 0)} × ${fmt(context, 0)} tokens on ${where}:`, result.reasons);
    } else {
      setup.show();
      verdict.textContent = `Fits on ${where}`;
      const most = result.maxSequences;
      out("verdict-detail").textContent = Number.isFinite(most)
        ? `— room for ${fmt(Math.floor(most), 0)} sequences of ${fmt(context, 0)} tokens (you asked for `
          + `${fmt(conc, 0)}).` : "— the model keeps no per-token cache.";
      breakdown(result.capacity, kvBytes(arch, context, kvBits, conc, tp, pp, true).bytesPerGpu, conc, context, util);
    }
    fitSearch(model, wfmt, groups, native, context, conc, kvBits, kvFormat, cfg);
  });

  /** The bar and table of one GPU's memory (a feasible setup: every figure is at least 0). */
  const breakdown = (cap, need, conc, context, util) => {
    const space = Math.max(cap.kvSpaceBytes, 0);
    const over = Math.max(need - space, 0);
    const segments = [
      { key: "weights", label: "Weights", bytes: cap.weightsBytes },
      { key: "activation", label: "Activation peak", bytes: cap.activationBytes },
      { key: "other", label: "CUDA context, NCCL, graphs", bytes: cap.otherBytes },
      { key: "kv", label: "KV cache needed", bytes: Math.min(need, space) },
      { key: "over", label: "KV cache beyond the budget", bytes: over },
      { key: "free", label: "Free KV space", bytes: Math.max(space - need, 0) },
      { key: "reserved", label: "Held back by GPU memory utilization", bytes: cap.usableBytes - cap.budgetBytes },
    ];
    const used = cap.weightsBytes + cap.activationBytes + cap.otherBytes + need;
    bar(out("bar"), segments, Math.max(cap.usableBytes, used + cap.usableBytes - cap.budgetBytes));
    const swatch = (key, text) => {
      const span = document.createElement("span");
      if (key) {
        const sw = document.createElement("span");
        sw.className = `swatch seg-${key}`;
        span.append(sw);
      }
      span.append(text);
      return span;
    };
    const row = (key, label, bytes, outName) => ({
      cells: [swatch(key, label), gib(bytes), fmt(bytes / cap.usableBytes * 100, 1)],
      out: [null, outName], values: [null, bytes / GIB], className: key ? "" : "total-row" });
    const reserved = cap.usableBytes - cap.budgetBytes;
    out("breakdown").replaceChildren(table(["Per GPU", "Memory", "% of usable"], [
      row("weights", "Weights", cap.weightsBytes, "weights"),
      row("activation", "Activation peak (profiling run)", cap.activationBytes, "activation"),
      row("other", "Non-PyTorch (CUDA context, NCCL) and graphs", cap.otherBytes, "other"),
      row("kv", `KV cache needed: ${fmt(conc, 0)} × ${fmt(context, 0)} tokens`, need, "kv-needed"),
      over > 0 ? row("over", "KV cache beyond the budget", over, "kv-over")
        : row("free", "KV space left free", space - need, "kv-free"),
      row("reserved", `Held back by GPU memory utilization ${fmt(util, 2)}`, reserved, "reserved"),
      row(null, "KV space the engine allocates", cap.kvSpaceBytes, "kv-space"),
      row(null, "Budget (usable × utilization)", cap.budgetBytes, "budget"),
      row(null, "Usable memory the driver reports", cap.usableBytes, "usable"),
    ]));
  };

  /** Every GPU type at 1 to 64 GPUs, laid out and ranked by calc.js fitOptions(). */
  const fitSearch = (model, wfmt, groups, native, context, conc, kvBits, kvFormat, cfg) => {
    const prices = {};
    for (const input of form.querySelectorAll("[data-prices] input")) {
      if (input.value.trim() !== "" && Number(input.value) >= 0) prices[input.dataset.gpu] = Number(input.value);
    }
    const options = fitOptions(model, wfmt, gpus, context, conc, kvBits, FIT_COUNTS, prices, cfg, groups, kvFormat);
    const fitting = options.filter((o) => o.fits);
    const priced = Object.keys(prices).length > 0;
    const layout = (o) => `${o.count} (${o.tp} × ${o.pp})`;
    const optRow = (o, i) => ({
      cells: [gpuLink(data.gpus[o.gpu]), layout(o), fmt(o.weightsGibPerGpu, 1),
        fmt(o.kvNeededGibPerGpu, 1), fmt(o.kvSpaceGibPerGpu, 1), fmt(Math.floor(o.maxConcurrency), 0),
        ...(priced ? [o.costPerHour === null ? "–" : fmt(o.costPerHour, 2)] : []), "fits"],
      out: i === 0 ? ["best-gpu", "best-count"] : null, values: [o.gpu, o.count],
    });
    // a configuration that cannot serve the load shows why, never its figures
    const missRow = (o) => ({ cells: [gpuLink(data.gpus[o.gpu]), layout(o), o.reason], className: "near-miss" });
    const headers = ["GPU", "GPUs (TP × PP)", "Weights (GiB/GPU)", "KV needed (GiB/GPU)", "KV space (GiB/GPU)",
      "Max sequences", ...(priced ? ["Cost per hour (USD)"] : []), "Result"];
    const fitTable = (head, rows) => {
      const t = table(head, rows);
      t.className = "fit-table";
      return t;
    };
    out("fits").replaceChildren(fitting.length ? fitTable(headers, fitting.slice(0, TOP).map(optRow))
      : document.createTextNode(`No configuration of up to ${FIT_COUNTS[FIT_COUNTS.length - 1]} GPUs of one type `
        + "serves this load."));
    out("fits-note").textContent = `${fmt(fitting.length, 0)} of ${fmt(options.length, 0)} configurations fit`
      + `${fitting.length > TOP ? `; the first ${TOP} are shown` : ""}, ranked by GPU count, then `
      + `${priced ? "hourly cost, then " : ""}KV headroom. Tensor parallelism stays inside each GPU's scale-up `
      + "domain; pipeline stages take the rest."
      + (native && Object.keys(groups).length ? " Sizes follow the released checkpoint, which keeps some tensor "
        + "groups in higher precision." : "");
    const near = options.filter((o) => !o.fits && o.kvSpaceGibPerGpu > 0)
      .sort((a, b) => a.kvNeededGibPerGpu / a.kvSpaceGibPerGpu - b.kvNeededGibPerGpu / b.kvSpaceGibPerGpu
        || a.count - b.count).slice(0, NEAR);
    out("misses").replaceChildren(near.length ? fitTable(["GPU", "GPUs (TP × PP)", "Why it does not serve this load"],
      near.map(missRow)) : document.createTextNode("None: every other configuration lacks room for the weights."));
  };
  wireForm(form, update);
}

mountTool("memory-fit", init);
