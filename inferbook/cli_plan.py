"""`inferbook plan`: the cheapest configurations that meet latency targets (see `calc.plan`).

    inferbook plan MODEL [MODEL...] (--isl N --osl N (--rate R [--lengths uniform|lognormal]
        | --users N [--think-time S]) | --trace FILE)
        --slo-ttft S --slo-tpot S [--percentile 95] [--gpus GPU...] [--max-gpus N]
        [--engine vllm ...] [--weights FORMAT ...] [--kv-dtype auto|fp8-e4m3 ...]
        [--pricing on_demand|reserved|spot] [--no-disagg] [--kb private-prices] [--json | --yaml]

Prints the Pareto frontier of hourly cost against latency, each row with its error band and
basis; then, for the cheapest, the commands to launch it and to benchmark it, and the
deployment block. Exit codes: 0 a plan; 1 nothing meets the targets (the reasons are printed)
or an id is unknown; 2 a usage error."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from . import cli_args as opt
from .calc.pricing import PRICINGS
from .kb import KnowledgeBase

ENGINE_CHOICES = ("vllm", "sglang", "trtllm", "tensorrt-llm")
PERCENTILE = opt.finite_float(0.0, 100.0, "percent", low_open=True)
THINK_SECONDS = opt.finite_float(0.0, opt.MAX_SECONDS, "seconds")
USERS = opt.positive_int(10_000_000, "users")
SHOWN_REJECTIONS = 12


def add_plan_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("plan", parents=[common], help="the cheapest configurations that meet latency targets",
                       description="Search GPU offers, GPU counts, TP/PP/EP splits, attention data parallelism, "
                                   "weight formats, KV dtypes, replicas and disaggregation for the configurations "
                                   "that serve the workload "
                                   "within the targets; print the Pareto frontier of cost against latency with "
                                   "error bands, and the commands to launch and benchmark the cheapest.")
    p.add_argument("models", nargs="+", metavar="MODEL", help="model ids or aliases (several are compared)")
    p.add_argument("--isl", type=opt.SIM_INPUT, help="prompt tokens per request (mean with --lengths)")
    p.add_argument("--osl", type=opt.SIM_OUTPUT, help="output tokens per request (mean with --lengths)")
    load = p.add_mutually_exclusive_group()
    load.add_argument("--rate", type=opt.RATE, help="Poisson arrivals, requests per second")
    load.add_argument("--users", type=USERS, help="users, each sending a request --think-time after the last ended")
    p.add_argument("--trace", metavar="FILE",
                   help="a request trace (CSV or JSONL: arrival, input_tokens, output_tokens): its first 2,000 "
                        "requests are the workload, instead of --isl/--osl/--rate")
    p.add_argument("--lengths", choices=("fixed", "uniform", "lognormal"), default="fixed",
                   help="with --rate: prompt and output lengths exactly --isl/--osl, uniform up to twice them, or "
                        "lognormal around them (default: %(default)s)")
    p.add_argument("--length-sigma", type=opt.finite_float(0.0, 3.0, "", low_open=True), default=0.5,
                   help="spread of --lengths lognormal (default: %(default)s)")
    p.add_argument("--think-time", type=THINK_SECONDS, default=0.0,
                   help="seconds a user waits between requests (with --users; default: %(default)s)")
    p.add_argument("--slo-ttft", type=opt.SLO_SECONDS, required=True, help="TTFT target in seconds")
    p.add_argument("--slo-tpot", type=opt.SLO_SECONDS, required=True, help="TPOT target in seconds")
    p.add_argument("--percentile", type=PERCENTILE, default=95.0,
                   help="percentile the targets apply to: 50, 90, 95 or 99 (default: %(default)s)")
    p.add_argument("--gpus", nargs="+", metavar="GPU", default=[],
                   help="GPU ids or aliases to consider (default: every GPU with an offer)")
    p.add_argument("--max-gpus", type=opt.GPUS, default=16, help="most GPUs in one deployment (default: 16)")
    p.add_argument("--engine", nargs="+", choices=ENGINE_CHOICES, default=["vllm"],
                   help="engine profiles to consider (default: vllm)")
    p.add_argument("--weights", nargs="+", metavar="FORMAT", default=[],
                   help="weight formats to allow (default: the native checkpoint and its published quantisations)")
    p.add_argument("--kv-dtype", nargs="+", default=["auto", "fp8-e4m3"], metavar="DTYPE",
                   help="KV-cache choices: auto (the engine's rule) and format ids (default: auto fp8-e4m3)")
    p.add_argument("--pricing", choices=PRICINGS, default="on_demand",
                   help="which published price to rank by (default: %(default)s)")
    p.add_argument("--no-disagg", action="store_true", help="do not try prefill-decode disaggregation")
    p.add_argument("--show-rejected", action="store_true", help="print every rejected configuration and why")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the plan as JSON")
    out.add_argument("--yaml", action="store_true", help="print only the cheapest configuration's deployment block")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1e3:,.0f}"


def _band(row: dict) -> str:
    band = row.get("error_band") or {}
    thr = band.get("throughput")
    return f"±{thr['median_abs_error']:.0%}" if thr else "n/a"


def _workload(args: argparse.Namespace):  # -> calc.plan.Workload
    """The workload the options describe: a trace, drawn lengths, or fixed lengths at a rate or for users."""
    from pathlib import Path

    from .calc.plan import PlanError, Workload
    from .calc.simulator import TraceError, load_trace

    if args.trace is not None:
        if any(v is not None for v in (args.isl, args.osl, args.rate, args.users)) or args.lengths != "fixed":
            raise PlanError("--trace replaces --isl, --osl, --rate, --users and --lengths")
        try:
            return Workload.from_trace(load_trace(Path(args.trace)))
        except (TraceError, OSError) as exc:
            raise PlanError(str(exc)) from None
    if args.isl is None or args.osl is None or (args.rate is None and args.users is None):
        raise PlanError("give --isl, --osl and --rate or --users (or --trace FILE)")
    if args.lengths != "fixed":
        if args.rate is None:
            raise PlanError("--lengths goes with --rate")
        return Workload.drawn(args.isl, args.osl, args.rate, args.lengths, args.length_sigma)
    return Workload(args.isl, args.osl, rate=args.rate, users=args.users, think_time_s=args.think_time)


PLAN_CLI_CODE = (("calc", "schema"), ("cli_plan.py", "cli_args.py", "kb.py", "version.py"))
"""What computes and prints a plan: the calc package (code, calibration, engine profiles and
measurements), the schemas and these modules. Part of a stored answer's key."""
PLAN_CLI_MAX_BYTES = 4_000_000
"""Largest stored answer read back (a --json frontier with its launch commands is far smaller)."""
_ARGS_LEFT_OUT = ("func", "kb", "no_builtin", "command")
"""Parsed options that do not change the answer itself (the knowledge base they load is in the key)."""


