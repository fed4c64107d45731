"""Redirects: ids that no longer name an entry, and where their content went."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import ANY_KIND, EntryBase, EntryId, Ref, ShortText


class Redirect(EntryBase):
    """A retired id. `moved` points at the one entry that replaced it (the API
    resolves the old id to it with a DeprecationWarning, the site serves a redirect
    page); `split` lists the entries its content went to (the API raises KeyError
    naming them, the site serves a page that links to each). The file name is the
    old id; `title` is the title the entry had."""

    kind: Literal["moved", "split"]
    """`moved`: renamed or merged into one entry; `split`: divided among several."""
    targets: tuple[Annotated[EntryId, Ref(ANY_KIND, "redirects_to")], ...] = Field(min_length=1)
    """Ids of the live entries that now hold the content (exactly one for `moved`)."""
    date: dt.date
    """When the id was retired (YYYY-MM-DD)."""
    reason: ShortText
    """Why, in a few words (e.g. "renamed to match the Hugging Face repository")."""

    @model_validator(mode="after")
    def _targets_match_kind(self) -> Redirect:
        if self.kind == "moved" and len(self.targets) != 1:
            raise ValueError("a moved redirect has exactly one target; use kind: split for several")
        if self.kind == "split" and len(self.targets) < 2:
            raise ValueError("a split redirect has at least two targets; use kind: moved for one")
        if len(set(self.targets)) != len(self.targets):
            raise ValueError("targets must not repeat")
        if self.aliases:
            raise ValueError("redirects take no aliases; give them to the target entry")
        return self
