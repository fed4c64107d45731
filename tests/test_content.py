"""Coverage of the handbook (issue: every topic of the reference handbook and beyond):
each listed topic maps to an entry in its chapter, the chapters give a reading order
that reaches every entry, nothing is orphaned, everything cites a source, core topics
are written in depth, and every `{{ expression }}` in the prose evaluates."""

from __future__ import annotations

import re

import pytest

import inferbook
from inferbook.expressions import Evaluator, expression_spans

# chapter -> topic ids; a trailing * marks a core topic (at least 400 words of body)
TOPICS = {
    "foundations": "llm-inference* inference-server-vs-engine training-vs-inference tokenization* "
    "decoder-only-transformer* attention-mechanism* prefill* decode* autoregressive-generation kv-cache* "
    "context-window sampling-parameters* temperature top-p-top-k-min-p repetition-penalties stop-sequences "
    "seed-and-determinism logprobs where-inference-runs reasoning-models*",
    "measuring-performance": "ttft* tpot* itl* e2el* token-generation-time request-throughput token-throughput* "
    "goodput* service-level-objectives latency-percentiles* request-vs-token-weighted-averages queueing-delay "
    "concurrency mfu* mbu* arithmetic-intensity* gpu-utilization cost-per-million-tokens* energy-per-token "
    "prefix-cache-hit-rate speculative-acceptance-rate benchmark-tools",
    "planning-deployment": "serverless-vs-self-hosting* choosing-a-model* base-vs-instruct-models dense-vs-moe* "
    "small-language-models weight-file-formats reading-model-names choosing-a-gpu* gpu-memory-calculation* "
    "choosing-an-inference-framework* bring-your-own-cloud on-premises-inference multi-cloud-and-cross-region "
    "edge-and-local-inference",
    "model-preparation": "quantization* weight-only-quantization w8a8-quantization fp8-quantization* awq gptq "
    "smoothquant fp4-quantization gguf-k-quants kv-cache-quantization* quantization-quality* fine-tuning lora* "
    "distillation pruning two-four-sparsity",
    "model-interaction": "openai-compatible-api* anthropic-compatible-api streaming* function-calling* "
    "structured-outputs* model-context-protocol prompt-cost-and-latency agent-harnesses",
    "inference-optimization": "benchmarking-methodology* static-batching dynamic-batching continuous-batching* "
    "chunked-prefill* paged-attention* prefix-caching* speculative-decoding* medusa eagle multi-token-prediction "
    "ngram-speculation prefill-decode-disaggregation* kv-cache-offloading* kv-cache-compression "
    "inference-routing* data-parallelism tensor-parallelism* pipeline-parallelism* expert-parallelism* "
    "context-parallelism offline-batch-inference cuda-graphs kernel-fusion* attention-variants* "
    "grouped-query-attention* multi-query-attention multi-head-latent-attention* sliding-window-attention* "
    "linear-attention-hybrids moe-serving* multi-lora-serving long-context-techniques*",
    "gpus-and-kernels": "gpu-architecture* tensor-cores* memory-hierarchy* roofline-model* flashattention* "
    "kernel-tool-ladder* pcie nvlink-nvswitch* infiniband-roce precision-support-by-generation* "
    "dense-vs-sparse-throughput",
    "infrastructure-operations": "inference-infrastructure* distributed-inference* observability* cold-starts* "
    "autoscaling* build-and-maintenance-cost multi-model-pipelines inference-ops* security-and-multi-tenancy* "
    "cost-optimization*",
}


@pytest.fixture(scope="module")
def kb():
    return inferbook.load()


def _topics():
    for chapter, text in TOPICS.items():
        for token in text.split():
            yield chapter, token.rstrip("*"), token.endswith("*")


def test_every_topic_has_an_entry_in_its_chapter(kb):
    missing, misplaced = [], []
    for chapter, tid, _ in _topics():
        if tid not in kb:
            missing.append(tid)
        elif kb.get(tid).chapter != chapter:
            misplaced.append(f"{tid} is in {kb.get(tid).chapter}, expected {chapter}")
    assert not missing and not misplaced, (missing, misplaced)


