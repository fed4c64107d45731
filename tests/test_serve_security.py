"""Security of `inferbook serve`: a SiteServer started on port 0 in a thread over a small site
folder, spoken to over raw sockets. Every response carries the security headers, YAML is plain
text, foreign Host headers are refused, idle connections are closed, malformed requests get a
clean error (never a traceback or a dropped connection), nothing outside the site folder is
served, and --port is checked."""

from __future__ import annotations

import email.utils
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from inferbook.cli import main
from inferbook.cli_args import PORT
from inferbook.generators.site import CSP
from inferbook.serve import IDLE_TIMEOUT_SECONDS, Refusal, SiteServer, allowed_hosts, check_host

SECURITY_HEADERS = {"x-content-type-options": "nosniff", "content-security-policy": f"{CSP}; frame-ancestors 'none'",
                    "referrer-policy": "no-referrer", "cross-origin-resource-policy": "same-origin"}
PAGE = b"<!doctype html><title>page</title><p>page</p>\n"
YAML = b"id: kv-cache\ntitle: KV cache\n"


@dataclass
class Reply:
    """A parsed HTTP response; header names are lower-case."""

    status: int
    headers: dict[str, str]
    body: bytes


def exchange(port: int, data: bytes, host: str = "127.0.0.1") -> Reply:
    """Send raw bytes, read until the server closes the connection, parse the response."""
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(data)
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    assert raw, "the server closed the connection without a response"
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    assert status_line.startswith("HTTP/1.0 "), raw
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Reply(int(status_line.split()[1]), headers, body)


def request(port: int, target: str, method: str = "GET", host: str | None = "localhost",
            version: str = "HTTP/1.1", headers: tuple[str, ...] = (), body: bytes = b"",
            to: str = "127.0.0.1") -> Reply:
    """One request built by hand (so that anything, however malformed, can be sent)."""
    lines = [f"{method} {target} {version}"] + ([f"Host: {host}"] if host is not None else []) + list(headers)
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return exchange(port, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body, host=to)


def error_body(status: int, reason: str, message: str) -> bytes:
    return f"{status} {reason}: {message}\n".encode()


