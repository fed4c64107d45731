"""Infeasible and borderline setups, each rule on both sides of its boundary. Shared by
tests/test_feasibility.py (Python API and CLI) and tests/test_js_parity.py (the site's
JS port), so all three answer the same cases the same way.

A case names real KB entries. ``domain`` overrides the GPU's scale-up domain, so the
interconnect cases hold whatever the GPU entries record. Boundaries that depend on a
computed figure (the KV-cache batch limit) are found at run time by `kv_limit`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from inferbook.calc.feasibility import Feasibility, Setup, check_setup
from inferbook.kb import KnowledgeBase


@dataclass(frozen=True)
class Case:
    """One setup and what the feasibility check must say about it."""

    name: str
    model: str
    gpu: str
    weights: str | None = None
    """Format id; None for the model's released checkpoint."""
    kv: str | None = None
    tp: int = 1
    pp: int = 1
    ep: int = 1
    attention_dp: int = 1
    gpus: int | None = None
    context: int = 4096
    sequences: int = 1
    mode: str = "batch"
    domain: int | None = None
    feasible: bool = True
    failing: tuple[str, ...] = ()
    """Rules that must fail (check names), exactly."""
    warning: tuple[str, ...] = ()
    """Rules that must warn."""
    phrase: str = ""
    """Text one reason (or warning) must contain."""
    cli: tuple[str, ...] = field(default=())
    """`inferbook` arguments that describe the same setup, when the CLI can."""


def setup(kb: KnowledgeBase, case: Case, sequences: int | None = None) -> Setup:
    """The `Setup` a case describes (``sequences`` overrides the case's)."""
    model = kb.models[case.model]
    gpu = kb.gpus[case.gpu]
    if case.domain is not None:
        gpu = gpu.model_copy(update={"interconnect": gpu.interconnect.model_copy(update={"domain_gpus": case.domain})})
    weights = kb.formats[case.weights or model.native_dtype]
    groups = None
    if case.weights is None:
        from inferbook.calc.weights import native_groups
        groups = native_groups(model, dict(kb.formats)) or None
    kv = kb.formats[case.kv] if case.kv else None
    return Setup(model, gpu, weights, kv=kv, kv_bits=float(kv.bits_per_value) if kv else 16.0, tp=case.tp, pp=case.pp,
                 ep=case.ep, gpus=case.gpus, context=case.context,
                 sequences=case.sequences if sequences is None else sequences, mode=case.mode,  # type: ignore[arg-type]
                 groups=groups, attention_dp=case.attention_dp)


def kv_limit(kb: KnowledgeBase, case: Case) -> int:
    """Whole sequences of the case's context that fit in its KV cache."""
    result = check_setup(setup(kb, case, sequences=1))
    assert result.max_sequences is not None and math.isfinite(result.max_sequences)
    return math.floor(result.max_sequences)


L8, L70, MIX, QNEXT, DSV3, GPTOSS, Q32 = ("llama-3.1-8b-instruct", "llama-3.1-70b-instruct", "mixtral-8x7b-instruct",
                                          "qwen3-next-80b-a3b-thinking", "deepseek-v3", "gpt-oss-20b", "qwen3-32b")
H100 = "h100-sxm"

