"""Jupyter notebooks, one per interactive tool plus a tour of the query API.

Each notebook is assembled from a Python source file in `notebook_sources/` (the format is
described there): its code cells are copied as they are, the cell tagged `parameters` gets
the requested model, GPU, formats and knowledge-base folders, and a `links` directive becomes
the list of handbook entries the notebook draws on, titled from the knowledge base (through
`md_text`, since KB text is untrusted) and linked relative to the generated site. The cells
call only the public `inferbook` API (the shared case loading lives in
`inferbook.notebook_support`), so the notebooks run in any kernel where the `inferbook` wheel
is installed with its `notebooks` extra. Every number a reader sees is printed by a code cell
when the notebook runs; the Markdown holds no figures of its own.

Output is deterministic: no timestamps, no execution outputs, cell ids derived from the tool
name and the cell's position, and JSON written with sorted keys.
"""

from __future__ import annotations

import ast
import difflib
import html
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import nbformat
from nbformat.notebooknode import NotebookNode

from ..kb import KnowledgeBase

DEFAULT_MODEL = "llama-3.1-8b-instruct"
DEFAULT_GPU = "h100-sxm"
DEFAULT_KV_DTYPE = "bf16"
SITE_ENTRIES = "../site/entries"
"""Where entry pages live, relative to build/notebooks/ (build/site/entries/<kind>/<id>.html)."""

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}

SOURCES = "inferbook.generators.notebook_sources"
"""The package holding one source file per notebook."""

TOOLS: dict[str, str] = {
    "kv-cache": "kv_cache.py",
    "memory-and-fit": "memory_and_fit.py",
    "roofline": "roofline.py",
    "batching-simulator": "batching_simulator.py",
    "latency-metrics": "latency_metrics.py",
    "quantization-impact": "quantization_impact.py",
    "gpu-comparison": "gpu_comparison.py",
    "api-tour": "api_tour.py",
    "deployment-planner": "deployment_planner.py",
}
"""Tool name -> its source file in `SOURCES`, in the order the notebooks are listed."""

DEFAULT_LEAD = "Handbook entries this notebook draws on:"


@dataclass(frozen=True)
class Case:
    """What a notebook is pre-filled for."""

    model: str
    gpu: str
    fmt: str
    kv_dtype: str = DEFAULT_KV_DTYPE
    kb_paths: tuple[str, ...] | None = None
    """Knowledge-base folders the notebook loads (None: the built-in handbook)."""


def md_text(text: str) -> str:
    """KB text made safe to put into a Markdown cell, which Jupyter renders as HTML:
    HTML-escaped (&, <, >), square brackets turned into parentheses so that no link or
    image (`[x](javascript:...)`, `![x](...)`) can form, backslashes doubled so that none
    escapes what follows, and line breaks turned into spaces so that the text stays inline."""
    text = html.escape(text, quote=False).replace("\\", "\\\\")
    text = text.replace("[", "(").replace("]", ")")
    return " ".join(text.splitlines())


@dataclass
class Cells:
    """Cells of one notebook under construction: (kind, source, tags) in order."""

    kb: KnowledgeBase
    case: Case
    items: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)

    def md(self, text: str) -> None:
        self.items.append(("markdown", text, ()))

    def code(self, text: str, tags: tuple[str, ...] = ()) -> None:
        self.items.append(("code", text, tags))

    def links(self, ids: Sequence[str], lead: str = DEFAULT_LEAD) -> None:
        """A Markdown list of links to the entries that exist in the knowledge base (`kind/id` or a bare
        id or alias; missing ones are left out, and so is the whole cell when none exists)."""
        lines = []
        for key in ids:
            kind, _, name = key.rpartition("/")
            eid = self.kb.resolve(name)
            if eid is None or (kind and self.kb.kind_of(eid) != kind):
                continue
            title = md_text(self.kb.get(eid).title)
            target = f"{SITE_ENTRIES}/{quote(self.kb.kind_of(eid))}/{quote(eid)}.html"
            lines.append(f"- [{title}]({target})")
        if lines:
            self.items.append(("markdown", f"{lead}\n\n" + "\n".join(lines), ()))


# source files ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SourceCell:
    """One cell of a notebook source file."""

    kind: str
    """"code" or "markdown"."""
    source: str
    """The cell's text: code as written, Markdown without its comment marks."""
    tags: tuple[str, ...] = ()
    directive: str | None = None
    """For a Markdown cell the generator fills in: its directive (`links`)."""


