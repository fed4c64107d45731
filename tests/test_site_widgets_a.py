"""The teaching widgets of group A: decode stepper, context-window simulator, sampling filter and
chunked-prefill scheduler.

The sampling math (generators/site/static/js/sampling.js) runs under node and must agree with a
Python reference written here from the engines' rules (vLLM V1: temperature, min-p, top-k, top-p;
transformers: temperature, top-k, top-p, min-p). The widgets are driven in chromium (fixtures and
helpers of tests/test_site_tools.py): their numbers must equal `inferbook.calc` for the same
inputs (roofline steps, KV bytes, the feasibility check, the batching simulator's step rule),
their infeasible states must give the reasons, their main controls must work from the keyboard,
and each must run where its entry page embeds it."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import test_site_tools as tools
from test_site_tools import close, open_tool, ready, set_fields, text, value

from inferbook.calc import kv_bytes, kv_bytes_per_token
from inferbook.calc.feasibility import VLLM_V1, Setup, check_setup
from inferbook.calc.roofline import Roofline, step_model
from inferbook.calc.simulator import Request, SimConfig, simulate
from inferbook.calc.weights import native_groups

site, browser, page, kb = tools.site, tools.browser, tools.page, tools.kb

ROOT = Path(__file__).resolve().parent.parent
SAMPLING_JS = ROOT / "generators" / "site" / "static" / "js" / "sampling.js"
ORDERS = {"vllm": ("min_p", "top_k", "top_p"), "hf": ("top_k", "top_p", "min_p")}


# the sampling reference ------------------------------------------------------------
def _softmax(scaled: list[float], kept: set[int]) -> dict[int, float]:
    top = max(scaled[i] for i in kept)
    exps = {i: math.exp(scaled[i] - top) for i in sorted(kept)}
    total = sum(exps.values())
    return {i: e / total for i, e in exps.items()}


def reference(logits: list[float], temperature: float, top_k: int, top_p: float, min_p: float,
              order: tuple[str, ...]) -> dict[str, Any]:
    """Temperature, then each filter on the distribution renormalised over the tokens still kept:
    top-k keeps ties with the k-th token; top-p sorts ascending and drops tokens while the running
    mass is at most 1 - p, never the top one (vLLM's and transformers' rule); min-p drops tokens
    under min_p x the top probability. Below a temperature of 1e-5 the top token alone is kept."""
    greedy = temperature < 1e-5
    scaled = list(logits) if greedy else [x / temperature for x in logits]
    every = set(range(len(logits)))
    tempered = _softmax(scaled, every)
    kept = set(every)
    removed: dict[int, str] = {}
    if greedy:
        best = min(every, key=lambda i: (-tempered[i], i))
        removed = {i: "greedy" for i in every - {best}}
        kept = {best}
    for name in () if greedy else order:
        probs = _softmax(scaled, kept)
        ranked = sorted(kept, key=lambda i: (-probs[i], i))
        drop: list[int] = []
        if name == "top_k" and 0 < top_k < len(ranked):
            drop = [i for i in ranked if probs[i] < probs[ranked[top_k - 1]]]
        elif name == "top_p" and top_p < 1:
            mass = 0.0
            for i in reversed(ranked[1:]):
                mass += probs[i]
                if mass <= 1 - top_p:
                    drop.append(i)
        elif name == "min_p" and min_p > 0:
            drop = [i for i in ranked if probs[i] < min_p * probs[ranked[0]]]
        for i in drop:
            removed[i] = name
            kept.discard(i)
    final = _softmax(scaled, kept)
    return {"greedy": greedy, "tempered": [tempered[i] for i in range(len(logits))],
            "removedBy": [removed.get(i) for i in range(len(logits))],
            "final": [final.get(i, 0.0) for i in range(len(logits))], "kept": len(kept),
            "keptMass": sum(tempered[i] for i in sorted(kept))}


def _node(script: str, payload: Any) -> Any:
    node = shutil.which("node")
    assert node, "Node.js (`node` on PATH) is required to check the sampling module"
    proc = subprocess.run([node, "--input-type=module", "-e", script], input=json.dumps(payload),
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


RUN_CASES = f"""
import * as s from {json.dumps(SAMPLING_JS.as_uri())};
let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = JSON.parse(input).map((c) => {{
  try {{ return s.applyFilters(c.logits, c.settings, s.ORDERS[c.order]); }}
  catch (e) {{ return {{ error: e.message, problems: s.settingsProblems(c.settings) }}; }}
}});
console.log(JSON.stringify({{ out, shapes: s.SHAPES, orders: s.ORDERS }}));
"""


def _cases() -> list[dict[str, Any]]:
    """The tool's three distributions, the handbook's worked example and seeded random logits, under
    a grid of settings in both orders."""
    import random

    rng = random.Random(7)
    worked = [math.log(p) for p in (0.50, 0.20, 0.12, 0.08, 0.05, 0.05)]
    vectors = [worked] + [[round(rng.uniform(-3, 6), 3) for _ in range(rng.randint(2, 14))] for _ in range(25)]
    grid = [(t, k, p, m) for t in (0.0, 0.3, 0.7, 1.0, 1.6) for k in (0, -1, 1, 3, 6) for p in (1.0, 0.95, 0.8, 0.5)
            for m in (0.0, 0.05, 0.2)]
    cases = []
    for n, logits in enumerate(vectors):
        for t, k, p, m in grid[n % 7::7]:
            for order in ORDERS:
                cases.append({"logits": logits, "settings": {"temperature": t, "topK": k, "topP": p, "minP": m},
                              "order": order})
    return cases


def test_sampling_math_matches_the_reference() -> None:
    cases = _cases()
    answer = _node(RUN_CASES, cases)
    assert answer["orders"] == {k: list(v) for k, v in ORDERS.items()}
    shape_cases = [{"logits": s["logits"], "settings": {"temperature": t, "topK": k, "topP": p, "minP": m},
                    "order": o} for s in answer["shapes"].values() for t, k, p, m in
                   [(1, 0, 0.9, 0.05), (0.7, 3, 1, 0), (1.5, 0, 0.95, 0.1), (0, 5, 0.5, 0.2)] for o in ORDERS]
    shape_answer = _node(RUN_CASES, shape_cases)["out"]
    orders_differ = 0
    for case, got in zip(cases + shape_cases, answer["out"] + shape_answer, strict=True):
        s = case["settings"]
        want = reference(case["logits"], s["temperature"], s["topK"], s["topP"], s["minP"], ORDERS[case["order"]])
        assert "error" not in got, got
        assert got["greedy"] == want["greedy"] and got["kept"] == want["kept"], (case, got, want)
        assert got["removedBy"] == want["removedBy"], (case, got["removedBy"], want["removedBy"])
        for key in ("tempered", "final"):
            assert all(math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15) for a, b in zip(got[key], want[key],
                                                                                          strict=True)), key
        assert math.isclose(got["keptMass"], want["keptMass"], rel_tol=1e-12)
        assert math.isclose(sum(got["final"]), 1.0, rel_tol=1e-12)
    for o1, o2 in zip(answer["out"][::2], answer["out"][1::2], strict=True):
        orders_differ += o1["removedBy"] != o2["removedBy"]
    assert orders_differ > 0, "the grid never shows the order mattering"
    # the handbook's worked example (top-k 3, top-p 0.85, min-p 0.2 on A .5, B .2, C .12, D .08, E .05, tail .05)
    worked = cases[0]["logits"]
    for settings, kept in [((1, 3, 1, 0), 3), ((1, 0, 0.85, 0), 4), ((1, 0, 1, 0.2), 3)]:
        got = reference(worked, *settings, ORDERS["vllm"])
        assert got["kept"] == kept and got["removedBy"][:kept] == [None] * kept
    assert [round(p, 2) for p in reference(worked, 1, 3, 1, 0, ORDERS["hf"])["final"][:3]] == [0.61, 0.24, 0.15]


def test_sampling_settings_are_checked() -> None:
    bad = [{"logits": [1.0, 2.0], "settings": {"temperature": -0.5, "topK": 2.5, "topP": 1.5, "minP": -0.1},
            "order": "vllm"},
           {"logits": [1.0, 2.0], "settings": {"temperature": 1, "topK": 0, "topP": 0, "minP": 0}, "order": "hf"}]
    got = _node(RUN_CASES, bad)["out"]
    assert len(got[0]["problems"]) == 4 and got[0]["error"] == "; ".join(got[0]["problems"])
    assert got[1]["problems"] == ["top-p must be above 0 and at most 1 (1 turns it off)"]


# browser: sampling filter ------------------------------------------------------------
SF = "sampling-filter"


def _shown_distribution(page: Any, n: int) -> tuple[list[float], list[float], list[str | None]]:
    tempered = [value(page, SF, f"tempered-{i}") for i in range(n)]
    final = [value(page, SF, f"final-{i}") for i in range(n)]
    removed = [page.locator(f"#tool-{SF} [data-out='final-{i}']").get_attribute("data-removed-by") or None
               for i in range(n)]
    return tempered, final, removed


@pytest.mark.browser
def test_sampling_filter(page: Any) -> None:
    open_tool(page, SF)
    shapes = _node(RUN_CASES, [])["shapes"]
    for shape, order, t, k, p, m in [("peaked", "vllm", "1", "0", "0.9", "0.05"), ("two-mode", "hf", "1.3", "4",
                                      "0.8", "0.1"), ("flat", "vllm", "0.6", "3", "0.95", "0")]:
        set_fields(page, SF, shape=shape, order=order, temperature=t, top_k=k, top_p=p, min_p=m)
        logits = shapes[shape]["logits"]
        want = reference(logits, float(t), int(k), float(p), float(m), ORDERS[order])
        tempered, final, removed = _shown_distribution(page, len(logits))
        assert all(close(a, b) for a, b in zip(tempered, want["tempered"], strict=True))
        assert all(close(a, b) for a, b in zip(final, want["final"], strict=True))
        assert removed == want["removedBy"]
        assert value(page, SF, "kept") == want["kept"] and close(value(page, SF, "mass"), want["keptMass"])
        assert shapes[shape]["context"] in text(page, SF, "context")
    # the order matters: at the defaults (peaked, top-p 0.9 after min-p 0.05) vLLM keeps 3 tokens, transformers 5
    set_fields(page, SF, shape="peaked", temperature="1", top_k="0", top_p="0.9", min_p="0.05", order="vllm")
    vllm_kept = value(page, SF, "kept")
    form = page.locator(f"form[data-tool='{SF}']")
    form.locator("[name='order']").focus()
    page.keyboard.press("ArrowDown")  # keyboard: the order select moves to transformers
    ready(page, SF)
    assert form.locator("[name='order']").input_value() == "hf"
    logits = shapes["peaked"]["logits"]
    assert vllm_kept == reference(logits, 1, 0, 0.9, 0.05, ORDERS["vllm"])["kept"]
    assert value(page, SF, "kept") == reference(logits, 1, 0, 0.9, 0.05, ORDERS["hf"])["kept"] != vllm_kept
    # temperature 0: greedy, said so
    set_fields(page, SF, temperature="0")
    _, final, _ = _shown_distribution(page, len(logits))
    assert final[0] == 1.0 and sum(final) == 1.0 and "greedy" in text(page, SF, "explain")
    # invalid settings: the reasons instead of the table
    set_fields(page, SF, temperature="1", top_p="1.5", min_p="-0.1")
    message = page.locator(f"#tool-{SF} [data-infeasible='filter']")
    assert message.is_visible() and page.locator(f"#tool-{SF} [data-figures='filter']").is_hidden()
    assert message.locator("li").all_text_contents() == ["top-p must be above 0 and at most 1 (1 turns it off)",
                                                        "min-p must be between 0 and 1 (0 turns it off)"]
    set_fields(page, SF, top_p="1", min_p="0")
    assert message.is_hidden() and value(page, SF, "kept") == len(logits)


# browser: decode stepper -------------------------------------------------------------
DS = "decode-stepper"


def _native(kb: Any, model_id: str) -> tuple[Any, Any, Any]:
    model = kb.models[model_id]
    return model, kb.formats[model.native_dtype], native_groups(model, dict(kb.formats)) or None


def _press(page: Any, name: str, action: str, key: str = "Enter") -> None:
    page.locator(f"#tool-{name} button[data-action='{action}']").focus()
    page.keyboard.press(key)


@pytest.mark.browser
def test_decode_stepper(page: Any, kb: Any) -> None:
    open_tool(page, DS)
    assert value(page, DS, "step") == 1
    mid, gid, kv, prompt, output = "qwen3-8b", "a100-sxm-80gb", "fp8-e4m3", 3000, 6
    set_fields(page, DS, model=mid, gpu=gid, kv=kv, prompt=prompt, output=output)
    model, fmt, groups = _native(kb, mid)
    gpu, arch, bits = kb.gpus[gid], model.architecture, kb.formats[kv].bits_per_value
    r = Roofline(arch, gpu, fmt, bits, 1, groups=groups)
    pre = r.prefill(prompt)
    assert value(page, DS, "context") == prompt and close(value(page, DS, "time"), pre.seconds)
    assert close(value(page, DS, "kv"), kv_bytes(arch, prompt, bits, state=True).bytes_unique)
    assert close(value(page, DS, "kv"), prompt * kv_bytes_per_token(arch, bits))  # a model without windows
    elapsed = pre.seconds
    for j in (1, 2, 3):  # Step, pressed from the keyboard
        _press(page, DS, "step", "Enter" if j % 2 else " ")
        step = r.decode_step(1, prompt + j)
        elapsed += step.seconds
        assert value(page, DS, "step") == j + 1 and value(page, DS, "context") == prompt + j
        assert close(value(page, DS, "read"), step.bytes_read) and close(value(page, DS, "time"), step.seconds)
        assert close(value(page, DS, "kv"), kv_bytes(arch, prompt + j, bits, state=True).bytes_unique)
        assert close(value(page, DS, "elapsed"), elapsed)
    assert page.locator(f"#tool-{DS} .token-rows li").count() == 4
    assert page.locator(f"#tool-{DS} .token-rows li[aria-current='step']").count() == 1
    _press(page, DS, "reset")
    assert value(page, DS, "step") == 1 and page.locator(f"#tool-{DS} .token-rows li").count() == 1
    _press(page, DS, "play")  # plays to the last token, then stops
    page.wait_for_function(f"() => document.querySelector(\"#tool-{DS} [data-out='step']\").dataset.value === "
                           f"'{output}'", timeout=10_000)
    assert page.locator(f"#tool-{DS} .tool-output").get_attribute("aria-busy") is None
    last = r.decode_step(1, prompt + output - 1)
    assert close(value(page, DS, "time"), last.seconds)
    # a MoE model reads only the experts one token routes to
    set_fields(page, DS, model="mixtral-8x7b-instruct", gpu="h200-sxm", kv="bf16", prompt=1000, output=3)
    mixtral, mfmt, mgroups = _native(kb, "mixtral-8x7b-instruct")
    rm = Roofline(mixtral.architecture, kb.gpus["h200-sxm"], mfmt, 16, 1, groups=mgroups)
    assert close(value(page, DS, "read"), rm.decode_step(1, 1002).bytes_read)
    assert rm.decode_step(1, 1002).bytes_read < rm.weight_bytes_per_gpu()


@pytest.mark.browser
def test_decode_stepper_infeasible(page: Any, kb: Any) -> None:
    open_tool(page, DS)
    for mid, gid, prompt, output in [("llama-3-8b-instruct", "h100-sxm", 8000, 256),
                                     ("llama-3.1-405b-instruct", "h100-sxm", 1000, 16)]:
        set_fields(page, DS, model=mid, gpu=gid, kv="bf16", prompt=prompt, output=output)
        model, fmt, groups = _native(kb, mid)
        want = check_setup(Setup(model=model, gpu=kb.gpus[gid], weights=fmt, kv=kb.formats["bf16"], tp=1,
                                 context=prompt + output, sequences=1, engine=VLLM_V1, groups=groups))
        assert not want.feasible
        message = page.locator(f"#tool-{DS} [data-infeasible='setup']")
        assert message.is_visible() and page.locator(f"#tool-{DS} [data-figures='setup']").is_hidden()
        assert [li.strip() for li in message.locator("li").all_text_contents()] == list(want.reasons)
        _press(page, DS, "step")  # nothing to step through; no error either
        assert message.is_visible()
    set_fields(page, DS, model="llama-3.1-8b-instruct", prompt=1000)
    assert page.locator(f"#tool-{DS} [data-figures='setup']").is_visible()


# browser: context window ---------------------------------------------------------------
CW = "context-window"


def _window_policy(system: int, turns: list[tuple[int, int]], window: int, policy: str) -> tuple[int, int]:
    """Tokens kept and whole turns dropped (oldest first, the newest turn always kept)."""
    total = system + sum(u + a for u, a in turns)
    if policy == "refuse":
        return (0, len(turns)) if total > window else (total, 0)
    dropped = 0
    while total > window and dropped < len(turns) - 1:
        total -= sum(turns[dropped])
        dropped += 1
    return total, dropped


@pytest.mark.browser
def test_context_window(page: Any, kb: Any) -> None:
    open_tool(page, CW)
    turns = [(1200, 900), (2500, 700), (1800, 1100), (900, 600)]  # the defaults
    model = kb.models["llama-3-8b-instruct"]
    window = model.architecture.context_length
    kept, dropped = _window_policy(500, turns, window, "truncate")
    assert dropped == 1 and value(page, CW, "window") == window and value(page, CW, "kept") == kept
    assert value(page, CW, "dropped") == sum(turns[0])
    assert "Turn 1" in text(page, CW, "outcome")
    # Add turn from the keyboard: a fifth turn appears and takes the focus
    _press(page, CW, "add")
    ready(page, CW)
    form = page.locator(f"form[data-tool='{CW}']")
    assert form.locator("[name='turns']").input_value() == "5" and form.locator("[name='user5']").is_visible()
    assert page.evaluate("() => document.activeElement.name") == "user5"
    page.keyboard.press("Control+a")
    page.keyboard.type("3000")
    ready(page, CW)
    turns.append((3000, int(form.locator("[name='assistant5']").input_value())))
    mid, kv = "qwen3-8b", "fp8-e4m3"
    set_fields(page, CW, model=mid, gpu="l4", kv=kv, system=900)
    model = kb.models[mid]
    window = model.architecture.context_length
    kept, dropped = _window_policy(900, turns, window, "truncate")
    fmt, groups = kb.formats[model.native_dtype], native_groups(model, dict(kb.formats)) or None
    # on an L4 the weights leave too little for this context's KV cache
    want = check_setup(Setup(model=model, gpu=kb.gpus["l4"], weights=fmt, kv=kb.formats[kv], context=kept,
                             engine=VLLM_V1, groups=groups))
    message = page.locator(f"#tool-{CW} [data-infeasible='setup']")
    assert not want.feasible and [li.strip() for li in message.locator("li").all_text_contents()] == list(want.reasons)
    gid = "l40s"
    set_fields(page, CW, gpu=gid)
    assert value(page, CW, "kept") == kept and value(page, CW, "window") == window
    want = check_setup(Setup(model=model, gpu=kb.gpus[gid], weights=fmt, kv=kb.formats[kv], context=kept,
                             engine=VLLM_V1, groups=groups))
    bits = kb.formats[kv].bits_per_value
    assert close(value(page, CW, "kv"), kv_bytes(model.architecture, kept, bits, state=True).bytes_unique)
    assert want.capacity is not None and close(value(page, CW, "kv-space"), want.capacity.kv_space_bytes)
    # a smaller window: Llama 3 8B's 8,192 tokens, truncating then refusing
    set_fields(page, CW, model="llama-3-8b-instruct", gpu="h100-sxm", kv="bf16", system=500)
    kept, dropped = _window_policy(500, turns, 8192, "truncate")
    assert dropped >= 2 and value(page, CW, "kept") == kept
    assert page.locator(f"#tool-{CW} [data-out='messages'] td:text-is('dropped')").count() == 2 * dropped
    set_fields(page, CW, policy="refuse")
    assert value(page, CW, "kept") == 0 and value(page, CW, "dropped") == 500 + sum(map(sum, turns))
    assert "rejects the request" in text(page, CW, "outcome")
    # infeasible: the system prompt alone, the newest turn with it, the weights
    set_fields(page, CW, policy="truncate", system=9000)
    assert message.is_visible() and "system prompt alone (9,000 tokens)" in message.text_content()
    set_fields(page, CW, system=500, user5=8000)
    assert message.is_visible() and "newest turn alone need" in message.text_content()
    set_fields(page, CW, user5=1000, model="llama-3.1-405b-instruct")
    model, fmt, groups = _native(kb, "llama-3.1-405b-instruct")
    kept, _ = _window_policy(500, [*turns[:4], (1000, turns[4][1])], model.architecture.context_length, "truncate")
    want = check_setup(Setup(model=model, gpu=kb.gpus["h100-sxm"], weights=fmt, kv=kb.formats["bf16"], context=kept,
                             engine=VLLM_V1, groups=groups))
    assert [li.strip() for li in message.locator("li").all_text_contents()] == list(want.reasons) != []
    set_fields(page, CW, model="llama-3.1-8b-instruct")
    assert message.is_hidden() and value(page, CW, "dropped") == 0


# browser: chunked-prefill scheduler ---------------------------------------------------------
CP = "chunked-prefill-scheduler"


def _steps(page: Any, key: str) -> tuple[list[float], list[int]]:
    cells = page.locator(f"#tool-{CP} [data-out='steps-{key}'] td[data-value]")
    durations = [float(v) for v in cells.evaluate_all("els => els.map(e => e.dataset.value)")]
    tokens = [int(v) for v in cells.evaluate_all("els => els.map(e => e.dataset.tokens)")]
    return durations, tokens


def _simulated(kb: Any, mid: str, gid: str, budget: int, decodes: int, context: int, prompts: list[int],
               chunked: bool, steps: int) -> tuple[list[float], list[int], list[float]]:
    """The batching simulator on the same scene: the running decodes enter as prefilled requests, which
    the first step turns into decodes at `context` tokens; the prompts arrive just after it."""
    model, fmt, groups = _native(kb, mid)
    m = step_model(Roofline(model.architecture, kb.gpus[gid], fmt, 16.0, 1, groups=groups))
    n = steps + 10
    reqs = [Request(i, 0.0, context - 1, n, prefilled=True) for i in range(decodes)]
    reqs += [Request(decodes + j, 1e-9, p, n) for j, p in enumerate(prompts)]
    res = simulate(reqs, m, SimConfig(max_batch=4096, max_batched_tokens=budget, chunked_prefill=chunked,
                                      record_steps=True))
    first = res.step_durations[0]
    ttft = [rec.first_token - first for rec in res.records[decodes:]]
    return res.step_durations[1:1 + steps], [s[0] for s in res.steps[1:1 + steps]], ttft


@pytest.mark.browser
def test_chunked_prefill_scheduler(page: Any, kb: Any) -> None:
    open_tool(page, CP)
    for mid, gid, budget, decodes, context, prompts in [
            ("llama-3.1-8b-instruct", "h100-sxm", 2048, 24, 3000, [5000, 700]),
            ("gemma-3-12b-it", "h200-sxm", 1024, 8, 6000, [2500, 3100, 400])]:  # sliding windows too
        set_fields(page, CP, model=mid, gpu=gid, budget=budget, decodes=decodes, context=context,
                   prompts=", ".join(map(str, prompts)))
        for key, chunked in (("on", True), ("off", False)):
            durations, tokens = _steps(page, key)
            assert 0 < len(durations) < 40
            want, want_tokens, ttft = _simulated(kb, mid, gid, budget, decodes, context, prompts, chunked,
                                                 len(durations))
            assert all(close(a, b) for a, b in zip(durations, want, strict=True)), (key, durations, want)
            assert tokens == want_tokens
            assert all(math.isclose(value(page, CP, f"ttft-{key}-{i}"), t, rel_tol=1e-9) for i, t in enumerate(ttft))
            assert close(value(page, CP, f"gap-{key}"), max(durations))
            if chunked:
                assert max(tokens) <= budget
            else:
                assert max(tokens) > budget  # a whole prompt over the budget runs in one step
        assert value(page, CP, "gap-on") < value(page, CP, "gap-off")
    # keyboard: the budget field steps up with the arrow key and the schedule follows
    field = page.locator(f"form[data-tool='{CP}'] [name='budget']")
    field.focus()
    page.keyboard.press("ArrowUp")
    ready(page, CP)
    assert field.input_value() == "1025"
    durations, tokens = _steps(page, "on")
    want = _simulated(kb, "gemma-3-12b-it", "h200-sxm", 1025, 8, 6000, [2500, 3100, 400], True, len(durations))[0]
    assert max(tokens) <= 1025 and all(close(a, b) for a, b in zip(durations, want, strict=True))
    # infeasible: the budget taken by the decodes, the weights over the GPU
    message = page.locator(f"#tool-{CP} [data-infeasible='setup']")
    set_fields(page, CP, decodes=1025)
    assert message.is_visible() and "leaves nothing for prefill after 1,025" in message.text_content()
    set_fields(page, CP, decodes=8, model="llama-3.1-405b-instruct", gpu="h100-sxm")
    model, fmt, groups = _native(kb, "llama-3.1-405b-instruct")
    want = check_setup(Setup(model=model, gpu=kb.gpus["h100-sxm"], weights=fmt, kv_bits=16, context=6000,
                             engine=VLLM_V1, groups=groups))
    assert [li.strip() for li in message.locator("li").all_text_contents()] == list(want.reasons) != []
    set_fields(page, CP, prompts="40000", model="llama-3-8b-instruct")
    assert "more than Meta Llama 3 8B Instruct's maximum" in message.text_content()
    page.locator(f"form[data-tool='{CP}'] [name='prompts']").fill("x, 3")  # not a length: an error, not a result
    assert page.locator(f"#tool-{CP} [data-out='error']").is_visible()
    assert page.locator(f"form[data-tool='{CP}']").get_attribute("data-ready") == "false"


# embedded on their entry pages -------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.parametrize(("entry", "name"), [("concepts/decode", DS), ("concepts/context-window", CW),
                                             ("concepts/top-p-top-k-min-p", SF),
                                             ("techniques/chunked-prefill", CP)])
def test_widget_on_its_entry_page(page: Any, entry: str, name: str) -> None:
    page.goto(f"{page.base}entries/{entry}.html")
    ready(page, name)
    assert page.locator(f".entry-tools #tool-{name} [data-figures]").first.is_visible()
