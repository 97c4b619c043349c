"""The DORA metrics over events (pure).

Covers: each metric on a small hand-made history; no data is None, never 0 (no
deploys, one deploy, no records); a rollback-to blames the deploy it replaced; a
revert outside the period still marks the deploy failed; recovery falls back from
synced_at to the verdict to the commit; nearest-rank p90; weekly buckets; and a
generated history (hypothesis) whose every metric equals the value computed by hand.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops_guard.observe import dora

DAY = 86400.0
T0 = 1_764_547_200.0  # 2025-12-01T00:00:00Z, a Monday


def _deploy(n: int, at: float, **facts: object) -> dora.Event:
    return dora.Event(sha=f"{n:040x}", at=at, **facts)  # type: ignore[arg-type]


def _revert(n: int, at: float, target: int, **facts: object) -> dora.Event:
    return dora.Event(sha=f"{n:040x}", at=at, kind="rollback", reverts=(f"{target:040x}",), **facts)  # type: ignore[arg-type]


def test_small_history_by_hand() -> None:
    events = [
        _deploy(1, T0 + 1 * DAY, committed_at=T0 + DAY - 600, synced_at=T0 + DAY + 60),
        _deploy(
            2,
            T0 + 2 * DAY,
            committed_at=T0 + 2 * DAY - 1200,
            synced_at=T0 + 2 * DAY + 120,
            verdict="fail",
            verdict_at=T0 + 2 * DAY + 720,
        ),
        _revert(3, T0 + 2 * DAY + 800, 2, restored_at=T0 + 2 * DAY + 1000),
        _deploy(4, T0 + 5 * DAY),
    ]
    m = dora.compute(events, start=T0, end=T0 + 10 * DAY)
    assert (m.deploys, m.rollbacks, m.failed) == (4, 1, 1)
    assert m.frequency_per_day == pytest.approx(0.4)
    assert m.frequency_per_week == pytest.approx(2.8)
    assert m.change_fail_rate == pytest.approx(0.25)
    assert m.rework_rate == pytest.approx(0.25)
    assert m.lead_time == dora.Spread(median=(660 + 1320) / 2, p90=1320, count=2)
    # bad revision Synced (+120) -> revert Synced and Healthy (+1000)
    assert m.recovery_time == dora.Spread(median=880, p90=880, count=1)
    assert m.time_between is not None and m.time_between.count == 3
    assert [n for _, n in m.weeks] == [4, 0]  # Monday 1st to Sunday 7th, then the 8th
    assert m.reason == ""


def test_no_deploys_is_no_data_not_zero() -> None:
    m = dora.compute([_deploy(1, T0 - DAY)], start=T0, end=T0 + DAY)
    assert m.deploys == 0
    for value in (
        m.frequency_per_day,
        m.change_fail_rate,
        m.rework_rate,
        m.lead_time,
        m.recovery_time,
        m.time_between,
    ):
        assert value is None
    assert "no deploy commit in the period" in m.reason


def test_one_deploy_without_records() -> None:
    m = dora.compute([_deploy(1, T0 + 10)], start=T0, end=T0 + DAY)
    assert m.frequency_per_day == pytest.approx(1.0)
    assert m.change_fail_rate == 0.0  # a measured zero: one deploy, nothing failed
    assert m.lead_time is None and m.recovery_time is None and m.time_between is None
    assert "lead time" in m.reason and "recovery time" in m.reason


def test_rollback_to_blames_the_deploy_it_replaced() -> None:
    events = [
        _deploy(1, T0 + 10),
        _deploy(2, T0 + 20),
        dora.Event(sha=f"{3:040x}", at=T0 + 50, kind="rollback"),
    ]
    m = dora.compute(events, start=T0, end=T0 + DAY)
    assert m.failed == 1
    assert m.recoveries[0].sha == f"{2:040x}"
    assert m.recoveries[0].seconds == 30  # commit to commit: no records


def test_revert_after_the_period_still_marks_the_deploy_failed() -> None:
    events = [_deploy(1, T0 + 10), _revert(2, T0 + 2 * DAY, 1)]
    m = dora.compute(events, start=T0, end=T0 + DAY)
    assert (m.deploys, m.failed, m.rollbacks) == (1, 1, 0)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"synced_at": T0 + 100, "verdict": "fail", "verdict_at": T0 + 400}, 900),
        ({"verdict": "fail", "verdict_at": T0 + 400}, 600),
        ({}, 990),
    ],
)
def test_recovery_start_falls_back(facts: dict[str, object], expected: float) -> None:
    events = [_deploy(1, T0 + 10, **facts), _revert(2, T0 + 900, 1, restored_at=T0 + 1000)]
    m = dora.compute(events, start=T0, end=T0 + DAY)
    assert m.recovery_time is not None and m.recovery_time.median == expected


def test_abbreviated_revert_sha() -> None:
    events = [
        _deploy(1, T0 + 10),
        dora.Event(f"{2:040x}", T0 + 20, "rollback", (f"{1:040x}"[:12],)),
    ]
    assert dora.compute(events, start=T0, end=T0 + DAY).failed == 1


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [
        ([5.0], 5, 5),
        ([1.0, 2.0], 1.5, 2),
        ([float(v) for v in range(1, 11)], 5.5, 9),
        ([float(v) for v in range(1, 12)], 6, 10),
    ],
)
def test_median_and_nearest_rank_p90(values: list[float], median: float, p90: float) -> None:
    assert dora.spread(values) == dora.Spread(median=median, p90=p90, count=len(values))
    assert dora.spread([]) is None


def test_empty_period_is_refused() -> None:
    with pytest.raises(ValueError, match="must end after"):
        dora.compute([], start=T0, end=T0)


# ---------------------------------------------------------------- generated history
_step = st.tuples(
    st.integers(min_value=60, max_value=3 * 86400),  # gap since the previous deploy
    st.sampled_from(["pass", "fail", None]),  # gate verdict (None: no record)
    st.booleans(),  # reverted?
    st.integers(min_value=1, max_value=7200),  # lead: app commit -> synced
    st.integers(min_value=1, max_value=3600),  # synced -> revert restored
)


def _by_hand_median(values: list[float]) -> float:
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def _by_hand_p90(values: list[float]) -> float:
    s = sorted(values)
    rank = math.ceil(len(s) * 9 / 10)
    return s[rank - 1]


@settings(max_examples=60, deadline=None)
@given(st.lists(_step, min_size=1, max_size=25))
def test_generated_history_has_known_answers(steps: list[tuple]) -> None:
    events: list[dora.Event] = []
    at = T0
    n = 0
    leads: list[float] = []
    recoveries: list[float] = []
    failed = rollbacks = 0
    for gap, verdict, reverted, lead, restore in steps:
        at += gap
        n += 1
        recorded = verdict is not None
        synced = at + 30
        events.append(
            _deploy(
                n,
                at,
                committed_at=synced - lead if recorded else None,
                synced_at=synced if recorded else None,
                verdict=verdict,
                verdict_at=synced + 10 if recorded else None,
            )
        )
        if recorded:
            leads.append(lead)
        bad = n
        if verdict == "fail" or reverted:
            failed += 1
        if reverted:
            # the revert lands before the next deploy (gaps are at least 60 s)
            n += 1
            rollbacks += 1
            events.append(_revert(n, at + 40, bad, restored_at=at + 40 + restore))
            began = synced if recorded else at
            recoveries.append(at + 40 + restore - began)
    end = at + 100
    m = dora.compute(events, start=T0, end=end)
    deploys = len(steps) + rollbacks
    assert m.deploys == deploys
    assert m.rollbacks == rollbacks
    assert m.failed == failed
    assert m.frequency_per_day == pytest.approx(deploys / ((end - T0) / DAY))
    assert m.change_fail_rate == pytest.approx(failed / deploys)
    assert m.rework_rate == pytest.approx(rollbacks / deploys)
    if leads:
        assert m.lead_time == dora.Spread(_by_hand_median(leads), _by_hand_p90(leads), len(leads))
    else:
        assert m.lead_time is None
    if recoveries:
        assert m.recovery_time is not None
        assert m.recovery_time.median == pytest.approx(_by_hand_median(recoveries))
        assert m.recovery_time.p90 == pytest.approx(_by_hand_p90(recoveries))
    else:
        assert m.recovery_time is None
    assert sum(count for _, count in m.weeks) == deploys
