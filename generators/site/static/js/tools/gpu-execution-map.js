// GPU execution and memory map: one GEMM of a model's decode step launched on a GPU. The CPU enqueues the kernel,
// the grid holds ceil(M/T) x ceil(N/T) blocks of T x T outputs, the blocks run on the SMs in waves of
// SMs x blocks-per-SM, and the last wave may leave SMs idle (wave quantization). Shapes come from the model's
// architecture, SM counts and register files from the GPU's compute_units block.
import { chosenWeights } from "../calc.js";
import { fillSelect, fmt, modelsByTitle, mountTool, replaceable, startTool, svgEl, wireForm } from "../data.js";

const LAYER_NAMES = { q: "q projection", k: "k projection", v: "v projection", o: "o projection",
  up: "up projection", down: "down projection" };

/**
 * The GEMM of one layer in a decode step of `batch` tokens: {m, n, k, group, parts} where group names the
 * weight group (attention, dense_ffn, experts) and parts are sentences about the shape; or {reasons} when
 * the model has no such plain GEMM.
 */
export function gemmShape(arch, layer, batch) {
  const attn = arch.attention_heads * arch.head_dim;
  const kv = arch.kv_heads * arch.head_dim;
  const h = arch.hidden_size;
  const parts = [];
  if (["q", "k", "v", "o"].includes(layer)) {
    if (arch.mla) {
      return { reasons: ["This model uses multi-head latent attention: its queries, keys and values pass through "
        + "low-rank latent projections, not one q, k, v or o GEMM of this shape. Pick the up or down projection."] };
    }
    if (layer === "q") {
      const gate = arch.attention_output_gate ? 2 : 1;
      if (gate === 2) parts.push("the q projection also produces the attention output gate, doubling N");
      return { m: batch, k: h, n: attn * gate, group: "attention", parts };
    }
    if (layer === "k" || layer === "v") {
      parts.push(`${arch.kv_heads} KV heads × ${arch.head_dim}`);
      return { m: batch, k: h, n: kv, group: "attention", parts };
    }
    return { m: batch, k: attn, n: h, group: "attention", parts };
  }
  let inter = arch.intermediate_size;
  let m = batch;
  let group = "dense_ffn";
  if (arch.moe) {
    inter = arch.moe.expert_intermediate_size;
    m = Math.ceil((batch * arch.moe.experts_per_token) / arch.moe.experts);
    group = "experts";
    parts.push(`one expert: ${batch} tokens × ${arch.moe.experts_per_token} experts each ÷ ${arch.moe.experts} `
      + `experts = ${m} token${m === 1 ? "" : "s"} per expert on average`);
  }
  if (inter == null) return { reasons: ["The model's architecture records no MLP intermediate size."] };
  if (layer === "up") {
    if (arch.gated_mlp ?? true) parts.push("the gate projection has the same shape and is often fused with it into one GEMM");
    return { m, k: h, n: inter, group, parts };
  }
  return { m, k: inter, n: h, group, parts };
}

/**
 * Blocks, waves and utilisation of a T x T tiling of an M x N output on `units` SMs holding `perUnit` blocks each.
 */
export function waves(m, n, tile, units, perUnit) {
  const blocksM = Math.ceil(m / tile);
  const blocksN = Math.ceil(n / tile);
  const blocks = blocksM * blocksN;
  const slots = units * perUnit;
  const count = Math.ceil(blocks / slots);
  const tail = blocks - (count - 1) * slots;
  return { blocksM, blocksN, blocks, slots, waves: count, tailBlocks: tail, tailUtilisation: tail / slots,
    utilisation: blocks / (count * slots), tileFill: (m * n) / (blocksM * tile * blocksN * tile) };
}

const pct = (x) => `${fmt(x * 100, 1)}%`;
const MAX_DRAWN = 1024;

