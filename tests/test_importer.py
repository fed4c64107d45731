"""`inferbook import-config`: real config.json files (tests/hf_configs/, provenance in SOURCES.md)
import to the architecture of the matching kb/models/ entry; hostile configs are refused with a
clear message and nothing written; `kv --config` and `fit --config` answer as for the KB entry."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from inferbook.api import load
from inferbook.cli import main
from inferbook.importer import MAX_CONFIG_BYTES, ConfigError, import_config, import_data, render_entry
from inferbook.schema import ModelArchitecture

CONFIGS = Path(__file__).parent / "hf_configs"

ENTRY_OF = {
    # fixtures whose file name is not their KB entry's id
    "llama-3.1-8b": "llama-3.1-8b-instruct",  # the base model's config; the same architecture
    "qwen3-30b-a3b": "qwen3-30b-a3b-thinking-2507",
    "qwen3-235b-a22b": "qwen3-235b-a22b-instruct-2507",  # the April 2025 predecessor's config, as for qwen3-30b-a3b
    "ernie-4.5-21b-a3b-thinking": "ernie-4.5-21b-a3b-pt",  # the Thinking release's config; the same architecture
    "mixtral-8x7b": "mixtral-8x7b-instruct",  # the base model's config; the same architecture
    "nemotron-3-nano-30b-a3b": "nvidia-nemotron-3-nano-30b-a3b",
}
NO_ENTRY = {"granite-4.0-h-1b"}
"""Fixtures of models the KB has no entry for (they test the importer only)."""
DIFFERENCES: dict[str, dict[str, tuple[object, object]]] = {
    # fixture -> {architecture field: (imported value, KB value)} where the copy and the entry legitimately differ
    # the April 2025 Qwen3-30B-A3B config; the KB entry is the 2507 release with 256K positions (its notes)
    "qwen3-30b-a3b": {"context_length": (40_960, 262_144)},
    # the April 2025 Qwen3-235B-A22B config; the entry is the 2507 release with 256K positions (its config source)
    "qwen3-235b-a22b": {"context_length": (40_960, 262_144)},
    # ai-dynamo/aiconfigurator keeps a field subset of the GLM-4.7-FP8 config without num_nextn_predict_layers; the
    # entry takes its MTP layer from a second transcription (config source hf-config-glm-4.7)
    "glm-4.7": {"mtp_layers": (0, 1)},
    # an earlier revision of the official file: max_position_embeddings 2048 next to max_length 4096 (the copy's
    # _name_or_path is still the base repository); the entry follows the corrected file and the card's 4k
    "llama-2-13b-chat": {"context_length": (2048, 4096)},
}
ROUND_TRIP = {
    # fixture -> (KB entry, {architecture field: (imported value, KB value)} where they deliberately differ)
    path.stem: (ENTRY_OF.get(path.stem, path.stem), DIFFERENCES.get(path.stem, {}))
    for path in sorted(CONFIGS.glob("*.json")) if path.stem not in NO_ENTRY
}
NATIVE_DIFFERENCES = {
    # fixture -> why its native format or groups differ from the KB entry's
    "gpt-oss-20b": "no torch_dtype: the groups modules_to_not_convert names are TODOs (test_native_formats)",
    "gpt-oss-120b": "no torch_dtype: the groups modules_to_not_convert names are TODOs, as for gpt-oss-20b",
    "kimi-k2-thinking": "the aiconfigurator field subset drops quantization_config; the entry reads INT4 from the card",
    "minimax-m2": "no torch_dtype: the format of the unquantised lm_head is a TODO; the entry leaves it out",
    "minimax-m2.1": "no torch_dtype: the format of the unquantised lm_head is a TODO; the entry leaves it out",
    "minimax-m2.5": "no torch_dtype: the format of the unquantised lm_head is a TODO; the entry leaves it out",
}


@pytest.fixture(scope="module")
def kb():
    return load()


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def write(tmp_path: Path, data, name: str = "config.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def fixture(name: str) -> dict:
    return json.loads((CONFIGS / f"{name}.json").read_text())


# round trip --------------------------------------------------------------------------------
def test_every_fixture_is_cited_and_has_an_entry(kb):
    """Each config.json fixture has a line in SOURCES.md and round-trips to a KB entry (or is listed in NO_ENTRY)."""
    sources = (CONFIGS / "SOURCES.md").read_text(encoding="utf-8")
    names = sorted(path.stem for path in CONFIGS.glob("*.json"))
    for name in names:
        assert f"| `{name}.json` |" in sources, name
    assert set(ROUND_TRIP) | NO_ENTRY == set(names) and not NO_ENTRY & set(kb.models)
    for name, (entry_id, differences) in ROUND_TRIP.items():
        assert entry_id in kb.models, name
        assert set(differences) <= set(ModelArchitecture.model_fields), name
    assert set(ENTRY_OF) | set(DIFFERENCES) | set(NATIVE_DIFFERENCES) <= set(ROUND_TRIP)
    assert len(ROUND_TRIP) >= 97


@pytest.mark.parametrize("name", sorted(ROUND_TRIP))
def test_fixture_imports_to_the_kb_architecture(kb, name):
    entry_id, differences = ROUND_TRIP[name]
    imported = import_config(CONFIGS / f"{name}.json")
    got = imported.architecture.model_dump()
    expected = kb.models[entry_id].architecture.model_dump()
    for field, pair in differences.items():
        assert (got.pop(field), expected.pop(field)) == pair, field
    assert got == expected
    assert imported.report.not_used == [], "the allow-list covers every key of the real configs"


@pytest.mark.parametrize("name", sorted(ROUND_TRIP))
def test_fixture_imports_to_the_kb_native_format(kb, name):
    entry = kb.models[ROUND_TRIP[name][0]]
    imported = import_config(CONFIGS / f"{name}.json")
    groups = entry.native_groups.model_dump(exclude_none=True) if entry.native_groups else {}
    same = imported.native_dtype == entry.native_dtype and imported.native_groups == groups
    assert same != (name in NATIVE_DIFFERENCES), (imported.native_dtype, imported.native_groups, groups)


@pytest.mark.parametrize("name", sorted(ROUND_TRIP))
def test_written_entry_reads_back_to_the_same_architecture(name):
    imported = import_config(CONFIGS / f"{name}.json")
    data = yaml.safe_load(render_entry(imported, name))
    assert ModelArchitecture.model_validate(data["architecture"]) == imported.architecture
    assert data["native_dtype"] == (imported.native_dtype or "todo")


def test_native_formats(kb):
    for name in ("llama-3.1-8b", "qwen3-32b", "deepseek-v3", "gemma-3-4b-it", "qwen3-next-80b-a3b-thinking"):
        entry_id = ROUND_TRIP[name][0]
        assert import_config(CONFIGS / f"{name}.json").native_dtype == kb.models[entry_id].native_dtype, name
    gpt = import_config(CONFIGS / "gpt-oss-20b.json")
    assert gpt.native_dtype == "mxfp4" == kb.models["gpt-oss-20b"].native_dtype
    # modules_to_not_convert names the same groups the KB keeps apart; the config has no torch_dtype, so their
    # format is left as a TODO, where the KB entry took bf16 from the README (its notes)
    assert gpt.native_groups == {"embeddings": None, "attention": None}
    assert kb.models["gpt-oss-20b"].native_groups.model_dump(exclude_none=True) == {"embeddings": "bf16",
                                                                                   "attention": "bf16"}
    assert any("TODO native_groups" in line for line in gpt.report.checks)


def test_parameter_count_of_llama_3_1_8b_is_exact():
    assert import_config(CONFIGS / "llama-3.1-8b.json").params == 8_030_261_248


def test_defaults_and_designs_are_reported():
    gemma = import_config(CONFIGS / "gemma-3-4b-it.json")
    assert any("text_config.num_attention_heads = 8 (Gemma3TextConfig default)" in d for d in gemma.report.defaults)
    assert not any("vision" in line for line in gemma.report.cannot_express)  # read into the siglip block
    tower = gemma.architecture.vision
    assert tower is not None and (tower.kind, tower.image_size, tower.tokens_per_image) == ("siglip", 896, 256)
    assert gemma.origins["vision.in_channels"] == "absent from vision_config; SiglipVisionConfig default"
    pixtral = import_config(CONFIGS / "ministral-3-3b-instruct-2512.json").architecture.vision
    assert pixtral is not None and (pixtral.kind, pixtral.spatial_merge_size, pixtral.out_hidden_size) == \
        ("pixtral", 2, 3072)
    biased = json.loads((CONFIGS / "ministral-3-3b-instruct-2512.json").read_text())
    biased["multimodal_projector_bias"] = True
    with pytest.raises(ConfigError, match="multimodal_projector_bias"):
        import_data(biased)
    v3 = import_config(CONFIGS / "deepseek-v3.json")
    assert v3.report.cannot_express == [] and v3.architecture.mtp_layers == 1
    assert v3.origins["mtp_layers"] == "num_nextn_predict_layers"
    v32 = import_config(CONFIGS / "deepseek-v3.2.json")
    assert v32.report.cannot_express == []  # the DSA indexer is read into sparse_attention
    dsa = v32.architecture.sparse_attention
    assert dsa is not None and (dsa.kind, dsa.index_heads, dsa.index_head_dim, dsa.index_topk) == ("dsa", 64, 128, 2048)
    assert v32.origins["sparse_attention.index_heads"] == "index_n_heads"
    assert v32.architecture.model_copy(update={"sparse_attention": None}) == v3.architecture  # the rest is V3's shape
    scout = import_config(CONFIGS / "llama-4-scout-17b-16e-instruct.json")
    assert "shared experts = 1 (always present in model_type llama4_text)" in scout.report.defaults


def test_mamba_2_hybrids_import_with_their_full_layer_list(capsys, tmp_path):
    """Nemotron-H's hybrid_override_pattern and layers_block_type, and Granite 4.0-H's layer_types, become a
    per-layer layer_pattern with the mamba block; the Infinity bound of time_step_limit is let through."""
    h56 = import_config(CONFIGS / "nemotron-h-56b-base-8k.json")
    a = h56.architecture
    assert len(a.layer_pattern) == a.layers == 118
    assert (a.layer_pattern.count("mamba"), a.layer_pattern.count("mlp"), a.layer_pattern.count("full")) == (54, 54, 10)
    assert a.mamba is not None
    assert (a.mamba.heads, a.mamba.head_dim, a.mamba.state_size, a.mamba.groups) == (256, 64, 256, 8)
    assert not a.gated_mlp and a.head_dim == 128 and a.mamba.ssm_state_dtype is None
    assert any("time_step_limit.1 = Infinity" in line for line in h56.report.checks)
    assert h56.report.not_used == []
    nano = import_config(CONFIGS / "nemotron-3-nano-30b-a3b.json").architecture
    assert nano.moe is not None and nano.moe.shared_experts == 2 and nano.intermediate_size is None
    assert nano.mamba is not None and nano.mamba.ssm_state_dtype == "fp32"
    # the newer spelling of the same layout, and a disagreement between the two
    data = fixture("nemotron-3-nano-30b-a3b")
    blocks = {"M": "mamba", "*": "attention", "-": "mlp", "E": "moe"}
    listed = dict(data, layers_block_type=[blocks[c] for c in data.pop("hybrid_override_pattern")])
    assert import_data(listed).architecture == nano
    listed["hybrid_override_pattern"] = "M" * 52
    with pytest.raises(ConfigError, match="lay out different blocks"):
        import_data(listed)
    granite = import_config(CONFIGS / "granite-4.0-h-1b.json")
    g = granite.architecture
    assert g.layer_pattern.count("full") == 4 and len(g.layer_pattern) == 40 and g.moe is None
    assert g.intermediate_size == 4096 and g.gated_mlp and g.tie_word_embeddings
    assert granite.origins["intermediate_size"] == "shared_intermediate_size: the shared MLP of every layer"
    assert granite.report.not_used == []
    code, _, err = run(capsys, "import-config", CONFIGS / "nemotron-h-56b-base-8k.json", "--id", "h56",
                       "--kb", tmp_path)
    assert code == 0, err
    written = yaml.safe_load((tmp_path / "models" / "h56.yaml").read_text())
    assert ModelArchitecture.model_validate(written["architecture"]) == a


def test_other_mamba_designs_are_refused_by_name():
    jamba = {"model_type": "jamba", "num_hidden_layers": 4, "hidden_size": 64, "num_attention_heads": 4,
             "num_key_value_heads": 4, "vocab_size": 100, "max_position_embeddings": 128, "intermediate_size": 128,
             "mamba_d_state": 16, "mamba_d_conv": 4, "mamba_expand": 2, "attn_layer_period": 4}
    with pytest.raises(ConfigError, match="the Mamba layers of model_type jamba"):
        import_data(jamba)
    nan = fixture("nemotron-h-56b-base-8k") | {"rope_theta": float("inf")}
    path = Path(__file__).parent / "hf_configs" / "nemotron-h-56b-base-8k.json"
    assert "Infinity" in path.read_text()  # only time_step_limit's bound is tolerated
    from inferbook.importer.reading import NonFinite
    nan["rope_theta"] = NonFinite("Infinity")
    with pytest.raises(ConfigError, match="rope_theta: a non-finite number"):
        import_data(nan)


def test_mtp_and_vision_are_read():
    v32 = import_config(CONFIGS / "deepseek-v3.2.json")
    assert v32.architecture.mtp_layers == 1
    data = fixture("llama-3.1-8b") | {"mtp_num_hidden_layers": 2}
    assert import_data(data).architecture.mtp_layers == 2
    data["num_nextn_predict_layers"] = 1
    with pytest.raises(ConfigError, match="different values"):
        import_data(data)
    vl = {"model_type": "qwen3_vl", "tie_word_embeddings": True,
          "text_config": fixture("qwen3-32b") | {"model_type": "qwen3_vl_text"},
          "vision_config": {"depth": 24, "hidden_size": 1024, "intermediate_size": 4096, "num_heads": 16,
                            "patch_size": 16, "temporal_patch_size": 2, "spatial_merge_size": 2,
                            "out_hidden_size": 5120, "in_channels": 3, "num_position_embeddings": 2304,
                            "deepstack_visual_indexes": [5, 11, 17], "hidden_act": "gelu_pytorch_tanh",
                            "model_type": "qwen3_vl", "initializer_range": 0.02}}
    imported = import_data(vl)
    vision = imported.architecture.vision
    assert vision is not None and (vision.layers, vision.deepstack_mergers, vision.out_hidden_size) == (24, 3, 5120)
    assert not any("vision" in line for line in imported.report.cannot_express)
    assert "vision tower in vision" in render_entry(imported, "vl")


def test_ernie_names_its_own_moe_keys(tmp_path):
    """ERNIE 4.5's keys: experts per token (moe_k), shared experts, and MoE on layer i when
    (i + 1) % moe_layer_interval == 0 and start <= i <= end (-1, the class default, is the last layer)."""
    ernie = import_config(CONFIGS / "ernie-4.5-21b-a3b-thinking.json")
    moe = ernie.architecture.moe
    assert moe is not None and (moe.experts_per_token, moe.shared_experts, moe.dense_layers) == (6, 2, 1)
    assert ernie.origins["moe.experts_per_token"] == "moe_k"
    assert any("moe_layer_end_index = -1" in line for line in ernie.report.defaults)
    every_other = import_config(write(tmp_path, {**fixture("ernie-4.5-21b-a3b-thinking"), "moe_layer_interval": 2}))
    assert every_other.architecture.moe is not None
    assert (every_other.architecture.moe.dense_layers, every_other.architecture.moe.layer_interval) == (0, 2)
    with pytest.raises(ConfigError, match="cannot express MoE on layers"):  # dense layers after the last MoE one
        import_config(write(tmp_path, {**fixture("ernie-4.5-21b-a3b-thinking"), "moe_layer_end_index": 20}))
    with pytest.raises(ConfigError, match="moe_layer_interval must be at least 1"):
        import_config(write(tmp_path, {**fixture("ernie-4.5-21b-a3b-thinking"), "moe_layer_interval": 0}))


def test_fixes_found_by_the_round_trip():
    """Misreadings the round trip over the KB's configs exposed, each fixed in the importer."""
    apertus = import_config(CONFIGS / "apertus-8b-instruct-2509.json")  # xIELU between up and down projections
    assert not apertus.architecture.gated_mlp
    assert apertus.origins["gated_mlp"] == "model_type apertus: two-matrix feed-forward blocks"
    # MiniMax-M2: attn_type_list (1 = softmax attention), fp8 spelled float8_e4m3fn, router tensors kept unquantised,
    # MTP modules that transformers' MiniMaxM2 does not build, a dense width no layer uses
    m2 = import_config(CONFIGS / "minimax-m2.json")
    assert m2.architecture.layer_pattern == ("full",) and m2.architecture.mtp_layers == 0
    assert m2.origins["layer_pattern"] == "attn_type_list: every entry 1, softmax attention in every layer"
    assert m2.native_dtype == "fp8-e4m3" and not any("cannot place" in line for line in m2.report.checks)
    assert any(line.startswith("use_mtp = true, num_mtp_modules = 3, mtp_transformer_layers = 1: MiniMax's MTP")
               for line in m2.report.checks)
    assert "mlp_intermediate_size = 8192 sizes no layer: every layer is MoE" in m2.report.checks
    data = fixture("minimax-m2")
    data["attn_type_list"] = [0, *data["attn_type_list"][1:]]
    with pytest.raises(ConfigError, match="cannot express MiniMax's lightning-attention layers"):
        import_data(data)
    data["attn_type_list"] = [1] * 61
    with pytest.raises(ConfigError, match="attn_type_list: 61 entries for 62 layers"):
        import_data(data)
    # Kimi-K2.5: compressed-tensors int4 in groups of 32; the shared experts and dense MLPs left in bf16 are not the
    # experts group (which holds the routed experts too)
    kimi = import_config(CONFIGS / "kimi-k2.5.json")
    assert kimi.native_dtype == "int4"
    assert kimi.native_groups == {"embeddings": "bf16", "attention": "bf16", "dense_ffn": "bf16"}
    assert any("shared experts are counted in the experts group" in line for line in kimi.report.checks)
    # the outer and the text config's tie_word_embeddings: the text config decides, a disagreement is reported
    vl = fixture("qwen3-vl-4b-instruct")
    vl["text_config"]["tie_word_embeddings"] = False
    imported = import_data(vl)
    assert imported.architecture.tie_word_embeddings is False
    assert any("text_config.tie_word_embeddings = false: the text config's value is used" in line
               for line in imported.report.checks)
    # keys that restate a value: MLA's qk_head_dim, Gemma 2's sliding_window_size, Qwen's empty mlp_only_layers
    glm = fixture("glm-5") | {"qk_head_dim": 250}
    with pytest.raises(ConfigError, match="qk_head_dim = 250 differs from qk_nope_head_dim"):
        import_data(glm)
    gemma = fixture("gemma-2-9b-it") | {"sliding_window_size": 8192}
    with pytest.raises(ConfigError, match="sliding_window_size = 8192, sliding_window = 4096"):
        import_data(gemma)
    dense = fixture("qwen3.5-27b")
    assert import_data(dense).report.checks == import_config(CONFIGS / "qwen3.5-27b.json").report.checks
    dense["text_config"]["mlp_only_layers"] = [0, 1]
    assert any("mlp_only_layers lists layers of a model without experts" in line
               for line in import_data(dense).report.checks)


