// Memory-hierarchy explorer: the levels a GPU's data knows (registers, L1/shared, L2, a cache behind it, HBM or
// GDDR, the host bus, the scale-up peers) with their sizes and the bandwidths the entry records, on log-scale bars,
// and what one decode step of a model reads: the roofline's bytes (weights the step touches plus its KV cache,
// roofline.js `decodeStep`) against the L2. The setup is checked first (calc.js `checkSetup`).
import { checkSetup, chosenWeights, VLLM_V1 } from "../calc.js";
import { Roofline } from "../roofline.js";
import {
  fillSelect, fmt, GIB, headed, modelsByTitle, mountTool, replaceable, showNotes, startTool, wireForm,
} from "../data.js";

const MIB = 2 ** 20;
const NOT_IN_DATA = "not in the data";
/** Fixed log axes: sizes 1 MiB to 4 TiB, bandwidths 10 GB/s to 20 TB/s. */
const SIZE_AXIS = [MIB, 4 * 2 ** 40];
const BW_AXIS = [1e10, 2e13];

/** Bytes as MiB, GiB or TiB (binary, as the sizes are given). */
export function sizeText(bytes) {
  if (bytes >= 2 ** 40) return `${fmt(bytes / 2 ** 40, 2)} TiB`;
  if (bytes >= GIB) return `${fmt(bytes / GIB, 2)} GiB`;
  if (bytes >= MIB) return `${fmt(bytes / MIB, 2)} MiB`;
  return `${fmt(bytes / 1024, 2)} KiB`;
}

