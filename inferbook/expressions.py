"""Numbers in prose computed from the knowledge base.

Entry bodies may embed `{{ CALL | FILTER | ... }}`, for example
`{{ kv_bytes("llama-3.1-8b-instruct", tokens=8192, dtype="bf16") | gib(2) }}`.
The grammar is deliberately tiny and never evaluated as Python:

    expression := call ("|" filter)*
    call       := NAME "(" [argument ("," argument)*] ")"
    filter     := NAME ["(" [argument ("," argument)*] ")"]
    argument   := [NAME "="] (STRING | NUMBER)

Calls (ids are KB ids):
    value("gpus/h100-sxm", "memory_bandwidth_gb_s")    a field; dotted paths; sourced numbers give their value
    params_b("model-id")                                parameters in billions, from the architecture
    active_params_b("model-id")                         parameters per token in billions
    kv_bytes_per_token("model-id", dtype="bf16")        KV bytes one token adds across all layers
    kv_bytes("model-id", tokens=N, dtype="bf16", batch=1, tp=1)   KV bytes of a batch
    state_bytes("model-id")                             fixed linear-attention/Mamba state of one sequence
    weight_bytes("model-id", format="bf16", tp=1, pp=1) weight bytes (per GPU when tp/pp > 1);
                                                        no format: the released checkpoint
    gpu_hour_usd("offer-id")                            an offer's on-demand price of one GPU-hour
    quoted("3,958 TFLOPS")                              the text as written: marks a figure quoted from a
                                                        source (a datasheet's with-sparsity rate, a measured
                                                        result), so lint IB340 knows it was not typed in
                                                        where an expression belongs
    plan("model-id", "figure", isl=N, osl=N, rate=R, ttft=S, tpot=S, gpu="gpu-id")
                                                        a figure of `inferbook plan`'s cheapest answer
                                                        (p95 targets, on-demand prices, the data's date):
                                                        usd_per_hour, usd_per_million_input,
                                                        usd_per_million_output, gpus, tp, replicas,
                                                        ttft_s, tpot_s, shapes (configurations screened)
Roofline and communication calls (derivations in the roofline and parallelism entries; every
rate is a datasheet peak, with no efficiency factor, so each result is a bound):
    ridge_point("gpu-id", format="bf16", over="memory", link_gb_s=...)
                                                        dense peak FLOP/s for the format / memory bandwidth
                                                        (FLOP per byte); the format picks the peak as `inferbook
                                                        predict` does (FP8/FP4 checkpoints run their own type,
                                                        weight-only formats run 16-bit); over="link" divides by one
                                                        direction of the scale-up link instead (half the GPU's
                                                        interconnect figure, or link_gb_s GB/s one way)
    critical_batch("gpu-id", format="bf16")           decode batch at which the weight matmuls reach the ridge:
                                                        ridge x bytes per weight / 2 (2 FLOPs per weight per token)
    step_ms("model-id", "gpu-id", "figure", phase="decode", format=..., tp=1, batch=1, tokens=1, dtype="bf16",
            link_gb_s=...)                              one term of a forward pass at peak rates, per GPU:
                                                        "compute" (FLOPs / tp x peak), "memory" (weight share plus
                                                        KV cache read / bandwidth), "comm" (the TP all-reduces,
                                                        ring bandwidth term plus 10 us each, over the GPU's link or
                                                        link_gb_s GB/s one way) or "step" (the larger of compute and
                                                        memory, plus comm); decode: batch sequences at a context of
                                                        tokens; prefill: batch prompts of tokens
    hidden_bytes("model-id", tokens=1, dtype="bf16")  hidden-state bytes of tokens tokens: one TP all-reduce
                                                        message, or one pipeline hand-off
    allreduce_us("model-id", "gpu-id", tp=8, batch=1, link_gb_s=...)
                                                        bandwidth term of one ring all-reduce of batch hidden
                                                        states: 2(tp-1)/tp x message / one direction of the link
                                                        (half the GPU's interconnect figure; link_gb_s, GB/s one
                                                        way, overrides it, e.g. for a PCIe path); no latency term
    alltoall_bytes("model-id", tokens=1, dispatch="fp8-e4m3", combine="bf16", scope="step")
                                                        MoE expert-parallel traffic of tokens tokens, every copy
                                                        counted as leaving its GPU (an upper bound): top-k x hidden
                                                        x (dispatch + combine bytes), for one MoE layer
                                                        (scope="layer") or all of them (scope="step")
Filters:
    times(k) div(k) plus(k) minus(k)   arithmetic with a number written here (k); the result goes on to
                                  the next filter: weight_bytes("m") | times(2) | gib(1)
    per_s(n=1)                    n events per step of the value's milliseconds, per second (n x 1000 / v):
                                  step_ms("m", "gpu", "step", batch=32) | per_s(32) | round(0)  tokens/s
    gib(d) gb(d) mib(d) kib(d)   bytes shown in that unit with d decimals and the unit name
    round(d)                      a number with d decimals (thousands separated)
    comma                         an integer with thousands separators
    pct(d)                        a fraction shown as a percentage

Expressions come from contributors, so everything is bounded: numbers have at
most MAX_DIGITS digits, decimals in filters are 0..MAX_DECIMALS, counts such as
tokens, batch and tp have physical ranges, results must be finite, and finding
the `{{ ... }}` spans is a single linear scan. Every failure is an
`ExpressionError` (a finding), never a traceback.
"""

