"""`kv.kv_bytes` sums over groups of like layers (`_layer_groups`); it must equal, float for float,
the plain sum over every layer, written out here, for every model of the knowledge base."""

from __future__ import annotations

import dataclasses
import itertools
import math

import pytest

import inferbook
from inferbook.calc import kv
from inferbook.schema.models import ATTENTION_KINDS, STATE_KINDS


def per_layer(arch, tokens: int, bits: float, batch: int, tp: int, pp: int, state: bool,
              state_bits: float) -> tuple[float, float, float, int, float]:
    """The KV breakdown summed layer by layer: (total, fullest stage, unique, cached layers, state)."""
    gpu_elems, group_elems = kv._elements_per_token_per_layer(arch, tp)
    unique_elems, _ = kv._elements_per_token_per_layer(arch, 1)
    per_stage = math.ceil(arch.layers / pp)
    indexer = kv.indexer_key_bytes(arch)
    on = state and tokens > 0
    total = unique = state_total = 0.0
    stages = [0.0] * pp
    for i, kind in enumerate(kv.layer_kinds(arch)):
        cached = kv._cached_tokens(kind, arch, tokens) * batch
        total += cached * group_elems * bits / 8
        unique += cached * unique_elems * bits / 8
        stages[i // per_stage] += cached * gpu_elems * bits / 8
        if indexer and kind in ATTENTION_KINDS:
            total += cached * indexer * tp
            unique += cached * indexer
            stages[i // per_stage] += cached * indexer
        if on and kind in STATE_KINDS:
            one_gpu, group = kv._state_elements(arch, tp, kind, state_bits)
            alone = kv._state_elements(arch, 1, kind, state_bits)[0]
            total += batch * group * state_bits / 8
            unique += batch * alone * state_bits / 8
            state_total += batch * alone * state_bits / 8
            stages[i // per_stage] += batch * one_gpu * state_bits / 8
    return total, max(stages), unique, sum(1 for k in kv.layer_kinds(arch) if k in ATTENTION_KINDS), state_total


@pytest.fixture(scope="module")
def models():
    return inferbook.load().models


def test_grouped_sums_equal_the_sum_over_layers(models):
    cases = list(itertools.product([0, 1, 4097, 131_072], [16.0, 8.0, 4.25], [1, 3], [1, 8], [1, 3], [False, True]))
    checked = 0
    for model in models.values():
        arch = model.architecture
        for tokens, bits, batch, tp, pp, state in cases:
            if pp > arch.layers:
                continue
            got = dataclasses.astuple(kv.kv_bytes(arch, tokens, bits, batch, tp, pp, state))
            assert got == per_layer(arch, tokens, bits, batch, tp, pp, state, 16.0), (model.id, tokens, bits, batch,
                                                                                       tp, pp, state)
            checked += 1
    assert checked > 100 * len(cases)
