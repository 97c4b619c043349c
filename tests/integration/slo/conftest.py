"""Fixtures for the SLO gate against the real Prometheus.

- ``history``: one deterministic hour of metrics for every scenario (one ``app``
  label value each), backfilled with promtool and served by a real Prometheus
  (one per xdist worker). Queries run at ``EVAL_AT``, inside the hour.
- ``run_gate``: runs ``gitops-guard slo-gate`` in-process and returns the exit
  code and the JSON report.
- ``exporter``: a prometheus_client exporter on a free port, for live mode.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.exposition import start_http_server

from gitops_guard import cli
from gitops_guard.prometheus import client as prom
from gitops_guard_lab import promstack

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "slo.yaml"
DATA = Path(__file__).resolve().parent / "data"

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
"""Start of the backfilled hour."""
EVAL_AT = T0 + timedelta(minutes=50)
"""Every scenario is judged here; changes start at minute 40."""
STEP_SECONDS = 15
BUCKETS = ("0.1", "0.25", "0.5", "1", "2.5", "+Inf")
HEALTHY_LATENCY = (0.7, 0.98, 0.999, 1.0, 1.0, 1.0)
"""Cumulative share of requests per bucket: p99 is about 0.38s."""
SLOW_LATENCY = (0.3, 0.5, 0.7, 0.95, 1.0, 1.0)
"""p99 is about 2.2s."""


@dataclass(frozen=True)
class Shape:
    """How one scenario's app behaves before and after minute 40."""

    rps: float = 100.0
    error_ratio: float = 0.001
    checkout_failure_ratio: float = 0.005
    latency: tuple[float, ...] = HEALTHY_LATENCY
    memory_bytes: float = 200 * 2**20


@dataclass(frozen=True)
class Scenario:
    before: Shape
    after: Shape
    version: str = "v2"


SCENARIOS: dict[str, Scenario] = {
    "healthy": Scenario(Shape(), Shape()),
    "error-spike": Scenario(Shape(), Shape(error_ratio=0.05)),
    "latency-regression": Scenario(Shape(), Shape(latency=SLOW_LATENCY)),
    "no-traffic": Scenario(Shape(rps=0.0), Shape(rps=0.0)),
    "low-traffic": Scenario(Shape(rps=0.1), Shape(rps=0.1)),
    "warn-band": Scenario(Shape(), Shape(error_ratio=0.007)),
    "memory-warn": Scenario(Shape(), Shape(memory_bytes=450 * 2**20)),
    "checkout-broken": Scenario(Shape(), Shape(checkout_failure_ratio=0.10)),
    # The baseline (old version) keeps 1% errors; the new versions differ from it.
    "relative-baseline": Scenario(Shape(error_ratio=0.01), Shape(error_ratio=0.01), "v1"),
    "relative-regression": Scenario(Shape(error_ratio=0.01), Shape(error_ratio=0.03)),
    "relative-ok": Scenario(Shape(error_ratio=0.01), Shape(error_ratio=0.0105)),
}
"""Scenario name -> its app's behaviour; ``missing-series`` has no series at all."""


