"""The steady state of one continuously batching engine under Poisson arrivals, in closed form.

The planner screens thousands of configurations; simulating each is too slow, so it first
asks this model and simulates only the finalists. At an arrival rate ``λ`` and a mean step
time ``τ``, Little's law gives what a step holds:

- ``B = λ (osl - 1) τ`` sequences decoding (each stays ``osl - 1`` steps after its first token);
- ``P = λ isl τ`` prompt tokens prefilled (the arrivals of one step's duration);

and the step time is the performance model's time of such a step, ``τ = g(τ)``. ``g`` grows
with ``τ``; the engine keeps up when the equation has a root below the engine's limits
(batch size, token budget, KV cache), found by regula falsi. TTFT is estimated as the steps a
prompt needs to prefill within the step's token budget plus half a step of waiting and the
engine's per-request time. With attention data parallelism (`Engine.lockstep_ranks` groups that
step together, each holding its own sequences) a step is timed with one group's ``B / groups``
decoding sequences beside its share of the ``P`` prompt tokens, but at least one prompt's chunk
(as the simulator times the busiest group). The estimates are means, not percentiles; the
planner checks its finalists with the simulator."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .simulator import StepModel

ROOT_STEPS = 60
"""Most evaluations of the step equation (regula falsi, Illinois rule; it usually needs about ten)."""


@dataclass(frozen=True, slots=True)
class Engine:
    """The scheduler limits of one stream (a replica, or one of a pipeline's micro-batch streams)."""

    max_batch: int
    max_batched_tokens: int
    kv_tokens: int
    chunked_prefill: bool = True
    request_s: float = 0.0
    """Engine time outside the GPU before the first token (added to TTFT)."""
    lockstep_ranks: int = 1
    """Attention data-parallel groups stepping together (1: none). The limits above are the
    groups' sums; a step times one group's share of the decodes and of the prompt tokens, the latter
    never below one prompt's chunk, as the simulator does (`SimConfig.lockstep_ranks`)."""


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    """The steady state at one arrival rate."""

    rate: float
    """Requests per second arriving at the stream."""
    step_s: float
    """Mean step time, which is the mean TPOT."""
    ttft_s: float
    """Estimated mean time to first token."""
    decoding: float
    """Mean sequences decoding in a step."""
    prefill_share: float
    """Share of the step time that the prompts' prefill adds (0 to 1); the rest is decoding."""


def _seconds(model: StepModel, decoding: float, prompt: float, prompts: float, isl: int, osl: int) -> float:
    """One step with ``decoding`` sequences at the mean context and ``prompt`` tokens of
    ``prompts`` prompts (each at half its prompt, on average)."""
    context = isl + osl / 2
    window = model.window
    span_full = prompt * isl / 2 + decoding * (context + 1)
    kv_full = decoding * context
    span_window = kv_window = 0.0
    if window is not None:
        span_window = prompt * min(isl / 2, window) + decoding * (min(context, window) + 1)
        kv_window = decoding * min(context, window)
    return model.seconds(decoding + prompt, decoding + prompts,  # type: ignore[arg-type]
                         span_full, span_window, kv_full, kv_window, decoding + prompts)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class _Mix:
    """The two kinds of step at a mean step time: decode-only steps and steps with prefill."""

    decode_s: float
    prefill_s: float
    prefill_fraction: float
    """Share of the steps that carry prompt tokens."""
    decoding: float
    steps_per_prompt: int

    @property
    def mean_s(self) -> float:
        return (1 - self.prefill_fraction) * self.decode_s + self.prefill_fraction * self.prefill_s


def _mix(model: StepModel, engine: Engine, isl: int, osl: int, rate: float, tau: float) -> _Mix | None:
    """What steps look like when the mean step lasts ``tau``; None when the arrivals of one
    step do not fit its token budget."""
    decoding = rate * max(osl - 1, 0) * tau
    arriving = rate * tau
    room = engine.max_batched_tokens - decoding
    if engine.chunked_prefill:
        if room < 1 or arriving * isl > room:
            return None
        steps_per_prompt = math.ceil(isl / room)
    else:
        steps_per_prompt = 1
    fraction = min(1.0, arriving * steps_per_prompt)
    prompts = arriving / fraction if fraction > 0 else 0.0
    tokens = arriving * isl / fraction if fraction > 0 else 0.0
    share = decoding / engine.lockstep_ranks  # one attention-DP group's decodes (exact for one group)
    # the busiest group's prompts: a share of them, but at least one prompt's chunk (the simulator's rule)
    spread = min(1.0, max(1 / prompts, 1 / engine.lockstep_ranks)) if prompts > 0 else 1.0
    decode_s = _seconds(model, share, 0.0, 0.0, isl, osl)
    prefill_s = _seconds(model, share, tokens * spread, prompts * spread, isl, osl) if fraction > 0 else decode_s
    return _Mix(decode_s, prefill_s, fraction, decoding, steps_per_prompt)


def operating_point(model: StepModel, engine: Engine, isl: int, osl: int, rate: float) -> OperatingPoint | None:
    """The steady state at ``rate`` requests per second, or None when the engine cannot keep up
    (the batch, token budget or KV cache it would need exceeds its limits)."""
    if rate <= 0 or isl < 1 or osl < 1:
        raise ValueError("rate, isl and osl must be positive")
    per_sequence = isl + osl
    max_decoding = min(engine.max_batch, engine.kv_tokens / per_sequence)
    if max_decoding < 1:
        return None
    # the longest mean step the limits allow: the batch (or KV cache) full of decoding sequences
    tau_hi = max_decoding / (rate * (osl - 1)) if osl > 1 else 1e6

    def gap(tau: float) -> float:
        mix = _mix(model, engine, isl, osl, rate, tau)
        return math.inf if mix is None else mix.mean_s - tau

    first = _mix(model, engine, isl, osl, rate, 0.0)
    if first is None:
        return None
    lo, hi = first.mean_s, tau_hi
    if lo >= hi:
        return None
    f_lo, f_hi = gap(lo), gap(hi)
    if f_hi > 0:
        return None
    # regula falsi with the Illinois rule: the root of gap between lo (gap >= 0) and hi (gap <= 0)
    side = 0
    for _ in range(ROOT_STEPS):
        if hi - lo <= 1e-9 * hi or f_lo == 0:
            break
        mid = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        if not lo < mid < hi:
            mid = (lo + hi) / 2
        f_mid = gap(mid)
        if f_mid > 0:
            lo, f_lo = mid, f_mid
            if side == 1:
                f_hi /= 2
            side = 1
        else:
            hi, f_hi = mid, f_mid
            if side == -1:
                f_lo /= 2
            side = -1
    if f_lo == 0:
        hi = lo
    mix = _mix(model, engine, isl, osl, rate, hi)
    assert mix is not None
    share = mix.prefill_fraction * (mix.prefill_s - mix.decode_s) / mix.mean_s
    ttft = engine.request_s + 0.5 * mix.mean_s + mix.steps_per_prompt * mix.prefill_s
    return OperatingPoint(rate, mix.mean_s, ttft, mix.decoding, min(max(share, 0.0), 1.0))
