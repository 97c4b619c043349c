"""Grafana dashboards from an SLO file, built with grafana-foundation-sdk.

Two dashboards, as JSON (the Grafana 11.6 build of the SDK: schemaVersion 41,
imported by Grafana 11.6 and 12.x; older Grafana refuses newer schema versions):

* ``monitoring/deployment-dashboard.json``: the SLO objectives (the error ratio of
  every burn-rate objective over 5m and 1h against its budget, the PromQL of every
  other objective), the last verdict and rollbacks, with deploys and rollbacks as
  annotations;
* ``dashboards/pipeline-dashboard.json``: the delivery metrics from the pushed
  gauges: deploys and rollbacks per day, lead time, pipeline stage durations,
  gate results, time since the last deploy.

Every query is listed by :func:`queries` so a test can run each against the real
Prometheus. Pure: config in, JSON text out; this module must not write files.
"""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from gitops_guard.observe import monitoring
from gitops_guard.slo import config

DEPLOY_DASHBOARD = "monitoring/deployment-dashboard.json"
PIPELINE_DASHBOARD = "dashboards/pipeline-dashboard.json"
GRAFANA_VERSIONS = "Grafana 11.6 and 12.x"
_DS = DataSourceRef(type_val="prometheus", uid="${datasource}")
_SCOPE = '{job="gitops-guard",environment=~"$environment",app=~"$app"}'
G = monitoring.GAUGES


def _target(expr: str, legend: str, ref: str) -> prometheus.Dataquery:
    query: prometheus.Dataquery = (
        prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(ref).datasource(_DS)
    )
    return query


def _variables(board: dashboard.Dashboard) -> dashboard.Dashboard:
    board = board.with_variable(
        dashboard.DatasourceVariable("datasource").label("Prometheus").type("prometheus")
    )
    for name in ("environment", "app"):
        board = board.with_variable(
            dashboard.QueryVariable(name)
            .label(name)
            .datasource(_DS)
            .query(f"label_values({G['deploy']}, {name})")
            .include_all(True)
            .all_value(".*")
            .multi(True)
        )
    return board


def _annotations(board: dashboard.Dashboard) -> dashboard.Dashboard:
    for name, gauge, colour in (
        ("Deploys", G["deploy"], "blue"),
        ("Rollbacks", G["rollback"], "red"),
    ):
        board = board.annotation(
            dashboard.AnnotationQuery()
            .name(name)
            .datasource(_DS)
            .enable(True)
            .icon_color(colour)
            .expr(f"changes({gauge}{_SCOPE}[2m]) > 0")
        )
    return board


def deploy_queries(cfg: config.SloConfig) -> list[tuple[str, str, str]]:
    """(panel title, expression, legend) of the deployment dashboard."""
    out: list[tuple[str, str, str]] = []
    for rule in monitoring.slo_rules(cfg):
        for window in ("5m", "1h"):
            out.append(
                (
                    f"{rule.name}: error ratio vs budget",
                    f'{monitoring.RATIO.format(window=window)}{{slo="{rule.name}"}}',
                    f"error ratio {window}",
                )
            )
        out.append((f"{rule.name}: error ratio vs budget", f"vector({rule.budget:.10g})", "budget"))
    for objective in cfg.objectives:
        if objective.burn_rate is None:
            out.append((objective.name, objective.promql, objective.name))
    out += [
        ("Last verdict", f"{G['verdict']}{_SCOPE} == 1", "{{environment}} {{verdict}}"),
        (
            "Since the last rollback",
            f"time() - {G['rollback']}{_SCOPE}",
            "{{environment}} {{app}}",
        ),
    ]
    return out


def pipeline_queries() -> list[tuple[str, str, str]]:
    """(panel title, expression, legend) of the pipeline dashboard."""
    scope = _SCOPE
    return [
        ("Deploys per day", f"changes({G['deploy']}{scope}[1d])", "{{environment}} {{app}}"),
        ("Rollbacks per day", f"changes({G['rollback']}{scope}[1d])", "{{environment}} {{app}}"),
        (
            "Rework per day (rollbacks / deploys)",
            f"changes({G['rollback']}{scope}[1d]) / changes({G['deploy']}{scope}[1d])",
            "{{environment}} {{app}}",
        ),
        ("Lead time of the last change", f"{G['lead_time']}{scope}", "{{environment}} {{app}}"),
        ("Pipeline stage duration", f"{G['stage']}{scope}", "{{stage}}"),
        ("Gate results", f"{G['verdict']}{scope} == 1", "{{environment}} {{verdict}}"),
        ("Since the last deploy", f"time() - {G['deploy']}{scope}", "{{environment}} {{app}}"),
    ]


def queries(cfg: config.SloConfig) -> list[str]:
    """Every expression of both dashboards (variables as Grafana writes them)."""
    return [e for _, e, _ in deploy_queries(cfg)] + [e for _, e, _ in pipeline_queries()]


_UNITS = {
    "Since the last rollback": "s",
    "Since the last deploy": "s",
    "Lead time of the last change": "s",
    "Pipeline stage duration": "s",
    "Rework per day (rollbacks / deploys)": "percentunit",
}
_STATS = {"Last verdict", "Gate results", "Since the last deploy", "Since the last rollback"}


def _panels(rows: list[tuple[str, str, str]]) -> list[Any]:
    by_title: dict[str, list[tuple[str, str]]] = {}
    for title, expr, legend in rows:
        by_title.setdefault(title, []).append((expr, legend))
    panels: list[Any] = []
    for title, targets in by_title.items():
        panel: Any = stat.Panel() if title in _STATS else timeseries.Panel()
        panel = panel.title(title).datasource(_DS).height(8).span(12)
        if title in _UNITS:
            panel = panel.unit(_UNITS[title])
        for number, (expr, legend) in enumerate(targets):
            panel = panel.with_target(_target(expr, legend, chr(ord("A") + number)))
        panels.append(panel)
    return panels


def _board(uid: str, title: str, rows: list[tuple[str, str, str]], tags: list[str]) -> str:
    board = (
        dashboard.Dashboard(title)
        .uid(uid)
        .tags(tags)
        .refresh("1m")
        .time("now-7d", "now")
        .timezone("browser")
        .editable()
    )
    board = _annotations(_variables(board))
    for panel in _panels(rows):
        board = board.with_panel(panel)
    return json.dumps(board.build(), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


def render(cfg: config.SloConfig) -> dict[str, str]:
    """Both dashboards, by relative path."""
    slug = monitoring.slug(cfg.name)
    return {
        DEPLOY_DASHBOARD: _board(
            f"gg-deploy-{slug}"[:40],
            f"{cfg.name}: deployments and SLOs",
            deploy_queries(cfg),
            ["gitops-guard", "slo"],
        ),
        PIPELINE_DASHBOARD: _board(
            f"gg-pipeline-{slug}"[:40],
            f"{cfg.name}: delivery pipeline",
            pipeline_queries(),
            ["gitops-guard", "dora"],
        ),
    }
