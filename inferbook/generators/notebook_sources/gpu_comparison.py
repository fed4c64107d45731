"""GPU specs, ridge points, and one model's fit and speed on every GPU of the handbook."""

# %% [markdown]
# # GPU comparison
#
# Which accelerator should serve the model? This notebook lists the handbook's GPUs with the
# figures that matter for inference, then puts the chosen model on each of them: the fewest GPUs
# that serve the load, and what the roofline model predicts for single-stream and batched decode.
# Decode at batch 1 is memory-bound, so it follows memory bandwidth far more than FLOP/s.

# %% [markdown] links
# - concepts/choosing-a-gpu
# - concepts/gpu-architecture
# - concepts/memory-hierarchy
# - concepts/tensor-cores
# - concepts/precision-support-by-generation
# - concepts/roofline-model
# - concepts/nvlink-nvswitch
# - metrics/token-throughput
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
CONTEXT = 8192                   # tokens per sequence
CONCURRENCY = 16                 # sequences at once
BATCH = 32                       # decode batch for the throughput column
KB: list[str] | None = None      # None: the built-in handbook; or a list of knowledge-base folders

# %%
# Can it run? The same check as every calculator: splits, formats, memory, one sequence of 1,024 tokens.
# With TP None, the case takes the fewest GPUs of one tensor-parallel group on which the model runs.
case = load_case(MODEL, GPU, FORMAT, KV_DTYPE, TP, KB)
kb, model, gpu, fmt, arch = case.kb, case.model, case.gpu, case.fmt, case.arch
kv_bits, groups, TP = case.kv_bits, case.groups, case.tp

# %% [markdown]
# ## Specifications
# Dense (not sparse) peak rates from the datasheets, memory and bandwidth, and the ridge point in
# 16-bit: the FLOP per byte a kernel needs before the matrix units, rather than memory, limit it.

# %%
from inferbook.calc.fit import fit_options
from inferbook.calc.roofline import Roofline, ridge_point
from inferbook.schema import Quantity

bf16 = kb.formats["bf16"]


def value(q: Quantity | None) -> float | None:
    return q.value if q is not None else None


def cell(v: float | None, width: int, spec: str = ",.0f") -> str:
    return f"{v:>{width}{spec}}" if v is not None else " " * (width - 1) + "-"


print(f"{'gpu':24s} {'GiB':>5s} {'GB/s':>7s} {'16b TF':>8s} {'FP8 TF':>7s} {'FP4 TF':>7s} {'ridge':>6s}")
specs = {}
for gid, g in sorted(kb.gpus.items()):
    try:
        ridge: float | None = ridge_point(g, bf16)
    except ValueError:
        ridge = None
    specs[gid] = ridge
    print(f"{gid:24s} {g.memory_gib.value:5.0f} {g.memory_bandwidth_gb_s.value:7,.0f} "
          f"{cell(value(g.dense.bf16_tflops or g.dense.fp16_tflops), 8)} {cell(value(g.dense.fp8_tflops), 7)} "
          f"{cell(value(g.dense.fp4_tflops), 7)} {cell(ridge, 6)}")

# %% [markdown]
# ## The model on every GPU
# For each GPU the fewest devices in one tensor-parallel group (inside the GPU's scale-up domain)
# that serve `CONCURRENCY` sequences of `CONTEXT` tokens in `FORMAT`, then the roofline's decode
# speed on that group. GPUs without a 16-bit rate in the handbook, or where the model needs
# pipeline stages across domains, are left out.

# %%
rows = []
for gid, g in sorted(kb.gpus.items()):
    fitting = [o for o in fit_options(model, fmt, [g], CONTEXT, CONCURRENCY, kv_bits, groups=groups)
               if o.fits and o.pp == 1]
    if not fitting or specs[gid] is None:
        continue
    n = fitting[0].tp
    roof = Roofline(arch, g, fmt, kv_bits, n, groups=groups)
    rows.append((gid, n, g.memory_bandwidth_gb_s.value, roof.decode_throughput(1, CONTEXT),
                 roof.decode_throughput(BATCH, CONTEXT), roof.prefill(1024).seconds * 1e3))
rows.sort(key=lambda r: -r[3])
print(f"{'gpu':24s} {'n':>2s} {'tok/s b=1':>10s} {'tok/s b=' + str(BATCH):>11s} {'TTFT 1k ms':>10s}")
for gid, n, _, one, batched, ttft in rows:
    print(f"{gid:24s} {n:2d} {one:10,.1f} {batched:11,.0f} {ttft:10.1f}")
for gid, n, _, one, _, _ in rows:
    if gid == GPU:
        print(f"{GPU}: {n} GPU(s), {one:,.1f} tokens/s at batch 1")

# %% [markdown]
# ## Bandwidth decides single-stream speed
# Each point is one GPU group; the x axis is the group's total memory bandwidth. The points line
# up because a batch-1 decode step is mostly the time to read the weights once.

# %%
fig, ax = plt.subplots(figsize=(7, 4.5))
labelled = {rows[0][0], GPU} if rows else set()
for gid, n, bw, one, _, _ in rows:
    ax.scatter(bw * n, one, color="C3" if gid == GPU else "C0")
    if gid in labelled:
        ax.annotate(f"{gid} x{n}" if n > 1 else gid, (bw * n, one), fontsize=7, xytext=(4, -3),
                    textcoords="offset points")
ax.set_xlabel("total memory bandwidth of the group (GB/s)")
ax.set_ylabel("tokens/s at batch 1")
ax.set_title(f"{model.title} in {fmt.id}, single stream")
ax.grid(True, alpha=0.3)
show(fig)

names = [r[0] for r in rows]
fig, ax = plt.subplots(figsize=(7, 0.2 * len(names) + 1))
ax.barh(names, [r[4] for r in rows], color=["C3" if g == GPU else "C0" for g in names])
ax.invert_yaxis()
ax.set_xlabel(f"tokens/s at batch {BATCH}")
ax.set_title(f"{model.title} in {fmt.id}, batch {BATCH}")
ax.tick_params(axis="y", labelsize=7)
show(fig)
