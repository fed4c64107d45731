"""Private folders over the built-in knowledge base: `--kb mine` layers, `--no-builtin`,
$INFERBOOK_KB, a folder named twice, nothing written into the installed package or the
built-in KB, lint settings per layer, and the cache of loaded knowledge bases."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import concept, write_kb

import inferbook
import inferbook.api as api
from inferbook.cli import main
from inferbook.contrib.lint import lint

ROOT = Path(__file__).resolve().parent.parent

GPU = """\
id: acme-x1
title: "ACME X1 96GB"
vendor: other
architecture: hopper
form_factor: sxm
market: datacenter
release_date: "2026-01"
source: acme-x1-datasheet
memory_gib: 96
memory_type: HBM3
memory_bandwidth_gb_s: 4000
dense:
  bf16_tflops: 900
supported_formats: [bf16, fp8-e4m3]
last_reviewed: 2026-11-27
"""

DATASHEET = """\
id: acme-x1-datasheet
title: "ACME X1 datasheet"
kind: datasheet
url: {url}
publisher: "ACME"
accessed: 2026-11-27
last_reviewed: 2026-11-27
"""


@pytest.fixture(autouse=True)
def no_folders_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No knowledge-base folders from the environment, and the cache on. The cache is the test
    run's (tests/conftest.py), shared by the tests that do not look into it: warm, as a user's
    would be, and it must give the same results as a cold one."""
    monkeypatch.delenv("INFERBOOK_NO_CACHE", raising=False)
    monkeypatch.delenv("INFERBOOK_KB", raising=False)


