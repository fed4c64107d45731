"""The roofline and communication calls of the expression language: each matches the
arithmetic written out in the handbook's derivations, and each refuses bad arguments with
an ExpressionError."""

from __future__ import annotations

import pytest

import inferbook
from inferbook.expressions import Evaluator, ExpressionError


@pytest.fixture(scope="module")
def ev():
    return Evaluator(inferbook.load())


def number(text: str) -> float:
    return float(text.replace(",", "").split()[0])


def test_ridge_point_is_peak_over_bandwidth(ev):
    kb = ev.kb
    h100 = kb.gpus["h100-sxm"]
    expected = h100.dense.bf16_tflops.value * 1e12 / (h100.memory_bandwidth_gb_s.value * 1e9)
    assert number(ev.evaluate('ridge_point("h100-sxm") | round(3)')) == pytest.approx(expected, abs=1e-3)
    fp8 = number(ev.evaluate('ridge_point("h100-sxm", format="fp8-e4m3") | round(3)'))
    assert fp8 == pytest.approx(2 * expected, rel=1e-3)  # the FP8 roof is twice the BF16 roof on Hopper
    # over the scale-up link: peak over one direction (half the 900 GB/s NVLink figure), or a given link
    link = number(ev.evaluate('ridge_point("h100-sxm", over="link") | round(3)'))
    assert link == pytest.approx(h100.dense.bf16_tflops.value * 1e12 / 450e9, rel=1e-6)
    pcie = number(ev.evaluate('ridge_point("h100-sxm", over="link", link_gb_s=63) | round(3)'))
    assert pcie == pytest.approx(h100.dense.bf16_tflops.value * 1e12 / 63e9, rel=1e-6)
    # a weight-only format runs 16-bit math, so it has the 16-bit ridge
    assert ev.evaluate('ridge_point("h100-sxm", format="awq-int4") | round(3)') == ev.evaluate(
        'ridge_point("h100-sxm") | round(3)')


def test_critical_batch_scales_with_bytes_per_weight(ev):
    bf16 = number(ev.evaluate('critical_batch("h100-sxm") | round(3)'))
    ridge = number(ev.evaluate('ridge_point("h100-sxm") | round(3)'))
    assert bf16 == pytest.approx(ridge, rel=1e-6)  # 2 bytes per weight, 2 FLOPs per weight
    fp8 = number(ev.evaluate('critical_batch("h100-sxm", format="fp8-e4m3") | round(3)'))
    assert fp8 == pytest.approx(bf16, rel=1e-3)  # half the bytes, twice the roof
    int4 = number(ev.evaluate('critical_batch("h100-sxm", format="awq-int4") | round(3)'))
    assert int4 == pytest.approx(bf16 * 4.15625 / 16, rel=1e-3)


def test_step_ms_terms(ev):
    kb = ev.kb
    # batch 1 decode of a dense model: memory is the weights over the bandwidth
    memory = number(ev.evaluate('step_ms("llama-3.1-8b-instruct", "h100-sxm", "memory", format="bf16") | round(4)'))
    weights = number(ev.evaluate('weight_bytes("llama-3.1-8b-instruct", format="bf16") | round(0)'))
    kv = number(ev.evaluate('kv_bytes("llama-3.1-8b-instruct", tokens=1) | round(0)'))
    bw = kb.gpus["h100-sxm"].memory_bandwidth_gb_s.value * 1e9
    assert memory == pytest.approx((weights + kv) / bw * 1e3, rel=1e-3)
    # compute grows with the batch, memory barely does; prefill is compute-bound
    c1 = number(ev.evaluate('step_ms("llama-3.1-8b-instruct", "h100-sxm", "compute", format="bf16") | round(6)'))
    c64 = number(ev.evaluate(
        'step_ms("llama-3.1-8b-instruct", "h100-sxm", "compute", format="bf16", batch=64) | round(6)'))
    assert c64 == pytest.approx(64 * c1, rel=0.01)
    pre_c = number(ev.evaluate('step_ms("llama-3.1-8b-instruct", "h100-sxm", "compute", phase="prefill", '
                               'format="bf16", tokens=4096) | round(4)'))
    pre_m = number(ev.evaluate('step_ms("llama-3.1-8b-instruct", "h100-sxm", "memory", phase="prefill", '
                               'format="bf16", tokens=4096) | round(4)'))
    assert pre_c > 5 * pre_m
    # no communication without tensor parallelism; the step is the larger term plus communication
    assert number(ev.evaluate('step_ms("llama-3.1-8b-instruct", "h100-sxm", "comm") | round(4)')) == 0
    shape = 'format="bf16", tp=8, batch=64, tokens=2048'
    parts = {f: number(ev.evaluate(f'step_ms("llama-3.1-70b-instruct", "h100-sxm", "{f}", {shape}) | round(5)'))
             for f in ("compute", "memory", "comm", "step")}
    assert parts["step"] == pytest.approx(max(parts["compute"], parts["memory"]) + parts["comm"], abs=1e-4)
    assert parts["comm"] > 0
    # the same all-reduces over a slower link: the bandwidth term scales with 1 / link speed
    slow = number(ev.evaluate(f'step_ms("llama-3.1-70b-instruct", "h100-sxm", "comm", {shape}, link_gb_s=45) '
                              '| round(5)'))
    latency = 160 * 10e-3  # 2 all-reduces x 80 layers, 10 us each, in ms
    assert slow - latency == pytest.approx((parts["comm"] - latency) * 10, rel=1e-3)


