"""Browser tests of the tools' settings in the page's address (issue #22): `wireForm` (data.js, with
urlstate.js) restores every named field of a tool's form from the query before the first update and
writes the settings back with history.replaceState after each edit. On a tool's own page the keys are
the plain field names; on pages that embed tools (chapter and entry pages) they are NAME.field, and a
plain key is read when no NAME.field key is given. Defaults are left out, values a field does not
accept are ignored, and an option that the first update adds is applied after it.

Every tool in the registry is driven generically: a field is changed to another value the tool
accepts, the resulting address is loaded again, and the fields and the output (figures and text)
must be the same. A small page of its own (a copy of data.js and urlstate.js with a demo form)
checks the rules that no tool of the handbook exercises today: a select refilled by the update,
checkbox groups, radios.

Fixtures and helpers come from tests/test_site_tools.py (the session's site build, served on
127.0.0.1, driven in Debian's chromium)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import test_site_tools as tools
from test_site_tools import WAIT_MS, ready

from inferbook.generators.page_contexts import entry_path
from inferbook.generators.site_tools import CHAPTER_TOOLS, ENTRY_TOOLS, LINKED_TOOLS, TOOLS

pytestmark = pytest.mark.browser

site, browser, kb = tools.site, tools.browser, tools.kb

NO_FIELDS: frozenset[str] = frozenset()
"""Tools whose form has no named field, so nothing to carry in the address. Empty: every tool of the
registry has settings (the widgets written for issue #22 included). A tool listed here is skipped by
the round trip; any other tool without a field fails it."""

# JavaScript run in the page -------------------------------------------------------
FIELDS_JS = """form => [...form.elements].filter(e => e.name && e.dataset.url !== 'off'
    && !['button', 'submit', 'reset', 'file', 'image', 'password', 'fieldset', 'output'].includes(e.type))"""

SNAPSHOT_JS = f"""form => Object.fromEntries(({FIELDS_JS})(form).map((e, i) => [`${{e.name}}#${{i}}`,
    e.tagName === 'SELECT' ? [...e.selectedOptions].map(o => o.value).join('|')
      : ['checkbox', 'radio'].includes(e.type) ? String(e.checked) : e.value]))"""
"""Every field's state, element by element (independent of how urlstate.js writes it)."""

CANDIDATES_JS = f"""form => {{
  const out = [];
  ({FIELDS_JS})(form).forEach((e, i) => {{
    if (e.tagName === 'SELECT' && !e.multiple) {{
      const others = [...e.options].map(o => o.value).filter(v => v !== e.value);
      const picks = [others[0], others[others.length - 1], others[Math.floor(others.length / 2)]];
      for (const v of new Set(picks.filter(v => v !== undefined))) out.push({{i, kind: 'choice', value: v}});
    }} else if (e.type === 'radio') {{
      if (!e.checked) out.push({{i, kind: 'choice', value: 'check'}});
    }} else if (e.type === 'checkbox') {{
      out.push({{i, kind: 'choice', value: 'toggle'}});
    }} else if (e.type === 'number' && e.value !== '') {{
      const step = Number(e.step) > 0 ? Number(e.step) : 1;
      const x = Number(e.value);
      for (const v of [x + step, x - step, x * 2]) {{
        const t = Number(v.toFixed(6));
        if ((e.min === '' || t >= Number(e.min)) && (e.max === '' || t <= Number(e.max)) && t !== x) {{
          out.push({{i, kind: 'number', value: String(t)}});
        }}
      }}
    }}
  }});
  return out;
}}"""
"""Edits to try, in form order: another option of each select, a radio not chosen, a checkbox
toggled, a number a step up or down (within the input's limits)."""

EDIT_JS = f"""([form, edit]) => {{
  const e = ({FIELDS_JS})(form)[edit.i];
  const before = e.type === 'checkbox' || e.type === 'radio' ? e.checked : e.value;
  if (edit.value === 'toggle') e.checked = !e.checked;
  else if (edit.value === 'check') e.checked = true;
  else e.value = edit.value;
  e.dispatchEvent(new Event('input', {{bubbles: true}}));
  e.dispatchEvent(new Event('change', {{bubbles: true}}));
  return [e.name, before];
}}"""

UNDO_JS = f"""([form, i, before]) => {{
  const e = ({FIELDS_JS})(form)[i];
  if (e.type === 'checkbox' || e.type === 'radio') e.checked = before; else e.value = before;
  e.dispatchEvent(new Event('input', {{bubbles: true}}));
  e.dispatchEvent(new Event('change', {{bubbles: true}}));
}}"""

OUTPUT_JS = """root => {
  const out = root.querySelector('.tool-output') || root;
  const values = [...out.querySelectorAll('[data-out][data-value]')].map(e => `${e.dataset.out}=${e.dataset.value}`);
  return [...values, out.innerText.replace(/\\s+/g, ' ').trim()].join('\\n');
}"""
"""The tool's output: every figure's raw value and all the text it shows."""


# fixtures -------------------------------------------------------------------------
@pytest.fixture
def page(browser: Any, site: str) -> Iterator[Any]:
    """Like test_site_tools' page (a console error, uncaught exception or failed request fails the
    test), with reduced motion so that no widget animates between two looks at its output."""
    context = browser.new_context(viewport={"width": 1100, "height": 900}, reduced_motion="reduce")
    pg = context.new_page()
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    # net::ERR_ABORTED: the page was left (a reload, a link) while the request was in flight, which
    # cancels it; any other failure is a problem
    pg.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}")
          if "ERR_ABORTED" not in (r.failure or "") else None)
    pg.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    pg.base = site
    yield pg
    context.close()
    assert not problems, problems


