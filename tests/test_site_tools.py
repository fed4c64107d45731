"""Browser tests of the site's interactive tools: each tool page is driven in Debian's
chromium (Playwright) and the numbers it shows must equal what `inferbook.calc` gives
for the same inputs. Every page must load without console errors or failed requests.

The site is the session's build (`built_site` in conftest.py), served over HTTP on
127.0.0.1. Locally the module is skipped when /usr/bin/chromium is absent; in CI (CI=true)
a missing browser fails. Every test here drives the browser: the module is marked `browser`
(slow tier, left out by `./dev.sh test --fast`)."""

from __future__ import annotations

import functools
import math
import os
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import inferbook
from inferbook.calc import kv_bytes, kv_bytes_per_token, weight_bytes
from inferbook.calc.capacity import GIB, EngineConfig, capacity
from inferbook.calc.feasibility import VLLM_V1, EngineProfile, Setup, check_setup
from inferbook.calc.fit import fit_options, min_gpus
from inferbook.calc.metrics import RequestRecord, Slo, summarize
from inferbook.calc.roofline import (
    Roofline,
    cost_per_million_tokens,
    prefix_cache_savings,
    ridge_point,
    speculative_speedup,
    step_model,
)
from inferbook.calc.simulator import Lengths, SimConfig, simulate, workload
from inferbook.calc.weights import native_groups, native_weight_bytes

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
TOOLS = ["request-lifecycle", "latency-metrics", "batching-simulator", "kv-cache", "memory-fit", "quantization",
         "gpu-comparison", "roofline", "speed-prediction"]
REL = 1e-9
WAIT_MS = 15_000

