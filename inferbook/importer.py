"""`inferbook import-config PATH`: a model entry for kb/models/ from a Hugging Face config.json.

The config is untrusted JSON. It is read with a size limit, refused unless it is one object
with unique keys and finite numbers, and every value the importer uses is type-checked (a
boolean is never a number); the architecture it builds is validated with the schema's own
model, whose errors are reported under the config's key names.

What the importer reads is written down once, in this module: the keys it maps onto the
schema (`_Builder`), the keys known to say nothing the schema records
(`IGNORED_KEYS`), the defaults of the transformers config classes it relies on where a
config is silent (`CLASS_DEFAULTS`, each use reported), and the designs the schema cannot
express yet (`_unsupported`). Every other key is reported as "not used", never guessed at.

What a config cannot tell (licence, release date, organisation, family, sources, and the
title when there is no `_name_or_path`) is left as a TODO that `inferbook validate`
refuses until it is filled: null in a required text field, a `todo` id, an unknown source id.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .schema import LlmModel, ModelArchitecture
from .schema.base import slug_ok
from .yamlio import disallowed_character

MAX_CONFIG_BYTES = 5 * 1024 * 1024
"""Largest config.json read (real ones are a few kilobytes)."""
MAX_INDEX_BYTES = 64 * 1024 * 1024
"""Largest model.safetensors.index.json read (DeepSeek-V3's is about 9 MB)."""
MAX_DEPTH = 64
"""Deepest nesting of JSON arrays and objects accepted."""
MAX_SHOWN = 60
"""Characters of a refused value that a message repeats."""
MAX_LAYERS = 1000
"""Most layers the schema accepts (LayerCount); longer configs are refused before any per-layer list is built."""


class ConfigError(Exception):
    """A config (or index) that cannot be imported; the message names the config keys."""


class ConfigUsageError(Exception):
    """A path or option that cannot be used (exit code 2)."""


# Keys and facts, written once ----------------------------------------------------------
IGNORED_KEYS = frozenset({
    # identity, tokens, numerics and runtime switches: nothing the schema records
    "architectures", "auto_map", "transformers_version", "bos_token_id", "eos_token_id", "pad_token_id",
    "sep_token_id", "decoder_start_token_id", "initializer_range", "rms_norm_eps", "layer_norm_eps",
    "layer_norm_epsilon", "norm_eps", "use_cache", "attention_dropout", "hidden_dropout", "dropout",
    "embd_pdrop", "resid_pdrop", "attn_pdrop", "attention_bias", "mlp_bias", "bias", "hidden_act",
    "hidden_activation", "mlp_hidden_act", "pretraining_tp", "tokenizer_class", "torchscript",
    "output_attentions", "output_hidden_states", "return_dict", "use_return_dict", "is_encoder_decoder",
    "id2label", "label2id", "problem_type", "tie_encoder_decoder", "chunk_size_feed_forward", "cache_implementation",
    # positions: context_length comes from max_position_embeddings alone
    "rope_theta", "rope_scaling", "rope_parameters", "rope_local_base_freq", "partial_rotary_factor",
    "rotary_pct", "rotary_emb_base", "initial_context_length", "original_max_position_embeddings",
    # attention and logit numerics
    "query_pre_attn_scalar", "attn_logit_softcapping", "final_logit_softcapping", "use_qk_norm", "qk_layernorm",
    "attn_temperature_tuning", "floor_scale", "attn_scale", "swiglu_limit",
    # routing numerics (the expert counts are read elsewhere)
    "output_router_logits", "router_aux_loss_coef", "router_z_loss_coef", "router_jitter_noise", "norm_topk_prob",
    "routed_scaling_factor", "scoring_func", "topk_method", "n_group", "topk_group", "ep_size", "aux_loss_alpha",
    "seq_aux",
    # multimodal token ids
    "boi_token_index", "eoi_token_index", "image_token_index", "image_token_id", "video_token_id",
    "vision_start_token_id", "vision_end_token_id", "mm_tokens_per_image",
})
"""Keys known to say nothing that a model entry records; they are ignored silently."""

QUANT_IGNORED_KEYS = frozenset({
    "activation_scheme", "weight_block_size", "scale_fmt", "quantization_status", "global_compression_ratio",
    "kv_cache_scheme", "sparsity_config", "transform_config", "version", "zero_point", "desc_act", "sym",
    "static_groups", "true_sequential", "damp_percent", "checkpoint_format", "backend", "exllama_config",
    "use_exllama", "modules_in_block_to_quantize", "lm_head", "model_name_or_path", "model_file_base_name",
    "bnb_4bit_compute_dtype", "bnb_4bit_use_double_quant", "bnb_4bit_quant_storage", "llm_int8_threshold",
    "llm_int8_has_fp16_weight", "llm_int8_enable_fp32_cpu_offload", "kv_cache_quant_algo", "producer",
    "exclude_modules",
})
"""Keys of quantization_config that do not change the weights' format id."""

TEXT_MODEL_TYPES = {"gemma3": "gemma3_text", "llama4": "llama4_text", "qwen3_vl": "qwen3_vl_text",
                    "qwen3_vl_moe": "qwen3_vl_moe_text", "mistral3": "mistral", "gemma3n": "gemma3n_text"}
"""Model type of the text model inside a multimodal config whose text_config names none."""

CLASS_DEFAULTS: dict[str, dict[str, Any]] = {
    "gemma3_text": {"num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256, "vocab_size": 262_208,
                    "max_position_embeddings": 131_072, "tie_word_embeddings": True, "sliding_window_pattern": 6},
    "gemma2": {"tie_word_embeddings": True},
    "gemma": {"tie_word_embeddings": True},
    "llama4_text": {"tie_word_embeddings": False, "no_rope_layer_interval": 4, "interleave_moe_layer_step": 1},
    "llama": {"tie_word_embeddings": False},
    "mistral": {"tie_word_embeddings": False},
    "mixtral": {"tie_word_embeddings": False},
    "qwen2": {"tie_word_embeddings": False},
    "qwen2_moe": {"tie_word_embeddings": False},
    "qwen3": {"tie_word_embeddings": False},
    "qwen3_moe": {"tie_word_embeddings": False},
    "qwen3_next": {"tie_word_embeddings": False},
    "deepseek_v2": {"tie_word_embeddings": False},
    "deepseek_v3": {"tie_word_embeddings": False},
    "gpt_oss": {"tie_word_embeddings": False},
    "phi3": {"tie_word_embeddings": False},
}
"""Defaults of the transformers config classes (by model_type) used where a config omits the key.
A key absent from the config and from this table falls back to PretrainedConfig's default
(tie_word_embeddings true) or is an error."""

CLASS_NAMES = {"gemma3_text": "Gemma3TextConfig", "gemma2": "Gemma2Config", "gemma": "GemmaConfig",
               "llama4_text": "Llama4TextConfig", "llama": "LlamaConfig", "mistral": "MistralConfig",
               "mixtral": "MixtralConfig", "qwen2": "Qwen2Config", "qwen2_moe": "Qwen2MoeConfig",
               "qwen3": "Qwen3Config", "qwen3_moe": "Qwen3MoeConfig", "qwen3_next": "Qwen3NextConfig",
               "deepseek_v2": "DeepseekV2Config", "deepseek_v3": "DeepseekV3Config", "gpt_oss": "GptOssConfig",
               "phi3": "Phi3Config"}

GATED_MLP_TYPES = frozenset({
    "llama", "llama4_text", "mistral", "mixtral", "ministral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe",
    "qwen3_next", "qwen3_5", "qwen3_5_moe", "deepseek_v2", "deepseek_v3", "deepseek_v32", "kimi_k2", "gemma",
    "gemma2", "gemma3_text", "gpt_oss", "phi3", "olmo", "olmo2", "olmoe", "granite", "granitemoe", "cohere",
    "cohere2", "smollm3", "glm", "glm4", "glm4_moe", "minimax_m2", "exaone4", "internlm2", "baichuan", "yi",
    "hunyuan_v1_dense", "hunyuan_v1_moe", "ernie4_5", "ernie4_5_moe", "seed_oss", "apertus", "arcee",
    "dots1", "bailing_moe",
})
"""Model types whose feed-forward blocks have three matrices (SwiGLU or GeGLU)."""
PLAIN_MLP_TYPES = frozenset({"gpt2", "gpt_neox", "gptj", "phi", "falcon", "starcoder2", "opt", "bloom",
                             "gpt_bigcode", "nemotron", "mpt"})
"""Model types whose feed-forward blocks have two matrices."""

OUTPUT_GATE_TYPES = frozenset({"qwen3_next"})
"""Model types whose attention always gates its output (no attn_output_gate key in their configs)."""
SHARED_EXPERT_TYPES = {"llama4_text": 1}
"""Model types whose MoE layers always add shared experts the config does not count."""
DELTANET_TYPES = frozenset({"qwen3_next", "qwen3_5", "qwen3_5_moe", "qwen3_5_text", "qwen3_5_moe_text"})
"""Model types whose linear-attention layers are Gated DeltaNet (linear_* keys)."""

PATTERN_KEYS = ("layer_types", "sliding_window_pattern", "full_attention_interval", "use_sliding_window",
                "max_window_layers", "no_rope_layers", "no_rope_layer_interval", "attention_chunk_size",
                "sliding_window")
"""Keys that lay out the attention kind of each layer."""

LAYER_TYPES = {"full_attention": "full", "sliding_attention": "sliding", "chunked_attention": "chunked",
               "linear_attention": "linear", "attention": "full"}
"""layer_types entries and the schema's layer kinds."""

TORCH_DTYPES = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32", "half": "fp16", "float": "fp32",
                "float8_e4m3fn": "fp8-e4m3", "float8_e5m2": "fp8-e5m2"}
