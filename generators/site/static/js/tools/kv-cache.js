// KV-cache calculator: any KB model or a custom architecture (GQA, MQA, MHA, MLA, sliding windows). Like
// `inferbook kv`, it checks the split (tensor parallelism against the heads) and the context against the model's
// maximum first, and shows the reasons instead of sizes when either fails.
import { contextFindings, kvBytes, kvBytesPerToken, parallelFindings, stateBytesPerSequence } from "../calc.js";
import {
  fillSelect, fmt, GIB, modelsByTitle, mountTool, replaceable, showNotes, startTool, wireForm,
} from "../data.js";

const CUSTOM = "__custom__";
/** What the CLI's `kv` answer assumes (no engine: only the cache's arithmetic). */
const NO_ENGINE = "No engine assumed: KV-cache arithmetic only (the memory-fit tool adds the engine's memory budget).";

/** A custom architecture from the form, or the reasons it cannot describe a model. */
function customArch(f) {
  const n = (name) => Number(f.elements[name].value);
  const attention = f.elements.attention.value;
  const heads = n("heads");
  const kvHeads = attention === "mha" ? heads : attention === "mqa" ? 1 : attention === "mla" ? heads : n("kv_heads");
  const names = { layers: "layers", heads: "query heads", head_dim: "the head dimension" };
  if (attention === "gqa") names.kv_heads = "KV heads";
  if (attention === "mla") Object.assign(names, { kv_lora_rank: "the MLA latent rank", rope_dim: "the MLA rope dim" });
  for (const [name, words] of Object.entries(names)) {
    if (!(Number.isInteger(n(name)) && n(name) >= 1)) throw new Error(`${words} must be a whole number of at least 1`);
  }
  for (const [name, words] of [["window", "the sliding window"], ["sliding_per_full", "sliding layers per full layer"]]) {
    if (!(Number.isInteger(n(name)) && n(name) >= 0)) throw new Error(`${words} must be a whole number of at least 0`);
  }
  const reasons = [];
  if (kvHeads > heads) {
    reasons.push(`${kvHeads} KV heads are more than the ${heads} query heads: each KV head serves a group of query `
      + "heads, so a model has at most as many KV heads as query heads");
  } else if (heads % kvHeads) {
    reasons.push(`the ${heads} query heads do not split evenly into ${kvHeads} groups, one per KV head`);
  }
  const slidingPerFull = n("sliding_per_full");
  const window = n("window");
  const pattern = window > 0 && slidingPerFull > 0 ? [...Array(slidingPerFull).fill("sliding"), "full"]
    : window > 0 ? ["sliding"] : ["full"];
  const arch = {
    layers: n("layers"), hidden_size: heads * n("head_dim"), attention_heads: heads, kv_heads: kvHeads,
    head_dim: n("head_dim"), intermediate_size: 4 * heads * n("head_dim"), vocab_size: 32000,
    context_length: 1 << 20, tie_word_embeddings: false, attention, layer_pattern: pattern,
    sliding_window: window > 0 ? window : null, attention_chunk_size: null, gated_mlp: true, moe: null,
    mla: attention === "mla" ? { kv_lora_rank: n("kv_lora_rank"), q_lora_rank: null, qk_rope_head_dim: n("rope_dim"),
      qk_nope_head_dim: n("head_dim"), v_head_dim: n("head_dim") } : null,
  };
  return { arch, reasons };
}

function chart(container, arch, bits, maxContext) {
  const points = [1024, 4096, 8192, 16384, 32768, 65536, 131072, 262144].filter((c) => c <= Math.max(maxContext, 8192));
  const values = points.map((c) => kvBytes(arch, c, bits, 1, 1, 1, true).bytesUnique / GIB);
  const max = Math.max(...values, 1e-9);
  const rows = points.map((c, i) => {
    const row = document.createElement("div");
    row.className = "chart-row";
    const label = document.createElement("span");
    label.textContent = `${fmt(c, 0)} tokens: ${fmt(values[i], 2)} GiB`;
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.setAttribute("role", "presentation");
    bar.style.setProperty("width", `${Math.max(1, (values[i] / max) * 100)}%`);
    row.append(label, bar);
    return row;
  });
  const title = document.createElement("p");
  title.textContent = "KV cache (and linear-layer state) of one sequence by context length:";
  container.replaceChildren(title, ...rows);
}