def test_hunyuan_per_layer_moe_lists(kb):
    """Hunyuan-A13B's config (model_type hunyuan) gives moe_topk, moe_intermediate_size and num_shared_expert
    as per-layer lists and adds a shared MLP of intermediate_size x num_shared_expert with use_mixed_mlp_moe;
    a list the schema cannot hold as one value, and designs the entry would get wrong, are refused by name."""
    hunyuan = import_config(CONFIGS / "hunyuan-a13b-instruct.json")
    moe = hunyuan.architecture.moe
    assert moe is not None and (moe.experts, moe.experts_per_token, moe.shared_experts,
                                moe.expert_intermediate_size) == (64, 8, 1, 3072)
    assert hunyuan.architecture.intermediate_size is None and hunyuan.architecture.head_dim == 128
    assert hunyuan.origins["moe.experts_per_token"] == "moe_topk: 8 in every layer (a per-layer list)"
    assert hunyuan.origins["moe.shared_experts"].startswith("use_mixed_mlp_moe: one shared MLP of intermediate_size")
    assert hunyuan.report.not_used == [] and hunyuan.report.cannot_express == []
    assert hunyuan.architecture == kb.models["hunyuan-a13b-instruct"].architecture
    data = fixture("hunyuan-a13b-instruct")
    assert import_data(data | {"moe_topk": 8}).architecture == hunyuan.architecture  # a single number reads the same
    twice = data | {"num_shared_expert": [2] * 32}
    assert import_data(twice).architecture.moe.shared_experts == 2  # type: ignore[union-attr]
    assert import_data(data | {"use_mixed_mlp_moe": False}).architecture.moe.shared_experts == 0  # type: ignore[union-attr]
    for change, message in (({"moe_topk": [8] * 31 + [2]}, "moe_topk = .*changes from layer to layer"),
                            ({"moe_intermediate_size": [3072] * 31}, "moe_intermediate_size: 31 entries for 32 layers"),
                            ({"moe_topk": [8, "8"] * 16}, "moe_topk: expected a whole number or a list"),
                            ({"num_experts_per_tok": 8}, "gives the routed experts per token in moe_topk"),
                            ({"moe_intermediate_size": [1536] * 32}, "the config gives two widths"),
                            ({"use_cla": True}, "use_cla = true: the importer does not read cross-layer attention"),
                            ({"use_mla": True}, "use_mla = true"),
                            ({"moe_layer_num_skipped": 2}, "moe_layer_num_skipped = 2")):
        with pytest.raises(ConfigError, match=message):
            import_data(data | change)
    tower = import_data(data | {"vit_type": "siglip"})
    assert any("Hunyuan's vision tower" in line for line in tower.report.cannot_express)
    assert any("org_vocab_size = 128000 differs" in line
               for line in import_data(data | {"org_vocab_size": 128000}).report.checks)
    smol = import_config(CONFIGS / "smollm3-3b.json")  # no tie_word_embeddings: SmolLM3Config's default
    assert smol.architecture.tie_word_embeddings is True
    assert "tie_word_embeddings = true (SmolLM3Config default)" in smol.report.defaults