# helpers --------------------------------------------------------------------------
def query(page: Any) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(page.url).query, keep_blank_values=True))


def wait_for_key(page: Any, key: str, present: bool = True) -> bool:
    """Whether the address gains (or loses) ``key`` within two seconds (writes wait for edits to pause)."""
    try:
        page.wait_for_function("([k, p]) => new URLSearchParams(location.search).has(k) === p", arg=[key, present],
                               timeout=2000)
    except tools.sync_api.TimeoutError:
        return False
    return True


def settled(page: Any, name: str) -> bool:
    """The tool has recomputed after an edit and shows no error."""
    try:
        page.wait_for_selector(f"form[data-tool='{name}'][data-ready='true']", state="attached", timeout=WAIT_MS)
    except tools.sync_api.TimeoutError:
        return False
    error = page.locator(f"#tool-{name} [data-out='error']")
    return not error.count() or error.is_hidden()


def change_fields(page: Any, name: str, own: bool, most: int = 2) -> list[str]:
    """Change up to ``most`` fields of tool ``name`` (a choice and a number, where it has both) to other
    values the tool accepts: each edit must leave the tool ready without an error and put the field's
    key in the address, else it is undone and the next candidate tried. Returns the keys written."""
    form = page.locator(f"form[data-tool='{name}']")
    keys: list[str] = []
    kinds_done: set[str] = set()
    for edit in form.evaluate(CANDIDATES_JS):
        if edit["kind"] in kinds_done:
            continue
        field, before = page.evaluate(EDIT_JS, [form.element_handle(), edit])
        key = field if own else f"{name}.{field}"
        if field not in {k.split(".", 1)[-1] for k in keys} and settled(page, name) and wait_for_key(page, key):
            keys.append(key)
            kinds_done.add(edit["kind"])
            if len(keys) == most:
                break
        else:
            page.evaluate(UNDO_JS, [form.element_handle(), edit["i"], before])
            settled(page, name)
    return keys


def state(page: Any, name: str) -> tuple[dict[str, str], str]:
    form = page.locator(f"form[data-tool='{name}']")
    return form.evaluate(SNAPSHOT_JS), page.locator(f"#tool-{name}").evaluate(OUTPUT_JS)


