"""Where the package finds its data: the checkout's folders in an editable
install, or the copies a wheel carries under `inferbook/_data/`."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT = PACKAGE_DIR.parent
_WHEEL_DATA = PACKAGE_DIR / "_data"


def _pick(name: str) -> Path:
    wheel = _WHEEL_DATA / name
    if wheel.exists():
        return wheel
    return _CHECKOUT / name


def in_checkout() -> bool:
    """True when running from a source checkout (editable install or repo root)."""
    return not (_WHEEL_DATA / "kb").exists() and (_CHECKOUT / "pyproject.toml").exists()


def default_kb_dir() -> Path:
    """The built-in knowledge base."""
    return _pick("kb")


def schema_dir() -> Path:
    """Exported JSON Schemas."""
    return _pick("schema")


def generators_dir() -> Path:
    """Templates and front-end assets used by the generators."""
    return _pick("generators")


def project_root() -> Path | None:
    """The checkout root, when there is one."""
    return _CHECKOUT if in_checkout() else None
