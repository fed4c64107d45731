"""Profile one build stage with cProfile (standard library, works offline) and list the
15 functions with the most time of their own. Run by bench/run.py on the slowest stage it
measured; on its own:

    python -m bench.profile pdf        # or: validate, search-index, tables, site, notebooks

(This module is bench.profile; it is imported as part of the `bench` package, never as a
top-level `profile`, which would shadow the standard library module cProfile needs.)
"""

from __future__ import annotations

import contextlib
import cProfile
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.util import ROOT, Row, fmt_s

STAGES = ("validate", "search-index", "tables", "site", "notebooks", "pdf")


def _where(key: tuple[str, int, str]) -> str:
    filename, line, name = key
    if filename == "~":  # built-in
        return name
    path = Path(filename)
    for base in (ROOT, *[Path(p) for p in sys.path if p.endswith("site-packages")]):
        try:
            return f"{path.relative_to(base)}:{line} {name}"
        except ValueError:
            continue
    return f"{path.name}:{line} {name}"


# parts of the PDF build timed (without the profiler) by wrapping these functions of generators/pdf.py
PDF_PARTS = {"_print": "Chromium: load book.html and print it (both passes)",
             "_normalize": "fix dates and id (in place; pypdf only as a fallback)",
             "_outline_pages": "pypdf: read the first pass's outline",
             "BookBuilder.html": "render book.html (both passes)"}


@contextlib.contextmanager
def _timed_parts(parts: dict[str, float]) -> Iterator[None]:
    """Add the seconds spent in each of PDF_PARTS to ``parts`` while active."""
    from inferbook.generators import pdf

    saved = []
    for dotted in PDF_PARTS:
        owner: Any = pdf
        name = dotted
        if "." in dotted:
            cls, name = dotted.split(".")
            owner = getattr(pdf, cls)
        original = getattr(owner, name, None)
        if original is None:  # an older or newer pdf.py: that part is not shown
            continue

        def timed(*args: Any, _f: Any = original, _k: str = dotted, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return _f(*args, **kwargs)
            finally:
                parts[_k] = parts.get(_k, 0.0) + time.perf_counter() - start

        saved.append((owner, name, original))
        setattr(owner, name, timed)
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def profile_stage(stage: str, top: int = 15, parts: dict[str, float] | None = None,
                  ) -> tuple[float, float, list[tuple[str, float, float, int]]]:
    """(wall seconds without profiler, with profiler, [(function, own s, cumulative s, calls)]).
    For the PDF, ``parts`` receives the seconds of each of PDF_PARTS in the run without profiler."""
    import inferbook
    from bench.stages import _cold
    from inferbook.generators import TARGETS

    def prepare() -> Callable[[], object]:
        """Empty the caches (outside the timing), then return the stage's work."""
        if stage == "validate":
            _cold()
            return inferbook.validate
        kb = inferbook.validate().kb
        assert kb is not None
        _cold()
        if stage == "search-index":
            kb.__dict__.pop("_index", None)
            return lambda: kb.search("warm")

        def generate() -> None:
            with tempfile.TemporaryDirectory() as tmp:
                TARGETS[stage](kb, Path(tmp) / stage)  # type: ignore[misc]

        return generate

    if stage not in STAGES:
        raise SystemExit(f"unknown stage {stage!r}; one of {', '.join(STAGES)}")
    work = prepare()
    with _timed_parts(parts if parts is not None else {}) if stage == "pdf" else contextlib.nullcontext():
        start = time.perf_counter()
        work()
        plain = time.perf_counter() - start
    work = prepare()
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    work()
    profiler.disable()
    profiled = time.perf_counter() - start
    stats = pstats.Stats(profiler)
    entries = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)  # type: ignore[attr-defined]
    out = [(_where(key), tt, ct, nc) for key, (_cc, nc, tt, ct, _callers) in entries[:top]]
    return plain, profiled, out


def run(stage: str, why: str = "chosen", top: int = 15) -> list[Row]:
    parts: dict[str, float] = {}
    plain, profiled, functions = profile_stage(stage, top, parts)
    rows: list[Row] = [(f"profile of {stage} ({why}): wall time without / with cProfile",
                        f"{plain:.2f} s / {profiled:.2f} s")]
    for key, label in PDF_PARTS.items():
        if key in parts:
            rows.append((f"profile {stage}, without profiler: {label}", fmt_s(parts[key])))
    if parts:
        rows.append((f"profile {stage}, without profiler: the rest (browser start and stop, files)",
                     fmt_s(plain - sum(parts.values()))))
    for i, (where, own, cumulative, calls) in enumerate(functions, 1):
        rows.append((f"profile {stage} #{i:>2} by own time under cProfile: {where}",
                     f"{own:.2f} s own, {cumulative:.2f} s cumulative, {calls:,} calls"))
    return rows


if __name__ == "__main__":
    for name, value in run(sys.argv[1] if len(sys.argv) > 1 else "site"):
        print(f"{name}  {value}")
