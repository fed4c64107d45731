"""inferbook: the LLM inference handbook as data.

    import inferbook
    kb = inferbook.load()
    kb.gpus["h100-sxm"].memory_bandwidth_gb_s.value
    kb.get("TTFT").summary

`import inferbook` loads nothing but the version: the names below are imported on
first use (PEP 562), so the pydantic models are built when `load()` needs them.
"""

from __future__ import annotations

import importlib

from .version import __version__

TYPE_CHECKING = False  # not `from typing import TYPE_CHECKING`: importing typing costs ~9 ms
if TYPE_CHECKING:
    from typing import Any

    from .api import load, validate
    from .diagnostics import Diagnostic, KnowledgeBaseError
    from .kb import Entries, KnowledgeBase
    from .search import SearchHit

__all__ = [
    "Diagnostic", "Entries", "KnowledgeBase", "KnowledgeBaseError", "SearchHit",
    "__version__", "load", "validate",
]

_LAZY = {
    "load": "api", "validate": "api", "Diagnostic": "diagnostics", "KnowledgeBaseError": "diagnostics",
    "Entries": "kb", "KnowledgeBase": "kb", "SearchHit": "search",
}
"""Public name -> the submodule that defines it."""
_SUBMODULES = frozenset({"api", "diagnostics", "kb", "paths", "schema", "search", "yamlio"})
"""Submodules that `import inferbook` used to import, still reachable as attributes."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) - {"TYPE_CHECKING", "importlib"} | set(__all__))
