"""Benchmarks for the core: import + load from an installed wheel, lookups, search,
and validation of the whole KB. Prints one table. Run: ./dev.sh bench"""

from __future__ import annotations

import platform
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _wall(cmd: list[str], repeat: int = 5, cwd: Path | None = None) -> tuple[float, float]:
    """Median wall time (s) and peak RSS (MiB) of a command."""
    times, rss = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True, cwd=cwd,
                              check=True)
        times.append(time.perf_counter() - start)
        rss.append(int(proc.stderr.strip().splitlines()[-1]) / 1024)
    return statistics.median(times), max(rss)


def wheel_python(tmp: Path) -> Path:
    dist = tmp / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)], check=True,
                   capture_output=True)
    env = tmp / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    python = env / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", *map(str, dist.glob("*.whl"))], check=True,
                   capture_output=True)
    return python


def main() -> None:
    import inferbook

    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        python = wheel_python(tmp)
        wall, rss = _wall([str(python), "-c", "import inferbook; inferbook.load()"], cwd=tmp)
        rows.append(("wheel: python -c 'import inferbook; inferbook.load()'", f"{wall * 1000:.0f} ms, {rss:.0f} MiB"))
        wall, _ = _wall([str(python), "-c", "pass"], cwd=tmp)
        rows.append(("wheel: bare interpreter start (baseline)", f"{wall * 1000:.0f} ms"))
        cli = python.parent / "inferbook"
        wall, _ = _wall([str(cli), "validate"], repeat=3, cwd=tmp)
        rows.append(("wheel: inferbook validate (full KB, YAML)", f"{wall * 1000:.0f} ms"))

    start = time.perf_counter()
    kb = inferbook.load()
    rows.append(("checkout: load() from YAML with all checks", f"{(time.perf_counter() - start) * 1000:.0f} ms"))
    rows.append(("entries in the KB", str(len(kb))))
    some_id = next(iter(kb.gpus)) if len(kb.gpus) else next(iter(kb.chapters))
    n = 100_000
    rows.append(("lookup by id kb.get(id)", f"{timeit.timeit(lambda: kb.get(some_id), number=n) / n * 1e6:.2f} µs"))
    alias = next((a for e in kb for a in e.aliases), some_id)
    rows.append(("lookup by alias kb.get(alias)", f"{timeit.timeit(lambda: kb.get(alias), number=n) / n * 1e6:.2f} µs"))
    n = 200
    t = timeit.timeit(lambda: kb.where("gpus", "memory_gib>=80"), number=n) / n
    rows.append(("filter all GPUs where memory_gib>=80", f"{t * 1e6:.0f} µs"))
    kb.search("warm up")
    t = timeit.timeit(lambda: kb.search("kv cache memory"), number=n) / n
    rows.append(("full-text search 'kv cache memory'", f"{t * 1e6:.0f} µs"))
    t = timeit.timeit(lambda: kb.related("foundations"), number=n) / n
    rows.append(("graph query kb.related(id)", f"{t * 1e6:.0f} µs"))

    rows += build_stages()
    rows += simulator_rates(kb)

    width = max(len(r[0]) for r in rows)
    print(f"inferbook bench on {platform.node()} ({platform.processor() or platform.machine()}, "
          f"{platform.python_implementation()} {platform.python_version()})")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


def build_stages() -> list[tuple[str, str]]:
    """Wall time of each build target, each in a fresh output folder."""
    import inferbook
    from inferbook.generators import TARGETS, build

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = inferbook.validate()
        rows.append(("validate (schema, graph, expressions)", f"{(time.perf_counter() - start) * 1000:.0f} ms"))
        assert result.ok
        for target in ("tables", "site", "notebooks", "pdf"):
            if TARGETS.get(target) is None:
                continue
            start = time.perf_counter()
            build([target], out=Path(tmp) / target)
            note = ""
            if target == "pdf":
                from pypdf import PdfReader

                pdf = Path(tmp) / "pdf" / "pdf" / "inferbook-handbook.pdf"
                note = f", {len(PdfReader(str(pdf)).pages)} pages"
            if target == "site":
                pages = sum(1 for _ in (Path(tmp) / "site" / "site").rglob("*.html"))
                note = f", {pages} pages"
            rows.append((f"build {target} (incl. validation)", f"{time.perf_counter() - start:.1f} s{note}"))
    return rows


def simulator_rates(kb) -> list[tuple[str, str]]:
    """Continuous-batching simulator speed on Llama 3.1 8B / H100 at 1k, 10k and 100k requests."""
    from inferbook.calc.capacity import capacity
    from inferbook.calc.roofline import Roofline, step_model
    from inferbook.calc.simulator import Lengths, SimConfig, simulate, workload

    model, gpu = kb.models["llama-3.1-8b-instruct"], kb.gpus["h100-sxm"]
    fmt = kb.formats["bf16"]
    cap = capacity(model.architecture, gpu, fmt)
    step = step_model(Roofline(model.architecture, gpu, fmt))
    rows = []
    for n in (1_000, 10_000, 100_000):
        reqs = workload(n, 20.0, Lengths("lognormal", mean=1000, high=8000), Lengths("lognormal", mean=250, high=2000),
                        seed=1)
        start = time.perf_counter()
        result = simulate(reqs, step, SimConfig(kv_capacity_tokens=cap.kv_tokens))
        elapsed = time.perf_counter() - start
        rows.append((f"simulate continuous batching, {n:,} requests",
                     f"{elapsed:.2f} s ({n / elapsed:,.0f} requests/s, {len(result.step_durations):,} steps)"))
    return rows


if __name__ == "__main__":
    main()
