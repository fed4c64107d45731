"""Property checks shared by the test suite (a few hundred examples) and the fuzz
run in bench/fuzz.py (minutes of examples): the YAML reader, the loader, the
schema, the expression language, the Markdown and LaTeX renderers, the `--where`
parser and the trace reader never fail with anything but their documented
errors, and rendered HTML never carries executable script."""

from __future__ import annotations

import functools
import math
import re
import tempfile
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import strategies as st
from pydantic import ValidationError

import inferbook
from inferbook.calc.simulator import TraceError, load_trace
from inferbook.content_checks import latex_problems, markdown_problems
from inferbook.expressions import FILTERS, Evaluator, ExpressionError
from inferbook.kb import KnowledgeBase
from inferbook.loader import load_file
from inferbook.render import latex_to_mathml, markdown_to_html
from inferbook.schema import KINDS
from inferbook.yamlio import YamlError, parse_text

KB = Path(__file__).resolve().parent.parent / "kb"
SAMPLES = {kind: sorted((KB / kind).glob("*.yaml"))[:3] for kind in KINDS if (KB / kind).is_dir()}

HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
           "<iframe src=//e>", "<a href='javascript:x'>y</a>", "$\\href{javascript:alert(1)}{x}$",
           "<svg onload=alert(1)>", "<<script>script>", "&lt;script&gt;", "`<b>`", "<!-- x -->",
           "[a](JaVaScRiPt:alert(1))", "<math><mi xlink:href='javascript:x'>x</mi></math>", "$$\\input{x}$$",
           "<style>*{}</style>", "<object data=x>", "[x](data:text/html;base64,PHNjcmlwdD4=)"]

yaml_text = st.one_of(
    st.text(max_size=400),
    st.lists(st.sampled_from(["a: 1", "b: [1, 2", "- x", "  c: no", "&a x", "*a", "!!python/name:os", "? k",
                              "d: 2024-02-30", "e: 010", "\tf: 1", "g: |", "  text", "h: {", "---", "...",
                              "i: \"q", "j: 'q'", "k: .inf", "l: 1e3", "<<: *a", "m: ~", "n: [a, {b: c}]"]),
             max_size=30).map("\n".join),
)


def check_yaml(text: str) -> None:
    """The reader either returns a mapping or raises YamlError."""
    try:
        doc = parse_text(text)
    except YamlError as exc:
        assert exc.line >= 1 and exc.col >= 1 and exc.message
        return
    assert isinstance(doc.data, dict)


@st.composite
def mutated_entry(draw) -> tuple[str, str, bytes]:
    """A real entry file with random byte-level and line-level mutations."""
    kind = draw(st.sampled_from(sorted(SAMPLES)))
    path = draw(st.sampled_from(SAMPLES[kind]))
    return kind, path.name, _mutate(draw, path.read_bytes())


def _mutate(draw, raw: bytes) -> bytes:
    """``raw`` with 1 to 6 random byte-level and line-level mutations."""
    data = bytearray(raw)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "dupline", "dropline"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "delete" and data:
            del data[pos]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=4))
        elif op == "replace" and data:
            data[pos] = draw(st.integers(0, 255))
        else:
            lines = bytes(data).split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            if op == "dupline":
                lines.insert(i, lines[i])
            else:
                del lines[i]
            data = bytearray(b"\n".join(lines))
    return bytes(data)


def check_mutated(kind: str, name: str, data: bytes) -> None:
    """Loading a mutated file gives an entry or findings, never an exception."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / kind / name
        path.parent.mkdir()
        path.write_bytes(data)
        entry, diags = load_file(path, kind)
        assert entry is not None or diags
        for d in diags:
            assert d.line >= 1 and d.col >= 1 and d.code.startswith("IB")


MEASUREMENT_SAMPLES = sorted((Path(__file__).resolve().parent.parent / "inferbook" / "calc" / "measurements")
                             .glob("*.yaml"), key=lambda path: path.stat().st_size)[:4]
"""The smallest published-measurement files, mutated by `mutated_measurements` (contributors send these too)."""


@st.composite
def mutated_measurements(draw) -> bytes:
    """A real measurement file with random byte-level and line-level mutations."""
    return _mutate(draw, draw(st.sampled_from(MEASUREMENT_SAMPLES)).read_bytes())


def check_measurements(data: bytes) -> None:
    """Reading a mutated measurement file gives measurements or located findings, never an exception."""
    from inferbook.calc.published import read_folder

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "bench.yaml").write_bytes(data)
        found, problems = read_folder(Path(tmp))
        assert found or problems
        for d in problems:
            assert d.line >= 1 and d.col >= 1 and d.code.startswith("IB") and d.file.endswith("bench.yaml")


json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4).map(tuple) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)


def check_schema(kind: str, data: dict) -> None:
    """Any mapping either validates or raises pydantic's ValidationError."""
    try:
        KINDS[kind].model_validate(data)
    except ValidationError:
        pass


