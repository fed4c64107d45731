"""Error bands and basis labels for predictions.

The cross-validated errors in `calibration.json` (written by `calibrate`) are kept
per held-out group: a whole GPU, a whole model family, a whole engine. A
prediction takes the band of its nearest groups (the worst of the three it
belongs to, so the band is not flattering), or the all-groups figure when none
of its GPU, family or engine was ever measured.

Basis:
- ``measured``: a published measurement with the same model, GPU, GPU count, TP,
  weights, engine, lengths and load exists (shown first);
- ``calibrated``: the GPU's architecture, the engine and the model class (dense or
  MoE) all occur in the fitted data;
- ``estimated``: anything else, with what was extrapolated from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from ..schema import Format, Gpu, LlmModel
from .engines import CALC_DATA_CODE
from .perf import arch_key, calibration

if TYPE_CHECKING:
    from ..kb import KnowledgeBase
    from .predict import Load

def family_group(model: LlmModel) -> str:
    """The model family as cross-validation holds it out: its first word, without version
    ("Llama 3.1" and "Llama 3.3" are both "llama"), so a held-out family shares no
    architecture with what was fitted."""
    found = re.match(r"[a-z]+", model.family.lower())
    return found.group() if found else model.family.lower()


def model_class(model: LlmModel) -> str:
    """"moe" or "dense"."""
    return "moe" if model.architecture.moe is not None else "dense"


@dataclass(frozen=True, slots=True)
class GroupError:
    """Absolute relative errors of one group's held-out predictions."""

    n: int
    median: float
    p90: float
    max: float

    def to_json(self) -> dict[str, float]:
        return {"n": self.n, "median_abs_error": self.median, "p90_abs_error": self.p90, "max_abs_error": self.max}


@dataclass(frozen=True, slots=True)
class Band:
    """The error band of one prediction: throughput and latency errors of its nearest group."""

    group: str
    throughput: GroupError | None
    latency: GroupError | None

    def to_json(self) -> dict[str, Any]:
        return {"group": self.group,
                "throughput": None if self.throughput is None else self.throughput.to_json(),
                "latency": None if self.latency is None else self.latency.to_json()}

    def text(self) -> str:
        parts = []
        for name, err in (("throughput", self.throughput), ("latency", self.latency)):
            if err is not None:
                parts.append(f"{name} ±{err.median:.0%} median, ±{err.p90:.0%} p90 (n={err.n})")
        return f"{'; '.join(parts) or 'no cross-validated error'} — {self.group}"


def _error(entry: dict[str, Any] | None) -> GroupError | None:
    if not entry:
        return None
    return GroupError(int(entry["n"]), float(entry["median"]), float(entry["p90"]), float(entry["max"]))


def _worse(a: GroupError | None, b: GroupError | None) -> GroupError | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if a.median >= b.median else b


def error_band(model: LlmModel, gpu: Gpu, engine: str) -> Band:
    """The band of a prediction: the worst held-out errors of its GPU's, family's and engine's groups."""
    cv = calibration().get("cv", {})
    candidates = [("gpu", gpu.id), ("family", family_group(model)), ("engine", engine)]
    throughput = latency = None
    names = []
    for partition, key in candidates:
        group = cv.get(f"by_{partition}", {}).get(key)
        if not group:
            continue
        t, lat = _error(group.get("throughput")), _error(group.get("latency"))
        if t is None and lat is None:
            continue
        names.append(f"{partition} {key}")
        throughput, latency = _worse(throughput, t), _worse(latency, lat)
    if not names:
        overall = cv.get("overall", {})
        return Band("all held-out groups (this GPU, family and engine were never measured)",
                    _error(overall.get("throughput")), _error(overall.get("latency")))
    return Band("worst of held-out " + ", ".join(names), throughput, latency)


@cache
def _published() -> tuple[Any, ...]:
    """The shipped measurements, read once per process (they do not change while it runs)."""
    from .published import load as load_published

    return tuple(load_published())


