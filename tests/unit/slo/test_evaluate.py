"""Judging one objective's measurement (pure).

Behaviours covered, table-driven:
- pass, warn band, fail (with and without warn criteria), informational objectives;
- no data: empty result, NaN, +Inf, -Inf; a query error is "error", never a pass;
- relative criteria: baseline matched by labels or the only baseline series; baseline
  empty, NaN, failed or unmatched -> no data;
- several series: each judged, the worst kept (fail > no data > warn > pass, then the
  farthest from the threshold) and its labels named in the reason.
- issue 10 item 9: a breached absolute criterion fails without the baseline; what the
  baseline could still change is no data;
- issue 10 item 14: Keptn's criteria sets (AND within, OR across) and the = operator.
"""

from __future__ import annotations

import math

import pytest

from gitops_guard.slo import config, evaluate, models


def objective(**fields: object) -> config.Objective:
    data: dict[str, object] = {"name": "obj", "query": "q", "pass": ">= 0.99"}
    data.update(fields)
    return config.Objective.model_validate(data)


def outcome(*values: float, labels: list[dict[str, str]] | None = None) -> models.QueryOutcome:
    label_sets = labels or [{} for _ in values]
    return models.QueryOutcome(
        tuple(models.Sample(lbl, v) for lbl, v in zip(label_sets, values, strict=True))
    )


@pytest.mark.parametrize(
    ("fields", "measured", "state", "reason"),
    [
        ({}, outcome(0.995), "pass", "{} = 0.995 meets >= 0.99"),
        ({}, outcome(0.98), "fail", "{} = 0.98 breaches >= 0.99"),
        ({"warn": ">= 0.95"}, outcome(0.97), "warn", "misses >= 0.99 but meets warn >= 0.95"),
        ({"warn": ">= 0.95"}, outcome(0.9), "fail", "breaches >= 0.99 and warn >= 0.95"),
        ({}, models.QueryOutcome(), "no-data", "returned no data"),
        ({}, outcome(math.nan), "no-data", "{} is NaN: no data"),
        ({}, outcome(math.inf), "no-data", "{} is +Inf: no data"),
        ({}, outcome(-math.inf), "no-data", "{} is -Inf: no data"),
        ({}, models.QueryOutcome(error="parse error"), "error", "query error: parse error"),
        ({"pass": None}, outcome(12.0), "info", "= 12 (not judged)"),
        ({"pass": "< 500ms"}, outcome(0.7), "fail", "{} = 0.7 breaches < 0.5"),
        ({"pass": ["> 0", "< 1"]}, outcome(1.0), "fail", "breaches > 0 and < 1"),
    ],
)
def test_states(
    fields: dict[str, object], measured: models.QueryOutcome, state: str, reason: str
) -> None:
    result = evaluate.evaluate_objective(objective(**fields), measured)
    assert result.state == state
    assert reason in result.reason


def test_query_error_keeps_static_threshold_and_query() -> None:
    result = evaluate.evaluate_objective(objective(), models.QueryOutcome(error="timeout"))
    assert (result.state, result.value, result.threshold, result.query) == (
        "error",
        None,
        0.99,
        "q",
    )


RELATIVE = {"baseline": "b", "pass": "<= +10%", "warn": "<= +50%"}


@pytest.mark.parametrize(
    ("measured", "baseline", "state", "reason"),
    [
        (outcome(0.0105), outcome(0.01), "pass", "meets <= 0.011 (baseline 0.01 +10%)"),
        (outcome(0.014), outcome(0.01), "warn", "meets warn <= 0.015"),
        (outcome(0.03), outcome(0.01), "fail", "breaches <= 0.011"),
        (outcome(0.03), models.QueryOutcome(), "no-data", "baseline query returned no data"),
        (outcome(0.03), outcome(math.nan), "no-data", "baseline value is NaN"),
        (outcome(0.03), models.QueryOutcome(error="boom"), "no-data", "baseline query failed"),
        (
            outcome(0.01, labels=[{"route": "/a"}]),
            outcome(0.01, 0.01, labels=[{"route": "/b"}, {"route": "/c"}]),
            "no-data",
            'no baseline series has the labels {route="/a"}',
        ),
        (
            outcome(0.01, 0.05, labels=[{"route": "/a"}, {"route": "/b"}]),
            outcome(0.01, 0.048, labels=[{"route": "/a"}, {"route": "/b"}]),
            "pass",
            "2 pass",
        ),
    ],
)
def test_relative_criteria(
    measured: models.QueryOutcome, baseline: models.QueryOutcome, state: str, reason: str
) -> None:
    result = evaluate.evaluate_objective(objective(**RELATIVE), measured, baseline)
    assert result.state == state, result.reason
    assert reason in result.reason


def test_relative_result_reports_baseline_and_thresholds() -> None:
    result = evaluate.evaluate_objective(objective(**RELATIVE), outcome(0.03), outcome(0.01))
    assert result.baseline == 0.01
    assert result.threshold == pytest.approx(0.011)
    assert result.warn_threshold == pytest.approx(0.015)
    assert result.baseline_query == "b"


