"""Engine profiles: the defaults of vLLM, SGLang, TensorRT-LLM and llama.cpp that decide
how much KV cache a deployment gets and how the scheduler batches.

The values live in `engine_profiles.yaml`, each with the URL and the line of code or
documentation that states it; the file is read with the strict YAML reader and
validated here. `EngineDefaults.config()` turns a profile into the capacity
calculator's `EngineConfig`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import Field

from ..schema import Gpu, ModelArchitecture
from ..schema.base import NoteText, ShortText, Strict, Url
from ..yamlio import parse_bytes, read_bytes
from .capacity import EngineConfig
from .params import attention_layers, count_params

PROFILES = Path(__file__).with_name("engine_profiles.yaml")
CALC_DATA_CODE = (("calc", "schema"), ("loader.py", "yamlio.py", "diagnostics.py"))
"""What the calc package's data files are read with: the calc package (its YAML and JSON files
included), the schemas and the YAML reader. Part of the result-cache key of what is read from
them: the engine profiles here, the index of measured setups in `bands`."""
ENGINES = ("vllm", "sglang", "tensorrt-llm", "llama-cpp")
"""Engines `predict` models, by the ids `--engine` takes."""
ENGINE_ALIASES = {"trtllm": "tensorrt-llm", "llamacpp": "llama-cpp", "llama.cpp": "llama-cpp"}
ATTENTION_DP_ENGINES = ("vllm", "sglang", "tensorrt-llm")
"""Engines with attention data parallelism for MoE models (vLLM's data parallelism inside an expert
group, SGLang's --enable-dp-attention, TensorRT-LLM's enable_attention_dp); llama.cpp has none."""

FieldName = Literal[
    "memory_fraction", "memory_fraction_of", "kv_block_tokens", "max_num_seqs", "max_num_batched_tokens",
    "chunked_prefill", "cuda_graphs", "cuda_graph_max_batch", "kv_dtype_default", "kv_dtype_fp8_checkpoint",
    "mla_kv_layout", "reserve", "prefix_caching", "n_ubatch", "capacity_policy",
]


class ProfileValue(Strict):
    """One default, with where it is stated."""

    field: FieldName
    value: Annotated[float | int | bool | ShortText, Field(union_mode="left_to_right")]
    url: Url
    quote: ShortText
    """The line of code or documentation that states the value, verbatim."""
    notes: NoteText | None = None


class EngineEntry(Strict):
    """The defaults of one engine at one version."""

    id: Literal["vllm", "sglang", "tensorrt-llm", "llama-cpp"]
    name: ShortText
    version: ShortText
    values: tuple[ProfileValue, ...] = Field(min_length=1, max_length=60)


class ProfileFile(Strict):
    """Every engine profile."""

    engines: tuple[EngineEntry, ...] = Field(min_length=1, max_length=20)


@dataclass(frozen=True, slots=True)
class EngineDefaults:
    """The settings `predict` and the feasibility check assume for an engine."""

    id: str
    name: str
    version: str
    memory_fraction: float
    fraction_of: Literal["total", "free"]
    block_tokens: int
    max_num_seqs: int
    max_num_batched_tokens: int
    chunked_prefill: bool
    fp8_checkpoint_kv: bool
    reserve_full_length: bool = False
    """Admission reserves a request's whole prompt and output in the KV cache (TensorRT-LLM's
    GUARANTEED_NO_EVICT capacity policy); False where the cache grows a token at a time and the
    engine preempts when it runs out (vLLM, SGLang)."""
    sources: tuple[tuple[str, str, str], ...] = ()
    """(field, url, quote) of every value."""

    def config(self) -> EngineConfig:
        """The capacity calculator's settings. vLLM V1's activation and sampler model
        (`capacity.EngineConfig`) applies to vLLM; TensorRT-LLM and llama.cpp run no sampler
        profiling pass, and SGLang's memory fraction already leaves its activations outside
        (the KV pool is the fraction of all memory less the weights), so those terms go."""
        vllm = self.id == "vllm"
        return EngineConfig(gpu_memory_utilization=self.memory_fraction, fraction_of=self.fraction_of,
                            block_size=self.block_tokens, max_num_seqs=self.max_num_seqs,
                            max_num_batched_tokens=self.max_num_batched_tokens,
                            sampler_bytes_per_logit=EngineConfig().sampler_bytes_per_logit if vllm else 0.0,
                            activation_scale=0.0 if self.id == "sglang" else 1.0)

    def describe(self) -> str:
        of = "of GPU memory" if self.fraction_of == "total" else "of the memory free after loading"
        return (f"{self.name} {self.version} defaults: {self.memory_fraction:.0%} {of}, {self.block_tokens}-token KV "
                f"blocks, at most {self.max_num_seqs:,} sequences and {self.max_num_batched_tokens:,} tokens per step")


MODELOPT_KV_DEFAULT = ("https://github.com/NVIDIA/TensorRT-Model-Optimizer/blob/05ab948420d840fbcaa4b32cb5948d99408ed7a6/"
                      "examples/llm_ptq/hf_ptq.py")
"""ModelOpt's quantization script, whose --kv_cache_qformat defaults to fp8: the FP8 and NVFP4
checkpoints it exports (NVIDIA's own among them) declare an FP8 KV cache."""


def checkpoint_kv_bits(defaults: EngineDefaults, weight_format: str) -> float:
    """Bits per KV element when the KV dtype is left on "auto": 8 for an FP8 or NVFP4 checkpoint
    on an engine that takes the KV quantization the checkpoint declares (`fp8_checkpoint_kv`;
    ModelOpt exports FP8 KV scales by default, `MODELOPT_KV_DEFAULT`), else 16."""
    if defaults.fp8_checkpoint_kv and (weight_format.startswith("fp8") or weight_format == "nvfp4"):
        return 8.0
    return 16.0


def read_profiles(path: Path = PROFILES) -> ProfileFile:
    """The validated profile file (pydantic `ValidationError` or `YamlError` when it is wrong)."""
    return ProfileFile.model_validate(parse_bytes(read_bytes(path, follow_symlinks=False)).data)


def _number(values: dict[str, ProfileValue], name: str, engine: str) -> float | None:
    """The value of ``name`` when it is a number; None when the engine states a rule instead
    ("auto") or has no such setting."""
    entry = values.get(name)
    if entry is None or isinstance(entry.value, bool) or not isinstance(entry.value, (int, float)):
        return None
    return float(entry.value)


_ENGINE_KEYS = {"id", "name", "version", "values"}
_VALUE_KEYS = {"field", "value", "url", "quote", "notes"}


def _is_profile_dump(value: Any) -> bool:
    """Whether ``value`` (read back from disk) has exactly the layout of `ProfileFile.model_dump`."""
    if not isinstance(value, dict) or value.keys() != {"engines"} or not isinstance(value["engines"], list):
        return False
    fields, ids = set(get_args(FieldName)), set(get_args(EngineEntry.model_fields["id"].annotation))
    for engine in value["engines"]:
        if not (isinstance(engine, dict) and engine.keys() == _ENGINE_KEYS and engine["id"] in ids
                and isinstance(engine["name"], str) and isinstance(engine["version"], str)
                and isinstance(engine["values"], list) and engine["values"]):
            return False
        for v in engine["values"]:
            if not (isinstance(v, dict) and v.keys() == _VALUE_KEYS and v["field"] in fields
                    and isinstance(v["value"], (bool, int, float, str)) and isinstance(v["url"], str)
                    and isinstance(v["quote"], str) and (v["notes"] is None or isinstance(v["notes"], str))):
                return False
    return True


def _from_dump(value: dict[str, Any]) -> ProfileFile:
    """The profile file rebuilt from a dump `_is_profile_dump` accepted (written from a validated
    file, so not validated again)."""
    return ProfileFile.model_construct(engines=tuple(
        EngineEntry.model_construct(id=e["id"], name=e["name"], version=e["version"], values=tuple(
            ProfileValue.model_construct(**{k: x for k, x in v.items() if k != "notes" or x is not None})
            for v in e["values"]))
        for e in value["engines"]))


def _profiles() -> ProfileFile:
    """The profile file, from the result cache while it and the code that reads it are unchanged
    (parsing and validating it took about 40 ms of a 0.35 s `inferbook predict`), else read."""
    from .. import result_cache

    code = result_cache.package_code_digest(*CALC_DATA_CODE)
    key = result_cache.digest("engine-profiles", code) if code is not None else None
    if key is not None:
        found = result_cache.read("engine-profiles", key, _is_profile_dump)
        if found is not None:
            return _from_dump(found)
    profiles = read_profiles()
    if key is not None:
        result_cache.write("engine-profiles", key, profiles.model_dump(mode="json"))
    return profiles


@cache
def _entries() -> dict[str, EngineEntry]:
    return {e.id: e for e in _profiles().engines}


def _memory_gib(gpu: Gpu | None) -> float | None:
    return None if gpu is None else gpu.memory_gib.value


def _sglang_chunk(mem: float | None) -> int:
    """SGLang's chunked_prefill_size by GPU memory (the rule quoted in engine_profiles.yaml)."""
    if mem is None:
        return 4096
    for below, size in ((35, 2048), (60, 4096), (160, 8192)):
        if mem < below:
            return size
    return 16384


def _sglang_graph_bs(mem: float | None, tp: int) -> int:
    """SGLang's decode CUDA-graph max batch by GPU memory and TP."""
    if mem is None:
        return 160
    if mem < 20:
        return 8
    if mem < 35:
        return 24 if tp < 4 else 80
    if mem < 60:
        return 32 if tp < 4 else 160
    if mem < 160:
        return 256 if tp < 4 else 512
    return 512


def _sglang_fraction(mem: float | None, tp: int, pp: int) -> float:
    """SGLang's automatic mem_fraction_static: (memory - reserve) / memory, the reserve being
    512 MiB + 1.5 MiB per chunked-prefill token + 1 GiB per 8 GPUs of TP x PP + 2 MiB per
    captured decode batch size, and at least 10 GiB on GPUs above 60 GiB."""
    if mem is None:
        return 0.88
    chunk = _sglang_chunk(mem)
    reserve_mib = 512 + 1.5 * max(chunk, 2048) + tp * pp / 8 * 1024 + 2 * _sglang_graph_bs(mem, tp)
    if mem > 60:
        reserve_mib = max(reserve_mib, 10 * 1024)
    return round((mem * 1024 - reserve_mib) / (mem * 1024), 3)


def _vllm_limits(gpu: Gpu | None) -> tuple[int, int]:
    """vLLM V1's max_num_seqs and max_num_batched_tokens for the API server by GPU: 1024 and
    8192 on GPUs of at least 70 GiB other than the A100 (16384 tokens from 160 GiB), else
    256 and 2048."""
    mem = _memory_gib(gpu)
    if mem is None or mem < 70 or (gpu is not None and gpu.id.startswith("a100")):
        return 256, 2048
    return 1024, 16384 if mem >= 160 else 8192


def engine_defaults(engine: str, gpu: Gpu | None = None, tp: int = 1, pp: int = 1) -> EngineDefaults:
    """The profile of ``engine`` (an id of `ENGINES` or an alias) on ``gpu``: the stated
    numbers from `engine_profiles.yaml`, and where the engine states a rule that depends on
    the GPU (SGLang's memory fraction and chunk size, vLLM's limits by GPU memory), that rule."""
    engine = ENGINE_ALIASES.get(engine, engine)
    entry = _entries().get(engine)
    if entry is None:
        raise ValueError(f"no profile for engine {engine!r} in engine_profiles.yaml")
    values: dict[str, ProfileValue] = {v.field: v for v in entry.values}
    mem = _memory_gib(gpu)
    fraction = _number(values, "memory_fraction", engine)
    seqs = _number(values, "max_num_seqs", engine)
    budget = _number(values, "max_num_batched_tokens", engine)
    block = _number(values, "kv_block_tokens", engine)
    of = str(values["memory_fraction_of"].value) if "memory_fraction_of" in values else "free"
    if engine == "vllm":
        seqs_rule, budget_rule = _vllm_limits(gpu)
        seqs, budget = float(seqs_rule), float(budget_rule)
    elif engine == "sglang":
        fraction = fraction if fraction is not None else _sglang_fraction(mem, tp, pp)
        budget = float(_sglang_chunk(mem))
        seqs = seqs if seqs is not None else 4096.0  # the request pool's ceiling; the KV cache limits it first
    elif engine == "llama-cpp":  # no fraction: the cache is sized to the context in the memory left
        fraction = fraction if fraction is not None else 1.0
        block = block if block is not None else 1.0
    missing = [n for n, v in (("memory_fraction", fraction), ("max_num_seqs", seqs),
                              ("max_num_batched_tokens", budget), ("kv_block_tokens", block)) if v is None]
    if missing:
        raise ValueError(f"engine_profiles.yaml: {engine} lacks a number for {', '.join(missing)}")
    assert fraction is not None and seqs is not None and budget is not None and block is not None
    chunked = values.get("chunked_prefill")
    fp8 = values.get("kv_dtype_fp8_checkpoint")
    policy = values.get("capacity_policy")
    return EngineDefaults(
        id=entry.id, name=entry.name, version=entry.version, memory_fraction=fraction,
        fraction_of="free" if of.startswith("free") else "total", block_tokens=int(block),
        max_num_seqs=int(seqs), max_num_batched_tokens=int(budget),
        chunked_prefill=bool(chunked.value) if chunked is not None else True,
        fp8_checkpoint_kv=fp8 is not None and fp8.value is True,
        reserve_full_length=policy is not None and policy.value == "guaranteed_no_evict",
        sources=tuple((v.field, v.url, v.quote) for v in entry.values))


def raw_profiles() -> dict[str, dict[str, object]]:
    """Each engine's stated values, numbers or None where it states a rule (for the JS port,
    which applies the same rules as `engine_defaults`)."""
    out: dict[str, dict[str, object]] = {}
    for entry in _entries().values():
        values: dict[str, object] = {v.field: v.value for v in entry.values}

        def number(name: str, values: dict[str, object] = values) -> float | None:
            value = values.get(name)
            return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

        out[entry.id] = {
            "id": entry.id, "name": entry.name, "version": entry.version,
            "memory_fraction": number("memory_fraction"), "memory_fraction_of": values.get("memory_fraction_of"),
            "kv_block_tokens": number("kv_block_tokens"), "max_num_seqs": number("max_num_seqs"),
            "max_num_batched_tokens": number("max_num_batched_tokens"),
            "chunked_prefill": values.get("chunked_prefill"),
            "kv_dtype_fp8_checkpoint": values.get("kv_dtype_fp8_checkpoint"),
            "capacity_policy": values.get("capacity_policy"),
        }
    return out


TRTLLM_BENCH_TUNING = ("https://github.com/NVIDIA/TensorRT-LLM/blob/a7e572fb20c694e7711f0c09f21eeaedeb45ccaa/"
                       "tensorrt_llm/bench/build/tuning.py")
"""Where `trtllm_bench_limits` is stated: trtllm-bench's `calc_engine_setting` and `finetune_setting`."""
TRTLLM_BENCH_SETTINGS = ("https://github.com/NVIDIA/TensorRT-LLM/blob/c0b2ee6edd6b86235350271d2c99b4e5f6c1222d/"
                         "tensorrt_llm/bench/benchmark/utils/general.py")
"""`get_settings`: the heuristic runs when the user gives no max_batch_size and max_num_tokens, and
without chunked prefill max_num_tokens is raised to the longest prompt plus the batch size."""
_TRTLLM_BENCH_BYTES = {"16-bit": 2.0, "fp8": 1.0, "nvfp4": 0.5}


def _round_up_in_steps(value: float, bands: tuple[tuple[float, int], ...], last: int) -> int:
    """``value`` rounded up to a multiple of the step of the first band (below, step) it is below,
    else of ``last``: the coarser rounding trtllm-bench applies to larger values."""
    step = next((s for below, s in bands if value < below), last)
    return step * math.ceil(value / step)


def trtllm_bench_limits(arch: ModelArchitecture, weight_format: str, kv_bits: float, tp: int, pp: int, isl: int,
                        osl: int, gpu_memory_gib: float, kv_fraction: float = 0.95,
                        chunked_prefill: bool = False) -> tuple[int, int]:
    """The max_batch_size and max_num_tokens that `trtllm-bench throughput` picks when none are
    given (`TRTLLM_BENCH_TUNING`): the requests of ``isl + osl`` tokens that fit the KV cache
    left after the weights on all TP x PP GPUs (capped at 4096, divided by PP), rounded up
    optimistically, and tokens for that batch's prompts and decodes (capped at 32768).
    ``weight_format`` is "16-bit", "fp8" or "nvfp4" (the formats it tunes); any other gets
    TensorRT-LLM's defaults (2048 and 8192)."""
    per_elem = _TRTLLM_BENCH_BYTES.get(weight_format)
    if per_elem is None:
        return 2048, 8192
    # its estimate: every attention layer holds K and V of max(TP, KV heads) heads of head_size
    # (hidden / heads where a config names no head_dim, as DeepSeek's MLA config does)
    head = arch.hidden_size // arch.attention_heads if arch.attention == "mla" else arch.head_dim
    per_token_gib = 2 * attention_layers(arch) * max(tp, arch.kv_heads) * head * kv_bits / 8 / 2**30
    engine_gib = count_params(arch).total * per_elem / 2**30
    cache_gib = (gpu_memory_gib * tp * pp - engine_gib) * kv_fraction
    requests = cache_gib / (per_token_gib * (isl + osl)) if per_token_gib > 0 else 4096.0
    raw_bs = min(requests, 4096.0) / pp
    raw_tokens = min(raw_bs * (1 + isl / osl), 32768.0)
    max_bs = max(64, _round_up_in_steps(raw_bs, ((256, 32), (1024, 128)), 256))
    max_tokens = max(2048, _round_up_in_steps(raw_tokens, ((4096, 256), (8192, 512)), 1024))
    if not chunked_prefill:  # get_settings: a whole prompt must fit one step beside the batch
        max_tokens = max(max_tokens, isl + max_bs)
    return max_bs, max_tokens
