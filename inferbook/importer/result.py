"""What an import yields: `Imported`, the config in the schema's terms, and `Report`, what the
import did not carry over, what it assumed and what it checked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..schema import ModelArchitecture


@dataclass(slots=True)
class Report:
    """What an import did not carry over, what it assumed, and what it checked."""

    not_used: list[str] = field(default_factory=list)
    """Config keys the importer does not know: reported, never guessed at."""
    cannot_express: list[str] = field(default_factory=list)
    """Designs the schema has no field for (vision encoders, MTP layers, ...), with their keys."""
    defaults: list[str] = field(default_factory=list)
    """Values taken from transformers class defaults because the config omits them."""
    checks: list[str] = field(default_factory=list)
    """Assumptions to check and cross-checks (parameter counts, quantization details)."""

    def lines(self) -> list[str]:
        """The report as lines for stderr."""
        out = []
        if self.not_used:
            out.append("not used: " + ", ".join(self.not_used))
        out += self.cannot_express
        if self.defaults:
            out.append("defaults used (absent from the config): " + "; ".join(self.defaults))
        out += self.checks
        return out


@dataclass(slots=True)
class Imported:
    """A config read into the schema's terms."""

    architecture: ModelArchitecture
    native_dtype: str | None
    """Format id of the released weights, None when the config does not say."""
    native_groups: dict[str, str | None]
    """Tensor groups kept in another format (None: that format is unknown)."""
    name: str | None
    """The `_name_or_path` of the config (owner/name), when it has one."""
    origins: dict[str, str]
    """Schema field (dotted, under architecture) -> where its value came from."""
    native_origin: str
    """Where native_dtype came from (or the TODO saying it is unknown)."""
    report: Report
    params: int
    """Parameters computed from the architecture (language model only: no MTP modules, no vision encoder)."""
    params_active: int
    vision: str | None = None
    """A description of the config's vision encoder (read into `architecture.vision` for Qwen3-VL, Qwen3.5,
    Gemma 3, Mistral 3, GLM-4V and Kimi-K2.5, left out otherwise)."""

    @property
    def short_name(self) -> str | None:
        """The last part of `name` (the model without its owner), when there is a name."""
        return self.name.rsplit("/", 1)[-1] if self.name else None

    @property
    def hf_repo(self) -> str | None:
        """`name` when it has the owner/name form of a Hugging Face repository."""
        return self.name if self.name and re.fullmatch(r"[\w.-]+/[\w.-]+", self.name) else None
