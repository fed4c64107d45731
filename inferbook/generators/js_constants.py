"""The constants of `inferbook.calc` that the site's JavaScript port repeats, written from Python.

`generators/site/static/js/calc/constants.js` is generated from the values themselves (the
calculators' module constants, the defaults of their settings dataclasses and the schema's
layer kinds and defaults), so the browser port cannot drift from them. Refresh it with

    python -m inferbook.generators.js_constants --write

and commit the result; `tests/test_js_constants.py` fails while the committed file is stale.
Without arguments the module prints the file; `--check` exits 1 when the file is stale.

Only values with a Python source of truth are listed here. A settings dataclass is exported as
the defaults of the fields the JavaScript port reads (`dataclass_defaults`); the fields it leaves
out are named too, so a new Python field fails the generator until someone decides whether the
port needs it."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..paths import generators_dir, project_root

REFRESH = "python -m inferbook.generators.js_constants --write"
"""The command that rewrites the committed file."""

TARGET = Path("site") / "static" / "js" / "calc" / "constants.js"
"""The generated file, relative to the generators folder."""

_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_WIDTH = 120


@dataclass(frozen=True, slots=True)
class Constant:
    """One exported JavaScript constant and where its value comes from."""

    name: str
    """The JavaScript name."""
    source: str
    """The Python value it is, as a dotted path (`inferbook.calc.roofline.DEFAULT_MFU`)."""
    doc: str
    """One sentence for the JSDoc comment."""
    value: Any
    """The value: None, bool, int, float, str, a sequence or a mapping of them."""


def dataclass_defaults(cls: type, ported: Iterable[str], not_ported: Iterable[str] = ()) -> dict[str, Any]:
    """The defaults of the `ported` fields of dataclass `cls`, in the dataclass's order. Every
    field must be named in `ported` or `not_ported`, and every ported field needs a plain default."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    ported, not_ported = set(ported), set(not_ported)
    unknown = (ported | not_ported) - fields.keys()
    undecided = fields.keys() - ported - not_ported
    if unknown or undecided or ported & not_ported:
        raise ValueError(f"{cls.__name__}: fields unknown {sorted(unknown)}, neither ported nor left out "
                         f"{sorted(undecided)}, both {sorted(ported & not_ported)}")
    out: dict[str, Any] = {}
    for name, f in fields.items():
        if name in ported:
            if f.default is dataclasses.MISSING:
                raise ValueError(f"{cls.__name__}.{name} has no plain default to export")
            out[name] = f.default
    return out


def _schema_defaults(model: Any, names: Iterable[str]) -> dict[str, Any]:
    """The defaults of the pydantic `model`'s fields `names`, in the order given."""
    out: dict[str, Any] = {}
    for name in names:
        field = model.model_fields[name]
        if field.is_required():
            raise ValueError(f"{model.__name__}.{name} is required; it has no default to export")
        out[name] = field.default
    return out


