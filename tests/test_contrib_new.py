"""`inferbook new`: a skeleton of every kind with the pragma, every field and a comment
for each, in canonical format, that fails lint until its placeholders are filled in."""

from __future__ import annotations

import datetime as dt

import pytest

from inferbook.cli import main
from inferbook.contrib.fmt import format_text
from inferbook.contrib.lint import lint
from inferbook.contrib.new import EXPECTED_SOURCES, skeleton
from inferbook.schema import KINDS
from inferbook.yamlio import parse_text

TODAY = dt.date(2026, 11, 27)


@pytest.mark.parametrize("kind", list(KINDS))
def test_skeleton_has_every_field_explained(kind):
    text = skeleton(kind, "new-entry", today=TODAY)
    lines = text.splitlines()
    assert lines[0] == f"# yaml-language-server: $schema=../../schema/{kind}.schema.json"
    assert format_text(text, kind) == text  # already canonical
    data = parse_text(text).data
    fields = [f for f in KINDS[kind].model_fields if not (kind == "redirects" and f == "aliases")]
    assert list(data) == [f for f in fields if f != "last_reviewed"] + ["last_reviewed"]
    for field in fields:
        at = lines.index(next(line for line in lines if line.startswith(f"{field}:")))
        assert lines[at - 1].startswith("# "), f"{field} has no comment above it"
    assert data["id"] == "new-entry" and data["last_reviewed"] == TODAY
    assert EXPECTED_SOURCES[kind].split()[0] in text


def test_nested_fields_and_model_conventions():
    text = skeleton("models", "foo-7b", title="Foo 7B", today=TODAY)
    data = parse_text(text).data
    assert data["title"] == "Foo 7B" and data["config_source"] == "hf-config-foo-7b"
    assert "num_hidden_layers" in text and data["architecture"]["layers"] is None
    assert "# attention (required): Attention type. One of: mha, gqa, mqa, mla." in text
    gpu = parse_text(skeleton("gpus", "x100", today=TODAY)).data
    assert set(gpu["dense"]) == set(KINDS["gpus"].model_fields["dense"].annotation.model_fields)
    concept = skeleton("concepts", "idea", today=TODAY)
    assert "body: |\n  TODO: write the text in Markdown\n" in concept
    with pytest.raises(ValueError):
        skeleton("gpus", "Bad_Id")


def test_new_command(tmp_path, capsys):
    kb = tmp_path / "kb"
    assert main(["new", "concepts", "idea", "--kb", str(kb), "--title", "An idea", "--today", "2026-11-27"]) == 0
    path = kb / "concepts" / "idea.yaml"
    out, err = capsys.readouterr()
    assert out.strip() == str(path) and "inferbook lint" in err
    assert main(["fmt", "--check", str(path)]) == 0
    capsys.readouterr()
    result = lint([kb], today=TODAY)
    assert result.errors  # placeholders and unknown ids block it
    assert {"IB305", "IB201"} <= {d.code for d in result.errors}
    assert main(["new", "concepts", "idea", "--kb", str(kb)]) == 1
    assert main(["new", "concepts", "idea", "--kb", str(kb), "--force"]) == 0
    assert main(["new", "concepts", "Bad Id", "--kb", str(kb)]) == 2
    capsys.readouterr()
    assert main(["new", "gpus", "x100", "--stdout"]) == 0
    assert capsys.readouterr().out.startswith("# yaml-language-server: $schema=../../schema/gpus.schema.json")
