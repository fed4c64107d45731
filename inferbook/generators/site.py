"""The handbook website: every entry rendered, chapters in reading order,
catalogues, glossary, learning path, bibliography, accuracy table, search,
interactive tools and a JSON API, written as static files under build/site/.

Templates and front-end assets live in generators/site/ (templates/, static/).
Pages use relative links only, load no remote asset, and carry a
Content-Security-Policy that allows scripts from the site itself and nothing else.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from pydantic import BaseModel

from ..calc import count_params, kv_bytes, kv_bytes_per_token, kv_dtype_bits, weight_bytes
from ..calc.capacity import GIB
from ..calc.kv import state_bytes_per_sequence
from ..calc.pricing import PRICINGS
from ..calc.weights import native_groups
from ..expressions import Evaluator
from ..jsonschema import schema_text
from ..kb import KnowledgeBase
from ..paths import generators_dir
from ..provenance import all_number_sources, fallback_source
from ..render import inline_markdown, latex_to_mathml, markdown_to_html, resolve_entry_links, sanitize
from ..schema import KINDS, Quantity
from ..schema.articles import ArticleBase
from ..schema.docs import field_doc
from ..schema.gpus import VENDOR_NAMES
from ..schema.sources import Source
from ..version import __version__
from .markdown_copies import write_markdown_copies
from .navigation import INDEXES, Navigation, trail
from .outline import add_outline
from .output import DirOutput, Output
from .site_tools import CHAPTER_TOOLS, LINKED_TOOLS, TOOLS, entry_tools

KIND_LABEL = {"chapters": "Chapter", "concepts": "Concept", "metrics": "Metric", "techniques": "Technique",
              "gpus": "Accelerator", "models": "Model", "formats": "Format", "frameworks": "Framework",
              "offers": "Offer", "sources": "Source", "redirects": "Redirect"}
WHATS_NEW_YEARS = 2
"""The what's-new page lists releases of the last two years before the data date."""
CHANGELOG = Path(__file__).resolve().parents[2] / "CHANGELOG.md"
"""The project's changelog (in a source checkout; an installed package has none)."""


