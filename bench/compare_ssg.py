"""The same content through three site generators: inferbook's own site build,
mkdocs-material and Hugo, timed in the same run (best of 3, each a fresh process
writing into an emptied folder).

The export: the handbook's 134 articles (concepts, metrics, techniques) as Markdown
files with YAML front matter (title, description, chapter, kind, weight), the body with
its `{{ expressions }}` already evaluated, entry links turned into links between the
exported files (links to entries that are not articles keep their text), then the
formulas (`$$...$$`), the FAQ and the cited sources, as on inferbook's article pages,
plus a home page listing the chapters. mkdocs-material uses its theme with search and
pymdownx.arithmatex (formulas left for MathJax in the browser); Hugo uses a minimal
layout written here (Debian's hugo has no theme); inferbook builds its whole site
(every article, spec page, catalogue, tool, JSON API, search index and MathML formulas)
from kb/ with `inferbook build site`, validation included. The page counts show how
much each one wrote.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from bench.util import ROOT, VENV_BIN, Row, apt_install, best_wall, fmt_s, has_module, pip_install, scratch

_LINK = re.compile(r"\[([^\]]*)\]\(\s*<?([a-z0-9]+(?:[.-][a-z0-9]+)*)>?\s*\)")

HUGO_LAYOUTS = {
    "_default/baseof.html": """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }} | {{ .Site.Title }}</title>
<meta name="description" content="{{ .Description }}"></head>
<body><header><a href="{{ "" | relURL }}">{{ .Site.Title }}</a></header>
<main>{{ block "main" . }}{{ end }}</main></body></html>
""",
    "_default/single.html": """{{ define "main" }}<article><h1>{{ .Title }}</h1>
