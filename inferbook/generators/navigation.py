"""Where a page of the website sits in the handbook: its breadcrumb trail, the chapter
sidebar of the book pages, and its previous and next pages.

The book reads as one chain: each chapter's page, then its articles in reading order
(`KnowledgeBase.chapter_entries`), then the next chapter's page. Reference entries (GPUs,
models, formats, frameworks, offers) follow their catalogue's order (by id, as the
catalogue tables list them); sources follow the bibliography's numbering.

Every link is a dict with "title" and "path" (relative to the site root); the current page
in a breadcrumb trail has no path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..kb import KnowledgeBase

Link = dict[str, Any]

HOME: Link = {"title": "Home", "path": "index.html"}
INDEXES: dict[str, Link] = {
    "gpus": {"title": "GPUs", "path": "catalog/gpus.html"},
    "models": {"title": "Models", "path": "catalog/models.html"},
    "formats": {"title": "Formats", "path": "catalog/formats.html"},
    "frameworks": {"title": "Frameworks", "path": "catalog/frameworks.html"},
    "offers": {"title": "Prices", "path": "catalog/offers.html"},
    "sources": {"title": "Bibliography", "path": "bibliography.html"},
    "tools": {"title": "Tools", "path": "tools/index.html"},
}
"""The page that lists every entry of a kind (and every tool): the middle step of its
pages' breadcrumbs."""


def trail(title: str, *parents: Link) -> list[Link]:
    """A breadcrumb trail: Home, the ``parents`` in order, then the current page."""
    return [HOME, *({"title": p["title"], "path": p["path"]} for p in parents), {"title": title, "path": None}]


class Navigation:
    """Breadcrumbs, sidebar and previous/next links of one knowledge base's pages.

    ``link`` turns an entry id into a link dict (the site builder's `SiteBuilder.link`);
    ``source_order`` lists the source ids in bibliography order."""

    def __init__(self, kb: KnowledgeBase, link: Callable[[str], Link], source_order: list[str]):
        self.kb = kb
        self.link = link
        self.source_order = source_order

    @functools.cached_property
    def chapters(self) -> list[tuple[Any, list[str]]]:
        """(chapter, its article ids in reading order) for every chapter, by number."""
        ordered = sorted(self.kb.chapters.values(), key=lambda c: c.number)
        return [(ch, [e.id for e in self.kb.chapter_entries(ch.id)]) for ch in ordered]

    @functools.cached_property
    def reading_chain(self) -> list[str]:
        """Chapter pages and articles in the order a reader goes through the book."""
        return [eid for ch, articles in self.chapters for eid in (ch.id, *articles)]

    def _neighbours(self, order_name: str, eid: str) -> dict[str, Link | None]:
        order, position = self._orders[order_name]
        i = position[eid]
        return {"prev": self.link(order[i - 1]) if i > 0 else None,
                "next": self.link(order[i + 1]) if i + 1 < len(order) else None}

    @functools.cached_property
    def _orders(self) -> dict[str, tuple[list[str], dict[str, int]]]:
        """Each order (the book's chain, each kind's catalogue) with every id's position in it."""
        orders = {kind: sorted(self.kb.kind(kind)) for kind in ("gpus", "models", "formats", "frameworks", "offers")}
        orders["sources"] = list(self.source_order)
        orders["book"] = self.reading_chain
        return {name: (ids, {eid: i for i, eid in enumerate(ids)}) for name, ids in orders.items()}

    def sidebar(self, current: str) -> list[dict[str, Any]]:
        """The book's chapters, each with its page and articles; the chapter holding
        ``current`` is open and ``current`` itself is marked."""
        out = []
        for ch, articles in self.chapters:
            entries = [{**self.link(a), "current": a == current} for a in articles]
            out.append({"title": ch.title, "number": ch.number, "path": self.link(ch.id)["path"],
                        "current": ch.id == current, "open": ch.id == current or current in articles,
                        "entries": entries})
        return out

    def chapter(self, cid: str) -> dict[str, Any]:
        """Navigation of a chapter page."""
        ch = self.kb.chapters[cid]
        return {"breadcrumbs": trail(f"{ch.number}. {ch.title}"), "sidebar": self.sidebar(cid),
                **self._neighbours("book", cid)}

    def article(self, eid: str) -> dict[str, Any]:
        """Navigation of an article (concept, metric, technique): Home › its chapter › it."""
        entry = self.kb.get(eid)
        ch = self.kb.chapters[entry.chapter]  # type: ignore[attr-defined]
        parent = {"title": f"{ch.number}. {ch.title}", "path": self.link(ch.id)["path"]}
        return {"breadcrumbs": trail(entry.title, parent), "sidebar": self.sidebar(eid),
                **self._neighbours("book", eid)}

    def spec(self, kind: str, eid: str) -> dict[str, Any]:
        """Navigation of a reference entry: Home › its kind's index › it, and its neighbours
        in catalogue order."""
        entry = self.kb.kind(kind)[eid]
        return {"breadcrumbs": trail(entry.title, INDEXES[kind]),
                **self._neighbours(kind, eid)}
