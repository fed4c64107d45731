"""Browser tests of three teaching widgets: the animated latency timeline (embedded on the E2E-latency
entry), the LLM lifecycle map and the "where do I start?" quiz (both embedded on the LLM-inference entry).

The timeline's numbers must equal `inferbook.calc.simulator.simulate` on the roofline step model for
the same requests (per request and their means), its refusals must be `check_setup`'s reasons, and its
player must work from the keyboard and respect reduced motion. Every handbook link of the map and of
every quiz answer must resolve to a page of the built site, with the entry's own title.

Fixtures and helpers come from tests/test_site_tools.py (the session's site build, served on
127.0.0.1, driven in Debian's chromium; a page fails its test on a console error)."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import test_site_tools as tools
from test_site_tools import close, open_tool, ready, set_fields, text, value

from inferbook.calc import kv_dtype_bits
from inferbook.calc.capacity import EngineConfig
from inferbook.calc.feasibility import VLLM_V1, EngineProfile, Setup, check_setup
from inferbook.calc.roofline import Roofline, step_model
from inferbook.calc.simulator import Request, SimConfig, SimResult, simulate
from inferbook.calc.weights import native_groups
from inferbook.generators.site_tools import ENTRY_TOOLS, TOOLS

pytestmark = pytest.mark.browser

site, browser, page, kb = tools.site, tools.browser, tools.page, tools.kb

LT, LM, WTS = "latency-timeline", "lifecycle-map", "where-to-start"
QUESTIONS = ("role", "goal", "experience", "hardware", "deadline")


# helpers --------------------------------------------------------------------------
def _python_run(kb: Any, model_id: str, gpu_id: str, arrivals: list[float], prompt: int, output: int,
                max_batch: int, kv: str = "bf16", tp: int = 1) -> SimResult:
    """The run the timeline should show: the released checkpoint, the capacity `check_setup` finds for the
    engine limit of ``max_batch`` sequences, continuous batching under vLLM's default token budget."""
    model, gpu = kb.models[model_id], kb.gpus[gpu_id]
    fmt, groups = kb.formats[model.native_dtype], native_groups(model, dict(kb.formats))
    engine = EngineProfile(VLLM_V1.name, EngineConfig(max_num_seqs=max_batch))
    bits = kv_dtype_bits(kv, kb.formats)
    feas = check_setup(Setup(model, gpu, fmt, kv=kb.formats[kv], kv_bits=bits, tp=tp, context=prompt + output,
                             sequences=min(max_batch, len(arrivals)), mode="concurrency", engine=engine,
                             groups=groups or None))
    assert feas.feasible and feas.capacity is not None, feas.reasons
    steps = step_model(Roofline(model.architecture, gpu, fmt, bits, tp, groups=groups or None))
    requests = [Request(i, t, prompt, output) for i, t in enumerate(arrivals)]
    return simulate(requests, steps, SimConfig(max_batch=max_batch, max_batched_tokens=8192, chunked_prefill=True,
                                               kv_capacity_tokens=feas.capacity.kv_tokens, record_steps=True))


def _arrivals(page: Any, n: int) -> list[float]:
    return [value(page, LT, f"arrival-{i}") for i in range(n)]


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or close(a, b)


def _assert_timeline_matches(page: Any, result: SimResult) -> None:
    """Per-request TTFT, mean ITL, E2E latency and queue wait, their means and the pooled ITL equal Python's."""
    assert not result.rejected and len(result.records) == len(result.request_steps)
    for i, rec in enumerate(result.records):
        assert close(value(page, LT, f"ttft-{i}"), rec.first_token - rec.arrival), i
        assert close(value(page, LT, f"e2el-{i}"), rec.finish - rec.arrival), i
        itl = (rec.finish - rec.first_token) / (rec.output_tokens - 1) if rec.output_tokens > 1 else math.nan
        assert _same(value(page, LT, f"itl-{i}"), itl), i
        admitted_step = result.request_steps[i][0]  # steps done before its admission
        assert close(value(page, LT, f"queue-{i}"), result.step_starts[admitted_step] - rec.arrival), i
    summary = result.summary()
    assert close(value(page, LT, "ttft-mean"), summary.ttft.mean)
    assert _same(value(page, LT, "itl-mean"), summary.tpot.mean)
    assert close(value(page, LT, "e2el-mean"), summary.e2el.mean)
    pooled = result.itl()
    if pooled.count:
        assert close(value(page, LT, "itl-pooled"), pooled.mean)
    else:
        assert page.locator(f"#tool-{LT} [data-out='itl-pooled']").count() == 0


