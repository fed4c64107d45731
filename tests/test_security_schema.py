"""Hostile values that the bad-input corpus cannot hold as committed files, or that reach
the schema without YAML: anchored patterns, text and number checks for Python and JSON
callers, bounds on every numeric field, symbolic links and FIFOs in a knowledge-base
folder, and ids that `inferbook new` and `inferbook rename` must refuse."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from pathlib import Path

import pytest
from conftest import concept
from pydantic import TypeAdapter, ValidationError

from inferbook.api import validate
from inferbook.cli import main
from inferbook.contrib.new import skeleton
from inferbook.contrib.redirects import RenameError, rename
from inferbook.jsonschema import schema_text
from inferbook.schema import KINDS, Concept, Gpu
from inferbook.schema.base import EntryId, FieldCitation, PartialDate, Url, slug_ok
from inferbook.yamlio import YamlError, parse_text

BASE = Path(__file__).parent / "bad_inputs" / "_base"

CONCEPT = {"id": "c", "title": "C", "summary": "A concept for the tests.", "chapter": "ch1", "body": "Text.",
           "sources": ["src"], "last_reviewed": dt.date(2026, 11, 27)}
GPU = {"id": "g", "title": "G", "vendor": "nvidia", "architecture": "hopper", "form_factor": "sxm",
       "market": "datacenter", "release_date": "2022", "source": "src", "memory_gib": 80, "memory_type": "HBM3",
       "memory_bandwidth_gb_s": 3350, "dense": {"bf16_tflops": 989.5}, "last_reviewed": dt.date(2026, 11, 27)}


def errors(model: type, data: dict) -> list[tuple[str, str]]:
    """(dotted location, message) of each error of a Python caller's ``data``."""
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in info.value.errors(include_url=False)]


# patterns are full matches ---------------------------------------------------------------
@pytest.mark.parametrize(("kind", "good"), [(EntryId, "abc"), (PartialDate, "2024-05"),
                                            (Url, "https://example.org/x")])
def test_pattern_types_refuse_a_trailing_newline(kind, good):
    adapter = TypeAdapter(kind)
    assert adapter.validate_python(good) == good
    with pytest.raises(ValidationError, match="String should match pattern"):
        adapter.validate_python(good + "\n")


def test_slug_ok_and_field_paths_refuse_a_trailing_newline():
    assert slug_ok("abc") and not slug_ok("abc\n") and not slug_ok("abc\n\n")
    with pytest.raises(ValidationError, match="String should match pattern"):
        FieldCitation.model_validate({"field": "memory_bus_bits\n", "source": "src"})


# text ------------------------------------------------------------------------------------
def test_every_string_is_checked_for_python_and_json_callers():
    assert errors(Concept, {**CONCEPT, "aliases": ["H100\u200b"]}) == [
        ("aliases", "U+200B ZERO WIDTH SPACE is not allowed")]
    assert errors(Concept, {**CONCEPT, "title": "x\x1b[2J"}) == [
        ("title", "control character U+001B (escape) is not allowed")]
    assert errors(Concept, {**CONCEPT, "summary": "A summary\u202e of ten"}) == [
        ("summary", "U+202E RIGHT-TO-LEFT OVERRIDE is not allowed")]
    assert errors(Concept, {**CONCEPT, "faq": [{"q": "Why\u2066?", "a": "Because."}]}) == [
        ("faq.0.q", "U+2066 LEFT-TO-RIGHT ISOLATE is not allowed")]
    # a tuple item's index travels in the error context for the loader's location
    with pytest.raises(ValidationError) as info:
        Concept.model_validate({**CONCEPT, "aliases": ["ok", "b\tc"]})
    [err] = info.value.errors()
    assert err["ctx"]["at"] == "1" and err["ctx"]["got"] == "b\tc"
    assert err["msg"] == "control character U+0009 (tab) is not allowed in a single-line field"