def field_names(page: Any, name: str) -> set[str]:
    return set(page.locator(f"form[data-tool='{name}']").evaluate(f"f => ({FIELDS_JS})(f).map(e => e.name)"))


# every tool on its own page ----------------------------------------------------------
@pytest.mark.parametrize("name", list(TOOLS))
def test_tool_settings_round_trip_on_its_own_page(page: Any, name: str) -> None:
    page.goto(f"{page.base}tools/{name}.html")
    ready(page, name)
    fields = field_names(page, name)
    if name in NO_FIELDS:
        assert not fields, f"{name} has fields now: take it out of NO_FIELDS"
        return
    assert fields, f"{name}: the form has no named field"
    page.wait_for_timeout(300)
    assert query(page) == {}, "a tool at its defaults writes nothing into the address"
    keys = change_fields(page, name, own=True)
    assert keys, f"{name}: no field could be changed to another value the tool accepts"
    page.wait_for_timeout(300)
    given = query(page)
    assert set(keys) <= set(given) and set(given) <= fields, (keys, given)  # plain names, this form's only
    fields_before, output_before = state(page, name)
    url = page.url
    page.goto(url)
    ready(page, name)
    assert state(page, name) == (fields_before, output_before), url
    page.wait_for_timeout(300)
    assert query(page) == given, "a restored state writes the same address"


# tools embedded in chapter and entry pages ----------------------------------------------
def _embedding_pages() -> list[str]:
    pages = []
    for chapter in ("foundations", "planning-deployment"):
        if len([t for t in CHAPTER_TOOLS.get(chapter, ()) if t not in LINKED_TOOLS]) > 1:
            pages.append(f"chapters/{chapter}.html")
    pages += [f"entry:{eid}" for eid in ENTRY_TOOLS]
    return pages


@pytest.mark.parametrize("where", _embedding_pages())
def test_embedded_tools_keep_their_settings_apart(page: Any, kb: Any, where: str) -> None:
    rel = entry_path(kb.kind_of(where[6:]), where[6:]) if where.startswith("entry:") else where
    page.goto(page.base + rel)
    names = page.locator(".embedded-tool form[data-tool]").evaluate_all("els => els.map(e => e.dataset.tool)")
    assert names, rel
    for name in names:
        ready(page, name)
    keys = []
    for name in names:
        if name not in NO_FIELDS:
            changed = change_fields(page, name, own=False, most=1)
            assert changed, f"{rel}: no field of {name} could be changed"
            keys += changed
    page.wait_for_timeout(300)
    given = query(page)
    assert set(keys) <= set(given) and all(k.split(".", 1)[0] in names for k in given), given
    before = {name: state(page, name) for name in names}
    page.goto(page.url)
    for name in names:
        ready(page, name)
    assert {name: state(page, name) for name in names} == before


def test_plain_keys_reach_embedded_tools_and_lose_to_their_own(page: Any) -> None:
    """A link with ?model=ID selects the model in every embedded tool that has the model; a tool's own
    NAME.field key wins over it, and setting a tool back to its default keeps it so across a reload."""
    page.goto(f"{page.base}chapters/planning-deployment.html?model=qwen3-8b&speed-prediction.model=qwen3-32b")
    for name in ("memory-fit", "speed-prediction"):
        ready(page, name)
    model = lambda name: page.locator(f"form[data-tool='{name}'] [name='model']").input_value()  # noqa: E731
    assert model("memory-fit") == "qwen3-8b" and model("speed-prediction") == "qwen3-32b"
    default = page.evaluate("() => document.querySelector(\"form[data-tool='memory-fit'] [name='model'] "
                            "option[value='llama-3.1-70b-instruct']\") !== null")
    assert default
    page.locator("form[data-tool='memory-fit'] [name='model']").select_option("llama-3.1-70b-instruct")
    assert wait_for_key(page, "memory-fit.model")
    assert query(page)["model"] == "qwen3-8b"  # the link's key stays for the other tools
    page.goto(page.url)
    for name in ("memory-fit", "speed-prediction"):
        ready(page, name)
    assert model("memory-fit") == "llama-3.1-70b-instruct" and model("speed-prediction") == "qwen3-32b"