def _finish(page: Any) -> float:
    """When the last request shown finished (arrival plus E2E latency, the latest over the table's rows)."""
    return max(page.locator(f"#tool-{LT} [data-out='requests'] tbody tr").evaluate_all(
        "rows => rows.map(r => Number(r.cells[1].dataset.value) + Number(r.cells[5].dataset.value))"))


def _choose(page: Any, name: str, field: str, choice: str) -> None:
    """Check one radio button of a group, then wait until the tool has recomputed."""
    page.locator(f"#tool-{name} input[name='{field}'][value='{choice}']").check()
    ready(page, name)


def _site_path(built_site: Path, href: str) -> Path:
    """The file of the built site that a link of a served page points to."""
    return built_site / urlsplit(href).path.lstrip("/")


def _check_entry_link(kb: Any, built_site: Path, href: str, title: str) -> None:
    """A link to an entry page: the page exists and the entry of that kind carries that title."""
    path = urlsplit(href).path.lstrip("/")
    assert _site_path(built_site, href).is_file(), href
    parts = path.removesuffix(".html").split("/")
    assert parts[0] == "entries" and len(parts) == 3, href
    kind, entry_id = parts[1], parts[2]
    assert kb.kind_of(entry_id) == kind, href
    assert kb.get(entry_id).title == title, (href, title)


# latency timeline -----------------------------------------------------------------------
def test_latency_timeline_matches_the_simulator(page: Any, kb: Any) -> None:
    open_tool(page, LT)
    set_fields(page, LT, model="llama-3.1-8b-instruct", gpu="h100-sxm", format="native", tp="1", kv="bf16",
               max_batch=4, arrivals="even", n=6, rate=8, prompt=1024, output=64)
    arrivals = _arrivals(page, 6)
    assert arrivals == [pytest.approx((i + 1) / 8, rel=1e-12) for i in range(6)]  # Python's "fixed" arrivals
    result = _python_run(kb, "llama-3.1-8b-instruct", "h100-sxm", arrivals, 1024, 64, 4)
    _assert_timeline_matches(page, result)
    # four sequences fill the batch: the fifth and sixth requests are admitted after the first step that began
    # after they arrived, and the explanation names them
    def first_chance(arrival: float) -> float:
        return next(t for t in result.step_starts if t >= arrival)

    waiters = [i for i, rec in enumerate(result.records)
               if result.step_starts[result.request_steps[i][0]] > first_chance(rec.arrival)]
    assert waiters == [4, 5]
    assert "Requests #5, #6 waited" in text(page, LT, "explain")
    # one swimlane per request, and once the whole run is shown one tick per output token
    chart = page.locator(f"#tool-{LT} svg.lt-chart")
    assert chart.locator("rect.ph-decode").count() == 6
    shown = "els => els.filter(e => e.getAttribute('visibility') === 'visible').length"
    page.locator(f"#tool-{LT} [data-lt='reset']").focus()
    page.keyboard.press("Enter")
    assert chart.locator("line.tick, line.lt-first").evaluate_all(shown) == 0
    page.keyboard.press("Shift+Tab")  # Step, from event to event up to the last token
    for _ in range(4 * 6):
        page.keyboard.press("Enter")
    assert value(page, LT, "cursor") == pytest.approx(_finish(page), rel=1e-12)
    assert chart.locator("line.tick, line.lt-first").evaluate_all(shown) == 6 * 64

    # listed arrival times, a smaller batch and another model and GPU
    set_fields(page, LT, model="qwen3-8b", gpu="a100-sxm-80gb", max_batch=2, arrivals="times",
               times="0.3, 0, 0.01, 0.02", prompt=3000, output=40)
    assert _arrivals(page, 4) == [0.0, 0.01, 0.02, 0.3]  # sorted
    _assert_timeline_matches(page, _python_run(kb, "qwen3-8b", "a100-sxm-80gb", [0.0, 0.01, 0.02, 0.3], 3000, 40, 2))
    assert page.locator(f"#tool-{LT} [name='n']").is_hidden()

    # seeded Poisson arrivals (the browser's generator): the same requests give Python's numbers
    set_fields(page, LT, model="llama-3.1-8b-instruct", gpu="h100-sxm", max_batch=3, arrivals="poisson", n=8,
               rate=5, seed=7, prompt=512, output=1)
    arrivals = _arrivals(page, 8)
    assert arrivals == sorted(arrivals) and len(set(arrivals)) == 8
    _assert_timeline_matches(page, _python_run(kb, "llama-3.1-8b-instruct", "h100-sxm", arrivals, 512, 1, 3))
    assert text(page, LT, "itl-mean").startswith("–")  # one output token: no inter-token latency

    # a bad arrival time is an error in the output, not an exception
    page.locator(f"#tool-{LT} [name='arrivals']").select_option("times")
    ready(page, LT)
    page.locator(f"#tool-{LT} [name='times']").fill("0, soon")
    page.wait_for_selector(f"form[data-tool='{LT}'][data-ready='false']", state="attached")
    assert '"soon" is not an arrival time' in text(page, LT, "error")