def _answer_key(kb: KnowledgeBase, args: argparse.Namespace, today: dt.date) -> str | None:
    """The result-cache key of a plan question: the code that answers it, every entry it reads (the
    asked models, the GPUs, formats, frameworks and offers, and each model's native format and
    kind, which the basis of an answer looks up), the date prices are judged on and every option.
    None with --trace (the file is not in the key) or when the code cannot be read."""
    from . import result_cache
    from .calc.bands import index_inputs

    code = result_cache.package_code_digest(*PLAN_CLI_CODE)
    if code is None or args.trace is not None:
        return None
    entries = result_cache.entries_digest([
        *((f"models/{m}", kb.models.get(kb.resolve(m) or m)) for m in args.models),
        *((f"{kind}/{eid}", entry) for kind in ("gpus", "formats", "frameworks", "offers")
          for eid, entry in sorted(kb.kind(kind).items()))])
    options = {k: v for k, v in sorted(vars(args).items()) if k not in _ARGS_LEFT_OUT and not callable(v)}
    return result_cache.digest("plan-cli", code, entries, json.dumps(index_inputs(kb)), today.isoformat(),
                               json.dumps(options, default=str))


def _is_answer(value: object) -> bool:
    """Whether ``value`` (read back from disk) is an answer as `cmd_plan` stores it."""
    return (isinstance(value, dict) and set(value) == {"code", "out", "err"} and type(value["code"]) is int
            and isinstance(value["out"], str) and isinstance(value["err"], str))


def cmd_plan(kb: KnowledgeBase, args: argparse.Namespace) -> int:
    """Answer a plan question; a question asked before with the same entries, options, code and
    date is answered from the result cache (a search takes about half a second to a few seconds)."""
    import contextlib
    import io

    from . import result_cache

    today = dt.date.today()
    key = _answer_key(kb, args, today)
    found = result_cache.read("plan-cli", key, _is_answer, PLAN_CLI_MAX_BYTES) if key is not None else None
    if found is not None:
        sys.stdout.write(found["out"])
        sys.stderr.write(found["err"])
        return int(found["code"])
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = _answer(kb, args, today)
    sys.stdout.write(out.getvalue())
    sys.stderr.write(err.getvalue())
    if key is not None:
        result_cache.write("plan-cli", key, {"code": code, "out": out.getvalue(), "err": err.getvalue()},
                           PLAN_CLI_MAX_BYTES)
    return code


