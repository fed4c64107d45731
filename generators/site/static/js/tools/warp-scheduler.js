// Warp-scheduler visualiser: one scheduler of an SM (a SIMD of an AMD CU) with N resident warps, each alternating
// `compute` cycles of instructions and a memory load of `latency` cycles. Each cycle the scheduler issues one
// instruction of a ready warp (greedy: the same warp until it stalls, then the next ready one in turn). The
// simulation is the pure function `simulateScheduler`, tested against a Python reference
// (tests/test_site_widgets_gpu.py); the GPU only bounds the warps (max_warps_per_unit / schedulers_per_unit).
import { fillSelect, fmt, mountTool, replaceable, startTool, svgEl, wireForm } from "../data.js";

/**
 * Simulate one warp scheduler cycle by cycle.
 * @param {{warps: number, compute: number, latency: number, cycles: number}} p Whole numbers: warps and compute
 *   at least 1, latency at least 0, cycles at least 1.
 * @returns {{rows: string[], issued: number[], issuedCycles: number, utilisation: number, warpsToHide: number,
 *   steadyUtilisation: number}} `rows[w][t]` is "I" (warp w issues at cycle t), "R" (ready, not picked) or
 *   "S" (waiting on memory); `issued[t]` is the warp issued at cycle t or -1.
 */
export function simulateScheduler({ warps, compute, latency, cycles }) {
  const whole = (x, lo) => Number.isInteger(x) && x >= lo;
  if (!(whole(warps, 1) && whole(compute, 1) && whole(latency, 0) && whole(cycles, 1))) {
    throw new Error("warps, compute and cycles must be whole numbers of at least 1, latency at least 0");
  }
  const readyAt = new Array(warps).fill(0);
  const left = new Array(warps).fill(compute);
  const rows = Array.from({ length: warps }, () => []);
  const issued = [];
  let current = -1;
  for (let t = 0; t < cycles; t++) {
    let pick = -1;
    if (current >= 0 && readyAt[current] <= t) pick = current;
    else {
      for (let i = 1; i <= warps; i++) {
        const w = (current + i + warps) % warps;
        if (readyAt[w] <= t) {
          pick = w;
          break;
        }
      }
    }
    for (let w = 0; w < warps; w++) rows[w].push(w === pick ? "I" : readyAt[w] <= t ? "R" : "S");
    if (pick >= 0) {
      left[pick] -= 1;
      if (left[pick] === 0) { // the burst's last instruction issues the load
        left[pick] = compute;
        readyAt[pick] = t + 1 + latency;
      }
      current = pick;
    }
    issued.push(pick);
  }
  const issuedCycles = issued.filter((w) => w >= 0).length;
  return {
    rows: rows.map((r) => r.join("")), issued, issuedCycles, utilisation: issuedCycles / cycles,
    warpsToHide: 1 + latency / compute, steadyUtilisation: Math.min(1, (warps * compute) / (compute + latency)),
  };
}

const CELL = { I: "ws-issue", R: "ws-ready", S: "ws-stall" };

/** The issue grid: one row per warp, one column per cycle, cells after `shown` cycles left empty. */
function grid(sim, shown) {
  const warps = sim.rows.length;
  const cycles = sim.issued.length;
  const cw = 12;
  const rh = 18;
  const left = 62;
  const top = 20;
  const width = left + cycles * cw + 4;
  const height = top + warps * rh + 4;
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, class: "ws-svg", role: "img",
    "aria-label": `Issue timeline of ${warps} warps over ${cycles} cycles: ${sim.issuedCycles} cycles issue an `
      + "instruction." });
  svg.style.minWidth = `${Math.round(width * 0.75)}px`; // legible on a phone: the wrapper scrolls instead
  for (let t = 0; t < cycles; t += 8) {
    const label = svgEl("text", { x: left + t * cw + cw / 2, y: 13, class: "chart-text ws-tick", "text-anchor": "middle" });
    label.textContent = String(t);
    svg.append(label);
  }
  sim.rows.forEach((row, w) => {
    const y = top + w * rh;
    const name = svgEl("text", { x: left - 6, y: y + 13, class: "chart-text ws-tick", "text-anchor": "end" });
    name.textContent = `warp ${w}`;
    svg.append(name);
    for (let t = 0; t < Math.min(shown, cycles); t++) {
      svg.append(svgEl("rect", { x: left + t * cw + 0.5, y: y + 1, width: cw - 1, height: rh - 2,
        class: CELL[row[t]] }));
    }
  });
  if (shown < cycles) {
    svg.append(svgEl("line", { x1: left + shown * cw, x2: left + shown * cw, y1: top - 4, y2: height, class: "ws-now" }));
  }
  return svg;
}

const pct = (x) => `${fmt(x * 100, 1)}%`;

