// SM explorer: one streaming multiprocessor (an AMD compute unit, an Apple GPU core) of a chosen GPU drawn with the
// vendor's per-unit figures from the GPU's compute_units block, and the chip totals (count x per unit). A second
// GPU can be shown beside it. A GPU without compute_units gets the reason instead of a drawing.
import { fillSelect, fmt, headed, mountTool, replaceable, startTool, svgEl, wireForm } from "../data.js";

const UNIT_WORDS = { SM: "SM", CU: "CU", core: "GPU core", "Xe-core": "Xe-core", other: "unit" };
const VENDOR_UNITS = { nvidia: "SM", amd: "CU", apple: "GPU core", intel: "Xe-core" };

/** KiB as "256 KiB", or MiB/GiB once large. */
export function kib(value) {
  if (value >= 1024 * 1024) return `${fmt(value / (1024 * 1024), 2)} GiB`;
  if (value >= 1024) return `${fmt(value / 1024, 2)} MiB`;
  return `${fmt(value, 2)} KiB`;
}

/**
 * Chip totals of a compute_units block: each is null when the per-unit figure is not published.
 * @param {object} cu The GPU's compute_units JSON.
 */
export function chipTotals(cu) {
  const times = (x) => (x == null ? null : cu.count * x);
  const warps = times(cu.max_warps_per_unit);
  return {
    registersKib: times(cu.register_file_kib), sharedKib: times(cu.shared_memory_kib),
    l1SharedKib: times(cu.l1_shared_kib), matrixUnits: times(cu.matrix_units_per_unit), warps,
    threads: warps != null && cu.warp_size != null ? warps * cu.warp_size : null,
  };
}

function text(svg, x, y, content, cls = "chart-text", anchor = "middle") {
  const t = svgEl("text", { x, y, class: cls, "text-anchor": anchor });
  t.textContent = content;
  svg.append(t);
  return t;
}

const missing = "not in the data";

/** The drawing of one unit: its schedulers (sub-partitions) with their share of warps, matrix units and
 * registers, then the L1/shared array. `narrow` draws the schedulers two to a row in a narrower picture. */
