"""The `inferbook notebook` subcommand: one Jupyter notebook pre-filled for a case."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

TOOL_NAMES = ("kv-cache", "memory-and-fit", "roofline", "batching-simulator", "latency-metrics",
              "quantization-impact", "gpu-comparison", "api-tour", "deployment-planner")
"""The notebook tools (kept equal to `generators.notebooks.TOOLS`, which imports nbformat lazily)."""


def cmd_notebook(args: argparse.Namespace) -> int:
    """Write the notebook; a bad tool or id prints one line on stderr and returns 2, and so
    does a missing 'notebooks' extra (`extras.MissingExtra`, a usage error)."""
    from .extras import require

    require("notebooks", "this command")
    from .api import load
    from .generators.notebooks import notebook, write_notebook

    kb_paths = [str(Path(p).resolve()) for p in args.kb] if args.kb else None
    kb = load(kb_paths)
    try:
        nb = notebook(args.tool, model=args.model, gpu=args.gpu, fmt=args.weight_format, kb=kb, kb_paths=kb_paths)
    except ValueError as exc:
        return _usage(str(exc))
    meta = nb.metadata["inferbook"]
    out = Path(args.out) if args.out else Path(f"{args.tool}-{meta['model']}-{meta['gpu']}.ipynb")
    try:
        write_notebook(nb, out)
    except OSError as exc:
        print(f"inferbook notebook: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return 1
    sys.stdout.write(f"{out}\n")
    return 0


def _usage(message: str) -> int:
    print(f"inferbook notebook: {message}", file=sys.stderr)
    return 2


def add_notebook_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register `inferbook notebook TOOL [--model ID] [--gpu ID] [--format ID] [--out FILE]`."""
    p = sub.add_parser("notebook", parents=[common], help="write one Jupyter notebook pre-filled for a model and GPU",
                       description="Write one notebook of `inferbook build notebooks`, pre-filled for a case.")
    p.add_argument("tool", metavar="TOOL", help="one of: " + ", ".join(TOOL_NAMES))
    p.add_argument("--model", metavar="ID", help="model id or alias (default: llama-3.1-8b-instruct)")
    p.add_argument("--gpu", metavar="ID", help="GPU id or alias (default: h100-sxm)")
    p.add_argument("--format", dest="weight_format", metavar="ID",
                   help="weight format id (default: the model's native format)")
    p.add_argument("--out", metavar="FILE", help="output file (default: TOOL-MODEL-GPU.ipynb here)")
    p.set_defaults(func=cmd_notebook)
