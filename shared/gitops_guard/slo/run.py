"""The slo-gate flow: load the SLO file, measure in Prometheus, judge, build the evidence.

:func:`run` does every step of one slo-gate run, in order, and returns one
:class:`GateOutcome`: the verdict (the outcome word for the exit-code table), the
gate run, the history charts and the JSON report, ready for the CLI to render::

    load (slo.config: exit 2 naming FILE:LINE)
      -> query Prometheus through slo.gate.run_gate (once, or live until the stop rule)
         a bad_data answer is exit 2 naming the query's line; unreachable is inconclusive
      -> history (range queries for the charts; best effort, never the verdict)
      -> the report (slo.evidence.build_report)

This module must not parse flags or write runner output: the CLI passes the
validated inputs in and renders the outcome (annotations, summary, outputs).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from gitops_guard import credentials, errors
from gitops_guard.prometheus import client as prom
from gitops_guard.slo import config, evidence, gate, models


@dataclass(frozen=True)
class GateRequest:
    """One slo-gate run's validated inputs."""

    config_path: Path
    prometheus_url: str
    overrides: dict[str, str] = field(default_factory=dict)
    token: credentials.Token | None = None
    query_timeout_seconds: float = 10.0
    verify: bool | str = True
    """TLS: True, False (--insecure) or a CA bundle path."""
    at: datetime | None = None
    once: bool = False
    history_seconds: float = 1800.0


@dataclass
class GateOutcome:
    """How the gate ended: the verdict and everything the CLI renders."""

    verdict: models.Verdict
    cfg: config.SloConfig
    mode: str
    report: dict[str, Any]
    run: gate.GateRun | None = None
    """None when Prometheus could not be queried at all."""
    history: evidence.History = field(default_factory=dict)
    unreachable: errors.GitopsGuardError | None = None
    """Why Prometheus could not be queried (the verdict is then ``inconclusive``)."""


def load(path: Path, overrides: dict[str, str] | None = None) -> config.SloConfig:
    """The SLO file through the one loader (exit 2 naming FILE:LINE)."""
    return config.load(path, overrides=overrides or {})


def mode_of(cfg: config.SloConfig, request: GateRequest) -> str:
    """``live`` (measure repeatedly until the stop rule) or ``once``."""
    return "live" if cfg.live and request.at is None and not request.once else "once"


def run(
    request: GateRequest,
    *,
    cfg: config.SloConfig | None = None,
    on_start: Callable[[config.SloConfig, str, str], None] | None = None,
    on_measurement: Callable[[models.Measurement], None] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    sleep: Callable[[float], None] = time.sleep,
    client: prom.PrometheusClient | None = None,
) -> GateOutcome:
    """Measure and judge; one outcome, with the report built.

    ``client``: a Prometheus client to share (the gate per app judges many apps over
    one connection pool); by default one is opened from ``request`` and closed.
    """
    cfg = cfg if cfg is not None else load(request.config_path, request.overrides)
    mode = mode_of(cfg, request)
    judged = cfg
    if request.once and cfg.live:
        judged = cfg.model_copy(
            update={"analysis": cfg.analysis.model_copy(update={"duration_seconds": None})}
        )
    with contextlib.ExitStack() as stack:
        if client is None:
            client = stack.enter_context(open_client(request))
        if on_start is not None:
            on_start(cfg, mode, str(client.base_url))
        try:
            result = gate.run_gate(
                judged,
                query=make_query(client, judged),
                clock=clock,
                sleep=sleep,
                at=request.at,
                on_measurement=on_measurement,
            )
        except errors.DependencyUnavailable as exc:
            return GateOutcome(
                verdict="inconclusive",
                cfg=cfg,
                mode=mode,
                report=unreachable_report(cfg, exc),
                unreachable=exc,
            )
        history = fetch_history(client, result, request.history_seconds)
    return GateOutcome(
        verdict=result.verdict.verdict,
        cfg=cfg,
        mode=mode,
        report=evidence.build_report(cfg, result, history),
        run=result,
        history=history,
    )


