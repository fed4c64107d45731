"""Calculator subcommands of the CLI: kv, fit, roofline, simulate."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from . import cli_args as opt
from .calc.capacity import GIB, EngineConfig
from .calc.feasibility import (
    VLLM_V1,
    EngineProfile,
    Feasibility,
    Finding,
    Mode,
    Setup,
    check_setup,
    parallel_findings,
)
from .calc.fit import fit_options
from .calc.kv import KV_DTYPE_ALIASES, kv_bytes, kv_bytes_per_token, kv_dtype_bits
from .kb import KnowledgeBase
from .schema import Format, Gpu, LlmModel

MAX_SIM_STEPS = 10_000_000
"""Most scheduler steps `simulate` runs before it stops with a usage error: some 20 seconds and
400 MB of step records."""


class CalcError(Exception):
    """Bad calculator input; printed as one line, exit code 2."""


def fail(args: argparse.Namespace, message: str) -> int:
    """Report input that cannot be served (exit code 1): infeasible or invalid data."""
    print(f"inferbook {args.command}: {message}", file=sys.stderr)
    return 1


def _infeasible(args: argparse.Namespace, feasibility: Feasibility, what: str,
                extra: dict[str, Any] | None = None) -> int:
    """Report a setup that cannot run, in place of any figure: the reasons with their numbers
    (stderr, or JSON with ``feasible: false``) and exit code 1."""
    if args.json:
        sys.stdout.write(json.dumps({**(extra or {}), **feasibility.to_json()}, indent=2) + "\n")
        return 1
    lines = [f"inferbook {args.command}: {what} cannot run:"]
    lines += [f"  - {reason}" for reason in feasibility.reasons]
    lines += [f"  note: {warning}" for warning in feasibility.warnings]  # what would also cost, were it to run
    lines.append(f"  (assumed {feasibility.engine})")
    print("\n".join(lines), file=sys.stderr)
    return 1


def _warn(args: argparse.Namespace, feasibility: Feasibility) -> None:
    """Print what runs at a cost (converted formats, PCIe tensor parallelism, queueing) to stderr."""
    if not args.json:
        for warning in feasibility.warnings:
            print(f"warning: {warning}", file=sys.stderr)


def _entry(kb: KnowledgeBase, key: str, kind: str, noun: str):
    """The entry ``key`` (id or alias), which must be of ``kind``."""
    entry = kb.get(key)  # KeyError (exit 1) with suggestions when nothing is called that
    if kb.kind_of(entry.id) != kind:
        raise KeyError(f"'{key}' is a {kb.kind_of(entry.id)} entry, not a {noun}")
    return entry


def _model(kb: KnowledgeBase, key: str):
    return _entry(kb, key, "models", "model")


def model_or_config(kb: KnowledgeBase, args: argparse.Namespace) -> tuple[LlmModel, bool]:
    """The model of `kv` or `fit`: a KB entry, or with --config an ad-hoc model read from a config.json
    (not added to the KB); the flag says whether the weights' format is known. An invalid config
    raises the importer's ConfigError (exit code 1)."""
    if args.config is None:
        if args.model is None:
            raise CalcError("give a model id or alias, or --config PATH")
        return _model(kb, args.model), True
    if args.model is not None:
        raise CalcError("give either a model id or --config PATH, not both")
    from .importer import ConfigUsageError, adhoc_model

    try:
        adhoc = adhoc_model(Path(args.config), kb.formats)
    except ConfigUsageError as exc:
        raise CalcError(str(exc)) from None
    for line in adhoc.report.lines():
        print(f"inferbook {args.command} --config: {line}", file=sys.stderr)
    return adhoc.model, adhoc.native_known


def gpu_entry(kb: KnowledgeBase, key: str):
    """The GPU entry named ``key`` (an id or alias); KeyError for anything else."""
    return _entry(kb, key, "gpus", "GPU")


