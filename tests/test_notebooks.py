"""Generated notebooks: assembled from their source files, built, executed headless with
nbclient, checked against the calculators; deterministic; the single pre-filled notebook
from the CLI; and one notebook run in a fresh virtualenv that has only the wheel installed."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import nbformat
import pytest
from conftest import venv_with
from nbclient import NotebookClient

import inferbook
from inferbook.calc import kv_bytes, kv_bytes_per_token, kv_dtype_bits, weight_bytes
from inferbook.calc.capacity import capacity
from inferbook.calc.fit import fit_options
from inferbook.calc.metrics import RequestRecord, summarize
from inferbook.calc.roofline import Roofline, step_model
from inferbook.calc.simulator import Lengths, SimConfig, simulate, workload
from inferbook.calc.weights import native_groups
from inferbook.cli import main
from inferbook.cli_notebook import TOOL_NAMES
from inferbook.generators import build
from inferbook.generators import notebooks as gen

ROOT = Path(__file__).resolve().parent.parent
TOOLS = list(gen.TOOLS)
GIB = 2**30
# The defaults the built notebooks run with, read from their source files.
KV, FIT, ROOF = (gen.parameter_defaults(t) for t in ("kv-cache", "memory-and-fit", "roofline"))
SIM, GPUS = gen.parameter_defaults("batching-simulator"), gen.parameter_defaults("gpu-comparison")
# Extra pre-filled cases executed alongside the built notebooks: a sliding-window model,
# an MoE model with a mixed native checkpoint, and MLA in a quantized format on two GPUs.
EXTRA_CASES = [("kv-cache", "gemma-3-27b-it", "h200-sxm", None),
               ("roofline", "gpt-oss-20b", "h100-sxm", None),
               ("memory-and-fit", "deepseek-v2-lite", "l40s", "fp8-e4m3")]


def kernelspec_dir(base: Path, python: str) -> Path:
    """A Jupyter data folder whose `python3` kernel runs ``python`` (put it first on JUPYTER_PATH,
    so a user-level kernelspec pointing at another interpreter is not picked up)."""
    spec = base / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3", "language": "python"}))
    return base


Outcome = tuple[nbformat.NotebookNode, BaseException | None]


def execute(paths: list[Path], cwd: Path, parallel: int = 4) -> dict[Path, Outcome]:
    """Run notebooks headless (several kernels at once); return each executed notebook and its error."""
    semaphore = asyncio.Semaphore(parallel)

    async def one(path: Path) -> Outcome:
        nb = nbformat.read(path, as_version=4)
        # a kernel may take over a minute to start when the other test worker keeps both cores busy
        client = NotebookClient(nb, timeout=120, startup_timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str(cwd)}})
        async with semaphore:
            try:
                await client.async_execute()
            except Exception as exc:  # reported by the test of that notebook
                return nb, exc
        return nb, None

    async def run_all():
        return await asyncio.gather(*(one(p) for p in paths))

    return dict(zip(paths, asyncio.run(run_all()), strict=True))


def text_of(nb: nbformat.NotebookNode) -> str:
    """Everything the notebook printed."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream" and out.name == "stdout":
                parts.append(out.text)
            elif out.output_type == "execute_result":
                parts.append(out.data.get("text/plain", ""))
    return "".join(parts)


def printed(executed: dict[str, Outcome], name: str) -> str:
    """What notebook ``name`` printed, once it is known to have run to the end."""
    nb, error = executed[name]
    assert error is None, f"{name} did not run to the end: {error!r}"
    return text_of(nb)


def parameters_of(nb: nbformat.NotebookNode) -> str:
    """The source of the cell tagged `parameters`."""
    return next(c.source for c in nb.cells if "parameters" in c.metadata.get("tags", []))


@pytest.fixture(scope="module")
def kb():
    return inferbook.load()


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build")
    [folder] = build(["notebooks"], out=out)
    return folder


# Over 20 s on a busy 2-core machine (15-26 s here): eleven notebooks, each in its own Jupyter
# kernel. Only the tests marked `notebook` (slow tier) use it. Session-scoped: under pytest-xdist a
# worker may run other modules' tests between this module's, which would end a module fixture early
# and run every notebook again.
@pytest.fixture(scope="session")
def executed(built, tmp_path_factory):
    """Every built notebook plus the extra cases, executed once for the whole module."""
    work = tmp_path_factory.mktemp("run")
    extra = []
    for tool, model, gpu, fmt in EXTRA_CASES:
        path = work / f"{tool}-{model}.ipynb"
        gen.write_notebook(gen.notebook(tool, model=model, gpu=gpu, fmt=fmt), path)
        extra.append(path)
    paths = sorted(built.glob("*.ipynb")) + extra
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(kernelspec_dir(tmp_path_factory.mktemp("jupyter"), sys.executable)))
        mp.setenv("MPLBACKEND", "Agg")
        results = execute(paths, work)
    return {path.stem: result for path, result in results.items()}