from __future__ import annotations

import json
import math
import re
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .kb import KnowledgeBase, field_value

MAX_DIGITS = 15
"""Digits a number in an expression may have (before and after the point together)."""
MAX_DECIMALS = 6
"""Most decimals a filter may show."""
MAX_EXPRESSION_CHARS = 500
"""Longest expression between the braces."""
COUNT_LIMITS = {"tokens": 1e9, "batch": 1e6, "tp": 1024, "pp": 1024}
"""Upper bounds of the count arguments (all at least 1)."""
MAX_LINK_GB_S = 1e5
"""Largest link bandwidth (GB/s one way) an expression may pass as link_gb_s."""
_TOKEN = re.compile(r'\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]{0,63})|(?P<num>-?[0-9]{1,40}(?:\.[0-9]{1,40})?)|'
                    r'(?P<str>"[^"\\\n]{0,200}")|(?P<op>[(),=|]))')


def expression_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, inner text) of every `{{ ... }}` in ``text``: each `{{` runs to the first
    `}}` after it. One left-to-right scan with str.find, so linear in len(text) even for
    text made of nothing but braces."""
    pos = 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            return
        end = text.find("}}", start + 2)
        if end < 0:
            return
        yield start, end + 2, text[start + 2:end]
        pos = end + 2


def replace_expressions(text: str, replace: Callable[[str], str]) -> str:
    """``text`` with every `{{ ... }}` span (braces included) replaced by ``replace(span)``; linear."""
    parts: list[str] = []
    done = 0
    for start, end, _ in expression_spans(text):
        parts += [text[done:start], replace(text[start:end])]
        done = end
    parts.append(text[done:])
    return "".join(parts)


class ExpressionError(ValueError):
    """An expression that cannot be parsed or evaluated."""


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...]


def _tokens(text: str) -> list[tuple[str, str]]:
    pos, out = 0, []
    text = text.strip()
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"expression is {len(text):,} characters long; the limit is {MAX_EXPRESSION_CHARS}")
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ExpressionError(f"unexpected character {text[pos]!r} at position {pos + 1}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def parse(text: str) -> list[Call]:
    """Parse an expression into its call and filters."""
    tokens = _tokens(text)
    pos = 0

    def take(kind: str, value: str | None = None) -> str:
        nonlocal pos
        if pos >= len(tokens) or tokens[pos][0] != kind or (value is not None and tokens[pos][1] != value):
            got = tokens[pos][1] if pos < len(tokens) else "end of expression"
            raise ExpressionError(f"expected {value or kind}, got {got!r}")
        pos += 1
        return tokens[pos - 1][1]

    def peek(value: str) -> bool:
        return pos < len(tokens) and tokens[pos] == ("op", value)

    def argument() -> tuple[str | None, Any]:
        nonlocal pos
        key = None
        if pos + 1 < len(tokens) and tokens[pos][0] == "name" and tokens[pos + 1] == ("op", "="):
            key = tokens[pos][1]
            pos += 2
        if pos < len(tokens) and tokens[pos][0] == "str":
            pos += 1
            return key, tokens[pos - 1][1][1:-1]
        raw = take("num")
        if sum(c.isdigit() for c in raw) > MAX_DIGITS:
            raise ExpressionError(f"number {raw[:20]}... has more than {MAX_DIGITS} digits")
        return key, float(raw) if "." in raw else int(raw)

    def call(required_parens: bool) -> Call:
        name = take("name")
        args: list[Any] = []
        kwargs: list[tuple[str, Any]] = []
        if peek("(") or required_parens:
            take("op", "(")
            while not peek(")"):
                key, value = argument()
                if key is None:
                    if kwargs:
                        raise ExpressionError("positional argument after a keyword argument")
                    args.append(value)
                else:
                    kwargs.append((key, value))
                if not peek(")"):
                    take("op", ",")
            take("op", ")")
        return Call(name, tuple(args), tuple(kwargs))

    calls = [call(required_parens=True)]
    while peek("|"):
        take("op", "|")
        calls.append(call(required_parens=False))
    if pos != len(tokens):
        raise ExpressionError(f"unexpected {tokens[pos][1]!r} after the expression")
    return calls


def _decimals(digits: Any) -> int:
    """A filter's decimals argument: a whole number from 0 to MAX_DECIMALS."""
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= MAX_DECIMALS:
        raise ExpressionError(f"decimals must be a whole number from 0 to {MAX_DECIMALS}, got {digits!r}")
    return digits


