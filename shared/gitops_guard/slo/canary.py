"""Judge one canary step: the traffic share first, then the anytime-valid test per scrape.

For every canary objective of the SLO file (``canary:``), both arms' counters are
read at the start of the step and after every ``analysis.interval``; the increments
feed :mod:`gitops_guard.slo.sequential`:

* once the step has seen ``minRequests``, the canary's observed share of requests is
  compared with the step's (:func:`~gitops_guard.slo.sequential.check_share`): surely
  off (its 99.9% interval misses the accepted band) is ``inconclusive`` at once ("the
  canary got 3% of traffic, the step asked for 25%"); at the end of the step the share
  itself must be inside the band; far off is never a pass;
* ``fail`` as soon as one objective's e-value reaches ``1/alpha`` (any look);
* at the end of the step (``analysis.duration``, 5 minutes when absent): ``pass`` when
  every objective passed, ``inconclusive`` when one lacked traffic;
* a query that fails more than ``analysis.consecutiveErrorLimit`` times in a row is
  ``inconclusive``: a fault never reads as a pass or a fail.

The clock and the sleep come in, so the loop is tested without waiting. Queries go
through the gate's :data:`gitops_guard.slo.gate.Query` (one Prometheus client).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from gitops_guard.slo import config, gate, sequential

DEFAULT_DURATION_SECONDS = 300.0
"""A step without ``analysis.duration`` is watched this long."""

Verdict = Literal["pass", "fail", "inconclusive"]


@dataclass(frozen=True)
class ObjectiveOutcome:
    """What one canary objective says at the end of (or stopping) a step."""

    name: str
    verdict: sequential.SequentialVerdict
    reason: str
    e_value: float
    canary_requests: float
    canary_errors: float
    stable_requests: float
    stable_errors: float
    share: float | None


@dataclass(frozen=True)
class StepVerdict:
    """The step's verdict, the reason, and each objective's figures."""

    verdict: Verdict
    reason: str
    looks: int
    seconds: float
    """Seconds of data the verdict rests on (first read to the deciding look)."""
    objectives: tuple[ObjectiveOutcome, ...] = field(default_factory=tuple)

    def evidence(self) -> str:
        """Lines for a commit message or a summary: every objective's counts."""
        return "\n".join(
            f"- {o.name}: {o.verdict}: canary {o.canary_errors:.0f}/{o.canary_requests:.0f} "
            f"errors, stable {o.stable_errors:.0f}/{o.stable_requests:.0f}, e-value "
            f"{o.e_value:.3g}" + ("" if o.share is None else f", canary share {o.share:.1%}")
            for o in self.objectives
        )


class _QueryFailed(Exception):
    pass


def _read(query: gate.Query, promql: str) -> float:
    outcome = query(promql, None)
    if outcome.error is not None:
        raise _QueryFailed(outcome.error)
    values = [s.value for s in outcome.samples if math.isfinite(s.value)]
    return float(sum(values))  # no series: the counter has not counted anything yet


def _totals(query: gate.Query, objective: config.CanaryObjective) -> tuple[float, ...]:
    return (
        _read(query, objective.canary.requests),
        _read(query, objective.canary.errors),
        _read(query, objective.stable.requests),
        _read(query, objective.stable.errors),
    )


def judge_step(
    objectives: Sequence[config.CanaryObjective],
    analysis: config.Analysis,
    *,
    query: gate.Query,
    intended_share: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> StepVerdict:
    """Watch one step of ``intended_share`` (0..1) and judge it (see the module docstring)."""
    if not objectives:
        raise ValueError("judge_step needs at least one canary objective")
    settings = [
        sequential.Settings(alpha=o.alpha, null_ratio=o.null_ratio, min_requests=o.min_requests)
        for o in objectives
    ]
    states = [sequential.start(s) for s in settings]
    duration = analysis.duration_seconds or DEFAULT_DURATION_SECONDS
    interval = min(analysis.interval_seconds, duration)
    errors_in_a_row = 0
    if analysis.initial_delay_seconds:
        sleep(analysis.initial_delay_seconds)
    started = clock()
    last: list[tuple[float, ...]] | None = None
    looks = 0

    def outcome(index: int, decision: sequential.Decision) -> ObjectiveOutcome:
        state = states[index]
        total = state.canary_requests + state.stable_requests
        return ObjectiveOutcome(
            name=objectives[index].name,
            verdict=decision.verdict,
            reason=decision.reason,
            e_value=decision.e_value,
            canary_requests=state.canary_requests,
            canary_errors=state.canary_errors,
            stable_requests=state.stable_requests,
            stable_errors=state.stable_errors,
            share=state.canary_requests / total if total > 0 else None,
        )

    def finish(verdict: Verdict, reason: str, decisions: list[sequential.Decision]) -> StepVerdict:
        return StepVerdict(
            verdict,
            reason,
            looks,
            round(clock() - started, 3),
            tuple(outcome(i, d) for i, d in enumerate(decisions)),
        )

    while True:
        try:
            now = [_totals(query, o) for o in objectives]
            errors_in_a_row = 0
        except _QueryFailed as exc:
            errors_in_a_row += 1
            if errors_in_a_row > analysis.consecutive_error_limit:
                decisions = [
                    sequential.decide(st, se, final=True)
                    for st, se in zip(states, settings, strict=True)
                ]
                return finish(
                    "inconclusive",
                    f"Prometheus did not answer {errors_in_a_row} times in a row: {exc}",
                    decisions,
                )
            now = None
        if now is not None and last is not None:
            looks += 1
            for i, (before, after) in enumerate(zip(last, now, strict=True)):
                counts = sequential.Counts(*(a - b for a, b in zip(after, before, strict=True)))
                states[i] = sequential.update(states[i], counts, settings[i])
        if now is not None:
            last = now
        final = clock() - started >= duration
        decisions = [
            sequential.decide(st, se, final=final) for st, se in zip(states, settings, strict=True)
        ]
        for i, objective in enumerate(objectives):
            state = states[i]
            total = state.canary_requests + state.stable_requests
            if total >= objective.min_requests or final:
                share = sequential.check_share(
                    state.canary_requests,
                    state.stable_requests,
                    intended_share,
                    tolerance=objective.share_tolerance,
                    min_requests=objective.min_requests,
                    sure=not final,
                )
                if not share.ok:
                    return finish("inconclusive", f"{objective.name}: {share.reason}", decisions)
        failed = [(o, d) for o, d in zip(objectives, decisions, strict=True) if d.verdict == "fail"]
        if failed:
            return finish("fail", "; ".join(f"{o.name}: {d.reason}" for o, d in failed), decisions)
        if final:
            undecided = [
                (o, d) for o, d in zip(objectives, decisions, strict=True) if d.verdict != "pass"
            ]
            if undecided:
                return finish(
                    "inconclusive",
                    "; ".join(f"{o.name}: {d.reason}" for o, d in undecided),
                    decisions,
                )
            return finish(
                "pass",
                "; ".join(
                    f"{o.name}: {d.reason}" for o, d in zip(objectives, decisions, strict=True)
                ),
                decisions,
            )
        sleep(min(interval, max(0.0, duration - (clock() - started))) or interval)