# structure --------------------------------------------------------------------------
def test_build_writes_one_notebook_per_tool(built):
    assert sorted(p.name for p in built.iterdir()) == sorted(f"{t}.ipynb" for t in TOOLS)
    assert set(TOOLS) == {"kv-cache", "memory-and-fit", "roofline", "batching-simulator", "latency-metrics",
                          "quantization-impact", "gpu-comparison", "api-tour", "deployment-planner"}
    assert TOOL_NAMES == tuple(TOOLS)


@pytest.mark.parametrize("tool", TOOLS)
def test_notebook_structure(built, tool):
    path = built / f"{tool}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
    assert nb.metadata.kernelspec == {"display_name": "Python 3", "language": "python", "name": "python3"}
    assert nb.metadata.language_info.name == "python"
    assert nb.metadata.inferbook.tool == tool
    assert [c.id for c in nb.cells] == [f"{tool}-{i:02d}" for i in range(len(nb.cells))]
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert 'matplotlib.use("Agg")' in code[0].source or tool == "api-tour"  # the tour draws nothing
    assert code[1].metadata.tags == ["parameters"] and 'MODEL = "llama-3.1-8b-instruct"' in code[1].source
    sources = "\n".join(c.source for c in code)
    assert "inferbook.load(KB)" in sources or "load_case(MODEL, GPU, FORMAT, KV_DTYPE, TP, KB)" in sources
    # public API only: no private modules or names
    for line in sources.splitlines():
        if "inferbook" in line and "import" in line:
            assert not re.search(r"inferbook[\w.]*\._|import _|, _", line), line
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    links = re.findall(r"\]\((\.\./site/entries/[^)]+)\)", "\n".join(markdown))
    assert links and all(re.fullmatch(r"\.\./site/entries/[a-z]+/[a-z0-9.-]+\.html", link) for link in links)
    assert "../site/entries/models/llama-3.1-8b-instruct.html" in links or tool == "api-tour"
    # numbers a reader sees come from code: no multi-digit figures typed into the prose
    prose = "\n".join(line for text in markdown for line in text.splitlines() if not line.startswith("- ["))
    assert not re.search(r"\d{3,}|\d[.,]\d", prose), prose


# source files --------------------------------------------------------------------------------
def test_every_source_file_is_a_tool():
    names = {p.name for p in resources.files(gen.SOURCES).iterdir() if p.name.endswith(".py")}
    assert names - {"__init__.py"} == set(gen.TOOLS.values())
    assert all(gen.TOOLS[tool] == tool.replace("-", "_") + ".py" for tool in TOOLS)


@pytest.mark.parametrize("tool", TOOLS)
def test_notebook_cells_come_from_the_source_file(kb, tool):
    """The source file parses into cells, and the notebook has the same cells: code cells copied
    unchanged but for the parameters cell, Markdown unchanged but for the links it fills in."""
    text = gen.source_text(tool)
    compile(text, gen.TOOLS[tool], "exec")
    cells = gen.source_cells(tool)
    assert cells[0].kind == "markdown" and cells[0].source.startswith("# ")
    assert [c.tags for c in cells if c.tags] == [("parameters",)]
    assert all(c.source and c.source == c.source.strip("\n") for c in cells)
    assert not any(line.startswith("# %%") for c in cells for line in c.source.splitlines())
    nb = gen.notebook(tool, model="qwen3-8b", gpu="l40s", fmt="fp8-e4m3", kb=kb)
    closing = nb.cells[len(cells):]  # the exercises the generator adds after the source's cells
    assert not closing or closing[0].source.startswith("## Exercises from the handbook")
    for made, cell in zip(nb.cells[:len(cells)], cells, strict=True):
        assert made.cell_type == cell.kind
        if cell.directive == "links":
            assert re.fullmatch(r"[^\n]+:\n\n(- \[[^\n]+\]\(\.\./site/entries/[^)]+\)\n?)+", made.source)
        elif "parameters" in cell.tags:
            assert made.metadata.tags == ["parameters"]
            assert 'MODEL = "qwen3-8b"' in made.source and made.source != cell.source
        else:
            assert made.source == cell.source
    links = "\n".join(c.source for c in nb.cells)
    assert "../site/entries/models/qwen3-8b.html" in links or tool == "api-tour"


