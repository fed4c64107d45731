"""A discrete-event batching simulator on roofline step times.

Policies:
- ``static``: the server waits for ``max_batch`` requests (fewer only at the end
  of the workload), prefills them together, padded to the longest prompt, and
  decodes until the longest request ends (finished sequences keep their slot).
- ``dynamic``: like static, but a batch leaves when it is full or when
  ``batch_window_s`` has passed since its first request arrived.
- ``continuous``: iteration-level scheduling; every step admits waiting requests
  within the sequence limit, the token budget and the free KV cache, optionally
  splitting prompts into chunks (chunked prefill); when the cache overflows the
  newest request is preempted and later recomputed.

The state is kept in aggregates and heaps so one step costs O(log n), not O(batch):
100,000 requests simulate in seconds. Seeded workloads make runs deterministic.
"""

from __future__ import annotations

import csv
import heapq
import io
import json
import math
import os
import random
import re
import stat
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from .metrics import Distribution, RequestRecord, Slo, Summary, percentile, summarize

Policy = Literal["static", "dynamic", "continuous"]


class StepModel(Protocol):
    """What the simulator needs of a performance model: the seconds of one step
    (`roofline.StepModel`, the calibrated `perf.StepCost`) and the attention window."""

    @property
    def window(self) -> int | None: ...

    def seconds(self, tokens: int, logits: int, span_full: float, span_window: float, kv_full: float,
                kv_window: float, sequences: int = 0) -> float: ...


@dataclass(frozen=True, slots=True)
class Request:
    """A request of the workload."""

    id: int
    """Identifies the request; results are listed by it."""
    arrival: float
    """When the request arrives, in seconds from the start of the run."""
    input_tokens: int
    """Prompt tokens."""
    output_tokens: int
    """Tokens to generate, the first included."""
    prefilled: bool = False
    """The prompt's KV cache arrives with the request (a disaggregated decode server): only
    the last prompt token is processed, attending to the rest."""


# workloads ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Lengths:
    """A token-length distribution: fixed, uniform between bounds, or lognormal around a mean."""

    kind: Literal["fixed", "uniform", "lognormal"] = "fixed"
    """The distribution: "fixed", "uniform" or "lognormal"."""
    mean: int = 512
    """Tokens: the length itself when fixed, the mean when lognormal; unused when uniform."""
    low: int = 1
    """Smallest length in tokens when uniform; unused otherwise."""
    high: int = 1024
    """Largest length in tokens when uniform, the cap when lognormal; unused when fixed."""
    sigma: float = 0.5
    """Standard deviation of the logarithm of the length when lognormal; unused otherwise."""

    def draw(self, rng: random.Random) -> int:
        """One length in tokens (at least 1), drawn with ``rng``."""
        if self.kind == "fixed":
            return max(1, self.mean)
        if self.kind == "uniform":
            return rng.randint(max(1, self.low), max(1, self.high))
        mu = math.log(max(self.mean, 1)) - self.sigma**2 / 2
        return max(1, min(self.high, round(rng.lognormvariate(mu, self.sigma))))


def workload(n: int, rate: float, inputs: Lengths, outputs: Lengths,
             arrivals: Literal["poisson", "bursty", "fixed"] = "poisson", burstiness: float = 4.0,
             seed: int = 0) -> list[Request]:
    """``n`` requests arriving at ``rate`` per second on average. Bursty arrivals
    use gamma gaps with shape 1/burstiness (coefficient of variation sqrt(burstiness))."""
    if n < 0 or rate <= 0:
        raise ValueError("the number of requests cannot be negative and the arrival rate must be above 0")
    rng = random.Random(seed)
    t, out = 0.0, []
    for i in range(n):
        if arrivals == "poisson":
            t += rng.expovariate(rate)
        elif arrivals == "bursty":
            shape = 1.0 / burstiness
            t += rng.gammavariate(shape, 1.0 / (rate * shape))
        elif arrivals == "fixed":
            t += 1.0 / rate
        else:
            raise ValueError(f"unknown arrival process {arrivals!r}")
        out.append(Request(i, t, inputs.draw(rng), outputs.draw(rng)))
    return out


class TraceError(ValueError):
    """A malformed trace file, with the line that is wrong."""


MAX_TRACE_BYTES = 50_000_000
"""Largest trace file read (50 MB); larger files are refused before reading."""
MAX_TRACE_ROWS = 1_000_000
"""Most requests a trace may hold."""
MAX_TRACE_TOKENS = 100_000_000
"""Longest prompt or output a trace request may have."""
_TRACE_FIELDS = ("arrival", "input_tokens", "output_tokens")
_CSV_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_NOT_FINITE = frozenset({"nan", "inf", "infinity"})


