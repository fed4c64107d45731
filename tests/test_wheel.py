"""The wheel carries the data: build it, install it into a fresh virtualenv and
query it from an unrelated directory. It carries the knowledge base once, compiled
(`_data/kb.json`); the same package reads a YAML folder given to it (here the checkout's
kb/). tests/test_packaging.py checks the core-only install, the extras and the contents."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import venv_with

ROOT = Path(__file__).resolve().parent.parent


# Slow tier (10-20 s here): builds the wheel (session fixture) and pip-installs it and its
# dependencies into a fresh virtualenv.
@pytest.mark.wheel
def test_wheel_installs_and_queries_elsewhere(tmp_path, wheel):
    env_dir = tmp_path / "venv"
    python = venv_with(env_dir, str(wheel))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import json, sys, inferbook\n"
        "from inferbook.paths import in_checkout\n"
        "from inferbook.api import BUNDLE_PATH\n"
        "kb = inferbook.load()\n"
        "bundle = inferbook.load.__module__\n"
        "yaml_kb = inferbook.load(sys.argv[1])\n"
        "print(json.dumps({'n': len(kb), 'n_yaml': len(yaml_kb), 'checkout': in_checkout(),\n"
        "  'bundle': BUNDLE_PATH.exists(), 'chapter': kb.get('foundations').title,\n"
        "  'version': kb.data_version, 'pkg': inferbook.__version__}))\n"
    )
    out = subprocess.run([str(python), "-c", script, str(ROOT / "kb")], cwd=elsewhere, check=True,
                         capture_output=True, text=True)
    data = json.loads(out.stdout)
    assert data["bundle"] and not data["checkout"]
    assert data["n"] == data["n_yaml"] > 8
    assert data["chapter"] == "Foundations of LLM inference"
    cli = env_dir / "bin" / "inferbook"
    shown = subprocess.run([str(cli), "show", "foundations", "--json"], cwd=elsewhere, check=True,
                           capture_output=True, text=True)
    assert json.loads(shown.stdout)["number"] == 1
    valid = subprocess.run([str(cli), "validate", "--kb", str(ROOT / "kb")], cwd=elsewhere, capture_output=True,
                           text=True)
    assert valid.returncode == 0, valid.stdout + valid.stderr


def test_editable_checkout_sees_kb_edits(tmp_path):
    """From the checkout, load() reads kb/ YAML directly, so edits show up."""
    import inferbook
    from inferbook.paths import default_kb_dir, in_checkout

    assert in_checkout() and default_kb_dir() == ROOT / "kb"
    kb_copy = tmp_path / "kb"
    import shutil
    shutil.copytree(ROOT / "kb", kb_copy)
    path = kb_copy / "chapters" / "foundations.yaml"
    path.write_text(path.read_text().replace("title: \"Foundations of LLM inference\"", "title: Edited title"))
    assert inferbook.load(kb_copy).get("foundations").title == "Edited title"