def test_line_breaks_only_in_multiline_prose():
    ok = Concept.model_validate({**CONCEPT, "body": "One.\n\n\tcode\n", "faq": [{"q": "Q?", "a": "A.\nB.\n"}]})
    assert ok.body == "One.\n\n\tcode\n"
    assert errors(Concept, {**CONCEPT, "body": "One.\r\nTwo."}) == [
        ("body", "control character U+000D (carriage return) is not allowed")]
    assert errors(Concept, {**CONCEPT, "title": "Two\nlines"}) == [
        ("title", "control character U+000A (line break) is not allowed in a single-line field")]
    assert errors(Concept, {**CONCEPT, "summary": "A summary of a concept.\n"}) == [
        ("summary", "control character U+000A (line break) is not allowed in a single-line field")]


@pytest.mark.parametrize(("text", "col", "message"), [
    ('a: "x\\0"\n', 4, "control character U+0000 is not allowed, even written as an escape"),
    ('"k\\u2067": 1\n', 1, "U+2067 RIGHT-TO-LEFT ISOLATE is not allowed in a key"),
    ("a: x\u00ady\n", 5, "U+00AD SOFT HYPHEN is not allowed"),
    ("# comment \u202e\na: 1\n", 11, "U+202E RIGHT-TO-LEFT OVERRIDE is not allowed"),
    ("a: \x85\n", 4, "control character U+0085 is not allowed"),
])
def test_reader_refuses_characters_anywhere(text, col, message):
    with pytest.raises(YamlError) as info:
        parse_text(text)
    assert (info.value.line, info.value.col, info.value.message) == (1, col, message)


@pytest.mark.parametrize(("text", "message"), [
    ('"ti\\ntle": x\n', "control character U+000A (line break) is not allowed in a key"),
    ("ti\ttle: x\n", "control character U+0009 (tab) is not allowed in a key"),
])
def test_keys_are_single_line(text, message):
    with pytest.raises(YamlError) as info:
        parse_text(text)
    assert (info.value.line, info.value.col, info.value.message) == (1, 1, message)


def test_layer_file_values_are_single_line(tmp_path, capsys, monkeypatch):
    kb = _case(tmp_path)
    (kb / "_layer.yaml").write_text('name: "two\\nlines"\nreplaces: ["ok", "bad\\n"]\n')
    assert _findings(kb, capsys, monkeypatch) == [
        "_layer.yaml:1:1: IB101 name: control character U+000A (line break) is not allowed in a single-line field",
        "_layer.yaml:2:1: IB101 replaces must be a list of ids",
    ]


def test_reader_keeps_crlf_line_ends_and_tabs_in_text():
    assert parse_text("a: 1\r\nb: |\r\n  x\ty\r\n").data == {"a": 1, "b": "x\ty\n"}


# numbers ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("literal", "message"), [
    ("1e999", "number '1e999' is out of range: at most 1e18 in magnitude"),
    ("-1e19", "number '-1e19' is out of range: at most 1e18 in magnitude"),
    ("1e-400", "number '1e-400' is too close to zero: at least 1e-18 in magnitude"),
    ("1234567890123456789", "number '1234567890123456789' has 19 digits; at most 18 are allowed"),
    ("1_000_000_000_000_000_000", "number '1_000_000_000_000_000_000' has 19 digits; at most 18 are allowed"),
])
def test_reader_refuses_numbers_out_of_range(literal, message):
    with pytest.raises(YamlError) as info:
        parse_text(f"a: {literal}\n")
    assert info.value.message == message


def test_reader_accepts_numbers_at_the_limits():
    data = parse_text("a: 999999999999999999\nb: 1e18\nc: 1e-18\nd: 0.0e-999\n").data
    assert data == {"a": 999_999_999_999_999_999, "b": 1e18, "c": 1e-18, "d": 0.0}


def test_non_finite_numbers_are_refused_without_yaml():
    with pytest.raises(ValidationError, match="finite number"):
        Gpu.model_validate({**GPU, "memory_gib": {"value": float("inf")}})
    assert errors(Gpu, {**GPU, "memory_bandwidth_gb_s": -0.0}) == [
        ("memory_bandwidth_gb_s", "Input should be greater than 0")]


