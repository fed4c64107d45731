"""`inferbook serve`: serves the built site, rebuilds it when an entry changes, keeps
serving the previous build when a rebuild fails, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

SMALL_KB = Path(__file__).parent / "bad_inputs" / "_base"
"""A four-entry knowledge base: the site of the built-in one takes about 30 s to build, this one about 2 s,
and serving, rebuilding and recovering behave the same (the rebuild time of the real site is a benchmark,
`python bench/run.py`)."""
PAGE = "entries/concepts/base-concept.html"


class Served:
    """A running `inferbook serve` subprocess and everything it has printed so far."""

    def __init__(self, args: list[str], cwd: Path):
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "inferbook", "serve", *args], cwd=cwd, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, check: Callable[[], object], timeout: float, what: str) -> object:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = check()
            if result:
                return result
            if self.proc.poll() is not None:
                pytest.fail(f"serve exited with {self.proc.returncode} while waiting for {what}:\n{self.output}")
            time.sleep(0.05)
        pytest.fail(f"timed out after {timeout} s waiting for {what}; output:\n{self.output}")


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def test_serve_rebuilds_on_change_and_survives_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(SMALL_KB, kb)
    entry = kb / "concepts" / "base-concept.yaml"
    original = entry.read_text(encoding="utf-8")
    served = Served(["--kb", str(kb), "--no-builtin", "--out", str(tmp_path / "build"), "--port", "0"], cwd=tmp_path)
    try:
        match = served.wait_for(lambda: re.search(r"at (http://127\.0\.0\.1:\d+/)", served.output), 120,
                                "the URL")
        base = match.group(1)
        assert re.search(r"built site in \d+\.\d+ s", served.output)
        status, html = fetch(base + PAGE)
        assert status == 200 and "<h1>Base concept</h1>" in html
        assert fetch(base + "assets/js/site.js")[0] == 200
        assert fetch(base + "no-such-page.html")[0] == 404

        # an edit shows up without a restart
        edit = re.sub(r"(?m)^title: .*$", "title: Base concept (edited)", original, count=1)
        entry.write_text(edit, encoding="utf-8")
        edited = time.monotonic()
        served.wait_for(lambda: "<h1>Base concept (edited)</h1>" in fetch(base + PAGE)[1], 20, "the rebuilt page")
        reaction = time.monotonic() - edited
        took = served.wait_for(lambda: re.findall(r"rebuilt site in (\d+\.\d+) s \((.*)\)", served.output), 10,
                               "the rebuild message")
        assert "base-concept.yaml" in took[-1][1], served.output
        with capsys.disabled():  # shown even under -q: the numbers are the point
            print(f"\n[serve] edit visible after {reaction:.2f} s (the rebuild itself took {took[-1][0]} s)")

        # a broken entry: the findings are printed and the previous build stays up
        entry.write_text(original.replace("title: Base concept", "title: Base concept (edited)", 1) + "broken: [\n",
                         encoding="utf-8")
        served.wait_for(lambda: "build failed" in served.output, 20, "the failed rebuild")
        assert re.search(r"base-concept\.yaml:\d+:\d+: IB001 YAML syntax error", served.output), served.output
        assert "still serving the previous build" in served.output
        status, html = fetch(base + PAGE)
        assert status == 200 and "<h1>Base concept (edited)</h1>" in html

        # Ctrl-C stops cleanly
        served.proc.send_signal(signal.SIGINT)
        try:
            code = served.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the server did not stop within 30 s of Ctrl-C; it printed:\n{served.output}")
        assert code == 0, served.output
        served.reader.join(timeout=5)
        assert "Traceback" not in served.output, served.output
        assert not list((tmp_path / "build").glob(".site-*")), "a staging folder was left behind"
    finally:
        if served.proc.poll() is None:
            served.proc.kill()
            served.proc.wait(timeout=10)


def test_serve_reports_a_busy_port(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "inferbook", "serve", "--port", str(port),
                                 "--out", str(tmp_path / "build")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
