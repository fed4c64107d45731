"""Pydantic models for every entry kind. `KINDS` maps a kb/ folder to its model."""

from __future__ import annotations

from pydantic import BaseModel

from .articles import Chapter, Concept, Exercise, Faq, Formula, Metric, Technique, ToolDefinition
from .base import Citation, EntryBase, Quantity, Ref
from .formats import Format
from .frameworks import Framework
from .gpus import Gpu, Throughput
from .models import (
    LinearAttention,
    LlmModel,
    Mamba,
    Mla,
    ModelArchitecture,
    Moe,
    QuantizedCheckpoint,
    SparseAttention,
    VisionEncoder,
)
from .offers import Offer, Ownership
from .redirects import Redirect
from .sources import Source

KINDS: dict[str, type[EntryBase]] = {
    "chapters": Chapter,
    "concepts": Concept,
    "metrics": Metric,
    "techniques": Technique,
    "gpus": Gpu,
    "models": LlmModel,
    "formats": Format,
    "frameworks": Framework,
    "offers": Offer,
    "sources": Source,
    "redirects": Redirect,
}
"""Entry kinds in load order; the key is the kb/ folder name."""

__all__ = [
    "KINDS",
    "BaseModel",
    "Chapter",
    "Citation",
    "Concept",
    "EntryBase",
    "Exercise",
    "Faq",
    "Format",
    "Formula",
    "Framework",
    "Gpu",
    "LinearAttention",
    "LlmModel",
    "Mamba",
    "Metric",
    "Mla",
    "ModelArchitecture",
    "Moe",
    "Offer",
    "Ownership",
    "Quantity",
    "QuantizedCheckpoint",
    "Redirect",
    "Ref",
    "Source",
    "SparseAttention",
    "Technique",
    "Throughput",
    "ToolDefinition",
    "VisionEncoder",
]
