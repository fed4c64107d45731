"""What the importer knows about transformers configs, written down once: the keys known to say
nothing the schema records, the class defaults it relies on where a config is silent, the model
types whose designs the config does not spell out, the layer kinds and weight formats it names,
and the designs the schema cannot express yet. A key in none of these tables and not read by the
builder is reported as "not used", never guessed at."""

from __future__ import annotations

from typing import Any

MAX_LAYERS = 1000
"""Most layers the schema accepts (LayerCount); longer configs are refused before any per-layer list is built."""

IGNORED_KEYS = frozenset({
    # identity, tokens, numerics and runtime switches: nothing the schema records
    "architectures", "auto_map", "transformers_version", "bos_token_id", "eos_token_id", "pad_token_id",
    "sep_token_id", "decoder_start_token_id", "initializer_range", "rms_norm_eps", "layer_norm_eps",
    "layer_norm_epsilon", "norm_eps", "use_cache", "attention_dropout", "hidden_dropout", "dropout",
    "embd_pdrop", "resid_pdrop", "attn_pdrop", "attention_bias", "mlp_bias", "bias", "hidden_act",
    "hidden_activation", "mlp_hidden_act", "pretraining_tp", "tokenizer_class", "torchscript",
    "output_attentions", "output_hidden_states", "return_dict", "use_return_dict", "is_encoder_decoder",
    "id2label", "label2id", "problem_type", "tie_encoder_decoder", "chunk_size_feed_forward", "cache_implementation",
    "_name_or_path", "_attn_implementation", "unsloth_version", "embedding_dropout", "output_dropout", "qkv_bias",
    "use_qkv_bias", "use_bias",
    # generation and training defaults that PretrainedConfig.to_dict() of older transformers writes into every config
    "add_cross_attention", "bad_words_ids", "begin_suppress_tokens", "cross_attention_hidden_size",
    "diversity_penalty", "do_sample", "early_stopping", "encoder_no_repeat_ngram_size",
    "exponential_decay_length_penalty", "finetuning_task", "forced_bos_token_id", "forced_eos_token_id", "is_decoder",
    "length_penalty", "max_length", "min_length", "no_repeat_ngram_size", "num_beam_groups", "num_beams",
    "num_return_sequences", "output_scores", "prefix", "pruned_heads", "remove_invalid_values", "repetition_penalty",
    "return_dict_in_generate", "suppress_tokens", "task_specific_params", "temperature", "tf_legacy_loss", "top_k",
    "top_p", "typical_p", "use_bfloat16",
    # positions: context_length comes from max_position_embeddings alone
    "rope_theta", "rope_scaling", "rope_parameters", "rope_local_base_freq", "partial_rotary_factor",
    "rotary_pct", "rotary_emb_base", "initial_context_length", "original_max_position_embeddings", "rotary_dim",
    "rope_interleave", "indexer_rope_interleave",
    # attention and logit numerics
    "query_pre_attn_scalar", "attn_logit_softcapping", "final_logit_softcapping", "use_qk_norm", "qk_layernorm",
    "attn_temperature_tuning", "floor_scale", "attn_scale", "swiglu_limit", "qk_norm", "qk_norm_type", "post_norm",
    "use_rmsnorm", "layernorm_full_attention_beta", "layernorm_linear_attention_beta", "layernorm_mlp_beta",
    # routing numerics (the expert counts are read elsewhere)
    "output_router_logits", "router_aux_loss_coef", "router_z_loss_coef", "router_jitter_noise", "norm_topk_prob",
    "routed_scaling_factor", "scoring_func", "topk_method", "n_group", "topk_group", "ep_size", "aux_loss_alpha",
    "seq_aux", "use_routing_bias", "moe_router_enable_expert_bias", "router_dtype", "score_function", "shared_moe_mode",
    "moe_gate", "moe_use_aux_free", "moe_capacity", "moe_norm_min",  # ERNIE 4.5's gate, bias routing, training capacity
    # multimodal token ids
    "boi_token_index", "eoi_token_index", "image_token_index", "image_token_id", "video_token_id",
    "vision_start_token_id", "vision_end_token_id", "mm_tokens_per_image", "image_start_token_id",
    "image_end_token_id", "video_start_token_id", "video_end_token_id", "media_placeholder_token_id",
    "video_placeholder", "ignore_index", "use_unified_vision_chunk",
    # Mamba-2 numerics and switches (the shape is read into the mamba block)
    "time_step_min", "time_step_max", "time_step_floor", "time_step_limit", "time_step_rank", "mamba_hidden_act",
    "rescale_prenorm_residual", "residual_in_fp32", "use_mamba_kernels", "num_logits_to_keep",
    "moe_shared_expert_overlap", "mamba_dt_rank",
    # Granite multipliers and switches
    "attention_multiplier", "embedding_multiplier", "residual_multiplier", "logits_scaling",
    "position_embedding_type", "normalization_function", "init_method",
})
"""Keys known to say nothing that a model entry records; they are ignored silently."""

