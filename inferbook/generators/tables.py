"""Lookup tables for the site's tools and for anyone with a spreadsheet:
JSON and CSV per table, and a manifest with versions, commit and hashes.
Every value is computed by `inferbook.calc` from the knowledge base."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..calc import count_params, kv_bytes, kv_bytes_per_token, kv_dtype_bits, weight_bytes
from ..calc.capacity import GIB
from ..calc.fit import fit_options, smallest_group
from ..calc.roofline import Roofline, step_model
from ..calc.weights import native_groups
from ..kb import KnowledgeBase
from ..paths import project_root
from ..version import __version__

KV_DTYPES = ("bf16", "fp8-e4m3", "int4")
CONTEXTS = (4096, 8192, 32768, 131072)
WEIGHT_FORMATS = ("bf16", "fp8-e4m3", "nvfp4", "awq-int4", "gguf-q8-0", "gguf-q4-k-m")
BATCHES = (1, 8, 32, 128)
FIT_CONTEXT, FIT_CONCURRENCY = 8192, 16

Row = dict[str, Any]


def _num(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def _q(quantity: Any) -> float | None:
    return None if quantity is None else quantity.value


def gpu_table(kb: KnowledgeBase) -> list[Row]:
    rows = []
    for gid, g in sorted(kb.gpus.items()):
        d = g.dense
        rows.append({
            "id": gid, "title": g.title, "vendor": g.vendor, "architecture": g.architecture,
            "form_factor": g.form_factor, "market": g.market, "release_date": g.release_date,
            "memory_gib": _q(g.memory_gib), "memory_type": g.memory_type,
            "memory_bandwidth_gb_s": _q(g.memory_bandwidth_gb_s),
            "dense_fp32_tflops": _q(d.fp32_tflops), "dense_tf32_tflops": _q(d.tf32_tflops),
            "dense_bf16_tflops": _q(d.bf16_tflops), "dense_fp16_tflops": _q(d.fp16_tflops),
            "dense_fp8_tflops": _q(d.fp8_tflops), "dense_fp4_tflops": _q(d.fp4_tflops),
            "dense_int8_tops": _q(d.int8_tops), "tdp_w": _q(g.tdp_w),
            "interconnect_gb_s": _q(g.interconnect.bandwidth_gb_s), "source": g.source,
        })
    return rows


def model_table(kb: KnowledgeBase) -> list[Row]:
    rows = []
    for mid, m in sorted(kb.models.items()):
        a = m.architecture
        p = count_params(a)
        rows.append({
            "id": mid, "title": m.title, "organization": m.organization, "family": m.family,
            "release_date": m.release_date, "license": m.license, "hf_repo": m.hf_repo,
            "params_total_b": _q(m.params_total_b), "params_active_b": _q(m.params_active_b),
            "params_computed_b": _num(p.total / 1e9), "active_computed_b": _num(p.active / 1e9),
            "layers": a.layers, "hidden_size": a.hidden_size, "attention_heads": a.attention_heads,
            "kv_heads": a.kv_heads, "head_dim": a.head_dim, "attention": a.attention,
            "layer_pattern": "/".join(a.layer_pattern), "sliding_window": a.sliding_window,
            "context_length": a.context_length, "vocab_size": a.vocab_size,
            "experts": a.moe.experts if a.moe else None,
            "experts_per_token": a.moe.experts_per_token if a.moe else None,
            "native_dtype": m.native_dtype, "kv_bytes_per_token_bf16": kv_bytes_per_token(a, 16),
        })
    return rows


def kv_table(kb: KnowledgeBase) -> list[Row]:
    rows = []
    for mid, m in sorted(kb.models.items()):
        a = m.architecture
        for dtype in KV_DTYPES:
            bits = kv_dtype_bits(dtype, kb.formats)
            row: Row = {"model": mid, "kv_dtype": dtype, "bytes_per_token": kv_bytes_per_token(a, bits)}
            for ctx in CONTEXTS:
                fits = ctx <= a.context_length
                row[f"gib_per_seq_{ctx}"] = _num(kv_bytes(a, ctx, bits).bytes_unique / GIB) if fits else None
            rows.append(row)
    return rows


def weights_table(kb: KnowledgeBase) -> list[Row]:
    rows = []
    formats = [f for f in WEIGHT_FORMATS if f in kb.formats]
    for mid, m in sorted(kb.models.items()):
        for fid in sorted({*formats, m.native_dtype}):
            groups = native_groups(m, dict(kb.formats)) if fid == m.native_dtype else None
            w = weight_bytes(m.architecture, kb.formats[fid], groups=groups)
            rows.append({"model": mid, "format": fid, "native": fid == m.native_dtype,
                         "bits_per_weight": kb.formats[fid].effective_bits_per_weight,
                         "bytes": round(w.total_bytes), "gib": _num(w.total_bytes / GIB),
                         "gb": _num(w.total_bytes / 1e9)})
    return rows


def fit_matrix(kb: KnowledgeBase) -> list[Row]:
    """Fewest GPUs (1 to 64, laid out by `parallel_layout`) that serve 16 sequences of 8,192 tokens
    in the native format; where none does, why the largest configuration cannot run."""
    rows = []
    for mid, m in sorted(kb.models.items()):
        fmt = kb.formats[m.native_dtype]
        groups = native_groups(m, dict(kb.formats)) or None
        for gid, g in sorted(kb.gpus.items()):
            options = fit_options(m, fmt, [g], FIT_CONTEXT, FIT_CONCURRENCY, groups=groups)
            best = options[0] if options else None
            fit = best if best is not None and best.fits else None
            fits = fit is not None
            rows.append({"model": mid, "gpu": gid, "format": fmt.id, "context": FIT_CONTEXT,
                         "concurrency": FIT_CONCURRENCY, "feasible": fits,
                         "min_gpus": fit.count if fit is not None else None, "tp": fit.tp if fit is not None else None,
                         "pp": fit.pp if fit is not None else None,
                         "reason": "" if fits else (max(options, key=lambda o: o.count).reason if options
                                                    else "no split of the model's heads suits this GPU")})
    return rows


ROOFLINE_CONTEXT = 2048


def roofline_table(kb: KnowledgeBase) -> list[Row]:
    """Decode step time and throughput per model x GPU x format at several batch sizes (context
    2,048 tokens, TP = the fewest GPUs of one scale-up domain on which one sequence can run).
    A batch or a whole setup that cannot run has `feasible: false`, its reason, and no figures."""
    rows = []
    formats = [f for f in ("bf16", "fp8-e4m3", "awq-int4") if f in kb.formats]
    for mid, m in sorted(kb.models.items()):
        for gid, g in sorted(kb.gpus.items()):
            if g.dense.bf16_tflops is None and g.dense.fp16_tflops is None:
                continue
            for fid in formats:
                fmt = kb.formats[fid]
                smallest, result = smallest_group(m, g, fmt, ROOFLINE_CONTEXT)
                tp = smallest or 1
                model = step_model(Roofline(m.architecture, g, fmt, 16.0, tp)) if result.feasible else None
                fits = result.max_sequences or 0.0
                for b in BATCHES:
                    row: Row = {"model": mid, "gpu": gid, "format": fid, "tp": tp, "batch": b,
                                "context": ROOFLINE_CONTEXT, "feasible": False, "step_ms": None,
                                "tokens_per_s": None, "reason": result.summary()}
                    if model is not None and b > fits:
                        row["reason"] = f"only {int(fits):,} sequences of {ROOFLINE_CONTEXT:,} tokens fit"
                    elif model is not None:
                        ctx = ROOFLINE_CONTEXT
                        win = ctx if model.window is None else min(ctx, model.window)
                        step = model.seconds(b, b, b * ctx, b * win if model.window else 0, b * ctx,
                                             b * win if model.window else 0)
                        row.update(feasible=True, step_ms=_num(step * 1e3), tokens_per_s=_num(b / step, 1), reason="")
                    rows.append(row)
    return rows


def accuracy_table(kb: KnowledgeBase) -> list[Row]:
    """Every published measurement next to the calculators' prediction (speeds held out)."""
    from ..calc.accuracy import compare_cached

    rows = []
    for c in compare_cached(kb):
        m, source = c.published.m, c.published.source
        rows.append({"id": m.id, "metric": m.metric, "statistic": m.statistic, "model": m.model, "gpu": m.gpu,
                     "gpus": m.gpus, "engine": m.engine, "engine_version": m.engine_version, "measured": m.value,
                     "predicted": _num(c.predicted), "error": _num(c.error), "within_target": c.within_target,
                     "held_out": c.held_out, "calibration_point": c.calibration_point, "reason": c.reason,
                     "url": source.url, "quote": m.quote})
    return rows