@pytest.mark.parametrize(("fields", "setup"), [
    ({"model": "llama-3.1-405b-instruct", "gpu": "rtx-4090"}, {"context": 1088}),
    ({"model": "llama-3.1-8b-instruct", "gpu": "h100-sxm", "prompt": 200_000}, {"context": 200_064}),
], ids=["does-not-fit", "context-too-long"])
def test_latency_timeline_infeasible(page: Any, kb: Any, fields: dict[str, Any], setup: dict[str, int]) -> None:
    open_tool(page, LT)
    set_fields(page, LT, **{"format": "native", "tp": "1", "kv": "bf16", "max_batch": 4, "arrivals": "even", "n": 6,
                            "rate": 8, "prompt": 1024, "output": 64, **fields})
    model, gpu = kb.models[fields["model"]], kb.gpus[fields["gpu"]]
    want = check_setup(Setup(model, gpu, kb.formats[model.native_dtype], kv=kb.formats["bf16"], tp=1,
                             sequences=4, mode="concurrency",
                             engine=EngineProfile(VLLM_V1.name, EngineConfig(max_num_seqs=4)),
                             groups=native_groups(model, dict(kb.formats)) or None, **setup))
    assert not want.feasible
    message = page.locator(f"#tool-{LT} [data-infeasible='setup']")
    assert message.is_visible() and message.get_attribute("role") == "status"
    assert [li.strip() for li in message.locator("li").all_text_contents()] == want.reasons
    figures = page.locator(f"#tool-{LT} [data-figures='setup']")
    assert figures.is_hidden() and figures.locator("[data-value]").count() == 0
    set_fields(page, LT, model="llama-3.1-8b-instruct", gpu="h100-sxm", prompt=1024)  # back to a feasible setup
    assert figures.is_visible() and message.is_hidden()


