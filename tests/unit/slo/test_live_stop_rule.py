"""The stop rule of live mode, as a table over measurements (pure, no clock).

Behaviours covered:
- outcomes: error, inconclusive (no data or too little traffic), failure, success;
- a failure streak is ended only by a success: no data, too little traffic and query
  errors neither count nor reset it (failureLimit 1: 0.5, none, 0.5, none, 0.5 fails);
- failureLimitMode consecutive (longest streak) and total (Argo Rollouts' count);
- key objectives stop the run: fail when tripped, inconclusive past
  consecutiveErrorLimit or inconclusiveLimit; non-key objectives never stop it;
- consecutiveSuccessLimit stops early on good measurements, and a run that never
  reaches it ends inconclusive;
- an unresolved failure at the end of the plan is measured again, at most
  failureLimit + 1 times;
- the final results: the last measurement; query errors within budget bridged, no
  data never bridged; tripped objectives failed;
- the interval is widened to the longest query window unless allowOverlap (not past the
  duration), and the example's live block measures 5 minutes apart, 4 times.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import pytest

from gitops_guard.slo import config, evaluate, live, models, verdict

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)

Value = float | str | None
"""A number (judged against ">= 0.99" for "a", "< 1" for "b"), "error", None (no data)."""


def make_config(**analysis: object) -> config.SloConfig:
    return config.SloConfig.model_validate(
        {
            "name": "web",
            "analysis": {"duration": "60s", "interval": "20s", **analysis},
            "objectives": [
                {"name": "a", "query": "qa", "pass": ">= 0.99", "key": True},
                {"name": "b", "query": "qb", "pass": "< 1"},
            ],
        }
    )


def outcome(value: Value) -> models.QueryOutcome:
    if value == "error":
        return models.QueryOutcome(error="query timed out")
    if value is None:
        return models.QueryOutcome()
    assert isinstance(value, float | int)
    return models.QueryOutcome((models.Sample({}, float(value)),))


def measurements(
    cfg: config.SloConfig,
    a: Sequence[Value],
    b: Sequence[Value] | None = None,
    traffic: Sequence[float] | None = None,
) -> list[models.Measurement]:
    out = []
    for i, value in enumerate(a):
        check = None if traffic is None else models.TrafficCheck("t", 100, traffic[i])
        results = (
            evaluate.evaluate_objective(cfg.objectives[0], outcome(value)),
            evaluate.evaluate_objective(cfg.objectives[1], outcome(0.5 if b is None else b[i])),
        )
        out.append(
            models.Measurement(i, T0, results, verdict.decide(results, cfg.scoring, check), check)
        )
    return out


def run_rule(
    cfg: config.SloConfig,
    a: Sequence[Value],
    b: Sequence[Value] | None = None,
    traffic: Sequence[float] | None = None,
) -> tuple[int, live.Step, models.GateVerdict]:
    """Feed measurements one by one until the rule stops (or they run out)."""
    every = measurements(cfg, a, b, traffic)
    planned = live.planned_measurements(cfg)
    for n in range(1, len(every) + 1):
        step = live.next_step(cfg, every[:n], planned)
        if step.action == "stop":
            return n, step, live.conclude(cfg, every[:n], step)[1]
    raise AssertionError(f"the rule wanted more than {len(every)} measurements")


@pytest.mark.parametrize(
    ("state", "traffic", "expected"),
    [
        ("pass", None, "success"),
        ("warn", None, "success"),
        ("info", None, "success"),
        ("fail", None, "failure"),
        ("no-data", None, "inconclusive"),
        ("error", None, "error"),
        ("fail", models.TrafficCheck("t", 100, 5), "inconclusive"),
        ("pass", models.TrafficCheck("t", 100, None), "inconclusive"),
        ("error", models.TrafficCheck("t", 100, 5), "error"),
        ("fail", models.TrafficCheck("t", 100, 500), "failure"),
    ],
)
def test_classify(state: str, traffic: models.TrafficCheck | None, expected: str) -> None:
    result = models.ObjectiveResult("a", True, 1, state, "", "q")  # type: ignore[arg-type]
    assert live.classify(result, traffic) == expected


# 60s / 20s: 4 planned measurements. "a" passes at >= 0.99.
RULE_TABLE = [
    # (case, analysis, a values, measurements taken, verdict, early)
    ("all pass", {"failureLimit": 1}, [1, 1, 1, 1], 4, "pass", False),
    ("two in a row trip limit 1", {"failureLimit": 1}, [1, 0.5, 0.5], 3, "fail", True),
    ("a success resets", {"failureLimit": 1}, [0.5, 1, 0.5, 1], 4, "pass", False),
    (
        "no data neither counts nor resets",
        {"failureLimit": 1},
        [0.5, None, 0.5, None, 0.5, 1],
        3,
        "fail",
        True,
    ),
    ("errors neither count nor reset", {"failureLimit": 1}, [0.5, "error", 0.5], 3, "fail", True),
    ("limit 0 fails at once", {}, [1, 0.5], 2, "fail", True),
    (
        "total counts apart failures",
        {"failureLimit": 1, "failureLimitMode": "total"},
        [0.5, 1, 0.5],
        3,
        "fail",
        True,
    ),
    (
        "total tolerates up to the limit",
        {"failureLimit": 2, "failureLimitMode": "total"},
        [0.5, 1, 0.5, 1],
        4,
        "pass",
        False,
    ),
    (
        "consecutive tolerates apart failures",
        {"failureLimit": 1},
        [0.5, 1, 0.5, 1],
        4,
        "pass",
        False,
    ),
    (
        "errors past the budget",
        {"consecutiveErrorLimit": 1},
        [1, "error", "error"],
        3,
        "inconclusive",
        True,
    ),
    (
        "errors within the budget",
        {"consecutiveErrorLimit": 2},
        [1, "error", "error", 1],
        4,
        "pass",
        False,
    ),
    (
        "inconclusive past the limit",
        {"inconclusiveLimit": 1},
        [None, 1, None],
        3,
        "inconclusive",
        True,
    ),
    ("no inconclusive limit by default", {}, [None, None, None, 1], 4, "pass", False),
    ("success limit stops early", {"consecutiveSuccessLimit": 2}, [1, 1], 2, "pass", True),
    (
        "a failure breaks the success run",
        {"consecutiveSuccessLimit": 2, "failureLimit": 1},
        [1, 0.5, 1, 1],
        4,
        "pass",
        False,
    ),
    (
        "success limit never reached",
        {"consecutiveSuccessLimit": 3, "failureLimit": 1},
        [1, 1, 0.5, 1],
        4,
        "inconclusive",
        False,
    ),
    (
        "last failure measured again: recovers",
        {"failureLimit": 1},
        [1, 1, 1, 0.5, 1],
        5,
        "pass",
        False,
    ),
    (
        "last failure measured again: trips",
        {"failureLimit": 1},
        [1, 1, 1, 0.5, 0.5],
        5,
        "fail",
        False,
    ),
    (
        "last failure, then no data, then the cap",
        {"failureLimit": 1},
        [1, 1, 1, 0.5, None, None],
        6,
        "inconclusive",
        False,
    ),
    ("no data at the end", {}, [1, 1, 1, None], 4, "inconclusive", False),
    ("an error at the end is bridged", {}, [1, 1, 1, "error"], 4, "pass", False),
]


@pytest.mark.parametrize(
    ("case", "analysis", "values", "taken", "expected", "early"),
    RULE_TABLE,
    ids=[row[0] for row in RULE_TABLE],
)
def test_stop_rule(
    case: str,
    analysis: dict[str, object],
    values: list[Value],
    taken: int,
    expected: str,
    early: bool,
) -> None:
    n, step, decided = run_rule(make_config(**analysis), values)
    assert (n, decided.verdict, step.early) == (taken, expected, early), (case, decided.reason)


def test_non_key_failures_never_stop_but_count_at_the_end() -> None:
    cfg = make_config(failureLimit=0)
    n, _, decided = run_rule(cfg, [1, 1, 1, 1], b=[0.5, 2, 2, 0.5])
    assert n == 4
    assert decided.verdict == "fail"  # b tripped: score 50% < warn 75%
    assert decided.failed == ("b",)


def test_low_traffic_neither_counts_nor_resets() -> None:
    cfg = make_config(failureLimit=1, minRequests={"query": "t", "value": 100})
    n, _, decided = run_rule(cfg, [0.5, 0.5, 0.5, 1], traffic=[500, 5, 500, 500])
    assert (n, decided.verdict) == (3, "fail")
    assert "failed 2 consecutive measurements" in decided.reason


def test_tallies_add_up() -> None:
    cfg = make_config()
    t = live.tallies(cfg, measurements(cfg, [0.5, None, 0.5, "error", 1, 0.5]))["a"]
    assert (t.failures, t.streak, t.longest_streak, t.inconclusive, t.errors_in_row) == (
        3,
        1,
        2,
        1,
        0,
    )


def test_final_results_mark_tripped_and_bridge_errors() -> None:
    cfg = make_config(failureLimit=0, consecutiveErrorLimit=2)
    final = live.final_results(cfg, measurements(cfg, [1, "error"], b=[2, 0.5]))
    assert final[0].state == "pass"  # the error is bridged by the result before it
    assert final[1].state == "fail"
    assert final[1].reason.startswith("failed 1 consecutive measurements (failureLimit 0); last:")


@pytest.mark.parametrize(
    ("window", "interval", "overlap", "seconds", "planned", "noted"),
    [
        ("5m", "30s", False, 300, 3, True),
        ("5m", "30s", True, 30, 21, False),
        ("1m", "2m", False, 120, 6, False),
        ("2m", "2m", False, 120, 6, False),
        # A window longer than the run (a day's average) cannot be made independent.
        ("1d", "30s", False, 30, 21, False),
        ("20y", "30s", False, 30, 21, False),
    ],
)
def test_interval_widened_to_the_longest_window(
    window: str, interval: str, overlap: bool, seconds: float, planned: int, noted: bool
) -> None:
    cfg = config.SloConfig.model_validate(
        {
            "name": "web",
            "analysis": {"duration": "10m", "interval": interval, "allowOverlap": overlap},
            "objectives": [
                {"name": "a", "query": f"sum(rate(x[{window}]))", "pass": "< 1"},
                {"name": "burn", "burnRate": {"target": 0.999, "errors": "e", "total": "t"}},
            ],
        }
    )
    got, note = live.effective_interval(cfg)
    assert got == seconds
    assert live.planned_measurements(cfg) == planned
    assert (note is not None) is noted
    if note:
        assert "measuring every 5m instead of every 30s" in note
        assert "allowOverlap" in note


def test_success_limit_reason_names_the_limit() -> None:
    _, _, decided = run_rule(make_config(consecutiveSuccessLimit=2), [1, 1])
    assert decided.reason == (
        "score 100% >= pass 90%; 2 consecutive measurements passed or warned "
        "(consecutiveSuccessLimit 2)"
    )


def test_example_live_block_measures_independently() -> None:
    root = Path(__file__).resolve().parents[3]
    text = (root / "examples" / "slo.yaml").read_text(encoding="utf-8")
    live_text = re.sub(r"(?m)^  # (\w+: )", r"  \1", text)  # uncomment the live keys
    cfg = config.load_text(live_text, source="examples/slo.yaml")
    assert cfg.live and cfg.analysis.failure_limit == 1
    assert live.effective_interval(cfg) == (300, None)
    assert live.planned_measurements(cfg) == 4
