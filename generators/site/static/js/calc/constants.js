// Generated from the Python constants of inferbook.calc and inferbook.schema.models; do not edit.
// Refresh: python -m inferbook.generators.js_constants --write  (the sources: inferbook/generators/js_constants.py)

/** Bytes in a GiB. Python: `inferbook.calc.capacity.GIB`. */
export const GIB = 1073741824;
/**
 * Fraction of dense peak FLOP/s a prefill reaches in the textbook roofline (fitted).
 * Python: `inferbook.calc.roofline.DEFAULT_MFU`.
 */
export const DEFAULT_MFU = 0.48;
/**
 * Fraction of peak memory bandwidth a decode step reaches in the textbook roofline (fitted).
 * Python: `inferbook.calc.roofline.DEFAULT_MBU`.
 */
export const DEFAULT_MBU = 0.65;
/**
 * Fixed cost (seconds) of one all-reduce launch and synchronisation.
 * Python: `inferbook.calc.roofline.ALLREDUCE_LATENCY_S`.
 */
export const ALLREDUCE_LATENCY_S = 1e-05;
/**
 * Peak bytes per (sequence x vocabulary entry) of vLLM V1's sampler profiling run (fitted).
 * Python: `inferbook.calc.capacity.SAMPLER_BYTES_PER_LOGIT`.
 */
export const SAMPLER_BYTES_PER_LOGIT = 38.7;
/** Non-PyTorch memory (GiB) vLLM logs for one GPU. Python: `inferbook.calc.capacity.NON_TORCH_GIB_TP1`. */
export const NON_TORCH_GIB_TP1 = 0.13;
/** The same with tensor parallelism (NCCL buffers added). Python: `inferbook.calc.capacity.NON_TORCH_GIB_TP`. */
export const NON_TORCH_GIB_TP = 0.55;
/**
 * Engine memory settings, EngineConfig's defaults (vLLM V1 on a large GPU).
 * Python: `inferbook.calc.capacity.EngineConfig`.
 */
export const DEFAULT_ENGINE_CONFIG = Object.freeze({
  gpu_memory_utilization: 0.9,
  max_num_batched_tokens: 8192,
  max_num_seqs: 1024,
  block_size: 16,
  usable_fraction: 0.9889,
  non_torch_gib: null,
  cuda_graph_gib: 0.0,
  sampler_bytes_per_logit: 38.7,
  activation_scale: 1.0,
  total_memory_gib: null,
  fraction_of: "total",
});
/**
 * Scheduler settings, SimConfig's defaults (max_steps and record_steps are not ported).
 * Python: `inferbook.calc.simulator.SimConfig`.
 */
export const DEFAULT_SIM_CONFIG = Object.freeze({
  policy: "continuous",
  max_batch: 256,
  max_batched_tokens: 8192,
  chunked_prefill: true,
  kv_capacity_tokens: 1099511627776,
  batch_window_s: 0.05,
  closed_loop: false,
  lockstep_ranks: 1,
  reserve_full_length: false,
});
/** A token-length distribution, Lengths' defaults. Python: `inferbook.calc.simulator.Lengths`. */
export const DEFAULT_LENGTHS = Object.freeze({ kind: "fixed", mean: 512, low: 1, high: 1024, sigma: 0.5 });
/**
 * The name of the engine profile used when none is given (its settings: DEFAULT_ENGINE_CONFIG).
 * Python: `inferbook.calc.feasibility.VLLM_V1`.
 */
export const VLLM_V1_NAME = "vLLM V1 defaults";
/** Setup's defaults but the engine (VLLM_V1, built in feasibility.js). Python: `inferbook.calc.feasibility.Setup`. */
export const SETUP_DEFAULTS = Object.freeze({
  kv: null,
  kv_bits: 16.0,
  tp: 1,
  pp: 1,
  ep: 1,
  gpus: null,
  context: 8192,
  sequences: 1,
  mode: "batch",
  groups: null,
  mtp: false,
  attention_dp: 1,
});
/**
 * The formats every accelerator can compute in, natively or through its vector units.
 * Python: `inferbook.calc.feasibility.SIXTEEN_BIT`.
 */
export const SIXTEEN_BIT = Object.freeze(["bf16", "fp16"]);
/** Other names of KV data types -> format id. Python: `inferbook.calc.kv.KV_DTYPE_ALIASES`. */
export const KV_DTYPE_ALIASES = Object.freeze({ fp8: "fp8-e4m3", bfloat16: "bf16", float16: "fp16", auto: "bf16" });
/**
 * Bits per KV element of the common types, used when no format entries are given.
 * Python: `inferbook.calc.kv.KV_FALLBACK_BITS`.
 */