@dataclass(frozen=True, slots=True)
class _Raw:
    """A trace cell that is not a usable number, kept as written for the message."""

    text: str
    finite: bool = True
    """False for numbers outside the float range (1e400), NaN and infinity."""


def _json_float(text: str) -> float | _Raw:
    """A JSON or CSV number with a fraction or exponent; `_Raw` when it overflows (1e400)."""
    value = float(text)
    return value if math.isfinite(value) else _Raw(text, finite=False)


def _json_int(text: str) -> int | float | _Raw:
    """A JSON or CSV integer; a long one is read as a float, so it costs nothing to convert."""
    return int(text) if len(text) <= 20 else _json_float(text)


_JSON = json.JSONDecoder(parse_float=_json_float, parse_int=_json_int,
                         parse_constant=lambda text: _Raw(text, finite=False))


def _csv_cell(cell: str | None) -> object:
    """A CSV cell as a number, or a `_Raw` of what is there instead (None when missing)."""
    if cell is None:
        return None
    text = cell.strip()
    if text.isascii() and text.isdigit():  # the common case, quickly
        return _json_int(text)
    if _CSV_NUMBER.fullmatch(text):
        if text.lstrip("+-").isdigit():
            return _json_int(text)
        return _json_float(text)
    return _Raw(text, finite=text.lower().lstrip("+-") not in _NOT_FINITE)