@pytest.mark.parametrize(
    ("values", "worst_labels", "state"),
    [
        ((0.999, 0.98, 0.97), {"pod": "c"}, "fail"),
        ((0.999, math.nan, 0.995), {"pod": "b"}, "no-data"),
        ((0.999, 0.991, 0.995), {"pod": "b"}, "pass"),
        ((0.96, 0.999, 0.97), {"pod": "a"}, "fail"),
    ],
)
def test_several_series_worst_named(
    values: tuple[float, ...], worst_labels: dict[str, str], state: str
) -> None:
    labels = [{"pod": "a"}, {"pod": "b"}, {"pod": "c"}]
    result = evaluate.evaluate_objective(objective(), outcome(*values, labels=labels))
    assert result.state == state
    assert dict(result.worst_labels) == worst_labels
    assert f'pod="{worst_labels["pod"]}"' in result.reason
    assert result.reason.startswith("worst of 3 series")
    assert len(result.series) == 3


def test_upper_bound_worst_is_the_highest() -> None:
    labels = [{"pod": "a"}, {"pod": "b"}]
    result = evaluate.evaluate_objective(
        objective(**{"pass": "<= 0.5"}),
        outcome(0.9, 0.7, labels=labels),
    )
    assert result.state == "fail"
    assert dict(result.worst_labels) == {"pod": "a"}
    assert result.value == 0.9


def test_reason_shows_the_unit() -> None:
    result = evaluate.evaluate_objective(
        objective(**{"pass": "<= 400MiB", "unit": "bytes"}), outcome(450 * 2**20)
    )
    assert result.reason == "{} = 450MiB breaches <= 400MiB"


# Issue 10 item 9: a breached absolute criterion decides without the baseline.
ABSOLUTE_AND_RELATIVE = {"baseline": "b", "pass": ["<= +20%", "< 500"]}


@pytest.mark.parametrize(
    ("fields", "measured", "state", "reason"),
    [
        (
            ABSOLUTE_AND_RELATIVE,
            1011.0,
            "fail",
            "{} = 1011 breaches <= +20% and < 500 whatever the baseline "
            "(the baseline query returned no data)",
        ),
        (ABSOLUTE_AND_RELATIVE, 400.0, "no-data", "cannot judge <= +20% and < 500"),
        (
            {**ABSOLUTE_AND_RELATIVE, "warn": ["<= +50%", "< 800"]},
            1011.0,
            "fail",
            "breaches <= +20% and < 500 and warn <= +50% and < 800 whatever the baseline",
        ),
        (
            {**ABSOLUTE_AND_RELATIVE, "warn": ["<= +50%", "< 1500"]},
            1011.0,
            "no-data",
            "whether it meets warn <= +50% and < 1500 needs the baseline",
        ),
        (
            {"baseline": "b", "pass": [{"criteria": ["<= +20%"]}, {"criteria": ["< 500"]}]},
            400.0,
            "pass",
            "meets <= +20% or < 0.5",
        ),
    ],
)
def test_failing_absolute_criterion_decides_without_baseline(
    fields: dict[str, object], measured: float, state: str, reason: str
) -> None:
    result = evaluate.evaluate_objective(
        objective(**fields), outcome(measured), models.QueryOutcome()
    )
    assert result.state == state, result.reason
    assert reason.replace("< 0.5", "< 500") in result.reason


def test_failing_absolute_criterion_reports_the_breached_threshold() -> None:
    result = evaluate.evaluate_objective(
        objective(**ABSOLUTE_AND_RELATIVE), outcome(1011.0), models.QueryOutcome()
    )
    assert (result.threshold, result.baseline) == (500.0, None)


# Issue 10 item 14: Keptn's criteria sets, AND within a set, OR across sets.
KEPTN_SETS = {
    "baseline": "b",
    "pass": [{"criteria": ["<= +10%", "< 1000"]}, {"criteria": ["< 600"]}],
    "warn": [{"criteria": ["<= 800"]}],
}


@pytest.mark.parametrize(
    ("value", "base", "state", "threshold"),
    [
        (650.0, 600.0, "pass", 660.0),  # first set: within +10% and below 1000
        (550.0, 900.0, "pass", 990.0),  # both sets hold: the first one is reported
        (590.0, 400.0, "pass", 600.0),  # only the second set: below 600
        (700.0, 400.0, "warn", 440.0),  # neither set; warn <= 800 holds
        (900.0, 400.0, "fail", 440.0),
        (1100.0, 1050.0, "fail", 1000.0),  # within +10% but not below 1000, nor 600
    ],
)
def test_criteria_sets_or_combined(value: float, base: float, state: str, threshold: float) -> None:
    result = evaluate.evaluate_objective(objective(**KEPTN_SETS), outcome(value), outcome(base))
    assert result.state == state, result.reason
    assert result.threshold == pytest.approx(threshold)
    assert result.criteria == "(<= +10% and < 1000) or < 600"


def test_keptn_equality_operator() -> None:
    assert evaluate.evaluate_objective(objective(**{"pass": "= 0"}), outcome(0.0)).state == "pass"
    assert evaluate.evaluate_objective(objective(**{"pass": "= 0"}), outcome(1.0)).state == "fail"
