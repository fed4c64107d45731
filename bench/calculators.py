"""Calculator benchmarks: the continuous-batching simulator at 1k, 10k and 100k
requests, `predict` at 1,000 requests in each load mode, and the tables build
(`inferbook build tables`) table by table."""

from __future__ import annotations

import math
import time

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
