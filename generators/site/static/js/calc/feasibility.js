// Port of inferbook/calc/feasibility.py: check_setup and its rules (splits, links, formats, context, memory).
import {
  DEFAULT_ENGINE_CONFIG, GIB, SETUP_DEFAULTS, SIXTEEN_BIT, VLLM_V1_NAME,
} from "./constants.js";
import { pyComma, pyPercent, pyRound } from "./builtins.js";
import { capacity, engineConfig, maxConcurrency } from "./capacity.js";

/** @typedef {import("./capacity.js").EngineConfig} EngineConfig */

/**
 * The engine behaviour the memory and scheduling checks assume (Python `EngineProfile`):
 * `{name, config}` with an `EngineConfig`.
 * @typedef {object} EngineProfile
 */

/** The profile used when none is given; its memory model is `capacity`. */
export const VLLM_V1 = Object.freeze({ name: VLLM_V1_NAME, config: DEFAULT_ENGINE_CONFIG });

/**
 * A profile with VLLM_V1's name and other memory settings (as the CLI builds one from its options).
 * @param {EngineConfig|null} cfg Missing fields take the defaults.
 * @returns {EngineProfile}
 */
export function engineProfile(cfg = null) {
  return cfg == null ? VLLM_V1 : { name: VLLM_V1.name, config: engineConfig(cfg) };
}

/**
 * One line for the answer: which engine, which memory settings (Python `EngineProfile.describe`).
 * @param {EngineProfile} [profile=VLLM_V1]
 */
export function describeEngine(profile = VLLM_V1) {
  const c = engineConfig(profile.config);
  return `${profile.name}: ${pyPercent(c.gpu_memory_utilization)} of GPU memory, ${c.block_size}-token KV blocks, `
    + `at most ${pyComma(c.max_num_seqs)} sequences and ${pyComma(c.max_num_batched_tokens)} batched tokens per step`;
}

/**
 * The outcome of one rule: `check` (parallelism, interconnect, formats, context, memory or
 * kv-capacity), `severity` ("fail" makes the setup infeasible, "warn" runs at a stated cost,
 * "note" records an assumption) and `message` in plain words with the numbers.
 * @typedef {{check: string, severity: "fail"|"warn"|"note", message: string}} Finding
 */

function finding(check, severity, message) {
  return { check, severity, message };
}

const gibText = (bytes) => `${pyComma(bytes / GIB, 1)} GiB`;
const tokensText = (n) => pyComma(n, 0);

/**
 * Whether TP, PP, EP and attention DP split the model the way engines require, and the GPU count
 * holds them. With attention DP the head rules apply to one group of TP / DP GPUs.
 * @param {object} arch ModelArchitecture JSON.
 * @returns {Finding[]}
 */
export function parallelFindings(arch, tp, pp, ep, gpus, attentionDp = 1) {
  const out = [];
  const fail = (message) => out.push(finding("parallelism", "fail", message));
  for (const [name, value] of [["tensor parallelism", tp], ["pipeline parallelism", pp],
    ["expert parallelism", ep], ["the GPU count", gpus], ["attention data parallelism", attentionDp]]) {
    if (value < 1) fail(`${name} must be at least 1, got ${value}`);
  }
  if (out.length) return out;
  if (attentionDp > 1) {
    if (!arch.moe) {
      fail(`attention data parallelism ${attentionDp} is for mixture-of-experts models; for a dense model `
        + `run ${attentionDp} replicas instead`);
    } else if (tp % attentionDp) {
      fail(`attention data parallelism ${attentionDp} does not divide tensor parallelism ${tp}`);
    }
    if (out.length) return out;
    tp /= attentionDp; // attention is split over one group
  }
  if (arch.attention_heads % tp) fail(`tensor parallelism ${tp} does not divide the ${arch.attention_heads} attention heads`);
  if (!arch.mla && arch.kv_heads % tp && tp % arch.kv_heads) {
    fail(`tensor parallelism ${tp} neither divides the ${arch.kv_heads} KV heads nor is a multiple of them`);
  }
  const linear = arch.linear_attention;
  if (linear && (linear.key_heads % tp || linear.value_heads % tp)) {
    fail(`tensor parallelism ${tp} does not divide the ${linear.key_heads} key and ${linear.value_heads} value `
      + "heads of the linear-attention layers");
  }
  const mamba = arch.mamba;
  if (mamba && (mamba.heads % tp || (mamba.groups > 1 && mamba.groups % tp))) {
    fail(`tensor parallelism ${tp} does not divide the ${mamba.heads} heads and ${mamba.groups} groups of the `
      + "Mamba layers");
  }
  if (pp > arch.layers) fail(`pipeline parallelism ${pp} is more than the ${arch.layers} layers`);
  if (ep > 1) {
    if (!arch.moe) fail(`expert parallelism ${ep} needs a mixture-of-experts model; this one is dense`);
    else if (arch.moe.experts % ep) fail(`expert parallelism ${ep} does not divide the ${arch.moe.experts} routed experts`);
    else if (gpus % ep) fail(`expert parallelism ${ep} does not divide the ${gpus} GPUs`);
  }
  if (gpus % (tp * pp)) fail(`${gpus} GPUs cannot be split into groups of TP ${tp} x PP ${pp} = ${tp * pp}`);
  return out;
}

