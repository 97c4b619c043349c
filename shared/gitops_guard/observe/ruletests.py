"""promtool unit tests for the rendered rules: synthetic series that make every alert fire.

:func:`unit_tests` builds ``deployment-alerts.test.yaml`` (each burn-rate alert,
from series that satisfy the objective's selectors, and each deployment alert),
:func:`stale_tests` the staleness alert's; only promtool 2.42 features are used.

Pure: config in, test dicts out. This module must not write files or run promtool.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from gitops_guard import durations
from gitops_guard.observe import rules
from gitops_guard.slo import config

__all__ = ["burn_series", "parse_duration_minutes", "parse_selector", "stale_tests", "unit_tests"]

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


def burn_series(rule: rules.SloRule) -> list[tuple[str, str]] | None:
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


def unit_tests(cfg: config.SloConfig, settings: rules.Settings, rule_file: str) -> dict[str, Any]:
    """``promtool test rules`` tests: every alert fires on its synthetic series."""
    keys = {"job": rules.JOB, "environment": "production", "app": "web"}
    app = settings.argocd_app or "web"
    argo = {"name": app, "namespace": "argocd", "project": "default", "dest_namespace": "web"}
    health = {**argo, "health_status": "Degraded", "sync_status": "Synced"}
    stage = {**keys, "stage": "verify"}
    alerts = {a["alert"]: a for a in rules.deployment_alerts(settings)}
    lead = rules.num(settings.lead_time_seconds + 3600)
    slow = rules.num(settings.pipeline_stage_seconds + 60)
    inputs = [
        (_series(rules.GAUGES["verdict"], {**keys, "verdict": "fail"}), "1x20"),
        (_series(rules.GAUGES["verdict_at"], keys), "60x20"),
        (
            _series(rules.GAUGES["rollback"], keys),
            " ".join(str(60 * (i + 1)) for i in range(settings.rollbacks_per_day + 1))
            + " "
            + f"{60 * (settings.rollbacks_per_day + 1)}x20",
        ),
        (_series(rules.GAUGES["lead_time"], keys), f"{lead}x20"),
        (_series(rules.GAUGES["stage"], stage), f"{slow}x20"),
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
    for rule in rules.slo_rules(cfg):
        series = burn_series(rule)
        if series is None:
            continue
        expected = [
            _expect(rules.burn_alert(rule, w, severity), {"slo": rule.name})
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


def stale_tests(settings: rules.Settings, rule_file: str) -> dict[str, Any]:
    """The staleness alert's test, evaluated hourly (minutely would cost a minute)."""
    keys = {"job": rules.JOB, "environment": "production", "app": "web"}
    alerts = {a["alert"]: a for a in rules.deployment_alerts(settings)}
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
