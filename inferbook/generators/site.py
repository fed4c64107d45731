"""The handbook website: every entry rendered, chapters in reading order,
catalogues, glossary, learning path, bibliography, accuracy table, search,
interactive tools and a JSON API, written as static files under build/site/.

This module lists the pages and writes the files (pages, assets, the JSON API, the search
index, the tools' data, the published entry sources); each page's template context comes
from `page_contexts.PageContexts`, which the PDF shares, and a reference entry's spec table
from `spec_tables`.

Templates and front-end assets live in generators/site/ (templates/, static/).
Pages use relative links only, load no remote asset, and carry a
Content-Security-Policy that allows scripts from the site itself and nothing else.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from ..calc import kv_dtype_bits
from ..calc.pricing import PRICINGS
from ..jsonschema import schema_text
from ..kb import KnowledgeBase
from ..paths import generators_dir
from ..schema import KINDS
from ..schema.sources import Source
from ..version import __version__
from .markdown_copies import write_markdown_copies
from .navigation import INDEXES, Navigation, trail
from .outline import add_outline
from .output import DirOutput, Output
from .page_contexts import CATALOGUES, KIND_LABEL, PageContexts, entry_path
from .site_tools import TOOLS
from .spec_tables import num

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-src 'none'")
"""Scripts, styles and data from the site itself only. Forms may submit to the site itself: the header's
search box is a plain GET form to search.html, so it works on every page without a script."""


@dataclass
class Page:
    """One page to write: its path, template and context."""

    path: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    outline: bool = False
    """Anchor the page's h2/h3 headings and fill its "On this page" outline (`outline.add_outline`)."""


