"""How often live mode fails a healthy deploy, and whether it still catches bad ones.

A generated suite of deploys, each a per-second history of requests and errors:

- healthy: about 20 requests/s, an error ratio of 0.3-0.6% (about 0.5%), and zero
  to two short bursts in the first 15 minutes (0.8 on average; 45 s at 5-15% errors:
  a restarting pod, a cold cache), each enough to fail one 5m window on its own;
- bad: the same, plus a regression from the deploy on: 2-5% errors, or 10% of
  checkouts failing.

Each deploy is judged by the real gate code (``slo.gate.run_gate``, the stop rule of
``slo.live`` and the example's objectives from ``examples/slo.yaml``) with a fake
clock; queries are answered from the generated history, exactly over each query's
window (what ``rate()`` over a counter scraped every second would give). This is the
pure evaluation with generated series, not the real Prometheus: a suite of a hundred
15-minute deploys would take a day of wall time against a live server, and the
history is what the figures are about, not the PromQL engine.

It prints, per live configuration, the share of healthy deploys that fail (false
fails) or end inconclusive, the share of bad deploys that fail, and the median
minutes to a fail (from the deploy; every configuration waits ``initialDelay: 1m``).
It is a figure for humans, not a test.

Usage: python benchmarks/slo_live_false_fail.py [HEALTHY_RUNS] [BAD_RUNS] [SEED]
"""

from __future__ import annotations

import itertools
import random
import statistics
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from gitops_guard import durations
from gitops_guard.slo import config, gate, models

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "slo.yaml"
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
HISTORY = 3600
"""Seconds of generated history before the deploy (windows reach back into it)."""
AFTER = 3600
"""Seconds of generated history after the deploy (runs that extend past the plan)."""


@dataclass(frozen=True)
class Deploy:
    """One generated deploy: cumulative counts per second (index 0 = an hour before)."""

    kind: str
    requests: list[int]
    errors: list[int]
    checkouts: list[int]
    checkout_failures: list[int]

    def window(self, series: list[int], now: int, seconds: float) -> int:
        start = max(0, now - int(seconds))
        return series[now] - series[start]


def _poisson(rng: random.Random, mean: float) -> int:
    return max(0, round(rng.gauss(mean, mean**0.5)))


def _binomial(rng: random.Random, n: int, p: float) -> int:
    return sum(1 for _ in range(n) if rng.random() < p)


def generate(rng: random.Random, kind: str) -> Deploy:
    """A deploy's history: ``healthy``, ``bad-errors`` or ``bad-checkout``."""
    base = rng.uniform(0.003, 0.006)
    bursts = []
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        start = HISTORY + rng.randrange(0, 15 * 60)
        bursts.append((start, start + 45, rng.uniform(0.05, 0.15)))
    regression = rng.uniform(0.02, 0.05) if kind == "bad-errors" else 0.0
    checkout_failure = 0.10 if kind == "bad-checkout" else 0.004
    totals = [[0], [0], [0], [0]]
    for second in range(HISTORY + AFTER):
        ratio = base
        for start, end, burst in bursts:
            if start <= second < end:
                ratio = max(ratio, burst)
        deployed = second >= HISTORY
        if deployed:
            ratio = max(ratio, regression)
        n = _poisson(rng, 20.0)
        c = _poisson(rng, 2.0)
        step = (
            n,
            _binomial(rng, n, ratio),
            c,
            _binomial(rng, c, checkout_failure if deployed else 0.004),
        )
        for series, value in zip(totals, step, strict=True):
            series.append(series[-1] + value)
    return Deploy(kind, *totals)


class Synthetic:
    """Answers the example's queries from a deploy's history at the fake clock's now."""

    def __init__(self, cfg: config.SloConfig, deploy: Deploy, window: float, clock: FakeTime):
        self.names = {o.promql: o.name for o in cfg.objectives}
        assert cfg.analysis.min_requests is not None
        self.traffic = cfg.analysis.min_requests.query
        self.deploy, self.window, self.clock = deploy, window, clock

    def __call__(self, promql: str, at: datetime | None) -> models.QueryOutcome:
        d, w = self.deploy, self.window
        now = HISTORY + int((self.clock.now - T0).total_seconds())
        if promql == self.traffic:
            return _one(float(d.window(d.requests, now, 600)))
        name = self.names[promql]
        requests, errors = d.window(d.requests, now, w), d.window(d.errors, now, w)
        if name in ("availability", "error-rate") and requests == 0:
            return _one(float("nan"))
        if name == "availability":
            return _one(1 - errors / requests)
        if name == "error-rate":
            return _one(errors / requests)
        if name == "checkout-success":
            total = d.window(d.checkouts, now, w)
            failed = d.window(d.checkout_failures, now, w)
            return _one(1 - failed / total if total else float("nan"))
        if name == "latency-p99":
            return _one(0.3)
        return _one(200.0 * 2**20)  # memory-saturation


