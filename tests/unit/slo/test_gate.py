"""The gate flow with a fake query, clock and sleep (no real time passes).

Behaviours covered:
- once mode: one measurement at the fixed time, sent to every query; the traffic guard;
- live mode: waits initialDelay, measures every interval for the duration, passes only
  at the end;
- stops early with fail once a key objective failed more than failureLimit consecutive
  measurements; a recovery in between resets the count;
- a non-key objective that tripped failureLimit counts as failed at the end;
- query errors within consecutiveErrorLimit are skipped (the last result with data
  counts); beyond it a key objective stops the gate as inconclusive;
- measurements with too little traffic neither count failures nor pass the gate;
- Prometheus unreachable mid-run: inconclusive, measurements kept; at the start: raised;
- issue 10 item 10: no data neither counts nor resets a failure streak;
- issue 10 item 11: a last measurement without data is inconclusive, never a pass;
- live measurements are spaced by the longest query window, and the report, log line
  and summary say so;
- issue 10 item 13: a checkout success of 0.90 fails the example's gate (key objective);
- issue 10 item 12: one short burst fails one independent measurement, not the gate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from gitops_guard import errors
from gitops_guard.slo import config, evidence, gate, models

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


class FakeTime:
    def __init__(self) -> None:
        self.now = T0
        self.sleeps: list[float] = []

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)


Script = dict[str, Sequence[float | str | None]]
"""Query -> one value per measurement: a number, "error", or None (no data)."""


class FakePrometheus:
    def __init__(self, script: Script) -> None:
        self.script = script
        self.calls: list[tuple[str, datetime | None]] = []
        self.rounds: dict[str, int] = {}

    def __call__(self, promql: str, at: datetime | None) -> models.QueryOutcome:
        self.calls.append((promql, at))
        index = self.rounds.get(promql, 0)
        self.rounds[promql] = index + 1
        values = self.script[promql]
        value = values[min(index, len(values) - 1)]
        if value == "error":
            return models.QueryOutcome(error="query timed out")
        if value == "down":
            raise errors.DependencyUnavailable("connection refused")
        if value is None:
            return models.QueryOutcome()
        assert isinstance(value, float | int)
        return models.QueryOutcome((models.Sample({}, float(value)),))


def make_config(
    analysis: dict[str, object] | None = None, *, key_b: bool = False
) -> config.SloConfig:
    return config.SloConfig.model_validate(
        {
            "name": "web",
            "analysis": analysis or {},
            "objectives": [
                {"name": "a", "query": "qa", "pass": ">= 0.99", "key": True},
                {"name": "b", "query": "qb", "pass": "< 1", "key": key_b},
            ],
        }
    )


LIVE = {"duration": "60s", "interval": "20s", "initialDelay": "10s", "failureLimit": 1}


def run(
    cfg: config.SloConfig, script: Script, at: datetime | None = None
) -> tuple[gate.GateRun, FakePrometheus, FakeTime]:
    prom, time = FakePrometheus(script), FakeTime()
    seen: list[models.Measurement] = []
    result = gate.run_gate(
        cfg, query=prom, clock=time.clock, sleep=time.sleep, at=at, on_measurement=seen.append
    )
    assert list(result.measurements) == seen
    return result, prom, time


def test_once_at_a_fixed_time() -> None:
    at = T0 - timedelta(hours=1)
    result, prom, _ = run(make_config(LIVE), {"qa": [0.999], "qb": [0.5]}, at=at)
    assert (result.mode, result.verdict.verdict) == ("once", "pass")
    assert {when for _, when in prom.calls} == {at}
    assert result.measurements[0].at == at


def test_once_with_too_little_traffic() -> None:
    cfg = make_config({"minRequests": {"query": "qt", "value": 100}})
    result, prom, _ = run(cfg, {"qt": [40], "qa": [0.999], "qb": [0.5]})
    assert result.verdict.verdict == "inconclusive"
    assert prom.calls[0] == ("qt", None)


def test_live_passes_only_at_the_end() -> None:
    result, prom, time = run(make_config(LIVE), {"qa": [0.999], "qb": [0.5]})
    assert (result.mode, result.verdict.verdict, result.stopped_early) == ("live", "pass", False)
    # 10s delay, then at 0, 20, 40, 60s of the 60s duration.
    assert len(result.measurements) == 4
    assert time.sleeps == [10, 20, 20, 20]
    assert [m.at - T0 for m in result.measurements] == [
        timedelta(seconds=s) for s in (10, 30, 50, 70)
    ]
    assert all(at is None for _, at in prom.calls)


@pytest.mark.parametrize(
    ("values", "measurements", "verdict", "early"),
    [
        ([0.9, 0.9, 0.999], 2, "fail", True),
        ([0.999, 0.9, 0.9], 3, "fail", True),
        ([0.9, 0.999, 0.9, 0.999], 4, "pass", False),
        # A failure on the last planned measurement is neither ignored nor final:
        # the gate measures again until a recovery or the limit.
        ([0.999, 0.999, 0.999, 0.9], 5, "fail", False),
        ([0.999, 0.999, 0.999, 0.9, 0.999], 5, "pass", False),
    ],
)
def test_live_failure_limit(
    values: list[float], measurements: int, verdict: str, early: bool
) -> None:
    result, _, _ = run(make_config(LIVE), {"qa": values, "qb": [0.5]})
    assert len(result.measurements) == measurements
    assert (result.verdict.verdict, result.stopped_early) == (verdict, early)
    if verdict == "fail":
        assert "key objective a failed 2 consecutive measurements" in result.verdict.reason
        assert ("stopped early: " in result.verdict.reason) is early


def test_non_key_objective_that_tripped_counts_as_failed() -> None:
    cfg = make_config({**LIVE, "failureLimit": 0})
    result, _, _ = run(cfg, {"qa": [0.999], "qb": [0.5, 2.0, 0.5, 0.5]})
    b = result.results[1]
    assert b.state == "fail"
    assert "failed 1 consecutive measurements (failureLimit 0)" in b.reason
    assert result.verdict.failed == ("b",)
    assert result.verdict.verdict == "fail"  # score 50% < warn 75%


def test_errors_within_budget_use_the_last_data() -> None:
    cfg = make_config({**LIVE, "consecutiveErrorLimit": 2})
    result, _, _ = run(cfg, {"qa": [0.999, 0.999, "error", "error"], "qb": [0.5]})
    assert result.verdict.verdict == "pass"
    assert result.results[0].state == "pass"
    assert [m.results[0].state for m in result.measurements] == ["pass", "pass", "error", "error"]


def test_errors_beyond_budget_stop_inconclusive() -> None:
    cfg = make_config({**LIVE, "consecutiveErrorLimit": 1})
    result, _, _ = run(cfg, {"qa": ["error"], "qb": [0.5]})
    assert (result.verdict.verdict, result.stopped_early) == ("inconclusive", True)
    assert len(result.measurements) == 2
    assert "failed more than 1 consecutive times" in result.verdict.reason
    assert result.results[0].state == "error"


def test_low_traffic_measurements_neither_count_nor_pass() -> None:
    cfg = make_config({**LIVE, "minRequests": {"query": "qt", "value": 100}})
    # Failures while traffic is too low do not trip failureLimit 1...
    result, _, _ = run(cfg, {"qt": [5, 5, 5, 5], "qa": [0.9], "qb": [0.5]})
    assert result.stopped_early is False
    assert len(result.measurements) == 4
    # ...and the gate cannot pass on them.
    assert result.verdict.verdict == "inconclusive"
    assert "too little traffic" in result.verdict.reason


def test_no_data_at_the_end_is_inconclusive() -> None:
    result, _, _ = run(make_config(LIVE), {"qa": [0.999, 0.999, 0.999, None], "qb": [0.5]})
    assert result.verdict.verdict == "inconclusive"


def test_prometheus_down_mid_run_is_inconclusive_and_keeps_measurements() -> None:
    result, _, _ = run(make_config(LIVE), {"qa": [0.999, 0.999, "down"], "qb": [0.5]})
    assert (result.verdict.verdict, result.stopped_early) == ("inconclusive", True)
    assert len(result.measurements) == 2
    assert "Prometheus became unreachable after 2 measurements" in result.verdict.reason


def test_prometheus_down_at_the_start_raises() -> None:
    with pytest.raises(errors.DependencyUnavailable):
        run(make_config(LIVE), {"qa": ["down"], "qb": [0.5]})


def test_no_data_neither_counts_nor_resets_the_failure_streak() -> None:
    # Issue 10 item 10: failureLimit 1 and 0.5, none, 0.5, none, 0.5, 1 must fail.
    cfg = make_config({**LIVE, "duration": "100s"})
    result, _, _ = run(cfg, {"qa": [0.5, None, 0.5, None, 0.5, 1], "qb": [0.5]})
    assert (result.verdict.verdict, result.stopped_early) == ("fail", True)
    assert len(result.measurements) == 3
    assert "key objective a failed 2 consecutive measurements" in result.verdict.reason


def test_final_verdict_never_passes_on_a_last_measurement_without_data() -> None:
    # Issue 10 item 11: 1, 1, 1, 1, then no series is inconclusive, not a pass.
    cfg = make_config({**LIVE, "duration": "80s"})
    result, _, _ = run(cfg, {"qa": [1, 1, 1, 1, None], "qb": [0.5]})
    assert len(result.measurements) == 5
    assert result.verdict.verdict == "inconclusive"
    assert "key objective without data: a" in result.verdict.reason
    assert result.results[0].state == "no-data"


def test_live_interval_widened_to_the_query_window() -> None:
    cfg = config.SloConfig.model_validate(
        {
            "name": "web",
            "analysis": {"duration": "10m", "interval": "30s"},
            "objectives": [{"name": "a", "query": "rate(x[5m])", "pass": ">= 0.99", "key": True}],
        }
    )
    result, _, time = run(cfg, {"rate(x[5m])": [1]})
    assert result.verdict.verdict == "pass"
    assert time.sleeps == [300, 300]
    assert len(result.measurements) == 3
    assert result.interval_seconds == 300
    assert result.note and "measuring every 5m instead of every 30s" in result.note
    data = evidence.build_report(cfg, result)
    assert (data["interval_seconds"], data["note"]) == (300, result.note)
    assert evidence.one_line(result).endswith(f"; {result.note}")
    assert f"Note: {result.note}." in evidence.summary_markdown(cfg, result)


def test_example_checkout_objective_is_key() -> None:
    # Issue 10 item 13: a checkout success of 0.90 fails the example's gate.
    cfg = config.load(Path(__file__).resolve().parents[3] / "examples" / "slo.yaml")
    by_name = {o.name: o.promql for o in cfg.objectives}
    values = {
        "availability": 0.999,
        "latency-p99": 0.2,
        "error-rate": 0.001,
        "checkout-success": 0.90,
        "memory-saturation": 100 * 2**20,
    }
    assert cfg.analysis.min_requests is not None
    script: Script = {by_name[n]: [v] for n, v in values.items()}
    script[cfg.analysis.min_requests.query] = [10_000]
    result, _, _ = run(cfg, script, at=T0)
    assert result.verdict.verdict == "fail"
    assert "key objective failed: checkout-success" in result.verdict.reason


@pytest.mark.parametrize(("overlap", "verdict"), [(True, "fail"), (False, "pass")])
def test_one_short_burst_fails_one_measurement_not_the_gate(overlap: bool, verdict: str) -> None:
    # Issue 10 item 12: a 45 s burst of 15% errors in 0.5% background, 5m windows,
    # failureLimit 1. Measured every 30s on overlapping windows, the burst fails every
    # measurement for five minutes (the gate stops at the second); on independent
    # windows it fails one.
    query = "availability[5m]"
    cfg = config.SloConfig.model_validate(
        {
            "name": "web",
            "analysis": {
                "duration": "15m",
                "interval": "30s",
                "failureLimit": 1,
                "allowOverlap": overlap,
            },
            "objectives": [{"name": "a", "query": query, "pass": ">= 0.99", "key": True}],
        }
    )
    time = FakeTime()
    burst = (400.0, 445.0)

    def prometheus(promql: str, at: datetime | None) -> models.QueryOutcome:
        end = (time.now - T0).total_seconds()
        start = end - 300
        inside = max(0.0, min(end, burst[1]) - max(start, burst[0]))
        ratio = 0.005 + 0.15 * inside / 300
        return models.QueryOutcome((models.Sample({}, 1 - ratio),))

    result = gate.run_gate(cfg, query=prometheus, clock=time.clock, sleep=time.sleep)
    assert result.verdict.verdict == verdict, result.verdict.reason
    failed = [m.results[0].state for m in result.measurements].count("fail")
    assert failed == (2 if overlap else 1)
