"""Published measurements: their schema and their strict loader.

The calibration data lives in `measurements/`, next to this module: one YAML file
per published source (a benchmark page, a docs revision, an issue thread), with
the source once at the top and the numbers it prints below, each with every
setting the source states. Files are read with the knowledge base's strict YAML
reader and validated with the same strict pydantic base as the entries, so a
mistake is reported with its file, line and column.

MLPerf Inference results, the XiongjieDai GPU-Benchmarks-on-LLM-Inference tables,
the ROCm vLLM dev-docker README tables and LMSYS blog posts on DeepSeek serving
are reserved for independent validation and are refused here (`RESERVED_SOURCES`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationError, field_validator, model_validator

from ..diagnostics import Diagnostic
from ..schema.base import EntryId, NoteText, ShortText, Strict, Url, full_match
from ..yamlio import YamlError, parse_bytes, read_bytes

FOLDER = Path(__file__).with_name("measurements")

Metric = Literal[
    "output_tokens_per_s", "total_tokens_per_s", "output_tokens_per_s_per_gpu", "requests_per_s",
    "ttft_ms", "tpot_ms", "itl_ms", "e2e_latency_s",
    "prefill_tokens_per_s", "decode_tokens_per_s",
    "kv_cache_tokens", "max_concurrency", "available_kv_memory_gib", "weights_memory_gib",
    "activation_peak_gib", "cuda_graph_memory_gib", "non_torch_memory_gib", "kv_gib_per_1000_tokens",
]
"""What was measured, with its unit in the name. Throughputs are for the whole system
(every GPU of the run) unless the name says per GPU; `prefill_tokens_per_s` and
`decode_tokens_per_s` are llama-bench style single-stream rates (pp and tg)."""

SPEED_METRICS = frozenset({
    "output_tokens_per_s", "total_tokens_per_s", "output_tokens_per_s_per_gpu", "requests_per_s",
    "ttft_ms", "tpot_ms", "itl_ms", "e2e_latency_s", "prefill_tokens_per_s", "decode_tokens_per_s"})
SIGNED_METRICS = frozenset({"non_torch_memory_gib", "cuda_graph_memory_gib"})
"""Memory differences an engine logs, which can come out zero or negative."""
LATENCY_METRICS = frozenset({"ttft_ms", "tpot_ms", "itl_ms", "e2e_latency_s"})
MEMORY_METRICS = frozenset({
    "kv_cache_tokens", "max_concurrency", "available_kv_memory_gib", "weights_memory_gib",
    "activation_peak_gib", "cuda_graph_memory_gib", "non_torch_memory_gib", "kv_gib_per_1000_tokens"})

Engine = Literal["vllm", "sglang", "tensorrt-llm", "llama-cpp", "mlc-llm", "lmdeploy", "tgi", "other"]
Mode = Literal["offline", "concurrency", "rate", "batch"]
"""How the load was applied: every request queued at once; a closed loop of `concurrency`
clients; Poisson arrivals at `rate` requests per second; `batch` sequences in lockstep."""
Statistic = Literal["mean", "median", "p90", "p95", "p99"]
KvDtype = Literal["auto", "bf16", "fp16", "fp8", "fp8-e4m3", "fp8-e5m2", "fp8-ds-mla", "q8-0", "q4-0", "nvfp4"]
SettingValue = Annotated[float | int | bool | ShortText, Field(union_mode="left_to_right")]
SETTING_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
SettingName = Annotated[str, StringConstraints(pattern=SETTING_PATTERN), full_match(SETTING_PATTERN)]
Version = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,39}$"),
                    full_match(r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,39}$")]
Width = Annotated[int, Field(ge=1, le=1024)]
Tokens = Annotated[int, Field(ge=1, le=10_000_000)]

RESERVED_SOURCES = ("mlcommons.org", "mlperf", "xiongjiedai", "gpu-benchmarks-on-llm-inference",
                    "lmsys.org", "rocm/vllm-dev", "rocm/vllm/", "vllm-dev-docker")
"""Markers of sources reserved for independent validation (lower-case substrings of a URL)."""


class Speculative(Strict):
    """Speculative decoding or multi-token prediction as run."""

    method: Literal["draft-model", "eagle", "eagle3", "mtp", "ngram", "medusa"]
    draft_tokens: Width
    """Tokens proposed per step."""
    acceptance_rate: Annotated[float, Field(ge=0, le=1)] | None = None
    """Share of proposed tokens accepted, where the source prints it."""


class Measurement(Strict):
    """One number as a source prints it, with every setting the source states."""

    id: EntryId
    """Unique across all files, e.g. trtllm-1.0-llama-3.1-8b-h100-fp8-128-128."""
    metric: Metric
    value: Annotated[float, Field(ge=-1e12, le=1e12)]
    """The number as printed, in the metric's unit (thousands separators removed). Only
    a logged memory difference (`SIGNED_METRICS`) can be negative or zero."""
    statistic: Statistic = "mean"
    """For latencies: which statistic the source prints."""
    quote: ShortText
    """The row or sentence the value was read from, verbatim."""
    model: EntryId
    """Knowledge-base model id."""
    gpu: EntryId | None = None
    """Knowledge-base GPU id (None only for GPU-independent metrics)."""
    gpus: Width | None = None
    """GPUs in the whole run."""
    engine: Engine
    engine_version: Version | None = None
    tp: Width | None = None
    pp: Width | None = None
    ep: Width | None = None
    dp: Width | None = None
    """Data-parallel replicas (attention DP for SGLang/vLLM DP attention)."""
    weights: EntryId | None = None
    """Knowledge-base format id of the weights as run (fp8-e4m3, nvfp4, gguf-q4-0, bf16 ...)."""
    kv_dtype: KvDtype | None = None
    isl: Tokens | None = None
    """Input (prompt) tokens per request."""
    osl: Tokens | None = None
    """Output tokens per request."""
    mode: Mode | None = None
    concurrency: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    rate: Annotated[float, Field(gt=0, le=1e6)] | None = None
    batch: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    requests: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    speculative: Speculative | None = None
    settings: dict[SettingName, SettingValue] = Field(default_factory=dict, max_length=40)
    """Other engine settings as the source names them: gpu_memory_utilization,
    max_num_seqs, max_num_batched_tokens, max_model_len, enable_prefix_caching ..."""
    notes: NoteText | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Measurement:
        if self.value <= 0 and self.metric not in SIGNED_METRICS:
            raise ValueError(f"a {self.metric} value must be above 0")
        if self.metric in SPEED_METRICS:
            if self.gpu is None or self.gpus is None:
                raise ValueError("a speed measurement needs gpu and gpus")
            if self.mode is None:
                raise ValueError("a speed measurement needs a mode (offline, concurrency, rate or batch)")
        load = {"concurrency": self.concurrency, "rate": self.rate, "batch": self.batch}
        if self.mode in load and load[self.mode] is None:
            raise ValueError(f"mode {self.mode} needs the field {self.mode}")
        for name in ("tp", "pp", "ep", "dp"):
            width = getattr(self, name)
            if width is not None and self.gpus is not None and width > self.gpus and name != "ep":
                raise ValueError(f"{name} {width} is larger than gpus {self.gpus}")
        return self


class Source(Strict):
    """Where the file's numbers come from."""

    url: Url
    title: ShortText
    accessed: Annotated[str, StringConstraints(pattern=r"^20[0-9]{2}-[01][0-9]-[0-3][0-9]$"),
                        full_match(r"^20[0-9]{2}-[01][0-9]-[0-3][0-9]$")]
    publisher: ShortText | None = None
    notes: NoteText | None = None

    @field_validator("url")
    @classmethod
    def _not_reserved(cls, url: str) -> str:
        lowered = url.lower()
        if any(marker in lowered for marker in RESERVED_SOURCES):
            raise ValueError("this source is reserved for independent validation (MLPerf, XiongjieDai, ROCm vLLM "
                             "dev-docker, LMSYS DeepSeek) and may not be fitted on")
        return url


