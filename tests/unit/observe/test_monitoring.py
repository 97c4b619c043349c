"""Rendered rules and their synthetic test series (pure).

Covers: the SRE workbook's pairs and thresholds per burn-rate objective (page
14.4x 1h/5m and 6x 6h/30m, ticket 3x 1d/2h and 1x 3d/6h); recording rules one per
window; an SLO file without burn-rate objectives renders only the deployment
alerts; ArgoCD's metric names and an --argocd-app filter; selector parsing and
the synthetic series (errors and good requests for one metric, two metrics, and
selectors it cannot satisfy); the PrometheusRule kind wraps the same groups; the
notification payloads' documented shapes.
"""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from gitops_guard.observe import monitoring, notifications
from gitops_guard.slo import burnrate, config

BURNING = """
name: web
objectives:
  - name: availability
    burnRate:
      target: 0.999
      errors: http_requests_total{app="web",code=~"5.."}
      total: http_requests_total{app="web"}
  - name: latency
    query: histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))
    pass: "<= 500ms"
"""


def _cfg(text: str = BURNING) -> config.SloConfig:
    return config.load_text(text)


def test_workbook_pairs_and_thresholds() -> None:
    groups = monitoring.alert_groups(_cfg(), monitoring.Settings())
    names = [g["name"] for g in groups]
    assert names == [
        "gitops-guard-slo-availability-ratios",
        "gitops-guard-slo-availability-burn",
        "gitops-guard-deployments",
    ]
    records = [r["record"] for r in groups[0]["rules"]]
    assert records == [
        f"gitops_guard:slo_error_ratio:rate{w}" for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
    ]
    alerts = groups[1]["rules"]
    pairs = [(a["labels"]["severity"], a["labels"]["burn_window"]) for a in alerts]
    assert pairs == [
        ("page", "1h/5m"),
        ("page", "6h/30m"),
        ("ticket", "1d/2h"),
        ("ticket", "3d/6h"),
    ]
    assert "> (14.4 * 0.001)" in alerts[0]["expr"]
    assert "> (1 * 0.001)" in alerts[3]["expr"]


def test_no_burn_rate_objectives_still_renders_deployment_alerts() -> None:
    cfg = _cfg("name: web\nobjectives:\n  - name: a\n    query: up\n    pass: '>= 1'\n")
    [group] = monitoring.alert_groups(cfg, monitoring.Settings())
    assert {r["alert"] for r in group["rules"]} >= {
        "GitopsGuardGateFailed",
        "ArgoCDSyncFailed",
        "ArgoCDAppNotHealthy",
        "GitopsGuardMetricsStale",
    }


def test_argocd_names_and_app_filter() -> None:
    rules = {
        r["alert"]: r for r in monitoring.deployment_alerts(monitoring.Settings(argocd_app="web"))
    }
    assert (
        'argocd_app_sync_total{name="web",phase=~"Error|Failed"}'
        in rules["ArgoCDSyncFailed"]["expr"]
    )
    assert (
        'argocd_app_info{name="web",health_status!="Healthy"}'
        in rules["ArgoCDAppNotHealthy"]["expr"]
    )
    assert rules["ArgoCDAppNotHealthy"]["for"] == "10m"
    everyone = {r["alert"]: r for r in monitoring.deployment_alerts(monitoring.Settings())}
    assert 'argocd_app_sync_total{phase=~"Error|Failed"}' in everyone["ArgoCDSyncFailed"]["expr"]


@pytest.mark.parametrize(
    ("selector", "parsed"),
    [
        ('m{a="1",b=~"5.."}', ("m", [("a", "=", "1"), ("b", "=~", "5..")])),
        ("m", ("m", [])),
        ('m{a!="x"}', ("m", [("a", "!=", "x")])),
        ("sum(rate(m[5m]))", None),
        ('{a="1"}', None),
    ],
)
def test_parse_selector(selector: str, parsed: object) -> None:
    assert monitoring.parse_selector(selector) == parsed


def _rule(errors: str, total: str) -> monitoring.SloRule:
    return monitoring.SloRule(
        "x", 0.99, errors, total, burnrate.PAGE_WINDOWS, burnrate.TICKET_WINDOWS
    )


def test_burn_series_one_metric() -> None:
    series = monitoring.burn_series(_rule('r{app="w",code=~"5.."}', 'r{app="w"}'))
    assert series == [('r{app="w",code="500"}', "300"), ('r{app="w",code="200"}', "300")]


def test_burn_series_two_metrics() -> None:
    series = monitoring.burn_series(_rule('errors_total{app="w"}', 'requests_total{app="w"}'))
    assert series == [('errors_total{app="w"}', "300"), ('requests_total{app="w"}', "600")]


@pytest.mark.parametrize(
    ("errors", "total"),
    [('r{code=~"[xyz]{9}"}', "r"), ("sum(r)", "r"), ('r{code="500"}', 'r{code="200"}')],
)
def test_burn_series_gives_up_cleanly(errors: str, total: str) -> None:
    assert monitoring.burn_series(_rule(errors, total)) is None


def test_prometheusrule_wraps_the_same_groups() -> None:
    files = monitoring.render(_cfg(), monitoring.Settings(namespace="obs"))
    yaml = YAML(typ="safe")
    plain = yaml.load(files[monitoring.PATHS["alerts"]])
    crd = yaml.load(files[monitoring.PATHS["alerts_crd"]])
    assert crd["kind"] == "PrometheusRule" and crd["metadata"]["namespace"] == "obs"
    assert crd["spec"]["groups"] == plain["groups"]
    tests = yaml.load(files[monitoring.PATHS["tests"]])
    assert tests["rule_files"] == ["deployment-alerts.yaml"]


def test_payloads_have_each_services_shape() -> None:
    event = notifications.Event(
        "rollback",
        "production",
        "success",
        "rolled back to web:1.3",
        app="web",
        image="web:1.3",
        commit="b" * 40,
        run_url="https://github.com/a/b/actions/runs/1",
    )
    slack = notifications.slack(event)
    assert slack["text"].startswith("✅ gitops-guard rollback of web in production: success")
    assert slack["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": event.title},
    }
    teams = notifications.teams(event)
    card = teams["attachments"][0]["content"]
    assert card["actions"][0] == {
        "type": "Action.OpenUrl",
        "title": "Workflow run",
        "url": event.run_url,
    }
    hook = notifications.webhook(event)
    assert hook["event"] == "rollback" and hook["verdict"] is None
    assert notifications.send(event, environ={}) == {}
