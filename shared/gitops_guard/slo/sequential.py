"""Anytime-valid canary-versus-stable test on error counts, and the traffic-share check.

The gate may look after every scrape and stop with ``fail`` as soon as the canary's
error ratio is certainly worse than the stable arm's, while the chance of a false
``fail`` on a healthy canary stays at most ``alpha`` however often it looks. This is
the time-inhomogeneous Poisson counting test of Lindon & Malek (2022), *Anytime-Valid
Inference for Multinomial Count Data*, NeurIPS 2022 (arXiv:2011.03567), for two arms:

* In scrape interval ``i`` the canary served ``n_c`` requests with ``e_c`` errors and
  the stable arm ``n_s`` with ``e_s``. With the interval's observed request share
  ``rho = n_c / (n_c + n_s)`` and ``theta`` = canary error ratio / stable error ratio,
  given the interval's ``k = e_c + e_s`` errors, ``e_c`` is binomial(``k``, ``p(theta)``)
  with ``p(theta) = theta*rho / (theta*rho + 1 - rho)`` when errors are Poisson counts.
  Conditioning on ``k`` removes the stable arm's unknown error ratio (the nuisance):
  nothing is estimated or plugged in, so a burst that hits both arms alike (a
  dependency blip) changes ``k`` but not ``p``.
* The null hypothesis is ``theta <= null_ratio`` (default 1: the canary is no worse).
  Against ``theta_j`` one interval's likelihood ratio is
  ``theta_j**e_c / (theta_j*rho + 1 - rho)**k`` (for ``null_ratio`` 1).
  The e-process is the prior-weighted mixture over the ratios ``theta_j`` of the
  products of these factors.

Why it is an e-process under the null, whatever the stable arm's error ratio (and its
changes from interval to interval, as long as both arms share it within an interval):

1. Poisson errors, ``theta = null_ratio``: ``e_c`` given ``k`` is exactly
   binomial(``k``, ``p(null_ratio)``), and ``E[LR_j] = 1`` (the binomial's generating
   function at ``theta_j``).
2. Binomial errors (each request fails with the same probability in both arms): ``e_c``
   given ``k`` is hypergeometric, which is below the binomial of the same mean in the
   convex order (Hoeffding 1963, Theorem 4); ``theta_j**x`` is convex, so
   ``E[LR_j] <= 1``.
   With ``null_ratio`` above 1 and binomial errors this step is not proven: the
   canary's odds of failing exceed ``null_ratio`` times the stable's by the factor
   ``(1 - q) / (1 - null_ratio*q)`` (``q`` the stable error ratio; 1.005 at 0.5% and
   ``null_ratio`` 2), so the bound is approximate there, to the order of ``q``.
3. ``theta < null_ratio`` (a better canary): ``e_c`` is stochastically smaller and
   ``theta_j**x`` increases, so ``E[LR_j] <= 1`` again.

So each factor has conditional expectation at most 1 given the past and the interval's
request counts, the mixture is a non-negative supermartingale, and by Ville's
inequality it ever reaches ``1/alpha`` with probability at most ``alpha``: at any
stopping time, after any number of looks. ``benchmarks/canary_detection.py`` checks it
by Monte Carlo on 10,000 healthy streams, and the unit tests check 1-3 exactly.

The prior: equal weights on a few regression ratios (by default 1.5, 2, 3, 5, 10 and
20 times ``null_ratio``), a mixture over several scales: the cost against the best
single ratio is at most ``log 6`` and in practice less, since neighbouring ratios
share the evidence. On the benchmark suite it catches a little more of the 1.5x and 2x
regressions than the former uniform prior over ``log theta`` (1.05-20, 48 points) at
the same false-rollback bound. A regression beyond the largest ratio is still detected.

This module is pure: data in, decision out. It reads no clock and does no I/O.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

SequentialVerdict = Literal["fail", "pass", "continue", "inconclusive"]


@dataclass(frozen=True)
class Settings:
    """How certain a ``fail`` must be, and what counts as enough data to ``pass``."""

    alpha: float = 0.01
    """The bound on false ``fail`` (false rollback) however often the gate looks; in (0, 0.5)."""
    null_ratio: float = 1.0
    """``theta`` of the null: the canary's error ratio may be this many times the stable's."""
    ratios: tuple[float, ...] = (1.5, 2.0, 3.0, 5.0, 10.0, 20.0)
    """The prior's support, as multiples of ``null_ratio``, weighted equally: the regressions
    the test is tuned to find fastest (any larger one is still detected, as the largest)."""
    min_requests: int = 100
    """Requests each arm must have served before the end of a step can ``pass``."""

    def __post_init__(self) -> None:
        if not (0.0 < self.alpha < 0.5) or math.isnan(self.alpha):
            raise ValueError(f"alpha must be in (0, 0.5), got {self.alpha!r}")
        if not (self.null_ratio >= 1.0 and math.isfinite(self.null_ratio)):
            raise ValueError(f"null ratio must be a finite number >= 1, got {self.null_ratio!r}")
        ratios = self.ratios
        if not (1 <= len(ratios) <= 256) or not all(math.isfinite(r) and r > 1.0 for r in ratios):
            raise ValueError(f"ratios must be 1 to 256 finite numbers above 1, got {ratios!r}")
        if self.min_requests < 1:
            raise ValueError("min requests must be at least 1")


@dataclass(frozen=True)
class Counts:
    """One scrape interval's increments for both arms (counter deltas, not totals)."""

    canary_requests: float
    canary_errors: float
    stable_requests: float
    stable_errors: float


