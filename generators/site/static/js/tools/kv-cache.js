// KV-cache calculator: any KB model or a custom architecture (GQA, MQA, MHA, MLA, sliding windows).
import { kvBytes, kvBytesPerToken, stateBytesPerSequence } from "../calc.js";
import { fillSelect, fmt, GIB, loadData, mountTool, wireForm } from "../data.js";

const CUSTOM = "__custom__";

function customArch(f) {
  const n = (name) => Number(f.elements[name].value);
  const attention = f.elements.attention.value;
  const heads = n("heads");
  const kvHeads = attention === "mha" ? heads : attention === "mqa" ? 1 : attention === "mla" ? heads : n("kv_heads");
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
  return arch;
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
  const form = root.querySelector("form[data-tool='kv-cache']");
  if (!form) return;
  const data = await loadData("tools-data.json");
  const models = Object.values(data.models).sort((a, b) => a.title.localeCompare(b.title));
  const params = new URLSearchParams(location.search);
  const start = params.get("model") || (data.models["llama-3.1-8b-instruct"] ? "llama-3.1-8b-instruct" : models[0].id);
  fillSelect(form.elements.model, [...models.map((m) => ({ value: m.id, label: m.title })),
    { value: CUSTOM, label: "Custom architecture…" }], start);
  fillSelect(form.elements.dtype, Object.keys(data.kv_dtype_bits).map((d) => ({ value: d, label: d })), "bf16");
  const out = (name) => root.querySelector(`[data-out="${name}"]`);
  const update = () => {
    const custom = form.elements.model.value === CUSTOM;
    form.querySelector(".custom-arch").hidden = !custom;
    try {
      const arch = custom ? customArch(form) : data.models[form.elements.model.value].architecture;
      const bits = data.kv_dtype_bits[form.elements.dtype.value];
      const context = Number(form.elements.context.value);
      const batch = Number(form.elements.batch.value);
      const tp = Number(form.elements.tp.value);
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
      form.dataset.ready = "true";
    } catch (err) {
      out("explain").textContent = `Cannot compute: ${err.message}`;
      out("explain").className = "error-text";
    }
  };
  wireForm(form, update);
}

mountTool("kv-cache", init);
