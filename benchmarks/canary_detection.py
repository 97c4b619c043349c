"""Canary detection: the anytime-valid test against Flagger's and Argo Rollouts' rules.

A fixed-seed scenario suite of per-second request and error counts for a canary and a
stable arm (Poisson traffic, binomial errors), replayed through three stop rules on the
same streams:

* ``sequential``: gitops_guard.slo.sequential, looking after every second, alpha 0.01;
* ``flagger``: Flagger's rule as its docs describe it: every ``interval`` (1m) the
  canary's error ratio over the interval is checked against a threshold (twice the
  stable ratio: a success rate of 99% at 0.5% errors); rollback after ``threshold`` (5)
  failed checks;
* ``argo``: Argo Rollouts' AnalysisRun: a measurement every 1m with the success
  condition ``error ratio < threshold`` (the same); the analysis fails once failed
  measurements exceed ``failureLimit`` (2).

Healthy windows have a 0.5% error ratio in both arms, with bursts (30-45 s at 4x the
error ratio, both arms alike: a dependency blip) every 1-3 minutes; regressions give the
canary 1.5x, 2x or 5x the stable's ratio. Each window is 10 minutes; traffic 5, 20, 50
or 200 requests per second, a canary share of 25% or 50%.

Run: ``python benchmarks/canary_detection.py [--windows 200] [--seed 1] [--base 0.005]``.
Prints false rollbacks, missed regressions and median detection time (seconds of data) per rule.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass

import numpy as np

from gitops_guard.slo import sequential as seq

RPS = (5, 20, 50, 200)
SHARES = (0.25, 0.5)
FACTORS = (1.0, 1.5, 2.0, 5.0)
BASE_ERROR_RATIO = 0.005
WINDOW_SECONDS = 600
THRESHOLD_FACTOR = 2.0
"""Flagger's and Argo's fixed threshold: twice the stable error ratio (1% at 0.5%)."""


@dataclass(frozen=True)
class Window:
    rps: int
    share: float
    factor: float
    n_c: np.ndarray
    e_c: np.ndarray
    n_s: np.ndarray
    e_s: np.ndarray


def make_window(
    rng: np.random.Generator, rps: int, share: float, factor: float, base: float
) -> Window:
    seconds = WINDOW_SECONDS
    burst = np.ones(seconds)
    t = int(rng.integers(20, 120))
    while t < seconds:
        length = int(rng.integers(30, 46))
        burst[t : t + length] = 4.0
        t += length + int(rng.integers(60, 180))
    n_c = rng.poisson(rps * share, seconds)
    n_s = rng.poisson(rps * (1 - share), seconds)
    e_c = rng.binomial(n_c, np.minimum(1.0, base * factor * burst))
    e_s = rng.binomial(n_s, np.minimum(1.0, base * burst))
    return Window(rps, share, factor, n_c, e_c, n_s, e_s)


def sequential_rule(w: Window, settings: seq.Settings) -> int | None:
    """Seconds of data until ``fail``, or None."""
    state = seq.start(settings)
    for i in range(WINDOW_SECONDS):
        state = seq.update(
            state,
            seq.Counts(float(w.n_c[i]), float(w.e_c[i]), 0.0 + w.n_s[i], 0.0 + w.e_s[i]),
            settings,
        )
        if seq.decide(state, settings, final=False).verdict == "fail":
            return i + 1
    return None


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--windows", type=int, default=200, help="windows per factor")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--base", type=float, default=BASE_ERROR_RATIO, help="stable error ratio")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    settings = seq.Settings(alpha=args.alpha)
    rules = {
        "sequential": lambda w: sequential_rule(w, settings),
        "flagger": lambda w: flagger_rule(w, THRESHOLD_FACTOR * args.base),
        "argo": lambda w: argo_rule(w, THRESHOLD_FACTOR * args.base),
    }
    started = time.perf_counter()
    results: dict[tuple[str, float, int], list[int | None]] = {}
    for factor in FACTORS:
        for i in range(args.windows):
            rps = RPS[i % len(RPS)]
            share = SHARES[(i // len(RPS)) % len(SHARES)]
            window = make_window(rng, rps, share, factor, args.base)
            for name, rule in rules.items():
                results.setdefault((name, factor, rps), []).append(rule(window))
    elapsed = time.perf_counter() - started
    print(
        f"canary detection: {args.windows} windows per factor x {len(FACTORS)} factors, "
        f"{WINDOW_SECONDS} s each, base error ratio {args.base:.1%}, alpha {args.alpha}, "
        f"seed {args.seed} ({elapsed:.1f} s)"
    )
    header = f"{'rule':<11} {'factor':>6} {'rps':>5} {'windows':>7} {'rolled back':>11} "
    print(header + f"{'median s':>9} {'p90 s':>6}")
    for (name, factor, rps), outcomes in sorted(results.items()):
        hits = [o for o in outcomes if o is not None]
        med = f"{statistics.median(hits):.0f}" if hits else "-"
        p90 = f"{np.percentile(hits, 90):.0f}" if hits else "-"
        rate = len(hits) / len(outcomes)
        print(f"{name:<11} {factor:>6} {rps:>5} {len(outcomes):>7} {rate:>11.1%} {med:>9} {p90:>6}")
    print()
    print("summary (healthy: rolled back = false rollbacks; regressions: 1 - rolled back = missed)")
    for name in rules:
        healthy = [o for (n, f, _), v in results.items() if n == name and f == 1.0 for o in v]
        false_rate = sum(o is not None for o in healthy) / len(healthy)
        line = f"  {name:<11} false rollbacks {false_rate:6.1%}"
        for factor in FACTORS[1:]:
            runs = [o for (n, f, _), v in results.items() if n == name and f == factor for o in v]
            missed = sum(o is None for o in runs) / len(runs)
            hits = [o for o in runs if o is not None]
            med = f"{statistics.median(hits):.0f} s" if hits else "-"
            line += f" | {factor}x missed {missed:6.1%} median {med}"
        print(line)
        fast = results.get((name, 5.0, 20), [])
        hits = [o for o in fast if o is not None]
        if hits:
            median = statistics.median(hits)
            print(f"  {'':<11} 5x at 20 rps: median detection {median:.0f} s of data")


if __name__ == "__main__":
    main()