@pytest.fixture(autouse=True)
def no_tracebacks(capfd: pytest.CaptureFixture[str]) -> Iterator[None]:
    """Whatever a test sends, the server prints no traceback."""
    yield
    assert "Traceback" not in capfd.readouterr().err


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A site folder with pages, a YAML source, a folder without index.html, and symlinks that
    point inside it and outside it."""
    root = tmp_path / "site"
    (root / "source" / "concepts").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>home</title>\n")
    (root / "page.html").write_bytes(PAGE)
    (root / "source" / "concepts" / "kv-cache.yaml").write_bytes(YAML)
    (root / "docs").mkdir()
    (root / "docs" / "index.html").write_text("<!doctype html><title>docs</title>\n")
    (root / "empty").mkdir()
    (root / "empty" / "listed-if-listing.txt").write_text("x")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "secret.txt").write_text("secret")
    (secret / "index.html").write_text("secret index")
    (root / "leak.txt").symlink_to(secret / "secret.txt")
    (root / "secret-dir").symlink_to(secret, target_is_directory=True)
    (root / "linked").mkdir()
    (root / "linked" / "index.html").symlink_to(secret / "index.html")
    (root / "inner.html").symlink_to(root / "page.html")
    return root


@pytest.fixture
def start() -> Iterator[Callable[..., SiteServer]]:
    """Starts SiteServers in threads (port 0) and stops them after the test."""
    started: list[SiteServer] = []

    def run(site_dir: Path, host: str = "127.0.0.1", request_timeout: float = 5.0) -> SiteServer:
        server = SiteServer((host, 0), site_dir, request_timeout=request_timeout)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        started.append(server)
        return server

    yield run
    for server in started:
        server.shutdown()
        server.server_close()


@pytest.fixture
def port(site: Path, start: Callable[..., SiteServer]) -> int:
    """The port of a server over ``site`` on 127.0.0.1."""
    return start(site).server_address[1]


def assert_secured(reply: Reply) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert reply.headers.get(name) == value, (name, reply.headers)


# 1. security headers on every response; no directory listings

def test_every_response_carries_the_security_headers(port: int) -> None:
    later = email.utils.formatdate(time.time() + 3600, usegmt=True)
    replies = {
        200: request(port, "/page.html"),
        304: request(port, "/page.html", headers=(f"If-Modified-Since: {later}",)),
        301: request(port, "/docs"),
        400: request(port, "/page.html", host="evil.example"),
        404: request(port, "/no-such-page.html"),
        405: request(port, "/page.html", method="POST", body=b"x=1"),
        414: exchange(port, b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n"),  # refused by http.server itself
        505: exchange(port, b"GET / HTTP/2.0\r\nHost: localhost\r\n\r\n"),
    }
    for status, reply in replies.items():
        assert reply.status == status
        assert_secured(reply)
    assert replies[200].body == PAGE
    assert replies[301].headers["location"] == "/docs/"
    head = request(port, "/no-such-page.html", method="HEAD")
    assert (head.status, head.body) == (404, b"")
    assert_secured(head)


def test_folders_are_never_listed(port: int) -> None:
    reply = request(port, "/empty/")
    assert reply.status == 404
    assert reply.body == error_body(404, "Not Found", "file not found")
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"
    assert_secured(reply)
    assert request(port, "/empty").status == 301  # then 404, as above
    docs = request(port, "/docs/")
    assert docs.status == 200 and b"<title>docs</title>" in docs.body


# 2. YAML is plain text

@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_yaml_is_served_as_plain_text(port: int, method: str) -> None:
    reply = request(port, "/source/concepts/kv-cache.yaml", method=method)
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.body == (YAML if method == "GET" else b"")


# 3. the Host header (DNS rebinding)

@pytest.mark.parametrize("host", ["localhost", "localhost:{port}", "LocalHost:{port}", "127.0.0.1",
                                  "127.0.0.1:{port}", "[::1]", "[::1]:{port}"])
def test_loopback_hosts_are_accepted(port: int, host: str) -> None:
    assert request(port, "/page.html", host=host.format(port=port)).status == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "localhost:{other}", "127.0.0.1:{other}",
                                  "localhost.evil.example", "127.0.0.1.nip.io:{port}", "localhost:", "::1",
                                  "192.168.1.10:{port}", ""])
def test_foreign_hosts_are_refused(port: int, host: str) -> None:
    reply = request(port, "/page.html", host=host.format(port=port, other=port + 1))
    assert reply.status == 400
    assert reply.body == error_body(400, "Bad Request", "unknown Host; open the site through localhost")
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"
    assert_secured(reply)


def test_missing_or_repeated_host_is_refused(port: int) -> None:
    missing = request(port, "/page.html", host=None)
    assert (missing.status, missing.body) == (400, error_body(400, "Bad Request", "missing Host header"))
    twice = request(port, "/page.html", headers=("Host: evil.example",))
    assert (twice.status, twice.body) == (400, error_body(400, "Bad Request", "more than one Host header"))
    # HTTP/1.0 made Host optional; browsers always send it, so this opens nothing to a web page
    assert request(port, "/page.html", host=None, version="HTTP/1.0").status == 200


def test_the_bound_address_is_accepted(site: Path, start: Callable[..., SiteServer]) -> None:
    try:
        server = start(site, host="127.0.0.2")  # all of 127/8 is loopback on Linux
    except OSError:
        pytest.skip("cannot bind 127.0.0.2 here")
    bound = server.server_address[1]
    for host in ("127.0.0.2", f"127.0.0.2:{bound}", f"localhost:{bound}", "[::1]"):
        assert request(bound, "/page.html", host=host, to="127.0.0.2").status == 200, host
    for host in ("127.0.0.3", f"127.0.0.2:{bound + 1}"):
        assert request(bound, "/page.html", host=host, to="127.0.0.2").status == 400, host


def test_allowed_hosts_and_wildcard_binds() -> None:
    allowed = allowed_hosts(["::1", "MyBox.local"], 8000)
    assert {"[::1]:8000", "mybox.local", "mybox.local:8000", "localhost", "127.0.0.1:8000"} <= allowed
    assert "mybox.local:8001" not in allowed
    check_host(["mybox.local:8000"], "HTTP/1.1", allowed, None)
    # bound to every interface (--host 0.0.0.0): any IP address is a fine Host, a name still is not
    for host in ("192.168.1.10:8000", "10.0.0.1", "[fe80::1]:8000"):
        check_host([host], "HTTP/1.1", allowed, 8000)
    for host in ("192.168.1.10:8001", "evil.example", "999.1.1.1", "[evil]"):
        with pytest.raises(Refusal, match="unknown Host"):
            check_host([host], "HTTP/1.1", allowed, 8000)


# 4. idle connections time out

def test_idle_connections_are_closed(site: Path, start: Callable[..., SiteServer]) -> None:
    default = SiteServer(("127.0.0.1", 0), site)
    default.server_close()
    assert default.request_timeout == IDLE_TIMEOUT_SECONDS == 10.0
    server = start(site, request_timeout=0.5)
    port = server.server_address[1]
    for sent in (b"", b"GET /page.html HTTP/1.1\r\nHost: localhost\r\n"):  # nothing, half a request
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(sent)
            began = time.monotonic()
            assert sock.recv(1024) == b""  # closed by the server, not by our 5 s timeout
            assert 0.3 < time.monotonic() - began < 3
    assert request(port, "/page.html").status == 200  # and it still serves


# 5. malformed requests: a clean 400/404/405/414, never a traceback or a dropped connection

@pytest.mark.parametrize(("target", "status", "message"), [
    ("/page%00.html", 400, "control character in path"),
    ("/page\x00.html", 400, "control character in path"),
    ("/page%0a.html", 400, "control character in path"),
    ("/%zz", 400, "invalid percent-encoding in path"),
    ("/page.html%4", 400, "invalid percent-encoding in path"),
    ("/%e9t%e9.html", 400, "path is not UTF-8"),
    ("/../secret/secret.txt", 400, "'.' or '..' segment in path"),
    ("/source/../page.html", 400, "'.' or '..' segment in path"),
    ("/%2e%2e/secret/secret.txt", 400, "'.' or '..' segment in path"),
    ("/..%2fsecret/secret.txt", 400, "'.' or '..' segment in path"),
    ("/./page.html", 400, "'.' or '..' segment in path"),
    ("/source\\concepts\\kv-cache.yaml", 400, "backslash in path"),
    ("/..%5csecret%5csecret.txt", 400, "backslash in path"),
    ("/" + "a" * 2100, 414, "path longer than 2048 characters"),
    ("http://evil.example/page.html", 400, "path must start with /"),
    ("*", 400, "path must start with /"),
])
def test_bad_paths_are_refused(port: int, target: str, status: int, message: str) -> None:
    reply = request(port, target)
    reason = {400: "Bad Request", 414: "Request-URI Too Long"}[status]
    assert (reply.status, reply.body) == (status, error_body(status, reason, message))
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"
    assert_secured(reply)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "BREW"])
def test_other_methods_get_405(port: int, method: str) -> None:
    reply = request(port, "/page.html", method=method, body=b"a=1" if method in ("POST", "PUT") else b"")
    assert reply.status == 405
    assert reply.headers["allow"] == "GET, HEAD"
    assert reply.body == error_body(405, "Method Not Allowed", f"{method} is not allowed; use GET or HEAD")
    assert_secured(reply)


@pytest.mark.parametrize(("raw", "body"), [
    (b"NONSENSE\r\n\r\n", error_body(400, "Bad Request", "Bad request syntax ('NONSENSE')")),
    (b"GET /page.html\r\n\r\n", error_body(400, "Bad Request", "HTTP/0.9 is not supported")),
    (b"GET /page.html HTTP/1.1 extra\r\n\r\n", error_body(400, "Bad Request", "Bad request version ('extra')")),
], ids=["one-word", "http-0.9", "four-words"])
def test_malformed_request_lines_get_400(port: int, raw: bytes, body: bytes) -> None:
    reply = exchange(port, raw)
    assert (reply.status, reply.body) == (400, body)
    assert_secured(reply)


# 7. nothing outside the site folder, symlinks included

@pytest.mark.parametrize("target", ["/leak.txt", "/secret-dir/secret.txt", "/secret-dir/", "/secret-dir",
                                    "/linked/", "/linked/index.html"])
def test_symlinks_out_of_the_site_are_not_followed(port: int, target: str) -> None:
    reply = request(port, target)
    assert (reply.status, reply.body) == (404, error_body(404, "Not Found", "file not found"))
    assert_secured(reply)


def test_symlinks_within_the_site_are_served(site: Path, port: int, tmp_path: Path,
                                             start: Callable[..., SiteServer]) -> None:
    assert request(port, "/inner.html").body == PAGE
    alias = tmp_path / "alias"  # the site folder itself behind a symlink
    alias.symlink_to(site, target_is_directory=True)
    aliased = start(alias).server_address[1]
    assert request(aliased, "/page.html").body == PAGE
    assert request(aliased, "/leak.txt").status == 404


# 6. the command line

@pytest.mark.parametrize("value", ["99999", "65536", "-1", "abc", ""])
def test_bad_ports_are_usage_errors(value: str, capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--port", value])
    assert exit_info.value.code == 2
    err = capfd.readouterr().err
    assert err.splitlines()[-1] == ("inferbook serve: error: argument --port: must be a whole number from 0 to "
                                    f"65,535 (0 picks a free port), got {value!r}")
    assert "Traceback" not in err


def test_port_range() -> None:
    assert [PORT(text) for text in ("0", "1", "8000", "65535")] == [0, 1, 8000, 65535]


def test_a_busy_port_is_one_line(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        busy = sock.getsockname()[1]
        code = main(["serve", "--port", str(busy), "--out", str(tmp_path / "build")])
    err = capfd.readouterr().err
    assert code == 1  # the port cannot be had: like any setup that cannot run
    assert err == f"inferbook serve: cannot listen on 127.0.0.1:{busy}: Address already in use\n"
