"""Build benchmarks: each stage of a full build, a rebuild after editing one entry,
and how fast `inferbook serve` shows an edit.

Stages run in this process with the loader's file cache and the accuracy cache emptied
first, so each figure is a cold stage on its own; the totals run `inferbook build` in a
fresh process, as a user would."""

from __future__ import annotations

import gc
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from bench.util import ROOT, VENV_BIN, Row, best_wall, fmt_s, free_port, memory_dir, scratch

EDIT_ENTRY = Path("concepts") / "kv-cache.yaml"
EDIT_PAGE = "entries/concepts/kv-cache.html"


def _cold() -> None:
    """Empty the caches a long-running process keeps between builds (parsed files, rendered
    Markdown, accuracy table)."""
    from inferbook import loader, render
    from inferbook.calc import accuracy
    from inferbook.generators import site

    loader._FILE_CACHE.clear()
    render.markdown_to_html.cache_clear()
    for module, name in ((accuracy, "_COMPARISONS"), (site, "_ACCURACY_CACHE")):  # now / before the shared cache
        cache = getattr(module, name, None)
        if isinstance(cache, dict):
            cache.clear()
    gc.collect()


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def file_cost(count: int = 2000) -> float:
    """Seconds to create and write one small file here: a site build writes about 1,400."""
    data = "x" * 20_000
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        for i in range(count):
            (Path(tmp) / f"{i}.html").write_text(data, encoding="utf-8")
        return (time.perf_counter() - start) / count


def edit_entry(kb_dir: Path, marker: str) -> None:
    """Put ``marker`` at the start of the summary of the edited entry (kv-cache)."""
    path = kb_dir / EDIT_ENTRY
    text = path.read_text(encoding="utf-8")
    text, n = re.subn(r'^summary: ".*"$', f'summary: "Benchmark edit {marker}. Memory that keeps the attention '
                      'keys and values of earlier tokens."', text, count=1, flags=re.MULTILINE)
    if n != 1:
        raise RuntimeError(f"cannot find the summary line of {path}")
    path.write_text(text, encoding="utf-8")


def build_stages(quick: bool = False) -> tuple[list[Row], dict[str, float]]:
    """Rows, and the seconds of each generator stage (for choosing what to profile)."""
    import inferbook
    from inferbook.api import _knowledge_base
    from inferbook.generators import TARGETS
    from inferbook.generators.output import DirOutput
    from inferbook.generators.site import SiteBuilder
    from inferbook.graph import check_graph
    from inferbook.kb import KnowledgeBase
    from inferbook.loader import load_folders
    from inferbook.paths import default_kb_dir
    from inferbook.prose import check_expressions

    rows: list[Row] = []
    seconds: dict[str, float] = {}
    kb_dir = default_kb_dir()
    rows.append(("this machine's disk: create and write one 20 kB file (mean of 2,000)", fmt_s(file_cost())))
    _cold()
    t_load, result = _timed(lambda: load_folders([kb_dir]))
    t_graph, (edges, _diags) = _timed(lambda: check_graph(result.entries))
    kb: KnowledgeBase = _knowledge_base(result, edges)
    t_prose, _ = _timed(lambda: check_expressions(kb, result.entries))
    rows.append((f"validate: read + schema + content checks ({result.files_read} files)", fmt_s(t_load)))
    rows.append((f"validate: graph checks ({len(edges):,} edges)", fmt_s(t_graph)))
    rows.append(("validate: expressions and entry links in prose", fmt_s(t_prose)))
    _cold()
    t_validate, checked = _timed(inferbook.validate)
    assert checked.ok and checked.kb is not None
    kb = checked.kb
    rows.append(("validate: total, inferbook.validate() in-process", fmt_s(t_validate)))
    t = best_wall([str(VENV_BIN / "inferbook"), "validate"], repeat=3, cwd=ROOT)
    rows.append(("validate: `inferbook validate` command (fresh process)", fmt_s(t)))
    seconds["validate"] = t_validate

    t_index, _ = _timed(lambda: kb._index)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "assets" / "data").mkdir(parents=True)
        t_json, _ = _timed(lambda: SiteBuilder(kb)._write_search(DirOutput(Path(tmp))))
    rows.append((f"search index: in-memory (kb.search), {len(kb)} entries", fmt_s(t_index)))
    rows.append(("search index: site's search-index.json", fmt_s(t_json)))
    seconds["search index"] = t_index + t_json

    targets = [t for t in ("tables", "site", "notebooks", "pdf") if TARGETS.get(t) is not None]
    if quick:
        targets.remove("pdf")
    with tempfile.TemporaryDirectory() as tmp:
        for target in targets:
            _cold()
            out = Path(tmp) / target
            took, _ = _timed(lambda target=target, out=out: TARGETS[target](kb, out))  # type: ignore[misc]
            seconds[target] = took
            note = ""
            if target == "site":
                note = f" ({sum(1 for _ in out.rglob('*.html')):,} pages)"
            elif target == "pdf":
                from pypdf import PdfReader

                pdf = next(out.glob("*.pdf"))
                note = f" ({len(PdfReader(str(pdf)).pages)} pages)"
            elif target == "notebooks":
                note = f" ({sum(1 for _ in out.glob('*.ipynb'))} notebooks, not executed)"
            elif target == "tables":
                note = f" ({sum(1 for _ in out.glob('*.csv'))} tables)"
            rows.append((f"build {target}: generator alone, cold{note}", fmt_s(took)))
            if target == "site" and memory_dir() is not None:
                with scratch("inferbook-site-") as ram:
                    _cold()
                    took, _ = _timed(lambda ram=ram: TARGETS["site"](kb, Path(ram) / "site"))  # type: ignore[misc]
                rows.append(("build site: generator alone, cold, written to RAM (tmpfs) instead of disk", fmt_s(took)))
        cli = str(VENV_BIN / "inferbook")
        t = best_wall([cli, "build", "site", "--out", str(Path(tmp) / "cli")], repeat=3, cwd=ROOT)
        rows.append(("build: `inferbook build site` (fresh process, validation included)", fmt_s(t)))
        seconds["cli site"] = t
        if not quick:
            t = best_wall([cli, "build", "all", "--out", str(Path(tmp) / "all")], repeat=1, cwd=ROOT)
            rows.append(("build: `inferbook build all` total (fresh process)", fmt_s(t)))
    return rows, seconds


