"""Scale: synthetic knowledge bases of N entries, and how validation and the site build grow.

A synthetic KB is the real kb/ plus numbered replicas of its entries (`<id>-x<j>`), so
the mix of kinds, the length of bodies, the formulas, FAQs, expressions and links are
those of the handbook. Inside replica j every reference, Markdown link and expression
argument points at replica j's copy of its target when that copy exists (else at the
original), so each replica is a densely linked handbook of its own; chapters are
replicated while chapter numbers stay within the schema's 1-99. The last replica is a
seeded random subset, so N is exact and the mix of kinds stays that of kb/.

    python -m bench.scale --write DIR --entries 5000    # write one synthetic KB
    python -m bench.scale --measure DIR                 # time validate and site build (JSON)
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench.util import ROOT, Row, fmt_s, loglog_slope, memory_dir, scratch

SIZES = (1_000, 5_000, 10_000)
QUICK_SIZES = (1_000, 5_000)
_LINK = re.compile(r"(\]\(\s*<?)([a-z0-9]+(?:[.-][a-z0-9]+)*)(?=[)\s>#])")
_EXPR = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_QUOTED = re.compile(r'"([a-z]+/)?([a-z0-9]+(?:[.-][a-z0-9]+)*)"')


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value.rstrip("\n") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _set(data: Any, path: tuple, value: str) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def _get(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


def _rewrite_prose(text: str, rename: dict[str, str]) -> str:
    text = _LINK.sub(lambda m: m.group(1) + rename.get(m.group(2), m.group(2)), text)

    def expression(m: re.Match[str]) -> str:
        return _QUOTED.sub(lambda q: f'"{q.group(1) or ""}{rename.get(q.group(2), q.group(2))}"', m.group(0))

    return _EXPR.sub(expression, text)


def _walk_strings(data: Any, fn: Any) -> Any:
    """Apply ``fn`` to every prose string under the fields that hold Markdown."""
    for name in ("body", "summary", "notes"):
        if isinstance(data.get(name), str):
            data[name] = fn(data[name])
    for item in data.get("faq", ()) or ():
        for key in ("q", "a"):
            if isinstance(item.get(key), str):
                item[key] = fn(item[key])
    return data


def write_kb(out: Path, entries: int, seed: int = 1) -> Path:
    """Write a synthetic knowledge base of exactly ``entries`` entries (at least the real kb/'s) into ``out``."""
    from inferbook.loader import load_folders
    from inferbook.refs import iter_references

    base = ROOT / "kb"
    result = load_folders([base])
    real = result.entries
    if entries < len(real):
        raise ValueError(f"a synthetic KB holds at least the {len(real)} entries of kb/")
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(base, out)  # replica 0: the real knowledge base, files as they are
    refs = {eid: list(iter_references(le.entry)) for eid, le in real.items()}
    max_chapter = max((le.entry.number for le in real.values() if le.kind == "chapters"), default=0)
    ordered = sorted(real)
    rng = random.Random(seed)
    left, j = entries - len(real), 0
    while left > 0:
        j += 1
        candidates = [eid for eid in ordered
                      if real[eid].kind != "chapters" or max_chapter * (j + 1) <= 99]
        if len(candidates) > left:
            candidates = sorted(rng.sample(candidates, left))
        rename = {eid: f"{eid}-x{j}" for eid in candidates}
        for eid in candidates:
            le = real[eid]
            data = _plain(copy.deepcopy(le.doc.data))
            data["id"] = rename[eid]
            data["title"] = f"{data['title']} (x{j})"
            if data.get("aliases"):
                data["aliases"] = [f"{a} x{j}" for a in data["aliases"]]
            if le.kind == "chapters":
                data["number"] = data["number"] + max_chapter * j
            for ref in refs[eid]:
                try:
                    if _get(data, ref.path) == ref.target and ref.target in rename:
                        _set(data, ref.path, rename[ref.target])
                except (KeyError, IndexError, TypeError):
                    continue
            _walk_strings(data, lambda text, r=rename: _rewrite_prose(text, r))
            text = (f"# yaml-language-server: $schema=../../schema/{le.kind}.schema.json\n"
                    + yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110))
            (out / le.kind / f"{rename[eid]}.yaml").write_text(text, encoding="utf-8")
        left -= len(candidates)
    return out


