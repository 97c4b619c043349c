"""The five DORA metrics (2024 definitions) over deploy and rollback events.

Definitions, for the deploys whose commit falls in the period ``[start, end]``:

* **deployment frequency**: deploys per day and per week (every deploy counts,
  rollbacks included), and the time between consecutive deploys;
* **change lead time**: application commit (``committed_at``) -> our revision
  Synced and Healthy (``synced_at``), per forward deploy that has both;
* **change fail rate**: deploys the gate failed (verdict ``fail``) or that a later
  rollback reverted (or, for ``rollback to``, the last deploy before it) / deploys;
* **failed deployment recovery time**: bad revision Synced (else its ``fail``
  verdict, else its commit) -> the revert Synced and Healthy (``restored_at``, else
  its ``synced_at``, else the revert's commit), per failed deploy that was rolled back;
* **deployment rework rate**: deploys that are reverts or ``rollback to`` / deploys.

Median is the middle value (the mean of the two middle ones for an even count);
p90 is the nearest-rank 90th percentile (an observed value). A metric without
data is ``None`` ("no data"), never 0.

Pure: events in, numbers out. This module must not read git, GitHub or the clock.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Literal

DAY = 86400.0
Kind = Literal["deploy", "rollback"]


@dataclass(frozen=True)
class Event:
    """One deploy commit of the GitOps history, with the facts its record adds."""

    sha: str
    at: float
    """The deploy commit's time (``promoted_at``), seconds since the epoch."""
    kind: Kind = "deploy"
    """``rollback``: a revert or ``rollback to`` commit."""
    reverts: tuple[str, ...] = ()
    committed_at: float | None = None
    synced_at: float | None = None
    verdict: str | None = None
    verdict_at: float | None = None
    restored_at: float | None = None
    """For a rollback: ArgoCD ran it Synced and Healthy."""


@dataclass(frozen=True)
class Spread:
    """Median and p90 of a set of durations, in seconds."""

    median: float
    p90: float
    count: int

    def as_dict(self) -> dict[str, float | int]:
        return {"median": self.median, "p90": self.p90, "count": self.count}


@dataclass(frozen=True)
class Point:
    """One measurement for a chart: when, what, how long."""

    at: float
    sha: str
    seconds: float


@dataclass(frozen=True)
class Metrics:
    """The report of ``gitops-guard metrics``."""

    start: float
    end: float
    deploys: int
    rollbacks: int
    failed: int
    frequency_per_day: float | None
    time_between: Spread | None
    change_fail_rate: float | None
    rework_rate: float | None
    lead_time: Spread | None
    recovery_time: Spread | None
    weeks: tuple[tuple[str, int], ...] = ()
    """(Monday of the ISO week, deploys), oldest first, every week of the period."""
    lead_times: tuple[Point, ...] = ()
    recoveries: tuple[Point, ...] = ()
    reason: str = ""
    """Why the report is empty, or which metrics lack data."""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def days(self) -> float:
        return (self.end - self.start) / DAY

    @property
    def frequency_per_week(self) -> float | None:
        return None if self.frequency_per_day is None else self.frequency_per_day * 7


def median(values: Sequence[float]) -> float:
    """The middle value; the mean of the two middle values for an even count."""
    return float(statistics.median(values))


def p90(values: Sequence[float]) -> float:
    """The nearest-rank 90th percentile: the ceil(0.9 n)-th smallest value."""
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)])


def spread(values: Sequence[float]) -> Spread | None:
    """Median and p90, or None for no values."""
    if not values:
        return None
    return Spread(median=median(values), p90=p90(values), count=len(values))


def _same(a: str, b: str) -> bool:
    a, b = a.lower(), b.lower()
    return a.startswith(b) or b.startswith(a) if min(len(a), len(b)) >= 7 else a == b


