"""Entry points: `validate()` checks folders or files, `load()` returns a
`KnowledgeBase`. A wheel carries a precompiled bundle of the built-in KB
(`_data/kb.json`, written at build time by `bundle.write_bundle`), so loading
it needs neither YAML parsing nor the graph checks."""

from __future__ import annotations

import functools
import gc
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from .diagnostics import Diagnostic, KnowledgeBaseError
from .kb import KnowledgeBase
from .paths import PACKAGE_DIR, default_kb_dir
from .schema import KINDS

if TYPE_CHECKING:  # the loader and graph checks are imported on first use
    from .loader import LoadResult

BUNDLE_PATH = PACKAGE_DIR / "_data" / "kb.json"

KbArg = str | PathLike[str] | Sequence[str | PathLike[str]] | None
P = ParamSpec("P")
R = TypeVar("R")


def kb_folders(kb: KbArg = None) -> list[Path]:
    """Normalise the `kb` argument: None means the built-in kb/; one path or several (layered in order)."""
    if kb is None:
        return [default_kb_dir()]
    if isinstance(kb, (str, PathLike)):
        return [Path(kb)]
    folders = [Path(p) for p in kb]
    return folders or [default_kb_dir()]


def _gc_paused(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` with Python's cyclic garbage collector paused (restored afterwards).
    Reading a knowledge base allocates many objects that all stay alive; each full
    collection re-scans every one of them, which made validation grow faster than the
    number of entries (and cost a third of it at 10,000). Reference counting still frees
    everything that is dropped; nothing else changes."""
    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return wrapper


@dataclass(slots=True)
class Validation:
    """Result of validating a knowledge base: the load, its graph checks and all findings."""

    result: LoadResult
    diagnostics: list[Diagnostic]
    kb: KnowledgeBase | None = None
    """The knowledge base, when the load had no errors."""

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


@_gc_paused
def validate(kb: KbArg = None, files: Sequence[Path] = ()) -> Validation:
    """Load folders (and extra single files), run schema and graph checks, return every finding.
    With ``files``, only findings located in those files are kept."""
    folders = kb_folders(kb)
    resolved_folders = [f.resolve() for f in folders]
    from .graph import check_graph
    from .loader import load_folders

    extra = [f for f in files if not any(_inside(f.resolve(), r) for r in resolved_folders)]
    result = load_folders(folders, extra_files=extra)
    graph, graph_diags = check_graph(result.entries)
    diags = result.diagnostics + graph_diags
    kb = None
    if not any(d.severity == "error" for d in diags):
        from .prose import check_expressions

        kb = _knowledge_base(result, graph.graph["edges"])
        diags += check_expressions(kb, result.entries)
    if files:
        from .loader import display_path

        wanted = {display_path(f) for f in files}
        diags = [d for d in diags if d.file in wanted]
    return Validation(result, sorted(diags, key=Diagnostic.sort_key), kb)


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def knowledge_base_from(result: LoadResult) -> KnowledgeBase:
    """Build the query object from a load that passed validation."""
    from .graph import check_graph

    graph, diags = check_graph(result.entries)
    errors = [d for d in result.diagnostics + diags if d.severity == "error"]
    if errors:
        raise KnowledgeBaseError(sorted(errors, key=Diagnostic.sort_key))
    return _knowledge_base(result, graph.graph["edges"])


def _knowledge_base(result: LoadResult, edges: list) -> KnowledgeBase:
    base = result.layers[0] if result.layers else None
    version = (base.data_version if base else None) or "unversioned"
    names = [layer.name for layer in result.layers[1:]]
    if names:
        version = "+".join([version, *names])
    return KnowledgeBase(
        entries={i: le.entry for i, le in result.entries.items()},
        kinds={i: le.kind for i, le in result.entries.items()},
        paths={i: le.path for i, le in result.entries.items()},
        edges=[(e.source, e.target, e.type) for e in edges],
        data_version=version,
        data_date=(base.data_date if base else None) or "",
    )


@_gc_paused
def load(kb: KbArg = None) -> KnowledgeBase:
    """Load and validate a knowledge base (default: the built-in one).

    ``kb`` may be a folder or a list of folders layered in order. Raises
    `KnowledgeBaseError` listing every problem when the data is invalid."""
    folders = kb_folders(kb)
    if kb is None and BUNDLE_PATH.exists():
        return _load_bundle(BUNDLE_PATH, folders[0])
    from .loader import load_folders

    return knowledge_base_from(load_folders(folders))


def _load_bundle(path: Path, kb_dir: Path) -> KnowledgeBase:
    data = json.loads(path.read_bytes())
    entries, kinds, paths = {}, {}, {}
    for item in data["entries"]:
        eid, kind = item["id"], item["kind"]
        # the bundle was validated strictly when it was built; JSON has no date type,
        # so dates arrive as ISO strings and need the lax mode to become dates again
        entries[eid] = KINDS[kind].model_validate_json(item["json"], strict=False)
        kinds[eid] = kind
        paths[eid] = kb_dir / kind / f"{eid}.yaml"
    return KnowledgeBase(entries, kinds, paths, [tuple(e) for e in data["edges"]],
                         data["data_version"], data["data_date"])
