"""The gate flow: measure once, or keep measuring (live mode), and reach a verdict.

Once (no ``analysis.duration``, or a fixed evaluation time): every objective is
queried at one instant and judged; that measurement's verdict is the gate's.

Live mode (``analysis.duration``): wait ``initialDelay``, then measure every
interval (``analysis.interval``, widened to the longest query window unless
``allowOverlap``) until the planned measurements are taken; after each one the
pure stop rule of :mod:`gitops_guard.slo.live` says whether to measure again,
stop early (``fail``, ``inconclusive``, or a decided verdict after
``consecutiveSuccessLimit`` good measurements) or stop and decide over each
objective's final result. If Prometheus becomes unreachable after the first
measurement, the run stops as ``inconclusive`` and keeps what it measured;
before it, the error propagates.

The flow does no I/O itself: it receives ``query`` (PromQL -> samples),
``clock`` and ``sleep``, so tests drive it with fakes and no real time passes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from gitops_guard import errors
from gitops_guard.slo import config, evaluate, live, models, verdict


class Query(Protocol):
    """Run PromQL at ``at`` (``None``: the server's now) and return what came back.

    Query errors (bad PromQL, a query timeout after retries) are returned as
    ``QueryOutcome(error=...)``; an unreachable server raises
    :class:`gitops_guard.errors.DependencyUnavailable`.
    """

    def __call__(self, promql: str, at: datetime | None) -> models.QueryOutcome: ...


Clock = Callable[[], datetime]
Sleep = Callable[[float], None]
Mode = Literal["once", "live"]


@dataclass(frozen=True)
class GateRun:
    """Everything the gate saw and decided."""

    name: str
    mode: Mode
    started_at: datetime
    ended_at: datetime
    measurements: tuple[models.Measurement, ...]
    results: tuple[models.ObjectiveResult, ...]
    """The final result per objective, in the file's order."""
    verdict: models.GateVerdict
    stopped_early: bool = False
    traffic: models.TrafficCheck | None = None
    interval_seconds: float | None = None
    """Live mode: seconds between measurements (see :func:`live.effective_interval`)."""
    note: str | None = None
    """Live mode: why the interval differs from ``analysis.interval``."""


def _traffic(
    cfg: config.SloConfig, query: Query, at: datetime | None
) -> models.TrafficCheck | None:
    guard = cfg.analysis.min_requests
    if guard is None:
        return None
    outcome = query(guard.query, at)
    if outcome.error:
        return models.TrafficCheck(guard.query, guard.value, None, outcome.error)
    finite = [s.value for s in outcome.samples if math.isfinite(s.value)]
    return models.TrafficCheck(guard.query, guard.value, sum(finite) if finite else None)


def measure(
    cfg: config.SloConfig, query: Query, *, at: datetime | None, when: datetime, index: int = 0
) -> models.Measurement:
    """Query and judge every objective once; ``when`` is recorded, ``at`` is sent."""
    traffic = _traffic(cfg, query, at)
    results = []
    for objective in cfg.objectives:
        outcome = query(objective.promql, at)
        base = query(objective.baseline, at) if objective.baseline else None
        results.append(evaluate.evaluate_objective(objective, outcome, base))
    decided = verdict.decide(results, cfg.scoring, traffic)
    return models.Measurement(index, when, tuple(results), decided, traffic)


def run_gate(
    cfg: config.SloConfig,
    *,
    query: Query,
    clock: Clock,
    sleep: Sleep,
    at: datetime | None = None,
    on_measurement: Callable[[models.Measurement], None] | None = None,
) -> GateRun:
    """Run the gate: once (no duration, or ``at`` given) or live."""
    started = clock()
    if not cfg.live or at is not None:
        m = measure(cfg, query, at=at, when=at or started)
        if on_measurement:
            on_measurement(m)
        return GateRun(
            cfg.name, "once", started, clock(), (m,), m.results, m.verdict, traffic=m.traffic
        )
    return _run_live(cfg, query=query, clock=clock, sleep=sleep, on_measurement=on_measurement)


def _run_live(
    cfg: config.SloConfig,
    *,
    query: Query,
    clock: Clock,
    sleep: Sleep,
    on_measurement: Callable[[models.Measurement], None] | None,
) -> GateRun:
    analysis = cfg.analysis
    started = clock()
    if analysis.initial_delay_seconds > 0:
        sleep(analysis.initial_delay_seconds)
    seconds, note = live.effective_interval(cfg)
    interval = timedelta(seconds=seconds)
    planned = live.planned_measurements(cfg)
    measurements: list[models.Measurement] = []
    scheduled = started + timedelta(seconds=analysis.initial_delay_seconds)
    while True:
        try:
            m = measure(cfg, query, at=None, when=clock(), index=len(measurements))
        except errors.DependencyUnavailable as exc:
            if not measurements:
                raise
            step = live.Step(
                "stop",
                "inconclusive",
                f"Prometheus became unreachable after {len(measurements)} measurements "
                f"({exc.message})",
                early=True,
            )
            break
        measurements.append(m)
        if on_measurement:
            on_measurement(m)
        step = live.next_step(cfg, measurements, planned)
        if step.action == "stop":
            break
        scheduled += interval
        sleep(max(0.0, (scheduled - clock()).total_seconds()))
    final, decided = live.conclude(cfg, measurements, step)
    return GateRun(
        cfg.name,
        "live",
        started,
        clock(),
        tuple(measurements),
        final,
        decided,
        stopped_early=step.early,
        traffic=measurements[-1].traffic,
        interval_seconds=seconds,
        note=note,
    )
