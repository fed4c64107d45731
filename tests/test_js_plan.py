"""Parity of the site's deployment planner (generators/site/static/js/plan.js) with
`inferbook.calc.plan` and `inferbook.calc.launch`, on the site's own tools data
(`SiteBuilder._tools_data`). Cases search without disaggregation unless they ask for it (the
browser tries it with predict_more.js's `MORE`, which its page loads on demand).

Each case runs Python's `plan()` (today fixed to the knowledge base's data_date) and the JS
`plan()` on the same question and compares: shapes screened, configurations simulated, every
rejection (what and why, word for word), GPUs without an offer, stale offers, the frontier row by
row (GPU, offer, split, replicas, formats exactly; USD/h within 1e-9 relative; latencies, goodput
and cost per million tokens within 1e-6), and the cheapest row's launch and benchmark commands
(string equality).

The simulator's Poisson arrivals must be Python's own for that: the cases hand plan.js Python's
exponential draws for seed 0 (`exponentials`, what `random.Random(0).expovariate` divides by the
rate). Without them the browser draws its own arrivals from calc.js's generator, which
`test_the_browser_draws_poisson_arrivals_at_the_rate` checks statistically."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import inferbook
from inferbook.calc.launch import deployment
from inferbook.calc.plan import SIM_REQUESTS, Space, Targets, Workload, plan
from inferbook.generators.site import SiteBuilder

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "tests" / "js_parity" / "plan.mjs"
EXACT = 1e-9
"""Relative tolerance of hourly prices (a per-GPU price times a GPU count: the same product)."""
CLOSE = 1e-6
"""Relative tolerance of simulated latencies and the figures derived from them."""

# (name, models, workload, targets, space); a space is searched without disaggregation unless it says so
CASES: tuple[tuple[str, list[str], dict[str, Any], dict[str, Any], dict[str, Any]], ...] = (
    ("8b-low-rate", ["llama-3.1-8b-instruct"], {"isl": 1000, "osl": 200, "rate": 0.5},
     {"ttft_s": 1.0, "tpot_s": 0.05}, {}),
    ("70b-4rps", ["llama-3.1-70b-instruct"], {"isl": 1000, "osl": 200, "rate": 4.0},
     {"ttft_s": 2.0, "tpot_s": 0.05}, {}),
    ("moe", ["qwen3-30b-a3b-thinking-2507"], {"isl": 2000, "osl": 500, "rate": 2.0},
     {"ttft_s": 2.0, "tpot_s": 0.05, "percentile": 90.0}, {}),
    ("users-think-time", ["llama-3.1-8b-instruct"], {"isl": 800, "osl": 150, "users": 50, "think_time_s": 10.0},
     {"ttft_s": 1.5, "tpot_s": 0.06}, {}),
    ("users-no-think-time", ["llama-3.1-8b-instruct"], {"isl": 500, "osl": 100, "users": 32, "think_time_s": 0.0},
     {"ttft_s": 1.0, "tpot_s": 0.05}, {"gpus": ["l40s", "h100-sxm", "l4"]}),
    ("nothing-meets", ["llama-3.1-70b-instruct"], {"isl": 1000, "osl": 200, "rate": 4.0},
     {"ttft_s": 2.0, "tpot_s": 0.001}, {}),
    ("spot", ["llama-3.1-8b-instruct"], {"isl": 1000, "osl": 200, "rate": 2.0},
     {"ttft_s": 1.0, "tpot_s": 0.05, "percentile": 99.0}, {"pricing": "spot"}),
    ("engines-and-gpus", ["llama-3.1-70b-instruct"], {"isl": 1500, "osl": 300, "rate": 1.0},
     {"ttft_s": 3.0, "tpot_s": 0.06, "percentile": 50.0},
     {"gpus": ["h100-sxm", "mi300x", "b200", "l40s"], "engines": ["sglang", "trtllm"], "max_gpus": 8}),
    # decode-heavy MoE serving, where only attention data parallelism meets the targets
    ("attention-dp", ["deepseek-v3"], {"isl": 500, "osl": 4000, "rate": 20.0}, {"ttft_s": 10.0, "tpot_s": 0.15},
     {"gpus": ["h200-sxm", "b200"], "engines": ["sglang", "trtllm"], "max_gpus": 32}),
    # long prompts and a tight TPOT: the cheapest rows are also tried as two pools, and a split of one
    # machine is the cheapest answer (colocated, the prompts slow the decodes past the TPOT target)
    ("disaggregated", ["llama-3.1-70b-instruct"], {"isl": 4000, "osl": 300, "rate": 3.0},
     {"ttft_s": 3.0, "tpot_s": 0.04}, {"gpus": ["h100-sxm"], "disaggregation": True}),
)
BROWSER_REQUESTS = 4000
ROW_EXACT = ("model", "checkpoint", "gpu", "engine", "weights", "kv_dtype", "kv_bits", "tp", "pp", "ep", "attention_dp",
             "replicas",
             "gpus", "offer", "machines", "provider", "instance", "price_checked", "stale_price", "percentile",
             "meets_targets", "basis", "basis_detail", "error_band", "disaggregation")
ROW_CLOSE = ("usd_per_million_input", "usd_per_million_output", "rate", "latency_s", "goodput_rps", "slo_attainment",
             "ttft_s", "tpot_s", "estimate")


def _python_plan(kb: Any, name: str, models: list[str], load: dict[str, Any], targets: dict[str, Any],
                 space: dict[str, Any]) -> dict[str, Any]:
    w = Workload(load["isl"], load["osl"], rate=load.get("rate"), users=load.get("users"),
                 think_time_s=load.get("think_time_s", 0.0))
    t = Targets(targets["ttft_s"], targets["tpot_s"], targets.get("percentile", 95.0))
    s = Space(gpus=tuple(space.get("gpus", ())), max_gpus=space.get("max_gpus", 16),
              engines=tuple(space.get("engines", ("vllm",))), pricing=space.get("pricing", "on_demand"),
              disaggregation=space.get("disaggregation", False))
    result = plan(kb, models, w, t, s, today=dt.date.fromisoformat(kb.data_date))
    out = result.to_json()
    if result.best is not None:
        block = deployment(kb, result.best, w, t)
        out |= {"launch": block["launch"], "benchmark": block["benchmark"],
                "tensorrt_llm_extra_yaml": block.get("tensorrt_llm_extra_yaml"),
                "disaggregation_note": block.get("disaggregation")}
    return out


def _close(a: Any, b: Any, rel: float) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and set(a) == set(b) and all(_close(a[k], b[k], rel) for k in a)
    if isinstance(a, float) or isinstance(b, float):
        return (isinstance(a, (int, float)) and isinstance(b, (int, float))
                and math.isclose(a, b, rel_tol=rel, abs_tol=1e-15))
    return a == b


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    node = shutil.which("node")
    assert node, "Node.js (`node` on PATH) is required to check the JS planner; install Node 20 or later"
    kb = inferbook.load()
    data = SiteBuilder(kb)._tools_data()
    draws = random.Random(0)
    data["exponentials"] = [-math.log(1.0 - draws.random()) for _ in range(SIM_REQUESTS)]
    expected: dict[str, Any] = {"plans": {}}
    plans = []
    for name, models, load, targets, space in CASES:
        expected["plans"][name] = _python_plan(kb, name, models, load, targets, space)
        plans.append({"id": name, "models": models, "workload": load, "targets": targets,
                      "space": {"disaggregation": False, **space}, "today": kb.data_date})
    loads = [{"id": str(rate), "n": BROWSER_REQUESTS, "rate": rate, "isl": 1000, "osl": 200} for rate in (0.5, 3.7)]
    path = tmp_path_factory.mktemp("js_plan") / "cases.json"
    path.write_text(json.dumps({"data": data, "plans": plans, "workloads": loads},
                               allow_nan=False), encoding="utf-8")
    proc = subprocess.run([node, str(RUNNER), str(path)], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    raw = json.loads(proc.stdout)
    got = {kind: {item["id"]: item for item in raw[kind]} for kind in ("plans", "workloads")}
    return expected, got


def test_the_browser_draws_poisson_arrivals_at_the_rate(results: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """Without Python's draws the browser's arrivals are its own: fixed lengths, gaps whose mean is
    1/rate (within four standard errors) and whose spread is exponential (coefficient of variation 1)."""
    _, got = results
    for rate in (0.5, 3.7):
        item = got["workloads"][str(rate)]
        assert "error" not in item, item["error"]
        rows = item["result"]
        assert len(rows) == BROWSER_REQUESTS and all(r[1:] == [1000, 200] for r in rows)
        times = [r[0] for r in rows]
        gaps = [b - a for a, b in zip([0.0, *times], times, strict=False)]
        mean = sum(gaps) / len(gaps)
        spread = math.sqrt(sum((g - mean) ** 2 for g in gaps) / (len(gaps) - 1))
        assert abs(mean - 1 / rate) < 4 / rate / math.sqrt(len(gaps)), (rate, mean)
        assert 0.9 < spread / mean < 1.1, (rate, spread / mean)


@pytest.mark.parametrize("case", [c[0] for c in CASES])
def test_js_plan_matches_python(results: tuple[dict[str, Any], dict[str, Any]], case: str) -> None:
    expected, got = results
    want = expected["plans"][case]
    item = got["plans"][case]
    assert "error" not in item, item.get("error")
    have = item["result"]
    problems: list[str] = []
    for key in ("shapes_screened", "simulated", "feasible", "unpriced_gpus", "stale_offers"):
        if want[key] != have[key]:
            problems.append(f"{key}: Python {want[key]!r} != JS {have[key]!r}")
    if len(want["rejected"]) != len(have["rejected"]):
        problems.append(f"rejections: Python {len(want['rejected'])} != JS {len(have['rejected'])}")
    for i, (a, b) in enumerate(zip(want["rejected"], have["rejected"], strict=False)):
        if a != b:
            problems.append(f"rejection {i}: Python {a} != JS {b}")
            break
    if len(want["frontier"]) != len(have["frontier"]):
        problems.append(f"frontier rows: Python {len(want['frontier'])} != JS {len(have['frontier'])}")
    for i, (a, b) in enumerate(zip(want["frontier"], have["frontier"], strict=False)):
        for key in ROW_EXACT:
            if a[key] != b[key]:
                problems.append(f"row {i} {key}: Python {a[key]!r} != JS {b[key]!r}")
        if not _close(a["usd_per_hour"], b["usd_per_hour"], EXACT):
            problems.append(f"row {i} usd_per_hour: Python {a['usd_per_hour']!r} != JS {b['usd_per_hour']!r}")
        for key in ROW_CLOSE:
            if not _close(a[key], b[key], CLOSE):
                problems.append(f"row {i} {key}: Python {a[key]!r} != JS {b[key]!r}")
    for key in ("launch", "benchmark", "tensorrt_llm_extra_yaml", "disaggregation_note"):
        if want.get(key) != have.get(key):
            problems.append(f"{key}: Python {want.get(key)!r} != JS {have.get(key)!r}")
    assert not problems, f"{case}: {len(problems)} differences:\n" + "\n".join(problems[:30])


def test_cases_cover_the_planner(results: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """The cases exercise a frontier, a refusal, a MoE model and the launch commands."""
    expected, _ = results
    plans = expected["plans"]
    assert not plans["nothing-meets"]["feasible"] and plans["nothing-meets"]["rejected"]
    assert all(plans[c]["feasible"] for c in ("8b-low-rate", "70b-4rps", "moe", "users-think-time",
                                                "users-no-think-time", "spot"))
    assert any(row["ep"] > 1 or row["tp"] > 1 for c in plans.values() for row in c["frontier"])
    assert plans["70b-4rps"]["launch"] and plans["70b-4rps"]["benchmark"]
    dpa = plans["attention-dp"]
    assert dpa["frontier"] and all(row["attention_dp"] == row["tp"] > 1 for row in dpa["frontier"])
    assert "enable_attention_dp: true" in dpa["tensorrt_llm_extra_yaml"]
    assert any("--enable-dp-attention" in cmd for cmd in dpa["launch"]["sglang"])
    split = plans["disaggregated"]
    assert split["frontier"][0]["disaggregation"]["prefill_gpus"] > 0 and split["disaggregation_note"]
