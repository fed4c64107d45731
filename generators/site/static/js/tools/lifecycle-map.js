// LLM lifecycle map: the stages a model passes through from pre-training to monitoring, as a row of
// selectable nodes (a radio group, so arrow keys move between them); the selected stage shows what it
// produces, how it bears on the cost of inference and the handbook entries and tools that cover it.
// A concept map without figures: the prose is the handbook's own summary of each stage.
import { mountTool, siteRoot, toolShell, wireForm } from "../data.js";

const NAME = "lifecycle-map";

/** Handbook entries: [kind/id, title]. tests/test_site_widgets_b.py checks each against the knowledge base. */
const E = {
  tvi: ["concepts/training-vs-inference", "Training vs inference"],
  decoder: ["concepts/decoder-only-transformer", "Decoder-only transformer"],
  moe: ["concepts/dense-vs-moe", "Dense vs mixture-of-experts models"],
  attn: ["concepts/attention-variants", "Attention variants and their KV cost"],
  tok: ["concepts/tokenization", "Tokenization"],
  instruct: ["concepts/base-vs-instruct-models", "Base vs instruct models"],
  ft: ["techniques/fine-tuning", "Fine-tuning for deployment"],
  lora: ["techniques/lora", "LoRA (low-rank adaptation)"],
  reasoning: ["concepts/reasoning-models", "Reasoning models"],
  multilora: ["techniques/multi-lora-serving", "Multi-LoRA serving"],
  distill: ["techniques/distillation", "Knowledge distillation"],
  prune: ["techniques/pruning", "Pruning"],
  quant: ["techniques/quantization", "Quantization"],
  quality: ["concepts/quantization-quality", "Quantization quality"],
  kvq: ["techniques/kv-cache-quantization", "KV-cache quantization"],
  slm: ["concepts/small-language-models", "Small language models"],
  files: ["concepts/weight-file-formats", "Model weight file formats"],
  gguf: ["techniques/gguf-k-quants", "GGUF k-quants"],
  names: ["concepts/reading-model-names", "Reading model names"],
  cold: ["concepts/cold-starts", "Cold starts"],
  engine: ["concepts/inference-server-vs-engine", "Inference server vs inference engine"],
  framework: ["concepts/choosing-an-inference-framework", "Choosing an inference framework"],
  cb: ["techniques/continuous-batching", "Continuous batching"],
  paged: ["techniques/paged-attention", "PagedAttention (paged KV cache)"],
  kv: ["concepts/kv-cache", "KV cache"],
  prefix: ["techniques/prefix-caching", "Prefix caching"],
  spec: ["techniques/speculative-decoding", "Speculative decoding"],
  api: ["concepts/openai-compatible-api", "OpenAI-compatible API"],
  dist: ["concepts/distributed-inference", "Distributed inference"],
  tp: ["techniques/tensor-parallelism", "Tensor parallelism"],
  ep: ["techniques/expert-parallelism", "Expert parallelism"],
  dp: ["techniques/data-parallelism", "Data parallelism (model replicas)"],
  autoscale: ["concepts/autoscaling", "Autoscaling LLM inference"],
  routing: ["techniques/inference-routing", "Inference routing (cache- and load-aware load balancing)"],
  pd: ["techniques/prefill-decode-disaggregation", "Prefill-decode disaggregation"],
  plan: ["concepts/planning-a-deployment", "Sizing and pricing a deployment"],
  obs: ["concepts/observability", "Observability for LLM serving"],
  slo: ["concepts/service-level-objectives", "Service level objectives (SLOs) for LLM serving"],
  ttft: ["metrics/ttft", "Time to first token (TTFT)"],
  tpot: ["metrics/tpot", "Time per output token (TPOT)"],
  goodput: ["metrics/goodput", "Goodput"],
  pct: ["concepts/latency-percentiles", "Latency percentiles (p50, p90, p99)"],
  ops: ["concepts/inference-ops", "Inference operations (day-2 operations)"],
  bench: ["concepts/benchmarking-methodology", "Benchmarking methodology for LLM serving"],
};

