"""The watch loop (fake clock, sleep and signal sources) and the evidence rendering.

- a matching alert rolls back once and the watch stops; quiet signals run until --for
- dry run keeps watching: one "would roll back", then the cooldown holds it
- past rollbacks from history (Gitops-Guard-Rule trailers) put a rule in cooldown
- Prometheus rules need every condition; no data never matches
- suppressed (silenced) alerts do not count
- evidence: reason line, failing-only table, Mermaid chart as % of threshold, PR body
  with the run link; a report without `verdict` is exit 2
- the watch's stop rule (roll back, go on, stop at the end of --for) by a table;
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from gitops_guard import errors
from gitops_guard.rollback import evidence, models, rules, watch

RULES = rules.parse_rules(
    """\
defaults: {cooldown: 60s, max-rollbacks: 3, window: 1h}
rules:
  - name: alert
    alert: {alertname: HighErrorRate, labels: {app: web}}
  - name: burn
    prometheus:
      - {query: short, above: 14.4}
      - {query: long, above: 14.4}
""",
    source="r.yaml",
)


@dataclass
class FakeAlert:
    labels: Mapping[str, str]
    state: str = "active"

    def describe(self) -> str:
        return self.labels["alertname"]


@dataclass
class Alerts:
    firing: list[FakeAlert] = field(default_factory=list)

    def alerts(self, *, matchers: Mapping[str, str] | None = None) -> list[FakeAlert]:
        return list(self.firing)


@dataclass
class Metrics:
    values_by_query: dict[str, list[float]] = field(default_factory=dict)

    def values(self, promql: str) -> list[float]:
        return self.values_by_query.get(promql, [])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _run(alerts: Alerts, metrics: Metrics, *, dry_run: bool, past=(), duration=300.0):
    clock = Clock()
    calls: list[rules.WatchDecision] = []

    def rollback(decision: rules.WatchDecision) -> models.RollbackResult:
        calls.append(decision)
        return models.RollbackResult(status="rolled-back", rollback_sha="f" * 40)

    outcome = watch.run(
        RULES,
        duration_seconds=duration,
        interval_seconds=30,
        alerts=alerts,
        metrics=metrics,
        past=list(past),
        rollback=rollback,
        dry_run=dry_run,
        clock=clock,
        sleep=clock.sleep,
    )
    return outcome, calls


FIRING = FakeAlert({"alertname": "HighErrorRate", "app": "web"})


def test_rolls_back_once_and_stops() -> None:
    outcome, calls = _run(Alerts([FIRING]), Metrics(), dry_run=False)
    assert [c.rule for c in calls] == ["alert"]
    assert len(outcome.ticks) == 1
    assert outcome.result is not None and outcome.result.rollback_sha == "f" * 40


def test_quiet_runs_until_the_end() -> None:
    outcome, calls = _run(Alerts(), Metrics(), dry_run=False, duration=300)
    assert calls == []
    assert len(outcome.ticks) == 11  # t = 0, 30, ..., 300
    assert outcome.reason == "no rule matched in 300s"


def test_dry_run_once_then_cooldown_then_again() -> None:
    outcome, calls = _run(Alerts([FIRING]), Metrics(), dry_run=True, duration=90)
    assert calls == []
    actions = [t.decisions[0].action for t in outcome.ticks]
    assert actions == ["rollback", "cooldown", "rollback", "cooldown"]
    assert len(outcome.would_roll_back) == 2


def test_history_puts_rule_in_cooldown() -> None:
    past = [rules.PastRollback("alert", at=990.0, sha="a" * 40)]
    outcome, calls = _run(Alerts([FIRING]), Metrics(), dry_run=False, past=past, duration=90)
    # t=1000 and t=1030 are within 60s of the rollback at 990; t=1060 is not.
    assert [t.decisions[0].action for t in outcome.ticks] == ["cooldown", "cooldown", "rollback"]
    assert [c.rule for c in calls] == ["alert"]


def test_prometheus_rule_needs_every_condition() -> None:
    half = Metrics({"short": [20.0], "long": [3.0]})
    _, calls = _run(Alerts(), half, dry_run=False, duration=0)
    assert calls == []
    both = Metrics({"short": [20.0], "long": [15.0]})
    _, calls = _run(Alerts(), both, dry_run=False, duration=0)
    assert [c.rule for c in calls] == ["burn"]
    assert "short = 20" in calls[0].reason


def test_silenced_alert_does_not_count() -> None:
    silenced = FakeAlert({"alertname": "HighErrorRate", "app": "web"}, state="suppressed")
    _, calls = _run(Alerts([silenced]), Metrics(), dry_run=False, duration=0)
    assert calls == []


def test_past_rollbacks_from_history() -> None:
    history = [
        models.CommitRecord(models.CommitSha("a" * 40), 5, "rb", action="rollback", rule="alert"),
        models.CommitRecord(models.CommitSha("b" * 40), 4, "rb", action="rollback"),
        models.CommitRecord(models.CommitSha("c" * 40), 3, "deploy", action="update-manifest"),
    ]
    assert watch.past_rollbacks(history) == [rules.PastRollback("alert", 5.0, "a" * 40)]


REPORT = {
    "verdict": "fail",
    "score": 50.0,
    "objectives": [
        {
            "name": "error-ratio",
            "value": 0.05,
            "threshold": 0.01,
            "baseline": 0.002,
            "state": "fail",
            "window": "5m",
            "reason": "0.05 > 0.01",
        },
        {"name": "latency|p99", "value": 0.6, "threshold": 0.5, "state": "fail"},
        {"name": "saturation", "value": 0.2, "threshold": 0.8, "state": "pass"},
    ],
}


def test_evidence_rendering() -> None:
    ev = evidence.from_report(REPORT)
    assert evidence.gate_failed(ev)
    assert evidence.reason(ev) == (
        "slo-gate fail: error-ratio (0.05 vs 0.01), latency|p99 (0.6 vs 0.5)"
    )
    table = evidence.table(ev)
    assert "| error-ratio | fail | 0.05 | 0.01 | 0.002 | 5m | 0.05 > 0.01 |" in table
    assert "latency\\|p99" in table
    assert "saturation" not in table
    chart = evidence.mermaid(ev)
    assert "bar [500, 120]" in chart
    assert "line [100, 100]" in chart
    body = evidence.pull_request_body(
        swaps=[models.ImageSwap(image="web:1", previous="web:2")],
        target=None,
        evidence=ev,
        why=evidence.reason(ev),
        run_url="https://github.com/acme/app/actions/runs/5",
        method="revert",
        quarantined=["web:2"],
    )
    assert "- `web:2` → `web:1`" in body
    assert "Verdict **fail**, score 50%; 2 of 3 objectives failing" in body
    assert body.rstrip().endswith("Run: https://github.com/acme/app/actions/runs/5")
    assert "Quarantined" in body


def test_report_without_verdict_is_input_error() -> None:
    with pytest.raises(errors.InputError):
        evidence.from_report({"objectives": []}, source="gate.json")
    assert not evidence.gate_failed(evidence.from_report({"verdict": "pass"}))


@pytest.mark.parametrize(
    ("elapsed", "interval", "duration", "firing", "dry_run", "expected"),
    [
        (0.0, 30.0, 900.0, False, False, "wait"),
        (0.0, 30.0, 900.0, True, False, "roll-back"),
        (0.0, 30.0, 900.0, True, True, "wait"),  # a dry run records and goes on
        (870.0, 30.0, 900.0, False, False, "wait"),  # the last look lands on the end
        (871.0, 30.0, 900.0, False, False, "stop"),
        (871.0, 30.0, 900.0, True, False, "roll-back"),  # firing wins over the deadline
        (871.0, 30.0, 900.0, True, True, "stop"),
        (0.0, 30.0, 0.0, False, False, "stop"),  # --for 0s: one look
        (0.0, 30.0, 0.0, True, False, "roll-back"),
    ],
)
def test_the_watch_stop_rule(
    elapsed: float,
    interval: float,
    duration: float,
    firing: bool,
    dry_run: bool,
    expected: str,
) -> None:
    from gitops_guard.rollback import watch as watching

    step = watching.next_step(
        elapsed_seconds=elapsed,
        interval_seconds=interval,
        duration_seconds=duration,
        firing=firing,
        dry_run=dry_run,
    )
    assert step == expected
