"""The page-context layer: the template context of every page of the handbook (home,
chapters, articles, spec pages of reference entries, redirects, catalogues, glossary, what's
new, data changelog, learning path, bibliography, accuracy, Python API reference, tools), built
from a knowledge base and nothing else. The website (`site.SiteBuilder`) adds each page's
navigation and writes it; the PDF (`pdf.BookBuilder`) renders the same contexts into one book.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..calc import count_params, kv_bytes, kv_bytes_per_token, weight_bytes
from ..calc.capacity import GIB
from ..calc.kv import state_bytes_per_sequence
from ..calc.weights import native_groups
from ..expressions import Evaluator
from ..kb import KnowledgeBase
from ..provenance import all_number_sources
from ..render import inline_markdown, latex_to_mathml, markdown_to_html, resolve_entry_links, sanitize
from ..schema import KINDS
from ..schema.articles import ArticleBase
from ..schema.gpus import VENDOR_NAMES
from .navigation import INDEXES
from .site_tools import CHAPTER_TOOLS, LINKED_TOOLS, TOOLS, entry_tools
from .spec_tables import display, num, spec_rows

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


def entry_path(kind: str, eid: str) -> str:
    """Site path of an entry page."""
    if kind == "chapters":
        return f"chapters/{eid}.html"
    return f"entries/{kind}/{eid}.html"


class PageContexts:
    """Builds the template context of each page of the handbook for one knowledge base.
    Sources are numbered once, in bibliography order, so every page cites a source by the
    same number."""

    def __init__(self, kb: KnowledgeBase, edit_url_base: str | None = None):
        self.kb = kb
        self.evaluator = Evaluator(kb)
        """Evaluates the ``{{ ... }}`` expressions of the entries' prose."""
        self.edit_url_base = edit_url_base
        self.source_order: list[str] = sorted(kb.sources, key=self._source_sort)
        """Source ids in bibliography order (by title)."""
        self.bib_number = {sid: i + 1 for i, sid in enumerate(self.source_order)}
        """Each source's number in the bibliography."""

    # helpers -------------------------------------------------------------

    def _source_sort(self, sid: str) -> tuple:
        s = self.kb.sources[sid]
        return (s.title.lower(), sid)

    def link(self, eid: str) -> dict[str, str]:
        """An entry (found by id or alias) as a link: id, title, kind and its label, site path and summary."""
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
        """Each citation (anything with ``source``, ``locator`` and ``note``) with its source's
        bibliography number, title, URL and page path."""
        out = []
        for c in citations:
            src = self.kb.sources[c.source]
            out.append({"n": self.bib_number[src.id], "id": src.id, "title": src.title, "url": src.url,
                        "locator": c.locator, "note": c.note, "path": entry_path("sources", src.id),
                        "secondary": src.secondary})
        return out

    # pages ---------------------------------------------------------------
    def tool_list(self) -> list[dict[str, str]]:
        """Every interactive tool: name, title, summary and page path."""
        return [{"name": n, "title": t, "summary": s, "path": f"tools/{n}.html"} for n, (t, s) in TOOLS.items()]

    def home(self) -> dict[str, Any]:
        """The home page: the chapters with their entry counts, the tools and the count of each kind."""
        kb = self.kb
        chapters = []
        for cid, ch in sorted(kb.chapters.items(), key=lambda kv: kv[1].number):
            chapters.append({**self.link(cid), "number": ch.number, "count": len(kb.chapter_entries(cid))})
        counts = {k: len(kb.kind(k)) for k in KINDS if k != "redirects"}
        return {"title": "inferbook", "chapters": chapters, "tools": self.tool_list(), "counts": counts}

    def chapter(self, cid: str) -> dict[str, Any]:
        """A chapter's page: its number, summary, body, entries in reading order and tools."""
        ch = self.kb.chapters[cid]
        entries = [self.link(e.id) for e in self.kb.chapter_entries(cid)]
        tools = [{"name": n, "title": TOOLS[n].title, "summary": TOOLS[n].summary, "embedded": n not in LINKED_TOOLS}
                 for n in CHAPTER_TOOLS.get(cid, ())]
        return {"title": ch.title, "chapter": ch, "number": ch.number, "summary": inline_markdown(ch.summary),
                "body": self.md(ch.body, "../") if ch.body else "", "entries": entries, "tools": tools}

    def article(self, entry: Any) -> dict[str, Any]:
        """An article's page (concept, metric or technique): summary, body with figures, formulas,
        questions, exercises, links, citations and tools."""
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

    def spec(self, kind: str, eid: str) -> dict[str, Any]:
        """A reference entry's page (GPU, model, format, framework, offer or source): its spec table
        (`spec_tables.spec_rows`), the figures derived from it and the tools that open with it."""
        entry = self.kb.kind(kind)[eid]
        rows = list(spec_rows(entry, self))
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

    def redirects(self) -> dict[str, dict[str, Any]]:
        """The page of each retired id (by id): where it moved, with a refresh when it names one target."""
        if not self.kb.has_kind("redirects"):  # redirects may not exist in every knowledge base
            return {}
        out = {}
        for rid, red in self.kb.redirects.items():
            targets = [self.link(t) for t in red.targets]
            out[rid] = {"title": f"{rid} has moved", "redirect": red, "targets": targets,
                        "refresh": targets[0]["path"] if len(targets) == 1 else None}
        return out

    def catalog(self, kind: str) -> dict[str, Any]:
        """A catalogue page: one row per entry of ``kind`` (in id order), sortable and filterable."""
        from ..calc.pricing import STALE_AFTER_DAYS
        from .tables import gpu_table, model_table, offer_table

        tables = {"gpus": gpu_table, "models": model_table, "offers": offer_table,
                  "formats": _format_rows, "frameworks": _framework_rows}
        rows = tables[kind](self.kb)
        columns = _CATALOG_COLUMNS[kind]
        secondary = {r.entry_id for r in all_number_sources(self.kb, (kind,)) if r.secondary}
        items = [{"path": entry_path(kind, r["id"]), "cells": [display(c, r.get(c)) for c, _ in columns], "row": r,
                  "secondary": r["id"] in secondary} for r in rows]
        title, intro, hint = CATALOGUES[kind]
        intro = intro.format(stale_days=STALE_AFTER_DAYS, data_date=self.kb.data_date)
        return {"title": title, "kind": kind, "columns": columns, "rows": items,
                "any_secondary": bool(secondary), "intro": intro, "filter_hint": hint}

    def whats_new(self) -> dict[str, Any]:
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

    def changelog(self) -> dict[str, Any]:
        """The data changelog: each data version's section of CHANGELOG.md, newest first."""
        sections = data_changelog(CHANGELOG)
        return {"title": "Data changelog", "sections": [
            {"heading": heading, "body": markdown_to_html(text)} for heading, text in sections]}

    def python_api(self) -> dict[str, Any]:
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

    def glossary(self) -> dict[str, Any]:
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

    def learning_path(self) -> dict[str, Any]:
        """The articles chapter by chapter in reading order, each with its prerequisites."""
        chapters = []
        for cid, ch in sorted(self.kb.chapters.items(), key=lambda kv: kv[1].number):
            items = []
            for e in self.kb.chapter_entries(cid):
                assert isinstance(e, ArticleBase)  # chapters hold concepts, metrics and techniques
                items.append({**self.link(e.id), "requires": [self.link(p) for p in e.prerequisites]})
            chapters.append({"chapter": self.link(cid), "number": ch.number, "entries": items})
        return {"title": "Learning path", "chapters": chapters}

    def bibliography(self) -> dict[str, Any]:
        """Every source in numbered order, with the entries that cite it."""
        items = []
        for sid, n in sorted(self.bib_number.items(), key=lambda kv: kv[1]):
            s = self.kb.sources[sid]
            cited = [self.link(b.id) for b in self.kb.backlinks(sid)]
            items.append({"n": n, "source": s, "path": entry_path("sources", sid), "cited_by": cited})
        return {"title": "Bibliography", "entries": items}

    def accuracy(self) -> dict[str, Any]:
        """The calculators against the published measurements, the held-out errors by group and the
        peers' figures."""
        from ..calc.accuracy import compare_cached, peer_figures, summary
        from ..calc.accuracy_report import FAR_MISS, MISS_PARTITIONS, far_misses
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
        counted = far_misses(cal)
        misses = [{"label": label, "far": counted[key][0], "n": counted[key][1]}
                  for key, label in MISS_PARTITIONS if key in counted]
        by_metric: list[dict[str, Any]] = [{"quantity": metric_label(metric), **s}
                                           for metric, s in summary(comparisons).items()]
        by_metric.sort(key=lambda r: str(r["quantity"]).lower())
        return {"title": "Calculator accuracy", "rows": rows, "summary": by_metric, "groups": groups,
                "overall": cal.get("cv", {}).get("overall", {}), "fitted_on": cal.get("fitted_on", {}),
                "peers": peer_figures(), "far_misses": misses, "far_miss_factor": FAR_MISS}

    def _engine_name(self, engine: str) -> str:
        """A measurement's engine as its framework entry names it ("vLLM"); "other" in words."""
        if engine == "other":
            return "other"
        return self.kb.frameworks[engine].title if engine in self.kb.frameworks else engine

    def tool(self, name: str) -> dict[str, Any]:
        """A tool's page: its name, title and summary."""
        title, summary = TOOLS[name]
        return {"title": title, "tool": name, "summary": summary}


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
        return num(value)
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

