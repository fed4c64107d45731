"""Weights, memory budget, KV capacity and the GPU configurations that serve a load."""

# %% [markdown]
# # Memory and fit
#
# Will the model fit on the GPU, and how many requests can it serve at once? This notebook does
# the memory accounting the way an engine's profiler does it (vLLM's, whose defaults the
# calculator follows): the usable memory times `gpu_memory_utilization` is the budget; the
# weights, the activation peak of a profiling forward pass and the runtime's own memory come off
# it; what remains is the KV cache, which divided by the bytes per token gives the number of
# tokens the engine can keep. It then searches every GPU in the handbook for configurations that
# serve `CONCURRENCY` sequences of `CONTEXT` tokens.

# %% [markdown] links
# - concepts/gpu-memory-calculation
# - concepts/kv-cache
# - techniques/paged-attention
# - techniques/tensor-parallelism
# - concepts/choosing-a-gpu
# - metrics/concurrency
# - techniques/quantization
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
CONTEXT = 8192                   # tokens per sequence
CONCURRENCY = 16                 # sequences at once
GPU_MEMORY_UTILIZATION = 0.9     # share of memory the engine may use (vLLM default 0.9)
KB: list[str] | None = None      # None: the built-in handbook; or a list of knowledge-base folders

# %%
# Can it run? The same check as every calculator: splits, formats, memory, one sequence of 1,024 tokens.
# With TP None, the case takes the fewest GPUs of one tensor-parallel group on which the model runs.
case = load_case(MODEL, GPU, FORMAT, KV_DTYPE, TP, KB)
kb, model, gpu, fmt, arch = case.kb, case.model, case.gpu, case.fmt, case.arch
kv_bits, groups, TP = case.kv_bits, case.groups, case.tp

# %% [markdown]
# ## Parameters and weight memory
# Parameters are counted from the architecture (embeddings, attention, feed-forward or experts,
# norms). Weight bytes follow the format's effective bits per weight, which include block scales;
# quantized checkpoints usually keep the embedding and the output head in 16-bit.

# %%
from inferbook.calc import count_params, kv_bytes, weight_bytes
from inferbook.calc.capacity import EngineConfig, capacity, max_concurrency
from inferbook.calc.fit import fit_options

params = count_params(arch)
print(f"parameters: {params.total / 1e9:,.2f} B total, {params.active / 1e9:,.2f} B active per token "
      f"(the model card says {model.params_total_b.value:g} B)")
w = weight_bytes(arch, fmt, tp=TP, groups=groups)
for name, value in (("linear layers", w.linear_bytes), ("embedding", w.embedding_bytes),
                    ("output head", w.lm_head_bytes), ("norms", w.norm_bytes)):
    print(f"  {name:14s} {value / GIB:9.2f} GiB")
print(f"weights in {fmt.id}: {w.total_bytes / GIB:,.2f} GiB in total, "
      f"{w.per_gpu_bytes / GIB:,.2f} GiB per GPU at TP {TP}")

# %% [markdown]
# ## The memory budget of one GPU
# The bar shows where each GPU's memory goes. The part above the budget is what
# `gpu_memory_utilization` keeps free for the rest of the process; the KV space is what is left
# after everything else.

# %%
cfg = EngineConfig(gpu_memory_utilization=GPU_MEMORY_UTILIZATION)
cap = capacity(arch, gpu, fmt, kv_bits, tp=TP, cfg=cfg, groups=groups)
parts = [("weights", cap.weights_bytes), ("activation peak", cap.activation_bytes),
         ("runtime (non-torch)", cap.other_bytes), ("KV cache", max(cap.kv_space_bytes, 0.0)),
         ("kept free", cap.usable_bytes - cap.budget_bytes)]
print(f"usable memory per GPU: {cap.usable_bytes / GIB:,.2f} GiB, budget: {cap.budget_bytes / GIB:,.2f} GiB")
for name, value in parts:
    print(f"  {name:20s} {value / GIB:9.2f} GiB")
print(f"KV cache: {cap.kv_bytes_per_token:,.0f} bytes per token per GPU, holds {cap.kv_tokens:,} tokens")

fig, ax = plt.subplots(figsize=(7, 1.8))
left = 0.0
for i, (name, value) in enumerate(parts):
    ax.barh([gpu.id], [value / GIB], left=left, color=f"C{i}", label=name)
    left += value / GIB
ax.set_xlabel("GiB per GPU")
ax.legend(ncol=3, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.45))
show(fig)

# %% [markdown]
# ## How many sequences fit
# Concurrency is the KV space divided by the cache of one sequence. Halving the context roughly
# doubles it (less so for models with sliding-window layers, whose cache stops growing).

# %%
conc = max_concurrency(arch, cap, CONTEXT, kv_bits, tp=TP)
need = kv_bytes(arch, CONTEXT, kv_bits, CONCURRENCY, tp=TP).bytes_per_gpu
print(f"sequences of {CONTEXT:,} tokens at once: {conc:,.1f}")
print(f"{CONCURRENCY} x {CONTEXT:,} tokens need {need / GIB:,.2f} GiB of KV per GPU: "
      + ("fits" if need <= cap.kv_space_bytes else "does not fit"))

contexts = [n for n in (1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072) if n <= arch.context_length]
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(contexts, [max_concurrency(arch, cap, n, kv_bits, tp=TP) for n in contexts], marker="o")
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel("context (tokens)")
ax.set_ylabel("sequences that fit")
ax.set_title(f"{model.title} on {TP} x {gpu.id}")
ax.grid(True, which="both", alpha=0.3)
show(fig)

# %% [markdown]
# ## Which GPUs serve the load
# `fit_options` tries every GPU of the handbook at 1 to 64 GPUs (tensor parallel inside a GPU's
# scale-up domain, pipeline stages beyond it), runs the feasibility check on each, and ranks the
# configurations: fitting ones first, then fewer GPUs, then more headroom. A configuration that
# cannot run says why.

# %%
options = fit_options(model, fmt, kb.gpus.values(), CONTEXT, CONCURRENCY, kv_bits, cfg=cfg, groups=groups)
fitting = [o for o in options if o.fits]
print(f"{len(fitting)} of {len(options)} configurations serve {CONCURRENCY} x {CONTEXT:,} tokens")
print(f"{'gpu':24s} {'n':>2s} {'TPxPP':>5s} {'weights/GPU':>11s} {'KV need':>9s} {'KV space':>9s} "
      f"{'max conc':>9s}")
for o in fitting[:15]:
    print(f"{o.gpu:24s} {o.count:2d} {f'{o.tp}x{o.pp}':>5s} {o.weights_gib_per_gpu:9.1f}Gi "
          f"{o.kv_needed_gib_per_gpu:7.1f}Gi {o.kv_space_gib_per_gpu:7.1f}Gi {o.max_concurrency:9.1f}")
if not fitting and options:
    print("nothing serves this load; the closest configuration cannot run because:", options[0].reason)

fewest: dict[str, int] = {}
for o in fitting:
    fewest.setdefault(o.gpu, o.count)
if fewest:
    names = sorted(fewest, key=lambda g: (fewest[g], g))
    fig, ax = plt.subplots(figsize=(7, 0.22 * len(names) + 1))
    ax.barh(names, [fewest[g] for g in names])
    ax.invert_yaxis()
    ax.set_xlabel("fewest GPUs that serve the load")
    ax.tick_params(axis="y", labelsize=7)
    show(fig)