def test_hidden_bytes_allreduce_and_alltoall(ev):
    assert ev.evaluate('hidden_bytes("llama-3.1-70b-instruct", tokens=64) | comma') == f"{64 * 8192 * 2:,}"
    assert ev.evaluate('hidden_bytes("llama-3.1-70b-instruct", tokens=64, dtype="fp8") | comma') == f"{64 * 8192:,}"
    # ring all-reduce at TP 8 over NVLink 4: 2 x 7/8 x 1 MiB over 450 GB/s one way
    nvlink = number(ev.evaluate('allreduce_us("llama-3.1-70b-instruct", "h100-sxm", tp=8, batch=64) | round(4)'))
    assert nvlink == pytest.approx(2 * 7 / 8 * 64 * 8192 * 2 / 450e9 * 1e6, rel=1e-4)
    pcie = number(ev.evaluate(
        'allreduce_us("llama-3.1-70b-instruct", "h100-sxm", tp=8, batch=64, link_gb_s=63) | round(4)'))
    assert pcie == pytest.approx(nvlink * 450 / 63, rel=1e-4)
    # DeepSeek-V3: top-8 of 256 experts, hidden 7,168, FP8 dispatch and BF16 combine, 58 MoE layers
    layer = number(ev.evaluate('alltoall_bytes("deepseek-v3", scope="layer") | round(0)'))
    assert layer == 8 * 7168 * (1 + 2)
    step = number(ev.evaluate('alltoall_bytes("deepseek-v3", tokens=2) | round(0)'))
    assert step == 2 * 58 * layer


@pytest.mark.parametrize(("expression", "message"), [
    ('ridge_point("no-such-gpu")', "ridge_point: unknown GPU 'no-such-gpu'"),
    ('ridge_point("h100-sxm", format="nope")', "ridge_point: unknown format 'nope'"),
    ('ridge_point(3)', "ridge_point: the GPU id must be quoted text, got 3"),
    ('step_ms("llama-3.1-8b-instruct", "h100-sxm", "speed")',
     "step_ms: unknown step figure 'speed'; known: compute, memory, comm, step"),
    ('step_ms("llama-3.1-8b-instruct", "h100-sxm", "memory", phase="train")',
     'step_ms: phase must be "decode" or "prefill", got \'train\''),
    ('step_ms("llama-3.1-8b-instruct", "h100-sxm", "memory", batch=0)',
     "step_ms: batch must be a whole number from 1 to 1,000,000, got 0"),
    ('allreduce_us("llama-3.1-70b-instruct", "l40s", tp=2)',
     "allreduce_us: l40s records no interconnect bandwidth; pass link_gb_s"),
    ('allreduce_us("llama-3.1-70b-instruct", "l40s", tp=2, link_gb_s=0)',
     "allreduce_us: link_gb_s must be a number above 0 and at most 100,000, got 0"),
    ('allreduce_us("llama-3.1-70b-instruct", "l40s", tp=2, link_gb_s="x")',
     "allreduce_us: link_gb_s must be a number above 0 and at most 100,000, got 'x'"),
    ('ridge_point("h100-sxm", over="disk")', 'ridge_point: over must be "memory" or "link", got \'disk\''),
    ('ridge_point("h100-sxm", link_gb_s=63)', 'ridge_point: link_gb_s applies only with over="link"'),
    ('ridge_point("l4", over="link")', "ridge_point: l4 records no interconnect bandwidth; pass link_gb_s"),
    ('alltoall_bytes("llama-3.1-8b-instruct")',
     "alltoall_bytes: llama-3.1-8b-instruct is not a mixture-of-experts model"),
    ('alltoall_bytes("deepseek-v3", scope="node")', 'alltoall_bytes: scope must be "step" or "layer", got \'node\''),
])
def test_bad_arguments_are_findings(ev, expression, message):
    with pytest.raises(ExpressionError) as info:
        ev.evaluate(expression)
    assert str(info.value) == message


