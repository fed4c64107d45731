"""Hatch build hook: compile the validated knowledge base into the wheel
(`inferbook/_data/kb.json`) so an installed package loads it without parsing YAML.
The build fails if the knowledge base has errors. This is the wheel's only copy of the
data: the YAML files of kb/ stay in the sdist and the checkout (pyproject.toml's
force-include adds only the JSON Schemas and the generators' templates and assets)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        sys.path.insert(0, self.root)
        try:
            from inferbook.bundle import write_bundle
        finally:
            sys.path.pop(0)
        self._tmp = tempfile.TemporaryDirectory()
        out = write_bundle(Path(self.root) / "kb", Path(self._tmp.name) / "kb.json")
        build_data["force_include"][str(out)] = "inferbook/_data/kb.json"

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            tmp.cleanup()
