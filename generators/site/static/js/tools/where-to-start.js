// Where do I start? Five questions (radio groups) and, once all are answered, an ordered reading path of
// handbook entries and the tools that answer the question, each with a sentence on why it is there.
// No figures: the path is a fixed set of rules over the answers (`readingPath`, exported for the tests).
import { mountTool, siteRoot, toolShell, wireForm } from "../data.js";

const NAME = "where-to-start";
const QUESTIONS = ["role", "goal", "experience", "hardware", "deadline"];

/** Handbook entries: [kind/id, title]. tests/test_site_widgets_b.py checks each against the knowledge base. */
const E = {
  inference: ["concepts/llm-inference", "LLM inference"],
  tok: ["concepts/tokenization", "Tokenization"],
  prefill: ["concepts/prefill", "Prefill"],
  decode: ["concepts/decode", "Decode"],
  kv: ["concepts/kv-cache", "KV cache"],
  roofline: ["concepts/roofline-model", "Roofline model"],
  tvi: ["concepts/training-vs-inference", "Training vs inference"],
  decoder: ["concepts/decoder-only-transformer", "Decoder-only transformer"],
  gpuarch: ["concepts/gpu-architecture", "GPU architecture for inference"],
  hierarchy: ["concepts/memory-hierarchy", "GPU memory hierarchy"],
  choosegpu: ["concepts/choosing-a-gpu", "Choosing a GPU for inference"],
  memcalc: ["concepts/gpu-memory-calculation", "Calculating GPU memory for a deployment"],
  precision: ["concepts/precision-support-by-generation", "Precision support by GPU generation"],
  attn: ["concepts/attention-variants", "Attention variants and their KV cost"],
  quant: ["techniques/quantization", "Quantization"],
  kvq: ["techniques/kv-cache-quantization", "KV-cache quantization"],
  offload: ["techniques/kv-cache-offloading", "KV cache offloading"],
  ttft: ["metrics/ttft", "Time to first token (TTFT)"],
  tpot: ["metrics/tpot", "Time per output token (TPOT)"],
  pct: ["concepts/latency-percentiles", "Latency percentiles (p50, p90, p99)"],
  spec: ["techniques/speculative-decoding", "Speculative decoding"],
  chunked: ["techniques/chunked-prefill", "Chunked prefill"],
  prefix: ["techniques/prefix-caching", "Prefix caching"],
  pd: ["techniques/prefill-decode-disaggregation", "Prefill-decode disaggregation"],
  promptcost: ["concepts/prompt-cost-and-latency", "Prompt cost and latency"],
  streaming: ["concepts/streaming", "Streaming responses"],
  cpm: ["metrics/cost-per-million-tokens", "Cost per million tokens"],
  costopt: ["concepts/cost-optimization", "Cost optimization for LLM inference"],
  cb: ["techniques/continuous-batching", "Continuous batching"],
  serverless: ["concepts/serverless-vs-self-hosting", "Serverless APIs vs self-hosting"],
  caching: ["concepts/prompt-caching-pricing", "Prompt caching prices"],
  offline: ["techniques/offline-batch-inference", "Offline batch inference"],
  build: ["concepts/build-and-maintenance-cost", "Build and maintenance cost of self-hosted inference"],
  plan: ["concepts/planning-a-deployment", "Sizing and pricing a deployment"],
  framework: ["concepts/choosing-an-inference-framework", "Choosing an inference framework"],
  bench: ["concepts/benchmarking-methodology", "Benchmarking methodology for LLM serving"],
  where: ["concepts/where-inference-runs", "Where inference runs"],
  edge: ["concepts/edge-and-local-inference", "Edge and local inference"],
  gguf: ["techniques/gguf-k-quants", "GGUF k-quants"],
  dist: ["concepts/distributed-inference", "Distributed inference"],
  tp: ["techniques/tensor-parallelism", "Tensor parallelism"],
  model: ["concepts/choosing-a-model", "Choosing a model to serve"],
};

