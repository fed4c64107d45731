"""The printable handbook: one HTML book rendered with the site's renderer and
templates, printed to PDF by headless Chromium (Playwright).

Two passes give a table of contents with page numbers: the first PDF's outline
(bookmarks, made by Chromium from the h1/h2 headings) tells on which page each
chapter and entry starts; the second pass prints those numbers. Output is made
byte-identical for the same input by fixing the document dates and id to
SOURCE_DATE_EPOCH (or the data date)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..kb import KnowledgeBase
from ..paths import generators_dir
from ..version import __version__

PAPER = {"a4": "A4", "letter": "Letter"}
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--font-render-hinting=none"]


class PdfError(RuntimeError):
    """The PDF cannot be made on this machine (no browser, missing library)."""


@dataclass(frozen=True)
class PdfOptions:
    """What to print: the whole book or one chapter, on A4 or Letter paper."""

    chapter: str | None = None
    paper: str = "a4"


def _chromium() -> str:
    explicit = os.environ.get("INFERBOOK_CHROMIUM")
    for path in ([explicit] if explicit else []) + list(CHROMIUM_CANDIDATES):
        if path and Path(path).exists():
            return path
    raise PdfError("no Chromium found (install Debian's chromium package, or set INFERBOOK_CHROMIUM)")


def _shift_headings(html: str, by: int = 1) -> str:
    """Demote headings inside entry bodies so the book's outline stays chapter > entry > section."""
    return re.sub(r"<(/?)h([1-6])\b", lambda m: f"<{m.group(1)}h{min(int(m.group(2)) + by, 6)}", html)


_APPENDIX = {"gpus": "appendix-gpus", "models": "appendix-models", "formats": "appendix-formats",
             "frameworks": "appendix-frameworks"}


def _cross_links(html: str, known: set[str], kinds: dict[str, str] | None = None) -> str:
    """Site links to entries become links inside the book: articles and chapters to
    their sections, GPUs, models, formats and frameworks to their appendix."""
    kinds = kinds or {}

    def target(eid: str) -> str | None:
        if eid in known:
            return f"#entry-{eid}"
        if kinds.get(eid) in _APPENDIX:
            return f"#{_APPENDIX[kinds[eid]]}"
        return None

    def swap(m: re.Match[str]) -> str:
        found = target(m.group(2))
        return f'href="{found}"' if found else m.group(0)

    return re.sub(r'href="(?:\.\./)*(entries/[a-z]+|chapters)/([a-z0-9.-]+)\.html"', swap, html)


def _chapter_figures(body: str, chapter: int, before: int, entry_id: str) -> tuple[str, int]:
    """An entry's body with its figures numbered within its chapter, after the ``before``
    figures of the chapter's earlier entries ("Figure 3.2": chapter 3, second figure), the
    references in its text alike, and figure ids prefixed with the entry's (two entries may
    name a figure alike); and the chapter's figure count so far. The site numbers each entry's
    figures from 1 (`figures.place_figures`)."""
    from ..figures import renumber_figures

    body, count = renumber_figures(body, lambda n: f"{chapter}.{before + n}",
                                   lambda fid: f"figure-{entry_id}-{fid}")
    return body, before + count