def _one(value: float) -> models.QueryOutcome:
    return models.QueryOutcome((models.Sample({}, value),))


class FakeTime:
    def __init__(self) -> None:
        self.now = T0

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass(frozen=True)
class Setup:
    label: str
    window: str
    analysis: dict[str, object]


SETUPS = (
    Setup(
        "overlapping, as before: 5m window every 30s, 10m",
        "5m",
        {"duration": "10m", "interval": "30s", "failureLimit": 1, "allowOverlap": True},
    ),
    Setup(
        "default: 5m window every 5m, 15m (the example)",
        "5m",
        {"duration": "15m", "interval": "5m", "failureLimit": 1},
    ),
    Setup(
        "the example with failureLimitMode total",
        "5m",
        {"duration": "15m", "interval": "5m", "failureLimit": 1, "failureLimitMode": "total"},
    ),
    Setup(
        "2m window every 2m, 10m",
        "2m",
        {"duration": "10m", "interval": "2m", "failureLimit": 1},
    ),
    Setup(
        "the example with failureLimit 2",
        "5m",
        {"duration": "15m", "interval": "5m", "failureLimit": 2},
    ),
    Setup(
        "the example with consecutiveSuccessLimit 2",
        "5m",
        {"duration": "15m", "interval": "5m", "failureLimit": 1, "consecutiveSuccessLimit": 2},
    ),
)


def judge(setup: Setup, deploy: Deploy) -> gate.GateRun:
    cfg = config.load(EXAMPLE, overrides={"window": setup.window})
    guard = cfg.analysis.min_requests
    assert guard is not None
    analysis = {
        "initialDelay": "1m",
        **setup.analysis,
        "minRequests": guard.model_dump(by_alias=True),
    }
    cfg = cfg.model_copy(update={"analysis": config.Analysis.model_validate(analysis)})
    time = FakeTime()
    query = Synthetic(cfg, deploy, durations.parse_duration(setup.window), time)
    return gate.run_gate(cfg, query=query, clock=time.clock, sleep=time.sleep)


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f}%)" if whole else "-"


def main(argv: list[str]) -> int:
    healthy_runs = int(argv[1]) if len(argv) > 1 else 80
    bad_runs = int(argv[2]) if len(argv) > 2 else 20
    seed = int(argv[3]) if len(argv) > 3 else 10
    rng = random.Random(seed)
    kinds: Iterator[str] = itertools.cycle(("bad-errors", "bad-checkout"))
    suite = [generate(rng, "healthy") for _ in range(healthy_runs)]
    suite += [generate(rng, next(kinds)) for _ in range(bad_runs)]
    print(
        f"generated suite (seed {seed}): {healthy_runs} healthy deploys (~20 req/s, 0.3-0.6% "
        f"errors, 0-2 bursts of 45 s at 5-15%), {bad_runs} bad ones (2-5% errors, or 10% "
        "failed checkouts); pure evaluation with generated series, not a live Prometheus"
    )
    print()
    header = f"{'live configuration':52} {'healthy: fail':>16} {'inconcl.':>14} "
    print(header + f"{'bad: fail':>16} {'min to fail':>12} {'measurements':>12}")
    for setup in SETUPS:
        runs = [(d, judge(setup, d)) for d in suite]
        healthy = [r for d, r in runs if d.kind == "healthy"]
        bad = [r for d, r in runs if d.kind != "healthy"]
        false_fails = sum(1 for r in healthy if r.verdict.verdict == "fail")
        unsure = sum(1 for r in healthy if r.verdict.verdict == "inconclusive")
        caught = [r for r in bad if r.verdict.verdict == "fail"]
        minutes = [(r.ended_at - r.started_at).total_seconds() / 60 for r in caught]
        counts = [len(r.measurements) for _, r in runs]
        print(
            f"{setup.label:52} {_share(false_fails, len(healthy)):>16} "
            f"{_share(unsure, len(healthy)):>14} {_share(len(caught), len(bad)):>16} "
            f"{statistics.median(minutes) if minutes else float('nan'):>12.1f} "
            f"{statistics.mean(counts):>12.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
