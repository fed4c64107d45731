// The fit search of fit.py: which GPU types and counts serve a model, each through `checkSetup`.
// Kept out of calc.js so that tools that do not search GPU counts do not load it.

import {
  GIB, checkSetup, compareTuples, engineProfile, feasibility, feasibilitySummary, kvBytes, maxConcurrency,
  parallelFindings,
} from "./calc.js";
import { DEFAULT_DOMAIN, FIT_COUNTS } from "./calc/constants.js";

export { DEFAULT_DOMAIN, FIT_COUNTS };

/**
 * [TP, PP] for `count` GPUs: the widest TP that divides `count`, fits the GPU's scale-up domain
 * and splits the heads; PP takes the rest. Null when no split works.
 * @param {object} arch ModelArchitecture JSON.
 * @param {object} gpu Gpu JSON.
 * @param {number} count
 * @returns {[number, number]|null}
 */
export function parallelLayout(arch, gpu, count) {
  const domain = gpu.interconnect?.domain_gpus || DEFAULT_DOMAIN;
  for (let tp = Math.min(count, Math.max(domain, 1)); tp > 0; tp--) {
    if (count % tp) continue;
    const pp = count / tp;
    if (!parallelFindings(arch, tp, pp, 1, count).length) return [tp, pp];
  }
  return null;
}

/**
 * One GPU configuration and whether it serves the load: gpu, count, tp, pp, fits,
 * weightsGibPerGpu, kvNeededGibPerGpu, kvSpaceGibPerGpu, maxConcurrency,
 * costPerHour (null without a price) and reason ("fits", or the feasibility check's reasons).
 * @typedef {object} FitOption
 */

/**
 * Every (GPU type, count) laid out by `parallelLayout` and run through `checkSetup`, ranked:
 * fitting options first, then by GPU count, then by hourly cost (when `prices` per GPU-hour are
 * given), then by headroom. `model` is LlmModel JSON, `gpus` a list of Gpu JSON, `prices` GPU id ->
 * price per GPU-hour, `kv` the KV-cache Format JSON (checked for support like the weights).
 * @returns {FitOption[]}
 */
export function fitOptions(model, fmt, gpus, context, concurrency, kvBits = 16.0, counts = FIT_COUNTS,
  prices = null, cfg = null, groups = null, kv = null) {
  if (context < 1 || concurrency < 1) throw new Error("context and concurrency must be at least 1");
  const engine = engineProfile(cfg);
  const arch = model.architecture;
  const havePrices = prices != null && Object.keys(prices).length > 0;
  const options = [];
  for (const gpu of gpus) {
    for (const count of counts) {
      const layout = parallelLayout(arch, gpu, count);
      if (layout === null) continue;
      const [tp, pp] = layout;
      const result = checkSetup({ model, gpu, weights: fmt, kv, kv_bits: kvBits, tp, pp, gpus: count, context,
        sequences: concurrency, mode: "batch", engine, groups });
      const cap = result.capacity;
      const need = kvBytes(arch, context, kvBits, concurrency, tp, pp, true).bytesPerGpu;
      const price = havePrices && Object.hasOwn(prices, gpu.id) ? prices[gpu.id] : null;
      options.push({
        gpu: gpu.id, count, tp, pp, fits: result.feasible, weightsGibPerGpu: cap.weightsBytes / GIB,
        kvNeededGibPerGpu: need / GIB, kvSpaceGibPerGpu: Math.max(cap.kvSpaceBytes, 0) / GIB,
        maxConcurrency: result.maxSequences !== null ? result.maxSequences : 0.0,
        costPerHour: price != null ? price * count : null,
        reason: result.feasible ? "fits" : feasibilitySummary(result),
      });
    }
  }
  const key = (o) => [o.fits ? 0 : 1, o.count, o.costPerHour ?? Infinity, -o.kvSpaceGibPerGpu, o.gpu];
  options.sort((x, y) => compareTuples(key(x), key(y)));
  return options;
}

/**
 * Fewest GPUs of one type that serve the load (null if even the largest count fails).
 * @returns {number|null}
 */
export function minGpus(model, fmt, gpu, context, concurrency, kvBits = 16.0, counts = FIT_COUNTS, cfg = null,
  groups = null, kv = null) {
  for (const option of fitOptions(model, fmt, [gpu], context, concurrency, kvBits, counts, null, cfg, groups, kv)) {
    if (option.fits) return option.count;
  }
  return null;
}