/** The site's tools: [name, title] (titles as in inferbook/generators/site_tools.py). */
const T = {
  lifecycle: ["request-lifecycle", "Request lifecycle"],
  stepper: ["decode-stepper", "Decode stepper"],
  timeline: ["latency-timeline", "Animated latency timeline"],
  kv: ["kv-cache", "KV-cache calculator"],
  fit: ["memory-fit", "GPU memory and fit"],
  quant: ["quantization", "Quantization impact"],
  gpus: ["gpu-comparison", "GPU comparison"],
  speed: ["speed-prediction", "Speed prediction"],
  roofline: ["roofline", "Roofline, speculation, caching and cost"],
  batching: ["batching-simulator", "Batching strategy simulator"],
  planner: ["deployment-planner", "Deployment planner"],
};

// Each rule item: [entry or tool, level, why, basic?]. Level 1 is read even with an answer due today, level 2
// with a week or two, level 3 only when there is no deadline; a basic item is left out for readers who have
// served models themselves.
const BASIC = true;
const INTRO = {
  new: [[E.inference, 1, "The path of one request, and why decode is limited by memory bandwidth: the idea "
    + "behind every later page."],
  [E.tok, 3, "What a token is, since every size, speed and price here is counted in tokens."]],
  api: [[E.inference, 2, "A short tour of what happens behind the API you already call."]],
  served: [],
};

const GOALS = {
  gpu: {
    words: "pick a GPU",
    chapter: ["planning-deployment", "Planning a deployment"],
    entries: [[E.choosegpu, 1, "The order of the questions: does it fit (memory), how fast is decode (bandwidth), "
      + "then compute, formats and price."],
    [E.memcalc, 1, "Weights, KV cache and overheads added up, to rule out GPUs that are too small."],
    [E.roofline, 2, "Why bandwidth, not TFLOPS, sets decode speed on every GPU."],
    [E.precision, 2, "Which GPU generations run FP8 and FP4 natively, which decides the formats you can use."],
    [E.hierarchy, 3, "Where the bytes live on a GPU, from registers to HBM."]],
    tools: [[T.gpus, 1, "Filter the accelerators and see which models each one holds."],
      [T.fit, 1, "Check one model, format and context against every GPU configuration."],
      [T.speed, 2, "Estimate TTFT and TPOT on the GPUs that remain."]],
  },
  memory: {
    words: "size the memory a model needs",
    chapter: ["planning-deployment", "Planning a deployment"],
    entries: [[E.memcalc, 1, "The whole budget: weights, KV cache for your concurrency, activations and the "
      + "engine's reserve."],
    [E.kv, 1, "The part that grows with context and concurrency, and usually runs out first."],
    [E.quant, 2, "Fewer bits per weight shrink the largest fixed item."],
    [E.attn, 2, "Why two models of the same size can need very different KV caches (GQA, MLA, sliding windows)."],
    [E.kvq, 3, "Halving the KV cache with 8-bit keys and values."]],
    tools: [[T.fit, 1, "The memory breakdown and the GPU counts that hold it."],
      [T.kv, 1, "KV-cache size for any model, context and batch."],
      [T.quant, 2, "Weight and KV memory in every format side by side."]],
  },
  latency: {
    words: "cut latency",
    chapter: ["inference-optimization", "Inference optimization"],
    entries: [[E.ttft, 1, "The wait before the first token, which prompt length and queueing drive."],
    [E.tpot, 1, "The pace of the stream after that, which decode speed and batch size drive."],
    [E.prefill, 2, "Why TTFT grows with the prompt: prefill is limited by compute.", BASIC],
    [E.decode, 2, "Why each token takes a memory-bound step.", BASIC],
    [E.pct, 2, "Targets are set on the tail (p99), not the mean."],
    [E.spec, 3, "Several tokens per step when a cheap drafter guesses right."],
    [E.chunked, 3, "Long prompts that do not stall everyone else's stream."],
    [E.prefix, 3, "Skipping the prefill of a prompt prefix seen before."]],
    tools: [[T.lifecycle, 1, "TTFT, ITL and E2E latency of one request, phase by phase."],
      [T.timeline, 2, "Watch queueing and batching add to each request's latency."],
      [T.speed, 2, "Calibrated TTFT and TPOT for a model, GPU and engine under load."]],
  },
  cost: {
    words: "cut cost",
    chapter: ["infrastructure-operations", "Infrastructure and operations"],
    entries: [[E.cpm, 1, "The number to compare: the hourly price divided by the tokens actually served."],
    [E.costopt, 1, "The levers in order of effect: utilisation, model size and precision, caching."],
    [E.cb, 2, "Why a busy batch makes each token cheaper, and how engines keep it full."],
    [E.quant, 2, "Fewer bytes per token: fewer GPUs for the same traffic."],
    [E.serverless, 2, "When paying per token beats renting GPUs, and when it stops doing so."],
    [E.offline, 3, "For work nobody waits for: maximum batch, lowest price."]],
    tools: [[T.planner, 1, "The cheapest GPUs, counts and formats that meet your latency targets."],
      [T.roofline, 2, "Cost per million tokens at a throughput, with speculation and caching."],
      [T.batching, 3, "How static, dynamic and continuous batching change throughput."]],
  },
  basics: {
    words: "understand the basics",
    chapter: ["foundations", "Foundations of LLM inference"],
    entries: [[E.inference, 1, "The whole path of a request in one page."],
    [E.prefill, 1, "The parallel pass over the prompt."],
    [E.decode, 1, "The token-by-token loop, and why it waits on memory."],
    [E.kv, 2, "The memory that makes decode fast and fills the GPU."],
    [E.roofline, 2, "The one picture that explains compute-bound and memory-bound work."],
    [E.tok, 3, "How text becomes the tokens everything is counted in."]],
    tools: [[T.lifecycle, 1, "One request through every phase, with real model shapes."],
      [T.stepper, 2, "Step through decode token by token and watch the KV cache grow."],
      [T.kv, 3, "How big the KV cache gets for a real model."]],
  },
};

