"""Handbook prose: chapters, concepts, metrics and techniques."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from .base import ANY_KIND, ARTICLE_KINDS, MULTILINE, CitationOrId, EntryBase, EntryId, Ref, ShortText, Strict

Summary = Annotated[str, StringConstraints(min_length=10, max_length=240)]
Markdown = Annotated[str, StringConstraints(max_length=60_000), MULTILINE]
"""Markdown prose: the only text that may span lines (and hold tabs)."""


class Formula(Strict):
    """A key formula, typeset from LaTeX."""

    name: ShortText
    """What the formula computes."""
    latex: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    """The formula in LaTeX math (no surrounding $)."""
    where: tuple[ShortText, ...] = ()
    """One line per symbol: what it stands for and its unit."""


FIGURE_ID = r"[a-z0-9]+(?:-[a-z0-9]+)*"
CHARTS = ("kv-growth", "roofline", "weights-by-format")
"""Charts a figure may ask for by name; `generators/charts.py` draws each from the data."""


class Figure(Strict):
    """A figure of the article: a drawing kept beside the entry as `<entry-id>.<id>.svg`, or a
    chart drawn from the data when the page is built. `[[figure:ID]]` on a line of its own in
    the body places it; otherwise it follows the text. Inside a sentence, `[[figure:ID]]` refers
    to it: "Figure N" on the site (figures numbered per entry), "Figure C.N" in the PDF (per
    chapter)."""

    id: Annotated[str, StringConstraints(pattern=f"^{FIGURE_ID}$", min_length=1, max_length=60)]
    """Names the figure within the entry, and its file: `kv-cache.decode-loop.svg` for id `decode-loop`."""
    alt: Annotated[str, StringConstraints(min_length=10, max_length=600)]
    """What the figure shows, in words, for readers who cannot see it (screen readers, text browsers)."""
    caption: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    """The caption under the figure, in Markdown (one paragraph)."""
    chart: Literal["kv-growth", "roofline", "weights-by-format"] | None = None
    """A chart drawn from the data instead of a drawing file (the same names as `CHARTS`)."""
    svg: Annotated[str, StringConstraints(max_length=300_000), MULTILINE] = ""
    """Filled in by the loader from the drawing file, checked and sanitized; never written in YAML."""


class Faq(Strict):
    """A question readers ask, and its answer (Markdown)."""

    q: ShortText
    a: Markdown


class Exercise(Strict):
    """A worked problem: a question, its answer computed from the data, and the worked solution.
    The answer is an expression, so it stays right when the data changes."""

    question: Markdown
    """The problem, in Markdown; `{{ expressions }}` may give its inputs from the data."""
    answer: Annotated[str, StringConstraints(min_length=3, max_length=500)]
    """The answer as one expression without braces, e.g.
    `kv_bytes("llama-3.1-8b-instruct", tokens=8192) | gib(2)`; the site and the PDF show its value."""
    answer_label: ShortText | None = None
    """What the answer is, e.g. "KV cache of one 8,192-token sequence" (shown before the value)."""
    solution: Markdown
    """The worked steps, in Markdown with `{{ expressions }}`."""


class Chapter(EntryBase):
    """A chapter of the handbook: articles point at it with `chapter`."""

    number: int = Field(ge=1, le=99)
    """Position of the chapter in the book."""
    summary: Summary
    """One sentence on what the chapter covers."""
    body: Markdown = ""
    """Introduction shown on the chapter page."""


class ArticleBase(EntryBase):
    """Common fields of concepts, metrics and techniques."""

    summary: Summary
    """One sentence (at most 240 characters) that defines the topic."""
    chapter: Annotated[EntryId, Ref(("chapters",), "in_chapter")]
    """Id of the chapter this entry belongs to."""
    order: int = Field(default=100, ge=0, le=1000)
    """Position within the chapter (lower first); prerequisites still come before."""
    body: Markdown
    """The text, in Markdown with $inline$ and $$display$$ LaTeX math and
    {{ expression }} values computed from the knowledge base."""
    formulas: tuple[Formula, ...] = ()
    """Key formulas of the topic."""
    faq: tuple[Faq, ...] = ()
    """Frequently asked questions."""
    exercises: tuple[Exercise, ...] = ()
    """Worked problems whose answers are computed from the data (revealed on click on the site,
    collected in an appendix of the PDF)."""
    figures: tuple[Figure, ...] = ()
    """Figures: drawings beside the entry (`<id>.<figure-id>.svg`) or charts drawn from the data."""
    prerequisites: tuple[Annotated[EntryId, Ref(ARTICLE_KINDS, "requires")], ...] = ()
    """Entries a reader should know first (concepts, metrics or techniques)."""
    related: tuple[Annotated[EntryId, Ref(ANY_KIND, "related")], ...] = ()
    """Entries of any kind worth reading next."""
    sources: tuple[CitationOrId, ...] = Field(min_length=1)
    """Where the facts come from: ids of kb/sources/ entries, or mappings with a locator."""


class Concept(ArticleBase):
    """An idea or mechanism: what it is and why it matters for inference."""


class ToolDefinition(Strict):
    """How one benchmark tool defines or reports a metric."""

    tool: ShortText
    """Tool name, e.g. "vLLM bench"."""
    definition: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    """What the tool measures under this metric's name, in its own terms."""
    source: CitationOrId | None = None


class Metric(ArticleBase):
    """A quantity that measures inference speed, cost or quality."""

    unit: ShortText
    """Unit the metric is reported in, e.g. "ms" or "tokens/s"."""
    better: Literal["lower", "higher"]
    """Which direction is better."""
    tool_definitions: tuple[ToolDefinition, ...] = ()
    """How common benchmark tools define it, where they differ."""


class Technique(ArticleBase):
    """A method that changes how inference is done."""

    uses: tuple[Annotated[EntryId, Ref(ANY_KIND, "uses")], ...] = ()
    """Entries this technique builds on or relies on."""
    alternative_to: tuple[Annotated[EntryId, Ref(ARTICLE_KINDS, "alternative_to")], ...] = ()
    """Techniques or concepts that solve the same problem another way."""
    frameworks: tuple[Annotated[EntryId, Ref(("frameworks",), "implemented_by")], ...] = ()
    """Inference frameworks that implement it."""