if not CHROMIUM.exists():
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{CHROMIUM} is required in CI to test the site's tools", pytrace=False)
    pytest.skip(f"{CHROMIUM} not installed", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


# fixtures -------------------------------------------------------------------------
class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def kb() -> Any:
    return inferbook.load()


@pytest.fixture(scope="module")
def site(built_site: Path) -> Iterator[str]:
    """The session's site build, served read-only."""
    handler = functools.partial(_Quiet, directory=str(built_site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, site: str) -> Iterator[Any]:
    """A fresh page that records console errors, uncaught exceptions and failed requests;
    the test fails if any occurred."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    pg = context.new_page()
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    # net::ERR_ABORTED: the page was left (a reload, a link) while the request was in flight, which
    # cancels it; any other failure is a problem
    pg.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}")
          if "ERR_ABORTED" not in (r.failure or "") else None)
    pg.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    pg.base = site
    pg.problems = problems
    yield pg
    context.close()
    assert not problems, problems


# helpers --------------------------------------------------------------------------
def open_tool(page: Any, name: str) -> Any:
    page.goto(f"{page.base}tools/{name}.html")
    return ready(page, name)


def ready(page: Any, name: str) -> Any:
    form = page.locator(f"form[data-tool='{name}']")
    page.wait_for_selector(f"form[data-tool='{name}'][data-ready='true']", state="attached", timeout=WAIT_MS)
    error = page.locator(f"#tool-{name} [data-out='error']")
    if error.count():
        assert error.is_hidden(), error.text_content()
    return form


def set_fields(page: Any, name: str, **fields: Any) -> None:
    """Set inputs and selects by name, then wait until the tool has recomputed."""
    form = page.locator(f"form[data-tool='{name}']")
    for field, value in fields.items():
        el = form.locator(f"[name='{field}']")
        tag = el.evaluate("e => e.tagName")
        if tag == "SELECT":
            el.select_option(str(value))
        elif el.get_attribute("type") == "checkbox":
            el.set_checked(bool(value))
        else:
            el.fill(str(value))
    ready(page, name)


def value(page: Any, name: str, out: str) -> float:
    raw = page.locator(f"#tool-{name} [data-out='{out}']").get_attribute("data-value")
    assert raw is not None, out
    return float("nan") if raw in ("null", "NaN") else float(raw)


def text(page: Any, name: str, out: str) -> str:
    return page.locator(f"#tool-{name} [data-out='{out}']").text_content().strip()


def js_fmt(x: float, digits: int = 2) -> str:
    """The site's fmt(): thousands separators, at most ``digits`` decimals, no trailing zeros."""
    s = f"{x:,.{digits}f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-12)


# tools ----------------------------------------------------------------------------
def test_kv_cache(page: Any, kb: Any) -> None:
    open_tool(page, "kv-cache")
    assert page.locator("#tool-kv-cache .custom-arch").is_hidden()
    set_fields(page, "kv-cache", model="qwen3-8b", dtype="fp8-e4m3", context=32768, batch=4)
    arch = kb.models["qwen3-8b"].architecture
    assert text(page, "kv-cache", "per-token") == f"{js_fmt(kv_bytes_per_token(arch, 8), 0)} bytes"
    total = kv_bytes(arch, 32768, 8, 4).bytes_unique / GIB
    assert text(page, "kv-cache", "total") == f"{js_fmt(total, 3)} GiB"
    # a hybrid model: the linear layers' fixed state is in the total and explained
    set_fields(page, "kv-cache", model="qwen3-next-80b-a3b-thinking", dtype="bf16", context=8192, batch=2)
    hybrid = kb.models["qwen3-next-80b-a3b-thinking"].architecture
    total = kv_bytes(hybrid, 8192, 16, 2, state=True).bytes_unique / GIB
    assert text(page, "kv-cache", "total") == f"{js_fmt(total, 3)} GiB"
    assert "36 linear-attention layers" in text(page, "kv-cache", "explain")
    assert "of 48 layers" in text(page, "kv-cache", "per-token-detail")


def test_request_lifecycle(page: Any, kb: Any) -> None:
    open_tool(page, "request-lifecycle")
    assert page.locator("#tool-request-lifecycle svg rect").count() >= 5
    set_fields(page, "request-lifecycle", model="llama-3.1-8b-instruct", gpu="h100-sxm", format="fp8-e4m3", tp="2",
               prompt=2000, output=100, queue=0, batch=8)
    r = Roofline(kb.models["llama-3.1-8b-instruct"].architecture, kb.gpus["h100-sxm"], kb.formats["fp8-e4m3"], 16.0, 2)
    lat = r.request_latency(2000, 100, 8)
    assert close(value(page, "request-lifecycle", "prefill"), r.prefill(2000).seconds)
    assert close(value(page, "request-lifecycle", "ttft"), lat["ttft_s"])
    assert close(value(page, "request-lifecycle", "itl"), lat["tpot_s"])
    assert close(value(page, "request-lifecycle", "e2el"), lat["e2el_s"])
    assert text(page, "request-lifecycle", "ttft") == f"{js_fmt(lat['ttft_s'] * 1e3, 2)} ms"
    set_fields(page, "request-lifecycle", queue=250)  # the queue delay adds to TTFT and E2E latency
    assert close(value(page, "request-lifecycle", "ttft"), 0.25 + lat["ttft_s"])
    assert close(value(page, "request-lifecycle", "e2el"), 0.25 + lat["e2el_s"])


def _records(textarea: str, mode: str) -> list[RequestRecord]:
    out = []
    for line in textarea.splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        v = [float(x) for x in line.replace(",", " ").split()]
        if mode == "tokens":
            times = tuple(v[2:])
            out.append(RequestRecord(v[0], times[0], times[-1], int(v[1]), len(times), times))
        else:
            out.append(RequestRecord(v[0], v[1], v[2], int(v[3]), int(v[4])))
    return out


def test_latency_metrics(page: Any) -> None:
    form = open_tool(page, "latency-metrics")
    records = _records(form.locator("[name='requests']").input_value(), "requests")
    assert len(records) == 6
    slo = Slo(ttft=0.5, tpot=0.025, e2el=8.0)
    s = summarize(records, slo)
    assert close(value(page, "latency-metrics", "goodput"), s.goodput)
    assert text(page, "latency-metrics", "goodput") == f"{js_fmt(s.goodput, 3)} req/s"
    for metric in ("ttft", "tpot", "e2el"):
        for stat in ("mean", "p50", "p90", "p99"):
            assert close(value(page, "latency-metrics", f"{metric}-{stat}"), getattr(getattr(s, metric), stat))
    assert close(value(page, "latency-metrics", "req-throughput"), s.request_throughput)
    assert close(value(page, "latency-metrics", "tok-throughput"), s.output_token_throughput)
    set_fields(page, "latency-metrics", include_first=True)
    s = summarize(records, slo, tpot_includes_first_token=True)
    assert close(value(page, "latency-metrics", "tpot-mean"), s.tpot.mean)
    assert close(value(page, "latency-metrics", "goodput"), s.goodput)
    set_fields(page, "latency-metrics", include_first=False, mode="tokens", slo_e2el="")
    records = _records(form.locator("[name='requests']").input_value(), "tokens")
    s = summarize(records, Slo(ttft=0.5, tpot=0.025))
    assert close(value(page, "latency-metrics", "itl-mean"), s.itl.mean)
    assert close(value(page, "latency-metrics", "itl-p99"), s.itl.p99)
    assert close(value(page, "latency-metrics", "goodput"), s.goodput)
    # a bad line is reported in the output region, not thrown
    form.locator("[name='requests']").fill("2, 5, 1")
    page.wait_for_selector("form[data-tool='latency-metrics'][data-ready='false']", state="attached")
    assert "line 1: times must satisfy" in text(page, "latency-metrics", "error")


def test_batching_simulator(page: Any, kb: Any) -> None:
    open_tool(page, "batching-simulator")
    assert page.locator("#tool-batching-simulator svg polyline").count() >= 1
    # evenly spaced arrivals and fixed lengths give the same workload in both languages
    set_fields(page, "batching-simulator", model="llama-3.1-8b-instruct", gpu="h100-sxm", format="native", tp="1",
               kv="bf16", util="0.9", policy="compare", rate=20, n=200, arrivals="fixed", input=512, output=128,
               lengths="fixed", max_batch=64, budget=4096, window=50, slo_ttft=500, slo_tpot=30, seed=3)
    model, gpu = kb.models["llama-3.1-8b-instruct"], kb.gpus["h100-sxm"]
    fmt, groups = kb.formats[model.native_dtype], native_groups(model, dict(kb.formats))
    cfg = EngineConfig(gpu_memory_utilization=0.9, max_num_batched_tokens=4096, max_num_seqs=64)
    cap = capacity(model.architecture, gpu, fmt, 16.0, tp=1, cfg=cfg, groups=groups)
    assert value(page, "batching-simulator", "kv-tokens") == cap.kv_tokens
    requests = workload(200, 20.0, Lengths("fixed", mean=512), Lengths("fixed", mean=128), arrivals="fixed", seed=3)
    steps = step_model(Roofline(model.architecture, gpu, fmt, 16.0, 1, groups=groups))
    for policy in ("continuous", "dynamic", "static"):
        result = simulate(requests, steps, SimConfig(policy=policy, max_batch=64, max_batched_tokens=4096,
                                                     chunked_prefill=True, kv_capacity_tokens=cap.kv_tokens,
                                                     batch_window_s=0.05))
        s = result.summary(Slo(ttft=0.5, tpot=0.03))
        assert value(page, "batching-simulator", f"{policy}-completed") == len(result.records)
        assert close(value(page, "batching-simulator", f"{policy}-ttft-mean"), s.ttft.mean), policy
        assert close(value(page, "batching-simulator", f"{policy}-tpot-mean"), s.tpot.mean), policy
        assert close(value(page, "batching-simulator", f"{policy}-itl-p99"), s.itl.p99), policy
        assert close(value(page, "batching-simulator", f"{policy}-goodput"), s.goodput), policy
    assert page.locator("#tool-batching-simulator svg polyline").count() == 3
    # the browser caps the workload at 3,000 requests
    form = page.locator("form[data-tool='batching-simulator']")
    form.locator("[name='n']").fill("5000")
    page.wait_for_selector("form[data-tool='batching-simulator'][data-ready='false']", state="attached")
    page.locator("#tool-batching-simulator [data-out='error']").wait_for(state="visible")
    assert "3,000" in text(page, "batching-simulator", "error")


def test_memory_fit(page: Any, kb: Any) -> None:
    open_tool(page, "memory-fit")
    assert page.locator("#tool-memory-fit .stack .seg").count() >= 4
    set_fields(page, "memory-fit", model="llama-3.1-70b-instruct", format="fp8-e4m3", context=16384, concurrency=8,
               kv="fp8-e4m3", util="0.9", gpu="h100-sxm", tp="2")
    model, fmt = kb.models["llama-3.1-70b-instruct"], kb.formats["fp8-e4m3"]
    cfg = EngineConfig(gpu_memory_utilization=0.9)
    cap = capacity(model.architecture, kb.gpus["h100-sxm"], fmt, 8.0, tp=2, cfg=cfg)
    assert close(value(page, "memory-fit", "weights"), cap.weights_bytes / GIB)
    assert close(value(page, "memory-fit", "activation"), cap.activation_bytes / GIB)
    assert close(value(page, "memory-fit", "kv-space"), cap.kv_space_bytes / GIB)
    need = kv_bytes(model.architecture, 16384, 8.0, 8, tp=2, state=True).bytes_per_gpu
    assert close(value(page, "memory-fit", "kv-needed"), need / GIB)
    kv = kb.formats["fp8-e4m3"]
    check = check_setup(Setup(model, kb.gpus["h100-sxm"], fmt, kv=kv, kv_bits=8.0, tp=2, context=16384, sequences=8,
                              engine=EngineProfile(VLLM_V1.name, cfg)))
    assert check.feasible and 0 < need <= cap.kv_space_bytes
    assert text(page, "memory-fit", "verdict").startswith("Fits on 2 × ")
    assert text(page, "memory-fit", "engine") == f"Assumes {check.engine}."
    options = fit_options(model, fmt, kb.gpus.values(), 16384, 8, 8.0, cfg=cfg, kv=kv)
    assert page.locator("#tool-memory-fit [data-out='fits'] tbody tr").count() == min(15, sum(o.fits for o in options))
    assert page.locator("#tool-memory-fit [data-out='best-gpu']").get_attribute("data-value") == options[0].gpu
    assert value(page, "memory-fit", "best-count") == options[0].count
    # a price moves the cheapest option with the fewest GPUs to the top
    cheap = [o for o in options if o.fits and o.count == options[0].count][-1]
    page.locator("#tool-memory-fit details summary").click()
    set_fields(page, "memory-fit", **{f"price-{cheap.gpu}": 1.5})
    priced = fit_options(model, fmt, kb.gpus.values(), 16384, 8, 8.0, prices={cheap.gpu: 1.5}, cfg=cfg, kv=kv)
    assert priced[0].gpu == cheap.gpu
    assert page.locator("#tool-memory-fit [data-out='best-gpu']").get_attribute("data-value") == cheap.gpu


def test_quantization(page: Any, kb: Any) -> None:
    open_tool(page, "quantization")
    set_fields(page, "quantization", model="qwen3-32b", context=4096, batch=2)
    model = kb.models["qwen3-32b"]
    arch, formats = model.architecture, dict(kb.formats)
    assert close(value(page, "quantization", "native"), native_weight_bytes(model, formats).total_bytes)
    for fid in ("awq-int4", "fp8-e4m3", "gguf-q4-k-m", "nvfp4"):
        assert close(value(page, "quantization", f"w-{fid}"), weight_bytes(arch, formats[fid]).total_bytes), fid
    for fid, bits in (("bf16", 16.0), ("fp8-e4m3", 8.0), ("int4", 4.0)):
        assert close(value(page, "quantization", f"kv-{fid}"), kv_bytes(arch, 4096, bits, 2).bytes_unique), fid
    link = page.locator("#tool-quantization a[href$='entries/formats/awq-int4.html']").first
    assert link.get_attribute("href") == "../entries/formats/awq-int4.html"
    assert page.request.get(link.evaluate("a => a.href")).ok


def test_gpu_comparison(page: Any, kb: Any) -> None:
    open_tool(page, "gpu-comparison")
    set_fields(page, "gpu-comparison", vendor="amd")
    amd = [g for g in kb.gpus.values() if g.vendor == "amd"]
    assert value(page, "gpu-comparison", "gpu-count") == len(amd)
    set_fields(page, "gpu-comparison", vendor="nvidia", context=32768, concurrency=4, format="native", kv="bf16")
    for mid in ("llama-3.3-70b-instruct", "qwen3-8b", "deepseek-v3"):
        model = kb.models[mid]
        for gid in ("h100-sxm", "l40s", "b200"):
            expected = min_gpus(model, kb.formats[model.native_dtype], kb.gpus[gid], 32768, 4, 16.0,
                                groups=native_groups(model, dict(kb.formats)) or None, kv=kb.formats["bf16"])
            cell = page.locator(f"#tool-gpu-comparison [data-out='fit-{gid}-{mid}']")
            assert cell.text_content() == ("–" if expected is None else str(expected)), (mid, gid)
    page.locator("#tool-gpu-comparison details summary").click()
    page.locator("#tool-gpu-comparison input[value='mixtral-8x7b-instruct']").check()
    ready(page, "gpu-comparison")
    mixtral = kb.models["mixtral-8x7b-instruct"]
    expected = min_gpus(mixtral, kb.formats[mixtral.native_dtype], kb.gpus["a100-sxm-80gb"], 32768, 4, 16.0,
                        kv=kb.formats["bf16"])
    assert value(page, "gpu-comparison", "fit-a100-sxm-80gb-mixtral-8x7b-instruct") == expected


def test_roofline(page: Any, kb: Any) -> None:
    open_tool(page, "roofline")
    assert page.locator("#tool-roofline svg polyline").count() >= 1
    set_fields(page, "roofline", model="qwen3-8b", gpu="a100-sxm-80gb", format="bf16", tp="1", kv="bf16", context=200,
               acceptance=0.8, draft=3, draft_cost=0.1, prompt=8192, cached=4096, price=3, cost_batch=32)
    gpu, fmt = kb.gpus["a100-sxm-80gb"], kb.formats["bf16"]
    r = Roofline(kb.models["qwen3-8b"].architecture, gpu, fmt, 16.0, 1)
    for b in (1, 8, 64, 512):
        assert close(value(page, "roofline", f"tput-{b}"), r.decode_throughput(b, 200)), b
    cb = r.compute_bound_batch(200)
    assert cb is not None and value(page, "roofline", "cb-batch") == cb
    assert close(value(page, "roofline", "ridge"), ridge_point(gpu, fmt))
    # the ridge the Bound column compares with: compute time >= memory time, per GPU
    effective = ridge_point(gpu, fmt) * r.efficiency.mfu / r.efficiency.mbu
    assert close(value(page, "roofline", "ridge-effective"), effective)
    spec = speculative_speedup(0.8, 3, 0.1)
    assert close(value(page, "roofline", "spec-speedup"), spec["speedup"])
    assert close(value(page, "roofline", "spec-tokens"), spec["tokens_per_step"])
    saving = prefix_cache_savings(8192, 4096, r)
    assert close(value(page, "roofline", "prefix-full"), saving["full_s"])
    assert close(value(page, "roofline", "prefix-saved"), saving["saved_fraction"])
    cost = cost_per_million_tokens(3.0, r.decode_throughput(32, 200))
    assert close(value(page, "roofline", "cost"), cost)
    assert text(page, "roofline", "cost") == js_fmt(cost, 3)


def test_speed_prediction(page: Any, kb: Any) -> None:
    """The browser's answer is `predict`'s, number for number, with the same band and basis; a setup that
    cannot run shows its reasons instead."""
    from inferbook.calc.predict import Load, predict

    open_tool(page, "speed-prediction")
    set_fields(page, "speed-prediction", model="llama-3.1-8b-instruct", gpu="h100-sxm", gpus=2, tp=1,
               format="fp8-e4m3", engine="tensorrt-llm", isl=800, osl=120, mode="concurrency", load=24, n=200)
    want = predict(kb, "llama-3.1-8b-instruct", "h100-sxm", Load(800, 120, "concurrency", concurrency=24, requests=200),
                   gpus=2, tp=1, weights="fp8-e4m3", engine="tensorrt-llm")
    assert want.ttft_s and want.tpot_s and want.output_tokens_per_s
    assert close(value(page, "speed-prediction", "ttft"), want.ttft_s.mean)
    assert close(value(page, "speed-prediction", "tpot"), want.tpot_s.mean)
    assert close(value(page, "speed-prediction", "throughput"), want.output_tokens_per_s)
    assert text(page, "speed-prediction", "basis") == want.basis
    assert want.error_band and want.error_band.group in text(page, "speed-prediction", "band")
    # the URL shares the answer (written a moment after the last edit, urlstate.js)
    page.wait_for_function("() => location.search.includes('tensorrt-llm') && location.search.includes('load=24')",
                           timeout=WAIT_MS)
    set_fields(page, "speed-prediction", model="llama-3.1-405b-instruct", gpu="rtx-4090", gpus=1, tp=1,
               format="native")
    refusal = page.locator("#tool-speed-prediction [data-infeasible='setup']")
    assert refusal.is_visible() and "cannot run" in refusal.text_content()
    # attention data parallelism: a MoE model's answer as `predict --attention-dp`, a dense one refused
    moe = "qwen3-30b-a3b-thinking-2507"
    set_fields(page, "speed-prediction", model=moe, gpu="h100-sxm", gpus=4, tp=4, adp=2, engine="sglang",
               isl=512, osl=128, mode="concurrency", load=32, n=64)
    want = predict(kb, moe, "h100-sxm", Load(512, 128, "concurrency", concurrency=32, requests=64), gpus=4, tp=4,
                   engine="sglang", attention_dp=2)
    assert want.feasible and want.output_tokens_per_s
    assert close(value(page, "speed-prediction", "throughput"), want.output_tokens_per_s)
    assert "with attention DP 2" in text(page, "speed-prediction", "throughput-detail")
    set_fields(page, "speed-prediction", model="llama-3.1-8b-instruct")
    assert refusal.is_visible() and "mixture-of-experts" in refusal.text_content()
    # the highest rate under SLOs (`--rate max`): near Python's, whose arrivals come from another generator
    set_fields(page, "speed-prediction", gpus=1, tp=1, adp=1, engine="vllm", isl=512, osl=64, mode="max-rate",
               n=300, **{"slo-ttft": 0.5, "slo-tpot": 0.03, "percentile": 99})
    want = predict(kb, "llama-3.1-8b-instruct", "h100-sxm",
                   Load(512, 64, "max-rate", requests=300, slo_ttft_s=0.5, slo_tpot_s=0.03))
    assert want.rate and math.isclose(value(page, "speed-prediction", "rate"), want.rate, rel_tol=0.15)
    assert "%" in text(page, "speed-prediction", "slo")
    # speculative decoding: Python's answer, labelled an estimate
    from inferbook.calc.speculation import Speculation
    set_fields(page, "speed-prediction", mode="concurrency", load=16, n=64, **{"spec-k": 3, "spec-a": 0.7})
    want = predict(kb, "llama-3.1-8b-instruct", "h100-sxm", Load(512, 64, "concurrency", concurrency=16, requests=64,
                                                                  slo_ttft_s=0.5, slo_tpot_s=0.03),
                   speculation=Speculation(3, 0.7))
    assert want.output_tokens_per_s and close(value(page, "speed-prediction", "throughput"), want.output_tokens_per_s)
    assert text(page, "speed-prediction", "basis") == "estimated" == want.basis
    assert "speculative decoding: 3 drafted tokens" in text(page, "speed-prediction", "notes")
    # disaggregated serving, offline: Python's answer exactly
    from inferbook.calc.predict import Disaggregation
    set_fields(page, "speed-prediction", mode="offline", gpus=4, tp=1, isl=4096, osl=64, n=120,
               **{"spec-k": 0, "prefill": 2})
    want = predict(kb, "llama-3.1-8b-instruct", "h100-sxm", Load(4096, 64, "offline", requests=120, slo_ttft_s=0.5,
                                                                  slo_tpot_s=0.03),
                   gpus=4, tp=1, disaggregation=Disaggregation(2))
    assert want.output_tokens_per_s and close(value(page, "speed-prediction", "throughput"), want.output_tokens_per_s)
    assert "2 GPU(s) prefill with TP 1, 2 decode" in text(page, "speed-prediction", "throughput-detail")
    assert "KV transfer" in text(page, "speed-prediction", "notes")
    set_fields(page, "speed-prediction", mode="max-rate", gpus=1, isl=512, osl=64, n=300, **{"prefill": 0})
    form = page.locator("form[data-tool='speed-prediction']")
    form.locator("[name='slo-ttft']").fill("0")
    form.locator("[name='slo-tpot']").fill("0")
    page.wait_for_selector("form[data-tool='speed-prediction'][data-ready='false']", state="attached")
    page.locator("#tool-speed-prediction [data-out='error']").wait_for(state="visible")
    assert "needs a TTFT or a TPOT objective" in text(page, "speed-prediction", "error")


@pytest.mark.parametrize("chapter", ["foundations", "inference-optimization", "planning-deployment"])
def test_tools_embedded_in_chapters(page: Any, chapter: str) -> None:
    page.goto(f"{page.base}chapters/{chapter}.html")
    names = page.locator(".embedded-tool form[data-tool]").evaluate_all("els => els.map(e => e.dataset.tool)")
    assert names
    for name in names:
        ready(page, name)


def test_every_tool_page_loads(page: Any) -> None:
    for name in TOOLS:
        open_tool(page, name)
        unlabeled = page.locator(f"#tool-{name} form").evaluate(
            "f => [...f.querySelectorAll('input, select, textarea')]"
            ".filter(e => !e.closest('label') && !e.getAttribute('aria-label')).map(e => e.name)")
        assert not unlabeled, (name, unlabeled)


def test_deployment_planner(page: Any, kb: Any) -> None:
    """The default question (Llama 3.1 70B, 4 requests/s) gets a frontier whose cheapest row is `plan`'s
    (without disaggregation, the browser's default), with the commands to launch and benchmark it; the URL
    carries the settings; a TPOT no configuration reaches shows the refusal and its reasons. Ticking
    disaggregated serving loads predict_more.js and adds the split trials to what is simulated."""
    import datetime as dt

    from inferbook.calc.plan import Space, Targets, Workload, plan

    open_tool(page, "deployment-planner")
    set_fields(page, "deployment-planner", model="llama-3.1-70b-instruct", isl=1000, osl=200, load="rate", rate=4,
               ttft=2, tpot=0.05, percentile="95", maxgpus=16, engine="vllm", pricing="on_demand")
    rows = page.locator("#tool-deployment-planner [data-out='frontier'] tbody tr")
    assert rows.count() >= 1
    want = plan(kb, ["llama-3.1-70b-instruct"], Workload(1000, 200, rate=4.0), Targets(2.0, 0.05),
                Space(disaggregation=False), today=dt.date.today())
    assert want.best is not None and rows.count() == len(want.frontier)
    assert close(value(page, "deployment-planner", "best-usd"), want.best.usd_per_hour)
    assert text(page, "deployment-planner", "bench").startswith("vllm bench serve")
    assert "vllm serve" in text(page, "deployment-planner", "launch")
    assert "configurations screened" in text(page, "deployment-planner", "counts")
    set_fields(page, "deployment-planner", tpot=0.001)
    refusal = page.locator("#tool-deployment-planner [data-infeasible='plan']")
    assert refusal.is_visible() and "No configuration meets the targets" in refusal.text_content()
    assert refusal.locator("li").count() >= 1
    assert page.locator("#tool-deployment-planner [data-figures='plan']").is_hidden()
    # once written, the address holds only what differs from the defaults (the question above)
    page.wait_for_function("() => location.search === '?tpot=0.001'")
    loaded = "performance.getEntriesByType('resource').some((e) => e.name.endsWith('/predict_more.js'))"
    set_fields(page, "deployment-planner", tpot=0.05, isl=4000, osl=300, rate=6, ttft=3)
    assert not page.evaluate(loaded)

    def simulated() -> int:  # "N configurations screened, M simulated, ..."
        return int(text(page, "deployment-planner", "counts").split(" simulated")[0].rsplit(" ", 1)[1])

    alone = simulated()
    set_fields(page, "deployment-planner", disagg=True)
    assert page.evaluate(loaded) and simulated() > alone
    page.wait_for_function("() => new URLSearchParams(location.search).get('disagg') === '1'")