def data_changelog(path: Path) -> list[tuple[str, str]]:
    """(heading, Markdown) of each "## Data ..." section of the changelog at ``path``, in file order;
    empty when the file is missing."""
    if not path.is_file():
        return []
    sections: list[tuple[str, list[str]]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif sections:
            sections[-1][1].append(line)
    return [(heading, "\n".join(lines).strip()) for heading, lines in sections if heading.startswith("Data ")]


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-src 'none'")
"""Scripts, styles and data from the site itself only. Forms may submit to the site itself: the header's
search box is a plain GET form to search.html, so it works on every page without a script."""


def entry_path(kind: str, eid: str) -> str:
    """Site path of an entry page."""
    if kind == "chapters":
        return f"chapters/{eid}.html"
    return f"entries/{kind}/{eid}.html"


@dataclass
class Page:
    """One page to write: its path, template and context."""

    path: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    outline: bool = False
    """Anchor the page's h2/h3 headings and fill its "On this page" outline (`outline.add_outline`)."""


class SiteBuilder:
    """Collects pages for a knowledge base and writes them."""

    def __init__(self, kb: KnowledgeBase, edit_url_base: str | None = None):
        self.kb = kb
        self.evaluator = Evaluator(kb)
        self.edit_url_base = edit_url_base
        templates = generators_dir() / "site" / "templates"
        self.env = _environment(str(templates))
        source_order = sorted(kb.sources, key=self._source_sort)
        self.bib_number = {sid: i + 1 for i, sid in enumerate(source_order)}
        self.nav = Navigation(kb, self.link, source_order)

    # helpers -------------------------------------------------------------

    def _source_sort(self, sid: str) -> tuple:
        s = self.kb.sources[sid]
        return (s.title.lower(), sid)

    def link(self, eid: str) -> dict[str, str]:
        entry = self.kb.get(eid)
        kind = self.kb.kind_of(entry.id)
        return {"id": entry.id, "title": entry.title, "kind": kind, "label": KIND_LABEL[kind],
                "path": entry_path(kind, entry.id), "summary": getattr(entry, "summary", None) or ""}

    def md(self, text: str, root: str = "../../") -> str:
        """Markdown with expressions evaluated and `[text](entry-id)` links resolved from ``root``."""
        return resolve_entry_links(markdown_to_html(self.evaluator.render(text)), lambda eid: self._href(eid, root))

    def article_body(self, entry: Any) -> str:
        """An article's body as HTML with its figures placed (`figures.place_figures`)."""
        from ..figures import place_figures
        from .charts import chart_svg

        def draw(figure: Any) -> str:
            return chart_svg(self.kb, figure.chart) if figure.chart else sanitize(figure.svg)

        return place_figures(self.md(entry.body), entry.figures, draw,
                             lambda text: inline_markdown(self.evaluator.render(text)))

    def _href(self, eid: str, root: str) -> str | None:
        if eid not in self.kb:
            return None
        entry = self.kb.get(eid)
        return root + entry_path(self.kb.kind_of(entry.id), entry.id)

    def citations(self, citations: Iterable[Any]) -> list[dict[str, Any]]:
        out = []
        for c in citations:
            src = self.kb.sources[c.source]
            out.append({"n": self.bib_number[src.id], "id": src.id, "title": src.title, "url": src.url,
                        "locator": c.locator, "note": c.note, "path": entry_path("sources", src.id),
                        "secondary": src.secondary})
        return out

    # pages ---------------------------------------------------------------
    def pages(self) -> list[Page]:
        kb = self.kb
        nav = self.nav
        pages = [Page("index.html", "home.html", self._home())]
        for cid in sorted(kb.chapters, key=lambda c: kb.chapters[c].number):
            pages.append(Page(entry_path("chapters", cid), "chapter.html", {**self._chapter(cid), **nav.chapter(cid)},
                              outline=True))
        for entry in kb.learning_order():
            kind = kb.kind_of(entry.id)
            pages.append(Page(entry_path(kind, entry.id), "article.html",
                              {**self._article(entry), **nav.article(entry.id)}, outline=True))
        for kind in ("gpus", "models", "formats", "frameworks", "offers", "sources"):
            for eid in sorted(kb.kind(kind)):
                pages.append(Page(entry_path(kind, eid), "spec.html", {**self._spec(kind, eid), **nav.spec(kind, eid)}))
        for eid, target in sorted(self._redirects().items()):
            pages.append(Page(f"entries/redirects/{eid}.html", "redirect.html", target))
        for kind in CATALOGUES:
            pages.append(Page(INDEXES[kind]["path"], "catalog.html",
                              {**self._catalog(kind), "breadcrumbs": trail(INDEXES[kind]["title"])}))
        singles: tuple[tuple[str, str, dict[str, Any]], ...] = (
            ("glossary.html", "glossary.html", self._glossary()),
            ("whats-new.html", "whats_new.html", self._whats_new()),
            ("changelog.html", "changelog.html", self._changelog()),
            ("learning-path.html", "learning_path.html", self._learning_path()),
            ("bibliography.html", "bibliography.html", self._bibliography()),
            ("accuracy.html", "accuracy.html", self._accuracy()),
            ("api/python.html", "python_api.html", self._python_api()),
            ("search.html", "search.html", {"title": "Search"}),
            ("tools/index.html", "tools_index.html", {"title": "Tools", "tools": self._tool_list()}))
        for path, template, context in singles:
            pages.append(Page(path, template, {**context, "breadcrumbs": trail(context["title"])}))
        for name in TOOLS:
            pages.append(Page(f"tools/{name}.html", "tool.html",
                              {**self._tool(name), "breadcrumbs": trail(TOOLS[name].title, INDEXES["tools"])}))
        return pages

    def _tool_list(self) -> list[dict[str, str]]:
        return [{"name": n, "title": t, "summary": s, "path": f"tools/{n}.html"} for n, (t, s) in TOOLS.items()]

    def _home(self) -> dict[str, Any]:
        kb = self.kb
        chapters = []
        for cid, ch in sorted(kb.chapters.items(), key=lambda kv: kv[1].number):
            chapters.append({**self.link(cid), "number": ch.number, "count": len(kb.chapter_entries(cid))})
        counts = {k: len(kb.kind(k)) for k in KINDS if k != "redirects"}
        return {"title": "inferbook", "chapters": chapters, "tools": self._tool_list(), "counts": counts}

    def _chapter(self, cid: str) -> dict[str, Any]:
        ch = self.kb.chapters[cid]
        entries = [self.link(e.id) for e in self.kb.chapter_entries(cid)]
        tools = [{"name": n, "title": TOOLS[n].title, "summary": TOOLS[n].summary, "embedded": n not in LINKED_TOOLS}
                 for n in CHAPTER_TOOLS.get(cid, ())]
        return {"title": ch.title, "chapter": ch, "number": ch.number, "summary": inline_markdown(ch.summary),
                "body": self.md(ch.body, "../") if ch.body else "", "entries": entries, "tools": tools}

    def _article(self, entry: Any) -> dict[str, Any]:
        kb = self.kb
        kind = kb.kind_of(entry.id)
        formulas = [{"name": f.name, "math": latex_to_mathml(f.latex, True),
                     "where": [inline_markdown(w) for w in f.where]} for f in entry.formulas]
        extra: dict[str, Any] = {}
        if kind == "metrics":
            extra = {"unit": entry.unit, "better": entry.better,
                     "tool_definitions": [{"tool": t.tool, "definition": inline_markdown(t.definition)}
                                          for t in entry.tool_definitions]}
        if kind == "techniques":
            extra = {"uses": [self.link(x) for x in entry.uses],
                     "alternative_to": [self.link(x) for x in entry.alternative_to],
                     "frameworks": [self.link(x) for x in entry.frameworks]}
        backlinks = [self.link(b.id) for b in kb.backlinks(entry.id) if kb.kind_of(b.id) not in ("chapters",)]
        return {
            "title": entry.title, "entry": entry, "kind": kind, "label": KIND_LABEL[kind],
            "summary": inline_markdown(entry.summary), "body": self.article_body(entry), "formulas": formulas,
            "faq": [{"q": inline_markdown(f.q), "a": self.md(f.a)} for f in entry.faq],
            "exercises": [{"n": i + 1, "question": self.md(x.question), "answer": self.evaluator.evaluate(x.answer),
                           "label": x.answer_label, "solution": self.md(x.solution)}
                          for i, x in enumerate(entry.exercises)],
            "chapter": self.link(entry.chapter), "aliases": list(entry.aliases),
            "prerequisites": [self.link(p) for p in entry.prerequisites],
            "related": [self.link(r) for r in entry.related], "backlinks": backlinks,
            "sources": self.citations(entry.sources), "last_reviewed": entry.last_reviewed.isoformat(),
            "edit": self._edit(kind, entry.id), "tools": [
                {"name": n, "title": TOOLS[n].title} for n in CHAPTER_TOOLS.get(entry.chapter, ())],
            "embedded_tools": [{"name": n, "title": TOOLS[n].title, "summary": TOOLS[n].summary}
                               for n in entry_tools(entry.id)], **extra,
        }

    def _edit(self, kind: str, eid: str) -> dict[str, str]:
        yaml_path = f"kb/{kind}/{eid}.yaml"
        return {"yaml": f"source/{kind}/{eid}.yaml", "repo_path": yaml_path,
                "url": f"{self.edit_url_base.rstrip('/')}/{yaml_path}" if self.edit_url_base else ""}

    def _spec(self, kind: str, eid: str) -> dict[str, Any]:
        entry = self.kb.kind(kind)[eid]
        rows = list(_spec_rows(entry, self))
        body = getattr(entry, "body", "")
        ctx: dict[str, Any] = {"title": entry.title, "entry": entry, "kind": kind, "label": KIND_LABEL[kind],
                               "rows": rows, "summary": inline_markdown(getattr(entry, "summary", "") or ""),
                               "body": self.md(body) if body else "",
                               "aliases": list(entry.aliases), "edit": self._edit(kind, eid),
                               "backlinks": [self.link(b.id) for b in self.kb.backlinks(eid)],
                               "last_reviewed": entry.last_reviewed.isoformat(), "derived": [], "number": None}
        if kind == "sources":
            ctx["number"] = self.bib_number[eid]
        if kind == "models":
            ctx["derived"] = self._model_derived(entry)
        if kind == "gpus":
            ctx["derived"] = self._gpu_derived(entry)
        ctx["tool_links"] = [{"title": TOOLS[name].title, "path": f"tools/{name}.html?{query}"}
                             for name, query in _spec_tool_links(kind, entry)]
        return ctx

    def _model_derived(self, model: Any) -> list[dict[str, Any]]:
        arch = model.architecture
        p = count_params(arch)
        fmts = self.kb.formats
        rows = [
            {"label": "Parameters computed from the architecture", "value": f"{p.total / 1e9:,.2f} B total, "
             f"{p.active / 1e9:,.2f} B active per token"},
            {"label": "KV cache per token (BF16)", "value": f"{kv_bytes_per_token(arch, 16):,.0f} bytes"},
            {"label": "KV cache per token (FP8)", "value": f"{kv_bytes_per_token(arch, 8):,.0f} bytes"},
            {"label": "KV cache of one 8,192-token sequence (BF16)",
             "value": f"{kv_bytes(arch, 8192, 16).bytes_unique / GIB:,.2f} GiB"},
        ]
        state = state_bytes_per_sequence(arch)
        if state:
            rows.append({"label": "Linear-attention state per sequence (16-bit, any length)",
                         "value": f"{state / 2**20:,.1f} MiB"})
        groups = native_groups(model, dict(fmts))
        for fid in dict.fromkeys([model.native_dtype, "bf16", "fp8-e4m3", "awq-int4", "gguf-q4-k-m"]):
            if fid in fmts:
                w = weight_bytes(arch, fmts[fid], groups=groups if fid == model.native_dtype else None)
                rows.append({"label": f"Weights in {fid}" + (" (released checkpoint)" if fid == model.native_dtype
                                                               else ""),
                             "value": f"{w.total_bytes / 1e9:,.1f} GB = {w.total_bytes / GIB:,.1f} GiB"})
        return rows

    def _gpu_derived(self, gpu: Any) -> list[dict[str, Any]]:
        rows = []
        bf16 = gpu.dense.bf16_tflops or gpu.dense.fp16_tflops
        if bf16 is not None:
            ridge = bf16.value * 1e12 / (gpu.memory_bandwidth_gb_s.value * 1e9)
            rows.append({"label": "Roofline ridge point (16-bit dense)", "value": f"{ridge:,.0f} FLOP per byte"})
        rows.append({"label": "Memory in GB (10^9 bytes)", "value": f"{gpu.memory_gib.value * GIB / 1e9:,.1f} GB"})
        seconds = gpu.memory_gib.value * GIB / (gpu.memory_bandwidth_gb_s.value * 1e9)
        rows.append({"label": "Time to read all memory once", "value": f"{seconds * 1e3:,.1f} ms"})
        return rows

    def _redirects(self) -> dict[str, dict[str, Any]]:
        if not self.kb.has_kind("redirects"):  # redirects may not exist in every knowledge base
            return {}
        out = {}
        for rid, red in self.kb.redirects.items():
            targets = [self.link(t) for t in red.targets]
            out[rid] = {"title": f"{rid} has moved", "redirect": red, "targets": targets,
                        "refresh": targets[0]["path"] if len(targets) == 1 else None}
        return out

    def _catalog(self, kind: str) -> dict[str, Any]:
        """A catalogue page: one row per entry of ``kind`` (in id order), sortable and filterable."""
        from ..calc.pricing import STALE_AFTER_DAYS
        from .tables import gpu_table, model_table, offer_table

        tables = {"gpus": gpu_table, "models": model_table, "offers": offer_table,
                  "formats": _format_rows, "frameworks": _framework_rows}
        rows = tables[kind](self.kb)
        columns = _CATALOG_COLUMNS[kind]
        secondary = {r.entry_id for r in all_number_sources(self.kb, (kind,)) if r.secondary}
        items = [{"path": entry_path(kind, r["id"]), "cells": [_display(c, r.get(c)) for c, _ in columns], "row": r,
                  "secondary": r["id"] in secondary} for r in rows]
        title, intro, hint = CATALOGUES[kind]
        intro = intro.format(stale_days=STALE_AFTER_DAYS, data_date=self.kb.data_date)
        return {"title": title, "kind": kind, "columns": columns, "rows": items,
                "any_secondary": bool(secondary), "intro": intro, "filter_hint": hint}

    def _whats_new(self) -> dict[str, Any]:
        """Models and accelerators by release date, newest first, for the months before the data date."""
        kb = self.kb
        try:
            until = dt.date.fromisoformat(kb.data_date)
        except ValueError:
            until = max((e.last_reviewed for e in kb), default=dt.date.today())
        since = f"{until.year - WHATS_NEW_YEARS:04d}-{until.month:02d}"
        rows: list[dict[str, Any]] = []
        for mid, model in kb.models.items():
            if str(model.release_date) >= since:
                active = f", {model.params_active_b.value:g}B active" if model.params_active_b else ""
                rows.append({"released": str(model.release_date), "link": self.link(mid),
                             "what": f"{model.organization}, {model.params_total_b.value:g}B parameters{active}"})
        for gid, gpu in kb.gpus.items():
            if str(gpu.release_date) >= since:
                rows.append({"released": str(gpu.release_date), "link": self.link(gid),
                             "what": f"{VENDOR_NAMES[gpu.vendor]}, {gpu.memory_gib.value:g} GiB {gpu.memory_type}, "
                                     f"{gpu.memory_bandwidth_gb_s.value:,.0f} GB/s"})
        rows.sort(key=lambda r: (r["released"], r["link"]["title"]), reverse=True)
        months: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            months.setdefault(row["released"][:7], []).append(row)
        return {"title": "What's new", "since": since, "until": until.isoformat(), "months": list(months.items()),
                "count": len(rows)}

    def _changelog(self) -> dict[str, Any]:
        """The data changelog: each data version's section of CHANGELOG.md, newest first."""
        sections = data_changelog(CHANGELOG)
        return {"title": "Data changelog", "sections": [
            {"heading": heading, "body": markdown_to_html(text)} for heading, text in sections]}

    def _python_api(self) -> dict[str, Any]:
        """The Python API reference (`api_reference`): signatures and docstrings rendered."""
        from ..api_reference import kind_fields, sections

        def item(d: Any) -> dict[str, Any]:
            return {"name": d.name, "anchor": d.qualname.replace(".", "-"), "kind": d.kind,
                    "signature": d.signature, "doc": markdown_to_html(d.doc) if d.doc else "",
                    "members": [item(m) for m in d.members]}

        return {"title": "Python API reference",
                "sections": [{"title": s.title, "module": s.module, "anchor": s.title.lower().replace(" ", "-")
                              .replace("?", ""), "objects": [item(d) for d in s.items]} for s in sections()],
                "kinds": [{"kind": k.kind, "model": k.model, "doc": inline_markdown(k.doc.split("\n\n")[0]),
                           "fields": [{"name": n, "type": t, "doc": inline_markdown(d)} for n, t, d in k.fields]}
                          for k in kind_fields()]}

    def _glossary(self) -> dict[str, Any]:
        """Every term with a definition (an entry's summary) and each of its other names once; the
        accelerators, models and prices, which have no summary, are in their catalogues instead."""
        terms: list[dict[str, Any]] = []
        for entry in self.kb:
            kind = self.kb.kind_of(entry.id)
            summary = getattr(entry, "summary", None) or ""
            if kind in ("sources", "redirects", "chapters") or not summary:
                continue
            summary = inline_markdown(summary)
            terms.append({"term": entry.title, "link": self.link(entry.id), "summary": summary, "alias": None})
            names = {entry.title.casefold()}
            for alias in entry.aliases:
                if alias.casefold() not in names:  # an alias that only changes case is the same term
                    names.add(alias.casefold())
                    terms.append({"term": alias, "link": self.link(entry.id), "summary": summary,
                                  "alias": entry.title})
        terms.sort(key=lambda t: (t["term"].lower(), t["link"]["id"]))
        letters: dict[str, list] = {}
        for t in terms:
            first = t["term"][0].upper()
            letters.setdefault(first if first.isalpha() else "#", []).append(t)
        return {"title": "Glossary", "letters": sorted(letters.items()),
                "catalogues": [INDEXES[k] for k in ("gpus", "models", "offers")]}

    def _learning_path(self) -> dict[str, Any]:
        chapters = []
        for cid, ch in sorted(self.kb.chapters.items(), key=lambda kv: kv[1].number):
            items = []
            for e in self.kb.chapter_entries(cid):
                assert isinstance(e, ArticleBase)  # chapters hold concepts, metrics and techniques
                items.append({**self.link(e.id), "requires": [self.link(p) for p in e.prerequisites]})
            chapters.append({"chapter": self.link(cid), "number": ch.number, "entries": items})
        return {"title": "Learning path", "chapters": chapters}

    def _bibliography(self) -> dict[str, Any]:
        items = []
        for sid, n in sorted(self.bib_number.items(), key=lambda kv: kv[1]):
            s = self.kb.sources[sid]
            cited = [self.link(b.id) for b in self.kb.backlinks(sid)]
            items.append({"n": n, "source": s, "path": entry_path("sources", sid), "cited_by": cited})
        return {"title": "Bibliography", "entries": items}

    def _accuracy(self) -> dict[str, Any]:
        from ..calc.accuracy import compare_cached, peer_figures, summary
        from ..calc.bands import calibration, family_group

        comparisons = compare_cached(self.kb)  # shared with the tables, kept across preview rebuilds
        rows = []
        for c in comparisons:
            p = c.published
            m = p.m
            rows.append({"m": m, "url": p.source.url, "predicted": c.predicted, "error": c.error,
                         "ok": c.within_target, "calibration": c.calibration_point, "reason": c.reason,
                         "held_out": c.held_out, "quantity": metric_label(m.metric),
                         "predicted_text": _sig(c.predicted) if c.predicted is not None else "",
                         "engine": self._engine_name(m.engine),
                         "model": self.link(m.model) if m.model in self.kb else None,
                         "gpu": self.link(m.gpu) if m.gpu and m.gpu in self.kb else None})
        cal = calibration()
        groups = []
        families = {family_group(m): m.family for m in self.kb.models.values()}
        for partition, heading in (("gpu", "GPU"), ("family", "Model family"), ("engine", "Engine")):
            for key, kinds in sorted(cal.get("cv", {}).get(f"by_{partition}", {}).items()):
                name = (self.kb.get(key).title if partition == "gpu" and key in self.kb
                        else families[key][:len(key)] if partition == "family" and key in families
                        else self._engine_name(key) if partition == "engine" else key)
                groups.append({"partition": heading, "key": key, "name": name,
                               "throughput": kinds.get("throughput"), "latency": kinds.get("latency")})
        by_metric: list[dict[str, Any]] = [{"quantity": metric_label(metric), **s}
                                           for metric, s in summary(comparisons).items()]
        by_metric.sort(key=lambda r: str(r["quantity"]).lower())
        return {"title": "Calculator accuracy", "rows": rows, "summary": by_metric, "groups": groups,
                "overall": cal.get("cv", {}).get("overall", {}), "fitted_on": cal.get("fitted_on", {}),
                "peers": peer_figures()}

    def _engine_name(self, engine: str) -> str:
        """A measurement's engine as its framework entry names it ("vLLM"); "other" in words."""
        if engine == "other":
            return "other"
        return self.kb.frameworks[engine].title if engine in self.kb.frameworks else engine

    def _tool(self, name: str) -> dict[str, Any]:
        title, summary = TOOLS[name]
        return {"title": title, "tool": name, "summary": summary}

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
                data_version=self.kb.data_version, data_date=self.kb.data_date, nav_tools=self._tool_list())
            if page.outline:
                html = add_outline(html)
            sink.text(page.path, html)
            written.append(page.path)
        self._write_assets(sink)
        self._write_api(sink)
        self._write_search(sink)
        self._write_sources(sink)
        write_markdown_copies(self.kb, sink, self.evaluator)
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
        for name, title, summary, path in [(t["name"], t["title"], t["summary"], t["path"]) for t in self._tool_list()]:
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


