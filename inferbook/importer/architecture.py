"""The builder: one config (or its text_config) read into the schema's `ModelArchitecture` fields,
each value with its origin, class defaults reported, errors collected under the config's key names.
The layer layout, linear attention and Mamba-2 are read in `layers`, the mixture of experts in `moe`;
the multi-token-prediction modules (num_nextn_predict_layers, mtp_num_hidden_layers) and the vision
encoder of Qwen3-VL, Qwen3.5, Gemma 3 (SigLIP), Mistral 3 (Pixtral), GLM-4.1V/4.5V/4.6V and Kimi-K2.5 (MoonViT)
configs (vision_config) here. Other vision and audio towers are reported as designs the entry leaves out."""

from __future__ import annotations

from typing import Any

from .layers import layer_pattern, linear_attention, mamba
from .moe import read_moe
from .reading import ConfigError, Keys, is_whole, json_type, non_finite, shown, value_at
from .result import Report
from .tables import (
    CLASS_DEFAULTS,
    CLASS_NAMES,
    GATED_MLP_TYPES,
    GLM4V_DEFAULTS,
    GLM4V_KEYS,
    HUNYUAN_IGNORED_KEYS,
    HUNYUAN_TYPES,
    MAMBA2_TYPES,
    MAMBA_HINT_KEYS,
    MAX_LAYERS,
    MINIMAX_MTP_KEYS,
    MOONVIT_DESIGN,
    MOONVIT_KEYS,
    MTP_KEYS,
    MTP_PATTERN_KEYS,
    OUTPUT_GATE_TYPES,
    PLAIN_MLP_TYPES,
    SPARSE_ATTENTION_KEYS,
    STATE_DTYPE_KEYS,
    TEXT_MODEL_TYPES,
    UNSUPPORTED_HINTS,
    VISION_IGNORED_KEYS,
    VISION_KEYS,
    VISION_TYPES,
    VIT_DEFAULTS,
    VIT_KEYS,
)

TOLERATED_NON_FINITE = ("time_step_limit", "text_config.time_step_limit")
"""Keys whose non-finite numbers are let through: Nemotron-H configs bound the Mamba time step by
[0, Infinity], and the importer reads nothing from that key."""


