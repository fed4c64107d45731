"""Plausibility and consistency of the reference data in kb/ (issue: every number sourced).

Exceptions are listed here with their reason, so a new one cannot slip in unexplained."""

from __future__ import annotations

import pytest

import inferbook
from inferbook.calc import count_params
from inferbook.coverage import coverage_report, missing_by_field
from inferbook.kb import field_value

# model id -> why the computed total differs from the stated one by more than 2%
PARAM_EXCEPTIONS = {
    "ernie-4.5-21b-a3b-pt": "card says 21B; the architecture holds 21.8B",
    "kimi-k2-thinking": "card says 1T; the architecture holds 1.026T",
    "olmo-3-7b-instruct": "named 7B; the architecture holds 7.30B (as OLMo 2 7B)",
    "command-r-08-2024": "card states the 35B size class; weights hold 32.3B (alternative recorded)",
    "deepseek-r1-distill-qwen-7b": "named after the 7B class; the Qwen2.5-Math-7B base has 7.6B",
    "deepseek-r1-distill-qwen-32b": "named 32B; the Qwen2.5-32B base has 32.8B",
    "gemma-2-9b-it": "card says 9B; weights hold 9.24B",
    "gemma-3-4b-it": "card's 4B class includes the 0.42B SigLIP tower (counted apart); the language model holds 3.88B",
    "llama-2-7b-chat": "card says 7B; weights hold 6.74B",
    "mistral-7b-instruct-v0.1": "card says 7B; weights hold 7.24B",
    "mistral-7b-instruct-v0.3": "card says 7B; weights hold 7.25B",
    "olmo-2-1124-7b-instruct": "card says 7B; weights hold 7.30B",
    "phi-4": "card says 14B; weights hold 14.7B",
    "qwen3-8b": "card says 8B (8.2B in the Qwen3 report); the 8.19B computed matches the report",
    "qwen3-14b": "card says 14B; the Qwen3 report gives 14.8B, which the 14.77B computed matches",
    "qwen3-32b": "card says 32B; the Qwen3 report gives 32.8B, which the 32.76B computed matches",
    "kimi-k2-instruct": "card says 1T; the architecture holds 1.026T",
    "olmo-2-1124-13b": "card says 13B; weights hold 13.7B",
    "granite-3.1-8b-instruct": "card says 8B; weights hold 8.17B",
    "smollm3-3b": "card says 3B; the 3.075B computed matches the 3.08B of the release blog (alternative recorded)",
    "mistral-nemo-instruct-2407": "card says 12B; the architecture holds 12.25B",
    "kimi-k2.5": "card says 1T; the K2 language model holds 1.026T (the 0.47B MoonViT tower is counted apart)",
    "ministral-3-14b-instruct-2512": "named after the 14B class; the language model holds 13.5B",
    "ministral-3-8b-instruct-2512": "named after the 8B class; the language model holds 8.5B",
    "mistral-medium-3.5-128b": "catalogue says 128B with the vision encoder; the language model holds 125.0B",
    "nvidia-nemotron-3-nano-30b-a3b": "card says 30B; the architecture holds 31.58B (the 31.6B others quote)",
}
# model id -> why the stated total is a size class further than 12% from the computed count
SIZE_CLASS_EXCEPTIONS = {
    "ministral-3-3b-instruct-2512": "named after the 3B class; the language model alone holds 3.43B",
    "ministral-3-3b-reasoning-2512": "named after the 3B class; the language model alone holds 3.43B",
}


@pytest.fixture(scope="module")
def kb():
    return inferbook.load()


def test_knowledge_base_validates_without_errors():
    result = inferbook.validate()
    assert result.ok, "\n".join(d.format() for d in result.errors[:20])


def test_parameter_counts_match_stated_totals(kb):
    bad = {}
    for mid, model in kb.models.items():
        computed = count_params(model.architecture).total / 1e9
        stated = model.params_total_b.value
        error = abs(computed - stated) / stated
        limit = 0.2 if mid in SIZE_CLASS_EXCEPTIONS else 0.12 if mid in PARAM_EXCEPTIONS else 0.02
        if error > limit:
            bad[mid] = f"computed {computed:.2f}B vs stated {stated}B ({error:.1%})"
    assert not bad, bad
    stale = [m for m in PARAM_EXCEPTIONS if m in kb.models and abs(
        count_params(kb.models[m].architecture).total / 1e9 - kb.models[m].params_total_b.value)
        / kb.models[m].params_total_b.value <= 0.02]
    assert not stale, f"exceptions no longer needed: {stale}"


