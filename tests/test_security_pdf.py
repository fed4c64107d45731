"""The PDF build prints contributor text in headless Chromium, so the browser must not
run script, read local files or reach any server, even when hostile markup gets past
the sanitizer. These tests hand `_print` a book that carries every such payload
directly (the sanitizer is bypassed on purpose) and check the printed text and a
local HTTP server that would log any request. Needs Chromium and pdftotext: missing
tools fail in CI and skip elsewhere."""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from inferbook.generators.pdf import BOOK_CSP, BOOK_ORIGIN, CHROMIUM_CANDIDATES, _BookRoutes, _print

HAVE_TOOLS = any(Path(p).exists() for p in CHROMIUM_CANDIDATES) and shutil.which("pdftotext") is not None
if not HAVE_TOOLS:
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI needs chromium and poppler-utils for the PDF tests (./dev.sh installs them)")
    pytest.skip("chromium or pdftotext missing", allow_module_level=True)

pytestmark = pytest.mark.pdf  # implies slow (tests/conftest.py)

SECRET = "local-secret-7f3a9c"


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every request with a marker and remembers its path."""

    seen: list[str] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        body = b"SERVED-BY-LOCAL-SERVICE"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def local_service():
    _Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.seen
    server.shutdown()
    server.server_close()


def _pdf_text(pdf: Path) -> str:
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(text.split())


def test_hostile_book_runs_no_script_reads_no_file_and_reaches_no_server(tmp_path, local_service):
    base, seen = local_service
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    book = tmp_path / "book"
    book.mkdir()
    (book / "style.css").write_text("body { font-family: sans-serif; }")
    (book / "book.html").write_text(f"""<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="style.css">
<link rel="stylesheet" href="{base}/sheet.css">
<meta http-equiv="refresh" content="0; url={base}/refresh">
</head><body><h1>Visible heading</h1>
<script>document.body.insertAdjacentText('beforeend', 'SCRIPT-RAN');</script>
<img src="{base}/image.png" alt="">
<iframe src="{secret.as_uri()}"></iframe>
<iframe src="{base}/frame"></iframe>
<iframe src="data:text/html,DATA-FRAME-LOADED"></iframe>
<object data="{secret.as_uri()}"></object>
<embed src="{base}/embed">
<img src="{base}/onerror" onerror="document.body.append('HANDLER-RAN')">
<a href="{base}/link">a link is printed, never followed</a>
</body></html>""")
    pdf = tmp_path / "out.pdf"
    blocked = _print(book / "book.html", pdf, "a4", "hostile")
    text = _pdf_text(pdf)
    assert "Visible heading" in text and "a link is printed" in text
    for marker in (SECRET, "SCRIPT-RAN", "HANDLER-RAN", "DATA-FRAME-LOADED", "SERVED-BY-LOCAL-SERVICE"):
        assert marker not in text
    assert seen == [], f"Chromium reached the local service: {seen}"
    # the CSP stops the sub-resources before the routes see them; the meta refresh is the one
    # request that may reach the routes, depending on whether it fires before printing starts
    assert all(url.startswith(base + "/refresh") for url in blocked), blocked


def test_book_styles_still_load(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    (book / "style.css").write_text("h1 { display: none; }")
    (book / "book.html").write_text('<!doctype html><html><head><link rel="stylesheet" href="style.css"></head>'
                                    "<body><h1>HIDDEN-BY-OWN-STYLE</h1><p>shown</p></body></html>")
    pdf = tmp_path / "out.pdf"
    assert _print(book / "book.html", pdf, "a4", "styles") == []
    text = _pdf_text(pdf)
    assert "shown" in text and "HIDDEN-BY-OWN-STYLE" not in text


class _FakeRequest:
    def __init__(self, url: str, navigation: bool):
        self.url = url
        self._navigation = navigation

    def is_navigation_request(self) -> bool:
        return self._navigation


class _FakeRoute:
    """Records what `_BookRoutes` did with one request, as Playwright's Route would carry it out."""

    def __init__(self, url: str, navigation: bool = False):
        self.request = _FakeRequest(url, navigation)
        self.outcome: tuple[str, object] | None = None

    def fulfill(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.outcome = ("fulfill", (status, body, headers or {}))

    def abort(self, reason: str) -> None:
        self.outcome = ("abort", reason)


def test_routes_serve_the_book_folder_and_refuse_everything_else(tmp_path):
    (tmp_path / "book.html").write_text("<p>book</p>")
    (tmp_path / "style.css").write_text("p {}")
    (tmp_path / "notes.txt").write_text("not a book file")
    routes = _BookRoutes(tmp_path)
    served = _FakeRoute(f"{BOOK_ORIGIN}/style.css")
    routes(served)
    assert served.outcome is not None and served.outcome[0] == "fulfill"
    status, body, headers = served.outcome[1]
    assert (status, body) == (200, b"p {}")
    assert headers["Content-Security-Policy"] == BOOK_CSP and headers["Content-Type"].startswith("text/css")
    refused = {
        "outside": _FakeRoute("http://127.0.0.1:8000/sheet.css"),
        "other type": _FakeRoute(f"{BOOK_ORIGIN}/notes.txt"),
        "climbing": _FakeRoute(f"{BOOK_ORIGIN}/../secret.txt"),
        "file": _FakeRoute((tmp_path / "style.css").as_uri()),
    }
    for route in refused.values():
        routes(route)
        assert route.outcome == ("abort", "blockedbyclient"), route.request.url
    # a refused navigation (meta refresh, frame) gets an empty 204, which leaves the book on screen
    refresh = _FakeRoute("http://127.0.0.1:8000/refresh", navigation=True)
    routes(refresh)
    assert refresh.outcome == ("fulfill", (204, b"", {}))
    assert routes.blocked == [r.request.url for r in refused.values()] + [refresh.request.url]