@dataclass(frozen=True)
class State:
    """What the test has accumulated: the log likelihood ratio at every grid point."""

    log_lr: tuple[float, ...]
    canary_requests: float = 0.0
    canary_errors: float = 0.0
    stable_requests: float = 0.0
    stable_errors: float = 0.0
    looks: int = 0


@dataclass(frozen=True)
class Decision:
    """What the test says after the latest look."""

    verdict: SequentialVerdict
    e_value: float
    threshold: float
    reason: str
    canary_error_ratio: float | None
    stable_error_ratio: float | None


def grid(settings: Settings) -> NDArray[np.float64]:
    """The prior's support: the ratios ``theta`` of the alternatives (``ratios x null_ratio``)."""
    return _grid(settings.null_ratio, settings.ratios)


@functools.lru_cache(maxsize=16)
def _grid(null_ratio: float, ratios: tuple[float, ...]) -> NDArray[np.float64]:
    values = np.asarray(ratios, dtype=np.float64) * null_ratio
    values.setflags(write=False)
    return values


def start(settings: Settings) -> State:
    """The state before any data: every likelihood ratio is 1."""
    return State(log_lr=(0.0,) * len(settings.ratios))


def log_factors(
    canary_requests: NDArray[np.float64],
    canary_errors: NDArray[np.float64],
    stable_requests: NDArray[np.float64],
    stable_errors: NDArray[np.float64],
    settings: Settings,
) -> NDArray[np.float64]:
    """Per interval (rows) and prior ratio (columns): the log likelihood ratio of the interval.

    Zero for an interval without errors or without traffic in one arm (it carries no
    evidence about the ratio); callers drop unusable intervals (see :func:`update`) first.
    """
    n_c = np.asarray(canary_requests, dtype=np.float64)
    n_s = np.asarray(stable_requests, dtype=np.float64)
    e_c = np.asarray(canary_errors, dtype=np.float64)
    e_s = np.asarray(stable_errors, dtype=np.float64)
    total = n_c + n_s
    informative = (e_c + e_s > 0) & (n_c > 0) & (n_s > 0)
    rho = np.where(informative, n_c / np.where(total > 0, total, 1.0), 0.5)[:, None]
    thetas = grid(settings)[None, :]
    null = settings.null_ratio
    # log p(theta) - log p(null) and log(1 - p(theta)) - log(1 - p(null)), p as above
    log_alt_norm = np.log(thetas * rho + 1.0 - rho)
    log_null_norm = np.log(null * rho + 1.0 - rho)
    canary_term = np.log(thetas / null) - log_alt_norm + log_null_norm
    stable_term = log_null_norm - log_alt_norm
    out: NDArray[np.float64] = e_c[:, None] * canary_term + e_s[:, None] * stable_term
    out[~informative] = 0.0
    return out


