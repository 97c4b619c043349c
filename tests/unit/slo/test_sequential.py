"""slo.sequential: the anytime-valid canary-versus-stable test and the traffic-share check.

Covers: a healthy canary looked at after every interval fails at most about alpha of the
time; a better canary fails no more often and its evidence shrinks; bursts that hit both arms
alike do not fail; a 5x regression fails within seconds of data; the end of a step
passes with enough traffic and is inconclusive without; counter resets and NaN are
skipped; settings outside their ranges are refused; the share check's table.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gitops_guard.slo import sequential as seq


def _stream(
    rng: np.random.Generator,
    seconds: int,
    rps: float,
    share: float,
    base: float,
    factor: float,
    burst_every: int = 0,
) -> list[seq.Counts]:
    burst = np.ones(seconds)
    if burst_every:
        burst[::burst_every] = 8.0
    n_c = rng.poisson(rps * share, seconds)
    n_s = rng.poisson(rps * (1 - share), seconds)
    e_c = rng.binomial(n_c, np.minimum(1.0, base * factor * burst))
    e_s = rng.binomial(n_s, np.minimum(1.0, base * burst))
    return [seq.Counts(*map(int, row)) for row in zip(n_c, e_c, n_s, e_s, strict=True)]


def test_healthy_canary_false_fail_rate_is_bounded_by_alpha() -> None:
    rng = np.random.default_rng(7)
    settings = seq.Settings(alpha=0.05, min_requests=10)
    fails = 0
    runs = 200
    for _ in range(runs):
        decision, _ = seq.run(_stream(rng, 240, 40, 0.25, 0.02, 1.0), settings)
        fails += decision.verdict == "fail"
    # alpha bounds the rate; 200 runs at 5% leave room for sampling noise, not for a bug
    assert fails / runs <= 0.09


def test_a_better_canary_fails_no_more_often_than_alpha_and_its_evidence_shrinks() -> None:
    rng = np.random.default_rng(11)
    settings = seq.Settings(alpha=0.05, min_requests=10)
    fails, finals = 0, []
    for _ in range(100):
        decision, _ = seq.run(_stream(rng, 240, 40, 0.5, 0.05, 0.5), settings)
        fails += decision.verdict == "fail"
        finals.append(decision.e_value)
    assert fails <= 5
    assert float(np.median(finals)) < 0.01


def test_bursts_that_hit_both_arms_alike_do_not_fail() -> None:
    rng = np.random.default_rng(3)
    settings = seq.Settings(alpha=0.01)
    fails = sum(
        seq.run(_stream(rng, 300, 50, 0.25, 0.01, 1.0, burst_every=45), settings)[0].verdict
        == "fail"
        for _ in range(50)
    )
    assert fails <= 2


def test_a_five_fold_regression_fails_within_seconds() -> None:
    rng = np.random.default_rng(5)
    settings = seq.Settings(alpha=0.01)
    looks = []
    for _ in range(30):
        decision, used = seq.run(_stream(rng, 600, 40, 0.5, 0.02, 5.0), settings)
        assert decision.verdict == "fail"
        assert "worse than the stable" in decision.reason
        looks.append(used)
    assert float(np.median(looks)) <= 10


@pytest.mark.parametrize(
    ("canary_requests", "stable_requests", "verdict"),
    [(500, 1500, "pass"), (50, 1500, "inconclusive"), (500, 20, "inconclusive")],
)
def test_the_end_of_a_step(canary_requests: int, stable_requests: int, verdict: str) -> None:
    settings = seq.Settings()
    state = seq.update(
        seq.start(settings),
        seq.Counts(canary_requests, 1, stable_requests, 3),
        settings,
    )
    decision = seq.decide(state, settings, final=True)
    assert decision.verdict == verdict
    assert seq.decide(state, settings, final=False).verdict == "continue"


@pytest.mark.parametrize(
    "bad",
    [
        seq.Counts(-5, 0, 100, 1),  # a counter reset gives a negative increase
        seq.Counts(math.nan, 0, 100, 1),
        seq.Counts(10, 20, 100, 1),  # more errors than requests
        seq.Counts(10, 1, math.inf, 1),
    ],
)
def test_unusable_intervals_are_skipped(bad: seq.Counts) -> None:
    settings = seq.Settings()
    state = seq.update(seq.start(settings), seq.Counts(100, 50, 100, 0), settings)
    after = seq.update(state, bad, settings)
    assert after.log_lr == state.log_lr
    assert after.canary_requests == state.canary_requests
    assert after.looks == state.looks + 1


def test_certain_regression_reaches_the_threshold() -> None:
    settings = seq.Settings(alpha=0.01)
    state = seq.update(seq.start(settings), seq.Counts(100, 30, 100, 1), settings)
    decision = seq.decide(state, settings, final=False)
    assert decision.verdict == "fail"
    assert decision.e_value >= decision.threshold == pytest.approx(100.0)
    assert decision.canary_error_ratio == pytest.approx(0.30)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"alpha": 0.0},
        {"alpha": 0.5},
        {"alpha": math.nan},
        {"null_ratio": 0.5},
        {"null_ratio": math.inf},
        {"ratios": ()},
        {"ratios": (1.0, 2.0)},
        {"ratios": (2.0, math.inf)},
        {"min_requests": 0},
    ],
)
def test_settings_out_of_range_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        seq.Settings(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("canary", "stable", "intended", "ok", "observed"),
    [
        (250, 750, 0.25, True, 0.25),
        (30, 970, 0.25, False, 0.03),
        (130, 870, 0.25, True, 0.13),
        (120, 880, 0.25, False, 0.12),
        (400, 600, 0.25, False, 0.40),
        (5, 20, 0.25, False, None),  # too little traffic to judge
        (1000, 0, 1.0, True, 1.0),
    ],
)
def test_share_check(
    canary: int, stable: int, intended: float, ok: bool, observed: float | None
) -> None:
    check = seq.check_share(canary, stable, intended)
    assert check.ok is ok
    if observed is None:
        assert check.observed is None
        assert "too little traffic" in check.reason
    else:
        assert check.observed == pytest.approx(observed)
    if not ok and observed is not None:
        assert f"the step asked for {intended:.0%}" in check.reason


def test_share_check_refuses_an_impossible_step() -> None:
    with pytest.raises(ValueError):
        seq.check_share(10, 10, 0.0)