CATALOGUES: dict[str, tuple[str, str, str]] = {
    "gpus": ("Accelerators",
             "Every accelerator in the knowledge base, one chip each (a superchip counts per GPU). Throughput is "
             "dense (no structured sparsity); memory in GiB, bandwidth in GB/s. Each name opens the chip's page "
             "with the source of every figure.",
             "e.g. hopper, amd, pcie"),
    "models": ("Models",
               "Every model in the knowledge base with the architecture its config.json gives. Parameters in "
               "billions as the model card states them; KV bytes per token in BF16 across all layers, the cost "
               "of each token a conversation keeps in memory.",
               "e.g. llama, mla, 2025"),
    "formats": ("Numeric formats",
                "The number formats weights, activations and the KV cache are stored and computed in. Bits per "
                "value counts one element; effective bits per weight adds the scales a block format stores; "
                "native on lists the GPU generations whose matrix units compute the format directly.",
                "e.g. fp8, block-scaled, hopper"),
    "frameworks": ("Inference frameworks",
                   "Inference engines, servers and runtimes, with the serving features each documents (blank: "
                   "not recorded) and the accelerator makers it supports. Each name opens the framework's page "
                   "with its command-line flags.",
                   "e.g. engine, apache, amd"),
    "offers": ("GPU prices (rental offers)",
               "Prices in US dollars as each source printed them, for the whole machine or per GPU; USD per "
               "GPU-hour is the on-demand price of one GPU. Stale: checked more than {stale_days} days before "
               "the data date ({data_date}). The deployment planner (inferbook plan) ranks configurations by "
               "these prices.",
               "e.g. h100, lambda, 8"),
}
"""Each catalogue page's title, introduction and filter example, in the header menu's order."""