@pytest.fixture
def environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder of the test's own, for tests that look at what is cached."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("INFERBOOK_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def private(tmp_path: Path) -> Path:
    """A private layer: a GPU that names the built-in bf16 format, and its source."""
    return write_kb(tmp_path / "private", {
        "gpus/acme-x1.yaml": GPU,
        "sources/acme-x1-datasheet.yaml": DATASHEET.format(url="https://acme.example.com/x1.pdf"),
        "_layer.yaml": "name: acme\n",
    }, base=False)


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def digest(root: Path) -> str:
    """One hash over the relative paths and bytes of every file under ``root``."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


# layering -------------------------------------------------------------------------------
def test_private_layer_sits_on_the_builtin_kb(capsys, private):
    kb = inferbook.load(private, builtin=True)
    gpu = kb.gpus["acme-x1"]
    assert "bf16" in gpu.supported_formats and kb.formats["bf16"].id == "bf16"
    assert "h100-sxm" in kb.gpus and kb.data_version.endswith("+acme")
    assert inferbook.load(private, builtin=None).get("acme-x1").id == "acme-x1"  # a layer: no chapters/
    code, out, _ = run(capsys, "show", "acme-x1", "--kb", private, "--json")
    assert code == 0 and json.loads(out)["supported_formats"] == ["bf16", "fp8-e4m3"]
    code, out, _ = run(capsys, "show", "bf16", "--kb", private)
    assert code == 0 and "acme-x1" in out  # the built-in entry sees the private backlink
    code, out, err = run(capsys, "validate", "--kb", private)
    assert code == 0 and "0 error(s), 0 warning(s)" in err  # the built-in KB's own warnings are not yours
    code, _, err = run(capsys, "validate", private)  # a folder path layers the same way
    assert code == 0, err
    code, out, _ = run(capsys, "list", "gpus", "--kb", private, "--where", "vendor=other", "--json")
    assert code == 0 and [r["id"] for r in json.loads(out)] == ["acme-x1"]


def test_no_builtin_loads_the_folder_alone(capsys, private):
    code, _, err = run(capsys, "show", "acme-x1", "--kb", private, "--no-builtin")
    assert code == 1 and "IB201" in err and "'bf16'" in err
    code, out, _ = run(capsys, "validate", "--kb", private, "--no-builtin")
    assert code == 1 and "IB201 supported_formats.0: unknown id 'bf16'" in out
    with pytest.raises(inferbook.KnowledgeBaseError):
        inferbook.load(private)  # the API loads exactly the folders given unless asked


def test_complete_folders_are_not_layered(capsys, make_kb, tmp_path):
    standalone = make_kb({"concepts/a.yaml": concept("a")})  # has chapters/: a whole knowledge base
    assert api.kb_folders([standalone], builtin=None) == [standalone]
    code, out, _ = run(capsys, "list", "gpus", "--kb", standalone)
    assert code == 1 and out == ""
    forced = make_kb({"concepts/b.yaml": concept("b")})
    (forced / "_layer.yaml").write_text("name: forced\nbase: false\n")
    assert api.kb_folders([forced], builtin=None) == [api.default_kb_dir(), forced]
    whole = make_kb({}, base=False)
    (whole / "_layer.yaml").write_text("base: true\n")
    assert api.kb_folders([whole], builtin=None) == [whole]
    (whole / "_layer.yaml").write_text("base: maybe\n")
    [diag] = inferbook.validate(whole).errors
    assert diag.code == "IB101" and "base must be true or false" in diag.message


def test_environment_variable_names_folders(capsys, private, make_kb, monkeypatch):
    note = concept("zeta-private", chapter="foundations").replace("sources: [src]", "sources: [acme-x1-datasheet]")
    other = make_kb({"concepts/zeta-private.yaml": note}, base=False)
    monkeypatch.setenv("INFERBOOK_KB", os.pathsep.join([str(private), "", str(other)]))
    assert api.env_folders() == [private, other]
    code, out, _ = run(capsys, "show", "acme-x1", "--json")
    assert code == 0 and json.loads(out)["id"] == "acme-x1"
    code, out, _ = run(capsys, "show", "zeta-private", "--json")
    assert code == 0 and json.loads(out)["chapter"] == "foundations"
    code, out, _ = run(capsys, "version", "--json")
    assert code == 0 and json.loads(out)["data_version"].endswith("+acme+" + other.name)
    standalone = make_kb({"concepts/a.yaml": concept("a")})
    code, _, _ = run(capsys, "show", "acme-x1", "--kb", standalone)  # --kb replaces the variable
    assert code == 1


def test_same_folder_twice_is_loaded_once(capsys, private, make_kb):
    standalone = make_kb({"concepts/a.yaml": concept("a"), "concepts/b.yaml": concept("b", related="[a]")})
    for argv in (["validate", "--kb", standalone, standalone], ["validate", standalone, standalone],
                 ["validate", "--kb", standalone, "--kb", f"{standalone}/../{standalone.name}"]):
        code, out, err = run(capsys, *argv)
        assert code == 0 and "IB103" not in out and "duplicate" not in out, argv
        assert "5 files" in err  # each file read once
    kb = inferbook.load([standalone, standalone])
    assert sorted(kb.concepts) == ["a", "b"]
    assert api.kb_folders([private, private], builtin=True) == [api.default_kb_dir(), private]
    assert api.kb_folders([ROOT / "kb", private], builtin=True) == [ROOT / "kb", private]
    code, _, err = run(capsys, "validate", "--kb", private, private)
    assert code == 0 and "IB103" not in err


# nothing written where it must not be ------------------------------------------------------
@pytest.fixture
def fake_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site-packages folder with an installed package whose built-in KB is a small one."""
    site = tmp_path / "site-packages"
    builtin = write_kb(site / "inferbook" / "_data" / "kb", {
        "concepts/a.yaml": concept("a"), "concepts/b.yaml": concept("b", related="[a]")})
    monkeypatch.setattr(api, "default_kb_dir", lambda: builtin)
    monkeypatch.setattr(api, "in_checkout", lambda: False)
    monkeypatch.setattr(api, "site_dirs", lambda: [site])
    return site


def test_writers_refuse_the_installed_package(capsys, fake_install, tmp_path, monkeypatch):
    builtin = api.default_kb_dir()
    mine = tmp_path / "mine"
    before = (digest(fake_install), digest(ROOT / "kb"))
    refused = [["new", "concepts", "idea", "--today", "2026-11-27"],
               ["new", "concepts", "idea", "--kb", builtin],
               ["new", "concepts", "idea", "--kb", fake_install / "elsewhere"],
               ["fmt"], ["fmt", "--kb", builtin], ["fmt", builtin / "concepts" / "a.yaml"],
               ["rename", "a", "a2"], ["rename", "a", "a2", "--kb", builtin]]
    for argv in refused:
        code, _, err = run(capsys, *argv)
        assert code == 2 and "refusing to write" in err and "--kb DIR" in err, argv
    monkeypatch.setenv("INFERBOOK_KB", str(builtin))
    code, _, err = run(capsys, "new", "concepts", "idea")
    assert code == 2 and "refusing to write" in err
    monkeypatch.delenv("INFERBOOK_KB")
    code, out, _ = run(capsys, "new", "concepts", "idea", "--stdout")
    assert code == 0 and "id: idea" in out  # printing writes nothing
    code, _, _ = run(capsys, "fmt", "--check", "--kb", builtin)
    assert code in (0, 1)  # checking writes nothing
    assert (digest(fake_install), digest(ROOT / "kb")) == before
    assert not mine.exists()
    # the private folder is written, and only it
    write_kb(mine, {"concepts/old.yaml": concept("old", chapter="ch1")}, base=False)
    code, out, _ = run(capsys, "new", "concepts", "idea", "--kb", mine, "--today", "2026-11-27")
    assert code == 0 and (mine / "concepts" / "idea.yaml").is_file()
    code, _, _ = run(capsys, "fmt", "--kb", mine)
    assert code in (0, 1)
    code, _, err = run(capsys, "rename", "old", "new-name", "--kb", mine, "--today", "2026-11-27")
    assert code == 0, err
    assert (mine / "concepts" / "new-name.yaml").is_file() and (mine / "redirects" / "old.yaml").is_file()
    assert (digest(fake_install), digest(ROOT / "kb")) == before