/** The site's tools a stage points to: [name, title] (titles as in inferbook/generators/site_tools.py). */
const T = {
  kv: ["kv-cache", "KV-cache calculator"],
  lifecycle: ["request-lifecycle", "Request lifecycle"],
  quant: ["quantization", "Quantization impact"],
  fit: ["memory-fit", "GPU memory and fit"],
  batching: ["batching-simulator", "Batching strategy simulator"],
  planner: ["deployment-planner", "Deployment planner"],
  metrics: ["latency-metrics", "Latency metrics playground"],
  timeline: ["latency-timeline", "Animated latency timeline"],
};

/**
 * The stages in order. `cost`: the stage changes what each token costs to serve; `serving`: a team that
 * serves models (rather than one that trains them) usually runs it.
 */
export const STAGES = [
  { id: "pretrain", title: "Pre-training", short: "a base model", cost: true, serving: false,
    what: "The network is trained to predict the next token over trillions of tokens of text. Its shape is chosen "
      + "here: dense or mixture-of-experts, the attention design, the tokenizer and the longest context.",
    produces: "A base model: 16-bit weights, a tokenizer and a config that fixes the layers, heads and context length.",
    effect: "Sets most of the inference bill before serving starts: the parameters read for each token, the "
      + "experts active per token, the KV-cache bytes per token and how long a context can be.",
    links: [E.tvi, E.decoder, E.moe, E.attn, E.tok], tools: [T.kv] },
  { id: "posttrain", title: "Post-training", short: "an assistant", cost: true, serving: false,
    what: "Supervised fine-tuning on instruction and answer pairs, then preference training (RLHF, DPO) or "
      + "reinforcement learning for reasoning, turns the base model into an assistant. Teams add their own "
      + "fine-tunes or LoRA adapters on top.",
    produces: "An instruct or reasoning model, or small adapters that ride on a base model.",
    effect: "The weights keep their size, but behaviour moves the bill: a reasoning model writes many more output "
      + "tokens per answer, and many LoRA adapters can share one deployment.",
    links: [E.instruct, E.ft, E.lora, E.reasoning, E.multilora], tools: [T.lifecycle] },
  { id: "compress", title: "Distillation, pruning and quantization", short: "a smaller model", cost: true, serving: true,
    what: "A large teacher trains a smaller student, redundant weights or whole layers are removed, or the weights "
      + "and the KV cache are stored in 8, 4 or fewer bits.",
    produces: "A smaller or lower-precision checkpoint, with its quality measured against the original.",
    effect: "Fewer bytes to read for each token: decode steps get faster and more sequences fit in memory, at a "
      + "quality cost that has to be measured on your own tasks.",
    links: [E.distill, E.prune, E.quant, E.quality, E.kvq, E.slm], tools: [T.quant, T.fit] },
  { id: "package", title: "Packaging", short: "files an engine loads", cost: false, serving: true,
    what: "The weights are written in a file format an engine can load, with the config, tokenizer and chat "
      + "template beside them, and published under a name that says what they are.",
    produces: "A checkpoint: safetensors files with their config and tokenizer, a single GGUF file, or an engine "
      + "compiled for one GPU type.",
    effect: "Little by itself, but the format decides which engines and kernels can run the model, and the size of "
      + "the files how long a new replica takes to start.",
    links: [E.files, E.gguf, E.names, E.cold], tools: [] },
  { id: "serve", title: "Serving", short: "an API endpoint", cost: true, serving: true,
    what: "An engine loads the weights onto GPUs and runs each request's prefill and decode, batching many requests "
      + "into every forward pass and managing their KV cache; a server in front speaks HTTP and streams tokens.",
    produces: "An endpoint, usually OpenAI-compatible, that turns prompts into streamed tokens.",
    effect: "Where day-to-day savings come from: continuous batching, a paged and prefix-cached KV cache, chunked "
      + "prefill and speculative decoding all raise the tokens each GPU delivers per second.",
    links: [E.engine, E.framework, E.cb, E.paged, E.kv, E.prefix, E.spec, E.api], tools: [T.batching, T.lifecycle] },
  { id: "scale", title: "Scaling", short: "a cluster of replicas", cost: true, serving: true,
    what: "A replica is split over several GPUs when it does not fit or is too slow, replicas are added and removed "
      + "as traffic changes, and a router sends each request to the replica that suits it best.",
    produces: "A fleet of replicas behind a router, sized to the traffic and the latency targets.",
    effect: "Decides how many GPUs run and how busy they are: the split sets the speed of each token, autoscaling "
      + "and routing set the idle time and how often a cached prefix is reused.",
    links: [E.dist, E.tp, E.ep, E.dp, E.autoscale, E.routing, E.pd, E.plan], tools: [T.fit, T.planner] },
  { id: "monitor", title: "Monitoring", short: "metrics and SLOs", cost: false, serving: true,
    what: "Latency, throughput, errors and the engine's state (queue, KV-cache use) are measured continuously and "
      + "compared with service-level objectives; the findings feed the next change to the model, engine or fleet.",
    produces: "Dashboards, alerts and SLO reports: the evidence for the next decision.",
    effect: "Costs almost nothing itself, but it is how idle GPUs, missed targets and regressions are found.",
    links: [E.obs, E.slo, E.ttft, E.tpot, E.goodput, E.pct, E.ops, E.bench], tools: [T.metrics, T.timeline] },
];

