"""Golden vectors: a small committed sample of the JS parity vectors with Python's answers.

tests/test_js_parity.py checks the browser calculator against Python on tens of thousands of
generated vectors, but those live only in memory. This file keeps a reviewable sample in the
repository, `golden.json`: for each JS function, the first few vectors in order of their
arguments, each with the answer Python gives. A change to a calculator (or to the data it
reads) therefore shows up as a diff of that file in review, and the tests check both that the
file is fresh and that the JS gives exactly these answers.

    python tests/js_parity/golden.py            # exit 1 if golden.json is stale
    python tests/js_parity/golden.py --write    # refresh it (then review the diff)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden.json"
PER_FUNCTION = 5
"""Vectors kept per JS function."""
MAX_VECTOR_CHARS = 8000
"""Larger vectors (long simulations) are kept only when a function has no smaller one, and then
only the smallest, so the file stays small enough to review."""
REFRESH = "python tests/js_parity/golden.py --write"


def golden_data(items: list[dict[str, Any]], expected: list[dict[str, Any]]) -> dict[str, Any]:
    """The sample: per function, the ``PER_FUNCTION`` small vectors whose arguments sort first
    (or, when all are large, the smallest one)."""
    by_fn: dict[str, list[tuple[str, int, dict[str, Any]]]] = {}
    for item, answer in zip(items, expected, strict=True):
        vector = {"fn": item["fn"], "args": item["args"], **answer}
        size = len(json.dumps(vector, sort_keys=True))
        by_fn.setdefault(item["fn"], []).append((json.dumps(item["args"], sort_keys=True), size, vector))
    vectors = []
    for fn in sorted(by_fn):
        small = sorted((c for c in by_fn[fn] if c[1] <= MAX_VECTOR_CHARS), key=lambda c: c[0])[:PER_FUNCTION]
        chosen = small or [min(by_fn[fn], key=lambda c: (c[1], c[0]))]
        vectors += [vector for _, _, vector in chosen]
    return {"about": f"Python's answers to a sample of the JS parity vectors; refresh with `{REFRESH}`",
            "vectors": vectors}


def golden_text(data: dict[str, Any]) -> str:
    """The file's text: sorted keys, one-space indent, no NaN (non-finite numbers are strings)."""
    return json.dumps(data, indent=1, sort_keys=True, allow_nan=False, ensure_ascii=False) + "\n"


def current_text() -> str:
    """golden.json as the code and data of this checkout would write it."""
    sys.path.insert(0, str(HERE.parent))
    from test_js_parity import build_vectors

    import inferbook

    kb = inferbook.load()
    vectors = build_vectors(kb)
    return golden_text(golden_data(vectors.items, vectors.expected))


def main(argv: list[str]) -> int:
    text = current_text()
    if "--write" in argv:
        GOLDEN.write_text(text, encoding="utf-8")
        print(f"wrote {GOLDEN.relative_to(HERE.parent.parent)}")
        return 0
    fresh = GOLDEN.exists() and GOLDEN.read_text(encoding="utf-8") == text
    print("golden.json is fresh" if fresh else f"golden.json is stale: run {REFRESH}")
    return 0 if fresh else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