def _read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of ``path``, which must be a regular file of at most ``limit`` bytes.
    FIFOs and devices are refused before they are opened (and opened without blocking,
    should the path change in between), large files before they are read."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise TraceError(f"{path}: not a regular file; a trace must be a CSV or JSONL file")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise TraceError(f"{path}: no such file") from None
    except OSError as exc:
        raise TraceError(f"{path}: cannot read the trace ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise TraceError(f"{path}: not a regular file; a trace must be a CSV or JSONL file")
        too_big = f"{path}: the trace is larger than {limit:,} bytes ({limit / 1e6:g} MB), the most that is read"
        if info.st_size > limit:
            raise TraceError(too_big)
        data = handle.read(limit + 1)
    if len(data) > limit:  # it grew after the check
        raise TraceError(too_big)
    return data


def _describe(value: object) -> str:
    """How a wrong trace value reads in a message."""
    if value is None:
        return "missing"
    if isinstance(value, _Raw):
        return "empty" if not value.text else repr(value.text if len(value.text) <= 40 else value.text[:40] + "...")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the text {json.dumps(value[:40] + ('...' if len(value) > 40 else ''))}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return repr(value)


def _number(row: dict[str, object], name: str, where: str) -> int | float:
    """The finite number in ``row[name]``; TraceError naming the field otherwise."""
    value = row.get(name)
    if isinstance(value, _Raw) and not value.finite:
        raise TraceError(f"{where}: {name} must be a finite number, got {value.text}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TraceError(f"{where}: needs numeric arrival, input_tokens, output_tokens; {name} is {_describe(value)}")
    return value


def _tokens(row: dict[str, object], name: str, where: str) -> int:
    """A token count: a whole number from 1 to MAX_TRACE_TOKENS."""
    value = _number(row, name, where)
    if isinstance(value, float) and not value.is_integer():
        raise TraceError(f"{where}: {name} must be a whole number ≥ 1, got {value}")
    if value < 1:
        raise TraceError(f"{where}: arrival must be >= 0 and token counts >= 1; {name} is {value:g}")
    if value > MAX_TRACE_TOKENS:
        shown = f"{value:,}" if isinstance(value, int) else f"{value:g}"
        raise TraceError(f"{where}: {name} must be at most {MAX_TRACE_TOKENS:,} tokens, got {shown}")
    return int(value)


def _seconds(value: float) -> str:
    """An arrival time for a message: 1, 0.5, 1234567.25."""
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _jsonl_rows(path: Path, text: str) -> Iterator[tuple[int, dict[str, object]]]:
    """(line number, object) for each non-blank line of a JSONL trace."""
    rows = 0
    for lineno, line in enumerate(io.StringIO(text, newline="\n"), 1):
        if not line.strip():
            continue
        rows += 1
        if rows > MAX_TRACE_ROWS:
            raise TraceError(f"{path}:{lineno}: more than {MAX_TRACE_ROWS:,} requests, the most a trace may hold")
        try:
            item = _JSON.decode(line)
        except json.JSONDecodeError as exc:
            raise TraceError(f"{path}:{lineno}: not JSON: {exc.msg}") from None
        except RecursionError:
            raise TraceError(f"{path}:{lineno}: not a trace row: values are nested too deeply") from None
        if not isinstance(item, dict):
            raise TraceError(f"{path}:{lineno}: each line must be a JSON object")
        yield lineno, item


def _csv_rows(path: Path, text: str) -> Iterator[tuple[int, dict[str, object]]]:
    """(line number, {field: cell read as a number}) for each row of a CSV trace."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = 0
    try:
        header = [name.strip() for name in next(reader, [])]
        missing = set(_TRACE_FIELDS) - set(header)
        if missing:
            raise TraceError(f"{path}:1: missing columns: {', '.join(sorted(missing))}")
        columns = [(name, header.index(name)) for name in _TRACE_FIELDS]
        for cells in reader:
            if not cells:
                continue
            rows += 1
            if rows > MAX_TRACE_ROWS:
                raise TraceError(f"{path}:{reader.line_num}: more than {MAX_TRACE_ROWS:,} requests, "
                                 f"the most a trace may hold")
            yield reader.line_num, {name: _csv_cell(cells[i] if i < len(cells) else None) for name, i in columns}
    except csv.Error as exc:
        raise TraceError(f"{path}:{reader.line_num}: not valid CSV ({exc})") from None


def load_trace(path: Path) -> list[Request]:
    """Read a trace: CSV with a header (arrival, input_tokens, output_tokens) or JSONL
    with those keys per line. Arrival times are seconds and must not decrease; token
    counts are whole numbers from 1 to MAX_TRACE_TOKENS. Only regular files of at most
    MAX_TRACE_BYTES with at most MAX_TRACE_ROWS requests are read."""
    data = _read_regular_file(path, MAX_TRACE_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise TraceError(f"{path}:{line}: not UTF-8 text") from None
    del data
    rows = _jsonl_rows(path, text) if path.suffix == ".jsonl" else _csv_rows(path, text)
    requests, last = [], 0.0
    for index, (lineno, row) in enumerate(rows):
        where = f"{path}:{lineno}"
        arrival = float(_number(row, "arrival", where))
        if arrival < 0:
            raise TraceError(f"{where}: arrival must be >= 0, got {_seconds(arrival)}")
        inputs, outputs = _tokens(row, "input_tokens", where), _tokens(row, "output_tokens", where)
        if arrival < last:
            raise TraceError(f"{where}: arrival times must not decrease; {_seconds(arrival)} s comes after "
                             f"{_seconds(last)} s")
        last = arrival
        requests.append(Request(index, arrival, inputs, outputs))
    if not requests:
        raise TraceError(f"{path}: the trace holds no requests")
    return requests


# configuration and results ----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SimConfig:
    """Scheduler settings (names follow vLLM's where they exist)."""

    policy: Policy = "continuous"
    """How requests are batched: "static", "dynamic" or "continuous" (see the module docstring)."""
    max_batch: int = 256
    """Most sequences in a batch (vLLM --max-num-seqs)."""
    max_batched_tokens: int = 8192
    """Token budget of one step (vLLM --max-num-batched-tokens)."""
    chunked_prefill: bool = True
    """Continuous policy: split prompts into chunks that fit the step's token budget; when off, a prompt
    runs whole in one step."""
    kv_capacity_tokens: int = 1 << 40
    """KV-cache capacity in full-context tokens per sequence-token (from the capacity calculator)."""
    batch_window_s: float = 0.05
    """How long a dynamic batch waits for more requests."""
    max_steps: int | None = None
    """Most scheduler steps (forward passes) to simulate before giving up with
    `SimulationLimit`; None for no limit."""
    closed_loop: bool = False
    """A closed loop of clients (continuous policy): a request counts as arriving when it
    is admitted, as when a client sends its next request the moment a slot frees; set
    ``max_batch`` to the number of clients and queue every request at time 0."""
    lockstep_ranks: int = 1
    """Continuous policy: the stream stands for this many attention-DP ranks that step together (their
    MoE layers exchange tokens every step) without balancing their prompts. The step model times the
    busiest rank: its share of the decoding sequences (they spread evenly), and of the step's prompt
    chunks a share too, but never less than the largest chunk, which one rank prefills alone while the
    others wait for it. A lone prompt thus holds every rank; a full step of prompts (offline, high
    load) spreads over them as each rank fills its own token budget. 1 is a single stream."""
    reserve_full_length: bool = False
    """Continuous policy: admission reserves the KV cache of the whole prompt and every output
    token up front (TensorRT-LLM's default GUARANTEED_NO_EVICT capacity policy), so no sequence
    is ever preempted; when off, a sequence's cache grows a token at a time and the newest
    sequence is preempted (and later recomputed) when the cache runs out (vLLM, SGLang)."""
    record_steps: bool = False
    """Keep every step's inputs (`SimResult.steps`) and each request's admission, first-token
    and finish steps (`SimResult.request_steps`), so a run can be re-timed under other
    step costs (calibration)."""

    def __post_init__(self) -> None:
        if self.policy not in ("static", "dynamic", "continuous"):
            raise ValueError(f"unknown policy {self.policy!r}")
        if self.max_batch < 1 or self.max_batched_tokens < 1 or self.kv_capacity_tokens < 1 or self.lockstep_ranks < 1:
            raise ValueError("the batch limit, the step's token budget and the KV-cache capacity must each be "
                             "at least 1")
        if self.batch_window_s < 0:
            raise ValueError("the batching window cannot be negative")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError("the step limit must be at least 1")


class SimulationLimit(ValueError):
    """The run needed more scheduler steps than `SimConfig.max_steps` allows."""

    def __init__(self, steps: int, clock: float):
        super().__init__(f"the simulation was stopped after {steps:,} scheduler steps ({clock:,.0f} simulated "
                         f"seconds), the most it runs; simulate fewer requests, shorter prompts or outputs, "
                         f"or a larger token budget")
        self.steps, self.clock = steps, clock


@dataclass(slots=True)
class SimResult:
    """Per-request outcomes and step statistics of a run."""

    records: list[RequestRecord]
    """One record per completed request (times in seconds), ordered by request id."""
    step_durations: list[float] = field(default_factory=list)
    """Seconds each scheduler step (forward pass) took, in order."""
    step_decode_tokens: list[int] = field(default_factory=list)
    """Per step, the tokens decoding sequences emitted in it (0 for a prefill-only step; the first
    token of a prompt that finishes prefilling is not counted)."""
    preemptions: int = 0
    """Times a sequence was evicted because the KV cache was full, to be recomputed later."""
    rejected: list[int] = field(default_factory=list)
    """Ids of requests that can never fit (prompt + output above the KV capacity)."""
    steps: list[tuple[Any, ...]] = field(default_factory=list)
    """With `SimConfig.record_steps`: the arguments of every step's `StepModel.seconds` call (fractions of a
    token and a sequence with `SimConfig.lockstep_ranks`)."""
    step_starts: list[float] = field(default_factory=list)
    """With `SimConfig.record_steps`: the clock when each step began (idle gaps show between them)."""
    request_steps: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    """With `SimConfig.record_steps`: request id -> (steps done before its admission, step that
    emitted its first token, step that finished it), steps counted from 1."""

    def summary(self, slo: Slo | None = None) -> Summary:
        """Aggregate metrics of the completed requests (`metrics.summarize`, with ``slo`` for goodput),
        with inter-token latencies taken from the step durations (`itl`)."""
        base = summarize(self.records, slo=slo)
        return Summary(**{**{f: getattr(base, f) for f in base.__dataclass_fields__}, "itl": self.itl()})

    def itl(self) -> Distribution:
        """Inter-token latencies: each decode step's duration, once per token it emitted."""
        pairs = [(d, n) for d, n in zip(self.step_durations, self.step_decode_tokens, strict=True) if n]
        if not pairs:
            return Distribution.of([])
        pairs.sort()
        total = sum(n for _, n in pairs)
        mean = sum(d * n for d, n in pairs) / total

        def quantile(q: float) -> float:
            target = q / 100 * (total - 1)
            seen = 0
            for d, n in pairs:
                if seen + n > target:
                    return d
                seen += n
            return pairs[-1][0]

        return Distribution(mean, quantile(50), quantile(90), quantile(95), quantile(99), pairs[-1][0], total)


# the simulation ----------------------------------------------------------------------
@dataclass(slots=True)
class _Seq:
    req: Request
    prefill_left: int
    done_tokens: int = 0  # output tokens emitted before the current decode stint
    first_token: float | None = None
    start_step: int = 0
    ctx_start: int = 0
    stint: int = 0
    admitted: float | None = None
    admitted_step: int = 0
    first_step: int = 0


def simulate(requests: Sequence[Request], model: StepModel, config: SimConfig = SimConfig()) -> SimResult:
    """Run the workload through the chosen policy; deterministic for a given input."""
    if config.policy == "continuous":
        return _Continuous(requests, model, config).run()
    return _batched(requests, model, config)


def _spans(model: StepModel, ctx_before: int, new: int) -> tuple[float, float]:
    """Attention spans (full, windowed) of ``new`` tokens appended after ``ctx_before``."""
    full = new * ctx_before + new * (new + 1) / 2
    w = model.window
    if w is None:
        return full, 0.0
    window = sum(min(ctx_before + i, w) for i in range(1, new + 1)) if new < 64 else (
        new * min(ctx_before + (new + 1) / 2, w))
    return full, window


class _Continuous:
    def __init__(self, requests: Sequence[Request], model: StepModel, config: SimConfig):
        self.model, self.cfg = model, config
        self.pending = sorted(requests, key=lambda r: (r.arrival, r.id))
        self.waiting: deque[_Seq] = deque()
        self.prefilling: list[_Seq] = []
        self.decoding: dict[int, _Seq] = {}
        self.finish_heap: list[tuple[int, int, int]] = []
        self.cross_heap: list[tuple[int, int, int]] = []
        self.window = model.window
        # aggregates over decoding sequences: ctx_i(k) = ctx_start_i + (k - start_i)
        self.n_dec = 0
        self.base_sum = 0  # sum of ctx_start_i - start_i
        self.n_below = 0  # decoding sequences whose context is still under the window
        self.base_below = 0
        self.kv_used = 0  # tokens held by prefilling sequences (decoding ones are in the aggregates)
        self.reserved = 0  # full lengths of the admitted sequences, with `SimConfig.reserve_full_length`
        self.step = 0
        self.clock = 0.0
        self.records: dict[int, RequestRecord] = {}
        self.result = SimResult([])

    # cache accounting -----------------------------------------------------------
    def decode_ctx_sum(self) -> int:
        return self.base_sum + self.n_dec * self.step

    def kv_tokens(self) -> int:
        return self.decode_ctx_sum() + self.kv_used

    def run(self) -> SimResult:
        i, n = 0, len(self.pending)
        while i < n or self.waiting or self.prefilling or self.decoding:
            while i < n and self.pending[i].arrival <= self.clock:
                self._arrive(self.pending[i])
                i += 1
            if not (self.waiting or self.prefilling or self.decoding):
                if i == n:  # the last arrivals were all rejected
                    break
                self.clock = self.pending[i].arrival
                continue
            if self.decoding and not self.prefilling and self._admission_blocked() and \
                    self._decode_run(self.pending[i].arrival if i < n else math.inf):
                continue
            self._one_step()
        self.result.records = [self.records[k] for k in sorted(self.records)]
        return self.result

    def _arrive(self, req: Request) -> None:
        if req.input_tokens + req.output_tokens > self.cfg.kv_capacity_tokens:
            self.result.rejected.append(req.id)
            return
        self.waiting.append(_Seq(req, 1 if req.prefilled else req.input_tokens))

    def _one_step(self) -> None:
        cfg, model = self.cfg, self.model
        budget = cfg.max_batched_tokens - self.n_dec
        seqs = self.n_dec + len(self.prefilling)
        # admit new sequences: a prompt needs its KV reserved up front
        while self.waiting and seqs < cfg.max_batch and budget > len(self.prefilling):
            seq = self.waiting[0]
            need = seq.prefill_left
            held = seq.req.input_tokens + seq.done_tokens  # a prefilled request brings its cache along
            full = seq.req.input_tokens + seq.req.output_tokens
            if self.kv_tokens() + held > cfg.kv_capacity_tokens or (
                    cfg.reserve_full_length and self.reserved + full > cfg.kv_capacity_tokens):
                break
            # unchunked, a prompt over the budget runs whole beside the decodes, with no other prompt
            if not cfg.chunked_prefill and need > budget and self.prefilling:
                break
            self.waiting.popleft()
            if seq.admitted is None:
                seq.admitted, seq.admitted_step = self.clock, self.step
            self.prefilling.append(seq)
            self.kv_used += held
            if cfg.reserve_full_length:
                self.reserved += full
            seqs += 1
        # schedule prefill chunks within the budget
        tokens = self.n_dec
        span_full = span_win = 0.0
        chunks: list[tuple[_Seq, int]] = []
        for seq in self.prefilling:
            if budget <= 0:
                break
            take = seq.prefill_left if not cfg.chunked_prefill else min(seq.prefill_left, budget)
            if not cfg.chunked_prefill and take > budget and chunks:
                break
            done_before = seq.req.input_tokens + seq.done_tokens - seq.prefill_left
            f, w = _spans(model, done_before, take)
            span_full += f
            span_win += w
            chunks.append((seq, take))
            tokens += take
            budget -= take
        ctx_sum = self.decode_ctx_sum()
        below_sum = self.base_below + self.n_below * self.step
        above = self.n_dec - self.n_below
        win_ctx = below_sum + above * (self.window or 0) if self.window else 0
        finished = sum(1 for s, t in chunks if t == s.prefill_left)
        if cfg.lockstep_ranks == 1:
            step: tuple[Any, ...] = (tokens, self.n_dec + finished, span_full + (ctx_sum + self.n_dec),
                                     span_win + (win_ctx + self.n_dec) if self.window else 0.0, ctx_sum, win_ctx,
                                     self.n_dec + len(chunks))
        else:  # the busiest rank: its share of the decodes, and of the prompt chunks at least the largest
            r = cfg.lockstep_ranks
            dec = self.n_dec / r
            f = max(max(t for _, t in chunks) / (tokens - self.n_dec), 1 / r) if chunks else 1.0
            step = ((tokens - self.n_dec) * f + dec, dec + finished * f, span_full * f + (ctx_sum + self.n_dec) / r,
                    span_win * f + (win_ctx + self.n_dec) / r if self.window else 0.0, ctx_sum / r, win_ctx / r,
                    dec + len(chunks) * f)
        dt = model.seconds(*step)
        if cfg.record_steps:
            self.result.step_starts.append(self.clock)
            self.result.steps.append(step)
        self.clock += dt
        self.step += 1
        if cfg.max_steps is not None and self.step > cfg.max_steps:
            raise SimulationLimit(cfg.max_steps, self.clock)
        self._update_window_crossings()
        self.result.step_durations.append(dt)
        self.result.step_decode_tokens.append(self.n_dec)
        # prefill progress: a finished prompt emits its first token now
        for seq, take in chunks:
            seq.prefill_left -= take
            if seq.prefill_left == 0:
                self.prefilling.remove(seq)
                self.kv_used -= seq.req.input_tokens + seq.done_tokens
                if seq.first_token is None:
                    seq.first_token, seq.first_step = self.clock, self.step
                seq.done_tokens += 1
                if seq.done_tokens >= seq.req.output_tokens:
                    self._finish(seq)
                else:
                    self._start_decoding(seq)
        # decoding sequences emitted one token each; retire the finished ones
        while self.finish_heap and self.finish_heap[0][0] <= self.step:
            _, rid, stint = heapq.heappop(self.finish_heap)
            retired = self.decoding.get(rid)
            if retired is not None and retired.stint == stint:
                self._stop_decoding(retired)
                retired.done_tokens = retired.req.output_tokens
                self._finish(retired)
        while self.kv_tokens() > self.cfg.kv_capacity_tokens and (self.decoding or self.prefilling):
            self._preempt_newest()

    def _admission_blocked(self) -> bool:
        """Whether `_one_step` would admit nothing now (no prompt is prefilling). Nothing frees
        up while only decodes run: the batch keeps its size and the cache grows, so a blocked
        admission stays blocked until a sequence finishes or is preempted."""
        if not self.waiting:
            return True
        cfg = self.cfg
        if not (self.n_dec < cfg.max_batch and cfg.max_batched_tokens - self.n_dec > 0):
            return True
        seq = self.waiting[0]
        held = seq.req.input_tokens + seq.done_tokens
        full = seq.req.input_tokens + seq.req.output_tokens
        return self.kv_tokens() + held > cfg.kv_capacity_tokens or (
            cfg.reserve_full_length and self.reserved + full > cfg.kv_capacity_tokens)

    def _decode_run(self, next_arrival: float) -> int:
        """Run the steps that only decode and after which nothing happens, as `_one_step` would, in a
        tight loop: no arrival before the step, and after it no sequence finishes, none crosses the
        attention window, the cache does not overflow and the step limit holds. The batch is fixed,
        so only the context terms change from step to step, each by the same sum as `_one_step`
        computes (the step times are the same floats). Returns the number of steps run (0 when the
        next step has an event: `_one_step` takes it)."""
        cfg, n = self.cfg, self.n_dec
        last = cfg.max_steps if cfg.max_steps is not None else 1 << 62  # the last step number allowed after a step
        if self.finish_heap:
            last = min(last, self.finish_heap[0][0] - 1)
        if self.cross_heap:
            last = min(last, self.cross_heap[0][0] - 1)
        last = min(last, (cfg.kv_capacity_tokens - self.base_sum - self.kv_used) // n)
        if last <= self.step or self.clock >= next_arrival:
            return 0
        window, r = self.window, cfg.lockstep_ranks
        base_sum, base_below, n_below = self.base_sum, self.base_below, self.n_below
        above = n - n_below
        if r == 1:
            tokens: float = n
            fixed: tuple[float, float, float] = (n, n, n)  # tokens, logits, sequences
        else:
            dec = n / r
            fixed = (n - n + dec, dec + 0, dec + 0)
            tokens = fixed[0]
        timer = _decode_timer(self.model, *fixed)
        durations, decode_tokens = self.result.step_durations, self.result.step_decode_tokens
        record = cfg.record_steps
        step, clock, start = self.step, self.clock, self.step
        span_full: float
        span_win: float
        kv_full: float
        kv_win: float
        while step < last and clock < next_arrival:
            ctx_sum = base_sum + n * step
            win_ctx = base_below + n_below * step + above * window if window else 0
            if r == 1:
                span_full, span_win, kv_full, kv_win = (0.0 + (ctx_sum + n), 0.0 + (win_ctx + n) if window else 0.0,
                                                        ctx_sum, win_ctx)
            else:
                span_full, span_win, kv_full, kv_win = (0.0 + (ctx_sum + n) / r,
                                                        0.0 + (win_ctx + n) / r if window else 0.0,
                                                        ctx_sum / r, win_ctx / r)
            dt = timer(span_full, span_win, kv_full, kv_win)
            if record:
                self.result.step_starts.append(clock)
                self.result.steps.append((tokens, fixed[1], span_full, span_win, kv_full, kv_win, fixed[2]))
            clock += dt
            step += 1
            durations.append(dt)
            decode_tokens.append(n)
        self.step, self.clock = step, clock
        return step - start

    def _start_decoding(self, seq: _Seq) -> None:
        seq.stint += 1
        seq.start_step = self.step
        seq.ctx_start = seq.req.input_tokens + seq.done_tokens
        self.decoding[seq.req.id] = seq
        self.n_dec += 1
        self.base_sum += seq.ctx_start - self.step
        remaining = seq.req.output_tokens - seq.done_tokens
        heapq.heappush(self.finish_heap, (self.step + remaining, seq.req.id, seq.stint))
        if self.window and seq.ctx_start < self.window:
            self.n_below += 1
            self.base_below += seq.ctx_start - self.step
            heapq.heappush(self.cross_heap, (self.step + self.window - seq.ctx_start, seq.req.id, seq.stint))

    def _stop_decoding(self, seq: _Seq) -> None:
        del self.decoding[seq.req.id]
        self.n_dec -= 1
        self.base_sum -= seq.ctx_start - seq.start_step
        if self.window and seq.ctx_start < self.window and seq.start_step + self.window - seq.ctx_start > self.step:
            self.n_below -= 1
            self.base_below -= seq.ctx_start - seq.start_step
        seq.done_tokens += self.step - seq.start_step
        seq.stint += 1

    def _update_window_crossings(self) -> None:
        while self.cross_heap and self.cross_heap[0][0] <= self.step:
            _, rid, stint = heapq.heappop(self.cross_heap)
            seq = self.decoding.get(rid)
            if seq is not None and seq.stint == stint:
                self.n_below -= 1
                self.base_below -= seq.ctx_start - seq.start_step

    def _preempt_newest(self) -> None:
        self.result.preemptions += 1
        if self.prefilling:
            seq = self.prefilling.pop()
            self.kv_used -= seq.req.input_tokens + seq.done_tokens
            seq.prefill_left = seq.req.input_tokens + seq.done_tokens
            self.waiting.appendleft(seq)
            return
        # the newest is the largest (start_step, id). Sequences enter `decoding` (a dict, kept in
        # insertion order) with the current step, which only grows, so start_step never decreases
        # along the dict: only the run of equal start_step at its end needs a look, not every sequence
        newest = reversed(self.decoding.values())
        seq = next(newest)
        for other in newest:
            if other.start_step != seq.start_step:
                break
            if other.req.id > seq.req.id:
                seq = other
        self._stop_decoding(seq)
        seq.prefill_left = seq.req.input_tokens + seq.done_tokens  # recompute prompt and output so far
        self.waiting.appendleft(seq)

    def _finish(self, seq: _Seq) -> None:
        if self.cfg.reserve_full_length:
            self.reserved -= seq.req.input_tokens + seq.req.output_tokens
        first = seq.first_token if seq.first_token is not None else self.clock
        arrival = seq.req.arrival
        if self.cfg.closed_loop and seq.admitted is not None:
            arrival = seq.admitted
        self.records[seq.req.id] = RequestRecord(arrival, first, self.clock, seq.req.input_tokens,
                                                 seq.req.output_tokens)
        if self.cfg.record_steps:
            self.result.request_steps[seq.req.id] = (seq.admitted_step, seq.first_step or self.step, self.step)


def _decode_timer(model: StepModel, tokens: float, logits: float,
                  sequences: float) -> Callable[[float, float, float, float], float]:
    """``model.seconds`` with the step's tokens, logits and sequences fixed: a function of the
    attention spans and cached tokens alone. A model that has `decode_timer` (`perf.StepCost`)
    works out its fixed terms once."""
    own = getattr(model, "decode_timer", None)
    if own is not None:
        timer: Callable[[float, float, float, float], float] = own(tokens, logits, sequences)
        return timer
    seconds = model.seconds
    return lambda span_full, span_window, kv_full, kv_window: seconds(
        tokens, logits, span_full, span_window, kv_full, kv_window, sequences)  # type: ignore[arg-type]


def _batched(requests: Sequence[Request], model: StepModel, cfg: SimConfig) -> SimResult:
    """Static and dynamic batching: whole batches, no admission while one runs."""
    pending = sorted(requests, key=lambda r: (r.arrival, r.id))
    result = SimResult([])
    records: dict[int, RequestRecord] = {}
    clock, i, n = 0.0, 0, len(pending)
    limit = cfg.max_steps if cfg.max_steps is not None else math.inf
    while i < n:
        first = pending[i]
        if pending[i].input_tokens + pending[i].output_tokens > cfg.kv_capacity_tokens:
            result.rejected.append(pending[i].id)
            i += 1
            continue
        clock = max(clock, first.arrival)  # the server is free and a request is waiting
        if cfg.policy == "dynamic":
            # leave when the batch is full or the window since its first request has passed
            deadline = first.arrival + cfg.batch_window_s
            if i + cfg.max_batch <= n:
                deadline = min(deadline, pending[i + cfg.max_batch - 1].arrival)
            clock = max(clock, deadline)
        else:  # static: wait until a full batch has arrived (or the workload is exhausted)
            clock = max(clock, pending[min(i + cfg.max_batch, n) - 1].arrival)
        batch: list[Request] = []
        kv = 0
        while i < n and len(batch) < cfg.max_batch and pending[i].arrival <= clock:
            need = pending[i].input_tokens + pending[i].output_tokens
            if kv + need > cfg.kv_capacity_tokens:
                break
            batch.append(pending[i])
            kv += need
            i += 1
        if not batch:  # pragma: no cover - the first request has always arrived by now
            continue
        prompt = max(r.input_tokens for r in batch)  # padded to the longest prompt
        f, w = _spans(model, 0, prompt)
        dt = model.seconds(prompt * len(batch), len(batch), f * len(batch), w * len(batch), 0, 0, len(batch))
        clock += dt
        result.step_durations.append(dt)
        result.step_decode_tokens.append(0)
        first_token = clock
        steps = max(r.output_tokens for r in batch) - 1
        if len(result.step_durations) + steps > limit:
            raise SimulationLimit(int(limit), clock)
        # by output length: before decode step s, the requests from `done` on still emit
        by_length = sorted(batch, key=lambda r: r.output_tokens)
        finish_at: dict[int, float] = {}
        done = 0
        while done < len(by_length) and by_length[done].output_tokens == 1:
            finish_at[by_length[done].id] = clock
            done += 1
        b = len(batch)
        for s in range(1, steps + 1):
            ctx = prompt + s - 1
            win = min(ctx, model.window) if model.window else 0
            dt = model.seconds(b, b, b * (ctx + 1), b * (win + 1) if model.window else 0, b * ctx, b * win, b)
            clock += dt
            result.step_durations.append(dt)
            result.step_decode_tokens.append(b - done)
            while done < len(by_length) and by_length[done].output_tokens == s + 1:
                finish_at[by_length[done].id] = clock
                done += 1
        for r in batch:
            records[r.id] = RequestRecord(r.arrival, first_token, finish_at[r.id], r.input_tokens, r.output_tokens)
    result.records = [records[k] for k in sorted(records)]
    return result


__all__ = [
    "MAX_TRACE_BYTES", "MAX_TRACE_ROWS", "MAX_TRACE_TOKENS", "Lengths", "Request", "SimConfig", "SimResult",
    "SimulationLimit", "TraceError", "load_trace", "percentile", "simulate", "workload",
]