def _fixes(events: Sequence[Event]) -> dict[str, Event]:
    """Bad deploy sha -> the first rollback after it that put it right."""
    ordered = sorted(events, key=lambda e: e.at)
    by_sha = {e.sha.lower(): e for e in ordered if e.kind == "deploy"}
    fixed: dict[str, Event] = {}
    last_forward: Event | None = None
    for event in ordered:
        if event.kind == "deploy":
            last_forward = event
            continue
        targets: list[str] = []
        for ref in event.reverts:
            ref = ref.lower()
            if ref in by_sha:
                targets.append(by_sha[ref].sha)
            elif len(ref) >= 7:
                targets += [e.sha for sha, e in by_sha.items() if _same(sha, ref)]
        if not event.reverts and last_forward is not None:
            targets = [last_forward.sha]  # rollback to: the deploy it replaced
        for sha in targets:
            fixed.setdefault(sha, event)
    return fixed


def _weeks(start: float, end: float, ats: Iterable[float]) -> tuple[tuple[str, int], ...]:
    def monday(t: float) -> datetime:
        day = datetime.fromtimestamp(t, tz=timezone.utc).date()
        first = day - timedelta(days=day.weekday())
        return datetime(first.year, first.month, first.day, tzinfo=timezone.utc)

    counts: dict[str, int] = {}
    week = monday(start)
    while week.timestamp() <= end:
        counts[week.date().isoformat()] = 0
        week += timedelta(days=7)
    for t in ats:
        key = monday(t).date().isoformat()
        if key in counts:
            counts[key] += 1
    return tuple(counts.items())


def compute(events: Sequence[Event], *, start: float, end: float) -> Metrics:
    """The metrics of the deploys in ``[start, end]``; ``events`` may reach outside it."""
    if end <= start:
        raise ValueError("the period must end after it starts")
    period = sorted((e for e in events if start <= e.at <= end), key=lambda e: e.at)
    weeks = _weeks(start, end, (e.at for e in period))
    if not period:
        return Metrics(
            start=start,
            end=end,
            deploys=0,
            rollbacks=0,
            failed=0,
            frequency_per_day=None,
            time_between=None,
            change_fail_rate=None,
            rework_rate=None,
            lead_time=None,
            recovery_time=None,
            weeks=weeks,
            reason="no deploy commit in the period: every metric is no data",
        )
    fixes = _fixes(events)
    deploys = len(period)
    rollbacks = sum(1 for e in period if e.kind == "rollback")
    failed_events = [
        e for e in period if e.kind == "deploy" and (e.verdict == "fail" or e.sha in fixes)
    ]
    gaps = [b.at - a.at for a, b in itertools.pairwise(period)]
    lead = [
        Point(e.synced_at, e.sha, e.synced_at - e.committed_at)
        for e in period
        if e.kind == "deploy"
        and e.committed_at is not None
        and e.synced_at is not None
        and e.synced_at >= e.committed_at
    ]
    recoveries: list[Point] = []
    for bad in failed_events:
        fix = fixes.get(bad.sha)
        if fix is None:
            continue
        began = bad.synced_at
        if began is None and bad.verdict == "fail":
            began = bad.verdict_at
        if began is None:
            began = bad.at
        ended = fix.restored_at or fix.synced_at or fix.at
        if ended >= began:
            recoveries.append(Point(ended, bad.sha, ended - began))
    missing = []
    if not lead:
        missing.append("lead time (needs committed_at and synced_at from deployment records)")
    if not recoveries:
        missing.append("recovery time (no failed deploy was rolled back in the period)")
    if len(period) < 2:
        missing.append("time between deploys (one deploy)")
    return Metrics(
        start=start,
        end=end,
        deploys=deploys,
        rollbacks=rollbacks,
        failed=len(failed_events),
        frequency_per_day=deploys / ((end - start) / DAY),
        time_between=spread(gaps),
        change_fail_rate=len(failed_events) / deploys,
        rework_rate=rollbacks / deploys,
        lead_time=spread([p.seconds for p in lead]),
        recovery_time=spread([p.seconds for p in recoveries]),
        weeks=weeks,
        lead_times=tuple(lead),
        recoveries=tuple(recoveries),
        reason=("no data for " + "; ".join(missing)) if missing else "",
    )