# model id -> why the stated active count is further than 3% from every convention
ACTIVE_EXCEPTIONS = {
    "qwen3-next-80b-a3b-instruct": "the card's '3B' is rounded; with its Gated DeltaNet layers and output gate "
                                   "counted exactly the architecture activates 3.25B without embedding and head",
    "qwen3-next-80b-a3b-thinking": "the card's '3B' is rounded; with its Gated DeltaNet layers and output gate "
                                   "counted exactly the architecture activates 3.25B without embedding and head",
    "qwen3-coder-next": "the Qwen3-Next architecture (3.25B active without embedding and head) under a rounded '3B'",
}


def test_active_parameters_match(kb):
    """Vendors count active parameters differently: with every weight a token touches,
    without the input embedding (DeepSeek, OpenAI), or without embedding and output head
    (Zhipu). The computed count must match the stated one within 3% under one of them."""
    bad = {}
    for mid, model in kb.models.items():
        if model.params_active_b is None:
            continue
        p = count_params(model.architecture)
        stated = model.params_active_b.value * 1e9
        conventions = (p.active, p.active - p.embedding, p.active - p.embedding - p.lm_head)
        best = min(abs(c - stated) / stated for c in conventions)
        if best > 0.03 and mid not in ACTIVE_EXCEPTIONS:
            bad[mid] = f"computed {[round(c / 1e9, 2) for c in conventions]}B vs stated {stated / 1e9}B"
    assert not bad, bad


def test_models_say_how_attention_works(kb):
    for mid, model in kb.models.items():
        a = model.architecture
        if a.attention == "mha":
            assert a.kv_heads == a.attention_heads, mid
        elif a.attention == "mqa":
            assert a.kv_heads == 1, mid
        elif a.attention == "gqa":
            assert 1 < a.kv_heads < a.attention_heads, mid
        assert (a.moe is None) == (model.params_active_b is None), f"{mid}: MoE models state active params"
        assert a.context_length >= 2048, mid


def test_gpu_numbers_are_plausible(kb):
    for gid, gpu in kb.gpus.items():
        mem, bw = gpu.memory_gib.value, gpu.memory_bandwidth_gb_s.value
        assert 4 <= mem <= 1024, gid
        assert 50 <= bw <= 30_000, gid
        d = gpu.dense
        values = {k: getattr(d, k).value for k in type(d).model_fields if getattr(d, k) is not None}
        for name, value in values.items():
            assert 0 < value <= 25_000, (gid, name)
        if "fp8_tflops" in values and "bf16_tflops" in values:
            assert values["fp8_tflops"] >= values["bf16_tflops"], gid
        if "fp32_tflops" in values and "bf16_tflops" in values:
            assert values["fp32_tflops"] <= values["bf16_tflops"], gid
        if gpu.tdp_w is not None:
            assert 5 <= gpu.tdp_w.value <= 3000, gid


# (gpu, data type) -> why the vendor's sparse figure is not twice the dense one
SPARSE_EXCEPTIONS = {
    ("b300", "fp4_tflops"): "Blackwell Ultra's sparse FP4 is about 1.3x dense (NVIDIA datasheet)",
    ("gb300", "fp4_tflops"): "Blackwell Ultra's sparse FP4 is about 1.3x dense (NVIDIA datasheet)",
    **{("trainium2", t): "AWS prints one sparse figure for all types; its sparsity is not 2:4"
       for t in ("tf32_tflops", "bf16_tflops", "fp16_tflops", "fp8_tflops")},
}


def test_sparse_figures_are_twice_dense(kb):
    bad = []
    for gid, gpu in kb.gpus.items():
        if gpu.sparse is None:
            continue
        for name in type(gpu.sparse).model_fields:
            sparse, dense = getattr(gpu.sparse, name), getattr(gpu.dense, name)
            if sparse is None or dense is None or (gid, name) in SPARSE_EXCEPTIONS:
                continue
            # 3%: NVIDIA's own sheets round (the L40S sheet prints 362.05 dense and 733 sparse)
            if abs(sparse.value / dense.value - 2) > 0.06:
                bad.append(f"{gid} {name}: sparse {sparse.value} vs dense {dense.value}")
    assert not bad, bad


def test_sxm_is_never_slower_than_its_pcie_variant(kb):
    checked = 0
    for gid, gpu in kb.gpus.items():
        if gpu.variant_of is None:
            continue
        parent = kb.gpus[gpu.variant_of]
        same_memory = gpu.memory_gib.value <= parent.memory_gib.value
        if gpu.form_factor == "pcie" and parent.form_factor == "sxm" and same_memory:
            checked += 1
            assert gpu.memory_bandwidth_gb_s.value <= parent.memory_bandwidth_gb_s.value, gid
            for name in ("bf16_tflops", "fp16_tflops", "fp8_tflops", "tf32_tflops"):
                a, b = getattr(gpu.dense, name), getattr(parent.dense, name)
                if a is not None and b is not None:
                    assert a.value <= b.value, (gid, name)
    assert checked >= 2


