"""The constants the site's JavaScript calculators share with Python come from Python.

`generators/site/static/js/calc/constants.js` is written by `inferbook.generators.js_constants`
from the Python values; these tests fail while the committed file is stale, check that Node
reads back exactly the Python values, that no other JavaScript file defines one of those names
itself, and that each module of the split port names the Python module it ports."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from inferbook.generators import js_constants
from inferbook.generators.js_constants import REFRESH, constants, dataclass_defaults, render

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "generators" / "site" / "static" / "js"
CONSTANTS = JS / "calc" / "constants.js"


def test_committed_constants_are_fresh() -> None:
    assert CONSTANTS.read_text(encoding="utf-8") == render(), (
        f"{CONSTANTS.relative_to(ROOT)} is stale: run `{REFRESH}` and commit the file")


def test_check_names_the_refresh_command_when_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "constants.js"
    stale.write_text(render().replace("export const DEFAULT_MFU = ", "export const DEFAULT_MFU = 1 + "),
                     encoding="utf-8")
    monkeypatch.setattr(js_constants, "target_path", lambda: stale)
    assert js_constants.main(["--check"]) == 1
    assert REFRESH in capsys.readouterr().err
    stale.write_text(render(), encoding="utf-8")
    assert js_constants.main(["--check"]) == 0


def _plain(value: object) -> object:
    """A Python value as it comes back from JSON (sets sorted, tuples as lists)."""
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def test_node_reads_the_python_values() -> None:
    """Every exported value, parsed by JavaScript, equals the Python value exactly (floats included)."""
    node = shutil.which("node")
    assert node, "Node.js (`node` on PATH) is required to check the JS calculator; install Node 20 or later"
    script = (f"import * as c from {json.dumps(CONSTANTS.as_uri())};\n"
              "const out = {};\n"
              "for (const [k, v] of Object.entries(c)) out[k] = {value: v, frozen: Object.isFrozen(v)};\n"
              "console.log(JSON.stringify(out));\n")
    proc = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    exported = json.loads(proc.stdout)
    expected = {c.name: c.value for c in constants()}
    assert exported.keys() == expected.keys()
    for name, value in expected.items():
        assert exported[name]["value"] == _plain(value), name
        assert exported[name]["frozen"], f"{name} is not frozen"


OWN_DEFINITIONS = {"data.js: GIB": "the tools' display unit (2 ** 30); data.js loads no calculator code"}
"""Names of generated constants that another file may define itself, with the reason."""


def test_no_other_javascript_file_defines_a_generated_constant() -> None:
    names = [c.name for c in constants()]
    definition = re.compile(r"\b(?:const|let|var|function|class)\s+(" + "|".join(names) + r")\b")
    found = [f"{path.relative_to(JS).as_posix()}: {m.group(1)}" for path in sorted(JS.rglob("*.js"))
             if path != CONSTANTS for m in definition.finditer(path.read_text(encoding="utf-8"))]
    assert set(OWN_DEFINITIONS) <= set(found), "OWN_DEFINITIONS lists a definition that is gone"
    found = [f for f in found if f not in OWN_DEFINITIONS]
    assert not found, "import these from calc/constants.js instead:\n" + "\n".join(found)


def test_each_calc_module_names_the_python_module_it_ports() -> None:
    modules = sorted((JS / "calc").glob("*.js"))
    assert {p.stem for p in modules} >= {"constants", "builtins", "params", "kv", "weights", "capacity",
                                         "feasibility", "metrics", "simulator"}
    for path in modules:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        if path.stem == "constants":
            assert first.startswith("// Generated from the Python constants"), first
        elif path.stem == "builtins":
            assert first.startswith("// Port of Python's built-ins"), first
        else:
            match = re.match(r"// Port of inferbook/calc/(\w+)\.py\b", first)
            assert match and match.group(1) == path.stem, f"{path.name}: {first}"
            assert (ROOT / "inferbook" / "calc" / f"{path.stem}.py").is_file()


def test_a_settings_field_must_be_ported_or_left_out() -> None:
    """A new Python field fails the generator until the port decides about it."""

    @dataclasses.dataclass
    class Settings:
        a: int = 1
        b: float = 2.5
        c: bool = False

    assert dataclass_defaults(Settings, ("b", "a"), ("c",)) == {"a": 1, "b": 2.5}
    with pytest.raises(ValueError, match=r"neither ported nor left out \['c'\]"):
        dataclass_defaults(Settings, ("a", "b"))
    with pytest.raises(ValueError, match=r"unknown \['d'\]"):
        dataclass_defaults(Settings, ("a", "b", "c", "d"))
