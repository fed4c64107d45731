// GPU comparison: a filterable accelerator table and the model x GPU matrix of the fewest GPUs that serve a load.
import { chosenWeights, minGpus } from "../calc.js";
import { fillSelect, fmt, headed, mountTool, siteRoot, startTool, wireForm } from "../data.js";

const POPULAR = ["llama-3.1-8b-instruct", "qwen3-8b", "gemma-3-27b-it", "qwen3-32b", "llama-3.3-70b-instruct",
  "gpt-oss-120b", "qwen3-235b-a22b-thinking-2507", "deepseek-v3"];

const value = (q) => (q ? q.value : null);
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

function matrix(gpus, models, data, choice, context, conc, kvBits) {
  const t = headed(["Accelerator", ...models.map((m) => m.title)]);
  t.className = "matrix";
  const body = t.createTBody();
  for (const g of gpus) {
    const tr = body.insertRow();
    gpuHead(tr, g);
    for (const m of models) {
      const { format, groups } = chosenWeights(m, data.formats, choice);
      const n = minGpus(m, format, g, context, conc, kvBits, [1, 2, 4, 8], null, groups);
      const td = tr.insertCell();
      td.textContent = n === null ? "–" : String(n);
      td.className = n === null ? "fit-none" : n === 1 ? "fit-one" : "fit-many";
      td.dataset.out = `fit-${g.id}-${m.id}`;
      td.dataset.value = String(n);
      td.title = n === null ? `${m.title} does not fit on 8 × ${g.title}` : `${m.title}: ${n} × ${g.title}`;
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
  const models = Object.values(data.models).sort((a, b) => a.title.localeCompare(b.title));
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
    out("matrix-note").textContent = `Each cell: the fewest GPUs of that type that hold the weights plus the KV cache `
      + `of ${fmt(conc, 0)} sequences × ${fmt(context, 0)} tokens (${f.kv.value} KV, vLLM memory accounting at `
      + "gpu_memory_utilization 0.9); “–” means not even 8. Rows follow the filters above.";
    out("matrix").replaceChildren(!chosen.length ? document.createTextNode("Select at least one model.")
      : !gpus.length ? document.createTextNode("No accelerator matches the filters.")
        : matrix(gpus, chosen, data, f.format.value, context, conc, kvBits));
  });
  wireForm(form, update);
}

mountTool("gpu-comparison", init);