def test_parameters_cell_takes_the_case(kb):
    source = gen.parameters_cell(gen.source_cells("quantization-impact")).source
    case = gen.Case("qwen3-8b", "l40s", "fp8-e4m3", "int4", ("/data/kb",))
    text, values = gen.parameters_for(kb, case, source)
    defaults = gen.parameter_defaults("quantization-impact")
    assert values == {**defaults, "MODEL": "qwen3-8b", "GPU": "l40s", "FORMAT": "fp8-e4m3", "KV_DTYPE": "int4",
                      "KB": ["/data/kb"], "FORMATS": [f for f in defaults["FORMATS"] if f in kb.formats]}
    lines = text.splitlines()
    assert lines[0] == source.splitlines()[0] and len(lines) == len(source.splitlines())
    assert 'KV_DTYPE = "int4"' in text and 'KB = ["/data/kb"]' in text and "TP = None" in text
    columns = {line.index("  # ") for line in lines if "  # " in line and not line.startswith("#")}
    assert len(columns) == 1  # the comments stay aligned
    tour = gen.parameters_for(kb, case, gen.parameters_cell(gen.source_cells("api-tour")).source)[1]
    assert tour["ENTRY"] == kb.resolve("kv-cache") and set(tour) == {"MODEL", "GPU", "ENTRY", "KB"}


def test_parse_cells_reads_the_percent_format():
    text = ('"""What it shows."""\n\n# %% [markdown]\n# # Title\n#\n# Text.\n\n# %% [markdown] links\n# Read:\n'
            '# - concepts/{X}\n\n# %% tags=["parameters", "x"]\nX = 1\n\n# %%\ndef f():\n\n    return X\n\n\n')
    cells = gen.parse_cells(text)
    assert cells == [gen.SourceCell("markdown", "# Title\n\nText."),
                     gen.SourceCell("markdown", "Read:\n- concepts/{X}", directive="links"),
                     gen.SourceCell("code", "X = 1", ("parameters", "x")),
                     gen.SourceCell("code", "def f():\n\n    return X")]


@pytest.mark.parametrize(("text", "message"), [
    ("x = 1\n# %%\ny = 2\n", "code before the first"),
    ("# %% [markdown]\n# fine\nnot a comment\n", "s.py:3: a Markdown cell holds only"),
    ("# %% [markdown] linkz\n# - a\n", "s.py:1: unknown cell directive 'linkz'"),
    ("# %% links\n# - a\n", "unknown cell directive 'links'"),
    ("# %% tags=[parameters]\nX = 1\n", "s.py:1: tags must be a JSON list"),
    ("# %% [markdown] two words\n", "s.py:1: cannot read the cell marker"),
])
def test_parse_cells_rejects_malformed_sources(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        gen.parse_cells(text, "s.py")


def test_links_point_at_existing_entries(built, kb):
    for path in built.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            for title, kind, eid in re.findall(r"\[([^\]]+)\]\(\.\./site/entries/([a-z]+)/([^)]+)\.html\)",
                                               cell.source):
                assert kb.kind_of(eid) == kind and kb.get(eid).title.replace("[", "(").replace("]", ")") == title


def test_build_is_deterministic(built, tmp_path):
    [again] = build(["notebooks"], out=tmp_path)
    for path in built.glob("*.ipynb"):
        assert (again / path.name).read_bytes() == path.read_bytes(), path.name
    text = (again / "roofline.ipynb").read_text()
    assert text.endswith("}\n") and json.loads(text)["metadata"]["kernelspec"]["name"] == "python3"


def test_defaults_fall_back_to_first_ids(kb):
    case = gen.default_case(kb)
    assert (case.model, case.gpu, case.fmt) == ("llama-3.1-8b-instruct", "h100-sxm", "bf16")

    class Without:
        """The real knowledge base with the default ids hidden."""

        def __init__(self, inner):
            self.models = {k: v for k, v in inner.models.items() if k != gen.DEFAULT_MODEL}
            self.gpus = {k: v for k, v in inner.gpus.items() if k != gen.DEFAULT_GPU}

    fallback = gen.default_case(Without(kb))
    assert fallback.model == min(k for k in kb.models if k != gen.DEFAULT_MODEL)
    assert fallback.gpu == min(k for k, g in kb.gpus.items()
                               if k != gen.DEFAULT_GPU and (g.dense.bf16_tflops or g.dense.fp16_tflops))


# execution ---------------------------------------------------------------------------
@pytest.mark.notebook
@pytest.mark.parametrize("name", TOOLS + [f"{t}-{m}" for t, m, _, _ in EXTRA_CASES])
def test_notebook_executes_without_errors(executed, name):
    nb, error = executed[name]
    assert error is None, f"{name}: {error}"
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.data]
    assert images or name == "api-tour", "expected at least one figure"