def test_pixtral_towers_of_the_mistral_3_family(kb):
    """Every Mistral 3 config in the fixtures (Ministral 3, Mistral Small 3.x and 4, Medium 3.5) reads into a
    pixtral vision block, and the KB entries carry it."""
    for name in ("ministral-3-3b-instruct-2512", "ministral-3-8b-instruct-2512", "ministral-3-14b-instruct-2512",
                 "ministral-3-3b-reasoning-2512", "mistral-small-3.1-24b-instruct",
                 "mistral-small-3.2-24b-instruct-2506", "mistral-small-4-119b-2603", "mistral-medium-3.5-128b"):
        vision = import_config(CONFIGS / f"{name}.json").architecture.vision
        assert vision is not None and vision.kind == "pixtral" and vision.spatial_merge_size == 2, name
        assert vision == kb.models[name].architecture.vision, name
        assert vision.out_hidden_size == kb.models[name].architecture.hidden_size, name


def test_glm4v_and_moonvit_towers(kb):
    """GLM-4.5V and GLM-4.6V read into a glm4v vision block and Kimi-K2.5 into a moonvit one, as their KB entries
    carry them; layouts the blocks do not count are refused by name."""
    for name in ("glm-4.5v", "glm-4.6v", "kimi-k2.5"):
        imported = import_config(CONFIGS / f"{name}.json")
        vision = imported.architecture.vision
        assert vision is not None and vision == kb.models[name].architecture.vision, name
        assert not any("vision" in line for line in imported.report.cannot_express), name
        assert "vision tower in vision" in render_entry(imported, name)
    glm = import_config(CONFIGS / "glm-4.5v.json")
    assert glm.architecture.vision is not None and glm.architecture.vision.kind == "glm4v"
    assert (glm.origins["vision.layers"], glm.origins["vision.image_size"]) == ("vision_config.depth",
                                                                                "vision_config.image_size")
    kimi = import_config(CONFIGS / "kimi-k2.5.json")
    assert kimi.architecture.vision is not None and kimi.architecture.vision.position_embeddings == 64 * 64
    assert kimi.origins["vision.spatial_merge_size"] == "vision_config.merge_kernel_size (one side)"
    assert kimi.origins["vision.out_hidden_size"] == "vision_config.text_hidden_size"
    for change, message in (({"attention_bias": True}, "a biased GLM-4V vision qkv is not modelled"),
                            ({"out_hidden_size": 2048}, "out_hidden_size = 2048 differs from text_config.hidden_size")):
        data = fixture("glm-4.5v")
        data["vision_config"] |= change
        with pytest.raises(ConfigError, match=message):
            import_data(data)
    for change, message in (({"mm_projector_type": "mlp"}, "mm_projector_type = \"mlp\": only patchmerger"),
                            ({"merge_kernel_size": [2, 4]}, "expected a square kernel"),
                            ({"mm_hidden_size": 7168}, "mm_hidden_size = 7168 differs from vision_config.vt_hidden"),
                            ({"text_hidden_size": 4096}, "text_hidden_size = 4096 differs"),
                            ({"vt_hidden_size": None}, "vt_hidden_size: missing")):
        data = fixture("kimi-k2.5")
        data["vision_config"] |= change
        with pytest.raises(ConfigError, match=message):
            import_data(data)


