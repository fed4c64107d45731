"""IB311: memory bandwidth and bus width that imply an impossible per-pin data rate."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...diagnostics import Diagnostic, Severity
from .base import LintContext, at

CODE = "IB311"
NAME = "bandwidth-vs-bus"
SEVERITY: Severity = "error"
RATIONALE = ("Bandwidth = bus width x per-pin data rate, and each memory generation runs in a known range "
             "of data rates; a value outside it means a wrong bandwidth, bus width or memory type.")
HINT = ("check memory_bandwidth_gb_s (GB/s), memory_bus_bits (all stacks or channels together) and "
        "memory_type against the datasheet")

RATES_GT_S: dict[str, tuple[float, float]] = {
    "HBM": (0.5, 14.0),  # generation not stated: any HBM
    "HBM2": (1.0, 2.6),
    "HBM2E": (2.0, 3.8),
    "HBM3": (4.0, 6.6),
    "HBM3E": (4.8, 10.0),
    "HBM4": (6.0, 14.0),
    "GDDR5": (3.5, 9.0),
    "GDDR5X": (9.0, 12.0),
    "GDDR6": (10.0, 20.0),
    "GDDR6X": (19.0, 24.0),
    "GDDR7": (20.0, 48.0),
    "LPDDR4X": (3.2, 4.3),
    "LPDDR5": (5.0, 6.4),
    "LPDDR5X": (6.4, 10.7),
    "DDR4": (1.6, 3.2),
    "DDR5": (4.0, 8.8),
}
"""Plausible per-pin data rates (GT/s, i.e. Gbit/s per pin) of shipping parts, by memory type."""

_TYPE = re.compile(r"\b(HBM\d?E?|GDDR\d+X?|LPDDR\d+X?|DDR\d)\b", re.IGNORECASE)


def memory_kind(text: str) -> str | None:
    """The first memory generation named in a memory_type text (upper-case), if known."""
    match = _TYPE.search(text)
    if match is None:
        return None
    kind = match.group(1).upper()
    return kind if kind in RATES_GT_S else None


def check(ctx: LintContext) -> Iterator[Diagnostic]:
    for loaded in ctx.of_kind("gpus"):
        gpu = loaded.entry
        bus = gpu.memory_bus_bits  # type: ignore[attr-defined]
        kind = memory_kind(gpu.memory_type)  # type: ignore[attr-defined]
        if not bus or kind is None:
            continue
        bandwidth = gpu.memory_bandwidth_gb_s.value  # type: ignore[attr-defined]
        rate = bandwidth / (bus / 8)
        low, high = RATES_GT_S[kind]
        if not low <= rate <= high:
            yield at(loaded, ("memory_bandwidth_gb_s",), CODE, SEVERITY,
                     f"{bandwidth:g} GB/s over a {bus}-bit bus is {rate:.2f} GT/s per pin, outside "
                     f"{low:g}-{high:g} GT/s for {kind}", HINT)