def _case(kb):
    model, gpu = kb.models["llama-3.1-8b-instruct"], kb.gpus["h100-sxm"]
    fmt = kb.formats[model.native_dtype]
    return model, gpu, fmt, native_groups(model, dict(kb.formats)) or None


@pytest.mark.notebook
def test_kv_cache_numbers(executed, kb):
    text = printed(executed, "kv-cache")
    model, gpu, fmt, groups = _case(kb)
    arch = model.architecture
    assert f"KV bytes per token (bf16): {kv_bytes_per_token(arch, 16):,.0f}" in text
    batch = kv_bytes(arch, KV["CONTEXT"], 16, batch=KV["BATCH"])
    assert f"{KV['BATCH']} sequences x {KV['CONTEXT']:,} tokens in bf16: {batch.bytes_unique / GIB:,.2f} GiB" in text
    cap = capacity(arch, gpu, fmt, 16, tp=1, groups=groups)
    assert f"= {cap.kv_tokens:,} tokens" in text
    gemma = kb.models["gemma-3-27b-it"].architecture
    assert f"KV bytes per token (bf16): {kv_bytes_per_token(gemma, 16):,.0f}" in text_of(
        executed["kv-cache-gemma-3-27b-it"][0])


@pytest.mark.notebook
def test_memory_and_fit_numbers(executed, kb):
    text = printed(executed, "memory-and-fit")
    model, gpu, fmt, groups = _case(kb)
    cap = capacity(model.architecture, gpu, fmt, 16, tp=1, groups=groups)
    assert f"holds {cap.kv_tokens:,} tokens" in text
    w = weight_bytes(model.architecture, fmt, groups=groups)
    assert f"weights in bf16: {w.total_bytes / GIB:,.2f} GiB in total" in text
    options = fit_options(model, fmt, kb.gpus.values(), FIT["CONTEXT"], FIT["CONCURRENCY"], 16, groups=groups)
    assert f"{sum(o.fits for o in options)} of {len(options)} configurations serve" in text
    lite = kb.models["deepseek-v2-lite"]
    cap = capacity(lite.architecture, kb.gpus["l40s"], kb.formats["fp8-e4m3"], 16, tp=1)
    assert f"holds {cap.kv_tokens:,} tokens" in printed(executed, "memory-and-fit-deepseek-v2-lite")


