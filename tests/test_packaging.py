"""Packaging: what `pip install inferbook` brings and what the wheel carries.

The core install is pydantic and PyYAML; everything else is an extra
(`inferbook[graph]`, `[site]`, `[pdf]`, `[notebooks]`, `[contrib]`, `[mcp]`, `[all]`, `[dev]`), and a command
whose extra is missing says which one to install and exits 2. The wheel carries the
knowledge base once, compiled (`_data/kb.json`), and never its YAML files; commands that
read or write YAML ask for --kb there instead of touching site-packages.

The fast tests check the same rules in the checkout (by pretending a module or the YAML
folder is missing); the `wheel` tests build the wheel, install it with only its core
dependencies into a fresh virtualenv and run every lookup and calculator command there.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from conftest import venv_with

from inferbook import extras, paths
from inferbook.cli import main

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
CORE = {"pydantic", "pyyaml"}
"""The core dependencies: a strict schema library and one small YAML reader."""
DISTRIBUTION = {
    "jinja2": "jinja2", "markdown_it": "markdown-it-py", "mdit_py_plugins": "mdit-py-plugins",
    "latex2mathml": "latex2mathml", "nh3": "nh3", "playwright": "playwright", "pypdf": "pypdf",
    "nbformat": "nbformat", "networkx": "networkx", "ruamel.yaml": "ruamel.yaml", "numpy": "numpy", "scipy": "scipy",
    "mcp": "mcp", "anyio": "anyio",
}
"""Import name -> distribution name, for the modules `extras.EXTRAS` checks."""
NOT_CORE = ("networkx", "jinja2", "markdown_it", "mdit_py_plugins", "latex2mathml", "nh3", "nbformat", "matplotlib",
            "numpy", "ruamel", "playwright", "pypdf", "scipy", "mcp", "anyio")


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement string ("ruamel.yaml>=0.18" -> "ruamel-yaml")."""
    name = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert name is not None, requirement
    return re.sub(r"[-_.]+", "-", name.group(0)).lower()


def _extra_names(extra: str) -> set[str]:
    """Distribution names an extra brings, following `inferbook[...]` references."""
    names: set[str] = set()
    for requirement in PYPROJECT["project"]["optional-dependencies"][extra]:
        own = re.fullmatch(r"inferbook\[([a-z,]+)\]", requirement)
        if own:
            for inner in own.group(1).split(","):
                names |= _extra_names(inner)
        else:
            names.add(_name(requirement))
    return names


# the declared layout --------------------------------------------------------------------------
def test_core_dependencies_are_pydantic_and_pyyaml():
    assert {_name(r) for r in PYPROJECT["project"]["dependencies"]} == CORE


def test_every_extra_brings_the_modules_its_commands_check():
    optional = PYPROJECT["project"]["optional-dependencies"]
    assert set(optional) == {"graph", "site", "pdf", "notebooks", "contrib", "calibrate", "mcp", "all", "dev"}
    for extra, modules in extras.EXTRAS.items():
        assert {_name(DISTRIBUTION[m]) for m in modules} <= _extra_names(extra), extra
    assert _extra_names("pdf") >= _extra_names("site")
    assert _extra_names("all") == set().union(*(_extra_names(e) for e in ("graph", "site", "pdf", "notebooks",
                                                                          "contrib", "calibrate", "mcp")))
    assert _extra_names("dev") >= _extra_names("all") | {"pytest", "ruff", "build"}
    assert not (_extra_names("all") & CORE)


def test_metadata_classifiers_and_typed_marker():
    classifiers = PYPROJECT["project"]["classifiers"]
    for wanted in ("Typing :: Typed", "Operating System :: OS Independent", "Programming Language :: Python :: 3.11",
                   "Programming Language :: Python :: 3.12", "Programming Language :: Python :: 3.13"):
        assert wanted in classifiers
    assert any(c.startswith("Development Status ::") for c in classifiers)
    assert (ROOT / "inferbook" / "py.typed").is_file()


def test_changelog_names_the_package_and_data_versions():
    import yaml

    from inferbook import __version__

    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    data_version = yaml.safe_load((ROOT / "kb" / "_layer.yaml").read_text(encoding="utf-8"))["data_version"]
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings[0].startswith(f"inferbook {__version__}")
    assert any(h.startswith(f"Data {data_version}") for h in headings)
    assert any(h.startswith("Data 2026.11.1") for h in headings)