_CATALOG_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "gpus": [("title", "Accelerator"), ("vendor", "Vendor"), ("architecture", "Architecture"),
             ("form_factor", "Form"), ("market", "Market"), ("memory_gib", "Memory (GiB)"),
             ("memory_bandwidth_gb_s", "Bandwidth (GB/s)"), ("dense_bf16_tflops", "BF16 dense TFLOPS"),
             ("dense_fp8_tflops", "FP8 dense TFLOPS"), ("dense_fp4_tflops", "FP4 dense TFLOPS"),
             ("tdp_w", "TDP (W)"), ("release_date", "Released")],
    "models": [("title", "Model"), ("organization", "Organization"), ("params_total_b", "Params (B)"),
               ("params_active_b", "Active (B)"), ("layers", "Layers"), ("attention", "Attention"),
               ("kv_heads", "KV heads"), ("head_dim", "Head dim"), ("context_length", "Context"),
               ("kv_bytes_per_token_bf16", "KV bytes/token (BF16)"), ("native_dtype", "Weights"),
               ("release_date", "Released")],
    "offers": [("title", "Offer"), ("provider", "Provider"), ("gpu", "GPU"), ("gpu_count", "GPUs"),
               ("quoted_per", "Quoted per"), ("on_demand_usd_per_hour", "On-demand USD/h"),
               ("spot_usd_per_hour", "Spot USD/h"), ("usd_per_gpu_hour", "USD per GPU-hour"),
               ("region", "Region"), ("checked", "Checked"), ("stale", "Stale")],
    "formats": [("title", "Format"), ("category", "Category"), ("bits_per_value", "Bits per value"),
                ("effective_bits_per_weight", "Effective bits per weight"), ("block_size", "Block size"),
                ("used_for", "Used for"), ("native_tensor_core", "Native on")],
    "frameworks": [("title", "Framework"), ("role", "Role"), ("license", "Licence"),
                   ("accelerator_vendors", "Accelerators"), ("continuous_batching", "Continuous batching"),
                   ("paged_kv_cache", "Paged KV cache"), ("prefix_caching", "Prefix caching"),
                   ("speculative_decoding", "Speculative decoding"),
                   ("prefill_decode_disaggregation", "Prefill/decode disaggregation"),
                   ("quantization_formats", "Quantization formats")],
}

