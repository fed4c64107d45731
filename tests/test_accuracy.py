"""The calculators against published measurements (inferbook/calc/measurements.yaml).
Exact quantities must agree; the rest are reported, with targets of 5% for KV
capacity and 25% for latency and throughput, and known gaps listed with reasons."""

from __future__ import annotations

import pytest

import inferbook
from inferbook.calc.accuracy import compare, fit_efficiency, fit_sampler_bytes, load_measurements, summary
from inferbook.calc.capacity import SAMPLER_BYTES_PER_LOGIT
from inferbook.calc.roofline import DEFAULT_MBU, DEFAULT_MFU

# measurement id -> why the calculators miss the 2% weight target
WEIGHT_GAPS = {
    "m034": "vLLM pads gpt-oss MoE weights for its MXFP4 kernels; the checkpoint itself is 12.8 GiB",
    "m038": "the same padding on gpt-oss-120b",
}
KV_GAPS = {
    "m039": "follows the gpt-oss-120b weight padding above (3.3 GiB left, 0.3 GiB off)",
}


@pytest.fixture(scope="module")
def kb():
    return inferbook.load()


@pytest.fixture(scope="module")
def comparisons(kb):
    return compare(kb)


def test_at_least_thirty_sourced_measurements():
    rows = load_measurements()
    assert len(rows) >= 30
    assert all(m.url.startswith("https://") and m.quote for m in rows)


def test_exact_quantities_agree(comparisons):
    kv = [c for c in comparisons if c.measurement.kind == "kv_bytes_per_token"]
    assert len(kv) >= 3 and all(abs(c.error) < 0.005 for c in kv)
    weights = [c for c in comparisons if c.measurement.kind == "weights_memory_gib"]
    misses = {c.measurement.id for c in weights if abs(c.error) > 0.02}
    assert misses == set(WEIGHT_GAPS), misses
    assert all(abs(c.error) < 0.08 for c in weights)


def test_kv_capacity_within_five_percent(comparisons):
    rows = [c for c in comparisons if c.measurement.kind in ("available_kv_memory_gib", "kv_cache_tokens")]
    assert len(rows) >= 8
    misses = {c.measurement.id for c in rows if abs(c.error) > 0.05}
    assert misses == set(KV_GAPS), misses


def test_latency_within_twenty_five_percent(comparisons):
    rows = [c for c in comparisons if c.measurement.kind in ("ttft_ms", "decode_tpot_ms")]
    assert rows and all(abs(c.error) <= 0.25 for c in rows), [(c.measurement.id, c.error) for c in rows]


def test_throughput_errors_are_reported_not_hidden(comparisons):
    stats = summary(comparisons)["output_tokens_per_s"]
    assert stats["count"] >= 15
    # the offline throughput runs are predicted by simulation; report how close they are
    print(f"\nthroughput: median |error| {stats['median_abs_error']:.1%}, "
          f"{stats['within_target']:.0%} within 25% of {stats['count']} measurements")
    assert stats["median_abs_error"] < 0.5


def test_defaults_are_the_fitted_values(kb):
    """The efficiency and memory constants come from the measurements, not from guesses."""
    assert fit_sampler_bytes(kb) == pytest.approx(SAMPLER_BYTES_PER_LOGIT, rel=0.01)
    eff, error = fit_efficiency(kb)
    assert (eff.mfu, eff.mbu) == (DEFAULT_MFU, DEFAULT_MBU)
    assert error < 0.2


def test_calibration_points_are_marked(comparisons):
    marked = {c.measurement.id for c in comparisons if c.calibration_point}
    assert {"m030", "m031", "m042"} <= marked and "m019" not in marked