class MeasurementFile(Strict):
    """One source and the measurements read from it."""

    source: Source
    measurements: tuple[Measurement, ...] = Field(min_length=1, max_length=2000)


MEMORY_METRICS_WITHOUT_TOKENS = frozenset({"available_kv_memory_gib", "weights_memory_gib", "activation_peak_gib",
                                           "non_torch_memory_gib", "cuda_graph_memory_gib"})
"""Memory metrics in GiB, which do not depend on how many tokens the cache's bytes hold."""


class Published:
    """A measurement with the source it was read from and where it stands."""

    __slots__ = ("file", "line", "m", "source")

    def __init__(self, m: Measurement, source: Source, file: str, line: int):
        self.m, self.source, self.file, self.line = m, source, file, line

    def setting(self, *names: str) -> float | None:
        """The first of ``names`` the source states as a number in `Measurement.settings`, else None."""
        for name in names:
            value = self.m.settings.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
        return None

    def attention_dp(self, moe: bool, tp: int) -> int:
        """The attention data-parallel degree a run of a MoE model (``moe``) on TP ``tp`` used: the
        stated ``dp`` (SGLang's --dp with --enable-dp-attention), else all of TP (TensorRT-LLM's
        enable_attention_dp); 1 without it, for a dense model, or when the stated degree does not divide TP."""
        s = self.m.settings
        if not moe or not (s.get("enable_attention_dp") is True or s.get("enable_dp_attention") is True):
            return 1
        dp = self.m.dp or tp
        return dp if tp % dp == 0 else 1

    def not_modelled(self) -> str | None:
        """Why the calculators cannot reproduce this measurement, None when they can; the calibration
        and the accuracy comparison both leave such rows out. Decode context parallelism shards
        the KV cache over the TP ranks: it changes the tokens a cache holds and every speed, not the
        memory the engine sets aside."""
        if (self.m.settings.get("decode_context_parallel_size", 1) != 1
                and self.m.metric not in MEMORY_METRICS_WITHOUT_TOKENS):
            return "decode context parallelism (the KV cache split over the TP ranks) is not modelled"
        return None