ARCHITECTURE_NAMES = {
    "volta": "Volta", "turing": "Turing", "ampere": "Ampere", "ada": "Ada Lovelace", "hopper": "Hopper",
    "blackwell": "Blackwell", "blackwell-ultra": "Blackwell Ultra", "rubin": "Rubin", "cdna2": "CDNA 2",
    "cdna3": "CDNA 3", "cdna4": "CDNA 4", "gaudi2": "Gaudi 2", "gaudi3": "Gaudi 3", "tpu": "TPU",
    "neuron": "Neuron", "apple-m": "Apple M-series", "cpu": "CPU", "rdna3": "RDNA 3", "rdna3.5": "RDNA 3.5",
    "xe2": "Xe2", "qualcomm-ai100": "Qualcomm Cloud AI 100",
}
"""How each `formats.Architecture` value is written on the site."""
DISPLAY_NAMES: dict[str, dict[str, str]] = {
    "vendor": VENDOR_NAMES, "accelerator_vendors": VENDOR_NAMES, "architecture": ARCHITECTURE_NAMES,
    "native_tensor_core": ARCHITECTURE_NAMES, "converted_on": ARCHITECTURE_NAMES,
    "form_factor": {"sxm": "SXM", "pcie": "PCIe", "oam": "OAM", "superchip": "Superchip", "board": "Board",
                    "chip": "Chip", "soc": "SoC"},
    "market": {"datacenter": "Data center", "workstation": "Workstation", "consumer": "Consumer", "edge": "Edge"},
    "role": {"engine": "Engine", "server": "Server", "orchestrator": "Orchestrator",
             "local-runtime": "Local runtime", "library": "Library"},
}
"""Fields whose stored values (ids such as "amd", "cdna3") have a name to show instead."""