QUANT_IGNORED_KEYS = frozenset({
    "activation_scheme", "weight_block_size", "scale_fmt", "quantization_status", "global_compression_ratio",
    "kv_cache_scheme", "sparsity_config", "transform_config", "version", "zero_point", "desc_act", "sym",
    "static_groups", "true_sequential", "damp_percent", "checkpoint_format", "backend", "exllama_config",
    "use_exllama", "modules_in_block_to_quantize", "lm_head", "model_name_or_path", "model_file_base_name",
    "bnb_4bit_compute_dtype", "bnb_4bit_use_double_quant", "bnb_4bit_quant_storage", "llm_int8_threshold",
    "llm_int8_has_fp16_weight", "llm_int8_enable_fp32_cpu_offload", "kv_cache_quant_algo", "producer",
    "exclude_modules", "dequantize",
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
    "nemotron_h": {"tie_word_embeddings": False},
    "smollm3": {"tie_word_embeddings": True},
    # Ernie4_5_MoeConfig's documented defaults (an end index of -1 is the last layer)
    "ernie4_5_moe": {"moe_layer_start_index": 1, "moe_layer_end_index": -1, "moe_layer_interval": 1},
}
"""Defaults of the transformers config classes (by model_type) used where a config omits the key.
A key absent from the config and from this table falls back to PretrainedConfig's default
(tie_word_embeddings true) or is an error."""

CLASS_NAMES = {"gemma3_text": "Gemma3TextConfig", "gemma2": "Gemma2Config", "gemma": "GemmaConfig",
               "llama4_text": "Llama4TextConfig", "llama": "LlamaConfig", "mistral": "MistralConfig",
               "mixtral": "MixtralConfig", "qwen2": "Qwen2Config", "qwen2_moe": "Qwen2MoeConfig",
               "qwen3": "Qwen3Config", "qwen3_moe": "Qwen3MoeConfig", "qwen3_next": "Qwen3NextConfig",
               "deepseek_v2": "DeepseekV2Config", "deepseek_v3": "DeepseekV3Config", "gpt_oss": "GptOssConfig",
               "phi3": "Phi3Config", "nemotron_h": "NemotronHConfig", "smollm3": "SmolLM3Config",
               "ernie4_5_moe": "Ernie4_5_MoeConfig"}

GATED_MLP_TYPES = frozenset({
    "llama", "llama4_text", "mistral", "mixtral", "ministral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe",
    "qwen3_next", "qwen3_5", "qwen3_5_moe", "deepseek_v2", "deepseek_v3", "deepseek_v32", "kimi_k2", "gemma",
    "gemma2", "gemma3_text", "gpt_oss", "phi3", "olmo", "olmo2", "olmoe", "granite", "granitemoe", "cohere",
    "cohere2", "smollm3", "glm", "glm4", "glm4_moe", "minimax_m2", "exaone4", "internlm2", "baichuan", "yi",
    "hunyuan", "hunyuan_v1_dense", "hunyuan_v1_moe", "ernie4_5", "ernie4_5_moe", "seed_oss", "arcee",
    "dots1", "bailing_moe", "granitemoehybrid", "mimo", "glm4v", "glm4v_moe", "glm4v_text", "glm4v_moe_text",
    "qwen3_vl_text", "qwen3_vl_moe_text", "qwen3_5_text", "qwen3_5_moe_text", "glm_moe_dsa",
})
"""Model types whose feed-forward blocks have three matrices (SwiGLU or GeGLU)."""
PLAIN_MLP_TYPES = frozenset({"gpt2", "gpt_neox", "gptj", "phi", "falcon", "starcoder2", "opt", "bloom",
                             "gpt_bigcode", "nemotron", "mpt", "nemotron_h", "apertus"})
"""Model types whose feed-forward blocks have two matrices (Apertus: up and down projections around xIELU)."""

OUTPUT_GATE_TYPES = frozenset({"qwen3_next"})
"""Model types whose attention always gates its output (no attn_output_gate key in their configs)."""
SHARED_EXPERT_TYPES = {"llama4_text": 1}
"""Model types whose MoE layers always add shared experts the config does not count."""
DELTANET_TYPES = frozenset({"qwen3_next", "qwen3_5", "qwen3_5_moe", "qwen3_5_text", "qwen3_5_moe_text"})
"""Model types whose linear-attention layers are Gated DeltaNet (linear_* keys)."""

PATTERN_KEYS = ("layer_types", "sliding_window_pattern", "full_attention_interval", "use_sliding_window",
                "max_window_layers", "no_rope_layers", "no_rope_layer_interval", "attention_chunk_size",
                "sliding_window", "hybrid_override_pattern", "layers_block_type", "attn_type_list")
"""Keys that lay out the attention kind of each layer."""

LAYER_TYPES = {"full_attention": "full", "sliding_attention": "sliding", "chunked_attention": "chunked",
               "linear_attention": "linear", "attention": "full", "mamba": "mamba"}
"""layer_types entries and the schema's layer kinds (Granite 4.0-H names its Mamba-2 layers "mamba")."""

HYBRID_PATTERN = {"M": "mamba", "*": "full", "-": "mlp", "E": "moe"}
"""Characters of Nemotron-H's hybrid_override_pattern (one block per layer) and the schema's layer kinds."""
BLOCK_TYPES = {"mamba": "mamba", "attention": "full", "mlp": "mlp", "moe": "moe"}
"""Entries of Nemotron-H's layers_block_type (newer configs) and the schema's layer kinds."""

MAMBA2_TYPES = frozenset({"nemotron_h", "granitemoehybrid"})
"""Model types whose Mamba layers are Mamba-2 mixers the schema's mamba block describes."""
MAMBA_KEYS = {"heads": ("mamba_num_heads", "mamba_n_heads"), "head_dim": ("mamba_head_dim", "mamba_d_head"),
              "state_size": ("ssm_state_size", "mamba_d_state"), "groups": ("n_groups", "mamba_n_groups"),
              "conv_kernel": ("conv_kernel", "mamba_d_conv"), "chunk_size": ("chunk_size", "mamba_chunk_size")}
"""Fields of the schema's mamba block -> the config keys Nemotron-H and Granite 4.0-H use for them."""
MAMBA_FLAGS = {"conv_bias": ("use_conv_bias", "mamba_conv_bias"), "proj_bias": ("use_bias", "mamba_proj_bias")}
"""Flags of the mamba block -> their config keys (Nemotron-H's mixer reads use_bias for its projections)."""
MAMBA_EXPAND_KEYS = ("expand", "mamba_expand")
"""Keys of the inner width as a multiple of hidden_size (checked against heads x head_dim)."""
SSM_CACHE_DTYPE_KEY = "mamba_ssm_cache_dtype"
"""The SSM state's precision in Nemotron-H configs, which vLLM honours."""

MTP_KEYS = ("num_nextn_predict_layers", "mtp_num_hidden_layers", "num_mtp_layers", "mtp_num_layers")
"""Keys counting the multi-token-prediction modules."""
MINIMAX_MTP_KEYS = ("use_mtp", "num_mtp_modules", "mtp_transformer_layers")
"""MiniMax's description of its MTP modules, which transformers' MiniMaxM2 model does not build: reported,
not counted (mtp_layers stays 0)."""
MTP_PATTERN_KEYS = ("mtp_hybrid_override_pattern", "mtp_layers_block_type")
"""Nemotron-H's layout of one MTP module (read as an attention block and a feed-forward block)."""

HUNYUAN_TYPES = frozenset({"hunyuan", "hunyuan_v1_moe"})
"""Hunyuan MoE model types (Hunyuan-A13B): moe_topk, moe_intermediate_size and num_shared_expert may be
lists with one entry per layer, and with use_mixed_mlp_moe every MoE layer adds one shared MLP of
intermediate_size x num_shared_expert (HunYuanMLP with is_shared_mlp)."""
HUNYUAN_PER_LAYER_KEYS = ("moe_topk", "moe_intermediate_size", "num_shared_expert")
"""Hunyuan keys given once or per layer; the schema records one value for every layer."""
HUNYUAN_IGNORED_KEYS = frozenset({
    # the settings of a vision tower, media tokens and a classification head that HunYuanMoEV1ForCausalLM never
    # builds (vit_type / vit_path name a tower when one is attached: checked apart)
    "anyres_pooling_size", "anyres_vit_max_image_size", "anyres_vit_two_views", "vit_add_patchemb_bias",
    "vit_input_resolution", "vit_mapping_type", "vit_norm_type", "vit_patch", "vit_remove_prenorm", "vit_token",
    "vit_used_rms_norm", "num_media_embeds", "im_start_id", "im_end_id", "im_newline_id", "text_start_id",
    "text_end_id", "video_start_id", "video_end_id", "mask_init_id", "eod_token_id", "pad_id",
    "add_classification_head", "class_num", "pool_type", "skip_cls_token",
    # routing and position numerics, the norm's name, and the unused dense_list
    "moe_drop_tokens", "moe_random_routing_dropped_token", "group_limited_greedy", "use_rotary_pos_emb",
    "position_embedding_xdrope", "xdrope_section", "norm_type", "dense_list",
    # the MLA shape, null while use_mla is false (checked apart)
    "q_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim",
})
"""Keys of Hunyuan configs that change no weight the entry counts; ignored for `HUNYUAN_TYPES` only."""

SHARED_WIDTH_KEYS = ("shared_expert_intermediate_size", "moe_shared_expert_intermediate_size",
                     "shared_intermediate_size")
"""Keys giving the width of the shared expert block (Qwen MoE, Nemotron-H, Granite 4.0-H)."""

VISION_TYPES = {"qwen3_vl": "qwen3-vl", "qwen3_vl_moe": "qwen3-vl", "qwen3_5": "qwen3-vl", "qwen3_5_moe": "qwen3-vl",
                "gemma3": "siglip", "mistral3": "pixtral", "glm4v": "glm4v", "glm4v_moe": "glm4v",
                "kimi_k25": "moonvit"}
"""Multimodal model types whose vision_config the schema counts -> the vision block's kind."""
VISION_KEYS = {"layers": "depth", "hidden_size": "hidden_size", "intermediate_size": "intermediate_size",
               "heads": "num_heads", "patch_size": "patch_size", "temporal_patch_size": "temporal_patch_size",
               "spatial_merge_size": "spatial_merge_size", "out_hidden_size": "out_hidden_size",
               "in_channels": "in_channels", "position_embeddings": "num_position_embeddings"}
"""Fields of the schema's qwen3-vl vision block -> their vision_config keys."""
VIT_KEYS = {"layers": "num_hidden_layers", "hidden_size": "hidden_size", "intermediate_size": "intermediate_size",
            "heads": "num_attention_heads", "patch_size": "patch_size", "image_size": "image_size",
            "in_channels": "num_channels"}
"""Fields of a siglip or pixtral vision block -> their vision_config keys."""
VIT_DEFAULTS = {"siglip": {"layers": 12, "hidden_size": 768, "intermediate_size": 3072, "heads": 12, "patch_size": 16,
                           "image_size": 224, "in_channels": 3},
                "pixtral": {"layers": 24, "hidden_size": 1024, "intermediate_size": 4096, "heads": 16,
                            "patch_size": 16, "image_size": 1024, "in_channels": 3}}
"""SiglipVisionConfig's and PixtralVisionConfig's defaults, used where vision_config is silent."""
GLM4V_KEYS = {"layers": "depth", "hidden_size": "hidden_size", "intermediate_size": "intermediate_size",
              "heads": "num_heads", "patch_size": "patch_size", "temporal_patch_size": "temporal_patch_size",
              "spatial_merge_size": "spatial_merge_size", "out_hidden_size": "out_hidden_size",
              "in_channels": "in_channels", "image_size": "image_size"}
"""Fields of a glm4v vision block -> their vision_config keys (GLM-4.1V, GLM-4.5V, GLM-4.6V)."""
GLM4V_DEFAULTS = {"layers": 24, "hidden_size": 1536, "intermediate_size": 13696, "heads": 12, "patch_size": 14,
                  "temporal_patch_size": 2, "spatial_merge_size": 2, "out_hidden_size": 4096, "in_channels": 3,
                  "image_size": 336}
"""Glm4vMoeVisionConfig's defaults, used where vision_config is silent."""
MOONVIT_KEYS = {"layers": "vt_num_hidden_layers", "hidden_size": "vt_hidden_size",
                "intermediate_size": "vt_intermediate_size", "heads": "vt_num_attention_heads",
                "patch_size": "patch_size", "out_hidden_size": "text_hidden_size"}
"""Fields of a moonvit vision block -> their vision_config keys (Kimi-K2.5); spatial_merge_size comes from
merge_kernel_size and position_embeddings from init_pos_emb_height x init_pos_emb_width."""
MOONVIT_DESIGN = {"mm_projector_type": "patchmerger", "merge_type": "sd2_tpool", "pos_emb_type": "divided_fixed",
                  "video_attn_type": "spatial_temporal"}
"""The MoonViT design choices the moonvit block counts (vision_config key -> the value it must have, or be absent)."""
VISION_IGNORED_KEYS = frozenset({"model_type", "hidden_act", "initializer_range", "attention_dropout",
                                 "layer_norm_eps", "head_dim", "rope_theta", "rope_parameters", "rms_norm_eps",
                                 "hidden_dropout_prob", "_attn_implementation", "init_pos_emb_time",
                                 "projector_hidden_act", "projector_ln_eps"})
"""vision_config keys that change no parameter count."""
VISION_FIELDS = ("layers", "hidden_size", "intermediate_size", "heads", "patch_size", "temporal_patch_size",
                 "spatial_merge_size", "out_hidden_size", "in_channels", "position_embeddings", "deepstack_mergers",
                 "image_size", "tokens_per_image")
"""The vision block's fields in the order an entry writes them."""

TORCH_DTYPES = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32", "half": "fp16", "float": "fp32",
                "float8_e4m3fn": "fp8-e4m3", "float8_e5m2": "fp8-e5m2"}