def test_checkout_kb_is_writable_and_installed_data_is_not(tmp_path):
    kb_dir = ROOT / "kb"
    assert api.write_refusal(kb_dir, explicit=True) is None  # a contributor names it: --kb kb
    assert api.write_refusal(kb_dir / "gpus" / "h100-sxm.yaml", explicit=False) is None  # or works in it
    assert api.write_refusal(api.PACKAGE_DIR / "_data") is not None
    assert api.write_refusal(tmp_path / "mine") is None
    for site in api.site_dirs():
        assert api.write_refusal(site / "anything") is not None


# lint per layer --------------------------------------------------------------------------
def test_layer_lint_settings(make_kb, tmp_path):
    public = make_kb({"concepts/a.yaml": concept("a")})
    internal = {"concepts/notes.yaml": concept("notes", chapter="ch1").replace("sources: [src]", "sources: [wiki]"),
                "sources/wiki.yaml": DATASHEET.format(url="https://wiki.internal/acme/x1").replace(
                    "acme-x1-datasheet", "wiki")}
    plain = write_kb(tmp_path / "plain", internal, base=False)
    allowed = write_kb(tmp_path / "allowed", {**internal, "_layer.yaml": "lint: {allowed_hosts: [wiki.internal]}\n"},
                       base=False)
    ignored = write_kb(tmp_path / "ignored", {**internal, "_layer.yaml": "lint: {ignore: [IB302, IB301]}\n"},
                       base=False)

    def findings(private: Path) -> set[tuple[str, str]]:
        """(file name, code) of the IB301/IB302 findings in the private layer's files."""
        result = lint([public, private])
        return {(Path(d.file).name, d.code) for d in result.diagnostics
                if d.code in ("IB301", "IB302") and Path(d.file).resolve().is_relative_to(private)}

    assert findings(plain) == {("wiki.yaml", "IB302"), ("notes.yaml", "IB301")}
    assert findings(allowed) == set() and findings(ignored) == set()
    # the public layer keeps its own rules: its example.org source is still reported
    assert any(d.code == "IB302" and "example.org" in d.message for d in lint([public, allowed]).diagnostics)
    assert any(d.code == "IB302" and "example.org" in d.message for d in lint([public, ignored]).diagnostics)
    (allowed / "_layer.yaml").write_text("lint: {allowed_hosts: [Not A Host], ignore: [IB3x2], select: [IB3]}\n")
    errors = {d.message for d in inferbook.validate([public, allowed]).errors}
    assert any("lint.allowed_hosts" in m for m in errors) and any("lint.ignore" in m for m in errors)
    assert any("lint.select" in m for m in errors)


def test_lint_command_layers_and_reads_layer_settings(capsys, private):
    (private / "sources" / "acme-x1-datasheet.yaml").write_text(DATASHEET.format(url="https://wiki.internal/x1"))
    code, out, _ = run(capsys, "lint", "--kb", private, "--today", "2026-11-27")
    assert "wiki.internal" in out  # the private layer's findings, and only those:
    assert out and not any(line.startswith(("kb/", str(ROOT))) for line in out.splitlines())
    (private / "_layer.yaml").write_text("name: acme\nlint: {allowed_hosts: [wiki.internal]}\n")
    code, out, _ = run(capsys, "lint", "--kb", private, "--today", "2026-11-27")
    assert code == 0 and "wiki.internal" not in out


# the cache -------------------------------------------------------------------------------
@pytest.fixture
def cached(monkeypatch: pytest.MonkeyPatch, environment: Path) -> Path:
    """Cache even tiny folders; the cache folder."""
    monkeypatch.setattr(api, "CACHE_MIN_FILES", 1)
    return environment


