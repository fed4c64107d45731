"""What the generated notebooks share: loading the case they look at, and showing a figure.

The notebooks (`inferbook notebook`, `inferbook build notebooks`) import this module from
the installed package, so their cells hold only what a reader should see: `load_case`
loads the knowledge base, picks the model, GPU and formats, chooses or checks the
tensor-parallel group, and stops with the reasons when the setup cannot run; `show`
turns a matplotlib figure into an inline PNG. Only `show` needs matplotlib (the
`notebooks` extra); it receives the figure, so this module imports no plotting code.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .api import load
from .calc import kv_dtype_bits
from .calc.feasibility import Feasibility, Setup, check_setup
from .calc.fit import smallest_group
from .calc.weights import native_groups
from .kb import KnowledgeBase
from .schema import Format, Gpu, LlmModel, ModelArchitecture
from .version import __version__

if TYPE_CHECKING:
    from matplotlib.figure import Figure

GIB = 2**30
"""Bytes in a GiB."""

CHECK_CONTEXT = 1024
"""Tokens of the one sequence the feasibility check asks for (as every calculator does)."""


@dataclass(frozen=True)
class NotebookCase:
    """A model in a weight format on a group of GPUs, with its KV-cache type, as loaded for a notebook."""

    kb: KnowledgeBase
    """The knowledge base the case was loaded from."""
    model: LlmModel
    """The model entry."""
    gpu: Gpu
    """The GPU entry (one of the tensor-parallel group)."""
    fmt: Format
    """The weight format entry."""
    kv_dtype: str
    """The KV-cache data type asked for, as written (e.g. "bf16", "fp8-e4m3")."""
    kv_bits: float
    """Bits per stored KV-cache element."""
    kv_fmt: Format | None
    """The KV-cache format entry, when the handbook has one for `kv_dtype`."""
    groups: dict[str, Format] | None
    """Per-group formats of the released checkpoint when `fmt` is the model's native one (else None)."""
    tp: int
    """GPUs in the tensor-parallel group: the one asked for, or the fewest on which the model runs."""
    verdict: Feasibility
    """The feasibility check's answer for the case (feasible here; its warnings were printed)."""

    @property
    def arch(self) -> ModelArchitecture:
        """The model's architecture fields, which the calculators read."""
        return self.model.architecture


def load_case(model: str, gpu: str, fmt: str, kv_dtype: str = "bf16", tp: int | None = None,
              kb: str | Sequence[str] | None = None) -> NotebookCase:
    """Load the knowledge base (``kb``: None for the built-in handbook, or folders) and the case.

    With ``tp`` None the group is the fewest GPUs of one tensor-parallel group on which the model
    runs; otherwise that group is checked. Either way the check is the one every calculator makes
    (splits, formats, memory, one sequence of `CHECK_CONTEXT` tokens); its warnings are printed,
    and a setup that cannot run raises ValueError with the reasons. Prints what was loaded."""
    handbook = load(kb if kb is None or isinstance(kb, str) else list(kb))
    llm, device, weights = handbook.models[model], handbook.gpus[gpu], handbook.formats[fmt]
    kv_bits = kv_dtype_bits(kv_dtype, handbook.formats)
    kv_fmt = handbook.formats.get(handbook.resolve(kv_dtype) or "")
    # A released checkpoint may keep some tensor groups in another format (gpt-oss keeps attention in BF16).
    groups = (native_groups(llm, dict(handbook.formats)) or None) if weights.id == llm.native_dtype else None
    if tp is None:
        tp, verdict = smallest_group(llm, device, weights, CHECK_CONTEXT, kv_bits=kv_bits, groups=groups, kv=kv_fmt)
    else:
        verdict = check_setup(Setup(llm, device, weights, kv=kv_fmt, kv_bits=kv_bits, tp=tp, context=CHECK_CONTEXT,
                                    groups=groups))
    for warning in verdict.warnings:
        print("note:", warning)
    if tp is None or not verdict.feasible:
        raise ValueError(f"{model} in {fmt} cannot run on {gpu}: " + "; ".join(verdict.reasons)
                         + "; try a smaller FORMAT, another GPU, or set TP")
    print(f"{llm.title} in {weights.title} on {tp} x {device.title}, KV cache in {kv_dtype} ({verdict.engine})")
    print(f"handbook data {handbook.data_version} ({handbook.data_date}), inferbook {__version__}")
    return NotebookCase(handbook, llm, device, weights, kv_dtype, kv_bits, kv_fmt, groups, tp, verdict)


def show(fig: Figure) -> None:
    """Display a figure as a PNG image and close it (works under Agg, in Jupyter and in headless
    runs); in plain Python without IPython there is nothing to display into, so it only closes it."""
    import matplotlib.pyplot as plt

    try:
        from IPython.display import Image, display
    except ImportError:
        plt.close(fig)
        return
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    plt.close(fig)
    display(Image(data=buffer.getvalue(), format="png"))
