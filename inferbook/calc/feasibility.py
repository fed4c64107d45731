"""Can this setup run at all? One check behind every calculator, command and tool.

A setup is a model in a weight format with a KV-cache format on a number of one
GPU type, split by tensor (TP), pipeline (PP) and expert (EP) parallelism, serving
sequences of a context length at a batch size or concurrency, under an engine's
memory profile. `check_setup` answers with `feasible` and one `Finding` per rule,
each in plain words with its numbers:

- parallelism: TP divides the attention heads and the KV heads divide by or into it
  (vLLM replicates KV heads beyond their count), linear-attention and Mamba heads divide by TP
  (and Mamba groups, unless there is one, which every rank holds),
  PP is at most the layer count, EP divides the routed experts, and the GPU count is
  a multiple of TP x PP (the rest are data-parallel replicas); attention data parallelism
  (a MoE model's attention in groups of TP / DP GPUs, each with its own batch) divides TP,
  and the head rules then apply to the group;
- interconnect: TP stays inside one scale-up domain (`interconnect.domain_gpus`);
  TP over PCIe alone works but is slow;
- formats: each of the weight, activation and KV formats is native on the GPU's
  generation (`native_tensor_core`), converted to 16-bit there (`converted_on`:
  memory as the format, compute at the 16-bit rate), or not supported;
- context: at most the model's maximum;
- memory: weights, activation peak and runtime reserve fit in each GPU's budget,
  leaving room for at least one block of KV cache;
- KV capacity: the batch (sequences in lockstep) fits the cache; a concurrency
  that does not fit is served anyway, the rest waiting in the queue or preempted.

Severity: a `fail` makes the setup infeasible; a `warn` runs with a stated cost; a
`note` only records an assumption. The engine profile assumed (memory utilization,
block size, batch limits) is part of every answer."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..schema import Format, Gpu, LlmModel, ModelArchitecture
from .capacity import GIB, Capacity, EngineConfig, capacity, max_concurrency

Severity = Literal["fail", "warn", "note"]
Mode = Literal["batch", "concurrency"]

SIXTEEN_BIT = ("bf16", "fp16")
"""The formats every accelerator can compute in, natively or through its vector units."""


@dataclass(frozen=True, slots=True)
class EngineProfile:
    """The engine behaviour the memory and scheduling checks assume."""

    name: str
    config: EngineConfig = field(default_factory=EngineConfig)

    def describe(self) -> str:
        """One line for the answer: which engine, which memory settings."""
        c = self.config
        return (f"{self.name}: {c.gpu_memory_utilization:.0%} of GPU memory, {c.block_size}-token KV blocks, "
                f"at most {c.max_num_seqs:,} sequences and {c.max_num_batched_tokens:,} batched tokens per step")


VLLM_V1 = EngineProfile("vLLM V1 defaults")
"""The profile used when none is given; its memory model is `calc.capacity`."""


@dataclass(frozen=True, slots=True)
class Finding:
    """The outcome of one rule for one setup."""

    check: str
    """Which rule: parallelism, interconnect, formats, context, memory or kv-capacity."""
    severity: Severity
    """"fail" (the setup cannot run), "warn" (it runs at a stated cost) or "note" (an assumption)."""
    message: str
    """Plain words with the numbers, e.g. "needs 131.4 GiB of weights per GPU; ..."."""


@dataclass(frozen=True, slots=True)
class Feasibility:
    """Whether a setup can run, why, and the memory figures behind the answer."""

    feasible: bool
    """True when no finding has severity "fail"."""
    findings: tuple[Finding, ...]
    """The outcome of every rule checked, in the order the rules ran."""
    engine: str
    """The engine profile assumed, in words."""
    capacity: Capacity | None = None
    """Memory of one GPU (None when the setup failed before memory was worked out)."""
    max_sequences: float | None = None
    """Sequences of the context that fit in the KV cache at once (with attention DP, whole ones:
    each group holds its own)."""
    format_status: Mapping[str, str] = field(default_factory=dict)
    """Role (weights, activations, kv-cache) -> native, converted, cast or unsupported."""

    @property
    def reasons(self) -> list[str]:
        """Why the setup cannot run (empty when feasible)."""
        return [f.message for f in self.findings if f.severity == "fail"]

    @property
    def warnings(self) -> list[str]:
        """What runs at a cost the user should know."""
        return [f.message for f in self.findings if f.severity == "warn"]

    def summary(self) -> str:
        """The reasons joined into one paragraph, or "feasible"."""
        return "; ".join(self.reasons) if self.reasons else "feasible"

    def to_json(self) -> dict[str, Any]:
        """Plain values for `--json` and the site's vectors."""
        cap = self.capacity
        return {
            "feasible": self.feasible,
            "reasons": self.reasons,
            "warnings": self.warnings,
            "notes": [f.message for f in self.findings if f.severity == "note"],
            "engine": self.engine,
            "formats": dict(self.format_status),
            "max_sequences": None if self.max_sequences is None or math.isinf(self.max_sequences)
            else round(self.max_sequences, 3),
            "memory_gib_per_gpu": None if cap is None else {
                "budget": round(cap.budget_bytes / GIB, 3), "weights": round(cap.weights_bytes / GIB, 3),
                "activations": round(cap.activation_bytes / GIB, 3), "runtime": round(cap.other_bytes / GIB, 3),
                "kv_cache": round(max(cap.kv_space_bytes, 0.0) / GIB, 3)},
        }