def test_values_a_field_refuses_are_ignored(page: Any) -> None:
    page.goto(f"{page.base}tools/kv-cache.html?model=no-such-model&context=-5&tp=1.5&batch=abc&dtype=fp8-e4m3")
    ready(page, "kv-cache")
    form = page.locator("form[data-tool='kv-cache']")
    values = form.evaluate("f => [f.model.value, f.context.value, f.tp.value, f.batch.value, f.dtype.value]")
    assert values == ["llama-3.1-8b-instruct", "8192", "1", "1", "fp8-e4m3"]
    page.wait_for_timeout(300)
    assert query(page) == {"dtype": "fp8-e4m3"}, "the refused values leave the address"


def test_edits_replace_the_address_instead_of_adding_history(page: Any) -> None:
    page.goto(f"{page.base}tools/quantization.html")
    ready(page, "quantization")
    length = page.evaluate("() => history.length")
    for context in ("1024", "2048", "4096"):
        page.locator("form[data-tool='quantization'] [name='context']").fill(context)
        page.wait_for_timeout(250)
    assert query(page) == {"context": "4096"}
    assert page.evaluate("() => history.length") == length


# the rules no tool exercises today: a demo form on a page of its own ---------------------------
DEMO_HTML = """<!doctype html><html><head><meta charset="utf-8"><title>demo</title>
<link rel="icon" href="data:,"></head>
<body data-root="../"><form data-tool="demo">
<label>Family <select name="family"></select></label>
<label>Member <select name="member"></select></label>
<label>Count <input name="n" type="number" min="1" max="10" step="1" value="3"></label>
<label><input type="checkbox" name="flag" checked> flag</label>
<label><input type="checkbox" name="picks" value="x" checked> x</label>
<label><input type="checkbox" name="picks" value="y"> y</label>
<label><input type="checkbox" name="picks" value="z"> z</label>
<label><input type="radio" name="speed" value="fast" checked> fast</label>
<label><input type="radio" name="speed" value="slow"> slow</label>
<label>Note <input name="note" value="hello"></label>
<label>Private <input name="secret" value="s" data-url="off"></label>
</form><output></output>
<script type="module" src="../assets/js/demo.js"></script></body></html>
"""
DEMO_JS = """import { fillSelect, wireForm } from "./data.js";
const form = document.querySelector("form");
const f = form.elements;
const MEMBERS = { a: ["a1", "a2"], b: ["b1", "b2", "b3"] };
fillSelect(f.family, [{ value: "a", label: "A" }, { value: "b", label: "B" }], "a");
let runs = 0;
wireForm(form, () => {
  // the members of the chosen family: a dependent select, refilled by every update
  fillSelect(f.member, MEMBERS[f.family.value].map((v) => ({ value: v, label: v })), f.member.value);
  runs += 1;
  document.body.dataset.runs = String(runs);
  document.querySelector("output").textContent = `${f.family.value}/${f.member.value}`;
});
"""