def _format(kb: KnowledgeBase, key: str | None, model) -> Any:
    """The weight format named by id or alias (``fp8`` too), else the model's released checkpoint."""
    if key is None:
        return kb.formats[model.native_dtype]
    return _entry(kb, key, "formats", "format")


def _groups(kb: KnowledgeBase, model, fmt) -> dict | None:
    """Per-group formats when the native (possibly mixed) checkpoint is used."""
    from .calc.weights import native_groups

    return (native_groups(model, dict(kb.formats)) or None) if fmt.id == model.native_dtype else None


def _bits(kb: KnowledgeBase, dtype: str) -> float:
    try:
        return kv_dtype_bits(dtype, kb.formats)
    except ValueError as exc:
        raise CalcError(str(exc)) from None


def _kv_format(kb: KnowledgeBase, dtype: str) -> Format | None:
    """The format entry of a KV data type (aliases such as fp8 resolved), when the KB has one."""
    _bits(kb, dtype)  # refuses unknown types with the list of known ones
    key = KV_DTYPE_ALIASES.get(dtype, dtype)
    resolved = kb.resolve(key)
    return kb.formats[resolved] if resolved is not None and resolved in kb.formats else None


def _setup(kb: KnowledgeBase, args: argparse.Namespace, model: LlmModel, gpu: Gpu, fmt: Format, context: int,
           sequences: int, mode: Mode, cfg: EngineConfig | None = None) -> Setup:
    """The setup a calculator command describes, for `check_setup`."""
    engine = VLLM_V1 if cfg is None else EngineProfile(VLLM_V1.name, cfg)
    return Setup(model, gpu, fmt, kv=_kv_format(kb, args.kv_dtype), kv_bits=_bits(kb, args.kv_dtype), tp=args.tp,
                 pp=getattr(args, "pp", 1), context=context, sequences=sequences, mode=mode, engine=engine,
                 groups=_groups(kb, model, fmt))


def _emit(args: argparse.Namespace, data: dict[str, Any], lines: list[str]) -> int:
    if args.json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _config_errors(args: argparse.Namespace) -> tuple[type[Exception], ...]:
    """The importer's ConfigError when --config names a config.json to read, else nothing to catch
    (the importer is imported only when a config is read)."""
    if args.config is None:
        return ()
    from .importer import ConfigError

    return (ConfigError,)


def cmd_kv(kb: KnowledgeBase, args: argparse.Namespace) -> int:
    try:
        model, _ = model_or_config(kb, args)
    except _config_errors(args) as exc:
        return fail(args, str(exc))
    bits = _bits(kb, args.dtype)
    arch = model.architecture
    findings = parallel_findings(arch, args.tp, args.pp, 1, args.tp * args.pp)
    if args.context > arch.context_length:
        findings.append(Finding("context", "fail", f"a context of {args.context:,} tokens is more than "
                                                   f"{model.title}'s maximum of {arch.context_length:,}"))
    if findings:
        what = f"{args.batch} x {args.context:,} tokens of {model.title}"
        return _infeasible(args, Feasibility(False, tuple(findings), "no engine (KV arithmetic only)"), what)
    result = kv_bytes(arch, args.context, bits, args.batch, args.tp, args.pp)
    per_token = kv_bytes_per_token(arch, bits)
    data = {"model": model.id, "dtype": args.dtype, "context": args.context, "batch": args.batch, "tp": args.tp,
            "pp": args.pp, "attention": arch.attention, "kv_heads": arch.kv_heads, "head_dim": arch.head_dim,
            "bytes_per_token": per_token, "bytes_total": result.bytes_total, "bytes_per_gpu": result.bytes_per_gpu,
            "bytes_unique": result.bytes_unique, "layers_cached": result.layers_cached, "feasible": True,
            "reasons": []}
    lines = [
        f"{model.title}: {arch.attention.upper()}, {arch.layers} layers, {arch.kv_heads} KV heads x {arch.head_dim}"
        + (f", MLA latent {arch.mla.kv_lora_rank}+{arch.mla.qk_rope_head_dim}" if arch.mla else ""),
        f"KV per token ({args.dtype}):        {per_token:,.0f} bytes ({per_token / 2**10:,.1f} KiB)",
        f"{args.batch} x {args.context:,} tokens:          {result.bytes_unique / GIB:,.2f} GiB",
        f"per GPU (TP {args.tp}, PP {args.pp}):       {result.bytes_per_gpu / GIB:,.2f} GiB",
        f"all GPUs incl. TP replicas: {result.bytes_total / GIB:,.2f} GiB",
    ]
    return _emit(args, data, lines)


