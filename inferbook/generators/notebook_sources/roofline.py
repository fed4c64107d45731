"""Roofline latency: prefill, decode steps by batch size, cost, speculation and prefix caching."""

# %% [markdown]
# # Roofline: latency and throughput
#
# A forward pass takes the longer of two times: the arithmetic divided by the GPU's FLOP rate, and
# the bytes it must read (weights plus KV cache) divided by the memory bandwidth. Prefill processes
# the whole prompt in one pass and is limited by compute; a decode step reads all the weights to
# produce one token per sequence, so at small batches it is limited by memory. Batching spreads
# that read over more tokens, which is why throughput climbs with batch size until the step turns
# compute-bound. The calculator scales both peaks by efficiency factors (MFU and MBU) fitted on
# published measurements and adds tensor-parallel communication.

# %% [markdown] links
# - concepts/roofline-model
# - metrics/arithmetic-intensity
# - metrics/mfu
# - metrics/mbu
# - concepts/prefill
# - concepts/decode
# - metrics/ttft
# - metrics/tpot
# - metrics/token-throughput
# - metrics/cost-per-million-tokens
# - techniques/speculative-decoding
# - techniques/prefix-caching
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
MODEL = "llama-3.1-8b-instruct"                    # a model id (kb.models)
GPU = "h100-sxm"                                   # a GPU id (kb.gpus)
FORMAT = "bf16"                                    # weight format id (kb.formats); the model's native one by default
KV_DTYPE = "bf16"                                  # KV-cache data type: bf16, fp8-e4m3, int8, int4, ...
TP: int | None = None                              # GPUs in the tensor-parallel group; None picks the fewest that fit
INPUT_TOKENS = 1024                                # prompt length
OUTPUT_TOKENS = 256                                # generated tokens
BATCHES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]  # decode batch sizes to compare
PRICE_PER_GPU_HOUR = 2.5                           # an example rental price; put in what you pay
KB: list[str] | None = None                        # None: the built-in handbook; or a list of knowledge-base folders

# %%
# Can it run? The same check as every calculator: splits, formats, memory, one sequence of 1,024 tokens.
# With TP None, the case takes the fewest GPUs of one tensor-parallel group on which the model runs.
case = load_case(MODEL, GPU, FORMAT, KV_DTYPE, TP, KB)
kb, model, gpu, fmt, arch = case.kb, case.model, case.gpu, case.fmt, case.arch
kv_bits, groups, TP = case.kv_bits, case.groups, case.tp

# %% [markdown]
# ## The GPU's roof
# The ridge point is the arithmetic intensity (FLOP per byte read) where the two limits meet:
# below it a kernel waits for memory, above it for the matrix units.

# %%
from inferbook.calc.roofline import (
    Efficiency,
    Roofline,
    cost_per_million_tokens,
    prefix_cache_savings,
    ridge_point,
    speculative_speedup,
)

roof = Roofline(arch, gpu, fmt, kv_bits, TP, Efficiency(), groups)
ridge = ridge_point(gpu, fmt)
print(f"peak for {fmt.id} matrices: {roof.peak_flops / 1e12:,.0f} TFLOP/s per GPU; "
      f"memory bandwidth {roof.bandwidth / 1e9:,.0f} GB/s")
print(f"ridge point: {ridge:,.0f} FLOP per byte")
print(f"efficiency factors: MFU {roof.efficiency.mfu}, MBU {roof.efficiency.mbu}")

# %% [markdown]
# ## Prefill: the time to first token at no load
# One pass over the prompt; its arithmetic intensity is far above the ridge point, so it is
# compute-bound except for very short prompts.

# %%
pre = roof.prefill(INPUT_TOKENS)
print(f"prefill of {INPUT_TOKENS:,} tokens: {pre.seconds * 1e3:,.2f} ms ({pre.bound}-bound), "
      f"{pre.flops / TP / pre.bytes_read:,.0f} FLOP per byte")

# %% [markdown]
# ## Decode: throughput against batch size
# Each step reads the weights once for the whole batch plus every sequence's KV cache, so the step
# time barely moves at small batches while the tokens per second grow almost linearly. Once the
# intensity passes the ridge point, the step becomes compute-bound and throughput levels off; the
# growing KV reads also bend the curve for long contexts. The cost column prices the group at
# `PRICE_PER_GPU_HOUR` per GPU.

# %%
context = INPUT_TOKENS + OUTPUT_TOKENS // 2  # the mean context over the generation
rows = []
for b in BATCHES:
    s = roof.decode_step(b, context)
    rows.append((b, s.seconds, b / s.seconds, s.flops / TP / s.bytes_read, s.bound))