const FILTERS = {
  all: { test: () => true, words: "every stage" },
  cost: { test: (s) => s.cost, words: "the stages that set the cost of inference" },
  serving: { test: (s) => s.serving, words: "the stages a serving team runs" },
};

function linkItem(href, title) {
  const li = document.createElement("li");
  const a = document.createElement("a");
  a.href = href;
  a.textContent = title;
  li.append(a);
  return li;
}

async function init(root) {
  const form = root.querySelector(`form[data-tool='${NAME}']`);
  if (!form) return;
  const { out, guard } = toolShell(root, form);
  const list = form.querySelector("[data-lm='stages']");
  list.replaceChildren(...STAGES.map((s, i) => {
    const li = document.createElement("li");
    li.className = "lm-node";
    const label = document.createElement("label");
    const input = document.createElement("input");
    Object.assign(input, { type: "radio", name: "stage", value: s.id, checked: i === 0 });
    const num = document.createElement("span");
    num.className = "lm-num";
    num.textContent = String(i + 1);
    const title = document.createElement("span");
    title.className = "lm-title";
    title.textContent = s.title;
    const short = document.createElement("span");
    short.className = "lm-short";
    short.textContent = s.short;
    label.append(input, num, title, short);
    li.append(label);
    return li;
  }));
  const root_ = siteRoot();

  const render = () => {
    const filter = FILTERS[form.elements.filter.value] ?? FILTERS.all;
    const radios = [...form.querySelectorAll("input[name='stage']")];
    STAGES.forEach((s, i) => {
      const on = filter.test(s);
      radios[i].disabled = !on;
      radios[i].closest("li").classList.toggle("lm-off", !on);
    });
    let chosen = radios.find((r) => r.checked && !r.disabled);
    if (!chosen) {
      chosen = radios.find((r) => !r.disabled);
      chosen.checked = true;
    }
    const index = radios.indexOf(chosen);
    const stage = STAGES[index];
    const shown = STAGES.filter(filter.test).length;
    out("count").textContent = shown === STAGES.length ? `${STAGES.length} stages, from training to operations.`
      : `${shown} of ${STAGES.length} stages shown: ${filter.words}; the others are greyed out.`;
    out("stage").textContent = `Stage ${index + 1} of ${STAGES.length}: ${stage.title}`;
    out("what").textContent = stage.what;
    out("produces").textContent = stage.produces;
    out("cost").textContent = stage.effect;
    out("links").replaceChildren(...stage.links.map(([path, title]) => linkItem(`${root_}entries/${path}.html`, title)));
    out("tools").replaceChildren(...stage.tools.map(([name, title]) => linkItem(`${root_}tools/${name}.html`, title)));
    root.querySelector("[data-lm='tools-head']").hidden = !stage.tools.length;
    out("tools").hidden = !stage.tools.length;
  };
  wireForm(form, guard(render));
}

mountTool(NAME, init);
