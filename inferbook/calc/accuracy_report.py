"""docs/accuracy.md: the held-out errors of `calibration.json` and the peers' own figures, as
Markdown. Written by ``python -m inferbook.calc.calibrate --write``; a test keeps the file
equal to what this module renders, so no figure in it is typed by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[2] / "docs" / "accuracy.md"

NOT_MODELLED = (
    "Speculative decoding and multi-token prediction are in the model (`predict` takes them) but no fitted "
    "measurement uses them: those rows are left out of the fit and listed as skipped.",
    "Pipeline parallelism is timed as one pass through every stage; the overlap of micro-batches across stages "
    "is not modelled, so pipeline throughput is underestimated.",
    "KV-cache capacity leaves out the workspace of MoE and FP8 kernels, CUDA-graph memory and decode context "
    "parallelism; the capacity misses in `tests/test_accuracy.py` name each case.",
    "Prefix caching, random length distributions (a run is simulated at its mean lengths) and SGLang's separate "
    "prefill batches.",
    "Engine versions: each engine has one profile (`engine_profiles.yaml`), its newest defaults, unless the "
    "source states a setting.",
    "Disaggregated serving is simulated (two pools and the KV transfer) but was never measured here, so its "
    "answers are labelled estimated.",
    "Attention data parallelism (TensorRT-LLM's enable_attention_dp, SGLang's DP attention) is modelled for the "
    "measurements that used it and by `predict --attention-dp`, whose groups step together without balancing "
    "prompts; the balanced scheduling of TensorRT-LLM's attention_dp_enable_balance is modelled only for the "
    "measurements that set it.",
    "Cold starts (a first request waiting on compilation), llama.cpp's old row split over several GPUs and "
    "decode context parallelism: such rows are skipped with the reason.",
)


FAR_MISS = 2.0
"""A prediction above ``FAR_MISS`` times the measurement, or below it divided by ``FAR_MISS``, is a far miss;
the accuracy target allows none."""
MISS_PARTITIONS = (("gpu", "held out by GPU"), ("family", "held out by model family"),
                   ("engine", "held out by engine"), ("in-sample", "fitted on every measurement (in-sample)"))
"""The ways `far_misses` counts, in the order the pages list them."""


def far_misses(cal: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """Per way of predicting (a partition held out, or in-sample): (far misses, predictions), from the
    per-case errors of `calibration.json` (error = predicted / measured - 1)."""
    counts: dict[str, tuple[int, int]] = {}
    cases = list(cal.get("cases", {}).values())
    for partition, _ in MISS_PARTITIONS:
        errors = [c.get("in_sample_error") if partition == "in-sample" else c.get("held_out_error", {}).get(partition)
                  for c in cases]
        known = [e for e in errors if e is not None]
        if known:
            far = sum(1 for e in known if 1 + e > FAR_MISS or 1 + e < 1 / FAR_MISS)
            counts[partition] = (far, len(known))
    return counts


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _row(label: str, kinds: dict[str, Any]) -> str:
    cells = [label]
    for kind in ("throughput", "latency"):
        e = kinds.get(kind)
        cells += [_pct(e["median"]), _pct(e["p90"]), str(e["n"])] if e else ["–", "–", "0"]
    return "| " + " | ".join(cells) + " |"


def _reproduce(run: dict[str, Any] | None) -> str:
    """How to rerun the calibration, with what the run that wrote the page took (calibration.json's ``run``)."""
    took = ""
    if run:
        jobs = run["jobs"]
        took = (f", and the run that wrote this page took {round(run['seconds'] / 60)} minutes with "
                f"{jobs} fold{'s' if jobs != 1 else ''} at a time")
    return ("Reproduce: `python -m inferbook.calc.calibrate --jobs 2` (needs `pip install -e .[calibrate]`; every "
            f"held-out refit is a whole fit{took}).")


def render(cal: dict[str, Any], peers: Any) -> str:
    """The Markdown of docs/accuracy.md."""
    cv = cal.get("cv", {})
    fitted = cal.get("fitted_on", {})
    lines = [
        "# How accurate are inferbook's speed predictions?",
        "",
        "<!-- Written by `python -m inferbook.calc.calibrate --write` from inferbook/calc/calibration.json; "
        "do not edit by hand. -->",
        "",
        f"The performance model (`inferbook/calc/perf.py`) is calibrated on {fitted.get('cases', 0)} published "
        f"speed measurements of {len(fitted.get('gpus', []))} GPUs, {len(fitted.get('families', []))} model "
        f"families and {len(fitted.get('engines', []))} engines (`inferbook/calc/measurements/`); at most three "
        "per source, model, GPU count and metric enter each least-squares fit, so one long table does not "
        "outweigh the rest, and every one of them is predicted when its group is held out. Every error below is "
        "**held out**: the model was refitted without the whole group (one GPU, one model family or one engine) "
        "and then asked to predict that group's measurements. None is an in-sample fit. `predict` attaches to each "
        "answer the worst of its GPU's, family's and engine's rows as its error band.",
        "",
        "Each held-out refit is the whole calibration run again on the other measurements alone: from the prior "
        "parameters, over the whole grid of GEMM half-efficiency sizes, with the runs that have Poisson arrivals "
        "simulated again under the refit's own parameters. Nothing in it comes from the fit on all measurements, "
        "so the held-out group shapes none of its parameters. What the groups share is the model's form and its "
        "priors, which were chosen with all the data in view.",
        "",
        "Errors are absolute relative errors, |predicted / measured - 1|: the median and the 90th percentile over "
        "the group's measurements. Throughput rows are output, total and per-GPU tokens per second and requests "
        "per second; latency rows are TTFT, TPOT, ITL, end-to-end latency and llama-bench prefill and decode "
        "rates.",
        "",
        _reproduce(cal.get("run")),
        "",
    ]
    overall = cv.get("overall", {})
    if overall:
        lines += ["## Overall (each measurement predicted with its GPU held out)", "",
                  "| | throughput median | p90 | n | latency median | p90 | n |", "|---|---|---|---|---|---|---|",
                  _row("all GPUs", overall), ""]
    misses = far_misses(cal)
    if misses:
        lines += [f"## Predictions off by more than {FAR_MISS:g}×", "",
                  f"Predictions above {FAR_MISS:g} times the measurement or below 1/{FAR_MISS:g} of it, counted over "
                  "the per-measurement errors of the calibration; the accuracy target allows none. The error bands "
                  "above are medians and 90th percentiles, so they do not show these.", "",
                  "| predicted | far misses | predictions |", "|---|---|---|"]
        lines += [f"| {label} | {misses[key][0]} | {misses[key][1]} |" for key, label in MISS_PARTITIONS
                  if key in misses]
        lines.append("")
    titles = {"gpu": "By GPU held out", "family": "By model family held out", "engine": "By engine held out"}
    for partition, title in titles.items():
        groups = cv.get(f"by_{partition}", {})
        if not groups:
            continue
        lines += [f"## {title}", "", f"| {partition} | throughput median | p90 | n | latency median | p90 | n |",
                  "|---|---|---|---|---|---|---|"]
        lines += [_row(key, kinds) for key, kinds in sorted(groups.items())]
        lines.append("")
    lines += ["## What other predictors publish about themselves", "",
              "Each figure is the peer's own, quoted in `inferbook/calc/peer_accuracy.yaml` with its source. They "
              "are not comparable one to one: medians, means and bounds; whole requests, decode steps or single "
              "kernels; mostly on the authors' own hardware.", "",
              "| predictor | figure | metric | measured on |", "|---|---|---|---|"]
    for p in peers.peers:
        bound = "≤ " if p.bound == "upper" else ""
        lines.append(f"| [{p.name}]({p.url}) | {bound}{p.value_percent:g}% | {p.metric} | {p.measured_on or ''} |")
    for p in peers.not_found:
        lines.append(f"| {p.get('name', '')} | none published | | |")
    lines += ["", "## What is not modelled", ""] + [f"- {item}" for item in NOT_MODELLED]
    skipped = cal.get("skipped", [])
    if skipped:
        lines += ["", f"{len(skipped)} speed measurements could not be predicted and are not in the figures above "
                      "(lengths not stated, speculative decoding, a layout the feasibility check refuses); the "
                      "site's accuracy page lists each with its reason."]
    return "\n".join(lines) + "\n"


def write(cal: dict[str, Any]) -> Path:
    """Render docs/accuracy.md from ``cal`` and the peers' file."""
    from .accuracy import peer_figures

    DOC.write_text(render(cal, peer_figures()), encoding="utf-8")
    return DOC