print(f"{'batch':>6} {'step ms':>9} {'tokens/s':>10} {'FLOP/B':>8} {'$/M tok':>8}  bound")
for b, sec, tps, intensity, bound in rows:
    usd = cost_per_million_tokens(PRICE_PER_GPU_HOUR * TP, tps)
    print(f"{b:>6} {sec * 1e3:>9.3f} {tps:>10,.1f} {intensity:>8.1f} {usd:>8.3f}  {bound}")
step1 = roof.decode_step(1, context).seconds
print(f"decode at batch 1: {step1 * 1e3:.3f} ms per step, {1 / step1:,.1f} tokens/s")
turn = roof.compute_bound_batch(context)
print(f"decode turns compute-bound at batch {turn}" if turn else "decode stays memory-bound")

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot([r[0] for r in rows], [r[2] for r in rows], marker="o", label="tokens/s (left)")
ax.set_xscale("log", base=2)
ax.set_xlabel("batch size (sequences)")
ax.set_ylabel("output tokens per second")
ax.grid(True, alpha=0.3)
twin = ax.twinx()
twin.plot([r[0] for r in rows], [r[1] * 1e3 for r in rows], marker="s", color="C1", label="step ms (right)")
twin.set_ylabel("ms per decode step")
if turn and turn <= max(BATCHES):
    ax.axvline(turn, color="grey", linestyle="--", label="turns compute-bound")
fig.legend(loc="upper left", bbox_to_anchor=(0.12, 0.88))
ax.set_title(f"Decode throughput of {model.title} on {TP} x {gpu.id}")
show(fig)

# %% [markdown]
# ## The same steps on the roofline diagram
# The roof is the lower of the bandwidth slope and the compute peak. Decode steps sit on the slope
# until the batch is large enough to reach the flat part; prefill sits far to the right.

# %%
import numpy as np

intensities = np.logspace(-1, 5, 200)
peak = roof.peak_flops / 1e12
roof_line = np.minimum(peak, intensities * roof.bandwidth / 1e12)
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(intensities, roof_line, color="black", label="roof (peak values)")
for b, _seconds, _tps, intensity, _bound in rows:
    ax.scatter(intensity, min(peak, intensity * roof.bandwidth / 1e12), color="C0")
    ax.annotate(str(b), (intensity, min(peak, intensity * roof.bandwidth / 1e12)), fontsize=7,
                xytext=(3, -10), textcoords="offset points")
pre_i = pre.flops / TP / pre.bytes_read
ax.scatter(pre_i, min(peak, pre_i * roof.bandwidth / 1e12), color="C3", label="prefill")
ax.axvline(ridge, color="grey", linestyle="--", label="ridge point")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("arithmetic intensity (FLOP per byte)")
ax.set_ylabel("attainable TFLOP/s per GPU")
ax.legend()
show(fig)

# %% [markdown]
# ## A request's latency
# TTFT is the prefill; TPOT the mean decode step while the request shares a steady batch with
# others; end-to-end latency adds them up over the output.

# %%
for b in (1, 32):
    lat = roof.request_latency(INPUT_TOKENS, OUTPUT_TOKENS, batch=b)
    print(f"batch {b:>3}: TTFT {lat['ttft_s'] * 1e3:8.1f} ms, TPOT {lat['tpot_s'] * 1e3:7.2f} ms, "
          f"E2EL {lat['e2el_s']:6.2f} s")

# %% [markdown]
# ## Speculative decoding and prefix caching
# A draft proposes several tokens and the model checks them in one step; with acceptance rate *a*
# and *k* drafted tokens a step yields (1 - a^(k+1)) / (1 - a) tokens on average, at the price of
# the draft's own steps. A prefix cache skips the prefill of a prompt's shared beginning. The draft
# cost ratio below is an assumption to vary.

# %%
draft_cost_ratio = 0.05  # one draft step relative to one target step
acceptances = [0.5, 0.6, 0.7, 0.8, 0.9]
fig, ax = plt.subplots(figsize=(7, 3.5))
for k in (2, 4, 8):
    speedups = [speculative_speedup(a, k, draft_cost_ratio)["speedup"] for a in acceptances]
    print(f"k={k}: " + ", ".join(f"a={a}: {s:.2f}x" for a, s in zip(acceptances, speedups, strict=True)))
    ax.plot(acceptances, speedups, marker="o", label=f"{k} drafted tokens")
ax.set_xlabel("acceptance rate")
ax.set_ylabel("decode speedup")
ax.grid(True, alpha=0.3)
ax.legend()
show(fig)

saved = prefix_cache_savings(INPUT_TOKENS, INPUT_TOKENS // 2, roof)
print(f"prefix cache holding half the prompt: prefill {saved['full_s'] * 1e3:.1f} ms -> "
      f"{saved['with_cache_s'] * 1e3:.1f} ms ({saved['saved_fraction']:.0%} saved)")
