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
    plan("model-id", "figure", isl=N, osl=N, rate=R, ttft=S, tpot=S, gpu="gpu-id")
                                                        a figure of `inferbook plan`'s cheapest answer
                                                        (p95 targets, on-demand prices, the data's date):
                                                        usd_per_hour, usd_per_million_input,
                                                        usd_per_million_output, gpus, tp, replicas,
                                                        ttft_s, tpot_s, shapes (configurations screened)
Filters:
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

import math
import re
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


FILTERS: dict[str, Callable[..., str]] = {
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


class Evaluator:
    """Evaluates expressions against one knowledge base."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.functions: dict[str, Callable[..., float]] = {
            "value": self._value,
            "params_b": lambda m: self._params(m).total / 1e9,
            "active_params_b": lambda m: self._params(m).active / 1e9,
            "kv_bytes_per_token": self._kv_per_token,
            "kv_bytes": self._kv_bytes,
            "weight_bytes": self._weight_bytes,
            "state_bytes": self._state_bytes,
            "gpu_hour_usd": self._gpu_hour_usd,
            "plan": self._plan,
        }
        self._plans: dict[tuple[Any, ...], Any] = {}

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

    PLAN_FIGURES = ("usd_per_hour", "usd_per_million_input", "usd_per_million_output", "gpus", "tp", "replicas",
                    "ttft_s", "tpot_s", "shapes")

    def _plan(self, model_id: str, figure: str, isl: int = 1000, osl: int = 200, rate: float = 1.0,
              ttft: float = 2.0, tpot: float = 0.05, gpu: str | None = None) -> float:
        """A figure of the cheapest plan; each distinct question is searched once per evaluator."""
        import datetime as dt

        from .calc.plan import PlanError, Space, Targets, Workload, plan

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
            try:
                self._plans[key] = plan(self.kb, [model], Workload(key[1], key[2], rate=key[3]),
                                        Targets(key[4], key[5]), Space(gpus=gpus),
                                        today=dt.date.fromisoformat(self.kb.data_date))
            except (PlanError, ValueError) as exc:
                raise ExpressionError(str(exc)) from None
        found = self._plans[key]
        if figure == "shapes":
            return float(found.shapes)
        best = found.best
        if best is None:
            raise ExpressionError(f"no configuration of {model} meets those targets")
        usd_in, usd_out = best.usd_per_million(key[1], key[2])
        values = {"usd_per_hour": best.usd_per_hour, "usd_per_million_input": usd_in,
                  "usd_per_million_output": usd_out, "gpus": best.gpus, "tp": best.shape.tp,
                  "replicas": best.replicas, "ttft_s": best.ttft_s(95), "tpot_s": best.tpot_s(95)}
        return float(values[figure])

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
                raise ExpressionError(f"filter {flt.name!r} must come last")
            try:
                value = fn(value, *flt.args, **dict(flt.kwargs))
            except ExpressionError as exc:
                raise ExpressionError(f"{flt.name}: {exc}") from None
            except (TypeError, ValueError, ArithmeticError) as exc:
                raise ExpressionError(f"{flt.name}: {exc}") from None
        if isinstance(value, float):
            value = f"{value:,.6g}"
        return str(value)

    def render(self, text: str) -> str:
        """Replace every `{{ ... }}` in ``text`` with its value."""
        return replace_expressions(text, lambda span: self.evaluate(span[2:-2]))

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
