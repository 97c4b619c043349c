"""Multiwindow, multi-burn-rate objectives (Google SRE workbook, "Alerting on SLOs").

An objective written as ``burnRate: {target: 0.999, errors: SEL, total: SEL}``
becomes one PromQL query with one series per window pair, labelled
``burn_window="1h/5m"``. Each series' value is::

    min(burn(long), burn(short)) / factor      where burn(w) = error ratio over w / (1 - target)

so a value of 1 or more means *both* windows burn at least ``factor`` times
faster than the budget allows: exactly the workbook's alert condition. The
objective passes with ``< 1`` (its default criterion), and the gate judges the
pairs one by one and reports the worst, naming its ``burn_window``.

A window without any error series counts as zero errors (``or vector(0)``), but
a window without traffic stays empty or NaN: no data, never a pass.

This module is pure text generation; it queries nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gitops_guard import durations


@dataclass(frozen=True)
class Window:
    """A long and a short window (seconds) and the burn-rate factor that trips both."""

    long_seconds: float
    short_seconds: float
    factor: float


PAGE_WINDOWS = (Window(3600, 300, 14.4), Window(21600, 1800, 6.0))
"""The workbook's paging pairs: 2% of a 30-day budget in 1h, 5% in 6h."""
TICKET_WINDOWS = (Window(86400, 7200, 3.0), Window(259200, 21600, 1.0))
"""The workbook's ticket pairs: 10% of the budget in 1d, 10% in 3d."""

LABEL = "burn_window"
"""The label naming the window pair of each generated series."""


def _ratio(errors: str, total: str, seconds: float) -> str:
    rng = durations.format_duration(seconds)
    return f"((sum(rate({errors}[{rng}])) or vector(0)) / sum(rate({total}[{rng}])))"


def _number(value: float) -> str:
    return f"{value:.10g}"


def promql(*, errors: str, total: str, target: float, windows: Sequence[Window]) -> str:
    """The query as sent: one series per window pair, valued min(long, short) burn / factor."""
    if not 0 < target < 1:
        raise ValueError(f"an SLO target is a ratio between 0 and 1, got {target!r}")
    budget = 1.0 - target
    parts = []
    for window in windows:
        long_burn = f"({_ratio(errors, total, window.long_seconds)} / {_number(budget)})"
        short_burn = f"({_ratio(errors, total, window.short_seconds)} / {_number(budget)})"
        # (a < b) or b is min(a, b) for label-less single series; NaN compares false.
        pair_min = f"(({long_burn} < {short_burn}) or {short_burn})"
        name = (
            f"{durations.format_duration(window.long_seconds)}/"
            f"{durations.format_duration(window.short_seconds)}"
        )
        parts.append(
            f'label_replace({pair_min} / {_number(window.factor)}, "{LABEL}", "{name}", "", "")'
        )
    return " or ".join(parts)
