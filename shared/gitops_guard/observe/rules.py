"""The Prometheus rules rendered from one slo.yaml: burn-rate records and alerts, deploy alerts.

Per burn-rate objective, recording rules of the error ratio over every window and
the SRE workbook's multiwindow alerts; the deployment alerts over the gauges
gitops-guard pushes; ArgoCD's sync failures and apps not Healthy; the staleness
alert; and the pipeline recording rules. :mod:`monitoring` renders them to files,
:mod:`ruletests` writes the promtool unit tests that make each one fire.

Pure: config in, rule dicts out. This module must not write files or query anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitops_guard import durations
from gitops_guard.prometheus import pushgateway
from gitops_guard.slo import burnrate, config

__all__ = [
    "GAUGES",
    "JOB",
    "RATIO",
    "TICKET",
    "Settings",
    "SloRule",
    "alert_groups",
    "burn_alert",
    "deployment_alerts",
    "num",
    "pipeline_records",
    "slo_rules",
]

JOB = pushgateway.JOB
"""The Pushgateway ``job`` of every pushed gauge."""
RATIO = "gitops_guard:slo_error_ratio:rate{window}"
GAUGES = {
    "deploy": pushgateway.DEPLOY,
    "verdict": pushgateway.VERDICT,
    "verdict_at": pushgateway.VERDICT_AT,
    "rollback": pushgateway.ROLLBACK,
    "lead_time": pushgateway.LEAD_TIME,
    "stage": pushgateway.STAGE,
}
"""The last-state gauges a workflow run pushes (labels job, environment, app)."""
TICKET = burnrate.TICKET_WINDOWS


@dataclass(frozen=True)
class Settings:
    """Thresholds of the deployment alerts (``render monitoring`` flags)."""

    rollbacks_per_day: int = 3
    """More rollbacks than this in a day: the pipeline ships broken changes."""
    lead_time_seconds: float = 86400.0
    """A deploy whose change took longer than a day to reach production."""
    pipeline_stage_seconds: float = 1800.0
    """A pipeline stage (promote, verify, rollback) that ran longer than 30 minutes."""
    stale_seconds: float = 7 * 86400.0
    """No push for a week: the workflow stopped reporting (or nobody deploys)."""
    argocd_app: str = ""
    """Only this ArgoCD Application's metrics; empty: every Application."""
    argocd_not_healthy_for: str = "10m"
    """How long an Application may stay not Healthy before the alert fires."""
    namespace: str = "monitoring"
    """Namespace of the PrometheusRule objects."""


@dataclass(frozen=True)
class SloRule:
    """One burn-rate objective, as the rules need it."""

    name: str
    target: float
    errors: str
    total: str
    page: tuple[burnrate.Window, ...]
    ticket: tuple[burnrate.Window, ...]

    @property
    def budget(self) -> float:
        return 1.0 - self.target

    def windows(self) -> list[float]:
        seen: set[float] = set()
        for w in (*self.page, *self.ticket):
            seen.update((w.long_seconds, w.short_seconds))
        return sorted(seen)


def slo_rules(cfg: config.SloConfig) -> list[SloRule]:
    """The burn-rate objectives of an SLO file (others have no budget to burn)."""
    out = []
    for objective in cfg.objectives:
        rate = objective.burn_rate
        if rate is None:
            continue
        page = tuple(
            burnrate.Window(w.long_seconds, w.short_seconds, w.factor) for w in rate.windows
        )
        out.append(SloRule(objective.name, rate.target, rate.errors, rate.total, page, TICKET))
    return out


def _d(seconds: float) -> str:
    return durations.format_duration(seconds)


def num(value: float) -> str:
    """A number as rule text: up to 10 significant digits, no trailing zeros."""
    return f"{value:.10g}"


def _ratio_name(seconds: float) -> str:
    return RATIO.format(window=_d(seconds))


