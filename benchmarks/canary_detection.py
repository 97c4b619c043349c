"""Canary detection: the anytime-valid test against Flagger's and Argo Rollouts' rules.

A fixed-seed scenario suite of per-second request and error counts for a canary and a
stable arm (Poisson traffic, binomial errors), replayed through these stop rules on the
same streams:

* ``sequential``: gitops_guard.slo.sequential with its default prior, looking after
  every second (600 looks per window), alpha 0.01;
* ``previous``: the same test with the prior it had before (uniform in ``log theta``
  over 1.05-20, 48 points), for a before/after comparison;
* ``theta-known``: the same conditional test with all the prior on the true ratio (2x
  on healthy windows): the best any prior could do;
* ``oracle``: the one-sided sequential probability ratio test that knows both arms' true
  error ratios every second (bursts included) and the regression's size, with the same
  threshold ``1/alpha``: the best a test could do with knowledge no gate has;
* ``flagger``: Flagger's rule as its docs describe it: every ``interval`` (1m) the
  canary's error ratio over the interval is checked against a threshold (twice the
  stable ratio: a success rate of 99% at 0.5% errors); rollback after ``threshold`` (5)
  failed checks;
* ``argo``: Argo Rollouts' AnalysisRun: a measurement every 1m with the success
  condition ``error ratio < threshold`` (the same); the analysis fails once failed
  measurements exceed ``failureLimit`` (2).

Healthy windows have the base error ratio in both arms, with bursts (30-45 s at 4x the
error ratio, both arms alike: a dependency blip) every 1-3 minutes; regressions give the
canary 1.5x, 2x or 5x the stable's ratio. Each window is 10 minutes; traffic 5, 20, 50
or 200 requests per second, a canary share of 25% or 50%.

Two more figures:

* validity: ``--null-streams`` (10,000) further healthy windows, drawn from their own seed,
  through the sequential test: the share that ever reach ``fail`` in 600 looks, with a
  one-sided 95% Clopper-Pearson upper bound, and the mean final e-value (at most 1 for
  an e-process);
* the Neyman-Pearson bound: at ``t`` seconds, no test whose false-rollback rate is at
  most ``alpha`` can have failed a regression by ``t`` more often than the most powerful
  fixed-sample test of ``t`` seconds that knows both error ratios (failing by ``t`` is
  an event of the first ``t`` seconds, of null probability at most ``alpha``). Printed
  for steady traffic (no bursts) at 20 requests per second: that test's power at 10 s,
  and the fewest seconds at which its power reaches 50% (a floor under any valid test's
  median detection time) and 90%.

Run: ``python benchmarks/canary_detection.py [--windows 200] [--seed 1] [--base 0.005]
[--steady] [--step-streams 200]``. Prints false rollbacks, missed regressions and median
detection time (seconds of data) per rule, then the validity check and the bound; with
``--step-streams N``, how long a step of each traffic must run for the test to catch 99%
of 2x regressions (N steady streams per traffic, up to 6 hours each), beside the
Neyman-Pearson floor for that. ``--steady`` drops the bursts from the suite. About 30 s of
one core, plus about as much for ``--step-streams 200``.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gitops_guard.slo import sequential as seq

RPS = (5, 20, 50, 200)
SHARES = (0.25, 0.5)
FACTORS = (1.0, 1.5, 2.0, 5.0)
BASE_ERROR_RATIO = 0.005
WINDOW_SECONDS = 600
THRESHOLD_FACTOR = 2.0
"""Flagger's and Argo's fixed threshold: twice the stable error ratio (1% at 0.5%)."""
PREVIOUS_RATIOS = tuple(float(r) for r in np.exp(np.linspace(math.log(1.05), math.log(20), 48)))
"""The prior before: 48 ratios evenly spaced in log from 1.05 to 20, weighted equally."""

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Window:
    rps: int
    share: float
    factor: float
    burst: Array
    """The error-ratio multiplier of every second (1, or 4 in a burst), both arms alike."""
    n_c: Array
    e_c: Array
    n_s: Array
    e_s: Array


def make_window(
    rng: np.random.Generator,
    rps: int,
    share: float,
    factor: float,
    base: float,
    seconds: int = WINDOW_SECONDS,
    bursts: bool = True,
) -> Window:
    burst = np.ones(seconds)
    t = int(rng.integers(20, 120)) if bursts else seconds
    while t < seconds:
        length = int(rng.integers(30, 46))
        burst[t : t + length] = 4.0
        t += length + int(rng.integers(60, 180))
    n_c = rng.poisson(rps * share, seconds)
    n_s = rng.poisson(rps * (1 - share), seconds)
    e_c = rng.binomial(n_c, np.minimum(1.0, base * factor * burst))
    e_s = rng.binomial(n_s, np.minimum(1.0, base * burst))
    as_float = [np.asarray(a, dtype=np.float64) for a in (n_c, e_c, n_s, e_s)]
    return Window(rps, share, factor, burst, *as_float)


def _first(path: Array, threshold: float) -> int | None:
    hits = np.nonzero(path >= threshold)[0]
    return int(hits[0]) + 1 if hits.size else None


def sequential_path(w: Window, settings: seq.Settings) -> Array:
    return seq.log_e_path(w.n_c, w.e_c, w.n_s, w.e_s, settings)


def sequential_rule(w: Window, settings: seq.Settings) -> int | None:
    """Seconds of data until ``fail``, or None."""
    return _first(sequential_path(w, settings), math.log(1.0 / settings.alpha))


def sequential_rule_one_by_one(w: Window, settings: seq.Settings) -> int | None:
    """The same through ``update``/``decide`` look by look, as the gate runs it."""
    state = seq.start(settings)
    for i in range(WINDOW_SECONDS):
        counts = seq.Counts(float(w.n_c[i]), float(w.e_c[i]), float(w.n_s[i]), float(w.e_s[i]))
        state = seq.update(state, counts, settings)
        if seq.decide(state, settings, final=False).verdict == "fail":
            return i + 1
    return None


def oracle_rule(w: Window, base: float, factor: float, alpha: float) -> int | None:
    """The SPRT of "canary ratio = base x burst" against "= factor x base x burst"."""
    q0 = np.minimum(1.0 - 1e-12, base * w.burst)
    q1 = np.minimum(1.0 - 1e-12, base * factor * w.burst)
    step = w.e_c * np.log(q1 / q0) + (w.n_c - w.e_c) * (np.log1p(-q1) - np.log1p(-q0))
    return _first(np.cumsum(step), math.log(1.0 / alpha))


def _interval_ratios(w: Window, interval: int) -> list[float | None]:
    out: list[float | None] = []
    for start in range(0, WINDOW_SECONDS, interval):
        n = int(w.n_c[start : start + interval].sum())
        e = int(w.e_c[start : start + interval].sum())
        out.append(e / n if n else None)
    return out


def flagger_rule(w: Window, limit: float, interval: int = 60, threshold: int = 5) -> int | None:
    failed = 0
    for index, ratio in enumerate(_interval_ratios(w, interval)):
        if ratio is None or ratio > limit:  # no data fails Flagger's check too
            failed += 1
            if failed >= threshold:
                return (index + 1) * interval
    return None


def argo_rule(w: Window, limit: float, interval: int = 60, failure_limit: int = 2) -> int | None:
    failed = 0
    for index, ratio in enumerate(_interval_ratios(w, interval)):
        if ratio is not None and not ratio < limit:
            failed += 1
            if failed > failure_limit:
                return (index + 1) * interval
    return None


def _log_factorials(n: int) -> Array:
    return np.concatenate(([0.0], np.cumsum(np.log(np.arange(1, n + 1, dtype=np.float64)))))


def _binomial_cdf(x: int, n: int, p: float) -> float:
    logf = _log_factorials(n)
    k = np.arange(0, x + 1)
    with np.errstate(divide="ignore"):
        terms = logf[n] - logf[k] - logf[n - k] + k * math.log(p) + (n - k) * math.log1p(-p)
    return float(np.exp(terms).sum())


def clopper_pearson_upper(x: int, n: int, confidence: float = 0.95) -> float:
    """One-sided upper confidence bound of a binomial proportion (x successes of n)."""
    if x >= n:
        return 1.0
    low, high = x / n, 1.0
    for _ in range(60):
        mid = (low + high) / 2
        if _binomial_cdf(x, n, mid) > 1.0 - confidence:
            low = mid
        else:
            high = mid
    return high


def np_power(requests: float, q0: float, q1: float, alpha: float) -> float:
    """Power of the most powerful level-``alpha`` test of canary error ratio q0 vs q1.

    The canary's errors and successes in the span are independent Poisson counts (Poisson
    traffic, each request failing alike); every (errors, successes) cell is enumerated
    and the cells of largest likelihood ratio are taken until the null's ``alpha`` is
    spent, the last one in part (the randomized Neyman-Pearson test). The stable arm
    carries no information when both ratios are known.
    """

    def log_pmf(k: NDArray[np.int64], mean: float, logf: Array) -> Array:
        return np.asarray(k * math.log(mean) - mean - logf[k], dtype=np.float64)

    lam0, lam1 = requests * q0, requests * q1
    mu0, mu1 = requests * (1 - q0), requests * (1 - q1)
    e_max = int(lam1 + 12 * math.sqrt(lam1) + 20)
    m_low = max(0, int(min(mu0, mu1) - 12 * math.sqrt(max(mu0, 1.0)) - 20))
    m_high = int(max(mu0, mu1) + 12 * math.sqrt(max(mu0, 1.0)) + 20)
    logf = _log_factorials(max(e_max, m_high))
    e = np.arange(0, e_max + 1)
    m = np.arange(m_low, m_high + 1)
    null = (log_pmf(e, lam0, logf)[:, None] + log_pmf(m, mu0, logf)[None, :]).ravel()
    alt = (log_pmf(e, lam1, logf)[:, None] + log_pmf(m, mu1, logf)[None, :]).ravel()
    order = np.argsort(-(alt - null), kind="stable")
    p_null, p_alt = np.exp(null[order]), np.exp(alt[order])
    spent = np.cumsum(p_null)
    full = int(np.searchsorted(spent, alpha, side="right"))
    power = float(p_alt[:full].sum())
    if full < len(p_null):
        rest = alpha - (float(spent[full - 1]) if full else 0.0)
        power += p_alt[full] * rest / p_null[full]
    return power


def seconds_for_power(rate: float, q0: float, q1: float, alpha: float, target: float) -> int:
    """The fewest whole seconds at which the Neyman-Pearson test reaches ``target`` power."""
    low, high = 1, 1
    while np_power(rate * high, q0, q1, alpha) < target:
        high *= 2
        if high > 1 << 20:
            raise ValueError("power not reached within 2**20 seconds")
    while low < high:
        mid = (low + high) // 2
        if np_power(rate * mid, q0, q1, alpha) >= target:
            high = mid
        else:
            low = mid + 1
    return low


def step_lengths(
    rng: np.random.Generator, base: float, alpha: float, factor: float, streams: int
) -> None:
    """How long a step must run for the test to miss at most 1% of ``factor`` regressions."""
    horizon = 6 * 3600
    settings = seq.Settings(alpha=alpha)
    print()
    print(
        f"step length for {factor}x regressions, base {base:.1%}, alpha {alpha} "
        f"({streams} steady streams each, up to {horizon // 3600} h): seconds of data"
    )
    print(f"  {'rps':>5} {'share':>6} {'median':>8} {'99% caught':>11} {'NP floor 99%':>13}")
    for rps in RPS:
        for share in SHARES:
            times = []
            for _ in range(streams):
                w = make_window(rng, rps, share, factor, base, seconds=horizon, bursts=False)
                hit = sequential_rule(w, settings)
                times.append(math.inf if hit is None else float(hit))
            p50, p99 = np.percentile(times, 50), np.percentile(times, 99)
            floor = seconds_for_power(rps * share, base, base * factor, alpha, 0.99)
            shown = [f"{v:.0f}" if math.isfinite(v) else f">{horizon}" for v in (p50, p99)]
            print(f"  {rps:>5} {share:>6.0%} {shown[0]:>8} {shown[1]:>11} {floor:>13}")


def _median(values: list[int]) -> str:
    return f"{statistics.median(values):.0f}" if values else "-"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--windows", type=int, default=200, help="windows per factor")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--base", type=float, default=BASE_ERROR_RATIO, help="stable error ratio")
    parser.add_argument(
        "--null-streams", type=int, default=10_000, help="healthy streams, validity"
    )
    parser.add_argument("--steady", action="store_true", help="no bursts in the suite")
    parser.add_argument(
        "--step-streams", type=int, default=0, help="2x streams per rate for step lengths"
    )
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    settings = seq.Settings(alpha=args.alpha)
    previous = seq.Settings(alpha=args.alpha, ratios=PREVIOUS_RATIOS)
    limit = THRESHOLD_FACTOR * args.base

    def oracle(w: Window) -> int | None:
        # healthy windows: the oracle tuned to the 2x regression (any tuning keeps alpha)
        return oracle_rule(w, args.base, w.factor if w.factor > 1 else 2.0, args.alpha)

    def theta_known(w: Window) -> int | None:
        ratio = w.factor if w.factor > 1 else 2.0
        return sequential_rule(w, seq.Settings(alpha=args.alpha, ratios=(ratio,)))

    rules: dict[str, Callable[[Window], int | None]] = {
        "sequential": lambda w: sequential_rule(w, settings),
        "previous": lambda w: sequential_rule(w, previous),
        "theta-known": theta_known,
        "oracle": oracle,
        "flagger": lambda w: flagger_rule(w, limit),
        "argo": lambda w: argo_rule(w, limit),
    }
    started = time.perf_counter()
    results: dict[tuple[str, float, int], list[int | None]] = {}
    by_share: dict[tuple[str, float, int, float], list[int | None]] = {}
    checked = 0
    for factor in FACTORS:
        for i in range(args.windows):
            rps = RPS[i % len(RPS)]
            share = SHARES[(i // len(RPS)) % len(SHARES)]
            window = make_window(rng, rps, share, factor, args.base, bursts=not args.steady)
            for name, rule in rules.items():
                outcome = rule(window)
                results.setdefault((name, factor, rps), []).append(outcome)
                by_share.setdefault((name, factor, rps, share), []).append(outcome)
            if i < 4:  # the fast path replays exactly what the gate computes look by look
                fast = results[("sequential", factor, rps)][-1]
                if sequential_rule_one_by_one(window, settings) != fast:
                    raise SystemExit("log_e_path and update/decide disagree: a bug")
                checked += 1
    elapsed = time.perf_counter() - started
    print(
        f"canary detection: {args.windows} windows per factor x {len(FACTORS)} factors, "
        f"{WINDOW_SECONDS} s each, base error ratio {args.base:.1%}"
        f"{' steady' if args.steady else ' with bursts'}, alpha {args.alpha}, "
        f"seed {args.seed} ({elapsed:.1f} s; {checked} windows cross-checked look by look)"
    )
    header = f"{'rule':<12} {'factor':>6} {'rps':>5} {'windows':>7} {'rolled back':>11} "
    print(header + f"{'median s':>9} {'p90 s':>6}")
    for (name, factor, rps), outcomes in sorted(results.items()):
        hits = [o for o in outcomes if o is not None]
        p90 = f"{np.percentile(hits, 90):.0f}" if hits else "-"
        rate = len(hits) / len(outcomes)
        print(
            f"{name:<12} {factor:>6} {rps:>5} {len(outcomes):>7} {rate:>11.1%} "
            f"{_median(hits):>9} {p90:>6}"
        )
    print()
    print("summary (healthy: rolled back = false rollbacks; regressions: 1 - rolled back = missed)")
    for name in rules:
        healthy = [o for (n, f, _), v in results.items() if n == name and f == 1.0 for o in v]
        false_rate = sum(o is not None for o in healthy) / len(healthy)
        line = f"  {name:<12} false rollbacks {false_rate:6.1%}"
        for factor in FACTORS[1:]:
            runs = [o for (n, f, _), v in results.items() if n == name and f == factor for o in v]
            missed = sum(o is None for o in runs) / len(runs)
            found = [o for o in runs if o is not None]
            line += f" | {factor}x missed {missed:6.1%} median {_median(found)} s"
        at_20 = [o for o in results.get((name, 5.0, 20), []) if o is not None]
        line += f" | 5x at 20 rps median {_median(at_20)} s"
        for share in SHARES:
            runs = [o for o in by_share.get((name, 5.0, 20, share), []) if o is not None]
            line += f", {_median(runs)} s at {share:.0%}"
        print(line)

    null_rng = np.random.default_rng(args.seed + 10_000)
    crossed, finals = 0, []
    for i in range(args.null_streams):
        rps = RPS[i % len(RPS)]
        share = SHARES[(i // len(RPS)) % len(SHARES)]
        window = make_window(null_rng, rps, share, 1.0, args.base, bursts=not args.steady)
        path = sequential_path(window, settings)
        crossed += bool(np.any(path >= math.log(1.0 / args.alpha)))
        finals.append(math.exp(float(path[-1])))
    upper = clopper_pearson_upper(crossed, args.null_streams)
    print()
    print(
        f"validity: {args.null_streams} healthy streams x {WINDOW_SECONDS} looks: "
        f"{crossed} reached fail ({crossed / args.null_streams:.2%}; 95% upper bound "
        f"{upper:.2%}, alpha {args.alpha:.0%}); mean final e-value {statistics.mean(finals):.3f}"
    )

    print()
    print(
        f"Neyman-Pearson bound, steady 20 rps, base {args.base:.1%}, alpha {args.alpha}: "
        "the best test that knows both error ratios"
    )
    for factor in FACTORS[1:]:
        for share in SHARES:
            rate = 20 * share
            q0, q1 = args.base, args.base * factor
            at10 = np_power(rate * 10, q0, q1, args.alpha)
            half = seconds_for_power(rate, q0, q1, args.alpha, 0.5)
            most = seconds_for_power(rate, q0, q1, args.alpha, 0.9)
            print(
                f"  {factor}x, canary share {share:.0%}: power at 10 s {at10:5.1%}; "
                f"50% power needs {half} s, 90% needs {most} s"
            )
    if args.step_streams:
        step_lengths(
            np.random.default_rng(args.seed + 20_000), args.base, args.alpha, 2.0, args.step_streams
        )


if __name__ == "__main__":
    main()
