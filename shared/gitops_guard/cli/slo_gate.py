"""`gitops-guard slo-gate`: judge SLOs in Prometheus: pass, warn, fail or inconclusive.

Loads the SLO file (exit 2 naming FILE:LINE on any problem), wires a
:class:`prometheus.client.PrometheusClient` into :func:`slo.gate.run_gate`, and
turns the run into human output, the ``--report`` JSON, ``$GITHUB_OUTPUT``
outputs (``verdict``, ``score``, ``report-path``, ``failed-objectives``,
``no-data-objectives``), a job summary with a table and a Mermaid chart per
objective, and annotations (``::error`` per failing objective, ``::warning`` for
warn and inconclusive). Exit codes: 0 pass or warn, 1 fail, 3 inconclusive or
Prometheus unreachable (a report saying ``inconclusive`` is still written), 2 bad
input. It decides nothing itself.
"""

from __future__ import annotations

import argparse
import logging
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from gitops_guard import actions, credentials, durations, errors, report
from gitops_guard.cli import InputSpec
from gitops_guard.prometheus import client as prom
from gitops_guard.slo import config, evidence, gate, models, verdict

HELP = "Judge SLOs in Prometheus: pass, warn, fail or inconclusive (exit 0/0/1/3)."

INPUTS = (
    InputSpec("config", "--config"),
    InputSpec("prometheus-url", "--prometheus-url"),
    InputSpec("vars", "--var", "lines"),
    InputSpec("report", "--report"),
    InputSpec("at", "--at"),
    InputSpec("once", "--once", "bool"),
    InputSpec("query-timeout", "--query-timeout"),
    InputSpec("history", "--history"),
    InputSpec("ca-bundle", "--ca-bundle"),
    InputSpec("insecure", "--insecure", "bool"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of slo-gate."""
    parser.add_argument("--config", metavar="FILE", required=True, help="the SLO file (slo.yaml)")
    parser.add_argument(
        "--prometheus-url",
        metavar="URL",
        help="Prometheus base URL incl. any path prefix (bearer token from PROMETHEUS_TOKEN); "
        "required unless --check",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="only validate the SLO file, offline (every key, every PromQL query): exit 0 or 2",
    )
    parser.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set or override a ${KEY} variable of the SLO file (repeatable)",
    )
    parser.add_argument("--report", metavar="FILE", help="write the JSON report here")
    parser.add_argument(
        "--at",
        metavar="TIME",
        help="evaluate once at this instant (RFC 3339, e.g. 2026-01-01T00:30:00Z, or Unix "
        "seconds) instead of now; live mode is skipped",
    )
    parser.add_argument(
        "--once", action="store_true", help="measure once now even if analysis.duration is set"
    )
    parser.add_argument(
        "--query-timeout",
        metavar="SECONDS",
        default="10",
        help="per-request timeout, seconds or a duration (10, 2s, 500ms); also sent to "
        "Prometheus as its query timeout (default 10)",
    )
    parser.add_argument(
        "--history",
        metavar="DURATION",
        default="30m",
        help="when measuring once, also chart each objective over this period before the "
        "measurement (range query; not judged). 0 turns it off (default 30m)",
    )
    parser.add_argument("--ca-bundle", metavar="FILE", help="CA bundle for an HTTPS Prometheus")
    parser.add_argument(
        "--insecure", action="store_true", help="do not verify Prometheus's TLS certificate"
    )


def parse_time(text: str, *, source: str = "--at") -> datetime:
    """RFC 3339 (``Z`` or an offset) or Unix seconds -> an aware UTC datetime."""
    value = text.strip()
    try:
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise errors.InputError(
            f"cannot read the time {text!r}",
            source=source,
            hint="Write RFC 3339 such as 2026-01-01T00:30:00Z, or Unix seconds.",
        ) from exc
    if parsed.tzinfo is None:
        raise errors.InputError(
            f"the time {text!r} has no timezone",
            source=source,
            hint="Add Z (UTC) or an offset such as +02:00.",
        )
    return parsed.astimezone(timezone.utc)


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


def _verify(args: argparse.Namespace) -> bool | str:
    if args.insecure:
        return False
    if args.ca_bundle:
        if not Path(args.ca_bundle).is_file():
            raise errors.InputError(
                f"the CA bundle {args.ca_bundle} does not exist", source="--ca-bundle"
            )
        return str(args.ca_bundle)
    return True


def _outputs(
    verdict_: str, score: float, report_path: str, failed: list[str], no_data: list[str]
) -> None:
    actions.set_outputs(
        {
            "verdict": verdict_,
            "score": f"{score:g}",
            "report-path": report_path,
            "failed-objectives": ",".join(failed),
            "no-data-objectives": ",".join(no_data),
        }
    )


def _announce(cfg: config.SloConfig, run: gate.GateRun, config_path: str) -> None:
    for r in run.results:
        line = f"  {r.state:8} {r.name}{' (key)' if r.key else ''}: {r.reason}"
        actions.info(line)
    for r in run.results:
        if r.state == "fail":
            actions.error(
                f"{r.name}: {r.reason}", title=f"SLO objective failed: {r.name}", file=config_path
            )
    v = run.verdict
    if v.verdict in ("warn", "inconclusive"):
        actions.warning(v.reason, title=f"SLO gate {cfg.name}: {v.verdict}", file=config_path)
    elif v.verdict == "fail":
        actions.error(v.reason, title=f"SLO gate {cfg.name}: fail", file=config_path)


def _unreachable_report(cfg: config.SloConfig, exc: errors.GitopsGuardError) -> dict[str, Any]:
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


def _check(cfg: config.SloConfig, path: str) -> int:
    """``--check``: the file loaded (every key and query valid), so say what it holds."""
    queries = cfg.queries
    actions.info(
        f"{path}: valid SLO file {cfg.name!r}: {len(cfg.objectives)} objectives, "
        f"{len(queries)} PromQL queries parsed, {'live' if cfg.live else 'once'} mode"
    )
    return errors.EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Load, measure, judge, report; return the verdict's exit code."""
    overrides = config.parse_overrides(args.var)
    cfg = config.load(args.config, overrides=overrides)
    if args.check:
        return _check(cfg, str(args.config))
    if not args.prometheus_url:
        raise errors.InputError(
            "a Prometheus URL is required to judge the SLOs",
            source="--prometheus-url",
            hint="Pass --prometheus-url URL, or --check to validate the file offline.",
        )
    at = parse_time(args.at) if args.at else None
    query_timeout = durations.parse_duration(
        args.query_timeout, source="--query-timeout", minimum=0.001, maximum=3600.0
    )
    history_seconds = durations.parse_duration(args.history or 0, source="--history")
    token = credentials.prometheus_token()
    report_path = str(args.report or "")
    mode = "live" if cfg.live and at is None and not args.once else "once"
    with prom.PrometheusClient(
        args.prometheus_url,
        token=token,
        timeout_seconds=query_timeout,
        verify=_verify(args),
    ) as client:
        actions.info(
            f"slo-gate {cfg.name}: {len(cfg.objectives)} objectives, {mode} mode, "
            f"Prometheus {client.base_url}" + (f", at {at.isoformat()}" if at else "")
        )

        def progress(m: models.Measurement) -> None:
            if mode == "live":
                actions.info(
                    f"  measurement {m.index + 1} at {m.at:%H:%M:%S}: {m.verdict.verdict} "
                    f"(score {m.verdict.score:g}%) {m.verdict.reason}"
                )

        once_cfg = cfg
        if args.once and cfg.live:
            once_cfg = cfg.model_copy(
                update={"analysis": cfg.analysis.model_copy(update={"duration_seconds": None})}
            )
        try:
            result = gate.run_gate(
                once_cfg,
                query=make_query(client, once_cfg),
                clock=lambda: datetime.now(timezone.utc),
                sleep=time.sleep,
                at=at,
                on_measurement=progress,
            )
        except errors.DependencyUnavailable as exc:
            data = _unreachable_report(cfg, exc)
            if report_path:
                report.write_json(report_path, data)
            _outputs("inconclusive", 0.0, report_path, [], data["no_data_objectives"])
            actions.append_summary(
                f"## ❔ SLO gate `{cfg.name}`: **inconclusive**\n\n{data['reason']}"
            )
            raise
        history = fetch_history(client, result, history_seconds)
    data = evidence.build_report(cfg, result, history)
    if report_path:
        report.write_json(report_path, data)
    actions.info(evidence.one_line(result))
    _announce(cfg, result, str(args.config))
    actions.append_summary(evidence.summary_markdown(cfg, result, history))
    _outputs(
        result.verdict.verdict,
        result.verdict.score,
        report_path,
        list(result.verdict.failed),
        list(result.verdict.no_data),
    )
    return verdict.EXIT_CODES[result.verdict.verdict]