# the command ---------------------------------------------------------------------------------
def test_writes_an_entry_that_validate_refuses_until_filled(capsys, tmp_path):
    code, out, err = run(capsys, "import-config", CONFIGS / "qwen3-32b.json", "--id", "qwen3-32b-copy",
                         "--kb", tmp_path)
    path = tmp_path / "models" / "qwen3-32b-copy.yaml"
    assert code == 0 and out.strip() == str(path) and "fill in the TODOs" in err
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=../../schema/models.schema.json\n")
    assert "license: null  # TODO" in text and "release_date: null  # TODO" in text
    assert "config_source: hf-config-qwen3-32b-copy  # TODO" in text
    code, out, err = run(capsys, "fmt", "--check", path)
    assert code == 0, out
    code, out, _ = run(capsys, "validate", "--kb", "kb", path)
    assert code == 1
    for field in ("title", "family", "organization", "release_date", "license", "hf_repo", "params_total_b"):
        assert f"IB101 {field}:" in out, field
    # filled in (here with the values of the KB entry), it validates
    fills = {"title: null": 'title: "Qwen3-32B copy"', "family: null": 'family: "Qwen3"',
             "organization: null": 'organization: "Qwen"', "release_date: null": 'release_date: "2025"',
             "license: null": 'license: "Apache 2.0"', "hf_repo: null": 'hf_repo: "Qwen/Qwen3-32B"',
             "variant: todo": "variant: reasoning", "params_total_b: null": "params_total_b: 32",
             "hf-config-qwen3-32b-copy": "hf-config-qwen3-32b", "hf-card-qwen3-32b-copy": "qwen-blog-qwen3"}
    filled = text
    for placeholder, value in fills.items():
        filled = filled.replace(placeholder, value)
    path.write_text(filled)
    code, out, _ = run(capsys, "validate", "--kb", "kb", path)
    assert code == 0, out