markdown_text = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40),
                                   st.sampled_from(["\n\n", "# h\n", "| a | b |\n|---|---|\n| 1 | 2 |\n", "$x^2$",
                                                    "$$\\frac{a}{b}$$", "[t](kv-cache)", "**b**", "```\n<x>\n```"])),
                         max_size=12).map("".join)

FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "style", "svg", "link", "meta", "base", "form", "frame"}


class _Collector(HTMLParser):
    """Collects the real elements and attributes of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))


def check_markdown(text: str) -> None:
    """Rendered Markdown carries no element or attribute that can run script; the
    load-time content checks give findings, never an exception."""
    for offset, code, message, _ in markdown_problems(text):
        assert 0 <= offset <= len(text) and code.startswith("IB") and message
    check_html(markdown_to_html(text), text)


def check_html(html: str, text: str) -> None:
    """No element or attribute of ``html`` can run script or load from another scheme."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    for tag, attrs in collector.found:
        assert tag not in FORBIDDEN_TAGS, (tag, text, html)
        for name, value in attrs:
            assert not name.startswith("on"), (name, text, html)
            if name in ("href", "src", "xlink:href", "action") and value:
                scheme = re.match(r"^\s*([a-z][a-z0-9+.-]*):", value.lower())
                assert scheme is None or scheme.group(1) in ("http", "https", "mailto"), (value, text)


latex_text = st.lists(st.one_of(
    st.sampled_from([r"\frac{a}{b}", r"\sqrt{x}", "x^2", "a_{i}", r"\text{", "}", "{", r"\mathrm{", r"\left(",
                     r"\right)", r"\begin{matrix}", r"\end{matrix}", "&", r"\\", r"\operatorname{", "<", ">",
                     "<script>", "<iframe src=file:///etc/hostname>", r"\href{javascript:x}{y}", "\"", "'",
                     r"\mbox{", r"\html{", r"\unknowncommand", "$", "%", "#", r"\color{red}", r"\mathbb{R}"]),
    st.text(max_size=12)), max_size=14).map("".join)


def check_latex(latex: str) -> None:
    """A formula converts to safe MathML (or its escaped source) and its check gives findings only."""
    for offset, code, _, _ in latex_problems(latex):
        assert 0 <= offset <= len(latex) and code == "IB112"
    check_html(latex_to_mathml(latex), latex)
    check_html(latex_to_mathml(latex, True), latex)


@functools.cache
def real_kb() -> KnowledgeBase:
    """The shipped knowledge base, loaded once per process."""
    return inferbook.load()


_NUMBER = st.one_of(st.integers(-10**20, 10**20).map(str), st.sampled_from(["0", "-0", "1", "8192", "0.5", "1.5",
                    "9" * 40, "1" + "0" * 400, "-1", "2000000000", "3.14159265358979323846"]))
_STRING = st.one_of(st.sampled_from(['"llama-3.1-8b-instruct"', '"gpus/h100-sxm"', '"qwen3-next-80b-a3b-instruct"',
                                     '"deepseek-v3"', '"bf16"', '"fp8"', '"memory_gib"', '"a.b.c"', '""', '"x"']),
                    st.text(alphabet=st.characters(blacklist_characters='"\\\n'), max_size=20).map(lambda t: f'"{t}"'))
_NAME = st.sampled_from(["value", "params_b", "active_params_b", "kv_bytes_per_token", "kv_bytes", "state_bytes",
                         "weight_bytes", "tokens", "dtype", "batch", "tp", "pp", "format", "x", *FILTERS])