/**
 * TP all-reduces every layer, so its group must share a scale-up link (`interconnect.domain_gpus`).
 * @param {object} gpu Gpu JSON.
 * @returns {Finding[]}
 */
export function interconnectFindings(gpu, tp, pp) {
  if (tp === 1) return [];
  const link = gpu.interconnect ?? {};
  const domain = link.domain_gpus ?? null;
  if (domain === null) {
    return [finding("interconnect", "note", `the knowledge base does not record how many ${gpu.title} share a `
      + `scale-up link; assumed TP ${tp} stays inside one`)];
  }
  if (tp > domain) {
    const hint = domain > 1 ? `split it as TP ${domain} x PP ${Math.ceil(tp / domain) * pp}`
      : "split it with pipeline parallelism instead";
    const where = domain > 1 && link.name ? `${domain} GPUs share ${link.name}` : "each GPU sits alone on PCIe";
    if (domain <= 1) {
      return [finding("interconnect", "warn", `tensor parallelism ${tp} over PCIe (${where}): every layer's `
        + `all-reduce crosses the host bus, which is slow; ${hint}`)];
    }
    return [finding("interconnect", "fail", `tensor parallelism ${tp} spans more than one scale-up domain `
      + `(${where}); its all-reduces need that link; ${hint}`)];
  }
  return [];
}

/**
 * "native", "converted" (stored in the format, computed in 16-bit), "cast" (16-bit run as the
 * other 16-bit type) or "unsupported", for `fmt` on `gpu`'s generation.
 * @param {object} fmt Format JSON.
 * @param {object} gpu Gpu JSON.
 */
export function formatStatus(fmt, gpu) {
  const arch = gpu.architecture;
  const converted = fmt.converted_on ?? [];
  if ((fmt.native_tensor_core ?? []).includes(arch) || (gpu.supported_formats ?? []).includes(fmt.id)) return "native";
  if (SIXTEEN_BIT.includes(fmt.id)) return "cast";
  if (converted.includes(arch)) return "converted";
  // unpacked by its own kernels; where they run is not recorded per generation
  if (!converted.length && (fmt.category === "weight-quantization" || fmt.category === "gguf")) return "converted";
  return "unsupported";
}

/**
 * The weight, activation and KV formats on the GPU: native, converted (with its cost) or unsupported.
 * @param {object} weights Format JSON of the weights.
 * @param {object|null} kv Format JSON of the KV cache (null: 16-bit, not checked).
 * @param {object} gpu Gpu JSON.
 * @returns {[Finding[], Object<string, string>]} The findings and role -> status.
 */
export function formatFindings(weights, kv, gpu) {
  const out = [];
  /** @type {Object<string, string>} */
  const status = {};
  const arch = gpu.architecture;
  const w = formatStatus(weights, gpu);
  status.weights = w;
  if (w === "unsupported") {
    out.push(finding("formats", "fail", `${weights.title} weights do not run on ${gpu.title} (${arch}): its `
      + `matrix units do not compute on them and no engine conversion for ${arch} is recorded`));
  } else if (w === "converted") {
    out.push(finding("formats", "warn", `${weights.title} weights are converted to 16-bit on ${gpu.title} `
      + `(${arch}): memory and bandwidth as ${weights.title}, compute at the 16-bit rate`));
  } else if (w === "cast") {
    out.push(finding("formats", "note", `${weights.title} is not among ${gpu.title}'s native matrix types; `
      + "engines run it as the other 16-bit type or on vector units"));
  }
  // activations follow the weights where the chip computes on that type, else 16-bit
  status.activations = w === "native" && (weights.used_for ?? []).includes("activations") ? weights.id : "16-bit";
  if (kv != null) {
    const k = formatStatus(kv, gpu);
    status["kv-cache"] = k;
    if (k === "unsupported") {
      out.push(finding("formats", "fail", `a ${kv.title} KV cache does not run on ${gpu.title} (${arch}): no `
        + "native support and no conversion recorded"));
    } else if (k === "converted") {
      out.push(finding("formats", "warn", `the ${kv.title} KV cache is converted to 16-bit inside attention `
        + `on ${gpu.title}: memory as ${kv.title}, attention at the 16-bit rate`));
    }
  }
  return [out, status];
}

