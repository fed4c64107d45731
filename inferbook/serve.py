"""`inferbook serve`: build the website, serve it on localhost and rebuild it
whenever an entry, a template or a front-end asset changes.

The first build is a full `build()` swapped into place. A background thread
polls file modification times every half second and rebuilds with
`update_site()`: the site is rendered in memory and only files whose bytes
changed are replaced (each by an atomic rename), so an edit costs a few file
writes instead of recreating some 1,600 files. A rebuild that fails prints its
findings and leaves the previous build in place (and served).
"""

from __future__ import annotations

import argparse
import http.server
import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any

POLL_SECONDS = 0.5
WATCHED_SUFFIXES = {".yaml", ".yml"}


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


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the server's current site folder, resolved again for every request."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".js": "text/javascript", ".json": "application/json", ".svg": "image/svg+xml",
                      ".yaml": "text/plain; charset=utf-8", ".yml": "text/plain; charset=utf-8"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        server = args[2]
        super().__init__(*args, directory=str(server.site_dir), **kwargs)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # only problems, not every request
        return

    def log_error(self, format: str, *args: Any) -> None:
        _say(f"{self.address_string()} {format % args}", err=True)


class SiteServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], site_dir: Path):
        self.site_dir = site_dir
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, SiteHandler)


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
        from .generators import build, update_site
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
    from .api import kb_folders

    out = Path(args.out)
    site = out / "site"
    try:
        server = SiteServer((args.host, args.port), site)
    except OSError as exc:
        _say(f"inferbook serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", err=True)
        return 2
    rebuilder = Rebuilder(kb_folders(args.kb or None), out, args.kb or None)
    with server:
        try:
            if not rebuilder.build() and not site.is_dir():
                _say("no previous build to serve; fix the errors above and the site will be built", err=True)
            host, port = server.server_address[:2]
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
    p = sub.add_parser("serve", parents=[common],
                       help="build the website, serve it on localhost and rebuild it on every change")
    p.add_argument("--out", default="build", metavar="DIR", help="output folder (default: build/; serves DIR/site)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.set_defaults(func=cmd_serve)