def cmd_fit(kb: KnowledgeBase, args: argparse.Namespace) -> int:
    try:
        model, native_known = model_or_config(kb, args)
    except _config_errors(args) as exc:
        return fail(args, str(exc))
    if not native_known and args.format is None:
        raise CalcError("the config does not name a weight format the knowledge base has; give --format")
    fmt = _format(kb, args.format, model)
    gpus = [gpu_entry(kb, g) for g in args.gpu] if args.gpu else list(kb.gpus.values())
    prices = {gpu_entry(kb, gid).id: float(usd) for gid, usd in args.price}
    cfg = EngineConfig(gpu_memory_utilization=args.gpu_memory_utilization)
    try:
        options = fit_options(model, fmt, gpus, args.context, args.concurrency, _bits(kb, args.kv_dtype),
                              prices=prices or None, cfg=cfg, groups=_groups(kb, model, fmt),
                              kv=_kv_format(kb, args.kv_dtype))
    except ValueError as exc:
        raise CalcError(str(exc)) from None
    shown = options if args.all else [o for o in options if o.fits]
    data = {"model": model.id, "format": fmt.id, "context": args.context, "concurrency": args.concurrency,
            "options": [asdict(o) for o in shown]}
    lines = [f"{model.title} in {fmt.id}, {args.concurrency} x {args.context:,} tokens "
             f"(KV {args.kv_dtype}, gpu_memory_utilization {args.gpu_memory_utilization}):",
             f"{'gpu':24s} {'n':>2s} {'TPxPP':>5s} {'weights/GPU':>11s} {'KV need':>9s} {'KV space':>9s} "
             f"{'max conc':>9s}  result"]
    for o in shown[: args.limit]:
        cost = f"  ${o.cost_per_hour:,.2f}/h" if o.cost_per_hour is not None else ""
        lines.append(f"{o.gpu:24s} {o.count:2d} {f'{o.tp}x{o.pp}':>5s} {o.weights_gib_per_gpu:9.1f}Gi "
                     f"{o.kv_needed_gib_per_gpu:7.1f}Gi {o.kv_space_gib_per_gpu:7.1f}Gi {o.max_concurrency:9.1f}  "
                     f"{o.reason}{cost}")
    if not shown:
        lines.append("nothing fits; try --all to see why, a smaller format or fewer sequences")
    _emit(args, data, lines)
    return 0 if shown else 1


