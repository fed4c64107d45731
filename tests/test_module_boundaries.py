"""No module under inferbook/ reaches into another module's private names.

A name with a leading underscore belongs to the module that defines it. The check reads each
module's syntax tree (it cannot know types) and reports:

- ``obj._name`` where ``obj`` is not ``self`` or ``cls`` and the module itself defines no
  ``_name`` (a function, class, module or class attribute, or ``self._name``/``cls._name``);
  a module reading its own classes' private state on another instance (``other._cache``) is
  therefore accepted, and so are dunders (``__name__``);
- ``from module import _name``.

Private names read through ``getattr`` with a string are not seen.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "inferbook"

LIBRARY_NAMES: dict[str, str] = {
    # argparse has no public names for these: `add_subparsers()` returns a _SubParsersAction, and
    # the shell completion scripts and the MCP tools' input schemas are made from a parser's
    # options (_actions), their kinds and its subcommands' help (_choices_actions).
    "_SubParsersAction": "argparse", "_StoreTrueAction": "argparse", "_AppendAction": "argparse",
    "_actions": "argparse", "_choices_actions": "argparse",
    # pypdf has no public setter for the file identifier, which the PDF fixes for reproducible bytes.
    "_ID": "pypdf",
}
"""Private names of other libraries that inferbook needs and that have no public equivalent,
accepted in any module (name -> library)."""

def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _private(name: str) -> bool:
    return name.startswith("_") and not _is_dunder(name)


def _own_names(tree: ast.Module) -> set[str]:
    """The private names a module defines: functions, classes, assigned names at module or
    class level, and attributes it assigns on ``self`` or ``cls``."""
    own: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
        elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
              and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
            own.add(node.attr)
    return {name for name in own if _private(name)}


def private_accesses(source: str) -> list[tuple[int, str]]:
    """(line, private name) of each place ``source`` uses a private name of another module."""
    tree = ast.parse(source)
    own = _own_names(tree)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in own:
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                found.append((node.lineno, node.attr))
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            found += [(node.lineno, alias.name) for alias in node.names if _private(alias.name)]
    return sorted(found)


def test_the_check_sees_private_access_across_modules():
    source = (
        "from .loader import _schema_diagnostics\n"
        "import argparse\n"
        "class Cache:\n"
        "    def __init__(self):\n"
        "        self._items = {}\n"
        "    def merge(self, other):\n"
        "        return {**self._items, **other._items}\n"  # its own class's state: accepted
        "def _helper(kb):\n"
        "    return kb._entries, kb.__class__.__name__, _helper\n"  # kb._entries belongs elsewhere
        "def actions(parser):\n"
        "    return parser._actions, argparse._SubParsersAction\n"
    )
    assert private_accesses(source) == [(1, "_schema_diagnostics"), (9, "_entries"), (11, "_SubParsersAction"),
                                         (11, "_actions")]


def test_no_module_uses_another_modules_private_names():
    found, library = [], set()
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).as_posix()
        for line, name in private_accesses(path.read_text(encoding="utf-8")):
            if name in LIBRARY_NAMES:
                library.add(name)
            else:
                found.append(f"inferbook/{module}:{line}: {name}")
    assert found == [], "private names of other modules used (make them public there):\n" + "\n".join(found)
    assert library == set(LIBRARY_NAMES), f"no longer used, so remove: {sorted(set(LIBRARY_NAMES) - library)}"
