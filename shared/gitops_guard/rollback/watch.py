"""``rollback watch``: after a deploy, look at the signals and roll back when a rule says so.

Every ``interval`` until ``duration`` has passed, the flow reads the signals
(firing alerts from Alertmanager, Prometheus conditions), hands each rule's match
to :func:`gitops_guard.rollback.rules.decide` with the past rollbacks (from the
GitOps repository's history, ``Gitops-Guard-Rule`` trailers, plus those decided in
this run) and the current time, and acts on the first ``rollback``:

* for real: calls ``rollback`` (the revert flow) once, and stops watching;
* with ``dry_run``: records "would roll back" and keeps watching, so the report
  shows how the cooldown would hold a flapping signal.

Clock and sleep are injected; the signal readers are small protocols so tests
use the real servers or plain fakes. This module must not parse flags.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from gitops_guard.rollback import models, rules


class AlertSource(Protocol):
    """What the watch needs from an Alertmanager client."""

    def alerts(self, *, matchers: Mapping[str, str] | None = None) -> Sequence[_AlertLike]: ...


class _AlertLike(Protocol):
    @property
    def labels(self) -> Mapping[str, str]: ...

    @property
    def state(self) -> str: ...

    def describe(self) -> str: ...


class MetricSource(Protocol):
    """What the watch needs from Prometheus: the values of an instant query."""

    def values(self, promql: str) -> list[float]: ...


@dataclass(frozen=True)
class Tick:
    """One look at the signals."""

    at: float
    decisions: tuple[rules.WatchDecision, ...]


@dataclass
class WatchOutcome:
    """What the watch saw and did."""

    ticks: list[Tick] = field(default_factory=list)
    would_roll_back: list[rules.WatchDecision] = field(default_factory=list)
    """Dry run: the rollbacks that would have happened."""
    result: models.RollbackResult | None = None
    """The rollback made (or skipped by the revert policy), if a rule fired."""
    reason: str = ""
    """Why nothing was rolled back, when nothing was."""


def evaluate(
    rule: rules.Rule,
    *,
    alerts: AlertSource | None,
    metrics: MetricSource | None,
) -> tuple[bool, str]:
    """Whether ``rule`` matches now, and the evidence in one line."""
    if rule.alert is not None:
        if alerts is None:
            raise ValueError(f"rule {rule.name} needs --alertmanager-url")
        found = alerts.alerts(matchers={"alertname": rule.alert.alertname, **rule.alert.labels})
        # "unprocessed": received but not yet through the pipeline; it is firing all the same.
        firing = [
            a
            for a in found
            if a.state in ("active", "unprocessed") and rule.alert.matches(a.labels)
        ]
        return bool(firing), ", ".join(a.describe() for a in firing) or "no firing alert"
    if metrics is None:
        raise ValueError(f"rule {rule.name} needs --prometheus-url")
    shown = []
    for condition in rule.prometheus:
        values = metrics.values(condition.query)
        held = condition.holds(values)
        edge = f"> {condition.above:g}" if condition.above is not None else f"< {condition.below:g}"
        got = ", ".join(f"{v:.4g}" for v in values[:3]) or "no data"
        shown.append(f"{condition.query} = {got} ({edge})")
        if not held:
            return False, "; ".join(shown)
    return True, "; ".join(shown)


def past_rollbacks(history: Sequence[models.CommitRecord]) -> list[rules.PastRollback]:
    """Rollbacks recorded in the GitOps history, by rule."""
    return [
        rules.PastRollback(rule=c.rule, at=float(c.timestamp), sha=c.sha)
        for c in history
        if c.is_rollback and c.rule
    ]


Step = Literal["roll-back", "stop", "wait"]


def next_step(
    *,
    elapsed_seconds: float,
    interval_seconds: float,
    duration_seconds: float,
    firing: bool,
    dry_run: bool,
) -> Step:
    """The watch's stop rule, pure: what to do after one look at the signals.

    ``roll-back`` when a rule fires (the watch ends with the rollback; a dry run
    only records it and goes on); ``stop`` when the next look would fall past
    ``duration_seconds``; else ``wait`` one interval.
    """
    if firing and not dry_run:
        return "roll-back"
    if elapsed_seconds + interval_seconds > duration_seconds:
        return "stop"
    return "wait"


def run(
    config: rules.RulesFile,
    *,
    duration_seconds: float,
    interval_seconds: float,
    alerts: AlertSource | None,
    metrics: MetricSource | None,
    past: Sequence[rules.PastRollback],
    rollback: Callable[[rules.WatchDecision], models.RollbackResult],
    dry_run: bool,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    on_tick: Callable[[Tick], None] | None = None,
) -> WatchOutcome:
    """Watch until ``duration_seconds`` pass or a rollback is made."""
    outcome = WatchOutcome()
    known = list(past)
    start = clock()
    while True:
        now = clock()
        decisions = []
        for rule in config.rules:
            matched, evidence = evaluate(rule, alerts=alerts, metrics=metrics)
            decisions.append(
                rules.decide(
                    rule,
                    matched=matched,
                    evidence=evidence,
                    past=known,
                    defaults=config.defaults,
                    now=now,
                )
            )
        tick = Tick(at=now, decisions=tuple(decisions))
        outcome.ticks.append(tick)
        if on_tick is not None:
            on_tick(tick)
        firing = next((d for d in decisions if d.action == "rollback"), None)
        held = [d for d in decisions if d.action in ("cooldown", "limit")]
        if held:
            outcome.reason = held[-1].reason
        step = next_step(
            elapsed_seconds=now - start,
            interval_seconds=interval_seconds,
            duration_seconds=duration_seconds,
            firing=firing is not None,
            dry_run=dry_run,
        )
        if step == "roll-back" and firing is not None:
            outcome.result = rollback(firing)
            return outcome
        if firing is not None:  # a dry run: what would have been rolled back
            outcome.would_roll_back.append(firing)
            known.append(rules.PastRollback(rule=firing.rule, at=now))
        if step == "stop":
            break
        sleep(interval_seconds)
    if not outcome.reason and not outcome.would_roll_back:
        outcome.reason = f"no rule matched in {int(duration_seconds)}s"
    return outcome