def constants() -> tuple[Constant, ...]:
    """Every constant the JavaScript port shares with Python, with its current Python value."""
    from ..calc import (
        capacity,
        engines,
        feasibility,
        fit,
        kv,
        launch,
        perf,
        plan,
        predict,
        pricing,
        roofline,
        simulator,
        steady_state,
        vision,
    )
    from ..schema import models

    if feasibility.VLLM_V1.config != capacity.EngineConfig():
        raise ValueError("VLLM_V1 no longer uses EngineConfig's defaults; calc/feasibility.js assumes it does")
    calc = "inferbook.calc"
    return (
        Constant("GIB", f"{calc}.capacity.GIB", "Bytes in a GiB.", capacity.GIB),
        Constant("DEFAULT_MFU", f"{calc}.roofline.DEFAULT_MFU",
                 "Fraction of dense peak FLOP/s a prefill reaches in the textbook roofline (fitted).",
                 roofline.DEFAULT_MFU),
        Constant("DEFAULT_MBU", f"{calc}.roofline.DEFAULT_MBU",
                 "Fraction of peak memory bandwidth a decode step reaches in the textbook roofline (fitted).",
                 roofline.DEFAULT_MBU),
        Constant("ALLREDUCE_LATENCY_S", f"{calc}.roofline.ALLREDUCE_LATENCY_S",
                 "Fixed cost (seconds) of one all-reduce launch and synchronisation.", roofline.ALLREDUCE_LATENCY_S),
        Constant("SAMPLER_BYTES_PER_LOGIT", f"{calc}.capacity.SAMPLER_BYTES_PER_LOGIT",
                 "Peak bytes per (sequence x vocabulary entry) of vLLM V1's sampler profiling run (fitted).",
                 capacity.SAMPLER_BYTES_PER_LOGIT),
        Constant("NON_TORCH_GIB_TP1", f"{calc}.capacity.NON_TORCH_GIB_TP1",
                 "Non-PyTorch memory (GiB) vLLM logs for one GPU.", capacity.NON_TORCH_GIB_TP1),
        Constant("NON_TORCH_GIB_TP", f"{calc}.capacity.NON_TORCH_GIB_TP",
                 "The same with tensor parallelism (NCCL buffers added).", capacity.NON_TORCH_GIB_TP),
        Constant("DEFAULT_ENGINE_CONFIG", f"{calc}.capacity.EngineConfig",
                 "Engine memory settings, EngineConfig's defaults (vLLM V1 on a large GPU).",
                 dataclass_defaults(capacity.EngineConfig,
                                    ("gpu_memory_utilization", "max_num_batched_tokens", "max_num_seqs", "block_size",
                                     "usable_fraction", "non_torch_gib", "cuda_graph_gib", "sampler_bytes_per_logit",
                                     "activation_scale", "total_memory_gib", "fraction_of"))),
        Constant("DEFAULT_SIM_CONFIG", f"{calc}.simulator.SimConfig",
                 "Scheduler settings, SimConfig's defaults (max_steps and record_steps are not ported).",
                 dataclass_defaults(simulator.SimConfig,
                                    ("policy", "max_batch", "max_batched_tokens", "chunked_prefill",
                                     "kv_capacity_tokens", "batch_window_s", "closed_loop", "lockstep_ranks",
                                     "reserve_full_length"),
                                    ("max_steps", "record_steps"))),
        Constant("DEFAULT_LENGTHS", f"{calc}.simulator.Lengths",
                 "A token-length distribution, Lengths' defaults.",
                 dataclass_defaults(simulator.Lengths, ("kind", "mean", "low", "high", "sigma"))),
        Constant("VLLM_V1_NAME", f"{calc}.feasibility.VLLM_V1",
                 "The name of the engine profile used when none is given (its settings: DEFAULT_ENGINE_CONFIG).",
                 feasibility.VLLM_V1.name),
        Constant("SETUP_DEFAULTS", f"{calc}.feasibility.Setup",
                 "Setup's defaults but the engine (VLLM_V1, built in feasibility.js).",
                 dataclass_defaults(feasibility.Setup,
                                    ("kv", "kv_bits", "tp", "pp", "ep", "gpus", "context", "sequences", "mode",
                                     "groups", "mtp", "attention_dp"),
                                    ("model", "gpu", "weights", "engine"))),
        Constant("SIXTEEN_BIT", f"{calc}.feasibility.SIXTEEN_BIT",
                 "The formats every accelerator can compute in, natively or through its vector units.",
                 feasibility.SIXTEEN_BIT),
        Constant("KV_DTYPE_ALIASES", f"{calc}.kv.KV_DTYPE_ALIASES",
                 "Other names of KV data types -> format id.", kv.KV_DTYPE_ALIASES),
        Constant("KV_FALLBACK_BITS", f"{calc}.kv.KV_FALLBACK_BITS",
                 "Bits per KV element of the common types, used when no format entries are given.",
                 kv.KV_FALLBACK_BITS),
        Constant("STATE_DTYPE_BITS", f"{calc}.kv.STATE_DTYPE_BITS",
                 "Bits per element of the types a Mamba-2 SSM state is recorded in.", kv.STATE_DTYPE_BITS),
        Constant("INDEXER_SCALE_BLOCK", f"{calc}.kv.INDEXER_SCALE_BLOCK",
                 "Values per float32 scale of the FP8 indexer key cache (vLLM's quant_block_size).",
                 kv.INDEXER_SCALE_BLOCK),
        Constant("ATTENTION_KINDS", "inferbook.schema.models.ATTENTION_KINDS",
                 "Layer kinds that keep a per-token KV cache (sorted).", models.ATTENTION_KINDS),
        Constant("FFN_KINDS", "inferbook.schema.models.FFN_KINDS",
                 "Layer kinds that hold a feed-forward block alone (Nemotron-H's one-block layers; sorted).",
                 models.FFN_KINDS),
        Constant("MOE_DEFAULTS", "inferbook.schema.models.Moe",
                 "The schema's defaults of the MoE fields the port fills in when they are missing.",
                 _schema_defaults(models.Moe, ("shared_experts", "dense_layers", "layer_interval"))),
        Constant("VISION_DEFAULTS", "inferbook.schema.models.VisionEncoder",
                 "The schema's defaults of the vision-encoder fields the port fills in when they are missing.",
                 _schema_defaults(models.VisionEncoder,
                                  ("temporal_patch_size", "in_channels", "position_embeddings", "deepstack_mergers"))),
        Constant("GLM4V_MIN_PIXELS", f"{calc}.vision.GLM4V_MIN_PIXELS",
                 "The fewest pixels (x temporal_patch_size) a GLM-4V image keeps.", vision.GLM4V_MIN_PIXELS),
        Constant("GLM4V_MAX_PIXELS", f"{calc}.vision.GLM4V_MAX_PIXELS",
                 "The most pixels (x temporal_patch_size) a GLM-4V image keeps.", vision.GLM4V_MAX_PIXELS),
        Constant("GLM4V_MAX_RATIO", f"{calc}.vision.GLM4V_MAX_RATIO",
                 "The longest aspect ratio the GLM-4V processor accepts.", vision.GLM4V_MAX_RATIO),
        Constant("MOONVIT_PATCH_LIMIT", f"{calc}.vision.MOONVIT_PATCH_LIMIT",
                 "The most patches a MoonViT image is scaled down to.", vision.MOONVIT_PATCH_LIMIT),
        Constant("MOONVIT_SIDE_LIMIT", f"{calc}.vision.MOONVIT_SIDE_LIMIT",
                 "The most patches along either side of a MoonViT image.", vision.MOONVIT_SIDE_LIMIT),
        # fit.js
        Constant("FIT_COUNTS", f"{calc}.fit.FIT_COUNTS", "GPU counts the fit search tries.", fit.FIT_COUNTS),
        Constant("DEFAULT_DOMAIN", f"{calc}.fit.DEFAULT_DOMAIN",
                 "Scale-up domain assumed where a GPU entry records none (an 8-GPU server).", fit.DEFAULT_DOMAIN),
        # predict.js
        Constant("PCIE_GB_S_PER_DIRECTION", f"{calc}.perf.PCIE_GB_S_PER_DIRECTION",
                 "Per-direction GB/s assumed when a GPU lists neither a scale-up link nor its PCIe generation "
                 "(PCIe 4.0 x16).", perf.PCIE_GB_S_PER_DIRECTION),
        Constant("PCIE_X16_GB_S", f"{calc}.perf.PCIE_X16_GB_S",
                 "Per-direction GB/s of a x16 PCIe link by generation (the keys as strings, as JavaScript's are).",
                 {str(gen): gb_s for gen, gb_s in perf.PCIE_X16_GB_S.items()}),
        Constant("MAX_RATE_STEPS", f"{calc}.predict.MAX_RATE_STEPS",
                 "Most bisection steps of the highest-rate search under SLOs (`predict.highest_rate`).",
                 predict.MAX_RATE_STEPS),
        Constant("DEFAULT_REQUESTS", f"{calc}.predict.DEFAULT_REQUESTS",
                 "Requests a prediction simulates when none are asked for (the fewest of an offline run).",
                 predict.DEFAULT_REQUESTS),
        Constant("OFFLINE_WAVES", f"{calc}.predict.OFFLINE_WAVES",
                 "Full batches an offline run simulates at least, so its throughput is the steady state's.",
                 predict.OFFLINE_WAVES),
        Constant("MAX_OFFLINE_REQUESTS", f"{calc}.predict.MAX_OFFLINE_REQUESTS",
                 "The most requests an offline run simulates on one replica.", predict.MAX_OFFLINE_REQUESTS),
        # plan.js
        Constant("DEFAULT_MAX_GPUS", f"{calc}.plan.DEFAULT_MAX_GPUS",
                 "The most GPUs a plan considers when none is given.", plan.DEFAULT_MAX_GPUS),
        Constant("PERCENTILES", f"{calc}.plan.PERCENTILES",
                 "Percentiles the targets may be set at (those predict's statistics keep).", plan.PERCENTILES),
        Constant("KV_DTYPES", f"{calc}.plan.KV_DTYPES",
                 "KV-cache choices tried: the engine's default for the checkpoint, and FP8.", plan.KV_DTYPES),
        Constant("TP_SIZES", f"{calc}.plan.TP_SIZES", "Tensor-parallel sizes the planner tries.", plan.TP_SIZES),
        Constant("PP_SIZES", f"{calc}.plan.PP_SIZES", "Pipeline-parallel sizes the planner tries.", plan.PP_SIZES),
        Constant("SIM_REQUESTS", f"{calc}.plan.SIM_REQUESTS",
                 "Requests each finalist's simulation runs (spread over its replicas).", plan.SIM_REQUESTS),
        Constant("FRONTIER_FINALISTS", f"{calc}.plan.FRONTIER_FINALISTS",
                 "Points of the estimated frontier simulated (the cheapest ones).", plan.FRONTIER_FINALISTS),
        Constant("FINALISTS", f"{calc}.plan.FINALISTS",
                 "Configurations simulated in all: the estimated frontier's cheapest, then the cheapest others.",
                 plan.FINALISTS),
        Constant("MAX_EXTRA_REPLICAS", f"{calc}.plan.MAX_EXTRA_REPLICAS",
                 "Times a finalist that misses a target at the asked percentile gets another replica.",
                 plan.MAX_EXTRA_REPLICAS),
        Constant("DISAGGREGATION_TRIES", f"{calc}.plan.DISAGGREGATION_TRIES",
                 "Frontier configurations tried as prefill and decode pools.", plan.DISAGGREGATION_TRIES),
        Constant("USERS_BISECTION_STEPS", f"{calc}.plan.USERS_BISECTION_STEPS",
                 "Bisection steps of the search for the arrival rate a number of users makes.",
                 plan.USERS_BISECTION_STEPS),
        Constant("USERS_TOLERANCE", f"{calc}.plan.USERS_TOLERANCE",
                 "That search stops once its bracket is within this fraction of its top (0.5%).", plan.USERS_TOLERANCE),
        Constant("IDLE_RATE", f"{calc}.plan.IDLE_RATE",
                 "Requests per second of an idle engine (its zero-load latency).", plan.IDLE_RATE),
        Constant("ROOT_STEPS", f"{calc}.steady_state.ROOT_STEPS",
                 "The most evaluations of the steady-state step equation (regula falsi, Illinois rule).",
                 steady_state.ROOT_STEPS),
        Constant("STALE_AFTER_DAYS", f"{calc}.pricing.STALE_AFTER_DAYS",
                 "A price checked more than this many days ago is flagged as stale.", pricing.STALE_AFTER_DAYS),
        Constant("PRICINGS", f"{calc}.pricing.PRICINGS", "The kinds of hourly GPU price an offer may list.",
                 pricing.PRICINGS),
        Constant("ENGINES", f"{calc}.engines.ENGINES", "Engines predict models, by the ids --engine takes.",
                 engines.ENGINES),
        Constant("ENGINE_ALIASES", f"{calc}.engines.ENGINE_ALIASES", "Other names of engines -> engine id.",
                 engines.ENGINE_ALIASES),
        Constant("ATTENTION_DP_ENGINES", f"{calc}.engines.ATTENTION_DP_ENGINES",
                 "Engines with attention data parallelism for MoE models.", engines.ATTENTION_DP_ENGINES),
        Constant("LAUNCH_ENGINES", f"{calc}.launch.LAUNCH_ENGINES",
                 "Engines the planner writes launch commands for.", launch.LAUNCH_ENGINES),
        Constant("PORT", f"{calc}.launch.PORT", "The port the launch commands serve on.", launch.PORT),
    )