def test_stdout_writes_nothing(capsys, tmp_path):
    code, out, _ = run(capsys, "import-config", CONFIGS / "deepseek-v3.json", "--stdout", "--kb", tmp_path)
    assert code == 0 and out.startswith("# yaml-language-server")
    assert "id: deepseek-v3\n" in out and "native_dtype: fp8-e4m3" in out
    assert "mtp_layers: 1  # num_nextn_predict_layers" in out and "MTP modules 11.61B" in out
    assert not any(tmp_path.rglob("*"))


def test_never_overwrites(capsys, tmp_path):
    args = ("import-config", CONFIGS / "mixtral-8x7b.json", "--kb", tmp_path)
    assert run(capsys, *args)[0] == 0
    path = tmp_path / "models" / "mixtral-8x7b.yaml"
    path.write_text("hand edits\n")
    code, _, err = run(capsys, *args)
    assert code == 1 and "already exists; not overwritten" in err
    assert path.read_text() == "hand edits\n"
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["mixtral-8x7b.yaml"]  # no temp file left


def test_ids_and_usage(capsys, tmp_path):
    config = write(tmp_path, fixture("qwen3-32b"))  # named config.json: no id can be derived
    code, _, err = run(capsys, "import-config", config, "--kb", tmp_path / "kb")
    assert code == 2 and "give --id" in err
    for bad in ("../evil", "a/b", "UPPER", "x..y"):
        code, _, err = run(capsys, "import-config", config, "--id", bad, "--kb", tmp_path / "kb")
        assert code == 2 and "is not a valid id" in err, bad
    code, _, err = run(capsys, "import-config", tmp_path / "missing.json")
    assert code == 2 and "no such file" in err
    code, _, err = run(capsys, "import-config", tmp_path)
    assert code == 2 and "no such file" in err
    assert not (tmp_path / "kb").exists()
    named = write(tmp_path, {**fixture("qwen3-32b"), "_name_or_path": "Qwen/Qwen3-32B"})
    code, out, _ = run(capsys, "import-config", named, "--stdout")
    assert code == 0 and "id: qwen3-32b\n" in out and 'title: "Qwen3-32B"' in out
    assert 'hf_repo: "Qwen/Qwen3-32B"' in out


