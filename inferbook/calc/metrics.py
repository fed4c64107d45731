"""Latency and throughput metrics from per-request timestamps.

Definitions (the handbook's metric entries explain them):
- TTFT = first token time - arrival time.
- TPOT = (E2EL - TTFT) / (output tokens - 1): the first token is excluded
  (`tpot_includes_first_token=True` gives E2EL / output tokens instead).
- ITL = the gaps between consecutive output tokens of a request.
- E2EL = finish time - arrival time.
- Averages are per request by default; `average="token"` pools every token gap,
  so long requests weigh more.
- Goodput = requests per second that meet every SLO given.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """What happened to one request (times in seconds)."""

    arrival: float
    first_token: float
    finish: float
    input_tokens: int
    output_tokens: int
    token_times: tuple[float, ...] = ()
    """Emission time of every output token, when known (the first equals `first_token`)."""

    def __post_init__(self) -> None:
        if self.output_tokens < 1 or self.input_tokens < 0:
            raise ValueError("a request needs at least one output token and no negative input")
        if not self.arrival <= self.first_token <= self.finish:
            raise ValueError("times must satisfy arrival <= first_token <= finish")
        if self.token_times and len(self.token_times) != self.output_tokens:
            raise ValueError("token_times must hold one time per output token")

    @property
    def ttft(self) -> float:
        return self.first_token - self.arrival

    @property
    def e2el(self) -> float:
        return self.finish - self.arrival

    def tpot(self, includes_first_token: bool = False) -> float | None:
        if includes_first_token:
            return self.e2el / self.output_tokens
        if self.output_tokens < 2:
            return None
        return (self.finish - self.first_token) / (self.output_tokens - 1)

    def itls(self) -> list[float]:
        times = self.token_times
        return [b - a for a, b in itertools.pairwise(times)]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between order statistics
    (the method numpy calls "linear")."""
    if not values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError("q must be between 0 and 100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(rank), math.ceil(rank)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo)


@dataclass(frozen=True, slots=True)
class Slo:
    """Service-level objectives in seconds; None means not constrained."""

    ttft: float | None = None
    tpot: float | None = None
    e2el: float | None = None

    def met_by(self, record: RequestRecord, includes_first_token: bool = False) -> bool:
        tpot = record.tpot(includes_first_token)
        return ((self.ttft is None or record.ttft <= self.ttft)
                and (self.tpot is None or tpot is None or tpot <= self.tpot)
                and (self.e2el is None or record.e2el <= self.e2el))


@dataclass(frozen=True, slots=True)
class Distribution:
    """Summary of one latency metric, in seconds."""

    mean: float
    p50: float
    p90: float
    p95: float
    p99: float
    max: float
    count: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Distribution:
        if not values:
            nan = math.nan
            return cls(nan, nan, nan, nan, nan, nan, 0)
        return cls(sum(values) / len(values), percentile(values, 50), percentile(values, 90),
                   percentile(values, 95), percentile(values, 99), max(values), len(values))


@dataclass(frozen=True, slots=True)
class Summary:
    """Aggregate metrics of a run."""

    requests: int
    duration_s: float
    ttft: Distribution
    tpot: Distribution
    itl: Distribution
    e2el: Distribution
    request_throughput: float
    """Completed requests per second."""
    input_token_throughput: float
    output_token_throughput: float
    total_token_throughput: float
    goodput: float | None
    """Requests per second meeting every SLO (None when no SLO was given)."""
    slo_attainment: float | None
    options: dict[str, object] = field(default_factory=dict)


def summarize(records: Sequence[RequestRecord], slo: Slo | None = None,
              average: Literal["request", "token"] = "request",
              tpot_includes_first_token: bool = False) -> Summary:
    """Aggregate metrics over completed requests. Duration runs from the first
    arrival to the last finish."""
    if not records:
        raise ValueError("no requests to summarize")
    if average not in ("request", "token"):
        raise ValueError("average must be 'request' or 'token'")
    duration = max(r.finish for r in records) - min(r.arrival for r in records)
    if duration <= 0:
        raise ValueError("the run has no duration")
    tpots = [t for r in records if (t := r.tpot(tpot_includes_first_token)) is not None]
    if average == "token":
        # each request's TPOT weighted by its number of token gaps
        weighted = [t for r in records if (t := r.tpot(tpot_includes_first_token)) is not None
                    for _ in range(max(r.output_tokens - 1, 1))]
        tpots = weighted
    itls = [gap for r in records for gap in r.itls()]
    if not itls and average == "token":
        itls = tpots
    inputs = sum(r.input_tokens for r in records)
    outputs = sum(r.output_tokens for r in records)
    good = attainment = None
    if slo is not None:
        met = sum(1 for r in records if slo.met_by(r, tpot_includes_first_token))
        good, attainment = met / duration, met / len(records)
    return Summary(
        requests=len(records), duration_s=duration,
        ttft=Distribution.of([r.ttft for r in records]), tpot=Distribution.of(tpots),
        itl=Distribution.of(itls), e2el=Distribution.of([r.e2el for r in records]),
        request_throughput=len(records) / duration, input_token_throughput=inputs / duration,
        output_token_throughput=outputs / duration, total_token_throughput=(inputs + outputs) / duration,
        goodput=good, slo_attainment=attainment,
        options={"average": average, "tpot_includes_first_token": tpot_includes_first_token},
    )