class Builder:
    """Reads one config into the schema's architecture, collecting errors and the report.

    ``top`` reads the whole config, ``text`` the language model's keys (``top`` itself, or its
    text_config); ``origins`` maps each schema field (dotted) to where its value came from."""

    def __init__(self, top: dict[str, Any]) -> None:
        self.errors: list[str] = []
        self.report = Report()
        for at in non_finite(top):
            if at.rsplit(".", 1)[0] in TOLERATED_NON_FINITE:
                self.report.checks.append(f"{at} = {shown(value_at(top, at))}: a non-finite bound of the Mamba time "
                                          "step, accepted because the importer does not use it")
            else:
                self.errors.append(f"{at}: a non-finite number ({shown(value_at(top, at))}) is refused")
        self.top = Keys(top, "", self.errors)
        self.text = self.top
        self.vision: str | None = None
        if "text_config" in top:
            sub = self.top.mapping("text_config")
            if sub is not None:
                self.text = Keys(sub, "text_config.", self.errors)
            elif top["text_config"] is not None:  # not an object: there is no language model to read
                raise ConfigError("; ".join(self.errors))
        self.model_type = self._model_type()
        self.origins: dict[str, str] = {}
        self.kinds: list[str] = ["full"]
        """The layer kinds as written to layer_pattern (set by `build`)."""

    def _model_type(self) -> str | None:
        """The language model's model_type (a multimodal config's own type mapped to its text model's)."""
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
        """Report that ``target`` takes the class default ``value`` of the absent ``key``."""
        cls = CLASS_NAMES.get(self.model_type or "", self.model_type or "the config class")
        self.report.defaults.append(f"{self.text.name(key)} = {shown(value)} ({cls} default)")
        self.origins[target] = f"absent from config.json; {cls} default"

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
            given = ", ".join(f"{self.text.name(k)} = {v}" for k, v in found)
            self.errors.append(f"{given}: the config gives different values for one quantity")
            return None
        if not found or not values:
            return None
        self.origins[target] = " / ".join(self.text.name(k) for k, _ in found)
        return values.pop()

    def per_layer(self, key: str, layers: int | None, target: str) -> int | None:
        """A whole number that the config gives once or as a list with one entry per layer (Hunyuan's MoE
        keys). The schema records one value for every layer, so a list whose entries differ is refused."""
        value = self.text.raw(key)
        name = self.text.name(key)
        if value is None:
            return None
        if is_whole(value):
            self.origins[target] = name
            return int(value)
        if not isinstance(value, list) or not value or not all(is_whole(v) for v in value):
            self.errors.append(f"{name}: expected a whole number or a list of them, one per layer; got "
                               f"{json_type(value)} {shown(value)}")
            return None
        if layers is not None and len(value) != layers:
            self.errors.append(f"{name}: {len(value)} entries for {layers} layers")
            return None
        if len(set(value)) > 1:
            self.errors.append(f"{name} = {shown(value)}: the schema cannot express a value that changes from "
                               "layer to layer")
            return None
        self.origins[target] = f"{name}: {value[0]} in every layer (a per-layer list)"
        return int(value[0])

    def at_least_one(self, key: str) -> None:
        """Report ``key`` as missing or below 1 where a positive interval is needed."""
        self.errors.append(f"{self.text.name(key)}: expected a whole number of at least 1")

    # the whole architecture ------------------------------------------------------------
    def build(self) -> dict[str, Any]:
        """The architecture as a dict for `ModelArchitecture` (not yet validated)."""
        self._unsupported()
        if (self.model_type or "") in HUNYUAN_TYPES:
            self._hunyuan_design()
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
        pattern = layer_pattern(self, layers_known)
        arch["layer_pattern"] = pattern
        self.kinds = pattern
        if "mamba" in pattern:
            block = mamba(self, hidden)
            if block is not None:
                arch["mamba"] = block
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
        sparse = self._sparse()
        if sparse is not None:
            arch["sparse_attention"] = sparse
        if "linear" in pattern:
            linear = linear_attention(self)
            if linear is not None:
                arch["linear_attention"] = linear
        arch["gated_mlp"] = self._gated()
        moe, dense_width = read_moe(self, layers_known)
        arch["intermediate_size"] = dense_width
        if moe is not None:
            arch["moe"] = moe
        mtp = self._mtp()
        if mtp:
            arch["mtp_layers"] = mtp
        vision = self._vision()
        if vision is not None:
            arch["vision"] = vision
        return arch

    def _mtp(self) -> int:
        """The number of multi-token-prediction modules (0 when the config names none)."""
        value = self.first_whole(MTP_KEYS, "mtp_layers")
        if value is None:
            for k in MTP_KEYS:
                self.text.raw(k)
            given = {k: self.text.raw(k) for k in MINIMAX_MTP_KEYS if self.text.has(k)}
            if given.get("use_mtp") and given.get("num_mtp_modules"):
                found = ", ".join(f"{self.text.name(k)} = {shown(v)}" for k, v in given.items())
                self.report.checks.append(f"{found}: MiniMax's MTP modules are not counted (mtp_layers 0): "
                                          "transformers' MiniMaxM2 model builds none")
            return 0
        if value < 0:
            self.errors.append(f"{self.origins.get('mtp_layers', 'num_nextn_predict_layers')} = {value}: the number "
                               "of MTP modules cannot be negative")
            return 0
        if self.text.flag("mtp_use_dedicated_embeddings"):
            self.report.checks.append(f"{self.text.name('mtp_use_dedicated_embeddings')} is true: the MTP modules' own "
                                      "embedding is not counted (the entry assumes the main model's is shared)")
        for key in MTP_PATTERN_KEYS:  # Nemotron-H: one MTP module is an attention block and a feed-forward block
            given = self.text.raw(key)
            if given is None or not value:
                continue
            blocks = list(given) if isinstance(given, str) else given
            ffn = "E" if self.moe_model() else "-"
            expected = [["*", ffn], ["attention", "moe" if ffn == "E" else "mlp"]]
            if blocks not in expected:
                self.report.checks.append(f"{self.text.name(key)} = {shown(given)}: the MTP modules are counted as one "
                                          "attention block and one feed-forward block each")
        return value

    def moe_model(self) -> bool:
        """Whether the layers read so far include MoE blocks."""
        return "moe" in self.kinds or any(self.text.has(k) for k in ("n_routed_experts", "num_local_experts",
                                                                      "num_experts", "moe_num_experts"))

    def _vision(self) -> dict[str, Any] | None:
        """The vision block of a Qwen3-VL / Qwen3.5, Gemma 3, Mistral 3, GLM-4V or Kimi-K2.5 config (None for other
        towers, reported in `_unsupported`)."""
        kind = VISION_TYPES.get(self.top.text("model_type") or "")
        sub = self.top.data.get("vision_config")
        if kind is None or not isinstance(sub, dict):
            return None
        keys = Keys(sub, "vision_config.", self.errors)
        block: dict[str, Any] = {"kind": kind}
        if kind == "glm4v":
            return self._glm4v(keys, block)
        if kind == "moonvit":
            return self._moonvit(keys, block)
        if kind != "qwen3-vl":
            return self._vit(kind, keys, block)
        for name, key in VISION_KEYS.items():
            value = keys.whole(key)
            if value is None and name not in ("temporal_patch_size", "in_channels", "position_embeddings"):
                self.errors.append(f"{keys.name(key)}: missing for the vision encoder")
            if value is not None:
                block[name] = value
                self.origins[f"vision.{name}"] = keys.name(key)
        deepstack = keys.array("deepstack_visual_indexes")
        block["deepstack_mergers"] = len(deepstack) if deepstack else 0
        self.origins["vision.deepstack_mergers"] = f"{keys.name('deepstack_visual_indexes')} (its length)"
        self.report.not_used += keys.unused(VISION_IGNORED_KEYS)
        return block

    def _vit(self, kind: str, keys: Keys, block: dict[str, Any]) -> dict[str, Any]:
        """The vision block of Gemma 3 (SigLIP and its projector) or Mistral 3 (Pixtral and its patch merger)."""
        for name, key in VIT_KEYS.items():
            value = keys.whole(key)
            block[name] = VIT_DEFAULTS[kind][name] if value is None else value
            config = "SiglipVisionConfig" if kind == "siglip" else "PixtralVisionConfig"
            self.origins[f"vision.{name}"] = keys.name(key) if value is not None else \
                f"absent from vision_config; {config} default"
        block["out_hidden_size"] = self.text.whole("hidden_size")
        self.origins["vision.out_hidden_size"] = f"{self.text.name('hidden_size')} (the projector's output)"
        if kind == "siglip":
            if keys.flag("vision_use_head"):
                self.errors.append("vision_config.vision_use_head: the SigLIP pooling head is not modelled")
            tokens = self.top.whole("mm_tokens_per_image")
            block["tokens_per_image"] = 256 if tokens is None else tokens
            self.origins["vision.tokens_per_image"] = "mm_tokens_per_image" if tokens is not None else \
                "absent; Gemma3Config default mm_tokens_per_image"
        else:
            merge = self.top.whole("spatial_merge_size")
            block["spatial_merge_size"] = 2 if merge is None else merge
            self.origins["vision.spatial_merge_size"] = "spatial_merge_size" if merge is not None else \
                "absent; Mistral3Config default"
            if self.top.flag("multimodal_projector_bias"):
                self.errors.append("multimodal_projector_bias: a biased Mistral 3 projector is not modelled")
            layer = self.top.raw("vision_feature_layer")
            if layer is not None and not is_whole(layer):
                self.errors.append(f"vision_feature_layer = {shown(layer)}: only one feature layer is modelled")
            self.top.raw("projector_hidden_act")
        self.report.not_used += keys.unused(VISION_IGNORED_KEYS)
        return block

    def _glm4v(self, keys: Keys, block: dict[str, Any]) -> dict[str, Any]:
        """The vision block of GLM-4.1V, GLM-4.5V or GLM-4.6V (Glm4vMoeVisionModel: its ViT, downsample and merger)."""
        for name, key in GLM4V_KEYS.items():
            value = keys.whole(key)
            block[name] = GLM4V_DEFAULTS[name] if value is None else value
            self.origins[f"vision.{name}"] = keys.name(key) if value is not None else \
                "absent from vision_config; Glm4vMoeVisionConfig default"
        if keys.flag("attention_bias"):
            self.errors.append(f"{keys.name('attention_bias')}: a biased GLM-4V vision qkv is not modelled")
        text_width = self.text.whole("hidden_size")
        if text_width is not None and block["out_hidden_size"] != text_width:
            self.errors.append(f"{keys.name('out_hidden_size')} = {block['out_hidden_size']} differs from "
                               f"{self.text.name('hidden_size')} = {text_width}: the merger feeds the language model")
        self.report.not_used += keys.unused(VISION_IGNORED_KEYS)
        return block

    def _moonvit(self, keys: Keys, block: dict[str, Any]) -> dict[str, Any]:
        """The vision block of Kimi-K2.5 (MoonViT3dPretrainedModel and its PatchMergerMLP projector)."""
        for name, key in MOONVIT_KEYS.items():
            value = keys.whole(key)
            if value is None:
                self.errors.append(f"{keys.name(key)}: missing for the vision encoder")
            else:
                block[name] = value
                self.origins[f"vision.{name}"] = keys.name(key)
        for key, expected in MOONVIT_DESIGN.items():
            design = keys.text(key)
            if design is not None and design != expected:
                self.errors.append(f"{keys.name(key)} = {shown(design)}: only {expected} is modelled")
        kernel = keys.array("merge_kernel_size")
        if kernel is None or len(kernel) != 2 or not all(is_whole(k) and k >= 1 for k in kernel) \
                or kernel[0] != kernel[1]:
            self.errors.append(f"{keys.name('merge_kernel_size')} = {shown(kernel)}: expected a square kernel "
                               "such as [2, 2]")
        else:
            block["spatial_merge_size"] = kernel[0]
            self.origins["vision.spatial_merge_size"] = f"{keys.name('merge_kernel_size')} (one side)"
        rows, cols = keys.whole("init_pos_emb_height"), keys.whole("init_pos_emb_width")
        if rows is None or cols is None:
            self.errors.append(f"{keys.name('init_pos_emb_height')} and {keys.name('init_pos_emb_width')}: "
                               "missing for the vision encoder's position grid")
        else:
            block["position_embeddings"] = rows * cols
            self.origins["vision.position_embeddings"] = \
                f"{keys.name('init_pos_emb_height')} x {keys.name('init_pos_emb_width')}"
        projected = keys.whole("mm_hidden_size")
        if projected is not None and projected != block.get("hidden_size"):
            self.errors.append(f"{keys.name('mm_hidden_size')} = {projected} differs from "
                               f"{keys.name('vt_hidden_size')}: the patch merger's norm would not fit the tower")
        text_width = self.text.whole("hidden_size")
        if text_width is not None and block.get("out_hidden_size") not in (None, text_width):
            self.errors.append(f"{keys.name('text_hidden_size')} = {block['out_hidden_size']} differs from "
                               f"{self.text.name('hidden_size')} = {text_width}: the projector feeds the language "
                               "model")
        self.report.not_used += keys.unused(VISION_IGNORED_KEYS)
        return block

    def _tie(self) -> bool | None:
        """tie_word_embeddings: from the text config, the outer config, the class default, or PretrainedConfig's.
        When both the outer and the text config give it, the text config's decides and a disagreement is reported
        for checking."""
        value = self.text.flag("tie_word_embeddings")
        if value is not None and self.text is not self.top and self.top.has("tie_word_embeddings"):
            outer = self.top.flag("tie_word_embeddings")
            if outer is not None and outer != value:
                self.report.checks.append(f"tie_word_embeddings = {shown(outer)} but "
                                          f"{self.text.name('tie_word_embeddings')} = {shown(value)}: the text "
                                          "config's value is used; check it")
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
        """The mla block when the config compresses keys and values (kv_lora_rank), else None."""
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

    def _sparse(self) -> dict[str, Any] | None:
        """The sparse_attention block when the config names DeepSeek Sparse Attention's indexer
        (index_n_heads, index_head_dim, index_topk), else None."""
        present = [k for k in SPARSE_ATTENTION_KEYS.values()
                   if self.text.has(k) and self.text.data.get(k) not in (0, False, None)]
        if not present:
            for k in SPARSE_ATTENTION_KEYS.values():
                if k in self.text.data:
                    self.text.raw(k)
            return None
        block: dict[str, Any] = {"kind": "dsa"}
        for name, key in SPARSE_ATTENTION_KEYS.items():
            block[name] = self.whole(key, f"sparse_attention.{name}", required=True)
        return block

    def _head_dim(self, hidden: int | None, heads: int | None, mla: dict[str, Any] | None) -> int | None:
        """The query/key head width: MLA's nope + rope parts, head_dim, or hidden_size / heads."""
        if mla is not None:
            nope, rope = mla["qk_nope_head_dim"], mla["qk_rope_head_dim"]
            if nope is None or rope is None:
                return None
            given = self.text.whole("head_dim")
            if given is not None and given != nope + rope:
                self.report.checks.append(f"{self.text.name('head_dim')} = {given} differs from qk_nope_head_dim + "
                                          f"qk_rope_head_dim = {nope + rope}, which the entry uses for MLA")
            total = self.text.whole("qk_head_dim")
            if total is not None and total != nope + rope:
                self.errors.append(f"{self.text.name('qk_head_dim')} = {total} differs from qk_nope_head_dim + "
                                   f"qk_rope_head_dim = {nope + rope}")
            self.origins["head_dim"] = (f"MLA query/key head = qk_nope_head_dim {nope} + qk_rope_head_dim {rope} "
                                        "(value heads are v_head_dim)")
            return nope + rope
        value = self.whole("head_dim", "head_dim")
        if value is not None or self.text.has("head_dim"):
            self.text.raw("attention_head_dim")
            return value
        if self.text.has("attention_head_dim"):  # older Nemotron-H configs
            return self.whole("attention_head_dim", "head_dim")
        if hidden is None or heads is None or heads < 1:
            return None
        if hidden % heads:
            self.errors.append(f"{self.text.name('head_dim')}: missing, and hidden_size {hidden} is not a multiple of "
                               f"num_attention_heads {heads}")
            return None
        self.origins["head_dim"] = "no head_dim in config.json; hidden_size / num_attention_heads, as HF code does"
        return hidden // heads

    def _gated(self) -> bool:
        """Whether the feed-forward blocks have three matrices, by model type (assumed, and reported, if unknown)."""
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

    def _hunyuan_design(self) -> None:
        """Hunyuan's switches for designs the schema does not count: cross-layer attention (use_cla), MLA
        (use_mla), layers left without experts (moe_layer_num_skipped) and an attached vision tower (vit_type,
        vit_path); the keys that change no counted weight are marked read."""
        for key, design in (("use_cla", "cross-layer attention (use_cla: layers sharing one KV cache)"),
                            ("use_mla", "Hunyuan's MLA attention (use_mla)")):
            if self.text.flag(key):
                self.errors.append(f"{self.text.name(key)} = true: the importer does not read {design}")
        self.text.raw("cla_share_factor")  # used only with use_cla
        skipped = self.text.whole("moe_layer_num_skipped")
        if skipped:
            self.errors.append(f"{self.text.name('moe_layer_num_skipped')} = {skipped}: layers without experts are "
                               "not read for Hunyuan configs")
        tower = {k: v for k in ("vit_type", "vit_path") if (v := self.text.raw(k)) is not None}
        if tower:
            found = ", ".join(f"{self.text.name(k)} = {shown(v)}" for k, v in tower.items())
            self.report.cannot_express.append(f"the schema cannot express Hunyuan's vision tower yet ({found}); the "
                                              "entry describes the language model only")
        original = self.text.whole("org_vocab_size")
        vocab = self.text.data.get("vocab_size")
        if original is not None and original != vocab:
            self.report.checks.append(f"{self.text.name('org_vocab_size')} = {original} differs from vocab_size "
                                      f"{shown(vocab)}: the entry uses vocab_size")
        for key in HUNYUAN_IGNORED_KEYS:
            self.text.raw(key)

    def _unsupported(self) -> None:
        """Report the designs the schema cannot express: errors where the entry would be wrong, else notes."""
        blocking: list[str] = []
        for design, keys, fatal in UNSUPPORTED_HINTS:
            present = [k for k in keys if self.text.has(k) and self.text.data.get(k) not in (0, False)]
            for k in keys:
                if k in self.text.data:
                    self.text.raw(k)
            if present:
                found = ", ".join(f"{self.text.name(k)} = {shown(self.text.data[k])}" for k in present)
                line = f"the schema cannot express {design} yet ({found})"
                (blocking if fatal else self.report.cannot_express).append(line)
        mamba_keys = [k for k in self.text.data
                      if (k.startswith(("mamba_", "ssm_")) or k in MAMBA_HINT_KEYS) and k not in STATE_DTYPE_KEYS]
        if mamba_keys and not blocking and (self.model_type or "") not in MAMBA2_TYPES:
            names = ", ".join(self.text.name(k) for k in mamba_keys)
            blocking.append(f"the schema cannot express the Mamba layers of model_type {self.model_type or '(none)'} "
                            f"yet ({names})")
        for k in STATE_DTYPE_KEYS & set(self.text.data):
            self.report.cannot_express.append(
                f"{self.text.name(k)} = {shown(self.text.data[k])} sets the recurrent state's precision, which the "
                "entry does not record (the calculators count the state in 16 bits); it names no Mamba layer")
        if (self.model_type or "") not in MAMBA2_TYPES:
            for k in self.text.data:
                if k.startswith(("mamba_", "ssm_")):
                    self.text.raw(k)
        self.errors.extend(blocking)
        for key, what in (("vision_config", "vision encoders"), ("audio_config", "audio encoders")):
            sub = self.top.mapping(key)
            if sub is None:
                continue
            desc = _describe_tower(sub)
            if key == "vision_config" and self.top.data.get("model_type") in VISION_TYPES:
                self.vision = desc
                continue  # read into the vision block
            self.report.cannot_express.append(f"the schema cannot express {what} yet ({key}: {desc}); the entry "
                                              "describes the language model only")
            if key == "vision_config":
                self.vision = desc


def _describe_tower(sub: dict[str, Any]) -> str:
    """The shape of a vision or audio encoder, as far as its config gives it."""
    parts = []
    for key, label in (("model_type", "model_type"), ("num_hidden_layers", "layers"), ("depth", "layers"),
                       ("hidden_size", "hidden size"), ("num_attention_heads", "heads")):
        value = sub.get(key)
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            parts.append(f"{label} {shown(value) if isinstance(value, str) else value}")
    return ", ".join(parts) or "no shape given"