const ROLES = {
  app: { words: "an application builder", items: {
    latency: [[E.promptcost, 2, "Your prompt is the lever you hold: its length sets TTFT and input cost."],
      [E.streaming, 2, "Streaming makes TTFT, not the whole answer, the wait a user feels."]],
    cost: [[E.caching, 2, "How providers bill cached prompt prefixes, and how to design prompts that hit them."]],
    default: [[E.promptcost, 3, "How prompt length and structure drive latency and cost."]] } },
  engineer: { words: "an engineer running models", items: {
    default: [[E.framework, 2, "Which engine to run, and what each one is best at."],
      [E.bench, 3, "How to measure your own setup so the numbers mean something."]] } },
  lead: { words: "someone deciding budgets", items: {
    default: [[E.plan, 1, "From a workload and latency targets to what to rent, with prices."],
      [E.build, 2, "The engineering time that self-hosting costs on top of the GPUs."]] } },
  student: { words: "a student of inference", items: {
    default: [[E.tvi, 2, "What inference does differently from training, and why it is its own field."],
      [E.decoder, 3, "The architecture whose shapes set every number in the handbook."]] } },
};

const HARDWARE = {
  none: { words: "no hardware yet", items: [[E.where, 2, "The places a model can run, from hosted APIs to your own "
    + "GPUs, and what each costs in effort."]] },
  local: { words: "a laptop or consumer GPU", items: [[E.edge, 1, "What runs on one machine: memory capacity and "
    + "bandwidth set the model size and speed."], [E.gguf, 2, "The 2- to 8-bit formats local runtimes load."]] },
  datacenter: { words: "data-centre GPUs", items: [[E.dist, 2, "When one GPU is not enough: splitting a model across "
    + "several, and what each split costs."], [E.tp, 3, "The split most deployments start with."]] },
};