/** Blocks in launch order, 32 to a row, coloured by wave (the last wave stands out). */
function chart(w) {
  const shown = Math.min(w.blocks, MAX_DRAWN);
  const perRow = 32;
  const size = 14;
  const rows = Math.ceil((w.blocks <= MAX_DRAWN ? Math.min(w.waves * w.slots, MAX_DRAWN) : shown) / perRow);
  const width = perRow * size + 4;
  const height = rows * size + 4 + (shown < w.blocks ? 18 : 0);
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, class: "gx-svg", role: "img",
    "aria-label": `${fmt(w.blocks, 0)} blocks in ${fmt(w.waves, 0)} waves of up to ${fmt(w.slots, 0)}; the last wave `
      + `has ${fmt(w.tailBlocks, 0)}.` });
  // the empty slots of the last wave, drawn as outlines when the whole launch is drawn
  const empty = w.blocks <= MAX_DRAWN ? Math.min(w.waves * w.slots, MAX_DRAWN) - w.blocks : 0;
  for (let i = w.blocks; i < w.blocks + empty; i++) {
    svg.append(svgEl("rect", { x: 3 + (i % perRow) * size, y: 3 + Math.floor(i / perRow) * size, width: size - 4,
      height: size - 4, rx: 2, class: "gx-empty" }));
  }
  for (let i = 0; i < shown; i++) {
    const wave = Math.floor(i / w.slots);
    const cls = wave === w.waves - 1 ? "gx-tail" : wave % 2 ? "gx-wave-b" : "gx-wave-a";
    svg.append(svgEl("rect", { x: 2 + (i % perRow) * size, y: 2 + Math.floor(i / perRow) * size, width: size - 2,
      height: size - 2, rx: 2, class: cls }));
  }
  if (shown < w.blocks) {
    const t = svgEl("text", { x: 2, y: height - 4, class: "chart-text gx-more" });
    t.textContent = `first ${fmt(shown, 0)} of ${fmt(w.blocks, 0)} blocks drawn`;
    svg.append(t);
  }
  return svg;
}

