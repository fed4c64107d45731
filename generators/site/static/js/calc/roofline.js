// Port of inferbook/calc/roofline.py, in part: peak rate, step time, attention layout (the rest: ../roofline.js).
import { ATTENTION_KINDS } from "./constants.js";
import { indexerKeyBytes, layerKinds } from "./kv.js";

/**
 * Dense peak TFLOPS the matrix units reach for a weight format: FP8 and FP4
 * formats run their own type where the chip has it, int8 uses INT8 TOPS,
 * everything else runs in 16-bit.
 * @param {object} gpu Gpu JSON.
 * @param {object} fmt Format JSON.
 */
export function computeTflops(gpu, fmt) {
  const d = gpu.dense ?? {};
  const fid = fmt.id;
  const candidates = [];
  if (fid.startsWith("fp8") || fid === "mxfp8") candidates.push("fp8_tflops");
  if (fid === "nvfp4" || fid === "mxfp4" || fid === "fp4-e2m1") candidates.push("fp4_tflops");
  if (fid === "int8") candidates.push("int8_tops");
  candidates.push("bf16_tflops", "fp16_tflops", "fp32_tflops"); // a GPU listing only FP32 (Apple) runs 16-bit at it
  for (const name of candidates) {
    if (d[name] != null) return d[name].value;
  }
  throw new Error(`${gpu.id} has no dense 16-bit throughput in the knowledge base`);
}

/**
 * What the simulator times steps with: the roofline's coefficients (`stepModel`) or the calibrated
 * step cost (predict.js), which has its own `seconds`; `window` is the attention window, if any.
 * @typedef {{window?: (number|null), seconds?: Function, [coefficient: string]: any}} StepModel
 */

/**
 * Seconds of one step that processes `tokens` new tokens, produces `logits`
 * distributions, attends over `spanFull`/`spanWindow` key positions and reads the
 * KV cache of `kvFull`/`kvWindow` tokens.
 * @param {StepModel} m
 */
export function stepSeconds(m, tokens, logits, spanFull, spanWindow, kvFull, kvWindow, sequences = 0) {
  if (typeof m.seconds === "function") {  // the calibrated step cost (predict.js) times itself
    return m.seconds(tokens, logits, spanFull, spanWindow, kvFull, kvWindow, sequences);
  }
  const flops = m.linearFlopsPerToken * tokens + m.headFlops * logits
    + m.attnFlopsFull * spanFull + m.attnFlopsWindow * spanWindow;
  let weights = m.weightBytes;
  if (m.experts) {
    const untouched = (1.0 - m.expertsPerToken / m.experts) ** tokens;
    weights -= m.routedExpertBytes * untouched;
  }
  const memory = weights + m.kvBytesFull * kvFull + m.kvBytesWindow * kvWindow + (m.stateBytes ?? 0) * sequences;
  const comm = m.commFixedS ? m.commPerTokenS * tokens + m.commFixedS : 0.0;
  return Math.max(flops / m.computeRate, memory / m.memoryRate) + comm;
}

/**
 * The attention part of a step model (roofline.py's and perf.py's `attention_layout` with its
 * `coefficients`): FLOPs and KV bytes per attended position in full and windowed layers, and the
 * window. With DeepSeek Sparse Attention every attention layer counts twice: its indexer as a full
 * layer (2 x index_heads x index_head_dim FLOPs and the indexer key per position) and its main
 * attention as a windowed layer whose window is index_topk.
 * @param {object} a ModelArchitecture JSON.
 * @param {number} kvPerToken Cache bytes one token adds per GPU (kvBytes of one token).
 */
export function attentionCoefficients(a, kvPerToken) {
  const kinds = layerKinds(a);
  const [qk, v] = a.mla ? [a.mla.qk_nope_head_dim + a.mla.qk_rope_head_dim, a.mla.v_head_dim]
    : [a.head_dim, a.head_dim];
  const perLayerAttn = 2.0 * a.attention_heads * (qk + v);
  const dsa = a.sparse_attention;
  if (dsa) {
    const layers = kinds.filter((k) => ATTENTION_KINDS.includes(k)).length;
    const indexKv = indexerKeyBytes(a) * layers;
    return {
      attnFlopsFull: 2.0 * dsa.index_heads * dsa.index_head_dim * layers, attnFlopsWindow: perLayerAttn * layers,
      kvBytesFull: indexKv, kvBytesWindow: kvPerToken - indexKv, window: layers ? dsa.index_topk : null,
    };
  }
  const nFull = kinds.filter((k) => k === "full").length;
  const nWindow = kinds.filter((k) => k === "sliding" || k === "chunked").length;
  const window = kinds.includes("sliding") ? a.sliding_window : a.attention_chunk_size;
  const perLayerKv = kvPerToken / Math.max(nFull + nWindow, 1);
  return {
    attnFlopsFull: perLayerAttn * nFull, attnFlopsWindow: perLayerAttn * nWindow,
    kvBytesFull: perLayerKv * nFull, kvBytesWindow: perLayerKv * nWindow, window: nWindow ? (window ?? null) : null,
  };
}