"""torch_dtype / dtype values and the format ids of kb/formats."""

FORMAT_BITS = {"bf16": 16.0, "fp16": 16.0, "fp32": 32.0, "fp8-e4m3": 8.0, "fp8-e5m2": 8.0, "mxfp4": 4.25,
               "nvfp4": 4.5, "awq-int4": 4.15625, "gptq-int4": 4.15625, "int8": 8.0, "int4": 4.0, "nf4": 4.5}
"""Effective bits per weight of the formats the importer names (as in kb/formats), for the index check."""

UNSUPPORTED_HINTS = (
    ("Mamba-2 layers", ("hybrid_override_pattern", "mamba_num_heads", "mamba_head_dim", "mamba_d_state",
                        "mamba_d_conv", "mamba_expand", "ssm_state_size", "time_step_rank", "mamba_n_groups",
                        "mamba_chunk_size", "attn_layer_period", "attn_layer_offset", "layers_block_type"), True),
    ("DeepSeek Sparse Attention's indexer", ("index_n_heads", "index_head_dim", "index_topk"), False),
    ("multi-token-prediction (MTP) layers", ("num_nextn_predict_layers", "mtp_num_hidden_layers",
                                              "num_mtp_layers", "mtp_num_layers"), False),
)
"""(design, its config keys, whether the entry would be wrong without it)."""

ARCH_KEYS = {
    "layers": "num_hidden_layers", "hidden_size": "hidden_size", "attention_heads": "num_attention_heads",
    "kv_heads": "num_key_value_heads", "head_dim": "head_dim", "intermediate_size": "intermediate_size",
    "vocab_size": "vocab_size", "context_length": "max_position_embeddings",
    "tie_word_embeddings": "tie_word_embeddings", "sliding_window": "sliding_window",
    "attention_chunk_size": "attention_chunk_size", "mla.kv_lora_rank": "kv_lora_rank",
    "mla.q_lora_rank": "q_lora_rank", "mla.qk_rope_head_dim": "qk_rope_head_dim",
    "mla.qk_nope_head_dim": "qk_nope_head_dim", "mla.v_head_dim": "v_head_dim",
    "linear_attention.key_heads": "linear_num_key_heads", "linear_attention.value_heads": "linear_num_value_heads",
    "linear_attention.key_head_dim": "linear_key_head_dim",
    "linear_attention.value_head_dim": "linear_value_head_dim",
    "linear_attention.conv_kernel": "linear_conv_kernel_dim", "moe.experts_per_token": "num_experts_per_tok",
    "moe.expert_intermediate_size": "moe_intermediate_size",
}
"""Schema field -> the config key it usually comes from (for messages when no better origin is known)."""


# Reading untrusted JSON ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _NonFinite:
    """A NaN, Infinity or overflowing number met while parsing; refused wherever it stands."""

    text: str


def _shown(value: Any) -> str:
    """A value as a message repeats it: JSON spelling, shortened."""
    if isinstance(value, _NonFinite):
        return value.text
    try:
        text = json.dumps(value, ensure_ascii=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."


def _word(value: Any) -> str:
    """A config string in a message: bare when it is one plain word, else quoted and shortened."""
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_.\-]{1,40}", value):
        return value
    return _shown(value)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ConfigError(f"key {_shown(key)} appears twice in one object")
        result[key] = value
    return result


def _parse_float(text: str) -> float | _NonFinite:
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)


def _depth_ok(text: str) -> bool:
    """Whether no array or object nests deeper than MAX_DEPTH (brackets inside strings excluded)."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif char in "]}":
            depth -= 1
    return True


def read_json(path: Path, limit: int, what: str) -> dict[str, Any]:
    """The JSON object in ``path``: at most ``limit`` bytes of UTF-8, unique keys, one object.
    ConfigUsageError when the path is not a readable file, ConfigError when its content is refused."""
    if not path.is_file():
        raise ConfigUsageError(f"{what}: no such file: {path}")
    try:
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise ConfigUsageError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > limit:
        raise ConfigError(f"{what} is larger than {limit:,} bytes; refused")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} is not UTF-8 text (byte {exc.start})") from None
    if not _depth_ok(text):
        raise ConfigError(f"{what} nests arrays and objects deeper than {MAX_DEPTH} levels; refused")
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_float=_parse_float,
                          parse_constant=_NonFinite)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of more than 4,300 digits
        raise ConfigError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{what} must hold one JSON object {{...}}, not {_json_type(data)}")
    return data


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float, _NonFinite)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null"


def _non_finite(value: Any, at: str = "") -> Iterator[str]:
    """Dotted paths of the non-finite numbers inside ``value``."""
    if isinstance(value, _NonFinite):
        yield at or "(top level)"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _non_finite(item, f"{at}.{key}" if at else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _non_finite(item, f"{at}.{i}" if at else str(i))


class _Keys:
    """One config object, read key by key: each read marks the key used, checks its type and
    records a message (naming the key) for a wrong one."""

    def __init__(self, data: dict[str, Any], prefix: str, errors: list[str]) -> None:
        self.data = data
        self.prefix = prefix
        self.errors = errors
        self.used: set[str] = set()

    def name(self, key: str) -> str:
        """The key as messages name it (text_config.hidden_size)."""
        return f"{self.prefix}{key}"

    def has(self, key: str) -> bool:
        """Whether the key is present and not null."""
        return self.data.get(key) is not None

    def raw(self, key: str) -> Any:
        """The value (None when absent or null), marking the key used."""
        self.used.add(key)
        value = self.data.get(key)
        return None if isinstance(value, _NonFinite) else value  # already reported

    def _wrong(self, key: str, expected: str, value: Any) -> None:
        self.errors.append(f"{self.name(key)}: expected {expected}, got {_json_type(value)} {_shown(value)}")

    def whole(self, key: str) -> int | None:
        """A whole number (a boolean or a fraction is refused)."""
        value = self.raw(key)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        self._wrong(key, "a whole number", value)
        return None

    def flag(self, key: str) -> bool | None:
        """true or false."""
        value = self.raw(key)
        if value is None or isinstance(value, bool):
            return value
        self._wrong(key, "true or false", value)
        return None

    def text(self, key: str) -> str | None:
        """A string."""
        value = self.raw(key)
        if value is None or isinstance(value, str):
            return value
        self._wrong(key, "a string", value)
        return None

    def array(self, key: str) -> list[Any] | None:
        """A list."""
        value = self.raw(key)
        if value is None or isinstance(value, list):
            return value
        self._wrong(key, "a list", value)
        return None

    def mapping(self, key: str) -> dict[str, Any] | None:
        """An object."""
        value = self.raw(key)
        if value is None or isinstance(value, dict):
            return value
        self._wrong(key, "an object", value)
        return None

    def unused(self) -> list[str]:
        """Keys neither read nor known to be irrelevant."""
        return [self.name(k) for k in self.data if k not in self.used and k not in IGNORED_KEYS]


# The result -------------------------------------------------------------------------------
@dataclass(slots=True)
class Report:
    """What an import did not carry over, what it assumed, and what it checked."""

    not_used: list[str] = field(default_factory=list)
    """Config keys the importer does not know: reported, never guessed at."""
    cannot_express: list[str] = field(default_factory=list)
    """Designs the schema has no field for (vision encoders, MTP layers, ...), with their keys."""
    defaults: list[str] = field(default_factory=list)
    """Values taken from transformers class defaults because the config omits them."""
    checks: list[str] = field(default_factory=list)
    """Assumptions to check and cross-checks (parameter counts, quantization details)."""

    def lines(self) -> list[str]:
        """The report as lines for stderr."""
        out = []
        if self.not_used:
            out.append("not used: " + ", ".join(self.not_used))
        out += self.cannot_express
        if self.defaults:
            out.append("defaults used (absent from the config): " + "; ".join(self.defaults))
        out += self.checks
        return out


@dataclass(slots=True)
class Imported:
    """A config read into the schema's terms."""

    architecture: ModelArchitecture
    native_dtype: str | None
    """Format id of the released weights, None when the config does not say."""
    native_groups: dict[str, str | None]
    """Tensor groups kept in another format (None: that format is unknown)."""
    model_type: str | None
    name: str | None
    """The `_name_or_path` of the config (owner/name), when it has one."""
    origins: dict[str, str]
    """Schema field (dotted, under architecture) -> where its value came from."""
    native_origin: str
    report: Report
    params: int
    """Parameters computed from the architecture (language model only)."""
    params_active: int
    vision: str | None = None
    """A description of the vision encoder the schema leaves out."""


