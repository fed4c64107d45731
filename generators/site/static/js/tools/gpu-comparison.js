// GPU comparison: a filterable accelerator table and the model x GPU matrix of the fewest GPUs that serve a load
// (the fit search: every count through the feasibility check; a cell that nothing serves carries the reason).
import { chosenWeights, describeEngine, VLLM_V1 } from "../calc.js";
import { FIT_COUNTS, fitOptions } from "../fit.js";
import { fillSelect, fmt, headed, modelsByTitle, mountTool, siteRoot, startTool, wireForm } from "../data.js";

const MOST = FIT_COUNTS[FIT_COUNTS.length - 1];

const POPULAR = ["llama-3.1-8b-instruct", "qwen3-8b", "gemma-3-27b-it", "qwen3-32b", "llama-3.3-70b-instruct",
  "gpt-oss-120b", "qwen3-235b-a22b-thinking-2507", "deepseek-v3"];

const value = (q) => (q ? q.value : null);
/**
 * Each column: [key, heading, value of a GPU (null when unknown), digits].
 * @type {[string, string, (g: any) => number | null, number][]}
 */
const COLUMNS = [
  ["memory", "Memory (GiB)", (g) => value(g.memory_gib), 0],
  ["bandwidth", "Bandwidth (GB/s)", (g) => value(g.memory_bandwidth_gb_s), 0],
  ["bf16", "BF16", (g) => value(g.dense?.bf16_tflops) ?? value(g.dense?.fp16_tflops), 1],
  ["fp8", "FP8", (g) => value(g.dense?.fp8_tflops), 1],
  ["fp4", "FP4", (g) => value(g.dense?.fp4_tflops), 1],
  ["tdp", "TDP (W)", (g) => value(g.tdp_w), 0],
];

function gpuHead(tr, gpu) {
  const th = document.createElement("th");
  th.scope = "row";
  const a = document.createElement("a");
  a.href = `${siteRoot()}entries/gpus/${gpu.id}.html`;
  a.textContent = gpu.title;
  th.append(a);
  tr.append(th);
}

function gpuTable(gpus) {
  const t = headed(["Accelerator", "Vendor", ...COLUMNS.map((c) => c[1])]);
  t.className = "gpu-table";
  const body = t.createTBody();
  for (const g of gpus) {
    const tr = body.insertRow();
    gpuHead(tr, g);
    tr.insertCell().textContent = g.vendor;
    for (const [key, , get, digits] of COLUMNS) {
      const td = tr.insertCell();
      td.className = "num";
      td.textContent = fmt(get(g), digits);
      td.dataset.out = `${key}-${g.id}`;
    }
  }
  return t;
}

/**
 * Fewest GPUs of one type that serve the load (calc.js `minGpus`, from the same ranked options), or
 * null with the reason of the largest configuration tried.
 */
function fewest(model, format, gpu, context, conc, kvBits, groups, kv) {
  const options = fitOptions(model, format, [gpu], context, conc, kvBits, FIT_COUNTS, null, null, groups, kv);
  const fit = options.find((o) => o.fits);
  if (fit) return { count: fit.count, tp: fit.tp, pp: fit.pp, reason: null };
  if (!options.length) {
    return { count: null, reason: `no split of up to ${MOST} GPUs divides ${model.title}'s heads and layers` };
  }
  const largest = options.reduce((a, b) => (b.count > a.count ? b : a));
  return { count: null, reason: `on ${largest.count} GPUs: ${largest.reason}` };
}

/** Cells already worked out (filtering the GPU rows or re-sorting them changes no cell). */
const CELLS = new Map();

function cached(key, compute) {
  if (!CELLS.has(key)) {
    if (CELLS.size > 20000) CELLS.clear();
    CELLS.set(key, compute());
  }
  return CELLS.get(key);
}

function matrix(gpus, models, data, choice, context, conc, kvBits, kv) {
  const t = headed(["Accelerator", ...models.map((m) => m.title)]);
  t.className = "matrix";
  const body = t.createTBody();
  for (const g of gpus) {
    const tr = body.insertRow();
    gpuHead(tr, g);
    for (const m of models) {
      const cell = cached(`${m.id}|${choice}|${g.id}|${context}|${conc}|${kvBits}|${kv ? kv.id : ""}`, () => {
        const { format, groups } = chosenWeights(m, data.formats, choice);
        return fewest(m, format, g, context, conc, kvBits, groups, kv);
      });
      const n = cell.count;
      const td = tr.insertCell();
      td.textContent = n === null ? "–" : String(n);
      td.className = n === null ? "fit-none" : n === 1 ? "fit-one" : "fit-many";
      td.dataset.out = `fit-${g.id}-${m.id}`;
      td.dataset.value = String(n);
      // the reason, not a figure, where nothing serves the load
      td.title = n === null ? `${m.title} does not fit on up to ${MOST} × ${g.title}: ${cell.reason}`
        : `${m.title}: ${n} × ${g.title} (TP ${cell.tp} × PP ${cell.pp})`;
      if (n === null) {
        td.dataset.reason = `${m.title} on ${g.title}: ${cell.reason}`;
        td.tabIndex = 0;
      }
    }
  }
  return t;
}

