"""Helpers shared by the benchmark sections: timing, peak memory, installs, fits."""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
Row = tuple[str, str]


def fmt_s(seconds: float) -> str:
    """Seconds shown in a readable unit."""
    if seconds < 1e-5:
        return f"{seconds * 1e6:.2f} µs"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.0f} ms"
    return f"{seconds:.2f} s"


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """Fastest wall time of ``repeat`` calls (seconds)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def per_call(fn: Callable[[], object], min_seconds: float = 0.3) -> float:
    """Seconds per call: the call repeated until ``min_seconds`` have passed, best of 3 such runs."""
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        took = time.perf_counter() - start
        if took >= min_seconds / 10 or n >= 1_000_000:
            break
        n *= 10
    n = max(1, int(n * (min_seconds / 3) / max(took, 1e-9)))
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - start) / n)
    return min(runs)


_MEASURE = """\
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode
took = time.perf_counter() - start
sys.stdout.write(f"{code} {took} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
"""


def wall_and_rss(cmd: Sequence[str], repeat: int = 5, cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> tuple[float, float]:
    """Median wall time (s) and peak RSS (MiB) of a command run ``repeat`` times, with GNU
    time. Without it (Debian package `time`), a small Python parent runs the command and
    reports its wall time and maximum resident set size (getrusage of its only child;
    that figure also counts the parent's pages before exec, about 3 MiB more)."""
    times, rss = [], []
    if Path("/usr/bin/time").exists():
        for _ in range(repeat):
            start = time.perf_counter()
            proc = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True, cwd=cwd,
                                  env=env, check=False)
            times.append(time.perf_counter() - start)
            if proc.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-500:]}")
            rss.append(int(proc.stderr.strip().splitlines()[-1]) / 1024)
        return statistics.median(times), max(rss)
    for _ in range(repeat):
        proc = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], capture_output=True, text=True, cwd=cwd,
                              env=env, check=False)
        try:
            code, took, maxrss = proc.stdout.split()
        except ValueError:
            raise RuntimeError(f"measuring {' '.join(cmd)} failed: {proc.stderr.strip()[-500:]}") from None
        if code != "0":
            raise RuntimeError(f"{' '.join(cmd)} exited with {code}")
        times.append(float(took))
        rss.append(int(maxrss) / 1024)  # KiB on Linux
    return statistics.median(times), max(rss)


def best_wall(cmd: Sequence[str], repeat: int = 3, cwd: Path | None = None, env: dict[str, str] | None = None,
              before: Callable[[], object] | None = None) -> float:
    """Fastest wall time (s) of a command; ``before`` runs (untimed) ahead of each try."""
    best = math.inf
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        proc = subprocess.run(list(cmd), capture_output=True, text=True, cwd=cwd, env=env, check=False)
        took = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}): "
                               f"{(proc.stderr or proc.stdout).strip()[-800:]}")
        best = min(best, took)
    return best


MEMORY_DIR = Path("/dev/shm")


def memory_dir() -> Path | None:
    """A RAM-backed folder (tmpfs) with room for the scale runs, if this machine has one."""
    try:
        if MEMORY_DIR.is_dir() and os.access(MEMORY_DIR, os.W_OK):
            st = os.statvfs(MEMORY_DIR)
            if st.f_bavail * st.f_frsize > 3 * 1024**3:
                return MEMORY_DIR
    except OSError:
        pass
    return None


def scratch(prefix: str) -> tempfile.TemporaryDirectory[str]:
    """A temporary folder in RAM when possible (timings free of the disk's write-back),
    else in the default temporary folder."""
    return tempfile.TemporaryDirectory(prefix=prefix, dir=memory_dir())


def has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def pip_install(*requirements: str) -> str | None:
    """Install into this interpreter's environment; None on success, else the reason it failed."""
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           *requirements], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [line for line in (proc.stderr or proc.stdout).strip().splitlines() if line.strip()]
        return f"pip install {' '.join(requirements)} failed: {lines[-1] if lines else proc.returncode}"
    importlib.invalidate_caches()
    return None


def apt_install(package: str, command: str) -> str | None:
    """Make ``command`` available through apt-get when root; None when it is there, else why not."""
    if shutil.which(command):
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return f"{command} not installed (apt-get install {package} needs root on Debian)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for attempt in (["apt-get", "install", "-y", "-qq", package], ["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", package]):
        proc = subprocess.run(attempt, capture_output=True, text=True, env=env, check=False)
        if attempt[1] == "install" and proc.returncode == 0 and shutil.which(command):
            return None
    tail = (proc.stderr or proc.stdout).strip().splitlines()
    return f"apt-get install {package} failed: {tail[-1] if tail else proc.returncode}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def loglog_slope(sizes: Sequence[float], times: Sequence[float]) -> float:
    """Least-squares slope of log(time) against log(size): 1 is linear, 2 quadratic."""
    xs = [math.log(s) for s in sizes]
    ys = [math.log(t) for t in times]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
