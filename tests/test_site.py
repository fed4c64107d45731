"""The website in a real browser (headless Debian Chromium through Playwright), plus
static checks over every generated page: links and anchors, security rules, offline
assets and the JavaScript budget.

The site is built once per session (`built_site` in conftest.py, shared with
test_site_tools.py and test_site_update.py) and served on 127.0.0.1 by a
ThreadingHTTPServer thread. The static checks run in the fast tier; the browser tests are
marked `browser` (slow tier). Without /usr/bin/chromium the browser tests skip, or fail
when CI=true. Screenshots land in /tmp/site-*.png for a human to look at.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from conftest import concept, write_kb

from inferbook.generators import build
from inferbook.generators.site_tools import ENTRY_TOOLS
from inferbook.serve import SiteServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
JS_BUDGET = 150 * 1024
SCREENSHOTS = Path("/tmp")


# fixtures ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def site(built_site: Path) -> Path:
    """The session's site build (read only: no test here writes into it)."""
    return built_site


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    server = SiteServer(("127.0.0.1", 0), site)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(color_scheme="light", viewport={"width": 1280, "height": 900})
    yield ctx
    ctx.close()


def _first(site: Path, folder: str, preferred: str) -> str:
    """`folder/preferred.html` when it exists, else the folder's first page (the KB grows)."""
    if (site / folder / f"{preferred}.html").exists():
        return f"{folder}/{preferred}.html"
    return f"{folder}/{sorted((site / folder).glob('*.html'))[0].name}"


PAGE_TYPES = {
    "home": lambda s: "index.html",
    "chapter": lambda s: _first(s, "chapters", "foundations"),
    "concept": lambda s: _first(s, "entries/concepts", "kv-cache"),
    "metric": lambda s: _first(s, "entries/metrics", "ttft"),
    "technique": lambda s: _first(s, "entries/techniques", "paged-attention"),
    "gpu": lambda s: _first(s, "entries/gpus", "h100-sxm"),
    "model": lambda s: _first(s, "entries/models", "llama-3.1-8b-instruct"),
    "format": lambda s: _first(s, "entries/formats", "fp8-e4m3"),
    "framework": lambda s: _first(s, "entries/frameworks", "vllm"),
    "source": lambda s: _first(s, "entries/sources", "vllm-docs"),
    "catalog-gpus": lambda s: "catalog/gpus.html",
    "catalog-models": lambda s: "catalog/models.html",
    "catalog-formats": lambda s: "catalog/formats.html",
    "catalog-frameworks": lambda s: "catalog/frameworks.html",
    "glossary": lambda s: "glossary.html",
    "learning-path": lambda s: "learning-path.html",
    "bibliography": lambda s: "bibliography.html",
    "accuracy": lambda s: "accuracy.html",
    "search": lambda s: "search.html?q=kv+cache",
    "tools-index": lambda s: "tools/index.html",
    "tool": lambda s: "tools/kv-cache.html",
}
WIDGETS = tuple(name for names in ENTRY_TOOLS.values() for name in names)
"""The teaching widgets embedded in entries (tests/test_site_widgets_*.py test each one's behaviour):
each tool page is in the accessibility, 390-px and dark-contrast checks."""
PAGE_TYPES.update({f"tool-{name}": (lambda s, name=name: f"tools/{name}.html") for name in WIDGETS})


def _entry_page(site: Path, eid: str) -> str:
    """The page of the entry ``eid``, whatever its kind."""
    [page] = site.glob(f"entries/*/{eid}.html")
    return page.relative_to(site).as_posix()


PAGE_TYPES.update({f"entry-{eid}": (lambda s, eid=eid: _entry_page(s, eid)) for eid in ENTRY_TOOLS})
"""The entry pages that embed widgets, with their own articles' tables beside them."""


class Problems:
    """Console errors, page errors, failed requests and HTTP errors seen by a page."""

    def __init__(self, page):
        self.items: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.items.append(f"console: {m.text} @ {m.location}"))
        page.on("pageerror", lambda e: self.items.append(f"pageerror: {e}"))
        page.on("requestfailed", lambda r: self.items.append(f"requestfailed: {r.url} {r.failure}"))
        page.on("response", lambda r: r.status >= 400 and self.items.append(f"HTTP {r.status}: {r.url}"))


def wait_scroll_marks(page) -> None:
    """Wait for site.js to mark sideways-scrolling boxes focusable; it looks a moment after a tool
    draws, and axe's scrollable-region-focusable rule fails a box checked before that. Polled from
    here: `wait_for_function` compiles its predicate in the page, which the site's CSP forbids."""
    deadline = time.monotonic() + 15
    while page.evaluate("() => Boolean(document.documentElement.dataset.scrollPending)"):
        assert time.monotonic() < deadline, "site.js never marked the scrolling boxes"
        page.wait_for_timeout(25)


def _open(page, url: str, quiet_ms: int = 100) -> None:
    """Load ``url`` and wait until no request has been in flight for ``quiet_ms`` (the tools fetch
    their data after the load event; Playwright's "networkidle" would wait a fixed 500 ms instead)."""
    pending: set = set()
    handlers = {"request": lambda r: pending.add(r), "requestfinished": lambda r: pending.discard(r),
                "requestfailed": lambda r: pending.discard(r)}
    for event, handler in handlers.items():
        page.on(event, handler)
    try:
        page.goto(url, wait_until="load")
        quiet, deadline = 0, time.monotonic() + 15
        while quiet < quiet_ms and time.monotonic() < deadline:
            page.wait_for_timeout(25)
            quiet = 0 if pending else quiet + 25
        wait_scroll_marks(page)
    finally:
        for event, handler in handlers.items():
            page.remove_listener(event, handler)