def _key_number(value: float | int | None) -> str:
    """A load number as the JS port writes it (String(4.0) is "4"), for the measured-setup key."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def measured_key(model: str, gpu: str, engine: str, gpus: int | None, tp: int | None, weights: str, isl: int | None,
                 osl: int | None, mode: str | None, concurrency: int | None, rate: float | None,
                 batch: int | None, attention_dp: int = 1) -> str:
    """The key under which `measured_index` files a setup (the JS port builds the same string; it
    has no attention data parallelism, which adds a last part only when above 1)."""
    parts = [model, gpu, engine, _key_number(gpus), _key_number(tp), weights, _key_number(isl), _key_number(osl),
             mode or "", _key_number(concurrency), _key_number(rate), _key_number(batch)]
    if attention_dp > 1:
        parts.append(f"attention-dp {attention_dp}")
    return "|".join(parts)


def index_inputs(kb: KnowledgeBase) -> tuple[tuple[str, str, bool], ...]:
    """What the measured index reads from the knowledge base: each model's id, native format and
    whether it is a mixture of experts (attention data parallelism applies only to those)."""
    return tuple(sorted((mid, m.native_dtype, m.architecture.moe is not None) for mid, m in kb.models.items()))


def measured_index(kb: KnowledgeBase) -> dict[str, list[dict[str, Any]]]:
    """Every speed measurement filed by its exact setup, as `basis_for` matches them (also exported
    for the JS port). Built once per `index_inputs`, the only KB data it reads."""
    return _measured_index(index_inputs(kb))


MEASURED_INDEX_CODE = CALC_DATA_CODE
"""What the measured index is read with (`engines.CALC_DATA_CODE`: the calc package, its
measurements/ files included, the schemas and the YAML reader). Part of the index's result-cache key."""
_INDEX_FIELDS: dict[str, type | tuple[type, ...]] = {"id": str, "metric": str, "value": (int, float),
                                                     "statistic": str, "url": str, "quote": str}
INDEX_MAX_BYTES = 4_000_000
"""Size limit of the stored index (about 0.7 MB with today's measurements, quotes and addresses)."""


def _is_index(value: Any) -> bool:
    """Whether ``value`` (read back from disk) has exactly the layout `_measured_index` gives."""
    return isinstance(value, dict) and all(
        isinstance(key, str) and isinstance(rows, list) and rows and all(
            isinstance(row, dict) and row.keys() == _INDEX_FIELDS.keys()
            and all(isinstance(row[f], t) and not isinstance(row[f], bool) for f, t in _INDEX_FIELDS.items())
            for row in rows)
        for key, rows in value.items())


@cache
def _measured_index(natives: tuple[tuple[str, str, bool], ...]) -> dict[str, list[dict[str, Any]]]:
    """The index, from the result cache when the measurement files and the code that reads them are
    unchanged (parsing the 64 files took about 0.75 s of a 0.9 s `inferbook predict`), else built."""
    import json

    from .. import result_cache

    code = result_cache.package_code_digest(*MEASURED_INDEX_CODE)
    key = result_cache.digest("measured-index", code, json.dumps(natives)) if code is not None else None
    if key is not None:
        found = result_cache.read("measured-index", key, _is_index, INDEX_MAX_BYTES)
        if found is not None:
            return dict(found)
    out = _build_measured_index(natives)
    if key is not None:
        result_cache.write("measured-index", key, out, INDEX_MAX_BYTES)
    return out


def _build_measured_index(natives: tuple[tuple[str, str, bool], ...]) -> dict[str, list[dict[str, Any]]]:
    native = {mid: (dtype, moe) for mid, dtype, moe in natives}
    out: dict[str, list[dict[str, Any]]] = {}
    for p in _published():
        m = p.m
        if m.model not in native or m.gpu is None or m.gpus is None:
            continue
        dtype, moe = native[m.model]
        tp = m.tp or m.gpus
        key = measured_key(m.model, m.gpu, m.engine, m.gpus, tp, m.weights or dtype, m.isl, m.osl, m.mode,
                           m.concurrency, m.rate, m.batch, p.attention_dp(moe, tp))
        out.setdefault(key, []).append({"id": m.id, "metric": m.metric, "value": m.value, "statistic": m.statistic,
                                        "url": p.source.url, "quote": m.quote})
    return out


def basis_for(kb: KnowledgeBase, model: LlmModel, gpu: Gpu, engine: str, fmt: Format, load: Load, gpus: int,
              tp: int, attention_dp: int = 1) -> tuple[str, str, list[dict[str, Any]]]:
    """(basis, what it rests on, matching measurements)."""
    key = measured_key(model.id, gpu.id, engine, gpus, tp, fmt.id, load.isl, load.osl, load.mode,
                       load.concurrency, load.rate, load.batch, attention_dp)
    matches = measured_index(kb).get(key, [])
    fitted = calibration().get("fitted_on", {})
    gaps = []
    arch = arch_key(gpu)
    if arch not in fitted.get("architectures", []):
        gaps.append(f"no {arch} GPU was measured (efficiencies are the median of "
                    f"{', '.join(fitted.get('architectures', [])) or 'none'})")
    if engine not in fitted.get("engines", []):
        gaps.append(f"{engine} was never measured (its overheads are the median of the other engines)")
    if model_class(model) not in fitted.get("model_classes", []):
        gaps.append(f"no {model_class(model)} model was measured")
    if matches:
        return "measured", f"{len(matches)} published measurement(s) of this exact setup", matches
    if gaps:
        return "estimated", "; ".join(gaps), []
    return ("calibrated", f"{arch} GPUs, {engine} and {model_class(model)} models are all in the "
            "fitted data", [])
