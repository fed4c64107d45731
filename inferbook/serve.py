"""`inferbook serve`: build the website, serve it on localhost and rebuild it
whenever an entry, a template or a front-end asset changes.

The first build is a full `build()` swapped into place. A background thread
polls file modification times every half second and rebuilds with
`update_site()`: the site is rendered in memory and only files whose bytes
changed are replaced (each by an atomic rename), so an edit costs a few file
writes instead of recreating some 1,600 files. A rebuild that fails prints its
findings and leaves the previous build in place (and served).

The server is for a browser on the same machine and refuses anything else:
requests whose Host header names another host (DNS rebinding), methods other
than GET and HEAD, malformed paths and files outside the site folder (symlinks
included) get a short plain-text error; directories are never listed; every
response carries the site's Content-Security-Policy and nosniff; idle
connections are closed after IDLE_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import argparse
import http.server
import ipaddress
import re
import socket
import sys
import threading
import time
import traceback
import urllib.parse
from collections.abc import Iterable
from http import HTTPStatus
from pathlib import Path
from typing import Any

POLL_SECONDS = 0.5
WATCHED_SUFFIXES = {".yaml", ".yml"}
IDLE_TIMEOUT_SECONDS = 10.0  # a connection that sends nothing for this long is closed
MAX_PATH_CHARS = 2048  # longer request targets get 414
MAX_DISCARDED_BODY = 64 * 1024  # a refused request's body up to this size is read before answering
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_IP_HOST = re.compile(r"(?:\[(?P<v6>[0-9a-f:.]+)\]|(?P<v4>[0-9.]+))(?::(?P<port>[0-9]{1,5}))?")


def _say(text: str, err: bool = False) -> None:
    print(text, file=sys.stderr if err else sys.stdout, flush=True)


def watched_files(kb_dirs: Iterable[Path], site_dir: Path) -> dict[Path, tuple[int, int]]:
    """(mtime_ns, size) of every YAML file under the KB folders and every file under
    ``site_dir`` (the site generator's templates and static assets)."""
    found: dict[Path, tuple[int, int]] = {}

    def add(path: Path) -> None:
        try:
            st = path.stat()
        except OSError:  # removed while we looked
            return
        found[path] = (st.st_mtime_ns, st.st_size)

    for folder in kb_dirs:
        for path in folder.rglob("*"):
            if path.suffix in WATCHED_SUFFIXES and path.is_file():
                add(path)
    if site_dir.is_dir():
        for path in site_dir.rglob("*"):
            if path.is_file() and not path.name.startswith(".") and not path.name.endswith("~"):
                add(path)
    return found


def changed_paths(old: dict[Path, Any], new: dict[Path, Any]) -> list[Path]:
    """Files added, removed or modified between two snapshots."""
    return sorted(p for p in old.keys() | new.keys() if old.get(p) != new.get(p))


class Refusal(Exception):
    """A request answered with an error status and a short plain-text message."""

    def __init__(self, status: HTTPStatus, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def security_headers() -> dict[str, str]:
    """Headers sent with every response: the CSP the pages declare in their <meta> tag, plus
    frame-ancestors, which only works as a header (no other site may frame these pages)."""
    from .generators.site import CSP

    return {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": f"{CSP}; frame-ancestors 'none'",
            "Referrer-Policy": "no-referrer", "Cross-Origin-Resource-Policy": "same-origin"}


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def allowed_hosts(bound: Iterable[str], port: int) -> frozenset[str]:
    """Host header values that name this server: the loopback names and the addresses it was
    bound to, each bare or with ``:port``, lower-case."""
    names = set(LOOPBACK_HOSTS) | {_bracketed(host.lower()) for host in bound if host}
    return frozenset(names | {f"{name}:{port}" for name in names})


def is_ip_host(value: str, port: int) -> bool:
    """Whether a Host value is an IP address (IPv6 in brackets), bare or with this ``port``."""
    match = _IP_HOST.fullmatch(value)
    if not match or (match["port"] is not None and int(match["port"]) != port):
        return False
    try:
        ipaddress.ip_address(match["v6"] or match["v4"])
    except ValueError:
        return False
    return True


def check_host(values: list[str], version: str, allowed: frozenset[str], any_ip_port: int | None) -> None:
    """Refuse a request whose Host header names another host (a DNS-rebinding page), is repeated,
    or is missing (allowed only in HTTP/1.0). ``any_ip_port``: the port, when the server listens
    on every interface and so accepts any IP address as the host."""
    if not values:
        if version == "HTTP/1.0":
            return
        raise Refusal(HTTPStatus.BAD_REQUEST, "missing Host header")
    host = values[0].strip().lower()
    if len(values) > 1:
        raise Refusal(HTTPStatus.BAD_REQUEST, "more than one Host header")
    if host in allowed or (any_ip_port is not None and is_ip_host(host, any_ip_port)):
        return
    raise Refusal(HTTPStatus.BAD_REQUEST, "unknown Host; open the site through localhost")


def check_method(method: str) -> None:
    """Refuse every method but GET and HEAD."""
    if method not in ("GET", "HEAD"):
        raise Refusal(HTTPStatus.METHOD_NOT_ALLOWED, f"{method} is not allowed; use GET or HEAD",
                      {"Allow": "GET, HEAD"})


def decode_path(target: str) -> str:
    """The decoded path of a request target (query dropped); refuses a target that is too long,
    not a plain path, badly percent-encoded, not UTF-8, or that holds control characters,
    backslashes or '.'/'..' segments."""
    if len(target) > MAX_PATH_CHARS:
        raise Refusal(HTTPStatus.REQUEST_URI_TOO_LONG, f"path longer than {MAX_PATH_CHARS} characters")
    path = target.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        raise Refusal(HTTPStatus.BAD_REQUEST, "path must start with /")
    if _BAD_ESCAPE.search(path):
        raise Refusal(HTTPStatus.BAD_REQUEST, "invalid percent-encoding in path")
    try:
        decoded = urllib.parse.unquote(path, errors="strict")
    except UnicodeDecodeError:
        raise Refusal(HTTPStatus.BAD_REQUEST, "path is not UTF-8") from None
    if any(ord(char) < 0x20 or char == "\x7f" for char in decoded):
        raise Refusal(HTTPStatus.BAD_REQUEST, "control character in path")
    if "\\" in decoded:
        raise Refusal(HTTPStatus.BAD_REQUEST, "backslash in path")
    if {".", ".."} & set(decoded.split("/")):
        raise Refusal(HTTPStatus.BAD_REQUEST, "'.' or '..' segment in path")
    return decoded


def resolve_in_site(root: Path, relative: str) -> Path | None:
    """The real path of ``relative`` under ``root``, symlinks followed; None when it does not
    exist or lies outside ``root``."""
    try:
        real_root = root.resolve(strict=True)
        found = (real_root / relative).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, unreadable, a symlink loop
        return None
    return found if found.is_relative_to(real_root) else None


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the server's current site folder, resolved again for every request."""

    server: SiteServer
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript", ".json": "application/json", ".svg": "image/svg+xml",
                      ".yaml": "text/plain; charset=utf-8", ".yml": "text/plain; charset=utf-8"}
    url_path = "/"  # the decoded path of the request, set by parse_request
    target: Path | None = None  # the file send_head found for it

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        server = args[2]
        super().__init__(*args, directory=str(server.site_dir), **kwargs)

    def setup(self) -> None:
        # applied to the socket by StreamRequestHandler
        self.timeout = self.server.request_timeout  # type: ignore[misc]  # typeshed: ClassVar; an instance value works
        super().setup()

    def parse_request(self) -> bool:
        """Parse the request line and headers, then refuse what this server does not serve."""
        if not super().parse_request():
            return False
        try:
            if self.request_version == "HTTP/0.9":
                raise Refusal(HTTPStatus.BAD_REQUEST, "HTTP/0.9 is not supported")
            check_host(self.headers.get_all("Host") or [], self.request_version,
                       self.server.allowed_hosts, self.server.any_ip_port)
            check_method(self.command)
            self.url_path = decode_path(self.path)
        except Refusal as refusal:
            self._discard_body()
            self.send_error(refusal.status, refusal.message, headers=refusal.headers)
            return False
        return True

    def _discard_body(self) -> None:
        """Read a small request body, so that closing the connection does not reset it before
        the client has read the answer."""
        try:
            length = int(self.headers.get("Content-Length", 0))
        except ValueError:
            return
        if 0 < length <= MAX_DISCARDED_BODY:
            self.rfile.read(length)

    def send_head(self) -> Any:
        """Find the requested file inside the site folder (a folder's index.html, never a listing)
        and let the standard send_head answer with it, conditional requests included."""
        relative = self.url_path.lstrip("/")
        found = resolve_in_site(Path(self.directory), relative)
        if found is not None and found.is_dir():
            if not self.url_path.endswith("/"):
                path, mark, query = self.path.partition("?")
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", f"{path}/{mark}{query}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            found = resolve_in_site(Path(self.directory), relative + "index.html")
        if found is None or not found.is_file():
            self.send_error(HTTPStatus.NOT_FOUND, "file not found")
            return None
        self.target = found
        return super().send_head()

    def translate_path(self, path: str) -> str:
        """The file send_head found (the standard send_head asks for it by URL)."""
        return str(self.target)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None,
                   headers: dict[str, str] | None = None) -> None:
        """Log the error and answer with a one-line plain-text body (the standard one is HTML)."""
        if self.request_version == "HTTP/0.9":  # a malformed request line: answer with headers anyway
            self.request_version = "HTTP/1.0"
        reason = self.responses.get(code, ("Error",))[0]
        self.log_error("code %d, message %s", code, message or reason)
        body = f"{int(code)} {reason}{f': {message}' if message else ''}\n".encode("utf-8", "replace")
        self.send_response(code)
        self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if code >= 200 and code not in (HTTPStatus.NO_CONTENT, HTTPStatus.RESET_CONTENT, HTTPStatus.NOT_MODIFIED):
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        else:
            self.end_headers()

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        for name, value in self.server.security_headers.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # only problems, not every request
        return

    def log_error(self, format: str, *args: Any) -> None:
        _say(f"{self.address_string()} {format % args}", err=True)