def provenance_table(kb: KnowledgeBase) -> list[Row]:
    """Every number of the reference data with the source that vouches for it."""
    from ..provenance import all_number_sources

    return [{"entry": r.entry_id, "field": r.field, "value": _num(r.value, 6), "source": r.source_id,
             "secondary": r.secondary, "alternatives": r.alternatives} for r in all_number_sources(kb)]


def _data_day(kb: KnowledgeBase) -> dt.date | None:
    """The knowledge base's data date (prices are judged stale against it), None when it has none."""
    try:
        return dt.date.fromisoformat(kb.data_date)
    except ValueError:
        return None


def offer_table(kb: KnowledgeBase) -> list[Row]:
    """GPU rental offers with the per-GPU-hour price the planner ranks by, and the date each was checked."""
    from ..calc.pricing import STALE_AFTER_DAYS, price_age_days

    today = _data_day(kb)
    rows = []
    for oid, o in sorted(kb.offers.items()):
        per_gpu = o.gpu_hour_usd()
        rows.append({
            "id": oid, "title": o.title, "provider": o.provider, "provider_kind": o.provider_kind,
            "instance": o.instance, "gpu": o.gpu, "gpu_count": o.gpu_count,
            "rentable_counts": "/".join(str(n) for n in o.rentable_counts), "quoted_per": o.quoted_per,
            "on_demand_usd_per_hour": o.on_demand_usd_per_hour, "reserved_usd_per_hour": o.reserved_usd_per_hour,
            "reserved_term": o.reserved_term, "spot_usd_per_hour": o.spot_usd_per_hour,
            "usd_per_gpu_hour": _num(per_gpu) if per_gpu is not None else None,
            "region": o.region, "checked": o.checked.isoformat(),
            "stale": None if today is None else price_age_days(o, today) > STALE_AFTER_DAYS, "source": o.source,
        })
    return rows