export const KV_FALLBACK_BITS = Object.freeze({
  fp32: 32.0,
  bf16: 16.0,
  fp16: 16.0,
  "fp8-e4m3": 8.0,
  "fp8-e5m2": 8.0,
  int8: 8.0,
  int4: 4.0,
});
/** Bits per element of the types a Mamba-2 SSM state is recorded in. Python: `inferbook.calc.kv.STATE_DTYPE_BITS`. */
export const STATE_DTYPE_BITS = Object.freeze({ fp32: 32.0, bf16: 16.0, fp16: 16.0 });
/**
 * Values per float32 scale of the FP8 indexer key cache (vLLM's quant_block_size).
 * Python: `inferbook.calc.kv.INDEXER_SCALE_BLOCK`.
 */
export const INDEXER_SCALE_BLOCK = 128;
/** Layer kinds that keep a per-token KV cache (sorted). Python: `inferbook.schema.models.ATTENTION_KINDS`. */
export const ATTENTION_KINDS = Object.freeze(["chunked", "full", "sliding"]);
/**
 * Layer kinds that hold a feed-forward block alone (Nemotron-H's one-block layers; sorted).
 * Python: `inferbook.schema.models.FFN_KINDS`.
 */
export const FFN_KINDS = Object.freeze(["mlp", "moe"]);
/**
 * The schema's defaults of the MoE fields the port fills in when they are missing.
 * Python: `inferbook.schema.models.Moe`.
 */
export const MOE_DEFAULTS = Object.freeze({ shared_experts: 0, dense_layers: 0, layer_interval: 1 });
/**
 * The schema's defaults of the vision-encoder fields the port fills in when they are missing.
 * Python: `inferbook.schema.models.VisionEncoder`.
 */
export const VISION_DEFAULTS = Object.freeze({
  temporal_patch_size: 2,
  in_channels: 3,
  position_embeddings: 0,
  deepstack_mergers: 0,
});
/** The fewest pixels (x temporal_patch_size) a GLM-4V image keeps. Python: `inferbook.calc.vision.GLM4V_MIN_PIXELS`. */
export const GLM4V_MIN_PIXELS = 12544;
/** The most pixels (x temporal_patch_size) a GLM-4V image keeps. Python: `inferbook.calc.vision.GLM4V_MAX_PIXELS`. */
export const GLM4V_MAX_PIXELS = 9633792;
/** The longest aspect ratio the GLM-4V processor accepts. Python: `inferbook.calc.vision.GLM4V_MAX_RATIO`. */
export const GLM4V_MAX_RATIO = 200;
/** The most patches a MoonViT image is scaled down to. Python: `inferbook.calc.vision.MOONVIT_PATCH_LIMIT`. */
export const MOONVIT_PATCH_LIMIT = 16384;
/** The most patches along either side of a MoonViT image. Python: `inferbook.calc.vision.MOONVIT_SIDE_LIMIT`. */
export const MOONVIT_SIDE_LIMIT = 512;
/** GPU counts the fit search tries. Python: `inferbook.calc.fit.FIT_COUNTS`. */
export const FIT_COUNTS = Object.freeze([1, 2, 4, 8, 16, 32, 64]);
/**
 * Scale-up domain assumed where a GPU entry records none (an 8-GPU server).
 * Python: `inferbook.calc.fit.DEFAULT_DOMAIN`.
 */
export const DEFAULT_DOMAIN = 8;
/**
 * Per-direction GB/s assumed when a GPU lists neither a scale-up link nor its PCIe generation (PCIe 4.0 x16).
 * Python: `inferbook.calc.perf.PCIE_GB_S_PER_DIRECTION`.
 */
export const PCIE_GB_S_PER_DIRECTION = 31.5;
/**
 * Per-direction GB/s of a x16 PCIe link by generation (the keys as strings, as JavaScript's are).
 * Python: `inferbook.calc.perf.PCIE_X16_GB_S`.
 */
export const PCIE_X16_GB_S = Object.freeze({ "3": 15.75, "4": 31.5, "5": 63.0, "6": 121.0 });
/**
 * Most bisection steps of the highest-rate search under SLOs (`predict.highest_rate`).
 * Python: `inferbook.calc.predict.MAX_RATE_STEPS`.
 */
export const MAX_RATE_STEPS = 14;
/**
 * Requests a prediction simulates when none are asked for (the fewest of an offline run).
 * Python: `inferbook.calc.predict.DEFAULT_REQUESTS`.
 */
export const DEFAULT_REQUESTS = 1000;
/**
 * Full batches an offline run simulates at least, so its throughput is the steady state's.
 * Python: `inferbook.calc.predict.OFFLINE_WAVES`.
 */