const ADVANCED = {
  gpu: [[E.gpuarch, 2, "You have served models: how SMs, warps and tensor cores turn into the datasheet numbers."]],
  memory: [[E.offload, 2, "You have served models: moving KV cache to CPU memory or disk when HBM is full."]],
  latency: [[E.pd, 2, "You have served models: separate prefill and decode pools so neither stalls the other."]],
  cost: [[E.bench, 2, "You have served models: measure before and after each change under a fixed load."]],
  basics: [[E.gpuarch, 2, "You have served models: the hardware underneath the roofline."]],
};

const DEADLINES = {
  today: { level: 1, words: "an answer today" },
  weeks: { level: 2, words: "a decision in a week or two" },
  open: { level: 3, words: "no deadline" },
};

/**
 * The reading path for a full set of answers ({role, goal, experience, hardware, deadline}): entries in reading
 * order (introduction, the goal, the role, the hardware, then deeper pages), tools for the goal, each
 * {path, title, why} with the path from the site root. Null when an answer is missing or unknown.
 */
export function readingPath(answers) {
  const { role, goal, experience, hardware, deadline } = answers;
  if (!ROLES[role] || !GOALS[goal] || !INTRO[experience] || !HARDWARE[hardware] || !DEADLINES[deadline]) return null;
  const max = DEADLINES[deadline].level;
  const roleItems = ROLES[role].items[goal] ?? ROLES[role].items.default ?? [];
  const groups = [INTRO[experience], GOALS[goal].entries, roleItems, HARDWARE[hardware].items,
    experience === "served" ? ADVANCED[goal] : []];
  const seen = new Set();
  const entries = [];
  for (const group of groups) {
    for (const [[path, title], level, why, basic] of group) {
      if (level > max || seen.has(path) || (basic && experience === "served")) continue;
      seen.add(path);
      entries.push({ path: `entries/${path}.html`, title, why });
    }
  }
  const tools = GOALS[goal].tools.filter(([, level]) => level <= max)
    .map(([[name, title], , why]) => ({ path: `tools/${name}.html`, title, why }));
  const summary = `For ${ROLES[role].words} who needs to ${GOALS[goal].words}, with ${HARDWARE[hardware].words} and `
    + `${DEADLINES[deadline].words}: ${entries.length} pages to read, then ${tools.length} `
    + `${tools.length === 1 ? "tool" : "tools"} to try.`;
  const next = deadline === "open"
    ? { path: "learning-path.html", title: "Learning path", text: "After these, the whole handbook in reading order: " }
    : { path: `chapters/${GOALS[goal].chapter[0]}.html`, title: GOALS[goal].chapter[1],
      text: "When there is more time, read the chapter " };
  return { entries, tools, summary, next };
}

function item(root, { path, title, why }) {
  const li = document.createElement("li");
  const a = document.createElement("a");
  a.href = `${root}${path}`;
  a.textContent = title;
  li.append(a, ` — ${why}`);
  return li;
}

async function init(root) {
  const form = root.querySelector(`form[data-tool='${NAME}']`);
  if (!form) return;
  const { out, guard } = toolShell(root, form);
  const result = root.querySelector("[data-wts='result']");
  const base = siteRoot();
  const render = () => {
    const answers = Object.fromEntries(QUESTIONS.map((q) => [q, form.elements[q].value]));
    const answered = QUESTIONS.filter((q) => answers[q] !== "").length;
    const path = readingPath(answers);
    if (!path) {
      result.hidden = true;
      out("pending").hidden = false;
      out("pending").textContent = `Pick an answer for each question: ${answered} of ${QUESTIONS.length} answered.`;
      out("pending").dataset.value = String(answered);
      return;
    }
    out("pending").hidden = true;
    out("summary").textContent = path.summary;
    out("path").replaceChildren(...path.entries.map((e) => item(base, e)));
    out("tools").replaceChildren(...path.tools.map((t) => item(base, t)));
    const a = document.createElement("a");
    a.href = `${base}${path.next.path}`;
    a.textContent = path.next.title;
    out("next").replaceChildren(path.next.text, a, ".");
    result.hidden = false;
  };
  wireForm(form, guard(render));
}

mountTool(NAME, init);
