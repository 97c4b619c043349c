"""Values the gate passes around: measured samples, per-objective results, the verdict.

``State`` of an objective (or one of its series):

* ``pass`` / ``warn`` / ``fail``: judged on data;
* ``no-data``: no evidence (empty result, NaN, Inf, missing baseline) — never a pass;
* ``error``: the query failed (bad PromQL, timeout) — also no evidence, reported apart;
* ``info``: measured but not judged (no ``pass`` criteria).

``Verdict`` of the gate: ``pass | warn | fail | inconclusive``.

This module holds frozen data and orderings only; it must not do I/O or decide.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

State = Literal["pass", "warn", "fail", "no-data", "error", "info"]
Verdict = Literal["pass", "warn", "fail", "inconclusive"]

SEVERITY: dict[State, int] = {"info": 0, "pass": 1, "warn": 2, "no-data": 3, "error": 3, "fail": 4}
"""Worst first when sorted descending: one failing series fails the objective, one series
without data keeps it from passing."""

NO_EVIDENCE: frozenset[State] = frozenset({"no-data", "error"})


@dataclass(frozen=True)
class Sample:
    """One measured series: its labels and its value (possibly NaN or Inf)."""

    labels: Mapping[str, str]
    value: float

    def describe(self) -> str:
        inner = ", ".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()))
        return "{" + inner + "}"


@dataclass(frozen=True)
class QueryOutcome:
    """What one query returned: samples, or the error that stopped it."""

    samples: tuple[Sample, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class SeriesResult:
    """The judgement of one series of an objective."""

    labels: Mapping[str, str]
    value: float | None
    baseline: float | None
    threshold: float | None
    """The pass threshold this series was held to (resolved against its baseline)."""
    state: State
    reason: str


@dataclass(frozen=True)
class ObjectiveResult:
    """One objective at one measurement: the worst series decides."""

    name: str
    key: bool
    weight: float
    state: State
    reason: str
    query: str
    """The query as sent."""
    value: float | None = None
    """The worst series' value."""
    threshold: float | None = None
    warn_threshold: float | None = None
    baseline: float | None = None
    baseline_query: str | None = None
    criteria: str = ""
    """The pass criteria as written, e.g. ``>= 0.995``."""
    worst_labels: Mapping[str, str] = field(default_factory=dict)
    series: tuple[SeriesResult, ...] = ()

    @property
    def scored(self) -> bool:
        return self.state != "info" and self.weight > 0


@dataclass(frozen=True)
class TrafficCheck:
    """The ``minRequests`` guard at one measurement."""

    query: str
    required: float
    seen: float | None
    error: str | None = None

    @property
    def enough(self) -> bool:
        return self.seen is not None and self.seen >= self.required


@dataclass(frozen=True)
class GateVerdict:
    """The verdict over a set of objective results."""

    verdict: Verdict
    score: float
    """Keptn's score in percent: pass = weight, warn = half; no data earns nothing."""
    reason: str
    failed: tuple[str, ...] = ()
    """Objectives that failed (breaches)."""
    no_data: tuple[str, ...] = ()
    """Objectives without evidence (no data or query errors)."""
    warned: tuple[str, ...] = ()


@dataclass(frozen=True)
class Measurement:
    """Every objective evaluated at one instant."""

    index: int
    at: datetime
    results: tuple[ObjectiveResult, ...]
    verdict: GateVerdict
    traffic: TrafficCheck | None = None
