"""A tour of the query API: typed access, lookup, filters, search, graph and calculators."""

# %% [markdown]
# # A tour of the inferbook API
#
# `inferbook` is the LLM inference handbook as data: every GPU, model, numeric format, framework
# and concept is a validated entry with its sources. This notebook walks through the query API
# that the other notebooks build on: loading the knowledge base, typed access to sourced numbers,
# lookup by alias, filters, full-text search, the link graph and reading order, and a first call
# to the calculators.

# %% [markdown] links
# Entries this tour looks at:
#
# - kv-cache
# - models/{MODEL}
# - gpus/{GPU}

# %%
import inferbook

# %% tags=["parameters"]
# Parameters: change them and run the notebook again.
MODEL = "llama-3.1-8b-instruct"  # a model id (kb.models)
GPU = "h100-sxm"                 # a GPU id (kb.gpus)
ENTRY = "kv-cache"               # a handbook article to explore
KB: list[str] | None = None      # None: the built-in handbook; or a list of knowledge-base folders

# %% [markdown]
# ## Loading
# `inferbook.load()` returns an immutable `KnowledgeBase`. In a source checkout it reads the YAML
# files; an installed wheel reads a bundle compiled at build time. Several folders can be layered,
# `inferbook.load(["kb", "my-private-kb"])`, to add private entries.

# %%
kb = inferbook.load(KB)
print(kb)
print(f"{len(kb)} entries, data version {kb.data_version} ({kb.data_date})")

# %% [markdown]
# ## Typed entries and sourced numbers
# Each kind has a mapping of id to a typed entry. Numbers from datasheets and model cards carry
# their source, so every figure can be traced back.

# %%
gpu = kb.gpus[GPU]
bw = gpu.memory_bandwidth_gb_s
print(f"{gpu.title}: {gpu.memory_gib.value:g} GiB {gpu.memory_type}, {bw.value:,.0f} GB/s")
print(f"  bandwidth source: {bw.source or gpu.source}" + (f", note: {bw.note}" if bw.note else ""))
model = kb.models[MODEL]
a = model.architecture
print(f"{model.title}: {a.layers} layers, hidden {a.hidden_size}, {a.attention_heads} heads, "
      f"{a.kv_heads} KV heads, context {a.context_length:,}, native format {model.native_dtype}")

# %% [markdown]
# ## Lookup by id, alias or title
# `kb.get` accepts ids, aliases and titles in any case; a typo raises a `KeyError` that suggests
# the closest ids.

# %%
article = kb.get(ENTRY)
print(f"{article.id} ({kb.kind_of(article.id)}): {article.title}")
print(getattr(article, "summary", ""))  # articles, formats and frameworks have a summary
for alias in article.aliases[:3]:
    print(f"  kb.get({alias!r}) -> {kb.get(alias).id}")
try:
    kb.gpus[GPU[:-1]]
except KeyError as error:
    print("KeyError:", error)

# %% [markdown]
# ## Filters
# `kb.where` takes `FIELD OP VALUE` expressions (dotted fields reach into nested data);
# `Entries.filter` takes a predicate or keyword equalities.

# %%
big = kb.where("gpus", "memory_gib>=80", "market=datacenter")
print(f"{len(big)} datacenter GPUs with at least 80 GiB:", ", ".join(sorted(g.id for g in big)))
mla = kb.models.filter(architecture__attention="mla")
print("models with latent attention:", ", ".join(sorted(m.id for m in mla)))
moe = kb.models.filter(lambda m: m.architecture.moe is not None)
print(f"{len(moe)} mixture-of-experts models")

# %% [markdown]
# ## Full-text search
# Search ranks ids, titles, aliases, summaries and bodies; `kind=` narrows it to one kind.

# %%
for hit in kb.search("kv cache memory", limit=5):
    print(f"{hit.score:7.2f}  {hit.kind:10s} {hit.id}")

# %% [markdown]
# ## The link graph and reading order
# Entries reference each other (prerequisites, related entries, techniques and what they use). The
# graph answers what to read first, what else is related, and who links here; `learning_order()`
# lists every article in an order where prerequisites come first.

# %%
print("read first:", " -> ".join(e.id for e in kb.prerequisites(ENTRY, recursive=True)) or "(nothing)")
print("related:", ", ".join(e.id for e in kb.related(ENTRY)[:8]))
print(f"{len(kb.backlinks(ENTRY))} entries link to {ENTRY}")
print(f"graph: {kb.graph.number_of_nodes()} nodes, {kb.graph.number_of_edges()} edges")
print("reading order starts:", ", ".join(e.id for e in kb.learning_order()[:6]))
for chapter in sorted(kb.chapters.values(), key=lambda ch: ch.number):
    print(f"  chapter {chapter.number}: {chapter.title} ({len(kb.chapter_entries(chapter.id))} articles)")

# %% [markdown]
# ## Calculators
# `inferbook.calc` computes from the same entries. The other notebooks go deeper: the KV cache,
# memory and fit, roofline, batching simulator, latency metrics, quantization impact and GPU
# comparison.

# %%
from inferbook.calc import count_params, kv_bytes_per_token, weight_bytes

params = count_params(model.architecture)
native = kb.formats[model.native_dtype]
print(f"{model.id}: {params.total / 1e9:,.2f} B parameters, "
      f"{weight_bytes(model.architecture, native).total_bytes / 2**30:,.2f} GiB in {native.id}, "
      f"{kv_bytes_per_token(model.architecture, 16):,.0f} KV bytes per token in 16-bit")