def open_client(request: GateRequest) -> prom.PrometheusClient:
    """The Prometheus client of a gate run (the caller closes it)."""
    return prom.PrometheusClient(
        request.prometheus_url,
        token=request.token,
        timeout_seconds=request.query_timeout_seconds,
        verify=request.verify,
    )


def make_query(client: prom.PrometheusClient, cfg: config.SloConfig | None = None) -> gate.Query:
    """Adapt the client to the gate's :class:`gate.Query`: query errors become values.

    A query Prometheus rejects as ``bad_data`` (HTTP 400) is a configuration error,
    exit 2 naming the file and line of the query: never "inconclusive", which the
    reusable workflow would answer with a rollback.
    """

    def query(promql: str, at: datetime | None) -> models.QueryOutcome:
        try:
            result = client.query(promql, at=at)
        except prom.QueryError as exc:
            if exc.error_type == "bad_data" or (exc.status == 400 and not exc.retryable):
                where = cfg.where(promql) if cfg is not None else ""
                raise errors.ConfigError(
                    f"Prometheus rejected a query of the SLO file as bad_data: {exc.message}",
                    source=where or "--config",
                    hint=f"Fix the query (sent as: {' '.join(promql.split())}); check the "
                    "file offline with `gitops-guard slo-gate --check --config FILE`.",
                ) from exc
            return models.QueryOutcome(error=exc.message)
        if result.result_type == "string":
            return models.QueryOutcome(error="the query returns a string, not a number")
        if result.result_type == "matrix":
            return models.QueryOutcome(
                error="the query returns a range vector; wrap it in a function such as "
                "rate(...[5m]) or avg_over_time(...[5m])"
            )
        samples = tuple(
            models.Sample(dict(s.labels), s.samples[-1].value) for s in result.series if s.samples
        )
        return models.QueryOutcome(samples)

    return query


HISTORY_POINTS = 30
"""About this many points per history chart: readable in a job summary."""


def fetch_history(
    client: prom.PrometheusClient, run: gate.GateRun, seconds: float
) -> evidence.History:
    """Each objective's values over ``seconds`` before a single measurement (best effort).

    The chart follows the series the verdict named (the worst), else the only one.
    Failures only cost the chart: the verdict is already made.
    """
    if run.mode != "once" or seconds <= 0:
        return {}
    end = run.measurements[0].at
    start = end - timedelta(seconds=seconds)
    step = max(1.0, round(seconds / HISTORY_POINTS))
    out: dict[str, list[tuple[datetime, float]]] = {}
    for r in run.results:
        try:
            result = client.query_range(r.query, start=start, end=end, step_seconds=step)
        except errors.DependencyUnavailable:
            break
        except errors.GitopsGuardError as exc:
            logging.getLogger(__name__).debug("no history for %s: %s", r.name, exc.message)
            continue
        series = [s for s in result.series if dict(s.labels) == dict(r.worst_labels)]
        if not series and len(result.series) == 1:
            series = list(result.series)
        if series:
            out[r.name] = [(sample.time, sample.value) for sample in series[0].samples]
    return out


def unreachable_report(cfg: config.SloConfig, exc: errors.GitopsGuardError) -> dict[str, Any]:
    """The report of a gate that could not query Prometheus: inconclusive, every
    objective in state ``error``."""
    now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    return {
        "verdict": "inconclusive",
        "score": 0,
        "reason": f"Prometheus could not be queried: {exc.message}",
        "name": cfg.name,
        "mode": "once",
        "started_at": now,
        "ended_at": now,
        "stopped_early": True,
        "measurement_count": 0,
        "failed_objectives": [],
        "no_data_objectives": [o.name for o in cfg.objectives],
        "objectives": [
            {
                "name": o.name,
                "key": o.key,
                "weight": o.weight,
                "query": o.promql,
                "baseline_query": o.baseline,
                "window": {"range": o.display_window, "start": None, "end": None},
                "value": None,
                "threshold": None,
                "baseline": None,
                "state": "error",
                "reason": "Prometheus unreachable",
                "series": [],
                "measurements": [],
            }
            for o in cfg.objectives
        ],
    }
