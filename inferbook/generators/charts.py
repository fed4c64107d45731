"""Charts drawn from the knowledge base as standalone SVG (no plotting library,
deterministic output): KV cache against context, GPU rooflines, weight memory by
format. An article places one as a figure (`chart: roofline`), on the site and in the PDF."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from ..calc import kv_bytes, weight_bytes
from ..calc.capacity import GIB
from ..kb import KnowledgeBase
from ..render import sanitize

PALETTE = ("#0b5cad", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0f766e", "#a16207")
KV_MODELS = ("llama-3.1-8b-instruct", "llama-3.1-70b-instruct", "qwen3-8b", "gemma-3-27b-it",
             "mistral-7b-instruct-v0.1", "deepseek-v3")
ROOFLINE_GPUS = ("h100-sxm", "a100-sxm-80gb", "l40s", "mi300x", "b200")
MEMORY_MODEL = "llama-3.1-70b-instruct"
MEMORY_FORMATS = ("bf16", "fp8-e4m3", "int8", "awq-int4", "nvfp4", "gguf-q8-0", "gguf-q4-k-m", "gguf-q2-k")


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[float, float]]


@dataclass(frozen=True)
class Chart:
    """An SVG figure and its caption."""

    id: str
    title: str
    caption: str
    svg: str


def _log_ticks(lo: float, hi: float) -> list[float]:
    ticks = []
    e = math.floor(math.log10(lo))
    while 10**e <= hi * 1.0001:
        if 10**e >= lo / 1.0001:
            ticks.append(10.0**e)
        e += 1
    return ticks


def _fmt(v: float) -> str:
    if v >= 1000:
        return f"{v / 1000:g}k" if v < 1e6 else f"{v / 1e6:g}M"
    return f"{v:g}"


GRID = 'stroke="currentColor" opacity="0.2"'
"""Grid lines: the text colour, faint (charts follow the page's theme)."""


def line_chart(series: Sequence[Series], x_label: str, y_label: str, title: str, log_x: bool = True,
               log_y: bool = True, width: int = 640, height: int = 380) -> str:
    """A log-log (or linear) line chart with a legend."""
    left, right, top, bottom = 70, 170, 30, 50
    xs = [x for s in series for x, _ in s.points]
    ys = [y for s in series for _, y in s.points if y > 0]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    fx = (lambda v: math.log10(v)) if log_x else (lambda v: v)
    fy = (lambda v: math.log10(max(v, 1e-30))) if log_y else (lambda v: v)

    def px(v: float) -> float:
        return left + (fx(v) - fx(x0)) / ((fx(x1) - fx(x0)) or 1) * (width - left - right)

    def py(v: float) -> float:
        return height - bottom - (fy(v) - fy(y0)) / ((fy(y1) - fy(y0)) or 1) * (height - top - bottom)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" class="chart">',
             f'<text x="{left}" y="18" font-size="14" font-weight="bold" fill="currentColor">{escape(title)}</text>']
    for t in (_log_ticks(x0, x1) if log_x else [x0, (x0 + x1) / 2, x1]):
        parts.append(f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{top}" y2="{height - bottom}" {GRID}/>')
        parts.append(f'<text x="{px(t):.1f}" y="{height - bottom + 16}" font-size="11" text-anchor="middle" '
                     f'fill="currentColor">{_fmt(t)}</text>')
    for t in (_log_ticks(y0, y1) if log_y else [y0, (y0 + y1) / 2, y1]):
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{py(t):.1f}" y2="{py(t):.1f}" {GRID}/>')
        parts.append(f'<text x="{left - 6}" y="{py(t) + 4:.1f}" font-size="11" text-anchor="end" '
                     f'fill="currentColor">{_fmt(t)}</text>')
    parts.append(f'<text x="{(left + width - right) / 2:.0f}" y="{height - 12}" font-size="12" text-anchor="middle" '
                 f'fill="currentColor">{escape(x_label)}</text>')
    mid = (top + height - bottom) / 2
    parts.append(f'<text x="16" y="{mid:.0f}" font-size="12" text-anchor="middle" '
                 f'fill="currentColor" transform="rotate(-90 16 {mid:.0f})">{escape(y_label)}</text>')
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in s.points if y > 0)
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
        ly = top + 14 + i * 18
        parts.append(f'<line x1="{width - right + 10}" x2="{width - right + 28}" y1="{ly - 4}" y2="{ly - 4}" '
                     f'stroke="{color}" stroke-width="3"/>')
        parts.append(f'<text x="{width - right + 32}" y="{ly}" font-size="11" fill="currentColor">'
                     f'{escape(s.label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(bars: Sequence[tuple[str, float]], unit: str, title: str, width: int = 640) -> str:
    """A horizontal bar chart with value labels."""
    row, left, top = 26, 130, 30
    height = top + row * len(bars) + 20
    vmax = max(v for _, v in bars) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" class="chart">',
             f'<text x="4" y="18" font-size="14" font-weight="bold" fill="currentColor">{escape(title)}</text>']
    for i, (label, value) in enumerate(bars):
        y = top + i * row
        w = (width - left - 90) * value / vmax
        parts.append(f'<text x="{left - 6}" y="{y + 15}" font-size="12" text-anchor="end" fill="currentColor">'
                     f'{escape(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{PALETTE[0]}"/>')
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 15}" font-size="12" fill="currentColor">'
                     f'{value:,.1f} {escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def kv_chart(kb: KnowledgeBase) -> Chart | None:
    contexts = [1024 * 2**i for i in range(9)]  # 1k .. 256k
    series = []
    for mid in KV_MODELS:
        if mid not in kb.models:
            continue
        arch = kb.models[mid].architecture
        pts = [(c, kv_bytes(arch, c, 16).bytes_unique / GIB) for c in contexts if c <= arch.context_length]
        series.append(Series(kb.models[mid].title, pts))
    if not series:
        return None
    svg = line_chart(series, "context (tokens)", "KV cache per sequence (GiB, BF16)", "KV cache vs context length")
    return Chart("chart-kv", "KV cache vs context length",
                 "KV cache of one sequence in BF16 by context length. GQA keeps Llama 3.1 8B at 128 KiB per token; "
                 "MLA keeps DeepSeek-V3 smaller per token than models a tenth its size; sliding-window layers "
                 "flatten Gemma 3 and Mistral 7B v0.1 once the context passes their window.", svg)


