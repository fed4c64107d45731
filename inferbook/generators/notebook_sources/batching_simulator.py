"""Static, dynamic and continuous batching on one workload; percentiles and throughput."""

# %% [markdown]
# # Batching simulator
#
# How a server groups requests decides both its throughput and what each user waits. This notebook
# runs one seeded workload through three scheduling policies on roofline step times: **static**
# batching waits for a full batch and runs it to the end; **dynamic** batching also leaves after a
# short window; **continuous** batching admits and retires sequences at every step and splits
# long prompts into chunks. The simulator is deterministic, so the same parameters give the same
# numbers.

# %% [markdown] links
# - techniques/static-batching
# - techniques/dynamic-batching
# - techniques/continuous-batching
# - techniques/chunked-prefill
# - techniques/paged-attention
# - concepts/latency-percentiles
# - metrics/ttft
# - metrics/tpot
# - metrics/e2el
# - metrics/goodput
# - metrics/queueing-delay
# - metrics/request-throughput
# - models/{MODEL}
# - gpus/{GPU}

# %% [markdown]
# Run the cells from top to bottom. The first one sets up plotting; the second holds the
# parameters, which you can change to look at another model, GPU or format.

# %%
import matplotlib

matplotlib.use("Agg")  # draw off-screen; show() turns each figure into an inline PNG
import matplotlib.pyplot as plt

from inferbook.notebook_support import load_case, show

# %% tags=["parameters"]
# Parameters: change them and run the notebook again.
MODEL = "llama-3.1-8b-instruct"  # a model id (kb.models)
GPU = "h100-sxm"                 # a GPU id (kb.gpus)
FORMAT = "bf16"                  # weight format id (kb.formats); the model's native one by default
KV_DTYPE = "bf16"                # KV-cache data type: bf16, fp8-e4m3, int8, int4, ...
TP: int | None = None            # GPUs in the tensor-parallel group; None picks the fewest that fit
REQUESTS = 300                   # requests in the workload
RATE = 6.0                       # mean arrivals per second (Poisson)
INPUT_MEAN = 1024                # mean prompt tokens (lognormal)
OUTPUT_MEAN = 256                # mean output tokens (lognormal)
MAX_BATCH = 64                   # most sequences in a batch
SEED = 0                         # workload seed; the same seed gives the same run
SLO_TTFT_S = 1.0                 # time-to-first-token objective, seconds
SLO_TPOT_S = 0.05                # time-per-output-token objective, seconds
KB: list[str] | None = None      # None: the built-in handbook; or a list of knowledge-base folders

# %%
# Can it run? The same check as every calculator: splits, formats, memory, one sequence of 1,024 tokens.
# With TP None, the case takes the fewest GPUs of one tensor-parallel group on which the model runs.
case = load_case(MODEL, GPU, FORMAT, KV_DTYPE, TP, KB)
kb, model, gpu, fmt, arch = case.kb, case.model, case.gpu, case.fmt, case.arch
kv_bits, groups, TP = case.kv_bits, case.groups, case.tp

# %% [markdown]
# ## The workload and the server
# Prompt and output lengths are drawn from lognormal distributions around the means, arrivals from
# a Poisson process. The KV-cache capacity comes from the memory calculator, the step times from
# the roofline model.

# %%
from inferbook.calc.capacity import capacity
from inferbook.calc.metrics import Slo
from inferbook.calc.roofline import Roofline, step_model
from inferbook.calc.simulator import Lengths, SimConfig, simulate, workload

cap = capacity(arch, gpu, fmt, kv_bits, tp=TP, groups=groups)
steps = step_model(Roofline(arch, gpu, fmt, kv_bits, TP, groups=groups))
requests = workload(REQUESTS, RATE, Lengths("lognormal", mean=INPUT_MEAN, high=INPUT_MEAN * 8),
                    Lengths("lognormal", mean=OUTPUT_MEAN, high=OUTPUT_MEAN * 8), seed=SEED)
slo = Slo(ttft=SLO_TTFT_S, tpot=SLO_TPOT_S)
print(f"{len(requests)} requests over {requests[-1].arrival:,.1f} s; "
      f"mean prompt {sum(r.input_tokens for r in requests) / len(requests):,.0f} tokens, "
      f"mean output {sum(r.output_tokens for r in requests) / len(requests):,.0f} tokens")
print(f"KV cache holds {cap.kv_tokens:,} tokens")

# %% [markdown]
# ## Three policies, one workload
# Static and dynamic batches hold every slot until their longest request ends and pad prompts to
# the longest one, so requests queue behind each other; continuous batching fills freed slots at
# once. The table gives throughput, latency percentiles and goodput (requests per second that meet
# both objectives).

# %%
results, summaries = {}, {}
for policy in ("static", "dynamic", "continuous"):
    config = SimConfig(policy=policy, max_batch=MAX_BATCH, kv_capacity_tokens=max(cap.kv_tokens, 1))
    results[policy] = simulate(requests, steps, config)
    summaries[policy] = results[policy].summary(slo)