def log_e_path(
    canary_requests: NDArray[np.float64],
    canary_errors: NDArray[np.float64],
    stable_requests: NDArray[np.float64],
    stable_errors: NDArray[np.float64],
    settings: Settings,
) -> NDArray[np.float64]:
    """The log e-value after every interval of a stream of valid intervals, at once.

    The same numbers as folding the intervals one by one with :func:`update` and reading
    :func:`log_e_value`; for replaying many streams (the benchmark) quickly.
    """
    cumulative = np.cumsum(
        log_factors(canary_requests, canary_errors, stable_requests, stable_errors, settings),
        axis=0,
    )
    weights = math.log(len(settings.ratios))
    return np.asarray(np.logaddexp.reduce(cumulative, axis=1) - weights, dtype=np.float64)


def _valid(counts: Counts) -> bool:
    values = (
        counts.canary_requests,
        counts.canary_errors,
        counts.stable_requests,
        counts.stable_errors,
    )
    if not all(math.isfinite(v) and v >= 0 for v in values):
        return False
    return counts.canary_errors <= counts.canary_requests + 1e-9 and (
        counts.stable_errors <= counts.stable_requests + 1e-9
    )


def update(state: State, counts: Counts, settings: Settings) -> State:
    """Fold one interval into the state. Intervals with a counter reset or NaN are skipped."""
    if not _valid(counts):
        return _skip(state)
    factors = log_factors(
        np.array([counts.canary_requests]),
        np.array([counts.canary_errors]),
        np.array([counts.stable_requests]),
        np.array([counts.stable_errors]),
        settings,
    )[0]
    log_lr = np.asarray(state.log_lr, dtype=np.float64) + factors
    return State(
        log_lr=tuple(log_lr.tolist()),
        canary_requests=state.canary_requests + counts.canary_requests,
        canary_errors=state.canary_errors + counts.canary_errors,
        stable_requests=state.stable_requests + counts.stable_requests,
        stable_errors=state.stable_errors + counts.stable_errors,
        looks=state.looks + 1,
    )


def _skip(state: State) -> State:
    """The same state, one look later (an interval that carried no usable data)."""
    return State(
        log_lr=state.log_lr,
        canary_requests=state.canary_requests,
        canary_errors=state.canary_errors,
        stable_requests=state.stable_requests,
        stable_errors=state.stable_errors,
        looks=state.looks + 1,
    )


def log_e_value(state: State) -> float:
    """log of the mixture e-value: the prior-weighted mean of the likelihood ratios."""
    values = np.asarray(state.log_lr, dtype=np.float64)
    return float(np.logaddexp.reduce(values) - math.log(len(values)))


def decide(state: State, settings: Settings, *, final: bool) -> Decision:
    """``fail`` once the e-value reaches ``1/alpha``; at the end, ``pass`` with enough data.

    The looking rule (what :func:`run` and :func:`gitops_guard.slo.canary.judge_step` do):
    look after every interval; ``fail`` at the first look whose e-value is at least
    ``1/alpha``; otherwise ``continue`` until the step's end (``final``: its duration,
    fixed before the step starts), then ``pass`` if each arm served ``min_requests``,
    else ``inconclusive``. Looking more often, or stopping early for any reason, never
    raises the false-``fail`` rate above ``alpha``; a ``pass`` says only that no
    regression was proven in the step's data (see docs/canary.md for how much a step
    of a given traffic can prove).
    """
    threshold = 1.0 / settings.alpha
    log_e = log_e_value(state)
    e_value = math.exp(min(log_e, 700.0))
    canary = _ratio(state.canary_errors, state.canary_requests)
    stable = _ratio(state.stable_errors, state.stable_requests)
    shown = (
        f"canary {_pct(canary)} of {state.canary_requests:.0f} requests, "
        f"stable {_pct(stable)} of {state.stable_requests:.0f}"
    )
    if log_e >= math.log(threshold):
        verdict: SequentialVerdict = "fail"
        reason = (
            f"the canary's error ratio is worse than the stable's "
            f"(e-value {e_value:.3g} >= 1/alpha = {threshold:.3g}; {shown})"
        )
    elif not final:
        verdict = "continue"
        reason = f"no certain regression yet (e-value {e_value:.3g} < {threshold:.3g}; {shown})"
    elif min(state.canary_requests, state.stable_requests) < settings.min_requests:
        verdict = "inconclusive"
        reason = (
            f"too little traffic to pass: each arm needs {settings.min_requests} requests ({shown})"
        )
    else:
        verdict = "pass"
        reason = f"no regression found (e-value {e_value:.3g} < {threshold:.3g}; {shown})"
    return Decision(verdict, e_value, threshold, reason, canary, stable)


