"""The kinds of value a config key or command option can take (int, float, choice, ...), each able to
say in one line what is wrong with a value. The key table that uses them is config/schema.py.
Kept free of torch so a bad value costs a second.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
import re
from dataclasses import dataclass, field
from typing import Any

from gan_lab.errors import UserError, did_you_mean

INT64_LIMIT = 2**63  # torch.manual_seed, numpy and tensor sizes take signed 64-bit integers


def shown(value: Any) -> str:
    """A value as the user would type it: null, true, [0.5, 0.999]."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if hasattr(value, "_content") or isinstance(value, (list, tuple)):  # ListConfig or list
        return "[" + ", ".join(shown(v) for v in value) + "]"
    return str(value)


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool): nan and inf pass no numeric rule."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def from_text(text: str) -> Any:
    """A command option's text as a typed value, as Hydra reads an override: null, true, 3, 0.5, nan, text."""
    lowered = text.strip().lower()
    if lowered in ("null", "none"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


@dataclass(frozen=True)
class Rule(ABC):
    """What one key accepts. `problem(value)` says what is allowed when the value breaks the rule, else None."""

    nullable: bool = field(default=False, kw_only=True)  # null is allowed (it turns the feature off)

    @abstractmethod
    def problem(self, value: Any) -> str | None:
        """What is allowed, when the value breaks this rule; None when it passes."""

    def check(self, key: str, value: Any) -> None:
        """Raise UserError `key=value <what is allowed>` unless the value passes."""
        if value is None and self.nullable:
            return
        problem = self.problem(value)
        if problem:
            raise UserError(f"{key}={shown(value)} {problem}")

    def parse(self, text: str) -> Any:
        """A command option's text -> value; ValueError(what is allowed) when the rule refuses it."""
        value = from_text(text)
        if value is None and self.nullable:
            return None
        problem = self.problem(value)
        if problem:
            raise ValueError(problem)
        return value

    def _or_null(self, text: str) -> str:
        return text.replace("must be ", "must be null or ", 1) if self.nullable else text


@dataclass(frozen=True)
class Int(Rule):
    """An integer (not a float such as 4.0, not a bool) in [low, high], and below 2**63."""

    low: int = 0
    high: int | None = None

    def problem(self, value: Any) -> str | None:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= INT64_LIMIT:
            return f"must be an integer below 2**63 ({INT64_LIMIT - 1})"
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= self.low
        if ok and (self.high is None or value <= self.high):
            return None
        bounds = f">= {self.low}" if self.high is None else f"in [{self.low}, {self.high}]"
        return self._or_null(f"must be an integer {bounds}")


@dataclass(frozen=True)
class Float(Rule):
    """A finite number in the interval low..high; open ends exclude the bound itself."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    example: str = ""

    def problem(self, value: Any) -> str | None:
        ok = is_number(value)
        if ok and self.low is not None:
            ok = value > self.low if self.low_open else value >= self.low
        if ok and self.high is not None:
            ok = value < self.high if self.high_open else value <= self.high
        return None if ok else self._or_null(f"must be a number {self.bounds()}{self.example}")

    def bounds(self) -> str:
        if self.high is None:
            return f"{'>' if self.low_open else '>='} {_num(self.low)}"
        return f"in {'(' if self.low_open else '['}{_num(self.low)}, {_num(self.high)}{')' if self.high_open else ']'}"


def _num(x: float | None) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


@dataclass(frozen=True)
class Bool(Rule):
    def problem(self, value: Any) -> str | None:
        return None if isinstance(value, bool) else "must be true or false"


@dataclass(frozen=True)
class Choice(Rule):
    """One of the listed values, of the same type (4.0 == 4 and True == 1 in Python, but not here)."""

    values: tuple = ()

    def problem(self, value: Any) -> str | None:
        if any(value == a and type(value) is type(a) for a in self.values):
            return None
        return f"is not allowed{did_you_mean(value, self.values)}; choose one of {', '.join(map(str, self.values))}"


@dataclass(frozen=True)
class Text(Rule):
    """Non-empty text (a path, a device, a python path); `message` says what the text names."""

    message: str = "must be non-empty text"
    pattern: str = ""

    def problem(self, value: Any) -> str | None:
        ok = isinstance(value, str) and value.strip() != ""
        return None if ok and (not self.pattern or re.fullmatch(self.pattern, value)) else self.message


@dataclass(frozen=True)
class IntList(Rule):
    def problem(self, value: Any) -> str | None:
        ok = _is_list(value) and all(Int(1).problem(v) is None for v in value)
        return None if ok else "must be a list of positive integers, e.g. [1024] or []"


@dataclass(frozen=True)
class ChoiceList(Rule):
    """A non-empty list, each item one of the listed values."""

    values: tuple = ()

    def problem(self, value: Any) -> str | None:
        if _is_list(value) and value and all(Choice(values=self.values).problem(v) is None for v in value):
            return None
        return f"must be a non-empty list of {', '.join(map(str, self.values))}, e.g. [{self.values[0]}]"


@dataclass(frozen=True)
class NumberPair(Rule):
    """Two numbers in [low, high) or [low, high]; ordered=True: the first at most the second."""

    low: float = 0.0
    high: float = 1.0
    high_open: bool = False
    ordered: bool = False
    message: str = ""

    def problem(self, value: Any) -> str | None:
        if not (_is_list(value) and len(value) == 2 and all(is_number(v) for v in value)):
            return self.message
        inside = all(self.low <= v < self.high if self.high_open else self.low <= v <= self.high for v in value)
        if not inside:
            return self.message
        if self.ordered and value[0] > value[1]:
            return f"must satisfy {_num(self.low)} <= low <= high <= {_num(self.high)}"
        return None


@dataclass(frozen=True)
class Classes(Rule):
    """null, or a list of class names or indices (the dataset checks the names)."""

    def problem(self, value: Any) -> str | None:
        ok = _is_list(value) and len(value) > 0 and all(
            (isinstance(v, str) and v.strip()) or Int(0).problem(v) is None for v in value
        )
        return None if ok else "must be null or a list of class names or indices, e.g. [frog] or [3]"


_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?")


def duration_seconds(key: str, value: Any) -> float | None:
    """null, a number of seconds, or text such as 90s, 30m, 2h, 1h30m -> seconds (> 0)."""
    if value is None:
        return None
    if is_number(value) and value > 0:
        return float(value)
    match = _DURATION.fullmatch(str(value).strip().lower()) if isinstance(value, str) else None
    if match and any(match.groups()):
        hours, minutes, seconds = (float(g or 0) for g in match.groups())
        if hours * 3600 + minutes * 60 + seconds > 0:
            return hours * 3600 + minutes * 60 + seconds
    raise UserError(f"{key}={value} is not a duration; use seconds (e.g. 90) or text such as 30m, 2h, 1h30m, or null")


@dataclass(frozen=True)
class Duration(Rule):
    def check(self, key: str, value: Any) -> None:
        duration_seconds(key, value)

    def problem(self, value: Any) -> str | None:
        try:
            duration_seconds("", value)
        except UserError as error:
            return str(error).split(" ", 1)[1]
        return None


def _is_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) or type(value).__name__ == "ListConfig"


def _features_problem(value: Any) -> str | None:
    if isinstance(value, str) and (value == "inception" or re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_]\w*)+", value)):
        return None
    return "must be inception or the python path of an nn.Module, e.g. gan_lab.metrics.features.RandomConvFeatures"


@dataclass(frozen=True)
class Features(Rule):
    def problem(self, value: Any) -> str | None:
        return _features_problem(value)