def test_unknown_keys_are_reported_not_guessed(capsys, tmp_path):
    data = fixture("llama-3.1-8b")
    data.update(frobnication_level=3, rope_theta=1.0)  # one unknown key, one known to be irrelevant
    data["quantization_config"] = {"quant_method": "fp8", "fmt": "e4m3", "mystery": True}
    path = write(tmp_path, data, "llama.json")
    code, out, err = run(capsys, "import-config", path, "--stdout")
    assert code == 0
    assert "not used: frobnication_level, quantization_config.mystery" in err.splitlines()
    assert "native_dtype: fp8-e4m3" in out
    data["quantization_config"] = {"quant_method": "secret-sauce"}
    code, out, err = run(capsys, "import-config", write(tmp_path, data, "llama.json"), "--stdout")
    assert code == 0 and "native_dtype: todo" in out and "secret-sauce" in err


def test_index_cross_checks_the_parameter_count(capsys, tmp_path):
    index = {"metadata": {"total_size": 8_030_261_248 * 2},
             "weight_map": {"model.layers.0.mlp.up_proj.weight": "a.safetensors"}}
    path = write(tmp_path, index, "model.safetensors.index.json")
    code, _, err = run(capsys, "import-config", CONFIGS / "llama-3.1-8b.json", "--index", path, "--stdout")
    assert code == 0 and "at 16 bits per weight (bf16) are about 8,030,261,248: +0.00%" in err
    index = {"metadata": {"total_parameters": 684_531_386_000, "total_size": 688_586_727_753},
             "weight_map": {"model.layers.61.eh_proj.weight": "x.safetensors"}}
    path = write(tmp_path, index, "model.safetensors.index.json")
    code, _, err = run(capsys, "import-config", CONFIGS / "deepseek-v3.json", "--index", path, "--stdout")
    # the index holds the MTP module too (and its copies of the embedding and head, shared here)
    assert code == 0 and "(with 11,610,067,968 of MTP modules), 684,531,386,000 in the index" in err
    assert "(metadata.total_parameters): -0.28%" in err and "beyond num_hidden_layers" not in err
    path = write(tmp_path, {"metadata": {"total_size": True}}, "bad.json")
    code, out, err = run(capsys, "import-config", CONFIGS / "deepseek-v3.json", "--index", path, "--stdout")
    assert code == 1 and out == "" and "metadata.total_size: expected a positive whole number" in err