async function init(root) {
  const tool = await startTool(root, "kv-cache");
  if (!tool) return;
  const { form, out, guard, data } = tool;
  const models = modelsByTitle(data);
  const start = data.models["llama-3.1-8b-instruct"] ? "llama-3.1-8b-instruct" : models[0].id;
  fillSelect(form.elements.model, [...models.map((m) => ({ value: m.id, label: m.title })),
    { value: CUSTOM, label: "Custom architecture…" }], start);
  fillSelect(form.elements.dtype, Object.keys(data.kv_dtype_bits).map((d) => ({ value: d, label: d })), "bf16");
  const setup = replaceable(root, "setup");
  const update = guard(() => {
    const custom = form.elements.model.value === CUSTOM;
    form.querySelector(".custom-arch").hidden = !custom;
    const bits = data.kv_dtype_bits[form.elements.dtype.value];
    const context = Number(form.elements.context.value);
    const batch = Number(form.elements.batch.value);
    const tp = Number(form.elements.tp.value);
    if (!(Number.isInteger(context) && context >= 1 && Number.isInteger(batch) && batch >= 1)) {
      throw new Error("the context and the batch must be whole numbers of at least 1");
    }
    if (!(Number.isInteger(tp) && tp >= 1)) throw new Error("tensor parallelism must be a whole number of at least 1");
    const model = custom ? null : data.models[form.elements.model.value];
    const { arch, reasons } = custom ? customArch(form) : { arch: model.architecture, reasons: [] };
    const title = custom ? "the custom architecture" : model.title;
    // the checks of `inferbook kv`: the split, then the context against the model's maximum
    if (!reasons.length) reasons.push(...parallelFindings(arch, tp, 1, 1, tp).map((x) => x.message));
    if (!custom) reasons.push(...contextFindings(model, context, batch).map((x) => x.message));
    showNotes(root, null, NO_ENGINE);
    if (reasons.length) {
      setup.refuse(`Cannot size the KV cache of ${fmt(batch, 0)} × ${fmt(context, 0)} tokens of ${title} on TP ${tp}:`,
        reasons);
      return;
    }
    setup.show();
    const perToken = kvBytesPerToken(arch, bits);
    const result = kvBytes(arch, context, bits, batch, tp, 1, true);
    const cached = result.layersCached;
    const allCached = cached === arch.layers ? ", all layers cached" : ` of ${arch.layers} layers`;
    out("per-token").textContent = `${fmt(perToken, 0)} bytes`;
    out("per-token-detail").textContent = arch.attention === "mla"
      ? `(MLA: ${cached} layers × (${arch.mla.kv_lora_rank} + ${arch.mla.qk_rope_head_dim}) × ${bits / 8} bytes)`
      : `(2 × ${cached} layers × ${arch.kv_heads} KV heads × ${arch.head_dim} × ${bits / 8} bytes${allCached})`;
    out("total").textContent = `${fmt(result.bytesUnique / GIB, 3)} GiB`;
    out("per-gpu").textContent = `${fmt(result.bytesPerGpu / GIB, 3)} GiB`;
    out("group").textContent = `${fmt(result.bytesTotal / GIB, 3)} GiB`;
    const windowed = arch.layer_pattern.some((k) => k === "sliding" || k === "chunked");
    const linear = arch.layers - cached;
    const state = stateBytesPerSequence(arch);
    out("explain").textContent = linear > 0
      ? (state > 0
        ? `Its ${linear} linear-attention layers keep no per-token cache but a fixed state of ${fmt(state / 2 ** 20, 1)} MiB per sequence (16-bit), included in the totals.`
        : `Its ${linear} linear-attention layers keep no per-token cache; their fixed state is not counted (shape unknown).`)
      : windowed
        ? `Windowed layers stop growing at ${fmt(arch.sliding_window || arch.attention_chunk_size, 0)} tokens, so long contexts cost less than per-token × tokens.`
        : tp > arch.kv_heads && arch.attention !== "mla"
          ? `TP ${tp} exceeds the ${arch.kv_heads} KV heads: heads are replicated, so the group holds more than one copy.`
          : arch.attention === "mla" ? "MLA caches one latent per token; every TP rank keeps a full copy." : "";
    chart(out("chart"), arch, bits, arch.context_length);
  });
  wireForm(form, update);
}

mountTool("kv-cache", init);