def _bytes_in(unit: float, name: str) -> Callable[..., str]:
    def fmt(value: float, digits: int = 1) -> str:
        return f"{value / unit:,.{_decimals(digits)}f} {name}"

    return fmt


def _operand(k: Any) -> float:
    """An arithmetic filter's argument: a finite number written in the expression."""
    if isinstance(k, bool) or not isinstance(k, (int, float)) or not math.isfinite(k):
        raise ExpressionError(f"expected a number, got {k!r}")
    return float(k)


def _divide(v: float, k: Any) -> float:
    k = _operand(k)
    if k == 0:
        raise ExpressionError("division by zero")
    return v / k


def _per_second(v: float, n: Any = 1) -> float:
    if v <= 0:
        raise ExpressionError("per_s needs a positive time in milliseconds")
    return _operand(n) * 1000.0 / v


FILTERS: dict[str, Callable[..., str | float]] = {
    # arithmetic with a number written in the expression; each gives a number for the next filter
    "times": lambda v, k: v * _operand(k),
    "div": _divide,
    "plus": lambda v, k: v + _operand(k),
    "minus": lambda v, k: v - _operand(k),
    "per_s": _per_second,
    "gib": _bytes_in(2**30, "GiB"),
    "mib": _bytes_in(2**20, "MiB"),
    "kib": _bytes_in(2**10, "KiB"),
    "gb": _bytes_in(1e9, "GB"),
    "round": lambda v, digits=0: f"{v:,.{_decimals(digits)}f}",
    "comma": lambda v: f"{round(v):,}",
    "pct": lambda v, digits=0: f"{v * 100:.{_decimals(digits)}f}%",
}


def _text(name: str, value: Any) -> str:
    """A text argument (an id, a path, a field or a data type): a quoted string."""
    if not isinstance(value, str):
        raise ExpressionError(f"{name} must be quoted text, got {value!r}")
    return value


def _count(name: str, value: Any) -> int:
    """A count argument (tokens, batch, tp, pp): a whole number from 1 to its limit."""
    limit = COUNT_LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ExpressionError(f"{name} must be a number, got {value!r}")
    if value != int(value) or not 1 <= value <= limit:
        raise ExpressionError(f"{name} must be a whole number from 1 to {limit:,.0f}, got {value!r}")
    return int(value)