def cmd_roofline(kb: KnowledgeBase, args: argparse.Namespace) -> int:
    from .calc.roofline import Efficiency, Roofline, cost_per_million_tokens

    model = _model(kb, args.model)
    gpu = gpu_entry(kb, args.gpu)
    fmt = _format(kb, args.format, model)
    context = args.input + args.output
    what = f"{model.title} in {fmt.id} on {args.tp} x {gpu.title}"
    feasibility = check_setup(_setup(kb, args, model, gpu, fmt, context, 1, "batch"))
    if not feasibility.feasible:
        return _infeasible(args, feasibility, what, {"model": model.id, "gpu": gpu.id, "format": fmt.id})
    _warn(args, feasibility)
    fits = feasibility.max_sequences if feasibility.max_sequences is not None else float("inf")
    roof = Roofline(model.architecture, gpu, fmt, _bits(kb, args.kv_dtype), args.tp, Efficiency(args.mfu, args.mbu),
                    _groups(kb, model, fmt))
    prefill = roof.prefill(args.input)
    rows: list[dict[str, Any]] = []
    for b in args.batch:
        if b > fits:  # never a figure for a batch whose KV cache does not fit
            rows.append({"batch": b, "feasible": False,
                         "reason": f"only {int(fits):,} sequences of {context:,} tokens fit in the KV cache"})
            continue
        step = roof.decode_step(b, args.input + args.output // 2)
        rows.append({"batch": b, "feasible": True, "step_ms": step.seconds * 1e3, "bound": step.bound,
                     "tokens_per_s": b / step.seconds})
    turn = roof.compute_bound_batch(args.input + args.output // 2)
    data = {"model": model.id, "gpu": gpu.id, "format": fmt.id, "tp": args.tp, "mfu": args.mfu, "mbu": args.mbu,
            "prefill_ms": prefill.seconds * 1e3, "prefill_bound": prefill.bound, "decode": rows,
            "compute_bound_from_batch": turn, "max_concurrency": fits, **feasibility.to_json()}
    lines = [f"{what} (MFU {args.mfu}, MBU {args.mbu})",
             f"prefill {args.input} tokens: {prefill.seconds * 1e3:,.1f} ms ({prefill.bound}-bound) = TTFT at no load",
             f"{'batch':>6s} {'step ms':>9s} {'tokens/s':>10s}  bound"]
    for r in rows:
        if not r["feasible"]:
            lines.append(f"{r['batch']:6d}  cannot run: {r['reason']}")
            continue
        cost = ""
        if args.price is not None:
            usd = cost_per_million_tokens(args.price * args.tp, r["tokens_per_s"])
            r["usd_per_million_output_tokens"] = usd
            cost = f"  ${usd:,.3f}/M output tokens"
        lines.append(f"{r['batch']:6d} {r['step_ms']:9.2f} {r['tokens_per_s']:10,.0f}  {r['bound']}{cost}")
    if turn is not None and turn <= fits:
        lines.append(f"decode turns compute-bound at batch {turn:,}")
    else:
        lines.append(f"decode stays memory-bound at every batch that fits (up to {int(fits):,})"
                     if fits != float("inf") else "decode stays memory-bound")
    lines.append(f"KV cache holds {fits:,.1f} sequences of {context:,} tokens")
    lines.append(f"assumed {feasibility.engine}")
    refused = [r["batch"] for r in rows if not r["feasible"]]
    if refused:  # the answer as a whole is infeasible: exit 1, the reason beside the figures that can run
        reason = (f"batch {', '.join(map(str, refused))} cannot run: only {int(fits):,} sequences of {context:,} "
                  f"tokens fit in the KV cache")
        data.update(feasible=False, reasons=[*data["reasons"], reason])
        _emit(args, data, lines)
        if not args.json:
            print(f"inferbook roofline: {reason}", file=sys.stderr)
        return 1
    _emit(args, data, lines)
    return 0


def cmd_simulate(kb: KnowledgeBase, args: argparse.Namespace) -> int:
    from .calc.roofline import Efficiency, Roofline, step_model
    from .calc.simulator import Lengths, SimConfig, TraceError, load_trace, simulate, workload

    model = _model(kb, args.model)
    gpu = gpu_entry(kb, args.gpu)
    fmt = _format(kb, args.format, model)
    bits = _bits(kb, args.kv_dtype)
    context = args.input + args.output  # the mean request; longer than the model's maximum cannot run
    what = f"{model.title} in {fmt.id} on {args.tp} x {gpu.title}"
    feasibility = check_setup(_setup(kb, args, model, gpu, fmt, context, args.max_batch, "concurrency"))
    if not feasibility.feasible:
        return _infeasible(args, feasibility, what, {"model": model.id, "gpu": gpu.id, "format": fmt.id})
    _warn(args, feasibility)
    cap = feasibility.capacity
    assert cap is not None  # a feasible setup has its memory worked out
    groups = _groups(kb, model, fmt)
    roof = Roofline(model.architecture, gpu, fmt, bits, args.tp, Efficiency(args.mfu, args.mbu), groups)
    if args.trace:
        try:
            requests = load_trace(Path(args.trace))
        except TraceError as exc:
            return fail(args, str(exc))
    else:
        requests = workload(args.requests, args.rate, Lengths("lognormal", mean=args.input, high=args.input * 8),
                            Lengths("lognormal", mean=args.output, high=args.output * 8), args.arrivals,
                            seed=args.seed)
    try:
        config = SimConfig(policy=args.policy, max_batch=args.max_batch, max_batched_tokens=args.max_batched_tokens,
                           chunked_prefill=not args.no_chunked_prefill, kv_capacity_tokens=cap.kv_tokens,
                           batch_window_s=args.batch_window, max_steps=MAX_SIM_STEPS)
        result = simulate(requests, step_model(roof), config)
    except ValueError as exc:  # SimulationLimit included
        raise CalcError(str(exc)) from None
    from .calc.metrics import Slo

    slo = Slo(ttft=args.slo_ttft, tpot=args.slo_tpot) if (args.slo_ttft or args.slo_tpot) else None
    if not result.records:
        smallest = min(r.input_tokens + r.output_tokens for r in requests)
        return fail(args, f"no request completed: the KV cache of {args.tp} x {gpu.title} holds "
                           f"{cap.kv_tokens:,} tokens and every request needs more (the smallest needs "
                           f"{smallest:,} prompt and output tokens); try more GPUs (--tp), a smaller --format or "
                           f"--kv-dtype, or shorter requests")
    s = result.summary(slo)
    data = {"model": model.id, "gpu": gpu.id, "policy": args.policy, "requests": s.requests,
            "rejected": len(result.rejected), "preemptions": result.preemptions, "duration_s": s.duration_s,
            "request_throughput": s.request_throughput, "output_token_throughput": s.output_token_throughput,
            "ttft": asdict(s.ttft), "tpot": asdict(s.tpot), "itl": asdict(s.itl), "e2el": asdict(s.e2el),
            "goodput": s.goodput, "kv_capacity_tokens": cap.kv_tokens, **feasibility.to_json()}
    lines = [f"{args.policy} batching, {model.title} on {args.tp} x {gpu.id}, {s.requests} requests, "
             f"{len(result.rejected)} rejected, {result.preemptions} preemptions",
             f"throughput: {s.request_throughput:.2f} req/s, {s.output_token_throughput:,.0f} output tokens/s",
             f"{'metric':6s} {'mean':>9s} {'p50':>9s} {'p90':>9s} {'p99':>9s}  (ms)"]
    for name in ("ttft", "tpot", "itl", "e2el"):
        d = getattr(s, name)
        lines.append(f"{name:6s} {d.mean * 1e3:9.1f} {d.p50 * 1e3:9.1f} {d.p90 * 1e3:9.1f} {d.p99 * 1e3:9.1f}")
    if s.goodput is not None:
        lines.append(f"goodput: {s.goodput:.2f} req/s ({s.slo_attainment:.0%} of requests met the SLOs)")
    lines.append(f"assumed {feasibility.engine}")
    return _emit(args, data, lines)


def cmd_predict(kb: KnowledgeBase, args: argparse.Namespace) -> int:
    from .cli_predict import cmd_predict as run

    return run(kb, args)


def cmd_plan(kb: KnowledgeBase, args: argparse.Namespace) -> int:
    from .cli_plan import cmd_plan as run

    return run(kb, args)


COMMANDS = {"kv": cmd_kv, "fit": cmd_fit, "roofline": cmd_roofline, "simulate": cmd_simulate,
            "predict": cmd_predict, "plan": cmd_plan}


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser, only: str | None = None) -> None:
    """Register the calculator subcommands, or with ``only`` (a name in `COMMANDS`) that one alone, which
    spares a command the modules the others' options import; every numeric option is range-checked by
    argparse."""
    if only in (None, "predict"):
        from .cli_predict import add_predict_parser

        add_predict_parser(sub, common)
    if only in (None, "plan"):
        from .cli_plan import add_plan_parser

        add_plan_parser(sub, common)
    config_help = "a Hugging Face config.json describing the model instead of a KB entry (not added to the KB)"
    if only in (None, "kv"):
        _add_kv_parser(sub, common, config_help)
    if only in (None, "fit"):
        _add_fit_parser(sub, common, config_help)
    if only in (None, "roofline", "simulate"):
        _add_roofline_parsers(sub, common, only)


def _add_kv_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser, config_help: str) -> None:
    p = sub.add_parser("kv", parents=[common], help="KV-cache size of a model")
    p.add_argument("model", nargs="?", help="model id or alias (omit with --config)")
    p.add_argument("--config", metavar="PATH", help=config_help)
    p.add_argument("--context", type=opt.CONTEXT, default=8192, help=opt.helptext("tokens per sequence", opt.CONTEXT))
    p.add_argument("--batch", type=opt.SEQUENCES, default=1, help=opt.helptext("sequences", opt.SEQUENCES))
    p.add_argument("--dtype", default="bf16",
                   help="KV data type: bf16, fp16, fp8, int8, int4 or a format id (default: %(default)s)")
    p.add_argument("--tp", type=opt.GPUS, default=1, help=opt.helptext("tensor-parallel GPUs", opt.GPUS))
    p.add_argument("--pp", type=opt.GPUS, default=1, help=opt.helptext("pipeline-parallel stages", opt.GPUS))
    p.add_argument("--json", action="store_true", help="print JSON")