def test_formats_are_consistent(kb):
    for fid, f in kb.formats.items():
        assert f.effective_bits_per_weight >= f.bits_per_value or f.category == "gguf", fid
        if f.exponent_bits is not None and f.mantissa_bits is not None and f.category == "float":
            sign = 1
            assert sign + f.exponent_bits + f.mantissa_bits == f.bits_per_value, fid


def test_field_coverage_report(kb, capsys):
    """The report prints, per kind, each optional field some entries leave empty, and names
    those entries when there are few; it is printed so a test run shows the gaps."""
    report = coverage_report(kb)
    with capsys.disabled():
        print("\n" + report)
    for kind in ("gpus", "models", "formats", "frameworks"):
        assert f"{kind} ({len(kb.kind(kind))} entries)" in report
        for path, ids in missing_by_field(kb, kind).items():
            if 0 < len(ids) <= 8:
                assert f"missing: {', '.join(ids)}" in report, path
            for eid in ids:  # what the report calls missing is really empty
                assert field_value(kb.kind(kind)[eid], path) in (None, (), ""), (eid, path)


# dense throughput field -> format ids any of which the GPU must list when it prints that figure
# (FP32 and FP64 run on plain vector units on many chips, so they are not required)
THROUGHPUT_FORMATS = {
    "tf32_tflops": ("tf32",), "bf16_tflops": ("bf16",), "fp16_tflops": ("fp16",),
    "fp8_tflops": ("fp8-e4m3", "fp8-e5m2"), "fp6_tflops": ("fp6-e2m3", "fp6-e3m2", "mxfp6"),
    "fp4_tflops": ("fp4-e2m1", "mxfp4", "nvfp4"), "int8_tops": ("int8",), "int4_tops": ("int4",),
}
# (gpu, field) -> why the figure is printed but no format is listed
THROUGHPUT_EXCEPTIONS = {
    ("gaudi3", "fp8_tflops"): "the sources give an FP8 rate without naming E4M3/E5M2",
    **{(g, "fp8_tflops"): "AWS quotes configurable FP8 (cFP8) without naming the encodings"
       for g in ("inferentia2", "trainium", "trainium2")},
}


def test_supported_formats_agree_with_throughput_and_format_entries(kb):
    """A GPU that prints a throughput figure for a type lists a format of that type, and every
    format it lists names the GPU's architecture among the generations that run it natively."""
    bad = []
    for gid, gpu in kb.gpus.items():
        for field, ids in THROUGHPUT_FORMATS.items():
            if getattr(gpu.dense, field) is not None and (gid, field) not in THROUGHPUT_EXCEPTIONS:
                if not set(ids) & set(gpu.supported_formats):
                    bad.append(f"{gid}: prints {field} but lists none of {ids}")
        for fid in gpu.supported_formats:
            native = kb.formats[fid].native_tensor_core
            if native and gpu.architecture not in native:
                bad.append(f"{gid}: lists {fid}, whose native_tensor_core lacks {gpu.architecture}")
    assert not bad, bad
    for key in THROUGHPUT_EXCEPTIONS:
        assert key[0] in kb.gpus and getattr(kb.gpus[key[0]].dense, key[1]) is not None, key


# gpu -> why it has no 16-bit dense throughput (the roofline tools skip it)
NO_THROUGHPUT = {
    "gh200": "no readable copy of NVIDIA's GH200 throughput table was found (see its notes)",
    "rubin": "announced; NVIDIA gives only NVFP4 targets, kept in notes (sparsity not stated)",
    "dgx-spark": "NVIDIA gives only an FP4 figure (1 PFLOP with sparsity) for GB10",
    "jetson-agx-thor": "only sparse FP4 (2070 TFLOPS) is recorded: the copies of NVIDIA's sheet read disagree on FP8 "
                       "and give no BF16/FP16 rate",
    "jetson-agx-orin-64gb": "NVIDIA's brief gives sparse INT8 TOPS and FP32 TFLOPS; no FP16/BF16 tensor rate was read",
    "arc-pro-b60": "the only XMX figure read (394 INT8 TOPS) looks like a dual-GPU card total; "
                   "no BF16/FP16 matrix rate was read, only the FP32 shader rate",
    **{g: "NVIDIA quotes 'AI TOPS' without data type or sparsity; only the FP32 shader rate is sourced"
       for g in ("rtx-3060-12gb", "rtx-4060-ti-16gb", "rtx-5060-ti-16gb")},
}