print(f"{'policy':10s} {'req/s':>6s} {'out tok/s':>9s} {'TTFT p50':>9s} {'TTFT p99':>9s} "
      f"{'TPOT p50':>9s} {'TPOT p99':>9s} {'E2EL p99':>9s} {'goodput':>7s}")
for policy, s in summaries.items():
    print(f"{policy:10s} {s.request_throughput:6.2f} {s.output_token_throughput:9,.0f} "
          f"{s.ttft.p50:8.3f}s {s.ttft.p99:8.3f}s {s.tpot.p50 * 1e3:7.1f}ms {s.tpot.p99 * 1e3:7.1f}ms "
          f"{s.e2el.p99:8.2f}s {s.goodput:7.2f}")
s = summaries["continuous"]
print(f"continuous: TTFT p99 {s.ttft.p99:.4f} s, TPOT p50 {s.tpot.p50 * 1e3:.3f} ms, "
      f"{s.output_token_throughput:,.1f} output tokens/s, {results['continuous'].preemptions} preemptions")

# %% [markdown]
# ## Latency percentiles
# The median tells what a typical request sees, the 99th percentile what the unluckiest one in a
# hundred sees. Queueing shows up in the tail first.

# %%
import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

quantiles = ("p50", "p90", "p95", "p99")
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, metric in zip(axes, ("ttft", "e2el"), strict=True):
    x = np.arange(len(quantiles))
    for i, (policy, s) in enumerate(summaries.items()):
        dist = getattr(s, metric)
        ax.bar(x + (i - 1) * 0.27, [getattr(dist, q) for q in quantiles], width=0.27, label=policy)
    ax.set_xticks(x, quantiles)
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylabel("seconds")
    ax.set_title(metric.upper())
    ax.grid(True, axis="y", alpha=0.3)
fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.06))
fig.tight_layout()
show(fig)

# %% [markdown]
# ## Throughput against batch size
# The same requests arriving all at once (a saturated server) under continuous batching, with the
# batch limit varied. Larger batches raise throughput because each step's weight read serves more
# tokens, and raise each token's latency because the steps get longer.

# %%
saturated = workload(min(REQUESTS, 200), 1e6, Lengths("lognormal", mean=INPUT_MEAN, high=INPUT_MEAN * 8),
                     Lengths("lognormal", mean=OUTPUT_MEAN, high=OUTPUT_MEAN * 8), seed=SEED)
limits = [1, 2, 4, 8, 16, 32, 64, 128]
sweep = []
for limit in limits:
    r = simulate(saturated, steps, SimConfig(max_batch=limit, kv_capacity_tokens=max(cap.kv_tokens, 1)))
    s = r.summary()
    sweep.append((limit, s.output_token_throughput, s.tpot.p50))
    print(f"max batch {limit:>4}: {s.output_token_throughput:10,.0f} output tokens/s, "
          f"TPOT p50 {s.tpot.p50 * 1e3:7.2f} ms")
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(limits, [t for _, t, _ in sweep], marker="o", label="output tokens/s (left)")
ax.set_xscale("log", base=2)
ax.set_xlabel("max batch size")
ax.set_ylabel("output tokens per second")
ax.grid(True, alpha=0.3)
twin = ax.twinx()
twin.plot(limits, [p * 1e3 for _, _, p in sweep], marker="s", color="C1", label="TPOT p50 ms (right)")
twin.set_ylabel("TPOT p50 (ms)")
fig.legend(loc="upper left", bbox_to_anchor=(0.12, 0.88))
show(fig)

# %% [markdown]
# ## Load against tail latency
# Raising the arrival rate shows the knee every queueing system has: latency stays flat while the
# server keeps up and climbs steeply once arrivals outpace it.

# %%
factors = [0.25, 0.5, 1.0, 1.5, 2.0, 3.0]
tails = []
for f in factors:
    load = workload(REQUESTS, RATE * f, Lengths("lognormal", mean=INPUT_MEAN, high=INPUT_MEAN * 8),
                    Lengths("lognormal", mean=OUTPUT_MEAN, high=OUTPUT_MEAN * 8), seed=SEED)
    config = SimConfig(max_batch=MAX_BATCH, kv_capacity_tokens=max(cap.kv_tokens, 1))
    s = simulate(load, steps, config).summary(slo)
    tails.append((RATE * f, s.ttft.p99, s.slo_attainment))
    print(f"{RATE * f:6.2f} req/s: TTFT p99 {s.ttft.p99:8.3f} s, {s.slo_attainment:.0%} within the SLOs")
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot([t[0] for t in tails], [t[1] for t in tails], marker="o")
ax.set_yscale("log")
ax.set_xlabel("arrival rate (requests per second)")
ax.set_ylabel("TTFT p99 (s)")
ax.set_title("continuous batching")
ax.grid(True, which="both", alpha=0.3)
show(fig)
