"""`inferbook fmt`: canonical key order, quoting and list order; comments kept and moved
with their keys; the pragma added; idempotent; `--check` for CI; never changes data."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from inferbook.cli import main
from inferbook.contrib.fmt import FormatError, comments, format_file, format_text, kind_of_path, plain_ok
from inferbook.paths import default_kb_dir
from inferbook.yamlio import parse_text

MESSY = """\
# A header comment about this GPU.
title: 'Example X100'   # display name
id: x100
last_reviewed: 2026-11-01
# the datasheet
source: docs
vendor: nvidia
architecture: hopper
form_factor: sxm
market: datacenter
release_date: '2024-03'
memory_gib: 80
memory_type: HBM3
memory_bandwidth_gb_s: {note: "rounded", value: 3350}
dense:
  # FP8 first on the sheet
  fp8_tflops: 1979
  bf16_tflops: 989.5   # halved
supported_formats: [bf16]
sources:
  - note: about the bus
    source: docs   # same doc
  - docs
notes: It's "fast".
"""

CANONICAL = """\
# yaml-language-server: $schema=../../schema/gpus.schema.json
# A header comment about this GPU.
id: x100
title: "Example X100"   # display name
vendor: nvidia
architecture: hopper
form_factor: sxm
market: datacenter
release_date: "2024-03"
# the datasheet
source: docs
memory_gib: 80
memory_type: "HBM3"
memory_bandwidth_gb_s: {value: 3350, note: "rounded"}
dense:
  bf16_tflops: 989.5   # halved
  # FP8 first on the sheet
  fp8_tflops: 1979
supported_formats: [bf16]
sources:
  - source: docs   # same doc
    note: "about the bus"
  - docs
notes: "It's \\"fast\\"."
last_reviewed: 2026-11-01
"""


def test_canonical_layout_keeps_comments():
    out = format_text(MESSY, "gpus")
    assert out == CANONICAL
    assert format_text(out, "gpus") == out
    assert comments(out) == comments(MESSY)
    assert parse_text(out).data == parse_text(MESSY).data


def test_quoting_follows_the_field_type():
    text = """\
id: int8
title: Int8
summary: 'Eight-bit integers: the classic weight format.'
category: integer
bits_per_value: 8
effective_bits_per_weight: 8
used_for: [training, weights]
native_tensor_core: [hopper, 'ampere', turing]
body: |
  # Not a comment: block text is kept as written.
sources:
  - source: "spec"
    locator: 'p. 3, "Table 1"'
last_reviewed: 2026-11-01
"""
    out = format_text(text, "formats")
    assert 'title: "Int8"' in out
    assert 'summary: "Eight-bit integers: the classic weight format."' in out
    assert "used_for: [weights, training]" in out  # schema order of the fixed set
    assert "native_tensor_core: [turing, ampere, hopper]" in out
    assert "  # Not a comment: block text is kept as written." in out
    assert "  - source: spec\n    locator: 'p. 3, \"Table 1\"'" in out  # single quotes avoid escapes
    assert format_text(out, "formats") == out


def test_plain_ok():
    assert plain_ok("hopper", flow=True) and plain_ok("https://x.org/a", flow=False)
    for text in ("2024", "no", "1e3", "a: b", "a, b", "", " x", "null", "010", "#x", "2024-01-01"):
        assert not plain_ok(text, flow=True), text


def test_refuses_files_it_cannot_format_safely(tmp_path):
    with pytest.raises(FormatError, match="line 2"):
        format_text("id: x\nvalue: no\n", "gpus")
    with pytest.raises(FormatError):
        format_text("id: x\n", "nonsense")
    bad = tmp_path / "kb" / "gpus" / "x.yaml"
    bad.parent.mkdir(parents=True)
    bad.write_text("id: [unclosed\n")
    result = format_file(bad)
    assert result.error and not result.changed
    assert kind_of_path(tmp_path / "x.yaml") is None


def test_fmt_command_check_and_rewrite(tmp_path, capsys):
    kb = tmp_path / "kb"
    (kb / "gpus").mkdir(parents=True)
    path = kb / "gpus" / "x100.yaml"
    path.write_text(MESSY)
    assert main(["fmt", "--check", "--diff", str(kb)]) == 1
    out, err = capsys.readouterr()
    assert f"would reformat {path}" in out and "+title: \"Example X100\"" in out and "1 would be reformatted" in err
    assert path.read_text() == MESSY
    assert main(["fmt", "--kb", str(kb)]) == 0
    assert path.read_text() == CANONICAL
    assert not list(path.parent.glob(".*.tmp"))
    assert main(["fmt", "--check", str(path)]) == 0
    assert main(["fmt", "--check", str(tmp_path / "missing")]) == 2
    path.write_text("id: x\nvalue: no\n")
    assert main(["fmt", str(kb)]) == 1
    assert "cannot format" in capsys.readouterr().err and path.read_text() == "id: x\nvalue: no\n"


def test_real_kb_sample_round_trips():
    """A sample of the real entries (all of them run in CI's `inferbook fmt --check`):
    formatting keeps data and comments and is stable."""
    files = sorted(p for p in default_kb_dir().glob("*/*.yaml"))
    by_kind: dict[str, list[Path]] = {}
    for p in files:
        by_kind.setdefault(p.parent.name, []).append(p)
    rng = random.Random(7)
    sample = [p for group in by_kind.values() for p in rng.sample(group, min(6, len(group)))]
    for path in sample:
        result = format_file(path)
        assert result.error is None, (path, result.error)
        assert result.formatted is not None
        assert format_text(result.formatted, path.parent.name) == result.formatted, path


def test_ordered_lists_keep_their_order():
    text = """\
id: m
title: M
family: M
organization: O
release_date: "2025"
license: L
hf_repo: o/m
params_total_b: 1
architecture:
  layers: 2
  hidden_size: 64
  attention_heads: 1
  kv_heads: 1
  head_dim: 64
  intermediate_size: 128
  vocab_size: 256
  context_length: 512
  tie_word_embeddings: true
  attention: mha
  layer_pattern: [sliding, full]  # order matters: the pattern repeats from the first layer
  sliding_window: 128
native_dtype: bf16
config_source: c
source: s
last_reviewed: 2026-11-01
"""
    assert "layer_pattern: [sliding, full]" in format_text(text, "models")