PLAN_INPUTS = ("formats", "frameworks", "offers")
"""The kinds a plan reads whole; of the models it reads the one asked about, of the GPUs those the
offers price and those the question names (the search skips a GPU without a price). While these
entries are unchanged, a plan found before is still right (`_reference_digest`)."""
PLAN_FIGURES = ("usd_per_hour", "usd_per_million_input", "usd_per_million_output", "gpus", "tp", "replicas",
                "ttft_s", "tpot_s")
"""The figures of a plan's cheapest answer that `plan(...)` can show (besides "shapes")."""
PLAN_CODE = (("calc", "schema"), ("expressions.py", "kb.py", "version.py"))
"""What computes a plan's figures: every file (code, calibration, engine profiles) under these
package folders, and these modules. Their bytes are part of the disk cache's key."""
_PLANS: dict[tuple[Any, ...], dict[str, Any]] = {}
"""Plan answers (`_plan_answer`) already found in this process, keyed by the digest of the
entries the question reads, the data date and the question: `inferbook serve` rebuilds the site after every
edit, and an edit to an article must not search every plan in the prose again (each takes
about half a second). Across processes the answers are kept on disk (`result_cache`)."""
_DIGESTS: weakref.WeakKeyDictionary[KnowledgeBase, dict[tuple[Any, ...], str]] = weakref.WeakKeyDictionary()


def _reference_digest(kb: KnowledgeBase, model: str, gpus: tuple[str, ...] = ()) -> str:
    """A digest of the entries a plan of ``model`` over ``gpus`` (every priced GPU when empty)
    reads: the model, the kinds of `PLAN_INPUTS`, and the GPUs the offers price or the question
    names (computed once per knowledge base and question). Adding an unrelated model or an
    unpriced GPU, as a private layer or an imported config does, leaves it unchanged."""
    from . import result_cache

    per_kb = _DIGESTS.setdefault(kb, {})
    found = per_kb.get((model, gpus))
    if found is None:
        gpu_ids = sorted({offer.gpu for offer in kb.offers.values()} | set(gpus))
        found = per_kb[(model, gpus)] = result_cache.entries_digest([
            (f"models/{model}", kb.models.get(model)),
            *((f"{kind}/{eid}", entry) for kind in PLAN_INPUTS for eid, entry in sorted(kb.kind(kind).items())),
            *((f"gpus/{gid}", kb.gpus.get(gid)) for gid in gpu_ids)])
    return found


def _plan_key(kb: KnowledgeBase, key: tuple[Any, ...]) -> str | None:
    """The disk cache key of a plan question: the plan code's digest, the digest of the entries a
    plan reads, the data date and the question; None when the code cannot be read."""
    from . import result_cache

    code = result_cache.package_code_digest(*PLAN_CODE)
    if code is None:
        return None
    return result_cache.digest("plan", code, _question_digest(kb, key), kb.data_date, json.dumps(list(key)))


def _question_digest(kb: KnowledgeBase, key: tuple[Any, ...]) -> str:
    """`_reference_digest` for a plan question (model, isl, osl, rate, ttft, tpot, gpus)."""
    return _reference_digest(kb, key[0], tuple(key[6]))


def _is_plan_answer(value: Any) -> bool:
    """Whether ``value`` has exactly the layout `_search_plan` gives (read back from disk)."""
    def number(x: Any) -> bool:
        return type(x) is float and math.isfinite(x)

    if not isinstance(value, dict):
        return False
    if set(value) == {"error"}:
        return isinstance(value["error"], str)
    if set(value) != {"shapes", "best"} or not number(value["shapes"]):
        return False
    best = value["best"]
    return best is None or (isinstance(best, dict) and set(best) == set(PLAN_FIGURES)
                            and all(v is None or number(v) for v in best.values()))


