"""Browser tests of the GPU teaching widgets: the SM explorer and the warp-scheduler visualiser (embedded on
the gpu-architecture entry), the memory-hierarchy explorer and the GPU execution map (on memory-hierarchy).

Every number a widget shows is recomputed here from the knowledge base with the same formulas (chip totals of
a GPU's compute_units block, the roofline's decode-step bytes, blocks and waves of a decode GEMM) and compared;
the warp-scheduler simulation is run under Node and compared cycle by cycle with a Python reference written
for this test. Each widget's infeasible state shows its reasons, and the main control works by keyboard.

Fixtures and helpers come from tests/test_site_tools.py (the session's site build served on 127.0.0.1, driven
in Debian's chromium; a page fails its test on any console error or failed request)."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import test_site_tools as tools
from test_site_tools import open_tool, ready, set_fields, text, value

from inferbook.calc.feasibility import Setup, check_setup
from inferbook.calc.roofline import Roofline
from inferbook.calc.weights import native_groups

pytestmark = pytest.mark.browser

site, browser, page, kb = tools.site, tools.browser, tools.page, tools.kb

ROOT = Path(__file__).resolve().parent.parent
WARP_JS = ROOT / "generators" / "site" / "static" / "js" / "tools" / "warp-scheduler.js"
H100, L8 = "h100-sxm", "llama-3.1-8b-instruct"
MIB, GIB = 2**20, 2**30


# helpers --------------------------------------------------------------------------
def reasons(page: Any, name: str, block: str) -> list[str]:
    """The reasons a tool shows in place of a block of figures (the message must be visible)."""
    message = page.locator(f"#tool-{name} [data-infeasible='{block}']")
    assert message.is_visible(), f"{name}: no reasons shown for {block}"
    assert message.get_attribute("role") == "status"
    return [li.strip() for li in message.locator("li").all_text_contents()]


def title(page: Any, name: str, block: str) -> str:
    return page.locator(f"#tool-{name} [data-infeasible='{block}'] .infeasible-title").text_content().strip()


def figures_hidden(page: Any, name: str, block: str) -> bool:
    figures = page.locator(f"#tool-{name} [data-figures='{block}']")
    return figures.is_hidden() and figures.locator("[data-value]").count() == 0


def with_units(kb: Any) -> list[str]:
    return sorted(gid for gid, g in kb.gpus.items() if g.compute_units is not None)


def simulate(warps: int, compute: int, latency: int, cycles: int) -> dict[str, Any]:
    """Python reference of the widget's scheduler: every warp runs `compute` instructions (one per cycle when
    picked), the last of which issues a load; the warp is then away for `latency` cycles. Each cycle the scheduler
    picks the warp it issued last if that one is ready, else the next ready warp after it in cyclic order."""
    ready_at = [0] * warps
    left = [compute] * warps
    rows: list[list[str]] = [[] for _ in range(warps)]
    issued: list[int] = []
    current = -1
    for t in range(cycles):
        candidates = [current] if current >= 0 else []
        candidates += [(current + i) % warps for i in range(1, warps + 1)]
        pick = next((w for w in candidates if w >= 0 and ready_at[w] <= t), -1)
        for w in range(warps):
            rows[w].append("I" if w == pick else "R" if ready_at[w] <= t else "S")
        if pick >= 0:
            left[pick] -= 1
            if left[pick] == 0:
                left[pick] = compute
                ready_at[pick] = t + 1 + latency
            current = pick
        issued.append(pick)
    busy = sum(1 for w in issued if w >= 0)
    return {"rows": ["".join(r) for r in rows], "issued": issued, "issuedCycles": busy, "utilisation": busy / cycles,
            "warpsToHide": 1 + latency / compute,
            "steadyUtilisation": min(1.0, warps * compute / (compute + latency))}


def gemm(kb: Any, model: str, layer: str, batch: int) -> tuple[int, int, int, float]:
    """(M, N, K, bits per weight) of one layer's decode GEMM, from the model's architecture and native format."""
    m = kb.models[model]
    a = m.architecture
    attn, kv, h = a.attention_heads * a.head_dim, a.kv_heads * a.head_dim, a.hidden_size
    groups = native_groups(m, dict(kb.formats))
    fmt = kb.formats[m.native_dtype]
    if layer in ("q", "k", "v", "o"):
        bits = groups.get("attention", fmt).effective_bits_per_weight
        q = attn * (2 if a.attention_output_gate else 1)  # the output gate doubles the q projection
        n, k = {"q": (q, h), "k": (kv, h), "v": (kv, h), "o": (h, attn)}[layer]
        return batch, n, k, bits
    if a.moe:
        rows = math.ceil(batch * a.moe.experts_per_token / a.moe.experts)  # tokens one expert gets on average
        inter, group = a.moe.expert_intermediate_size, "experts"
    else:
        assert a.intermediate_size is not None
        inter, rows, group = a.intermediate_size, batch, "dense_ffn"
    bits = groups.get(group, fmt).effective_bits_per_weight
    return (rows, inter, h, bits) if layer == "up" else (rows, h, inter, bits)


# the SM explorer ------------------------------------------------------------------
def test_sm_explorer_totals_match_the_data(page: Any, kb: Any) -> None:
    open_tool(page, "sm-explorer")
    gids = with_units(kb)
    assert len(gids) >= 10
    for gid in gids:
        set_fields(page, "sm-explorer", gpu=gid)
        cu = kb.gpus[gid].compute_units
        assert text(page, "sm-explorer", "a-title").startswith(f"{kb.gpus[gid].title}: {cu.count:,} ")
        expect = {"registers": cu.register_file_kib, "shared": cu.shared_memory_kib, "l1": cu.l1_shared_kib,
                  "warps": cu.max_warps_per_unit, "matrix": cu.matrix_units_per_unit}
        for key, per in expect.items():
            cell = page.locator(f"#tool-sm-explorer [data-out='a-{key}']")
            if per is None:
                assert cell.count() == 0, (gid, key)
            else:
                assert value(page, "sm-explorer", f"a-{key}") == pytest.approx(cu.count * per), (gid, key)
        if cu.max_warps_per_unit is not None and cu.warp_size is not None:
            assert value(page, "sm-explorer", "a-threads") == cu.count * cu.max_warps_per_unit * cu.warp_size
        if cu.l2_cache_mib is not None:
            assert value(page, "sm-explorer", "a-l2") == cu.l2_cache_mib
        # one scheduler box per scheduler, each with its share of the registers
        svg = page.locator("#tool-sm-explorer [data-out='a-diagram'] svg")
        label = svg.get_attribute("aria-label")
        assert kb.gpus[gid].title in label
        if cu.schedulers_per_unit and cu.register_file_kib:
            share = cu.register_file_kib / cu.schedulers_per_unit
            assert svg.locator("text", has_text=f"{share:g} KiB regs").count() == cu.schedulers_per_unit
    # H100 SXM against the whitepaper figures it cites: 132 SMs x 256 KiB of registers = 33 MiB
    set_fields(page, "sm-explorer", gpu=H100)
    assert value(page, "sm-explorer", "a-registers") == 132 * 256
    assert value(page, "sm-explorer", "a-threads") == 132 * 64 * 32


def test_sm_explorer_compares_and_refuses(page: Any, kb: Any) -> None:
    open_tool(page, "sm-explorer")
    assert page.locator("#tool-sm-explorer [data-col='b']").is_hidden()
    set_fields(page, "sm-explorer", gpu=H100, compare="mi300x")
    mi = kb.gpus["mi300x"].compute_units
    assert page.locator("#tool-sm-explorer [data-col='b']").is_visible()
    assert value(page, "sm-explorer", "b-registers") == mi.count * mi.register_file_kib
    assert value(page, "sm-explorer", "b-llc") == mi.last_level_cache_mib
    assert value(page, "sm-explorer", "a-registers") == 132 * 256
    # a GPU without compute_units: the reason, no drawing, and the other column unharmed
    without = next(gid for gid in ("b200", "l40s", "h200-sxm") if kb.gpus[gid].compute_units is None)
    set_fields(page, "sm-explorer", gpu=without)
    assert title(page, "sm-explorer", "a") == f"No published SM data for {kb.gpus[without].title}:"
    assert "compute_units" in reasons(page, "sm-explorer", "a")[0]
    assert figures_hidden(page, "sm-explorer", "a")
    assert value(page, "sm-explorer", "b-registers") == mi.count * mi.register_file_kib
    # back: the drawing returns
    set_fields(page, "sm-explorer", gpu=H100, compare="")
    assert page.locator("#tool-sm-explorer [data-figures='a']").is_visible()
    assert page.locator("#tool-sm-explorer [data-col='b']").is_hidden()


def test_sm_explorer_keyboard(page: Any, kb: Any) -> None:
    open_tool(page, "sm-explorer")
    select = page.locator("#tool-sm-explorer select[name='gpu']")
    select.focus()
    before = select.input_value()
    page.keyboard.press("ArrowDown")
    ready(page, "sm-explorer")
    after = select.input_value()
    assert after != before
    g = kb.gpus[after]
    if g.compute_units is not None:
        assert text(page, "sm-explorer", "a-title").startswith(g.title)
    else:
        assert title(page, "sm-explorer", "a") == f"No published SM data for {g.title}:"


# the warp scheduler ---------------------------------------------------------------
CASES = [(1, 4, 20, 48), (4, 4, 20, 48), (6, 4, 20, 120), (3, 2, 7, 30), (5, 3, 0, 25), (16, 1, 30, 200),
         (7, 5, 13, 97), (2, 1, 1, 10), (8, 10, 400, 400)]


def test_warp_scheduler_js_matches_the_python_reference(tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node, "Node.js (`node` on PATH) is required to check the widget's simulation"
    runner = tmp_path / "run.mjs"
    runner.write_text(
        "globalThis.document = { querySelectorAll: () => [] };\n"  # the module mounts itself on import
        f"const m = await import({json.dumps(WARP_JS.as_uri())});\n"
        f"const cases = {json.dumps(CASES)};\n"
        "console.log(JSON.stringify(cases.map(([warps, compute, latency, cycles]) =>\n"
        "  m.simulateScheduler({ warps, compute, latency, cycles }))));\n", encoding="utf-8")
    proc = subprocess.run([node, str(runner)], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(proc.stdout)
    for case, got in zip(CASES, results, strict=True):
        want = simulate(*case)
        assert got["rows"] == want["rows"], case
        assert got["issued"] == want["issued"], case
        for key in ("issuedCycles", "utilisation", "warpsToHide", "steadyUtilisation"):
            assert got[key] == pytest.approx(want[key], rel=1e-12), (case, key)
    # enough warps keep the scheduler busy once running: the steady state reaches 1
    hidden = simulate(6, 4, 20, 240)
    assert all(w >= 0 for w in hidden["issued"][48:])
    assert simulate(5, 4, 20, 240)["issued"][48:].count(-1) > 0


def test_warp_scheduler_page(page: Any, kb: Any) -> None:
    open_tool(page, "warp-scheduler")
    set_fields(page, "warp-scheduler", gpu=H100, warps=4, compute=4, latency=20, cycles=48)
    want = simulate(4, 4, 20, 48)
    assert value(page, "warp-scheduler", "utilisation") == pytest.approx(want["utilisation"])
    assert value(page, "warp-scheduler", "warps-needed") == 6
    cells = page.locator("#tool-warp-scheduler [data-out='grid'] svg rect")
    assert cells.count() == 4 * 48
    issue = page.locator("#tool-warp-scheduler [data-out='grid'] svg rect.ws-issue").count()
    assert issue == want["issuedCycles"]
    assert "up to 16 on this one" in text(page, "warp-scheduler", "limit")
    # keyboard: Reset, then Step twice, by Enter and Space on the buttons
    page.locator("#tool-warp-scheduler button[data-action='reset']").focus()
    page.keyboard.press("Enter")
    assert text(page, "warp-scheduler", "cycle").startswith("Cycle 0 of 48")
    assert cells.count() == 0
    page.keyboard.press("Shift+Tab")  # Pause is disabled and skipped: Reset -> Play -> Step
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.dataset.action") == "step"
    page.keyboard.press("Enter")
    page.keyboard.press("Space")
    assert text(page, "warp-scheduler", "cycle").startswith("Cycle 2 of 48")
    assert cells.count() == 4 * 2
    # Play advances on its own; Pause stops it
    page.locator("#tool-warp-scheduler button[data-action='play']").focus()
    page.keyboard.press("Enter")
    for _ in range(100):  # the page's CSP forbids wait_for_function's eval: poll instead
        if int(text(page, "warp-scheduler", "cycle").split()[1]) >= 4:
            break
        page.wait_for_timeout(50)
    assert int(text(page, "warp-scheduler", "cycle").split()[1]) >= 4
    page.keyboard.press("Enter")  # focus moved to Pause
    stopped = text(page, "warp-scheduler", "cycle")
    page.wait_for_timeout(400)
    assert text(page, "warp-scheduler", "cycle") == stopped


def test_warp_scheduler_refuses_more_warps_than_slots(page: Any, kb: Any) -> None:
    open_tool(page, "warp-scheduler")
    cu = kb.gpus[H100].compute_units
    per = cu.max_warps_per_unit // cu.schedulers_per_unit
    set_fields(page, "warp-scheduler", gpu=H100, warps=per + 1)
    assert title(page, "warp-scheduler", "sched").startswith(f"{per + 1} warps do not fit on one scheduler")
    assert reasons(page, "warp-scheduler", "sched")[0] == (
        f"One SM holds at most {cu.max_warps_per_unit} warps, shared by its {cu.schedulers_per_unit} schedulers: "
        f"{per} per scheduler.")
    assert figures_hidden(page, "warp-scheduler", "sched")
    set_fields(page, "warp-scheduler", warps=per)
    assert value(page, "warp-scheduler", "utilisation") > 0
    # an AMD CU: 32 wavefront slots over 4 SIMDs
    mi = kb.gpus["mi300x"].compute_units
    set_fields(page, "warp-scheduler", gpu="mi300x", warps=mi.max_warps_per_unit // mi.schedulers_per_unit + 1)
    assert "per scheduler" in reasons(page, "warp-scheduler", "sched")[0]
    # a GPU whose entry gives no warp slots
    bare = next(gid for gid in with_units(kb) if kb.gpus[gid].compute_units.max_warps_per_unit is None)
    set_fields(page, "warp-scheduler", gpu=bare, warps=2)
    assert title(page, "warp-scheduler", "sched") == f"No warp-slot limit for {kb.gpus[bare].title}:"


# the memory hierarchy -------------------------------------------------------------
def decode_bytes(kb: Any, model: str, gpu: str, batch: int, context: int, kv: str = "bf16") -> tuple[float, float]:
    """(total, weights) bytes the roofline says one decode step reads on one GPU."""
    m = kb.models[model]
    groups = native_groups(m, dict(kb.formats)) or None
    r = Roofline(m.architecture, kb.gpus[gpu], kb.formats[m.native_dtype], float(kb.formats[kv].bits_per_value), 1,
                 groups=groups)
    return r.decode_step(batch, context).bytes_read, r.weight_bytes_per_gpu(r.experts_touched_fraction(batch))


def test_memory_hierarchy_levels_and_decode(page: Any, kb: Any) -> None:
    open_tool(page, "memory-hierarchy")
    set_fields(page, "memory-hierarchy", gpu=H100, model=L8, kv="bf16", batch=8, context=4096)
    g = kb.gpus[H100]
    cu = g.compute_units
    assert value(page, "memory-hierarchy", "size-registers") == cu.count * cu.register_file_kib * 1024
    assert value(page, "memory-hierarchy", "size-shared") == cu.count * cu.l1_shared_kib * 1024
    assert value(page, "memory-hierarchy", "size-l2") == cu.l2_cache_mib * MIB
    assert value(page, "memory-hierarchy", "size-memory") == g.memory_gib.value * GIB
    assert value(page, "memory-hierarchy", "bw-memory") == g.memory_bandwidth_gb_s.value * 1e9
    assert value(page, "memory-hierarchy", "bw-host") == 128e9  # "PCIe Gen5 x16 (128 GB/s)"
    assert value(page, "memory-hierarchy", "bw-peers") == g.interconnect.bandwidth_gb_s.value * 1e9
    assert value(page, "memory-hierarchy", "size-peers") == (g.interconnect.domain_gpus - 1) * g.memory_gib.value * GIB
    # no register, shared-memory or L2 bandwidth is in the data, so none is shown
    for key in ("registers", "shared", "l2"):
        assert page.locator(f"#tool-memory-hierarchy [data-out='bw-{key}']").count() == 0
    assert page.locator("#tool-memory-hierarchy .mh-missing", has_text="not in the data").count() >= 4
    total, weights = decode_bytes(kb, L8, H100, 8, 4096)
    assert value(page, "memory-hierarchy", "step-bytes") == pytest.approx(total, rel=1e-9)
    assert text(page, "memory-hierarchy", "step-bytes") == f"{tools.js_fmt(total / 1e9, 2)} GB"
    assert f"weights {tools.js_fmt(weights / 1e9, 2)} GB" in text(page, "memory-hierarchy", "step-detail")
    ratio = total / (cu.l2_cache_mib * MIB)
    assert value(page, "memory-hierarchy", "l2-ratio") == pytest.approx(ratio, rel=1e-9)
    assert ratio > 100  # a real model's step never fits in L2
    # a mixture-of-experts model reads only the experts its tokens touch
    moe = "qwen3-30b-a3b-thinking-2507"
    set_fields(page, "memory-hierarchy", model=moe, batch=4, context=2048)
    total, weights = decode_bytes(kb, moe, H100, 4, 2048)
    assert value(page, "memory-hierarchy", "step-bytes") == pytest.approx(total, rel=1e-9)
    assert "mixture-of-experts" in text(page, "memory-hierarchy", "explain")
    # a GPU without compute_units: memory and links only, the L2 ratio unknown
    set_fields(page, "memory-hierarchy", gpu="l40s", model=L8, batch=1, context=1024)
    assert page.locator("#tool-memory-hierarchy [data-out='size-registers']").count() == 0
    assert value(page, "memory-hierarchy", "bw-host") == 64e9  # "PCIe Gen4 x16 (64 GB/s bidirectional)"
    assert page.locator("#tool-memory-hierarchy [data-out='bw-peers']").count() == 0
    assert text(page, "memory-hierarchy", "l2-ratio") == "–"


def test_memory_hierarchy_refuses_what_cannot_run(page: Any, kb: Any) -> None:
    open_tool(page, "memory-hierarchy")
    set_fields(page, "memory-hierarchy", gpu="rtx-4090", model="llama-3.1-70b-instruct", kv="bf16", batch=1,
               context=4096)
    m = kb.models["llama-3.1-70b-instruct"]
    want = check_setup(Setup(m, kb.gpus["rtx-4090"], kb.formats[m.native_dtype], kv=kb.formats["bf16"], kv_bits=16.0,
                             context=4096, sequences=1, groups=native_groups(m, dict(kb.formats)) or None))
    assert not want.feasible
    assert reasons(page, "memory-hierarchy", "step") == want.reasons
    assert figures_hidden(page, "memory-hierarchy", "step")
    # the memory levels stay: they need no model
    assert value(page, "memory-hierarchy", "size-memory") == kb.gpus["rtx-4090"].memory_gib.value * GIB
    set_fields(page, "memory-hierarchy", model=L8)
    assert page.locator("#tool-memory-hierarchy [data-figures='step']").is_visible()


def test_memory_hierarchy_keyboard(page: Any) -> None:
    open_tool(page, "memory-hierarchy")
    field = page.locator("#tool-memory-hierarchy input[name='batch']")
    field.focus()
    before = value(page, "memory-hierarchy", "step-bytes")
    page.keyboard.press("ArrowUp")  # batch 8 -> 9: one more sequence's KV cache
    ready(page, "memory-hierarchy")
    assert field.input_value() == "9"
    assert value(page, "memory-hierarchy", "step-bytes") > before


# the GPU execution map ------------------------------------------------------------
def waves(m: int, n: int, tile: int, units: int, per_unit: int) -> tuple[int, int, float]:
    blocks = math.ceil(m / tile) * math.ceil(n / tile)
    slots = units * per_unit
    count = math.ceil(blocks / slots)
    return blocks, count, (blocks - (count - 1) * slots) / slots


@pytest.mark.parametrize(("model", "layer", "batch", "tile", "per_sm", "gpu"), [
    (L8, "up", 8, 128, 1, H100),
    (L8, "down", 300, 64, 2, H100),
    (L8, "k", 1, 64, 1, "a100-sxm-80gb"),
    ("llama-3.1-70b-instruct", "o", 64, 256, 1, "mi300x"),
    ("qwen3-30b-a3b-thinking-2507", "up", 64, 128, 1, H100),
    ("qwen3.5-27b", "q", 16, 128, 3, "rtx-4090"),
])
def test_gpu_execution_map_blocks_and_waves(page: Any, kb: Any, model: str, layer: str, batch: int, tile: int,
                                            per_sm: int, gpu: str) -> None:
    open_tool(page, "gpu-execution-map")
    set_fields(page, "gpu-execution-map", model=model, layer=layer, batch=batch, tile=tile, per_sm=per_sm, gpu=gpu)
    m, n, k, bits = gemm(kb, model, layer, batch)
    blocks, count, tail = waves(m, n, tile, kb.gpus[gpu].compute_units.count, per_sm)
    assert value(page, "gpu-execution-map", "gemm-m") == m
    assert value(page, "gpu-execution-map", "gemm-n") == n
    assert value(page, "gpu-execution-map", "gemm-k") == k
    assert value(page, "gpu-execution-map", "blocks") == blocks
    assert value(page, "gpu-execution-map", "waves") == count
    assert value(page, "gpu-execution-map", "tail") == pytest.approx(tail, rel=1e-12)
    assert value(page, "gpu-execution-map", "weight-bytes") == pytest.approx(k * n * bits / 8, rel=1e-12)
    drawn = page.locator("#tool-gpu-execution-map [data-out='chart'] svg rect:not(.gx-empty)").count()
    assert drawn == min(blocks, 1024)
    assert page.locator("#tool-gpu-execution-map [data-out='chart'] svg rect.gx-tail").count() == min(
        blocks, 1024) - min((count - 1) * kb.gpus[gpu].compute_units.count * per_sm, 1024)


def test_gpu_execution_map_refuses(page: Any, kb: Any) -> None:
    open_tool(page, "gpu-execution-map")
    # multi-head latent attention has no plain q/k/v/o GEMM
    set_fields(page, "gpu-execution-map", model="deepseek-v3", layer="q", gpu=H100)
    assert "multi-head latent attention" in reasons(page, "gpu-execution-map", "map")[0]
    assert figures_hidden(page, "gpu-execution-map", "map")
    set_fields(page, "gpu-execution-map", layer="up")
    assert page.locator("#tool-gpu-execution-map [data-figures='map']").is_visible()
    # a GPU without compute_units
    without = next(gid for gid in ("b200", "l40s", "h200-sxm") if kb.gpus[gid].compute_units is None)
    set_fields(page, "gpu-execution-map", model=L8, gpu=without)
    assert reasons(page, "gpu-execution-map", "map")[0].startswith(
        f"No published SM data for the {kb.gpus[without].title}")


def test_gpu_execution_map_keyboard(page: Any, kb: Any) -> None:
    open_tool(page, "gpu-execution-map")
    set_fields(page, "gpu-execution-map", model=L8, layer="up", batch=8, tile=128, per_sm=1, gpu=H100)
    tile = page.locator("#tool-gpu-execution-map select[name='tile']")
    tile.focus()
    page.keyboard.press("ArrowUp")  # 128 -> 64
    ready(page, "gpu-execution-map")
    assert tile.input_value() == "64"
    m, n, _, _ = gemm(kb, L8, "up", 8)
    assert value(page, "gpu-execution-map", "blocks") == waves(m, n, 64, 132, 1)[0]


# embedded on their entry pages ----------------------------------------------------
@pytest.mark.parametrize(("entry", "names"), [("gpu-architecture", ("sm-explorer", "warp-scheduler")),
                                              ("memory-hierarchy", ("memory-hierarchy", "gpu-execution-map"))])
def test_embedded_on_entry_pages(page: Any, entry: str, names: tuple[str, ...]) -> None:
    page.goto(f"{page.base}entries/concepts/{entry}.html")
    for name in names:
        ready(page, name)
        assert page.locator(f"section.embedded-tool#tool-{name}").count() == 1
