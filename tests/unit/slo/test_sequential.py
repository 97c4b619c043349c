"""slo.sequential: the anytime-valid canary-versus-stable test and the traffic-share check.

Covers: each interval's likelihood ratio has expectation exactly 1 under the null for
Poisson errors and at most 1 for binomial errors or a better canary (exact sums over a
table of cases), so the mixture is an e-process; a healthy stream's e-value stays small on
average; the vectorised path equals folding interval by interval; hand-computed factors;
a healthy canary looked at after every interval fails at most about alpha of the
time; a better canary fails no more often and its evidence shrinks; bursts that hit both arms
alike do not fail; a 5x regression fails within seconds of data; the end of a step
passes with enough traffic and is inconclusive without; counter resets and NaN are
skipped; settings outside their ranges are refused; the share check's table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import fields

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


def _columns(
    rows: list[seq.Counts],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n_c, e_c, n_s, e_s = (
        np.array([getattr(c, f.name) for c in rows], dtype=float) for f in fields(seq.Counts)
    )
    return n_c, e_c, n_s, e_s


def _mixture_factor(n_c: int, n_s: int, e_c: int, e_s: int, settings: seq.Settings) -> float:
    """One interval's factor of the mixture e-value (the prior-weighted mean of the LRs)."""
    state = seq.update(seq.start(settings), seq.Counts(n_c, e_c, n_s, e_s), settings)
    return float(np.mean(np.exp(state.log_lr)))


def _expected_factor(
    n_c: int, n_s: int, k: int, weight: Callable[[int], float], settings: seq.Settings
) -> tuple[float, float]:
    """E[factor] over e_c (given k errors) with pmf proportional to ``weight``; and the total."""
    support = range(max(0, k - n_s), min(k, n_c) + 1)
    weights = {x: weight(x) for x in support}
    total = sum(weights.values())
    mean = sum(w * _mixture_factor(n_c, n_s, x, k - x, settings) for x, w in weights.items())
    return mean / total, total


CASES = [(1, 1, 1), (3, 9, 2), (2, 3, 5), (50, 150, 10), (500, 500, 40), (10, 1000, 5), (7, 3, 9)]


@pytest.mark.parametrize(("n_c", "n_s", "k"), [c for c in CASES if c[2] <= min(c[:2])])
@pytest.mark.parametrize("null_ratio", [1.0, 2.0])
def test_under_poisson_errors_each_factor_has_expectation_one(
    n_c: int, n_s: int, k: int, null_ratio: float
) -> None:
    # Poisson errors at null_ratio x the stable's ratio: e_c given k is binomial(k, p)
    settings = seq.Settings(null_ratio=null_ratio)
    rho = n_c / (n_c + n_s)
    p = null_ratio * rho / (null_ratio * rho + 1 - rho)
    mean, _ = _expected_factor(
        n_c, n_s, k, lambda x: math.comb(k, x) * p**x * (1 - p) ** (k - x), settings
    )
    assert mean == pytest.approx(1.0, rel=1e-9)


@pytest.mark.parametrize(("n_c", "n_s", "k"), CASES)
@pytest.mark.parametrize("odds", [1.0, 0.5, 0.1])
def test_under_binomial_errors_each_factor_has_expectation_at_most_one(
    n_c: int, n_s: int, k: int, odds: float
) -> None:
    # each request fails alike (odds 1: hypergeometric) or the canary's fail less often
    # (Fisher's noncentral hypergeometric): the factor's expectation is at most 1
    settings = seq.Settings()
    mean, _ = _expected_factor(
        n_c, n_s, k, lambda x: math.comb(n_c, x) * math.comb(n_s, k - x) * odds**x, settings
    )
    assert mean <= 1.0 + 1e-12
    if odds == 1.0 and k > 1 and min(n_c, n_s) >= k:
        assert mean < 1.0 - 1e-6  # strictly below: the binomial model is conservative here


