"""IB313: numbers outside the range any real part or model has, and fields that contradict each other."""

from __future__ import annotations

from collections.abc import Iterator

from ...diagnostics import Diagnostic, Severity
from ...loader import LoadedEntry
from ...schema import Format, LlmModel, Source, Throughput
from .base import LintContext, at, fmt_num, number

CODE = "IB313"
NAME = "plausible-values"
SEVERITY: Severity = "error"
RATIONALE = ("The schema checks types; a value can still be off by a unit (TB/s typed as GB/s, millions as "
             "billions) or contradict another field, and every calculator result built on it would be wrong.")
HINT = "check the unit the field name states (GB/s, GiB, W, TFLOPS, billions) and the source's figure"

_TFLOPS_MAX = {"fp64": 1_000, "fp32": 2_000, "tf32": 20_000, "bf16": 40_000, "fp16": 40_000, "fp8": 80_000,
               "fp6": 80_000, "fp4": 160_000, "int8": 80_000, "int4": 160_000}

RANGES: dict[str, dict[str, tuple[float, float, str]]] = {
    "gpus": {
        "memory_gib": (0.5, 4096, "GiB"),
        "memory_bandwidth_gb_s": (20, 100_000, "GB/s"),
        "tdp_w": (5, 5_000, "W"),
        "interconnect.bandwidth_gb_s": (1, 50_000, "GB/s"),
        **{f"{part}.{field}": (0.1, _TFLOPS_MAX[field.split("_")[0]], "TFLOPS" if "tflops" in field else "TOPS")
           for part in ("dense", "sparse") for field in Throughput.model_fields},
    },
    "models": {
        "params_total_b": (0.01, 20_000, "billion parameters"),
        "params_active_b": (0.01, 20_000, "billion parameters"),
        "architecture.hidden_size": (64, 131_072, ""),
        "architecture.attention_heads": (1, 1_024, ""),
        "architecture.head_dim": (8, 1_024, ""),
        "architecture.vocab_size": (256, 2_000_000, "tokens"),
        "architecture.context_length": (512, 100_000_000, "tokens"),
    },
}
"""Per kind, dotted field -> (lowest, highest, unit) that real hardware and models have."""


def _value(entry: object, dotted: str) -> float | None:
    value: object = entry
    for part in dotted.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return number(value)  # type: ignore[arg-type]


def _path(dotted: str) -> tuple[str, ...]:
    return tuple(dotted.split("."))


def check(ctx: LintContext) -> Iterator[Diagnostic]:
    for loaded in ctx.entries.values():
        entry = loaded.entry
        for dotted, (low, high, unit) in RANGES.get(loaded.kind, {}).items():
            value = _value(entry, dotted)
            if value is not None and not low <= value <= high:
                yield at(loaded, _path(dotted), CODE, SEVERITY,
                         f"{dotted} = {fmt_num(value)} is outside the plausible range "
                         f"{fmt_num(low)}-{fmt_num(high)} {unit}".rstrip(), HINT)
        yield from _relations(ctx, loaded)


def _relations(ctx: LintContext, loaded: LoadedEntry) -> Iterator[Diagnostic]:
    entry = loaded.entry
    kind = loaded.kind
    if entry.last_reviewed > ctx.today:
        yield at(loaded, ("last_reviewed",), CODE, SEVERITY, f"last_reviewed {entry.last_reviewed} is in the future",
                 "set it to the day you checked the entry")
    if kind == "sources" and isinstance(entry, Source) and entry.accessed > ctx.today:
        yield at(loaded, ("accessed",), CODE, SEVERITY, f"accessed {entry.accessed} is in the future",
                 "set it to the day you read the document")
    if kind == "models" and isinstance(entry, LlmModel):
        total, active = number(entry.params_total_b), number(entry.params_active_b)
        if active is not None and total is not None and active > total:
            yield at(loaded, ("params_active_b",), CODE, SEVERITY,
                     f"params_active_b {active:g} exceeds params_total_b {total:g}",
                     "active parameters are a subset of the total")
        moe = entry.architecture.moe
        if moe is not None and moe.experts_per_token > moe.experts:
            yield at(loaded, ("architecture", "moe", "experts_per_token"), CODE, SEVERITY,
                     f"experts_per_token {moe.experts_per_token} exceeds experts {moe.experts}",
                     "num_experts_per_tok is at most n_routed_experts")
    if kind == "formats" and isinstance(entry, Format):
        if entry.effective_bits_per_weight < entry.bits_per_value:
            yield at(loaded, ("effective_bits_per_weight",), CODE, SEVERITY,
                     f"effective_bits_per_weight {entry.effective_bits_per_weight:g} is below bits_per_value "
                     f"{entry.bits_per_value:g}", "scales and metadata only add bits")
        e, m = entry.exponent_bits, entry.mantissa_bits
        if entry.category == "float" and e is not None and m is not None and 1 + e + m != entry.bits_per_value:
            yield at(loaded, ("bits_per_value",), CODE, SEVERITY,
                     f"1 sign + {e} exponent + {m} mantissa bits = {1 + e + m}, not bits_per_value "
                     f"{entry.bits_per_value:g}", "a float element is sign, exponent and mantissa bits")
