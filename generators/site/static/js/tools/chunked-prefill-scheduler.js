// Chunked-prefill scheduler: new prompts arriving beside running decodes, scheduled step by step under a token
// budget with chunking on and off. The step rule is the continuous policy of inferbook's simulator
// (calc/simulator.py, calc.js `simulate`): decodes first, then prompts in arrival order fill the budget; each
// step is timed by the roofline step model (roofline.js `stepModel`, calc.js `stepSeconds`).
import { checkSetup, chosenWeights, spans, stepSeconds, VLLM_V1 } from "../calc.js";
import { Roofline, stepModel } from "../roofline.js";
import {
  fillSelect, fmt, headed, modelsByTitle, mountTool, replaceable, rooflineGpus, showNotes, startTool, svgEl,
  wireForm,
} from "../data.js";

const MAX_PROMPTS = 6;
const MAX_DECODES = 4096;
const MAX_STEPS = 20000;
const ROWS = 40;
const WIDTH = 800;

function dur(s) {
  return s < 1 ? `${fmt(s * 1e3, 2)} ms` : `${fmt(s, 3)} s`;
}

/** Seconds of one step: `dec` holds each running decode's context, `chunks` [{done, take, last}]. */
function stepTime(m, dec, chunks) {
  let [spanFull, spanWin, tokens, logits] = [0, 0, dec.length, dec.length];
  for (const c of chunks) {
    const [f, w] = spans(m, c.done, c.take);
    spanFull += f;
    spanWin += w;
    tokens += c.take;
    if (c.last) logits += 1;
  }
  const kvFull = dec.reduce((a, c) => a + c, 0);
  const kvWin = m.window ? dec.reduce((a, c) => a + Math.min(c, m.window), 0) : 0;
  spanFull += kvFull + dec.length;
  if (m.window) spanWin += kvWin + dec.length;
  return stepSeconds(m, tokens, logits, spanFull, spanWin, kvFull, kvWin, dec.length + chunks.length);
}

/**
 * Steps until every prompt has its first token and the clock has reached `until`. Admission and chunking as the simulator's continuous
 * policy: the budget left after the decodes admits prompts (one token each at least); chunked, a prompt
 * takes what fits; unchunked, a prompt runs whole, and only as the step's first prompt if over the budget.
 */
function schedule(m, budget, decodes, context, prompts, chunked, until = 0) {
  const dec = new Array(decodes).fill(context);
  const waiting = prompts.map((len, id) => ({ id, len, left: len }));
  const prefilling = [];
  const ttft = prompts.map(() => null);
  const steps = [];
  let clock = 0;
  let prefillSteps = 0;
  while (waiting.length || prefilling.length || (clock < until && dec.length)) {
    if (steps.length >= MAX_STEPS) {
      throw new Error(`the prompts need more than ${fmt(MAX_STEPS, 0)} steps; raise the budget or shorten them`);
    }
    let room = budget - dec.length;
    while (waiting.length && room > prefilling.length) {
      if (!chunked && waiting[0].left > room && prefilling.length) break;
      prefilling.push(waiting.shift());
    }
    const chunks = [];
    for (const seq of prefilling) {
      if (room <= 0) break;
      const take = chunked ? Math.min(seq.left, room) : seq.left;
      if (!chunked && take > room && chunks.length) break;
      chunks.push({ seq, done: seq.len - seq.left, take, last: take === seq.left });
      room -= take;
    }
    const dt = stepTime(m, dec, chunks);
    const start = clock;
    clock += dt;
    steps.push({ start, dt, decodes: dec.length, tokens: dec.length + chunks.reduce((a, c) => a + c.take, 0),
      chunks: chunks.map((c) => ({ id: c.seq.id, take: c.take, last: c.last })) });
    for (let i = 0; i < dec.length; i++) dec[i] += 1;
    for (const c of chunks) {
      c.seq.left -= c.take;
      if (c.seq.left === 0) {
        prefilling.splice(prefilling.indexOf(c.seq), 1);
        ttft[c.seq.id] = clock;
        dec.push(c.seq.len + 1); // its first token is out; it decodes from the next step
        prefillSteps = steps.length;
      }
    }
  }
  const gaps = steps.filter((s) => s.decodes > 0).map((s) => s.dt);
  return { steps, ttft, clock, prefillSteps, last: Math.max(...ttft), gap: gaps.length ? Math.max(...gaps) : null, kvTokens: dec.reduce((a, c) => a + c, 0) };
}