async function init(root) {
  const tool = await startTool(root, "gpu-execution-map");
  if (!tool) return;
  const { form, out, guard, data } = tool;
  const f = form.elements;
  const models = modelsByTitle(data);
  fillSelect(f.model, models.map((m) => ({ value: m.id, label: m.title })),
    data.models["llama-3.1-8b-instruct"] ? "llama-3.1-8b-instruct" : models[0].id);
  const gpus = Object.values(data.gpus).sort((a, b) => (Number(!a.compute_units) - Number(!b.compute_units))
    || a.title.localeCompare(b.title));
  fillSelect(f.gpu, gpus.map((g) => ({ value: g.id, label: g.compute_units ? g.title : `${g.title} (no SM data)` })),
    data.gpus["h100-sxm"] ? "h100-sxm" : gpus[0].id);
  const block = replaceable(root, "map");

  const update = guard(() => {
    const model = data.models[f.model.value];
    const gpu = data.gpus[f.gpu.value];
    const batch = Number(f.batch.value);
    const tile = Number(f.tile.value);
    const perSm = Number(f.per_sm.value);
    if (!(Number.isInteger(batch) && batch >= 1)) throw new Error("the batch must be a whole number of at least 1");
    if (!(Number.isInteger(perSm) && perSm >= 1 && perSm <= 32)) throw new Error("blocks per SM must be 1 to 32");
    const arch = model.architecture;
    const shape = gemmShape(arch, f.layer.value, batch);
    const cu = gpu.compute_units;
    const reasons = [];
    if (!cu) {
      reasons.push(`No published SM data for the ${gpu.title}: its entry has no compute_units block, so the number `
        + "of SMs the blocks are spread over is not known.");
    }
    if (shape.reasons) reasons.push(...shape.reasons);
    if (reasons.length) {
      block.refuse(`Cannot map the ${LAYER_NAMES[f.layer.value]} of ${model.title} on the ${gpu.title}:`, reasons);
      return;
    }
    block.show();
    const word = { SM: "SM", CU: "CU", core: "GPU core" }[cu.unit_name] ?? "unit";
    const w = waves(shape.m, shape.n, tile, cu.count, perSm);
    const set = (key, value, text) => {
      out(key).textContent = text;
      out(key).dataset.value = String(value);
    };
    set("blocks", w.blocks, fmt(w.blocks, 0));
    set("waves", w.waves, fmt(w.waves, 0));
    set("tail", w.tailUtilisation, pct(w.tailUtilisation));
    const { format, groups } = chosenWeights(model, data.formats, "native");
    const bits = (groups?.[shape.group] ?? format).effective_bits_per_weight;
    const weightBytes = shape.k * shape.n * bits / 8;
    const actBytes = shape.m * shape.k * 2;
    const outBytes = shape.m * shape.n * 2;
    const accKib = tile * tile * 4 / 1024;
    const item = (html) => {
      const li = document.createElement("li");
      li.append(...html);
      return li;
    };
    const num = (key, value, text) => {
      const s = document.createElement("span");
      s.dataset.out = key;
      s.dataset.value = String(value);
      s.textContent = text;
      return s;
    };
    const steps = [
      item(["The CPU enqueues the kernel on a stream: a launch command with the pointers to the "
        + `${fmt(shape.m, 0)} × ${fmt(shape.k, 0)} activations, the ${fmt(shape.k, 0)} × ${fmt(shape.n, 0)} weight matrix `
        + "and the output. Only these few bytes of parameters cross the host bus; the tensors are already in GPU "
        + `memory.${shape.parts.length ? ` Shape: ${shape.parts.join("; ")}.` : ""}`]),
      item(["The grid: ⌈M / T⌉ × ⌈N / T⌉ = ⌈", num("gemm-m", shape.m, fmt(shape.m, 0)), ` / ${tile}⌉ × ⌈`,
        num("gemm-n", shape.n, fmt(shape.n, 0)), ` / ${tile}⌉ = ${fmt(w.blocksM, 0)} × ${fmt(w.blocksN, 0)} = `
        + `${fmt(w.blocks, 0)} blocks, each computing a ${tile} × ${tile} tile of the output over K = `,
      num("gemm-k", shape.k, fmt(shape.k, 0)), `. Only ${pct(w.tileFill)} of the tiles' outputs are real: a `
        + `decode step's M of ${fmt(shape.m, 0)} fills ${fmt(Math.min(shape.m, tile), 0)} of each tile's ${tile} rows.`]),
      item([`The ${word}s take the blocks in waves of ${fmt(cu.count, 0)} ${word}s × ${fmt(perSm, 0)} per ${word} = `
        + `${fmt(w.slots, 0)}: ⌈${fmt(w.blocks, 0)} / ${fmt(w.slots, 0)}⌉ = ${fmt(w.waves, 0)} wave`
        + `${w.waves === 1 ? "" : "s"}. The last runs ${fmt(w.tailBlocks, 0)} blocks (${pct(w.tailUtilisation)} of the `
        + `slots); over the whole launch ${pct(w.utilisation)} of the slots hold a block.`]),
      item(["Memory each block touches: its share of the weights (a K × T panel) and of the activations "
        + `(a T × K panel, padded) come from ${gpu.memory_type} through the L2, a few KiB at a time through shared `
        + `memory; the ${tile} × ${tile} FP32 accumulator (${fmt(accKib, 0)} KiB) lives in registers`
        + (cu.register_file_kib != null ? ` (the ${word}'s register file is ${fmt(cu.register_file_kib, 0)} KiB`
          + `${accKib * perSm > cu.register_file_kib ? ": it does not fit, so a real kernel would use smaller tiles "
            + "or fewer blocks per SM" : ""})` : "")
        + ". The whole launch reads the weights at least once, ", num("weight-bytes", weightBytes,
          `${fmt(weightBytes / 2 ** 20, 2)} MiB`), ` at ${fmt(bits, 2)} bits each, plus ${fmt(actBytes / 1024, 1)} KiB `
        + `of 16-bit activations, and writes ${fmt(outBytes / 1024, 1)} KiB of output.`]),
    ];
    out("steps").replaceChildren(...steps);
    out("chart").replaceChildren(chart(w));
    out("explain").textContent = w.waves === 1 && w.tailUtilisation < 1
      ? `One partial wave: ${fmt(w.slots - w.tailBlocks, 0)} of the ${fmt(w.slots, 0)} block slots stay empty for `
        + "this GEMM. Smaller tiles (or splitting K across blocks) give more blocks for small decode GEMMs."
      : w.tailUtilisation < 1
        ? `Wave quantization: the last wave leaves ${pct(1 - w.tailUtilisation)} of the slots idle while it runs.`
        : "The blocks fill every wave exactly.";
  });
  wireForm(form, update);
}

mountTool("gpu-execution-map", init);