async function init(root) {
  const tool = await startTool(root, "gpu-comparison");
  if (!tool) return;
  const { form, out, guard, data } = tool;
  const f = form.elements;
  const all = Object.values(data.gpus);
  const vendors = [...new Set(all.map((g) => g.vendor))].sort();
  fillSelect(f.vendor, [{ value: "", label: "All vendors" }, ...vendors.map((v) => ({ value: v, label: v }))], "");
  const fmts = Object.values(data.formats).filter((x) => x.used_for.includes("weights"))
    .sort((a, b) => b.effective_bits_per_weight - a.effective_bits_per_weight || a.id.localeCompare(b.id));
  fillSelect(f.format, [{ value: "native", label: "Released checkpoint of each model" },
    ...fmts.map((x) => ({ value: x.id, label: x.title }))], "native");
  fillSelect(f.kv, Object.keys(data.kv_dtype_bits).map((d) => ({ value: d, label: d })), "bf16");
  const models = modelsByTitle(data);
  const popular = POPULAR.filter((id) => data.models[id]);
  const box = form.querySelector("[data-models]");
  box.replaceChildren(...models.map((m) => {
    const label = document.createElement("label");
    label.className = "check";
    const input = document.createElement("input");
    Object.assign(input, { type: "checkbox", name: "models", value: m.id, checked: popular.includes(m.id) });
    label.append(input, m.title);
    return label;
  }));

  // a "–" cell shows why when pressed or focused (and keeps showing it while the matrix is redrawn)
  const why = out("cell-reason");
  let pressed = null;
  const showWhy = () => {
    const td = pressed && out("matrix").querySelector(`td[data-out="${pressed}"][data-reason]`);
    why.textContent = td ? td.dataset.reason : "";
    why.hidden = !td;
  };
  const explainCell = (e) => {
    const td = e.target.closest("td[data-reason]");
    if (!td) return;
    pressed = td.dataset.out;
    showWhy();
  };
  out("matrix").addEventListener("pointerdown", explainCell);
  out("matrix").addEventListener("focusin", explainCell);
  const update = guard(() => {
    const q = f.q.value.trim().toLowerCase();
    const minMem = Number(f.min_mem.value) || 0;
    const sortKey = f.sort.value;
    const col = COLUMNS.find((c) => c[0] === sortKey);
    const gpus = all.filter((g) => (!f.vendor.value || g.vendor === f.vendor.value)
      && (!q || g.title.toLowerCase().includes(q) || g.id.includes(q)) && g.memory_gib.value >= minMem)
      .sort((a, b) => {
        if (!col) return a.title.localeCompare(b.title);
        const [x, y] = [col[2](a), col[2](b)];
        if (x === y) return a.title.localeCompare(b.title);
        if (x === null) return 1;
        if (y === null) return -1;
        return y - x;
      });
    out("gpu-count").textContent = fmt(gpus.length, 0);
    out("gpu-count").dataset.value = String(gpus.length);
    out("gpus").replaceChildren(gpus.length ? gpuTable(gpus) : document.createTextNode("No accelerator matches."));
    const chosen = [...form.querySelectorAll("[data-models] input:checked")].map((i) => data.models[i.value]);
    out("model-count").textContent = String(chosen.length);
    const context = Math.round(Number(f.context.value));
    const conc = Math.round(Number(f.concurrency.value));
    if (!(context >= 1 && conc >= 1)) throw new Error("context and concurrency must be at least 1");
    const kvBits = data.kv_dtype_bits[f.kv.value];
    const kv = data.formats[f.kv.value] ?? null;
    out("matrix-note").textContent = "Each cell: the fewest GPUs of that type that can run the model and hold the "
      + `weights plus the KV cache of ${fmt(conc, 0)} sequences × ${fmt(context, 0)} tokens (${f.kv.value} KV); `
      + `“–” means no count up to ${MOST} can (hover a cell for the reason). Rows follow the filters above.`;
    out("engine").textContent = `Assumes ${describeEngine(VLLM_V1)}.`;
    out("matrix").replaceChildren(!chosen.length ? document.createTextNode("Select at least one model.")
      : !gpus.length ? document.createTextNode("No accelerator matches the filters.")
        : matrix(gpus, chosen, data, f.format.value, context, conc, kvBits, kv));
    showWhy();
  });
  wireForm(form, update);
}

mountTool("gpu-comparison", init);
