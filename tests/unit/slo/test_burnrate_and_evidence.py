"""Burn-rate PromQL generation, the JSON report, the summary and the Mermaid chart (pure).

Behaviours covered:
- burn-rate queries: one labelled series per window pair, the error budget (1 - target),
  both windows' ranges, the factor, "or vector(0)" for absent error series; bad targets;
- the JSON report: top-level verdict/score/objectives, per-objective query as sent,
  window, value, threshold, baseline, state, reason, series, measurements; NaN and Inf
  written as strings (strict JSON);
- the Markdown summary: verdict line, table, one Mermaid chart per objective;
- the Mermaid xychart: measurement and threshold lines, points without data dropped,
  nothing to draw -> no chart.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone

import pytest

from gitops_guard import report
from gitops_guard.slo import burnrate, config, evidence, gate, models

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_burn_rate_promql_shape() -> None:
    text = burnrate.promql(
        errors='r{code=~"5.."}', total="r", target=0.999, windows=burnrate.PAGE_WINDOWS
    )
    assert text.count("label_replace(") == 2
    assert '"burn_window", "1h/5m"' in text and '"burn_window", "6h/30m"' in text
    for rng in ("1h", "5m", "6h", "30m"):
        assert f'(sum(rate(r{{code=~"5.."}}[{rng}])) or vector(0)) / sum(rate(r[{rng}]))' in text
    assert "/ 0.001)" in text
    assert ") / 14.4," in text and ") / 6," in text
    assert " or label_replace(" in text


@pytest.mark.parametrize("target", [0.0, 1.0, 1.5, -0.1])
def test_burn_rate_rejects_targets_outside_0_1(target: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        burnrate.promql(errors="e", total="t", target=target, windows=burnrate.PAGE_WINDOWS)


def test_burn_rate_custom_windows_from_the_file() -> None:
    cfg = config.load_text(
        "name: b\nobjectives:\n  - name: budget\n    burnRate:\n      target: 0.99\n"
        "      errors: e\n      total: t\n      windows:\n"
        "        - {long: 1d, short: 2h, factor: 3}\n"
    )
    text = cfg.objectives[0].promql
    assert '"burn_window", "1d/2h"' in text
    assert "/ 0.01)" in text
    assert ") / 3," in text


def _run() -> tuple[config.SloConfig, gate.GateRun]:
    cfg = config.load_text(
        "name: web\nobjectives:\n"
        "  - {name: availability, query: qa, pass: '>= 0.99', key: true}\n"
        "  - {name: latency, query: ql, pass: '< 500ms', baseline: qb}\n"
    )
    measurements = []
    for i, (a, lat) in enumerate([(0.999, 0.3), (0.98, math.nan)]):
        results = (
            models.ObjectiveResult(
                name="availability",
                key=True,
                weight=1,
                state="pass" if a >= 0.99 else "fail",
                reason="r",
                query="qa",
                value=a,
                threshold=0.99,
                criteria=">= 0.99",
                series=(models.SeriesResult({}, a, None, 0.99, "pass", "r"),),
            ),
            models.ObjectiveResult(
                name="latency",
                key=False,
                weight=1,
                state="pass" if lat == lat else "no-data",
                reason="r",
                query="ql",
                value=lat,
                threshold=0.5,
                baseline=0.25,
                baseline_query="qb",
            ),
        )
        verdict = models.GateVerdict("fail", 0.0, "key objective failed: availability")
        measurements.append(models.Measurement(i, T0 + timedelta(seconds=30 * i), results, verdict))
    run = gate.GateRun(
        "web",
        "live",
        T0,
        T0 + timedelta(minutes=1),
        tuple(measurements),
        measurements[-1].results,
        measurements[-1].verdict,
    )
    return cfg, run


def test_report_is_strict_json_with_the_evidence() -> None:
    cfg, run = _run()
    data = evidence.build_report(cfg, run)
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text)["verdict"] == "fail"
    assert data["score"] == 0.0
    avail, latency = data["objectives"]
    assert avail["query"] == "qa"
    assert avail["window"] == {
        "range": None,
        "start": "2026-01-01T00:00:00Z",
        "end": "2026-01-01T00:00:30Z",
    }
    assert (avail["value"], avail["threshold"], avail["state"]) == (0.98, 0.99, "fail")
    assert [p["value"] for p in avail["measurements"]] == [0.999, 0.98]
    assert latency["value"] == "NaN"
    assert latency["baseline"] == 0.25
    assert latency["baseline_query"] == "qb"
    assert latency["criteria"] == {
        "pass": ["< 500ms"],
        "warn": [],
        "pass_any_of": [["< 500ms"]],
        "warn_any_of": [],
    }


def test_summary_has_table_and_charts() -> None:
    cfg, run = _run()
    text = evidence.summary_markdown(cfg, run)
    assert "SLO gate `web`: **fail**" in text
    assert "| ❌ fail | availability 🔑 | 0.98 | >= 0.99 | - | 1 | r |" in text
    assert text.count("xychart-beta") == 2
    assert "- `availability`: `qa`" in text


def test_mermaid_chart_lines_and_gaps() -> None:
    chart = report.mermaid_xychart(
        'lat "p99"', ["a", "b", "c"], [[0.1, math.nan, 0.3], [0.5, 0.5, 0.5]], y_label="s"
    )
    lines = chart.splitlines()
    assert lines[0] == "```mermaid" and lines[-1] == "```"
    assert "title \"lat 'p99'\"" in chart
    assert 'x-axis ["a", "c"]' in chart
    assert "line [0.1, 0.3]" in chart and "line [0.5, 0.5]" in chart
    assert 'y-axis "s" 0.06 --> 0.54' in chart


@pytest.mark.parametrize(
    "lines", [[], [[math.nan, None]], [[math.inf]]], ids=["no lines", "no data", "inf"]
)
def test_mermaid_chart_nothing_to_draw(lines: list[list[float | None]]) -> None:
    assert report.mermaid_xychart("t", ["a", "b"], lines) == ""


def test_json_safe() -> None:
    assert report.json_safe({"a": [math.nan, math.inf, -math.inf, 1.5, "x"]}) == {
        "a": ["NaN", "+Inf", "-Inf", 1.5, "x"]
    }