def test_the_fields_that_drive_calculators_are_filled(kb):
    """Coverage that the calculators need, checked per entry (the printed report shows the rest)."""
    for gid, gpu in kb.gpus.items():
        sixteen = gpu.dense.bf16_tflops or gpu.dense.fp16_tflops
        if gpu.vendor != "apple" and gid not in NO_THROUGHPUT:  # Apple publishes no GPU TFLOPS
            assert sixteen is not None, f"{gid}: no 16-bit dense throughput"
            assert gpu.supported_formats, f"{gid}: no supported formats"
    for mid, model in kb.models.items():
        a = model.architecture
        assert a.head_dim and a.kv_heads and a.layers and a.vocab_size, mid
        if a.moe is not None:
            assert model.params_active_b is not None, f"{mid}: MoE without active parameters"
        if a.moe is None:
            assert a.intermediate_size, f"{mid}: dense model without intermediate_size"
        if "sliding" in a.layer_pattern or "local" in a.layer_pattern:
            assert a.sliding_window, f"{mid}: local layers without a window"
    for fid, f in kb.formats.items():
        if f.category in ("float", "microscaling"):
            assert f.native_tensor_core, f"{fid}: which generations run it natively?"


# what the reference-data issue names, by entry id (each must exist; counts are minimums)
NAMED = {
    "gpus": (
        "v100-sxm2-32gb a100-sxm-40gb a100-sxm-80gb a100-pcie-40gb a100-pcie-80gb a10 a10g a30 a40 l4 l40 l40s t4 "
        "h100-sxm h100-pcie h100-nvl h200-sxm h200-nvl h20 gh200 b200 b300 gb200 gb300 rtx-pro-6000-blackwell "
        "rtx-6000-ada rtx-a6000 rtx-3090 rtx-4090 rtx-5090 rtx-3060-12gb rtx-4060-ti-16gb rtx-5060-ti-16gb "
        "mi210 mi250x mi300x mi325x mi355x gaudi2 gaudi3 tpu-v4 tpu-v5e tpu-v5p tpu-v6e tpu-v7 inferentia2 trainium "
        "apple-m3-max apple-m4-max"),
    "models": (
        "llama-2-7b-chat llama-3-8b-instruct llama-3.1-8b-instruct llama-3.2-1b-instruct llama-3.3-70b-instruct "
        "llama-4-scout-17b-16e-instruct llama-4-maverick-17b-128e-instruct mistral-7b-instruct-v0.3 "
        "mistral-small-3.1-24b-instruct mistral-large-instruct-2407 mixtral-8x7b-instruct mixtral-8x22b-instruct "
        "qwen2.5-0.5b-instruct qwen2.5-72b-instruct qwen3-8b qwen3-30b-a3b-thinking-2507 "
        "qwen3-235b-a22b-thinking-2507 qwen3-next-80b-a3b-thinking deepseek-v2 deepseek-v3 deepseek-r1 "
        "deepseek-r1-distill-llama-8b deepseek-r1-distill-qwen-32b gemma-2-9b-it gemma-3-27b-it phi-3-mini-4k-instruct "
        "phi-4 gpt-oss-20b gpt-oss-120b glm-4.5 kimi-k2-instruct minimax-m2 command-r-08-2024 olmo-2-1124-13b "
        "granite-3.1-8b-instruct smollm3-3b"),
    "formats": (
        "fp32 tf32 bf16 fp16 fp8-e4m3 fp8-e5m2 int8 int4 nf4 fp6-e2m3 fp6-e3m2 fp4-e2m1 mxfp8 mxfp6 mxfp4 nvfp4 "
        "awq-int4 gptq-int4 gguf-q8-0 gguf-q6-k gguf-q5-k-m gguf-q4-k-m gguf-q4-0 gguf-q3-k-m gguf-q2-k"),
    "frameworks": (
        "vllm sglang tensorrt-llm tgi llama-cpp ollama lmdeploy mlc-llm max exllamav2 nvidia-dynamo llm-d ray-serve "
        "triton-inference-server lorax"),
}
MINIMUM = {"gpus": 45, "models": 60, "formats": 20, "frameworks": 15}


@pytest.mark.parametrize("kind", sorted(NAMED))
def test_named_entries_exist(kb, kind):
    missing = [i for i in NAMED[kind].split() if i not in kb.kind(kind)]
    assert not missing, missing
    assert len(kb.kind(kind)) >= MINIMUM[kind]


ISSUE_FEATURES = ("continuous_batching", "paged_kv_cache", "prefix_caching", "speculative_decoding",
                  "prefill_decode_disaggregation")


def test_frameworks_document_what_the_issue_asks(kb):
    for fid, f in kb.frameworks.items():
        assert f.license and f.repository and f.hardware, fid
        if f.role == "engine":
            known = [x for x in ISSUE_FEATURES if getattr(f.features, x) is not None]
            assert len(known) >= 3, f"{fid}: only {known} of the issue's key features documented"
            assert f.flags, f"{fid}: no flags"
        documented_true = [x for x in type(f.features).model_fields if getattr(f.features, x)]
        assert not documented_true or f.flags or f.role == "orchestrator", fid