def test_size_and_depth(kb):
    articles = kb.learning_order()
    assert len(articles) >= 130
    short = [(tid, n) for _, tid, core in _topics()
             if (n := len(kb.get(tid).body.split())) < (400 if core else 200)]
    assert not short, short
    long = [e.id for e in articles if len(e.body.split()) > 1500]
    assert not long, long


def test_reading_order_reaches_every_article_and_respects_prerequisites(kb):
    order = [e.id for e in kb.learning_order()]
    articles = {*kb.concepts, *kb.metrics, *kb.techniques}
    assert set(order) == articles and len(order) == len(articles)
    position = {eid: i for i, eid in enumerate(order)}
    for eid in order:
        for pre in kb.get(eid).prerequisites:
            assert position[pre] < position[eid], f"{pre} must come before {eid}"
    number = {eid: kb.chapters[kb.get(eid).chapter].number for eid in order}
    assert [number[e] for e in order] == sorted(number.values())  # chapters in sequence
    forward = [(e, p) for e in order for p in kb.get(e).prerequisites if number[p] > number[e]]
    assert not forward, f"prerequisites in later chapters: {forward}"


def test_no_orphans_and_every_article_cites_a_source(kb):
    result = inferbook.validate()
    orphans = [d.file for d in result.warnings if d.code == "IB206" and "/kb/sources/" not in f"/{d.file}"]
    article_orphans = [f for f in orphans if re.search(r"kb/(concepts|metrics|techniques)/", f)]
    assert not article_orphans, article_orphans
    for entry in kb.learning_order():
        assert entry.sources and all(c.source in kb.sources for c in entry.sources), entry.id


def test_expressions_all_evaluate_and_are_used(kb):
    evaluator = Evaluator(kb)
    count = 0
    for entry in kb.learning_order():
        for _, _, inner in expression_spans(entry.body):
            evaluator.evaluate(inner)  # raises ExpressionError on failure
            count += 1
    assert count >= 100, f"only {count} numbers come from the data"
    kv = kb.get("kv-cache").body
    assert 'kv_bytes_per_token("llama-3.1-8b-instruct"' in kv and "deepseek-v3" in kv


def test_quality_bar_phrases(kb):
    """GQA/MLA in KV discussions, dense vs sparse throughput, TPOT without the first token."""
    kv_entries = [e for e in kb.learning_order() if "kv cache" in e.title.lower() or e.id == "kv-cache"]
    for entry in kv_entries:
        body = entry.body
        if entry.id in ("kv-cache", "gpu-memory-calculation", "kv-cache-quantization"):
            assert "GQA" in body or "grouped-query" in body.lower(), entry.id
            assert "MLA" in body or "latent" in body.lower(), entry.id
    tpot = kb.get("tpot")
    assert any("- 1" in f.latex or "-1" in f.latex for f in tpot.formulas)
    assert "sparse" in kb.get("dense-vs-sparse-throughput").body.lower()
    assert "requests" in kb.get("goodput").summary.lower() or "request" in kb.get("goodput").body.lower()


def test_length_depth_and_worked_problems(kb):
    """Issue #23's floors: at least 110,000 words of body prose, every chapter substantial, every
    core topic at least 800 words, and at least 80 worked problems spread over the chapters."""
    articles = kb.learning_order()
    words = {e.id: len(e.body.split()) for e in articles}
    assert sum(words.values()) >= 110_000, sum(words.values())
    by_chapter: dict[str, int] = {}
    for e in articles:
        by_chapter[e.chapter] = by_chapter.get(e.chapter, 0) + words[e.id]
    assert set(by_chapter) == set(kb.chapters) and min(by_chapter.values()) >= 5_000, by_chapter
    thin_core = [(tid, words[tid]) for _, tid, core in _topics() if core and words[tid] < 800]
    assert not thin_core, thin_core
    exercises = {e.chapter: len(e.exercises) for e in articles if e.exercises}
    assert sum(len(e.exercises) for e in articles) >= 80
    assert all(sum(len(e.exercises) for e in articles if e.chapter == c) >= 3 for c in kb.chapters), exercises


def test_at_least_25_figures_inside_articles(kb):
    figures = [(e.id, f) for e in kb.learning_order() for f in e.figures]
    assert len(figures) >= 25, len(figures)
    assert all(f.svg.startswith("<svg") or f.chart for _, f in figures)
    assert sum(1 for _, f in figures if f.chart) >= 3  # charts drawn from the data, not only drawings