DIRECTIVES = ("links",)
_MARKER = re.compile(r"# %%(?: (?P<rest>.*))?")
_HEADER = re.compile(r"(?P<markdown>\[markdown\])?\s*(?P<directive>[a-z]+)?\s*(?:tags=(?P<tags>\[.*\]))?")


def parse_cells(text: str, name: str = "<notebook source>") -> list[SourceCell]:
    """The cells of a source file in the percent format (see `notebook_sources`); ValueError
    names the line of a malformed marker or Markdown line, or code before the first cell."""
    header: list[str] = []
    cells: list[tuple[int, str, tuple[str, ...], str | None, list[str]]] = []
    for number, line in enumerate(text.splitlines(), 1):
        marker = _MARKER.fullmatch(line.rstrip())
        if marker is None:
            (cells[-1][4] if cells else header).append(line)
            continue
        parts = _HEADER.fullmatch((marker["rest"] or "").strip())
        if parts is None:
            raise ValueError(f"{name}:{number}: cannot read the cell marker {line!r}")
        try:
            tags = tuple(json.loads(parts["tags"])) if parts["tags"] else ()
        except json.JSONDecodeError as exc:
            raise ValueError(f"{name}:{number}: tags must be a JSON list of strings: {exc}") from None
        directive = parts["directive"]
        if not all(isinstance(t, str) for t in tags):
            raise ValueError(f"{name}:{number}: tags must be a JSON list of strings")
        if directive is not None and (not parts["markdown"] or directive not in DIRECTIVES):
            raise ValueError(f"{name}:{number}: unknown cell directive {directive!r}; "
                             f"Markdown cells know: {', '.join(DIRECTIVES)}")
        cells.append((number, "markdown" if parts["markdown"] else "code", tags, directive, []))
    _check_header("\n".join(header), name)
    return [SourceCell(kind, _body(kind, lines, name, number), tags, directive)
            for number, kind, tags, directive, lines in cells]


def _check_header(text: str, name: str) -> None:
    """What comes before the first cell may hold only a module docstring and comments."""
    body = ast.parse(text).body
    docstring = len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    if body and not docstring:
        raise ValueError(f"{name}: code before the first '# %%' cell marker")


def _body(kind: str, lines: list[str], name: str, first: int) -> str:
    while lines and not lines[-1].strip():
        lines.pop()
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    if kind == "code":
        return "\n".join(lines[start:])
    text = []
    for offset, line in enumerate(lines[start:], first + 1 + start):
        if line.rstrip() == "#" or not line.strip():
            text.append("")
        elif line.startswith("# "):
            text.append(line[2:].rstrip())
        else:
            raise ValueError(f"{name}:{offset}: a Markdown cell holds only '# ' comment lines: {line!r}")
    return "\n".join(text)


def source_text(tool: str) -> str:
    """The text of ``tool``'s source file."""
    return resources.files(SOURCES).joinpath(TOOLS[tool]).read_text(encoding="utf-8")


def source_cells(tool: str) -> list[SourceCell]:
    """The cells of ``tool``'s source file."""
    return parse_cells(source_text(tool), TOOLS[tool])


def parameters_cell(cells: Sequence[SourceCell]) -> SourceCell:
    """The code cell tagged `parameters` (exactly one per notebook)."""
    [cell] = [c for c in cells if c.kind == "code" and "parameters" in c.tags]
    return cell


def parameter_defaults(tool: str) -> dict[str, Any]:
    """The parameters of ``tool``'s notebook as its source file sets them (name -> value)."""
    return {name: ast.literal_eval(value) for name, (_, value, _) in
            _assignments(parameters_cell(source_cells(tool)).source).items()}


# the parameters cell ----------------------------------------------------------------------
def _assignments(source: str) -> dict[str, tuple[int, str, str]]:
    """`NAME = value  # comment` lines of a parameters cell (an annotation, `NAME: type = value`,
    is allowed): name -> (line index, value source, comment). Each assignment sets one name and
    fits on its line; other lines (comments, blank) are left alone."""
    lines = source.splitlines()
    found: dict[str, tuple[int, str, str]] = {}
    for stmt in ast.parse(source).body:
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else getattr(
            stmt, "target", None)
        value = getattr(stmt, "value", None)
        if not isinstance(target, ast.Name) or value is None or stmt.end_lineno != stmt.lineno:
            raise ValueError(f"the parameters cell sets one name per line, with a literal: line {stmt.lineno}")
        found[target.id] = (stmt.lineno - 1, *_split(lines[stmt.lineno - 1], value))
    return found