# hostile configs ----------------------------------------------------------------------------
def _llama(**changes) -> dict:
    data = fixture("llama-3.1-8b")
    data.update(changes)
    return data


HOSTILE = {
    "not an object": ("[1, 2, 3]", "must hold one JSON object {...}, not a list"),
    "not JSON": ("{'a': 1}", "is not valid JSON"),
    "NaN": ('{"num_hidden_layers": NaN}', "num_hidden_layers: a non-finite number (NaN) is refused"),
    "Infinity": ('{"hidden_size": -Infinity}', "hidden_size: a non-finite number (-Infinity) is refused"),
    "1e400": ('{"rms_norm_eps": 1e400}', "rms_norm_eps: a non-finite number (1e400) is refused"),
    "boolean": (_llama(num_hidden_layers=True), "num_hidden_layers: expected a whole number, got a boolean true"),
    "fraction": (_llama(hidden_size=4096.5), "hidden_size: expected a whole number, got a number 4096.5"),
    "string": (_llama(vocab_size="128256"), 'vocab_size: expected a whole number, got a string "128256"'),
    "negative": (_llama(num_hidden_layers=-32), "num_hidden_layers = -32: Input should be greater than or equal to 1"),
    "zero heads": (_llama(num_attention_heads=0), "num_attention_heads = 0: Input should be greater than or equal"),
    "absurd width": (_llama(hidden_size=10**15), "hidden_size = 1000000000000000: Input should be less than or "
                                                 "equal to 1000000"),
    "absurd layers": (_llama(num_hidden_layers=10**12), "num_hidden_layers = 1000000000000: Input should be less "
                                                        "than or equal to 1000"),
    "heads not divisible": (_llama(num_key_value_heads=7), "attention_heads must be a multiple of kv_heads "
                                                           "(num_attention_heads, num_key_value_heads)"),
    "missing": ({"model_type": "llama"}, "num_hidden_layers: missing"),
    "text_config list": ({"model_type": "gemma3", "text_config": [1, 2]},
                         "text_config: expected an object, got a list"),
    "layer_types": (_llama(layer_types=["full_attention"] * 31 + ["recurrent"]),
                    'layer_types: the schema cannot express layers of type "recurrent" yet'),
    "mamba layer of llama": (_llama(layer_types=["full_attention"] * 31 + ["mamba"]),
                             "the schema cannot express the Mamba layers of model_type llama yet"),
    "layer_types length": (_llama(layer_types=["full_attention"] * 3), "layer_types: 3 entries for 32 layers"),
    "duplicate key": ('{"hidden_size": 1, "hidden_size": 2}', 'key "hidden_size" appears twice in one object'),
    "deep nesting": ("[" * 1000 + "]" * 1000, "nests arrays and objects deeper than 64 levels"),
    "huge integer": ('{"hidden_size": ' + "9" * 5000 + "}", "is not valid JSON"),
    "moe list": (_llama(num_local_experts=8, num_experts_per_tok=2, moe_layers=[1, "x"]),
                 "moe_layers: expected a list of layer numbers"),
    "disagreeing experts": (_llama(num_local_experts=8, num_experts=16, num_experts_per_tok=2),
                            "num_local_experts = 8, num_experts = 16: the config gives different values"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_configs_are_refused(capsys, tmp_path, case):
    content, message = HOSTILE[case]
    path = write(tmp_path, content, "hostile.json")
    kb_dir = tmp_path / "kb"
    start = time.perf_counter()
    code, out, err = run(capsys, "import-config", path, "--kb", kb_dir)
    assert time.perf_counter() - start < 5
    assert code == 1 and out == "", err
    assert message in err, err
    assert not kb_dir.exists()


def test_oversized_and_binary_files_are_refused(capsys, tmp_path):
    big = tmp_path / "big.json"
    big.write_text('{"pad": "' + "x" * MAX_CONFIG_BYTES + '"}')
    code, out, err = run(capsys, "import-config", big, "--kb", tmp_path / "kb")
    assert code == 1 and out == "" and f"larger than {MAX_CONFIG_BYTES:,} bytes" in err
    binary = tmp_path / "binary.json"
    binary.write_bytes(b'{"a": "\xff\xfe"}')
    code, out, err = run(capsys, "import-config", binary, "--kb", tmp_path / "kb")
    assert code == 1 and "is not UTF-8" in err
    assert not (tmp_path / "kb").exists()


def test_hostile_text_stays_out_of_the_yaml(tmp_path):
    data = _llama(torch_dtype="bf16\nid: evil\x1b[31m", _name_or_path="x/\u202ey\nid: evil")
    text = render_entry(import_data(data), "safe-id")
    parsed = yaml.safe_load(text)
    assert parsed["id"] == "safe-id" and parsed["native_dtype"] == "todo"
    assert "\x1b" not in text and "\u202e" not in text.replace('\\u202e', "")


def test_import_data_refuses_non_objects():
    with pytest.raises(ConfigError, match="one JSON object"):
        import_data([1, 2])  # type: ignore[arg-type]


# calculators on a config -----------------------------------------------------------------------
KV_BY_LAYER_KIND = ["llama-3.1-8b", "deepseek-v3", "deepseek-v3.2", "gemma-3-27b-it", "gpt-oss-20b",
                    "llama-4-scout-17b-16e-instruct", "qwen3-next-80b-a3b-thinking", "nemotron-h-47b-reasoning-128k",
                    "kimi-k2.5", "minimax-m2"]
"""One config of each kind of attention layer and cache: grouped-query, MLA (with MTP), DeepSeek sparse
attention's indexer, sliding windows (with a vision tower), alternating windows with sinks, chunked
attention, linear attention, Mamba, MLA with vision, plain MoE. The KV calculator is a function of
the architecture, which `test_fixture_imports_to_the_kb_architecture` compares with the entry for every
config; these check the command's `--config` path."""


@pytest.mark.parametrize("name", KV_BY_LAYER_KIND)
def test_kv_config_equals_the_kb_entry(capsys, name):
    entry_id = ROUND_TRIP[name][0]
    context = min(32768, import_config(CONFIGS / f"{name}.json").architecture.context_length)
    options = ("--dtype", "bf16", "--context", str(context), "--batch", "4", "--tp", "2", "--json")
    code, out, _ = run(capsys, "kv", "--config", CONFIGS / f"{name}.json", *options)
    assert code == 0
    from_config = json.loads(out)
    code, out, _ = run(capsys, "kv", entry_id, *options)
    assert code == 0
    from_kb = json.loads(out)
    model = from_config.pop("model")  # named after _name_or_path when the config gives one, else the file
    assert model == name or "_name_or_path" in fixture(name)
    assert from_kb.pop("model") == entry_id
    assert from_config == from_kb
    assert from_config["bytes_per_token"] > 0


@pytest.mark.parametrize("name", ["llama-3.1-8b", "deepseek-v3", "qwen3-next-80b-a3b-thinking"])
def test_fit_config_equals_the_kb_entry(capsys, name):
    entry_id = ROUND_TRIP[name][0]
    options = ("--gpu", "h100-sxm", "--gpu", "b200", "--context", "16384", "--concurrency", "8", "--all", "--json")
    code, out, _ = run(capsys, "fit", "--config", CONFIGS / f"{name}.json", *options)
    from_config = json.loads(out)
    code_kb, out, _ = run(capsys, "fit", entry_id, *options)
    from_kb = json.loads(out)
    assert code == code_kb
    assert from_config.pop("model") == name and from_kb.pop("model") == entry_id
    assert from_config == from_kb and from_config["options"]


def test_calculator_config_usage(capsys, tmp_path):
    code, _, err = run(capsys, "kv")
    assert code == 2 and "give a model id or alias, or --config PATH" in err
    code, _, err = run(capsys, "kv", "qwen3-32b", "--config", CONFIGS / "qwen3-32b.json")
    assert code == 2 and "not both" in err
    code, _, err = run(capsys, "fit", "--config", tmp_path / "missing.json")
    assert code == 2 and "no such file" in err
    code, out, err = run(capsys, "kv", "--config", write(tmp_path, "[1]"), "--json")
    assert code == 1 and out == "" and "inferbook kv: config must hold one JSON object" in err
    no_dtype = {k: v for k, v in fixture("llama-3.1-8b").items() if k != "torch_dtype"}
    code, _, err = run(capsys, "fit", "--config", write(tmp_path, no_dtype), "--gpu", "h100-sxm")
    assert code == 2 and "give --format" in err
    code, out, _ = run(capsys, "fit", "--config", write(tmp_path, no_dtype), "--gpu", "h100-sxm", "--format", "bf16",
                       "--json")
    assert code == 0 and json.loads(out)["format"] == "bf16"


def test_a_state_dtype_key_is_not_a_mamba_layer():
    """Qwen3.5's Gated DeltaNet configs carry mamba_ssm_dtype, the precision of the recurrent state:
    the import goes through, and the key is reported as something the entry does not record."""
    data = json.loads((CONFIGS / "qwen3-next-80b-a3b-thinking.json").read_text(encoding="utf-8"))
    plain = import_data(data)
    data["mamba_ssm_dtype"] = "float32"
    with_key = import_data(data)  # raises ConfigError if refused
    assert with_key.architecture == plain.architecture
    assert any("mamba_ssm_dtype" in line and "precision" in line for line in with_key.report.cannot_express)
    data["mamba_d_state"] = 128  # a real Mamba shape key still refuses the import
    with pytest.raises(ConfigError, match="the Mamba layers of model_type qwen3_next"):
        import_data(data)
