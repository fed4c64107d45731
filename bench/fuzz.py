"""Fuzz the reader, loader, schema, expression language, Markdown and LaTeX
renderers, `--where` parser and trace reader with hypothesis for a fixed time.

    python bench/fuzz.py --minutes 10

Runs the properties of tests/properties.py round-robin with large example
budgets until the time is up, then prints examples run, the slowest example of
each target and failures found (each with its minimal example). An example that
takes longer than SLOW_SECONDS counts as a failure: hostile input must not hang
the tools."""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import properties as p

TARGETS = {
    "yaml-reader": (p.yaml_text, p.check_yaml),
    "mutated-entries": (p.mutated_entry(), lambda case: p.check_mutated(*case)),
    "measurements": (p.mutated_measurements(), p.check_measurements),
    "schema": (st.tuples(st.sampled_from(sorted(p.KINDS)), st.dictionaries(st.text(max_size=15), p.json_value,
                                                                           max_size=8)),
               lambda case: p.check_schema(*case)),
    "markdown": (p.markdown_text, p.check_markdown),
    "latex": (p.latex_text, p.check_latex),
    "expressions": (p.expression_text(), p.check_expression),
    "where": (p.where_text(), p.check_where),
    "traces": (p.trace_file(), p.check_trace),
}
SLOW_SECONDS = 2.0


def _timed(check, value) -> float:
    """Seconds one check of ``value`` takes."""
    start = time.perf_counter()
    check(value)
    return time.perf_counter() - start


def _property(strategy, check, name: str, counts: dict[str, int], slowest: dict[str, float], batch: int):
    """A hypothesis test for one target that counts its examples and fails a slow one."""

    @settings(max_examples=batch, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.generate, Phase.shrink])
    @given(strategy)
    def prop(value):
        counts[name] += 1
        took = _timed(check, value)
        if took >= SLOW_SECONDS:  # a pause of the machine is no finding: slow three times running is
            took = min(took, _timed(check, value), _timed(check, value))
        slowest[name] = max(slowest[name], took)
        assert took < SLOW_SECONDS, f"one example took {took:.2f} s three times running"

    return prop


def run(minutes: float, batch: int = 500) -> int:
    deadline = time.monotonic() + minutes * 60
    counts = dict.fromkeys(TARGETS, 0)
    slowest = dict.fromkeys(TARGETS, 0.0)
    failures: dict[str, str] = {}
    while time.monotonic() < deadline and len(failures) < len(TARGETS):
        for name, (strategy, check) in TARGETS.items():
            if time.monotonic() >= deadline or name in failures:
                continue
            try:
                _property(strategy, check, name, counts, slowest, batch)()
            except Exception:  # a failing target is reported and left out of later rounds
                failures[name] = traceback.format_exc(limit=4)
    total = sum(counts.values())
    print(f"fuzzed {minutes:g} min: {total:,} examples (" + ", ".join(f"{k} {v:,}" for k, v in counts.items()) + ")")
    print("slowest example: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in slowest.items()))
    print(f"failures: {len(failures)}")
    for name, failure in failures.items():
        print(f"{name}:\n{failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    raise SystemExit(run(parser.parse_args().minutes))