def test_python_ints_beyond_any_float_are_refused_not_raised():
    assert errors(Gpu, {**GPU, "memory_gib": 10**1000}) == [("memory_gib.value", "Input should be a valid number")]
    assert errors(Gpu, {**GPU, "memory_bus_bits": 10**5000}) == [
        ("memory_bus_bits", "Input should be less than or equal to 16384")]


def _numbers(node: object, path: str = "") -> list[tuple[str, dict]]:
    """Every number schema in a JSON Schema, with where it stands."""
    found = []
    if isinstance(node, dict):
        if node.get("type") in ("number", "integer"):
            found.append((path, node))
        for key, value in node.items():
            found += _numbers(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _numbers(value, f"{path}/{i}")
    return found


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_numeric_field_has_both_bounds(kind):
    # Quantity.value and Alternative.value are shared by all sourced numbers; each field's
    # `sourced(...)` type checks them against its own bounds.
    shared = ("/$defs/Quantity/properties/value", "/$defs/Alternative/properties/value")
    for path, node in _numbers(json.loads(schema_text(kind))):
        if path in shared:
            continue
        assert "minimum" in node or "exclusiveMinimum" in node, path
        assert "maximum" in node or "exclusiveMaximum" in node, path


def test_alternatives_are_bounded_like_their_field():
    alternative = {"value": 2e6, "source": "src", "note": "a misprint"}
    assert errors(Gpu, {**GPU, "memory_bandwidth_gb_s": {"value": 3350, "alternatives": [alternative]}}) == [
        ("memory_bandwidth_gb_s", "Input should be less than or equal to 1000000")]


# symbolic links and special files ----------------------------------------------------------
def _case(tmp_path: Path) -> Path:
    kb = tmp_path / "case"
    (kb / "concepts").mkdir(parents=True)
    (kb / "concepts" / "bad.yaml").write_text(concept("bad", related="[base-concept]"))
    return kb


def _findings(kb: Path, capsys, monkeypatch) -> list[str]:
    monkeypatch.chdir(kb)
    code = main(["validate", "--kb", str(BASE), "."])
    out = capsys.readouterr().out
    assert code == 1
    return [line for line in out.splitlines() if " warning: " not in line]


def test_symbolic_links_are_refused_and_never_followed(tmp_path, capsys, monkeypatch):
    kb = _case(tmp_path)
    secret = tmp_path / "secret.yaml"
    secret.write_text(concept("secret"))
    (kb / "concepts" / "secret.yaml").symlink_to(secret)  # a file outside the layer
    (kb / "concepts" / "copy.yaml").symlink_to("bad.yaml")  # a file inside it
    (kb / "concepts" / "loop.yaml").symlink_to("loop.yaml")  # a loop
    (kb / "gpus").symlink_to(BASE / "gpus", target_is_directory=True)  # a kind folder
    (kb / "_layer.yaml").symlink_to(tmp_path / "missing.yaml")  # a dangling layer file
    hint = " (replace the link with the file or folder itself)"
    assert _findings(kb, capsys, monkeypatch) == [
        "_layer.yaml:1:1: IB007 symbolic link pointing outside the knowledge base: it is not followed" + hint,
        "concepts/copy.yaml:1:1: IB007 symbolic link: links are not followed, even to files inside the "
        "knowledge base" + hint,
        "concepts/loop.yaml:1:1: IB007 symbolic link: links are not followed, even to files inside the "
        "knowledge base" + hint,
        "concepts/secret.yaml:1:1: IB007 symbolic link pointing outside the knowledge base: it is not followed"
        + hint,
        "gpus:1:1: IB007 symbolic link pointing outside the knowledge base: it is not followed" + hint,
    ]


def test_a_linked_file_named_on_the_command_line_is_refused(tmp_path, capsys, monkeypatch):
    _case(tmp_path)
    outside = tmp_path / "elsewhere" / "concepts"
    outside.mkdir(parents=True)
    (outside / "x.yaml").symlink_to(tmp_path / "secret.yaml")
    (tmp_path / "secret.yaml").write_text(concept("x"))
    monkeypatch.chdir(tmp_path)
    code = main(["validate", "--kb", str(BASE), "case", "elsewhere/concepts/x.yaml"])
    out = capsys.readouterr().out
    assert code == 1
    assert ("elsewhere/concepts/x.yaml:1:1: IB007 symbolic link: entry files are not read through links "
            "(replace the link with the file or folder itself)") in out.splitlines()


def _without_blocking(function, *args):
    """Run ``function`` in a thread; fail (rather than hang) if it has not returned in 20 s."""
    result: list = []
    thread = threading.Thread(target=lambda: result.append(function(*args)), daemon=True)
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), "blocked on a special file"
    return result[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifos_are_refused_without_being_opened(tmp_path):
    kb = _case(tmp_path)
    os.mkfifo(kb / "concepts" / "pipe.yaml")
    os.mkfifo(kb / "_layer.yaml")
    os.mkfifo(tmp_path / "lone.yaml")
    result = _without_blocking(validate, [BASE, kb])
    found = sorted((Path(d.file).name, d.code, d.message) for d in result.errors)
    assert found == [("_layer.yaml", "IB008", "not a regular file but a named pipe (FIFO); it is not opened"),
                     ("pipe.yaml", "IB008", "not a regular file but a named pipe (FIFO); it is not opened")]
    from inferbook.loader import load_file

    loaded, diags = _without_blocking(load_file, tmp_path / "lone.yaml", "concepts")
    assert loaded is None and [d.code for d in diags] == ["IB008"]


def test_hostile_file_names_are_printed_escaped(tmp_path, capsys, monkeypatch):
    kb = _case(tmp_path)
    (kb / "concepts" / "x\x1b[2J.yaml").write_text(concept("x"))
    found = _findings(kb, capsys, monkeypatch)
    assert found == ["concepts/x\\x1b[2J.yaml:1:1: IB003 file name 'x\\x1b[2J.yaml' is not a valid id "
                     "(use lower-case letters, digits and single '-' or '.', e.g. h100-sxm.yaml)"]


# new and rename ------------------------------------------------------------------------------
@pytest.mark.parametrize("eid", ["abc\n", "abc\n\n", "ABC", "a b", "a\u200bb", ""])
def test_new_refuses_invalid_ids(eid):
    with pytest.raises(ValueError, match="is not a valid id"):
        skeleton("concepts", eid)


def test_new_quotes_the_title_and_refuses_hidden_characters():
    text = skeleton("concepts", "x", title='Say "hi"\\ now')
    assert parse_text(text).data["title"] == 'Say "hi"\\ now'
    with pytest.raises(ValueError, match=r"U\+202E RIGHT-TO-LEFT OVERRIDE is not allowed"):
        skeleton("concepts", "x", title="evil\u202e")
    with pytest.raises(ValueError, match=r"control character U\+000A \(line break\) is not allowed"):
        skeleton("concepts", "x", title="two\nsource: injected")


@pytest.fixture
def named_kb(make_kb):
    return make_kb({
        "concepts/alpha.yaml": concept("alpha", title="Delta", aliases="[AL, ＢＥＴＡ]"),
        "concepts/gamma.yaml": concept("gamma", title="Gamma", related="[alpha]"),
    })


@pytest.mark.parametrize(("new", "message"), [
    ("al", "'al' is already the alias 'AL' of 'alpha'"),
    ("beta", "'beta' is already the alias 'ＢＥＴＡ' of 'alpha'"),
    ("alpha", "id 'alpha' is already used by"),
    ("delta", "'delta' is already the title 'Delta' of 'alpha'"),
    ("gamma\n", "'gamma\\n' is not a valid id"),
    ("Gamma", "'Gamma' is not a valid id"),
])
def test_rename_refuses_names_that_are_taken_or_invalid(named_kb, new, message):
    with pytest.raises(RenameError) as info:
        rename("gamma", new, [named_kb], "test")
    assert message in str(info.value)
    assert (named_kb / "concepts" / "gamma.yaml").exists() and not (named_kb / "redirects").exists()


def test_rename_to_its_own_alias_is_allowed(named_kb):
    result = rename("alpha", "al", [named_kb], "test")  # still one entry behind the name
    assert result.moved_to.name == "al.yaml"
    assert validate(named_kb).errors == []