class SiteServer(http.server.ThreadingHTTPServer):
    """Serves ``site_dir`` to this machine's browser; ``request_timeout`` closes idle connections."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], site_dir: Path, request_timeout: float = IDLE_TIMEOUT_SECONDS):
        self.site_dir = site_dir
        self.request_timeout = request_timeout
        self.security_headers = security_headers()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, SiteHandler)
        host, port = self.server_address[:2]
        self.allowed_hosts = allowed_hosts((address[0], str(host)), port)
        wildcard = address[0] in ("", "0.0.0.0", "::")
        self.any_ip_port: int | None = port if wildcard else None

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line, no traceback; a client that hung up or went quiet is not worth a line."""
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, TimeoutError)):
            _say(f"{client_address[0]} request failed: {exc!r}", err=True)


class Rebuilder:
    """Builds the site and, in a background thread, rebuilds it when watched files change."""

    def __init__(self, kb_dirs: list[Path], out: Path, kb_arg: list[str] | None):
        from .paths import generators_dir

        self.kb_dirs = kb_dirs
        self.kb_arg = kb_arg
        self.out = out
        self.assets = generators_dir() / "site"
        self.snapshot = watched_files(kb_dirs, self.assets)
        self.manifest: dict[str, str] | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="inferbook-serve-watch", daemon=True)

    def build(self, reason: str = "") -> bool:
        """Build once; print the time it took, or the findings when it fails. True on success.
        The first build is a full, atomic one; later ones (``reason`` given) rewrite only the
        files whose bytes changed (`update_site`), which is what keeps a rebuild fast."""
        from .diagnostics import KnowledgeBaseError, render
        from .generators import BuildError, build, update_site
        from .generators.output import folder_manifest

        start = time.perf_counter()
        detail = ""
        try:
            if reason and (self.out / "site").is_dir():
                result = update_site(kb=self.kb_arg, out=self.out, previous=self.manifest)
                self.manifest = result.manifest
                detail = f"; {result.written} file(s) written, {result.removed} removed"
            else:
                build(["site"], kb=self.kb_arg, out=self.out)
                self.manifest = folder_manifest(self.out / "site")
        except KnowledgeBaseError as exc:
            _say(render(exc.diagnostics), err=True)
            _say(f"build failed: {len(exc.diagnostics)} error(s); still serving the previous build", err=True)
            return False
        except (BuildError, OSError) as exc:  # a foreign or unwritable output folder, a full disk
            _say(f"build failed: {exc}; still serving the previous build", err=True)
            return False
        except Exception:  # a template or generator error: report it and keep serving
            _say(traceback.format_exc().rstrip(), err=True)
            _say("build failed; still serving the previous build", err=True)
            return False
        took = time.perf_counter() - start
        _say(f"{'rebuilt' if reason else 'built'} site in {took:.2f} s{f' ({reason}{detail})' if reason else ''}")
        return True

    def start(self) -> None:
        self.thread.start()

    def _watch(self) -> None:
        while not self.stop.wait(POLL_SECONDS):
            current = watched_files(self.kb_dirs, self.assets)
            changed = changed_paths(self.snapshot, current)
            if not changed:
                continue
            # let an editor finish writing (several files, or write-then-rename) before building
            while not self.stop.wait(0.1):
                settled = watched_files(self.kb_dirs, self.assets)
                if settled == current:
                    break
                changed = sorted(set(changed) | set(changed_paths(current, settled)))
                current = settled
            self.snapshot = current
            names = ", ".join(_short(p) for p in changed[:3]) + (f" and {len(changed) - 3} more"
                                                                  if len(changed) > 3 else "")
            self.build(f"{names} changed")