def _split(line: str, value: ast.expr) -> tuple[str, str]:
    """(value source, comment) of one assignment line (ast offsets count UTF-8 bytes)."""
    raw = line.encode()
    rest = raw[value.end_col_offset:].decode().strip()
    return raw[value.col_offset:value.end_col_offset].decode(), rest.removeprefix("#").strip()


def _literal(value: Any) -> str:
    """A Python literal for a parameter value (JSON-style strings, tuples as lists)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(value)


def _entry(kb: KnowledgeBase, case: Case, default: Any) -> Any:
    """The article the API tour explores: the default when the knowledge base has it."""
    return kb.resolve(str(default)) or next((e.id for e in kb.learning_order()), case.model)


def _formats(kb: KnowledgeBase, case: Case, default: Any) -> Any:
    """The weight formats to compare: those of the default list that the knowledge base has."""
    return [f for f in default if f in kb.formats]


KB_PARAMETERS: dict[str, Callable[[KnowledgeBase, Case, Any], Any]] = {"ENTRY": _entry, "FORMATS": _formats}
"""Parameters whose default the knowledge base adjusts, by name, in any notebook that has them."""


def parameters_for(kb: KnowledgeBase, case: Case, source: str) -> tuple[str, dict[str, Any]]:
    """The parameters cell filled in for ``case``, and every parameter's value in it.

    MODEL, GPU, FORMAT, KV_DTYPE and KB take the case's values, `KB_PARAMETERS` are adjusted to
    the knowledge base, the rest keep their defaults. Each assignment is written `NAME = value`
    (annotations, there for the type checker, are left out) with the comments aligned."""
    given = {"MODEL": case.model, "GPU": case.gpu, "FORMAT": case.fmt, "KV_DTYPE": case.kv_dtype,
             "KB": list(case.kb_paths) if case.kb_paths else None}
    lines = source.splitlines()
    values: dict[str, Any] = {}
    rows: dict[int, tuple[str, str]] = {}
    for name, (index, value, comment) in _assignments(source).items():
        default = ast.literal_eval(value)
        if name in given:
            values[name], value = given[name], _literal(given[name])
        elif name in KB_PARAMETERS:
            values[name] = KB_PARAMETERS[name](kb, case, default)
            value = _literal(values[name])
        else:
            values[name] = default
        rows[index] = (f"{name} = {value}", comment)
    width = max((len(text) for text, comment in rows.values() if comment), default=0)
    for index, (text, comment) in rows.items():
        lines[index] = f"{text.ljust(width)}  # {comment}" if comment else text
    return "\n".join(lines), values


_PLACEHOLDER = re.compile(r"\{([A-Z][A-Z0-9_]*)\}")


def _links(cells: Cells, source: str, values: Mapping[str, Any]) -> list[str]:
    """A `links` directive: its `- kind/id` lines become links, its other lines the lead;
    `{NAME}` stands for the value of the parameter NAME. Returns the `kind/id` keys."""
    ids, lead = [], []
    for line in source.splitlines():
        if line.startswith("- "):
            ids.append(_PLACEHOLDER.sub(lambda m: str(values[m[1]]), line[2:].strip()))
        elif line.strip():
            lead.append(line.strip())
    cells.links(ids, " ".join(lead) or DEFAULT_LEAD)
    return ids


MAX_EXERCISES = 3
"""Worked problems a notebook closes with."""


def _exercises(cells: Cells, keys: Sequence[str]) -> None:
    """The notebook's closing problems: the first worked problems of the handbook entries it
    links, each question as the handbook states it (values filled in) and a code cell that
    computes the answer with the same expression the handbook uses. The worked solution stays
    on the entry's page, linked, so the reader can try first."""
    kb = cells.kb
    found = []
    for key in keys:
        eid = kb.resolve(key.rpartition("/")[2])
        if eid is not None:
            entry = kb.get(eid)
            found += [(entry, exercise) for exercise in getattr(entry, "exercises", ())]
    if not found:
        return
    cells.md("## Exercises from the handbook\n\nEach problem comes from a handbook entry, whose page holds the "
             "worked solution. The first cell of each prints the question with the data this notebook loaded; try "
             "it before you run the second, which computes the answer with the handbook's own expression.")
    for number, (entry, exercise) in enumerate(found[:MAX_EXERCISES], 1):
        kind = kb.kind_of(entry.id)
        target = f"{SITE_ENTRIES}/{quote(kind)}/{quote(entry.id)}.html"
        cells.md(f"**Problem {number}**, from [{md_text(entry.title)}]({target})")
        setup = "from inferbook.expressions import Evaluator\n\nevaluator = Evaluator(kb)\n" if number == 1 else ""
        cells.code(f"{setup}print(evaluator.render({exercise.question.strip()!r}))")
        cells.code(f"print(evaluator.evaluate({exercise.answer!r}))  # the answer")


