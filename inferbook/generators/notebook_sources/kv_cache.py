"""KV cache: bytes per token, growth with context, batch and tensor parallelism."""

# %% [markdown]
# # KV cache calculator
#
# While a model generates, every attention layer keeps the keys and values of every token it has
# seen, so that the next token does not recompute them. This notebook sizes that cache from the
# model's architecture fields in the handbook: bytes per token, bytes per sequence as the context
# grows, what a smaller KV data type saves, and how a batch splits across a tensor-parallel group.
# All figures come from `inferbook.calc` when the cells run.

# %% [markdown] links
# - concepts/kv-cache
# - concepts/attention-variants
# - techniques/grouped-query-attention
# - techniques/multi-query-attention
# - techniques/multi-head-latent-attention
# - techniques/sliding-window-attention
# - techniques/kv-cache-quantization
# - techniques/paged-attention
# - concepts/context-window
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
MODEL = "llama-3.1-8b-instruct"           # a model id (kb.models)
GPU = "h100-sxm"                          # a GPU id (kb.gpus)
FORMAT = "bf16"                           # weight format id (kb.formats); the model's native one by default
KV_DTYPE = "bf16"                         # KV-cache data type: bf16, fp8-e4m3, int8, int4, ...
TP: int | None = None                     # GPUs in the tensor-parallel group; None picks the fewest that fit
CONTEXT = 8192                            # tokens per sequence
BATCH = 16                                # sequences held at once
KV_DTYPES = ["bf16", "fp8-e4m3", "int4"]  # data types to compare
KB: list[str] | None = None               # None: the built-in handbook; or a list of knowledge-base folders

# %%
# Can it run? The same check as every calculator: splits, formats, memory, one sequence of 1,024 tokens.
# With TP None, the case takes the fewest GPUs of one tensor-parallel group on which the model runs.
case = load_case(MODEL, GPU, FORMAT, KV_DTYPE, TP, KB)
kb, model, gpu, fmt, arch = case.kb, case.model, case.gpu, case.fmt, case.arch
kv_bits, groups, TP = case.kv_bits, case.groups, case.tp

# %% [markdown]
# ## Bytes per token
# The calculator reads the attention kind, the number of layers and KV heads and the head
# dimension from the model entry. `kv_bytes_per_token` gives what one token adds to the cache
# across all layers while the context is shorter than any sliding window.

# %%
from inferbook.calc import kv_bytes, kv_bytes_per_token, kv_dtype_bits

per_token = kv_bytes_per_token(arch, kv_bits)
print(f"attention: {arch.attention.upper()}, {arch.layers} layers, "
      f"{arch.kv_heads} KV heads x head_dim {arch.head_dim}")
window = f", sliding window {arch.sliding_window:,} tokens" if arch.sliding_window else ""
print(f"layer pattern: {'/'.join(arch.layer_pattern)}{window}")
print(f"KV bytes per token ({KV_DTYPE}): {per_token:,.0f} ({per_token / 2**10:,.1f} KiB)")

# %% [markdown]
# ## Where that number comes from
# Standard attention (MHA, GQA and MQA) stores one key and one value vector per KV head in every
# layer that keeps a cache: *layers x 2 x KV heads x head_dim x bytes per element*. Grouped-query
# attention shares each KV head among several query heads, which is why it needs only a fraction of
# what multi-head attention would. Multi-head latent attention (MLA) caches one compressed latent
# per layer instead, and linear-attention and Mamba layers keep a fixed-size state that does not grow
# with the context (feed-forward-only layers keep nothing). The cell rebuilds the figure from the
# fields and checks it against the calculator.

# %%
import math

kinds = [arch.layer_pattern[i % len(arch.layer_pattern)] for i in range(arch.layers)]
cached_layers = sum(1 for k in kinds if k in ("full", "sliding", "chunked"))
if arch.mla is not None:
    per_layer = arch.mla.kv_lora_rank + arch.mla.qk_rope_head_dim
    formula = (f"{cached_layers} layers x ({arch.mla.kv_lora_rank} + {arch.mla.qk_rope_head_dim}) "
               "latent elements")
else:
    per_layer = 2 * arch.kv_heads * arch.head_dim
    formula = f"{cached_layers} layers x 2 x {arch.kv_heads} KV heads x {arch.head_dim}"
by_hand = cached_layers * per_layer * kv_bits / 8
print(f"{formula} x {kv_bits / 8:g} bytes = {by_hand:,.0f} bytes")
assert math.isclose(by_hand, per_token), (by_hand, per_token)
mha = cached_layers * 2 * arch.attention_heads * arch.head_dim * kv_bits / 8
print(f"caching all {arch.attention_heads} heads (plain MHA) would take {mha:,.0f} bytes, "
      f"{mha / per_token:.1f} x as much")

