"""Weight memory, KV room, concurrency and speed of one model across weight and KV formats."""

# %% [markdown]
# # Quantization impact
#
# Storing weights in fewer bits does three things at once: the weights take less memory, which
# leaves more room for the KV cache and so more concurrent sequences; each decode step reads fewer
# bytes, which makes memory-bound decoding faster; and on GPUs with FP8 or FP4 matrix units,
# prefill can run at their higher FLOP rate. This notebook puts numbers on all three for one model
# on one GPU group, for weight formats and for KV-cache data types. What it cannot tell you is the
# quality cost: that depends on the model, the method and the task, and must be measured.

# %% [markdown] links
# - techniques/quantization
# - techniques/weight-only-quantization
# - techniques/fp8-quantization
# - techniques/fp4-quantization
# - techniques/awq
# - techniques/gptq
# - techniques/gguf-k-quants
# - techniques/w8a8-quantization
# - techniques/kv-cache-quantization
# - concepts/quantization-quality
# - concepts/weight-file-formats
# - models/{MODEL}
# - gpus/{GPU}

# %% [markdown]
# Run the cells from top to bottom. The first one sets up plotting; the second holds the
# parameters, which you can change to look at another model, GPU or format.

# %%
import matplotlib

matplotlib.use("Agg")  # draw off-screen; show() turns each figure into an inline PNG
import matplotlib.pyplot as plt

from inferbook.notebook_support import GIB, load_case, show

# %% tags=["parameters"]
# Parameters: change them and run the notebook again.
MODEL = "llama-3.1-8b-instruct"  # a model id (kb.models)
GPU = "h100-sxm"                 # a GPU id (kb.gpus)
FORMAT = "bf16"                  # weight format id (kb.formats); the model's native one by default
KV_DTYPE = "bf16"                # KV-cache data type: bf16, fp8-e4m3, int8, int4, ...
TP: int | None = None            # GPUs in the tensor-parallel group; None picks the fewest that fit
# weight formats to compare:
FORMATS = ["bf16", "fp8-e4m3", "int8", "nvfp4", "awq-int4", "gptq-int4", "gguf-q8-0", "gguf-q4-k-m"]
CONTEXT = 8192                   # tokens per sequence
BATCH = 32                       # decode batch for the throughput column
KB: list[str] | None = None      # None: the built-in handbook; or a list of knowledge-base folders

# %%
# Can it run? The same check as every calculator: splits, formats, memory, one sequence of 1,024 tokens.
# With TP None, the case takes the fewest GPUs of one tensor-parallel group on which the model runs.
case = load_case(MODEL, GPU, FORMAT, KV_DTYPE, TP, KB)
kb, model, gpu, fmt, arch = case.kb, case.model, case.gpu, case.fmt, case.arch
kv_bits, groups, TP = case.kv_bits, case.groups, case.tp

# %% [markdown]
# ## Weight formats side by side
# The tensor-parallel size stays fixed at the one chosen for `FORMAT`, so every row compares the
# same GPUs. Effective bits include block scales and zero points; embeddings and the output head
# stay in 16-bit for most quantized formats, which is why the memory does not shrink exactly in
# proportion to the bits. Formats without their own matrix units on this GPU compute in 16-bit.

# %%
from inferbook.calc import kv_dtype_bits, weight_bytes
from inferbook.calc.capacity import capacity, max_concurrency
from inferbook.calc.roofline import Roofline
from inferbook.calc.weights import native_groups

table = []
for fid in dict.fromkeys([*FORMATS, model.native_dtype]):
    f = kb.formats[fid]
    g = (native_groups(model, dict(kb.formats)) or None) if fid == model.native_dtype else None
    w = weight_bytes(arch, f, tp=TP, groups=g)
    cap = capacity(arch, gpu, f, kv_bits, tp=TP, groups=g)
    row = {"format": fid, "bits": f.effective_bits_per_weight, "weights_gib": w.total_bytes / GIB,
           "kv_tokens": cap.kv_tokens, "fits": cap.fits}
    if cap.fits:
        roof = Roofline(arch, gpu, f, kv_bits, TP, groups=g)
        row["concurrency"] = max_concurrency(arch, cap, CONTEXT, kv_bits, tp=TP)
        row["tps_1"] = roof.decode_throughput(1, CONTEXT)
        row["tps_batch"] = roof.decode_throughput(BATCH, CONTEXT)
        row["ttft_ms"] = roof.prefill(min(CONTEXT, 1024)).seconds * 1e3
    table.append(row)
print(f"{'format':12s} {'bits/w':>6s} {'weights':>9s} {'KV tokens':>10s} {'seqs':>7s} "
      f"{'tok/s b=1':>9s} {'tok/s b=' + str(BATCH):>10s} {'TTFT 1k':>8s}")
for r in table:
    if not r["fits"]:
        print(f"{r['format']:12s} {r['bits']:6.2f} {r['weights_gib']:7.2f}Gi  does not fit on {TP} x {gpu.id}")
        continue
    print(f"{r['format']:12s} {r['bits']:6.2f} {r['weights_gib']:7.2f}Gi {r['kv_tokens']:10,} "
          f"{r['concurrency']:7.1f} {r['tps_1']:9,.1f} {r['tps_batch']:10,.0f} {r['ttft_ms']:6.1f}ms")

# %%
shown = [r for r in table if r["fits"]]
fig, axes = plt.subplots(1, 3, figsize=(13, 4))
labels = [r["format"] for r in shown]
axes[0].bar(labels, [r["weights_gib"] for r in shown])
axes[0].set_ylabel("GiB of weights")
axes[1].bar(labels, [r["concurrency"] for r in shown], color="C2")
axes[1].set_ylabel(f"sequences of {CONTEXT} tokens")
axes[2].bar(labels, [r["tps_1"] for r in shown], color="C1")
axes[2].set_ylabel("tokens/s at batch 1")
for ax in axes:
    ax.tick_params(axis="x", rotation=60, labelsize=8)
    ax.grid(True, axis="y", alpha=0.3)
fig.suptitle(f"{model.title} on {TP} x {gpu.id}")
fig.tight_layout()
show(fig)

# %% [markdown]
# ## KV-cache data types
# Quantizing the cache halves or quarters the bytes per token, so the same KV space holds more
# tokens, and long-context decode steps read less. The weights stay in `FORMAT`.

# %%
from inferbook.calc import kv_bytes_per_token

print(f"{'KV dtype':10s} {'bytes/token':>12s} {'KV tokens':>12s} {'seqs':>8s}")
kv_rows = []
for dtype in ("bf16", "fp8-e4m3", "int4"):
    bits = kv_dtype_bits(dtype, kb.formats)
    cap = capacity(arch, gpu, fmt, bits, tp=TP, groups=groups)
    conc = max_concurrency(arch, cap, CONTEXT, bits, tp=TP)
    kv_rows.append((dtype, conc))
    print(f"{dtype:10s} {kv_bytes_per_token(arch, bits):12,.0f} {cap.kv_tokens:12,} {conc:8.1f}")

# %% [markdown]
# ## What the numbers leave out
# Accuracy. FP8 weights and an FP8 KV cache are usually close to the 16-bit model; 4-bit weight
# formats depend more on the method (AWQ, GPTQ, k-quants) and on the model, and small models lose
# more. The quantization-quality entry explains how to measure it on your own task before
# switching formats.
