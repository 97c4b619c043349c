"""gitops_guard_lab.promstack: the real Prometheus, Alertmanager and Pushgateway.

Behaviours covered:
- Alertmanager starts on a free loopback port; an alert POSTed to /api/v2/alerts
  reads back with GET; stop() ends the process and removes its temp directory;
- Pushgateway accepts a pushed metric and serves it on /metrics;
- Prometheus scrapes a target every second (the Pushgateway here), and queries see it;
- backfill() refuses malformed OpenMetrics with an InputError showing promtool's message;
- a server that cannot start reports its log in a DependencyUnavailable.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from gitops_guard import errors
from gitops_guard.prometheus import client as prom
from gitops_guard_lab import promstack

pytestmark = pytest.mark.skipif(
    not all(promstack.available().values()), reason="Prometheus packages are not installed"
)


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return bytes(response.read())


def test_alertmanager_accepts_and_lists_alerts() -> None:
    with promstack.start_alertmanager() as am:
        assert am.url.startswith("http://127.0.0.1:")
        alert = [{"labels": {"alertname": "HighErrorRate", "app": "web"}}]
        request = urllib.request.Request(
            f"{am.url}/api/v2/alerts",
            data=json.dumps(alert).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        listed = json.loads(_get(f"{am.url}/api/v2/alerts"))
        assert [a["labels"]["alertname"] for a in listed] == ["HighErrorRate"]
        workdir = am.workdir
    assert am.process.poll() is not None
    assert not workdir.exists()


def test_prometheus_scrapes_a_pushgateway_every_second() -> None:
    with promstack.start_pushgateway() as gateway:
        request = urllib.request.Request(
            f"{gateway.url}/metrics/job/deploy",
            data=b"deploys_total 3\n",
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        assert b"deploys_total" in _get(f"{gateway.url}/metrics")
        target = gateway.url.removeprefix("http://")
        with (
            promstack.start_prometheus(scrape_targets=[target], scrape_interval="1s") as server,
            prom.PrometheusClient(server.url) as client,
        ):
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                result = client.query("deploys_total")
                if not result.empty:
                    break
                time.sleep(0.2)
            assert result.series[0].samples[0].value == 3.0
            assert result.series[0].labels["exported_job"] == "deploy"


def test_backfill_refuses_malformed_text(tmp_path: Path) -> None:
    with pytest.raises(errors.InputError) as info:
        promstack.backfill("not { valid openmetrics\n", tmp_path / "data")
    assert info.value.hint


def test_failed_start_reports_the_log(tmp_path: Path) -> None:
    with pytest.raises(errors.DependencyUnavailable) as info:
        promstack.start_prometheus(config_text="global: [not, a, mapping]\n")
    assert "exited" in info.value.message
    assert info.value.hint and "The end of its log" in info.value.hint
    assert "config" in info.value.hint.lower()