@pytest.mark.notebook
def test_roofline_numbers(executed, kb):
    text = printed(executed, "roofline")
    model, gpu, fmt, groups = _case(kb)
    roof = Roofline(model.architecture, gpu, fmt, 16, 1, groups=groups)
    step = roof.decode_step(1, ROOF["INPUT_TOKENS"] + ROOF["OUTPUT_TOKENS"] // 2).seconds
    assert f"decode at batch 1: {step * 1e3:.3f} ms per step, {1 / step:,.1f} tokens/s" in text
    prefill = roof.prefill(ROOF["INPUT_TOKENS"]).seconds
    assert f"prefill of {ROOF['INPUT_TOKENS']:,} tokens: {prefill * 1e3:,.2f} ms" in text


def _simulated(kb):
    model, gpu, fmt, groups = _case(kb)
    arch = model.architecture
    cap = capacity(arch, gpu, fmt, 16, tp=1, groups=groups)
    inputs = Lengths("lognormal", mean=SIM["INPUT_MEAN"], high=SIM["INPUT_MEAN"] * 8)
    outputs = Lengths("lognormal", mean=SIM["OUTPUT_MEAN"], high=SIM["OUTPUT_MEAN"] * 8)
    requests = workload(SIM["REQUESTS"], SIM["RATE"], inputs, outputs, seed=SIM["SEED"])
    steps = step_model(Roofline(arch, gpu, fmt, 16, 1, groups=groups))
    return simulate(requests, steps, SimConfig(max_batch=SIM["MAX_BATCH"], kv_capacity_tokens=cap.kv_tokens))


@pytest.mark.notebook
def test_batching_simulator_numbers(executed, kb):
    text = printed(executed, "batching-simulator")
    s = _simulated(kb).summary()
    assert f"continuous: TTFT p99 {s.ttft.p99:.4f} s, TPOT p50 {s.tpot.p50 * 1e3:.3f} ms" in text
    assert f"{s.output_token_throughput:,.1f} output tokens/s" in text


@pytest.mark.notebook
def test_latency_metrics_numbers(executed, kb):
    text = printed(executed, "latency-metrics")
    s = _simulated(kb).summary()
    assert f"simulated TTFT p50 {s.ttft.p50:.4f} s, p99 {s.ttft.p99:.4f} s" in text
    records = [RequestRecord(0.0, 0.2, 0.4, 500, 5), RequestRecord(0.1, 0.6, 0.64, 2000, 3),
               RequestRecord(0.5, 0.7, 0.70 + 0.03 * 19, 300, 20)]
    assert f"mean TPOT per request:             {summarize(records).tpot.mean * 1e3:.2f} ms" in text
    assert f"mean TPOT per token:               {summarize(records, average='token').tpot.mean * 1e3:.2f} ms" in text


@pytest.mark.notebook
def test_quantization_numbers(executed, kb):
    text = printed(executed, "quantization-impact")
    model, gpu, _, _ = _case(kb)
    for fid in ("bf16", "fp8-e4m3", "awq-int4"):
        w = weight_bytes(model.architecture, kb.formats[fid])
        line = next(line for line in text.splitlines() if line.startswith(f"{fid} "))
        assert f"{w.total_bytes / GIB:7.2f}Gi" in line, line
    for dtype in ("bf16", "fp8-e4m3", "int4"):
        bits = kv_dtype_bits(dtype, kb.formats)
        cap = capacity(model.architecture, gpu, kb.formats["bf16"], bits)
        assert f"{kv_bytes_per_token(model.architecture, bits):12,.0f} {cap.kv_tokens:12,}" in text


@pytest.mark.notebook
def test_gpu_comparison_numbers(executed, kb):
    text = printed(executed, "gpu-comparison")
    model, gpu, fmt, groups = _case(kb)
    roof = Roofline(model.architecture, gpu, fmt, 16, 1, groups=groups)
    assert f"h100-sxm: 1 GPU(s), {roof.decode_throughput(1, GPUS['CONTEXT']):,.1f} tokens/s at batch 1" in text


@pytest.mark.notebook
def test_api_tour_numbers(executed, kb):
    text = printed(executed, "api-tour")
    assert f"{len(kb)} entries, data version {kb.data_version}" in text
    assert f"graph: {kb.graph.number_of_nodes()} nodes, {kb.graph.number_of_edges()} edges" in text


@pytest.mark.notebook
def test_moe_roofline_case(executed, kb):
    model = kb.models["gpt-oss-20b"]
    fmt = kb.formats[model.native_dtype]
    roof = Roofline(model.architecture, kb.gpus["h100-sxm"], fmt, 16, 1,
                    groups=native_groups(model, dict(kb.formats)) or None)
    step = roof.decode_step(1, ROOF["INPUT_TOKENS"] + ROOF["OUTPUT_TOKENS"] // 2).seconds
    assert f"decode at batch 1: {step * 1e3:.3f} ms per step" in printed(executed, "roofline-gpt-oss-20b")


# the CLI -------------------------------------------------------------------------------
def test_cli_writes_a_prefilled_notebook(capsys, tmp_path):
    out = tmp_path / "sub" / "fit.ipynb"
    code = main(["notebook", "memory-and-fit", "--model", "Qwen3 8B", "--gpu", "l40s", "--format", "fp8-e4m3",
                 "--out", str(out)])
    stdout, _ = capsys.readouterr()
    assert code == 0 and stdout.strip() == str(out)
    nb = nbformat.read(out, as_version=4)
    params = parameters_of(nb)
    assert 'MODEL = "qwen3-8b"' in params and 'GPU = "l40s"' in params and 'FORMAT = "fp8-e4m3"' in params
    assert dict(nb.metadata.inferbook) == {"tool": "memory-and-fit", "model": "qwen3-8b", "gpu": "l40s",
                                           "format": "fp8-e4m3", "data_version": inferbook.load().data_version}
    assert "../site/entries/models/qwen3-8b.html" in out.read_text()


def test_cli_default_name_and_kb_folders(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["notebook", "kv-cache", "--kb", str(ROOT / "kb")]) == 0
    path = tmp_path / "kv-cache-llama-3.1-8b-instruct-h100-sxm.ipynb"
    assert capsys.readouterr().out.strip() == path.name
    params = parameters_of(nbformat.read(path, as_version=4))
    assert f"KB = [{json.dumps(str(ROOT / 'kb'))}]" in params


@pytest.mark.parametrize(("argv", "message"), [
    (["notebook", "roofline", "--model", "no-such-model"], "unknown model 'no-such-model'"),
    (["notebook", "roofline", "--gpu", "llama-3.1-8b-instruct"], "unknown GPU 'llama-3.1-8b-instruct'"),
    (["notebook", "roofline", "--format", "fp7"], "unknown format 'fp7'"),
    (["notebook", "rooflines"], "unknown notebook 'rooflines'; choose one of: kv-cache,"),
])
def test_cli_bad_input_is_one_line(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith(f"inferbook notebook: {message}")
    assert not list(tmp_path.iterdir())


# the wheel, without the repository ---------------------------------------------------------
# Slow tier, 15-30 s here with the wheel build: a fresh virtualenv with the wheel, ipykernel and
# nbclient installed by pip, then a kernel started in it.
@pytest.mark.notebook
@pytest.mark.wheel
def test_notebook_runs_from_the_wheel_alone(built, tmp_path, wheel):
    """Install the wheel with only a kernel and nbclient into a fresh virtualenv, and
    execute the KV-cache notebook from a folder outside the repository."""
    env_dir = tmp_path / "venv"
    python = venv_with(env_dir, f"{wheel}[notebooks]", "ipykernel", "nbclient")  # notebooks need their extra
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(built / "kv-cache.ipynb", elsewhere / "kv-cache.ipynb")
    script = (
        "import json, nbformat\n"
        "from nbclient import NotebookClient\n"
        "nb = nbformat.read('kv-cache.ipynb', as_version=4)\n"
        "NotebookClient(nb, timeout=120, kernel_name='python3', resources={'metadata': {'path': '.'}}).execute()\n"
        "out = ''.join(o.get('text', '') for c in nb.cells for o in c.get('outputs', []))\n"
        "print(json.dumps({'text': out, 'errors': [o.ename for c in nb.cells for o in c.get('outputs', [])\n"
        "                                            if o.output_type == 'error']}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "MPLBACKEND")}
    env["JUPYTER_PATH"] = str(kernelspec_dir(tmp_path / "jupyter", str(python)))
    probe = subprocess.run([str(python), "-c", "import inferbook, json; print(json.dumps(inferbook.__file__))"],
                           cwd=elsewhere, env=env, check=True, capture_output=True, text=True)
    assert str(env_dir) in json.loads(probe.stdout) and str(ROOT) not in json.loads(probe.stdout)
    run = subprocess.run([str(python), "-c", script], cwd=elsewhere, env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["errors"] == []
    arch = inferbook.load().models["llama-3.1-8b-instruct"].architecture
    assert f"KV bytes per token (bf16): {kv_bytes_per_token(arch, 16):,.0f}" in result["text"]


def test_notebooks_close_with_the_handbook_exercises():
    """Each notebook ends with worked problems from the entries it links: a code cell that prints
    the question with the loaded data, and one that computes the answer with the handbook's own
    expression (so every number a reader sees still comes from code)."""
    import inferbook
    from inferbook.expressions import Evaluator

    kb = inferbook.load()
    nb = gen.notebook("kv-cache", kb=kb)
    heading = next(i for i, c in enumerate(nb.cells) if c.source.startswith("## Exercises from the handbook"))
    rest = nb.cells[heading + 1:]
    assert len(rest) % 3 == 0 and 3 <= len(rest) <= 3 * gen.MAX_EXERCISES
    first = kb.get("kv-cache").exercises[0]
    assert rest[0].cell_type == "markdown" and "](../site/entries/concepts/kv-cache.html)" in rest[0].source
    namespace: dict = {"kb": kb}
    printed: list = []
    namespace["print"] = printed.append
    for cell in rest[1:3]:
        assert cell.cell_type == "code"
        exec(compile(cell.source, "<cell>", "exec"), namespace)  # our own generated cells
    evaluator = Evaluator(kb)
    assert printed == [evaluator.render(first.question.strip()), evaluator.evaluate(first.answer)]
