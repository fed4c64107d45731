"""For readers who use assistants: `llms.txt`, `llms-full.txt` and a Markdown copy of every
entry page, written beside the HTML from the same data.

- `entries/<kind>/<id>.md` (and `chapters/<id>.md`): the page as Markdown: title, summary,
  the body with every `{{ expression }}` evaluated, links between entries pointing at the other
  Markdown copies, figures as their caption and alt text, formulas as LaTeX, FAQ, worked
  problems with their computed answers, and the sources. Spec pages (GPUs, models, formats,
  frameworks, offers, sources) list their fields.
- `llms.txt`: the handbook's map in the llms.txt convention (a title, a one-line summary, then
  sections of links with a note each), pointing at the Markdown copies.
- `llms-full.txt`: every chapter and article in reading order, in one file.

Text stays Markdown; nothing here is HTML, so the copies need no sanitizer. Entry text is
contributors' Markdown already checked at load (no raw HTML, safe links).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from ..expressions import Evaluator
from ..kb import KnowledgeBase
from ..schema.base import ARTICLE_KINDS, Quantity
from .output import Output

SPEC_KINDS = ("gpus", "models", "formats", "frameworks", "offers", "sources")
"""Kinds whose pages are field tables rather than articles."""
_ENTRY_LINK = re.compile(r"\]\(([a-z0-9]+(?:[.-][a-z0-9]+)*)\)")
_FIGURE = re.compile(r"^\[\[figure:([a-z0-9-]+)\]\]$", re.MULTILINE)
_FIGURE_REFERENCE = re.compile(r"\[\[figure:([a-z0-9-]+)\]\]")
"""A figure named inside a sentence (after the placed ones are replaced, every one left)."""


def md_path(kind: str, eid: str) -> str:
    """Site path of an entry's Markdown copy."""
    return f"chapters/{eid}.md" if kind == "chapters" else f"entries/{kind}/{eid}.md"


def _relative(from_path: str, to_path: str) -> str:
    depth = from_path.count("/")
    return "../" * depth + to_path


