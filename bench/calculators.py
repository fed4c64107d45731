"""Calculator benchmarks: the continuous-batching simulator at 1k, 10k and 100k
requests, `predict` at 1,000 requests in each load mode, `plan` over every GPU (and its browser
port under Node), and the tables build (`inferbook build tables`) table by table."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

from bench.util import Row, fmt_s

SIM_SIZES = (1_000, 10_000, 100_000)


def simulator_rates(kb, sizes: tuple[int, ...] = SIM_SIZES) -> list[Row]:
    """Llama 3.1 8B on one H100 SXM in BF16, Poisson arrivals at 20 requests/s, lognormal lengths."""
    from inferbook.calc.capacity import capacity
    from inferbook.calc.roofline import Roofline, step_model
    from inferbook.calc.simulator import Lengths, Request, SimConfig, simulate, workload

    model, gpu, fmt = kb.models["llama-3.1-8b-instruct"], kb.gpus["h100-sxm"], kb.formats["bf16"]
    cap = capacity(model.architecture, gpu, fmt)
    step = step_model(Roofline(model.architecture, gpu, fmt))
    rows: list[Row] = []
    for n in sizes:
        reqs = workload(n, 20.0, Lengths("lognormal", mean=1000, high=8000),
                        Lengths("lognormal", mean=250, high=2000), seed=1)
        took = math.inf
        for _ in range(3):
            start = time.perf_counter()
            result = simulate(reqs, step, SimConfig(kv_capacity_tokens=cap.kv_tokens))
            took = min(took, time.perf_counter() - start)
        rows.append((f"simulator, continuous batching, {n:,} requests (best of 3)",
                     f"{n / took:,.0f} requests/s ({fmt_s(took)}, {len(result.step_durations):,} steps, "
                     f"{result.preemptions:,} preemptions)"))
    # the offline case of the accuracy table: every request queued at once, KV cache full, many preemptions
    offline = [Request(i, 0.0, 1000, 1000) for i in range(2_000)]
    took = math.inf
    for _ in range(3):
        start = time.perf_counter()
        result = simulate(offline, step, SimConfig(max_batch=2048, kv_capacity_tokens=cap.kv_tokens))
        took = min(took, time.perf_counter() - start)
    rows.append(("simulator, 2,000 requests queued at once (offline throughput, best of 3)",
                 f"{len(offline) / took:,.0f} requests/s ({fmt_s(took)}, {result.preemptions:,} preemptions)"))
    return rows


def predict_rows(kb) -> list[Row]:
    """`predict` (feasibility, capacity, calibrated step model, simulation, band and basis) on
    1,000 requests, Llama 3.1 8B on one H100 SXM, 1,000 prompt and 200 output tokens; the
    issue's target is under 1 s per answer."""
    from inferbook.calc.predict import Load, predict

    loads = [("offline", Load(1000, 200, "offline", requests=1000)),
             ("concurrency 64", Load(1000, 200, "concurrency", concurrency=64, requests=1000)),
             ("Poisson 20 requests/s", Load(1000, 200, "rate", rate=20.0, requests=1000)),
             ("batch 1", Load(1000, 200, "batch", batch=1))]
    rows: list[Row] = []
    start = time.perf_counter()
    predict(kb, "llama-3.1-8b-instruct", "h100-sxm", loads[0][1])  # reads the profiles, calibration, measurements
    rows.append(("predict, first call in a process (reads profiles, calibration and measurements)",
                 fmt_s(time.perf_counter() - start)))
    for label, load in loads:
        took = math.inf
        for _ in range(3):
            start = time.perf_counter()
            answer = predict(kb, "llama-3.1-8b-instruct", "h100-sxm", load)
            took = min(took, time.perf_counter() - start)
        size = "one request in lockstep" if load.mode == "batch" else "1,000 requests"
        rows.append((f"predict, {label}, {size} (best of 3, caches warm)",
                     f"{fmt_s(took)} ({answer.output_tokens_per_s:,.0f} output tokens/s, basis {answer.basis})"))
    slo = Load(1000, 200, "max-rate", requests=1000, slo_ttft_s=1.0, slo_tpot_s=0.05)
    start = time.perf_counter()
    answer = predict(kb, "llama-3.1-8b-instruct", "h100-sxm", slo)
    rows.append(("predict --rate max (TTFT p99 1 s, TPOT p99 50 ms), 1,000 requests per try",
                 f"{fmt_s(time.perf_counter() - start)} (rate found {answer.rate or 0:,.1f} requests/s)"))
    return rows