class MeasurementError(ValueError):
    """The measurement files did not validate; `diagnostics` says where."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("\n".join(d.format() for d in diagnostics))
        self.diagnostics = diagnostics


def read_folder(folder: Path = FOLDER, known: dict[str, Iterable[str]] | None = None
                ) -> tuple[list[Published], list[Diagnostic]]:
    """Every measurement in ``folder`` (sorted by file name), and the problems found.
    ``known`` maps "models", "gpus" and "formats" to the ids that exist; an id
    outside them is reported."""
    from ..loader import display_path, refused_item, schema_diagnostics

    out: list[Published] = []
    problems: list[Diagnostic] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        shown = display_path(path)
        refused = refused_item(path)
        if refused is not None:
            problems.append(refused)
            continue
        try:
            doc = parse_bytes(read_bytes(path, follow_symlinks=False))
            data = MeasurementFile.model_validate(doc.data)
        except (YamlError, OSError) as exc:
            line, col = (exc.line, exc.col) if isinstance(exc, YamlError) else (1, 1)
            problems.append(Diagnostic(shown, line, col, "IB001", getattr(exc, "message", str(exc))))
            continue
        except ValidationError as exc:
            found = schema_diagnostics(exc, doc, shown, MeasurementFile)  # type: ignore[arg-type]
            # an invalid item also empties the list; say only what is wrong with the item
            specific = [d for d in found if "should have at least 1 item" not in d.message]
            problems.extend(specific or found)
            continue
        for i, m in enumerate(data.measurements):
            mark = doc.locate(("measurements", i, "id"))
            if m.id in seen:
                problems.append(Diagnostic(shown, mark.line, mark.col, "IB104",
                                           f"measurement id '{m.id}' is also used in {seen[m.id]}",
                                           hint="give each measurement its own id"))
                continue
            seen[m.id] = shown
            for field, kind in (("model", "models"), ("gpu", "gpus"), ("weights", "formats")):
                value = getattr(m, field)
                if known is not None and value is not None and value not in set(known.get(kind, ())):
                    at = doc.locate(("measurements", i, field))
                    problems.append(Diagnostic(shown, at.line, at.col, "IB201",
                                               f"{field} '{value}' is not a knowledge-base {kind[:-1]} id",
                                               hint=f"use an id from kb/{kind}/ or add the entry first"))
            out.append(Published(m, data.source, shown, mark.line))
    return out, problems


def load(folder: Path = FOLDER, known: dict[str, Iterable[str]] | None = None) -> list[Published]:
    """Every measurement; `MeasurementError` when any file has a problem."""
    found, problems = read_folder(folder, known)
    if problems:
        raise MeasurementError(problems)
    return found


def main() -> int:
    """`python -m inferbook.calc.published`: check every measurement file against the schema
    and the knowledge base's ids; print the problems and a count per metric."""
    from collections import Counter

    from ..api import load as load_kb

    kb = load_kb()
    found, problems = read_folder(known={"models": kb.models, "gpus": kb.gpus, "formats": kb.formats})
    for problem in problems:
        print(problem.format())
    for metric, count in sorted(Counter(p.m.metric for p in found).items()):
        print(f"{metric:32} {count}")
    print(f"{len(found)} measurements, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