/**
 * The context rule: at least one token, at most the model's maximum.
 * @param {object} model LlmModel JSON (`title`, `architecture.context_length`).
 * @returns {Finding[]}
 */
export function contextFindings(model, context, sequences = 1) {
  if (context < 1 || sequences < 1) return [finding("context", "fail", "context and sequences must be at least 1")];
  const max = model.architecture.context_length;
  if (context > max) {
    return [finding("context", "fail", `a context of ${tokensText(context)} tokens is more than `
      + `${model.title}'s maximum of ${tokensText(max)}`)];
  }
  return [];
}

/**
 * What to check (Python `Setup`, same field names): a model in a format on `gpus` GPUs, split
 * TP x PP (x EP), serving `sequences` of `context` tokens, in lockstep (`mode: "batch"`) or as a
 * concurrency the scheduler may queue (`mode: "concurrency"`). Missing fields take Python's
 * defaults (`SETUP_DEFAULTS` of constants.js; the engine VLLM_V1).
 * @typedef {object} Setup
 * @property {object} model LlmModel JSON.
 * @property {object} gpu Gpu JSON.
 * @property {object} weights Format JSON of the weights.
 * @property {object|null} [kv] Format JSON of the KV cache; null keeps `kv_bits`.
 * @property {number} [kv_bits]
 * @property {number} [tp]
 * @property {number} [pp]
 * @property {number} [ep]
 * @property {number|null} [gpus] GPUs in all; null means TP x PP.
 * @property {number} [context]
 * @property {number} [sequences]
 * @property {"batch"|"concurrency"} [mode]
 * @property {EngineProfile} [engine]
 * @property {Object<string, object>|null} [groups] Tensor groups stored in other formats.
 * @property {boolean} [mtp] Count the multi-token-prediction modules' weights.
 * @property {number} [attention_dp] Attention data parallelism of a MoE model (1: plain TP).
 */

/**
 * Whether a setup can run, why, and the memory figures behind the answer: feasible, findings,
 * engine (the profile assumed, in words), capacity (null when the split failed), maxSequences
 * (null without a memory answer), formatStatus (role -> status), and reasons, warnings and
 * notes (the messages of each severity).
 * @typedef {object} Feasibility
 */

export function feasibility(feasible, findings, engine, cap = null, maxSequences = null, status = {}) {
  const of = (severity) => findings.filter((f) => f.severity === severity).map((f) => f.message);
  return {
    feasible, findings, engine, capacity: cap, maxSequences, formatStatus: status,
    reasons: of("fail"), warnings: of("warn"), notes: of("note"),
  };
}

/** The reasons joined into one paragraph, or "feasible" (Python `Feasibility.summary`). */
export function feasibilitySummary(result) {
  return result.reasons.length ? result.reasons.join("; ") : "feasible";
}

/**
 * Plain values as Python's `Feasibility.to_json()` writes them (snake_case keys, GiB rounded to
 * three decimals, no negative KV space).
 * @param {Feasibility} result
 */
export function feasibilityJson(result) {
  const cap = result.capacity;
  const ms = result.maxSequences;
  return {
    feasible: result.feasible, reasons: result.reasons, warnings: result.warnings, notes: result.notes,
    engine: result.engine, formats: { ...result.formatStatus },
    max_sequences: ms === null || ms === Infinity ? null : pyRound(ms, 3),
    memory_gib_per_gpu: cap === null ? null : {
      budget: pyRound(cap.budgetBytes / GIB, 3), weights: pyRound(cap.weightsBytes / GIB, 3),
      activations: pyRound(cap.activationBytes / GIB, 3), runtime: pyRound(cap.otherBytes / GIB, 3),
      kv_cache: pyRound(Math.max(cap.kvSpaceBytes, 0.0) / GIB, 3),
    },
  };
}

