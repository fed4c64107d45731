"""What an installed package may lack, said in one line: an optional extra (`inferbook[site]`)
or the knowledge base's YAML files (a wheel carries the compiled bundle only).

`pip install inferbook` gives lookups and calculators (pydantic and PyYAML).
Commands that render, print, write notebooks or rewrite YAML call `require()` first;
when a module of their extra is missing it raises `MissingExtra`, which names the extra
and the pip command. Both errors here are usage errors of the command line (exit 2, one
line on stderr, no traceback) and, for Python callers, `MissingExtra` is an ImportError."""

from __future__ import annotations

import importlib.util

from .cli import UsageError

EXTRAS: dict[str, tuple[str, ...]] = {
    "graph": ("networkx",),
    "site": ("jinja2", "markdown_it", "mdit_py_plugins", "latex2mathml", "nh3"),
    "pdf": ("jinja2", "markdown_it", "mdit_py_plugins", "latex2mathml", "nh3", "playwright", "pypdf"),
    "notebooks": ("networkx", "nbformat"),
    "contrib": ("ruamel.yaml",),
    "calibrate": ("numpy", "scipy"),
    "mcp": ("mcp", "anyio"),
}
"""Extra -> the modules inferbook imports from it (import names; pyproject.toml lists the
distributions). `notebooks` also installs matplotlib and numpy, which only the generated
notebooks import, in the kernel that runs them."""


class MissingExtra(UsageError, ImportError):
    """A command or generator needs an optional extra that is not installed."""

    exit_code = 2

    def __init__(self, extra: str, what: str, module: str):
        super().__init__(f"{what} needs the '{extra}' extra ({module} is not installed): "
                         f"pip install 'inferbook[{extra}]'", name=module)
        self.extra = extra
        self.what = what


class NoKnowledgeBaseFolder(UsageError):
    """A command that reads or writes knowledge-base YAML files ran from an installed package,
    which carries the compiled bundle (`_data/kb.json`) instead, without --kb."""

    exit_code = 2

    def __init__(self, what: str):
        super().__init__(f"{what} works on knowledge-base YAML files, and the installed package carries only the "
                         f"compiled knowledge base (kb.json): pass --kb DIR with a knowledge-base folder (kb/ of "
                         f"a checkout of inferbook, or your own)")
        self.what = what


class NoSchemaFolder(UsageError):
    """`inferbook schema` without --out ran from an installed package, whose files are never rewritten."""

    exit_code = 2

    def __init__(self, what: str):
        super().__init__(f"{what} writes the JSON Schemas into the project's schema/ folder, which an installed "
                         f"package does not have (its own copy is read-only): pass --out DIR")
        self.what = what


def missing(extra: str) -> str | None:
    """The first module of ``extra`` that cannot be imported, or None when all can."""
    for module in EXTRAS[extra]:
        try:
            found = importlib.util.find_spec(module) is not None
        except ImportError:  # the parent package of a dotted name is missing
            found = False
        if not found:
            return module
    return None


def require(extra: str, what: str) -> None:
    """Raise `MissingExtra` unless every module of ``extra`` is installed. ``what`` names
    the command or target in the message: "the site target", "inferbook fmt"."""
    module = missing(extra)
    if module is not None:
        raise MissingExtra(extra, what, module)
