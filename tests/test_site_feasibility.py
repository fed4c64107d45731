"""Browser tests of the site's tools in infeasible states (issue #17): every tool that shows a
figure for a setup runs the feasibility check (calc.js `checkSetup`, the port of
`inferbook.calc.feasibility.check_setup`) and, when the setup cannot run, shows the reasons in
place of the figures: a message with class "infeasible" and role="status", the figures emptied and
hidden, no number and never a negative memory figure. Driven back to a feasible setup, the figures
return. For cases of tests/feasibility_cases.py the reasons a tool shows are exactly the Python
check's (the site and the CLI agree), and every tool where memory is involved names the engine
profile it assumed.

Fixtures and helpers come from tests/test_site_tools.py (the session's site build, served on
127.0.0.1, driven in Debian's chromium)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
import test_site_tools as tools
from feasibility_cases import CASES, Case, resolve, setup
from test_site_tools import open_tool, set_fields, text, value

from inferbook.calc.capacity import EngineConfig
from inferbook.calc.feasibility import (
    VLLM_V1,
    EngineProfile,
    Setup,
    check_setup,
    format_status,
    parallel_findings,
)

pytestmark = pytest.mark.browser

# the fixtures of tests/test_site_tools.py: the session's site served on 127.0.0.1, chromium, a page
# that fails the test on a console error or a failed request, and the knowledge base
site, browser, page, kb = tools.site, tools.browser, tools.page, tools.kb

L8, L70, DSV3, Q32, H100 = ("llama-3.1-8b-instruct", "llama-3.1-70b-instruct", "deepseek-v3", "qwen3-32b", "h100-sxm")
ENGINE = f"Assumes {VLLM_V1.describe()}."
NEGATIVE = re.compile(r"(?<![\w.])[-−]\s?\d")
"""A negative number in running text (a hyphen inside a name such as Qwen3-32B is not one)."""


# helpers --------------------------------------------------------------------------
def reasons(page: Any, name: str, block: str = "setup") -> list[str]:
    """The reasons a tool shows in place of a block of figures (the message must be visible)."""
    message = page.locator(f"#tool-{name} [data-infeasible='{block}']")
    assert message.is_visible(), f"{name}: no reasons shown for {block}"
    assert message.get_attribute("role") == "status" and "infeasible" in message.get_attribute("class")
    return [li.strip() for li in message.locator("li").all_text_contents()]


def assert_no_figures(page: Any, name: str, block: str = "setup") -> None:
    """The block of figures is hidden and empty: no value, no number left in it."""
    figures = page.locator(f"#tool-{name} [data-figures='{block}']")
    assert figures.is_hidden(), f"{name}: figures of {block} still shown"
    assert figures.locator("[data-value]").count() == 0
    left = figures.locator("[data-out]").evaluate_all("els => els.map(e => e.textContent.trim())")
    assert all(t in ("", "–") for t in left), left


def assert_figures(page: Any, name: str, block: str = "setup") -> None:
    """The block of figures is back and the reasons are gone."""
    assert page.locator(f"#tool-{name} [data-figures='{block}']").is_visible()
    assert page.locator(f"#tool-{name} [data-infeasible='{block}']").is_hidden()


def assert_nothing_negative(page: Any, name: str) -> None:
    """No figure of the tool is negative: neither a value nor a number in its text."""
    values = page.locator(f"#tool-{name} .tool-output [data-value]").evaluate_all(
        "els => els.map(e => Number(e.dataset.value)).filter(v => !Number.isNaN(v))")
    assert all(v >= 0 for v in values), values
    shown = page.locator(f"#tool-{name} .tool-output").inner_text()
    assert not NEGATIVE.search(shown), NEGATIVE.search(shown)


def engine_line(page: Any, name: str) -> str:
    return text(page, name, "engine")


def expected(kb: Any, **fields: Any) -> Any:
    """The Python check of a setup given by ids (weights "native" is the released checkpoint)."""
    from inferbook.calc.weights import native_groups

    model = kb.models[fields.pop("model")]
    gpu = kb.gpus[fields.pop("gpu", H100)]
    weights = fields.pop("weights", "native")
    groups = None
    if weights == "native":
        weights = model.native_dtype
        groups = native_groups(model, dict(kb.formats)) or None
    kv = kb.formats[fields.pop("kv", "bf16")]
    return check_setup(Setup(model, gpu, kb.formats[weights], kv=kv, kv_bits=float(kv.bits_per_value), groups=groups,
                             **fields))


# each tool: into an infeasible state and back ---------------------------------------
def test_memory_fit(page: Any, kb: Any) -> None:
    open_tool(page, "memory-fit")
    # Llama 4 Scout on one H100 once showed "−137.12 GiB (−173 %)" of KV space
    set_fields(page, "memory-fit", model="llama-4-scout-17b-16e-instruct", format="native", gpu=H100, tp="1", pp=1,
               kv="bf16", context=8192, concurrency=16, util="0.9")
    want = expected(kb, model="llama-4-scout-17b-16e-instruct", context=8192, sequences=16)
    assert not want.feasible
    assert reasons(page, "memory-fit") == want.reasons
    assert "leaving nothing for the KV cache" in want.reasons[0]
    assert text(page, "memory-fit", "verdict").startswith("Cannot serve this load on 1 × ")
    assert page.locator("#tool-memory-fit [data-out='verdict']").get_attribute("data-value") == "false"
    assert_no_figures(page, "memory-fit")
    assert_nothing_negative(page, "memory-fit")
    assert engine_line(page, "memory-fit") == ENGINE
    # the fit search still answers, and a configuration that misses shows why, not its figures
    assert page.locator("#tool-memory-fit [data-out='best-gpu']").count() == 1
    for row in page.locator("#tool-memory-fit [data-out='misses'] tbody tr").all():
        assert len(row.locator("td").all()) == 2 and row.locator("td").last.text_content().strip()
    # back to a setup that fits: the breakdown returns, every figure at least 0
    set_fields(page, "memory-fit", model=L8, tp="1")
    assert_figures(page, "memory-fit")
    assert text(page, "memory-fit", "verdict").startswith("Fits on 1 × ")
    assert value(page, "memory-fit", "weights") > 0 and value(page, "memory-fit", "kv-space") > 0
    assert_nothing_negative(page, "memory-fit")
    # a pipeline longer than the model, and a TP that divides nothing: refused, with the rule's words
    set_fields(page, "memory-fit", pp=33)
    assert reasons(page, "memory-fit") == ["pipeline parallelism 33 is more than the 32 layers"]
    set_fields(page, "memory-fit", pp=1, model="qwen3-14b", tp="16")
    assert reasons(page, "memory-fit") == [f.message for f in parallel_findings(
        kb.models["qwen3-14b"].architecture, 16, 1, 1, 16)]
    assert_no_figures(page, "memory-fit")


def test_roofline(page: Any, kb: Any) -> None:
    open_tool(page, "roofline")
    # the bound label agrees with the printed ridge: the same two quantities are compared
    set_fields(page, "roofline", model=L8, gpu=H100, format="native", tp="1", kv="bf16", context=256)
    effective = value(page, "roofline", "ridge-effective")
    assert effective == pytest.approx(value(page, "roofline", "ridge") * 0.48 / 0.65)
    assert f"ridge {round(effective)}" in page.locator("#tool-roofline [data-out='table'] thead").inner_text()
    rows = page.locator("#tool-roofline [data-out='table'] tbody tr").all()
    bounds = []
    for row in rows:
        cells = row.locator("td").all_text_contents()
        intensity, bound = float(cells[3].replace(",", "")), cells[4]
        assert bound == ("compute" if intensity >= effective else "memory"), (cells, effective)
        bounds.append(bound)
    assert "compute" in bounds and "memory" in bounds  # batch 512 is compute-bound, batch 1 memory-bound
    assert engine_line(page, "roofline") == ENGINE
    # DeepSeek-V3 on one H100: no throughput, no price, only the reason
    set_fields(page, "roofline", model=DSV3)
    assert reasons(page, "roofline") == expected(kb, model=DSV3, context=256).reasons
    assert_no_figures(page, "roofline")
    # a million-token context on Llama 3.1 8B: refused, and no price for batch 64
    set_fields(page, "roofline", model=L8, context=1_000_000)
    assert reasons(page, "roofline") == expected(kb, model=L8, context=1_000_000).reasons
    assert any("is more than Llama 3.1 8B Instruct's maximum of 131,072" in r for r in reasons(page, "roofline"))
    assert_no_figures(page, "roofline")
    # Qwen3-32B at 1,280 tokens: batches past the KV cache get the CLI's reason, not figures
    set_fields(page, "roofline", model=Q32, context=1280, cost_batch=64)
    assert_figures(page, "roofline")
    fits = int(expected(kb, model=Q32, context=1280).max_sequences)
    words = f"only {fits:,} sequences of 1,280 tokens fit in the KV cache"
    assert page.locator("#tool-roofline [data-out='tput-8']").get_attribute("data-value")
    assert page.locator("#tool-roofline [data-out='tput-16']").count() == 0
    assert text(page, "roofline", "refused-16") == f"cannot run: {words}"
    assert reasons(page, "roofline", "cost") == [f"batch 64 cannot run: {words}"]
    assert_no_figures(page, "roofline", "cost")
    assert "never" in text(page, "roofline", "cb-batch")
    set_fields(page, "roofline", cost_batch=8)
    assert_figures(page, "roofline", "cost")
    assert value(page, "roofline", "cost") > 0
    assert "USD per million output tokens" in page.locator("#tool-roofline [data-figures='cost']").inner_text()
    # a cached prefix longer than the prompt is refused with a message
    set_fields(page, "roofline", prompt=2000, cached=5000)
    assert reasons(page, "roofline", "prefix") == ["the cached prefix (5,000 tokens) is longer than the prompt "
                                                   "(2,000 tokens); a prefix cache can only supply part of the prompt"]
    assert_no_figures(page, "roofline", "prefix")
    set_fields(page, "roofline", cached=1000)
    assert_figures(page, "roofline", "prefix")
    assert 0 < value(page, "roofline", "prefix-saved") < 1


def test_roofline_words(page: Any) -> None:
    """Bad inputs are refused in the form's words, never with calc.js's argument names."""
    form = open_tool(page, "roofline")
    for field_name, bad, words in (("draft", "0", "draft tokens per step must be a whole number of at least 1"),
                                   ("acceptance", "1.5", "the acceptance rate must be between 0 and 1"),
                                   ("price", "-1", "the price per GPU-hour must be a number of at least 0")):
        good = form.locator(f"[name='{field_name}']").input_value()
        form.locator(f"[name='{field_name}']").fill(bad)
        page.wait_for_selector("form[data-tool='roofline'][data-ready='false']", state="attached")
        shown = text(page, "roofline", "error")
        assert shown == f"Cannot compute: {words}"
        assert not re.search(r"\w_\w|>=", shown), shown
        set_fields(page, "roofline", **{field_name: good})


def test_request_lifecycle(page: Any, kb: Any) -> None:
    open_tool(page, "request-lifecycle")
    # DeepSeek-V3 on one H100 was given a TTFT of 329 ms
    set_fields(page, "request-lifecycle", model=DSV3, gpu=H100, format="native", tp="1", kv="bf16", prompt=1024,
               output=256, queue=20, batch=1)
    assert reasons(page, "request-lifecycle") == expected(kb, model=DSV3, context=1280).reasons
    assert_no_figures(page, "request-lifecycle")
    assert not re.search(r"\d\s?m?s\b", page.locator("#tool-request-lifecycle .tool-output").inner_text())
    assert engine_line(page, "request-lifecycle") == ENGINE
    # a 1,000,000-token prompt on Llama 3.1 8B once "read 147 GB per GPU" on an 80 GB card
    set_fields(page, "request-lifecycle", model=L8, prompt=1_000_000, output=256)
    assert reasons(page, "request-lifecycle") == expected(kb, model=L8, context=1_000_256).reasons
    assert "GB per GPU" not in page.locator("#tool-request-lifecycle .tool-output").inner_text()
    assert_no_figures(page, "request-lifecycle")
    # a batch the KV cache cannot hold
    set_fields(page, "request-lifecycle", model=Q32, prompt=1200, output=80, batch=64)
    assert reasons(page, "request-lifecycle") == expected(kb, model=Q32, context=1280, sequences=64).reasons
    set_fields(page, "request-lifecycle", batch=8)
    assert_figures(page, "request-lifecycle")
    assert value(page, "request-lifecycle", "ttft") > 0 and "ms" in text(page, "request-lifecycle", "ttft")


def test_kv_cache(page: Any, kb: Any) -> None:
    open_tool(page, "kv-cache")
    # a 1M context on Llama 3.1 8B was accepted without a word
    set_fields(page, "kv-cache", model=L8, dtype="bf16", context=1_000_000, batch=1, tp=1)
    assert reasons(page, "kv-cache") == ["a context of 1,000,000 tokens is more than Llama 3.1 8B Instruct's "
                                         "maximum of 131,072"]
    assert_no_figures(page, "kv-cache")
    assert "No engine assumed" in engine_line(page, "kv-cache")
    # a TP that divides neither the heads nor the KV heads
    set_fields(page, "kv-cache", model=L70, context=8192, tp=3)
    assert reasons(page, "kv-cache") == [f.message for f in parallel_findings(kb.models[L70].architecture, 3, 1, 1, 3)]
    assert_no_figures(page, "kv-cache")
    set_fields(page, "kv-cache", tp=2)
    assert_figures(page, "kv-cache")
    assert text(page, "kv-cache", "total").endswith("GiB")
    # a custom architecture with more KV heads than query heads, then one that splits unevenly
    set_fields(page, "kv-cache", model="__custom__", attention="gqa", heads=8, kv_heads=16, tp=1)
    assert reasons(page, "kv-cache") == ["16 KV heads are more than the 8 query heads: each KV head serves a group "
                                         "of query heads, so a model has at most as many KV heads as query heads"]
    assert_no_figures(page, "kv-cache")
    set_fields(page, "kv-cache", heads=32, kv_heads=5)
    assert reasons(page, "kv-cache") == ["the 32 query heads do not split evenly into 5 groups, one per KV head"]
    set_fields(page, "kv-cache", kv_heads=8)
    assert_figures(page, "kv-cache")
    assert text(page, "kv-cache", "per-token") == "131,072 bytes"


def test_batching_simulator(page: Any, kb: Any) -> None:
    open_tool(page, "batching-simulator")
    base = dict(model=L8, gpu=H100, format="native", tp="1", kv="bf16", util="0.9", policy="continuous", rate=10, n=100,
                arrivals="fixed", lengths="fixed", input=1024, output=256, max_batch=256, budget=8192)
    set_fields(page, "batching-simulator", **base)
    assert_figures(page, "batching-simulator")
    assert value(page, "batching-simulator", "kv-tokens") > 0
    cfg = EngineConfig(gpu_memory_utilization=0.9, max_num_batched_tokens=8192, max_num_seqs=256)
    assert engine_line(page, "batching-simulator") == f"Assumes {EngineProfile(VLLM_V1.name, cfg).describe()}."
    assert "capacity()" not in page.locator("#tool-batching-simulator .tool-output").inner_text()
    # a 1M-token request on Llama 3.1 8B was simulated without a warning
    set_fields(page, "batching-simulator", input=1_000_000)
    engine = EngineProfile(VLLM_V1.name, cfg)
    want = expected(kb, model=L8, context=1_000_256, sequences=256, mode="concurrency", engine=engine)
    assert reasons(page, "batching-simulator") == want.reasons
    assert_no_figures(page, "batching-simulator")
    # a concurrency the cache cannot hold at once runs, with the cost stated as a note
    set_fields(page, "batching-simulator", input=30000, output=2000, n=20)
    want = expected(kb, model=L8, context=32000, sequences=256, mode="concurrency", engine=engine)
    assert want.feasible and want.warnings
    assert_figures(page, "batching-simulator")
    notes = page.locator("#tool-batching-simulator [data-out='warnings'] li").all_text_contents()
    assert notes == want.warnings
    # DeepSeek-V3 on one H100
    set_fields(page, "batching-simulator", model=DSV3, input=1024, output=256)
    assert "needs 626.7 GiB of weights" in reasons(page, "batching-simulator")[0]
    assert_no_figures(page, "batching-simulator")
    # no argument names in a refusal of the form's numbers
    form = page.locator("form[data-tool='batching-simulator']")
    form.locator("[name='rate']").fill("0")
    page.wait_for_selector("form[data-tool='batching-simulator'][data-ready='false']", state="attached")
    page.locator("#tool-batching-simulator [data-out='error']").wait_for(state="visible")
    assert text(page, "batching-simulator", "error") == ("Cannot simulate: the arrival rate must be above 0 requests "
                                                         "per second")


def unsupported_pair(kb: Any) -> tuple[str, str]:
    """A weight format and a GPU it does not run on (read from the entries, which may change)."""
    for fid, fmt in sorted(kb.formats.items()):
        if "weights" not in fmt.used_for:
            continue
        for gid, gpu in sorted(kb.gpus.items()):
            if format_status(fmt, gpu) == "unsupported":
                return fid, gid
    pytest.skip("every weight format runs on every GPU in the knowledge base")


def test_gpu_comparison(page: Any, kb: Any) -> None:
    open_tool(page, "gpu-comparison")
    assert engine_line(page, "gpu-comparison") == ENGINE
    # a format the GPU cannot run at any count: "–" with the reason, never a count
    fid, gid = unsupported_pair(kb)
    set_fields(page, "gpu-comparison", vendor=kb.gpus[gid].vendor, format=fid, kv="bf16", context=8192, concurrency=4)
    cell = page.locator(f"#tool-gpu-comparison [data-out='fit-{gid}-{L8}']")
    assert cell.text_content() == "–" and cell.get_attribute("data-value") == "null"
    want = expected(kb, model=L8, gpu=gid, weights=fid, context=8192, sequences=4)
    assert not want.feasible and any(f"weights do not run on {kb.gpus[gid].title}" in r for r in want.reasons)
    assert want.reasons[0] in cell.get_attribute("data-reason")
    assert want.reasons[0] in cell.get_attribute("title")
    cell.click()
    why = page.locator("#tool-gpu-comparison [data-out='cell-reason']")
    assert why.is_visible() and want.reasons[0] in why.text_content()
    assert why.get_attribute("role") == "status"
    # the released checkpoint runs there: a count, no reason
    set_fields(page, "gpu-comparison", format="native")
    count = expected(kb, model=L8, gpu=gid, context=8192, sequences=4)
    if count.feasible:
        assert cell.text_content() == "1" and cell.get_attribute("data-reason") is None


def test_quantization(page: Any) -> None:
    open_tool(page, "quantization")
    set_fields(page, "quantization", model=L8, context=1_000_000, batch=2)
    assert reasons(page, "quantization", "kv") == ["a context of 1,000,000 tokens is more than Llama 3.1 8B "
                                                   "Instruct's maximum of 131,072"]
    assert_no_figures(page, "quantization", "kv")
    assert value(page, "quantization", "native") > 0  # the weights do not depend on the context
    assert "no GPU or engine is assumed" in engine_line(page, "quantization")
    set_fields(page, "quantization", context=8192)
    assert_figures(page, "quantization", "kv")
    assert value(page, "quantization", "kv-bf16") > 0


def test_latency_metrics(page: Any) -> None:
    """No setup here (measured records): an impossible record is refused in plain words and no
    figure stays on screen."""
    form = open_tool(page, "latency-metrics")
    sample = form.locator("[name='requests']").input_value()
    form.locator("[name='requests']").fill("2, 1, 5, 10, 3")
    page.wait_for_selector("form[data-tool='latency-metrics'][data-ready='false']", state="attached")
    assert text(page, "latency-metrics", "error") == ("Cannot compute: line 1: times must satisfy arrival ≤ first "
                                                      "token ≤ finish")
    figures = page.locator("#tool-latency-metrics [data-figures='summary']")
    assert figures.locator("[data-value]").count() == 0
    assert figures.locator("table").count() == 0
    set_fields(page, "latency-metrics", requests=sample)
    assert value(page, "latency-metrics", "req-throughput") > 0


# the site and the CLI agree -------------------------------------------------------
@dataclass(frozen=True)
class Drive:
    """How a tool describes a case of tests/feasibility_cases.py."""

    case: str
    tool: str
    fields: dict[str, Any] = field(default_factory=dict)


DRIVES = [
    Drive("Llama 3.1 70B on one H100", "roofline", {"model": L70, "gpu": H100, "format": "native", "tp": "1",
                                                    "kv": "bf16", "context": 4096}),
    Drive("Llama 3.1 70B on a T4", "roofline", {"model": L70, "gpu": "t4", "format": "native", "tp": "1", "kv": "bf16",
                                                "context": 4096}),
    Drive("DeepSeek-V3 on one H100", "request-lifecycle", {"model": DSV3, "gpu": H100, "format": "native", "tp": "1",
                                                           "kv": "bf16", "prompt": 4000, "output": 96, "batch": 1}),
    Drive("Qwen3-32B batch 64", "request-lifecycle", {"model": Q32, "gpu": H100, "format": "native", "tp": "1",
                                                      "kv": "bf16", "prompt": 1200, "output": 80, "batch": 64}),
    Drive("context one past the maximum", "memory-fit", {"model": L8, "format": "native", "gpu": H100, "tp": "1",
                                                         "pp": 1, "kv": "bf16", "util": "0.9", "context": 131073,
                                                         "concurrency": 1}),
    Drive("NVFP4 on an M3 Ultra is unsupported", "memory-fit", {"model": L8, "format": "nvfp4",
                                                                "gpu": "apple-m3-ultra", "tp": "1", "pp": 1,
                                                                "kv": "bf16", "util": "0.9", "context": 4096,
                                                                "concurrency": 1}),
    Drive("PP past the layers", "memory-fit", {"model": L8, "format": "native", "gpu": H100, "tp": "1", "pp": 33,
                                               "kv": "bf16", "util": "0.9", "context": 4096, "concurrency": 1}),
    Drive("AWQ on an RTX 4090 is converted", "memory-fit", {"model": L8, "format": "awq-int4", "gpu": "rtx-4090",
                                                            "tp": "1", "pp": 1, "kv": "bf16", "util": "0.9",
                                                            "context": 4096, "concurrency": 1}),
    Drive("Llama 3.1 8B in bf16 on a 12 GB RTX 3060", "memory-fit", {"model": L8, "format": "native",
                                                                      "gpu": "rtx-3060-12gb", "tp": "1", "pp": 1,
                                                                      "kv": "bf16", "util": "0.9", "context": 4096,
                                                                      "concurrency": 1}),
    Drive("Llama 3.1 70B on one H100", "batching-simulator", {
        "model": L70, "gpu": H100, "format": "native", "tp": "1", "kv": "bf16", "util": "0.9", "input": 4000,
        "output": 96, "max_batch": 1024, "budget": 8192, "n": 20}),
    Drive("Llama 3.1 70B on four H100s", "memory-fit", {"model": L70, "format": "native", "gpu": H100, "tp": "4",
                                                        "pp": 1, "kv": "bf16", "util": "0.9", "context": 4096,
                                                        "concurrency": 1}),
    Drive("a million-token prompt on Llama 3.1 8B", "kv-cache", {"model": L8, "dtype": "bf16", "context": 1_000_000,
                                                                 "batch": 1, "tp": 1}),
    Drive("TP 3 divides neither heads nor KV heads", "kv-cache", {"model": L70, "dtype": "bf16", "context": 4096,
                                                                  "batch": 1, "tp": 3}),
]
BY_NAME = {c.name: c for c in CASES}


@pytest.mark.parametrize("drive", DRIVES, ids=[d.case for d in DRIVES])
def test_the_site_and_the_cli_agree(page: Any, kb: Any, drive: Drive) -> None:
    case: Case = resolve(kb, BY_NAME[drive.case])
    result = check_setup(setup(kb, case))
    open_tool(page, drive.tool)
    set_fields(page, drive.tool, **drive.fields)
    if case.feasible:
        assert_figures(page, drive.tool)
        notes = page.locator(f"#tool-{drive.tool} [data-out='warnings'] li.finding-warn").all_text_contents()
        assert notes == result.warnings
    else:
        assert reasons(page, drive.tool) == result.reasons
        assert_no_figures(page, drive.tool)
    if drive.tool != "kv-cache":  # `inferbook kv` assumes no engine either
        assert engine_line(page, drive.tool) == f"Assumes {result.engine}."