def run(intervals: Iterable[Counts], settings: Settings) -> tuple[Decision, int]:
    """Look after every interval; return the decision and the number of looks it took."""
    state = start(settings)
    items = list(intervals)
    for index, counts in enumerate(items):
        state = update(state, counts, settings)
        decision = decide(state, settings, final=index == len(items) - 1)
        if decision.verdict != "continue":
            return decision, index + 1
    return decide(state, settings, final=True), len(items)


@dataclass(frozen=True)
class ShareCheck:
    """Did the canary receive about the share of traffic the step asked for?"""

    ok: bool
    observed: float | None
    intended: float
    reason: str


SHARE_Z = 3.29
"""The normal quantile of the share's interval before the end of a step (two-sided 99.9%)."""


def share_interval(canary_requests: float, total: float, z: float = SHARE_Z) -> tuple[float, float]:
    """Wilson score interval of the canary's share of ``total`` requests."""
    if total <= 0:
        return (0.0, 1.0)
    p = min(1.0, max(0.0, canary_requests / total))
    z2 = z * z
    centre = (p + z2 / (2 * total)) / (1 + z2 / total)
    half = z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / (1 + z2 / total)
    return (max(0.0, centre - half), min(1.0, centre + half))


def check_share(
    canary_requests: float,
    stable_requests: float,
    intended: float,
    *,
    tolerance: float = 0.5,
    min_requests: int = 100,
    sure: bool = False,
) -> ShareCheck:
    """Compare the observed canary share with the step's; far off is never a pass.

    ``tolerance`` is relative: with 0.5 a 25% step accepts an observed share from
    12.5% to 37.5%. Fewer than ``min_requests`` in all cannot be judged.

    ``sure`` (a look before the end of the step): the share is off only when its 99.9%
    Wilson interval misses the accepted band altogether, so that a few dozen requests'
    noise (4 of 41 is 9.8%) does not end a step the next looks would judge; a share that
    is not surely off is ``ok`` for now, and the end of the step checks the share itself.
    """
    if not (0.0 < intended <= 1.0):
        raise ValueError(f"the intended share must be in (0, 1], got {intended!r}")
    total = canary_requests + stable_requests
    if not math.isfinite(total) or total < min_requests:
        return ShareCheck(
            False,
            None,
            intended,
            f"too little traffic to check the canary's share: {total:.0f} requests, "
            f"{min_requests} needed",
        )
    observed = canary_requests / total
    low, high = intended * (1.0 - tolerance), min(1.0, intended * (1.0 + tolerance))
    if sure:
        lower, upper = share_interval(canary_requests, total)
        inside = upper >= low and lower <= high
    else:
        inside = low <= observed <= high
    if inside:
        return ShareCheck(
            True,
            observed,
            intended,
            f"the canary got {observed:.1%} of traffic; the step asked for {intended:.0%}",
        )
    return ShareCheck(
        False,
        observed,
        intended,
        f"the canary got {observed:.1%} of {total:.0f} requests, the step asked for "
        f"{intended:.0%} (accepted: {low:.1%} to {high:.1%}); its verdict would not be "
        "about that step",
    )


def _ratio(errors: float, requests: float) -> float | None:
    return errors / requests if requests > 0 else None


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%} errors"