def openmetrics() -> str:
    """The whole backfill, deterministic: counters integrate the shapes every 15s."""

    def samples() -> Iterator[tuple[str, dict[str, str], float, float]]:
        for app, scenario in SCENARIOS.items():
            totals: dict[tuple[str, ...], float] = {}
            version = scenario.version
            for step in range(3600 // STEP_SECONDS + 1):
                t = T0.timestamp() + step * STEP_SECONDS
                shape = scenario.before if step * STEP_SECONDS < 40 * 60 else scenario.after
                n = shape.rps * STEP_SECONDS if step else 0.0
                errors = n * shape.error_ratio
                series: dict[tuple[str, ...], float] = {
                    ("req", "200"): n - errors,
                    ("req", "500"): errors,
                    ("op", "success"): n * (1 - shape.checkout_failure_ratio),
                    ("op", "failure"): n * shape.checkout_failure_ratio,
                }
                for i, le in enumerate(BUCKETS):
                    series[("le", le)] = n * shape.latency[i]
                series[("count",)] = n
                for key, inc in series.items():
                    totals[key] = totals.get(key, 0.0) + inc
                base = {"app": app, "version": version}
                for code in ("200", "500"):
                    yield (
                        "http_requests_total",
                        {**base, "code": code},
                        round(totals[("req", code)], 3),
                        t,
                    )
                for result in ("success", "failure"):
                    yield (
                        "business_operations_total",
                        {**base, "operation": "checkout", "result": result},
                        round(totals[("op", result)], 3),
                        t,
                    )
                for le in BUCKETS:
                    yield (
                        "http_request_duration_seconds_bucket",
                        {**base, "le": le},
                        round(totals[("le", le)], 3),
                        t,
                    )
                yield (
                    "http_request_duration_seconds_count",
                    base,
                    round(totals[("count",)], 3),
                    t,
                )
                yield ("process_resident_memory_bytes", base, shape.memory_bytes, t)

    return promstack.openmetrics_lines(samples())


@pytest.fixture(scope="session")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[promstack.Server]:
    """A real Prometheus serving the backfilled scenarios."""
    have = promstack.available()
    if not (have["prometheus"] and have["promtool"]):
        pytest.skip("prometheus/promtool are not installed")
    data_dir = tmp_path_factory.mktemp("tsdb") / "data"
    promstack.backfill(openmetrics(), data_dir)
    with promstack.start_prometheus(data_dir=data_dir) as server:
        yield server


GateRunner = Callable[..., tuple[int, dict[str, Any]]]


@pytest.fixture
def run_gate(tmp_path: Path) -> GateRunner:
    """Run the CLI in-process; returns (exit code, report)."""

    def run(*args: str, url: str, config: Path = EXAMPLE) -> tuple[int, dict[str, Any]]:
        report = tmp_path / f"report-{time.monotonic_ns()}.json"
        code = cli.main(
            [
                "slo-gate",
                "--config",
                str(config),
                "--prometheus-url",
                url,
                "--report",
                str(report),
                *args,
            ]
        )
        data = json.loads(report.read_text()) if report.exists() else {}
        return code, data

    return run


@dataclass
class Exporter:
    """A tiny app exporting request counters that Prometheus scrapes every second."""

    app: str
    target: str
    error_ratio: float


def _start_exporter(
    app: str, error_ratio: float, stop: threading.Event
) -> tuple[Exporter, Any, threading.Thread]:
    registry = CollectorRegistry()
    requests = Counter("http_requests", "requests", ["app", "code", "version"], registry=registry)
    ok = requests.labels(app, "200", "v2")
    bad = requests.labels(app, "500", "v2")
    port = promstack.free_port()
    server, _thread = start_http_server(port, addr="127.0.0.1", registry=registry)

    def traffic() -> None:
        while not stop.wait(0.05):
            errors = 20 * error_ratio
            ok.inc(20 - errors)
            bad.inc(errors)

    worker = threading.Thread(target=traffic, daemon=True)
    worker.start()
    return Exporter(app, f"127.0.0.1:{port}", error_ratio), server, worker


def _wait_for_scrapes(url: str, *, samples: int, timeout_seconds: float = 20.0) -> None:
    """Wait until every exporter has been scraped ``samples`` times."""
    query = "min(count_over_time(up[1m]))"
    deadline = time.monotonic() + timeout_seconds
    with prom.PrometheusClient(url, timeout_seconds=2) as client:
        while time.monotonic() < deadline:
            result = client.query(query)
            if result.series and result.series[0].samples[0].value >= samples:
                return
            time.sleep(0.25)
    raise AssertionError(f"Prometheus at {url} did not scrape the exporters in time")


@pytest.fixture(scope="module")
def live_stack() -> Iterator[tuple[promstack.Server, dict[str, Exporter]]]:
    """Two exporters (healthy ``live-ok``, 50% errors ``live-bad``) scraped every second."""
    if not promstack.available()["prometheus"]:
        pytest.skip("prometheus is not installed")
    stop = threading.Event()
    started = [_start_exporter("live-ok", 0.0, stop), _start_exporter("live-bad", 0.5, stop)]
    try:
        with promstack.start_prometheus(
            scrape_targets=[e.target for e, _, _ in started], scrape_interval="1s"
        ) as server:
            _wait_for_scrapes(server.url, samples=4)
            yield server, {e.app: e for e, _, _ in started}
    finally:
        stop.set()
        for _, http_server, worker in started:
            worker.join(timeout=2)
            http_server.shutdown()
            http_server.server_close()