def measure(folder: Path, repeat: int = 2) -> dict[str, Any]:
    """Cold validation (caches emptied before each try) and the site generator on one KB, in
    this process, best of ``repeat``. The site's accuracy table is timed on its own first: its
    work depends on the published measurements, not on the size of the knowledge base."""
    import inferbook
    from inferbook import loader
    from inferbook.generators.site import build_site
    from inferbook.render import markdown_to_html

    validate_s = site_s = float("inf")
    for _ in range(repeat):
        loader._FILE_CACHE.clear()
        gc.collect()
        start = time.perf_counter()
        checked = inferbook.validate(folder)
        validate_s = min(validate_s, time.perf_counter() - start)
    if not checked.ok or checked.kb is None:
        raise SystemExit(f"synthetic KB has {len(checked.errors)} errors, e.g. {checked.errors[0].render()}")
    kb = checked.kb
    try:
        from inferbook.calc.accuracy import compare_cached
    except ImportError:  # inferbook before the tables and the site shared one accuracy cache
        from inferbook.generators.site import _cached_comparisons as compare_cached  # type: ignore[attr-defined]
    start = time.perf_counter()
    compare_cached(kb)
    accuracy_s = time.perf_counter() - start
    for _ in range(repeat):
        markdown_to_html.cache_clear()
        gc.collect()
        with tempfile.TemporaryDirectory(dir=folder.parent) as tmp:  # beside the KB: in RAM when it is
            start = time.perf_counter()
            build_site(kb, Path(tmp) / "site")
            site_s = min(site_s, time.perf_counter() - start)
            pages = sum(1 for _ in (Path(tmp) / "site").rglob("*.html"))
    return {"entries": len(kb), "validate_s": validate_s, "site_s": site_s, "accuracy_s": accuracy_s,
            "pages": pages, "warnings": len(checked.warnings)}


def run(quick: bool = False) -> list[Row]:
    sizes = QUICK_SIZES if quick else SIZES
    rows: list[Row] = []
    results = []
    where = "RAM (tmpfs)" if memory_dir() else "the default temporary folder"
    with scratch("inferbook-scale-") as tmp:
        for n in sizes:
            folder = Path(tmp) / f"kb-{n}"
            start = time.perf_counter()
            write_kb(folder, n)
            made = time.perf_counter() - start
            proc = subprocess.run([sys.executable, "-m", "bench.scale", "--measure", str(folder)], cwd=ROOT,
                                  capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                rows.append((f"scale {n:,} entries", f"failed: {(proc.stderr or proc.stdout).strip()[-300:]}"))
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            results.append(r)
            rows.append((f"scale {r['entries']:,} entries: validate (cold, own process, KB and site in {where})",
                         f"{fmt_s(r['validate_s'])} ({r['validate_s'] / r['entries'] * 1e3:.2f} ms/entry)"))
            total = r["site_s"] + r["accuracy_s"]
            rows.append((f"scale {r['entries']:,} entries: site build ({r['pages']:,} pages)",
                         f"{fmt_s(total)} = {fmt_s(r['accuracy_s'])} accuracy table + {fmt_s(r['site_s'])} "
                         f"the rest ({r['site_s'] / r['entries'] * 1e3:.2f} ms/entry; KB written in {made:.1f} s)"))
            shutil.rmtree(folder, ignore_errors=True)
    from bench.stages import file_cost

    rows.append(("this machine's disk after the scale runs: create and write one 20 kB file", fmt_s(file_cost())))
    if len(results) >= 2:
        sizes_done = [r["entries"] for r in results]
        for r in results:
            r["site_total_s"] = r["site_s"] + r["accuracy_s"]
        for key, label in (("validate_s", "validate"), ("site_total_s", "site build"),
                           ("site_s", "site build without the fixed-size accuracy table")):
            times = [r[key] for r in results]
            slope = loglog_slope(sizes_done, times)
            last = loglog_slope(sizes_done[-2:], times[-2:])
            rows.append((f"scale exponent, {label}",
                         f"{slope:.2f} fitted over {sizes_done[0]:,}-{sizes_done[-1]:,} entries, {last:.2f} from "
                         f"{sizes_done[-2]:,} to {sizes_done[-1]:,} (1 = linear)"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", type=Path, metavar="DIR")
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--measure", type=Path, metavar="DIR")
    args = parser.parse_args()
    if args.write:
        write_kb(args.write, args.entries)
    if args.measure:
        print(json.dumps(measure(args.measure)))
    if not (args.write or args.measure):
        for name, value in run():
            print(f"{name}  {value}")


if __name__ == "__main__":
    main()
