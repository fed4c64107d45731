"""Speculative decoding and multi-token prediction in the simulator.

A draft (a small model, EAGLE or MTP heads) proposes ``k`` tokens; the target model checks
them in one step, each decoding sequence then processing ``k + 1`` tokens, and keeps on
average E = (1 - a^(k+1)) / (1 - a) of them at acceptance rate ``a``
(`roofline.speculative_speedup`). `SpeculativeStep` times such a step: the target's
verification (k more tokens per decoding sequence, each attending to its context) plus the
draft's proposals at ``draft_cost_ratio`` of a plain decode step each. A request of ``osl``
output tokens then needs 1 + ceil((osl - 1) / E) steps after its prefill (`steps_for`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .roofline import speculative_speedup
from .simulator import StepModel


@dataclass(frozen=True, slots=True)
class Speculation:
    """Draft length, acceptance rate and the draft's cost per proposed token (relative to a
    decode step of the target)."""

    draft_tokens: int
    acceptance: float
    draft_cost_ratio: float = 0.0

    def __post_init__(self) -> None:
        speculative_speedup(self.acceptance, self.draft_tokens, self.draft_cost_ratio)  # checks the ranges

    @property
    def tokens_per_step(self) -> float:
        return speculative_speedup(self.acceptance, self.draft_tokens, self.draft_cost_ratio)["tokens_per_step"]

    def steps_for(self, output_tokens: int) -> int:
        """Decode iterations (counting the prefill's token as the first) for ``output_tokens``."""
        if output_tokens <= 1:
            return output_tokens
        return 1 + math.ceil((output_tokens - 1) / self.tokens_per_step)


@dataclass(frozen=True, slots=True)
class SpeculativeStep:
    """A step model whose decoding sequences verify ``k`` drafted tokens each step. The
    simulator does not say which of a step's logits come from decoding sequences; all of them
    are counted as decoding (a prompt finishing in the step is charged k tokens it does not
    verify, a small overestimate)."""

    base: StepModel
    spec: Speculation

    @property
    def window(self) -> int | None:
        return self.base.window

    def seconds(self, tokens: int, logits: int, span_full: float, span_window: float, kv_full: float,
                kv_window: float, sequences: int = 0) -> float:
        k = self.spec.draft_tokens
        verify = self.base.seconds(tokens + k * logits, logits * (k + 1), span_full + k * kv_full,
                                   span_window + k * kv_window, kv_full, kv_window, sequences)
        if not self.spec.draft_cost_ratio:
            return verify
        plain = self.base.seconds(tokens, logits, span_full, span_window, kv_full, kv_window, sequences)
        return verify + k * self.spec.draft_cost_ratio * plain
