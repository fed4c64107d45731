"""Commands that run a planned configuration and check its prediction.

For a `plan.Candidate` this writes the server command of vLLM, SGLang and TensorRT-LLM (those
that run on its GPU), one per machine, with the split, KV dtype, batch limits, chunked prefill
and memory fraction the prediction assumed (`engines.engine_defaults`); a `vllm bench serve`
and a `guidellm` command with the workload's lengths and rate and the latency targets; and a
deployment block (plain data, printed as YAML or JSON) to paste into a deployment.

Attention data parallelism over a TP group of T GPUs is vLLM's ``--tensor-parallel-size T/D
--data-parallel-size D`` (the expert layers then span all T GPUs, as tensor or, with
``--enable-expert-parallel``, expert parallelism), SGLang's ``--tp T --dp D --enable-dp-attention``
and TensorRT-LLM's ``enable_attention_dp: true`` in its extra options. vLLM's and TensorRT-LLM's batch
and token limits apply to each attention group; SGLang's ``--max-running-requests`` and
``--chunked-prefill-size`` are the server's, divided among the groups (its server_args.py and
scheduler), so they are given D times the engine's default. Such a group is one server, so a machine
holding several of them runs one copy per group.

Flag names follow each engine's documented command line: vLLM's `vllm serve` engine
arguments, SGLang's server arguments page, and `trtllm-serve`'s options."""

from __future__ import annotations

import shlex
from typing import Any

import yaml

from ..kb import KnowledgeBase
from .engines import engine_defaults
from .plan import Candidate, Targets, Workload
from .predict import engine_unsupported

LAUNCH_ENGINES = ("vllm", "sglang", "tensorrt-llm")
PORT = 8000


def _kv_flag(engine: str, kv_dtype: str) -> list[str]:
    if kv_dtype == "auto":
        return []
    if not kv_dtype.startswith("fp8"):
        return []
    return {"vllm": ["--kv-cache-dtype", "fp8"], "sglang": ["--kv-cache-dtype", "fp8_e4m3"]}.get(engine, [])