class MarkdownCopies:
    """Renders the Markdown copies of one knowledge base."""

    def __init__(self, kb: KnowledgeBase, evaluator: Evaluator | None = None):
        self.kb = kb
        self.evaluator = evaluator or Evaluator(kb)
        self._articles: dict[tuple[str, str], str] = {}

    # text --------------------------------------------------------------------------------
    def text(self, markdown: str, here: str) -> str:
        """Contributor Markdown with expressions evaluated and entry links pointing at the
        Markdown copies, relative to the copy at ``here``."""
        rendered = self.evaluator.render(markdown)

        def link(match: re.Match[str]) -> str:
            eid = self.kb.resolve(match.group(1))
            if eid is None:
                return match.group(0)
            return f"]({_relative(here, md_path(self.kb.kind_of(eid), eid))})"

        return _ENTRY_LINK.sub(link, rendered).strip()

    def _figures(self, body: str, entry: Any) -> str:
        """The body with each `[[figure:ID]]` line replaced by the figure's number, caption and alt
        text, the figures it does not place appended, and each `[[figure:ID]]` inside a sentence
        written as "Figure N", numbered in reading order as on the site."""
        figures = {f.id: f for f in getattr(entry, "figures", ())}
        placed: list[str] = []

        def describe(fid: str) -> str:
            figure = figures[fid]
            placed.append(fid)
            return f"*Figure {len(placed)}: {figure.caption.strip()}* ({figure.alt.strip()})"

        out = _FIGURE.sub(lambda m: describe(m.group(1)) if m.group(1) in figures and m.group(1) not in placed
                          else "", body)
        rest = [describe(fid) for fid in figures if fid not in placed]
        numbers = {fid: n for n, fid in enumerate(placed, 1)}
        out = _FIGURE_REFERENCE.sub(lambda m: f"Figure {numbers[m.group(1)]}" if m.group(1) in numbers
                                    else m.group(0), out)
        return "\n\n".join([out, *rest]) if rest else out

    # pages -------------------------------------------------------------------------------
    def article(self, kind: str, eid: str) -> str:
        """The Markdown copy of an article or chapter page (made once)."""
        key = (kind, eid)
        if key not in self._articles:
            self._articles[key] = self._article(kind, eid)
        return self._articles[key]

    def _heading(self, entry: Any, here: str) -> list[str]:
        """The title, and the summary as a quote when the entry has one."""
        summary = getattr(entry, "summary", "")
        return [f"# {entry.title}", *([f"> {self.text(summary, here)}"] if summary else [])]

    def _article(self, kind: str, eid: str) -> str:
        entry = self.kb.kind(kind)[eid]
        here = md_path(kind, eid)
        parts = self._heading(entry, here)
        meta = []
        if kind in ARTICLE_KINDS:
            chapter = self.kb.chapters.get(entry.chapter)  # type: ignore[attr-defined]
            if chapter is not None:
                meta.append(f"Chapter: [{chapter.title}]({_relative(here, md_path('chapters', chapter.id))})")
            if kind == "metrics":
                meta.append(f"Unit: {entry.unit}; {entry.better} is better")  # type: ignore[attr-defined]
        if meta:
            parts.append(" · ".join(meta))
        body = getattr(entry, "body", "")
        if body:
            parts.append(self._figures(self.text(body, here), entry))
        formulas = getattr(entry, "formulas", ())
        if formulas:
            parts.append("## Formulas")
            for f in formulas:
                where = "".join(f"\n  - {self.text(w, here)}" for w in f.where)
                parts.append(f"- **{f.name}**: $${f.latex}$${where}")
        faq = getattr(entry, "faq", ())
        if faq:
            parts.append("## Questions")
            parts += [f"**{self.text(item.q, here)}**\n\n{self.text(item.a, here)}" for item in faq]
        exercises = getattr(entry, "exercises", ())
        if exercises:
            parts.append("## Worked problems")
            for i, x in enumerate(exercises, 1):
                label = f"{x.answer_label}: " if x.answer_label else ""
                parts.append(f"**Problem {i}.** {self.text(x.question, here)}\n\n"
                             f"*Answer:* {label}{self.evaluator.evaluate(x.answer)}\n\n"
                             f"*Solution:* {self.text(x.solution, here)}")
        if kind == "chapters":
            entries = self.kb.chapter_entries(eid)
            if entries:
                parts.append("## In this chapter")
                parts += [self._link_line(e.id, here) for e in entries]
        parts += self._sources(entry, here)
        return "\n\n".join(parts) + "\n"

    def spec(self, kind: str, eid: str) -> str:
        """The Markdown copy of a spec page: its fields, one line each, with units in their names."""
        entry = self.kb.kind(kind)[eid]
        here = md_path(kind, eid)
        parts = self._heading(entry, here)
        skip = {"id", "title", "summary", "body", "sources", "field_sources", "notes", "last_reviewed"}
        lines = [f"- `{name}`: {value}" for name, value in _fields(entry, skip)]
        if lines:
            parts.append("\n".join(lines))
        body = getattr(entry, "body", "")
        if body:
            parts.append(self.text(body, here))
        notes = getattr(entry, "notes", "")
        if notes:
            parts.append(f"Notes: {notes}")
        parts += self._sources(entry, here)
        return "\n\n".join(parts) + "\n"

    def _link_line(self, eid: str, here: str) -> str:
        entry = self.kb.get(eid)
        kind = self.kb.kind_of(entry.id)
        summary = getattr(entry, "summary", "") or ""
        note = f": {self.evaluator.render(summary).strip()}" if summary else ""
        return f"- [{entry.title}]({_relative(here, md_path(kind, entry.id))}){note}"

    def _sources(self, entry: Any, here: str) -> list[str]:
        cited = []
        for citation in getattr(entry, "sources", ()):
            sid = getattr(citation, "source", citation)
            source = self.kb.sources.get(sid)
            if source is None:
                continue
            locator = getattr(citation, "locator", None)
            cited.append(f"- [{source.title}]({source.url})" + (f", {locator}" if locator else ""))
        return ["## Sources", "\n".join(cited)] if cited else []

    # the two llms files ------------------------------------------------------------------
    def llms_txt(self) -> str:
        """The handbook's map, in the llms.txt convention."""
        kb = self.kb
        parts = ["# inferbook",
                 "> The LLM inference handbook as data: concepts, metrics and techniques of serving large "
                 "language models, with the GPUs, models, numeric formats and inference engines they refer to. "
                 f"Data version {kb.data_version} ({kb.data_date}). Every number comes from the knowledge base.",
                 "Each link below is a Markdown copy of a handbook page; `llms-full.txt` holds every chapter and "
                 "article in reading order in one file."]
        for cid, chapter in sorted(kb.chapters.items(), key=lambda item: item[1].number):
            parts.append(f"## {chapter.title}")
            lines = [self._link_line(cid, "llms.txt")]
            lines += [self._link_line(e.id, "llms.txt") for e in kb.chapter_entries(cid)]
            parts.append("\n".join(lines))
        parts.append("## Optional")
        parts.append("\n".join(f"- [{kind.title()}]({'llms-' + kind + '.txt'}): every {kind[:-1]} entry"
                               for kind in ("gpus", "models", "formats", "frameworks")))
        return "\n\n".join(parts) + "\n"

    def llms_kind(self, kind: str) -> str:
        """One reference kind's entries as links with their key facts, for the Optional section."""
        lines = [f"# inferbook: {kind}", ""]
        for eid in sorted(self.kb.kind(kind)):
            lines.append(self._link_line(eid, f"llms-{kind}.txt"))
        return "\n".join(lines) + "\n"

    def llms_full(self) -> str:
        """Every chapter and article in reading order."""
        kb = self.kb
        parts = [f"# inferbook: the LLM inference handbook (data {kb.data_version}, {kb.data_date})"]
        for cid, _ in sorted(kb.chapters.items(), key=lambda item: item[1].number):
            parts.append(self.article("chapters", cid).replace("\n# ", "\n## ", 1))
            for entry in kb.chapter_entries(cid):
                parts.append(self.article(kb.kind_of(entry.id), entry.id))
        return "\n\n---\n\n".join(parts)

    def pages(self) -> Iterator[tuple[str, str]]:
        """(path, text) of every Markdown copy and the llms files."""
        kb = self.kb
        for cid in sorted(kb.chapters):
            yield md_path("chapters", cid), self.article("chapters", cid)
        for entry in kb.learning_order():
            kind = kb.kind_of(entry.id)
            yield md_path(kind, entry.id), self.article(kind, entry.id)
        for kind in SPEC_KINDS:
            for eid in sorted(kb.kind(kind)):
                yield md_path(kind, eid), self.spec(kind, eid)
        yield "llms.txt", self.llms_txt()
        for kind in ("gpus", "models", "formats", "frameworks"):
            yield f"llms-{kind}.txt", self.llms_kind(kind)
        yield "llms-full.txt", self.llms_full()