function diagram(gpu, narrow) {
  const cu = gpu.compute_units;
  const word = UNIT_WORDS[cu.unit_name];
  const parts = cu.schedulers_per_unit ?? 1;
  const W = narrow ? 300 : 440;
  const cols = narrow && parts > 2 ? 2 : parts;
  const rows = Math.ceil(parts / cols);
  const split = (x) => (x == null ? null : x / parts);
  const perPart = { warps: split(cu.max_warps_per_unit), matrix: split(cu.matrix_units_per_unit),
    regs: split(cu.register_file_kib) };
  const top = 34;
  const gap = 6;
  const partH = 118;
  const memY = top + rows * (partH + gap) + 4;
  const height = memY + 88;
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${height}`, class: "sm-svg", role: "img" });
  const label = [`One ${word} of ${gpu.title}, ${fmt(cu.count, 0)} on the chip.`];
  svg.append(svgEl("rect", { x: 1, y: 1, width: W - 2, height: height - 2, rx: 8, class: "sm-unit" }));
  text(svg, 12, 22, `One ${word} (× ${fmt(cu.count, 0)} on the chip)`, "chart-text sm-head", "start");
  const boxW = (W - 24 - gap * (cols - 1)) / cols;
  const mat = cu.unit_name === "SM" ? "tensor" : "matrix";
  for (let i = 0; i < parts; i++) {
    const x = 12 + (i % cols) * (boxW + gap);
    const y = top + Math.floor(i / cols) * (partH + gap);
    svg.append(svgEl("rect", { x, y, width: boxW, height: partH, rx: 5, class: "sm-part" }));
    const cx = x + boxW / 2;
    const head = cu.unit_name === "CU" ? `SIMD ${i + 1}` : `Scheduler ${i + 1}`;
    text(svg, cx, y + 18, cu.schedulers_per_unit ? head : "Issue logic", "chart-text sm-small");
    const wname = cu.unit_name === "CU" ? "waves" : "warps";
    text(svg, cx, y + 40, perPart.warps == null ? `${wname}: –` : `${fmt(perPart.warps, 2)} ${wname}`,
      "chart-text sm-small");
    svg.append(svgEl("rect", { x: x + 6, y: y + 50, width: boxW - 12, height: 26, rx: 3, class: "sm-matrix" }));
    text(svg, cx, y + 67, perPart.matrix == null ? `${mat}: –` : `${fmt(perPart.matrix, 2)} ${mat}`,
      "chart-text sm-small");
    svg.append(svgEl("rect", { x: x + 6, y: y + 82, width: boxW - 12, height: 28, rx: 3, class: "sm-regs" }));
    text(svg, cx, y + 100, perPart.regs == null ? "regs: –" : `${kib(perPart.regs)} regs`, "chart-text sm-small");
  }
  if (!cu.schedulers_per_unit) label.push(`Schedulers per ${word}: ${missing}.`);
  else label.push(`${parts} schedulers, each with 1/${parts} of the warp slots, matrix units and registers.`);
  label.push(`Warp slots ${cu.max_warps_per_unit == null ? missing : fmt(cu.max_warps_per_unit, 0)}; matrix units `
    + `${cu.matrix_units_per_unit == null ? missing : fmt(cu.matrix_units_per_unit, 0)}; register file `
    + `${cu.register_file_kib == null ? missing : kib(cu.register_file_kib)}.`);
  // the on-unit memory array: L1 and shared memory share it where l1_shared_kib is given
  const memW = W - 24;
  svg.append(svgEl("rect", { x: 12, y: memY, width: memW, height: 42, rx: 5, class: "sm-mem" }));
  if (cu.l1_shared_kib != null && cu.shared_memory_kib != null) {
    const share = Math.min(1, cu.shared_memory_kib / cu.l1_shared_kib);
    svg.append(svgEl("rect", { x: 12, y: memY, width: memW * share, height: 42, rx: 5, class: "sm-shared" }));
    text(svg, W / 2, memY + 18, `L1 + shared memory: ${kib(cu.l1_shared_kib)}`, "chart-text sm-small");
    text(svg, W / 2, memY + 35, `shared memory up to ${kib(cu.shared_memory_kib)} of it`, "chart-text sm-small");
    label.push(`L1 and shared memory ${kib(cu.l1_shared_kib)}, of which up to ${kib(cu.shared_memory_kib)} shared.`);
  } else if (cu.shared_memory_kib != null) {
    text(svg, W / 2, memY + 26, `${cu.unit_name === "CU" ? "LDS (shared memory)" : "Shared memory"}: `
      + `${kib(cu.shared_memory_kib)}`, "chart-text sm-small");
    label.push(`Shared memory ${kib(cu.shared_memory_kib)}.`);
  } else {
    text(svg, W / 2, memY + 26, `L1 / shared memory: ${missing}`, "chart-text sm-small");
    label.push(`Shared memory: ${missing}.`);
  }
  const foot = cu.max_warps_per_unit != null && cu.warp_size != null
    ? `${fmt(cu.max_warps_per_unit, 0)} ${cu.unit_name === "CU" ? "wavefront" : "warp"} slots × ${cu.warp_size} threads = `
      + `${fmt(cu.max_warps_per_unit * cu.warp_size, 0)} threads`
    : `Warp slots × threads: ${missing}`;
  text(svg, W / 2, memY + 64, foot, "chart-text sm-small");
  label.push(`${foot}.`);
  svg.setAttribute("aria-label", label.join(" "));
  return svg;
}

/** The per-unit and chip-total table; every total cell carries its value for tests. */
function totalsTable(gpu, prefix) {
  const cu = gpu.compute_units;
  const tot = chipTotals(cu);
  const t = headed(["Resource", `Per ${UNIT_WORDS[cu.unit_name]}`, `× ${fmt(cu.count, 0)} = chip`]);
  const body = t.createTBody();
  /** A new body row that starts with its row header. */
  const headedRow = (name) => {
    const tr = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = name;
    tr.append(th);
    return tr;
  };
  const row = (name, per, total, key, show) => {
    const tr = headedRow(name);
    const a = tr.insertCell();
    a.className = "num";
    a.textContent = per == null ? missing : show(per);
    const b = tr.insertCell();
    b.className = "num";
    b.textContent = total == null ? missing : show(total);
    if (key && total != null) {
      b.dataset.out = `${prefix}-${key}`;
      b.dataset.value = String(total);
    }
  };
  const n = (x) => fmt(x, 0);
  row("Matrix units (tensor / matrix cores)", cu.matrix_units_per_unit, tot.matrixUnits, "matrix", n);
  row("Register file", cu.register_file_kib, tot.registersKib, "registers", kib);
  row("Shared memory (max)", cu.shared_memory_kib, tot.sharedKib, "shared", kib);
  row("L1 + shared array", cu.l1_shared_kib, tot.l1SharedKib, "l1", kib);
  row(cu.unit_name === "CU" ? "Resident wavefronts" : "Resident warps", cu.max_warps_per_unit, tot.warps, "warps", n);
  row("Resident threads", cu.max_warps_per_unit != null && cu.warp_size != null
    ? cu.max_warps_per_unit * cu.warp_size : null, tot.threads, "threads", n);
  const chip = (name, value, key) => {
    const tr = headedRow(name);
    const a = tr.insertCell();
    a.className = "num";
    a.textContent = "chip-wide";
    const b = tr.insertCell();
    b.className = "num";
    b.textContent = value == null ? missing : kib(value * 1024);
    if (value != null) {
      b.dataset.out = `${prefix}-${key}`;
      b.dataset.value = String(value);
    }
  };
  chip("L2 cache", cu.l2_cache_mib, "l2");
  if (cu.last_level_cache_mib != null) chip("Cache behind L2 (Infinity Cache)", cu.last_level_cache_mib, "llc");
  const tr = headedRow("Boost clock");
  const a = tr.insertCell();
  a.className = "num";
  a.colSpan = 2;
  a.textContent = cu.boost_clock_mhz == null ? missing : `${fmt(cu.boost_clock_mhz, 0)} MHz`;
  return t;
}

/** Why a GPU has no drawing. */
function reasons(gpu) {
  const word = VENDOR_UNITS[gpu.vendor] ?? "compute unit";
  return [`No vendor document cited by the handbook gives the ${word} count of the ${gpu.title} with the sizes `
    + "inside each unit, so its entry has no compute_units block.",
  "Its memory, bandwidth and throughput are still in the GPU comparison tool and its catalogue page."];
}

function renderGpu(out, block, gpu, prefix, narrow) {
  if (!gpu.compute_units) {
    block.refuse(`No published SM data for ${gpu.title}:`, reasons(gpu));
    return;
  }
  block.show();
  const cu = gpu.compute_units;
  out(`${prefix}-title`).textContent = `${gpu.title}: ${fmt(cu.count, 0)} ${UNIT_WORDS[cu.unit_name]}s`;
  out(`${prefix}-diagram`).replaceChildren(diagram(gpu, narrow));
  out(`${prefix}-totals`).replaceChildren(totalsTable(gpu, prefix));
}

async function init(root) {
  const tool = await startTool(root, "sm-explorer");
  if (!tool) return;
  const { form, out, guard, data } = tool;
  const f = form.elements;
  const gpus = Object.values(data.gpus).sort((a, b) => (Number(!a.compute_units) - Number(!b.compute_units))
    || a.title.localeCompare(b.title));
  const options = gpus.map((g) => ({ value: g.id, label: g.compute_units ? g.title : `${g.title} (no SM data)` }));
  fillSelect(f.gpu, options, data.gpus["h100-sxm"] ? "h100-sxm" : gpus[0].id);
  fillSelect(f.compare, [{ value: "", label: "None" }, ...options], "");
  const a = replaceable(root, "a");
  const b = replaceable(root, "b");
  const colB = root.querySelector("[data-col='b']");
  const update = guard(() => {
    const gpu = data.gpus[f.gpu.value];
    if (!gpu) throw new Error("choose a GPU");
    const other = data.gpus[f.compare.value];
    colB.hidden = !other;
    // a narrow column (a phone, or two GPUs side by side) draws the schedulers two to a row
    const narrow = (out("a-diagram").clientWidth || root.clientWidth) < 420;
    renderGpu(out, a, gpu, "a", narrow);
    if (other) renderGpu(out, b, other, "b", narrow);
  });
  wireForm(form, update);
}

mountTool("sm-explorer", init);
