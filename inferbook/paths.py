"""Where the package finds its data: the checkout's folders in an editable
install, or what a wheel carries under `inferbook/_data/`: the compiled knowledge
base (`kb.json`, read by `inferbook.load()`), the JSON Schemas and the generators'
templates and assets. A wheel carries no knowledge-base YAML files, so commands
that need them (lint, fmt, new, rename, diff, import-config, serve) ask for --kb
there (`source_kb_dir`), and `inferbook schema` for --out (`schema_export_dir`):
nothing writes into an installed package."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT = PACKAGE_DIR.parent
_WHEEL_DATA = PACKAGE_DIR / "_data"
BUNDLE_PATH = _WHEEL_DATA / "kb.json"
"""The compiled knowledge base a wheel carries (`hatch_build.py` writes it)."""


def _pick(name: str) -> Path:
    wheel = _WHEEL_DATA / name
    if wheel.exists():
        return wheel
    return _CHECKOUT / name


def installed() -> bool:
    """True in an installed wheel: the package carries the compiled knowledge base."""
    return BUNDLE_PATH.is_file()


def in_checkout() -> bool:
    """True when running from a source checkout (editable install or repo root)."""
    return not installed() and (_CHECKOUT / "pyproject.toml").exists()


def default_kb_dir() -> Path:
    """The built-in knowledge-base folder: kb/ of the checkout. An installed package has
    none; there this is where it would be (`_data/kb`, absent), and `load()` reads the
    bundle instead. Commands that read or write YAML use `source_kb_dir()`."""
    if installed():
        return _WHEEL_DATA / "kb"
    return _CHECKOUT / "kb"


def source_kb_dir(what: str = "this command") -> Path:
    """The built-in knowledge-base folder, for a command that reads or writes its YAML files
    when no --kb was given. Raises `extras.NoKnowledgeBaseFolder` (a usage error naming
    ``what``) in an installed package, which carries only the compiled bundle."""
    if installed():
        from .extras import NoKnowledgeBaseFolder

        raise NoKnowledgeBaseFolder(what)
    return default_kb_dir()


def source_kb_dirs(kb: list[str] | None, what: str = "this command") -> list[Path]:
    """The --kb folders given, or `[source_kb_dir(what)]` when there are none."""
    return [Path(p) for p in kb] if kb else [source_kb_dir(what)]


def schema_dir() -> Path:
    """Exported JSON Schemas (read-only in an installed package)."""
    return _pick("schema")


def schema_export_dir(what: str = "this command") -> Path:
    """Where `inferbook schema` writes without --out: the checkout's schema/. Raises
    `extras.NoSchemaFolder` (a usage error) in an installed package."""
    if installed():
        from .extras import NoSchemaFolder

        raise NoSchemaFolder(what)
    return _CHECKOUT / "schema"


def generators_dir() -> Path:
    """Templates and front-end assets used by the generators."""
    return _pick("generators")


def project_root() -> Path | None:
    """The checkout root, when there is one."""
    return _CHECKOUT if in_checkout() else None
