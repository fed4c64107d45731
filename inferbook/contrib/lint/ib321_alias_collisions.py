"""IB321: names that differ only in case, spacing or punctuation, across entries or within one."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ...diagnostics import Diagnostic, Severity
from .base import LintContext, PathT, at

CODE = "IB321"
NAME = "alias-collisions"
SEVERITY: Severity = "warning"
RATIONALE = ("Search and lookups match names loosely; two entries whose names differ only in spacing or "
             "punctuation ('H100 SXM' and 'H100-SXM') send readers to the wrong one, and repeated aliases "
             "are noise (exact collisions are already error IB205).")
HINT = "keep each name on the one entry it belongs to, and list an alias once"


def normalise(name: str) -> str:
    """A name reduced to lower-case letters and digits."""
    return re.sub(r"[^0-9a-z]+", "", name.lower())


def check(ctx: LintContext) -> Iterator[Diagnostic]:
    live = [le for _, le in sorted(ctx.entries.items()) if le.kind != "redirects"]
    owner: dict[str, tuple[str, str]] = {normalise(le.entry.id): (le.entry.id, le.entry.id) for le in live}
    for loaded in live:
        entry = loaded.entry
        earlier: dict[str, int] = {}
        names: list[tuple[PathT, str, str]] = [(("title",), entry.title, "title")]
        names += [(("aliases", i), alias, "alias") for i, alias in enumerate(entry.aliases)]
        for path, name, what in names:
            if what == "alias":
                if name.lower() in earlier:
                    yield at(loaded, path, CODE, SEVERITY,
                             f"alias '{name}' repeats aliases.{earlier[name.lower()]}", HINT)
                    continue
                earlier[name.lower()] = int(path[1])
            key = normalise(name)
            if not key:
                continue
            other_id, other_name = owner.setdefault(key, (entry.id, name))
            if other_id != entry.id and name.lower() != other_name.lower():  # same spelling: IB205
                yield at(loaded, path, CODE, SEVERITY,
                         f"{what} '{name}' differs only in case, spacing or punctuation from "
                         f"'{other_name}' of '{other_id}'", HINT)