# %% [markdown]
# ## Cache per sequence as the context grows
# The cache grows linearly with the context in full-attention layers. Sliding-window and chunked
# layers stop growing at their window, so the curve bends for models that mix both kinds. Each
# KV data type scales the whole curve by its bits per element.

# %%
contexts = [n for n in (1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144)
            if n <= arch.context_length] or [arch.context_length]
curves = {}
for dtype in KV_DTYPES:
    bits = kv_dtype_bits(dtype, kb.formats)
    curves[dtype] = [kv_bytes(arch, n, bits).bytes_unique / GIB for n in contexts]
print(f"{'context':>8}" + "".join(f"{d:>12}" for d in KV_DTYPES) + "   GiB per sequence")
for i, n in enumerate(contexts):
    print(f"{n:>8}" + "".join(f"{curves[d][i]:>12.3f}" for d in KV_DTYPES))

fig, ax = plt.subplots(figsize=(7, 4))
for dtype in KV_DTYPES:
    ax.plot(contexts, curves[dtype], marker="o", label=f"KV cache in {dtype}")
ax.set_xscale("log", base=2)
ax.set_xlabel("context (tokens)")
ax.set_ylabel("GiB per sequence")
ax.set_title(f"KV cache of {model.title}")
ax.grid(True, alpha=0.3)
ax.legend()
show(fig)

# %% [markdown]
# ## A batch on a tensor-parallel group
# Tensor parallelism splits the KV heads across GPUs, so each GPU holds its share of the cache.
# When the group has more GPUs than the model has KV heads, heads are replicated and the total
# across GPUs exceeds what the model needs; an MLA latent is replicated on every GPU. *Unique* is
# the cache without replicas, *per GPU* what the fullest GPU holds.

# %%
context = min(CONTEXT, arch.context_length)
batch = kv_bytes(arch, context, kv_bits, batch=BATCH)
print(f"{BATCH} sequences x {context:,} tokens in {KV_DTYPE}: {batch.bytes_unique / GIB:,.2f} GiB")
print(f"{'TP':>3} {'per GPU':>12} {'all GPUs':>12} {'unique':>12}")
for tp in (1, 2, 4, 8):
    r = kv_bytes(arch, context, kv_bits, batch=BATCH, tp=tp)
    print(f"{tp:>3} {r.bytes_per_gpu / GIB:>10.2f}Gi {r.bytes_total / GIB:>10.2f}Gi "
          f"{r.bytes_unique / GIB:>10.2f}Gi")

# %% [markdown]
# ## How much of this fits next to the weights
# The memory-and-fit notebook does the full accounting; here is its headline: the space left for
# the cache on each GPU of the chosen group, and how many tokens and sequences of `CONTEXT` tokens
# it holds.

# %%
from inferbook.calc.capacity import capacity, max_concurrency

cap = capacity(arch, gpu, fmt, kv_bits, tp=TP, groups=groups)
print(f"KV space per GPU on {TP} x {gpu.id}: {cap.kv_space_bytes / GIB:,.2f} GiB = {cap.kv_tokens:,} tokens")
print(f"sequences of {context:,} tokens at once: {max_concurrency(arch, cap, context, kv_bits, tp=TP):,.1f}")

# %% [markdown]
# ## Every model in the handbook
# Bytes per token in 16-bit for all models, coloured by attention kind. The attention design,
# more than the parameter count, decides how expensive long contexts are.

# %%
from matplotlib.patches import Patch

names = sorted(kb.models)
values = [kv_bytes_per_token(kb.models[m].architecture, 16) / 2**10 for m in names]
attention_kinds = sorted({kb.models[m].architecture.attention for m in names})
colour = {k: f"C{i}" for i, k in enumerate(attention_kinds)}
fig, ax = plt.subplots(figsize=(7, 0.2 * len(names) + 1))
ax.barh(names, values, color=[colour[kb.models[m].architecture.attention] for m in names])
ax.invert_yaxis()
ax.set_xscale("log")
ax.set_xlabel("KiB per token (16-bit KV)")
ax.tick_params(axis="y", labelsize=7)
for label in ax.get_yticklabels():
    if label.get_text() == MODEL:
        label.set_fontweight("bold")
ax.legend(handles=[Patch(color=colour[k], label=k.upper()) for k in attention_kinds])
show(fig)
smallest, largest = min(zip(values, names, strict=True)), max(zip(values, names, strict=True))
print(f"smallest: {smallest[1]} ({smallest[0]:,.1f} KiB/token); "
      f"largest: {largest[1]} ({largest[0]:,.1f} KiB/token)")