export const OFFLINE_WAVES = 6;
/** The most requests an offline run simulates on one replica. Python: `inferbook.calc.predict.MAX_OFFLINE_REQUESTS`. */
export const MAX_OFFLINE_REQUESTS = 20000;
/** The most GPUs a plan considers when none is given. Python: `inferbook.calc.plan.DEFAULT_MAX_GPUS`. */
export const DEFAULT_MAX_GPUS = 16;
/**
 * Percentiles the targets may be set at (those predict's statistics keep).
 * Python: `inferbook.calc.plan.PERCENTILES`.
 */
export const PERCENTILES = Object.freeze([50.0, 90.0, 95.0, 99.0]);
/**
 * KV-cache choices tried: the engine's default for the checkpoint, and FP8.
 * Python: `inferbook.calc.plan.KV_DTYPES`.
 */
export const KV_DTYPES = Object.freeze(["auto", "fp8-e4m3"]);
/** Tensor-parallel sizes the planner tries. Python: `inferbook.calc.plan.TP_SIZES`. */
export const TP_SIZES = Object.freeze([1, 2, 4, 8, 16, 32, 64]);
/** Pipeline-parallel sizes the planner tries. Python: `inferbook.calc.plan.PP_SIZES`. */
export const PP_SIZES = Object.freeze([1, 2, 4]);
/** Requests each finalist's simulation runs (spread over its replicas). Python: `inferbook.calc.plan.SIM_REQUESTS`. */
export const SIM_REQUESTS = 240;
/** Points of the estimated frontier simulated (the cheapest ones). Python: `inferbook.calc.plan.FRONTIER_FINALISTS`. */
export const FRONTIER_FINALISTS = 10;
/**
 * Configurations simulated in all: the estimated frontier's cheapest, then the cheapest others.
 * Python: `inferbook.calc.plan.FINALISTS`.
 */
export const FINALISTS = 16;
/**
 * Times a finalist that misses a target at the asked percentile gets another replica.
 * Python: `inferbook.calc.plan.MAX_EXTRA_REPLICAS`.
 */
export const MAX_EXTRA_REPLICAS = 3;
/** Frontier configurations tried as prefill and decode pools. Python: `inferbook.calc.plan.DISAGGREGATION_TRIES`. */
export const DISAGGREGATION_TRIES = 3;
/**
 * Bisection steps of the search for the arrival rate a number of users makes.
 * Python: `inferbook.calc.plan.USERS_BISECTION_STEPS`.
 */
export const USERS_BISECTION_STEPS = 30;
/**
 * That search stops once its bracket is within this fraction of its top (0.5%).
 * Python: `inferbook.calc.plan.USERS_TOLERANCE`.
 */
export const USERS_TOLERANCE = 0.005;
/** Requests per second of an idle engine (its zero-load latency). Python: `inferbook.calc.plan.IDLE_RATE`. */
export const IDLE_RATE = 1e-09;
/**
 * The most evaluations of the steady-state step equation (regula falsi, Illinois rule).
 * Python: `inferbook.calc.steady_state.ROOT_STEPS`.
 */
export const ROOT_STEPS = 60;
/**
 * A price checked more than this many days ago is flagged as stale.
 * Python: `inferbook.calc.pricing.STALE_AFTER_DAYS`.
 */
export const STALE_AFTER_DAYS = 183;
/** The kinds of hourly GPU price an offer may list. Python: `inferbook.calc.pricing.PRICINGS`. */
export const PRICINGS = Object.freeze(["on_demand", "reserved", "spot"]);
/** Engines predict models, by the ids --engine takes. Python: `inferbook.calc.engines.ENGINES`. */
export const ENGINES = Object.freeze(["vllm", "sglang", "tensorrt-llm", "llama-cpp"]);
/** Other names of engines -> engine id. Python: `inferbook.calc.engines.ENGINE_ALIASES`. */
export const ENGINE_ALIASES = Object.freeze({
  trtllm: "tensorrt-llm",
  llamacpp: "llama-cpp",
  "llama.cpp": "llama-cpp",
});
/** Engines with attention data parallelism for MoE models. Python: `inferbook.calc.engines.ATTENTION_DP_ENGINES`. */
export const ATTENTION_DP_ENGINES = Object.freeze(["vllm", "sglang", "tensorrt-llm"]);
/** Engines the planner writes launch commands for. Python: `inferbook.calc.launch.LAUNCH_ENGINES`. */
export const LAUNCH_ENGINES = Object.freeze(["vllm", "sglang", "tensorrt-llm"]);
/** The port the launch commands serve on. Python: `inferbook.calc.launch.PORT`. */
export const PORT = 8000;