def _gib(value: float) -> str:
    return f"{value / GIB:,.1f} GiB"


def _tokens(value: float) -> str:
    return f"{value:,.0f}"


def parallel_findings(arch: ModelArchitecture, tp: int, pp: int, ep: int, gpus: int,
                      attention_dp: int = 1) -> list[Finding]:
    """Whether TP, PP, EP and attention DP split the model the way engines require, and the GPU
    count holds them. With attention DP the head rules apply to one group of TP / DP GPUs."""
    out: list[Finding] = []

    def fail(message: str) -> None:
        out.append(Finding("parallelism", "fail", message))

    for name, value in (("tensor parallelism", tp), ("pipeline parallelism", pp), ("expert parallelism", ep),
                        ("the GPU count", gpus), ("attention data parallelism", attention_dp)):
        if value < 1:
            fail(f"{name} must be at least 1, got {value}")
    if out:
        return out
    if attention_dp > 1:
        if arch.moe is None:
            fail(f"attention data parallelism {attention_dp} is for mixture-of-experts models; for a dense model "
                 f"run {attention_dp} replicas instead")
        elif tp % attention_dp:
            fail(f"attention data parallelism {attention_dp} does not divide tensor parallelism {tp}")
        if out:
            return out
        tp //= attention_dp  # attention is split over one group
    if arch.attention_heads % tp:
        fail(f"tensor parallelism {tp} does not divide the {arch.attention_heads} attention heads")
    if arch.mla is None and arch.kv_heads % tp and tp % arch.kv_heads:
        fail(f"tensor parallelism {tp} neither divides the {arch.kv_heads} KV heads nor is a multiple of them")
    linear = arch.linear_attention
    if linear is not None and (linear.key_heads % tp or linear.value_heads % tp):
        fail(f"tensor parallelism {tp} does not divide the {linear.key_heads} key and {linear.value_heads} value "
             f"heads of the linear-attention layers")
    mamba = arch.mamba
    if mamba is not None and (mamba.heads % tp or (mamba.groups > 1 and mamba.groups % tp)):
        fail(f"tensor parallelism {tp} does not divide the {mamba.heads} heads and {mamba.groups} groups of the "
             f"Mamba layers")
    if pp > arch.layers:
        fail(f"pipeline parallelism {pp} is more than the {arch.layers} layers")
    if ep > 1:
        if arch.moe is None:
            fail(f"expert parallelism {ep} needs a mixture-of-experts model; this one is dense")
        elif arch.moe.experts % ep:
            fail(f"expert parallelism {ep} does not divide the {arch.moe.experts} routed experts")
        elif gpus % ep:
            fail(f"expert parallelism {ep} does not divide the {gpus} GPUs")
    if gpus % (tp * pp):
        fail(f"{gpus} GPUs cannot be split into groups of TP {tp} x PP {pp} = {tp * pp}")
    return out


def interconnect_findings(gpu: Gpu, tp: int, pp: int) -> list[Finding]:
    """TP all-reduces every layer, so its group must share a scale-up link."""
    if tp == 1:
        return []
    link = gpu.interconnect
    domain = link.domain_gpus
    if domain is None:
        return [Finding("interconnect", "note", f"the knowledge base does not record how many {gpu.title} share a "
                                                f"scale-up link; assumed TP {tp} stays inside one")]
    if tp > domain:
        hint = (f"split it as TP {domain} x PP {math.ceil(tp / domain) * pp}" if domain > 1
                else "split it with pipeline parallelism instead")
        where = f"{domain} GPUs share {link.name}" if domain > 1 and link.name else "each GPU sits alone on PCIe"
        kind = "fail" if domain > 1 else "warn"
        if kind == "warn":
            return [Finding("interconnect", "warn", f"tensor parallelism {tp} over PCIe ({where}): every layer's "
                                                    f"all-reduce crosses the host bus, which is slow; {hint}")]
        return [Finding("interconnect", "fail", f"tensor parallelism {tp} spans more than one scale-up domain "
                                                f"({where}); its all-reduces need that link; {hint}")]
    return []