def _short(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def cmd_serve(args: argparse.Namespace) -> int:
    from .extras import require
    from .paths import source_kb_dirs

    require("site", "this command")  # a missing extra or, in an installed package, no --kb: usage errors
    kb_dirs = source_kb_dirs(args.kb)
    out = Path(args.out)
    site = out / "site"
    try:
        server = SiteServer((args.host, args.port), site)
    except OSError as exc:
        _say(f"inferbook serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", err=True)
        return 1  # cannot run here (exit codes: README)
    rebuilder = Rebuilder(kb_dirs, out, args.kb or None)
    with server:
        try:
            if not rebuilder.build() and not site.is_dir():
                _say("no previous build to serve; fix the errors above and the site will be built", err=True)
            host, port = server.server_address[:2]
            assert isinstance(host, str)  # server_bind stores getsockname(), whose host is text
            shown = f"[{host}]" if ":" in str(host) else host
            _say(f"serving {site} at http://{shown}:{port}/ (Ctrl-C to stop)")
            rebuilder.start()
            server.serve_forever(poll_interval=0.25)
        except KeyboardInterrupt:
            _say("stopping")
        finally:
            rebuilder.stop.set()
            if rebuilder.thread.is_alive():
                rebuilder.thread.join(timeout=60)  # let a running rebuild finish its atomic swap
    return 0


def add_serve_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register `inferbook serve` on the CLI."""
    from . import cli_args as opt

    p = sub.add_parser("serve", parents=[common],
                       help="build the website, serve it on localhost and rebuild it on every change")
    p.add_argument("--out", default="build", metavar="DIR", help="output folder (default: build/; serves DIR/site)")
    p.add_argument("--port", type=opt.PORT, default=8000, help=opt.helptext("port to listen on", opt.PORT))
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.set_defaults(func=cmd_serve)
