"""Argparse ``type=`` validators for numeric options: each rejects NaN, infinity and
values outside its range with a message that states the range and unit, so argparse
reports ``argument --rate: must be ...`` and exits with code 2."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

_MAX_TEXT = 40
"""Characters of a rejected value that an error message repeats."""
_MAX_DIGITS = 30
"""Longest number text read at all (keeps int() and float() cheap on absurd input)."""


def _shown(text: str) -> str:
    """The rejected text, quoted and shortened for a message."""
    return repr(text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "...")


def _amount(value: float) -> str:
    """A bound written for people: 1,000,000 or 0.5."""
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.0f}" if value.is_integer() else f"{value:,g}"


@dataclass(frozen=True, slots=True)
class Number:
    """A finite number between ``low`` and ``high`` (``low`` excluded when ``low_open``),
    optionally a whole number; ``unit`` is named in messages and help."""

    low: float
    high: float
    unit: str
    whole: bool = False
    low_open: bool = False

    @property
    def range_text(self) -> str:
        """The allowed range in words, e.g. 'a whole number from 1 to 1,024 GPUs'."""
        kind = "a whole number" if self.whole else "a number"
        unit = f" {self.unit}" if self.unit else ""
        if self.low_open:
            return f"{kind} above {_amount(self.low)} and at most {_amount(self.high)}{unit}"
        return f"{kind} from {_amount(self.low)} to {_amount(self.high)}{unit}"

    def __call__(self, text: str) -> int | float:
        """Parse ``text`` or raise ``argparse.ArgumentTypeError`` stating the range."""
        value = self.parse(text)
        if value is None:
            raise argparse.ArgumentTypeError(f"must be {self.range_text}, got {_shown(text)}")
        return value

    def parse(self, text: str) -> int | float | None:
        """The value of ``text``, or None when it is not a number in range."""
        text = text.strip()
        if not text or len(text) > _MAX_DIGITS:
            return None
        value: int | float
        try:
            value = int(text) if self.whole else float(text)
        except ValueError:
            if not self.whole:
                return None
            try:  # 1e3 or 64.0 are whole numbers too; 2.5 is not
                number = float(text)
            except ValueError:
                return None
            if not (math.isfinite(number) and number.is_integer()):
                return None
            value = int(number)
        if not math.isfinite(value):
            return None
        too_low = value <= self.low if self.low_open else value < self.low
        return None if too_low or value > self.high else value

    @property
    def __name__(self) -> str:  # argparse names the type in some messages
        return "number"


def positive_int(high: int, unit: str) -> Number:
    """A whole number from 1 to ``high``."""
    return Number(1, high, unit, whole=True)


def whole(low: int, high: int, unit: str) -> Number:
    """A whole number from ``low`` to ``high``."""
    return Number(low, high, unit, whole=True)


def finite_float(low: float, high: float, unit: str, low_open: bool = False) -> Number:
    """A finite number from ``low`` (excluded when ``low_open``) to ``high``."""
    return Number(low, high, unit, low_open=low_open)


def fraction(unit: str = "") -> Number:
    """A share above 0 and at most 1."""
    return Number(0.0, 1.0, unit, low_open=True)


@dataclass(frozen=True, slots=True)
class KeyedNumber:
    """``KEY=VALUE`` with the value checked by ``number``; gives ``(key, value)``."""

    key: str
    value: str
    number: Number

    def __call__(self, text: str) -> tuple[str, int | float]:
        """Split and check ``text``; raise ``argparse.ArgumentTypeError`` when malformed."""
        key, sep, raw = text.partition("=")
        value = self.number.parse(raw) if sep else None
        if not key.strip() or value is None:
            raise argparse.ArgumentTypeError(
                f"must be {self.key}={self.value} with {self.value} {self.number.range_text}, got {_shown(text)}")
        return key.strip(), value

    @property
    def __name__(self) -> str:  # argparse names the type in some messages
        return "pair"


# Limits of the calculator options, written once ---------------------------------------
MAX_TOKENS = 100_000_000
"""Longest context or prompt a calculator accepts."""
MAX_SIM_INPUT = 10_000_000
"""Longest mean prompt the simulator accepts (every prompt is prefilled step by step)."""
MAX_SIM_OUTPUT = 1_000_000
"""Longest mean output the simulator accepts (one decode step per token)."""
MAX_SEQUENCES = 1_000_000
MAX_GPUS = 1024
MAX_REQUESTS = 1_000_000
MAX_RATE = 1_000_000.0
MAX_SECONDS = 86_400.0
MAX_USD_PER_HOUR = 1_000_000.0
MAX_SEED = 2**32 - 1
MAX_ROWS = 100_000

CONTEXT = positive_int(MAX_TOKENS, "tokens")
SEQUENCES = positive_int(MAX_SEQUENCES, "sequences")
GPUS = positive_int(MAX_GPUS, "GPUs")
UTILISATION = fraction()
EFFICIENCY = fraction()
TOKENS = positive_int(MAX_TOKENS, "tokens")
SIM_INPUT = positive_int(MAX_SIM_INPUT, "tokens")
SIM_OUTPUT = positive_int(MAX_SIM_OUTPUT, "tokens")
ROWS = positive_int(MAX_ROWS, "rows")
PRICE = finite_float(0.0, MAX_USD_PER_HOUR, "USD per GPU-hour")
GPU_PRICE = KeyedNumber("GPU", "USD_PER_HOUR", PRICE)
REQUESTS = positive_int(MAX_REQUESTS, "requests")
RATE = finite_float(0.0, MAX_RATE, "requests per second", low_open=True)
SEED = whole(0, MAX_SEED, "")
BATCH_TOKENS = positive_int(MAX_TOKENS, "tokens")
WINDOW = finite_float(0.0, MAX_SECONDS, "seconds")
SLO_SECONDS = finite_float(0.0, MAX_SECONDS, "seconds", low_open=True)
PORT = whole(0, 65_535, "(0 picks a free port)")


def helptext(what: str, number: Number, default: bool = True) -> str:
    """Help for an option: what it is, its range and unit, and (when it has one) its default."""
    text = f"{what}; {number.range_text}"
    return text + (" (default: %(default)s)" if default else "")