def format_status(fmt: Format, gpu: Gpu) -> str:
    """native, converted (stored in the format, computed in 16-bit), cast (16-bit run as the
    other 16-bit type) or unsupported, for ``fmt`` on ``gpu``'s generation."""
    arch = gpu.architecture
    if arch in fmt.native_tensor_core or fmt.id in gpu.supported_formats:
        return "native"
    if fmt.id in SIXTEEN_BIT:
        return "cast"
    if arch in fmt.converted_on:
        return "converted"
    if not fmt.converted_on and fmt.category in ("weight-quantization", "gguf"):
        return "converted"  # unpacked by its own kernels; where they run is not recorded per generation
    return "unsupported"


def format_findings(weights: Format, kv: Format | None, gpu: Gpu) -> tuple[list[Finding], dict[str, str]]:
    """The weight, activation and KV formats on the GPU: native, converted (with its cost) or unsupported."""
    out: list[Finding] = []
    status: dict[str, str] = {}
    arch = gpu.architecture
    w = format_status(weights, gpu)
    status["weights"] = w
    if w == "unsupported":
        out.append(Finding("formats", "fail", f"{weights.title} weights do not run on {gpu.title} ({arch}): its "
                                              f"matrix units do not compute on them and no engine conversion for "
                                              f"{arch} is recorded"))
    elif w == "converted":
        out.append(Finding("formats", "warn", f"{weights.title} weights are converted to 16-bit on {gpu.title} "
                                              f"({arch}): memory and bandwidth as {weights.title}, compute at the "
                                              f"16-bit rate"))
    elif w == "cast":
        out.append(Finding("formats", "note", f"{weights.title} is not among {gpu.title}'s native matrix types; "
                                              f"engines run it as the other 16-bit type or on vector units"))
    # activations follow the weights where the chip computes on that type, else 16-bit
    status["activations"] = weights.id if w == "native" and "activations" in weights.used_for else "16-bit"
    if kv is not None:
        k = format_status(kv, gpu)
        status["kv-cache"] = k
        if k == "unsupported":
            out.append(Finding("formats", "fail", f"a {kv.title} KV cache does not run on {gpu.title} ({arch}): no "
                                                  f"native support and no conversion recorded"))
        elif k == "converted":
            out.append(Finding("formats", "warn", f"the {kv.title} KV cache is converted to 16-bit inside attention "
                                                  f"on {gpu.title}: memory as {kv.title}, attention at the 16-bit "
                                                  f"rate"))
    return out, status


@dataclass(frozen=True, slots=True)
class Setup:
    """What to check: a model in a format on ``gpus`` GPUs, split TP x PP (x EP), serving
    ``sequences`` of ``context`` tokens, in lockstep (``mode="batch"``) or as a concurrency
    the scheduler may queue (``mode="concurrency"``)."""

    model: LlmModel
    """The model served; its `architecture` drives every check."""
    gpu: Gpu
    """The GPU type; all GPUs of the setup are of this one type."""
    weights: Format
    """The format the weights are stored in (groups in `groups` excepted)."""
    kv: Format | None = None
    """The KV-cache format; None keeps 16 bits (``kv_bits``)."""
    kv_bits: float = 16.0
    """Bits per KV-cache value, used only when `kv` is None."""
    tp: int = 1
    """Tensor-parallel size: GPUs each layer is split over."""
    pp: int = 1
    """Pipeline-parallel size: stages the layers are split into."""
    ep: int = 1
    """Expert-parallel size; checked against the routed experts and the GPU count, not used in the memory figures."""
    gpus: int | None = None
    """GPUs in all; None means TP x PP (one replica)."""
    context: int = 8192
    """Tokens per sequence, at most the model's maximum context."""
    sequences: int = 1
    """Sequences served at once: the batch size or the concurrency, as `mode` says."""
    mode: Mode = "batch"
    """"batch": all sequences run in lockstep, so the KV cache must hold them all (else a fail);
    "concurrency": those that do not fit wait in the queue (a warning)."""
    engine: EngineProfile = VLLM_V1
    """The engine's memory settings and limits assumed; vLLM V1 defaults unless given."""
    groups: Mapping[str, Format] | None = None
    """Tensor groups stored in other formats (a native mixed checkpoint)."""
    mtp: bool = False
    """The multi-token-prediction modules are loaded too (MTP speculative decoding)."""
    attention_dp: int = 1
    """Attention data parallelism of a MoE model (TensorRT-LLM's enable_attention_dp, SGLang's
    --enable-dp-attention): the TP GPUs form this many groups, each running its own sequences
    through attention with its own KV cache, while the routed experts spread over all of TP
    (`capacity.capacity`). 1 is plain TP."""


