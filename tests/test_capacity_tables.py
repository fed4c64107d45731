"""Capacity and fit, the lookup tables, and the atomic, locked build."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time

import pytest
import yaml
from conftest import write_kb
from test_calc import LLAMA_31_8B

from inferbook.calc.capacity import GIB, EngineConfig, capacity, max_concurrency
from inferbook.calc.fit import fit_options
from inferbook.generators import TARGETS, build, build_lock
from inferbook.schema import Format, Gpu, LlmModel

REVIEWED = dt.date(2026, 1, 1)

H100_LIKE = Gpu.model_validate({
    "id": "h100-like", "title": "An 80 GiB GPU", "vendor": "nvidia", "architecture": "hopper", "form_factor": "sxm",
    "market": "datacenter", "release_date": "2022", "source": "s", "memory_gib": 80, "memory_type": "HBM3",
    "memory_bandwidth_gb_s": 3350, "dense": {"bf16_tflops": 989.5}, "last_reviewed": REVIEWED})
SMALL = H100_LIKE.model_copy(
    update={"id": "small", "memory_gib": H100_LIKE.memory_gib.model_copy(update={"value": 24})})
BF16 = Format.model_validate({"id": "bf16", "title": "bf16", "summary": "Sixteen-bit brain float.",
                              "category": "float", "bits_per_value": 16, "effective_bits_per_weight": 16,
                              "sources": ["s"], "last_reviewed": REVIEWED})
MODEL = LlmModel.model_validate({
    "id": "m", "title": "Llama-like 8B", "family": "x", "organization": "x", "release_date": "2024",
    "license": "x", "hf_repo": "x/y", "params_total_b": 8.03, "architecture": LLAMA_31_8B.model_dump(),
    "native_dtype": "bf16", "config_source": "s", "source": "s", "last_reviewed": REVIEWED})


def test_capacity_budget_arithmetic():
    cap = capacity(LLAMA_31_8B, H100_LIKE, BF16)
    assert cap.usable_bytes == pytest.approx(80 * GIB * 0.9889)
    assert cap.budget_bytes == pytest.approx(cap.usable_bytes * 0.9)
    assert cap.weights_bytes == 8_030_261_248 * 2
    assert cap.kv_space_bytes == pytest.approx(cap.budget_bytes - cap.weights_bytes - cap.activation_bytes
                                               - cap.other_bytes)
    assert cap.kv_tokens % 16 == 0
    assert cap.kv_tokens == int(cap.kv_space_bytes / 131_072) // 16 * 16
    assert max_concurrency(LLAMA_31_8B, cap, 8192) == pytest.approx(cap.kv_space_bytes / 2**30)
    lower = capacity(LLAMA_31_8B, H100_LIKE, BF16, cfg=EngineConfig(gpu_memory_utilization=0.5))
    assert lower.kv_tokens < cap.kv_tokens
    with pytest.raises(ValueError, match="must divide"):
        capacity(LLAMA_31_8B, H100_LIKE, BF16, tp=3)
    with pytest.raises(ValueError):
        EngineConfig(gpu_memory_utilization=1.5)


def test_fit_ranks_fewest_gpus_then_cost():
    options = fit_options(MODEL, BF16, [SMALL, H100_LIKE], context=8192, concurrency=16,
                          prices={"small": 0.5, "h100-like": 3.0})
    fitting = [(o.gpu, o.count) for o in options if o.fits]
    assert fitting[0] == ("h100-like", 1)          # one big GPU beats two small ones
    assert ("small", 1) not in fitting               # 16 GB of weights + 16 GiB of KV do not fit in 24 GiB
    assert ("small", 2) in fitting
    two = [o for o in options if o.fits and o.count == 2]
    assert [o.gpu for o in two] == ["small", "h100-like"]  # same count: cheaper first
    assert next(o for o in options if o.gpu == "small" and o.count == 1).reason.startswith(
        "a batch of 16 sequences of 8,192 tokens needs more KV cache than fits: only 1 fit")
    with pytest.raises(ValueError):
        fit_options(MODEL, BF16, [SMALL], context=0, concurrency=1)


def _yaml(model) -> str:
    data = json.loads(model.model_dump_json(exclude_defaults=True).replace('"s"', '"src"'))
    data["last_reviewed"] = REVIEWED
    return yaml.safe_dump(data)


def _tables_kb(tmp_path):
    files = {"gpus/h100-like.yaml": _yaml(H100_LIKE), "formats/bf16.yaml": _yaml(BF16), "models/m.yaml": _yaml(MODEL)}
    return write_kb(tmp_path / "kb", files)


def test_tables_build_with_manifest(tmp_path):
    kb_dir = _tables_kb(tmp_path)
    [out] = build(["tables"], kb=kb_dir, out=tmp_path / "build")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["data_version"] and manifest["files"]["kv_cache.csv"]["rows"] == 3
    kv = json.loads((out / "kv_cache.json").read_text())
    assert kv[0] == {"model": "m", "kv_dtype": "bf16", "bytes_per_token": 131072.0, "gib_per_seq_4096": 0.5,
                     "gib_per_seq_8192": 1.0, "gib_per_seq_32768": 4.0, "gib_per_seq_131072": 16.0}
    fit = json.loads((out / "fit_matrix.json").read_text())
    assert fit == [{"model": "m", "gpu": "h100-like", "format": "bf16", "context": 8192, "concurrency": 16,
                    "feasible": True, "min_gpus": 1, "tp": 1, "pp": 1, "reason": ""}]
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    build(["tables"], kb=kb_dir, out=tmp_path / "build")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first  # byte-identical rebuild


def test_failed_build_leaves_previous_output(tmp_path, monkeypatch):
    kb_dir = _tables_kb(tmp_path)
    out_dir = tmp_path / "build"
    build(["tables"], kb=kb_dir, out=out_dir)
    before = {p.name: p.read_bytes() for p in (out_dir / "tables").iterdir()}

    def broken(kb, out):
        (out / "gpus.json").write_text("half")
        raise RuntimeError("injected failure")

    monkeypatch.setitem(TARGETS, "tables", broken)
    with pytest.raises(RuntimeError, match="injected"):
        build(["tables"], kb=kb_dir, out=out_dir)
    assert {p.name: p.read_bytes() for p in (out_dir / "tables").iterdir()} == before
    assert sorted(p.name for p in out_dir.iterdir()) == [".lock", "tables"]  # no staging left


def test_builds_wait_for_each_other(tmp_path):
    events = []

    def hold():
        with build_lock(tmp_path):
            events.append("a-start")
            time.sleep(0.3)
            events.append("a-end")

    t = threading.Thread(target=hold)
    t.start()
    time.sleep(0.05)
    with build_lock(tmp_path):
        events.append("b")
    t.join()
    assert events == ["a-start", "a-end", "b"]


def test_calculator_commands(tmp_path, capsys):
    from inferbook.cli import main

    kb = str(_tables_kb(tmp_path))
    assert main(["kv", "m", "--kb", kb, "--context", "8192", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["bytes_per_token"] == 131072 and data["bytes_unique"] == 2**30
    assert main(["fit", "m", "--kb", kb, "--concurrency", "8", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["options"][0]["gpu"] == "h100-like"
    assert main(["roofline", "m", "h100-like", "--kb", kb, "--batch", "1", "64", "--json"]) == 0
    roof = json.loads(capsys.readouterr().out)
    assert [r["batch"] for r in roof["decode"]] == [1, 64] and roof["prefill_ms"] > 0
    assert main(["simulate", "m", "h100-like", "--kb", kb, "--requests", "50", "--json"]) == 0
    sim = json.loads(capsys.readouterr().out)
    assert sim["requests"] == 50 and sim["ttft"]["p50"] > 0
    trace = tmp_path / "trace.csv"
    trace.write_text("arrival,input_tokens,output_tokens\n0,10,oops\n")
    assert main(["simulate", "m", "h100-like", "--kb", kb, "--trace", str(trace)]) == 1  # bad input data
    assert "trace.csv:2" in capsys.readouterr().err
    for argv in (["kv", "nope", "--kb", kb], ["kv", "h100-like", "--kb", kb],  # not found: 1, like show
                 ["fit", "m", "--kb", kb, "--format", "fp3"]):
        assert main(argv) == 1, argv
        assert "Traceback" not in capsys.readouterr().err
    assert main(["roofline", "m", "h100-like", "--kb", kb, "--tp", "3"]) == 1  # infeasible split: 1
    assert "tensor parallelism 3 does not divide the 32 attention heads" in capsys.readouterr().err
    for argv in (["kv", "m", "--kb", kb, "--context", "-5"], ["kv", "m", "--kb", kb, "--tp", "0"]):
        with pytest.raises(SystemExit) as refused:  # argparse refuses the value itself
            main(argv)
        assert refused.value.code == 2, argv
        assert "Traceback" not in capsys.readouterr().err
