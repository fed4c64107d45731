"""The calibration: exact re-timing, held-out bookkeeping, and the files it writes kept current."""

from __future__ import annotations

import json

import pytest

import inferbook
from inferbook.calc import calibrate
from inferbook.calc.accuracy import peer_figures
from inferbook.calc.accuracy_report import DOC, render
from inferbook.calc.bands import calibration
from inferbook.calc.perf import CALIBRATION, PerfParams
from inferbook.calc.published import RESERVED_SOURCES
from inferbook.calc.published import load as load_published

CASE_IDS = ("m001", "m003", "m052", "m053", "m055", "sglang-cookbook-qwen3-q3-235b-b200-1000-1000-c1-ttft")


@pytest.fixture(scope="module")
def replays():
    kb = inferbook.load()
    pubs = {p.m.id: p for p in load_published()}
    out = []
    for cid in CASE_IDS:
        case = calibrate.build_case(kb, pubs[cid])
        assert not isinstance(case, str), (cid, case)
        result, _ = calibrate.simulate_case(case, calibrate.PRIOR)
        out.append(calibrate.Replay(case, result))
    return out


@pytest.mark.parametrize("params", [
    calibrate.PRIOR,
    PerfParams(gemm_eff={"*": 0.35}, mbu={"*": 0.9}, attn_eff={"*": 0.2}, step_s={"*": 0.004},
               seq_s={"*": 1e-4}, request_s={"*": 0.05}, gemm_half_tokens=16.0),
])
def test_fit_set_equals_the_simulator(replays, params):
    """FitSet's sorted prefix sums give the simulator's own numbers, for any parameters."""
    fast = calibrate.FitSet(replays, params.gemm_half_tokens).values(params)
    exact = calibrate.ReplaySet(replays).values(params)
    for replay, a, b in zip(replays, fast, exact, strict=True):
        simulated = calibrate.simulate_case(replay.case, params)[1]
        assert a == pytest.approx(simulated, rel=1e-6), replay.case.id
        assert b == pytest.approx(simulated, rel=1e-9), replay.case.id


def test_poisson_runs_are_re_timed_around_their_arrivals():
    """A Poisson run's replay waits for arrivals: equal to the simulator under the parameters it was
    recorded with; with faster steps its requests still cannot start before they arrive, so its
    TTFT stays near the simulator's (not the wild values of a clock re-timed without arrivals)."""
    kb = inferbook.load()
    pubs = {p.m.id: p for p in load_published()}
    case = calibrate.build_case(kb, pubs["trtllm-0.14-serve-l31-8b-h100-tp1-202-214-qps4-ttft-ms"])
    assert not isinstance(case, str)
    result, value = calibrate.simulate_case(case, calibrate.PRIOR)
    replay = calibrate.Replay(case, result)
    assert replay.arrives_over_time and not calibrate.fits_on(replay)
    assert calibrate.ReplaySet([replay]).values(calibrate.PRIOR)[0] == pytest.approx(value, rel=1e-9)
    faster = PerfParams(gemm_eff={"*": 0.9}, mbu={"*": 0.95}, attn_eff={"*": 0.6})
    retimed = calibrate.ReplaySet([replay]).values(faster)[0]
    assert 0 < retimed <= value and retimed == pytest.approx(calibrate.simulate_case(case, faster)[1], rel=0.25)


def test_fit_moves_towards_the_data(replays):
    """Fitting on cases made from a known parameter set recovers a closer fit than the prior."""
    fitted = calibrate.fit(replays, halves=(64.0,), max_evaluations=20)
    before = calibrate.ReplaySet(replays).values(calibrate.PRIOR)
    after = calibrate.ReplaySet(replays).values(fitted)
    targets = [r.case.pub.m.value for r in replays]
    def error(values):
        return sum(abs(v / t - 1) for v, t in zip(values, targets, strict=True))
    assert error(after) < error(before)
    for name, (low, high) in calibrate.BOUNDS.items():
        value = getattr(fitted, name)
        for v in (value.values() if isinstance(value, dict) else [value]):
            if name != "dtype_eff":
                assert low * 0.999 <= v <= high * 1.001, (name, v)


def test_calibration_file_is_consistent():
    cal = json.loads(CALIBRATION.read_text(encoding="utf-8"))
    assert cal == calibration()
    assert cal["fitted_on"]["cases"] >= 250
    held = [c["held_out_error"] for c in cal["cases"].values()]
    assert all(set(h) == {"gpu", "family", "engine"} for h in held)
    for partition in ("gpu", "family", "engine"):
        groups = cal["cv"][f"by_{partition}"]
        for key, kinds in groups.items():
            members = [c for c in cal["cases"].values() if c["groups"][partition] == key]
            for kind in ("throughput", "latency"):
                errs = sorted(abs(c["held_out_error"][partition]) for c in members if c["kind"] == kind)
                if errs:
                    assert kinds[kind]["n"] == len(errs) and kinds[kind]["max"] == pytest.approx(errs[-1])


def test_reserved_sources_never_enter():
    cal = calibration()
    for case in cal["cases"].values():
        assert not any(marker in case["url"].lower() for marker in RESERVED_SOURCES)


def test_accuracy_doc_is_current():
    assert DOC.read_text(encoding="utf-8") == render(calibration(), peer_figures()), (
        "docs/accuracy.md is stale: run python -m inferbook.calc.calibrate --write")


def test_the_page_says_what_the_run_that_wrote_it_took():
    from inferbook.calc.accuracy_report import _reproduce

    assert "took 48 minutes with 2 folds at a time" in _reproduce({"seconds": 2883, "jobs": 2})
    assert "took 3 minutes with 1 fold at a time" in _reproduce({"seconds": 170, "jobs": 1})
    assert "took" not in _reproduce(None)  # a file written before the run was recorded
    run = calibration()["run"]
    assert run["jobs"] >= 1 and run["seconds"] > 0


def test_far_misses_count_predictions_beyond_twice_or_half():
    from inferbook.calc.accuracy_report import far_misses

    def case(in_sample: float, gpu: float) -> dict:
        return {"in_sample_error": in_sample, "held_out_error": {"gpu": gpu}}

    # +1.0 is exactly twice and -0.5 exactly half: on the line, not beyond it
    cal = {"cases": {"a": case(1.0, 1.01), "b": case(-0.5, -0.51), "c": case(0.2, 3.0), "d": case(-0.9, 0.0)}}
    assert far_misses(cal) == {"gpu": (3, 4), "in-sample": (1, 4)}
    assert far_misses({"cases": {}}) == {}
    # the committed calibration: every way of predicting is counted over every case
    counted = far_misses(calibration())
    assert set(counted) == {"gpu", "family", "engine", "in-sample"}
    assert all(n == len(calibration()["cases"]) and 0 <= far <= n for far, n in counted.values())