def rebuild(quick: bool = False) -> list[Row]:
    """Rebuild after editing one entry, in a process that built before (what `serve` does)."""
    from inferbook.generators import build

    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        kb_dir = Path(tmp) / "kb"
        shutil.copytree(ROOT / "kb", kb_dir)
        out = Path(tmp) / "out"
        _cold()
        first, _ = _timed(lambda: build(["site"], kb=kb_dir, out=out))
        times = []
        for i in range(3):
            edit_entry(kb_dir, f"r{i}")
            took, _ = _timed(lambda: build(["site"], kb=kb_dir, out=out))
            times.append(took)
            if f"Benchmark edit r{i}." not in (out / "site" / EDIT_PAGE).read_text(encoding="utf-8"):
                raise RuntimeError("the rebuilt page does not show the edit")
        rows.append(("rebuild site after editing one entry (warm process; first build "
                     f"{fmt_s(first)})", fmt_s(min(times))))
        targets = ["tables", "site", "notebooks"]
        build(targets, kb=kb_dir, out=out)
        edit_entry(kb_dir, "all")
        took, _ = _timed(lambda: build(targets, kb=kb_dir, out=out))
        rows.append(("rebuild tables + site + notebooks after editing one entry (warm)", fmt_s(took)))
    return rows


class _Lines:
    """Collects a subprocess's output lines in a thread."""

    def __init__(self, proc: subprocess.Popen[str]):
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, start: int = 0, timeout: float = 120) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[start:]:
                found = re.search(pattern, line)
                if found:
                    return found
            time.sleep(0.02)
        raise TimeoutError(f"no line matching {pattern!r}; output: {self.lines[-5:]}")


def _fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8", "replace")
    except OSError:
        return ""


def serve_reaction(edits: int = 3) -> list[Row]:
    """`inferbook serve` over a copy of kb/: seconds from saving an edit to the served page showing it."""
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        kb_dir = Path(tmp) / "kb"
        shutil.copytree(ROOT / "kb", kb_dir)
        port = free_port()
        proc = subprocess.Popen([str(VENV_BIN / "inferbook"), "serve", "--kb", str(kb_dir), "--out",
                                 str(Path(tmp) / "out"), "--port", str(port)], cwd=tmp, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        lines = _Lines(proc)
        try:
            started = lines.wait_for(r"built site in ([0-9.]+) s")
            lines.wait_for(r"^serving ")
            url = f"http://127.0.0.1:{port}/{EDIT_PAGE}"
            reactions, rebuilds = [], []
            for i in range(edits):
                time.sleep(1.0)  # let the watcher take a quiet snapshot first
                mark = len(lines.lines)
                marker = f"s{i}"
                edit_entry(kb_dir, marker)
                t0 = time.perf_counter()
                while f"Benchmark edit {marker}." not in _fetch(url):
                    if time.perf_counter() - t0 > 120:
                        raise TimeoutError("the served page never showed the edit")
                    time.sleep(0.025)
                reactions.append(time.perf_counter() - t0)
                rebuilds.append(float(lines.wait_for(r"rebuilt site in ([0-9.]+) s", start=mark).group(1)))
            rows.append((f"`inferbook serve`: edit saved -> served page shows it (median of {edits})",
                         f"{fmt_s(statistics.median(reactions))} (rebuild itself {statistics.median(rebuilds):.2f} s, "
                         f"first build {float(started.group(1)):.2f} s, polling every 0.5 s)"))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    return rows