def _recording(rule: SloRule) -> list[dict[str, Any]]:
    return [
        {
            "record": _ratio_name(w),
            "expr": f"(sum(rate({rule.errors}[{_d(w)}])) or vector(0))"
            f" / sum(rate({rule.total}[{_d(w)}]))",
            "labels": {"slo": rule.name},
        }
        for w in rule.windows()
    ]


def burn_alert(rule: SloRule, window: burnrate.Window, severity: str) -> dict[str, Any]:
    threshold = num(window.factor * rule.budget)
    pair = f"{_d(window.long_seconds)}/{_d(window.short_seconds)}"
    sel = f'{{slo="{rule.name}"}}'
    return {
        "alert": "GitopsGuardErrorBudgetBurn",
        "expr": (
            f"{_ratio_name(window.long_seconds)}{sel} > ({num(window.factor)} * {num(rule.budget)})"
            f" and {_ratio_name(window.short_seconds)}{sel} > ({num(window.factor)} * "
            f"{num(rule.budget)})"
        ),
        "labels": {"severity": severity, "burn_window": pair, "slo": rule.name},
        "annotations": {
            "summary": f"SLO {rule.name} burns its error budget {num(window.factor)}x too fast",
            "description": (
                f"The error ratio of {rule.name} is above {threshold} over both {pair} "
                f"(target {num(rule.target)}); at this rate the 30-day budget is gone in "
                f"{_d(30 * 86400 / window.factor)}."
            ),
        },
    }


def _keys(extra: str = "") -> str:
    return "job, environment, app" + (f", {extra}" if extra else "")


_SYNC_FAILED = 'phase=~"Error|Failed"'
_NOT_HEALTHY = 'health_status!="Healthy"'


def _argocd_selector(settings: Settings, extra: str = "") -> str:
    parts = [f'name="{settings.argocd_app}"'] if settings.argocd_app else []
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}"