def _display(field_name: str, value: Any) -> Any:
    """``value`` of the field ``field_name`` as the site shows it: display names for coded values
    (one or a tuple of them), other values unchanged."""
    names = DISPLAY_NAMES.get(field_name)
    if names is None:
        return value
    if isinstance(value, tuple):
        return ", ".join(names.get(v, str(v)) for v in value)
    return names.get(value, value) if isinstance(value, str) else value


METRIC_LABELS = {
    "output_tokens_per_s": "Output tokens/s", "total_tokens_per_s": "Total tokens/s",
    "output_tokens_per_s_per_gpu": "Output tokens/s per GPU", "requests_per_s": "Requests/s",
    "ttft_ms": "TTFT (ms)", "tpot_ms": "TPOT (ms)", "itl_ms": "ITL (ms)", "e2e_latency_s": "E2E latency (s)",
    "prefill_tokens_per_s": "Prefill tokens/s (one stream)", "decode_tokens_per_s": "Decode tokens/s (one stream)",
    "kv_cache_tokens": "KV-cache capacity (tokens)", "max_concurrency": "Maximum concurrency",
    "available_kv_memory_gib": "KV-cache memory (GiB)", "weights_memory_gib": "Weights memory (GiB)",
    "activation_peak_gib": "Activation peak (GiB)", "cuda_graph_memory_gib": "CUDA-graph memory (GiB)",
    "non_torch_memory_gib": "Non-torch memory (GiB)", "kv_gib_per_1000_tokens": "KV cache per 1,000 tokens (GiB)",
}
"""Each published metric's name on the accuracy page."""


