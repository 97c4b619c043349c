"""The gate's verdict and Keptn-style score (pure).

Behaviours covered, table-driven:
- score: pass = weight, warn = half weight, no data and fail earn nothing,
  informational objectives are not scored;
- verdicts in rule order: too little traffic (including a traffic query without data
  or with an error) -> inconclusive; key fail -> fail; key without data -> inconclusive;
  score below warn even if missing data had passed -> fail; other missing data ->
  inconclusive (never a pass); score >= pass -> pass; >= warn -> warn; else fail;
- failed / no-data / warned objective names; exit codes per verdict.
"""

from __future__ import annotations

import pytest

from gitops_guard.slo import config, models, verdict

SCORING = config.Scoring()


def r(name: str, state: str, *, key: bool = False, weight: float = 1.0) -> models.ObjectiveResult:
    return models.ObjectiveResult(
        name=name,
        key=key,
        weight=0.0 if state == "info" else weight,
        state=state,  # type: ignore[arg-type]
        reason="",
        query="q",
    )


ENOUGH = models.TrafficCheck("t", 100, 150)


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ([r("a", "pass"), r("b", "pass")], 100.0),
        ([r("a", "pass"), r("b", "warn")], 75.0),
        ([r("a", "pass", weight=3), r("b", "fail")], 75.0),
        ([r("a", "pass"), r("b", "no-data")], 50.0),
        ([r("a", "pass"), r("b", "error")], 50.0),
        ([r("a", "pass"), r("b", "info")], 100.0),
        ([r("a", "warn", weight=2), r("b", "pass", weight=2), r("c", "fail")], 60.0),
        ([], 100.0),
    ],
)
def test_score(results: list[models.ObjectiveResult], expected: float) -> None:
    assert verdict.score(results) == expected


@pytest.mark.parametrize(
    ("case", "results", "traffic", "expected", "reason"),
    [
        ("all pass", [r("a", "pass", key=True), r("b", "pass")], ENOUGH, "pass", "score 100%"),
        (
            "low traffic wins over a failure",
            [r("a", "fail", key=True)],
            models.TrafficCheck("t", 100, 12),
            "inconclusive",
            "too little traffic to judge: 12 requests, at least 100 needed",
        ),
        (
            "traffic query empty",
            [r("a", "pass")],
            models.TrafficCheck("t", 100, None),
            "inconclusive",
            "the traffic query returned no data",
        ),
        (
            "traffic query error",
            [r("a", "pass")],
            models.TrafficCheck("t", 100, None, "bad_data"),
            "inconclusive",
            "the traffic query failed (bad_data)",
        ),
        (
            "key fail despite score",
            [r("k", "fail", key=True, weight=1), r("b", "pass", weight=20)],
            None,
            "fail",
            "key objective failed: k",
        ),
        (
            "key no data",
            [r("k", "no-data", key=True), r("b", "pass")],
            None,
            "inconclusive",
            "key objective without data: k",
        ),
        (
            "key query error",
            [r("k", "error", key=True), r("b", "pass")],
            None,
            "inconclusive",
            "key objective without data: k",
        ),
        (
            "non-key no data never passes",
            [r("a", "pass", weight=9), r("b", "no-data")],
            None,
            "inconclusive",
            "no data for b",
        ),
        (
            "breaches decide even with missing data",
            [r("a", "fail"), r("b", "fail"), r("c", "no-data")],
            None,
            "fail",
            "at most 33.33% even with the missing data",
        ),
        (
            "warn band",
            [r("a", "warn", weight=2), r("b", "pass"), r("c", "pass"), r("d", "pass")],
            None,
            "warn",
            "score 80% is below pass 90% but reaches warn 75%",
        ),
        (
            "non-key fail with low score",
            [r("a", "fail"), r("b", "pass")],
            None,
            "fail",
            "score 50%",
        ),
        (
            "non-key fail above pass",
            [r("a", "fail"), *[r(f"p{i}", "pass") for i in range(9)]],
            None,
            "pass",
            "score 90% >= pass 90%",
        ),
        ("a lone key warn scores 50%", [r("k", "warn", key=True)], None, "fail", "score 50%"),
    ],
)
def test_decide(
    case: str,
    results: list[models.ObjectiveResult],
    traffic: models.TrafficCheck | None,
    expected: str,
    reason: str,
) -> None:
    decided = verdict.decide(results, SCORING, traffic)
    assert decided.verdict == expected, case
    assert reason in decided.reason, decided.reason


def test_names_of_failed_missing_and_warned() -> None:
    decided = verdict.decide(
        [r("a", "fail"), r("b", "no-data"), r("c", "error"), r("d", "warn"), r("e", "pass")],
        SCORING,
    )
    assert decided.failed == ("a",)
    assert decided.no_data == ("b", "c")
    assert decided.warned == ("d",)


def test_custom_scoring() -> None:
    scoring = config.Scoring.model_validate({"pass": 50, "warn": 25})
    assert verdict.decide([r("a", "warn")], scoring).verdict == "pass"


@pytest.mark.parametrize(
    ("kind", "code"), [("pass", 0), ("warn", 0), ("fail", 1), ("inconclusive", 3)]
)
def test_exit_codes(kind: models.Verdict, code: int) -> None:
    from gitops_guard.cli import outcomes  # the one table from outcomes to exit codes

    assert outcomes.exit_code(kind) == code