# static checks over every page ---------------------------------------------------------
class PageParser(HTMLParser):
    """Collects ids, links, scripts and the attributes the security checks look at."""

    URL_ATTRS = {"href", "src", "action", "poster", "srcset", "formaction", "data", "cite", "xlink:href"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.inline_scripts = 0
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []
        self.event_attrs: list[str] = []
        self.external_links: list[tuple[str, str]] = []  # (href, rel)
        self.csp: str | None = None
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        for key in ("id", "name") if tag == "a" else ("id",):
            if a.get(key):
                self.ids.add(a[key])
        for key, value in a.items():
            if key.startswith("on"):
                self.event_attrs.append(f"<{tag} {key}>")
            if key in self.URL_ATTRS:
                self.urls.append((tag, key, value))
        if tag == "meta":
            equiv = a.get("http-equiv", "").lower()
            if equiv == "content-security-policy":
                self.csp = a.get("content", "")
            elif equiv == "refresh":
                match = re.search(r"url=(.+)$", a.get("content", ""), re.I)
                if match:
                    self.urls.append(("meta", "refresh", match.group(1).strip()))
        if tag == "script":
            if a.get("src"):
                self.scripts.append(a["src"])
            else:
                self.inline_scripts += 1
        if tag == "link" and "stylesheet" in a.get("rel", "").split():
            self.stylesheets.append(a.get("href", ""))
        if tag == "a" and re.match(r"(?i)^\s*(https?:)?//", a.get("href", "")):
            self.external_links.append((a["href"], a.get("rel", "")))

    handle_startendtag = handle_starttag


@cache
def _parse(path: Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser


def _pages(site: Path) -> list[Path]:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 50, "the site has suspiciously few pages"
    return pages


def _is_remote(url: str) -> bool:
    return bool(re.match(r"(?i)^\s*([a-z][a-z0-9+.-]*:|//)", url)) and not url.lower().startswith("data:")


def test_no_broken_internal_links_or_anchors(site: Path) -> None:
    broken: list[str] = []
    checked = 0
    root = site.resolve()
    for page in _pages(site):
        rel = page.relative_to(site).as_posix()
        for tag, attr, value in _parse(page).urls:
            urls = [u.strip().split(" ")[0] for u in value.split(",")] if attr == "srcset" else [value]
            for url in urls:
                if _is_remote(url):
                    continue
                parts = urlsplit(urljoin(f"http://site/{rel}", url))
                target_rel = unquote(parts.path).lstrip("/") or "index.html"
                if target_rel.endswith("/"):
                    target_rel += "index.html"
                target = (site / target_rel).resolve()
                checked += 1
                if root not in target.parents or not target.is_file():
                    broken.append(f"{rel}: <{tag} {attr}={value!r}> -> missing {target_rel}")
                    continue
                if parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _parse(target).ids:
                    broken.append(f"{rel}: <{tag} {attr}={value!r}> -> no id '{parts.fragment}' in {target_rel}")
    assert checked > 1000
    assert not broken, f"{len(broken)} broken link(s):\n" + "\n".join(broken[:50])


def _security_findings(site: Path) -> list[str]:
    found = []
    for page in sorted(site.rglob("*.html")):
        rel = page.relative_to(site).as_posix()
        p = _parse(page)
        if p.inline_scripts:
            found.append(f"{rel}: {p.inline_scripts} inline <script> without src")
        found += [f"{rel}: event attribute {e}" for e in p.event_attrs]
        found += [f"{rel}: javascript: URL in <{t} {a}>" for t, a, v in p.urls
                  if re.match(r"(?i)^\s*javascript:", v)]
        for href, rel_attr in p.external_links:
            if not {"noopener", "noreferrer"} <= set(rel_attr.lower().split()):
                found.append(f"{rel}: external link {href} has rel={rel_attr!r}")
        if not p.csp or "script-src 'self'" not in p.csp or "default-src 'self'" not in p.csp:
            found.append(f"{rel}: missing or weak Content-Security-Policy meta tag ({p.csp!r})")
    return found


def test_security_rules_on_every_page(site: Path) -> None:
    assert len(_pages(site)) > 50
    found = _security_findings(site)
    assert not found, f"{len(found)} problem(s):\n" + "\n".join(found[:50])


def test_hostile_text_renders_escaped(tmp_path: Path) -> None:
    """Plain-text fields (title, aliases) may hold anything and must come out escaped; Markdown
    fields may hold escaped HTML as text (raw HTML there is rejected by validation, IB110)."""
    title = "Evil <script>alert('t')</script><img src=x onerror=alert(2)> title"
    entry = concept("evil", title=title, aliases='["<b onmouseover=alert(3)>bold</b>"]').replace(
        "summary: A concept used by the tests.", "summary: 'Compares a < b && c > d as text.'",
    ).replace("body: Text.", "body: |\n  Text with &lt;img onerror&gt; and `<script>alert('b')</script>` as code.")
    kb = write_kb(tmp_path / "kb", {"concepts/evil.yaml": entry, "concepts/a.yaml": concept("a")})
    (out,) = build(["site"], kb=kb, out=tmp_path / "build")
    html = (out / "entries/concepts/evil.html").read_text(encoding="utf-8")
    assert "<h1>Evil &lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt; title</h1>" \
        in html
    assert "&lt;b onmouseover=alert(3)&gt;bold&lt;/b&gt;" in html
    assert "&lt;img onerror&gt;" in html and "<code>&lt;script&gt;alert('b')&lt;/script&gt;</code>" in html
    for page in sorted(out.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        for raw in ("<script>alert", "<img src=x", "<b onmouseover"):
            assert raw not in text, f"{page.relative_to(out)} contains raw {raw!r}"
    found = _security_findings(out)
    assert not found, "\n".join(found)


def test_accuracy_page_counts_far_misses(site: Path) -> None:
    """The accuracy page says how many predictions miss by more than 2x, from calibration.json."""
    from inferbook.calc.accuracy_report import far_misses
    from inferbook.calc.perf import calibration

    page = (site / "accuracy.html").read_text(encoding="utf-8")
    sentence = re.search(r'<p id="far-misses">(.*?)</p>', page, flags=re.DOTALL)
    assert sentence, "the accuracy page has no far-miss sentence"
    counted = far_misses(calibration())
    for partition in ("gpu", "family", "engine"):
        far, n = counted[partition]
        assert f"{far:,} of {n:,} held out by" in sentence.group(1)


def test_secondary_sources_are_marked(site: Path) -> None:
    """Numbers resting on press or catalogue sources carry a visible mark on the spec page,
    the catalogue and the bibliography; numbers from datasheets do not."""
    import inferbook
    from inferbook.generators.page_contexts import entry_path
    from inferbook.provenance import all_number_sources

    kb = inferbook.load()
    rows = all_number_sources(kb, ("gpus",))
    flagged = sorted({r.entry_id for r in rows if r.secondary})
    clean = sorted({r.entry_id for r in rows} - set(flagged))
    assert flagged and clean
    for gid in flagged:
        html = (site / entry_path("gpus", gid)).read_text(encoding="utf-8")
        marked = html.count('<span class="secondary"')
        assert marked == sum(1 for r in rows if r.entry_id == gid and r.secondary), gid
    for gid in clean[:10]:
        assert 'class="secondary"' not in (site / entry_path("gpus", gid)).read_text(encoding="utf-8"), gid
    catalog = (site / "catalog" / "gpus.html").read_text(encoding="utf-8")
    marks = re.findall(r'href="[^"]*gpus/([a-z0-9.-]+)\.html">[^<]*</a> <abbr class="secondary-mark"', catalog)
    assert sorted(marks) == flagged
    bib = (site / "bibliography.html").read_text(encoding="utf-8")
    cited_secondary = {r.source_id for r in all_number_sources(kb) if r.secondary}
    for sid in cited_secondary:
        item = re.search(rf'<li id="ref-\d+"[^>]*><a href="[^"]*sources/{re.escape(sid)}\.html">.*?</li>', bib)
        assert item and 'class="secondary"' in item.group(0), sid


def test_works_offline(site: Path) -> None:
    remote: list[str] = []
    for page in _pages(site):
        rel = page.relative_to(site).as_posix()
        for tag, attr, value in _parse(page).urls:
            if tag != "a" and tag != "form" and _is_remote(value):
                remote.append(f"{rel}: <{tag} {attr}={value!r}>")
    for css in site.rglob("*.css"):
        text = css.read_text(encoding="utf-8")
        for match in re.finditer(r"(?i)(?:url\(\s*['\"]?|@import\s+['\"]?)((?:https?:)?//[^'\")\s]+)", text):
            remote.append(f"{css.relative_to(site)}: {match.group(1)}")
    for js in site.rglob("*.js"):
        for spec in _static_imports(js):
            if _is_remote(spec):
                remote.append(f"{js.relative_to(site)}: import {spec}")
    assert not remote, "\n".join(remote[:50])


IMPORT = re.compile(r"""(?m)^\s*(?:import|export)\s*(?:[\w*${}\s,]+?\s*from\s*)?["']([^"']+)["']""")


@cache
def _static_imports(path: Path) -> tuple[str, ...]:
    return tuple(IMPORT.findall(path.read_text(encoding="utf-8")))


def _js_closure(entry: Path) -> set[Path]:
    seen: set[Path] = set()
    todo = [entry.resolve()]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        assert path.is_file(), f"missing JavaScript file {path}"
        seen.add(path)
        todo += [(path.parent / spec).resolve() for spec in _static_imports(path) if not _is_remote(spec)]
    return seen


def test_javascript_budget(site: Path, capsys: pytest.CaptureFixture) -> None:
    worst = (0, "")
    over = []
    for page in _pages(site):
        files: set[Path] = set()
        for src in _parse(page).scripts:
            if not _is_remote(src):
                files |= _js_closure(page.parent / urlsplit(src).path)
        total = sum(f.stat().st_size for f in files)
        rel = page.relative_to(site).as_posix()
        worst = max(worst, (total, rel))
        if total > JS_BUDGET:
            over.append(f"{rel}: {total / 1024:.1f} KB of JavaScript")
    with capsys.disabled():
        print(f"\n[site] largest JavaScript payload: {worst[0] / 1024:.1f} KB ({worst[1]})")
    assert not over, "\n".join(over)


def test_heavy_tools_are_linked_from_chapters_not_embedded(site: Path) -> None:
    from inferbook.generators.site_tools import CHAPTER_TOOLS, LINKED_TOOLS

    for chapter, tools in CHAPTER_TOOLS.items():
        html = (site / "chapters" / f"{chapter}.html").read_text(encoding="utf-8")
        for name in tools:
            assert f'href="../tools/{name}.html"' in html
            assert (f"assets/js/tools/{name}.js" in html) == (name not in LINKED_TOOLS), (chapter, name)


# browser checks --------------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.parametrize("kind", list(PAGE_TYPES))
def test_page_loads_cleanly(kind: str, site: Path, base_url: str, context) -> None:
    page = context.new_page()
    problems = Problems(page)
    _open(page, base_url + PAGE_TYPES[kind](site))
    assert page.locator("main h1").count() >= 1
    assert not problems.items, "\n".join(problems.items)


def _results(page) -> list[str]:
    page.wait_for_selector("body[data-search-ready='true']")
    return page.eval_on_selector_all(".search-results li > a", "els => els.map(e => e.getAttribute('href'))")


@pytest.mark.browser
def test_search(base_url: str, context) -> None:
    page = context.new_page()
    cases = {"KV cache": ("entries/concepts/kv-cache.html", True), "TTFT": ("entries/metrics/ttft.html", True),
             "H100": ("entries/gpus/h100-sxm.html", False)}
    for query, (path, first) in cases.items():
        _open(page, f"{base_url}search.html?q={query.replace(' ', '+')}")
        hits = _results(page)
        assert hits, f"no results for {query!r}"
        if first:
            assert hits[0].endswith(path), f"{query!r}: first hit {hits[0]}, expected {path}"
        else:
            assert any(h.endswith(path) for h in hits), f"{query!r}: {path} not in {hits[:10]}"
    page.fill("#search-input", "paged attention")
    page.wait_for_function("() => document.querySelector('.search-results li > a')?.href.includes('paged-attention')")
    assert "result" in page.inner_text(".search-status")
    page.fill("#search-input", "")
    page.wait_for_function("() => document.querySelectorAll('.search-results li').length === 0")


@pytest.mark.browser
def test_theme_switch_survives_reload(base_url: str, context) -> None:
    page = context.new_page()
    _open(page, base_url + "index.html")
    state = "() => [document.documentElement.dataset.theme, getComputedStyle(document.body).backgroundColor]"
    theme0, bg0 = page.evaluate(state)
    page.click(".theme-toggle")
    theme1, _ = page.evaluate(state)
    assert theme1 != theme0
    for _ in range(3):  # cycle until the background actually changes (auto and light look alike here)
        theme, bg = page.evaluate(state)
        if bg != bg0:
            break
        page.click(".theme-toggle")
    theme, bg = page.evaluate(state)
    assert bg != bg0 and theme == "dark", (theme, bg, bg0)
    page.reload(wait_until="load")
    page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
    assert page.evaluate(state) == [theme, bg]


@pytest.mark.browser
def test_catalog_sorts_and_filters(base_url: str, context) -> None:
    page = context.new_page()
    _open(page, base_url + "catalog/gpus.html")
    headers = page.eval_on_selector_all("#catalog thead th", "ths => ths.map(t => t.textContent.trim())")
    column = next(i for i, h in enumerate(headers) if h.startswith("Memory"))
    values = f"""() => [...document.querySelectorAll('#catalog tbody tr:not([hidden])')]
        .map(r => r.children[{column}].dataset.value).filter(v => v !== '').map(Number)"""
    button = page.locator(f"#catalog thead th >> nth={column}").locator("button")
    button.click()
    up = page.evaluate(values)
    assert len(up) > 10 and up == sorted(up)
    assert page.get_attribute(f"#catalog thead th >> nth={column}", "aria-sort") == "ascending"
    button.click()
    down = page.evaluate(values)
    assert down == sorted(up, reverse=True)
    total = page.locator("#catalog tbody tr").count()
    page.fill("#filter", "hopper")
    arch = headers.index("Architecture")
    shown = page.eval_on_selector_all("#catalog tbody tr:not([hidden])",
                                      f"rs => rs.map(r => r.children[{arch}].textContent.trim().toLowerCase())")
    assert shown and len(shown) < total and set(shown) == {"hopper"}, shown
    assert page.inner_text("[data-count-for='catalog']").startswith(f"{len(shown)} of {total}")


@pytest.mark.browser
def test_phone_viewport_has_no_horizontal_overflow(site: Path, base_url: str, browser) -> None:
    """At 390x844 no page scrolls sideways: the home page, kv-cache and one page of every other type."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    wide = []
    try:
        page = ctx.new_page()
        for url in dict.fromkeys(["index.html", "entries/concepts/kv-cache.html",
                                  *(f(site) for f in PAGE_TYPES.values())]):
            _open(page, base_url + url, quiet_ms=50)
            width, client = page.evaluate(
                "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            if width > client + 1:
                wide.append(f"{url}: scrollWidth {width} > clientWidth {client}")
    finally:
        ctx.close()
    assert not wide, "\n".join(wide)


def _axe_script() -> Path:
    import axe_playwright_python

    return Path(axe_playwright_python.__file__).with_name("axe.min.js")


@pytest.fixture(scope="module")
def axe_context(browser):
    # The site's CSP (script-src 'self') rightly blocks injected scripts; bypass it for axe only.
    ctx = browser.new_context(bypass_csp=True, color_scheme="light", viewport={"width": 1280, "height": 900})
    yield ctx
    ctx.close()


AXE_ROWS = 200
"""Rows of the accuracy page's measurement table that axe checks. Its 1,733 rows come from one
template row; checking all of them took about 25 s per run (over 50 s of the suite), the first
200 take a few seconds and see every kind of cell."""


def _axe_scope(kind: str) -> str:
    """The context axe runs on (JavaScript): the whole page, less the long tail of the accuracy table."""
    if kind == "accuracy":
        return f"{{exclude: [['table.accuracy tbody tr:nth-child(n+{AXE_ROWS + 1})']]}}"
    return "document"


@pytest.mark.browser
@pytest.mark.parametrize("kind", list(PAGE_TYPES))
def test_accessibility(kind: str, site: Path, base_url: str, axe_context) -> None:
    page = axe_context.new_page()
    try:
        _open(page, base_url + PAGE_TYPES[kind](site))
        page.add_script_tag(path=str(_axe_script()))
        result = page.evaluate(f"async () => await axe.run({_axe_scope(kind)}, {{resultTypes: ['violations']}})")
    finally:
        page.close()
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    report = [f"{v['id']} ({v['impact']}): {v['help']} -- {len(v['nodes'])} node(s), e.g. "
              f"{v['nodes'][0]['target']} {v['nodes'][0].get('failureSummary', '')[:300]}" for v in bad]
    assert not bad, "\n".join(report)


DARK_PAGES = ("home", "concept", "catalog-gpus", "accuracy", "tool")
DARK_PAGES += tuple(f"tool-{name}" for name in WIDGETS)


@pytest.mark.browser
@pytest.mark.parametrize("kind", DARK_PAGES)
def test_dark_theme_contrast(kind: str, site: Path, base_url: str, browser) -> None:
    ctx = browser.new_context(bypass_csp=True, color_scheme="dark", viewport={"width": 1280, "height": 900})
    try:
        page = ctx.new_page()
        _open(page, base_url + PAGE_TYPES[kind](site))
        page.add_script_tag(path=str(_axe_script()))
        result = page.evaluate(f"async () => await axe.run({_axe_scope(kind)}, {{runOnly: ['color-contrast'], "
                               "resultTypes: ['violations']})")
    finally:
        ctx.close()
    bad = [f"{n['target']} {n.get('failureSummary', '')[:200]}" for v in result["violations"]
           if v["impact"] in ("serious", "critical") for n in v["nodes"]]
    assert not bad, "\n".join(bad[:20])


SHOTS = {"home": "index.html", "kv-cache": "entries/concepts/kv-cache.html", "catalog-gpus": "catalog/gpus.html",
         "glossary": "glossary.html"}


@pytest.mark.browser
def test_screenshots(base_url: str, browser) -> None:
    """Not an assertion of looks: writes /tmp/site-<page>-<light|dark|phone>.png for a person to review."""
    variants = {"light": {"color_scheme": "light", "viewport": {"width": 1280, "height": 900}},
                "dark": {"color_scheme": "dark", "viewport": {"width": 1280, "height": 900}},
                "phone": {"color_scheme": "light", "viewport": {"width": 390, "height": 844}, "is_mobile": True}}
    for variant, options in variants.items():
        ctx = browser.new_context(**options)
        try:
            page = ctx.new_page()
            for name, url in SHOTS.items():
                _open(page, base_url + url)
                target = SCREENSHOTS / f"site-{name}-{variant}.png"
                page.screenshot(path=str(target), full_page=False)
                assert target.stat().st_size > 1000
        finally:
            ctx.close()


# book navigation, catalogues and search (issue #22) ------------------------------------
def _html(site: Path, rel: str) -> str:
    return (site / rel).read_text(encoding="utf-8")


def _region(html: str, start: str, end: str) -> str:
    """The text from the first ``start`` to the next ``end`` after it."""
    i = html.index(start)
    return html[i:html.index(end, i)]


def _hrefs(html: str) -> list[str]:
    return re.findall(r'<a[^>]* href="([^"#]*)"', html)


def _rel_link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', html)
    return found.group(1) if found else None


@pytest.fixture(scope="module")
def kb():
    import inferbook

    return inferbook.load()


def test_sidebar_lists_the_book_and_marks_the_page(site: Path, kb) -> None:
    from inferbook.generators.page_contexts import entry_path

    chapters = sorted(kb.chapters.values(), key=lambda c: c.number)
    expected = [[f"../../{entry_path('chapters', ch.id)}"] +
                [f"../../{entry_path(kb.kind_of(e.id), e.id)}" for e in kb.chapter_entries(ch.id)] for ch in chapters]
    for rel in ("entries/concepts/kv-cache.html", "entries/metrics/ttft.html", "chapters/foundations.html"):
        html = _html(site, rel)
        toc = _region(html, '<details class="book-toc"', "<main")
        assert '<nav aria-label="Chapters">' in toc and "<summary>Chapters</summary>" in toc
        blocks = re.findall(r"<li><details( open)?><summary>([^<]*)</summary>(.*?)</details></li>", toc, re.S)
        assert [title for _, title, _ in blocks] == [f"{ch.number}. {ch.title}" for ch in chapters]
        prefix = "../" * rel.count("/")
        links = [[h.replace(prefix, "../../", 1) for h in _hrefs(body)] for _, _, body in blocks]
        assert links == expected, rel
        current = re.findall(r'<a href="([^"]+)" aria-current="page">', toc)
        assert [c.replace(prefix, "", 1) for c in current] == [rel]
        opened = [title for is_open, title, body in blocks if is_open]
        assert len(opened) == 1 and 'aria-current="page"' in dict((t, b) for _, t, b in blocks)[opened[0]]
    # reference pages and other pages have no sidebar
    for rel in ("entries/gpus/h100-sxm.html", "index.html", "search.html", "tools/kv-cache.html"):
        assert "book-toc" not in _html(site, rel), rel


def test_reading_chain_runs_through_chapter_pages(site: Path, kb) -> None:
    from inferbook.generators.page_contexts import entry_path

    chain = []
    for ch in sorted(kb.chapters.values(), key=lambda c: c.number):
        chain += [entry_path("chapters", ch.id)] + [entry_path(kb.kind_of(e.id), e.id)
                                                    for e in kb.chapter_entries(ch.id)]
    for i, rel in enumerate(chain):
        html = _html(site, rel)
        prefix = "../" * rel.count("/")
        nxt, prev = _rel_link(html, "next"), _rel_link(html, "prev")
        assert (nxt and nxt.removeprefix(prefix)) == (chain[i + 1] if i + 1 < len(chain) else None), rel
        assert (prev and prev.removeprefix(prefix)) == (chain[i - 1] if i else None), rel
        assert '<nav class="pager" aria-label="Reading order">' in html
    # the last article of a chapter leads to the next chapter's page, labelled as a chapter
    first_chapter = sorted(kb.chapters.values(), key=lambda c: c.number)[0]
    last = kb.chapter_entries(first_chapter.id)[-1]
    html = _html(site, entry_path(kb.kind_of(last.id), last.id))
    assert "Next chapter" in _region(html, '<a rel="next"', "</a>")


def test_reference_pages_step_through_their_catalogue(site: Path, kb) -> None:
    from inferbook.generators.page_contexts import PageContexts, entry_path

    orders = {kind: sorted(kb.kind(kind)) for kind in ("gpus", "models", "formats", "frameworks", "offers")}
    bib = PageContexts(kb).bib_number
    orders["sources"] = sorted(bib, key=bib.__getitem__)
    for kind, ids in orders.items():
        for i in (0, len(ids) // 2, len(ids) - 1):
            html = _html(site, entry_path(kind, ids[i]))
            assert '<nav class="pager" aria-label="Catalogue order">' in html
            nxt, prev = _rel_link(html, "next"), _rel_link(html, "prev")
            assert nxt == (f"../../{entry_path(kind, ids[i + 1])}" if i + 1 < len(ids) else None), (kind, i)
            assert prev == (f"../../{entry_path(kind, ids[i - 1])}" if i else None), (kind, i)


BREADCRUMBS = {
    "chapter": ["index.html"], "concept": ["index.html", "chapters/foundations.html"],
    "metric": ["index.html", "chapters/measuring-performance.html"],
    "gpu": ["index.html", "catalog/gpus.html"], "model": ["index.html", "catalog/models.html"],
    "format": ["index.html", "catalog/formats.html"], "framework": ["index.html", "catalog/frameworks.html"],
    "source": ["index.html", "bibliography.html"], "catalog-gpus": ["index.html"],
    "catalog-formats": ["index.html"], "glossary": ["index.html"], "search": ["index.html"],
    "tools-index": ["index.html"], "tool": ["index.html", "tools/index.html"],
}


@pytest.mark.parametrize("kind", [k for k in PAGE_TYPES if k != "home"])
def test_breadcrumbs_on_every_page_type(kind: str, site: Path) -> None:
    rel = PAGE_TYPES[kind](site).split("?")[0]
    html = _html(site, rel)
    trail = _region(html, '<nav class="breadcrumbs" aria-label="Breadcrumb">', "</nav>")
    assert html.index(trail) > html.index('<main id="main">'), "the breadcrumbs open the main content"
    assert 'itemtype="https://schema.org/BreadcrumbList"' in trail
    prefix = "../" * rel.count("/")
    links = [h.removeprefix(prefix) for h in _hrefs(trail)]
    if kind in BREADCRUMBS:
        assert links == BREADCRUMBS[kind], (kind, links)
    assert links[0] == "index.html"
    title = re.search(r"<h1>(.*?)</h1>", html, re.S).group(1)
    current = re.search(r'<span itemprop="name" aria-current="page">(.*?)</span>', trail).group(1)
    assert current in title or title in current or kind.startswith(("chapter", "catalog")), (current, title)
    assert len(re.findall(r'itemprop="position" content="(\d+)"', trail)) == len(links) + 1


def test_outline_and_heading_anchors(site: Path) -> None:
    html = _html(site, "entries/concepts/kv-cache.html")
    main = _region(html, '<main id="main">', "</main>")
    headings = re.findall(r'<h([23]) id="([^"]+)">(.*?)</h\1>', main, re.S)
    assert len(headings) >= 5 and not re.search(r"<h[23]>", main), "every h2/h3 has an id"
    ids = [hid for _, hid, _ in headings]
    every_id = re.findall(r'\sid="([^"]+)"', html)
    assert len(every_id) == len(set(every_id)), "ids are unique on the page"
    assert "how-big-is-it" in ids and "sources" in ids and "key-formulas" in ids
    for hid in ids:
        assert f'<a class="heading-anchor" href="#{hid}" aria-label="Link to this section: ' in main
        assert f'<button type="button" class="copy-link" data-copy-fragment="{hid}" hidden' in main
    outline = _region(html, '<details class="outline"', "</details>")
    assert '<nav aria-label="On this page">' in outline
    assert re.findall(r'href="#([^"]+)"', outline) == ids
    # chapter pages get one too; reference pages get neither
    assert '<details class="outline"' in _html(site, "chapters/foundations.html")
    assert "heading-anchor" not in _html(site, "entries/gpus/h100-sxm.html")


def test_heading_ids_are_readable_stable_and_unique() -> None:
    from inferbook.generators.outline import add_outline, slug

    assert slug("Worked example: three architectures") == "worked-example-three-architectures"
    assert slug("Prefill vs. décodage (TP × 2)") == "prefill-vs-decodage-tp-2"
    assert slug("×") == "section"
    page = ('<body><h2>Outside</h2><main id="main"><!-- outline --><p id="notes">x</p><h2>Notes</h2>'
            '<h3>A <code>b</code></h3><h2>Notes</h2><h2 id="kept">Kept</h2></main></body>')
    out = add_outline(page)
    assert "<h2>Outside</h2>" in out, "only headings inside <main> are anchored"
    assert re.findall(r'<h[23] id="([^"]+)"', out) == ["notes-2", "a-b", "notes-3", "kept"]
    outline = _region(out, '<details class="outline"', "</details>")
    assert re.sub(r"\s+", " ", outline).count("<ol>") == 2  # the h3 nests under its h2
    assert add_outline(page) == out
    assert "On this page" not in add_outline('<main id="main"><!-- outline --><h2>Only one</h2></main>')


def test_catalogues_for_every_kind(site: Path, kb) -> None:
    from inferbook.generators.page_contexts import CATALOGUES, entry_path

    header = _region(_html(site, "index.html"), '<nav aria-label="Main">', "</nav>")
    intros, hints = set(), set()
    for kind in ("gpus", "models", "formats", "frameworks", "offers"):
        rel = f"catalog/{kind}.html"
        assert f'href="{rel}"' in header, kind
        html = _html(site, rel)
        rows = re.findall(r'<th scope="row"><a href="\.\./([^"]+)">', html)
        assert rows == [entry_path(kind, eid) for eid in sorted(kb.kind(kind))], kind
        intro = re.search(r'<p class="lead-in">(.*?)</p>', html, re.S).group(1)
        hint = re.search(r'data-filter-for="catalog" placeholder="([^"]+)"', html).group(1)
        assert intro.startswith(CATALOGUES[kind][1][:40]), kind
        intros.add(intro)
        hints.add(hint)
    assert len(intros) == len(hints) == 5, "each catalogue has its own introduction and filter example"
    frameworks = _html(site, "catalog/frameworks.html")
    assert "<button type=\"button\" data-sort=\"4\">Continuous batching</button>" in frameworks
    assert re.search(r'<td data-value="yes">yes</td>', frameworks)


def test_spec_pages_show_display_names(site: Path) -> None:
    html = _html(site, "entries/gpus/mi300x.html")
    cells = dict(re.findall(r'<tr><th scope="row"><abbr title="[^"]*">([^<]+)</abbr></th>\s*<td>([^<]*)</td>', html))
    assert cells["Vendor"] == "AMD" and cells["Architecture"] == "CDNA 3" and cells["Form factor"] == "OAM"
    assert cells["Market"] == "Data center"
    catalog = _html(site, "catalog/gpus.html")
    assert '<td data-value="AMD">AMD</td><td data-value="CDNA 3">CDNA 3</td>' in catalog
    framework = _html(site, "entries/frameworks/vllm.html")
    assert "NVIDIA, AMD, Intel, Google, AWS" in framework


def test_theme_button_names_what_it_shows(site: Path) -> None:
    """Its accessible name is its visible text ("Theme: auto"), which site.js keeps current."""
    for rel in ("index.html", "entries/concepts/kv-cache.html"):
        button = re.search(r'<button type="button" class="theme-toggle"([^>]*)>([^<]*)</button>', _html(site, rel))
        assert button and "aria-label" not in button.group(1) and button.group(2) == "Theme: auto"
    assert "`Theme: ${theme}`" in (site / "assets/js/site.js").read_text(encoding="utf-8")


def test_forms_may_submit_to_the_site_only(site: Path) -> None:
    from inferbook.generators.site import CSP

    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["form-action"] == "'self'" and directives["script-src"] == "'self'"
    assert all(v in ("'self'", "'none'", "'self' data:") for v in directives.values()), directives
    for page in _pages(site):
        assert _parse(page).csp == CSP, page
    header_form = re.search(r'<form class="quick-search" role="search" action="([^"]+)">',
                            _html(site, "entries/gpus/h100-sxm.html"))
    assert header_form and header_form.group(1) == "../../search.html"


def test_site_navigation_stays_out_of_the_pdf(kb) -> None:
    """The PDF renders the same page contexts into book.html: no sidebar, breadcrumbs, outline or anchors."""
    from inferbook.generators.pdf import BookBuilder, PdfOptions

    book = BookBuilder(kb, PdfOptions(chapter="foundations")).html(None)
    for mark in ("book-toc", 'aria-label="Breadcrumb"', 'class="outline"', "heading-anchor", "copy-link",
                 'class="pager"'):
        assert mark not in book, mark


def _search_index(site: Path) -> dict:
    import json

    return json.loads((site / "assets/data/search-index.json").read_text(encoding="utf-8"))


def test_search_index_holds_tools_gpus_and_models(site: Path, kb) -> None:
    from inferbook.generators.page_contexts import entry_path
    from inferbook.generators.site_tools import TOOLS

    paths = {d["path"] for d in _search_index(site)["docs"]}
    assert {f"tools/{name}.html" for name in TOOLS} <= paths
    assert {entry_path("gpus", g) for g in kb.gpus} <= paths
    assert {entry_path("models", m) for m in kb.models} <= paths
    assert {f"catalog/{k}.html" for k in ("gpus", "models", "formats", "frameworks", "offers")} <= paths
    assert not any(p.startswith("entries/redirects/") for p in paths)


SEARCH_CASES = {
    # query: (page expected first)
    "paged attention": "entries/techniques/paged-attention.html",
    "pagd atention": "entries/techniques/paged-attention.html",
    "speculativ decodng": "entries/techniques/speculative-decoding.html",
    "KV cache": "entries/concepts/kv-cache.html",
    "TTFT": "entries/metrics/ttft.html",
    "time to first token": "entries/metrics/ttft.html",
    "H100": "entries/gpus/h100-sxm.html",
    "llama 3.1 8b": "entries/models/llama-3.1-8b-instruct.html",
    "continuous batching": "entries/techniques/continuous-batching.html",
    "vllm": "entries/frameworks/vllm.html",
    "gpu prices": "catalog/offers.html",
    "batching simulator": "tools/batching-simulator.html",
}


def _node(site: Path, script: str) -> Any:
    """Runs ``script`` (an ES module that may import search.js from ``SEARCH_JS``) in Node and
    returns the JSON it prints: search.js's ranking is tested without a browser."""
    import json
    import shutil
    import subprocess

    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed")
    script = script.replace("SEARCH_JS", json.dumps((site / "assets/js/search.js").as_uri()))
    done = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _node_search(site: Path, queries: list[str]) -> dict[str, dict]:
    import json

    index = json.dumps(str(site / "assets/data/search-index.json"))
    return _node(site, "import { SearchIndex } from SEARCH_JS;\nimport { readFileSync } from 'node:fs';\n"
                       f"const index = new SearchIndex(JSON.parse(readFileSync({index}, 'utf8')));\n"
                       f"const out = {{}};\nfor (const q of {json.dumps(queries)}) {{\n"
                       "  const r = index.search(q);\n"
                       "  out[q] = { hits: r.hits.map((d) => d.path), kinds: r.hits.map((d) => d.kind),"
                       " total: r.total, corrected: r.corrected };\n}\nconsole.log(JSON.stringify(out));\n")


def test_search_ranking_and_typos(site: Path) -> None:
    results = _node_search(site, [*SEARCH_CASES, "speculative decoding", "atention", "gpu"])
    wrong = {q: r["hits"][:3] for q, r in results.items()
             if q in SEARCH_CASES and r["hits"][:1] != [SEARCH_CASES[q]]}
    assert not wrong, wrong
    assert results["pagd atention"]["corrected"] == "paged attention"
    assert results["speculativ decodng"]["corrected"] == "speculative decoding"
    assert results["paged attention"]["corrected"] is None
    # entries above sources: every source comes after every other hit
    for q in ("speculative decoding", "paged attention", "vllm"):
        kinds = results[q]["kinds"]
        first_source = kinds.index("sources") if "sources" in kinds else len(kinds)
        assert set(kinds[first_source:]) <= {"sources"}, q
    assert results["atention"]["hits"], "one typo in a word of 8 letters still finds it"
    assert results["gpu"]["total"] > len(results["gpu"]["hits"]) == 30


def test_search_status_text(site: Path) -> None:
    out = _node(site, "import { statusText, editDistance } from SEARCH_JS;\nconsole.log(JSON.stringify(["
                      "statusText(1, 1, null), statusText(12, 12, null), statusText(61, 30, null),"
                      " statusText(61, 30, 'paged attention'), editDistance('atention', 'attention', 2),"
                      " editDistance('decodng', 'decoding', 1), editDistance('teh', 'the', 1),"
                      " editDistance('abc', 'xyz', 1)]));")
    assert out == ["1 result", "12 results", "Showing 30 of 61 results",
                   "Showing 30 of 61 results for “paged attention”", 1, 1, 1, 2]


@pytest.mark.browser
def test_header_search_works_from_every_page(site: Path, base_url: str, context) -> None:
    """Enter in the header's search box opens search.html with the query on any page (the CSP allows
    forms to the site itself), and the results come up."""
    page = context.new_page()
    problems = Problems(page)
    for rel, query, first in (
            ("index.html", "KV cache", "entries/concepts/kv-cache.html"),
            ("entries/concepts/kv-cache.html", "TTFT", "entries/metrics/ttft.html"),
            ("entries/gpus/h100-sxm.html", "pagd atention", "entries/techniques/paged-attention.html"),
            ("tools/kv-cache.html", "vllm", "entries/frameworks/vllm.html"),
            ("catalog/gpus.html", "H100", "entries/gpus/h100-sxm.html")):
        _open(page, base_url + rel, quiet_ms=50)
        page.fill("#q", query)
        with page.expect_navigation():
            page.press("#q", "Enter")
        assert urlsplit(page.url).path.endswith("/search.html"), (rel, page.url)
        hits = _results(page)
        assert hits and hits[0].endswith(first), (rel, query, hits[:3])
        assert page.input_value("#search-input") == query
    assert not problems.items, "\n".join(problems.items)


@pytest.mark.browser
def test_search_says_when_the_list_is_capped(base_url: str, context) -> None:
    page = context.new_page()
    _open(page, base_url + "search.html?q=gpu")
    assert len(_results(page)) == 30
    assert re.fullmatch(r"Showing 30 of \d+ results", page.inner_text(".search-status"))
    page.fill("#search-input", "speculativ decodng")
    page.wait_for_function(
        "() => document.querySelector('.search-results li > a')?.href.includes('speculative-decoding')")
    assert page.inner_text(".search-status").endswith("for “speculative decoding”")


@pytest.mark.browser
def test_sidebar_and_outline_by_screen_width(base_url: str, browser) -> None:
    """Wide screens show the chapter sidebar and the outline open; at 390 px both sit closed behind
    their toggles, open from the keyboard, and nothing scrolls sideways."""
    url = base_url + "entries/concepts/kv-cache.html"
    wide = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = wide.new_page()
        _open(page, url, quiet_ms=50)
        assert page.locator(".book-toc").get_attribute("open") is not None
        assert page.locator(".book-toc a[aria-current='page']").is_visible()
        assert page.locator("details.outline nav").is_visible()
        box, main = page.locator(".book-toc").bounding_box(), page.locator("main h1").bounding_box()
        assert box["x"] + box["width"] <= main["x"], "the sidebar sits beside the text"
    finally:
        wide.close()
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = phone.new_page()
        for rel in ("entries/concepts/kv-cache.html", "chapters/foundations.html"):
            _open(page, base_url + rel, quiet_ms=50)
            assert page.locator(".book-toc > summary").is_visible()
            assert not page.locator(".book-toc nav").is_visible()
            assert not page.locator("details.outline nav").is_visible()
            width, client = page.evaluate(
                "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert width <= client + 1, (rel, width, client)
        page.focus(".book-toc > summary")
        page.keyboard.press("Enter")
        current = page.locator(".book-toc a[aria-current='page']")
        assert current.is_visible() and current.inner_text() == "About this chapter"
        page.keyboard.press("Tab")  # into the first chapter's toggle
        assert page.evaluate("() => document.activeElement.tagName") == "SUMMARY"
        width, client = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert width <= client + 1
    finally:
        phone.close()


@pytest.mark.browser
def test_copy_link_buttons(base_url: str, browser) -> None:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url.rstrip("/"))
        page = ctx.new_page()
        _open(page, base_url + "entries/concepts/kv-cache.html", quiet_ms=50)
        button = page.locator("button.copy-link[data-copy-fragment='how-big-is-it']")
        assert button.is_visible(), "the script shows the buttons"
        button.click()
        page.wait_for_function("() => document.querySelector(\"[data-copy-fragment='how-big-is-it']\")"
                               ".textContent === 'Copied'")
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert copied == base_url + "entries/concepts/kv-cache.html#how-big-is-it"
        assert page.locator("p[role='status']").inner_text() == "Link copied"
        # the heading's own link works without any script
        page.click("a.heading-anchor[href='#how-big-is-it']")
        assert page.url.endswith("#how-big-is-it")
    finally:
        ctx.close()


def test_served_javascript_leaves_out_only_comment_lines():
    from inferbook.generators.assets import served_js

    source = ("// a comment\nconst a = 1; // kept with its code\n/**\n * JSDoc\n */\nexport function f() {\n"
              "  /* short */ return a\n    * 2;\n}\n/* one line */\n")
    kept = "const a = 1; // kept with its code\nexport function f() {\n  /* short */ return a\n    * 2;\n}\n"
    assert served_js(source) == kept
    with pytest.raises(ValueError, match="never closed"):
        served_js("/* open\nconst a = 1;\n")


def test_llms_txt_and_markdown_copies(site: Path) -> None:
    """For assistants: llms.txt maps the handbook onto Markdown copies of its pages, every link
    resolves, expressions are evaluated, and llms-full.txt holds every article in reading order."""
    import inferbook

    kb = inferbook.load()
    llms = (site / "llms.txt").read_text(encoding="utf-8")
    assert llms.startswith("# inferbook\n\n> ") and "## Optional" in llms
    links = re.findall(r"\]\(([^)]+)\)", llms)
    assert len(links) >= len(kb.learning_order()) + len(kb.chapters)
    for link in links:
        assert (site / link).is_file(), link
    copy = (site / "entries" / "concepts" / "kv-cache.md").read_text(encoding="utf-8")
    assert copy.startswith("# KV cache\n\n> ") and "{{" not in copy and "## Sources" in copy
    assert re.search(r"\*Figure \d+: ", copy) and "[[figure:" not in copy
    for target in re.findall(r"\]\((\.\./[^)]+\.md)\)", copy):
        assert (site / "entries" / "concepts" / target).resolve().is_file(), target
    gpu = (site / "entries" / "gpus" / "h100-sxm.md").read_text(encoding="utf-8")
    assert "- `memory_bandwidth_gb_s`: " in gpu
    full = (site / "llms-full.txt").read_text(encoding="utf-8")
    order = [e for cid, _ in sorted(kb.chapters.items(), key=lambda c: c[1].number) for e in kb.chapter_entries(cid)]
    assert len(order) == len(kb.learning_order())
    positions = [full.index(f"\n---\n\n# {e.title}\n") for e in order]
    assert positions == sorted(positions) and "{{" not in full