# import time and laziness --------------------------------------------------------------------
def test_import_inferbook_loads_no_dependency():
    code = ("import sys, inferbook\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'pydantic', 'yaml', 'networkx', *sys.argv[1:]}))\n")
    out = subprocess.run([sys.executable, "-c", code, *NOT_CORE], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"
    import inferbook

    assert inferbook.load.__module__ == "inferbook.api" and "KnowledgeBase" in dir(inferbook)
    with pytest.raises(AttributeError):
        inferbook.no_such_name  # noqa: B018


def test_lookups_and_calculators_import_no_extra():
    """What `show`, `kv` and `provenance` import in one process: pydantic, yaml, no extra."""
    code = ("import sys\n"
            "from inferbook.cli import main\n"
            "for argv in (['show', 'h100-sxm'], ['kv', 'llama-3.1-8b-instruct'], ['provenance', 'h100-sxm'],\n"
            "             ['fit', 'llama-3.1-8b-instruct']):\n"
            "    assert main(argv) == 0, argv\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[1:])), file=sys.stderr)\n")
    out = subprocess.run([sys.executable, "-c", code, *NOT_CORE], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stderr.strip().splitlines()[-1] == "[]"


# missing extras and the installed package, simulated in the checkout --------------------------
@pytest.fixture(autouse=True)
def no_server(monkeypatch):
    """`serve` must stop before it listens: fail instead of serving forever if it does not."""
    import inferbook.serve

    def refuse(*args, **kwargs):
        raise AssertionError("inferbook serve went on to listen on a port")

    monkeypatch.setattr(inferbook.serve, "SiteServer", refuse)


@pytest.mark.parametrize(("argv", "extra"), [
    (["build", "site"], "site"),
    (["build", "pdf"], "pdf"),
    (["build", "notebooks"], "notebooks"),
    (["notebook", "kv-cache"], "notebooks"),
    (["serve", "--port", "0"], "site"),
    (["fmt", "--check"], "contrib"),
    (["new", "gpus", "some-gpu", "--stdout"], "contrib"),
    (["diff", "HEAD"], "contrib"),
    (["rename", "a", "b", "--kb", "{tmp}/kb"], "contrib"),  # writers name their folder (cli.py)
    (["import-config", "config.json", "--stdout"], "contrib"),
    (["mcp"], "mcp"),
])
def test_a_missing_extra_is_named_and_exits_2(argv, extra, monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(extras.EXTRAS, extra, ("inferbook_no_such_module",))
    (tmp_path / "kb").mkdir()
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    if argv[0] == "build":
        argv = [*argv, "--out", str(tmp_path / "build")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"needs the '{extra}' extra" in err and f"pip install 'inferbook[{extra}]'" in err
    assert err.startswith(f"inferbook {argv[0]}: ")
    assert not (tmp_path / "build").exists()


def test_missing_extra_is_an_import_error_for_python_callers(monkeypatch, tmp_path):
    from inferbook.generators import build

    monkeypatch.setitem(extras.EXTRAS, "site", ("inferbook_no_such_module",))
    with pytest.raises(ImportError, match=r"the site target needs the 'site' extra"):
        build(["site"], out=tmp_path / "build")


@pytest.fixture
def as_installed(monkeypatch, tmp_path):
    """Make `paths` believe it runs from an installed wheel (a bundle beside the package)."""
    bundle = tmp_path / "_data" / "kb.json"
    bundle.parent.mkdir()
    bundle.write_text("{}")
    monkeypatch.setattr(paths, "BUNDLE_PATH", bundle)
    monkeypatch.setattr(paths, "_WHEEL_DATA", bundle.parent)
    return bundle.parent


@pytest.mark.parametrize("argv", [
    ["lint"], ["fmt"], ["new", "gpus", "some-gpu"], ["rename", "a", "b"], ["diff", "HEAD"],
    ["serve", "--port", "0"], ["import-config", "config.json"],
])
def test_installed_package_asks_for_kb_instead_of_touching_itself(argv, as_installed, tmp_path, capsys,
                                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = sorted(as_installed.rglob("*"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"inferbook {argv[0]}: ") and err.count("\n") == 1 and "Traceback" not in err
    assert "--kb DIR" in err  # writers are refused by cli.py (api.write_refusal), the rest by paths.source_kb_dir
    assert sorted(as_installed.rglob("*")) == before
    assert not paths.in_checkout() and paths.default_kb_dir() == as_installed / "kb"


def test_installed_package_never_rewrites_its_schemas(as_installed, capsys):
    assert main(["schema"]) == 2
    assert "pass --out DIR" in capsys.readouterr().err


def test_installed_package_with_kb_works_on_that_folder(as_installed, make_kb, capsys):
    kb = make_kb({})
    assert main(["lint", "--kb", str(kb)]) == 0
    assert paths.source_kb_dirs([str(kb)]) == [kb]


# the wheel -------------------------------------------------------------------------------------
@pytest.mark.wheel
def test_wheel_carries_the_data_once(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "inferbook/_data/kb.json" in names and "inferbook/py.typed" in names
    assert not [n for n in names if n.startswith("inferbook/_data/kb/")]
    assert not [n for n in names if "node_modules/" in n]  # the JS type checker (./dev.sh) stays in the checkout
    yaml_files = {n for n in names if n.endswith((".yaml", ".yml"))}  # the calculators' data, not the KB
    assert {"inferbook/calc/engine_profiles.yaml", "inferbook/calc/peer_accuracy.yaml"} <= yaml_files
    assert all(n.startswith("inferbook/calc/") for n in yaml_files)
    assert len([n for n in yaml_files if n.startswith("inferbook/calc/measurements/")]) >= 50
    assert "inferbook/calc/calibration.json" in names
    assert len([n for n in names if n.startswith("inferbook/_data/schema/")]) == 11
    assert "inferbook/_data/generators/site/templates/base.html" in names
    assert "inferbook/_data/generators/site/static/js/calc.js" in names
    assert {"inferbook/_data/generators/site/static/js/calc/constants.js",  # the split port and its constants
            "inferbook/_data/generators/site/static/js/calc/simulator.js"} <= set(names)
    required = {_name(line.split(":", 1)[1].strip()) for line in metadata.splitlines()
                if line.startswith("Requires-Dist:") and "extra ==" not in line}
    assert required == CORE
    assert set(re.findall(r"^Provides-Extra: (\S+)$", metadata, flags=re.MULTILINE)) == set(
        PYPROJECT["project"]["optional-dependencies"])
    assert "Classifier: Typing :: Typed" in metadata


@pytest.fixture(scope="module")
def core_env(wheel, tmp_path_factory):
    """A fresh virtualenv with the wheel and only its core dependencies; its bin folder."""
    env = tmp_path_factory.mktemp("core-venv")
    venv_with(env, str(wheel))
    return env / "bin"


@pytest.mark.wheel
def test_core_install_has_only_the_core_dependencies(core_env):
    listed = subprocess.run([sys.executable, "-m", "pip", "--python", str(core_env / "python"), "list",
                             "--format", "json", "--disable-pip-version-check"],
                            check=True, capture_output=True, text=True)
    names = {_name(d["name"]) for d in json.loads(listed.stdout)} - {"pip", "setuptools"}
    # inferbook, its three dependencies, and theirs (pydantic-core, annotated-types, typing-extensions,
    # typing-inspection)
    assert names - {"inferbook", *CORE} <= {"pydantic-core", "annotated-types", "typing-extensions",
                                             "typing-inspection"}
    code = ("import sys, importlib.util, inferbook\n"
            "kb = inferbook.load()\n"
            "assert kb.gpus['h100-sxm'].memory_bandwidth_gb_s.value > 0\n"
            "print(sorted(m for m in sys.argv[1:] if importlib.util.find_spec(m)))\n")
    out = subprocess.run([str(core_env / "python"), "-c", code, *NOT_CORE], check=True, capture_output=True,
                         text=True, cwd=core_env)
    assert out.stdout.strip() == "[]"


CORE_COMMANDS = [
    ["show", "h100-sxm"],
    ["show", "h100-sxm", "--json"],
    ["list", "gpus", "--where", "memory_gib>=80", "--fields", "memory_gib"],
    ["search", "kv cache"],
    ["kv", "llama-3.1-70b-instruct", "--context", "32768", "--dtype", "fp8", "--tp", "4"],
    ["kv", "--config", str(ROOT / "tests" / "hf_configs" / "llama-3.1-8b.json"), "--dtype", "bf16"],
    ["fit", "llama-3.1-8b-instruct", "--concurrency", "8"],
    ["roofline", "llama-3.1-8b-instruct", "h100-sxm", "--batch", "1", "32"],
    ["simulate", "llama-3.1-8b-instruct", "h100-sxm", "--rate", "5", "--requests", "50"],
    ["provenance", "h100-sxm"],
    ["provenance"],
    ["version"],
    ["schema", "--check"],
]


@pytest.mark.wheel
@pytest.mark.parametrize("argv", CORE_COMMANDS, ids=[" ".join(a[:2]) for a in CORE_COMMANDS])
def test_core_install_runs_lookups_and_calculators(core_env, tmp_path, argv):
    done = subprocess.run([str(core_env / "inferbook"), *argv], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-1000:] + done.stderr[-2000:]
    assert done.stdout.strip() or argv[0] == "schema"  # schema --check prints only what is stale
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.wheel
@pytest.mark.parametrize(("argv", "extra"), [
    (["build", "site"], "site"), (["build", "pdf"], "pdf"), (["notebook", "kv-cache"], "notebooks"),
    (["serve"], "site"), (["fmt", "--check"], "contrib"), (["new", "gpus", "x", "--stdout"], "contrib"),
    (["import-config", "config.json", "--stdout"], "contrib"),  # writing ones are refused first (cli.py)
])
def test_core_install_names_the_missing_extra(core_env, tmp_path, argv, extra):
    done = subprocess.run([str(core_env / "inferbook"), *argv], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.startswith(f"inferbook {argv[0]}: ") and "Traceback" not in done.stderr
    assert f"pip install 'inferbook[{extra}]'" in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.wheel  # 15-25 s: builds the tables twice in fresh processes, once validating the checkout's YAML cold
def test_core_install_reads_its_bundle_and_asks_for_kb_to_touch_yaml(core_env, tmp_path):
    """Nothing touches the installed package: what needs YAML asks for --kb, the rest reads the bundle."""
    package = Path(subprocess.run([str(core_env / "python"), "-c", "import inferbook; print(inferbook.__file__)"],
                                  check=True, capture_output=True, text=True).stdout.strip()).parent
    before = sorted(p for p in package.rglob("*") if "__pycache__" not in p.parts)
    for argv in (["lint"], ["schema"]):
        done = subprocess.run([str(core_env / "inferbook"), *argv], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 2, (argv, done.stderr)
        assert "--kb DIR" in done.stderr or "--out DIR" in done.stderr
        assert "Traceback" not in done.stderr
    valid = subprocess.run([str(core_env / "inferbook"), "validate"], cwd=tmp_path, capture_output=True, text=True)
    assert valid.returncode in (0, 2) and "IB004" not in valid.stdout + valid.stderr, valid.stdout + valid.stderr
    for kb in ([], ["--kb", str(ROOT / "kb")]):  # the bundle, then the checkout's YAML
        out = tmp_path / f"out{len(kb)}"
        built = subprocess.run([str(core_env / "inferbook"), "build", "tables", *kb, "--out", str(out)],
                               cwd=tmp_path, capture_output=True, text=True)
        assert built.returncode == 0, built.stderr[-2000:]
        assert (out / "tables" / "manifest.json").is_file()
    assert sorted(p for p in package.rglob("*") if "__pycache__" not in p.parts) == before


def test_the_networkx_view_names_the_graph_extra(monkeypatch):
    """kb.graph is the one query that needs networkx; without it, the error names the extra."""
    import inferbook

    kb = inferbook.load()
    fresh = inferbook.api.knowledge_base_from(inferbook.validate().result)
    monkeypatch.setitem(extras.EXTRAS, "graph", ("inferbook_no_such_module",))
    with pytest.raises(ImportError, match=r"KnowledgeBase.graph needs the 'graph' extra.*inferbook\[graph\]"):
        fresh.graph  # noqa: B018
    assert [e.id for e in fresh.learning_order()] == [e.id for e in kb.learning_order()]
    assert fresh.neighbourhood("kv-cache") and fresh.prerequisites("kv-cache", recursive=True)


def test_the_lock_pins_every_declared_dependency_within_its_range():
    """requirements/dev.lock (what ./dev.sh and CI install) must hold every package pyproject.toml
    names, at a version its range allows; `./dev.sh lock` refreshes it."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    pinned: dict[str, Version] = {}
    for line in (ROOT / "requirements" / "dev.lock").read_text(encoding="utf-8").splitlines():
        line = line.split(";")[0].strip()
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pinned[_name(name)] = Version(version)
    declared = list(PYPROJECT["project"]["dependencies"])
    for requirements in PYPROJECT["project"]["optional-dependencies"].values():
        declared += [r for r in requirements if not r.startswith("inferbook[")]
    assert declared
    for text in declared:
        requirement = Requirement(text)
        name = _name(requirement.name)
        assert name in pinned, f"{name} is declared in pyproject.toml but not locked: run ./dev.sh lock"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (name, str(pinned[name]))