class SiteBuilder:
    """Lists the pages of a knowledge base's site, with their contexts and navigation, and writes them."""

    def __init__(self, kb: KnowledgeBase, edit_url_base: str | None = None):
        self.kb = kb
        self.contexts = PageContexts(kb, edit_url_base)
        """Every page's template context (shared with the PDF)."""
        templates = generators_dir() / "site" / "templates"
        self.env = _environment(str(templates))
        self.nav = Navigation(kb, self.contexts.link, self.contexts.source_order)

    # pages ---------------------------------------------------------------
    def pages(self) -> list[Page]:
        kb = self.kb
        nav = self.nav
        ctx = self.contexts
        pages = [Page("index.html", "home.html", ctx.home())]
        for cid in sorted(kb.chapters, key=lambda c: kb.chapters[c].number):
            pages.append(Page(entry_path("chapters", cid), "chapter.html", {**ctx.chapter(cid), **nav.chapter(cid)},
                              outline=True))
        for entry in kb.learning_order():
            kind = kb.kind_of(entry.id)
            pages.append(Page(entry_path(kind, entry.id), "article.html",
                              {**ctx.article(entry), **nav.article(entry.id)}, outline=True))
        for kind in ("gpus", "models", "formats", "frameworks", "offers", "sources"):
            for eid in sorted(kb.kind(kind)):
                pages.append(Page(entry_path(kind, eid), "spec.html", {**ctx.spec(kind, eid), **nav.spec(kind, eid)}))
        for eid, target in sorted(ctx.redirects().items()):
            pages.append(Page(f"entries/redirects/{eid}.html", "redirect.html", target))
        for kind in CATALOGUES:
            pages.append(Page(INDEXES[kind]["path"], "catalog.html",
                              {**ctx.catalog(kind), "breadcrumbs": trail(INDEXES[kind]["title"])}))
        singles: tuple[tuple[str, str, dict[str, Any]], ...] = (
            ("glossary.html", "glossary.html", ctx.glossary()),
            ("whats-new.html", "whats_new.html", ctx.whats_new()),
            ("changelog.html", "changelog.html", ctx.changelog()),
            ("learning-path.html", "learning_path.html", ctx.learning_path()),
            ("bibliography.html", "bibliography.html", ctx.bibliography()),
            ("accuracy.html", "accuracy.html", ctx.accuracy()),
            ("api/python.html", "python_api.html", ctx.python_api()),
            ("search.html", "search.html", {"title": "Search"}),
            ("tools/index.html", "tools_index.html", {"title": "Tools", "tools": ctx.tool_list()}))
        for path, template, context in singles:
            pages.append(Page(path, template, {**context, "breadcrumbs": trail(context["title"])}))
        for name in TOOLS:
            pages.append(Page(f"tools/{name}.html", "tool.html",
                              {**ctx.tool(name), "breadcrumbs": trail(TOOLS[name].title, INDEXES["tools"])}))
        return pages

    # writing ---------------------------------------------------------------
    def write(self, out: Path | Output) -> list[str]:
        """Render every page into ``out`` (a folder or an `Output`); return the page paths."""
        sink: Output = DirOutput(out) if isinstance(out, Path) else out
        written = []
        for page in self.pages():
            depth = page.path.count("/")
            root = "../" * depth
            context = {"breadcrumbs": None, "sidebar": None, **page.context}
            html = self.env.get_template(page.template).render(
                **context, root=root, page_path=page.path, csp=CSP, version=__version__,
                data_version=self.kb.data_version, data_date=self.kb.data_date, nav_tools=self.contexts.tool_list())
            if page.outline:
                html = add_outline(html)
            sink.text(page.path, html)
            written.append(page.path)
        self._write_assets(sink)
        self._write_api(sink)
        self._write_search(sink)
        self._write_sources(sink)
        write_markdown_copies(self.kb, sink, self.contexts.evaluator)
        return written

    def _write_assets(self, out: Output) -> None:
        from .assets import write_static

        write_static(out, generators_dir() / "site" / "static")

    def _write_api(self, out: Output) -> None:
        everything: dict[str, Any] = {"package_version": __version__, "data_version": self.kb.data_version,
                                      "data_date": self.kb.data_date, "kinds": {}}
        for kind in KINDS:
            try:
                entries = self.kb.kind(kind)
            except KeyError:
                continue
            data = {eid: e.model_dump(mode="json", exclude_defaults=True) for eid, e in sorted(entries.items())}
            everything["kinds"][kind] = data
            out.text(f"api/{kind}.json", _json_text(data))
            out.text(f"api/schema/{kind}.schema.json", schema_text(kind))
        out.text("api/kb.json", _json_text(everything))
        out.text("assets/data/tools-data.json", _json_text(self._tools_data()))

    def _tools_data(self) -> dict[str, Any]:
        kb = self.kb
        models = {mid: {"id": mid, "title": m.title, "family": m.family,
                        "architecture": m.architecture.model_dump(mode="json"),
                        "native_dtype": m.native_dtype,
                        "native_groups": m.native_groups.model_dump(mode="json", exclude_none=True)
                        if m.native_groups else None,
                        "params_total_b": m.params_total_b.value,
                        "params_active_b": m.params_active_b.value if m.params_active_b else None,
                        "hf_repo": m.hf_repo,
                        "quantized_checkpoints": [{"format": c.format, "hf_repo": c.hf_repo, "publisher": c.publisher}
                                                  for c in m.quantized_checkpoints]}
                  for mid, m in sorted(kb.models.items())}
        # the deployment planner (plan.js) prices machines from the offers and skips engines a vendor lacks
        offers = {oid: {**o.model_dump(mode="json", exclude={"notes", "locator", "aliases", "last_reviewed"}),
                        "gpu_hour_usd": {p: o.gpu_hour_usd(p) for p in PRICINGS}}
                  for oid, o in sorted(kb.offers.items())}
        engines = {fid: {"title": f.title, "hardware": list(f.hardware),
                         "accelerator_vendors": list(f.accelerator_vendors)}
                   for fid, f in sorted(kb.frameworks.items()) if f.accelerator_vendors}
        gpus = {gid: g.model_dump(mode="json", include={"id", "title", "vendor", "architecture", "form_factor",
                                                         "market", "memory_gib", "memory_type",
                                                         "memory_bandwidth_gb_s", "dense", "tdp_w", "interconnect",
                                                         "release_date", "supported_formats", "compute_units"})
                for gid, g in sorted(kb.gpus.items())}
        for gid, g in kb.gpus.items():  # the tools' GPU menus say the memory once
            gpus[gid]["label"] = gpu_option_label(g.title, g.memory_gib.value)
        # the feasibility check (calc.js checkSetup) reads supported_formats, interconnect.domain_gpus,
        # native_tensor_core, converted_on, used_for and category
        formats = {fid: f.model_dump(mode="json", include={"id", "title", "category", "bits_per_value",
                                                            "effective_bits_per_weight", "used_for", "summary",
                                                            "native_tensor_core", "converted_on"})
                   for fid, f in sorted(kb.formats.items())}
        kv_bits = {fid: kv_dtype_bits(fid, kb.formats) for fid in ("bf16", "fp16", "fp8-e4m3", "int8", "int4")
                   if fid in kb.formats}
        from ..calc.bands import calibration, measured_index
        from ..calc.engines import raw_profiles

        cal = calibration()
        perf = {"params": cal["params"],
                "calibration": {"cv": cal.get("cv", {}), "fitted_on": cal.get("fitted_on", {})},
                "engines": raw_profiles(), "measured": measured_index(kb)}
        return {"data_version": kb.data_version, "data_date": kb.data_date, "models": models, "gpus": gpus,
                "formats": formats, "kv_dtype_bits": kv_bits, "perf": perf, "offers": offers, "frameworks": engines}

    def _write_search(self, out: Output) -> None:
        """assets/data/search-index.json for search.html: every entry (not redirects), tool and
        index page, with its title, aliases, summary and the distinct words of its text."""
        docs = []
        for entry in self.kb:
            kind = self.kb.kind_of(entry.id)
            if kind == "redirects":
                continue
            summary = getattr(entry, "summary", None) or ""
            if isinstance(entry, Source):  # a source's summary line: who published it, and when
                summary = ", ".join(filter(None, [entry.publisher, *entry.authors[:3], str(entry.published or "")]))
            docs.append({"id": entry.id, "kind": kind, "title": entry.title, "aliases": list(entry.aliases),
                         "summary": summary, "path": entry_path(kind, entry.id), "words": _search_words(entry)})
        tools = self.contexts.tool_list()
        for name, title, summary, path in [(t["name"], t["title"], t["summary"], t["path"]) for t in tools]:
            docs.append({"id": name, "kind": "tools", "title": title, "aliases": [], "summary": summary,
                         "path": path, "words": ""})
        for kind in CATALOGUES:
            title, intro, _ = CATALOGUES[kind]
            docs.append({"id": kind, "kind": "pages", "title": title, "aliases": [INDEXES[kind]["title"]],
                         "summary": intro.split(". ")[0] + ".", "path": INDEXES[kind]["path"], "words": ""})
        for path, title, summary in SEARCHABLE_PAGES:
            docs.append({"id": path.removesuffix(".html").replace("/", "-"), "kind": "pages", "title": title,
                         "aliases": [], "summary": summary, "path": path, "words": ""})
        labels = {**KIND_LABEL, "tools": "Tool", "pages": "Page"}
        index = {"labels": labels, "stop": sorted(_STOP_WORDS), "docs": docs}
        out.text("assets/data/search-index.json", _json_text(index))

    def _write_sources(self, out: Output) -> None:
        for entry in self.kb:
            kind = self.kb.kind_of(entry.id)
            try:
                src = self.kb.path_of(entry.id)
            except KeyError:  # pragma: no cover
                continue
            if src.is_file() and not src.is_symlink():
                out.text(f"source/{kind}/{entry.id}.yaml", SOURCE_GUARD + src.read_text(encoding="utf-8"))


