"""The strict YAML reader: YAML 1.1 traps, duplicates, aliases, encodings."""

from __future__ import annotations

import datetime as dt

import pytest

from inferbook.yamlio import MAX_FILE_BYTES, YamlError, parse_text, read_file


def test_core_schema_scalars():
    doc = parse_text("a: 1\nb: 1e3\nc: 2024-01-02\nd: 'no'\ne: [1, 2.5, -0.5]\nf: true\ng: ~\nh: 1_000\n")
    assert doc.data == {"a": 1, "b": 1000.0, "c": dt.date(2024, 1, 2), "d": "no", "e": (1, 2.5, -0.5),
                        "f": True, "g": None, "h": 1000}


def test_sequences_become_tuples_and_marks_are_recorded():
    doc = parse_text("top:\n  list:\n    - u\n    - v\n")
    assert doc.data["top"]["list"] == ("u", "v")
    assert doc.locate(("top", "list", 1)).line == 4
    assert doc.locate(("top", "list", 1)).col == 7
    assert doc.locate(("top", "missing")).line == 2  # falls back to the parent value


@pytest.mark.parametrize(
    ("text", "line", "col", "fragment"),
    [
        ("a: no\n", 1, 4, "YAML 1.1 reads it as a boolean"),
        ("a: 1\nb: On\n", 2, 4, "boolean"),
        ("a: 010\n", 1, 4, "leading zero"),
        ("a: 0x1F\n", 1, 4, "reads it as a number"),
        ("a: 12:30\n", 1, 4, "reads it as a number"),
        ("a: .inf\n", 1, 4, "non-finite"),
        ("a: 2024-02-30\n", 1, 4, "invalid date"),
        ("a: 2024-01-01T10:00:00\n", 1, 4, "timestamps"),
        ("a: 1\na: 2\n", 2, 1, "duplicate key 'a' (first defined at line 1)"),
        ("x:\n  a: 1\n  b: 2\n  a: 3\n", 4, 3, "duplicate key"),
        ("a: &x [1]\nb: *x\n", 2, 1, "aliases"),
        ("a: !!python/object:os.system x\n", 1, 4, "explicit tag"),
        ("a: [\n", 2, 1, "YAML syntax error"),
        ("- 1\n- 2\n", 1, 1, "top level must be a mapping"),
        ("", 1, 1, "file is empty"),
        ("a: 1\n---\nb: 2\n", 2, 1, "more than one YAML document"),
        ("a:\n\tb: 1\n", 2, 1, "tab character"),
        ("? [a, b]\n: 1\n", 1, 3, "keys must be plain text"),
        ("base: {a: 1}\nx:\n  <<: {a: 2}\n", 3, 3, "merge keys"),
    ],
)
def test_rejections_name_line_and_column(text, line, col, fragment):
    with pytest.raises(YamlError) as info:
        parse_text(text)
    assert fragment in info.value.message
    assert (info.value.line, info.value.col) == (line, col)


def test_billion_laughs_is_rejected_quickly():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(YamlError, match="aliases"):
        parse_text("\n".join(lines) + "\n")


def test_bom_and_bad_utf8(tmp_path):
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbfa: 1\n")
    with pytest.raises(YamlError, match="byte-order mark"):
        read_file(bom)
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(YamlError) as info:
        read_file(bad)
    assert (info.value.line, info.value.col) == (2, 7)
    assert "not valid UTF-8" in info.value.message


def test_size_limit(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: '" + b"x" * MAX_FILE_BYTES + b"'\n")
    with pytest.raises(YamlError, match="limit is"):
        read_file(big)


def test_quoted_values_stay_text():
    doc = parse_text("a: '1'\nb: \"2024-01-01\"\nc: 'yes'\nd: |\n  010\n")
    assert doc.data == {"a": "1", "b": "2024-01-01", "c": "yes", "d": "010\n"}
