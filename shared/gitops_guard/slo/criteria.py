"""The criteria grammar of an SLO file (``">= 0.995"``, ``"<= +10%"``, ``"< 500ms"``) and durations.

A criterion is an operator, a number and an optional unit::

    >= 0.995        absolute: the value must be at least 0.995
    < 500ms         absolute with a unit: 0.5 (seconds); s, m, h, d also work
    <= 99.5%        an unsigned percentage is absolute: 0.995
    <= 512MiB       bytes: KiB, MiB, GiB, TiB (1024) and KB, MB, GB, TB (1000)
    <= +10%         signed percentage: relative to the baseline, at most 10% above it
    >= -5%          at least 95% of the baseline
    <= +0.002       signed number: baseline plus 0.002
    = 0             Keptn's equality, the same as ``== 0``

An unsigned percentage is absolute (``<= 99.5%`` is 0.995), unlike Keptn, where
every percentage is relative; :attr:`Criterion.unsigned_percent` lets the SLO
file refuse it where both readings are plausible (an objective with a baseline).

A list of criteria holds when all hold; Keptn's criteria sets combine lists with
OR (:func:`check_any`). Checks are three-valued: a relative criterion without its
baseline is ``None`` (unknown), so that a breached absolute criterion still
decides (``check_all`` is False as soon as one criterion is False).

Durations (``analysis.duration`` and friends) use the one grammar of
:mod:`gitops_guard.durations` (Prometheus's: ``90s``, ``10m``, ``1h30m``, ``500ms``,
or a bare number of seconds).

This module is pure: it parses text and compares numbers, nothing else.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from gitops_guard import durations

Operator = Literal["<", "<=", ">", ">=", "==", "!=", "="]
Relative = Literal["absolute", "percent", "delta"]

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "=": operator.eq,
}

UNITS: dict[str, float] = {
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "KiB": 1024.0,
    "MiB": 1024.0**2,
    "GiB": 1024.0**3,
    "TiB": 1024.0**4,
    "KB": 1e3,
    "MB": 1e6,
    "GB": 1e9,
    "TB": 1e12,
}
"""Unit suffixes a criterion may carry, and the factor to the base unit (seconds, bytes)."""

_CRITERION = re.compile(
    r"^\s*(?P<op><=|>=|==|!=|<|>|=)\s*(?P<sign>[+-])?\s*"
    r"(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)\s*"
    r"(?P<unit>%|[A-Za-z]+)?\s*$"
)

CRITERION_HELP = (
    "A criterion is an operator (<, <=, >, >=, ==, =, !=) and a number with an optional unit, "
    "e.g. '>= 0.995', '< 500ms', '<= 99.5%'; a signed value is relative to the baseline: "
    "'<= +10%' (percent) or '<= +0.002' (difference)."
)


@dataclass(frozen=True)
class Criterion:
    """One parsed criterion; :meth:`threshold` resolves it against a baseline."""

    op: Operator
    number: float
    """The number as written, already multiplied by its unit (``500ms`` -> 0.5)."""
    relative: Relative = "absolute"
    text: str = ""

    @property
    def needs_baseline(self) -> bool:
        return self.relative != "absolute"

    @property
    def unsigned_percent(self) -> bool:
        """Written as an unsigned percentage (``<= 10%``): absolute here, relative in Keptn."""
        return self.relative == "absolute" and self.text.rstrip().endswith("%")

    def check(self, value: float, baseline: float | None = None) -> bool | None:
        """Like :meth:`holds`, but ``None`` when a relative criterion has no baseline."""
        if self.needs_baseline and baseline is None:
            return None
        return self.holds(value, baseline)

    def threshold(self, baseline: float | None) -> float:
        """The absolute value the measurement is compared with."""
        if self.relative == "absolute":
            return self.number
        if baseline is None:
            raise ValueError(f"criterion {self.text!r} needs a baseline value")
        if self.relative == "percent":
            return baseline * (1.0 + self.number / 100.0)
        return baseline + self.number

    def holds(self, value: float, baseline: float | None = None) -> bool:
        """True when ``value`` meets the criterion (NaN never does)."""
        if math.isnan(value):
            return False
        return _OPS[self.op](value, self.threshold(baseline))

    def describe(self, baseline: float | None = None, unit: str = "") -> str:
        """``<= 0.0055 (baseline 0.005 +10%)`` for reports; ``unit`` as in :func:`format_value`."""
        if self.relative == "absolute":
            return f"{self.op} {format_value(self.number, unit)}"
        if baseline is None:
            return self.text
        return (
            f"{self.op} {format_value(self.threshold(baseline), unit)} "
            f"(baseline {format_value(baseline, unit)} {self.text.lstrip('<>=! ')})"
        )

    def __str__(self) -> str:
        return self.text


CriteriaSet = tuple[Criterion, ...]
"""Criteria that must all hold (one Keptn ``criteria:`` list)."""


def check_all(crits: CriteriaSet, value: float, baseline: float | None = None) -> bool | None:
    """AND, three-valued: False if one is False, None if one is unknown, else True."""
    results = [c.check(value, baseline) for c in crits]
    if False in results:
        return False
    if None in results:
        return None
    return True


def check_any(
    sets: tuple[CriteriaSet, ...], value: float, baseline: float | None = None
) -> bool | None:
    """OR over criteria sets, three-valued: True if one holds, None if one is unknown."""
    results = [check_all(s, value, baseline) for s in sets]
    if True in results:
        return True
    if None in results:
        return None
    return False


def describe_sets(
    sets: tuple[CriteriaSet, ...], baseline: float | None = None, unit: str = ""
) -> str:
    """``>= 0.99 and < 1`` for one set; ``(< 1000 and <= +10%) or < 600`` for several."""
    parts = [" and ".join(c.describe(baseline, unit) for c in s) for s in sets]
    if len(parts) == 1:
        return parts[0]
    return " or ".join(f"({p})" if len(s) > 1 else p for p, s in zip(parts, sets, strict=True))


def text_of_sets(sets: tuple[CriteriaSet, ...]) -> str:
    """The criteria as written: ``>= 0.99 and < 1``, ``(a and b) or c``."""
    parts = [" and ".join(c.text for c in s) for s in sets]
    if len(parts) == 1:
        return parts[0]
    return " or ".join(f"({p})" if len(s) > 1 else p for p, s in zip(parts, sets, strict=True))


def parse(text: str) -> Criterion:
    """Parse one criterion; ``ValueError`` says what is wrong and shows the syntax."""
    match = _CRITERION.match(text)
    if not match:
        raise ValueError(f"cannot read criterion {text!r}. {CRITERION_HELP}")
    op = match["op"]
    number = float(match["num"])
    unit = match["unit"]
    sign = match["sign"]
    relative: Relative = "absolute"
    if unit == "%":
        if sign:
            relative = "percent"
        else:
            number /= 100.0
    else:
        if unit is not None:
            if unit not in UNITS:
                raise ValueError(
                    f"unknown unit {unit!r} in criterion {text!r}; use one of %, {', '.join(UNITS)}"
                )
            number *= UNITS[unit]
        if sign:
            relative = "delta"
    if sign == "-":
        number = -number
    return Criterion(op=op, number=number, relative=relative, text=text.strip())  # type: ignore[arg-type]


# The one duration grammar lives in gitops_guard.durations; these names stay for callers.
parse_duration = durations.parse_duration
format_duration = durations.format_duration


def format_number(value: float | None) -> str:
    """A compact, stable rendering of a measured value for reports."""
    if value is None:
        return "n/a"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    if abs(value) >= 1e6 or abs(value) < 1e-4:
        return f"{value:.4g}"
    return f"{value:.6g}"


def format_value(value: float | None, unit: str = "") -> str:
    """:func:`format_number`, made readable for the units ``s`` and ``bytes``."""
    if value is None or not math.isfinite(value) or value == 0:
        return format_number(value)
    if unit == "s" and abs(value) < 1:
        return f"{format_number(value * 1000)}ms"
    if unit == "s":
        return f"{format_number(value)}s"
    if unit == "bytes":
        for name, size in (("GiB", 1024.0**3), ("MiB", 1024.0**2), ("KiB", 1024.0)):
            if abs(value) >= size:
                return f"{value / size:.4g}{name}"
        return f"{format_number(value)}B"
    return format_number(value)
