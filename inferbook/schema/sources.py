"""Citable documents."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from .base import EntryBase, NoteText, PartialDate, ShortText, Url

SourceKind = Literal[
    "datasheet", "whitepaper", "paper", "model-config", "model-card", "docs", "blog",
    "code", "benchmark", "spec", "book", "talk", "price-list",
]


class Source(EntryBase):
    """A document that entries cite: datasheet, paper, model config, documentation page."""

    kind: SourceKind
    """What sort of document it is."""
    url: Url
    """Where to read it."""
    publisher: ShortText | None = None
    """Organisation that published it (vendor, project, venue)."""
    authors: tuple[ShortText, ...] = ()
    """Authors, for papers and posts."""
    published: PartialDate | None = None
    """Publication or revision date, as precise as known."""
    accessed: dt.date
    """Date the content was read for this knowledge base."""
    secondary: bool = False
    """True when the document reports another party's figures (press coverage, a third-party spec
    database, a retailer listing) instead of being the maker's own publication. Numbers that rest on
    a secondary source are marked on the site and listed by ``inferbook provenance``."""
    notes: NoteText | None = None
    """Revision, version or anything needed to find the same text again."""