/** The bandwidth a host-interface string states in GB/s, e.g. "PCIe Gen5 x16 (128 GB/s)"; null if none. */
export function hostBandwidth(text) {
  const m = /PCIe[^;(]*\(\s*(\d+(?:\.\d+)?)\s*GB\/s/i.exec(text ?? "");
  return m ? Number(m[1]) : null;
}

/**
 * The memory levels of one GPU, fastest first: {key, name, where, bytes, bandwidth (bytes/s)}; a figure the
 * data lacks is null.
 */
export function levels(gpu) {
  const cu = gpu.compute_units;
  const word = cu ? ({ SM: "SM", CU: "CU", core: "GPU core" }[cu.unit_name] ?? "unit") : null;
  const per = (x) => (cu && x != null ? cu.count * x * 1024 : null);
  const out = [];
  out.push({ key: "registers", name: "Registers", where: cu ? `${fmt(cu.count, 0)} ${word}s × `
    + `${cu.register_file_kib != null ? `${fmt(cu.register_file_kib, 0)} KiB` : "?"}` : "inside each SM or CU",
  bytes: per(cu?.register_file_kib), bandwidth: null });
  const l1 = cu?.l1_shared_kib ?? cu?.shared_memory_kib;
  out.push({ key: "shared", name: cu?.l1_shared_kib != null ? "L1 + shared memory" : "Shared memory (LDS)",
    where: cu && l1 != null ? `${fmt(cu.count, 0)} ${word}s × ${fmt(l1, 0)} KiB` : "inside each SM or CU",
    bytes: per(l1), bandwidth: null });
  out.push({ key: "l2", name: "L2 cache", where: "chip-wide", bytes: cu?.l2_cache_mib != null ? cu.l2_cache_mib * MIB
    : null, bandwidth: null });
  if (cu?.last_level_cache_mib != null) {
    out.push({ key: "llc", name: "Cache behind L2", where: "chip-wide (Infinity Cache)",
      bytes: cu.last_level_cache_mib * MIB, bandwidth: null });
  }
  out.push({ key: "memory", name: `${gpu.memory_type} memory`, where: "on the package or board",
    bytes: gpu.memory_gib.value * GIB, bandwidth: gpu.memory_bandwidth_gb_s.value * 1e9 });
  const host = gpu.interconnect?.host_interface;
  const hostBw = hostBandwidth(host);
  if (hostBw != null) {
    out.push({ key: "host", name: "Host (CPU memory)", where: host, bytes: null, bandwidth: hostBw * 1e9 });
  }
  const link = gpu.interconnect?.bandwidth_gb_s;
  const domain = gpu.interconnect?.domain_gpus;
  if (link != null) {
    out.push({ key: "peers", name: "Peer GPUs", where: `${gpu.interconnect.name ?? "scale-up link"}`
      + `${domain ? `, ${fmt(domain, 0)} GPUs per domain` : ""}`,
    bytes: domain && domain > 1 ? (domain - 1) * gpu.memory_gib.value * GIB : null, bandwidth: link.value * 1e9 });
  }
  return out;
}

/** A cell with a value and a log-scale bar on `axis`; the bar is left out when the value is missing. */
function logCell(tr, value, text, axis, out) {
  const td = tr.insertCell();
  td.className = "size-cell mh-cell";
  const span = document.createElement("span");
  span.textContent = value == null ? NOT_IN_DATA : text;
  if (value == null) span.className = "mh-missing";
  else {
    span.dataset.out = out;
    span.dataset.value = String(value);
  }
  td.append(span);
  if (value != null) {
    const [lo, hi] = axis.map(Math.log10);
    const share = Math.min(1, Math.max(0, (Math.log10(value) - lo) / (hi - lo)));
    const bar = document.createElement("div");
    bar.className = "bar mh-bar";
    bar.setAttribute("role", "presentation");
    bar.style.width = `${Math.max(2, share * 100)}%`;
    td.append(bar);
  }
}

function levelsTable(gpu) {
  const t = headed(["Level", "Made of", "Size", "Bandwidth"]);
  t.className = "mh-table";
  const body = t.createTBody();
  for (const l of levels(gpu)) {
    const tr = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = l.name;
    tr.append(th);
    tr.insertCell().textContent = l.where;
    logCell(tr, l.bytes, l.bytes == null ? "" : sizeText(l.bytes), SIZE_AXIS, `size-${l.key}`);
    logCell(tr, l.bandwidth, l.bandwidth == null ? "" : `${fmt(l.bandwidth / 1e9, 1)} GB/s`, BW_AXIS, `bw-${l.key}`);
  }
  return t;
}

async function init(root) {
  const tool = await startTool(root, "memory-hierarchy");
  if (!tool) return;
  const { form, out, guard, data } = tool;
  const f = form.elements;
  const gpus = Object.values(data.gpus).sort((a, b) => (Number(!a.compute_units) - Number(!b.compute_units))
    || a.title.localeCompare(b.title));
  fillSelect(f.gpu, gpus.map((g) => ({ value: g.id, label: g.compute_units ? g.title : `${g.title} (no SM data)` })),
    data.gpus["h100-sxm"] ? "h100-sxm" : gpus[0].id);
  const models = modelsByTitle(data);
  fillSelect(f.model, models.map((m) => ({ value: m.id, label: m.title })),
    data.models["llama-3.1-8b-instruct"] ? "llama-3.1-8b-instruct" : models[0].id);
  fillSelect(f.kv, Object.keys(data.kv_dtype_bits).map((d) => ({ value: d, label: d })), "bf16");
  const step = replaceable(root, "step");

  const update = guard(() => {
    const gpu = data.gpus[f.gpu.value];
    const model = data.models[f.model.value];
    const batch = Math.round(Number(f.batch.value));
    const context = Math.round(Number(f.context.value));
    if (!(batch >= 1 && context >= 1)) throw new Error("batch and context must be at least 1");
    out("levels-title").textContent = `Memory levels of the ${gpu.title}`;
    out("levels").replaceChildren(levelsTable(gpu));
    const { format: wfmt, groups } = chosenWeights(model, data.formats, "native");
    const kvBits = data.kv_dtype_bits[f.kv.value];
    const result = checkSetup({ model, gpu, weights: wfmt, kv: data.formats[f.kv.value] ?? null, kv_bits: kvBits,
      tp: 1, context, sequences: batch, mode: "batch", engine: VLLM_V1, groups });
    showNotes(root, result);
    if (!result.feasible) {
      step.refuse(`No decode step to show: ${fmt(batch, 0)} × ${fmt(context, 0)} tokens of ${model.title} on one `
        + `${gpu.title} cannot run:`, result.reasons);
      return;
    }
    step.show();
    const r = new Roofline(model.architecture, gpu, wfmt, kvBits, 1, {}, groups);
    const total = r.decodeStep(batch, context).bytesRead;
    const weights = r.weightBytesPerGpu(r.expertsTouchedFraction(batch));
    const kv = total - weights;
    const bw = gpu.memory_bandwidth_gb_s.value * 1e9;
    const set = (key, value, text) => {
      out(key).textContent = text;
      out(key).dataset.value = String(value);
    };
    set("step-bytes", total, `${fmt(total / 1e9, 2)} GB`);
    out("step-detail").textContent = `(weights ${fmt(weights / 1e9, 2)} GB + KV cache and state `
      + `${fmt(kv / 1e9, 3)} GB; at ${fmt(bw / 1e9, 0)} GB/s that is at least ${fmt(total / bw * 1e3, 3)} ms)`;
    const l2 = gpu.compute_units?.l2_cache_mib;
    if (l2 != null) {
      const ratio = total / (l2 * MIB);
      set("l2-ratio", ratio, `${fmt(ratio, ratio < 10 ? 2 : 0)}×`);
      out("l2-detail").textContent = ratio > 1
        ? `the step's ${fmt(total / MIB, 0)} MiB do not fit in the ${fmt(l2, 0)} MiB L2: the cache holds at most `
          + `${fmt(100 / ratio, 2)}% of them, so each step streams the rest from memory again.`
        : `the step's ${fmt(total / MIB, 1)} MiB would fit in the ${fmt(l2, 0)} MiB L2.`;
    } else {
      set("l2-ratio", Number.NaN, "–");
      out("l2-detail").textContent = `(the ${gpu.title}'s L2 size is ${NOT_IN_DATA})`;
    }
    const reads = headed(["Level", "Read by one decode step"]);
    const body = reads.createTBody();
    const row = (name, what) => {
      const tr = body.insertRow();
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = name;
      tr.append(th);
      tr.insertCell().textContent = what;
    };
    row(`${gpu.memory_type} memory`, `${fmt(total / 1e9, 2)} GB: every weight the step touches once, and each `
      + `sequence's cached keys and values (${fmt(batch, 0)} × ${fmt(context, 0)} tokens).`);
    row("L2 cache", l2 != null ? `The same ${fmt(total / 1e9, 2)} GB pass through it on the way in; almost `
      + "nothing is still there for the next step." : `Size ${NOT_IN_DATA}.`);
    row("Shared memory and registers", "Tiles of those bytes, staged a few KiB at a time on every SM while the "
      + "matrix units multiply them; nothing stays between steps.");
    row("Host and peer GPUs", "Nothing: one GPU holds the whole model and cache here (with tensor parallelism "
      + "each layer would exchange activations over the peer link).");
    out("reads").replaceChildren(reads);
    out("explain").textContent = model.architecture.moe
      ? `A mixture-of-experts step reads only the experts its ${fmt(batch, 0)} tokens are routed to: on average `
        + `${fmt(r.expertsTouchedFraction(batch) * 100, 1)}% of the routed experts at this batch.`
      : "The weights are read once per step whatever the batch; only the KV cache grows with batch and context.";
  });
  wireForm(form, update);
}

mountTool("memory-hierarchy", init);