def _add_fit_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser, config_help: str) -> None:
    p = sub.add_parser("fit", parents=[common], help="which GPU configurations serve a model")
    p.add_argument("model", nargs="?", help="model id or alias (omit with --config)")
    p.add_argument("--config", metavar="PATH", help=config_help)
    p.add_argument("--format", help="weight format id (default: the model's native format)")
    p.add_argument("--context", type=opt.CONTEXT, default=8192, help=opt.helptext("tokens per sequence", opt.CONTEXT))
    p.add_argument("--concurrency", type=opt.SEQUENCES, default=16,
                   help=opt.helptext("sequences served at once", opt.SEQUENCES))
    p.add_argument("--kv-dtype", default="bf16", help="KV data type (default: %(default)s)")
    p.add_argument("--gpu", action="append", help="limit to these GPUs (repeatable; default: every GPU)")
    p.add_argument("--price", type=opt.GPU_PRICE, action="append", default=[], metavar="GPU=USD_PER_HOUR",
                   help=f"hourly price of one GPU, USD {opt.PRICE.range_text} (repeatable; default: no prices)")
    p.add_argument("--gpu-memory-utilization", type=opt.UTILISATION, default=0.9,
                   help=opt.helptext("share of GPU memory the engine may use", opt.UTILISATION))
    p.add_argument("--all", action="store_true", help="also list configurations that do not fit")
    p.add_argument("--limit", type=opt.ROWS, default=25, help=opt.helptext("rows shown", opt.ROWS))
    p.add_argument("--json", action="store_true", help="print JSON")