@pytest.mark.parametrize(
    ("counts", "ratios", "factor"),
    [
        (seq.Counts(10, 1, 10, 0), (3.0,), 3.0 / 2.0),  # rho 1/2: 3 / (3/2 + 1/2)
        (seq.Counts(10, 0, 10, 1), (3.0,), 1.0 / 2.0),
        (seq.Counts(25, 2, 75, 0), (5.0,), (5.0 / 2.0) ** 2),  # rho 1/4: 5 / (5/4 + 3/4)
        (seq.Counts(25, 1, 75, 1), (2.0, 5.0), (2.0 / 1.25**2 + 5.0 / 2.0**2) / 2),
        (seq.Counts(25, 0, 75, 0), (2.0, 5.0), 1.0),  # no errors: no evidence
        (seq.Counts(0, 0, 75, 3), (2.0,), 1.0),  # no canary traffic: no evidence
    ],
)
def test_interval_factors_by_hand(
    counts: seq.Counts, ratios: tuple[float, ...], factor: float
) -> None:
    settings = seq.Settings(ratios=ratios)
    state = seq.update(seq.start(settings), counts, settings)
    assert math.exp(seq.log_e_value(state)) == pytest.approx(factor)


def test_a_healthy_streams_e_value_stays_small_on_average() -> None:
    # E[e-value] <= 1 at any stopping time: here the gate's (first crossing, else the end)
    rng = np.random.default_rng(21)
    settings = seq.Settings(alpha=0.05)
    stopped = []
    for i in range(400):
        rows = _stream(rng, 300, (5, 20, 50)[i % 3], (0.25, 0.5)[i % 2], 0.01, 1.0, 60)
        path = seq.log_e_path(*_columns(rows), settings=settings)
        crossing = np.nonzero(path >= math.log(20.0))[0]
        stopped.append(math.exp(path[crossing[0] if crossing.size else -1]))
    # measured 0.83 and 0.08 (8 of 400 crossed); a biased factor gives a mean far above 1
    assert float(np.mean(stopped)) < 1.0
    assert float(np.median(stopped)) < 0.2


def test_the_vectorised_path_equals_folding_interval_by_interval() -> None:
    rng = np.random.default_rng(4)
    rows = _stream(rng, 200, 20, 0.25, 0.05, 3.0)
    settings = seq.Settings()
    path = seq.log_e_path(*_columns(rows), settings=settings)
    state = seq.start(settings)
    for index, counts in enumerate(rows):
        state = seq.update(state, counts, settings)
        assert seq.log_e_value(state) == pytest.approx(path[index], abs=1e-9)


def test_healthy_canary_false_fail_rate_is_bounded_by_alpha() -> None:
    rng = np.random.default_rng(7)
    settings = seq.Settings(alpha=0.05, min_requests=10)
    fails = 0
    runs = 200
    for index in range(runs):
        rows = _stream(rng, 240, 40, 0.25, 0.02, 1.0)
        if index < 10:  # run() looks after every interval, as the gate does
            fails += seq.run(rows, settings)[0].verdict == "fail"
        else:  # the same numbers, faster
            path = seq.log_e_path(*_columns(rows), settings=settings)
            fails += bool(np.any(path >= math.log(20.0)))
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


@pytest.mark.parametrize(
    ("canary", "stable", "intended", "ok"),
    [
        (4, 37, 0.25, True),  # 9.8% of 41: noise, the next looks judge it
        (0, 41, 0.25, True),  # none of 41 yet: not surely off either
        (30, 970, 0.25, False),  # 3% of 1,000: surely off
        (0, 200, 0.25, False),  # none of 200
        (110, 890, 0.25, True),  # 11% of 1,000: the interval reaches the band
        (70, 930, 0.25, False),  # 7% of 1,000: it does not
        (600, 400, 0.25, False),  # 60% of 1,000: far above
        (5, 20, 0.25, False),  # too little traffic (30 needed here), as without sure
    ],
)
def test_share_check_before_the_end_of_a_step_is_off_only_when_surely_off(
    canary: int, stable: int, intended: float, ok: bool
) -> None:
    assert seq.check_share(canary, stable, intended, min_requests=30, sure=True).ok is ok
    # The end of the step judges the share itself: noise there is not let through.
    if canary + stable >= 100 and not (0.125 <= canary / (canary + stable) <= 0.375):
        assert seq.check_share(canary, stable, intended).ok is False


def test_share_interval_holds_the_share_and_narrows_with_traffic() -> None:
    for canary, total in [(0, 10), (4, 41), (250, 1000), (1000, 1000)]:
        low, high = seq.share_interval(canary, total)
        assert (
            0.0 <= low <= canary / total + 1e-12 and canary / total <= high + 1e-12 <= 1.0 + 1e-12
        )
    wide = seq.share_interval(25, 100)
    narrow = seq.share_interval(2500, 10000)
    assert narrow[1] - narrow[0] < (wide[1] - wide[0]) / 5


def test_share_check_refuses_an_impossible_step() -> None:
    with pytest.raises(ValueError):
        seq.check_share(10, 10, 0.0)
