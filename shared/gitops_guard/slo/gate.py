"""The gate flow: measure once, or keep measuring (live mode), and reach a verdict.

Once (no ``analysis.duration``, or a fixed evaluation time): every objective is
queried at one instant and judged; that measurement's verdict is the gate's.

Live mode (``analysis.duration``): wait ``initialDelay``, then measure every
``interval`` until ``duration`` has passed. It stops early with ``fail`` as soon
as a key objective has failed more than ``failureLimit`` consecutive
measurements, and with ``inconclusive`` once a key objective's query has failed
more than ``consecutiveErrorLimit`` consecutive times. It can only pass at the
end: the final verdict is decided over each objective's last measurement with
data (errors within the budget are skipped), where an objective that ever failed
more than ``failureLimit`` consecutive times counts as failed.
Measurements taken with too little traffic neither count nor reset failures.
If Prometheus becomes unreachable after the first measurement, the run stops as
``inconclusive`` and keeps what it measured; before it, the error propagates.

The flow does no I/O itself: it receives ``query`` (PromQL -> samples),
``clock`` and ``sleep``, so tests drive it with fakes and no real time passes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal, Protocol

from gitops_guard import errors
from gitops_guard.slo import config, evaluate, models, verdict


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
    assert analysis.duration_seconds is not None
    started = clock()
    if analysis.initial_delay_seconds > 0:
        sleep(analysis.initial_delay_seconds)
    first = started + timedelta(seconds=analysis.initial_delay_seconds)
    deadline = first + timedelta(seconds=analysis.duration_seconds)
    interval = timedelta(seconds=analysis.interval_seconds)
    names = [o.name for o in cfg.objectives]
    fails = dict.fromkeys(names, 0)
    errs = dict.fromkeys(names, 0)
    tripped: dict[str, int] = {}
    last_with_data: dict[str, models.ObjectiveResult] = {}
    last: dict[str, models.ObjectiveResult] = {}
    measurements: list[models.Measurement] = []
    stop: models.GateVerdict | None = None
    scheduled = first

    def stopped(outcome: models.Verdict, why: str) -> models.GateVerdict:
        decided = verdict.decide(_final(cfg, last, last_with_data, errs, tripped), cfg.scoring)
        return replace(decided, verdict=outcome, reason=f"stopped early: {why}")

    while True:
        try:
            m = measure(cfg, query, at=None, when=clock(), index=len(measurements))
        except errors.DependencyUnavailable as exc:
            if not measurements:
                raise
            stop = stopped(
                "inconclusive",
                f"Prometheus became unreachable after {len(measurements)} measurements "
                f"({exc.message})",
            )
            break
        measurements.append(m)
        if on_measurement:
            on_measurement(m)
        counted = m.traffic is None or m.traffic.enough
        for r in m.results:
            last[r.name] = r
            if r.state == "error":
                errs[r.name] += 1
                continue
            errs[r.name] = 0
            last_with_data[r.name] = r
            if not counted:
                continue
            fails[r.name] = fails[r.name] + 1 if r.state == "fail" else 0
            if fails[r.name] > analysis.failure_limit:
                tripped[r.name] = max(tripped.get(r.name, 0), fails[r.name])
        key_names = {o.name for o in cfg.objectives if o.key}
        key_tripped = [n for n in names if n in key_names and n in tripped]
        key_errored = [
            n for n in names if n in key_names and errs[n] > analysis.consecutive_error_limit
        ]
        if key_tripped:
            stop = stopped(
                "fail",
                f"key objective {', '.join(key_tripped)} failed "
                f"{max(tripped[n] for n in key_tripped)} consecutive measurements "
                f"(failureLimit {analysis.failure_limit})",
            )
            break
        if key_errored:
            stop = stopped(
                "inconclusive",
                f"the query of key objective {', '.join(key_errored)} "
                f"failed more than {analysis.consecutive_error_limit} consecutive times",
            )
            break
        scheduled += interval
        if scheduled > deadline:
            break
        sleep(max(0.0, (scheduled - clock()).total_seconds()))
    final = _final(cfg, last, last_with_data, errs, tripped)
    decided = stop or verdict.decide(final, cfg.scoring, measurements[-1].traffic)
    return GateRun(
        cfg.name,
        "live",
        started,
        clock(),
        tuple(measurements),
        final,
        decided,
        stopped_early=stop is not None,
        traffic=measurements[-1].traffic,
    )


def _final(
    cfg: config.SloConfig,
    last: dict[str, models.ObjectiveResult],
    last_with_data: dict[str, models.ObjectiveResult],
    errs: dict[str, int],
    tripped: dict[str, int],
) -> tuple[models.ObjectiveResult, ...]:
    out = []
    limit = cfg.analysis.consecutive_error_limit
    for objective in cfg.objectives:
        name = objective.name
        result = last[name]
        if errs[name] <= limit and name in last_with_data:
            result = last_with_data[name]
        if name in tripped and result.state != "fail":
            result = replace(
                result,
                state="fail",
                reason=f"failed {tripped[name]} consecutive measurements "
                f"(failureLimit {cfg.analysis.failure_limit}); last: {result.reason}",
            )
        elif name in tripped:
            result = replace(
                result,
                reason=f"failed {tripped[name]} consecutive measurements "
                f"(failureLimit {cfg.analysis.failure_limit}): {result.reason}",
            )
        out.append(result)
    return tuple(out)