# Building the architecture ------------------------------------------------------------------
class _Builder:
    """Reads one config into the schema's architecture, collecting errors and the report."""

    def __init__(self, top: dict[str, Any]) -> None:
        self.errors: list[str] = [f"{at}: a non-finite number ({_shown(_at(top, at))}) is refused"
                                  for at in _non_finite(top)]
        self.report = Report()
        self.top = _Keys(top, "", self.errors)
        self.text = self.top
        self.vision: str | None = None
        nested = top.get("text_config")
        if "text_config" in top:
            sub = self.top.mapping("text_config")
            if sub is not None:
                self.text = _Keys(sub, "text_config.", self.errors)
            elif nested is not None:
                raise ConfigError("; ".join(self.errors))
        self.model_type = self._model_type()
        self.origins: dict[str, str] = {}
        self.used_defaults: set[str] = set()

    def _model_type(self) -> str | None:
        inner = self.text.text("model_type") if self.text is not self.top else None
        outer = self.top.text("model_type")
        if inner:
            return inner
        if outer and self.text is not self.top:
            return TEXT_MODEL_TYPES.get(outer, outer)
        return outer

    # values with their origin -------------------------------------------------------------
    def default(self, key: str) -> Any:
        """The class default of ``key`` for this model type (None when unknown)."""
        return CLASS_DEFAULTS.get(self.model_type or "", {}).get(key)

    def _note_default(self, key: str, value: Any, target: str) -> None:
        cls = CLASS_NAMES.get(self.model_type or "", self.model_type or "the config class")
        self.report.defaults.append(f"{self.text.name(key)} = {_shown(value)} ({cls} default)")
        self.origins[target] = f"absent from config.json; {cls} default"
        self.used_defaults.add(target)

    def whole(self, key: str, target: str | None = None, required: bool = False) -> int | None:
        """A whole number from the text config, else the class default, else None (or an error)."""
        value = self.text.whole(key)
        if value is not None:
            if target:
                self.origins.setdefault(target, self.text.name(key))
            return value
        if self.text.has(key):
            return None  # wrongly typed: already reported
        default = self.default(key)
        if default is not None:
            if target:
                self._note_default(key, default, target)
            return default
        if required:
            self.errors.append(f"{self.text.name(key)}: missing")
        return None

    def first_whole(self, keys: tuple[str, ...], target: str) -> int | None:
        """The value of whichever of ``keys`` the config gives; they must agree when several do."""
        found = [(k, self.text.whole(k)) for k in keys if self.text.has(k)]
        values = {v for _, v in found if v is not None}
        if len(values) > 1:
            shown = ", ".join(f"{self.text.name(k)} = {v}" for k, v in found)
            self.errors.append(f"{shown}: the config gives different values for one quantity")
            return None
        if not found or not values:
            return None
        self.origins[target] = " / ".join(self.text.name(k) for k, _ in found)
        return values.pop()

    def _at_least_one(self, key: str) -> None:
        self.errors.append(f"{self.text.name(key)}: expected a whole number of at least 1")

    # the whole architecture ------------------------------------------------------------
    def build(self) -> dict[str, Any]:
        """The architecture as a dict for `ModelArchitecture` (not yet validated)."""
        self._unsupported()
        layers = self.whole("num_hidden_layers", "layers", required=True)
        hidden = self.whole("hidden_size", "hidden_size", required=True)
        heads = self.whole("num_attention_heads", "attention_heads", required=True)
        kv_heads = self.whole("num_key_value_heads", "kv_heads")
        if kv_heads is None and heads is not None and not self.text.has("num_key_value_heads"):
            kv_heads = heads
            self.origins["kv_heads"] = "num_key_value_heads absent: one KV head per query head (MHA)"
        vocab = self.whole("vocab_size", "vocab_size", required=True)
        context = self.whole("max_position_embeddings", "context_length", required=True)
        tie = self._tie()
        if layers is not None and not 1 <= layers <= MAX_LAYERS:
            layers_known: int | None = None  # the schema reports it; no per-layer lists of that length
        else:
            layers_known = layers
        arch: dict[str, Any] = {"layers": layers, "hidden_size": hidden, "attention_heads": heads,
                                "kv_heads": kv_heads, "vocab_size": vocab, "context_length": context,
                                "tie_word_embeddings": tie}
        mla = self._mla()
        arch["head_dim"] = self._head_dim(hidden, heads, mla)
        if mla is not None:
            arch["attention"] = "mla"
            arch["mla"] = mla
        elif kv_heads is not None and heads is not None:
            arch["attention"] = "mha" if kv_heads == heads else "mqa" if kv_heads == 1 else "gqa"
        pattern = self._layer_pattern(layers_known)
        arch["layer_pattern"] = pattern
        if "sliding" in pattern:
            arch["sliding_window"] = self.whole("sliding_window", "sliding_window")
            if arch["sliding_window"] is None:
                self.errors.append(f"{self.text.name('sliding_window')}: missing, but layers use a sliding window")
        if "chunked" in pattern:
            arch["attention_chunk_size"] = self.whole("attention_chunk_size", "attention_chunk_size")
        gate = self.text.flag("attn_output_gate")
        if gate is not None:
            arch["attention_output_gate"] = gate
            self.origins["attention_output_gate"] = self.text.name("attn_output_gate")
        elif self.model_type in OUTPUT_GATE_TYPES:
            arch["attention_output_gate"] = True
            self.origins["attention_output_gate"] = f"model_type {self.model_type}: the attention output is gated"
            self.report.defaults.append(f"attention output gate = true (always on in model_type {self.model_type})")
        if "linear" in pattern:
            linear = self._linear_attention()
            if linear is not None:
                arch["linear_attention"] = linear
        arch["gated_mlp"] = self._gated()
        moe, dense_width = self._moe(layers_known)
        arch["intermediate_size"] = dense_width
        if moe is not None:
            arch["moe"] = moe
        return arch

    def _tie(self) -> bool | None:
        value = self.text.flag("tie_word_embeddings")
        if value is None and self.text is not self.top and self.top.has("tie_word_embeddings"):
            value = self.top.flag("tie_word_embeddings")
            if value is not None:
                self.origins["tie_word_embeddings"] = "tie_word_embeddings"
                return value
        if value is not None:
            self.origins["tie_word_embeddings"] = self.text.name("tie_word_embeddings")
            return value
        if self.text.has("tie_word_embeddings"):
            return None
        default = self.default("tie_word_embeddings")
        if default is not None:
            self._note_default("tie_word_embeddings", default, "tie_word_embeddings")
            return bool(default)
        self.report.defaults.append("tie_word_embeddings = true (PretrainedConfig default; model_type "
                                    f"{self.model_type or '(none)'} is not in the importer's table: check it)")
        self.origins["tie_word_embeddings"] = "absent from config.json; PretrainedConfig default (check)"
        return True

    def _mla(self) -> dict[str, Any] | None:
        if not self.text.has("kv_lora_rank"):
            self.text.raw("kv_lora_rank")
            return None
        mla = {"kv_lora_rank": self.whole("kv_lora_rank", "mla.kv_lora_rank"),
               "q_lora_rank": self.whole("q_lora_rank", "mla.q_lora_rank"),
               "qk_rope_head_dim": self.whole("qk_rope_head_dim", "mla.qk_rope_head_dim", required=True),
               "qk_nope_head_dim": self.whole("qk_nope_head_dim", "mla.qk_nope_head_dim", required=True),
               "v_head_dim": self.whole("v_head_dim", "mla.v_head_dim", required=True)}
        if mla["q_lora_rank"] is None:
            self.origins["mla.q_lora_rank"] = f"{self.text.name('q_lora_rank')} null: queries are not compressed"
        return mla

    def _head_dim(self, hidden: int | None, heads: int | None, mla: dict[str, Any] | None) -> int | None:
        if mla is not None:
            nope, rope = mla["qk_nope_head_dim"], mla["qk_rope_head_dim"]
            if nope is None or rope is None:
                return None
            given = self.text.whole("head_dim")
            if given is not None and given != nope + rope:
                self.report.checks.append(f"{self.text.name('head_dim')} = {given} differs from qk_nope_head_dim + "
                                          f"qk_rope_head_dim = {nope + rope}, which the entry uses for MLA")
            self.origins["head_dim"] = (f"MLA query/key head = qk_nope_head_dim {nope} + qk_rope_head_dim {rope} "
                                        "(value heads are v_head_dim)")
            return nope + rope
        value = self.whole("head_dim", "head_dim")
        if value is not None or self.text.has("head_dim"):
            return value
        if hidden is None or heads is None or heads < 1:
            return None
        if hidden % heads:
            self.errors.append(f"{self.text.name('head_dim')}: missing, and hidden_size {hidden} is not a multiple of "
                               f"num_attention_heads {heads}")
            return None
        self.origins["head_dim"] = "no head_dim in config.json; hidden_size / num_attention_heads, as HF code does"
        return hidden // heads

    # layer kinds -------------------------------------------------------------------------
    def _layer_pattern(self, layers: int | None) -> list[str]:
        kinds = self._layer_kinds(layers)
        for key in PATTERN_KEYS:  # the keys that lay out the layers, superseded by the one that decided
            self.text.raw(key)
        if kinds is None:
            return ["full"]
        period = _period(kinds)
        return kinds[:period]

    def _layer_kinds(self, layers: int | None) -> list[str] | None:
        """The attention kind of every layer, as the config lays them out (None: every layer full)."""
        mt = self.model_type or ""
        types = self.text.array("layer_types")
        if types is not None:
            return self._from_layer_types(types, layers)
        if layers is None:
            return None
        if mt in DELTANET_TYPES and self.text.has("full_attention_interval"):
            every = self.text.whole("full_attention_interval")
            if every is None or every < 1:
                self._at_least_one("full_attention_interval")
                return None
            self.origins["layer_pattern"] = f"full_attention_interval {every}: linear attention in the other layers"
            return ["full" if (i + 1) % every == 0 else "linear" for i in range(layers)]
        if mt == "gemma3_text":
            every = self.whole("sliding_window_pattern", "layer_pattern")
            if every is None or every < 1:
                self._at_least_one("sliding_window_pattern")
                return None
            self.origins["layer_pattern"] = f"sliding_window_pattern {every}: every {every}th layer is global"
            return ["full" if (i + 1) % every == 0 else "sliding" for i in range(layers)]
        if mt == "gemma2":
            self.origins["layer_pattern"] = "Gemma 2 alternates: even-indexed layers slide, odd ones are global"
            return ["sliding" if i % 2 == 0 else "full" for i in range(layers)]
        if mt == "llama4_text":
            return self._llama4_kinds(layers)
        use = self.text.flag("use_sliding_window")
        window = self.text.raw("sliding_window") if self.text.has("sliding_window") else None
        if use is False or window is None:
            self.text.raw("max_window_layers")
            if use is False:
                self.origins["layer_pattern"] = "use_sliding_window is false"
            elif self.text.data.get("sliding_window", 0) is None:
                self.origins["layer_pattern"] = "sliding_window null"
            return None
        bound = self.text.whole("max_window_layers") if use else None
        if bound is None or bound <= 0:
            self.origins["layer_pattern"] = f"sliding_window {_shown(window)} applies to every layer"
            return ["sliding"] * layers
        if bound >= layers:
            self.origins["layer_pattern"] = f"max_window_layers {bound}: no layer slides"
            return None
        self.errors.append(f"{self.text.name('max_window_layers')} = {bound}: the schema cannot express a sliding "
                           f"window on the layers from {bound} on only")
        return None

    def _from_layer_types(self, types: list[Any], layers: int | None) -> list[str] | None:
        name = self.text.name("layer_types")
        if layers is not None and len(types) != layers:
            self.errors.append(f"{name}: {len(types)} entries for {layers} layers")
            return None
        kinds = []
        unknown = sorted({_shown(t) for t in types if not isinstance(t, str) or t not in LAYER_TYPES})
        if unknown:
            self.errors.append(f"{name}: the schema cannot express layers of type {', '.join(unknown)} yet")
            return None
        kinds = [LAYER_TYPES[t] for t in types]
        self.origins["layer_pattern"] = f"{name}, repeating from the first layer"
        return kinds

    def _llama4_kinds(self, layers: int) -> list[str] | None:
        chunk = self.text.has("attention_chunk_size")
        rope_layers = self.text.array("no_rope_layers")
        if rope_layers:
            if len(rope_layers) != layers or any(v not in (0, 1) or isinstance(v, bool) for v in rope_layers):
                self.errors.append(f"{self.text.name('no_rope_layers')}: expected {layers} entries of 0 or 1")
                return None
            uses_rope = [v == 1 for v in rope_layers]
            origin = "no_rope_layers"
        else:
            every = self.whole("no_rope_layer_interval", "layer_pattern")
            if every is None or every < 1:
                self._at_least_one("no_rope_layer_interval")
                return None
            uses_rope = [(i + 1) % every != 0 for i in range(layers)]
            origin = f"no_rope_layer_interval {every}"
        if not chunk:
            self.origins["layer_pattern"] = "attention_chunk_size absent: every layer attends to the whole context"
            return None
        self.origins["layer_pattern"] = f"{origin}: RoPE layers use chunked attention, NoPE layers are global"
        return ["chunked" if rope else "full" for rope in uses_rope]

    def _linear_attention(self) -> dict[str, Any] | None:
        keys = ("linear_num_key_heads", "linear_num_value_heads", "linear_key_head_dim", "linear_value_head_dim",
                "linear_conv_kernel_dim")
        if (self.model_type or "") not in DELTANET_TYPES:
            present = [self.text.name(k) for k in self.text.data if k.startswith("linear_")]
            self.report.cannot_express.append(
                f"the schema cannot express the linear-attention layers of model_type {self.model_type} yet"
                + (f" ({', '.join(present)})" if present else "")
                + ": they are counted like attention layers for parameters and hold no state")
            for k in self.text.data:
                if k.startswith("linear_"):
                    self.text.raw(k)
            return None
        values = [self.whole(k, f"linear_attention.{n}", required=True) for k, n in
                  zip(keys, ("key_heads", "value_heads", "key_head_dim", "value_head_dim", "conv_kernel"), strict=True)]
        return {"kind": "gated-deltanet", "key_heads": values[0], "value_heads": values[1],
                "key_head_dim": values[2], "value_head_dim": values[3], "conv_kernel": values[4]}

    def _gated(self) -> bool:
        mt = self.model_type or ""
        if mt in PLAIN_MLP_TYPES:
            self.origins["gated_mlp"] = f"model_type {mt}: two-matrix feed-forward blocks"
            return False
        if mt in GATED_MLP_TYPES:
            self.origins["gated_mlp"] = f"model_type {mt}: gate, up and down projections"
            return True
        self.report.checks.append(f"check gated_mlp: model_type {mt or '(none)'} is not in the importer's table; "
                                  "assumed three feed-forward matrices (SwiGLU/GeGLU)")
        self.origins["gated_mlp"] = f"TODO: check; model_type {mt or '(none)'} is not known to the importer"
        return True

    # mixture of experts --------------------------------------------------------------------
    def _moe(self, layers: int | None) -> tuple[dict[str, Any] | None, int | None]:
        """The moe block and the dense FFN width (None when no layer is dense)."""
        experts = self.first_whole(("n_routed_experts", "num_local_experts", "num_experts", "moe_num_experts"),
                                   "moe.experts")
        width = self.whole("intermediate_size")
        if experts is not None and experts < 0:
            self.errors.append(f"{self.origins.get('moe.experts', 'num_experts')} = {experts}: the number of experts "
                               "cannot be negative")
            return None, width
        if experts is None or experts < 2 or layers is None:
            if experts is not None and experts < 2:
                self.origins.pop("moe.experts", None)
                self.report.checks.append(f"{experts} expert(s) per layer: read as a dense model")
            self.origins["intermediate_size"] = self.text.name("intermediate_size")
            if width is None and not self.text.has("intermediate_size"):
                self.errors.append(f"{self.text.name('intermediate_size')}: missing")
            return None, width
        per_token = self.first_whole(("num_experts_per_tok", "experts_per_token", "moe_topk", "num_experts_per_token"),
                                     "moe.experts_per_token")
        if per_token is None:
            self.errors.append(f"{self.text.name('num_experts_per_tok')}: missing for a model with {experts} experts")
        moe_width = self.whole("moe_intermediate_size")
        dense_width = width
        if moe_width is not None:
            self.origins["moe.expert_intermediate_size"] = self.text.name("moe_intermediate_size")
        else:
            moe_width = width
            self.origins["moe.expert_intermediate_size"] = f"{self.text.name('intermediate_size')} (no " \
                                                           "moe_intermediate_size: the expert width)"
            dense_width = self.whole("intermediate_size_mlp")
        moe_layers = self._moe_layers(layers)
        if moe_layers is None:
            return None, None
        placed = _fit_moe_layers(moe_layers)
        if placed is None:
            shown = ", ".join(str(i) for i, on in enumerate(moe_layers) if on)[:200]
            self.errors.append(f"the schema cannot express MoE on layers {shown} "
                               "(leading dense layers, then every n-th layer)")
            return None, None
        dense_layers, interval = placed
        has_dense = not all(moe_layers)
        shared = self._shared(moe_width)
        moe = {"experts": experts, "experts_per_token": per_token, "shared_experts": shared,
               "expert_intermediate_size": moe_width, "dense_layers": dense_layers, "layer_interval": interval}
        if not has_dense:
            if dense_width is not None:
                self.origins["intermediate_size"] = "every layer is MoE (no dense FFN width needed)"
            else:
                self.origins["intermediate_size"] = "every layer is MoE"
            return moe, None
        if dense_width is None:
            self.errors.append(f"{self.text.name('intermediate_size')}: missing, but some layers have a dense FFN")
        key = "intermediate_size_mlp" if self.text.has("intermediate_size_mlp") and moe_width == width else \
            "intermediate_size"
        self.origins["intermediate_size"] = f"{self.text.name(key)}: FFN width of the dense layers"
        return moe, dense_width

    def _moe_layers(self, layers: int) -> list[bool] | None:
        """Which layers are MoE, by the config's own rule."""
        if self.text.has("first_k_dense_replace") or self.text.has("moe_layer_freq"):
            first = self.text.whole("first_k_dense_replace") or 0
            freq = self.text.whole("moe_layer_freq") or 1
            if freq < 1 or first < 0:
                self.errors.append(f"{self.text.name('moe_layer_freq')} must be at least 1 and "
                                   f"{self.text.name('first_k_dense_replace')} at least 0")
                return None
            self.origins["moe.dense_layers"] = self.text.name("first_k_dense_replace")
            self.origins["moe.layer_interval"] = self.text.name("moe_layer_freq")
            return [i >= first and i % freq == 0 for i in range(layers)]
        if self.text.has("decoder_sparse_step") or self.text.has("mlp_only_layers"):
            step = self.text.whole("decoder_sparse_step") or 1
            listed = self.text.array("mlp_only_layers") or []
            if step < 1 or any(not isinstance(i, int) or isinstance(i, bool) for i in listed):
                self.errors.append(f"{self.text.name('decoder_sparse_step')} must be at least 1 and "
                                   f"{self.text.name('mlp_only_layers')} a list of layer numbers")
                return None
            self.origins["moe.layer_interval"] = self.text.name("decoder_sparse_step")
            self.origins["moe.dense_layers"] = self.text.name("mlp_only_layers")
            dense = set(listed)
            return [i not in dense and (i + 1) % step == 0 for i in range(layers)]
        if self.text.has("moe_layers"):
            listed = self.text.array("moe_layers") or []
            if any(not isinstance(i, int) or isinstance(i, bool) for i in listed):
                self.errors.append(f"{self.text.name('moe_layers')}: expected a list of layer numbers")
                return None
            self.origins["moe.layer_interval"] = self.text.name("moe_layers")
            chosen = set(listed)
            return [i in chosen for i in range(layers)]
        if (self.model_type or "") == "llama4_text":
            step = self.whole("interleave_moe_layer_step", "moe.layer_interval")
            if step is None or step < 1:
                self._at_least_one("interleave_moe_layer_step")
                return None
            self.origins.setdefault("moe.layer_interval", self.text.name("interleave_moe_layer_step"))
            return [(i + 1) % step == 0 for i in range(layers)]
        return [True] * layers

    def _shared(self, expert_width: int | None) -> int | None:
        count = self.first_whole(("n_shared_experts", "num_shared_experts"), "moe.shared_experts")
        if count is not None:
            return count
        shared_width = self.text.whole("shared_expert_intermediate_size")
        if shared_width:
            key = self.text.name("shared_expert_intermediate_size")
            if expert_width and shared_width % expert_width == 0:
                count = shared_width // expert_width
                self.origins["moe.shared_experts"] = f"{key} {shared_width} = {count} x the expert width"
                if count > 1:
                    self.report.checks.append(f"{key} {shared_width}: one shared expert {count} times as wide, "
                                              f"counted as {count} shared experts of width {expert_width}")
                return count
            self.errors.append(f"{key} = {shared_width}: the schema cannot express a shared expert whose width is "
                               f"not a multiple of the expert width {expert_width}")
            return None
        fixed = SHARED_EXPERT_TYPES.get(self.model_type or "")
        if fixed:
            self.origins["moe.shared_experts"] = f"model_type {self.model_type} always adds {fixed} shared expert"
            self.report.defaults.append(f"shared experts = {fixed} (always present in model_type {self.model_type})")
            return fixed
        return 0

    # designs the schema lacks -------------------------------------------------------------
    def _unsupported(self) -> None:
        blocking = []
        for design, keys, fatal in UNSUPPORTED_HINTS:
            present = [k for k in keys if self.text.has(k) and self.text.data.get(k) not in (0, False)]
            for k in keys:
                if k in self.text.data:
                    self.text.raw(k)
            if present:
                shown = ", ".join(f"{self.text.name(k)} = {_shown(self.text.data[k])}" for k in present)
                line = f"the schema cannot express {design} yet ({shown})"
                (blocking if fatal else self.report.cannot_express).append(line)
        if any(k.startswith(("mamba_", "ssm_")) for k in self.text.data) and not blocking:
            keys = ", ".join(self.text.name(k) for k in self.text.data if k.startswith(("mamba_", "ssm_")))
            blocking.append(f"the schema cannot express Mamba-2 layers yet ({keys})")
        for k in self.text.data:
            if k.startswith(("mamba_", "ssm_")):
                self.text.raw(k)
        self.errors.extend(blocking)
        for key, what in (("vision_config", "vision encoders"), ("audio_config", "audio encoders")):
            sub = self.top.mapping(key)
            if sub is None:
                continue
            desc = _describe_tower(sub)
            self.report.cannot_express.append(f"the schema cannot express {what} yet ({key}: {desc}); the entry "
                                              "describes the language model only")
            if key == "vision_config":
                self.vision = desc