def js_value(value: Any, room: int = _WIDTH) -> str:
    """``value`` as a JavaScript literal: numbers as Python's shortest round-trip repr (which
    JavaScript parses to the same double), sets sorted, sequences and mappings frozen. A sequence
    or mapping longer than ``room`` characters is written one item a line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} has no JavaScript literal here")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (set, frozenset)):
        return js_value(sorted(value), room)
    if isinstance(value, (list, tuple)):
        return _frozen("[", [js_value(v) for v in value], "]", room)
    if isinstance(value, Mapping):
        items = [f"{k if _IDENTIFIER.fullmatch(k) else json.dumps(k)}: {js_value(v)}" for k, v in value.items()]
        return _frozen("{ ", items, " }", room)
    raise TypeError(f"cannot write {type(value).__name__} as a JavaScript constant")


def _frozen(open_: str, items: list[str], close: str, room: int) -> str:
    one_line = f"Object.freeze({open_}{', '.join(items)}{close})"
    if len(one_line) <= room or not items:
        return one_line
    body = "".join(f"  {item},\n" for item in items)
    return f"Object.freeze({open_.strip()}\n{body}{close.strip()})"


def _doc(c: Constant) -> list[str]:
    """The JSDoc comment of one constant: its sentence and its Python source."""
    line = f"/** {c.doc} Python: `{c.source}`. */"
    return [line] if len(line) <= _WIDTH else ["/**", f" * {c.doc}", f" * Python: `{c.source}`.", " */"]


def render(items: Iterable[Constant] | None = None) -> str:
    """The text of constants.js."""
    items = constants() if items is None else tuple(items)
    names = [c.name for c in items]
    if len(set(names)) != len(names):
        raise ValueError("two constants share a JavaScript name")
    lines = [
        "// Generated from the Python constants of inferbook.calc and inferbook.schema.models; do not edit.",
        f"// Refresh: {REFRESH}  (the sources: inferbook/generators/js_constants.py)",
        "",
    ]
    for c in items:
        head = f"export const {c.name} = "
        lines += [*_doc(c), f"{head}{js_value(c.value, _WIDTH - len(head) - 1)};"]
    return "\n".join(lines) + "\n"


def target_path() -> Path:
    """Where the generated file lives (in the checkout, or in an installed package's data)."""
    return generators_dir() / TARGET


def stale() -> bool:
    """Whether the file on disk differs from what `render` writes now."""
    path = target_path()
    return not path.is_file() or path.read_text(encoding="utf-8") != render()


def main(argv: list[str] | None = None) -> int:
    """Print constants.js, check it (`--check`: exit 1 when stale) or rewrite it (`--write`)."""
    parser = argparse.ArgumentParser(prog="python -m inferbook.generators.js_constants", description=__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help="rewrite the committed constants.js")
    group.add_argument("--check", action="store_true", help="exit 1 when the committed constants.js is stale")
    args = parser.parse_args(argv)
    if args.check:
        if stale():
            print(f"{target_path()} is stale; run {REFRESH}", file=sys.stderr)
            return 1
        return 0
    if args.write:
        if project_root() is None:
            print("an installed package is never rewritten; run this in a checkout", file=sys.stderr)
            return 2
        path = target_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(), encoding="utf-8")
        print(f"wrote {path}")
        return 0
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