class BookBuilder:
    """Collects the book's content from the page contexts the site also renders."""

    def __init__(self, kb: KnowledgeBase, options: PdfOptions):
        import jinja2

        from .page_contexts import PageContexts
        from .spec_tables import num

        self.kb = kb
        self.options = options
        self.contexts = PageContexts(kb)
        """The site's page contexts (chapters, articles, spec pages, catalogues, glossary, bibliography)."""
        templates = generators_dir() / "site" / "templates"
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates)), autoescape=True,
                                      undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.env.filters["num"] = num

    def chapters(self) -> list[dict[str, Any]]:
        """Each chapter's page context and its entries' page contexts, their figures numbered
        by chapter (`_chapter_figures`) and their links pointing inside the book."""
        known = set(self.kb.chapters) | {e.id for e in self.kb.learning_order()}
        kinds = {e.id: self.kb.kind_of(e.id) for e in self.kb}
        out = []
        for cid in sorted(self.kb.chapters, key=lambda c: self.kb.chapters[c].number):
            if self.options.chapter and cid != self.options.chapter:
                continue
            ctx = self.contexts.chapter(cid)
            entries = []
            placed = 0
            for e in self.kb.chapter_entries(cid):
                a = self.contexts.article(e)
                body, placed = _chapter_figures(a["body"], ctx["number"], placed, e.id)
                a["body"] = _cross_links(_shift_headings(body, 1), known, kinds)
                a["faq"] = [{"q": f["q"], "a": _cross_links(f["a"], known, kinds)} for f in a["faq"]]
                a["exercises"] = [{**x, "question": _cross_links(x["question"], known, kinds),
                                   "solution": _cross_links(x["solution"], known, kinds)} for x in a["exercises"]]
                entries.append(a)
            out.append({"id": cid, "number": ctx["number"], "title": ctx["title"], "summary": ctx["summary"],
                        "body": _cross_links(_shift_headings(ctx["body"], 1), known, kinds), "entries": entries})
        return out

    def context(self, pages: dict[str, int] | None) -> dict[str, Any]:
        from .page_contexts import KIND_LABEL, entry_path

        chapters = self.chapters()
        cited = {s["id"] for ch in chapters for e in ch["entries"] for s in e["sources"]}
        bibliography = [b for b in self.contexts.bibliography()["entries"]
                        if not self.options.chapter or b["source"].id in cited]
        gpus = self.contexts.catalog("gpus")
        models = self.contexts.catalog("models")
        whole = self.options.chapter is None
        glossary = self.contexts.glossary()["letters"] if whole else []
        formats = [self.contexts.spec("formats", fid) for fid in sorted(self.kb.formats)] if whole else []
        frameworks = [self.contexts.spec("frameworks", fid) for fid in sorted(self.kb.frameworks)] if whole else []
        title = "The inferbook handbook"
        if self.options.chapter:
            title = f"inferbook: {self.kb.chapters[self.options.chapter].title}"
        answers = [{"id": e["entry"].id, "title": e["title"], "exercises": e["exercises"]}
                   for ch in chapters for e in ch["entries"] if e["exercises"]]
        return {"title": title, "version": __version__, "data_version": self.kb.data_version, "answers": answers,
                "data_date": self.kb.data_date, "chapters": chapters, "bibliography": bibliography,
                "gpus": gpus if whole else None, "models": models if whole else None, "formats": formats,
                "frameworks": frameworks, "glossary": glossary, "pages": pages or {}, "placeholder": pages is None,
                "kind_label": KIND_LABEL, "entry_path": entry_path}

    def html(self, pages: dict[str, int] | None) -> str:
        return self.env.get_template("book.html").render(**self.context(pages))


BOOK_ORIGIN = "https://book.inferbook.invalid"
"""The made-up origin Chromium loads the book from. Nothing resolves it: every request
is answered by `_BookRoutes` from the staging folder or refused."""
BOOK_CSP = (f"default-src 'none'; style-src {BOOK_ORIGIN}; img-src {BOOK_ORIGIN}; font-src {BOOK_ORIGIN}; "
            "script-src 'none'; object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'")
"""Sent with the book: only its own styles, images and fonts load; no script, frames or data: URLs."""
DEAD_PROXY = "127.0.0.1:9"
"""Every network request that escaped the routes would go to this closed port (loopback included)."""
_BOOK_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8"}


