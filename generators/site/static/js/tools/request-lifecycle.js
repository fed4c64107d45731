// Request lifecycle: tokenize, queue, prefill, decode and detokenize one request on the roofline model, after the
// feasibility check of the request (prompt + output tokens) in its decode batch.
import { checkSetup, chosenWeights, VLLM_V1 } from "../calc.js";
import { Roofline } from "../roofline.js";
import {
  fillSelect, fmt, formatOptions, modelsByTitle, mountTool, replaceable, rooflineGpus, showNotes, startTool, svgEl,
  wireForm,
} from "../data.js";

const WIDTH = 800; // the widest drawing; a narrower container gets a drawing of its own width
const NARROWEST = 300;

/** Seconds as "12.3 ms" or "1.234 s". */
function dur(s) {
  if (!Number.isFinite(s)) return "–";
  return s < 1 ? `${fmt(s * 1e3, 2)} ms` : `${fmt(s, 3)} s`;
}

/** One lane of the timeline: `phases` laid end to end over `total` seconds, starting at y. */
function lane(svg, width, phases, total, y, title, endLabel, outputTokens) {
  const h = 30;
  const marker = 5;
  const markers = phases.filter((p) => p.marker).length;
  const scale = total > 0 ? (width - 20 - markers * marker) / total : 0;
  const label = (x, ty, text, anchor) => {
    const t = svgEl("text", { x, y: ty, "text-anchor": anchor, class: "chart-text" });
    t.textContent = text;
    svg.append(t);
  };
  label(10, y - 7, title, "start");
  let x = 10;
  for (const p of phases) {
    const w = p.marker ? marker : Math.max(p.seconds * scale, p.seconds > 0 ? 2 : 0);
    const rect = svgEl("rect", { x, y, width: w, height: h, class: `ph ph-${p.key}` });
    const tip = svgEl("title");
    tip.textContent = `${p.name}: ${p.marker ? "negligible" : dur(p.seconds)}`;
    rect.append(tip);
    svg.append(rect);
    if (p.key === "decode" && outputTokens > 1 && outputTokens <= 200 && w > 2 * outputTokens) {
      const step = w / (outputTokens - 1); // one tick per output token
      for (let i = 1; i < outputTokens; i++) {
        svg.append(svgEl("line", { x1: x + i * step, x2: x + i * step, y1: y + h - 8, y2: y + h, class: "tick" }));
      }
    }
    x += w;
  }
  svg.append(svgEl("line", { x1: 10, x2: 10, y1: y - 3, y2: y + h + 4, class: "axis" }));
  svg.append(svgEl("line", { x1: x, x2: x, y1: y - 3, y2: y + h + 4, class: "axis" }));
  label(10, y + h + 18, "0", "start");
  label(x, y + h + 18, endLabel, "end");
}

function timeline(container, phases, ttft, total, outputTokens) {
  // drawn at the container's width (text at its natural size on a phone), then scaled with the page
  const width = Math.round(Math.min(WIDTH, Math.max(NARROWEST, container.clientWidth || WIDTH)));
  const svg = svgEl("svg", { viewBox: `0 0 ${width} 160`, class: "timeline fit-width", role: "img",
    "aria-label": `Timeline of one request: ${phases.map((p) => `${p.name} ${dur(p.seconds)}`).join(", ")}` });
  lane(svg, width, phases, total, 24, "Whole request", `E2E ${dur(total)}`, outputTokens);
  const early = phases.filter((p) => ["tokenize", "queue", "prefill"].includes(p.key));
  lane(svg, width, early, ttft, 104, "Zoom: arrival to first token", `TTFT ${dur(ttft)}`, 0);
  const legend = document.createElement("ul");
  legend.className = "legend";
  for (const p of phases) {
    const li = document.createElement("li");
    const sw = document.createElement("span");
    sw.className = `swatch ph-${p.key}`;
    li.append(sw, `${p.name}: ${p.marker ? "≈ 0" : dur(p.seconds)}`);
    legend.append(li);
  }
  container.replaceChildren(svg, legend);
}

function phaseTable(rows) {
  const t = document.createElement("table");
  const head = t.createTHead().insertRow();
  for (const h of ["Phase", "Time", "Bound", "What happens"]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    head.append(th);
  }
  const body = t.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = r.name;
    tr.append(th);
    const time = tr.insertCell();
    time.textContent = r.text;
    if (r.out) {
      time.dataset.out = r.out;
      time.dataset.value = String(r.seconds);
    }
    tr.insertCell().textContent = r.bound || "";
    tr.insertCell().textContent = r.what;
  }
  return t;
}