/**
 * Every rule on one setup (Python `check_setup`): parallelism, interconnect, formats, context,
 * memory and KV capacity, each a finding in plain words; the engine profile is always named.
 * @param {Setup} setup
 * @returns {Feasibility}
 */
export function checkSetup(setup) {
  const s = { ...SETUP_DEFAULTS, engine: VLLM_V1, ...setup };
  const arch = s.model.architecture;
  const gpus = s.gpus != null ? s.gpus : s.tp * s.pp;
  const profile = s.engine ?? VLLM_V1;
  const cfg = engineConfig(profile.config);
  const engine = describeEngine(profile);
  const findings = parallelFindings(arch, s.tp, s.pp, s.ep, gpus, s.attention_dp);
  // memory per GPU is meaningless for a split that cannot exist
  if (findings.some((f) => f.severity === "fail")) return feasibility(false, findings, engine);
  findings.push(...interconnectFindings(s.gpu, s.tp, s.pp));
  const [fmtFindings, status] = formatFindings(s.weights, s.kv, s.gpu);
  findings.push(...fmtFindings, ...contextFindings(s.model, s.context, s.sequences));
  const kvBits = s.kv != null ? s.kv.bits_per_value : s.kv_bits;
  const groups = s.groups && Object.keys(s.groups).length ? s.groups : null;
  const cap = capacity(arch, s.gpu, s.weights, kvBits, s.tp, s.pp, cfg, groups, Boolean(s.mtp), s.attention_dp);
  let seqs = null;
  const fixed = cap.weightsBytes + cap.activationBytes + cap.otherBytes;
  const group = s.tp / s.attention_dp; // GPUs that split one sequence's attention and KV cache
  if (!cap.fits) {
    let split = s.tp * s.pp > 1 ? ` (split over TP ${s.tp} x PP ${s.pp})` : "";
    if (s.attention_dp > 1) {
      split = ` (attention and dense layers split over groups of ${group} GPU${group > 1 ? "s" : ""}, `
        + `the routed experts over TP ${s.tp}, x PP ${s.pp})`;
    }
    findings.push(finding("memory", "fail",
      `needs ${gibText(cap.weightsBytes)} of weights plus ${gibText(cap.activationBytes + cap.otherBytes)} of `
      + `activations and runtime reserve per GPU${split}; one ${s.gpu.title} may use ${gibText(cap.budgetBytes)} `
      + `(${pyPercent(cfg.gpu_memory_utilization)} of its usable ${gibText(cap.usableBytes)}), `
      + (cap.kvSpaceBytes <= 0 ? "leaving nothing for the KV cache"
        : `leaving ${pyComma(cap.kvSpaceBytes / 2 ** 20, 1)} MiB, less than one ${cfg.block_size}-token KV block`)));
  } else if (s.context >= 1 && s.sequences >= 1) {
    // each attention-DP group caches its own sequences, whole
    const perGroup = maxConcurrency(arch, cap, Math.min(s.context, arch.context_length), kvBits, group, s.pp);
    seqs = s.attention_dp === 1 ? perGroup : s.attention_dp * Math.floor(perGroup);
    const fit = s.attention_dp * Math.floor(perGroup);
    if (perGroup < 1) {
      findings.push(finding("kv-capacity", "fail", `one sequence of ${tokensText(s.context)} tokens needs more KV `
        + `cache than the ${gibText(cap.kvSpaceBytes)} left on each GPU after ${gibText(fixed)} of weights and `
        + "overheads"));
    } else if (s.sequences > fit) {
      if (s.mode === "batch") {
        findings.push(finding("kv-capacity", "fail", `a batch of ${pyComma(s.sequences)} sequences of `
          + `${tokensText(s.context)} tokens needs more KV cache than fits: only ${pyComma(fit)} fit in the `
          + `${gibText(cap.kvSpaceBytes)} left on each GPU; an engine would run ${pyComma(fit)} at a time and queue `
          + "or preempt the rest"));
      } else {
        findings.push(finding("kv-capacity", "warn", `${pyComma(s.sequences)} concurrent sequences of `
          + `${tokensText(s.context)} tokens do not all fit: ${pyComma(fit)} run at once in the `
          + `${gibText(cap.kvSpaceBytes)} of KV cache per GPU, the rest wait in the queue (or are preempted as `
          + "contexts grow)"));
      }
    }
  }
  findings.push(finding("memory", "note", `assumes ${engine}`));
  const feasible = !findings.some((f) => f.severity === "fail");
  return feasibility(feasible, findings, engine, cap, seqs, status);
}