def _at(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def _describe_tower(sub: dict[str, Any]) -> str:
    parts = []
    for key, label in (("model_type", "model_type"), ("num_hidden_layers", "layers"), ("depth", "layers"),
                       ("hidden_size", "hidden size"), ("num_attention_heads", "heads")):
        value = sub.get(key)
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            parts.append(f"{label} {_shown(value) if isinstance(value, str) else value}")
    return ", ".join(parts) or "no shape given"


def _period(kinds: list[str]) -> int:
    """The shortest p with kinds[i] == kinds[i % p] for every layer."""
    for p in range(1, len(kinds) + 1):
        if all(kinds[i] == kinds[i % p] for i in range(len(kinds))):
            return p
    return len(kinds)


def _fit_moe_layers(moe: list[bool]) -> tuple[int, int] | None:
    """(dense_layers, layer_interval) that reproduce which layers are MoE, or None."""
    layers = len(moe)
    if not any(moe):
        return None
    first = moe.index(True)
    for dense in range(first + 1):
        interval = first - dense + 1
        if all(moe[i] == (i >= dense and (i - dense) % interval == interval - 1) for i in range(layers)):
            return dense, interval
    return None


# Quantization ---------------------------------------------------------------------------------
def _group_of(pattern: str) -> str | None:
    """The weight group a module name or pattern of a quantization exclusion list belongs to."""
    text = pattern.lower()
    if "lm_head" in text or "embed" in text:
        return "embeddings"
    if "router" in text or re.search(r"mlp\.gate(\b|$|\W)", text):
        return "router"
    if "vision" in text or "visual" in text or "mm_projector" in text or "multi_modal" in text:
        return "vision"
    if "attn" in text or "attention" in text:
        return "attention"
    if "shared_expert" in text or "experts" in text:
        return "experts"
    return None


def _native(builder: _Builder) -> tuple[str | None, dict[str, str | None], str]:
    """(native format id, groups kept in other formats, where the format came from)."""
    top, report = builder.top, builder.report
    dtype_key = next((k for k in ("torch_dtype", "dtype") if top.has(k)), None)
    unquantised = None
    origin = "TODO: the config gives no torch_dtype or dtype"
    keys = top
    if dtype_key is None and builder.text is not top:
        keys = builder.text
        dtype_key = next((k for k in ("torch_dtype", "dtype") if keys.has(k)), None)
    for k in ("torch_dtype", "dtype"):
        top.raw(k)
        if builder.text is not top:
            builder.text.raw(k)
    if dtype_key is not None:
        value = keys.text(dtype_key)
        if value is not None:
            unquantised = TORCH_DTYPES.get(value)
            origin = f"{keys.name(dtype_key)} {_word(value)}"
            if unquantised is None:
                report.checks.append(f"{keys.name(dtype_key)} {_shown(value)} is not a format the importer knows")
    quant = top.mapping("quantization_config")
    if quant is None and builder.text is not top:
        quant = builder.text.mapping("quantization_config")
    if not quant:
        return unquantised, {}, origin
    fmt, detail, exclusions = _quantized(quant, builder)
    groups: dict[str, str | None] = {}
    for name in exclusions:
        group = _group_of(name)
        if group in ("router", "vision"):
            continue
        if group is None:
            report.checks.append(f"quantization_config: cannot place {_shown(name)} (left unquantised) in a tensor "
                                 "group; check native_groups")
            continue
        groups[group] = unquantised
    if groups and unquantised is None:
        report.checks.append("TODO native_groups: the config gives no torch_dtype, so the format of the tensors the "
                             "quantization leaves out is unknown")
    return fmt, groups, detail


def _quantized(quant: dict[str, Any], builder: _Builder) -> tuple[str | None, str, list[str]]:
    """(format id, description, module names left unquantised) of a quantization_config."""
    q = _Keys(quant, "quantization_config.", builder.errors)
    method = q.text("quant_method")
    exclusions: list[str] = []
    for key in ("modules_to_not_convert", "ignore", "ignored_layers", "llm_int8_skip_modules", "exclude_modules"):
        listed = q.array(key)
        if listed:
            exclusions += [str(m) for m in listed if isinstance(m, str)]
    fmt: str | None = None
    detail = f"quantization_config.quant_method {_word(method) if method else 'missing'}"
    if method == "fp8" or method == "fbgemm_fp8":
        element = q.text("fmt") or "e4m3"
        fmt = {"e4m3": "fp8-e4m3", "e5m2": "fp8-e5m2"}.get(element)
        block = q.array("weight_block_size")
        detail += f", fmt {_word(element)}"
        if block and len(block) == 2:
            detail += f", blocks {_shown(block[0])}x{_shown(block[1])}"
    elif method == "mxfp4":
        fmt = "mxfp4"
    elif method in ("awq", "gptq"):
        bits = q.whole("bits") if q.has("bits") else q.whole("w_bit")
        q.raw("w_bit")
        group = q.whole("group_size") if q.has("group_size") else q.whole("q_group_size")
        q.raw("q_group_size")
        if bits == 4:
            fmt = f"{method}-int4"
            if group is not None and group != 128:
                builder.report.checks.append(f"quantization_config.group_size {group}: the {fmt} format entry "
                                             "assumes groups of 128")
        elif bits == 8:
            fmt = "int8"
        detail += f", {bits} bits"
    elif method == "compressed-tensors":
        fmt, detail = _compressed_tensors(q, builder)
    elif method == "modelopt":
        algo = q.text("quant_algo")
        fmt = {"FP8": "fp8-e4m3", "NVFP4": "nvfp4"}.get(algo or "")
        detail += f", quant_algo {_word(algo)}"
    elif method == "bitsandbytes":
        if q.flag("load_in_4bit"):
            kind = q.text("bnb_4bit_quant_type") or "fp4"
            fmt = "nf4" if kind == "nf4" else None
            detail += f", 4-bit {_word(kind)}"
        elif q.flag("load_in_8bit"):
            fmt = "int8"
            detail += ", 8-bit"
        q.raw("load_in_8bit")
        q.raw("bnb_4bit_quant_type")
    for key in quant:
        if key in QUANT_IGNORED_KEYS:
            q.raw(key)
    if fmt is None:
        builder.report.checks.append(f"TODO native_dtype: {detail} is not a quantization the importer can name "
                                     "a kb/formats entry for")
        detail = "TODO: " + detail
    builder.report.not_used += [k for k in q.unused()]
    return fmt, detail, exclusions


def _compressed_tensors(q: _Keys, builder: _Builder) -> tuple[str | None, str]:
    groups = q.mapping("config_groups") or {}
    q.raw("format")
    found = set()
    for name, group in groups.items():
        weights = group.get("weights") if isinstance(group, dict) else None
        if not isinstance(weights, dict):
            builder.errors.append(f"quantization_config.config_groups.{name}.weights: expected an object")
            continue
        bits, kind, size = weights.get("num_bits"), weights.get("type"), weights.get("group_size")
        if kind == "float" and bits == 8:
            found.add("fp8-e4m3")
        elif kind == "float" and bits == 4 and size == 16:
            found.add("nvfp4")
        elif kind == "int" and bits == 8:
            found.add("int8")
        elif kind == "int" and bits == 4 and size == 128:
            found.add("gptq-int4")
            builder.report.checks.append("compressed-tensors int4 weights in groups of 128 are counted as gptq-int4 "
                                         "(4-bit integers with 16-bit group scales)")
        else:
            found.add(f"?{kind}{bits}")
    detail = "quantization_config compressed-tensors " + ", ".join(sorted(found))
    known = [f for f in found if not f.startswith("?")]
    if len(found) == 1 and known:
        return known[0], detail
    return None, detail


# Parameters and the index ------------------------------------------------------------------------
def _index_check(index: dict[str, Any], imported: Imported, layers: int) -> list[str]:
    """Lines comparing a model.safetensors.index.json with the parameters computed from the config."""
    lines = []
    meta = index.get("metadata")
    if not isinstance(meta, dict):
        raise ConfigError("index: metadata: expected an object with total_size")
    computed = imported.params
    total_params = meta.get("total_parameters")
    size = meta.get("total_size")
    for key, value in (("total_parameters", total_params), ("total_size", size)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise ConfigError(f"index: metadata.{key}: expected a positive whole number, got {_shown(value)}")
    if total_params is None and size is None:
        raise ConfigError("index: metadata: neither total_size nor total_parameters is given")
    if total_params is not None:
        diff = (computed - total_params) / total_params
        lines.append(f"parameters: {computed:,} computed from the config, {total_params:,} in the index "
                     f"(metadata.total_parameters): {diff:+.2%}")
    if size is not None:
        bits = _mean_bits(imported)
        if bits is None:
            lines.append(f"parameters: the index holds {size:,} bytes; the weights' format is unknown, so no "
                         "parameter count follows from it")
        else:
            estimate = size * 8 / bits
            diff = (computed - estimate) / estimate
            lines.append(f"parameters: {computed:,} computed from the config; the index's {size:,} bytes at "
                         f"{bits:g} bits per weight ({imported.native_dtype}) are about {estimate:,.0f}: "
                         f"{diff:+.2%}" + (" (mixed formats and scales make this approximate)"
                                          if imported.native_groups or bits < 16 else ""))
    weight_map = index.get("weight_map")
    if isinstance(weight_map, dict):
        names = [n for n in weight_map if isinstance(n, str)]
        extra = set()
        for n in names:
            match = re.search(r"(?:^|\.)layers\.(\d+)\.", n)
            if match and int(match.group(1)) >= layers:
                extra.add(int(match.group(1)))
        vision = sum(1 for n in names if re.search(r"vision|visual|image|mm_projector", n))
        mtp = sum(1 for n in names if ".mtp." in n or n.startswith("mtp."))
        if extra:
            lines.append(f"index: tensors of {len(extra)} layer(s) beyond num_hidden_layers ({min(extra)}..."
                         f"{max(extra)}), e.g. multi-token-prediction modules, are not in the computed count")
        if vision or mtp:
            lines.append(f"index: {vision} vision and {mtp} MTP tensor(s) are not in the computed count")
    return lines


def _mean_bits(imported: Imported) -> float | None:
    if imported.native_dtype is None:
        return None
    bits = FORMAT_BITS.get(imported.native_dtype)
    if bits is None:
        return None
    if imported.native_groups:
        from .calc.params import count_params

        params = count_params(imported.architecture)
        group_params = {"embeddings": params.embedding + params.lm_head, "attention": params.attention,
                        "dense_ffn": params.ffn_dense, "experts": params.ffn_experts}
        total = 0.0
        for group, count in group_params.items():
            fid = imported.native_groups.get(group, imported.native_dtype) or imported.native_dtype
            total += count * FORMAT_BITS.get(fid, bits)
        total += params.norms * 16
        return total / max(params.total, 1)
    return bits


# The import ----------------------------------------------------------------------------------------
def import_data(data: dict[str, Any], index: dict[str, Any] | None = None) -> Imported:
    """Read a parsed config (and optionally a parsed safetensors index) into the schema's terms.
    ConfigError with every problem found, each naming its config key."""
    if not isinstance(data, dict):
        raise ConfigError(f"the config must be one JSON object, not {_json_type(data)}")
    builder = _Builder(data)
    arch_data = builder.build()
    native, groups, native_origin = _native(builder)
    name = builder.top.text("_name_or_path")
    if name is not None and (not name.strip() or len(name) > 200 or disallowed_character(name, "") is not None):
        builder.report.checks.append(f"_name_or_path {_shown(name)} is not used for the id, title or hf_repo: "
                                     "empty, too long or holding control or invisible characters")
        name = None
    unused = builder.text.unused()
    if builder.text is not builder.top:
        unused = builder.top.unused() + unused
    builder.report.not_used = sorted(set(unused + builder.report.not_used))
    if builder.errors:
        raise ConfigError(_join(builder.errors))
    try:
        arch = ModelArchitecture.model_validate(arch_data)
    except ValidationError as exc:
        raise ConfigError(_join(_schema_errors(exc, builder))) from None
    from .calc.params import count_params

    try:
        counted = count_params(arch)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    imported = Imported(arch, native, groups, builder.model_type, name,
                        builder.origins, native_origin, builder.report, counted.total, counted.active,
                        builder.vision)
    if index is not None:
        builder.report.checks += _index_check(index, imported, arch.layers)
    return imported


def _join(errors: list[str]) -> str:
    unique = list(dict.fromkeys(errors))
    if len(unique) == 1:
        return unique[0]
    return "\n".join(["the config cannot be imported:"] + [f"  - {e}" for e in unique])


def _schema_errors(exc: ValidationError, builder: _Builder) -> list[str]:
    """The schema's complaints about the architecture, under the config's key names."""
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        if loc:
            key = _key_of(loc, builder)
            out.append(f"{key} = {_shown(err.get('input'))}: {err['msg']}")
            continue
        message = str(err["msg"]).removeprefix("Value error, ")
        mentioned = [f for f in ("attention_heads", "kv_heads", "sliding_window", "attention_chunk_size",
                                 "value_heads", "key_heads") if f in message]
        keys = ", ".join(_key_of(f, builder) for f in mentioned)
        out.append(message + (f" ({keys})" if keys else ""))
    return out


def _key_of(loc: str, builder: _Builder) -> str:
    """The config key behind a schema field path."""
    origin = builder.origins.get(loc)
    if origin and " " not in origin:
        return origin
    key = ARCH_KEYS.get(loc)
    if key is None and loc.startswith("moe."):
        key = {"moe.experts": "num_experts", "moe.shared_experts": "n_shared_experts",
               "moe.dense_layers": "first_k_dense_replace", "moe.layer_interval": "moe_layer_freq"}.get(loc)
    return builder.text.name(key) if key else f"architecture.{loc}"


def import_config(path: Path, index_path: Path | None = None) -> Imported:
    """Read and import the config.json at ``path`` (and a safetensors index), refusing hostile input."""
    data = read_json(path, MAX_CONFIG_BYTES, "config")
    index = read_json(index_path, MAX_INDEX_BYTES, "index") if index_path is not None else None
    if index is not None:
        bad = list(_non_finite(index))
        if bad:
            raise ConfigError(f"index: {bad[0]}: a non-finite number is refused")
    return import_data(data, index)


# Writing the entry --------------------------------------------------------------------------------
TODO = "TODO"


def derive_id(imported: Imported, path: Path) -> str | None:
    """An entry id from `_name_or_path` (its last part) or the file name, when one can be made."""
    for candidate in (imported.name.rsplit("/", 1)[-1] if imported.name else None,
                      path.stem if path.stem.lower() not in ("config", "") else None):
        if candidate:
            slug = re.sub(r"[^a-z0-9.]+", "-", candidate.lower()).strip("-.")
            slug = re.sub(r"\.{2,}", ".", re.sub(r"-{2,}", "-", slug))
            if slug_ok(slug):
                return slug
    return None


def _variant(name: str) -> str | None:
    text = name.lower()
    if "thinking" in text or "reason" in text:
        return "reasoning"
    if "instruct" in text or re.search(r"(^|[-_])it($|[-_])", text):
        return "instruct"
    if "chat" in text:
        return "chat"
    if "base" in text:
        return "base"
    return None


def _q(text: str) -> str:
    """A double-quoted YAML scalar (JSON string syntax is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _comment(text: str) -> str:
    """A trailing YAML comment: one line of printable characters (config text is hostile)."""
    clean = " ".join("".join(c if c.isprintable() else "?" for c in " ".join(text.split())).split())
    return f"  # {clean}" if clean else ""


def _billions(count: int) -> str:
    return f"{count / 1e9:,.2f}B"


def render_entry(imported: Imported, eid: str, today: dt.date | None = None) -> str:
    """The YAML text of a kb/models/ entry, in the field order and style of the existing ones."""
    today = today or dt.date.today()
    arch = imported.architecture
    origins = imported.origins
    name = imported.name.rsplit("/", 1)[-1] if imported.name else None
    repo = imported.name if imported.name and re.fullmatch(r"[\w.-]+/[\w.-]+", imported.name) else None
    variant = _variant(name or eid)
    lines = ["# yaml-language-server: $schema=../../schema/models.schema.json",
             "# Imported from config.json by `inferbook import-config`. Fill in every TODO from the model card",
             "# (validate refuses the entry until then), add the two sources it names, then run `inferbook fmt`.",
             f"id: {eid}",
             f"title: {_q(name)}" + _comment("from _name_or_path") if name else
             "title: null" + _comment("TODO: display name, e.g. from the model card"),
             "aliases: []",
             "family: null" + _comment("TODO: model family, e.g. \"Llama 3.1\""),
             "organization: null" + _comment("TODO: who released the model"),
             "release_date: null" + _comment("TODO: \"YYYY-MM-DD\" (or YYYY-MM) of the release"),
             "license: null" + _comment("TODO: licence name or SPDX id from the model card"),
             (f"hf_repo: {_q(repo)}" + _comment("from _name_or_path")) if repo else
             "hf_repo: null" + _comment("TODO: owner/name of the Hugging Face repository"),
             f"variant: {variant}" + _comment("from the name; check it") if variant else
             "variant: todo" + _comment("TODO: base, instruct, reasoning or chat"),
             "params_total_b: null" + _comment(f"TODO: total parameters in billions as the model card states them; "
                                               f"computed from the config: {_billions(imported.params)}")]
    if arch.moe is not None:
        lines.append("params_active_b: null" + _comment(f"TODO: active parameters per token from the card; computed: "
                                                        f"{_billions(imported.params_active)}"))
    head = "architecture:"
    if imported.vision is not None:
        head += _comment("text_config of a multimodal config; vision tower excluded")
    lines.append(head)
    lines += _arch_lines(arch, origins)
    if imported.native_dtype is not None:
        lines.append(f"native_dtype: {imported.native_dtype}" + _comment(imported.native_origin))
    else:
        lines.append("native_dtype: todo" + _comment(f"{imported.native_origin}; "
                                                     "TODO: the format id (kb/formats) of the released weights"))
    if imported.native_groups:
        lines.append("native_groups:" + _comment("quantization_config: tensors the quantization leaves out"))
        for group in ("embeddings", "attention", "dense_ffn", "experts"):
            if group in imported.native_groups:
                fid = imported.native_groups[group]
                lines.append(f"  {group}: {fid}" if fid else f"  {group}: todo" + _comment("TODO: their format"))
    lines.append(f"config_source: hf-config-{eid}" + _comment(f"TODO: add kb/sources/hf-config-{eid}.yaml for this "
                                                              "config.json"))
    lines.append(f"source: hf-card-{eid}" + _comment(f"TODO: add kb/sources/hf-card-{eid}.yaml (the model card)"))
    defaulted = sorted(f"architecture.{f}" for f, o in origins.items() if o.startswith("absent from config.json")
                       and "." not in f)
    if defaulted:
        lines += textwrap.wrap("TODO: cite the source of the config class defaults used for " + ", ".join(defaulted)
                               + " under field_sources.", width=100, initial_indent="# ", subsequent_indent="# ",
                               break_on_hyphens=False, break_long_words=False)
    notes = _notes(imported)
    if notes:
        lines.append(f"notes: {_q(notes)}")
    lines.append(f"last_reviewed: {today.isoformat()}")
    text = "\n".join(lines) + "\n"
    from .contrib.fmt import FormatError, format_text

    try:
        return format_text(text, "models")
    except FormatError:  # pragma: no cover - the text above is written in canonical form already
        return text


def _arch_lines(arch: ModelArchitecture, origins: dict[str, str]) -> list[str]:
    def scalar(value: Any) -> str:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, tuple):
            return "[" + ", ".join(str(v) for v in value) + "]"
        return str(value)

    def line(indent: int, key: str, value: Any, at: str) -> str:
        return " " * indent + f"{key}: {scalar(value)}" + _comment(origins.get(at, ""))

    out = [line(2, k, getattr(arch, k), k) for k in ("layers", "hidden_size", "attention_heads", "kv_heads",
                                                    "head_dim", "intermediate_size", "vocab_size", "context_length",
                                                    "tie_word_embeddings", "attention")]
    if arch.mla is not None:
        out.append("  mla:")
        out += [line(4, k, getattr(arch.mla, k), f"mla.{k}") for k in ("kv_lora_rank", "q_lora_rank",
                                                                         "qk_rope_head_dim", "qk_nope_head_dim",
                                                                         "v_head_dim")]
    out.append(line(2, "layer_pattern", arch.layer_pattern, "layer_pattern"))
    for k in ("sliding_window", "attention_chunk_size"):
        if getattr(arch, k) is not None:
            out.append(line(2, k, getattr(arch, k), k))
    if arch.attention_output_gate:
        out.append(line(2, "attention_output_gate", True, "attention_output_gate"))
    if arch.linear_attention is not None:
        la = arch.linear_attention
        keys = "linear_num_key_heads, linear_num_value_heads, linear_key_head_dim, linear_value_head_dim, " \
               "linear_conv_kernel_dim"
        out.append("  linear_attention:" + _comment(keys))
        out += [f"    {k}: {getattr(la, k)}" for k in ("kind", "key_heads", "value_heads", "key_head_dim",
                                                        "value_head_dim", "conv_kernel")]
    out.append(line(2, "gated_mlp", arch.gated_mlp, "gated_mlp"))
    if arch.moe is not None:
        out.append("  moe:")
        out += [line(4, k, getattr(arch.moe, k), f"moe.{k}") for k in ("experts", "experts_per_token",
                                                                         "shared_experts", "expert_intermediate_size",
                                                                         "dense_layers", "layer_interval")]
    return out


def _notes(imported: Imported) -> str:
    parts = ["Architecture imported from config.json by inferbook import-config."]
    parts += [line[0].upper() + line[1:] + "." for line in imported.report.cannot_express]
    text = " ".join(parts)
    return text if len(text) <= 1000 else text[:996] + "..."


def write_new(path: Path, text: str) -> None:
    """Create ``path`` with ``text`` atomically; FileExistsError when it exists (never overwritten)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        try:
            os.link(tmp, path)  # fails when the target exists, even if it appeared a moment ago
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links
            if path.exists() or path.is_symlink():
                raise FileExistsError(str(path)) from None
            os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


# Ad-hoc models for the calculators --------------------------------------------------------------------
@dataclass(slots=True)
class AdHocModel:
    """A model described only by a config.json, for `kv --config` and `fit --config`."""

    model: LlmModel
    report: Report
    native_known: bool
    """False when the config does not say the weights' format (the model then claims bf16)."""


def adhoc_model(path: Path, formats: Any = None) -> AdHocModel:
    """An in-memory `LlmModel` for the config at ``path``, with placeholder provenance; it is not
    added to the knowledge base. ``formats`` (id -> entry) drops formats the KB does not have."""
    imported = import_config(path)
    eid = derive_id(imported, path) or "config"
    known = imported.native_dtype is not None and (formats is None or imported.native_dtype in formats)
    groups = {g: f for g, f in imported.native_groups.items() if f is not None}
    if len(groups) < len(imported.native_groups):
        imported.report.checks.append(f"native_groups left out: the tensors stored apart from "
                                      f"{imported.native_dtype} have no known format, so every weight is counted "
                                      f"in {imported.native_dtype}")
        groups = {}
    if formats is not None and any(f not in formats for f in groups.values()):
        groups = {}
    title = (imported.name.rsplit("/", 1)[-1] if imported.name else None) or f"{path.name} ({eid})"
    title = "".join(c if c.isprintable() else "?" for c in title)[:200]
    data = {
        "id": eid, "title": title, "family": "ad hoc", "organization": "unknown", "release_date": "2000",
        "license": "unknown", "variant": "base",
        "hf_repo": imported.name if imported.name and re.fullmatch(r"[\w.-]+/[\w.-]+", imported.name) else "unknown",
        "params_total_b": {"value": max(imported.params / 1e9, 1e-9), "note": "computed from config.json"},
        "architecture": imported.architecture, "native_dtype": imported.native_dtype if known else "bf16",
        "native_groups": groups or None, "config_source": "config-json", "source": "config-json",
        "last_reviewed": dt.date.today(),
    }
    if imported.architecture.moe is not None:
        data["params_active_b"] = {"value": max(imported.params_active / 1e9, 1e-9)}
    try:
        model = LlmModel.model_validate(data)
    except ValidationError as exc:  # pragma: no cover - the architecture was validated already
        raise ConfigError(str(exc)) from None
    return AdHocModel(model, imported.report, known)


# The command ----------------------------------------------------------------------------------------
def _err(text: str) -> None:
    print(text, file=sys.stderr)


def cmd_import_config(args: argparse.Namespace) -> int:
    """`inferbook import-config PATH [--id ID] [--stdout] [--index PATH]`."""
    from .api import kb_folders

    try:
        imported = import_config(Path(args.path), Path(args.index) if args.index else None)
    except ConfigUsageError as exc:
        _err(f"inferbook import-config: {exc}")
        return 2
    except ConfigError as exc:
        _err(f"inferbook import-config: {exc}")
        return 1
    if args.id is not None and not slug_ok(args.id):
        _err(f"inferbook import-config: {args.id!r} is not a valid id: use lower-case letters, digits and single "
             "'-' or '.'")
        return 2
    eid = args.id or derive_id(imported, Path(args.path))
    if eid is None:
        _err("inferbook import-config: cannot derive an id from the config; give --id")
        return 2
    text = render_entry(imported, eid)
    for line in imported.report.lines():
        _err(line)
    if args.stdout:
        sys.stdout.write(text)
        return 0
    folder = kb_folders(args.kb or None)[-1] / "models"
    path = folder / f"{eid}.yaml"
    if path.exists() or path.is_symlink():
        _err(f"inferbook import-config: {path} already exists; not overwritten (use --stdout to compare)")
        return 1
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_new(path, text)
    except FileExistsError:
        _err(f"inferbook import-config: {path} already exists; not overwritten (use --stdout to compare)")
        return 1
    except OSError as exc:
        _err(f"inferbook import-config: cannot write {path}: {exc.strerror or exc}")
        return 1
    sys.stdout.write(f"{path}\n")
    _err(f"fill in the TODOs, add the sources it names, then run `inferbook fmt {path}` and `inferbook validate`")
    return 0


def add_import_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register `import-config`."""
    p = sub.add_parser("import-config", parents=[common],
                       help="a kb/models/ entry from a Hugging Face config.json (architecture and native format)")
    p.add_argument("path", metavar="PATH", help=f"the config.json (at most {MAX_CONFIG_BYTES:,} bytes)")
    p.add_argument("--id", help="entry id (default: from _name_or_path or the file name)")
    p.add_argument("--index", metavar="PATH",
                   help="model.safetensors.index.json, to cross-check the parameter count (default: none)")
    p.add_argument("--stdout", action="store_true",
                   help="print the entry instead of writing kb/models/ID.yaml (an existing file is never overwritten)")
    p.set_defaults(func=cmd_import_config)