def _search_plan(kb: KnowledgeBase, key: tuple[Any, ...]) -> dict[str, Any]:
    """Search the plan for ``key`` (model, isl, osl, rate, ttft, tpot, gpus) and keep what
    `plan(...)` shows: {"shapes": n, "best": {figure: value or None} or None}, or {"error": message}."""
    import datetime as dt

    from .calc.plan import PlanError, Space, Targets, Workload, plan

    model, isl, osl, rate, ttft, tpot, gpus = key
    try:
        found = plan(kb, [model], Workload(isl, osl, rate=rate), Targets(ttft, tpot), Space(gpus=gpus),
                     today=dt.date.fromisoformat(kb.data_date))
    except (PlanError, ValueError) as exc:
        return {"error": str(exc)}
    best = found.best
    figures = None
    if best is not None:
        usd_in, usd_out = best.usd_per_million(isl, osl)
        values: dict[str, float | None] = {
            "usd_per_hour": best.usd_per_hour, "usd_per_million_input": usd_in, "usd_per_million_output": usd_out,
            "gpus": best.gpus, "tp": best.shape.tp, "replicas": best.replicas, "ttft_s": best.ttft_s(95),
            "tpot_s": best.tpot_s(95)}
        figures = {name: None if (v := values[name]) is None else float(v) for name in PLAN_FIGURES}
    return {"shapes": float(found.shapes), "best": figures}


def _plan_answer(kb: KnowledgeBase, key: tuple[Any, ...]) -> dict[str, Any]:
    """The answer to a plan question: from this process's memory, else from the disk cache,
    else searched (and kept in both)."""
    from . import result_cache

    shared = (_question_digest(kb, key), kb.data_date, key)
    found = _PLANS.get(shared)
    if found is not None:
        return found
    disk_key = _plan_key(kb, key)
    found = result_cache.read("plan", disk_key, _is_plan_answer) if disk_key is not None else None
    if found is None:
        found = _search_plan(kb, key)
        if disk_key is not None:
            result_cache.write("plan", disk_key, found)
    if len(_PLANS) > 512:
        _PLANS.clear()
    _PLANS[shared] = found
    return found


