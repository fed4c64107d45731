"""Inference engines and serving systems."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .articles import Markdown, Summary
from .base import CitationOrId, EntryBase, EntryId, Ref, ShortText, Strict, Url
from .gpus import Vendor


class Features(Strict):
    """Serving features: true/false where the framework documents them, absent where unknown or where
    the framework delegates the feature to the engine it runs (an orchestrator over vLLM, say)."""

    continuous_batching: bool | None = None
    paged_kv_cache: bool | None = None
    prefix_caching: bool | None = None
    speculative_decoding: bool | None = None
    chunked_prefill: bool | None = None
    prefill_decode_disaggregation: bool | None = None
    tensor_parallelism: bool | None = None
    pipeline_parallelism: bool | None = None
    expert_parallelism: bool | None = None
    multi_lora: bool | None = None
    structured_output: bool | None = None
    openai_compatible_api: bool | None = None
    kv_cache_quantization: bool | None = None


class Flag(Strict):
    """A command-line flag or setting that controls a feature."""

    feature: ShortText
    """What it controls."""
    flag: ShortText
    """The flag or setting as written, e.g. `--max-num-seqs`."""
    note: ShortText | None = None


class Framework(EntryBase):
    """An inference engine, server or orchestration layer."""

    summary: Summary
    role: Literal["engine", "server", "orchestrator", "local-runtime", "library"]
    """Where it sits: an engine that runs the model, a server around engines,
    an orchestrator across many replicas, a desktop runtime, or a library."""
    license: ShortText
    """SPDX licence id of the code."""
    repository: Url
    """Source code repository."""
    maintainer: ShortText
    """Organisation or community that maintains it."""
    language: tuple[ShortText, ...] = ()
    """Main implementation languages."""
    hardware: tuple[ShortText, ...] = ()
    """Accelerators and processors it runs on."""
    accelerator_vendors: tuple[Vendor, ...] = ()
    """The `hardware` list as accelerator vendors (the GPU entries' `vendor` values): the chips
    `predict` and `plan` may run it on. Empty: not checked."""
    features: Features = Features.model_construct()  # = Features(), no validator built on import
    quantization_formats: tuple[Annotated[EntryId, Ref(("formats",), "supports")], ...] = ()
    """Formats it can load and run."""
    flags: tuple[Flag, ...] = ()
    """Flags that control the features above."""
    body: Markdown = ""
    """When to choose it, and its trade-offs."""
    sources: tuple[CitationOrId, ...] = Field(min_length=1)
    """Documentation pages the facts come from."""