TABLES: dict[str, Callable[[KnowledgeBase], list[Row]]] = {
    "gpus": gpu_table, "models": model_table, "offers": offer_table, "kv_cache": kv_table, "weights": weights_table,
    "fit_matrix": fit_matrix, "roofline": roofline_table, "accuracy": accuracy_table,
    "provenance": provenance_table,
}


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula."""
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as data, never runs as a formula.

    Numbers (int, float, bool) are written as they are, so -0.5 stays a number. Every other
    value is text: when it begins with =, +, -, @, a tab or a carriage return it gets a leading
    single quote (OWASP's advice), unless the whole text is a plain decimal number such as
    "-0.5", which no spreadsheet can run. Carriage returns become line feeds, which the CSV
    writer always quotes (it does not quote a lone CR when lines end in LF, and a spreadsheet
    would start a new row, and so a new first cell, there). None becomes an empty cell."""
    if value is None:
        return ""
    if isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        text = "'" + text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def csv_text(rows: list[Row]) -> str:
    """Rows as CSV (header from the first row's keys), every cell through `spreadsheet_safe`.
    Every CSV file the project writes goes through here."""
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writerow({k: spreadsheet_safe(k) for k in rows[0]})
        for row in rows:
            writer.writerow({k: spreadsheet_safe(v) for k, v in row.items()})
    return buf.getvalue()


def git_commit() -> str:
    """The checkout's commit, or "unknown" outside a git checkout."""
    root = project_root()
    if root is None:
        return "unknown"
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 else "unknown"


def json_rows(rows: list[dict[str, Any]]) -> str:
    """A JSON array with one row per line: easy to diff and to read a row of, and written by the
    json module's C encoder (an indented dump goes through its pure-Python one, seconds slower)."""
    if not rows:
        return "[]\n"
    return "[\n" + ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n]\n"


def build_tables(kb: KnowledgeBase, out: Path) -> None:
    """Write every table as JSON and CSV, then manifest.json."""
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, Any]] = {}
    for name, make in TABLES.items():
        rows = make(kb)
        json_text = json_rows(rows)
        for suffix, text in ((".json", json_text), (".csv", csv_text(rows))):
            path = out / f"{name}{suffix}"
            path.write_text(text, encoding="utf-8")
            files[path.name] = {"sha256": hashlib.sha256(text.encode()).hexdigest(), "rows": len(rows)}
    manifest = {"package_version": __version__, "data_version": kb.data_version, "data_date": kb.data_date,
                "commit": git_commit(), "files": files,
                "settings": {"kv_dtypes": KV_DTYPES, "contexts": CONTEXTS, "weight_formats": WEIGHT_FORMATS,
                             "batches": BATCHES, "fit_context": FIT_CONTEXT, "fit_concurrency": FIT_CONCURRENCY}}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