def _answer(kb: KnowledgeBase, args: argparse.Namespace, today: dt.date) -> int:
    from .calc.launch import deployment, to_yaml
    from .calc.plan import Candidate, PlanError, Space, Targets, plan
    from .cli_calc import CalcError

    try:
        workload = _workload(args)
        targets = Targets(args.slo_ttft, args.slo_tpot, args.percentile)
        space = Space(gpus=tuple(args.gpus), max_gpus=args.max_gpus, engines=tuple(args.engine),
                      weights=tuple(args.weights), kv_dtypes=tuple(args.kv_dtype), pricing=args.pricing,
                      disaggregation=not args.no_disagg)
        if args.users is None and args.think_time:
            raise PlanError("--think-time goes with --users")
        models = [kb.resolve(m) or m for m in args.models]
        result = plan(kb, models, workload, targets, space, today=today)
    except PlanError as exc:
        raise CalcError(str(exc)) from None
    best: Candidate | None = result.best
    if args.json:
        data = result.to_json()
        if best is not None:
            data["deployment"] = deployment(kb, best, workload, targets)
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return 0 if best is not None else 1
    if best is None:
        print("inferbook plan: no configuration meets the targets", file=sys.stderr)
        for r in result.rejected[:SHOWN_REJECTIONS] if not args.show_rejected else result.rejected:
            print(f"  - {r.what}: {r.reason}", file=sys.stderr)
        if len(result.rejected) > SHOWN_REJECTIONS and not args.show_rejected:
            print(f"  ... {len(result.rejected) - SHOWN_REJECTIONS} more (--show-rejected)", file=sys.stderr)
        return 1
    if args.yaml:
        sys.stdout.write(to_yaml(deployment(kb, best, workload, targets)) + "\n")
        return 0
    q = f"p{targets.percentile:g}"
    load = f"{workload.rate:g} requests/s" if workload.rate is not None else \
        f"{workload.users} users, {workload.think_time_s:g} s think time"
    lines = [f"plan: {', '.join(models)}, {workload.isl} in / {workload.osl} out tokens, {load}; targets {q} TTFT "
             f"{targets.ttft_s * 1e3:g} ms, {q} TPOT {targets.tpot_s * 1e3:g} ms; {args.pricing.replace('_', '-')} "
             f"prices",
             f"{result.shapes:,} configurations screened, {len(result.simulated)} simulated, "
             f"{len(result.frontier)} on the cost-latency frontier (cheapest first):", ""]
    header = (f"{'USD/h':>8} {'$/M in':>7} {'$/M out':>8} {q + ' TTFT':>9} {q + ' TPOT':>9} {'band':>5} "
              f"{'basis':>10}  configuration")
    lines.append(header)
    for c in result.frontier:
        row = c.to_json(workload, targets)
        lines.append(f"{c.usd_per_hour:8.2f} {row['usd_per_million_input']:7.3f} {row['usd_per_million_output']:8.3f} "
                     f"{_ms(c.ttft_s(targets.percentile)):>6} ms {_ms(c.tpot_s(targets.percentile)):>6} ms "
                     f"{_band(row):>5} {c.basis:>10}  {c.describe()}" + ("  [stale price]" if c.stale_price else ""))
    lines += ["", "costs per million tokens split the hourly cost by the share of step time prefill takes; "
                  "'band' is the cross-validated median throughput error of the nearest held-out group"]
    if result.stale_offers:
        lines.append(f"stale prices (checked more than six months ago): {', '.join(result.stale_offers)}")
    if result.unpriced:
        lines.append(f"GPUs without an offer (not searched): {', '.join(result.unpriced)}")
    block = deployment(kb, best, workload, targets)
    lines += ["", f"cheapest: {best.describe()}", f"  {best.machines.offer.provider} {best.machines.offer.instance}, "
              f"{best.machines.offer.region}, price checked {best.machines.offer.checked.isoformat()}"]
    for engine, commands in block["launch"].items():
        lines.append(f"  launch with {engine}:")
        lines += [f"    {cmd}" for command in commands for cmd in command.splitlines()]
    if "tensorrt_llm_extra_yaml" in block:
        lines.append("  TensorRT-LLM extra.yaml: " + block["tensorrt_llm_extra_yaml"].strip().replace("\n", "; "))
    if "disaggregation" in block:
        lines.append(f"  disaggregated: {block['disaggregation']}")
    lines.append("  verify the prediction:")
    lines += [f"    {cmd}" for cmd in block["benchmark"]]
    lines.append("  deployment block: inferbook plan ... --yaml")
    if args.show_rejected:
        lines += ["", "rejected:"] + [f"  - {r.what}: {r.reason}" for r in result.rejected]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