def check_setup(setup: Setup) -> Feasibility:
    """Every rule on one setup; see the module docstring."""
    s = setup
    arch = s.model.architecture
    gpus = s.gpus if s.gpus is not None else s.tp * s.pp
    engine = s.engine.describe()
    findings = parallel_findings(arch, s.tp, s.pp, s.ep, gpus, s.attention_dp)
    if any(f.severity == "fail" for f in findings):  # memory per GPU is meaningless for a split that cannot exist
        return Feasibility(False, tuple(findings), engine)
    findings += interconnect_findings(s.gpu, s.tp, s.pp)
    fmt_findings, status = format_findings(s.weights, s.kv, s.gpu)
    findings += fmt_findings
    if s.context < 1 or s.sequences < 1:
        findings.append(Finding("context", "fail", "context and sequences must be at least 1"))
    elif s.context > arch.context_length:
        findings.append(Finding("context", "fail", f"a context of {_tokens(s.context)} tokens is more than "
                                                   f"{s.model.title}'s maximum of {_tokens(arch.context_length)}"))
    kv_bits = float(s.kv.bits_per_value) if s.kv is not None else s.kv_bits
    cap = capacity(arch, s.gpu, s.weights, kv_bits, tp=s.tp, pp=s.pp, cfg=s.engine.config,
                   groups=dict(s.groups) if s.groups else None, mtp=s.mtp, attention_dp=s.attention_dp)
    seqs: float | None = None
    fixed = cap.weights_bytes + cap.activation_bytes + cap.other_bytes
    group = s.tp // s.attention_dp  # GPUs that split one sequence's attention and KV cache
    if not cap.fits:
        split = f" (split over TP {s.tp} x PP {s.pp})" if s.tp * s.pp > 1 else ""
        if s.attention_dp > 1:
            split = (f" (attention and dense layers split over groups of {group} GPU{'s' if group > 1 else ''}, "
                     f"the routed experts over TP {s.tp}, x PP {s.pp})")
        findings.append(Finding(
            "memory", "fail",
            f"needs {_gib(cap.weights_bytes)} of weights plus {_gib(cap.activation_bytes + cap.other_bytes)} of "
            f"activations and runtime reserve per GPU{split}; one {s.gpu.title} may use {_gib(cap.budget_bytes)} "
            f"({s.engine.config.gpu_memory_utilization:.0%} of its usable {_gib(cap.usable_bytes)}), "
            + ("leaving nothing for the KV cache" if cap.kv_space_bytes <= 0 else
               f"leaving {cap.kv_space_bytes / 2**20:,.1f} MiB, less than one {s.engine.config.block_size}-token "
               f"KV block")))
    elif s.context >= 1 and s.sequences >= 1:
        # each attention-DP group caches its own sequences, whole ones
        per_group = max_concurrency(arch, cap, min(s.context, arch.context_length), kv_bits, tp=group, pp=s.pp)
        whole = per_group if math.isinf(per_group) else s.attention_dp * math.floor(per_group)
        seqs = per_group if s.attention_dp == 1 else whole
        if per_group < 1:
            findings.append(Finding("kv-capacity", "fail",
                                    f"one sequence of {_tokens(s.context)} tokens needs more KV cache than the "
                                    f"{_gib(cap.kv_space_bytes)} left on each GPU after {_gib(fixed)} of weights "
                                    f"and overheads"))
        elif s.sequences > whole:
            fit = whole
            if s.mode == "batch":
                findings.append(Finding("kv-capacity", "fail",
                                        f"a batch of {s.sequences:,} sequences of {_tokens(s.context)} tokens needs "
                                        f"more KV cache than fits: only {fit:,} fit in the {_gib(cap.kv_space_bytes)} "
                                        f"left on each GPU; an engine would run {fit:,} at a time and queue or "
                                        f"preempt the rest"))
            else:
                findings.append(Finding("kv-capacity", "warn",
                                        f"{s.sequences:,} concurrent sequences of {_tokens(s.context)} tokens do not "
                                        f"all fit: {fit:,} run at once in the {_gib(cap.kv_space_bytes)} of KV cache "
                                        f"per GPU, the rest wait in the queue (or are preempted as contexts grow)"))
    findings.append(Finding("memory", "note", f"assumes {engine}"))
    feasible = not any(f.severity == "fail" for f in findings)
    return Feasibility(feasible, tuple(findings), engine, cap, seqs, status)