def test_latency_timeline_player_by_keyboard(page: Any) -> None:
    """Step, Play/Pause and Reset are buttons driven with Enter and Space; a change of settings shows the new
    run whole and stops any playback; the playback speed alone does not re-run the simulation."""
    open_tool(page, LT)
    set_fields(page, LT, arrivals="even", n=3, rate=4, prompt=1024, output=32, max_batch=4)
    assert value(page, LT, "cursor") == pytest.approx(_finish(page), rel=1e-12)  # a fresh run is shown whole
    reset = page.locator(f"#tool-{LT} [data-lt='reset']")
    reset.focus()
    page.keyboard.press("Enter")
    assert value(page, LT, "cursor") == 0
    assert "0 queued · 0 prefilling · 0 decoding · 0 done" in text(page, LT, "cursor")
    page.keyboard.press("Shift+Tab")  # back to Step
    page.keyboard.press("Space")
    assert value(page, LT, "cursor") == pytest.approx(value(page, LT, "arrival-0"), rel=1e-12)
    assert "request 1 arrives" in text(page, LT, "event")
    page.keyboard.press("Enter")
    assert value(page, LT, "cursor") > value(page, LT, "arrival-0")
    page.keyboard.press("Shift+Tab")  # Play
    assert page.evaluate("document.activeElement.dataset.lt") == "play"
    before = value(page, LT, "cursor")
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => Number(document.querySelector(\"#tool-{LT} [data-out='cursor']\").dataset.value) "
                           f"> {before} + 0.01")
    assert page.locator(f"#tool-{LT} [data-lt='play']").text_content() == "Pause"
    page.keyboard.press("Enter")
    paused = value(page, LT, "cursor")
    page.wait_for_timeout(200)
    assert value(page, LT, "cursor") == paused and "Paused at" in text(page, LT, "event")
    set_fields(page, LT, speed="1")  # the speed alone: the cursor stays
    assert value(page, LT, "cursor") == paused
    set_fields(page, LT, output=16)  # new settings: the new run, whole
    assert value(page, LT, "cursor") == pytest.approx(_finish(page), rel=1e-12)


def test_latency_timeline_autoplay_and_reduced_motion(browser: Any, site: str) -> None:
    """With motion allowed the timeline plays once when it scrolls into view; with reduced motion it never
    starts by itself and shows the whole run."""
    for motion, plays in (("no-preference", True), ("reduce", False)):
        ctx = browser.new_context(viewport={"width": 1100, "height": 700}, reduced_motion=motion)
        try:
            pg = ctx.new_page()
            pg.goto(f"{site}tools/{LT}.html")
            ready(pg, LT)
            pg.locator(f"#tool-{LT} [data-out='timeline']").scroll_into_view_if_needed()
            pg.wait_for_timeout(600)
            cursor = float(pg.locator(f"#tool-{LT} [data-out='cursor']").get_attribute("data-value"))
            button = pg.locator(f"#tool-{LT} [data-lt='play']").text_content()
            finish = _finish(pg)
            if plays:
                assert button == "Pause" and 0 < cursor < finish, (button, cursor)
            else:
                assert button == "Play" and cursor == pytest.approx(finish, rel=1e-12)
        finally:
            ctx.close()


def test_latency_timeline_on_its_entry(page: Any) -> None:
    assert ENTRY_TOOLS["e2el"] == (LT,)
    page.goto(f"{page.base}entries/metrics/e2el.html")
    ready(page, LT)
    assert page.locator(f".entry-tools #tool-{LT} svg.lt-chart").count() == 1


# lifecycle map ---------------------------------------------------------------------------
def _module(page: Any, name: str, expression: str) -> Any:
    """Evaluate ``expression`` on the tool's module (imported as ``m``) in the page."""
    return page.evaluate(f"async () => {{ const m = await import('{page.base}assets/js/tools/{name}.js'); "
                         f"return {expression}; }}")


def test_lifecycle_map_links_resolve(page: Any, kb: Any, built_site: Path) -> None:
    open_tool(page, LM)
    stages = _module(page, LM, "m.STAGES")
    assert [s["title"] for s in stages][:2] == ["Pre-training", "Post-training"] and len(stages) == 7
    radios = page.locator(f"#tool-{LM} input[name='stage']")
    assert radios.count() == 7
    for i, stage in enumerate(stages):
        if i == 0:
            _choose(page, LM, "stage", stage["id"])
        else:
            radios.nth(i - 1).focus()
            page.keyboard.press("ArrowRight")  # the radio group: arrows move the selection
            ready(page, LM)
        assert text(page, LM, "stage") == f"Stage {i + 1} of 7: {stage['title']}"
        links = page.locator(f"#tool-{LM} [data-out='links'] a")
        assert links.count() == len(stage["links"]) >= 3
        for a in links.all():
            _check_entry_link(kb, built_site, a.evaluate("e => e.href"), a.text_content())
        for a in page.locator(f"#tool-{LM} [data-out='tools'] a").all():
            href = a.evaluate("e => e.href")
            assert _site_path(built_site, href).is_file(), href
            assert TOOLS[Path(urlsplit(href).path).stem].title == a.text_content()


def test_lifecycle_map_filter(page: Any) -> None:
    open_tool(page, LM)
    stages = _module(page, LM, "m.STAGES")
    _choose(page, LM, "stage", "pretrain")
    set_fields(page, LM, filter="serving")  # pre-training is no serving team's job: the first served stage is chosen
    enabled = page.locator(f"#tool-{LM} input[name='stage']").evaluate_all("els => els.map(e => !e.disabled)")
    assert enabled == [s["serving"] for s in stages]
    first = next(i for i, s in enumerate(stages) if s["serving"])
    assert text(page, LM, "stage").startswith(f"Stage {first + 1} of 7")
    assert f"{sum(enabled)} of 7 stages shown" in text(page, LM, "count")
    set_fields(page, LM, filter="cost")
    enabled = page.locator(f"#tool-{LM} input[name='stage']").evaluate_all("els => els.map(e => !e.disabled)")
    assert enabled == [s["cost"] for s in stages] and not all(enabled)
    # arrows skip the stages the filter greys out
    cost = [i for i, s in enumerate(stages) if s["cost"]]
    gap = next(k for k in range(len(cost) - 1) if cost[k + 1] > cost[k] + 1)
    _choose(page, LM, "stage", stages[cost[gap]]["id"])
    page.locator(f"#tool-{LM} input[name='stage']").nth(cost[gap]).focus()
    page.keyboard.press("ArrowDown")
    ready(page, LM)
    assert text(page, LM, "stage").startswith(f"Stage {cost[gap + 1] + 1} of 7")


# where to start ---------------------------------------------------------------------------
def test_where_to_start_waits_for_every_answer_then_answers_by_keyboard(page: Any, kb: Any, built_site: Path) -> None:
    open_tool(page, WTS)
    result = page.locator(f"#tool-{WTS} [data-wts='result']")
    assert result.is_hidden()
    assert text(page, WTS, "pending") == "Pick an answer for each question: 0 of 5 answered."
    for n, question in enumerate(QUESTIONS, start=1):
        page.locator(f"#tool-{WTS} input[name='{question}']").first.focus()
        page.keyboard.press("Space")  # checks the focused radio
        ready(page, WTS)
        if n < 5:
            assert result.is_hidden() and text(page, WTS, "pending").endswith(f"{n} of 5 answered.")
    assert result.is_visible() and page.locator(f"#tool-{WTS} [data-out='pending']").is_hidden()
    page.keyboard.press("ArrowDown")  # the last group: the next answer is checked
    ready(page, WTS)
    answers = {q: page.locator(f"#tool-{WTS} input[name='{q}']:checked").get_attribute("value") for q in QUESTIONS}
    assert answers == {"role": "app", "goal": "gpu", "experience": "new", "hardware": "none", "deadline": "weeks"}
    want = _module(page, WTS, f"m.readingPath({json.dumps(answers)})")
    shown = page.locator(f"#tool-{WTS} [data-out='path'] a")
    assert shown.all_text_contents() == [e["title"] for e in want["entries"]]
    for a in shown.all():
        _check_entry_link(kb, built_site, a.evaluate("e => e.href"), a.text_content())
    for a in page.locator(f"#tool-{WTS} [data-out='tools'] a").all():
        assert _site_path(built_site, a.evaluate("e => e.href")).is_file()
    assert "pick a GPU" in text(page, WTS, "summary")


def test_where_to_start_every_answer_leads_to_real_pages(page: Any, kb: Any, built_site: Path) -> None:
    """All 540 combinations of answers: each gives a path of real entries (titles as in the knowledge base) and
    real tools, without repeats; an answer due today never gives a longer path than no deadline."""
    open_tool(page, WTS)
    options = {q: page.locator(f"#tool-{WTS} input[name='{q}']").evaluate_all("els => els.map(e => e.value)")
               for q in QUESTIONS}
    assert [len(options[q]) for q in QUESTIONS] == [4, 5, 3, 3, 3]
    combos = [dict(zip(QUESTIONS, values, strict=True)) for values in itertools.product(*options.values())]
    paths = _module(page, WTS, f"{json.dumps(combos)}.map((a) => m.readingPath(a))")
    assert _module(page, WTS, 'm.readingPath({"role": "app", "goal": "gpu"})') is None
    titles: dict[str, str] = {}
    by_deadline: dict[tuple[str, ...], dict[str, int]] = {}
    for answers, path in zip(combos, paths, strict=True):
        entries, found = path["entries"], path["tools"]
        assert entries and found, answers
        assert len({e["path"] for e in entries}) == len(entries), answers
        assert all(e["why"].strip() for e in entries + found)
        for item in entries + found + [path["next"]]:
            titles.setdefault(item["path"], item["title"])
            assert titles[item["path"]] == item["title"], item
        key = tuple(answers[q] for q in QUESTIONS[:4])
        by_deadline.setdefault(key, {})[answers["deadline"]] = len(entries)
    for counts in by_deadline.values():
        assert counts["today"] <= counts["weeks"] <= counts["open"]
    for rel, title in titles.items():
        href = f"{page.base}{rel}"
        assert _site_path(built_site, href).is_file(), rel
        if rel.startswith("entries/"):
            _check_entry_link(kb, built_site, href, title)
        elif rel.startswith("tools/"):
            assert TOOLS[Path(rel).stem].title == title
        elif rel.startswith("chapters/"):
            assert kb.chapters[Path(rel).stem].title == title


def test_llm_inference_embeds_the_map_and_the_quiz(page: Any) -> None:
    assert ENTRY_TOOLS["llm-inference"] == (LM, WTS)
    page.goto(f"{page.base}entries/concepts/llm-inference.html")
    ready(page, LM)
    ready(page, WTS)
    # the links of an embedded copy resolve from the entry's folder
    href = page.locator(f"#tool-{LM} [data-out='links'] a").first.get_attribute("href")
    assert href.startswith("../../entries/")


def test_learning_path_links_to_the_quiz(built_site: Path) -> None:
    html = (built_site / "learning-path.html").read_text(encoding="utf-8")
    assert 'href="tools/where-to-start.html"' in html


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_widget_states_contrast(browser: Any, site: str, scheme: str) -> None:
    """axe (serious and critical findings) on the states a page load does not show, which tests/test_site.py's
    accessibility and dark-theme checks therefore miss: the quiz answered and the map with stages greyed out."""
    from test_site import _axe_script, wait_scroll_marks

    ctx = browser.new_context(bypass_csp=True, color_scheme=scheme, viewport={"width": 1280, "height": 900})
    try:
        pg = ctx.new_page()
        pg.goto(f"{site}entries/concepts/llm-inference.html")
        ready(pg, LM)
        ready(pg, WTS)
        pg.locator(f"#tool-{LM} [name='filter']").select_option("cost")
        ready(pg, LM)
        for q in QUESTIONS:
            pg.locator(f"#tool-{WTS} input[name='{q}']").first.check()
        ready(pg, WTS)
        assert pg.locator(f"#tool-{LM} .lm-off").count() and pg.locator(f"#tool-{WTS} [data-wts='result']").is_visible()
        wait_scroll_marks(pg)
        pg.add_script_tag(path=str(_axe_script()))
        result = pg.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    finally:
        ctx.close()
    bad = [f"{v['id']} {n['target']} {n.get('failureSummary', '')[:200]}" for v in result["violations"]
           if v["impact"] in ("serious", "critical") for n in v["nodes"]]
    assert not bad, "\n".join(bad[:20])


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_tool_with_a_wrong_input_stays_readable(browser: Any, site: str, scheme: str) -> None:
    """A tool whose input is wrong shows the error and hides its blanked figures: axe finds nothing serious
    (the figures were dimmed to 35% before, which failed the contrast check on every tool)."""
    from test_site import _axe_script, wait_scroll_marks

    ctx = browser.new_context(bypass_csp=True, color_scheme=scheme, viewport={"width": 1280, "height": 900})
    try:
        pg = ctx.new_page()
        pg.goto(f"{site}tools/speed-prediction.html?gpus=3&tp=2")
        pg.locator("#tool-speed-prediction [data-out='error']").wait_for(state="visible")
        assert "3 GPUs do not split" in pg.locator("#tool-speed-prediction [data-out='error']").text_content()
        assert not pg.locator("#tool-speed-prediction [data-out='ttft']").is_visible()
        wait_scroll_marks(pg)
        pg.add_script_tag(path=str(_axe_script()))
        result = pg.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    finally:
        ctx.close()
    bad = [f"{v['id']} {n['target']}" for v in result["violations"] if v["impact"] in ("serious", "critical")
           for n in v["nodes"]]
    assert not bad, "\n".join(bad[:20])