def _replicas_per_machine(c: Candidate) -> list[int]:
    """Replicas each rented machine holds, in machine order (fill the large ones first)."""
    left = c.replicas
    per = []
    for size in c.machines.sizes:
        here = min(size // c.shape.group, left)
        per.append(here)
        left -= here
    return per


def server_commands(c: Candidate, engine: str, workload: Workload) -> list[str]:
    """One server command per machine for ``engine`` (colocated serving)."""
    s = c.shape
    d = engine_defaults(engine, s.gpu, s.tp, s.pp)
    context = workload.isl + workload.osl
    commands = []
    adp = s.attention_dp
    for dp in _replicas_per_machine(c):
        if dp == 0:
            continue
        if engine == "vllm":
            args = ["vllm", "serve", s.checkpoint, "--tensor-parallel-size", str(s.tp // adp)]
            args += ["--pipeline-parallel-size", str(s.pp)] if s.pp > 1 else []
            args += ["--data-parallel-size", str(adp if adp > 1 else dp)] if dp > 1 or adp > 1 else []
            args += ["--enable-expert-parallel"] if s.ep > 1 else []
            args += _kv_flag(engine, s.kv_dtype)
            args += ["--max-num-seqs", str(d.max_num_seqs), "--max-num-batched-tokens", str(d.max_num_batched_tokens),
                     "--gpu-memory-utilization", f"{d.memory_fraction:g}", "--max-model-len", str(context),
                     "--port", str(PORT)]
            args += ["--enable-chunked-prefill"] if d.chunked_prefill else []
        elif engine == "sglang":
            args = ["python", "-m", "sglang.launch_server", "--model-path", s.checkpoint, "--tp", str(s.tp)]
            args += ["--pp-size", str(s.pp)] if s.pp > 1 else []
            args += ["--dp", str(adp), "--enable-dp-attention"] if adp > 1 else ["--dp", str(dp)] if dp > 1 else []
            args += ["--ep-size", str(s.ep)] if s.ep > 1 else []
            args += _kv_flag(engine, s.kv_dtype)
            # with attention DP both limits are the server's, which SGLang divides among the groups
            args += ["--mem-fraction-static", f"{d.memory_fraction:g}", "--max-running-requests",
                     str(d.max_num_seqs * adp), "--chunked-prefill-size", str(d.max_num_batched_tokens * adp),
                     "--context-length", str(context), "--host", "0.0.0.0", "--port", str(PORT)]
        else:
            args = ["trtllm-serve", s.checkpoint, "--backend", "pytorch", "--tp_size", str(s.tp)]
            args += ["--pp_size", str(s.pp)] if s.pp > 1 else []
            args += ["--ep_size", str(s.ep)] if s.ep > 1 else []
            args += ["--max_batch_size", str(d.max_num_seqs), "--max_num_tokens", str(d.max_num_batched_tokens),
                     "--max_seq_len", str(context), "--kv_cache_free_gpu_memory_fraction", f"{d.memory_fraction:g}",
                     "--host", "0.0.0.0", "--port", str(PORT)]
            if trtllm_extra_options(c) is not None:
                args += ["--extra_llm_api_options", "extra.yaml"]
        command = shlex.join(args)
        if dp > 1 and (engine == "tensorrt-llm" or adp > 1):  # one server per group
            command = f"# run {dp} copies, one per group of {s.group} GPUs (CUDA_VISIBLE_DEVICES), on ports " \
                      f"{PORT}-{PORT + dp - 1}, behind a load balancer\n" + command
        commands.append(command)
    return commands


def trtllm_extra_options(c: Candidate) -> str | None:
    """The `extra.yaml` TensorRT-LLM reads for the KV dtype, chunked prefill and attention data
    parallelism, or None when not needed."""
    d = engine_defaults("tensorrt-llm", c.shape.gpu, c.shape.tp, c.shape.pp)
    lines = []
    if d.chunked_prefill:
        lines.append("enable_chunked_prefill: true")
    if c.shape.attention_dp > 1:
        lines.append("enable_attention_dp: true")
    if c.shape.kv_dtype.startswith("fp8"):
        lines += ["kv_cache_config:", "  dtype: fp8"]
    return "\n".join(lines) + "\n" if lines else None


def disaggregated_note(c: Candidate) -> str | None:
    """How to run the prefill and decode pools, when the candidate is disaggregated."""
    if c.disaggregation is None:
        return None
    prefill = c.disaggregation.prefill_gpus
    return (f"prefill pool: {prefill} GPU(s) in groups of TP {c.disaggregation.prefill_tp}; decode pool: "
            f"{c.gpus - prefill} GPU(s) in groups of TP {c.shape.tp}. vLLM: start each pool's servers with "
            "--kv-transfer-config '{\"kv_connector\":\"NixlConnector\",\"kv_role\":\"kv_both\"}' behind a "
            "prefill-then-decode proxy; SGLang: --disaggregation-mode prefill / decode with "
            "--disaggregation-transfer-backend nixl and the sglang_router in --pd-disaggregation mode; "
            "TensorRT-LLM: trtllm-serve disaggregated with a context and a generation server list")


def bench_commands(c: Candidate, workload: Workload, targets: Targets) -> list[str]:
    """Load generators that check the prediction: the workload's lengths, rate (or users) and targets."""
    url = f"http://localhost:{PORT}"
    prompts = max(200, min(2000, round(c.rate * 300)))
    vllm = ["vllm", "bench", "serve", "--backend", "openai", "--base-url", url, "--endpoint", "/v1/completions",
            "--model", c.shape.checkpoint, "--dataset-name", "random", "--random-input-len", str(workload.isl),
            "--random-output-len", str(workload.osl), "--ignore-eos", "--num-prompts", str(prompts)]
    if workload.users is not None and workload.think_time_s == 0:
        vllm += ["--max-concurrency", str(workload.users)]
    else:
        vllm += ["--request-rate", f"{c.rate:.4g}"]
    q = f"{targets.percentile:g}"
    vllm += ["--percentile-metrics", "ttft,tpot,e2el", "--metric-percentiles", f"50,{q},99" if q not in ("50", "99")
             else "50,95,99", "--goodput", f"ttft:{targets.ttft_s * 1000:g}", f"tpot:{targets.tpot_s * 1000:g}"]
    guidellm = ["guidellm", "benchmark", "--target", url, "--data",
                f"prompt_tokens={workload.isl},output_tokens={workload.osl}", "--max-requests", str(prompts)]
    if workload.users is not None and workload.think_time_s == 0:
        guidellm += ["--rate-type", "concurrent", "--rate", str(workload.users)]
    else:
        guidellm += ["--rate-type", "poisson", "--rate", f"{c.rate:.4g}"]
    return [shlex.join(vllm), shlex.join(guidellm)]


def deployment(kb: KnowledgeBase, c: Candidate, workload: Workload, targets: Targets) -> dict[str, Any]:
    """The plan as plain data: what to rent, what to run, what to expect and how sure it is."""
    s = c.shape
    row = c.to_json(workload, targets)
    engines = [s.engine] + [e for e in LAUNCH_ENGINES if e != s.engine]
    launch = {}
    for engine in engines:
        if engine in LAUNCH_ENGINES and engine_unsupported(kb, engine, s.gpu) is None:
            launch[engine] = server_commands(c, engine, workload)
    block: dict[str, Any] = {
        "model": s.model.id, "checkpoint": s.checkpoint, "weights": s.weights.id,
        "hardware": {"offer": c.machines.offer.id, "provider": c.machines.offer.provider,
                     "instance": c.machines.offer.instance, "region": c.machines.offer.region,
                     "machines": list(c.machines.sizes), "gpu": s.gpu.id, "gpus": c.gpus},
        "parallelism": {"tp": s.tp, "pp": s.pp, "ep": s.ep, "attention_dp": s.attention_dp, "replicas": c.replicas},
        "kv_cache_dtype": s.kv_dtype, "engine": s.engine,
        "workload": {"isl": workload.isl, "osl": workload.osl, "rate_rps": c.rate},
        "expected": {k: row[k] for k in ("ttft_s", "tpot_s", "goodput_rps", "usd_per_hour", "usd_per_million_input",
                                         "usd_per_million_output", "error_band", "basis")},
        "launch": launch,
        "benchmark": bench_commands(c, workload, targets),
    }
    extra = trtllm_extra_options(c)
    if extra and "tensorrt-llm" in launch:
        block["tensorrt_llm_extra_yaml"] = extra
    note = disaggregated_note(c)
    if note:
        block["disaggregation"] = note
    return block


def to_yaml(data: Any) -> str:
    """Plain data as block YAML (PyYAML's safe dumper: ambiguous strings are quoted, so a YAML 1.2
    reader reads the same values back), keys in the order given."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000, default_flow_style=False).rstrip()