SEARCHABLE_PAGES = (
    ("tools/index.html", "Tools", "Every interactive tool: calculators, simulators and the deployment planner."),
    ("glossary.html", "Glossary", "Every term and abbreviation of the handbook, A to Z, with a one-line meaning."),
    ("learning-path.html", "Learning path", "The handbook's articles in reading order, each with what to read first."),
    ("bibliography.html", "Bibliography", "Every source the handbook cites, numbered, with what cites it."),
    ("accuracy.html", "Calculator accuracy", "The calculators' figures against published measurements."),
    ("whats-new.html", "What's new", "Models and accelerators released recently, newest first."),
    ("changelog.html", "Data changelog", "What changed in each version of the data."),
    ("api/python.html", "Python API reference", "The inferbook Python package: functions, classes and fields."),
)
"""Site pages other than entries, tools and catalogues that search finds by title: (path, title, summary)."""
_STOP_WORDS = frozenset("""a an as at be by do if in is it of on or so to we
the and are for but not its was has had can you our all any how who why may out
also been being both does each even from have here into just more most much must only
other over same some such than that their them then there these they this those through very were what when where
which while will with would your about after again against because before between could during further should under
until using used uses""".split())
"""Words the index leaves out of the entries' text; search.js reads them (the index carries the list) as
optional query words, which add to a score but exclude nothing."""
_MARKUP = re.compile(r"\{\{.*?\}\}|\$\$.*?\$\$|\$[^$\n]*\$|\]\([^)]*\)", re.S)


