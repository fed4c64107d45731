// Decode stepper: one request on one GPU, step by step. The prefill writes the prompt's KV cache and yields
// the first token; each decode step then reads the weights and the whole KV cache to add one token. Sizes
// come from calc.js (kvBytes) and times from the roofline (roofline.js: prefill, decodeStep at batch 1),
// after the feasibility check (checkSetup) of the whole request.
import { checkSetup, chosenWeights, DEFAULT_MBU, kvBytes, kvBytesPerToken, VLLM_V1 } from "../calc.js";
import { Roofline } from "../roofline.js";
import {
  fillSelect, fmt, modelsByTitle, mountTool, replaceable, rooflineGpus, showNotes, startTool, wireForm,
} from "../data.js";

/** Illustrative token texts (the page runs no model). */
const WORDS = [" Each", " new", " token", " reads", " every", " weight", " and", " the", " whole", " cache", ",",
  " so", " decoding", " is", " bound", " by", " memory", "."];
const MAX_OUTPUT = 256;
const PLAY_MS = 650;

/** Seconds as "12.3 ms" or "1.234 s". */
function dur(s) {
  return s < 1 ? `${fmt(s * 1e3, 3)} ms` : `${fmt(s, 3)} s`;
}

/** Bytes in decimal units (GB = 10^9 bytes, as bandwidth is quoted). */
function bytes(b) {
  if (b >= 1e9) return `${fmt(b / 1e9, 3)} GB`;
  if (b >= 1e6) return `${fmt(b / 1e6, 2)} MB`;
  return `${fmt(b / 1e3, 1)} kB`;
}

/** Every step of the request: the prefill, then one decode step per further token. */
function plan(r, arch, kvBits, prompt, output) {
  const steps = [];
  let elapsed = 0;
  const add = (kind, context, t, weights) => {
    elapsed += t.seconds;
    steps.push({ kind, context, kv: kvBytes(arch, context, kvBits, 1, 1, 1, true).bytesUnique, read: t.bytesRead,
      weights, time: t.seconds, memoryS: t.memoryS, computeS: t.computeS, bound: t.bound, flops: t.flops, elapsed });
  };
  add("prefill", prompt, r.prefill(prompt, 1), r.weightBytesPerGpu(r.expertsTouchedFraction(prompt)));
  const oneToken = r.weightBytesPerGpu(r.expertsTouchedFraction(1));
  for (let j = 1; j < output; j++) add("decode", prompt + j, r.decodeStep(1, prompt + j), oneToken);
  return steps;
}

function tokenRow(step, index, max, current) {
  const li = document.createElement("li");
  if (current) li.setAttribute("aria-current", "step");
  const tok = document.createElement("code");
  tok.textContent = JSON.stringify(WORDS[index % WORDS.length]);
  const stack = document.createElement("span");
  stack.className = "stack token-bar";
  stack.setAttribute("role", "presentation");
  for (const [cls, b] of [["seg-weights", step.weights], ["seg-kv", step.read - step.weights]]) {
    const seg = document.createElement("span");
    seg.className = `seg ${cls}`;
    seg.style.setProperty("width", `${(b / max) * 100}%`);
    stack.append(seg);
  }
  const text = document.createElement("span");
  text.className = "token-figures";
  text.textContent = `${step.kind === "prefill" ? "prefill" : `step ${index + 1}`}: ${bytes(step.read)} · ${dur(step.time)}`;
  li.append(tok, stack, text);
  return li;
}

