"""`gitops-guard render monitoring` checked by promtool and the real Prometheus.

Covers: every rendered rule file (plain, and the PrometheusRule's spec) passes
``promtool check rules``; the generated unit tests pass ``promtool test rules``
and fail when an expectation is wrong; an SLO file without burn-rate objectives
still renders the deployment alerts; examples/monitoring is the rendered copy of
its slo.yaml; bad input is exit 2 with nothing written; the real Prometheus loads
the rules and fires the page alert of the burning objective (not the healthy one)
and the gate alert on a backfilled scenario; recorded series stay at one per
objective and window; every dashboard query runs against that Prometheus.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from ruamel.yaml import YAML

from gitops_guard import cli, durations
from gitops_guard.observe import dashboards, monitoring
from gitops_guard.slo import config
from gitops_guard_lab import promstack

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "monitoring"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed")


def _render(out: Path, config_file: Path = EXAMPLE / "slo.yaml", *extra: str) -> int:
    return cli.main(
        ["render", "monitoring", "--config", str(config_file), "--out", str(out), *extra]
    )


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


@needs_promtool
@pytest.mark.parametrize("slo_file", [EXAMPLE / "slo.yaml", ROOT / "examples" / "slo.yaml"])
def test_rules_pass_promtool(tmp_path: Path, slo_file: Path) -> None:
    assert _render(tmp_path, slo_file) == 0
    mon = tmp_path / "monitoring"
    yaml = YAML(typ="safe")
    for crd in mon.glob("*.prometheusrule.yaml"):
        spec = yaml.load(crd.read_text())
        assert spec["apiVersion"] == "monitoring.coreos.com/v1"
        assert spec["kind"] == "PrometheusRule"
        (mon / f"{crd.stem}.spec.yaml").write_text(json.dumps(spec["spec"]))
    files = sorted(p.name for p in mon.glob("*.yaml") if not p.name.endswith(".test.yaml"))
    assert len(files) == 6  # two rule files, their PrometheusRule kinds and specs
    for name in files:
        if name.endswith(".prometheusrule.yaml"):
            continue
        checked = _promtool("check", "rules", name, cwd=mon)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    tests = ("deployment-alerts.test.yaml", "deployment-alerts.stale.test.yaml")
    tested = _promtool("test", "rules", *tests, cwd=mon)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    alerts = (mon / "deployment-alerts.yaml").read_text()
    assert (
        "GitopsGuardGateFailed" in alerts
        and 'argocd_app_sync_total{phase=~"Error|Failed"}' in alerts
    )
    burning = "GitopsGuardErrorBudgetBurn" in alerts
    assert burning == (slo_file.parent == EXAMPLE)


@needs_promtool
def test_generated_unit_tests_can_fail(tmp_path: Path) -> None:
    assert _render(tmp_path) == 0
    tests = tmp_path / "monitoring" / "deployment-alerts.test.yaml"
    tests.write_text(tests.read_text().replace("severity: page", "severity: none"))
    tested = _promtool("test", "rules", tests.name, cwd=tests.parent)
    assert tested.returncode != 0
    assert "GitopsGuardErrorBudgetBurn" in tested.stdout + tested.stderr


def test_examples_carry_a_fresh_rendered_copy(tmp_path: Path) -> None:
    assert _render(tmp_path) == 0
    rendered = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert rendered, "nothing rendered"
    for relative in rendered:
        kept = EXAMPLE / relative
        assert kept.is_file(), f"examples/monitoring/{relative} is missing; render again"
        assert kept.read_text() == (tmp_path / relative).read_text(), (
            f"examples/monitoring/{relative} is stale: run gitops-guard render monitoring "
            "--config examples/monitoring/slo.yaml --out examples/monitoring"
        )


@pytest.mark.parametrize(
    ("extra", "source"),
    [
        (("--lead-time", "soon"), "--lead-time"),
        (("--rollbacks-per-day", "0"), "--rollbacks-per-day"),
    ],
)
def test_bad_thresholds_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: tuple[str, str], source: str
) -> None:
    assert _render(tmp_path / "out", EXAMPLE / "slo.yaml", *extra) == 2
    assert source in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_bad_slo_file_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "slo.yaml"
    bad.write_text(
        "name: x\nobjectives:\n  - name: a\n    burnRate: {target: 2, errors: e, total: t}\n"
    )
    assert _render(tmp_path / "out", bad) == 2
    assert "slo.yaml:4" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- the real Prometheus
STEP = 15
MINUTES = 70
KEYS = {"job": "gitops-guard", "environment": "production", "app": "sre-demo-app"}


def _scenario(end: float) -> str:
    """70 minutes up to ``end``: 5% of requests fail (availability burns), checkout is fine."""

    def samples() -> Iterator[tuple[str, dict[str, str], float, float]]:
        for i in range(MINUTES * 60 // STEP + 1):
            t = end - MINUTES * 60 + i * STEP
            n = i * STEP * 20.0  # 20 requests per second
            app = {"app": "sre-demo-app", "instance": "a:1", "job": "app"}
            yield "http_requests_total", {**app, "code": "200"}, n * 0.95, t
            yield "http_requests_total", {**app, "code": "500"}, n * 0.05, t
            for le, share in (("0.1", 0.7), ("0.5", 0.99), ("1", 1.0), ("+Inf", 1.0)):
                yield "http_request_duration_seconds_bucket", {**app, "le": le}, n * share, t
            checkout = {**app, "operation": "checkout"}
            yield "business_operations_total", {**checkout, "result": "success"}, n, t
            yield "business_operations_total", {**checkout, "result": "failure"}, 0.0, t
            yield monitoring.GAUGES["verdict"], {**KEYS, "verdict": "fail"}, 1.0, t
            yield monitoring.GAUGES["verdict_at"], KEYS, end - 120, t
            yield monitoring.GAUGES["deploy"], KEYS, end - 600 if i > 10 else end - 7200, t
            yield monitoring.GAUGES["rollback"], KEYS, end - 60, t
            yield monitoring.GAUGES["lead_time"], KEYS, 1800.0, t
            yield monitoring.GAUGES["stage"], {**KEYS, "stage": "verify"}, 300.0, t
            yield "push_time_seconds", KEYS, end - 60, t

    return promstack.openmetrics_lines(samples())


def _alerts(url: str) -> list[dict[str, Any]]:
    body = httpx.get(f"{url}/api/v1/alerts", timeout=10).json()
    return [a for a in body["data"]["alerts"] if a["state"] == "firing"]


def _query(url: str, expr: str) -> list[dict[str, Any]]:
    body = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10).json()
    assert body["status"] == "success", (expr, body)
    return body["data"]["result"]


@pytest.mark.skipif(not all(promstack.available().values()), reason="Prometheus not installed")
def test_real_prometheus_fires_the_expected_alerts(tmp_path: Path) -> None:
    out = tmp_path / "rendered"
    assert _render(out) == 0
    data = tmp_path / "data"
    promstack.backfill(_scenario(time.time()), data)
    rules = [
        str(out / "monitoring" / "deployment-alerts.yaml"),
        str(out / "monitoring" / "pipeline-metrics.yaml"),
    ]
    text = promstack.prometheus_config(
        rule_files=rules, evaluation_interval="1s", scrape_interval="1s"
    )
    with promstack.start_prometheus(data_dir=data, config_text=text) as server:
        deadline = time.monotonic() + 60
        firing: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            firing = _alerts(server.url)
            names = {
                (a["labels"]["alertname"], a["labels"].get("slo"), a["labels"].get("burn_window"))
                for a in firing
            }
            if ("GitopsGuardErrorBudgetBurn", "availability", "1h/5m") in names and (
                "GitopsGuardGateFailed",
                None,
                None,
            ) in names:
                break
            time.sleep(1)
        names = {
            (a["labels"]["alertname"], a["labels"].get("slo"), a["labels"].get("burn_window"))
            for a in firing
        }
        assert ("GitopsGuardErrorBudgetBurn", "availability", "1h/5m") in names, server.log()[
            -2000:
        ]
        assert ("GitopsGuardErrorBudgetBurn", "availability", "6h/30m") in names
        assert ("GitopsGuardGateFailed", None, None) in names
        assert ("GitopsGuardRollbackPushed", None, None) in names
        assert not [n for n in names if n[1] == "checkout"], names
        assert ("GitopsGuardMetricsStale", None, None) not in names
        # one recorded series per objective and window: alert expressions read two
        for rule in monitoring.slo_rules(config.load(EXAMPLE / "slo.yaml")):
            for window in rule.windows():
                name = monitoring.RATIO.format(window=durations.format_duration(window))
                assert len(_query(server.url, f'{name}{{slo="{rule.name}"}}')) == 1
        # every dashboard query runs; those over backfilled data return series
        cfg = config.load(EXAMPLE / "slo.yaml")
        empty = []
        for expr in dashboards.queries(cfg):
            result = _query(server.url, expr.replace("$environment", ".*").replace("$app", ".*"))
            if not result:
                empty.append(expr)
        assert empty == [], empty
