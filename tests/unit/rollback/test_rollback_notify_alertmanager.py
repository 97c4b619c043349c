"""Notification text and the Alertmanager client (through httpx.MockTransport).

- the message says what was rolled back, why, and links the evidence; dry runs say "would"
- the webhook is skipped without SLACK_WEBHOOK_URL
- alerts() sends active/silenced/inhibited and one filter per label, parses gettableAlerts
- 401 is ConfigError naming ALERTMANAGER_TOKEN; 503 retried then DependencyUnavailable;
  a non-list answer is DependencyUnavailable
"""

from __future__ import annotations

import httpx
import pytest

from gitops_guard import errors, notify
from gitops_guard.prometheus import alertmanager


def test_message_text_and_markdown() -> None:
    msg = notify.compose(
        app="web",
        moves=[("ghcr.io/acme/web:2", "ghcr.io/acme/web:1")],
        why="slo-gate failed: error-ratio",
        rollback_sha="f" * 40,
        pull_request_url="https://github.com/acme/gitops/pull/7",
        run_url="https://github.com/acme/app/actions/runs/9",
    )
    text = msg.text()
    assert "rolled back web" in text
    assert "ghcr.io/acme/web:2 -> ghcr.io/acme/web:1" in text
    assert "<https://github.com/acme/app/actions/runs/9|run>" in text
    assert "Why: slo-gate failed" in msg.markdown().replace("**", "")
    dry = notify.compose(app="web", moves=[], why="x", dry_run=True)
    assert "would roll back" in dry.title


def test_webhook_without_url_sends_nothing() -> None:
    assert notify.send_webhook(notify.compose(app="w", moves=[], why="x")) is False


ALERTS = [
    {
        "labels": {"alertname": "HighErrorRate", "app": "web"},
        "annotations": {"summary": "errors"},
        "startsAt": "2026-11-26T06:00:00.000Z",
        "endsAt": "2026-11-26T07:00:00.000Z",
        "updatedAt": "2026-11-26T06:00:01.000Z",
        "generatorURL": "http://prometheus/graph",
        "fingerprint": "abc123",
        "receivers": [{"name": "default"}],
        "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
    }
]


def test_alerts_request_and_parse() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=ALERTS)

    client = alertmanager.AlertmanagerClient(
        "http://am.invalid", transport=httpx.MockTransport(handler)
    )
    (alert,) = client.alerts(matchers={"alertname": "HighErrorRate", "app": "web"})
    assert alert.name == "HighErrorRate"
    assert alert.describe() == 'HighErrorRate{app="web"}'
    assert alert.state == "active"
    params = seen[0].url.params
    assert params.get_list("filter") == ['alertname="HighErrorRate"', 'app="web"']
    assert params["active"] == "true" and params["silenced"] == "false"


def test_alertmanager_errors() -> None:
    calls = {"n": 0}

    def unauthorized(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401)

    def unavailable(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        return httpx.Response(503)

    def not_a_list(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": "success"})

    with pytest.raises(errors.ConfigError) as caught:
        alertmanager.AlertmanagerClient(
            "http://am.invalid", transport=httpx.MockTransport(unauthorized)
        ).alerts()
    assert caught.value.source == "ALERTMANAGER_TOKEN"
    with pytest.raises(errors.DependencyUnavailable):
        alertmanager.AlertmanagerClient(
            "http://am.invalid", attempts=2, transport=httpx.MockTransport(unavailable)
        ).alerts()
    assert calls["n"] == 2
    with pytest.raises(errors.DependencyUnavailable):
        alertmanager.AlertmanagerClient(
            "http://am.invalid", transport=httpx.MockTransport(not_a_list)
        ).alerts()
