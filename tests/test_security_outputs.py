"""What the builds, `diff`, the tables and the CI output must never do: delete or write
outside their own files, leave unreadable or half-written outputs, write spreadsheet
formulas, emit GitHub workflow commands or let KB text inject HTML into notebooks."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import concept, write_kb
from test_capacity_tables import BF16, H100_LIKE, MODEL, _yaml

import inferbook
from inferbook.cli import main
from inferbook.contrib.diff import EntryChange, FieldChange, KbDiff, render_json, render_text, unsafe_tree_path
from inferbook.diagnostics import Diagnostic, no_workflow_commands, render
from inferbook.generators import TARGETS, UnsafeOutputError, build, output, update_site
from inferbook.generators.notebooks import Case, Cells, md_text
from inferbook.generators.output import MARKER, sync_folder
from inferbook.generators.tables import csv_text, spreadsheet_safe

ROOT = Path(__file__).resolve().parent.parent
FOREIGN = "exists and was not written by inferbook; remove it or choose another --out"


def _tables_kb(root: Path, **model: str) -> Path:
    files = {"gpus/h100-like.yaml": _yaml(H100_LIKE), "formats/bf16.yaml": _yaml(BF16),
             "models/m.yaml": _yaml(MODEL.model_copy(update=model))}
    return write_kb(root, files)


def _site_kb(root: Path, title: str = "Beta") -> Path:
    return write_kb(root, {"concepts/a.yaml": concept("a"), "concepts/b.yaml": concept("b", title=title)})


def _snapshot(folder: Path) -> dict[str, tuple[str, bytes, int]]:
    """Every entry under ``folder`` (hidden ones included): kind, bytes and mode."""
    found = {}
    for path in sorted(folder.rglob("*")):
        mode = stat.S_IMODE(path.lstat().st_mode)
        found[path.relative_to(folder).as_posix()] = \
            ("dir", b"", mode) if path.is_dir() else ("file", path.read_bytes(), mode)
    return found


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# 1. never delete what a build did not write ------------------------------------------------------
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_build_refuses_a_target_folder_it_did_not_write(target, tmp_path, monkeypatch, capsys):
    kb = _tables_kb(tmp_path / "kb")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "build" / target).mkdir(parents=True)
    (tmp_path / "build" / target / "mine.txt").write_text("keep me")
    assert main(["build", target, "--kb", str(kb), "--out", "build"]) == 1
    assert capsys.readouterr().err == f"inferbook build: build/{target} {FOREIGN}\n"
    assert (tmp_path / "build" / target / "mine.txt").read_text() == "keep me"
    assert sorted(p.name for p in (tmp_path / "build").iterdir()) == [".lock", target]  # no staging left


def test_build_replaces_its_own_output_but_not_files_added_to_it(tmp_path, monkeypatch, capsys):
    kb = _tables_kb(tmp_path / "kb")
    monkeypatch.chdir(tmp_path)
    assert main(["build", "tables", "--kb", str(kb), "--out", "build"]) == 0
    tables = tmp_path / "build" / "tables"
    assert '"written_by": "inferbook"' in (tables / MARKER).read_text()
    assert main(["build", "tables", "--kb", str(kb), "--out", "build"]) == 0  # its own output: replaced
    (tables / "notes.txt").write_text("mine")
    capsys.readouterr()
    assert main(["build", "tables", "--kb", str(kb), "--out", "build"]) == 1
    assert capsys.readouterr().err == ("inferbook build: build/tables holds 1 file(s) that inferbook did not write "
                                       "(notes.txt); move them away or choose another --out\n")
    assert (tables / "notes.txt").read_text() == "mine"
    (tables / "notes.txt").unlink()
    (tables / MARKER).unlink()  # tables built before markers existed: manifest.json vouches for them
    assert main(["build", "tables", "--kb", str(kb), "--out", "build"]) == 0
    assert (tables / MARKER).is_file()
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("a symlinked folder is not ours either")
    (tmp_path / "build" / "site").symlink_to(tmp_path / "site")
    with pytest.raises(Exception, match=f"site {FOREIGN}"):
        build(["site"], kb=kb, out=Path("build"))
    assert (tmp_path / "site" / "index.html").exists()


def test_dangerous_out_folders_are_refused(tmp_path, capsys):
    kb = _tables_kb(tmp_path / "kb")
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    cases = {"/": "--out / is the root folder",
             str(Path.home()): f"--out {Path.home()} is your home folder",
             str(ROOT): f"--out {ROOT} is the repository root",
             str(tmp_path / "repo"): f"--out {tmp_path / 'repo'} holds .git: choose a folder of its own",
             str(tmp_path): f"--out {tmp_path} holds kb/: choose a folder of its own",
             str(kb): f"--out {kb} is the knowledge-base folder {kb}",
             str(kb / "gpus" / "out"): f"--out {kb / 'gpus' / 'out'} is inside the knowledge-base folder {kb}",
             "/etc": "--out /etc is a system folder",
             "/usr/lib/inferbook": "--out /usr/lib/inferbook is a system folder"}
    for out, message in cases.items():
        assert main(["build", "tables", "--kb", str(kb), "--out", out]) == 2, out
        assert capsys.readouterr().err == f"inferbook build: {message}\n"
    assert not (kb / "gpus" / "out").exists() and not (tmp_path / "tables").exists()
    with pytest.raises(UnsafeOutputError, match="root folder"):
        build(["tables"], kb=kb, out=Path("/"))
    with pytest.raises(UnsafeOutputError, match="knowledge-base folder"):
        update_site(kb=kb, out=kb)


# 2. staging folders of killed builds -----------------------------------------------------------
def test_stale_staging_folders_of_dead_builds_are_removed(tmp_path, monkeypatch):
    kb = _tables_kb(tmp_path / "kb")
    out = tmp_path / "build"
    dead, alive = _dead_pid(), os.getpid()
    stale = [out / f".tables-{dead}-abcdefgh", out / f".old-site-{dead}-k2_x9q0a",
             out / f".site-update-{dead}-zzzzzzzz"]
    kept = [out / f".tables-{alive}-abcdefgh", out / f".notes-{dead}-abcdefgh", out / ".tables-abcdefgh",
            out / f"tables-{dead}-abcdefgh"]
    for folder in stale + kept:
        folder.mkdir(parents=True)
        (folder / "half.json").write_text("{")
    seen = []
    real = TARGETS["tables"]

    def spy(knowledge, staging):
        seen.append(staging.name)
        real(knowledge, staging)

    monkeypatch.setitem(TARGETS, "tables", spy)
    build(["tables"], kb=kb, out=out)
    assert re.fullmatch(rf"\.tables-{alive}-[a-z0-9_]{{8}}", seen[0])  # named with the pid
    assert not any(folder.exists() for folder in stale)
    assert all((folder / "half.json").exists() for folder in kept)
    assert sorted(p.name for p in out.iterdir()) == sorted([".lock", "tables", *(f.name for f in kept)])


# 3. readable by a web server running as another user ------------------------------------------
def test_outputs_are_world_readable_whatever_the_umask(tmp_path):
    kb = _tables_kb(tmp_path / "kb")
    out = tmp_path / "new" / "build"
    old = os.umask(0o077)
    try:
        build(["tables"], kb=kb, out=out)
    finally:
        os.umask(old)
    modes = _snapshot(out)
    assert {path: mode for path, (kind, _, mode) in modes.items() if kind == "dir"} == {"tables": 0o755}
    files = {path: mode for path, (kind, _, mode) in modes.items() if kind == "file"}
    assert len(files) > 10 and set(files.values()) == {0o644}, files
    assert stat.S_IMODE(out.stat().st_mode) == stat.S_IMODE(out.parent.stat().st_mode) == 0o755


# 4. an output folder that cannot be written ----------------------------------------------------
def test_unwritable_out_is_one_line(tmp_path, monkeypatch, capsys):
    kb = _tables_kb(tmp_path / "kb")
    (tmp_path / "file").write_text("x")
    below_a_file = tmp_path / "file" / "build"
    assert main(["build", "tables", "--kb", str(kb), "--out", str(below_a_file)]) == 1
    assert capsys.readouterr().err == f"inferbook build: cannot write to {below_a_file}: Not a directory\n"

    def denied(out):
        raise PermissionError(errno.EACCES, "Permission denied", str(out))

    monkeypatch.setattr("inferbook.generators._make_out", denied)
    assert main(["build", "tables", "--kb", str(kb), "--out", str(tmp_path / "ro")]) == 1
    assert capsys.readouterr().err == f"inferbook build: cannot write to {tmp_path / 'ro'}: Permission denied\n"
    monkeypatch.undo()

    def full(knowledge, staging):
        (staging / "gpus.json").write_text("[")
        raise OSError(errno.ENOSPC, "No space left on device", str(staging / "gpus.csv"))

    monkeypatch.setitem(TARGETS, "tables", full)
    assert main(["build", "tables", "--kb", str(kb), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert re.fullmatch(r"inferbook build: cannot write \S+/gpus\.csv: No space left on device\n", err), err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".lock"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_read_only_out_is_one_line(tmp_path, capsys):  # pragma: no cover - CI runs as root
    kb = _tables_kb(tmp_path / "kb")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    assert main(["build", "tables", "--kb", str(kb), "--out", str(locked / "build")]) == 1
    assert capsys.readouterr().err == f"inferbook build: cannot write to {locked / 'build'}: Permission denied\n"


# 5. the incremental site update is all or nothing ----------------------------------------------
def _failing_after(count: int, real):
    calls = []

    def fake(*args):
        calls.append(args)
        if len(calls) > count:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args)

    return fake, calls


@pytest.mark.parametrize("seam", ["_write_file", "_replace"])
def test_update_site_leaves_the_site_untouched_on_a_full_disk(seam, tmp_path, monkeypatch):
    kb = _site_kb(tmp_path / "kb")
    out = tmp_path / "build"
    build(["site"], kb=kb, out=out)
    edited = (kb / "concepts" / "b.yaml").read_text().replace("title: Beta", "title: Beta (edited)")
    (kb / "concepts" / "b.yaml").write_text(edited)
    (kb / "concepts" / "c.yaml").write_text(concept("c"))  # a new page too
    before = _snapshot(out)
    fake, calls = _failing_after(2, getattr(output, seam))
    monkeypatch.setattr(output, seam, fake)
    with pytest.raises(OSError) as caught:
        update_site(kb=kb, out=out)
    assert caught.value.errno == errno.ENOSPC and len(calls) == 3
    assert _snapshot(out) == before  # byte-identical, same modes, no temporary file anywhere
    monkeypatch.undo()
    result = update_site(kb=kb, out=out)
    assert result.written > 3 and result.removed == 0
    build(["site"], kb=kb, out=tmp_path / "full")
    assert _snapshot(out / "site") == _snapshot(tmp_path / "full" / "site")  # modes included


def test_sync_folder_rolls_back_replaced_and_removed_files(tmp_path, monkeypatch):
    site = tmp_path / "site"
    first = sync_folder({"a.html": b"A", "d/b.html": b"B", "old.html": b"O"}, site)
    before = _snapshot(tmp_path)
    fake, _ = _failing_after(2, output._replace)
    monkeypatch.setattr(output, "_replace", fake)
    with pytest.raises(OSError):  # the third rename (new/c.html) fails after two files were replaced
        sync_folder({"a.html": b"A2", "d/b.html": b"B2", "new/c.html": b"C"}, site, first.manifest)
    assert _snapshot(tmp_path) == before


# 6. `diff` never writes outside its temporary folder ---------------------------------------------
def _git(repo: Path, *args: str, data: str | None = None) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@localhost", "-c", "commit.gpgsign=false",
                           *args], cwd=repo, input=data, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_diff_refuses_unsafe_paths_in_the_base_tree(tmp_path, monkeypatch, capsys):
    if shutil.which("git") is None:  # pragma: no cover
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    kb = _site_kb(repo / "kb")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    blob = _git(repo, "hash-object", "-w", "--stdin", data=concept("pwned"))
    link = _git(repo, "hash-object", "-w", "--stdin", data="../../../../../etc/passwd")
    tree = _git(repo, "mktree", data=f"100644 blob {blob}\tpwned.yaml\n")
    for _ in range(5):  # with kb's own '..': kb/../../../../../../pwned.yaml, far above the temporary folder
        tree = _git(repo, "mktree", data=f"040000 tree {tree}\t..\n")
    kb_tree = _git(repo, "mktree", data=_git(repo, "ls-tree", "HEAD:kb") +
                   f"\n040000 tree {tree}\t..\n120000 blob {link}\tlink.yaml\n")
    root = _git(repo, "mktree", data=f"040000 tree {kb_tree}\tkb\n")
    commit = _git(repo, "commit-tree", root, "-p", "HEAD", "-m", "evil")
    assert _git(repo, "ls-tree", "-r", "--name-only", commit).splitlines()[0].startswith("kb/../")
    scratch = tmp_path / "scratch" / "a" / "b" / "c" / "d"
    scratch.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    assert main(["diff", commit, "--kb", str(kb)]) == 1
    out = capsys.readouterr().out
    unsafe = "kb/" + "../" * 6 + "pwned.yaml"
    assert f"  BASE ({commit}) holds '{unsafe}': a path that is absolute or has an empty, '.' or '..' part; " \
           "it was not read" in out
    assert f"  BASE ({commit}) holds 'kb/link.yaml': a symbolic link; it was not read" in out
    assert "no entry differs" in out
    assert not list(tmp_path.rglob("pwned.yaml")) and not list(scratch.iterdir())


def test_unsafe_tree_paths():
    from pathlib import PurePosixPath

    kb = PurePosixPath("kb")
    assert unsafe_tree_path("kb/concepts/a.yaml", kb, "100644", "blob") is None
    assert unsafe_tree_path("kb/a.yaml", PurePosixPath("."), "100755", "blob") is None
    for path in ("/etc/passwd", "kb/../x.yaml", "kb/./x.yaml", "kb//x.yaml", "..", "kb/.."):
        assert "'..'" in unsafe_tree_path(path, kb, "100644", "blob"), path
    assert unsafe_tree_path("other/a.yaml", kb, "100644", "blob") == "a path outside kb/"
    assert unsafe_tree_path("kb", kb, "100644", "blob") == "a path outside kb/"
    assert unsafe_tree_path("kb/a\n.yaml", kb, "100644", "blob") == "a path with control characters"
    assert unsafe_tree_path("kb/a.yaml", kb, "120000", "blob") == "a symbolic link"
    assert unsafe_tree_path("kb/sub", kb, "160000", "commit") == "not a regular file (mode 160000, commit)"


# 7. no spreadsheet formulas in CSV ---------------------------------------------------------------
def test_csv_cells_cannot_be_formulas(tmp_path):
    row = {"a": "=1+1", "b": -0.5, "c": "-0.5", "d": "@SUM(A1)", "e": "\tx", "f": "\rx", "g": "+cmd|' /C calc'!A0",
           "h": "-2+3", "i": None, "j": "plain", "k": 3, "l": True, "m": "1e-3", "n": "-"}
    assert csv_text([row]) == ("a,b,c,d,e,f,g,h,i,j,k,l,m,n\n"
                               "'=1+1,-0.5,-0.5,'@SUM(A1),'\tx,\"'\nx\",'+cmd|' /C calc'!A0,'-2+3,,plain,3,True,"
                               "1e-3,'-\n")
    assert spreadsheet_safe(-0.5) == -0.5 and spreadsheet_safe("-1e5") == "-1e5" and spreadsheet_safe("") == ""
    assert csv_text([{"a": "x\r=cmd", "b": "y\r\nz"}]) == 'a,b\n"x\n=cmd","y\nz"\n'  # no row break, no new cell
    kb = _tables_kb(tmp_path / "kb", title='=HYPERLINK("http://x","y")', organization="@evil", family="-1+1")
    [tables] = build(["tables"], kb=kb, out=tmp_path / "build")
    models = (tables / "models.csv").read_text().splitlines()[1]
    assert models.startswith('m,"\'=HYPERLINK(""http://x"",""y"")",\'@evil,\'-1+1,')
    assert '"title": "=HYPERLINK(\\"http://x\\",\\"y\\")"' in (tables / "models.json").read_text()  # JSON is data


# 8. no GitHub workflow commands from contributors' text ----------------------------------------
def test_github_annotations_escape_properties_and_data():
    d = Diagnostic("kb/a,b::c%.yaml", 3, 4, "IB001", "bad\r\n::error::pwned 100%", hint="x,y")
    assert d.github() == ("::error file=kb/a%2Cb%3A%3Ac%25.yaml,line=3,col=4,title=IB001"
                          "::bad%0D%0A::error::pwned 100%25 (x,y)")
    assert render([d], "github").count("\n") == 0
    text = Diagnostic("::warning::x.yaml", 1, 1, "IB001", "a\n  ::error::b\rc ##[add-mask]d").format()
    assert text == "\\::warning::x.yaml:1:1: IB001 a\n  \\::error::b\rc ##\\[add-mask]d"
    assert "##[" not in render([d, Diagnostic("f", 1, 1, "IB001", "##[add-mask]x")], "json")


def test_validate_github_format_escapes_file_names(tmp_path, monkeypatch, capsys):
    kb = _site_kb(tmp_path / "kb")
    (kb / "concepts" / "x,y::z%.yaml").write_text("id: [\n")
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "--kb", "kb", "--format", "github"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(line.startswith(("::error file=", "::warning file=")) for line in lines)
    assert any(line.startswith("::error file=kb/concepts/x%2Cy%3A%3Az%25.yaml,line=") for line in lines), lines


def test_diff_text_never_starts_a_workflow_command():
    fields = [FieldChange("::error::path", 1, 2), FieldChange("aliases", list("abcd"), ["a", "b\n::error::x", "c"]),
              FieldChange("title", "##[add-mask]a", "b")]
    result = KbDiff("HEAD", [EntryChange("a", "concepts", "changed", "::warning::t", fields)], [], [], [],
                    ["::error::problem"], ["\r::notice::note"])
    text = render_text(result)
    assert "##[" not in text
    for line in re.split(r"\r\n|\r|\n", text):
        assert not line.lstrip().startswith("::"), line
    assert "      \\::error::path: 1 -> 2" in text.splitlines()
    assert "      aliases: +b\\n::error::x -b -d" in text.splitlines()
    assert no_workflow_commands("ok\n::x::y") == "ok\n\\::x::y"
    as_json = render_json(result)
    assert "##[" not in as_json and json.loads(as_json)["entries"][0]["fields"][2]["old"] == "##[add-mask]a"


# 9. KB text in notebook Markdown -------------------------------------------------------------------
def test_notebook_markdown_escapes_kb_text(tmp_path):
    title = "<img src=x onerror=alert(1)> [x](javascript:alert(1)) ![i](y)"
    kb = inferbook.load(_site_kb(tmp_path / "kb", title=f"'{title}'"))
    cells = Cells(kb, Case("m", "g", "bf16"))
    cells.links(["concepts/b"])
    [(kind, source, _)] = cells.items
    assert kind == "markdown"
    assert source == ("Handbook entries this notebook draws on:\n\n- [&lt;img src=x onerror=alert(1)&gt; "
                      "(x)(javascript:alert(1)) !(i)(y)](../site/entries/concepts/b.html)")
    assert md_text("a & b\\\nc") == "a &amp; b\\\\ c"