CASES: list[Case] = [
    # context: the model's maximum, and one token more
    Case("context at the maximum", L8, H100, context=131072),
    Case("context one past the maximum", L8, H100, context=131073, feasible=False, failing=("context",),
         phrase="a context of 131,073 tokens is more than Llama 3.1 8B Instruct's maximum of 131,072",
         cli=("roofline", L8, H100, "--input", "131000", "--output", "73", "--batch", "1")),
    Case("a million-token prompt on Llama 3.1 8B", L8, H100, context=1_000_000, feasible=False, failing=("context",),
         phrase="maximum of 131,072", cli=("kv", L8, "--context", "1000000")),
    Case("Qwen3-32B at its 40,960 tokens", Q32, H100, tp=2, domain=8, context=40960),
    Case("Qwen3-32B one past", Q32, H100, tp=2, domain=8, context=40961, feasible=False, failing=("context",)),
    # memory: weights and overheads against the budget
    Case("Llama 3.1 70B on four H100s", L70, H100, tp=4, domain=8,
         cli=("roofline", L70, H100, "--tp", "4", "--batch", "1")),
    Case("Llama 3.1 70B on one H100", L70, H100, feasible=False, failing=("memory",),
         phrase="needs 131.4 GiB of weights", cli=("roofline", L70, H100, "--batch", "1")),
    Case("DeepSeek-V3 on one H100", DSV3, H100, feasible=False, failing=("memory",),
         phrase="needs 626.7 GiB of weights", cli=("roofline", DSV3, H100, "--batch", "1")),
    Case("Llama 3.1 8B on an RTX 4090", L8, "rtx-4090", context=8192,
         cli=("roofline", L8, "rtx-4090", "--batch", "1")),
    Case("Llama 3.1 8B in bf16 on a 12 GB RTX 3060", L8, "rtx-3060-12gb", feasible=False, failing=("memory",),
         phrase="needs 15.0 GiB of weights", cli=("roofline", L8, "rtx-3060-12gb", "--batch", "1")),
    Case("Llama 3.1 8B in AWQ on a 12 GB RTX 3060", L8, "rtx-3060-12gb", weights="awq-int4", context=2048,
         warning=("formats",), phrase="converted to 16-bit"),
    Case("Llama 3.1 70B on a T4", L70, "t4", feasible=False, failing=("memory",)),
    # KV capacity: a batch at the limit and one past it (the limit is worked out at run time)
    Case("Qwen3-32B batch at the KV limit", Q32, H100, context=1280, sequences=-1),
    Case("Qwen3-32B batch one past the KV limit", Q32, H100, context=1280, sequences=-2, feasible=False,
         failing=("kv-capacity",), phrase="queue or preempt the rest"),
    Case("Qwen3-32B batch 64", Q32, H100, context=1280, sequences=64, feasible=False, failing=("kv-capacity",),
         phrase="only 14 ", cli=("roofline", Q32, H100, "--batch", "64")),
    Case("Qwen3-32B concurrency one past the KV limit queues", Q32, H100, context=1280, sequences=-2,
         mode="concurrency", warning=("kv-capacity",), phrase="wait in the queue"),
    Case("Llama 3.1 8B batch at the KV limit, 32k", L8, "l40s", context=32768, sequences=-1),
    Case("Llama 3.1 8B batch past the KV limit, 32k", L8, "l40s", context=32768, sequences=-2, feasible=False,
         failing=("kv-capacity",)),
    # formats: native, converted with its cost, 16-bit cast
    Case("FP8 on an H100 is native", L8, H100, weights="fp8-e4m3"),
    Case("FP8 KV cache on an H100 is native", L8, H100, kv="fp8-e4m3"),
    Case("NVFP4 on a B200 is native", L8, "b200", weights="nvfp4"),
    Case("bf16 on a T4 is cast to fp16", "llama-3.2-3b-instruct", "t4", weights="bf16"),
    Case("AWQ on an RTX 4090 is converted", L8, "rtx-4090", weights="awq-int4", warning=("formats",),
         phrase="compute at the 16-bit rate"),
    Case("GGUF on Apple M3 Ultra", L70, "apple-m3-ultra", weights="gguf-q4-k-m", warning=("formats",)),
    Case("NVFP4 on an M3 Ultra is unsupported", L8, "apple-m3-ultra", weights="nvfp4", feasible=False,
         failing=("formats",), phrase="NVFP4 weights do not run on Apple M3 Ultra"),
    # parallelism: each split on both sides
    Case("TP 8 divides 64 heads", L70, H100, tp=8, domain=8),
    Case("TP 3 divides neither heads nor KV heads", L70, H100, tp=3, domain=8, feasible=False,
         failing=("parallelism",), phrase="tensor parallelism 3 does not divide the 64 attention heads",
         cli=("roofline", L70, H100, "--tp", "3")),
    Case("TP 16 replicates 8 KV heads", L70, H100, tp=16, domain=16),
    Case("TP 6 splits neither", L70, H100, tp=6, domain=8, feasible=False, failing=("parallelism",)),
    Case("PP equal to the layers", L8, H100, pp=32),
    Case("PP past the layers", L8, H100, pp=33, feasible=False, failing=("parallelism",),
         phrase="pipeline parallelism 33 is more than the 32 layers"),
    Case("EP 8 over Mixtral's 8 experts", MIX, H100, tp=8, ep=8, gpus=8, domain=8),
    Case("EP 3 over 8 experts", MIX, H100, tp=1, ep=3, gpus=3, feasible=False, failing=("parallelism",),
         phrase="expert parallelism 3 does not divide the 8 routed experts"),
    Case("EP on a dense model", L8, H100, ep=2, gpus=2, feasible=False, failing=("parallelism",),
         phrase="needs a mixture-of-experts model"),
    Case("Mixtral attention DP 4 in TP 4", MIX, H100, tp=4, attention_dp=4, domain=8),
    Case("Mixtral attention DP 3 in TP 4", MIX, H100, tp=4, attention_dp=3, domain=8, feasible=False,
         failing=("parallelism",), phrase="attention data parallelism 3 does not divide tensor parallelism 4"),
    Case("attention DP on a dense model", L8, H100, tp=2, attention_dp=2, domain=8, feasible=False,
         failing=("parallelism",), phrase="is for mixture-of-experts models"),
    Case("Mixtral TP 8 replicates 8 KV heads, attention DP 8 does not need to", MIX, H100, tp=8, attention_dp=8,
         domain=8),
    Case("Qwen3-Next TP 32 with attention DP 2 splits 16 key heads per group", QNEXT, H100, tp=32, attention_dp=2,
         domain=32),
    Case("DeepSeek-V3 attention DP 8 on 8 H200s at the KV limit", DSV3, "h200-sxm", tp=8, attention_dp=8, domain=8,
         context=65536, sequences=-1),
    Case("DeepSeek-V3 attention DP 8 on 8 H200s past the KV limit", DSV3, "h200-sxm", tp=8, attention_dp=8, domain=8,
         context=65536, sequences=-2, feasible=False, failing=("kv-capacity",), phrase="queue or preempt the rest"),
    Case("8 GPUs in groups of TP 4", L8, H100, tp=4, gpus=8, domain=8),
    Case("6 GPUs in groups of TP 4", L8, H100, tp=4, gpus=6, domain=8, feasible=False, failing=("parallelism",),
         phrase="6 GPUs cannot be split into groups of TP 4 x PP 1 = 4"),
    Case("Qwen3-Next TP 16 splits 16 key heads", QNEXT, H100, tp=16, domain=16),
    Case("Qwen3-Next TP 32 does not", QNEXT, H100, tp=32, domain=32, feasible=False, failing=("parallelism",),
         phrase="linear-attention layers"),
    Case("DeepSeek-V3 MLA on 8 H200s", DSV3, "h200-sxm", tp=8, domain=8),
    # interconnect: TP inside one scale-up domain
    Case("TP 8 in an 8-GPU domain", L70, H100, tp=8, domain=8),
    Case("TP 16 across two 8-GPU domains", L70, H100, tp=16, domain=8, feasible=False, failing=("interconnect",),
         phrase="split it as TP 8 x PP 2"),
    Case("TP 16 over PP 2 stays inside", L70, H100, tp=8, pp=2, domain=8),
    Case("TP 2 over an NVLink bridge", L8, "a100-pcie-80gb", tp=2, domain=2),
    Case("TP 4 over 2-GPU bridges", L8, "a100-pcie-80gb", tp=4, domain=2, feasible=False, failing=("interconnect",)),
    Case("TP 2 over PCIe alone is slow", L8, "rtx-4090", tp=2, domain=1, warning=("interconnect",),
         phrase="crosses the host bus"),
]


def resolve(kb: KnowledgeBase, case: Case) -> Case:
    """The case with run-time boundaries filled in: sequences -1 is the KV limit, -2 one past it."""
    if case.sequences >= 1:
        return case
    limit = kv_limit(kb, case)
    from dataclasses import replace
    return replace(case, sequences=limit if case.sequences == -1 else limit + 1)


def outcome(result: Feasibility) -> dict[str, Any]:
    """What a case is judged on: feasible, failing and warning rules, and the texts."""
    return {"feasible": result.feasible,
            "failing": sorted({f.check for f in result.findings if f.severity == "fail"}),
            "warning": sorted({f.check for f in result.findings if f.severity == "warn"}),
            "texts": [f.message for f in result.findings if f.severity in ("fail", "warn")]}