def _add_roofline_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser,
                          only: str | None) -> None:
    """`roofline` and `simulate` (or the one of them that ``only`` names), which share their first options."""
    from .calc.roofline import Efficiency
    from .calc.simulator import MAX_TRACE_BYTES, MAX_TRACE_ROWS

    for name, helptext in (("roofline", "latency and throughput from the roofline model"),
                           ("simulate", "simulate a batching policy on a workload")):
        if only not in (None, name):
            continue
        simulating = name == "simulate"
        p = sub.add_parser(name, parents=[common], help=helptext)
        p.add_argument("model", help="model id or alias")
        p.add_argument("gpu", help="GPU id or alias")
        p.add_argument("--format", help="weight format id (default: the model's native format)")
        p.add_argument("--kv-dtype", default="bf16", help="KV data type (default: %(default)s)")
        p.add_argument("--tp", type=opt.GPUS, default=1, help=opt.helptext("tensor-parallel GPUs", opt.GPUS))
        p.add_argument("--mfu", type=opt.EFFICIENCY, default=Efficiency().mfu,
                       help=opt.helptext("model FLOPs utilisation, a share of peak compute", opt.EFFICIENCY))
        p.add_argument("--mbu", type=opt.EFFICIENCY, default=Efficiency().mbu,
                       help=opt.helptext("memory bandwidth utilisation, a share of peak bandwidth", opt.EFFICIENCY))
        tokens_in, tokens_out = (opt.SIM_INPUT, opt.SIM_OUTPUT) if simulating else (opt.TOKENS, opt.TOKENS)
        mean = "mean " if simulating else ""
        p.add_argument("--input", type=tokens_in, default=1024, help=opt.helptext(f"{mean}prompt tokens", tokens_in))
        p.add_argument("--output", type=tokens_out, default=256,
                       help=opt.helptext(f"{mean}output tokens", tokens_out))
        p.add_argument("--json", action="store_true", help="print JSON")
        if not simulating:
            p.add_argument("--batch", type=opt.SEQUENCES, nargs="+", default=[1, 8, 32, 64, 128, 256],
                           help=opt.helptext("decode batch sizes", opt.SEQUENCES))
            p.add_argument("--price", type=opt.PRICE,
                           help=opt.helptext("USD per GPU-hour, for cost per million tokens", opt.PRICE, default=False)
                           + " (default: no cost)")
            continue
        p.add_argument("--policy", choices=("static", "dynamic", "continuous"), default="continuous",
                       help="batching policy (default: %(default)s)")
        p.add_argument("--requests", type=opt.REQUESTS, default=1000,
                       help=opt.helptext("requests to simulate", opt.REQUESTS))
        p.add_argument("--rate", type=opt.RATE, default=4.0, help=opt.helptext("mean arrival rate", opt.RATE))
        p.add_argument("--arrivals", choices=("poisson", "bursty", "fixed"), default="poisson",
                       help="arrival process (default: %(default)s)")
        p.add_argument("--trace", help=f"CSV or JSONL trace with arrival (s), input_tokens, output_tokens, at most "
                                       f"{MAX_TRACE_BYTES:,} bytes and {MAX_TRACE_ROWS:,} requests "
                                       f"(replaces --requests, --rate, --input, --output)")
        p.add_argument("--seed", type=opt.SEED, default=0, help=opt.helptext("random seed of the workload", opt.SEED))
        p.add_argument("--max-batch", type=opt.SEQUENCES, default=256,
                       help=opt.helptext("most sequences in a batch", opt.SEQUENCES))
        p.add_argument("--max-batched-tokens", type=opt.BATCH_TOKENS, default=8192,
                       help=opt.helptext("token budget of one step", opt.BATCH_TOKENS))
        p.add_argument("--no-chunked-prefill", action="store_true", help="prefill each prompt in one step")
        p.add_argument("--batch-window", type=opt.WINDOW, default=0.05,
                       help=opt.helptext("how long a dynamic batch waits for requests", opt.WINDOW))
        p.add_argument("--slo-ttft", type=opt.SLO_SECONDS, help=opt.helptext(
            "time-to-first-token objective for goodput", opt.SLO_SECONDS, default=False) + " (default: none)")
        p.add_argument("--slo-tpot", type=opt.SLO_SECONDS, help=opt.helptext(
            "time-per-output-token objective for goodput", opt.SLO_SECONDS, default=False) + " (default: none)")