function stepTable(run, title) {
  const t = headed(["Step", "Decodes", "Prefill chunks", "Time"]);
  t.className = "sched-table";
  const caption = t.createCaption();
  caption.textContent = title;
  const body = t.createTBody();
  run.steps.slice(0, ROWS).forEach((s, i) => {
    const row = body.insertRow();
    row.className = s.chunks.length ? "sched-row-mixed" : "";
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = String(i + 1);
    row.append(th);
    for (const text of [fmt(s.decodes, 0), s.chunks.map((c) => `P${c.id + 1}: ${fmt(c.take, 0)}${c.last ? " ✓" : ""}`)
      .join(", ") || "–"]) {
      const td = row.insertCell();
      td.textContent = text;
    }
    const time = row.insertCell();
    time.className = "num";
    time.textContent = dur(s.dt);
    time.dataset.value = String(s.dt);
    time.dataset.tokens = String(s.tokens);
  });
  if (run.steps.length > ROWS) {
    const cell = body.insertRow().insertCell();
    cell.colSpan = 4;
    cell.textContent = `… ${fmt(run.steps.length - ROWS, 0)} more steps (${fmt(run.steps.length, 0)} in all)`;
  }
  return t;
}

function timeline(container, runs, prompts) {
  const total = Math.max(...runs.map((r) => r.clock));
  const svg = svgEl("svg", { viewBox: `0 0 ${WIDTH} 170`, class: "timeline", role: "img",
    "aria-label": runs.map((r) => `${r.name}: the last prompt's first token at ${dur(r.last)}, after `
      + `${r.prefillSteps} steps`).join("; ") });
  const scale = (WIDTH - 130) / total;
  runs.forEach((r, lane) => {
    const y = 28 + lane * 70;
    const label = svgEl("text", { x: 0, y: y + 20, class: "chart-text" });
    label.textContent = r.name;
    svg.append(label);
    for (const s of r.steps) {
      svg.append(svgEl("rect", { x: 110 + s.start * scale, y, width: Math.max(s.dt * scale, 0.5), height: 30,
        class: s.chunks.length ? "sched-mixed" : "sched-decode" }));
    }
    r.ttft.forEach((t, i) => {
      const x = 110 + t * scale;
      svg.append(svgEl("line", { x1: x, x2: x, y1: y - 6, y2: y + 36, class: "marker-line" }));
      const tag = svgEl("text", { x, y: y - 9, "text-anchor": "middle", class: "chart-text sched-tag" });
      tag.textContent = `P${i + 1}`;
      svg.append(tag);
    });
  });
  const axis = svgEl("text", { x: WIDTH - 10, y: 165, "text-anchor": "end", class: "chart-text" });
  axis.textContent = dur(total);
  svg.append(axis);
  container.replaceChildren(svg);
}