# arithmetic filters and quoted() ----------------------------------------------------------------
def test_arithmetic_filters_chain_into_a_format():
    import inferbook
    from inferbook.expressions import Evaluator

    ev = Evaluator(inferbook.load())
    one = float(ev.evaluate('weight_bytes("llama-3.1-8b-instruct")'.replace(")", ") | div(1)")).replace(",", ""))
    assert ev.evaluate('weight_bytes("llama-3.1-8b-instruct") | times(2) | gib(2)') == f"{2 * one / 2**30:,.2f} GiB"
    assert ev.evaluate('value("gpus/h100-sxm", "memory_gib") | minus(16) | plus(1) | round(0)') == "65"
    ms = float(ev.evaluate('step_ms("llama-3.1-8b-instruct", "h100-sxm", "step", batch=32)').replace(",", ""))
    assert ev.evaluate('step_ms("llama-3.1-8b-instruct", "h100-sxm", "step", batch=32) | per_s(32) | round(0)') == (
        f"{32 * 1000 / ms:,.0f}")


@pytest.mark.parametrize(("text", "says"), [
    ('value("gpus/h100-sxm", "memory_gib") | div(0)', "division by zero"),
    ('value("gpus/h100-sxm", "memory_gib") | times("x")', "expected a number"),
    ('value("gpus/h100-sxm", "memory_gib") | gib(1) | times(2)', "formatting filters"),
    ('quoted("no digits")', "holds a number"),
    ('quoted("12 GB") | round(1)', "formatting filters"),
])
def test_bad_arithmetic_and_quotes_are_findings(text, says):
    import inferbook
    from inferbook.expressions import Evaluator, ExpressionError

    with pytest.raises(ExpressionError, match=says):
        Evaluator(inferbook.load()).evaluate(text)


def test_quoted_keeps_a_sourced_figure_as_written():
    import inferbook
    from inferbook.expressions import Evaluator

    assert Evaluator(inferbook.load()).render('peak {{ quoted("3,958 TFLOPS") }} sparse') == "peak 3,958 TFLOPS sparse"


def test_a_plan_is_searched_once_per_process_while_its_inputs_stay_the_same(monkeypatch, tmp_path):
    """`inferbook serve` rebuilds with a freshly loaded knowledge base after every edit: plans in
    the prose are reused while the models, GPUs, formats, frameworks and offers are unchanged."""
    import inferbook
    from inferbook import expressions
    from inferbook.calc import plan as plan_module

    first = inferbook.load()
    again = inferbook.api.knowledge_base_from(inferbook.validate().result)  # same content, new object
    calls = []
    real = plan_module.plan

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(plan_module, "plan", counting)
    monkeypatch.setattr(expressions, "_PLANS", {})
    monkeypatch.setenv("INFERBOOK_CACHE_DIR", str(tmp_path))  # nor on disk (test_expression_cache.py)
    text = 'plan("llama-3.1-8b-instruct", "gpus", isl=1000, osl=200, rate=1)'
    assert first is not again
    assert Evaluator(first).evaluate(text) == Evaluator(again).evaluate(text)
    assert len(calls) == 1
    assert expressions._reference_digest(first, "llama-3.1-8b-instruct") == expressions._reference_digest(
        again, "llama-3.1-8b-instruct")