def roofline_chart(kb: KnowledgeBase) -> Chart | None:
    series = []
    intensities = [2**i for i in range(-2, 13)]
    for gid in ROOFLINE_GPUS:
        if gid not in kb.gpus:
            continue
        g = kb.gpus[gid]
        peak = (g.dense.bf16_tflops or g.dense.fp16_tflops)
        if peak is None:
            continue
        bw = g.memory_bandwidth_gb_s.value / 1000  # TB/s: TFLOPS per FLOP/byte
        series.append(Series(g.title.replace("NVIDIA ", "").replace("AMD Instinct ", ""),
                             [(ai, min(peak.value, bw * ai)) for ai in intensities]))
    if not series:
        return None
    svg = line_chart(series, "arithmetic intensity (FLOP per byte)", "attainable TFLOPS (BF16 dense)",
                     "Roofline of selected accelerators")
    return Chart("chart-roofline", "Roofline of selected accelerators",
                 "Attainable dense BF16 throughput against arithmetic intensity: bandwidth-bound on the slope, "
                 "compute-bound on the flat part. Decode at small batch sits far left of every ridge point.", svg)


def memory_chart(kb: KnowledgeBase) -> Chart | None:
    if MEMORY_MODEL not in kb.models:
        return None
    model = kb.models[MEMORY_MODEL]
    bars = [(fid, weight_bytes(model.architecture, kb.formats[fid]).total_bytes / 1e9)
            for fid in MEMORY_FORMATS if fid in kb.formats]
    svg = bar_chart(bars, "GB", f"Weight memory of {model.title} by format")
    return Chart("chart-memory", f"Weight memory of {model.title} by format",
                 "Weights in GB (10^9 bytes) per format, including block scales; embeddings and the output head "
                 "stay 16-bit except in GGUF files.", svg)


CHART_MAKERS = {"kv-growth": kv_chart, "roofline": roofline_chart, "weights-by-format": memory_chart}
"""The charts a figure may name (`schema.articles.CHARTS`), each drawn from the data."""


def chart_svg(kb: KnowledgeBase, name: str) -> str:
    """One named chart, sanitized, or "" when the data cannot draw it."""
    chart = CHART_MAKERS[name](kb)
    return sanitize(chart.svg) if chart is not None else ""
