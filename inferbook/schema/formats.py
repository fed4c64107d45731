"""Numeric and quantization formats."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .articles import Markdown, Summary
from .base import CitationOrId, EntryBase, EntryId, Ref, ShortText, Width

Architecture = Literal[
    "volta", "turing", "ampere", "ada", "hopper", "blackwell", "blackwell-ultra",
    "rubin",  # NVIDIA Rubin (Vera Rubin platform), announced for 2026
    "cdna2", "cdna3", "cdna4", "gaudi2", "gaudi3", "tpu", "neuron", "apple-m", "cpu",
    "rdna3", "rdna3.5",  # AMD Radeon RX 7000 and Ryzen AI Max (Strix Halo) graphics
    "xe2",  # Intel Arc (Battlemage) graphics
    "qualcomm-ai100",  # Qualcomm Cloud AI 100 inference SoC
]


class Format(EntryBase):
    """A way of storing numbers: a plain floating or integer type, a block-scaled
    microscaling format, or a weight-quantization scheme."""

    summary: Summary
    category: Literal["float", "integer", "block-scaled", "weight-quantization", "gguf"]
    """Plain float/int type, a microscaling block format, a weight-only scheme, or a GGUF type."""
    bits_per_value: float = Field(gt=0, le=64)
    """Bits of one stored element, without shared scales."""
    effective_bits_per_weight: float = Field(gt=0, le=64)
    """Bits per weight including scales, zero points and block metadata."""
    exponent_bits: int | None = Field(default=None, ge=0, le=11)
    """Exponent bits of a floating element."""
    mantissa_bits: int | None = Field(default=None, ge=0, le=52)
    """Stored mantissa (fraction) bits of a floating element."""
    block_size: Width | None = None
    """Elements sharing one scale (block or group size)."""
    scale: ShortText | None = None
    """Format of the shared scale, e.g. "E8M0 per 32 values" or "FP16 per 128 values"."""
    element_format: Annotated[EntryId, Ref(("formats",), "uses")] | None = None
    """The plain format the elements are stored in, when there is one."""
    used_for: tuple[Literal["weights", "activations", "kv-cache", "training"], ...] = ()
    """What engines store in it."""
    native_tensor_core: tuple[Architecture, ...] = ()
    """Accelerator generations whose matrix units compute on it directly."""
    converted_on: tuple[Architecture, ...] = ()
    """Generations where engines store values in this format but convert them to 16-bit
    before the matrix units (weight-only quantization such as FP8 Marlin on Ampere, or a
    KV cache converted inside attention): memory and bandwidth as the format, compute at
    the 16-bit rate. Cite the engine documentation in `sources`."""
    body: Markdown = ""
    """Notes on range, precision and when to use it."""
    sources: tuple[CitationOrId, ...] = Field(min_length=1)
    """Specification, paper or documentation that defines it."""
