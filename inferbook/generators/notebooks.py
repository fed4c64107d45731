"""Jupyter notebooks, one per interactive tool plus a tour of the query API.

Each notebook is built from a small function that returns its cells. The cells
call only the public `inferbook` API, so the notebooks run in any kernel where
the `inferbook` wheel is installed; Markdown cells explain what is computed and
link the handbook entries it draws on (relative links into the generated site).
Every number a reader sees is printed by a code cell when the notebook runs;
the Markdown holds no figures of its own.

Output is deterministic: no timestamps, no execution outputs, cell ids derived
from the tool name and the cell's position, and JSON written with sorted keys.
"""

from __future__ import annotations

import difflib
import html
import json
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import nbformat
from nbformat.notebooknode import NotebookNode

from ..kb import KnowledgeBase

DEFAULT_MODEL = "llama-3.1-8b-instruct"
DEFAULT_GPU = "h100-sxm"
DEFAULT_KV_DTYPE = "bf16"
SITE_ENTRIES = "../site/entries"
"""Where entry pages live, relative to build/notebooks/ (build/site/entries/<kind>/<id>.html)."""

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}

# Defaults of the tool-specific parameters (tests recompute the notebooks' key numbers from them).
KV_CONTEXT, KV_BATCH = 8192, 16
KV_DTYPES = ("bf16", "fp8-e4m3", "int4")
FIT_CONTEXT, FIT_CONCURRENCY, FIT_UTILIZATION = 8192, 16, 0.9
ROOF_INPUT, ROOF_OUTPUT = 1024, 256
ROOF_BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
ROOF_PRICE = 2.5
SIM_REQUESTS, SIM_RATE, SIM_INPUT, SIM_OUTPUT, SIM_MAX_BATCH, SIM_SEED = 300, 6.0, 1024, 256, 64, 0
SIM_SLO_TTFT, SIM_SLO_TPOT = 1.0, 0.05
QUANT_FORMATS = ("bf16", "fp8-e4m3", "int8", "nvfp4", "awq-int4", "gptq-int4", "gguf-q8-0", "gguf-q4-k-m")
QUANT_CONTEXT, QUANT_BATCH = 8192, 32
GPU_CONTEXT, GPU_CONCURRENCY, GPU_BATCH = 8192, 16, 32


@dataclass(frozen=True)
class Case:
    """What a notebook is pre-filled for."""

    model: str
    gpu: str
    fmt: str
    kv_dtype: str = DEFAULT_KV_DTYPE
    kb_paths: tuple[str, ...] | None = None
    """Knowledge-base folders the notebook loads (None: the built-in handbook)."""


def md_text(text: str) -> str:
    """KB text made safe to put into a Markdown cell, which Jupyter renders as HTML:
    HTML-escaped (&, <, >), square brackets turned into parentheses so that no link or
    image (`[x](javascript:...)`, `![x](...)`) can form, backslashes doubled so that none
    escapes what follows, and line breaks turned into spaces so that the text stays inline."""
    text = html.escape(text, quote=False).replace("\\", "\\\\")
    text = text.replace("[", "(").replace("]", ")")
    return " ".join(text.splitlines())


@dataclass
class Cells:
    """Cells of one notebook under construction."""

    kb: KnowledgeBase
    case: Case
    items: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)

    def md(self, text: str) -> None:
        self.items.append(("markdown", textwrap.dedent(text).strip(), ()))

    def code(self, text: str, tags: tuple[str, ...] = ()) -> None:
        self.items.append(("code", textwrap.dedent(text).strip(), tags))

    def links(self, ids: Sequence[str], lead: str = "Handbook entries this notebook draws on:") -> None:
        """A Markdown list of links to the entries that exist in the knowledge base."""
        lines = []
        for key in ids:
            kind, _, name = key.rpartition("/")
            eid = self.kb.resolve(name)
            if eid is None or (kind and self.kb.kind_of(eid) != kind):
                continue
            title = md_text(self.kb.get(eid).title)
            target = f"{SITE_ENTRIES}/{quote(self.kb.kind_of(eid))}/{quote(eid)}.html"
            lines.append(f"- [{title}]({target})")
        if lines:
            self.items.append(("markdown", f"{lead}\n\n" + "\n".join(lines), ()))


# shared cells ---------------------------------------------------------------------
SETUP = '''
import matplotlib

matplotlib.use("Agg")  # draw off-screen; show() below turns each figure into an inline PNG
import matplotlib.pyplot as plt

import inferbook


def show(fig):
    """Display a figure as a PNG image (works under Agg, in Jupyter and in headless runs)."""
    import io

    try:
        from IPython.display import Image, display
    except ImportError:  # plain Python without IPython: nothing to display into
        plt.close(fig)
        return
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    plt.close(fig)
    display(Image(data=buffer.getvalue(), format="png"))
'''

CASE = '''
from inferbook.calc import kv_dtype_bits
from inferbook.calc.capacity import capacity
from inferbook.calc.feasibility import Setup, check_setup
from inferbook.calc.fit import smallest_group
from inferbook.calc.weights import native_groups

kb = inferbook.load(KB)
model, gpu, fmt = kb.models[MODEL], kb.gpus[GPU], kb.formats[FORMAT]
arch = model.architecture
kv_bits = kv_dtype_bits(KV_DTYPE, kb.formats)
kv_fmt = kb.formats.get(kb.resolve(KV_DTYPE) or "")
# A released checkpoint may keep some tensor groups in another format (gpt-oss keeps attention in BF16).
groups = (native_groups(model, dict(kb.formats)) or None) if fmt.id == model.native_dtype else None
# Can it run? The same check as every calculator: splits, formats, memory, one sequence of 1,024 tokens.
if TP is None:  # the fewest GPUs of one tensor-parallel group on which it can run
    TP, verdict = smallest_group(model, gpu, fmt, 1024, kv_bits=kv_bits, groups=groups, kv=kv_fmt)
else:
    verdict = check_setup(Setup(model, gpu, fmt, kv=kv_fmt, kv_bits=kv_bits, tp=TP, context=1024, groups=groups))
for warning in verdict.warnings:
    print("note:", warning)
if TP is None or not verdict.feasible:
    raise ValueError(f"{MODEL} in {FORMAT} cannot run on {GPU}: " + "; ".join(verdict.reasons)
                     + "; try a smaller FORMAT, another GPU, or set TP")
GIB = 2**30
print(f"{model.title} in {fmt.title} on {TP} x {gpu.title}, KV cache in {KV_DTYPE} ({verdict.engine})")
print(f"handbook data {kb.data_version} ({kb.data_date}), inferbook {inferbook.__version__}")
'''


