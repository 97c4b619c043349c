"""Anytime-valid canary-versus-stable test on error counts, and the traffic-share check.

The gate may look after every scrape and stop with ``fail`` as soon as the canary's
error ratio is certainly worse than the stable arm's, while the chance of a false
``fail`` on a healthy canary stays at most ``alpha`` however often it looks. This is
the time-inhomogeneous Poisson counting test of Lindon & Malek (2022), *Anytime-Valid
Inference for Multinomial Count Data*, NeurIPS 2022 (arXiv:2011.03567), for two arms:

* In scrape interval ``i`` the canary served ``n_c`` requests with ``e_c`` errors and
  the stable arm ``n_s`` with ``e_s``. With the interval's observed request share
  ``rho = n_c / (n_c + n_s)`` and ``theta`` = canary error ratio / stable error ratio,
  each of the interval's ``k = e_c + e_s`` errors lands in the canary with
  probability ``p(theta) = theta*rho / (theta*rho + 1 - rho)``, independently.
* The null hypothesis is ``theta <= null_ratio`` (default 1: the canary is no worse).
  The e-process is the prior-weighted mixture, over ``theta`` above ``null_ratio``, of
  the likelihood ratios against ``theta = null_ratio``. For every ``theta`` in the
  null, each error's factor has expectation at most 1 (linear in the true probability,
  equal to 1 at ``p(null_ratio)``), so the e-process is a non-negative supermartingale
  under the null, and by Ville's inequality it crosses ``1/alpha`` with probability at
  most ``alpha``: at any stopping time, after any number of looks.
* Bursts that hit both arms alike (a dependency blip) move both counts together and
  leave ``p`` unchanged: the test compares the arms, not each with a fixed threshold.

The prior is uniform in ``log theta`` on a grid from just above ``null_ratio`` to
``max_ratio``; the grid is what makes the mixture computable in closed form.

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
    max_ratio: float = 20.0
    """The largest ratio the prior considers; a larger regression is still detected (as this)."""
    grid_points: int = 48
    """Points of the prior's grid over ``log theta``."""
    min_requests: int = 100
    """Requests each arm must have served before the end of a step can ``pass``."""

    def __post_init__(self) -> None:
        if not (0.0 < self.alpha < 0.5) or math.isnan(self.alpha):
            raise ValueError(f"alpha must be in (0, 0.5), got {self.alpha!r}")
        if not (self.null_ratio >= 1.0 and math.isfinite(self.null_ratio)):
            raise ValueError(f"null ratio must be a finite number >= 1, got {self.null_ratio!r}")
        if not (self.max_ratio > self.null_ratio * 1.05 and math.isfinite(self.max_ratio)):
            raise ValueError("max ratio must be finite and above 1.05 x the null ratio")
        if not (2 <= self.grid_points <= 4096):
            raise ValueError("grid points must be between 2 and 4096")
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
    """The prior's support: ``grid_points`` ratios, evenly spaced in log, above the null."""
    return _grid(settings.null_ratio, settings.max_ratio, settings.grid_points)


@functools.lru_cache(maxsize=16)
def _grid(null_ratio: float, max_ratio: float, points: int) -> NDArray[np.float64]:
    low = math.log(null_ratio * 1.05)
    values = np.exp(np.linspace(low, math.log(max_ratio), points))
    values.setflags(write=False)
    return values


def start(settings: Settings) -> State:
    """The state before any data: every likelihood ratio is 1."""
    return State(log_lr=(0.0,) * settings.grid_points)


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
    total = counts.canary_requests + counts.stable_requests
    log_lr = np.asarray(state.log_lr, dtype=np.float64)
    errors = counts.canary_errors + counts.stable_errors
    if total > 0 and errors > 0 and 0 < counts.canary_requests < total:
        rho = counts.canary_requests / total
        thetas = grid(settings)
        p_alt = thetas * rho / (thetas * rho + 1.0 - rho)
        p_null = settings.null_ratio * rho / (settings.null_ratio * rho + 1.0 - rho)
        log_lr = log_lr + counts.canary_errors * (np.log(p_alt) - math.log(p_null))
        log_lr = log_lr + counts.stable_errors * (np.log1p(-p_alt) - math.log1p(-p_null))
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
    """``fail`` once the e-value reaches ``1/alpha``; at the end, ``pass`` with enough data."""
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


def check_share(
    canary_requests: float,
    stable_requests: float,
    intended: float,
    *,
    tolerance: float = 0.5,
    min_requests: int = 100,
) -> ShareCheck:
    """Compare the observed canary share with the step's; far off is never a pass.

    ``tolerance`` is relative: with 0.5 a 25% step accepts an observed share from
    12.5% to 37.5%. Fewer than ``min_requests`` in all cannot be judged.
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
    if low <= observed <= high:
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
        f"the canary got {observed:.1%} of traffic, the step asked for {intended:.0%} "
        f"(accepted: {low:.1%} to {high:.1%}); its verdict would not be about that step",
    )


def _ratio(errors: float, requests: float) -> float | None:
    return errors / requests if requests > 0 else None


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%} errors"
