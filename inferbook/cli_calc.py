"""Calculator subcommands of the CLI: kv, fit, roofline, simulate."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .calc.capacity import GIB, EngineConfig, capacity, fit_options, max_concurrency
from .calc.kv import kv_bytes, kv_bytes_per_token, kv_dtype_bits
from .calc.roofline import Efficiency, Roofline, cost_per_million_tokens, step_model
from .calc.simulator import Lengths, SimConfig, TraceError, load_trace, simulate, workload
from .kb import KnowledgeBase


class CalcError(Exception):
    """Bad calculator input; printed as one line, exit code 2."""


def _entry(kb: KnowledgeBase, key: str, kind: str, noun: str):
    """The entry ``key`` (id or alias), which must be of ``kind``."""
    try:
        entry = kb.get(key)
    except KeyError as exc:
        raise CalcError(str(exc).strip('"')) from None
    if kb.kind_of(entry.id) != kind:
        raise CalcError(f"'{key}' is a {kb.kind_of(entry.id)} entry, not a {noun}")
    return entry


def _model(kb: KnowledgeBase, key: str):
    return _entry(kb, key, "models", "model")


def _gpu(kb: KnowledgeBase, key: str):
    return _entry(kb, key, "gpus", "GPU")


def _format(kb: KnowledgeBase, key: str | None, model) -> Any:
    fid = key or model.native_dtype
    if fid not in kb.formats:
        raise CalcError(f"unknown format '{fid}'; formats: {', '.join(sorted(kb.formats))}")
    return kb.formats[fid]


def _groups(kb: KnowledgeBase, model, fmt) -> dict | None:
    """Per-group formats when the native (possibly mixed) checkpoint is used."""
    from .calc.weights import native_groups

    return (native_groups(model, dict(kb.formats)) or None) if fmt.id == model.native_dtype else None


def _bits(kb: KnowledgeBase, dtype: str) -> float:
    try:
        return kv_dtype_bits(dtype, kb.formats)
    except ValueError as exc:
        raise CalcError(str(exc)) from None


def _emit(args: argparse.Namespace, data: dict[str, Any], lines: list[str]) -> int:
    if args.json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        sys.stdout.write("\n".join(lines) + "\n")
    return 0


def cmd_kv(kb: KnowledgeBase, args: argparse.Namespace) -> int:
    model = _model(kb, args.model)
    bits = _bits(kb, args.dtype)
    arch = model.architecture
    try:
        result = kv_bytes(arch, args.context, bits, args.batch, args.tp, args.pp)
    except ValueError as exc:
        raise CalcError(str(exc)) from None
    per_token = kv_bytes_per_token(arch, bits)
    data = {"model": model.id, "dtype": args.dtype, "context": args.context, "batch": args.batch, "tp": args.tp,
            "pp": args.pp, "attention": arch.attention, "kv_heads": arch.kv_heads, "head_dim": arch.head_dim,
            "bytes_per_token": per_token, "bytes_total": result.bytes_total, "bytes_per_gpu": result.bytes_per_gpu,
            "bytes_unique": result.bytes_unique, "layers_cached": result.layers_cached}
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
    model = _model(kb, args.model)
    fmt = _format(kb, args.format, model)
    gpus = [_gpu(kb, g) for g in args.gpu] if args.gpu else list(kb.gpus.values())
    prices = {}
    for item in args.price:
        gid, _, value = item.partition("=")
        try:
            prices[_gpu(kb, gid).id] = float(value)
        except ValueError:
            raise CalcError(f"--price takes GPU=DOLLARS_PER_HOUR, got '{item}'") from None
    cfg = EngineConfig(gpu_memory_utilization=args.gpu_memory_utilization)
    try:
        options = fit_options(model, fmt, gpus, args.context, args.concurrency, _bits(kb, args.kv_dtype),
                              prices=prices or None, cfg=cfg, groups=_groups(kb, model, fmt))
    except ValueError as exc:
        raise CalcError(str(exc)) from None
    shown = options if args.all else [o for o in options if o.fits]
    data = {"model": model.id, "format": fmt.id, "context": args.context, "concurrency": args.concurrency,
            "options": [asdict(o) for o in shown]}
    lines = [f"{model.title} in {fmt.id}, {args.concurrency} x {args.context:,} tokens "
             f"(KV {args.kv_dtype}, gpu_memory_utilization {args.gpu_memory_utilization}):",
             f"{'gpu':24s} {'n':>2s} {'weights/GPU':>11s} {'KV need':>9s} {'KV space':>9s} {'max conc':>9s}  result"]
    for o in shown[: args.limit]:
        cost = f"  ${o.cost_per_hour:,.2f}/h" if o.cost_per_hour is not None else ""
        lines.append(f"{o.gpu:24s} {o.count:2d} {o.weights_gib_per_gpu:9.1f}Gi {o.kv_needed_gib_per_gpu:7.1f}Gi "
                     f"{o.kv_space_gib_per_gpu:7.1f}Gi {o.max_concurrency:9.1f}  {o.reason}{cost}")
    if not shown:
        lines.append("nothing fits; try --all to see why, a smaller format or fewer sequences")
    _emit(args, data, lines)
    return 0 if shown else 1


def cmd_roofline(kb: KnowledgeBase, args: argparse.Namespace) -> int:
    model = _model(kb, args.model)
    gpu = _gpu(kb, args.gpu)
    fmt = _format(kb, args.format, model)
    try:
        roof = Roofline(model.architecture, gpu, fmt, _bits(kb, args.kv_dtype), args.tp,
                        Efficiency(args.mfu, args.mbu), _groups(kb, model, fmt))
        prefill = roof.prefill(args.input)
        rows = []
        for b in args.batch:
            step = roof.decode_step(b, args.input + args.output // 2)
            rows.append({"batch": b, "step_ms": step.seconds * 1e3, "bound": step.bound,
                         "tokens_per_s": b / step.seconds})
        turn = roof.compute_bound_batch(args.input + args.output // 2)
        cap = capacity(model.architecture, gpu, fmt, _bits(kb, args.kv_dtype), args.tp,
                       groups=_groups(kb, model, fmt))
        conc = max_concurrency(model.architecture, cap, args.input + args.output, _bits(kb, args.kv_dtype), args.tp)
    except ValueError as exc:
        raise CalcError(str(exc)) from None
    data = {"model": model.id, "gpu": gpu.id, "format": fmt.id, "tp": args.tp, "mfu": args.mfu, "mbu": args.mbu,
            "prefill_ms": prefill.seconds * 1e3, "prefill_bound": prefill.bound, "decode": rows,
            "compute_bound_from_batch": turn, "max_concurrency": conc}
    lines = [f"{model.title} on {args.tp} x {gpu.title}, {fmt.id} (MFU {args.mfu}, MBU {args.mbu})",
             f"prefill {args.input} tokens: {prefill.seconds * 1e3:,.1f} ms ({prefill.bound}-bound) = TTFT at no load",
             f"{'batch':>6s} {'step ms':>9s} {'tokens/s':>10s}  bound"]
    for r in rows:
        cost = ""
        if args.price is not None:
            usd = cost_per_million_tokens(args.price * args.tp, r["tokens_per_s"])
            r["usd_per_million_output_tokens"] = usd
            cost = f"  ${usd:,.3f}/M tokens"
        lines.append(f"{r['batch']:6d} {r['step_ms']:9.2f} {r['tokens_per_s']:10,.0f}  {r['bound']}{cost}")
    lines.append(f"decode turns compute-bound at batch {turn}" if turn else "decode stays memory-bound")
    lines.append(f"KV cache holds {conc:,.1f} sequences of {args.input + args.output} tokens")
    return _emit(args, data, lines)


def cmd_simulate(kb: KnowledgeBase, args: argparse.Namespace) -> int:
    model = _model(kb, args.model)
    gpu = _gpu(kb, args.gpu)
    fmt = _format(kb, args.format, model)
    bits = _bits(kb, args.kv_dtype)
    try:
        groups = _groups(kb, model, fmt)
        roof = Roofline(model.architecture, gpu, fmt, bits, args.tp, Efficiency(args.mfu, args.mbu), groups)
        cap = capacity(model.architecture, gpu, fmt, bits, args.tp, groups=groups)
        if args.trace:
            requests = load_trace(Path(args.trace))
        else:
            requests = workload(args.requests, args.rate, Lengths("lognormal", mean=args.input, high=args.input * 8),
                                Lengths("lognormal", mean=args.output, high=args.output * 8), args.arrivals,
                                seed=args.seed)
        config = SimConfig(policy=args.policy, max_batch=args.max_batch, max_batched_tokens=args.max_batched_tokens,
                           chunked_prefill=not args.no_chunked_prefill, kv_capacity_tokens=max(cap.kv_tokens, 1),
                           batch_window_s=args.batch_window)
        result = simulate(requests, step_model(roof), config)
    except (ValueError, TraceError, OSError) as exc:
        raise CalcError(str(exc)) from None
    from .calc.metrics import Slo

    slo = Slo(ttft=args.slo_ttft, tpot=args.slo_tpot) if (args.slo_ttft or args.slo_tpot) else None
    if not result.records:
        raise CalcError("no request completed (all exceed the KV capacity)")
    s = result.summary(slo)
    data = {"model": model.id, "gpu": gpu.id, "policy": args.policy, "requests": s.requests,
            "rejected": len(result.rejected), "preemptions": result.preemptions, "duration_s": s.duration_s,
            "request_throughput": s.request_throughput, "output_token_throughput": s.output_token_throughput,
            "ttft": asdict(s.ttft), "tpot": asdict(s.tpot), "itl": asdict(s.itl), "e2el": asdict(s.e2el),
            "goodput": s.goodput, "kv_capacity_tokens": cap.kv_tokens}
    lines = [f"{args.policy} batching, {model.title} on {args.tp} x {gpu.id}, {s.requests} requests, "
             f"{len(result.rejected)} rejected, {result.preemptions} preemptions",
             f"throughput: {s.request_throughput:.2f} req/s, {s.output_token_throughput:,.0f} output tokens/s",
             f"{'metric':6s} {'mean':>9s} {'p50':>9s} {'p90':>9s} {'p99':>9s}  (ms)"]
    for name in ("ttft", "tpot", "itl", "e2el"):
        d = getattr(s, name)
        lines.append(f"{name:6s} {d.mean * 1e3:9.1f} {d.p50 * 1e3:9.1f} {d.p90 * 1e3:9.1f} {d.p99 * 1e3:9.1f}")
    if s.goodput is not None:
        lines.append(f"goodput: {s.goodput:.2f} req/s ({s.slo_attainment:.0%} of requests met the SLOs)")
    return _emit(args, data, lines)


COMMANDS = {"kv": cmd_kv, "fit": cmd_fit, "roofline": cmd_roofline, "simulate": cmd_simulate}


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register the calculator subcommands."""
    p = sub.add_parser("kv", parents=[common], help="KV-cache size of a model")
    p.add_argument("model")
    p.add_argument("--context", type=int, default=8192)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--dtype", default="bf16", help="KV data type: bf16, fp16, fp8, int8, int4 or a format id")
    p.add_argument("--tp", type=int, default=1)
    p.add_argument("--pp", type=int, default=1)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("fit", parents=[common], help="which GPU configurations serve a model")
    p.add_argument("model")
    p.add_argument("--format", help="weight format id (default: the model's native format)")
    p.add_argument("--context", type=int, default=8192)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--kv-dtype", default="bf16")
    p.add_argument("--gpu", action="append", help="limit to these GPUs (repeatable)")
    p.add_argument("--price", action="append", default=[], metavar="GPU=USD_PER_HOUR")
    p.add_argument("--gpu-memory-utilization", type=float, default=0.9)
    p.add_argument("--all", action="store_true", help="also list configurations that do not fit")
    p.add_argument("--limit", type=int, default=25)
    p.add_argument("--json", action="store_true")

    for name, helptext in (("roofline", "latency and throughput from the roofline model"),
                           ("simulate", "simulate a batching policy on a workload")):
        p = sub.add_parser(name, parents=[common], help=helptext)
        p.add_argument("model")
        p.add_argument("gpu")
        p.add_argument("--format")
        p.add_argument("--kv-dtype", default="bf16")
        p.add_argument("--tp", type=int, default=1)
        p.add_argument("--mfu", type=float, default=Efficiency().mfu)
        p.add_argument("--mbu", type=float, default=Efficiency().mbu)
        p.add_argument("--input", type=int, default=1024, help="prompt tokens (mean, for simulate)")
        p.add_argument("--output", type=int, default=256, help="output tokens (mean, for simulate)")
        p.add_argument("--json", action="store_true")
        if name == "roofline":
            p.add_argument("--batch", type=int, nargs="+", default=[1, 8, 32, 64, 128, 256])
            p.add_argument("--price", type=float, help="USD per GPU-hour, for cost per million tokens")
        else:
            p.add_argument("--policy", choices=("static", "dynamic", "continuous"), default="continuous")
            p.add_argument("--requests", type=int, default=1000)
            p.add_argument("--rate", type=float, default=4.0, help="requests per second")
            p.add_argument("--arrivals", choices=("poisson", "bursty", "fixed"), default="poisson")
            p.add_argument("--trace", help="CSV or JSONL trace: arrival, input_tokens, output_tokens")
            p.add_argument("--seed", type=int, default=0)
            p.add_argument("--max-batch", type=int, default=256)
            p.add_argument("--max-batched-tokens", type=int, default=8192)
            p.add_argument("--no-chunked-prefill", action="store_true")
            p.add_argument("--batch-window", type=float, default=0.05)
            p.add_argument("--slo-ttft", type=float, help="seconds")
            p.add_argument("--slo-tpot", type=float, help="seconds")
