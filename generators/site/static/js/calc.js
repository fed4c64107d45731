/**
 * inferbook calculator core for the browser: a dependency-free ES module port of
 * `inferbook/calc/`, one file under `calc/` per Python module it ports:
 *
 *   calc/params.js      <-> calc/params.py       calc/capacity.js    <-> calc/capacity.py
 *   calc/vision.js      <-> calc/vision.py       calc/feasibility.js <-> calc/feasibility.py
 *   calc/kv.js          <-> calc/kv.py           calc/metrics.js     <-> calc/metrics.py
 *   calc/weights.js     <-> calc/weights.py      calc/simulator.js   <-> calc/simulator.py
 *   calc/roofline.js    <-> calc/roofline.py (the peak rate, the step-time call, the attention
 *                           layout; the Roofline class and the rest are in roofline.js)
 *   calc/builtins.js        Python's built-ins the ports need (sum, round, f-string formats)
 *   calc/constants.js       generated from Python's constants:
 *                           `python -m inferbook.generators.js_constants --write`
 *
 * This file re-exports the public names, so `import { ... } from "./calc.js"` keeps working;
 * fit.js, roofline.js, predict.js and plan.js port the other calculators.
 * Each function gives the numbers of its Python counterpart (checked by
 * `tests/test_js_parity.py`); arithmetic follows the Python order of operations.
 *
 * - Inputs are the JSON of Python's `model_dump(mode="json")` (`arch.kv_heads`,
 *   `gpu.memory_bandwidth_gb_s.value`, `fmt.effective_bits_per_weight`); settings
 *   (engine and simulator config, SLOs, requests, records) use the Python
 *   dataclass field names, missing fields taking the Python defaults.
 * - Results use camelCase names (`bytesPerGpu`, `computeS`, `kvSpaceBytes`).
 * - Invalid inputs throw an `Error` with the message of Python's `ValueError`.
 * - `checkSetup` answers whether a setup can run with findings whose messages are
 *   byte-identical to Python's (`pyFixed`/`pyComma`/`pyPercent` format numbers as Python's
 *   f-strings do); `feasibilityJson` gives Python's `Feasibility.to_json()`.
 * - `workload` draws from the same distributions as Python's, with its own PRNG
 *   (mulberry32): a seed gives other numbers than `random.Random(seed)`.
 *
 * @module calc
 */

export {
  ALLREDUCE_LATENCY_S, ATTENTION_KINDS, DEFAULT_ENGINE_CONFIG, DEFAULT_MBU, DEFAULT_MFU, DEFAULT_SIM_CONFIG, FFN_KINDS,
  GIB, INDEXER_SCALE_BLOCK, NON_TORCH_GIB_TP, NON_TORCH_GIB_TP1, SAMPLER_BYTES_PER_LOGIT, SIXTEEN_BIT,
} from "./calc/constants.js";
export { compareTuples, pyComma, pyFixed, pyPercent, pyRound, sum, truthy } from "./calc/builtins.js";
export {
  attentionParams, blocks, countParams, indexerParams, isMoeLayer, linearAttentionParams, mambaParams, moeOf,
  mtpParams, oneBlockLayers, routedExpertParams, visionParams,
} from "./calc/params.js";
export { imageTokens } from "./calc/vision.js";
export {
  cachedTokens, indexerKeyBytes, kvBytes, kvBytesPerToken, kvDtypeBits, layerKinds, stateBytesPerSequence,
} from "./calc/kv.js";
export { chosenWeights, nativeGroups, nativeWeightBytes, weightBytes } from "./calc/weights.js";
export { attentionCoefficients, computeTflops, stepSeconds } from "./calc/roofline.js";
export {
  activationPeakBytes, capacity, forwardPeakBytes, maxConcurrency, nonTorchForTp,
} from "./calc/capacity.js";
export {
  VLLM_V1, checkSetup, contextFindings, describeEngine, engineProfile, feasibility, feasibilityJson,
  feasibilitySummary, formatFindings, formatStatus, interconnectFindings, parallelFindings,
} from "./calc/feasibility.js";
export { distribution, percentile, summarize } from "./calc/metrics.js";
export { drawLength, mulberry32, simItl, simSummary, simulate, spans, workload } from "./calc/simulator.js";

// the types other files name as import("./calc.js").X
/** @typedef {import("./calc/params.js").ParamCount} ParamCount */
/** @typedef {import("./calc/kv.js").KvBreakdown} KvBreakdown */
/** @typedef {import("./calc/weights.js").WeightBreakdown} WeightBreakdown */
/** @typedef {import("./calc/roofline.js").StepModel} StepModel */
/** @typedef {import("./calc/capacity.js").EngineConfig} EngineConfig */
/** @typedef {import("./calc/capacity.js").Capacity} Capacity */
/** @typedef {import("./calc/feasibility.js").EngineProfile} EngineProfile */
/** @typedef {import("./calc/feasibility.js").Finding} Finding */
/** @typedef {import("./calc/feasibility.js").Setup} Setup */
/** @typedef {import("./calc/feasibility.js").Feasibility} Feasibility */
/** @typedef {import("./calc/metrics.js").Distribution} Distribution */
/** @typedef {import("./calc/metrics.js").Slo} Slo */
/** @typedef {import("./calc/simulator.js").SimConfig} SimConfig */
/** @typedef {import("./calc/simulator.js").SimResult} SimResult */
