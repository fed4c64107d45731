// Next-token sampling filters (temperature, top-k, top-p, min-p) as pure functions, for the
// sampling-filter tool. No DOM: tests/test_site_widgets_a.py runs them under node.

/** Below this temperature an engine decodes greedily (vLLM's _SAMPLING_EPS). */
export const GREEDY_BELOW = 1e-5;

/**
 * The order in which engines apply the three filters after temperature:
 * vLLM V1 runs min-p as an argmax-invariant logits processor before its top-k/top-p sampler
 * (vllm/v1/sample/sampler.py); Hugging Face transformers appends TemperatureLogitsWarper, then
 * TopK, TopP and MinP warpers (generation/utils.py, _get_logits_processor).
 */
export const ORDERS = Object.freeze({
  vllm: Object.freeze(["min_p", "top_k", "top_p"]),
  hf: Object.freeze(["top_k", "top_p", "min_p"]),
});

/** Probabilities of `logits` over the tokens where `kept[i]` is true (0 elsewhere). */
export function softmax(logits, kept = null) {
  const on = (i) => (kept ? kept[i] : true);
  let max = -Infinity;
  logits.forEach((l, i) => { if (on(i) && l > max) max = l; });
  const exps = logits.map((l, i) => (on(i) ? Math.exp(l - max) : 0));
  let total = 0;
  for (const e of exps) total += e;
  return exps.map((e) => e / total);
}

/** Token indices from most to least likely (ties: lower index first). */
function ranked(probs, kept) {
  return probs.map((p, i) => i).filter((i) => kept[i]).sort((a, b) => probs[b] - probs[a] || a - b);
}

/** What is wrong with a set of sampling settings, in plain words (empty when they are valid). */
export function settingsProblems({ temperature, topK, topP, minP }) {
  const out = [];
  if (!(Number.isFinite(temperature) && temperature >= 0)) out.push("the temperature must be a number, 0 or more");
  if (!(Number.isInteger(topK) && topK >= -1)) {
    out.push("top-k must be a whole number: 0 or -1 turn it off, 1 or more keep that many tokens");
  }
  if (!(topP > 0 && topP <= 1)) out.push("top-p must be above 0 and at most 1 (1 turns it off)");
  if (!(minP >= 0 && minP <= 1)) out.push("min-p must be between 0 and 1 (0 turns it off)");
  return out;
}

/**
 * One filter on the tokens still kept: which of them it removes (indices).
 * @param {string} name "top_k", "top_p" or "min_p"
 * @param {number[]} probs Probabilities renormalised over the kept tokens.
 * @param {boolean[]} kept
 */
function removedBy(name, probs, kept, s) {
  const order = ranked(probs, kept);
  if (name === "top_k") {
    if (s.topK <= 0 || s.topK >= order.length) return [];
    const threshold = probs[order[s.topK - 1]]; // ties with the k-th token stay, as in vLLM and transformers
    return order.filter((i) => probs[i] < threshold);
  }
  if (name === "top_p") {
    if (s.topP >= 1) return [];
    // from the least likely token up: drop while the mass so far is at most 1 - p; the top token always stays
    const out = [];
    let mass = 0;
    for (let r = order.length - 1; r > 0; r--) {
      mass += probs[order[r]];
      if (mass <= 1 - s.topP) out.push(order[r]);
    }
    return out;
  }
  if (name === "min_p") {
    if (s.minP <= 0) return [];
    const threshold = s.minP * probs[order[0]];
    return order.filter((i) => probs[i] < threshold);
  }
  throw new Error(`unknown filter '${name}'`);
}

/**
 * Temperature, then the filters in `order`, on one vector of logits.
 * @param {number[]} logits
 * @param {{temperature: number, topK: number, topP: number, minP: number}} settings
 * @param {string[]} order Filter names, e.g. ORDERS.vllm.
 * @returns {{greedy: boolean, tempered: number[], removedBy: (string|null)[], final: number[],
 *   kept: number, keptMass: number}} tempered: probabilities after temperature (before any filter;
 *   at temperature 1 when greedy); removedBy: the filter that removed each token (null if kept);
 *   final: the renormalised distribution sampled from; keptMass: the tempered mass kept.
 */
export function applyFilters(logits, settings, order) {
  if (!logits.length || !logits.every(Number.isFinite)) throw new Error("the logits must be finite numbers");
  const problems = settingsProblems(settings);
  if (problems.length) throw new Error(problems.join("; "));
  const s = settings;
  const greedy = s.temperature < GREEDY_BELOW;
  const scaled = greedy ? logits : logits.map((l) => l / s.temperature);
  const tempered = softmax(scaled);
  const removed = logits.map(() => null);
  const kept = logits.map(() => true);
  if (greedy) { // the most likely token, whatever the filters say
    const top = ranked(tempered, kept)[0];
    logits.forEach((_, i) => { if (i !== top) { removed[i] = "greedy"; kept[i] = false; } });
  } else {
    for (const name of order) {
      const probs = softmax(scaled, kept);
      for (const i of removedBy(name, probs, kept, s)) {
        removed[i] = name;
        kept[i] = false;
      }
    }
  }
  const final = softmax(scaled, kept);
  let keptMass = 0;
  tempered.forEach((p, i) => { if (kept[i]) keptMass += p; });
  return { greedy, tempered, removedBy: removed, final, kept: kept.filter(Boolean).length, keptMass };
}

/**
 * Made-up next-token logits for the tool (illustrative, not from a model): a context, token
 * labels, and logits with a confident top token, a flat spread, and two strong candidates.
 */
export const SHAPES = Object.freeze({
  peaked: {
    label: "Peaked: one clear favourite", context: "The capital of France is",
    tokens: [" Paris", " the", " a", " located", " not", " known", " Lyon", " one", " in", " also"],
    logits: [5.4, 3.9, 3.5, 2.9, 2.6, 2.2, 1.8, 1.4, 0.9, 0.3],
  },
  flat: {
    label: "Flat: many similar choices", context: "My favourite colour is",
    tokens: [" blue", " green", " red", " purple", " black", " yellow", " orange", " pink", " white", " grey"],
    logits: [2.3, 2.2, 2.15, 2.0, 1.9, 1.85, 1.7, 1.6, 1.4, 1.1],
  },
  "two-mode": {
    label: "Two-mode: two strong candidates", context: "Should I bring an umbrella? The answer is",
    tokens: [" yes", " no", " probably", " maybe", " it", " definitely", " that", " simple", " unclear", " perhaps"],
    logits: [5.0, 4.8, 2.6, 2.3, 1.9, 1.6, 1.2, 0.8, 0.5, 0.1],
  },
});