async function init(root) {
  const tool = await startTool(root, "decode-stepper");
  if (!tool) return;
  const { form, out, guard, data } = tool;
  const models = modelsByTitle(data);
  const pick = (id, pool) => (pool[id] ? id : Object.keys(pool)[0]);
  fillSelect(form.elements.model, models.map((m) => ({ value: m.id, label: m.title })),
    pick("llama-3.1-8b-instruct", data.models));
  fillSelect(form.elements.gpu, rooflineGpus(data).map((g) => ({ value: g.id, label: g.label })),
    pick("h100-sxm", data.gpus));
  fillSelect(form.elements.kv, Object.keys(data.kv_dtype_bits).map((d) => ({ value: d, label: d })), "bf16");
  const setup = replaceable(root, "setup");
  const output = root.querySelector(".tool-output");
  let steps = [];
  let shown = 1;
  let timer = null;
  let ctx = null;

  const set = (name, value, text) => {
    out(name).textContent = text;
    out(name).dataset.value = String(value);
  };
  const stop = () => {
    if (timer) clearInterval(timer);
    timer = null;
    output.removeAttribute("aria-busy");
  };
  const draw = () => {
    if (!steps.length) return;
    const s = steps[shown - 1];
    const last = shown === steps.length;
    set("step", shown, `${fmt(shown, 0)} of ${fmt(steps.length, 0)}`);
    out("phase").textContent = s.kind === "prefill" ? "prefill: the whole prompt in one pass, then token 1"
      : `decode: one token in, token ${shown} out${last ? " (the last)" : ""}`;
    set("context", s.context, fmt(s.context, 0));
    set("kv", s.kv, bytes(s.kv));
    set("read", s.read, `${bytes(s.read)} (${bytes(s.weights)} + ${bytes(s.read - s.weights)})`);
    set("time", s.time, `${dur(s.time)}, ${s.bound}-bound`);
    set("elapsed", s.elapsed, dur(s.elapsed));
    const bw = ctx.gpu.memory_bandwidth_gb_s.value;
    const perToken = kvBytesPerToken(ctx.arch, ctx.kvBits);
    const a = ctx.arch;
    const window = (a.layer_pattern ?? []).some((k) => k === "sliding" || k === "chunked")
      ? a.sliding_window || a.attention_chunk_size : null;
    const cache = `The KV cache holds ${fmt(s.context, 0)} tokens at ${fmt(perToken, 0)} bytes per token`
      + (window ? `, until the context passes the ${fmt(window, 0)}-token window of the windowed layers, which then `
        + "stop growing." : ".");
    out("explain").textContent = s.kind === "prefill"
      ? `The prefill pushes all ${fmt(s.context, 0)} prompt tokens through the model at once: ${fmt(s.flops / 1e12, 1)} `
        + `TFLOP of work against ${bytes(s.read)} of weights and fresh KV cache, so it is ${s.bound}-bound. ${cache}`
      : `This step feeds one token through the model: it reads ${bytes(s.weights)} of weights and `
        + `${bytes(s.read - s.weights)} of KV cache for only ${fmt(s.flops / 1e9, 1)} GFLOP of work. Reading `
        + `${bytes(s.read)} at ${fmt(DEFAULT_MBU * 100, 0)} % of the ${ctx.gpu.title}'s ${fmt(bw, 0)} GB/s takes `
        + `${dur(s.memoryS)} (${dur(s.read / (bw * 1e9))} at the full peak), the math ${dur(s.computeS)}: `
        + `the step is ${s.bound}-bound. ${cache}`;
    const max = Math.max(...steps.map((x) => x.read));
    out("tokens").replaceChildren(...steps.slice(0, shown).map((x, i) => tokenRow(x, i, max, i === shown - 1)));
  };

  const update = guard(() => {
    const f = form.elements;
    const model = data.models[f.model.value];
    const gpu = data.gpus[f.gpu.value];
    const prompt = Number(f.prompt.value);
    const outputTokens = Number(f.output.value);
    if (!(Number.isInteger(prompt) && prompt >= 1)) throw new Error("the prompt must be a whole number of tokens, at least 1");
    if (!(Number.isInteger(outputTokens) && outputTokens >= 1 && outputTokens <= MAX_OUTPUT)) {
      throw new Error(`the new tokens must be a whole number from 1 to ${MAX_OUTPUT}`);
    }
    const kvBits = data.kv_dtype_bits[f.kv.value];
    const { format: wfmt, groups } = chosenWeights(model, data.formats, "native");
    const result = checkSetup({ model, gpu, weights: wfmt, kv: data.formats[f.kv.value] ?? null, kv_bits: kvBits,
      tp: 1, context: prompt + outputTokens, sequences: 1, mode: "batch", engine: VLLM_V1, groups });
    showNotes(root, result);
    if (!result.feasible) {
      stop();
      steps = [];
      setup.refuse(`Cannot run ${fmt(prompt, 0)} + ${fmt(outputTokens, 0)} tokens of ${model.title} on one `
        + `${gpu.title}:`, result.reasons);
      return;
    }
    setup.show();
    ctx = { arch: model.architecture, gpu, kvBits };
    steps = plan(new Roofline(model.architecture, gpu, wfmt, kvBits, 1, {}, groups), model.architecture, kvBits,
      prompt, outputTokens);
    shown = Math.min(Math.max(shown, 1), steps.length);
    draw();
  });

  const advance = () => {
    if (shown < steps.length) {
      shown += 1;
      draw();
    }
    if (shown >= steps.length) stop();
  };
  const actions = {
    step: () => { stop(); advance(); },
    play: () => {
      if (timer || !steps.length) return;
      if (shown >= steps.length) shown = 1;
      output.setAttribute("aria-busy", "true");
      draw();
      timer = setInterval(advance, PLAY_MS);
    },
    pause: stop,
    reset: () => { stop(); shown = 1; draw(); },
  };
  form.querySelector(".stepper-controls").addEventListener("click", (e) => {
    const button = e.target.closest("button[data-action]");
    if (button) actions[button.dataset.action]();
  });
  wireForm(form, update);
}

mountTool("decode-stepper", init);