def _literal(value: Any) -> str:
    """A Python literal for a parameter value (JSON-style strings, tuples as lists)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(value)


def _parameters(c: Cells, extra: Sequence[tuple[str, Any, str]] = (), gpu_tools: bool = True) -> None:
    case = c.case
    rows: list[tuple[str, Any, str]] = [("MODEL", case.model, "a model id (kb.models)")]
    if gpu_tools:
        rows += [("GPU", case.gpu, "a GPU id (kb.gpus)"),
                 ("FORMAT", case.fmt, "weight format id (kb.formats); the model's native one by default"),
                 ("KV_DTYPE", case.kv_dtype, "KV-cache data type: bf16, fp8-e4m3, int8, int4, ..."),
                 ("TP", None, "GPUs in the tensor-parallel group; None picks the fewest that fit")]
    else:
        rows.append(("GPU", case.gpu, "a GPU id (kb.gpus)"))
    rows += list(extra)
    kb_value = list(case.kb_paths) if case.kb_paths else None
    rows.append(("KB", kb_value, "None: the built-in handbook; or a list of knowledge-base folders"))
    assigns = [f"{name} = {_literal(value)}" for name, value, _ in rows]
    width = max(len(a) for a in assigns)
    lines = ["# Parameters: change them and run the notebook again."]
    lines += [f"{a.ljust(width)}  # {comment}" for a, (_, _, comment) in zip(assigns, rows, strict=True)]
    c.code("\n".join(lines), tags=("parameters",))


def _start(c: Cells, title: str, intro: str, entries: Sequence[str],
           extra: Sequence[tuple[str, Any, str]] = ()) -> None:
    """Title and explanation, entry links, setup, parameters and the loaded case."""
    c.md(f"# {title}\n\n{textwrap.dedent(intro).strip()}")
    c.links([*entries, f"models/{c.case.model}", f"gpus/{c.case.gpu}"])
    c.md("""
        Run the cells from top to bottom. The first one sets up plotting; the second holds the
        parameters, which you can change to look at another model, GPU or format.
    """)
    c.code(SETUP)
    _parameters(c, extra)
    c.code(CASE)


# the notebooks ------------------------------------------------------------------------
def kv_cache(c: Cells) -> None:
    """KV cache: bytes per token, growth with context, batch and tensor parallelism."""
    _start(c, "KV cache calculator", """
        While a model generates, every attention layer keeps the keys and values of every token it has
        seen, so that the next token does not recompute them. This notebook sizes that cache from the
        model's architecture fields in the handbook: bytes per token, bytes per sequence as the context
        grows, what a smaller KV data type saves, and how a batch splits across a tensor-parallel group.
        All figures come from `inferbook.calc` when the cells run.
    """, ["concepts/kv-cache", "concepts/attention-variants", "techniques/grouped-query-attention",
          "techniques/multi-query-attention", "techniques/multi-head-latent-attention",
          "techniques/sliding-window-attention", "techniques/kv-cache-quantization", "techniques/paged-attention",
          "concepts/context-window"],
        [("CONTEXT", KV_CONTEXT, "tokens per sequence"), ("BATCH", KV_BATCH, "sequences held at once"),
         ("KV_DTYPES", list(KV_DTYPES), "data types to compare")])
    c.md("""
        ## Bytes per token
        The calculator reads the attention kind, the number of layers and KV heads and the head
        dimension from the model entry. `kv_bytes_per_token` gives what one token adds to the cache
        across all layers while the context is shorter than any sliding window.
    """)
    c.code('''
        from inferbook.calc import kv_bytes, kv_bytes_per_token

        per_token = kv_bytes_per_token(arch, kv_bits)
        print(f"attention: {arch.attention.upper()}, {arch.layers} layers, "
              f"{arch.kv_heads} KV heads x head_dim {arch.head_dim}")
        window = f", sliding window {arch.sliding_window:,} tokens" if arch.sliding_window else ""
        print(f"layer pattern: {'/'.join(arch.layer_pattern)}{window}")
        print(f"KV bytes per token ({KV_DTYPE}): {per_token:,.0f} ({per_token / 2**10:,.1f} KiB)")
    ''')
    c.md("""
        ## Where that number comes from
        Standard attention (MHA, GQA and MQA) stores one key and one value vector per KV head in every
        layer that keeps a cache: *layers x 2 x KV heads x head_dim x bytes per element*. Grouped-query
        attention shares each KV head among several query heads, which is why it needs only a fraction of
        what multi-head attention would. Multi-head latent attention (MLA) caches one compressed latent
        per layer instead, and linear-attention and Mamba layers keep a fixed-size state that does not grow
        with the context (feed-forward-only layers keep nothing). The cell rebuilds the figure from the
        fields and checks it against the calculator.
    """)
    c.code('''
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
    ''')
    c.md("""
        ## Cache per sequence as the context grows
        The cache grows linearly with the context in full-attention layers. Sliding-window and chunked
        layers stop growing at their window, so the curve bends for models that mix both kinds. Each
        KV data type scales the whole curve by its bits per element.
    """)
    c.code('''
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
    ''')
    c.md("""
        ## A batch on a tensor-parallel group
        Tensor parallelism splits the KV heads across GPUs, so each GPU holds its share of the cache.
        When the group has more GPUs than the model has KV heads, heads are replicated and the total
        across GPUs exceeds what the model needs; an MLA latent is replicated on every GPU. *Unique* is
        the cache without replicas, *per GPU* what the fullest GPU holds.
    """)
    c.code('''
        context = min(CONTEXT, arch.context_length)
        batch = kv_bytes(arch, context, kv_bits, batch=BATCH)
        print(f"{BATCH} sequences x {context:,} tokens in {KV_DTYPE}: {batch.bytes_unique / GIB:,.2f} GiB")
        print(f"{'TP':>3} {'per GPU':>12} {'all GPUs':>12} {'unique':>12}")
        for tp in (1, 2, 4, 8):
            r = kv_bytes(arch, context, kv_bits, batch=BATCH, tp=tp)
            print(f"{tp:>3} {r.bytes_per_gpu / GIB:>10.2f}Gi {r.bytes_total / GIB:>10.2f}Gi "
                  f"{r.bytes_unique / GIB:>10.2f}Gi")
    ''')
    c.md("""
        ## How much of this fits next to the weights
        The memory-and-fit notebook does the full accounting; here is its headline: the space left for
        the cache on each GPU of the chosen group, and how many tokens and sequences of `CONTEXT` tokens
        it holds.
    """)
    c.code('''
        from inferbook.calc.capacity import max_concurrency

        cap = capacity(arch, gpu, fmt, kv_bits, tp=TP, groups=groups)
        print(f"KV space per GPU on {TP} x {gpu.id}: {cap.kv_space_bytes / GIB:,.2f} GiB = {cap.kv_tokens:,} tokens")
        print(f"sequences of {context:,} tokens at once: {max_concurrency(arch, cap, context, kv_bits, tp=TP):,.1f}")
    ''')
    c.md("""
        ## Every model in the handbook
        Bytes per token in 16-bit for all models, coloured by attention kind. The attention design,
        more than the parameter count, decides how expensive long contexts are.
    """)
    c.code('''
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
        smallest, largest = min(zip(values, names)), max(zip(values, names))
        print(f"smallest: {smallest[1]} ({smallest[0]:,.1f} KiB/token); "
              f"largest: {largest[1]} ({largest[0]:,.1f} KiB/token)")
    ''')


def memory_and_fit(c: Cells) -> None:
    """Weights, memory budget, KV capacity and the GPU configurations that serve a load."""
    _start(c, "Memory and fit", """
        Will the model fit on the GPU, and how many requests can it serve at once? This notebook does
        the memory accounting the way an engine's profiler does it (vLLM's, whose defaults the
        calculator follows): the usable memory times `gpu_memory_utilization` is the budget; the
        weights, the activation peak of a profiling forward pass and the runtime's own memory come off
        it; what remains is the KV cache, which divided by the bytes per token gives the number of
        tokens the engine can keep. It then searches every GPU in the handbook for configurations that
        serve `CONCURRENCY` sequences of `CONTEXT` tokens.
    """, ["concepts/gpu-memory-calculation", "concepts/kv-cache", "techniques/paged-attention",
          "techniques/tensor-parallelism", "concepts/choosing-a-gpu", "metrics/concurrency",
          "techniques/quantization"],
        [("CONTEXT", FIT_CONTEXT, "tokens per sequence"), ("CONCURRENCY", FIT_CONCURRENCY, "sequences at once"),
         ("GPU_MEMORY_UTILIZATION", FIT_UTILIZATION, "share of memory the engine may use (vLLM default 0.9)")])
    c.md("""
        ## Parameters and weight memory
        Parameters are counted from the architecture (embeddings, attention, feed-forward or experts,
        norms). Weight bytes follow the format's effective bits per weight, which include block scales;
        quantized checkpoints usually keep the embedding and the output head in 16-bit.
    """)
    c.code('''
        from inferbook.calc import count_params, kv_bytes, weight_bytes
        from inferbook.calc.capacity import EngineConfig, max_concurrency
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
    ''')
    c.md("""
        ## The memory budget of one GPU
        The bar shows where each GPU's memory goes. The part above the budget is what
        `gpu_memory_utilization` keeps free for the rest of the process; the KV space is what is left
        after everything else.
    """)
    c.code('''
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
    ''')
    c.md("""
        ## How many sequences fit
        Concurrency is the KV space divided by the cache of one sequence. Halving the context roughly
        doubles it (less so for models with sliding-window layers, whose cache stops growing).
    """)
    c.code('''
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
    ''')
    c.md("""
        ## Which GPUs serve the load
        `fit_options` tries every GPU of the handbook at 1 to 64 GPUs (tensor parallel inside a GPU's
        scale-up domain, pipeline stages beyond it), runs the feasibility check on each, and ranks the
        configurations: fitting ones first, then fewer GPUs, then more headroom. A configuration that
        cannot run says why.
    """)
    c.code('''
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

        fewest = {}
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
    ''')


def roofline(c: Cells) -> None:
    """Roofline latency: prefill, decode steps by batch size, cost, speculation and prefix caching."""
    _start(c, "Roofline: latency and throughput", """
        A forward pass takes the longer of two times: the arithmetic divided by the GPU's FLOP rate, and
        the bytes it must read (weights plus KV cache) divided by the memory bandwidth. Prefill processes
        the whole prompt in one pass and is limited by compute; a decode step reads all the weights to
        produce one token per sequence, so at small batches it is limited by memory. Batching spreads
        that read over more tokens, which is why throughput climbs with batch size until the step turns
        compute-bound. The calculator scales both peaks by efficiency factors (MFU and MBU) fitted on
        published measurements and adds tensor-parallel communication.
    """, ["concepts/roofline-model", "metrics/arithmetic-intensity", "metrics/mfu", "metrics/mbu",
          "concepts/prefill", "concepts/decode", "metrics/ttft", "metrics/tpot", "metrics/token-throughput",
          "metrics/cost-per-million-tokens", "techniques/speculative-decoding", "techniques/prefix-caching"],
        [("INPUT_TOKENS", ROOF_INPUT, "prompt length"), ("OUTPUT_TOKENS", ROOF_OUTPUT, "generated tokens"),
         ("BATCHES", list(ROOF_BATCHES), "decode batch sizes to compare"),
         ("PRICE_PER_GPU_HOUR", ROOF_PRICE, "an example rental price; put in what you pay")])
    c.md("""
        ## The GPU's roof
        The ridge point is the arithmetic intensity (FLOP per byte read) where the two limits meet:
        below it a kernel waits for memory, above it for the matrix units.
    """)
    c.code('''
        from inferbook.calc.roofline import (Efficiency, Roofline, cost_per_million_tokens, prefix_cache_savings,
                                             ridge_point, speculative_speedup)

        roof = Roofline(arch, gpu, fmt, kv_bits, TP, Efficiency(), groups)
        ridge = ridge_point(gpu, fmt)
        print(f"peak for {fmt.id} matrices: {roof.peak_flops / 1e12:,.0f} TFLOP/s per GPU; "
              f"memory bandwidth {roof.bandwidth / 1e9:,.0f} GB/s")
        print(f"ridge point: {ridge:,.0f} FLOP per byte")
        print(f"efficiency factors: MFU {roof.efficiency.mfu}, MBU {roof.efficiency.mbu}")
    ''')
    c.md("""
        ## Prefill: the time to first token at no load
        One pass over the prompt; its arithmetic intensity is far above the ridge point, so it is
        compute-bound except for very short prompts.
    """)
    c.code('''
        pre = roof.prefill(INPUT_TOKENS)
        print(f"prefill of {INPUT_TOKENS:,} tokens: {pre.seconds * 1e3:,.2f} ms ({pre.bound}-bound), "
              f"{pre.flops / TP / pre.bytes_read:,.0f} FLOP per byte")
    ''')
    c.md("""
        ## Decode: throughput against batch size
        Each step reads the weights once for the whole batch plus every sequence's KV cache, so the step
        time barely moves at small batches while the tokens per second grow almost linearly. Once the
        intensity passes the ridge point, the step becomes compute-bound and throughput levels off; the
        growing KV reads also bend the curve for long contexts. The cost column prices the group at
        `PRICE_PER_GPU_HOUR` per GPU.
    """)
    c.code('''
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
    ''')
    c.md("""
        ## The same steps on the roofline diagram
        The roof is the lower of the bandwidth slope and the compute peak. Decode steps sit on the slope
        until the batch is large enough to reach the flat part; prefill sits far to the right.
    """)
    c.code('''
        import numpy as np

        intensities = np.logspace(-1, 5, 200)
        peak = roof.peak_flops / 1e12
        roof_line = np.minimum(peak, intensities * roof.bandwidth / 1e12)
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.plot(intensities, roof_line, color="black", label="roof (peak values)")
        for b, sec, tps, intensity, bound in rows:
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
    ''')
    c.md("""
        ## A request's latency
        TTFT is the prefill; TPOT the mean decode step while the request shares a steady batch with
        others; end-to-end latency adds them up over the output.
    """)
    c.code('''
        for b in (1, 32):
            lat = roof.request_latency(INPUT_TOKENS, OUTPUT_TOKENS, batch=b)
            print(f"batch {b:>3}: TTFT {lat['ttft_s'] * 1e3:8.1f} ms, TPOT {lat['tpot_s'] * 1e3:7.2f} ms, "
                  f"E2EL {lat['e2el_s']:6.2f} s")
    ''')
    c.md("""
        ## Speculative decoding and prefix caching
        A draft proposes several tokens and the model checks them in one step; with acceptance rate *a*
        and *k* drafted tokens a step yields (1 - a^(k+1)) / (1 - a) tokens on average, at the price of
        the draft's own steps. A prefix cache skips the prefill of a prompt's shared beginning. The draft
        cost ratio below is an assumption to vary.
    """)
    c.code('''
        draft_cost_ratio = 0.05  # one draft step relative to one target step
        acceptances = [0.5, 0.6, 0.7, 0.8, 0.9]
        fig, ax = plt.subplots(figsize=(7, 3.5))
        for k in (2, 4, 8):
            speedups = [speculative_speedup(a, k, draft_cost_ratio)["speedup"] for a in acceptances]
            print(f"k={k}: " + ", ".join(f"a={a}: {s:.2f}x" for a, s in zip(acceptances, speedups)))
            ax.plot(acceptances, speedups, marker="o", label=f"{k} drafted tokens")
        ax.set_xlabel("acceptance rate")
        ax.set_ylabel("decode speedup")
        ax.grid(True, alpha=0.3)
        ax.legend()
        show(fig)

        saved = prefix_cache_savings(INPUT_TOKENS, INPUT_TOKENS // 2, roof)
        print(f"prefix cache holding half the prompt: prefill {saved['full_s'] * 1e3:.1f} ms -> "
              f"{saved['with_cache_s'] * 1e3:.1f} ms ({saved['saved_fraction']:.0%} saved)")
    ''')


def _sim_parameters() -> list[tuple[str, Any, str]]:
    return [("REQUESTS", SIM_REQUESTS, "requests in the workload"),
            ("RATE", SIM_RATE, "mean arrivals per second (Poisson)"),
            ("INPUT_MEAN", SIM_INPUT, "mean prompt tokens (lognormal)"),
            ("OUTPUT_MEAN", SIM_OUTPUT, "mean output tokens (lognormal)"),
            ("MAX_BATCH", SIM_MAX_BATCH, "most sequences in a batch"),
            ("SEED", SIM_SEED, "workload seed; the same seed gives the same run"),
            ("SLO_TTFT_S", SIM_SLO_TTFT, "time-to-first-token objective, seconds"),
            ("SLO_TPOT_S", SIM_SLO_TPOT, "time-per-output-token objective, seconds")]


SIM_SETUP = '''
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
'''


def batching_simulator(c: Cells) -> None:
    """Static, dynamic and continuous batching on one workload; percentiles and throughput."""
    _start(c, "Batching simulator", """
        How a server groups requests decides both its throughput and what each user waits. This notebook
        runs one seeded workload through three scheduling policies on roofline step times: **static**
        batching waits for a full batch and runs it to the end; **dynamic** batching also leaves after a
        short window; **continuous** batching admits and retires sequences at every step and splits
        long prompts into chunks. The simulator is deterministic, so the same parameters give the same
        numbers.
    """, ["techniques/static-batching", "techniques/dynamic-batching", "techniques/continuous-batching",
          "techniques/chunked-prefill", "techniques/paged-attention", "concepts/latency-percentiles",
          "metrics/ttft", "metrics/tpot", "metrics/e2el", "metrics/goodput", "metrics/queueing-delay",
          "metrics/request-throughput"],
        _sim_parameters())
    c.md("""
        ## The workload and the server
        Prompt and output lengths are drawn from lognormal distributions around the means, arrivals from
        a Poisson process. The KV-cache capacity comes from the memory calculator, the step times from
        the roofline model.
    """)
    c.code(SIM_SETUP)
    c.md("""
        ## Three policies, one workload
        Static and dynamic batches hold every slot until their longest request ends and pad prompts to
        the longest one, so requests queue behind each other; continuous batching fills freed slots at
        once. The table gives throughput, latency percentiles and goodput (requests per second that meet
        both objectives).
    """)
    c.code('''
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
    ''')
    c.md("""
        ## Latency percentiles
        The median tells what a typical request sees, the 99th percentile what the unluckiest one in a
        hundred sees. Queueing shows up in the tail first.
    """)
    c.code('''
        import numpy as np
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        quantiles = ("p50", "p90", "p95", "p99")
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for ax, metric in zip(axes, ("ttft", "e2el")):
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
    ''')
    c.md("""
        ## Throughput against batch size
        The same requests arriving all at once (a saturated server) under continuous batching, with the
        batch limit varied. Larger batches raise throughput because each step's weight read serves more
        tokens, and raise each token's latency because the steps get longer.
    """)
    c.code('''
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
    ''')
    c.md("""
        ## Load against tail latency
        Raising the arrival rate shows the knee every queueing system has: latency stays flat while the
        server keeps up and climbs steeply once arrivals outpace it.
    """)
    c.code('''
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
    ''')


def latency_metrics(c: Cells) -> None:
    """How TTFT, TPOT, ITL, E2EL, percentiles and goodput are computed from timestamps."""
    _start(c, "Latency metrics", """
        Benchmarks report TTFT, TPOT, ITL and end-to-end latency, but tools define and average them in
        slightly different ways, which is enough to make two reports of the same server disagree. This
        notebook computes every metric from per-request timestamps with `inferbook.calc.metrics`: first
        on three hand-made requests small enough to check by eye, then on a simulated run of the chosen
        model and GPU.
    """, ["metrics/ttft", "metrics/tpot", "metrics/itl", "metrics/e2el", "concepts/latency-percentiles",
          "concepts/request-vs-token-weighted-averages", "concepts/service-level-objectives", "metrics/goodput",
          "metrics/request-throughput", "metrics/token-throughput", "concepts/benchmarking-methodology"],
        _sim_parameters())
    c.md("""
        ## Three requests by hand
        Each record holds the arrival time and the time every output token appeared. TTFT is the wait for
        the first token, E2EL the wait for the last; TPOT spreads the time after the first token over the
        remaining tokens, and ITL lists the individual gaps.
    """)
    c.code('''
        from inferbook.calc.metrics import RequestRecord, Slo, percentile, summarize


        def record(arrival, token_times, input_tokens):
            return RequestRecord(arrival, token_times[0], token_times[-1], input_tokens, len(token_times),
                                 tuple(token_times))


        records = [
            record(0.0, [0.20, 0.25, 0.30, 0.35, 0.40], 500),
            record(0.1, [0.60, 0.62, 0.64], 2000),
            record(0.5, [0.70 + 0.03 * i for i in range(20)], 300),
        ]
        for i, r in enumerate(records):
            gaps = ", ".join(f"{g * 1e3:.0f}" for g in r.itls()[:5])
            print(f"request {i}: TTFT {r.ttft * 1e3:6.1f} ms, TPOT {r.tpot() * 1e3:5.1f} ms, "
                  f"E2EL {r.e2el * 1e3:6.1f} ms, first gaps (ms): {gaps}")
    ''')
    c.md("""
        ## Per request or per token?
        Averaging TPOT per request gives each request one vote; averaging per token gives a long request
        as many votes as it has token gaps. Some tools also count the first token in TPOT, which folds
        the prefill into it. The three conventions give three different means for the same records.
    """)
    c.code('''
        by_request = summarize(records)
        by_token = summarize(records, average="token")
        with_first = summarize(records, tpot_includes_first_token=True)
        print(f"mean TPOT per request:             {by_request.tpot.mean * 1e3:.2f} ms")
        print(f"mean TPOT per token:               {by_token.tpot.mean * 1e3:.2f} ms")
        print(f"mean TPOT counting the first token: {with_first.tpot.mean * 1e3:.2f} ms")
        print(f"throughput: {by_request.request_throughput:.2f} requests/s, "
              f"{by_request.output_token_throughput:.1f} output tokens/s over {by_request.duration_s:.2f} s")
    ''')
    c.md("""
        ## Percentiles and goodput
        Percentiles interpolate linearly between the sorted values (numpy's default method). Goodput
        counts only the requests that met every objective.
    """)
    c.code('''
        ttfts = [r.ttft for r in records]
        print("TTFT percentiles (ms):", ", ".join(f"p{q}={percentile(ttfts, q) * 1e3:.1f}" for q in (50, 90, 99)))
        strict = Slo(ttft=SLO_TTFT_S / 4, tpot=SLO_TPOT_S)
        s = summarize(records, slo=strict)
        print(f"SLO TTFT <= {strict.ttft} s and TPOT <= {strict.tpot} s: {s.slo_attainment:.0%} of requests, "
              f"goodput {s.goodput:.2f} requests/s")
    ''')
    c.md("""
        ## A simulated run of the chosen model and GPU
        The same metrics over a seeded workload under continuous batching (see the batching-simulator
        notebook for how the run is produced). The plots show the distribution behind the percentiles:
        the cumulative share of requests served within a given TTFT and end-to-end latency, and the
        spread of TPOT.
    """)
    c.code(SIM_SETUP)
    c.code('''
        result = simulate(requests, steps, SimConfig(max_batch=MAX_BATCH, kv_capacity_tokens=max(cap.kv_tokens, 1)))
        s = result.summary(slo)
        quantiles = ("mean", "p50", "p90", "p95", "p99")
        print(f"{'metric':6s}" + "".join(f"{q:>10s}" for q in quantiles) + "   (ms)")
        for name in ("ttft", "tpot", "itl", "e2el"):
            d = getattr(s, name)
            print(f"{name:6s}" + "".join(f"{getattr(d, q) * 1e3:10.1f}" for q in quantiles))
        print(f"simulated TTFT p50 {s.ttft.p50:.4f} s, p99 {s.ttft.p99:.4f} s; goodput {s.goodput:.3f} req/s "
              f"({s.slo_attainment:.1%} within the SLOs)")
    ''')
    c.code('''
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for ax, name in zip(axes, ("ttft", "e2el")):
            values = sorted(getattr(r, name) for r in result.records)
            share = [(i + 1) / len(values) for i in range(len(values))]
            ax.plot(values, share)
            dist = getattr(s, name)
            for q in ("p50", "p90", "p99"):
                ax.axvline(getattr(dist, q), linestyle="--", color="grey")
                ax.annotate(q, (getattr(dist, q), 0.05), fontsize=8, rotation=90)
            ax.set_xlabel(f"{name.upper()} (s)")
            ax.set_ylabel("share of requests")
            ax.grid(True, alpha=0.3)
        show(fig)

        tpots = [t * 1e3 for r in result.records if (t := r.tpot()) is not None]
        fig, ax = plt.subplots(figsize=(7, 3.5))
        ax.hist(tpots, bins=40)
        ax.axvline(SLO_TPOT_S * 1e3, color="C3", linestyle="--", label="TPOT objective")
        ax.set_xlabel("TPOT per request (ms)")
        ax.set_ylabel("requests")
        ax.legend()
        show(fig)
    ''')


def quantization_impact(c: Cells) -> None:
    """Weight memory, KV room, concurrency and speed of one model across weight and KV formats."""
    _start(c, "Quantization impact", """
        Storing weights in fewer bits does three things at once: the weights take less memory, which
        leaves more room for the KV cache and so more concurrent sequences; each decode step reads fewer
        bytes, which makes memory-bound decoding faster; and on GPUs with FP8 or FP4 matrix units,
        prefill can run at their higher FLOP rate. This notebook puts numbers on all three for one model
        on one GPU group, for weight formats and for KV-cache data types. What it cannot tell you is the
        quality cost: that depends on the model, the method and the task, and must be measured.
    """, ["techniques/quantization", "techniques/weight-only-quantization", "techniques/fp8-quantization",
          "techniques/fp4-quantization", "techniques/awq", "techniques/gptq", "techniques/gguf-k-quants",
          "techniques/w8a8-quantization", "techniques/kv-cache-quantization", "concepts/quantization-quality",
          "concepts/weight-file-formats"],
        [("FORMATS", [f for f in QUANT_FORMATS if f in c.kb.formats], "weight formats to compare"),
         ("CONTEXT", QUANT_CONTEXT, "tokens per sequence"),
         ("BATCH", QUANT_BATCH, "decode batch for the throughput column")])
    c.md("""
        ## Weight formats side by side
        The tensor-parallel size stays fixed at the one chosen for `FORMAT`, so every row compares the
        same GPUs. Effective bits include block scales and zero points; embeddings and the output head
        stay in 16-bit for most quantized formats, which is why the memory does not shrink exactly in
        proportion to the bits. Formats without their own matrix units on this GPU compute in 16-bit.
    """)
    c.code('''
        from inferbook.calc import weight_bytes
        from inferbook.calc.capacity import max_concurrency
        from inferbook.calc.roofline import Roofline

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
    ''')
    c.code('''
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
    ''')
    c.md("""
        ## KV-cache data types
        Quantizing the cache halves or quarters the bytes per token, so the same KV space holds more
        tokens, and long-context decode steps read less. The weights stay in `FORMAT`.
    """)
    c.code('''
        from inferbook.calc import kv_bytes_per_token

        print(f"{'KV dtype':10s} {'bytes/token':>12s} {'KV tokens':>12s} {'seqs':>8s}")
        kv_rows = []
        for dtype in ("bf16", "fp8-e4m3", "int4"):
            bits = kv_dtype_bits(dtype, kb.formats)
            cap = capacity(arch, gpu, fmt, bits, tp=TP, groups=groups)
            conc = max_concurrency(arch, cap, CONTEXT, bits, tp=TP)
            kv_rows.append((dtype, conc))
            print(f"{dtype:10s} {kv_bytes_per_token(arch, bits):12,.0f} {cap.kv_tokens:12,} {conc:8.1f}")
    ''')
    c.md("""
        ## What the numbers leave out
        Accuracy. FP8 weights and an FP8 KV cache are usually close to the 16-bit model; 4-bit weight
        formats depend more on the method (AWQ, GPTQ, k-quants) and on the model, and small models lose
        more. The quantization-quality entry explains how to measure it on your own task before
        switching formats.
    """)


def gpu_comparison(c: Cells) -> None:
    """GPU specs, ridge points, and one model's fit and speed on every GPU of the handbook."""
    _start(c, "GPU comparison", """
        Which accelerator should serve the model? This notebook lists the handbook's GPUs with the
        figures that matter for inference, then puts the chosen model on each of them: the fewest GPUs
        that serve the load, and what the roofline model predicts for single-stream and batched decode.
        Decode at batch 1 is memory-bound, so it follows memory bandwidth far more than FLOP/s.
    """, ["concepts/choosing-a-gpu", "concepts/gpu-architecture", "concepts/memory-hierarchy",
          "concepts/tensor-cores", "concepts/precision-support-by-generation", "concepts/roofline-model",
          "concepts/nvlink-nvswitch", "metrics/token-throughput"],
        [("CONTEXT", GPU_CONTEXT, "tokens per sequence"), ("CONCURRENCY", GPU_CONCURRENCY, "sequences at once"),
         ("BATCH", GPU_BATCH, "decode batch for the throughput column")])
    c.md("""
        ## Specifications
        Dense (not sparse) peak rates from the datasheets, memory and bandwidth, and the ridge point in
        16-bit: the FLOP per byte a kernel needs before the matrix units, rather than memory, limit it.
    """)
    c.code('''
        from inferbook.calc.fit import fit_options
        from inferbook.calc.roofline import Roofline, ridge_point

        bf16 = kb.formats["bf16"]


        def value(q):
            return q.value if q is not None else None


        def cell(v, width, spec=",.0f"):
            return f"{v:>{width}{spec}}" if v is not None else " " * (width - 1) + "-"


        print(f"{'gpu':24s} {'GiB':>5s} {'GB/s':>7s} {'16b TF':>8s} {'FP8 TF':>7s} {'FP4 TF':>7s} {'ridge':>6s}")
        specs = {}
        for gid, g in sorted(kb.gpus.items()):
            try:
                ridge = ridge_point(g, bf16)
            except ValueError:
                ridge = None
            specs[gid] = ridge
            print(f"{gid:24s} {g.memory_gib.value:5.0f} {g.memory_bandwidth_gb_s.value:7,.0f} "
                  f"{cell(value(g.dense.bf16_tflops or g.dense.fp16_tflops), 8)} {cell(value(g.dense.fp8_tflops), 7)} "
                  f"{cell(value(g.dense.fp4_tflops), 7)} {cell(ridge, 6)}")
    ''')
    c.md("""
        ## The model on every GPU
        For each GPU the fewest devices in one tensor-parallel group (inside the GPU's scale-up domain)
        that serve `CONCURRENCY` sequences of `CONTEXT` tokens in `FORMAT`, then the roofline's decode
        speed on that group. GPUs without a 16-bit rate in the handbook, or where the model needs
        pipeline stages across domains, are left out.
    """)
    c.code('''
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
        for gid, n, bw, one, batched, ttft in rows:
            print(f"{gid:24s} {n:2d} {one:10,.1f} {batched:11,.0f} {ttft:10.1f}")
        for gid, n, bw, one, batched, ttft in rows:
            if gid == GPU:
                print(f"{GPU}: {n} GPU(s), {one:,.1f} tokens/s at batch 1")
    ''')
    c.md("""
        ## Bandwidth decides single-stream speed
        Each point is one GPU group; the x axis is the group's total memory bandwidth. The points line
        up because a batch-1 decode step is mostly the time to read the weights once.
    """)
    c.code('''
        fig, ax = plt.subplots(figsize=(7, 4.5))
        labelled = {rows[0][0], GPU} if rows else set()
        for gid, n, bw, one, batched, ttft in rows:
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
    ''')


def api_tour(c: Cells) -> None:
    """A tour of the query API: typed access, lookup, filters, search, graph and calculators."""
    kb = c.kb
    entry = kb.resolve("kv-cache") or next((e.id for e in kb.learning_order()), c.case.model)
    c.md("""
        # A tour of the inferbook API

        `inferbook` is the LLM inference handbook as data: every GPU, model, numeric format, framework
        and concept is a validated entry with its sources. This notebook walks through the query API
        that the other notebooks build on: loading the knowledge base, typed access to sourced numbers,
        lookup by alias, filters, full-text search, the link graph and reading order, and a first call
        to the calculators.
    """)
    c.links([entry, f"models/{c.case.model}", f"gpus/{c.case.gpu}"], lead="Entries this tour looks at:")
    c.code(SETUP)
    _parameters(c, [("ENTRY", entry, "a handbook article to explore")], gpu_tools=False)
    c.md("""
        ## Loading
        `inferbook.load()` returns an immutable `KnowledgeBase`. In a source checkout it reads the YAML
        files; an installed wheel reads a bundle compiled at build time. Several folders can be layered,
        `inferbook.load(["kb", "my-private-kb"])`, to add private entries.
    """)
    c.code('''
        kb = inferbook.load(KB)
        print(kb)
        print(f"{len(kb)} entries, data version {kb.data_version} ({kb.data_date})")
    ''')
    c.md("""
        ## Typed entries and sourced numbers
        Each kind has a mapping of id to a typed entry. Numbers from datasheets and model cards carry
        their source, so every figure can be traced back.
    """)
    c.code('''
        gpu = kb.gpus[GPU]
        bw = gpu.memory_bandwidth_gb_s
        print(f"{gpu.title}: {gpu.memory_gib.value:g} GiB {gpu.memory_type}, {bw.value:,.0f} GB/s")
        print(f"  bandwidth source: {bw.source or gpu.source}" + (f", note: {bw.note}" if bw.note else ""))
        model = kb.models[MODEL]
        a = model.architecture
        print(f"{model.title}: {a.layers} layers, hidden {a.hidden_size}, {a.attention_heads} heads, "
              f"{a.kv_heads} KV heads, context {a.context_length:,}, native format {model.native_dtype}")
    ''')
    c.md("""
        ## Lookup by id, alias or title
        `kb.get` accepts ids, aliases and titles in any case; a typo raises a `KeyError` that suggests
        the closest ids.
    """)
    c.code('''
        article = kb.get(ENTRY)
        print(f"{article.id} ({kb.kind_of(article.id)}): {article.title}")
        print(article.summary)
        for alias in article.aliases[:3]:
            print(f"  kb.get({alias!r}) -> {kb.get(alias).id}")
        try:
            kb.gpus[GPU[:-1]]
        except KeyError as error:
            print("KeyError:", error)
    ''')
    c.md("""
        ## Filters
        `kb.where` takes `FIELD OP VALUE` expressions (dotted fields reach into nested data);
        `Entries.filter` takes a predicate or keyword equalities.
    """)
    c.code('''
        big = kb.where("gpus", "memory_gib>=80", "market=datacenter")
        print(f"{len(big)} datacenter GPUs with at least 80 GiB:", ", ".join(sorted(g.id for g in big)))
        mla = kb.models.filter(architecture__attention="mla")
        print("models with latent attention:", ", ".join(sorted(m.id for m in mla)))
        moe = kb.models.filter(lambda m: m.architecture.moe is not None)
        print(f"{len(moe)} mixture-of-experts models")
    ''')
    c.md("""
        ## Full-text search
        Search ranks ids, titles, aliases, summaries and bodies; `kind=` narrows it to one kind.
    """)
    c.code('''
        for hit in kb.search("kv cache memory", limit=5):
            print(f"{hit.score:7.2f}  {hit.kind:10s} {hit.id}")
    ''')
    c.md("""
        ## The link graph and reading order
        Entries reference each other (prerequisites, related entries, techniques and what they use). The
        graph answers what to read first, what else is related, and who links here; `learning_order()`
        lists every article in an order where prerequisites come first.
    """)
    c.code('''
        print("read first:", " -> ".join(e.id for e in kb.prerequisites(ENTRY, recursive=True)) or "(nothing)")
        print("related:", ", ".join(e.id for e in kb.related(ENTRY)[:8]))
        print(f"{len(kb.backlinks(ENTRY))} entries link to {ENTRY}")
        print(f"graph: {kb.graph.number_of_nodes()} nodes, {kb.graph.number_of_edges()} edges")
        print("reading order starts:", ", ".join(e.id for e in kb.learning_order()[:6]))
        for chapter in sorted(kb.chapters.values(), key=lambda ch: ch.number):
            print(f"  chapter {chapter.number}: {chapter.title} ({len(kb.chapter_entries(chapter.id))} articles)")
    ''')
    c.md("""
        ## Calculators
        `inferbook.calc` computes from the same entries. The other notebooks go deeper: the KV cache,
        memory and fit, roofline, batching simulator, latency metrics, quantization impact and GPU
        comparison.
    """)
    c.code('''
        from inferbook.calc import count_params, kv_bytes_per_token, weight_bytes

        params = count_params(model.architecture)
        native = kb.formats[model.native_dtype]
        print(f"{model.id}: {params.total / 1e9:,.2f} B parameters, "
              f"{weight_bytes(model.architecture, native).total_bytes / 2**30:,.2f} GiB in {native.id}, "
              f"{kv_bytes_per_token(model.architecture, 16):,.0f} KV bytes per token in 16-bit")
    ''')


PLAN_ISL, PLAN_OSL, PLAN_RATE = 1000, 200, 4.0
PLAN_TTFT, PLAN_TPOT, PLAN_PERCENTILE, PLAN_MAX_GPUS = 2.0, 0.05, 95.0, 16


def deployment_planner(c: Cells) -> None:
    """`inferbook plan` step by step: the frontier, what it costs at other rates, launch commands, own prices."""
    c.md("""
        # Deployment planner

        Which configuration is the cheapest that serves a workload within latency targets? This notebook
        runs the same search as `inferbook plan`: every GPU with a price, GPU count, TP/PP/EP split,
        published checkpoint and KV-cache type; the impossible ones ruled out with a reason; the rest sized
        with a closed-form steady state; the cheapest and the cost-latency frontier simulated request by
        request. Every row carries its cross-validated error band and its basis.
    """)
    c.links(["concepts/planning-a-deployment", "metrics/cost-per-million-tokens", "metrics/goodput",
             "concepts/choosing-a-gpu", f"models/{c.case.model}"])
    c.code(SETUP)
    _parameters(c, [("ISL", PLAN_ISL, "prompt tokens per request"), ("OSL", PLAN_OSL, "output tokens per request"),
                    ("RATE", PLAN_RATE, "requests per second (Poisson arrivals)"),
                    ("SLO_TTFT", PLAN_TTFT, "TTFT target in seconds"),
                    ("SLO_TPOT", PLAN_TPOT, "TPOT target in seconds"),
                    ("PERCENTILE", PLAN_PERCENTILE, "the targets' percentile: 50, 90, 95 or 99"),
                    ("GPUS", [], "GPU ids to consider; [] for every GPU with an offer"),
                    ("MAX_GPUS", PLAN_MAX_GPUS, "most GPUs in one deployment")], gpu_tools=False)
    c.code('''
        import datetime as dt

        from inferbook.calc.launch import deployment, to_yaml
        from inferbook.calc.plan import Space, Targets, Workload, plan

        kb = inferbook.load(KB)
        today = dt.date.fromisoformat(kb.data_date)  # prices are judged stale against the data's date
        workload = Workload(ISL, OSL, rate=RATE)
        targets = Targets(SLO_TTFT, SLO_TPOT, PERCENTILE)
        space = Space(gpus=tuple(GPUS), max_gpus=MAX_GPUS)
        result = plan(kb, [MODEL], workload, targets, space, today=today)
        print(f"{result.shapes:,} configurations screened, {len(result.simulated)} simulated, "
              f"{len(result.frontier)} on the frontier; {len(kb.offers)} offers in the handbook")
    ''')
    c.md("""
        ## The frontier
        Each row meets both targets at the percentile, and no other configuration is both cheaper and
        faster. Costs per million tokens split the hourly cost by the share of step time that prefill takes.
    """)
    c.code('''
        q = targets.percentile
        print(f"{'USD/h':>8} {'$/M in':>7} {'$/M out':>8} {'TTFT ms':>8} {'TPOT ms':>8} {'band':>6}  configuration")
        for cand in result.frontier:
            usd_in, usd_out = cand.usd_per_million(ISL, OSL)
            band = cand.band.throughput.median if cand.band and cand.band.throughput else float("nan")
            print(f"{cand.usd_per_hour:8.2f} {usd_in:7.3f} {usd_out:8.3f} {cand.ttft_s(q) * 1e3:8.0f} "
                  f"{cand.tpot_s(q) * 1e3:8.1f} {band:6.0%}  {cand.describe()} [{cand.basis}]")
        if not result.frontier:
            for r in result.rejected[:10]:
                print("rejected:", r.what, "-", r.reason)
    ''')
    c.code('''
        fig, ax = plt.subplots(figsize=(7, 4))
        every = [x for x in result.simulated if x.meets(targets)]
        ax.scatter([x.usd_per_hour for x in every], [x.latency_s(q, OSL) for x in every], color="0.7",
                   label="simulated, meets the targets")
        front = result.frontier
        ax.plot([x.usd_per_hour for x in front], [x.latency_s(q, OSL) for x in front], marker="o",
                label="frontier")
        ax.set_xlabel("USD per hour")
        ax.set_ylabel(f"p{q:g} request latency (s)")
        ax.set_xscale("log")
        ax.legend()
        show(fig)
    ''')
    c.md("""
        ## What the cheapest costs at other rates
        A deployment paid by the hour costs the same whether busy or idle, so the cost per token falls as the
        rate rises, until another replica is needed.
    """)
    c.code('''
        rates = [RATE / 8, RATE / 4, RATE / 2, RATE, RATE * 2, RATE * 4]
        for r in rates:
            p = plan(kb, [MODEL], Workload(ISL, OSL, rate=r), targets, Space(gpus=tuple(GPUS), max_gpus=MAX_GPUS,
                                                                            disaggregation=False), today=today)
            best = p.best
            if best is None:
                print(f"{r:7.2f} requests/s: nothing within {MAX_GPUS} GPUs meets the targets")
                continue
            usd_in, usd_out = best.usd_per_million(ISL, OSL)
            print(f"{r:7.2f} requests/s: {best.gpus:2d} GPUs, {best.usd_per_hour:7.2f} USD/h, "
                  f"{usd_out:7.3f} USD per million output tokens ({best.shape.gpu.id})")
    ''')
    c.md("""
        ## Launch it and check the prediction
        The deployment block holds the launch commands for each engine that runs on the GPU, and benchmark
        commands with the same lengths, rate and targets. Run them and compare with the predicted figures.
    """)
    c.code('''
        if result.best is not None:
            print(to_yaml(deployment(kb, result.best, workload, targets)))
    ''')
    c.md("""
        ## Your own prices
        Add offers (a reserved contract, or hardware you own as an amortised cost) in a private folder and
        layer it over the handbook: `inferbook.load(["my-prices"], builtin=True)`, or `--kb my-prices` on the
        command line. An owned machine is an offer with `provider_kind: owned` and an `ownership` block.
    """)
    c.code('''
        from inferbook.schema import Offer

        owned = Offer.model_validate({
            "id": "our-h100-node", "title": "Our HGX H100 node", "provider": "us", "provider_kind": "owned",
            "instance": "HGX H100 8-GPU", "gpu": "h100-sxm", "gpu_count": 8, "quoted_per": "instance",
            "ownership": {"purchase_usd": 250000, "amortise_years": 4, "power_kw": 10.2, "usd_per_kwh": 0.12,
                          "hosting_usd_per_hour": 2.0},
            "region": "own data centre", "checked": today, "source": next(iter(kb.sources)),
            "last_reviewed": today})
        print(f"amortised: {owned.ownership.usd_per_hour():.2f} USD per hour, "
              f"{owned.gpu_hour_usd():.2f} USD per GPU-hour (an example, not a quote)")
    ''')


TOOLS: dict[str, Callable[[Cells], None]] = {
    "kv-cache": kv_cache,
    "memory-and-fit": memory_and_fit,
    "roofline": roofline,
    "batching-simulator": batching_simulator,
    "latency-metrics": latency_metrics,
    "quantization-impact": quantization_impact,
    "gpu-comparison": gpu_comparison,
    "api-tour": api_tour,
    "deployment-planner": deployment_planner,
}


# assembly -------------------------------------------------------------------------
def default_case(kb: KnowledgeBase) -> Case:
    """The case the built notebooks are pre-filled for; falls back to the first ids so a build never breaks."""
    model = DEFAULT_MODEL if DEFAULT_MODEL in kb.models else min(kb.models)
    rated = [gid for gid, g in sorted(kb.gpus.items()) if g.dense.bf16_tflops or g.dense.fp16_tflops]
    gpu = DEFAULT_GPU if DEFAULT_GPU in kb.gpus else (rated or sorted(kb.gpus))[0]
    return Case(model, gpu, kb.models[model].native_dtype)


_NOUNS = {"models": "model", "gpus": "GPU", "formats": "format"}


def _resolve(kb: KnowledgeBase, key: str, kind: str) -> str:
    eid = kb.resolve(key)
    if eid is None or kb.kind_of(eid) != kind:
        known = sorted(kb.kind(kind))
        close = difflib.get_close_matches(key, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; see `inferbook list {kind}`"
        raise ValueError(f"unknown {_NOUNS[kind]} '{key}'{hint}")
    return eid


def notebook(tool: str, *, model: str | None = None, gpu: str | None = None, fmt: str | None = None,
             kv_dtype: str = DEFAULT_KV_DTYPE, kb: KnowledgeBase | None = None,
             kb_paths: Sequence[str] | None = None) -> NotebookNode:
    """One notebook for ``tool`` pre-filled for a model, GPU and weight format (ids or aliases;
    defaults from the knowledge base). ``kb_paths`` makes the notebook load those folders.
    Raises ValueError for an unknown tool or id."""
    if tool not in TOOLS:
        raise ValueError(f"unknown notebook '{tool}'; choose one of: {', '.join(TOOLS)}")
    if kb is None:
        from ..api import load

        kb = load(list(kb_paths) if kb_paths else None)
    base = default_case(kb)
    model_id = _resolve(kb, model, "models") if model else base.model
    gpu_id = _resolve(kb, gpu, "gpus") if gpu else base.gpu
    fmt_id = _resolve(kb, fmt, "formats") if fmt else kb.models[model_id].native_dtype
    case = Case(model_id, gpu_id, fmt_id, kv_dtype, tuple(kb_paths) if kb_paths else None)
    return _assemble(tool, kb, case)


def _assemble(tool: str, kb: KnowledgeBase, case: Case) -> NotebookNode:
    cells = Cells(kb, case)
    TOOLS[tool](cells)
    nb = nbformat.v4.new_notebook()
    nb.nbformat, nb.nbformat_minor = 4, 5
    for index, (kind, source, tags) in enumerate(cells.items):
        cell_id = f"{tool}-{index:02d}"
        if kind == "markdown":
            cell = nbformat.v4.new_markdown_cell(source, id=cell_id)
        else:
            cell = nbformat.v4.new_code_cell(source, id=cell_id)
            if tags:
                cell.metadata["tags"] = list(tags)
        nb.cells.append(cell)
    nb.metadata = nbformat.from_dict({
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
        "inferbook": {"tool": tool, "model": case.model, "gpu": case.gpu, "format": case.fmt,
                      "data_version": kb.data_version},
    })
    nbformat.validate(nb)
    return nb


def dumps(nb: NotebookNode) -> str:
    """The notebook as deterministic JSON text (sorted keys, one trailing newline)."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def write_notebook(nb: NotebookNode, path: Path) -> Path:
    """Write ``nb`` to ``path`` (parent folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(nb), encoding="utf-8")
    return path


def build_notebooks(kb: KnowledgeBase, out: Path) -> None:
    """Write one notebook per tool into ``out``, pre-filled for the default case."""
    out.mkdir(parents=True, exist_ok=True)
    case = default_case(kb)
    for tool in TOOLS:
        write_notebook(_assemble(tool, kb, case), out / f"{tool}.ipynb")
