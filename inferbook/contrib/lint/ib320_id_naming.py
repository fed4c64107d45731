"""IB320: ids that do not follow the naming conventions of their kind."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from ...diagnostics import Diagnostic, Severity
from .base import LintContext, at

CODE = "IB320"
NAME = "id-naming"
SEVERITY: Severity = "warning"
RATIONALE = ("Ids are permanent URLs and lookup keys; predictable ids (a model's Hugging Face name, a "
             "source prefix that says where it lives) let contributors find an entry before creating a "
             "duplicate.")
HINT = "rename the file and id now, before other entries link to it (a later rename needs a redirect)"

MAX_LENGTH = 60
TEMPORARY = re.compile(r"(^|-)(new|old|copy|tmp|temp|draft|wip|todo|untitled)(-|$)")


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[-_\s]+", text.lower()) if t]


def _is_subsequence(needle: list[str], haystack: list[str]) -> bool:
    it = iter(haystack)
    return all(any(tok == h for h in it) for tok in needle)


def _source_problem(sid: str, url: str) -> str | None:
    host = (urlsplit(url).hostname or "").lower()
    prefix = next((p for p in ("hf-card-", "hf-config-") if sid.startswith(p)), None)
    if prefix and host not in ("huggingface.co", "hf.co"):
        return f"'{prefix}' ids name Hugging Face pages, but the url is on {host}"
    if sid.startswith("hf-config-") and not url.rstrip("/").endswith(".json"):
        return "'hf-config-' ids name a config.json file"
    match = re.match(r"^arxiv-(\d{4}\.\d{4,5})$", sid)
    if match and match.group(1) not in url:
        return f"id names arXiv {match.group(1)} but the url does not"
    return None


def check(ctx: LintContext) -> Iterator[Diagnostic]:
    for loaded in ctx.entries.values():
        eid = loaded.entry.id
        if len(eid) > MAX_LENGTH:
            yield at(loaded, ("id",), CODE, SEVERITY, f"id is {len(eid)} characters (at most {MAX_LENGTH})", HINT)
        if TEMPORARY.search(eid) and loaded.kind != "redirects":
            yield at(loaded, ("id",), CODE, SEVERITY, f"id '{eid}' looks like a working name", HINT)
        if loaded.kind == "models":
            repo = loaded.entry.hf_repo.split("/")[-1]  # type: ignore[attr-defined]
            if not _is_subsequence(_tokens(eid), _tokens(repo)):
                yield at(loaded, ("id",), CODE, SEVERITY,
                         f"model id '{eid}' is not the Hugging Face name '{repo}' in lower case "
                         f"(words may be dropped, not changed)", HINT)
        elif loaded.kind == "sources":
            problem = _source_problem(eid, loaded.entry.url)  # type: ignore[attr-defined]
            if problem:
                yield at(loaded, ("id",), CODE, SEVERITY, problem, HINT)
