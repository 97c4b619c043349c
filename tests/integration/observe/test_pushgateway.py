"""Last-state gauges through Debian's real Pushgateway, scraped by the real Prometheus.

Covers: PUT to the explicit grouping key job/environment/app, no timestamps; the
verdict gauge is 1 for the verdict that holds and 0 for the others; a later push
replaces the verdict and keeps the gauges it does not know (a rollback run keeps
the last deploy time); values with '/' travel base64-encoded; Prometheus with
honor_labels sees the pushed job; an unreachable Pushgateway is exit-3 material
(DependencyUnavailable), never a crash; the exposition text (pure).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gitops_guard import errors
from gitops_guard.prometheus import pushgateway
from gitops_guard_lab import promstack

pytestmark = pytest.mark.skipif(
    not all(promstack.available().values()), reason="Prometheus/Pushgateway not installed"
)


def test_exposition_has_no_timestamps() -> None:
    text = pushgateway.exposition(
        pushgateway.LastState(deploy_at=100.0, verdict="warn", stage_seconds={"verify": 42.5})
    )
    assert 'gitops_guard_last_verdict{verdict="warn"} 1.0' in text
    assert 'gitops_guard_last_verdict{verdict="fail"} 0.0' in text
    assert 'gitops_guard_pipeline_stage_duration_seconds{stage="verify"} 42.5' in text
    for line in text.splitlines():
        if not line.startswith("#"):
            assert len(line.split()) == 2, line  # name{labels} value: no timestamp
    assert pushgateway.group_path(job="j", environment="eu/prod", app="web") == (
        "/metrics/job/j/environment@base64/ZXUvcHJvZA==/app/web"
    )


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[promstack.Server, promstack.Server]]:
    with promstack.start_pushgateway() as gateway:
        host = gateway.url.split("://", 1)[1]
        scrape = (
            "  - job_name: pushgateway\n"
            "    honor_labels: true\n"
            "    scrape_interval: 1s\n"
            f"    static_configs: [{{targets: ['{host}']}}]\n"
        )
        text = promstack.prometheus_config(scrape_interval="1s", extra_scrape_configs=scrape)
        with promstack.start_prometheus(config_text=text) as prometheus:
            yield gateway, prometheus


def _query(url: str, expr: str, want: int, timeout: float = 20) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    result: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        body = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=5).json()
        result = body["data"]["result"]
        if len(result) == want:
            return result
        time.sleep(0.5)
    raise AssertionError(f"{expr}: {result}")


PROD_DEPLOY = 'gitops_guard_last_deploy_timestamp_seconds{environment="production"}'


def test_push_replace_and_keep(stack: tuple[promstack.Server, promstack.Server]) -> None:
    gateway, prometheus = stack
    settings = pushgateway.PushSettings(url=gateway.url)
    pushgateway.push(
        pushgateway.LastState(
            deploy_at=1000.0, verdict="fail", verdict_at=1100.0, lead_time_seconds=900
        ),
        environment="production",
        app="web",
        settings=settings,
    )
    [fail] = _query(prometheus.url, 'gitops_guard_last_verdict{verdict="fail"} == 1', 1)
    assert fail["metric"]["job"] == "gitops-guard"  # honor_labels: the pushed job wins
    assert fail["metric"]["environment"] == "production" and fail["metric"]["app"] == "web"
    # a rollback run knows only the rollback and its verdict-less state
    merged = pushgateway.push(
        pushgateway.LastState(rollback_at=1200.0, stage_seconds={"rollback": 30.0}),
        environment="production",
        app="web",
        settings=settings,
    )
    assert merged.deploy_at == 1000.0 and merged.verdict == "fail"
    _query(prometheus.url, "gitops_guard_last_rollback_timestamp_seconds == 1200", 1)
    [deploy] = _query(prometheus.url, PROD_DEPLOY, 1)
    assert float(deploy["value"][1]) == 1000.0
    # the next deploy passes: the verdict flips, fail goes to 0
    pushgateway.push(
        pushgateway.LastState(deploy_at=2000.0, verdict="pass", verdict_at=2100.0),
        environment="production",
        app="web",
        settings=settings,
    )
    _query(prometheus.url, 'gitops_guard_last_verdict{verdict="pass"} == 1', 1)
    _query(prometheus.url, 'gitops_guard_last_verdict{verdict="fail"} == 1', 0)
    # another environment is another group
    pushgateway.push(
        pushgateway.LastState(deploy_at=5.0), environment="eu/staging", app="web", settings=settings
    )
    _query(
        prometheus.url, 'gitops_guard_last_deploy_timestamp_seconds{environment="eu/staging"}', 1
    )
    groups = httpx.get(f"{gateway.url}/api/v1/metrics", timeout=5).json()["data"]
    ours = {
        g["labels"].get("environment") for g in groups if g["labels"].get("job") == "gitops-guard"
    }
    assert ours == {"production", "eu/staging"}


def test_unreachable_pushgateway() -> None:
    url = f"http://127.0.0.1:{promstack.free_port()}"
    settings = pushgateway.PushSettings(url=url, deadline_seconds=2)
    with pytest.raises(errors.DependencyUnavailable, match="Pushgateway"):
        pushgateway.push(
            pushgateway.LastState(deploy_at=1.0), environment="p", app="a", settings=settings
        )
