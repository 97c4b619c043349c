"""slo-gate against the real Prometheus on backfilled, deterministic history.

Behaviours covered (verdict and exit code through the CLI, evaluated at a fixed ``--at``):
- the example gate: healthy passes (0); error spike fails (1) naming availability;
  latency regression fails (1); warn band warns (0) with score 75; memory in the
  warn band of a non-key objective warns or passes on score; broken checkouts fail
  (1) since the example makes checkout-success key;
- no traffic, low traffic and missing series are inconclusive (3), never pass,
  and the report keeps "too little traffic" apart from breaches;
- relative criterion against a baseline: +5% passes, +200% fails;
- burn-rate objective: healthy passes, error spike fails naming the window pair;
- a query returning several series judges each and names the worst series;
- a bad query is bad configuration (2) naming file:line, never inconclusive (a
  rollback): a typo is refused when the file loads, a query the real Prometheus
  rejects as bad_data when it answers;
- Prometheus down: exit 3, report verdict inconclusive, never pass;
- the report has the query as sent, window, value, threshold, state, reason, series.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitops_guard_lab import promstack

DATA = Path(__file__).resolve().parent / "data"
AT = "2026-01-01T00:50:00Z"
"""conftest.EVAL_AT: ten minutes after the scenarios change."""
GateRunner = Callable[..., tuple[int, dict[str, Any]]]


@pytest.mark.parametrize(
    ("app", "verdict", "code", "failed"),
    [
        ("healthy", "pass", 0, []),
        ("error-spike", "fail", 1, ["availability", "error-rate"]),
        ("latency-regression", "fail", 1, ["latency-p99"]),
        ("warn-band", "warn", 0, []),
        ("memory-warn", "pass", 0, []),
        ("checkout-broken", "fail", 1, ["checkout-success"]),
        ("no-traffic", "inconclusive", 3, []),
        ("low-traffic", "inconclusive", 3, []),
        ("missing-series", "inconclusive", 3, []),
    ],
)
def test_example_gate_scenarios(
    history: promstack.Server,
    run_gate: GateRunner,
    app: str,
    verdict: str,
    code: int,
    failed: list[str],
) -> None:
    exit_code, report = run_gate("--var", f"app={app}", "--at", AT, url=history.url)
    assert (exit_code, report["verdict"]) == (code, verdict), report["reason"]
    assert report["failed_objectives"] == failed
    if verdict == "pass":
        assert report["score"] >= 90
    if app == "warn-band":
        assert report["score"] == 75.0
        states = {o["name"]: o["state"] for o in report["objectives"]}
        assert states["availability"] == "warn"
        assert states["error-rate"] == "warn"
    if app == "memory-warn":
        states = {o["name"]: o["state"] for o in report["objectives"]}
        assert states["memory-saturation"] == "warn"
        assert report["score"] == pytest.approx(91.67)


def test_too_little_traffic_is_reported_apart_from_breaches(
    history: promstack.Server, run_gate: GateRunner
) -> None:
    code, report = run_gate("--var", "app=low-traffic", "--at", AT, url=history.url)
    assert code == 3
    assert "too little traffic" in report["reason"]
    assert report["traffic"]["enough"] is False
    assert report["traffic"]["seen"] == pytest.approx(60, rel=0.05)
    assert report["failed_objectives"] == []


def test_no_traffic_measures_nan_as_no_data(
    history: promstack.Server, run_gate: GateRunner
) -> None:
    code, report = run_gate("--var", "app=no-traffic", "--at", AT, url=history.url)
    assert code == 3
    availability = report["objectives"][0]
    assert availability["state"] == "no-data"
    assert availability["value"] == "NaN"


def test_missing_series_is_no_data_not_a_breach(
    history: promstack.Server, run_gate: GateRunner
) -> None:
    code, report = run_gate("--var", "app=missing-series", "--at", AT, url=history.url)
    assert code == 3
    assert {o["state"] for o in report["objectives"]} == {"no-data"}
    assert report["no_data_objectives"] == [o["name"] for o in report["objectives"]]


def test_report_holds_the_evidence(history: promstack.Server, run_gate: GateRunner) -> None:
    _, report = run_gate("--var", "app=error-spike", "--at", AT, url=history.url)
    availability = report["objectives"][0]
    assert availability["query"].startswith(
        'sum(rate(http_requests_total{app="error-spike",code!~"5.."}[5m]))'
    )
    assert availability["window"] == {"range": "5m", "start": AT, "end": AT}
    assert availability["value"] == pytest.approx(0.95, abs=0.001)
    assert availability["threshold"] == 0.995
    assert availability["state"] == "fail"
    assert "breaches >= 0.995" in availability["reason"]
    assert availability["series"][0]["labels"] == {}
    assert availability["measurements"][0]["at"] == AT
    # --history 30m: one point a minute before the measurement, for the chart.
    points = availability["history"]
    assert len(points) == 31
    assert points[0]["at"] == "2026-01-01T00:20:00Z"
    assert points[0]["value"] == pytest.approx(0.999, abs=0.0005)
    assert points[-1]["value"] == pytest.approx(0.95, abs=0.001)


@pytest.mark.parametrize(
    ("app", "code", "state"),
    [("relative-ok", 0, "pass"), ("relative-regression", 1, "fail")],
)
def test_relative_criterion_against_baseline(
    history: promstack.Server, run_gate: GateRunner, app: str, code: int, state: str
) -> None:
    exit_code, report = run_gate(
        "--var", f"app={app}", "--at", AT, url=history.url, config=DATA / "relative.yaml"
    )
    objective = report["objectives"][0]
    assert (exit_code, objective["state"]) == (code, state), objective["reason"]
    assert objective["baseline"] == pytest.approx(0.01, rel=0.01)
    assert objective["threshold"] == pytest.approx(0.011, rel=0.01)


@pytest.mark.parametrize(("app", "code"), [("healthy", 0), ("error-spike", 1)])
def test_burn_rate_objective(
    history: promstack.Server, run_gate: GateRunner, app: str, code: int
) -> None:
    exit_code, report = run_gate(
        "--var", f"app={app}", "--at", AT, url=history.url, config=DATA / "burn-rate.yaml"
    )
    objective = report["objectives"][0]
    assert exit_code == code, objective["reason"]
    windows = {s["labels"]["burn_window"] for s in objective["series"]}
    assert windows == {"1h/5m", "6h/30m"}
    if code == 1:
        assert 'burn_window="6h/30m"' in objective["reason"]


def test_several_series_judged_one_by_one_worst_named(
    history: promstack.Server, run_gate: GateRunner
) -> None:
    code, report = run_gate("--at", AT, url=history.url, config=DATA / "per-series.yaml")
    objective = report["objectives"][0]
    assert code == 1
    assert sorted(s["state"] for s in objective["series"]) == ["fail", "pass"]
    assert 'app="error-spike"' in objective["reason"]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("sum(rate(x[5m])", "not valid PromQL"),  # refused offline, at load
        ("no_such_function(up)", "bad_data"),  # parser leaves it, Prometheus refuses
    ],
)
def test_bad_query_is_bad_configuration_never_a_pass_or_a_rollback(
    history: promstack.Server,
    run_gate: GateRunner,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    query: str,
    words: str,
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(
        f"name: bad\nobjectives:\n  - name: broken\n    query: {query}\n"
        "    pass: '>= 1'\n    key: true\n"
    )
    code, report = run_gate("--at", AT, url=history.url, config=config)
    assert code == 2
    assert report.get("verdict") not in ("fail", "inconclusive")
    err = capsys.readouterr().err
    assert f"{config}:4" in err
    assert words in err


def test_prometheus_down_is_inconclusive(run_gate: GateRunner) -> None:
    url = f"http://127.0.0.1:{promstack.free_port()}"
    code, report = run_gate("--at", AT, "--query-timeout", "1", url=url)
    assert code == 3
    assert report["verdict"] == "inconclusive"
    assert "could not be reached" in report["reason"]