<p class="summary">{{ .Description }}</p>{{ .Content }}</article>
<nav>{{ with .PrevInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}
{{ with .NextInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}</nav>{{ end }}
""",
    "_default/list.html": """{{ define "main" }}<h1>{{ .Title }}</h1>{{ .Content }}
<ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ .Description }}</li>{{ end }}</ul>{{ end }}
""",
}


def export_markdown(kb, docs: Path, style: str) -> int:
    """Write every article as Markdown into ``docs``; ``style`` is "mkdocs" or "hugo". Returns the count."""
    from inferbook.expressions import Evaluator

    evaluator = Evaluator(kb)
    articles = list(kb.learning_order())
    known = {e.id: kb.kind_of(e.id) for e in articles}

    def href(target: str) -> str:
        if style == "mkdocs":
            return f"../{known[target]}/{target}.md"
        return f"../../{known[target]}/{target}/"

    def prose(text: str) -> str:
        return _LINK.sub(lambda m: f"[{m.group(1)}]({href(m.group(2))})" if m.group(2) in known else m.group(1),
                         evaluator.render(text))

    for entry in articles:
        kind = known[entry.id]
        front = {"title": entry.title, "description": entry.summary, "chapter": entry.chapter, "kind": kind,
                 "weight": entry.order}
        parts = [prose(entry.body)]
        if entry.formulas:
            parts.append("## Formulas")
            for f in entry.formulas:
                parts.append(f"**{f.name}**\n\n$$\n{f.latex}\n$$\n\n" + "\n".join(f"- {w}" for w in f.where))
        if entry.faq:
            parts.append("## FAQ")
            parts += [f"### {f.q}\n\n{prose(f.a)}" for f in entry.faq]
        if entry.sources:
            parts.append("## Sources")
            for c in entry.sources:
                s = kb.sources[c.source]
                parts.append(f"- [{s.title}]({s.url})" + (f", {c.locator}" if c.locator else ""))
        text = "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---\n\n" + "\n\n".join(parts)
        path = docs / kind / f"{entry.id}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
    index = ["# The inferbook handbook", ""]
    for cid, ch in sorted(kb.chapters.items(), key=lambda kv: kv[1].number):
        index.append(f"## {ch.number}. {ch.title}\n\n{ch.summary}\n")
        for e in kb.chapter_entries(cid):
            target = f"{known[e.id]}/{e.id}.md" if style == "mkdocs" else f"{known[e.id]}/{e.id}/"
            index.append(f"- [{e.title}]({target})")
        index.append("")
    home = docs / ("index.md" if style == "mkdocs" else "_index.md")
    home.write_text(("---\ntitle: inferbook\n---\n\n" if style == "hugo" else "") + "\n".join(index),
                    encoding="utf-8")
    return len(articles)


def inferbook_articles(out: Path) -> int:
    """inferbook's renderer on the exported content only: validate kb/, then write the
    article pages, chapter pages and home page (with the site's assets). Returns pages written."""
    import inferbook
    from inferbook.generators.output import DirOutput
    from inferbook.generators.page_contexts import entry_path
    from inferbook.generators.site import CSP, Page, SiteBuilder
    from inferbook.version import __version__

    checked = inferbook.validate()
    if not checked.ok or checked.kb is None:
        raise SystemExit("kb/ does not validate")
    kb = checked.kb
    builder = SiteBuilder(kb)
    pages = [Page("index.html", "home.html", builder.contexts.home())]
    pages += [Page(entry_path("chapters", cid), "chapter.html", builder.contexts.chapter(cid)) for cid in kb.chapters]
    pages += [Page(entry_path(kb.kind_of(e.id), e.id), "article.html", builder.contexts.article(e))
              for e in kb.learning_order()]
    for page in pages:
        html = builder.env.get_template(page.template).render(
            **page.context, root="../" * page.path.count("/"), page_path=page.path, csp=CSP, version=__version__,
            data_version=kb.data_version, data_date=kb.data_date, nav_tools=builder.contexts.tool_list())
        target = out / page.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
    builder._write_assets(DirOutput(out))
    return len(pages)


def _pages(folder: Path) -> int:
    return sum(1 for _ in folder.rglob("*.html"))


def _version(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    out = (proc.stdout or proc.stderr).strip().splitlines()
    return out[0] if out else "?"


def ensure_tools() -> tuple[str | None, str | None]:
    """(problem with mkdocs-material, problem with hugo): None when ready."""
    mk = None
    if not (has_module("mkdocs") and has_module("material")):
        mk = pip_install("mkdocs-material")
    return mk, apt_install("hugo", "hugo")


def run(kb) -> list[Row]:
    mk_problem, hugo_problem = ensure_tools()
    rows: list[Row] = []
    with scratch("inferbook-ssg-") as tmp_name:  # in RAM when possible: the same for all three
        tmp = Path(tmp_name)
        out = tmp / "out"

        def clean() -> None:
            shutil.rmtree(out, ignore_errors=True)

        ib = best_wall([str(VENV_BIN / "inferbook"), "build", "site", "--out", str(out)], cwd=ROOT, before=clean)
        ib_pages = _pages(out / "site")
        rows.append((f"site generators: inferbook build site, whole site ({ib_pages:,} pages, best of 3)",
                     fmt_s(ib)))
        same = best_wall([sys.executable, "-m", "bench.compare_ssg", "--inferbook-articles", str(out)], cwd=ROOT,
                         before=clean)
        rows.append((f"site generators: inferbook, only the exported pages ({_pages(out):,} pages)",
                     f"{fmt_s(same)} = {same / ib:.2f}x inferbook build site"))
        if mk_problem is None:
            site = tmp / "mkdocs"
            n = export_markdown(kb, site / "docs", "mkdocs")
            config = {"site_name": "inferbook", "theme": {"name": "material"}, "use_directory_urls": True,
                      "markdown_extensions": ["tables", "toc", {"pymdownx.arithmatex": {"generic": True}}],
                      "plugins": ["search"]}
            (site / "mkdocs.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
            t = best_wall([str(VENV_BIN / "mkdocs"), "build", "-q", "-f", str(site / "mkdocs.yml"), "-d", str(out)],
                          cwd=site, before=clean)
            version = _version([str(VENV_BIN / "mkdocs"), "--version"]).split(" from ")[0]
            rows.append((f"site generators: mkdocs-material, {n} articles ({_pages(out):,} pages; {version})",
                         f"{fmt_s(t)} = {t / ib:.2f}x inferbook build site, "
                         f"{t / same:.2f}x inferbook on the same pages"))
        else:
            rows.append(("site generators: mkdocs-material", f"not available: {mk_problem}"))
        if hugo_problem is None:
            site = tmp / "hugo"
            n = export_markdown(kb, site / "content", "hugo")
            (site / "config.toml").write_text('baseURL = "/"\ntitle = "inferbook"\nrelativeURLs = true\n'
                                              'disableKinds = ["taxonomy", "term"]\n', encoding="utf-8")
            for rel, text in HUGO_LAYOUTS.items():
                (site / "layouts" / rel).parent.mkdir(parents=True, exist_ok=True)
                (site / "layouts" / rel).write_text(text, encoding="utf-8")
            t = best_wall(["hugo", "--quiet", "-s", str(site), "-d", str(out)], cwd=site, before=clean)
            version = _version(["hugo", "version"]).split(" ")[0:2]
            rows.append((f"site generators: Hugo, {n} articles ({_pages(out):,} pages; {' '.join(version)})",
                         f"{fmt_s(t)} = {t / ib:.2f}x inferbook build site, "
                         f"{t / same:.2f}x inferbook on the same pages"))
        else:
            rows.append(("site generators: Hugo", f"not available: {hugo_problem}"))
    return rows


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--inferbook-articles":
        inferbook_articles(Path(sys.argv[2]))
    else:
        import inferbook

        for name, value in run(inferbook.load()):
            print(f"{name}  {value}")