PLAN_ARGS = ("llama-3.1-70b-instruct", "--isl", "1000", "--osl", "200", "--rate", "4", "--slo-ttft", "2",
             "--slo-tpot", "0.05", "--max-gpus", "16")


def write_price_layer(folder: Path, kb) -> None:
    """A private layer with one made-up offer for every GPU in the KB (8 GPUs, rentable 1, 2 and 4,
    a per-GPU price that grows with memory bandwidth), so `plan` searches every GPU type."""
    (folder / "offers").mkdir(parents=True)
    (folder / "sources").mkdir()
    (folder / "_layer.yaml").write_text('name: bench-prices\ndescription: made-up prices for the benchmark\n'
                                        'data_version: "1"\ndata_date: "2026-12-01"\n', encoding="utf-8")
    (folder / "sources" / "bench-price-list.yaml").write_text(
        "id: bench-price-list\ntitle: Made-up prices\nkind: price-list\nurl: https://example.com/prices\n"
        "accessed: 2026-12-01\nlast_reviewed: 2026-12-01\n", encoding="utf-8")
    for gpu in kb.gpus.values():
        price = max(0.2, round(gpu.memory_bandwidth_gb_s.value / 1000, 2))
        (folder / "offers" / f"bench-{gpu.id}.yaml").write_text(
            f'id: bench-{gpu.id}\ntitle: "bench {gpu.id}"\nprovider: Bench\nprovider_kind: gpu-cloud\n'
            f'instance: "{gpu.id} x8"\ngpu: {gpu.id}\ngpu_count: 8\nrentable_counts: [1, 2, 4]\n'
            f'quoted_per: gpu\non_demand_usd_per_hour: {price}\nregion: bench\nchecked: 2026-12-01\n'
            f'source: bench-price-list\nlast_reviewed: 2026-12-01\n', encoding="utf-8")


def plan_rows(kb) -> list[Row]:
    """`plan` for Llama 3.1 70B (1,000 in, 200 out, 4 requests/s, p95 TTFT 2 s and TPOT 50 ms) over
    every GPU in the KB (a made-up offer each, in a private layer), 1-16 GPUs, every published
    checkpoint, two KV dtypes and disaggregation; the issue's target is under 5 s from the CLI.
    Also with the KB's real offers only."""
    import datetime as dt
    import os
    import subprocess
    import tempfile

    import inferbook
    from inferbook.calc.plan import Space, Targets, Workload, plan

    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        layer = Path(tmp) / "prices"
        write_price_layer(layer, kb)
        priced = inferbook.load([str(layer)], builtin=True)
        took = math.inf
        for _ in range(2):
            start = time.perf_counter()
            result = plan(priced, ["llama-3.1-70b-instruct"], Workload(1000, 200, rate=4.0), Targets(2.0, 0.05),
                          Space(max_gpus=16), today=dt.date(2026, 12, 7))
            took = min(took, time.perf_counter() - start)
        rows.append((f"plan, 70B over all {len(priced.gpus)} GPU types, 1-16 GPUs (Python, best of 2)",
                     f"{fmt_s(took)} ({result.shapes:,} configurations screened, {len(result.simulated)} simulated, "
                     f"{len(result.frontier)} on the frontier)"))
        cli = [sys.executable, "-m", "inferbook", "plan", *PLAN_ARGS, "--kb", str(layer)]
        env = {**os.environ, "INFERBOOK_CACHE_DIR": str(Path(tmp) / "plan-cache")}  # a cache of this run's own
        env.pop("INFERBOOK_NO_CACHE", None)
        # another question first: the load caches warm, as for any second command, but this answer not stored
        warm_up = [*cli[:cli.index("--rate") + 1], "3.5", *cli[cli.index("--rate") + 2:]]
        subprocess.run(warm_up, capture_output=True, text=True, check=False, env=env)
        start = time.perf_counter()
        proc = subprocess.run(cli, capture_output=True, text=True, check=False, env=env)
        rows.append(("inferbook plan from the CLI, same search, a new question (process start, KB load from the warm "
                     "load cache, the search)",
                     f"{fmt_s(time.perf_counter() - start)} (exit {proc.returncode})"))
        start = time.perf_counter()
        again = subprocess.run(cli, capture_output=True, text=True, check=False, env=env)
        rows.append(("inferbook plan from the CLI, the same question again (answered from the result cache)",
                     f"{fmt_s(time.perf_counter() - start)} (exit {again.returncode}, "
                     f"{'the same output' if again.stdout == proc.stdout else 'another output'})"))
    start = time.perf_counter()
    result = plan(kb, ["llama-3.1-70b-instruct"], Workload(1000, 200, rate=4.0), Targets(2.0, 0.05),
                  today=dt.date(2026, 12, 7))
    rows.append((f"plan, 70B over the KB's {len(kb.offers)} real offers",
                 f"{fmt_s(time.perf_counter() - start)} ({result.shapes:,} screened, {len(result.simulated)} "
                 "simulated)"))
    return rows


