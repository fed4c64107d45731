"""The site defects of issue #22, each checked in the session's site build: spec pages that open the
tools with their model or GPU chosen, catalogues that fit a 1280-px screen, the quantization tables with
DeepSeek-V3's sizes, the request-lifecycle timeline on a phone, GPU menus that say the memory once, the
KV-cache page's arithmetic, the glossary without filler, the accuracy page in words, and spec pages
without raw values or hints meant for contributors.

Static checks read the built HTML; browser checks drive it in Debian's chromium with the fixtures of
tests/test_site_tools.py (the site served on 127.0.0.1; a console error fails the test)."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import test_site_tools as tools

from inferbook.generators.page_contexts import entry_path, metric_label
from inferbook.generators.site import gpu_option_label
from inferbook.generators.site_tools import TOOLS

MODEL_TOOLS = ("kv-cache", "memory-fit", "quantization", "speed-prediction", "deployment-planner")
GPU_TOOLS = ("memory-fit", "roofline", "speed-prediction", "gpu-comparison")
TEMPLATES = Path(__file__).resolve().parent.parent / "generators" / "site" / "templates" / "tools"

# the browser fixtures of tests/test_site_tools.py: the session's site served on 127.0.0.1, chromium, and a
# page that fails the test on a console error or a failed request
site, browser, page = tools.site, tools.browser, tools.page


@pytest.fixture(scope="module")
def kb() -> Any:
    import inferbook

    return inferbook.load()


def _html(site: Path, rel: str) -> str:
    return (site / rel).read_text(encoding="utf-8")


def _tool_links(html: str) -> dict[str, dict[str, str]]:
    """The tool links of a spec page: tool name -> its query."""
    found = re.search(r'<p class="tool-links">(.*?)</p>', html, re.S)
    assert found, "no tool links"
    links = {}
    for href in re.findall(r'href="\.\./\.\./tools/([^"]+)"', found.group(1)):
        path, query = unescape(href).split("?", 1)
        links[path.removesuffix(".html")] = dict(parse_qsl(query))
    return links


def _form_fields(tool: str) -> set[str]:
    return set(re.findall(r'name="([^"]+)"', (TEMPLATES / f"{tool}.html").read_text(encoding="utf-8")))


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


# B. spec pages open the tools with their model or GPU ----------------------------------------
def test_model_pages_open_the_tools_with_the_model(built_site: Path, kb: Any) -> None:
    for mid in kb.models:
        links = _tool_links(_html(built_site, entry_path("models", mid)))
        assert list(links) == [t for t in MODEL_TOOLS if t in TOOLS], mid
        assert all((built_site / "tools" / f"{t}.html").is_file() for t in links)
        for tool, query in links.items():
            assert query == {"model": mid} and "model" in _form_fields(tool), (mid, tool)


def test_gpu_pages_open_the_tools_with_the_gpu(built_site: Path, kb: Any) -> None:
    for gid, gpu in kb.gpus.items():
        links = _tool_links(_html(built_site, entry_path("gpus", gid)))
        sixteen = (gpu.dense.bf16_tflops or gpu.dense.fp16_tflops) is not None
        expected = ["memory-fit"] + (["roofline"] if sixteen else []) + \
            (["speed-prediction"] if sixteen or gpu.dense.fp32_tflops is not None else []) + ["gpu-comparison"]
        assert list(links) == expected, gid
        for tool, query in links.items():
            (key, value), = query.items()
            assert value == gid and key in _form_fields(tool), (gid, tool, key)
    for kind in ("formats", "frameworks", "offers", "sources"):
        eid = sorted(kb.kind(kind))[0]
        assert 'class="tool-links"' not in _html(built_site, entry_path(kind, eid)), kind


@pytest.mark.browser
def test_following_a_spec_link_selects_the_entry(page: Any) -> None:
    page.goto(f"{page.base}entries/models/deepseek-v3.html")
    page.locator(".tool-links a", has_text="KV-cache calculator").click()
    tools.ready(page, "kv-cache")
    assert page.locator("form[data-tool='kv-cache'] [name='model']").input_value() == "deepseek-v3"
    assert "(MLA:" in tools.text(page, "kv-cache", "per-token-detail")
    page.goto(f"{page.base}entries/gpus/mi300x.html")
    page.locator(".tool-links a", has_text="GPU memory and fit").click()
    tools.ready(page, "memory-fit")
    assert page.locator("form[data-tool='memory-fit'] [name='gpu']").input_value() == "mi300x"
    assert "MI300X" in tools.text(page, "memory-fit", "verdict")
    page.goto(f"{page.base}entries/gpus/mi300x.html")
    page.locator(".tool-links a", has_text="GPU comparison").click()
    tools.ready(page, "gpu-comparison")
    rows = page.locator("#tool-gpu-comparison [data-out='gpus'] tbody th").all_text_contents()
    assert rows == ["AMD Instinct MI300X"], rows


# C. catalogues, tables and the timeline fit ---------------------------------------------------
def _overflow(page: Any, selector: str) -> list[str]:
    """The elements matching ``selector`` wider than their scroll box (what a reader sees cut off)."""
    return page.eval_on_selector_all(selector, """els => els
        .filter(t => t.scrollWidth > t.parentElement.clientWidth + 1)
        .map(t => `${t.id || t.className}: ${t.scrollWidth} > ${t.parentElement.clientWidth}`)""")


@pytest.mark.browser
def test_catalogues_fit_a_1280_px_screen(page: Any) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    for kind in ("gpus", "models", "formats", "frameworks", "offers"):
        page.goto(f"{page.base}catalog/{kind}.html")
        assert not _overflow(page, "#catalog"), kind
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 1280, (kind, width)


@pytest.mark.browser
@pytest.mark.parametrize("where", ["tools/quantization.html", "chapters/model-preparation.html"])
def test_quantization_tables_fit_with_the_largest_models(page: Any, kb: Any, where: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(page.base + where)
    tools.ready(page, "quantization")
    largest = sorted(kb.models, key=lambda m: -kb.models[m].params_total_b.value)[:3]
    for mid in dict.fromkeys(["deepseek-v3", *largest]):
        tools.set_fields(page, "quantization", model=mid)
        assert not _overflow(page, "#tool-quantization table"), (where, mid)
        sizes = page.locator("#tool-quantization .size-cell span").all_text_contents()
        assert sizes and all(re.fullmatch(r"[\d,.]+\xa0GB\xa0· [\d,.]+\xa0GiB", s) for s in sizes), sizes[:3]


@pytest.mark.browser
def test_request_lifecycle_timeline_fits_a_phone(browser: Any, site: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto(f"{site}tools/request-lifecycle.html")
        tools.ready(page, "request-lifecycle")
        wrap = page.locator("#tool-request-lifecycle .timeline-wrap")
        scroll, client = wrap.evaluate("w => [w.scrollWidth, w.clientWidth]")
        assert scroll <= client, (scroll, client)
        drawn = wrap.locator("svg").evaluate("s => [s.viewBox.baseVal.width, s.getBoundingClientRect().width]")
        assert abs(drawn[0] - drawn[1]) <= 1, f"drawn {drawn[0]} wide, shown {drawn[1]}: text would shrink"
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        labels = wrap.locator("svg text").all_text_contents()
        assert any(t.startswith("E2E ") for t in labels) and any(t.startswith("TTFT ") for t in labels)
    finally:
        context.close()


# C. GPU menus say the memory once -------------------------------------------------------------
MEMORY = re.compile(r"\d+(?:\.\d+)?\s?(?:GB|GiB)\b")


def test_gpu_option_labels_say_the_memory_once(built_site: Path, kb: Any) -> None:
    data = json.loads((built_site / "assets/data/tools-data.json").read_text(encoding="utf-8"))
    for gid, gpu in kb.gpus.items():
        label = data["gpus"][gid]["label"]
        assert len(MEMORY.findall(label)) == 1 and label.endswith(f", {gpu.memory_gib.value:g} GiB"), label
        assert "()" not in label and "  " not in label, label
    assert gpu_option_label("NVIDIA H100 SXM 80GB", 80) == "NVIDIA H100 SXM, 80 GiB"
    assert gpu_option_label("NVIDIA Jetson AGX Thor (Jetson T5000 module, 128GB)", 128) == \
        "NVIDIA Jetson AGX Thor (Jetson T5000 module), 128 GiB"
    assert gpu_option_label("AMD Instinct MI300X", 192) == "AMD Instinct MI300X, 192 GiB"


@pytest.mark.browser
@pytest.mark.parametrize("tool", ["memory-fit", "roofline", "request-lifecycle", "speed-prediction",
                                  "batching-simulator"])
def test_gpu_menus_use_the_labels(page: Any, tool: str) -> None:
    tools.open_tool(page, tool)
    select = page.locator(f"form[data-tool='{tool}'] select[name='gpu']")
    options = select.locator("option").all_text_contents()
    assert options and all(len(MEMORY.findall(o)) == 1 for o in options), [o for o in options
                                                                        if len(MEMORY.findall(o)) != 1][:5]
    # the chosen GPU's label is not cut off by its menu, on a wide screen and on a phone
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        room, need = select.evaluate("""s => { const c = document.createElement('canvas').getContext('2d');
            const st = getComputedStyle(s); c.font = `${st.fontSize} ${st.fontFamily}`;
            return [s.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight) - 16,
                    c.measureText(s.selectedOptions[0].textContent).width]; }""")
        assert need <= room, (tool, width, need, room)


# C. the KV-cache page's arithmetic ------------------------------------------------------------
def test_no_page_prints_a_figure_twice(built_site: Path, kb: Any) -> None:
    from inferbook.calc import kv_bytes_per_token

    repeated = re.compile(r"([\d,]{3,}) bytes \(\1\)")
    for page in (built_site / "entries").rglob("*.html"):
        found = repeated.search(_html(built_site, page.relative_to(built_site).as_posix()))
        assert not found, (page, found.group(0))
    kv = _text(_html(built_site, "entries/concepts/kv-cache.html"))
    for mid in ("llama-3.1-8b-instruct", "llama-2-7b-chat", "deepseek-v3"):
        per_token = kv_bytes_per_token(kb.models[mid].architecture, 16)
        assert f"= {per_token:,.0f} bytes" in kv, mid


# C. the glossary ------------------------------------------------------------------------------
def test_glossary_defines_each_term_once(built_site: Path, kb: Any) -> None:
    html = _html(built_site, "glossary.html")
    assert "See the" not in html
    items = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", html, re.S)
    definitions = [(dt, dd) for dt, dd in items if not dd.startswith("Another name for")]
    targets = [re.search(r'href="([^"]+)"', dt).group(1) for dt, _ in definitions]
    assert len(targets) == len(set(targets)), "one definition per entry"
    expected = [e for e in kb if kb.kind_of(e.id) not in ("sources", "redirects", "chapters")
                and getattr(e, "summary", None)]
    assert len(definitions) == len(expected)
    assert not any(kb.kind_of(e.id) in ("gpus", "models", "offers") for e in expected)
    texts = [_text(dd) for _, dd in definitions]
    assert len(texts) == len(set(texts)), "no definition printed twice"
    for dt, dd in items:
        if dd.startswith("Another name for"):
            assert "href" not in dt and re.fullmatch(r'Another name for <a href="[^"]+">[^<]+</a>\.', dd), dd
    for rel in ("catalog/gpus.html", "catalog/models.html", "catalog/offers.html"):
        assert f'href="{rel}"' in html


# C. the accuracy page in words ----------------------------------------------------------------
def test_accuracy_page_uses_labels_and_sensible_rounding(built_site: Path, kb: Any) -> None:
    html = _html(built_site, "accuracy.html")
    snake = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")
    groups = re.findall(r"<tr><td>([^<]*)</td><th scope=\"row\">([^<]*)</th>", html)
    assert groups and {g for g, _ in groups} <= {"GPU", "Model family", "Engine"}
    assert not [name for _, name in groups if snake.search(name) or name in set(kb.gpus)], groups
    by_metric = re.search(r'<h2 id="by-metric">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    quantities = re.findall(r'<th scope="row">([^<]*)</th>', by_metric)
    assert quantities and not any(snake.search(q) for q in quantities), quantities
    assert "TTFT (ms)" in quantities and metric_label("ttft_ms") == "TTFT (ms)"
    rows = re.search(r'<h2 id="rows">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    cells = re.findall(r'<tr class="[^"]*"><th scope="row">[^<]*</th><td>([^<]*)', rows)
    assert cells and not any(snake.search(c) for c in cells), [c for c in cells if snake.search(c)][:3]
    predicted = re.findall(r"</td><td>([\d,.]*)</td>\s*<td>(?:[+-]\d|[a-z])", rows)
    assert predicted
    for figure in filter(None, predicted):
        digits = figure.replace(",", "").replace(".", "").lstrip("0")
        whole = figure.split(".")[0].replace(",", "").lstrip("0")
        assert len(digits) <= max(3, len(whole)), figure


# C. spec pages without raw values or contributor hints ----------------------------------------------
def test_spec_pages_show_no_raw_values_or_yaml_hints(built_site: Path, kb: Any) -> None:
    for kind in ("gpus", "models", "formats", "frameworks", "offers"):
        for eid in kb.kind(kind):
            html = _html(built_site, entry_path(kind, eid))
            table = re.search(r'<table class="spec-table">(.*?)</table>', html, re.S).group(1)
            tips = re.findall(r'<abbr title="([^"]*)">([^<]*)</abbr>', table)
            assert not [t for t, _ in tips if "YAML" in t or "``" in t], (eid, tips)
            assert not [label for _, label in tips if re.fullmatch(r".* \d+", label)], (eid, "numbered rows")
            assert not re.search(r"<td>[a-z_]+: ", table), (eid, "a record printed as key: value")
    vllm = _html(built_site, "entries/frameworks/vllm.html")
    assert re.search(r'<abbr title="[^"]*">Tensor parallelism</abbr></th>\s*<td>--tensor-parallel-size</td>', vllm)
    model = _html(built_site, "entries/models/llama-3.1-8b-instruct.html")
    assert re.search(r">Quantized checkpoint \(FP8 E4M3\)</abbr></th>\s*<td>nvidia/Llama-3.1-8B-Instruct-FP8</td>",
                     model)
    gpu = _text(_html(built_site, "entries/gpus/mi300x.html"))
    assert "Dense FP8 (TFLOPS)" in gpu and "Dense fp8" not in gpu