def deployment_alerts(settings: Settings) -> list[dict[str, Any]]:
    """Alerts over the pushed gauges and ArgoCD's metrics."""
    job = f'job="{JOB}"'
    return [
        {
            "alert": "GitopsGuardGateFailed",
            "expr": f'{GAUGES["verdict"]}{{{job},verdict="fail"}} == 1'
            f" and on ({_keys()}) "
            f"(time() - {GAUGES['verdict_at']}{{{job}}}) < 3600",
            "labels": {"severity": "ticket"},
            "annotations": {
                "summary": "The SLO gate failed a deploy of {{ $labels.app }} "
                "in {{ $labels.environment }}",
                "description": "gitops-guard's last verdict is fail; the deploy is being "
                "(or was) rolled back. The evidence is in the workflow run.",
            },
        },
        {
            "alert": "GitopsGuardRollbackPushed",
            "expr": f"(time() - {GAUGES['rollback']}{{{job}}}) < 900",
            "labels": {"severity": "info"},
            "annotations": {
                "summary": "gitops-guard rolled back {{ $labels.app }} in "
                "{{ $labels.environment }}",
                "description": "A rollback was pushed in the last 15 minutes.",
            },
        },
        {
            "alert": "GitopsGuardRollbackRateHigh",
            "expr": f"changes({GAUGES['rollback']}{{{job}}}[1d]) >= {settings.rollbacks_per_day}",
            "labels": {"severity": "ticket"},
            "annotations": {
                "summary": f"{{{{ $labels.app }}}} was rolled back {settings.rollbacks_per_day} "
                "or more times in a day",
                "description": f"More than {settings.rollbacks_per_day - 1} rollbacks in "
                "24 hours in {{ $labels.environment }}: stop and look at what ships.",
            },
        },
        {
            "alert": "GitopsGuardLeadTimeHigh",
            "expr": f"{GAUGES['lead_time']}{{{job}}} > {num(settings.lead_time_seconds)}",
            "labels": {"severity": "info"},
            "annotations": {
                "summary": "The last change of {{ $labels.app }} took longer than "
                f"{_d(settings.lead_time_seconds)} to reach {{{{ $labels.environment }}}}",
                "description": f"Lead time above {_d(settings.lead_time_seconds)} "
                "(application commit to Synced and Healthy).",
            },
        },
        {
            "alert": "GitopsGuardPipelineSlow",
            "expr": f"{GAUGES['stage']}{{{job}}} > {num(settings.pipeline_stage_seconds)}",
            "labels": {"severity": "info"},
            "annotations": {
                "summary": "Stage {{ $labels.stage }} of {{ $labels.app }} took longer than "
                f"{_d(settings.pipeline_stage_seconds)}",
                "description": f"A pipeline stage ran longer than "
                f"{_d(settings.pipeline_stage_seconds)}.",
            },
        },
        {
            "alert": "ArgoCDSyncFailed",
            "expr": "sum by (name, namespace, project, dest_namespace) (increase("
            f"argocd_app_sync_total{_argocd_selector(settings, _SYNC_FAILED)}"
            "[10m])) > 0",
            "labels": {"severity": "ticket"},
            "annotations": {
                "summary": "ArgoCD failed to sync {{ $labels.name }}",
                "description": "A sync of {{ $labels.name }} ended in Error or Failed in the "
                "last 10 minutes.",
            },
        },
        {
            "alert": "ArgoCDAppNotHealthy",
            "expr": f"argocd_app_info{_argocd_selector(settings, _NOT_HEALTHY)} == 1",
            "for": settings.argocd_not_healthy_for,
            "labels": {"severity": "ticket"},
            "annotations": {
                "summary": "{{ $labels.name }} is {{ $labels.health_status }}",
                "description": f"ArgoCD reports {{{{ $labels.name }}}} not Healthy for "
                f"{settings.argocd_not_healthy_for}.",
            },
        },
        {
            "alert": "GitopsGuardMetricsStale",
            "expr": f"(time() - push_time_seconds{{{job}}}) > {num(settings.stale_seconds)}",
            "labels": {"severity": "info"},
            "annotations": {
                "summary": "gitops-guard has not pushed metrics for {{ $labels.app }} in "
                f"{{{{ $labels.environment }}}} for {_d(settings.stale_seconds)}",
                "description": "The pushed last-state gauges are older than "
                f"{_d(settings.stale_seconds)}: the workflow stopped pushing, or nothing "
                "was deployed.",
            },
        },
    ]


def pipeline_records() -> list[dict[str, Any]]:
    """Recording rules over the pushed gauges (dashboards read these)."""
    job = f'job="{JOB}"'
    return [
        {
            "record": "gitops_guard:deploys:changes1d",
            "expr": f"changes({GAUGES['deploy']}{{{job}}}[1d])",
        },
        {
            "record": "gitops_guard:rollbacks:changes1d",
            "expr": f"changes({GAUGES['rollback']}{{{job}}}[1d])",
        },
        {
            "record": "gitops_guard:lead_time_seconds:max1d",
            "expr": f"max_over_time({GAUGES['lead_time']}{{{job}}}[1d])",
        },
        {
            "record": "gitops_guard:pipeline_stage_duration_seconds:max1d",
            "expr": f"max_over_time({GAUGES['stage']}{{{job}}}[1d])",
        },
        {
            "record": "gitops_guard:seconds_since_last_deploy",
            "expr": f"time() - {GAUGES['deploy']}{{{job}}}",
        },
    ]


def alert_groups(cfg: config.SloConfig, settings: Settings) -> list[dict[str, Any]]:
    """The groups of deployment-alerts.yaml."""
    groups: list[dict[str, Any]] = []
    for rule in slo_rules(cfg):
        groups.append({"name": f"gitops-guard-slo-{rule.name}-ratios", "rules": _recording(rule)})
        alerts = [burn_alert(rule, w, "page") for w in rule.page]
        alerts += [burn_alert(rule, w, "ticket") for w in rule.ticket]
        groups.append({"name": f"gitops-guard-slo-{rule.name}-burn", "rules": alerts})
    groups.append({"name": "gitops-guard-deployments", "rules": deployment_alerts(settings)})
    return groups