@pytest.fixture(scope="module")
def demo(built_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A folder with the site's data.js and urlstate.js and the demo page, as tools/demo.html (a tool's
    own page) and chapters/demo.html (a page embedding it), served on 127.0.0.1."""
    root = tmp_path_factory.mktemp("url-demo")
    (root / "assets" / "js").mkdir(parents=True)
    for name in ("data.js", "urlstate.js"):
        (root / "assets" / "js" / name).write_bytes((built_site / "assets" / "js" / name).read_bytes())
    (root / "assets" / "js" / "demo.js").write_text(DEMO_JS, encoding="utf-8")
    for folder in ("tools", "chapters"):
        (root / folder).mkdir()
        (root / folder / "demo.html").write_text(DEMO_HTML, encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(tools._Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _open_demo(page: Any, url: str) -> dict[str, Any]:
    page.goto(url)
    page.wait_for_selector("body[data-runs]", state="attached")
    page.wait_for_timeout(50)
    return page.evaluate("""() => { const f = document.forms[0].elements; return {
        family: f.family.value, member: f.member.value, n: f.n.value, flag: f.flag.checked,
        picks: [...document.querySelectorAll('[name=picks]')].filter(i => i.checked).map(i => i.value),
        speed: f.speed.value, note: f.note.value, secret: f.secret.value,
        runs: Number(document.body.dataset.runs), out: document.querySelector('output').textContent }; }""")


def test_demo_restores_every_kind_of_field(page: Any, demo: str) -> None:
    got = _open_demo(page, f"{demo}tools/demo.html?family=b&member=b3&n=7&flag=0&picks=y,z&speed=slow"
                           "&note=a%20b&secret=x")
    assert got == {"family": "b", "member": "b3", "n": "7", "flag": False, "picks": ["y", "z"], "speed": "slow",
                   "note": "a b", "secret": "s", "runs": 2, "out": "b/b3"}, got
    # b3 existed only after the first update: it was applied then, and the update ran once more
    page.wait_for_timeout(300)
    assert query(page) == {"family": "b", "member": "b3", "n": "7", "flag": "0", "picks": "y,z", "speed": "slow",
                           "note": "a b", "secret": "x"}, "what applied, and a key of no field's left alone"
    assert "picks=y,z" in page.url, "lists keep readable commas"


def test_demo_ignores_what_does_not_fit(page: Any, demo: str) -> None:
    got = _open_demo(page, f"{demo}tools/demo.html?member=b3&n=99&flag=maybe&picks=x,w&speed=warp&family=q")
    assert (got["family"], got["member"], got["n"], got["flag"], got["speed"], got["runs"]) == \
        ("a", "a1", "3", True, "fast", 1)
    page.wait_for_timeout(300)
    assert query(page) == {}, "nothing that failed to apply stays in the address"
    got = _open_demo(page, f"{demo}tools/demo.html?picks=")
    assert got["picks"] == [], "an empty list unticks the whole group"


def test_demo_edits_write_only_what_differs_from_the_defaults(page: Any, demo: str) -> None:
    _open_demo(page, f"{demo}tools/demo.html?unrelated=1#part")
    form = page.locator("form")
    form.locator("[name='family']").select_option("b")
    form.locator("[name='member']").select_option("b2")
    form.locator("[name='picks'][value='x']").uncheck()
    assert wait_for_key(page, "picks")
    assert query(page) == {"unrelated": "1", "family": "b", "member": "b2", "picks": ""}
    assert urlsplit(page.url).fragment == "part"
    assert _open_demo(page, page.url)["out"] == "b/b2"
    form.locator("[name='family']").select_option("a")
    form.locator("[name='picks'][value='x']").check()
    assert wait_for_key(page, "picks", present=False)
    assert query(page) == {"unrelated": "1"}, "back at the defaults (a1 follows from family a)"


def test_demo_embedded_uses_the_tool_name(page: Any, demo: str) -> None:
    got = _open_demo(page, f"{demo}chapters/demo.html?demo.family=b&family=a&member=b2&demo.n=2&n=5")
    assert (got["family"], got["member"], got["n"]) == ("b", "b2", "2"), "NAME.field first, then the plain key"
    form = page.locator("form")
    form.locator("[name='speed'][value='slow']").check()
    assert wait_for_key(page, "demo.speed")
    given = query(page)
    assert given["demo.speed"] == "slow" and given["family"] == "a" and "speed" not in given
    form.locator("[name='family']").select_option("a")
    assert wait_for_key(page, "demo.family", present=False), "the plain key gives the same value"
    assert query(page)["demo.member"] == "a1", "the plain member (b2) would no longer apply: written"
    got = _open_demo(page, page.url)
    assert (got["family"], got["member"], got["speed"]) == ("a", "a1", "slow")