"""torch_dtype / dtype values and the format ids of kb/formats."""

FORMAT_BITS = {"bf16": 16.0, "fp16": 16.0, "fp32": 32.0, "fp8-e4m3": 8.0, "fp8-e5m2": 8.0, "mxfp4": 4.25,
               "nvfp4": 4.5, "awq-int4": 4.15625, "gptq-int4": 4.15625, "int8": 8.0, "int4": 4.0, "nf4": 4.5}
"""Effective bits per weight of the formats the importer names (as in kb/formats), for the index check."""

UNSUPPORTED_HINTS = (
    ("Nemotron's latent MoE (experts working in a narrower latent width)", ("moe_latent_size",), True),
)
"""(design, its config keys, whether the entry would be wrong without it)."""

MAMBA_HINT_KEYS = ("hybrid_override_pattern", "mamba_num_heads", "mamba_head_dim", "mamba_d_state", "mamba_d_conv",
                   "mamba_expand", "ssm_state_size", "time_step_rank", "mamba_n_groups", "mamba_chunk_size",
                   "attn_layer_period", "attn_layer_offset", "layers_block_type")
"""Keys that mark Mamba layers; refused for model types outside `MAMBA2_TYPES` (Mamba-1 in Jamba, ...)."""

STATE_DTYPE_KEYS = frozenset({"mamba_ssm_dtype"})
"""Keys named after Mamba that set only the precision of a recurrent state (Qwen3.5's Gated DeltaNet
layers carry one): not evidence of Mamba layers."""

