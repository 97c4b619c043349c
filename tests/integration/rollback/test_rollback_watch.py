"""``rollback watch`` against the real Alertmanager (Debian's prometheus-alertmanager).

- a firing alert matching a rule rolls the watched deploy back once, with a
  Gitops-Guard-Rule trailer; the Alertmanager client reads it through /api/v2/alerts
- a second watch within the rule's cooldown (a new deploy, the alert still firing)
  rolls nothing back and says "cooldown" (the state is the GitOps history)
- --dry-run pushes nothing, reports "would roll back" once, then the cooldown holds
- an alert with other labels does not match
- a rules file that needs Alertmanager without --alertmanager-url is exit 2
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rollbackrepo import GitopsRepo, git, outputs

from gitops_guard.prometheus import alertmanager
from gitops_guard_lab import promstack

WEB1, WEB2, WEB3 = (f"ghcr.io/acme/web:1.{n}.0" for n in (0, 1, 2))

RULES = """\
version: 1
defaults:
  cooldown: 30m
  max-rollbacks: 2
  window: 24h
rules:
  - name: error-rate-alert
    alert:
      alertname: HighErrorRate
      labels: {app: web}
"""


@pytest.fixture(scope="module")
def am() -> Iterator[promstack.Server]:
    if not promstack.available().get("alertmanager"):
        pytest.skip("prometheus-alertmanager is not installed")
    with promstack.start_alertmanager() as server:
        yield server


def _fire(url: str, **labels: str) -> None:
    now = datetime.now(timezone.utc)
    with alertmanager.AlertmanagerClient(url) as client:
        client.post_alerts(
            [
                {
                    "labels": {"alertname": "HighErrorRate", **labels},
                    "annotations": {"summary": "5xx above 5%"},
                    "startsAt": (now - timedelta(minutes=1)).isoformat(),
                    "endsAt": (now + timedelta(hours=1)).isoformat(),
                    "generatorURL": "http://prometheus.invalid/graph",
                }
            ]
        )


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rollback-rules.yaml"
    path.write_text(RULES)
    return path


def test_client_reads_posted_alert(am: promstack.Server) -> None:
    _fire(am.url, app="web", team="checkout")
    with alertmanager.AlertmanagerClient(am.url) as client:
        found = client.alerts(matchers={"alertname": "HighErrorRate", "team": "checkout"})
        assert [a.labels["app"] for a in found] == ["web"]
        assert found[0].state in ("active", "unprocessed")
        assert client.alerts(matchers={"alertname": "HighErrorRate", "team": "nobody"}) == []


def test_watch_rolls_back_once_then_cooldown(
    am: promstack.Server,
    gitops: GitopsRepo,
    run_cli,
    rules_file: Path,
    runner_env: dict[str, Path],
) -> None:
    deploy = gitops.deploy("web", WEB1, WEB2)
    _fire(am.url, app="web", severity="page")
    argv = (
        "watch",
        "--dir",
        gitops.work,
        "--rules",
        rules_file,
        "--for",
        "0s",
        "--interval",
        "1s",
        "--alertmanager-url",
        am.url,
    )
    code, out = run_cli(*argv, "--report", gitops.root / "w1.json")
    assert code == 0, out
    assert gitops.image_of("web") == WEB1
    body = git(gitops.remote, "log", "-1", "--format=%B", "main")
    assert "Gitops-Guard-Rule: error-rate-alert" in body
    assert f"Gitops-Guard-Reverts: {deploy}" in body
    assert "HighErrorRate" in body
    first = outputs(runner_env["output"])
    assert first["rollback-sha"] == gitops.remote_head()
    assert json.loads((gitops.root / "w1.json").read_text())["watched_commit"] == deploy

    # A new deploy arrives while the alert still fires: within the cooldown, no rollback.
    gitops.deploy("web", WEB1, WEB3)
    head = gitops.remote_head()
    runner_env["output"].write_text("")
    code, out = run_cli(*argv)
    assert code == 0, out
    assert gitops.remote_head() == head
    assert gitops.image_of("web") == WEB3
    reason = outputs(runner_env["output"])["skipped-reason"]
    assert "cooldown" in reason and "error-rate-alert" in reason


def test_dry_run_reports_once_and_pushes_nothing(
    am: promstack.Server,
    gitops: GitopsRepo,
    run_cli,
    rules_file: Path,
    runner_env: dict[str, Path],
) -> None:
    gitops.deploy("web", WEB1, WEB2)
    _fire(am.url, app="web")
    head = gitops.remote_head()
    code, out = run_cli(
        "watch",
        "--dir",
        gitops.work,
        "--rules",
        rules_file,
        "--for",
        "2s",
        "--interval",
        "1s",
        "--alertmanager-url",
        am.url,
        "--dry-run",
        "--report",
        gitops.root / "w.json",
    )
    assert code == 0, out
    assert gitops.remote_head() == head
    result = json.loads((gitops.root / "w.json").read_text())
    assert result["status"] == "dry-run"
    assert len(result["would_roll_back"]) == 1
    assert result["ticks"] >= 2
    assert out.count("[cooldown]") >= 1
    assert outputs(runner_env["output"])["rollback-sha"] == ""


def test_other_labels_do_not_match(
    am: promstack.Server, gitops: GitopsRepo, run_cli, tmp_path: Path
) -> None:
    gitops.deploy("web", WEB1, WEB2)
    _fire(am.url, app="billing")
    rules = tmp_path / "r.yaml"
    rules.write_text(RULES.replace("{app: web}", "{app: web, cluster: nowhere}"))
    head = gitops.remote_head()
    code, out = run_cli(
        "watch", "--dir", gitops.work, "--rules", rules, "--for", "0s", "--alertmanager-url", am.url
    )
    assert code == 0, out
    assert "no rule matched" in out
    assert gitops.remote_head() == head


def test_missing_alertmanager_url_is_input_error(
    gitops: GitopsRepo, run_cli, rules_file: Path
) -> None:
    code, out = run_cli("watch", "--dir", gitops.work, "--rules", rules_file, "--for", "0s")
    assert code == 2
    assert "--alertmanager-url" in out


def test_prometheus_rule_against_real_prometheus(
    gitops: GitopsRepo, run_cli, tmp_path: Path
) -> None:
    if not promstack.available().get("prometheus"):
        pytest.skip("prometheus is not installed")
    deploy = gitops.deploy("web", WEB1, WEB2)
    rules = tmp_path / "burn.yaml"
    # vector(...) needs no scraped data: the real query engine answers it at once.
    rules.write_text(
        "rules:\n"
        "  - name: fast-burn\n"
        "    prometheus:\n"
        "      - {query: 'vector(20)', above: 14.4}\n"
        "      - {query: 'vector(16)', above: 14.4}\n"
        "  - name: quiet\n"
        "    prometheus:\n"
        "      - {query: 'absent(up{job=\"nothing\"}) * 0', above: 1}\n"
    )
    with promstack.start_prometheus() as prom:
        code, out = run_cli(
            "watch",
            "--dir",
            gitops.work,
            "--rules",
            rules,
            "--for",
            "0s",
            "--prometheus-url",
            prom.url,
        )
    assert code == 0, out
    assert gitops.image_of("web") == WEB1
    body = git(gitops.remote, "log", "-1", "--format=%B", "main")
    assert "Gitops-Guard-Rule: fast-burn" in body
    assert f"Gitops-Guard-Reverts: {deploy}" in body
    assert "vector(20) = 20" in body