class Evaluator:
    """Evaluates expressions against one knowledge base."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.functions: dict[str, Callable[..., float | str]] = {
            "value": self._value,
            "params_b": lambda m: self._params(m).total / 1e9,
            "active_params_b": lambda m: self._params(m).active / 1e9,
            "kv_bytes_per_token": self._kv_per_token,
            "kv_bytes": self._kv_bytes,
            "weight_bytes": self._weight_bytes,
            "state_bytes": self._state_bytes,
            "gpu_hour_usd": self._gpu_hour_usd,
            "plan": self._plan,
            "quoted": self._quoted,
            "ridge_point": self._ridge_point,
            "critical_batch": self._critical_batch,
            "step_ms": self._step_ms,
            "hidden_bytes": self._hidden_bytes,
            "allreduce_us": self._allreduce_us,
            "alltoall_bytes": self._alltoall_bytes,
        }
        self._plans: dict[tuple[Any, ...], Any] = {}
        self._rendered: dict[str, str] = {}

    def _model(self, model_id: str):
        model_id = _text("the model id", model_id)
        if model_id not in self.kb.models:
            raise ExpressionError(f"unknown model {model_id!r}")
        return self.kb.models[model_id]

    def _value(self, path: str, field: str) -> float:
        path, field = _text("the entry", path), _text("the field", field)
        kind, _, eid = path.partition("/")
        try:
            entry = self.kb.kind(kind)[eid]
        except KeyError as exc:
            raise ExpressionError(f"unknown entry {path!r} (write kind/id, e.g. gpus/h100-sxm)") from exc
        try:
            value = field_value(entry, field)
        except KeyError as exc:
            raise ExpressionError(str(exc).strip('"')) from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ExpressionError(f"{path} {field} is not a number (got {value!r})")
        return value

    def _params(self, model_id: str):
        from .calc import count_params

        return count_params(self._model(model_id).architecture)

    def _bits(self, dtype: str) -> float:
        dtype = _text("dtype", dtype)
        from .calc import kv_dtype_bits

        try:
            return kv_dtype_bits(dtype, self.kb.formats)
        except ValueError as exc:
            raise ExpressionError(str(exc)) from None

    def _kv_per_token(self, model_id: str, dtype: str = "bf16") -> float:
        from .calc import kv_bytes_per_token

        return kv_bytes_per_token(self._model(model_id).architecture, self._bits(dtype))

    def _kv_bytes(self, model_id: str, tokens: int, dtype: str = "bf16", batch: int = 1, tp: int = 1) -> float:
        from .calc import kv_bytes

        tp = _count("tp", tp)
        result = kv_bytes(self._model(model_id).architecture, _count("tokens", tokens), self._bits(dtype),
                          _count("batch", batch), tp)
        return result.bytes_per_gpu if tp > 1 else result.bytes_unique

    def _state_bytes(self, model_id: str) -> float:
        """Fixed linear-attention and Mamba state of one sequence (16-bit unless recorded), 0 without them."""
        from .calc.kv import state_bytes_per_sequence

        return state_bytes_per_sequence(self._model(model_id).architecture)

    def _weight_bytes(self, model_id: str, format: str | None = None, tp: int = 1, pp: int = 1) -> float:
        from .calc import weight_bytes

        model = self._model(model_id)
        fmt_id = _text("format", format) if format is not None else model.native_dtype
        if fmt_id not in self.kb.formats:
            raise ExpressionError(f"unknown format {fmt_id!r}")
        from .calc.weights import native_groups

        groups = native_groups(model, dict(self.kb.formats)) if fmt_id == model.native_dtype else None
        tp, pp = _count("tp", tp), _count("pp", pp)
        result = weight_bytes(model.architecture, self.kb.formats[fmt_id], tp, pp, groups=groups)
        return result.per_gpu_bytes if tp > 1 or pp > 1 else result.total_bytes

    def _gpu_hour_usd(self, offer_id: str) -> float:
        offer_id = _text("the offer id", offer_id)
        offer = self.kb.offers.get(offer_id)
        if offer is None:
            raise ExpressionError(f"unknown offer {offer_id!r}")
        price = offer.gpu_hour_usd()
        if price is None:
            raise ExpressionError(f"offer {offer_id!r} publishes no on-demand price")
        return price

    # roofline and communication ---------------------------------------------------------------
    def _gpu(self, gpu_id: str):
        gpu_id = _text("the GPU id", gpu_id)
        if gpu_id not in self.kb.gpus:
            raise ExpressionError(f"unknown GPU {gpu_id!r}")
        return self.kb.gpus[gpu_id]

    def _format(self, fmt_id: str):
        fmt_id = _text("format", fmt_id)
        if fmt_id not in self.kb.formats:
            raise ExpressionError(f"unknown format {fmt_id!r}")
        return self.kb.formats[fmt_id]

    def _link_one_way(self, gpu, link_gb_s: float | None) -> float:
        """Bytes per second one direction of the scale-up link carries: half the GPU's interconnect
        figure, or ``link_gb_s`` GB/s when given."""
        if link_gb_s is None:
            link = gpu.interconnect.bandwidth_gb_s
            if link is None:
                raise ExpressionError(f"{gpu.id} records no interconnect bandwidth; pass link_gb_s")
            return link.value / 2 * 1e9
        if isinstance(link_gb_s, bool) or not isinstance(link_gb_s, (int, float)) or not 0 < link_gb_s <= MAX_LINK_GB_S:
            raise ExpressionError(f"link_gb_s must be a number above 0 and at most {MAX_LINK_GB_S:,.0f}, "
                                  f"got {link_gb_s!r}")
        return float(link_gb_s) * 1e9

    def _ridge_point(self, gpu_id: str, format: str = "bf16", over: str = "memory",
                     link_gb_s: float | None = None) -> float:
        from .calc.roofline import compute_tflops

        gpu, fmt = self._gpu(gpu_id), self._format(format)
        over = _text("over", over)
        if over not in ("memory", "link"):
            raise ExpressionError(f"over must be \"memory\" or \"link\", got {over!r}")
        if over == "memory":
            if link_gb_s is not None:
                raise ExpressionError("link_gb_s applies only with over=\"link\"")
            bandwidth = gpu.memory_bandwidth_gb_s.value * 1e9
        else:
            bandwidth = self._link_one_way(gpu, link_gb_s)
        return compute_tflops(gpu, fmt) * 1e12 / bandwidth

    def _critical_batch(self, gpu_id: str, format: str = "bf16") -> float:
        bytes_per_weight = self._format(format).effective_bits_per_weight / 8
        return self._ridge_point(gpu_id, format) * bytes_per_weight / 2

    STEP_FIGURES = ("compute", "memory", "comm", "step")

    def _step_ms(self, model_id: str, gpu_id: str, figure: str, phase: str = "decode", format: str | None = None,
                 tp: int = 1, batch: int = 1, tokens: int = 1, dtype: str = "bf16",
                 link_gb_s: float | None = None) -> float:
        from .calc.params import blocks
        from .calc.roofline import ALLREDUCE_LATENCY_S, Efficiency, Roofline
        from .calc.weights import native_groups

        model, gpu = self._model(model_id), self._gpu(gpu_id)
        figure, phase = _text("the figure", figure), _text("phase", phase)
        if figure not in self.STEP_FIGURES:
            raise ExpressionError(f"unknown step figure {figure!r}; known: {', '.join(self.STEP_FIGURES)}")
        if phase not in ("decode", "prefill"):
            raise ExpressionError(f"phase must be \"decode\" or \"prefill\", got {phase!r}")
        fmt = self._format(format if format is not None else model.native_dtype)
        groups = native_groups(model, dict(self.kb.formats)) if fmt.id == model.native_dtype else None
        roof = Roofline(model.architecture, gpu, fmt, self._bits(dtype), _count("tp", tp), Efficiency(1.0, 1.0),
                        groups or None)
        batch, tokens = _count("batch", batch), _count("tokens", tokens)
        step = roof.decode_step(batch, tokens) if phase == "decode" else roof.prefill(tokens, batch)
        comm = step.comm_s
        if link_gb_s is not None:  # the same ring all-reduces over a link of this speed (GB/s one way)
            one_way = self._link_one_way(gpu, link_gb_s)
            moved = batch if phase == "decode" else batch * tokens
            ring = 2 * (roof.tp - 1) / roof.tp * moved * model.architecture.hidden_size * 2 / one_way
            comm = blocks(model.architecture) * (ring + ALLREDUCE_LATENCY_S) if roof.tp > 1 else 0.0
        seconds = {"compute": step.compute_s, "memory": step.memory_s, "comm": comm,
                   "step": max(step.compute_s, step.memory_s) + comm}
        return seconds[figure] * 1e3

    def _hidden_bytes(self, model_id: str, tokens: int = 1, dtype: str = "bf16") -> float:
        return _count("tokens", tokens) * self._model(model_id).architecture.hidden_size * self._bits(dtype) / 8

    def _allreduce_us(self, model_id: str, gpu_id: str, tp: int = 8, batch: int = 1,
                      link_gb_s: float | None = None) -> float:
        tp = _count("tp", tp)
        message = self._hidden_bytes(model_id, _count("batch", batch))
        return 2 * (tp - 1) / tp * message / self._link_one_way(self._gpu(gpu_id), link_gb_s) * 1e6

    def _alltoall_bytes(self, model_id: str, tokens: int = 1, dispatch: str = "fp8-e4m3", combine: str = "bf16",
                        scope: str = "step") -> float:
        from .calc.params import is_moe_layer

        arch = self._model(model_id).architecture
        if arch.moe is None:
            raise ExpressionError(f"{model_id} is not a mixture-of-experts model")
        scope = _text("scope", scope)
        if scope not in ("step", "layer"):
            raise ExpressionError(f"scope must be \"step\" or \"layer\", got {scope!r}")
        per_layer = (_count("tokens", tokens) * arch.moe.experts_per_token * arch.hidden_size
                     * (self._bits(dispatch) + self._bits(combine)) / 8)
        layers = sum(1 for i in range(arch.layers) if is_moe_layer(arch, i)) if scope == "step" else 1
        return per_layer * layers

    PLAN_FIGURES = (*PLAN_FIGURES, "shapes")

    def _plan(self, model_id: str, figure: str, isl: int = 1000, osl: int = 200, rate: float = 1.0,
              ttft: float = 2.0, tpot: float = 0.05, gpu: str | None = None) -> float:
        """A figure of the cheapest plan; each distinct question is searched once per evaluator,
        once per process while the entries it reads are unchanged, and kept on disk (`_plan_answer`)."""
        model = self._model(model_id).id
        figure = _text("the figure", figure)
        if figure not in self.PLAN_FIGURES:
            raise ExpressionError(f"unknown plan figure {figure!r}; known: {', '.join(self.PLAN_FIGURES)}")
        numbers = {"rate": rate, "ttft": ttft, "tpot": tpot}
        for name, number in numbers.items():
            if isinstance(number, bool) or not isinstance(number, (int, float)) or not 0 < number <= 1e6:
                raise ExpressionError(f"{name} must be a number above 0, got {number!r}")
        gpus = (_text("gpu", gpu),) if gpu is not None else ()
        key = (model, _count("tokens", isl), _count("tokens", osl), float(rate), float(ttft), float(tpot), gpus)
        if key not in self._plans:
            self._plans[key] = _plan_answer(self.kb, key)
        found = self._plans[key]
        if "error" in found:
            raise ExpressionError(found["error"])
        if figure == "shapes":
            return float(found["shapes"])
        best = found["best"]
        if best is None:
            raise ExpressionError(f"no configuration of {model} meets those targets")
        return float(best[figure])

    @staticmethod
    def _quoted(text: str) -> str:
        """A figure quoted from a source, shown as written (at most 80 characters, with a digit)."""
        if not isinstance(text, str) or not 1 <= len(text) <= 80 or not any(c.isdigit() for c in text):
            raise ExpressionError("quoted() takes one quoted text of 1 to 80 characters that holds a number")
        return text

    def evaluate(self, text: str) -> str:
        """Evaluate one expression (without the braces) to display text."""
        first, *filters = parse(text)
        function = self.functions.get(first.name)
        if function is None:
            raise ExpressionError(f"unknown function {first.name!r}; known: {', '.join(self.functions)}")
        try:
            value: Any = function(*first.args, **dict(first.kwargs))
        except (TypeError, ValueError, ArithmeticError) as exc:  # ExpressionError included
            message = re.sub(r"^[\w.]+\(\) ", "", str(exc))
            raise ExpressionError(f"{first.name}: {message}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise ExpressionError(f"{first.name} gives {value}, not a finite number")
        for flt in filters:
            fn = FILTERS.get(flt.name)
            if fn is None:
                raise ExpressionError(f"unknown filter {flt.name!r}; known: {', '.join(FILTERS)}")
            if not isinstance(value, (int, float)):
                raise ExpressionError(f"filter {flt.name!r} needs a number, but the value is already text: "
                                      "formatting filters (gib, round, comma, pct, ...) come last")
            try:
                value = fn(value, *flt.args, **dict(flt.kwargs))
            except ExpressionError as exc:
                raise ExpressionError(f"{flt.name}: {exc}") from None
            except (TypeError, ValueError, ArithmeticError) as exc:
                raise ExpressionError(f"{flt.name}: {exc}") from None
            if isinstance(value, float) and not math.isfinite(value):
                raise ExpressionError(f"{flt.name} gives {value}, not a finite number")
        if isinstance(value, float):
            value = f"{value:,.6g}"
        return str(value)

    def render(self, text: str) -> str:
        """Replace every `{{ ... }}` in ``text`` with its value (each text rendered once per
        evaluator: the site, the PDF and the Markdown copies render the same bodies)."""
        rendered = self._rendered.get(text)
        if rendered is None:
            rendered = replace_expressions(text, lambda span: self.evaluate(span[2:-2]))
            self._rendered[text] = rendered
        return rendered

    def check(self, text: str) -> list[tuple[int, str]]:
        """Problems in ``text``: (character offset, message) for each failing expression."""
        problems = []
        for start, _, inner in expression_spans(text):
            try:
                self.evaluate(inner)
            except ExpressionError as exc:
                shown = inner.strip()
                shown = shown if len(shown) <= 80 else shown[:77] + "..."
                problems.append((start, f"{{{{{shown}}}}}: {exc}"))
        return problems
