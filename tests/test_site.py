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
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from conftest import concept, write_kb

from inferbook.generators import build
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
    "glossary": lambda s: "glossary.html",
    "learning-path": lambda s: "learning-path.html",
    "bibliography": lambda s: "bibliography.html",
    "accuracy": lambda s: "accuracy.html",
    "search": lambda s: "search.html?q=kv+cache",
    "tools-index": lambda s: "tools/index.html",
    "tool": lambda s: "tools/kv-cache.html",
}


class Problems:
    """Console errors, page errors, failed requests and HTTP errors seen by a page."""

    def __init__(self, page):
        self.items: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.items.append(f"console: {m.text} @ {m.location}"))
        page.on("pageerror", lambda e: self.items.append(f"pageerror: {e}"))
        page.on("requestfailed", lambda r: self.items.append(f"requestfailed: {r.url} {r.failure}"))
        page.on("response", lambda r: r.status >= 400 and self.items.append(f"HTTP {r.status}: {r.url}"))


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


def test_secondary_sources_are_marked(site: Path) -> None:
    """Numbers resting on press or catalogue sources carry a visible mark on the spec page,
    the catalogue and the bibliography; numbers from datasheets do not."""
    import inferbook
    from inferbook.generators.site import entry_path
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
    from inferbook.generators.site import CHAPTER_TOOLS, LINKED_TOOLS

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


@pytest.mark.browser
@pytest.mark.parametrize("kind", list(PAGE_TYPES))
def test_accessibility(kind: str, site: Path, base_url: str, axe_context) -> None:
    page = axe_context.new_page()
    try:
        _open(page, base_url + PAGE_TYPES[kind](site))
        page.add_script_tag(path=str(_axe_script()))
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    finally:
        page.close()
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    report = [f"{v['id']} ({v['impact']}): {v['help']} -- {len(v['nodes'])} node(s), e.g. "
              f"{v['nodes'][0]['target']} {v['nodes'][0].get('failureSummary', '')[:300]}" for v in bad]
    assert not bad, "\n".join(report)


DARK_PAGES = ("home", "concept", "catalog-gpus", "accuracy", "tool")


@pytest.mark.browser
@pytest.mark.parametrize("kind", DARK_PAGES)
def test_dark_theme_contrast(kind: str, site: Path, base_url: str, browser) -> None:
    ctx = browser.new_context(bypass_csp=True, color_scheme="dark", viewport={"width": 1280, "height": 900})
    try:
        page = ctx.new_page()
        _open(page, base_url + PAGE_TYPES[kind](site))
        page.add_script_tag(path=str(_axe_script()))
        result = page.evaluate("async () => await axe.run(document, {runOnly: ['color-contrast'], "
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
