"""`inferbook predict`: the stable command for speed predictions (see `calc.predict`).

    inferbook predict (MODEL | --config PATH) GPU --gpus N [--tp T] [--pp P] [--ep E] [--attention-dp D]
        [--weights FORMAT]
        [--kv-dtype DTYPE] [--engine vllm|sglang|trtllm|llamacpp] --isl TOKENS --osl TOKENS
        ( --batch B | --concurrency C | --rate R | --offline | --rate max --slo-ttft S --slo-tpot S
          [--percentile 99] ) [--requests N] [--prefill-gpus N]
        [--speculative-tokens K --acceptance A [--draft-cost C]] [--image-tokens N | --image WxH ...] [--json]

Exit codes: 0 an answer; 1 the setup cannot run (the reasons are printed) or an id is
unknown; 2 a usage error."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from . import cli_args as opt
from .kb import KnowledgeBase

ENGINE_CHOICES = ("vllm", "sglang", "trtllm", "tensorrt-llm", "llamacpp", "llama-cpp")
PERCENTILE = opt.finite_float(0.0, 100.0, "percent", low_open=True)


def _rate(text: str) -> float | str:
    """``--rate``: requests per second, or ``max`` to search for the highest rate meeting the SLOs."""
    if text.strip().lower() == "max":
        return "max"
    return opt.RATE(text)


def add_predict_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("predict", parents=[common], help="predict latency and throughput of a deployment",
                       description="Predict TTFT, TPOT and throughput with the calibrated performance model; "
                                   "every answer says whether the setup can run, its cross-validated error band "
                                   "and its basis (measured, calibrated or estimated).")
    p.add_argument("model", nargs="?", help="model id or alias (omit with --config)")
    p.add_argument("--config", metavar="PATH",
                   help="a Hugging Face config.json describing the model instead of a KB entry (not added to the KB)")
    p.add_argument("gpu", nargs="?", help="GPU id or alias")
    p.add_argument("--gpus", type=opt.GPUS, default=1, help=opt.helptext("GPUs in all", opt.GPUS))
    p.add_argument("--tp", type=opt.GPUS, help="tensor-parallel size (default: --gpus / --pp, one replica)")
    p.add_argument("--pp", type=opt.GPUS, default=1, help=opt.helptext("pipeline stages", opt.GPUS))
    p.add_argument("--ep", type=opt.GPUS, default=1, help=opt.helptext("expert-parallel size", opt.GPUS))
    p.add_argument("--attention-dp", type=opt.GPUS, default=1, metavar="D",
                   help="attention data parallelism of a MoE model: the TP GPUs form D groups, each with its own "
                        "sequences and KV cache, the routed experts spread over all of TP (TensorRT-LLM's "
                        "enable_attention_dp, SGLang's --enable-dp-attention); D divides --tp (default: 1, none)")
    p.add_argument("--weights", help="weight format id (default: the model's released checkpoint)")
    p.add_argument("--kv-dtype", help="KV-cache data type (default: the engine's 'auto' rule)")
    p.add_argument("--engine", choices=ENGINE_CHOICES, default="vllm", help="engine profile (default: %(default)s)")
    p.add_argument("--isl", type=opt.SIM_INPUT, required=True, help="prompt tokens per request")
    p.add_argument("--osl", type=opt.SIM_OUTPUT, required=True, help="output tokens per request")
    load = p.add_mutually_exclusive_group(required=True)
    load.add_argument("--batch", type=opt.SEQUENCES, help="sequences in lockstep (llama-bench style when 1)")
    load.add_argument("--concurrency", type=opt.SEQUENCES, help="a closed loop of this many clients")
    load.add_argument("--rate", type=_rate, help="Poisson arrivals per second, or 'max' with --slo-ttft/--slo-tpot")
    load.add_argument("--offline", action="store_true", help="every request queued at once")
    p.add_argument("--slo-ttft", type=opt.SLO_SECONDS, help="TTFT objective in seconds (with --rate max)")
    p.add_argument("--slo-tpot", type=opt.SLO_SECONDS, help="TPOT objective in seconds (with --rate max)")
    p.add_argument("--percentile", type=PERCENTILE, default=99.0,
                   help="percentile the SLOs apply to (default: %(default)s)")
    p.add_argument("--requests", type=opt.REQUESTS,
                   help="requests to simulate (default: 1000; offline, enough for six full batches)")
    p.add_argument("--prefill-gpus", type=opt.GPUS,
                   help="disaggregate: this many of the GPUs prefill, the rest decode")
    p.add_argument("--speculative-tokens", type=opt.positive_int(16, "tokens"),
                   help="speculative decoding or MTP: tokens drafted per step (with --acceptance)")
    p.add_argument("--acceptance", type=opt.fraction(), help="share of drafted tokens accepted (0-1)")
    p.add_argument("--draft-cost", type=opt.finite_float(0.0, 1.0, "of a target decode step"), default=0.0,
                   help="time of one drafted token relative to a target decode step (default: 0, not counted)")
    images = p.add_mutually_exclusive_group()
    images.add_argument("--image-tokens", type=opt.SIM_INPUT,
                        help="image tokens each request carries, prefilled with the prompt")
    images.add_argument("--image", type=_image_size, action="append", metavar="WxH",
                        help="an image of W x H pixels in each request (repeatable); its tokens come from the "
                             "model's vision encoder")
    p.add_argument("--json", action="store_true", help="print JSON")


def _image_size(text: str) -> tuple[int, int]:
    """``WIDTHxHEIGHT`` in pixels, each from 1 to 100,000."""
    width, sep, height = text.lower().partition("x")
    side = opt.positive_int(100_000, "pixels")
    w, h = side.parse(width.strip()), side.parse(height.strip())
    if not sep or w is None or h is None:
        raise argparse.ArgumentTypeError(f"must be WIDTHxHEIGHT in pixels (each 1 to 100,000), got {text[:40]!r}")
    return int(w), int(h)


def _ms(stats: Any) -> str:
    return f"mean {stats.mean * 1e3:,.1f} ms, p50 {stats.p50 * 1e3:,.1f} ms, p99 {stats.p99 * 1e3:,.1f} ms"


def cmd_predict(kb: KnowledgeBase, args: argparse.Namespace) -> int:
    from .calc.predict import Disaggregation, Load, LoadMode, PredictError, predict
    from .calc.speculation import Speculation
    from .cli_calc import CalcError, fail, gpu_entry, model_or_config
    from .importer import ConfigError

    if args.config is not None and args.model is not None and args.gpu is None:
        args.model, args.gpu = None, args.model  # `predict --config PATH GPU`: the one positional is the GPU
    if args.gpu is None:
        raise CalcError("give a model and a GPU (or --config PATH and a GPU)")
    try:
        model, _ = model_or_config(kb, args)
    except ConfigError as exc:
        return fail(args, str(exc))
    gpu = gpu_entry(kb, args.gpu)
    mode: LoadMode = ("batch" if args.batch else "concurrency" if args.concurrency else "offline" if args.offline
                      else "max-rate" if args.rate == "max" else "rate")
    if mode != "max-rate" and (args.slo_ttft or args.slo_tpot):
        raise CalcError("--slo-ttft and --slo-tpot go with --rate max")
    image_tokens = args.image_tokens or 0
    if args.image:
        from .calc.vision import image_tokens as tokens_of
        vision = model.architecture.vision
        if vision is None:
            raise CalcError(f"{model.title} has no vision encoder in the knowledge base; give --image-tokens instead")
        image_tokens = sum(tokens_of(vision, w, h) for w, h in args.image)
    try:
        load = Load(args.isl, args.osl, mode, batch=args.batch, concurrency=args.concurrency,
                    rate=args.rate if isinstance(args.rate, float) else None, requests=args.requests,
                    slo_ttft_s=args.slo_ttft, slo_tpot_s=args.slo_tpot, percentile=args.percentile,
                    image_tokens=image_tokens)
        dis = Disaggregation(args.prefill_gpus) if args.prefill_gpus else None
        if (args.speculative_tokens is None) != (args.acceptance is None):
            raise CalcError("--speculative-tokens and --acceptance go together")
        spec = (Speculation(args.speculative_tokens, args.acceptance, args.draft_cost)
                if args.speculative_tokens else None)
        result = predict(kb, model, gpu.id, load, gpus=args.gpus, tp=args.tp, pp=args.pp, ep=args.ep,
                         weights=args.weights, kv_dtype=args.kv_dtype, engine=args.engine, disaggregation=dis,
                         speculation=spec, attention_dp=args.attention_dp)
    except PredictError as exc:
        raise CalcError(str(exc)) from None
    if args.json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
        return 0 if result.feasible else 1
    what = f"{model.title} ({result.setup['weights']}) on {args.gpus} x {gpu.title}, {result.setup['engine']}"
    if not result.feasible:
        print(f"inferbook predict: {what} cannot run:", file=sys.stderr)
        for reason in result.reasons:
            print(f"  - {reason}", file=sys.stderr)
        return 1
    setup = result.setup
    dp = setup["attention_dp"]
    if "prefill_gpus" in setup:  # disaggregated: two pools
        layout = (f"{setup['prefill_gpus']} prefill GPU(s) in replicas of TP {setup['prefill_tp']}, "
                  f"{setup['decode_gpus']} decode GPU(s) in replicas of TP {setup['tp']} x PP {setup['pp']}")
    else:
        layout = (f"TP {setup['tp']} x PP {setup['pp']}" + (f" with attention DP {dp}" if dp > 1 else "")
                  + f", {setup.get('replicas', 1)} replica(s)")
    lines = [what, f"  layout: {layout}; {setup['engine_profile']}"]
    if result.rate is not None:
        lines.append(f"  highest rate meeting the SLOs: {result.rate:,.2f} requests/s")
    assert result.ttft_s is not None and result.tpot_s is not None
    lines += [f"  TTFT: {_ms(result.ttft_s)}", f"  TPOT: {_ms(result.tpot_s)}",
              f"  throughput: {result.output_tokens_per_s:,.0f} output tokens/s, "
              f"{result.input_tokens_per_s:,.0f} input tokens/s, {result.requests_per_s:,.2f} requests/s",
              f"  KV cache: {result.kv_cache_tokens:,} tokens per "
              + ("decode replica" if "prefill_gpus" in setup else "replica")]
    if result.error_band is not None:
        lines.append(f"  error band: {result.error_band.text()}")
    lines.append(f"  basis: {result.basis} ({result.basis_detail})")
    for m in result.measured:
        lines.append(f"  measured: {m['metric']} = {m['value']:,g} ({m['url']})")
    for reason in result.reasons:
        lines.append(f"  warning: {reason}")
    for note in result.notes:
        lines.append(f"  note: {note}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