def _fields(entry: Any, skip: set[str], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted name, shown value) of every set field, nested models flattened."""
    from pydantic import BaseModel

    for name in type(entry).model_fields:
        if name in skip and not prefix:
            continue
        value = getattr(entry, name)
        if value is None or value == () or value == "":
            continue
        label = f"{prefix}{name}"
        if isinstance(value, Quantity):
            yield label, f"{value.value:g}" + (f" ({value.note})" if value.note else "")
        elif isinstance(value, BaseModel):
            yield from _fields(value, skip, f"{label}.")
        elif isinstance(value, tuple) and value and isinstance(value[0], BaseModel):
            yield label, "; ".join(_inline(v) for v in value)
        elif isinstance(value, tuple):
            yield label, ", ".join(str(v) for v in value)
        else:
            yield label, str(value)


def _inline(model: Any) -> str:
    return ", ".join(f"{name}={_plain(getattr(model, name))}" for name in type(model).model_fields
                     if getattr(model, name) not in (None, (), ""))


def _plain(value: Any) -> str:
    if isinstance(value, Quantity):
        return f"{value.value:g}"
    return str(value)


def write_markdown_copies(kb: KnowledgeBase, out: Output, evaluator: Evaluator | None = None,
                          on_page: Callable[[str], None] | None = None) -> None:
    """Write every Markdown copy and the llms files into the site output."""
    for path, text in MarkdownCopies(kb, evaluator).pages():
        out.text(path, text)
        if on_page is not None:
            on_page(path)