def _search_words(entry: Any) -> str:
    """The distinct words (three letters or more, no stop words) of an entry's text: body, questions and
    answers, exercises and notes, without expressions, formulas and link targets."""
    parts = [getattr(entry, "body", ""), getattr(entry, "notes", "") or ""]
    parts += [f"{f.q} {f.a}" for f in getattr(entry, "faq", ())]
    parts += [x.question for x in getattr(entry, "exercises", ())]
    text = _MARKUP.sub(" ", " ".join(filter(None, parts))).lower()
    words = dict.fromkeys(w for w in re.findall(r"[a-z0-9]+(?:\.[a-z0-9]+)*", text)
                          if len(w) >= 3 and w not in _STOP_WORDS)
    return " ".join(sorted(words))


SOURCE_GUARD = "# inferbook entry source, published as plain text (this line stops it from running as a script)\n"
"""First line of every published entry source. YAML can also be valid JavaScript
(`a: 1` is a labelled statement), and a page or misconfigured server could load a
contributor's file as a script; a leading `# ` line is a syntax error in JavaScript
and a comment in YAML."""


_TITLE_MEMORY = re.compile(r",?\s*\b\d+(?:\.\d+)?\s?GB\b")


def gpu_option_label(title: str, memory_gib: float) -> str:
    """A GPU's name in the tools' menus: its title without the memory its maker writes into
    the name ("80GB"), then the memory once, in GiB ("NVIDIA H100 SXM, 80 GiB")."""
    name = _TITLE_MEMORY.sub("", title)
    name = re.sub(r"\(\s*\)", "", name)
    name = re.sub(r"\(\s*,\s*", "(", re.sub(r"\s+", " ", name)).strip()
    return f"{name}, {memory_gib:g} GiB"


def _json_text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


@functools.lru_cache(maxsize=4)
def _environment(templates: str) -> jinja2.Environment:
    """One Jinja environment per template folder, kept across builds so a rebuild reuses
    compiled templates (auto_reload recompiles a template whose file changed)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), autoescape=True, auto_reload=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = num
    return env


def build_site(kb: KnowledgeBase, out: Path | Output) -> None:
    """Generator entry point: the whole site into ``out`` (a folder or an `Output`)."""
    SiteBuilder(kb).write(out)
