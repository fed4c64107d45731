"""The registry of the site's interactive tools: each tool's title and summary, the chapter pages
and entry pages that embed it, and the tools too large to embed.

A tool named ``x`` is the form ``generators/site/templates/tools/x.html`` and the script
``generators/site/static/js/tools/x.js``; it always has a page of its own, ``tools/x.html``.
"""

from __future__ import annotations

from typing import NamedTuple


class Tool(NamedTuple):
    """One interactive tool."""

    title: str
    """Its heading, in the tools index and wherever it is embedded."""
    summary: str
    """One sentence on what it shows."""


TOOLS: dict[str, Tool] = {
    "request-lifecycle": Tool("Request lifecycle", "Tokenize, queue, prefill, decode and detokenize one request "
                              "on a chosen model and GPU, with TTFT, ITL and E2E latency from the roofline model."),
    "latency-metrics": Tool("Latency metrics playground", "Edit request timestamps and SLOs; see TTFT, TPOT, ITL, "
                            "E2E latency, percentiles and goodput."),
    "batching-simulator": Tool("Batching strategy simulator", "Static, dynamic and continuous batching (with "
                               "chunked prefill) on a model and GPU: a timeline and the resulting metrics."),
    "kv-cache": Tool("KV-cache calculator", "KV-cache size of any model or a custom architecture (GQA, MLA, sliding "
                     "windows) for a KV data type, context, batch and tensor parallelism."),
    "memory-fit": Tool("GPU memory and fit", "Memory breakdown of a model, format, context and concurrency, and the "
                       "GPU configurations that serve it."),
    "quantization": Tool("Quantization impact", "Weight and KV-cache memory per format, with published quality "
                         "notes."),
    "gpu-comparison": Tool("GPU comparison", "Filterable accelerator specs and the model x GPU matching matrix."),
    "speed-prediction": Tool("Speed prediction", "TTFT, TPOT and throughput of a model on GPUs under an engine and "
                             "a load, with the setup checked first, the held-out error band and the basis of the "
                             "answer."),
    "roofline": Tool("Roofline, speculation, caching and cost", "Roofline explorer, speculative-decoding speedup, "
                     "prefix-caching savings and cost per million tokens."),
    "deployment-planner": Tool("Deployment planner", "The cheapest GPUs, counts, splits and formats that serve a "
                               "workload within TTFT and TPOT targets: a cost-latency frontier from the KB's prices, "
                               "with error bands and the commands to launch and benchmark the cheapest."),
    "decode-stepper": Tool("Decode stepper", "Step one request through prefill and decode, token by token, on a real "
                           "model's shapes: the KV cache growing, the bytes each step reads and its roofline time."),
    "context-window": Tool("Context-window simulator", "Fill a model's real context window turn by turn: what is "
                           "kept, what is truncated, and the KV cache it costs on a chosen GPU."),
    "sampling-filter": Tool("Top-p, top-k and min-p filter", "Apply temperature, top-k, top-p and min-p, in vLLM's "
                            "or transformers' order, to an illustrative next-token distribution: which tokens "
                            "survive, and with what probability."),
    "chunked-prefill-scheduler": Tool("Chunked-prefill scheduler", "Schedule long prompts and running decodes under "
                                      "a token budget per step, with and without chunking: step by step on a model "
                                      "and GPU, with the decode stalls and first-token times each choice gives."),
    "latency-timeline": Tool("Animated latency timeline", "Play requests arriving, queueing, prefilling and "
                             "decoding on one GPU, and watch TTFT, ITL and E2E latency form."),
    "lifecycle-map": Tool("LLM lifecycle map", "From pre-training to serving and monitoring: each stage, what it "
                          "produces, and the handbook entries that cover it."),
    "gpu-execution-map": Tool("GPU execution and memory map", "Follow one GEMM of a model's decode step from the "
                              "CPU to the SMs: its grid of blocks, the waves they run in, the idle tail wave and "
                              "the memory each step touches."),
    "memory-hierarchy": Tool("Memory-hierarchy explorer", "Registers, shared memory, L2, HBM, the host bus and "
                             "peer GPUs: the size of each level on a chosen GPU, its bandwidth where the data has "
                             "it, and what a decode step reads from each."),
    "sm-explorer": Tool("SM explorer", "Inside one streaming multiprocessor of a chosen GPU: its tensor cores, "
                        "register file, shared memory and warp slots, and how they add up across the chip."),
    "warp-scheduler": Tool("Warp-scheduler visualiser", "Warps stalling on memory and the scheduler switching "
                           "between them: how occupancy hides latency, cycle by cycle."),
    "where-to-start": Tool("Where do I start?", "Five questions about what you need to do, and the reading path "
                           "and tools that answer it."),
}
"""Every tool, in the order of the tools index."""

CHAPTER_TOOLS: dict[str, tuple[str, ...]] = {
    "foundations": ("kv-cache", "request-lifecycle"),
    "measuring-performance": ("latency-metrics",),
    "planning-deployment": ("memory-fit", "gpu-comparison", "speed-prediction", "deployment-planner"),
    "model-preparation": ("quantization",),
    "inference-optimization": ("batching-simulator", "roofline"),
    "gpus-and-kernels": ("roofline",),
}
"""The tools each chapter page embeds (or links to, for `LINKED_TOOLS`)."""

ENTRY_TOOLS: dict[str, tuple[str, ...]] = {
    "decode": ("decode-stepper",),
    "context-window": ("context-window",),
    "top-p-top-k-min-p": ("sampling-filter",),
    "chunked-prefill": ("chunked-prefill-scheduler",),
    "e2el": ("latency-timeline",),
    "llm-inference": ("lifecycle-map", "where-to-start"),
    "gpu-architecture": ("sm-explorer", "warp-scheduler"),
    "memory-hierarchy": ("memory-hierarchy", "gpu-execution-map"),
}
"""The tools each entry page embeds, below its body."""

LINKED_TOOLS = frozenset({"deployment-planner"})
"""Tools a chapter page links to instead of embedding: each carries a large search (plan.js), and with the
chapter's other tools the page would pass the 150 KB JavaScript budget."""


def entry_tools(entry_id: str) -> tuple[str, ...]:
    """The tools embedded in one entry's page (none for most entries)."""
    return ENTRY_TOOLS.get(entry_id, ())