def metric_label(metric: str) -> str:
    """A published metric in words with its unit ("ttft_ms" -> "TTFT (ms)")."""
    return METRIC_LABELS.get(metric, metric.replace("_", " "))


def _sig(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits (never fewer than its whole part), with thousands
    separators: 2166.846 -> "2,167", 14.958 -> "15.0", 0.7812 -> "0.781"."""
    if value == 0 or not math.isfinite(value):
        return _num(value)
    decimals = max(digits - 1 - math.floor(math.log10(abs(value))), 0)
    return f"{value:,.{decimals}f}"


_MODEL_TOOLS = ("kv-cache", "memory-fit", "quantization", "speed-prediction", "deployment-planner")
"""The tools a model's page opens with the model selected (each has a `model` menu of every model)."""


def _spec_tool_links(kind: str, entry: Any) -> list[tuple[str, str]]:
    """(tool, query) for each tool that a model's or GPU's page opens with that entry chosen: the
    query names the tool's own field (`model`, `gpu`, or the GPU comparison's filter `q`). A GPU
    goes only to the tools whose menu holds it: the roofline needs a dense 16-bit figure, the speed
    prediction that or an FP32 one."""
    if kind == "models":
        return [(name, f"model={entry.id}") for name in _MODEL_TOOLS if name in TOOLS]
    if kind != "gpus":
        return []
    sixteen = (entry.dense.bf16_tflops or entry.dense.fp16_tflops) is not None
    links = [("memory-fit", f"gpu={entry.id}")]
    if sixteen:
        links.append(("roofline", f"gpu={entry.id}"))
    if sixteen or entry.dense.fp32_tflops is not None:
        links.append(("speed-prediction", f"gpu={entry.id}"))
    links.append(("gpu-comparison", f"q={entry.id}"))
    return [(name, query) for name, query in links if name in TOOLS]


_TITLE_MEMORY = re.compile(r",?\s*\b\d+(?:\.\d+)?\s?GB\b")


def gpu_option_label(title: str, memory_gib: float) -> str:
    """A GPU's name in the tools' menus: its title without the memory its maker writes into
    the name ("80GB"), then the memory once, in GiB ("NVIDIA H100 SXM, 80 GiB")."""
    name = _TITLE_MEMORY.sub("", title)
    name = re.sub(r"\(\s*\)", "", name)
    name = re.sub(r"\(\s*,\s*", "(", re.sub(r"\s+", " ", name)).strip()
    return f"{name}, {memory_gib:g} GiB"


def _format_rows(kb: KnowledgeBase) -> list[dict[str, Any]]:
    return [{"id": fid, "title": f.title, "category": f.category, "bits_per_value": f.bits_per_value,
             "effective_bits_per_weight": f.effective_bits_per_weight, "block_size": f.block_size,
             "used_for": ", ".join(f.used_for), "native_tensor_core": f.native_tensor_core}
            for fid, f in sorted(kb.formats.items())]


def _framework_rows(kb: KnowledgeBase) -> list[dict[str, Any]]:
    rows = []
    for fid, f in sorted(kb.frameworks.items()):
        features = {name: None if value is None else ("yes" if value else "no")
                    for name, value in f.features.model_dump().items()}
        rows.append({"id": fid, "title": f.title, "role": f.role, "license": f.license,
                     "accelerator_vendors": f.accelerator_vendors, **features,
                     "quantization_formats": len(f.quantization_formats) or None})
    return rows


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return f"{int(value):,}"
        return f"{value:,.{digits}f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _json_text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _spec_rows(model: BaseModel, builder: SiteBuilder, prefix: str = "",
               root: BaseModel | None = None) -> Iterable[dict[str, Any]]:
    """Rows of a spec table: label, value, source link and note, for every filled field.
    Numbers without a source of their own are cited as ``inferbook.provenance`` does:
    by ``config_source`` under ``architecture``, else by the entry's primary ``source``."""
    root = root if root is not None else model
    skip = {"id", "title", "aliases", "last_reviewed", "summary", "body", "sources", "field_sources", "notes"}
    for name in type(model).model_fields:
        if not prefix and name in skip:
            continue
        value = getattr(model, name)
        if value is None or value == () or value == "":
            continue
        label = _label(prefix, name)
        desc = _help(field_doc(type(model), name) or "")
        if isinstance(value, Quantity):
            cite = value.source or fallback_source(root, prefix + name)
            yield {"label": label, "help": desc, "value": _num(value.value), "note": value.note, "links": None,
                   "source": builder.citations([_Cite(cite, value.locator)])[0] if cite else None,
                   "alternatives": [{"value": _num(a.value), "note": a.note,
                                     "source": builder.citations([_Cite(a.source, None)])[0]}
                                    for a in value.alternatives]}
        elif isinstance(value, BaseModel):
            yield from _spec_rows(value, builder, prefix + name + ".", root)
        elif isinstance(value, tuple) and value and isinstance(value[0], BaseModel):
            for i, item in enumerate(value):
                yield {"help": desc, "note": None, "source": None, "alternatives": [], "links": None,
                       **_item_row(f"{label} {i + 1}", item, builder)}
        else:
            links = None
            if name in _REF_FIELDS:
                ids = value if isinstance(value, tuple) else (value,)
                if all(isinstance(i, str) and i in builder.kb for i in ids):
                    links = [builder.link(i) for i in ids]
            value = _display(name, value)
            shown = ", ".join(map(str, value)) if isinstance(value, tuple) else _num(value)
            cite = None
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                cite = fallback_source(root, prefix + name)
            yield {"label": label, "help": desc, "value": shown, "links": links, "note": None,
                   "source": builder.citations([_Cite(cite, None)])[0] if cite else None, "alternatives": []}


