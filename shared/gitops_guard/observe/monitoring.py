"""Prometheus rules, their promtool unit tests and the query guide, from one slo.yaml.

``render(config, settings)`` returns ``{relative path: text}``:

* ``monitoring/deployment-alerts.yaml``: per burn-rate objective, recording rules of
  the error ratio over every window and the SRE workbook's multiwindow alerts
  (14.4x over 1h and 5m, 6x over 6h and 30m: page; 3x over 1d and 2h, 1x over 3d and
  6h: ticket); the deployment alerts over the gauges gitops-guard pushes (gate
  failed, rollback pushed, rollbacks per day, lead time, pipeline stage duration);
  ArgoCD's sync failures (``argocd_app_sync_total{phase=~"Error|Failed"}``) and apps
  not Healthy (``argocd_app_info``), with ArgoCD 3.x label names; and a staleness
  alert on the Pushgateway's ``push_time_seconds`` for gitops-guard's group;
* ``monitoring/pipeline-metrics.yaml``: recording rules over the pushed gauges;
* each of those again as a ``monitoring.coreos.com/v1`` ``PrometheusRule``
  (``*.prometheusrule.yaml``) for the Prometheus Operator;
* ``monitoring/deployment-alerts.test.yaml``: ``promtool test rules`` unit tests
  that make every alert fire on synthetic series (promtool 2.42 features only);
* ``monitoring/pipeline-queries.md``: every query, what it answers.

Every alert expression reads recorded series (one per objective and window) or
one gauge per (job, environment, app): a handful of series, however many pods.

The rules are built in :mod:`rules`, their tests in :mod:`ruletests`; every name
stays importable from here.

Pure: config in, text out. This module must not write files or query anything.
"""

from __future__ import annotations

import io
import re
from typing import Any

from ruamel.yaml import YAML

from gitops_guard.observe.rules import (
    GAUGES,
    JOB,
    RATIO,
    TICKET,
    Settings,
    SloRule,
    alert_groups,
    deployment_alerts,
    pipeline_records,
    slo_rules,
)
from gitops_guard.observe.ruletests import (
    burn_series,
    parse_duration_minutes,
    parse_selector,
    stale_tests,
    unit_tests,
)
from gitops_guard.slo import config

__all__ = [
    "GAUGES",
    "JOB",
    "PATHS",
    "RATIO",
    "TICKET",
    "Settings",
    "SloRule",
    "alert_groups",
    "burn_series",
    "deployment_alerts",
    "parse_duration_minutes",
    "parse_selector",
    "pipeline_records",
    "queries_markdown",
    "render",
    "slo_rules",
    "slug",
    "stale_tests",
    "unit_tests",
]

PATHS = {
    "alerts": "monitoring/deployment-alerts.yaml",
    "alerts_crd": "monitoring/deployment-alerts.prometheusrule.yaml",
    "pipeline": "monitoring/pipeline-metrics.yaml",
    "pipeline_crd": "monitoring/pipeline-metrics.prometheusrule.yaml",
    "tests": "monitoring/deployment-alerts.test.yaml",
    "stale_tests": "monitoring/deployment-alerts.stale.test.yaml",
    "queries": "monitoring/pipeline-queries.md",
}


# ---------------------------------------------------------------- YAML
def _yaml(data: Any) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    buf = io.StringIO()
    yaml.dump(data, buf)
    return buf.getvalue()


def _header(cfg: config.SloConfig, what: str) -> str:
    return (
        f"# {what}\n# Rendered by `gitops-guard render monitoring` from the SLO file "
        f"'{cfg.name}'; edit the SLO file and render again rather than this file.\n"
    )


def _crd(name: str, groups: list[dict[str, Any]], settings: Settings) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": name,
            "namespace": settings.namespace,
            "labels": {"app.kubernetes.io/managed-by": "gitops-guard"},
        },
        "spec": {"groups": groups},
    }


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-") or "slo"


# ---------------------------------------------------------------- the query guide
def queries_markdown(cfg: config.SloConfig, settings: Settings) -> str:
    """monitoring/pipeline-queries.md: every rule's query and what it answers."""
    lines = [
        f"# Pipeline and deployment queries ({cfg.name})",
        "",
        "Rendered by `gitops-guard render monitoring`; see docs/observability.md.",
        "The gauges are pushed by each workflow run to the Pushgateway with the grouping",
        f'key job="{JOB}", environment, app; Prometheus scrapes it with',
        "`honor_labels: true`.",
        "",
        "## Alerts",
        "",
    ]
    for group in alert_groups(cfg, settings):
        for rule in group["rules"]:
            name = rule.get("alert") or rule.get("record")
            what = rule.get("annotations", {}).get("summary", "recorded series")
            lines += [f"### {name}", "", what, "", "```promql", rule["expr"], "```", ""]
    lines += ["## Recording rules (pipeline-metrics.yaml)", ""]
    for rule in pipeline_records():
        lines += [f"### {rule['record']}", "", "```promql", rule["expr"], "```", ""]
    return "\n".join(lines)


def render(cfg: config.SloConfig, settings: Settings | None = None) -> dict[str, str]:
    """Every file of ``render monitoring --out DIR``, by relative path."""
    settings = settings or Settings()
    groups = alert_groups(cfg, settings)
    pipeline = [{"name": "gitops-guard-pipeline", "interval": "1m", "rules": pipeline_records()}]
    name = slug(cfg.name)
    alerts_head = _header(cfg, "Deployment and SLO alerts (Prometheus rule file).")
    pipeline_head = _header(cfg, "Pipeline recording rules (Prometheus rule file).")
    return {
        PATHS["alerts"]: alerts_head + _yaml({"groups": groups}),
        PATHS["alerts_crd"]: alerts_head
        + _yaml(_crd(f"{name}-deployment-alerts", groups, settings)),
        PATHS["pipeline"]: pipeline_head + _yaml({"groups": pipeline}),
        PATHS["pipeline_crd"]: pipeline_head
        + _yaml(_crd(f"{name}-pipeline-metrics", pipeline, settings)),
        PATHS["tests"]: _header(cfg, "promtool test rules deployment-alerts.test.yaml")
        + _yaml(unit_tests(cfg, settings, "deployment-alerts.yaml")),
        PATHS["stale_tests"]: _header(cfg, "promtool test rules deployment-alerts.stale.test.yaml")
        + _yaml(stale_tests(settings, "deployment-alerts.yaml")),
        PATHS["queries"]: queries_markdown(cfg, settings) + "\n",
    }