SPARSE_ATTENTION_KEYS = {"index_heads": "index_n_heads", "index_head_dim": "index_head_dim",
                         "index_topk": "index_topk"}
"""Fields of the schema's sparse_attention block (DeepSeek Sparse Attention's indexer) -> their config keys."""

LINEAR_ATTENTION_KEYS = {"key_heads": "linear_num_key_heads", "value_heads": "linear_num_value_heads",
                         "key_head_dim": "linear_key_head_dim", "value_head_dim": "linear_value_head_dim",
                         "conv_kernel": "linear_conv_kernel_dim"}
"""Fields of the schema's linear_attention block (Gated DeltaNet) -> their config keys."""

ARCH_KEYS = {
    "layers": "num_hidden_layers", "hidden_size": "hidden_size", "attention_heads": "num_attention_heads",
    "kv_heads": "num_key_value_heads", "head_dim": "head_dim", "intermediate_size": "intermediate_size",
    "vocab_size": "vocab_size", "context_length": "max_position_embeddings",
    "tie_word_embeddings": "tie_word_embeddings", "sliding_window": "sliding_window",
    "attention_chunk_size": "attention_chunk_size", "mla.kv_lora_rank": "kv_lora_rank",
    "mla.q_lora_rank": "q_lora_rank", "mla.qk_rope_head_dim": "qk_rope_head_dim",
    "mla.qk_nope_head_dim": "qk_nope_head_dim", "mla.v_head_dim": "v_head_dim",
    **{f"linear_attention.{name}": key for name, key in LINEAR_ATTENTION_KEYS.items()},
    **{f"sparse_attention.{name}": key for name, key in SPARSE_ATTENTION_KEYS.items()},
    "moe.experts_per_token": "num_experts_per_tok",
    "moe.expert_intermediate_size": "moe_intermediate_size", "moe.experts": "num_experts",
    "moe.shared_experts": "n_shared_experts", "moe.dense_layers": "first_k_dense_replace",
    "moe.layer_interval": "moe_layer_freq", "mtp_layers": "num_nextn_predict_layers",
    **{f"mamba.{name}": keys[0] for name, keys in MAMBA_KEYS.items()},
    **{f"vision.{name}": f"vision_config.{key}" for name, key in VISION_KEYS.items()},
}
"""Schema field -> the config key it usually comes from (for messages when no better origin is known)."""