async function init(root) {
  const tool = await startTool(root, "chunked-prefill-scheduler");
  if (!tool) return;
  const { form, out, guard, data } = tool;
  const models = modelsByTitle(data);
  const pick = (id, pool) => (pool[id] ? id : Object.keys(pool)[0]);
  fillSelect(form.elements.model, models.map((m) => ({ value: m.id, label: m.title })),
    pick("llama-3.1-8b-instruct", data.models));
  fillSelect(form.elements.gpu, rooflineGpus(data).map((g) => ({ value: g.id, label: g.label })),
    pick("h100-sxm", data.gpus));
  const setup = replaceable(root, "setup");
  const update = guard(() => {
    const f = form.elements;
    const whole = (name, words, least) => {
      const v = Number(f[name].value);
      if (!(Number.isInteger(v) && v >= least)) throw new Error(`${words} must be a whole number of at least ${least}`);
      return v;
    };
    const budget = whole("budget", "the token budget", 1);
    const decodes = whole("decodes", "the running decodes", 0);
    if (decodes > MAX_DECODES) throw new Error(`at most ${fmt(MAX_DECODES, 0)} running decodes here`);
    const context = whole("context", "the decodes' context", 1);
    const prompts = f.prompts.value.split(/[\s,;]+/).filter(Boolean).map(Number);
    if (!prompts.length || prompts.length > MAX_PROMPTS || !prompts.every((p) => Number.isInteger(p) && p >= 1)) {
      throw new Error(`give 1 to ${MAX_PROMPTS} prompt lengths, whole numbers of at least 1 token, separated by commas`);
    }
    const model = data.models[f.model.value];
    const gpu = data.gpus[f.gpu.value];
    const { format: wfmt, groups } = chosenWeights(model, data.formats, "native");
    const result = checkSetup({ model, gpu, weights: wfmt, kv_bits: 16, tp: 1, context: Math.max(context, ...prompts),
      sequences: 1, mode: "batch", engine: VLLM_V1, groups });
    showNotes(root, result);
    const reasons = [...result.reasons];
    if (budget <= decodes) {
      reasons.push(`a budget of ${fmt(budget, 0)} tokens per step leaves nothing for prefill after ${fmt(decodes, 0)} `
        + "running decodes take one token each: the new prompts wait until some decodes finish");
    }
    let runs = null;
    if (!reasons.length) {
      const m = stepModel(new Roofline(model.architecture, gpu, wfmt, 16, 1, {}, groups));
      // both runs go on with decode-only steps a little past the later last first token, on one time axis
      const until = 1.15 * Math.max(...[true, false].map((c) => schedule(m, budget, decodes, context, prompts, c).last));
      runs = [true, false].map((chunked) => ({ ...schedule(m, budget, decodes, context, prompts, chunked, until),
        name: chunked ? "Chunked" : "Unchunked", key: chunked ? "on" : "off" }));
      const need = Math.max(...runs.map((r) => r.kvTokens));
      const longest = Math.max(context + Math.max(...runs.map((r) => r.steps.length)), ...prompts.map((p) => p + 1));
      if (longest > model.architecture.context_length) {
        reasons.push(`a context reaches ${fmt(longest, 0)} tokens during the run, more than ${model.title}'s maximum `
          + `of ${fmt(model.architecture.context_length, 0)}`);
      } else if (need > result.capacity.kvTokens) {
        reasons.push(`by the last step the sequences hold ${fmt(need, 0)} tokens of KV cache; one ${gpu.title} has `
          + `room for ${fmt(result.capacity.kvTokens, 0)} after the weights`);
      }
    }
    if (reasons.length) {
      setup.refuse(`Cannot schedule ${prompts.length} new prompt${prompts.length > 1 ? "s" : ""} beside `
        + `${fmt(decodes, 0)} decodes of ${model.title} on one ${gpu.title}:`, reasons);
      return;
    }
    setup.show();
    for (const r of runs) {
      out(`gap-${r.key}`).textContent = r.gap === null ? "no decodes running" : dur(r.gap);
      if (r.gap !== null) out(`gap-${r.key}`).dataset.value = String(r.gap);
      else delete out(`gap-${r.key}`).dataset.value;
      out(`ttft-${r.key}`).replaceChildren(...r.ttft.flatMap((t, i) => {
        const span = document.createElement("span");
        span.dataset.out = `ttft-${r.key}-${i}`;
        span.dataset.value = String(t);
        span.textContent = `P${i + 1} ${dur(t)}`;
        return i ? [" · ", span] : [span];
      }));
      out(`steps-${r.key}`).replaceChildren(stepTable(r, `Chunked prefill ${r.key}: step by step`));
    }
    timeline(out("timeline"), runs, prompts);
    const [on, off] = runs;
    const base = decodes ? stepTime(stepModel(new Roofline(model.architecture, gpu, wfmt, 16, 1, {}, groups)),
      new Array(decodes).fill(context), []) : null;
    out("explain").textContent = (base === null ? "No decodes are running, so nothing stalls; "
      : `A step of the ${fmt(decodes, 0)} decodes alone takes ${dur(base)}. Unchunked, the longest step takes `
        + `${dur(off.gap)}, and every running decode waits that long for its next token; chunked, the longest `
        + `gap is ${dur(on.gap)}. `)
      + `The last prompt's first token comes at ${dur(on.last)} chunked and ${dur(off.last)} unchunked `
      + `(after ${on.prefillSteps} and ${off.prefillSteps} steps).`;
  });
  wireForm(form, update);
}

mountTool("chunked-prefill-scheduler", init);