class _BookRoutes:
    """Answers Chromium's requests for the book from one folder and refuses everything else,
    keeping the refused URLs so that a test (or a curious user) can see what was blocked."""

    def __init__(self, folder: Path):
        self.files = {p.name: p for p in folder.iterdir() if p.suffix in _BOOK_TYPES and p.is_file()}
        self.blocked: list[str] = []

    def __call__(self, route: Any) -> None:
        url: str = route.request.url
        name = url.removeprefix(BOOK_ORIGIN + "/") if url.startswith(BOOK_ORIGIN + "/") else None
        path = self.files.get(name) if name else None
        if path is None:
            self.blocked.append(url)
            if route.request.is_navigation_request():
                # a 204 leaves the book on screen: an aborted navigation (a meta refresh, a frame)
                # would put an error page in its place, and Chromium then refuses to print
                route.fulfill(status=204, body=b"")
            else:
                route.abort("blockedbyclient")
            return
        route.fulfill(status=200, body=path.read_bytes(),
                      headers={"Content-Type": _BOOK_TYPES[path.suffix], "Content-Security-Policy": BOOK_CSP,
                               "X-Content-Type-Options": "nosniff"})


def _print(html_path: Path, pdf_path: Path, paper: str, title: str) -> list[str]:
    """Print ``html_path`` (with the styles beside it) to ``pdf_path``; return the URLs refused.

    The book is built from contributor text, so Chromium runs it with JavaScript off,
    service workers blocked, a CSP that allows only the book's own files, every request
    answered by `_BookRoutes` (file:, http:, https: and data: to anything else refused),
    and a dead proxy behind that for anything the routes could miss."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is a dependency of the pdf extra
        raise PdfError("the PDF needs the 'playwright' package: pip install 'inferbook[pdf]'") from exc
    import jinja2

    header = ('<div style="font-size:7.5px;width:100%;padding:0 14mm;color:#555;font-family:sans-serif;">'
              f'<span>{jinja2.utils.markupsafe.escape(title)}</span></div>')
    footer = ('<div style="font-size:7.5px;width:100%;text-align:center;color:#555;font-family:sans-serif;">'
              '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')
    routes = _BookRoutes(html_path.parent)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS,
                                    proxy={"server": DEAD_PROXY, "bypass": "<-loopback>"})
        try:
            context = browser.new_context(java_script_enabled=False, service_workers="block",
                                          accept_downloads=False)
            context.route("**/*", routes)
            page = context.new_page()
            page.goto(f"{BOOK_ORIGIN}/{html_path.name}", wait_until="load")
            page.pdf(path=str(pdf_path), format=PAPER[paper], print_background=True, display_header_footer=True,
                     header_template=header, footer_template=footer, outline=True, tagged=True,
                     margin={"top": "18mm", "bottom": "16mm", "left": "16mm", "right": "16mm"})
        finally:
            browser.close()
    return routes.blocked


def _outline_pages(pdf_path: Path) -> list[tuple[int, str, int]]:
    """(level, title, 1-based page) of every bookmark, in document order."""
    from pypdf import PdfReader

    reader = PdfReader(str(pdf_path))
    out: list[tuple[int, str, int]] = []

    def walk(items: list, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                page = reader.get_destination_page_number(item)
                assert page is not None, f"bookmark {item.title!r} points to no page"
                out.append((level, str(item.title), page + 1))

    walk(reader.outline, 1)
    return out


def _page_map(book: BookBuilder, outline: list[tuple[int, str, int]]) -> dict[str, int]:
    """Match level-1 and level-2 bookmarks to chapter and entry ids, in order."""
    wanted: list[tuple[str, str]] = []
    for ch in book.chapters():
        wanted.append((ch["id"], f"{ch['number']}. {ch['title']}"))
        wanted.extend((e["entry"].id, e["title"]) for e in ch["entries"])
    pages: dict[str, int] = {}
    titles = [(t, p) for level, t, p in outline if level <= 2]
    i = 0
    for eid, title in wanted:
        while i < len(titles) and titles[i][0].strip() != title.strip():
            i += 1
        if i < len(titles):
            pages[eid] = titles[i][1]
            i += 1
    return pages


_DATE = re.compile(rb"/(CreationDate|ModDate) \(D:[0-9]{14}[^)]{0,8}\)")


_NODE_ID = re.compile(rb"\(node(\d{8})\)")


def _renumber_nodes(data: bytes) -> bytes:
    """The tagged PDF names each structure element after Chromium's DOM node number, which
    depends on how many nodes the renderer made before; the same page can get other numbers
    on another run. Each number becomes its rank among them: same width (no object moves),
    same order (the ID tree stays sorted), same bytes for the same book."""
    ranks = {n: i for i, n in enumerate(sorted({int(m.group(1)) for m in _NODE_ID.finditer(data)}))}
    return _NODE_ID.sub(lambda m: b"(node%08d)" % ranks[int(m.group(1))], data)


def _normalize(pdf_path: Path, title: str, source: str) -> None:
    """Fix metadata dates and the document id (a hash of the book's HTML) so equal
    input gives equal bytes. Chromium's dates are patched in place with strings of the
    same length and the id goes into the trailer, after the cross-reference table, so
    no object moves; when a date has another length, pypdf rewrites the file instead."""
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0") or 0)
    stamp = dt.datetime.fromtimestamp(epoch, dt.UTC) if epoch else dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    date = stamp.strftime("D:%Y%m%d%H%M%S+00'00'")
    digest = hashlib.sha256(source.encode()).hexdigest()[:32].upper()
    data = _renumber_nodes(pdf_path.read_bytes())

    def fixed(m: re.Match[bytes]) -> bytes:
        return b"/" + m.group(1) + f" ({date})".encode()

    patched = _DATE.sub(fixed, data)
    trailer = patched.rfind(b"trailer\n<<")
    same_length = len(patched) == len(data) and all(
        len(m.group(0)) == len(fixed(m)) for m in _DATE.finditer(data))
    if same_length and trailer != -1 and b"/ID" not in patched[trailer:]:
        at = trailer + len(b"trailer\n<<")
        pdf_path.write_bytes(patched[:at] + f"/ID [<{digest}> <{digest}>]\n".encode() + patched[at:])
        return
    _normalize_with_pypdf(pdf_path, title, date, bytes.fromhex(digest))


def _normalize_with_pypdf(pdf_path: Path, title: str, date: str, digest: bytes) -> None:
    """Slow path: rewrite the whole file with fixed dates and id (about 5 s for the book)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, ByteStringObject

    writer = PdfWriter(clone_from=PdfReader(str(pdf_path)))
    writer.add_metadata({"/Title": title, "/Producer": f"inferbook {__version__} via Chromium",
                         "/Creator": "inferbook", "/CreationDate": date, "/ModDate": date})
    writer._ID = ArrayObject([ByteStringObject(digest), ByteStringObject(digest)])
    buf = io.BytesIO()
    writer.write(buf)
    data = re.sub(rb"/CreationDate \(D:[^)]*\)", f"/CreationDate ({date})".encode(), buf.getvalue())
    pdf_path.write_bytes(data)


def build_pdf(kb: KnowledgeBase, out: Path, options: PdfOptions | None = None) -> Path:
    """Write the handbook (or one chapter) as a PDF into ``out``; return its path."""
    options = options or PdfOptions()
    if options.paper not in PAPER:
        raise PdfError(f"paper must be one of {', '.join(PAPER)}")
    if options.chapter and options.chapter not in kb.chapters:
        raise PdfError(f"unknown chapter '{options.chapter}'; chapters: {', '.join(sorted(kb.chapters))}")
    book = BookBuilder(kb, options)
    name = "inferbook-handbook.pdf" if not options.chapter else f"inferbook-{options.chapter}.pdf"
    title = book.context(None)["title"]
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        static = generators_dir() / "site" / "static"
        shutil.copyfile(static / "style.css", tmp / "style.css")
        shutil.copyfile(static / "book.css", tmp / "book.css")
        html_path = tmp / "book.html"
        first = tmp / "pass1.pdf"
        html_path.write_text(book.html(None), encoding="utf-8")
        _print(html_path, first, options.paper, title)
        pages = _page_map(book, _outline_pages(first))
        source = book.html(pages)
        html_path.write_text(source, encoding="utf-8")
        final = out / name
        _print(html_path, final, options.paper, title)
        _normalize(final, title, source + options.paper)
    return final


def build_pdf_target(kb: KnowledgeBase, out: Path) -> None:
    """Generator entry point for `inferbook build pdf`: the whole handbook on A4."""
    build_pdf(kb, out)