async function init(root) {
  const tool = await startTool(root, "request-lifecycle");
  if (!tool) return;
  const { form, out, guard, data } = tool;
  const models = modelsByTitle(data);
  const pick = (fallback, pool) => (pool[fallback] ? fallback : Object.keys(pool)[0]);
  fillSelect(form.elements.model, models.map((m) => ({ value: m.id, label: m.title })),
    pick("llama-3.1-8b-instruct", data.models));
  fillSelect(form.elements.gpu, rooflineGpus(data).map((g) => ({ value: g.id, label: g.label })),
    pick("h100-sxm", data.gpus));
  fillSelect(form.elements.format, formatOptions(data), "native");
  fillSelect(form.elements.kv, Object.keys(data.kv_dtype_bits).map((d) => ({ value: d, label: d })), "bf16");

  const setup = replaceable(root, "setup");
  const update = guard(() => {
    const f = form.elements;
    const model = data.models[f.model.value];
    const gpu = data.gpus[f.gpu.value];
    const { format: wfmt, groups } = chosenWeights(model, data.formats, f.format.value);
    const tp = Number(f.tp.value);
    const prompt = Math.round(Number(f.prompt.value));
    const output = Math.round(Number(f.output.value));
    const queue = Number(f.queue.value) / 1e3;
    const batch = Math.round(Number(f.batch.value));
    if (!(prompt >= 1 && output >= 1 && batch >= 1)) throw new Error("prompt, output and batch must be at least 1");
    if (output > 32768) throw new Error("output is capped at 32,768 tokens here");
    if (!(queue >= 0)) throw new Error("queue delay must not be negative");
    const kvBits = data.kv_dtype_bits[f.kv.value];
    // the request's whole context, in a batch of `batch` such sequences held in the KV cache at once
    const result = checkSetup({ model, gpu, weights: wfmt, kv: data.formats[f.kv.value] ?? null, kv_bits: kvBits,
      tp, context: prompt + output, sequences: batch, mode: "batch", engine: VLLM_V1, groups });
    showNotes(root, result);
    if (!result.feasible) {
      setup.refuse(`This request cannot run: ${fmt(prompt, 0)} + ${fmt(output, 0)} tokens of ${model.title} in a `
        + `batch of ${fmt(batch, 0)} on ${tp} × ${gpu.title}:`, result.reasons);
      return;
    }
    setup.show();
    const r = new Roofline(model.architecture, gpu, wfmt, kvBits, tp, {}, groups);
    const pre = r.prefill(prompt, 1);
    const lat = r.requestLatency(prompt, output, batch);
    const decodeS = lat.e2elS - lat.ttftS;
    const ttft = queue + lat.ttftS;
    const e2el = queue + lat.e2elS;
    const firstStep = output > 1 ? r.decodeStep(batch, prompt + 1) : null;
    const lastStep = output > 1 ? r.decodeStep(batch, prompt + output - 1) : null;
    const set = (name, seconds, text = dur(seconds)) => {
      out(name).textContent = text;
      out(name).dataset.value = String(seconds);
    };
    set("ttft", ttft);
    set("itl", lat.tpotS, output > 1 ? dur(lat.tpotS) : "– (one token)");
    set("e2el", e2el);
    const phases = [
      { key: "tokenize", name: "Tokenize", seconds: 0, marker: true },
      { key: "queue", name: "Queue", seconds: queue },
      { key: "prefill", name: "Prefill", seconds: pre.seconds },
      { key: "decode", name: "Decode", seconds: decodeS },
      { key: "detok", name: "Detokenize", seconds: 0, marker: true },
    ];
    timeline(out("timeline"), phases, ttft, e2el, output);
    out("phases").replaceChildren(phaseTable([
      { name: "Tokenize", text: "≈ 0 (negligible)", what: "The server turns text into token ids on the CPU: "
        + "microseconds per request, overlapped with scheduling." },
      { name: "Queue", text: dur(queue), seconds: queue, out: "queue", what: "Waits for a slot in the running "
        + "batch (your input: it grows with load)." },
      { name: "Prefill", text: dur(pre.seconds), seconds: pre.seconds, out: "prefill", bound: pre.bound,
        what: `One forward pass over ${fmt(prompt, 0)} prompt tokens fills the KV cache and yields the first token.` },
      { name: "Decode", text: `${dur(decodeS)} (${fmt(output - 1, 0)} steps)`, seconds: decodeS, out: "decode",
        bound: output < 2 ? "" : firstStep.bound === lastStep.bound ? firstStep.bound
          : `${firstStep.bound} → ${lastStep.bound}`,
        what: `${fmt(output - 1, 0)} steps at batch ${fmt(batch, 0)}; each reads the weights and the KV cache `
          + "once and adds one token per sequence." },
      { name: "Detokenize", text: "≈ 0 (negligible)", what: "Token ids back to text, streamed token by token." },
    ]));
    out("explain").textContent = output > 1
      ? `A decode step reads ${fmt(firstStep.bytesRead / 1e9, 2)} GB per GPU (weights plus KV cache), so this `
        + `request streams ${fmt(1 / lat.tpotS, 1)} tokens/s; prefill is ${pre.bound}-bound, decode `
        + `${firstStep.bound}-bound. TTFT and E2E include the queue delay.`
      : "With a single output token there is no decode phase: E2E latency equals TTFT.";
  });
  wireForm(form, update);
}

mountTool("request-lifecycle", init);
