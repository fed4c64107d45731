"""Accelerators: GPUs, TPUs and other chips that run inference."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import (
    Bandwidth,
    CitationOrId,
    EntryBase,
    EntryId,
    FieldCitation,
    MemoryGib,
    NoteText,
    PartialDate,
    Ref,
    ShortText,
    SourceId,
    Strict,
    Tflops,
    Watts,
    check_field_sources,
)
from .formats import Architecture

Vendor = Literal["nvidia", "amd", "intel", "google", "aws", "apple", "qualcomm", "other"]
"""Who makes an accelerator."""
VENDOR_NAMES = {"nvidia": "NVIDIA", "amd": "AMD", "intel": "Intel", "google": "Google", "aws": "AWS",
                "apple": "Apple", "qualcomm": "Qualcomm", "other": "other"}
"""How each `Gpu.vendor` value is written in prose."""


class Throughput(Strict):
    """Peak matrix (tensor-core) throughput of one chip per data type. TFLOPS are
    10^12 floating-point operations per second; TOPS are 10^12 integer operations.
    `fp32_tflops` and `fp64_tflops` are the non-tensor vector rates. Each is more than 0
    and at most 10^7."""

    fp64_tflops: Tflops | None = None
    fp32_tflops: Tflops | None = None
    tf32_tflops: Tflops | None = None
    bf16_tflops: Tflops | None = None
    fp16_tflops: Tflops | None = None
    fp8_tflops: Tflops | None = None
    fp6_tflops: Tflops | None = None
    fp4_tflops: Tflops | None = None
    int8_tops: Tflops | None = None
    int4_tops: Tflops | None = None


class Interconnect(Strict):
    """How the chip talks to its peers and its host."""

    name: ShortText | None = None
    """Scale-up link, e.g. "NVLink 4" or "Infinity Fabric"."""
    bandwidth_gb_s: Bandwidth | None = None
    """Total scale-up bandwidth per chip, both directions added, in GB/s (10^9 bytes/s)."""
    host_interface: ShortText | None = None
    """Host bus, e.g. "PCIe 5.0 x16"."""
    domain_gpus: int | None = Field(default=None, ge=1, le=100_000)
    """Chips one scale-up domain joins with the link above: 8 on an HGX board, 72 in an
    NVL72 rack, 2 with an NVLink bridge, 1 where the chip has no scale-up link (PCIe only).
    Tensor parallelism stays inside one domain."""


class ComputeUnits(Strict):
    """The chip's parallel building blocks, from the vendor's architecture whitepaper or programming
    guide: NVIDIA streaming multiprocessors (SMs), AMD compute units (CUs), Apple GPU cores. Sizes
    are per unit unless a field says otherwise; cite the source of each in `field_sources`."""

    count: int = Field(ge=1, le=100_000)
    """Units enabled on this product (not on the full die)."""
    unit_name: Literal["SM", "CU", "core", "Xe-core", "other"]
    """What the vendor calls one unit."""
    matrix_units_per_unit: int | None = Field(default=None, ge=1, le=64)
    """Tensor cores (NVIDIA) or matrix cores (AMD) in one unit."""
    warp_size: int | None = Field(default=None, ge=1, le=256)
    """Threads a scheduler issues together: a warp (32 on NVIDIA) or a wavefront (64 on AMD CDNA)."""
    max_warps_per_unit: int | None = Field(default=None, ge=1, le=1024)
    """Warps (wavefronts) resident on one unit at once: the ceiling of occupancy."""
    schedulers_per_unit: int | None = Field(default=None, ge=1, le=64)
    """Warp schedulers (SM sub-partitions, or SIMDs on an AMD CU), each issuing one warp per cycle."""
    register_file_kib: float | None = Field(default=None, gt=0, le=65_536)
    """Register file of one unit, in KiB."""
    shared_memory_kib: float | None = Field(default=None, gt=0, le=65_536)
    """Largest shared memory (LDS on AMD) one unit can give its blocks, in KiB."""
    l1_shared_kib: float | None = Field(default=None, gt=0, le=65_536)
    """Combined L1 data cache and shared memory of one unit, in KiB, where they share one array."""
    l2_cache_mib: float | None = Field(default=None, gt=0, le=1_048_576)
    """L2 cache of the whole chip, in MiB."""
    last_level_cache_mib: float | None = Field(default=None, gt=0, le=1_048_576)
    """A further chip-wide cache behind L2 (AMD Infinity Cache), in MiB."""
    boost_clock_mhz: float | None = Field(default=None, gt=0, le=10_000)
    """Peak (boost) clock of the units, in MHz."""


class Gpu(EntryBase):
    """One accelerator, per chip (a GB200 superchip is described per GPU).
    Every number is dense unless its field says sparse."""

    vendor: Vendor
    architecture: Architecture
    """Microarchitecture generation."""
    form_factor: Literal["sxm", "pcie", "oam", "superchip", "board", "chip", "soc"]
    """Module type: SXM, PCIe card, OCP accelerator module, superchip, a vendor board
    (e.g. a TPU or Inferentia chip on its board), or a system-on-chip."""
    market: Literal["datacenter", "workstation", "consumer", "edge"]
    release_date: PartialDate
    """First availability or announcement."""
    source: SourceId
    """Primary source (usually the datasheet); it cites every bare number below."""
    memory_gib: MemoryGib
    """Memory capacity in GiB (2^30 bytes). Vendors' "GB" for HBM and GDDR capacity
    is binary: an "80GB" card holds 80 GiB."""
    memory_type: ShortText
    """e.g. HBM3, HBM3e, GDDR6X, LPDDR5X."""
    memory_bandwidth_gb_s: Bandwidth
    """Peak memory bandwidth in GB/s (10^9 bytes per second)."""
    memory_bus_bits: int | None = Field(default=None, ge=32, le=16384)
    """Memory interface width in bits, where published."""
    dense: Throughput
    """Dense peak throughput (no structured sparsity)."""
    sparse: Throughput | None = None
    """The vendor's 2:4-sparsity figures, kept for reference only."""
    tdp_w: Watts | None = None
    """Maximum board or module power in watts."""
    interconnect: Interconnect = Interconnect.model_construct()  # = Interconnect(), no validator built on import
    compute_units: ComputeUnits | None = None
    """Its SMs, CUs or cores and the memories inside them, where the vendor documents them."""
    variant_of: Annotated[EntryId, Ref(("gpus",), "variant_of")] | None = None
    """The flagship variant this one derives from (e.g. a PCIe card of an SXM part)."""
    supported_formats: tuple[Annotated[EntryId, Ref(("formats",), "supports")], ...] = ()
    """Formats its matrix units compute natively."""
    sources: tuple[CitationOrId, ...] = ()
    """Further sources beyond the primary one."""
    field_sources: tuple[FieldCitation, ...] = ()
    """Sources of plain numbers (memory_bus_bits) that do not come from the entry's source."""
    notes: NoteText | None = None

    @model_validator(mode="after")
    def _field_sources(self) -> Gpu:
        check_field_sources(self, self.field_sources)
        return self