_UNITS = (("_gb_s", " (GB/s)"), ("_gib", " (GiB)"), ("_tflops", " (TFLOPS)"), ("_tops", " (TOPS)"),
          ("_b", " (billions)"), ("_w", " (W)"), ("_bits", " (bits)"))
_WORDS = {"params": "parameters", "hf": "Hugging Face", "tdp": "TDP", "kv": "KV", "fp": "FP", "bf16": "BF16",
          "fp64": "FP64", "fp32": "FP32", "tf32": "TF32", "fp16": "FP16", "fp8": "FP8", "fp6": "FP6", "fp4": "FP4",
          "int8": "INT8", "int4": "INT4", "usd": "USD", "gpu": "GPU", "gpus": "GPUs", "mtp": "MTP", "lora": "LoRA",
          "qk": "QK", "q": "Q", "v": "V", "mlp": "MLP", "ssm": "SSM", "openai": "OpenAI", "api": "API", "url": "URL",
          "dtype": "data type",
          "mla": "MLA", "moe": "MoE", "tp": "TP", "id": "id"}


def _label(prefix: str, name: str) -> str:
    """A readable row label: words instead of underscores, the unit in brackets."""
    unit = ""
    for suffix, text in _UNITS:
        if name.endswith(suffix):
            name, unit = name[: -len(suffix)], text
            break
    words = [_WORDS.get(w, w) for w in (prefix.replace(".", " ") + name).replace("_", " ").split()]
    text = " ".join(words)
    return (text[:1].upper() + text[1:] + unit) if text else unit


_REF_FIELDS = {"supported_formats", "native_dtype", "quantization_formats", "variant_of", "base_model",
               "config_source", "source", "element_format", "embeddings", "attention", "dense_ffn", "experts"}


def _help(doc: str) -> str:
    """A field's docstring as a reader's tooltip: its first paragraph on one line, without the
    hints meant for whoever writes the YAML and without reStructuredText code marks."""
    text = " ".join(doc.split("\n\n")[0].split())
    text = re.sub(r"\s*\(quote it in YAML\)", "", text)
    return re.sub(r"``([^`]+)``", lambda m: _label("", m.group(1)).lower(), text)


def _item_row(label: str, item: BaseModel, builder: SiteBuilder) -> dict[str, Any]:
    """The label, value, note and source of one item of a list of records on a spec page: a
    framework's flag under the feature it controls, a published checkpoint under its format,
    anything else as its fields in words."""
    fields = item.model_dump(exclude_none=True)
    if {"feature", "flag"} <= fields.keys():
        return {"label": fields["feature"], "value": fields["flag"], "note": fields.get("note")}
    if {"format", "hf_repo"} <= fields.keys():
        fmt = builder.kb.formats.get(fields["format"])
        note = " ".join(filter(None, [f"Published by {fields['publisher']}." if "publisher" in fields else "",
                                      fields.get("notes")]))
        cite = builder.citations([_Cite(fields["source"], None)])[0] if fields.get("source") else None
        return {"label": f"Quantized checkpoint ({fmt.title if fmt else fields['format']})", "value": fields["hf_repo"],
                "note": note or None, "source": cite}
    text = "; ".join(f"{_label('', k)}: {_display(k, v) if not isinstance(v, dict) else v}"
                     for k, v in fields.items())
    return {"label": label, "value": text}


@dataclass
class _Cite:
    source: str
    locator: str | None
    note: str | None = None


@functools.lru_cache(maxsize=4)
def _environment(templates: str) -> jinja2.Environment:
    """One Jinja environment per template folder, kept across builds so a rebuild reuses
    compiled templates (auto_reload recompiles a template whose file changed)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), autoescape=True, auto_reload=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = _num
    return env


def build_site(kb: KnowledgeBase, out: Path | Output) -> None:
    """Generator entry point: the whole site into ``out`` (a folder or an `Output`)."""
    SiteBuilder(kb).write(out)
