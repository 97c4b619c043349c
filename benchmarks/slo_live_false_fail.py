"""How often live mode fails a healthy deploy, and whether it still catches bad ones.

A generated suite of deploys, each a per-second history of requests and errors:

- healthy: about 20 requests/s, an error ratio of 0.3-0.6% (about 0.5%), and zero
  to two short bursts in the first 15 minutes (0.8 on average; 45 s at 5-15% errors:
  a restarting pod, a cold cache), each enough to fail one 5m window on its own;
- bad: the same, plus a regression from the deploy on: 2-5% errors, or 10% of
  checkouts failing.

Each deploy is judged by the real gate code (``slo.gate.run_gate``, the stop rule of
``slo.live`` and the example's objectives from ``examples/slo.yaml``) with a fake
clock. By default the queries are answered from the generated history, exactly over
each query's window (the pure evaluation with generated series: what ``rate()``
gives but for its extrapolation at the window's edges). With ``--prometheus`` the
same suite is also backfilled with ``promtool`` (one 15-second sample per series,
as a common scrape interval, each deploy its own ``app`` label) into Debian's real
Prometheus, and every query of the gate is the example's PromQL evaluated by that
server at the instant the fake clock says; both tables are printed.

It prints, per live configuration, the share of healthy deploys that fail (false
fails) or end inconclusive, the share of bad deploys that fail, and the median
minutes to a fail (from the deploy; every configuration waits ``initialDelay: 1m``).
It is a figure for humans, not a test.

Usage: python benchmarks/slo_live_false_fail.py [--prometheus] [HEALTHY_RUNS] [BAD_RUNS] [SEED]
"""

from __future__ import annotations

import itertools
import random
import statistics
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from gitops_guard import durations
from gitops_guard.prometheus import client as prom
from gitops_guard.slo import config, gate, models
from gitops_guard_lab import promstack

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


class RealPrometheus:
    """Sends each query to a real Prometheus, evaluated at the fake clock's instant."""

    def __init__(self, client: prom.PrometheusClient, clock: FakeTime) -> None:
        self.client, self.clock = client, clock

    def __call__(self, promql: str, at: datetime | None) -> models.QueryOutcome:
        try:
            result = self.client.query(promql, at=self.clock.now)
        except prom.QueryError as exc:
            return models.QueryOutcome(error=exc.message)
        samples = tuple(
            models.Sample(dict(s.labels), s.samples[-1].value) for s in result.series if s.samples
        )
        return models.QueryOutcome(samples)


SCRAPE = 15
"""Seconds between the backfilled samples (a common scrape interval)."""


def openmetrics(suite: list[Deploy]) -> str:
    """The suite as counters sampled every :data:`SCRAPE` seconds, deploy ``i`` as app ``d{i}``."""

    def samples() -> Iterator[tuple[str, dict[str, str], float, float]]:
        start = T0.timestamp() - HISTORY
        for i, d in enumerate(suite):
            app = {"app": f"d{i}"}
            for s in range(0, HISTORY + AFTER + 1, SCRAPE):
                t = start + s
                req, err = d.requests[s], d.errors[s]
                ok = d.checkouts[s] - d.checkout_failures[s]
                yield ("http_requests_total", {**app, "code": "200"}, req - err, t)
                yield ("http_requests_total", {**app, "code": "500"}, err, t)
                for result, value in (("success", ok), ("failure", d.checkout_failures[s])):
                    labels = {**app, "operation": "checkout", "result": result}
                    yield ("business_operations_total", labels, value, t)
                for le, share in (("0.1", 0.5), ("0.3", 1.0), ("+Inf", 1.0)):
                    labels = {**app, "le": le}
                    yield ("http_request_duration_seconds_bucket", labels, req * share, t)
                yield ("process_resident_memory_bytes", app, 200.0 * 2**20, t)

    return str(promstack.openmetrics_lines(samples()))


def judge(
    setup: Setup,
    deploy: Deploy,
    index: int = 0,
    client: prom.PrometheusClient | None = None,
) -> gate.GateRun:
    overrides = {"window": setup.window, "app": f"d{index}"}
    cfg = config.load(EXAMPLE, overrides=overrides)
    guard = cfg.analysis.min_requests
    assert guard is not None
    analysis = {
        "initialDelay": "1m",
        **setup.analysis,
        "minRequests": guard.model_dump(by_alias=True),
    }
    cfg = cfg.model_copy(update={"analysis": config.Analysis.model_validate(analysis)})
    time = FakeTime()
    query: gate.Query = (
        Synthetic(cfg, deploy, durations.parse_duration(setup.window), time)
        if client is None
        else RealPrometheus(client, time)
    )
    return gate.run_gate(cfg, query=query, clock=time.clock, sleep=time.sleep)


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f}%)" if whole else "-"


def table(suite: list[Deploy], client: prom.PrometheusClient | None = None) -> None:
    header = f"{'live configuration':52} {'healthy: fail':>16} {'inconcl.':>14} "
    print(header + f"{'bad: fail':>16} {'min to fail':>12} {'measurements':>12}")
    for setup in SETUPS:
        runs = [(d, judge(setup, d, i, client)) for i, d in enumerate(suite)]
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


def main(argv: list[str]) -> int:
    real = "--prometheus" in argv
    args = [a for a in argv[1:] if a != "--prometheus"]
    healthy_runs = int(args[0]) if len(args) > 0 else 80
    bad_runs = int(args[1]) if len(args) > 1 else 20
    seed = int(args[2]) if len(args) > 2 else 10
    rng = random.Random(seed)
    kinds: Iterator[str] = itertools.cycle(("bad-errors", "bad-checkout"))
    suite = [generate(rng, "healthy") for _ in range(healthy_runs)]
    suite += [generate(rng, next(kinds)) for _ in range(bad_runs)]
    print(
        f"generated suite (seed {seed}): {healthy_runs} healthy deploys (~20 req/s, 0.3-0.6% "
        f"errors, 0-2 bursts of 45 s at 5-15%), {bad_runs} bad ones (2-5% errors, or 10% "
        "failed checkouts)"
    )
    print()
    print("pure evaluation with generated series (exact window sums):")
    table(suite)
    if real:
        with tempfile.TemporaryDirectory(prefix="slo-bench-") as tmp:
            data_dir = Path(tmp) / "data"
            promstack.backfill(openmetrics(suite), data_dir)
            with (
                promstack.start_prometheus(data_dir=data_dir) as server,
                prom.PrometheusClient(server.url, timeout_seconds=10) as client,
            ):
                print()
                print(f"the real Prometheus ({server.url}), samples every {SCRAPE}s:")
                table(suite, client)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