def plan_js_rows(kb) -> list[Row]:
    """The site's deployment planner (generators/site/static/js/plan.js) under Node for the same 70B
    question as `plan_rows` (1,000 in, 200 out, 4 requests/s, p95 TTFT 2 s and TPOT 50 ms) on the
    site's tools data (the KB's real offers, no disaggregation); the issue's target is under 2 s.
    Timed inside Node, the first run and a second one in the same process (compiled code warm)."""
    import json
    import shutil
    import subprocess
    import tempfile

    from inferbook.generators.site import SiteBuilder

    node = shutil.which("node")
    if node is None:
        return [("plan.js under Node, 70B over the KB's offers", "skipped: no `node` on PATH")]
    root = Path(__file__).resolve().parent.parent
    question = {"models": ["llama-3.1-70b-instruct"], "workload": {"isl": 1000, "osl": 200, "rate": 4.0},
                "targets": {"ttft_s": 2.0, "tpot_s": 0.05}, "space": {"max_gpus": 16}, "today": kb.data_date}
    with tempfile.TemporaryDirectory() as tmp:
        cases = Path(tmp) / "cases.json"
        cases.write_text(json.dumps({"data": SiteBuilder(kb)._tools_data(),
                                     "plans": [{"id": "first", **question}, {"id": "second", **question}]}),
                         encoding="utf-8")
        start = time.perf_counter()
        proc = subprocess.run([node, str(root / "tests" / "js_parity" / "plan.mjs"), str(cases)], capture_output=True,
                              text=True, check=False)
        wall = time.perf_counter() - start
    if proc.returncode != 0:
        return [("plan.js under Node, 70B over the KB's offers", f"failed: {proc.stderr.strip()[-200:]}")]
    first, second = (item["result"] for item in json.loads(proc.stdout)["plans"])
    return [("plan.js under Node, 70B over the KB's offers (first run in the process)",
             f"{fmt_s(first['seconds'])} ({first['shapes_screened']:,} screened, {first['simulated']} simulated, "
             f"{len(first['frontier'])} on the frontier)"),
            ("plan.js under Node, same search again (warm)", fmt_s(second["seconds"])),
            ("plan.js under Node, whole process (start, tools-data JSON parse, both runs)", fmt_s(wall))]


def tables(kb) -> list[Row]:
    """Each table of `inferbook build tables` computed on its own (accuracy cache empty)."""
    from bench.stages import _cold
    from inferbook.generators.tables import TABLES

    rows: list[Row] = []
    total = 0.0
    for name, make in TABLES.items():
        _cold()
        start = time.perf_counter()
        made = make(kb)
        took = time.perf_counter() - start
        total += took
        rows.append((f"table {name} ({len(made):,} rows)", fmt_s(took)))
    rows.append(("tables: all rows computed (before JSON/CSV writing)", fmt_s(total)))
    return rows