@pytest.fixture
def no_parsing(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    """Record every folder the loader reads; the test asserts on the list."""
    import inferbook.loader as loader

    seen: list[Path] = []
    original = loader.load_layer

    def spy(folder: Path, layer: int = 0):
        seen.append(folder)
        return original(folder, layer)

    monkeypatch.setattr(loader, "load_layer", spy)
    yield seen


def test_second_load_comes_from_the_cache(cached, make_kb, no_parsing):
    kb_dir = make_kb({"concepts/a.yaml": concept("a", title="Alpha"), "concepts/b.yaml": concept("b", related="[a]")})
    first = inferbook.load(kb_dir)
    assert no_parsing == [kb_dir] and sorted(p.name for p in cached.glob("*.cache")) == sorted(
        [next(p.name for p in cached.glob("kb-*.cache")), next(p.name for p in cached.glob("layer-*.cache"))])
    second = inferbook.load(kb_dir)
    assert no_parsing == [kb_dir]  # not read again
    assert [(e.id, e.title) for e in second] == [(e.id, e.title) for e in first]
    assert second.path_of("a") == first.path_of("a") and second._edges == first._edges
    assert second.data_version == first.data_version and [e.id for e in second.learning_order()] == [
        e.id for e in first.learning_order()]
    assert all(not p.name.endswith(".tmp") for p in cached.iterdir())
    assert all(p.stat().st_mode & 0o077 == 0 for p in cached.glob("*.cache"))


def test_a_changed_file_invalidates_the_cache(cached, make_kb, no_parsing):
    kb_dir = make_kb({"concepts/a.yaml": concept("a", title="Alpha"), "concepts/b.yaml": concept("b", related="[a]")})
    assert inferbook.load(kb_dir).get("a").title == "Alpha"
    path = kb_dir / "concepts" / "a.yaml"
    path.write_text(path.read_text().replace("Alpha", "Omega"))  # same size
    assert inferbook.load(kb_dir).get("a").title == "Omega"
    (kb_dir / "concepts" / "c.yaml").write_text(textwrap.dedent(concept("c", related="[a]")))
    assert "c" in inferbook.load(kb_dir).concepts
    (kb_dir / "concepts" / "c.yaml").unlink()
    assert "c" not in inferbook.load(kb_dir).concepts
    assert len(no_parsing) == 4
    os.utime(path)  # new times, same bytes: checked by content, still served from the cache
    assert inferbook.load(kb_dir).get("a").title == "Omega" and len(no_parsing) == 4


def test_broken_invalid_or_foreign_cache_files_are_ignored(cached, make_kb, no_parsing, tmp_path):
    kb_dir = make_kb({"concepts/a.yaml": concept("a", title="Alpha"), "concepts/b.yaml": concept("b", related="[a]")})
    inferbook.load(kb_dir)
    files = sorted(cached.glob("*.cache"))
    originals = {p: p.read_bytes() for p in files}

    def loads_fresh(expected_reads: int) -> None:
        assert inferbook.load(kb_dir).get("a").title == "Alpha"
        assert len(no_parsing) == expected_reads

    reads = 1
    corruptions = [
        lambda raw: b"",
        lambda raw: b"garbage",
        lambda raw: raw[: len(raw) // 2],  # truncated
        lambda raw: raw[:-1] + bytes([raw[-1] ^ 1]),  # a flipped bit: the digest no longer matches
        lambda raw: raw.replace(b'"format": 1', b'"format": 99'),  # another layout version
    ]
    for corrupt in corruptions:
        for path, raw in originals.items():
            path.write_bytes(corrupt(raw))
        reads += 1
        loads_fresh(reads)  # ignored, read from YAML again, and rewritten
        assert inferbook.load(kb_dir).get("a").title == "Alpha" and len(no_parsing) == reads  # cached again
    # a file whose header and digest are right but whose pickle would run code
    marker = tmp_path / "pwned"
    evil = pickle.dumps(_Evil(str(marker)))
    for path in cached.glob("*.cache"):
        raw = path.read_bytes()
        header, meta, _ = raw.split(b"\n", 2)
        info = json.loads(meta)
        info.update(size=len(evil), digest=api._digest(evil))
        path.write_bytes(header + b"\n" + json.dumps(info).encode() + b"\n" + evil)
    reads += 1
    loads_fresh(reads)
    assert not marker.exists()
    # written by someone else's hand: writable by others
    for path in cached.glob("*.cache"):
        path.chmod(0o666)
    reads += 1
    loads_fresh(reads)


class _Evil:
    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_cache_shape_is_checked(make_kb):
    kb_dir = make_kb({"concepts/a.yaml": concept("a")})
    kb = inferbook.load(kb_dir)
    payload = api._payload(kb, [kb_dir])
    assert api._kb_from_payload(payload, [kb_dir]) is not None
    eid, kind, layer, entry = payload["entries"][0]
    for bad in ([(eid, "gpus", layer, entry)], [(eid, kind, 5, entry)], [("other", kind, layer, entry)],
                [(eid, kind, layer, {"id": eid})]):
        assert api._kb_from_payload({**payload, "entries": bad + payload["entries"][1:]}, [kb_dir]) is None
    assert api._kb_from_payload({**payload, "edges": [("a", "nowhere", "related")]}, [kb_dir]) is None
    assert api._kb_from_payload({**payload, "extra": 1}, [kb_dir]) is None
    with pytest.raises(pickle.UnpicklingError):
        api._Unpickler(io.BytesIO(pickle.dumps(_Evil("/nonexistent")))).load()


def test_cache_can_be_turned_off_and_moved(cached, make_kb, monkeypatch, tmp_path):
    kb_dir = make_kb({"concepts/a.yaml": concept("a")})
    monkeypatch.setenv("INFERBOOK_NO_CACHE", "1")
    assert api.cache_dir() is None
    inferbook.load(kb_dir)
    assert not list(cached.iterdir())
    monkeypatch.setenv("INFERBOOK_NO_CACHE", "0")
    monkeypatch.delenv("INFERBOOK_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert api.cache_dir() == tmp_path / "xdg" / "inferbook"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert api.cache_dir() == Path.home() / ".cache" / "inferbook"
    monkeypatch.setenv("INFERBOOK_CACHE_DIR", str(tmp_path / "mine"))
    inferbook.load(kb_dir)
    assert list((tmp_path / "mine").glob("kb-*.cache"))


def test_private_layer_reuses_the_cached_builtin_layer(capsys, private, environment, no_parsing):
    code, _, _ = run(capsys, "show", "acme-x1", "--kb", private)
    assert code == 0 and list(environment.glob("layer-*.cache"))  # the built-in layer, stored
    (private / "gpus" / "acme-x1.yaml").write_text(GPU.replace('"ACME X1 96GB"', '"ACME X1 Max"'))
    code, out, _ = run(capsys, "show", "acme-x1", "--kb", private, "--json")
    assert code == 0 and json.loads(out)["title"] == "ACME X1 Max"
    assert [p.name for p in no_parsing].count("kb") == 1  # the built-in YAML was parsed once
    code, _, _ = run(capsys, "show", "acme-x1", "--kb", private)
    assert code == 0 and len(no_parsing) == 3  # first run: kb and private; second: private; third: none


def test_installed_package_layers_over_its_bundle(capsys, make_kb, tmp_path, monkeypatch, no_parsing):
    """A wheel carries the built-in knowledge base compiled (kb.json), not its YAML files:
    a private layer goes over the bundle, for loading and for validation alike."""
    from inferbook.bundle import bundle_json

    public = make_kb({"concepts/a.yaml": concept("a", title="Alpha")})
    (public / "_layer.yaml").write_text('name: public\ndata_version: "9.9"\ndata_date: "2026-11-27"\n')
    bundle = tmp_path / "_data" / "kb.json"
    bundle.parent.mkdir()
    bundle.write_text(bundle_json(public))
    no_parsing.clear()
    monkeypatch.setattr(api, "BUNDLE_PATH", bundle)
    monkeypatch.setattr(api, "default_kb_dir", lambda: tmp_path / "_data" / "kb")  # absent, as in a wheel
    mine = write_kb(tmp_path / "mine", {"concepts/mine.yaml": concept("mine", related="[a]")}, base=False)
    kb = inferbook.load(mine, builtin=True)
    assert kb.get("mine").related == ("a",) and kb.get("a").title == "Alpha"
    assert kb.data_version == "9.9+mine" and no_parsing == [mine]
    assert inferbook.validate(mine, builtin=True).ok
    assert inferbook.load().get("a").title == "Alpha"  # the bundle alone
    code, out, _ = run(capsys, "show", "a", "--kb", mine, "--json")
    assert code == 0 and json.loads(out)["backlinks"] == ["mine"]


def test_old_cache_files_are_pruned(cached, make_kb, monkeypatch):
    monkeypatch.setattr(api, "CACHE_KEEP", 2)
    stale = cached / ".kb-x.1234.tmp"
    stale.write_bytes(b"half")
    os.utime(stale, (0, 0))  # left by a writer that died long ago
    for i in range(3):
        inferbook.load(make_kb({f"concepts/c{i}.yaml": concept(f"c{i}")}))
    assert len(list(cached.glob("*.cache"))) == 2 and not stale.exists()