async function init(root) {
  const tool = await startTool(root, "warp-scheduler");
  if (!tool) return;
  const { form, out, guard, data } = tool;
  const f = form.elements;
  const gpus = Object.values(data.gpus).filter((g) => g.compute_units)
    .sort((a, b) => a.title.localeCompare(b.title));
  fillSelect(f.gpu, gpus.map((g) => ({ value: g.id, label: g.title })),
    data.gpus["h100-sxm"]?.compute_units ? "h100-sxm" : gpus[0]?.id);
  const block = replaceable(root, "sched");
  const buttons = Object.fromEntries([...root.querySelectorAll("[data-action]")].map((b) => [b.dataset.action, b]));
  let sim = null;
  let shown = 0;
  let timer = null;

  const draw = () => {
    if (!sim) return;
    const cycles = sim.issued.length;
    out("grid").replaceChildren(grid(sim, shown));
    const done = sim.issued.slice(0, shown).filter((w) => w >= 0).length;
    out("cycle").textContent = `Cycle ${fmt(shown, 0)} of ${fmt(cycles, 0)}: ${fmt(done, 0)} issued`
      + `${shown ? ` (${pct(done / shown)})` : ""}`;
    buttons.step.disabled = shown >= cycles;
  };
  const stop = () => {
    if (timer) clearInterval(timer);
    timer = null;
    buttons.play.disabled = false;
    buttons.pause.disabled = true;
  };
  const tick = () => {
    if (!sim || shown >= sim.issued.length) {
      stop();
      return;
    }
    shown += 1;
    draw();
  };
  buttons.step.addEventListener("click", () => {
    stop();
    tick();
  });
  buttons.play.addEventListener("click", () => {
    if (!sim) return;
    if (shown >= sim.issued.length) shown = 0;
    stop();
    buttons.play.disabled = true;
    buttons.pause.disabled = false;
    timer = setInterval(tick, 150);
    buttons.pause.focus();
  });
  buttons.pause.addEventListener("click", () => {
    stop();
    buttons.play.focus();
  });
  buttons.reset.addEventListener("click", () => {
    stop();
    shown = 0;
    draw();
  });

  const update = guard(() => {
    stop();
    sim = null;
    const gpu = data.gpus[f.gpu.value];
    const read = (el) => Number(el.value);
    const [warps, compute, latency, cycles] = [read(f.warps), read(f.compute), read(f.latency), read(f.cycles)];
    if (!(Number.isInteger(warps) && warps >= 1)) throw new Error("warps must be a whole number of at least 1");
    if (!(Number.isInteger(compute) && compute >= 1)) throw new Error("compute cycles must be a whole number of at least 1");
    if (!(Number.isInteger(latency) && latency >= 0)) throw new Error("memory latency must be a whole number of at least 0");
    if (!(Number.isInteger(cycles) && cycles >= 1 && cycles <= 400)) throw new Error("simulate 1 to 400 cycles");
    const cu = gpu?.compute_units;
    if (!cu || cu.max_warps_per_unit == null || cu.schedulers_per_unit == null) {
      block.refuse(`No warp-slot limit for ${gpu ? gpu.title : "this GPU"}:`, [
        "Its entry does not record both the warps resident per unit and the schedulers per unit, so the warps one "
        + "scheduler can hold are not known from the data."]);
      return;
    }
    const perScheduler = cu.max_warps_per_unit / cu.schedulers_per_unit;
    const word = cu.unit_name === "CU" ? "CU" : "SM";
    if (warps > perScheduler) {
      block.refuse(`${fmt(warps, 0)} warps do not fit on one scheduler of the ${gpu.title}:`, [
        `One ${word} holds at most ${fmt(cu.max_warps_per_unit, 0)} warps, shared by its `
        + `${fmt(cu.schedulers_per_unit, 0)} schedulers: ${fmt(perScheduler, 2)} per scheduler.`,
        "Resident warps also need registers and shared memory; with heavy kernels fewer fit."]);
      return;
    }
    block.show();
    sim = simulateScheduler({ warps, compute, latency, cycles });
    shown = cycles;
    out("utilisation").textContent = pct(sim.utilisation);
    out("utilisation").dataset.value = String(sim.utilisation);
    out("warps-needed").textContent = `${fmt(sim.warpsToHide, 2)} (1 + ${fmt(latency, 0)} / ${fmt(compute, 0)})`;
    out("warps-needed").dataset.value = String(sim.warpsToHide);
    out("limit").textContent = `The ${gpu.title} holds up to ${fmt(cu.max_warps_per_unit, 0)} warps per ${word} `
      + `over ${fmt(cu.schedulers_per_unit, 0)} schedulers: up to ${fmt(perScheduler, 2)} on this one.`;
    out("explain").textContent = `${fmt(sim.issuedCycles, 0)} of ${fmt(cycles, 0)} cycles issue an instruction. `
      + `Once running, each warp is busy ${fmt(compute, 0)} of every ${fmt(compute + latency, 0)} cycles, so ${fmt(warps, 0)} `
      + `warps keep the scheduler busy ${pct(sim.steadyUtilisation)} of the time (min(1, N·c / (c + L))); the first `
      + "cycles, before any warp has stalled, can run higher. "
      + (warps >= sim.warpsToHide ? "With at least 1 + L / c warps, once they are running some warp is always ready."
        : `Below ${fmt(Math.ceil(sim.warpsToHide), 0)} warps every warp can be waiting at once and the scheduler idles.`);
    draw();
  });
  wireForm(form, update);
}

mountTool("warp-scheduler", init);