@st.composite
def expression_text(draw) -> str:
    """Mostly grammatical expressions with hostile names, strings and numbers, and some noise."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=60))

    def args() -> str:
        items = []
        for _ in range(draw(st.integers(0, 5))):
            value = draw(st.one_of(_NUMBER, _STRING))
            items.append(f"{draw(_NAME)}={value}" if draw(st.booleans()) else value)
        return ", ".join(items)

    text = f"{draw(_NAME)}({args()})"
    for _ in range(draw(st.integers(0, 3))):
        text += f" | {draw(_NAME)}" + (f"({args()})" if draw(st.booleans()) else "")
    return text


def check_expression(text: str) -> None:
    """An expression evaluates to short, finite display text or raises ExpressionError."""
    try:
        shown = Evaluator(real_kb()).evaluate(text)
    except ExpressionError as exc:
        assert str(exc)
        return
    assert len(shown) < 200, shown
    assert not any(word in shown.lower() for word in ("inf", "nan")), shown
    try:
        number = float(shown.replace(",", "").split()[0].rstrip("%"))
    except ValueError:
        return
    assert math.isfinite(number)


_WHERE_FIELDS = ["memory_gib", "vendor", "memory_bandwidth_gb_s", "dense.bf16_tflops", "aliases", "title", "x",
                 "architecture.hidden_size", "release_date", "a.b.c.d", "memory_gib.value", ""]
_WHERE_OPS = ["=", "!=", "<", "<=", ">", ">=", "~", "==", ">>", "=>", "", " ", "<>"]
_WHERE_VALUES = st.one_of(st.sampled_from(["80", "nvidia", "NVIDIA", "1e400", "nan", "-inf", "100x", "", " ", "true",
                                           "0x10", "1_000", "9" * 400, "80 ", "a=b", ">=3", "[1, 2]"]),
                          st.text(max_size=20))


@st.composite
def where_text(draw) -> tuple[str, str]:
    """(kind, filter): mostly FIELD OP VALUE shapes, some noise."""
    kind = draw(st.sampled_from(["gpus", "models", "formats", "concepts"]))
    if draw(st.integers(0, 5)) == 0:
        return kind, draw(st.text(max_size=50))
    spaces = draw(st.sampled_from(["", " ", "  "]))
    return kind, f"{draw(st.sampled_from(_WHERE_FIELDS))}{spaces}{draw(st.sampled_from(_WHERE_OPS))}{spaces}" \
                 f"{draw(_WHERE_VALUES)}"


def check_where(case: tuple[str, str]) -> None:
    """A filter selects entries or raises ValueError/KeyError with a message naming what is wrong."""
    kind, expression = case
    try:
        found = real_kb().where(kind, expression)
    except (ValueError, KeyError) as exc:
        assert str(exc)
        return
    assert all(entry.id for entry in found)


_TRACE_CELLS = st.one_of(st.sampled_from(["0", "1", "0.5", "1e400", "NaN", "-1", "2.5", "true", "null", '"7"', "[]",
                                          "{}", "1" * 400, "1_000", "", "Infinity", "[[[[[[[[[[1]]]]]]]]]]"]),
                         st.integers(-10, 10**12).map(str))


@st.composite
def trace_file(draw) -> tuple[str, bytes]:
    """(suffix, bytes) of a JSONL or CSV trace with hostile cells, or random bytes."""
    suffix = draw(st.sampled_from([".jsonl", ".csv"]))
    if draw(st.integers(0, 5)) == 0:
        return suffix, draw(st.binary(max_size=300))
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        cells = [draw(_TRACE_CELLS) for _ in range(3)]
        if suffix == ".jsonl":
            keys = draw(st.permutations(["arrival", "input_tokens", "output_tokens"]))
            rows.append("{" + ", ".join(f'"{k}": {v or 0}' for k, v in zip(keys, cells, strict=True)) + "}")
        else:
            rows.append(",".join(cells))
    header = [] if suffix == ".jsonl" else ["arrival,input_tokens,output_tokens"]
    return suffix, "\n".join(header + rows).encode()


def check_trace(case: tuple[str, bytes]) -> None:
    """A trace loads as requests with finite, ordered arrivals and whole positive counts, or raises TraceError."""
    suffix, data = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"trace{suffix}"
        path.write_bytes(data)
        try:
            requests = load_trace(path)
        except TraceError as exc:
            assert str(exc)
            return
    arrivals = [r.arrival for r in requests]
    assert all(math.isfinite(a) and a >= 0 for a in arrivals) and arrivals == sorted(arrivals)
    assert all(isinstance(r.input_tokens, int) and r.input_tokens >= 1 for r in requests)
    assert all(isinstance(r.output_tokens, int) and r.output_tokens >= 1 for r in requests)
