"""What lint rules share: the context they read, and helpers to locate findings.

A rule is a module `ibNNN_name.py` in this package with `CODE`, `NAME`,
`SEVERITY` (the most severe level it reports), `RATIONALE` (one line: why the
rule exists), `HINT` (one line: how to fix a finding) and `check(ctx)`, which
yields `Diagnostic`s. Rules read validated entries only; they never touch the
network or the disk.

Each layer's `_layer.yaml` may configure lint for its own entries (`lint:`):
`ignore` drops findings of those rules in its files (`lint()` applies it), and
`allowed_hosts` names hosts whose source URLs are fine there, e.g. an internal
wiki (`ctx.url_problem` applies it, for IB301 and IB302).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from ...diagnostics import Diagnostic, Severity
from ...loader import Layer, LoadedEntry
from ...schema.base import Quantity
from ...yamlio import Mark, text_position

PathT = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class LintContext:
    """The entries that passed their schema, the date rules measure age against, and the
    layers the entries came from (`LoadedEntry.layer` numbers them)."""

    entries: Mapping[str, LoadedEntry]
    today: dt.date
    layers: tuple[Layer, ...] = ()

    def layer_of(self, loaded: LoadedEntry) -> Layer | None:
        """The layer an entry was read from, when known."""
        return self.layers[loaded.layer] if 0 <= loaded.layer < len(self.layers) else None

    def url_problem(self, loaded: LoadedEntry) -> str | None:
        """`url_problem` of a source entry's URL, with the hosts its layer allows."""
        layer = self.layer_of(loaded)
        return url_problem(loaded.entry.url, layer.lint.allowed_hosts if layer else ())  # type: ignore[attr-defined]

    def of_kind(self, *kinds: str) -> Iterator[LoadedEntry]:
        """Entries of the given kinds, in id order."""
        for eid in sorted(self.entries):
            loaded = self.entries[eid]
            if loaded.kind in kinds:
                yield loaded


def at(loaded: LoadedEntry, path: PathT, code: str, severity: Severity, message: str,
       hint: str | None, prefer_key: bool = False) -> Diagnostic:
    """A finding located at the value (or key) written at ``path`` in the entry's file."""
    mark = loaded.doc.locate(path, prefer_key=prefer_key)
    return Diagnostic(loaded.display_path, mark.line, mark.col, code, message, severity=severity, hint=hint)


def in_text(loaded: LoadedEntry, path: PathT, text: str, offset: int, code: str, severity: Severity,
            message: str, hint: str | None) -> Diagnostic:
    """A finding at character ``offset`` of the text value at ``path``. Block text is
    assumed to be indented two spaces under its key, as `inferbook fmt` writes it."""
    mark = text_position(loaded.doc, path, text, offset)
    key = loaded.doc.key_marks.get(tuple(path))
    if key is not None and "\n" in text.rstrip("\n"):
        before = text[:offset]
        mark = Mark(mark.line, key.col + 2 + offset - (before.rfind("\n") + 1))
    return Diagnostic(loaded.display_path, mark.line, mark.col, code, message, severity=severity, hint=hint)


def number(value: Quantity | float | int | None) -> float | None:
    """The plain number of a sourced quantity (or of a number)."""
    if value is None:
        return None
    return value.value if isinstance(value, Quantity) else float(value)


def quantity_text(value: Quantity | None) -> str:
    """Everything written next to a sourced number: note, locator and alternatives' notes."""
    if value is None:
        return ""
    parts = [value.note or "", value.locator or ""] + [a.note for a in value.alternatives]
    return " ".join(parts)


def fmt_num(value: float) -> str:
    """A number as people write it: no trailing .0, thousands separated."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.1f}"


# URLs ------------------------------------------------------------------------
PLACEHOLDER_HOSTS = frozenset({
    "example.com", "example.org", "example.net", "example.edu", "localhost", "localhost.localdomain",
    "test.com", "foo.com", "bar.com", "domain.com", "yourdomain.com", "website.com", "url.com", "todo",
})
"""Hosts that only ever stand in for a real address (RFC 2606 names and common placeholders)."""

PLACEHOLDER_SUFFIXES = (".example", ".invalid", ".test", ".localhost", ".local", ".internal", ".lan")
"""Reserved or private top-level names that never resolve on the public internet."""

SHORTENER_HOSTS = frozenset({"bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly"})
"""Link shorteners hide the destination and break silently."""

_PLACEHOLDER_PATH = re.compile(r"(?i)\b(todo|tbd|fixme|xxx)\b")


def url_problem(url: str, allowed_hosts: Iterable[str] = ()) -> str | None:
    """Why ``url`` cannot serve as a reader's way to a source, judged from its text alone
    (nothing is fetched): not https, a placeholder or private host, an IP address, a
    link shortener, or a TODO marker. None when it looks fine. A host in ``allowed_hosts``
    (or below one: docs.wiki.internal under wiki.internal) is accepted over http or https,
    whatever its name; only a TODO marker in the URL still counts against it."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "not a valid URL"
    host = (parts.hostname or "").lower().rstrip(".")
    if host and any(host == h or host.endswith("." + h) for h in allowed_hosts) and parts.scheme in ("http", "https"):
        return "placeholder marker in the URL" if _PLACEHOLDER_PATH.search(parts.path + "?" + parts.query) else None
    if parts.scheme != "https":
        return f"{parts.scheme or 'no'} scheme, not https"
    if not host:
        return "no host"
    if host in PLACEHOLDER_HOSTS or any(host.endswith("." + h) for h in PLACEHOLDER_HOSTS) \
            or host.endswith(PLACEHOLDER_SUFFIXES) or "." not in host:
        return f"placeholder or private host '{host}'"
    try:
        ipaddress.ip_address(host.strip("[]"))
        return f"IP address '{host}' instead of a host name"
    except ValueError:
        pass
    if host in SHORTENER_HOSTS:
        return f"link shortener '{host}' hides the destination"
    if _PLACEHOLDER_PATH.search(parts.path + "?" + parts.query):
        return "placeholder marker in the URL"
    return None