# assembly -------------------------------------------------------------------------
def default_case(kb: KnowledgeBase) -> Case:
    """The case the built notebooks are pre-filled for; falls back to the first ids so a build never breaks."""
    model = DEFAULT_MODEL if DEFAULT_MODEL in kb.models else min(kb.models)
    rated = [gid for gid, g in sorted(kb.gpus.items()) if g.dense.bf16_tflops or g.dense.fp16_tflops]
    gpu = DEFAULT_GPU if DEFAULT_GPU in kb.gpus else (rated or sorted(kb.gpus))[0]
    return Case(model, gpu, kb.models[model].native_dtype)


_NOUNS = {"models": "model", "gpus": "GPU", "formats": "format"}


def _resolve(kb: KnowledgeBase, key: str, kind: str) -> str:
    eid = kb.resolve(key)
    if eid is None or kb.kind_of(eid) != kind:
        known = sorted(kb.kind(kind))
        close = difflib.get_close_matches(key, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; see `inferbook list {kind}`"
        raise ValueError(f"unknown {_NOUNS[kind]} '{key}'{hint}")
    return eid


def notebook(tool: str, *, model: str | None = None, gpu: str | None = None, fmt: str | None = None,
             kv_dtype: str = DEFAULT_KV_DTYPE, kb: KnowledgeBase | None = None,
             kb_paths: Sequence[str] | None = None) -> NotebookNode:
    """One notebook for ``tool`` pre-filled for a model, GPU and weight format (ids or aliases;
    defaults from the knowledge base). ``kb_paths`` makes the notebook load those folders.
    Raises ValueError for an unknown tool or id."""
    if tool not in TOOLS:
        raise ValueError(f"unknown notebook '{tool}'; choose one of: {', '.join(TOOLS)}")
    if kb is None:
        from ..api import load

        kb = load(list(kb_paths) if kb_paths else None)
    base = default_case(kb)
    model_id = _resolve(kb, model, "models") if model else base.model
    gpu_id = _resolve(kb, gpu, "gpus") if gpu else base.gpu
    fmt_id = _resolve(kb, fmt, "formats") if fmt else kb.models[model_id].native_dtype
    case = Case(model_id, gpu_id, fmt_id, kv_dtype, tuple(kb_paths) if kb_paths else None)
    return _assemble(tool, kb, case)


def _assemble(tool: str, kb: KnowledgeBase, case: Case) -> NotebookNode:
    cells = Cells(kb, case)
    parsed = source_cells(tool)
    parameters, values = parameters_for(kb, case, parameters_cell(parsed).source)
    linked: list[str] = []
    for cell in parsed:
        if cell.directive == "links":
            linked += _links(cells, cell.source, values)
        elif cell.kind == "markdown":
            cells.md(cell.source)
        else:
            cells.code(parameters if "parameters" in cell.tags else cell.source, cell.tags)
    _exercises(cells, linked)
    nb = nbformat.v4.new_notebook()
    nb.nbformat, nb.nbformat_minor = 4, 5
    for index, (kind, source, tags) in enumerate(cells.items):
        cell_id = f"{tool}-{index:02d}"
        if kind == "markdown":
            cell = nbformat.v4.new_markdown_cell(source, id=cell_id)
        else:
            cell = nbformat.v4.new_code_cell(source, id=cell_id)
            if tags:
                cell.metadata["tags"] = list(tags)
        nb.cells.append(cell)
    nb.metadata = nbformat.from_dict({
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
        "inferbook": {"tool": tool, "model": case.model, "gpu": case.gpu, "format": case.fmt,
                      "data_version": kb.data_version},
    })
    nbformat.validate(nb)
    return nb


def dumps(nb: NotebookNode) -> str:
    """The notebook as deterministic JSON text (sorted keys, one trailing newline)."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def write_notebook(nb: NotebookNode, path: Path) -> Path:
    """Write ``nb`` to ``path`` (parent folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(nb), encoding="utf-8")
    return path


def build_notebooks(kb: KnowledgeBase, out: Path) -> None:
    """Write one notebook per tool into ``out``, pre-filled for the default case."""
    out.mkdir(parents=True, exist_ok=True)
    case = default_case(kb)
    for tool in TOOLS:
        write_notebook(_assemble(tool, kb, case), out / f"{tool}.ipynb")
