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

Pure: config in, text out. This module must not write files or query anything.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML

from gitops_guard import durations
from gitops_guard.prometheus import pushgateway
from gitops_guard.slo import burnrate, config

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
PATHS = {
    "alerts": "monitoring/deployment-alerts.yaml",
    "alerts_crd": "monitoring/deployment-alerts.prometheusrule.yaml",
    "pipeline": "monitoring/pipeline-metrics.yaml",
    "pipeline_crd": "monitoring/pipeline-metrics.prometheusrule.yaml",
    "tests": "monitoring/deployment-alerts.test.yaml",
    "stale_tests": "monitoring/deployment-alerts.stale.test.yaml",
    "queries": "monitoring/pipeline-queries.md",
}


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


def _n(value: float) -> str:
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


def _burn_alert(rule: SloRule, window: burnrate.Window, severity: str) -> dict[str, Any]:
    threshold = _n(window.factor * rule.budget)
    pair = f"{_d(window.long_seconds)}/{_d(window.short_seconds)}"
    sel = f'{{slo="{rule.name}"}}'
    return {
        "alert": "GitopsGuardErrorBudgetBurn",
        "expr": (
            f"{_ratio_name(window.long_seconds)}{sel} > ({_n(window.factor)} * {_n(rule.budget)})"
            f" and {_ratio_name(window.short_seconds)}{sel} > ({_n(window.factor)} * "
            f"{_n(rule.budget)})"
        ),
        "labels": {"severity": severity, "burn_window": pair, "slo": rule.name},
        "annotations": {
            "summary": f"SLO {rule.name} burns its error budget {_n(window.factor)}x too fast",
            "description": (
                f"The error ratio of {rule.name} is above {threshold} over both {pair} "
                f"(target {_n(rule.target)}); at this rate the 30-day budget is gone in "
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
            "expr": f"{GAUGES['lead_time']}{{{job}}} > {_n(settings.lead_time_seconds)}",
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
            "expr": f"{GAUGES['stage']}{{{job}}} > {_n(settings.pipeline_stage_seconds)}",
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
            "expr": f"(time() - push_time_seconds{{{job}}}) > {_n(settings.stale_seconds)}",
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
        alerts = [_burn_alert(rule, w, "page") for w in rule.page]
        alerts += [_burn_alert(rule, w, "ticket") for w in rule.ticket]
        groups.append({"name": f"gitops-guard-slo-{rule.name}-burn", "rules": alerts})
    groups.append({"name": "gitops-guard-deployments", "rules": deployment_alerts(settings)})
    return groups


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


# ---------------------------------------------------------------- promtool unit tests
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?')
_SELECTOR = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(?:\{(.*)\})?\s*$", re.S)
_BAD = ("500", "503", "5xx", "error", "failure", "failed", "true", "1", "timeout", "x")
_GOOD = ("200", "2xx", "ok", "success", "false", "0", "y")

Matcher = tuple[str, str, str]


def parse_selector(text: str) -> tuple[str, list[Matcher]] | None:
    """``metric{l="v", ...}`` -> (metric, matchers); None for anything more complex."""
    found = _SELECTOR.match(text)
    if not found or not found.group(1):
        return None
    body = found.group(2) or ""
    matchers: list[Matcher] = []
    pos = 0
    while pos < len(body):
        m = _MATCHER.match(body, pos)
        if not m:
            return None
        matchers.append((m.group(1), m.group(2), m.group(3).replace('\\"', '"')))
        pos = m.end()
    return found.group(1), matchers


def _ok(matcher: Matcher, value: str) -> bool:
    _, op, want = matcher
    if op == "=":
        return value == want
    if op == "!=":
        return value != want
    hit = re.fullmatch(want, value) is not None
    return hit if op == "=~" else not hit


def _satisfy(matchers: Sequence[Matcher], labels: dict[str, str], pool: Sequence[str]) -> bool:
    for matcher in matchers:
        name, op, want = matcher
        current = labels.get(name, "")
        if _ok(matcher, current):
            continue
        if name in labels:
            return False
        choice = want if op == "=" else next((v for v in pool if _ok(matcher, v)), None)
        if choice is None:
            return False
        labels[name] = choice
    return all(_ok(m, labels.get(m[0], "")) for m in matchers)


def _series(metric: str, labels: Mapping[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if v != "")
    return f"{metric}{{{inner}}}"


def burn_series(rule: SloRule) -> list[tuple[str, str]] | None:
    """Input series (selector, per-minute increase) that give an error ratio of 1/2."""
    errors, total = parse_selector(rule.errors), parse_selector(rule.total)
    if errors is None or total is None:
        return None
    bad: dict[str, str] = {}
    if not _satisfy(errors[1], bad, _BAD):
        return None
    if errors[0] != total[0]:
        good: dict[str, str] = {}
        if not _satisfy(total[1], good, _GOOD):
            return None
        return [(_series(errors[0], bad), "300"), (_series(total[0], good), "600")]
    if not _satisfy(total[1], bad, _BAD):
        return None
    good = dict(bad)
    for matcher in errors[1]:
        if matcher[0] in {m[0] for m in total[1]}:
            continue
        flip = next((v for v in _GOOD if not _ok(matcher, v)), None)
        if flip is None:
            return None
        good[matcher[0]] = flip
    if _satisfy(errors[1], dict(good), ()) or not _satisfy(total[1], good, ()):
        return None
    return [(_series(errors[0], bad), "300"), (_series(total[0], good), "300")]


def _expect(alert: Mapping[str, Any], labels: Mapping[str, str]) -> dict[str, Any]:
    every = {**labels, **alert.get("labels", {})}

    def fill(text: str) -> str:
        return re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: every.get(m.group(1), ""), text)

    return {
        "exp_labels": every,
        "exp_annotations": {k: fill(v) for k, v in alert.get("annotations", {}).items()},
    }


def unit_tests(cfg: config.SloConfig, settings: Settings, rule_file: str) -> dict[str, Any]:
    """``promtool test rules`` tests: every alert fires on its synthetic series."""
    keys = {"job": JOB, "environment": "production", "app": "web"}
    app = settings.argocd_app or "web"
    argo = {"name": app, "namespace": "argocd", "project": "default", "dest_namespace": "web"}
    health = {**argo, "health_status": "Degraded", "sync_status": "Synced"}
    stage = {**keys, "stage": "verify"}
    alerts = {a["alert"]: a for a in deployment_alerts(settings)}
    lead = _n(settings.lead_time_seconds + 3600)
    slow = _n(settings.pipeline_stage_seconds + 60)
    inputs = [
        (_series(GAUGES["verdict"], {**keys, "verdict": "fail"}), "1x20"),
        (_series(GAUGES["verdict_at"], keys), "60x20"),
        (
            _series(GAUGES["rollback"], keys),
            " ".join(str(60 * (i + 1)) for i in range(settings.rollbacks_per_day + 1))
            + " "
            + f"{60 * (settings.rollbacks_per_day + 1)}x20",
        ),
        (_series(GAUGES["lead_time"], keys), f"{lead}x20"),
        (_series(GAUGES["stage"], stage), f"{slow}x20"),
        (_series("argocd_app_sync_total", {**argo, "phase": "Failed"}), "0 0 1x18"),
        (_series("argocd_app_info", health), "1x20"),
        (_series("push_time_seconds", keys), "60x20"),
    ]
    at_10m = [
        {"eval_time": "10m", "alertname": name, "exp_alerts": [_expect(alerts[name], labels)]}
        for name, labels in (
            ("GitopsGuardGateFailed", {**keys, "verdict": "fail"}),
            ("GitopsGuardRollbackPushed", keys),
            ("GitopsGuardLeadTimeHigh", keys),
            ("GitopsGuardPipelineSlow", stage),
            (
                "ArgoCDSyncFailed",
                {k: argo[k] for k in ("name", "namespace", "project", "dest_namespace")},
            ),
        )
    ]
    at_10m.append(
        {
            "eval_time": f"{settings.rollbacks_per_day + 2}m",
            "alertname": "GitopsGuardRollbackRateHigh",
            "exp_alerts": [_expect(alerts["GitopsGuardRollbackRateHigh"], keys)],
        }
    )
    quiet = parse_duration_minutes(settings.argocd_not_healthy_for)
    at_10m += [
        {
            "eval_time": f"{max(quiet - 2, 1)}m",
            "alertname": "ArgoCDAppNotHealthy",
            "exp_alerts": [],
        },
        {
            "eval_time": f"{quiet + 2}m",
            "alertname": "ArgoCDAppNotHealthy",
            "exp_alerts": [_expect(alerts["ArgoCDAppNotHealthy"], health)],
        },
        {"eval_time": "10m", "alertname": "GitopsGuardMetricsStale", "exp_alerts": []},
    ]
    tests: list[dict[str, Any]] = [
        {
            "name": "deployment alerts fire on the pushed gauges and ArgoCD's metrics",
            "interval": "1m",
            "input_series": [{"series": s, "values": v} for s, v in inputs],
            "alert_rule_test": at_10m,
        },
    ]
    for rule in slo_rules(cfg):
        series = burn_series(rule)
        if series is None:
            continue
        expected = [
            _expect(_burn_alert(rule, w, severity), {"slo": rule.name})
            for severity, windows in (("page", rule.page), ("ticket", rule.ticket))
            for w in windows
            if w.factor * rule.budget < 0.5
        ]
        tests.append(
            {
                "name": f"{rule.name}: half the requests fail, every window burns",
                "interval": "1m",
                "input_series": [{"series": s, "values": f"0+{step}x70"} for s, step in series],
                "alert_rule_test": [
                    {
                        "eval_time": "65m",
                        "alertname": "GitopsGuardErrorBudgetBurn",
                        "exp_alerts": expected,
                    },
                    {
                        "eval_time": "0m",
                        "alertname": "GitopsGuardErrorBudgetBurn",
                        "exp_alerts": [],
                    },
                ],
            }
        )
    return {"rule_files": [rule_file], "evaluation_interval": "1m", "tests": tests}


def stale_tests(settings: Settings, rule_file: str) -> dict[str, Any]:
    """The staleness alert's test, evaluated hourly (minutely would cost a minute)."""
    keys = {"job": JOB, "environment": "production", "app": "web"}
    alerts = {a["alert"]: a for a in deployment_alerts(settings)}
    hours = int(settings.stale_seconds // 3600) + 2
    tests = [
        {
            "name": "pushed gauges older than the staleness limit",
            "interval": "1h",
            "input_series": [
                {"series": _series("push_time_seconds", keys), "values": f"0x{hours + 2}"}
            ],
            "alert_rule_test": [
                {
                    "eval_time": f"{hours}h",
                    "alertname": "GitopsGuardMetricsStale",
                    "exp_alerts": [_expect(alerts["GitopsGuardMetricsStale"], keys)],
                }
            ],
        },
    ]
    return {"rule_files": [rule_file], "evaluation_interval": "1h", "tests": tests}


def parse_duration_minutes(text: str) -> int:
    """Whole minutes of a Prometheus duration (rounded up)."""
    seconds = durations.parse_duration(text)
    return max(1, int(-(-seconds // 60)))


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
