"""Generators turn a loaded knowledge base into outputs under build/.

`TARGETS` maps each build target to its generator function, or to None while a
target is not implemented. Each generator writes into a fresh folder that
`build()` swaps into place only when the generator succeeds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ..api import KbArg, load
from ..kb import KnowledgeBase

Generator = Callable[[KnowledgeBase, Path], None]

TARGETS: dict[str, Generator | None] = {
    "tables": None,
    "site": None,
    "notebooks": None,
    "pdf": None,
}


def build(targets: Sequence[str], kb: KbArg = None, out: Path = Path("build")) -> list[Path]:
    """Run the generators for ``targets``; return the folders written."""
    knowledge = load(kb)
    written = []
    for target in targets:
        generator = TARGETS[target]
        if generator is None:
            raise NotImplementedError(target)
        dest = out / target
        generator(knowledge, dest)
        written.append(dest)
    return written
