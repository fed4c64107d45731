"""The test run's grouping works: under `./dev.sh test` (pytest-xdist, `--dist loadgroup`) the tests
of one module, and all tests sharing a session build, run on one worker, so each shared fixture is
built once. A pytest and pytest-xdist pair that silently stops grouping (pytest 9.2 with xdist 3.8)
fails here rather than making the suite slower."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

MODULE = '''
import os

def test_{name}_{i}():
    with open(os.environ["WORKERS_FILE"], "a") as f:
        f.write("{name} " + os.environ["PYTEST_XDIST_WORKER"] + "\\n")
'''


def test_a_modules_tests_run_on_one_worker(tmp_path: Path):
    """Two modules of eight tests each under the project's own conftest.py and pytest settings:
    every test of a module lands on the same worker."""
    (tmp_path / "tests").mkdir()
    shutil.copy(REPO / "tests" / "conftest.py", tmp_path / "tests" / "conftest.py")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    for name in ("alpha", "beta"):
        (tmp_path / "tests" / f"test_{name}.py").write_text("".join(MODULE.format(name=name, i=i) for i in range(8)))
    workers = tmp_path / "workers.txt"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
                          "--dist", "loadgroup", "tests"], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "WORKERS_FILE": str(workers)}, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    seen: dict[str, set[str]] = {}
    for line in workers.read_text().splitlines():
        name, worker = line.split()
        seen.setdefault(name, set()).add(worker)
    assert sorted(seen) == ["alpha", "beta"]
    assert all(len(w) == 1 for w in seen.values()), f"a module's tests ran on several workers: {seen}"
