"""The gate per application and the one revert for all, against the ArgoCD stand-in
and the real Prometheus (one series per app: the backfilled scenarios, ``app`` label).

Behaviours covered (through the CLI, as the reusable workflow chains it):
- argocd-wait --selector -> slo-gate --apps-from -> rollback revert --argocd-selector:
  one app failing fails the gate (exit 1) naming that app and its objectives; one
  revert commit restores every app's manifest; the rollback waits until every
  selected app runs the revert Healthy, with per-app evidence in its report;
- every app passing passes (exit 0), each judged with its own ``${app}``;
  ``${namespace}``/``${cluster}`` come from the Application's destination;
- one app without data is inconclusive (exit 3), never a pass, naming the app; an app
  the wait did not see run the revision is inconclusive without being queried;
- bad input, exit 2 and nothing judged: a selector that matches no application, an
  app whose destination cannot fill the SLO file's variables.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gitops_guard import cli
from gitops_guard_lab import argocd_api, promstack

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "slo.yaml"
AT = "2026-01-01T00:50:00Z"
"""conftest.EVAL_AT: ten minutes after the scenarios change."""
TOKEN = "argo-per-app-token-0123456789"
MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/acme/{name}:{tag}
"""


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@dataclass
class Fleet:
    remote: Path
    work: Path
    apps: list[str]
    initial: str
    deploy: str
    """One promotion commit that changes every app's manifest."""

    def head(self) -> str:
        return _git(self.remote, "rev-parse", "main")

    def tag_of(self, app: str) -> str:
        text = _git(self.remote, "show", f"main:apps/{app}/deployment.yaml")
        return text.rsplit(":", 1)[-1].strip()


def _fleet(tmp_path: Path, apps: list[str]) -> Fleet:
    remote = tmp_path / "remote.git"
    _git(tmp_path, "init", "-q", "--bare", "--initial-branch=main", str(remote))
    ci = tmp_path / "ci"
    _git(tmp_path, "clone", "-q", str(remote), str(ci))
    _git(ci, "checkout", "-q", "-b", "main")
    for app in apps:
        path = ci / "apps" / app / "deployment.yaml"
        path.parent.mkdir(parents=True)
        path.write_text(MANIFEST.format(name=app, tag="1.0.0"))
    _git(ci, "add", ".")
    _git(ci, "-c", "user.name=ci", "-c", "user.email=ci@example.com", "commit", "-qm", "initial")
    initial = _git(ci, "rev-parse", "HEAD")
    for app in apps:
        (ci / "apps" / app / "deployment.yaml").write_text(MANIFEST.format(name=app, tag="1.1.0"))
    _git(ci, "add", ".")
    message = (
        "deploy web fleet: 1.1.0\n\nGitops-Guard-Action: update-manifest\n"
        + "".join(f"Gitops-Guard-Image: ghcr.io/acme/{a}:1.1.0\n" for a in apps)
        + "".join(f"Gitops-Guard-Previous-Image: ghcr.io/acme/{a}:1.0.0\n" for a in apps)
    )
    _git(ci, "-c", "user.name=ci", "-c", "user.email=ci@example.com", "commit", "-qm", message)
    _git(ci, "push", "-q", "origin", "main")
    work = tmp_path / "work"
    _git(tmp_path, "clone", "-q", str(remote), str(work))
    for key, value in (("user.name", "gitops-guard"), ("user.email", "gg@example.com")):
        _git(work, "config", key, value)
    return Fleet(remote, work, apps, initial, _git(ci, "rev-parse", "HEAD"))


@pytest.fixture
def argo(monkeypatch: pytest.MonkeyPatch) -> Iterator[argocd_api.FakeArgoServer]:
    monkeypatch.setenv("ARGOCD_TOKEN", TOKEN)
    with argocd_api.FakeArgoServer(argocd_api.ApplicationStore(), token=TOKEN) as server:
        yield server


def _register(server: argocd_api.FakeArgoServer, apps: list[str], revision: str) -> None:
    """Apps labelled team=web, destination namespace = the app's name, all at ``revision``."""
    for name in apps:
        app = argocd_api.make_application(
            name, revision=revision, sync_status="Synced", health="Healthy", phase="Succeeded"
        )
        app["metadata"]["labels"] = {"team": "web"}
        server.store.put(app)


def _arrive(server: argocd_api.FakeArgoServer, apps: list[str], revision: str) -> None:
    state = {"revision": revision, "sync_status": "Synced", "health": "Healthy"}
    for i, name in enumerate(apps):
        step = argocd_api.ReplayStep(0.1 + 0.05 * i, {**state, "phase": "Succeeded"})
        argocd_api.Replay(server.store, name, [step]).start()


def _cli(tmp_path: Path, name: str, *argv: str | Path) -> tuple[int, dict[str, Any]]:
    report = tmp_path / f"{name}.json"
    code = cli.main([*[str(a) for a in argv], "--report", str(report)])
    return code, json.loads(report.read_text()) if report.exists() else {}


def _wait(server: argocd_api.FakeArgoServer, tmp_path: Path, revision: str) -> Path:
    code, data = _cli(
        tmp_path,
        "wait",
        "argocd-wait",
        "--server",
        server.url,
        "--selector",
        "team=web",
        "--revision",
        revision,
        "--timeout",
        "10",
        "--poll-interval",
        "0.2",
    )
    assert code == 0, data
    assert all(a["namespace"] == a["name"] for a in data["apps"])
    return tmp_path / "wait.json"


def _gate(url: str, tmp_path: Path, *argv: str | Path, config: Path = EXAMPLE) -> Any:
    return _cli(
        tmp_path,
        "gate",
        "slo-gate",
        "--config",
        config,
        "--prometheus-url",
        url,
        "--at",
        AT,
        *argv,
    )


def _mirror(fleet: Fleet, server: argocd_api.FakeArgoServer, stop: threading.Event) -> None:
    """Play ArgoCD's auto-sync: every app follows the remote's tip, Healthy."""
    seen = fleet.deploy
    while not stop.wait(0.1):
        head = fleet.head()
        if head != seen:
            seen = head
            for name in fleet.apps:
                server.store.set_state(
                    name,
                    revision=head,
                    sync_status="Synced",
                    health="Healthy",
                    phase="Succeeded",
                    op_revision=head,
                )


def test_one_app_failing_fails_the_gate_and_one_revert_restores_every_app(
    history: promstack.Server, argo: argocd_api.FakeArgoServer, tmp_path: Path
) -> None:
    apps = ["healthy", "error-spike", "memory-warn"]
    fleet = _fleet(tmp_path, apps)
    _register(argo, apps, fleet.initial)
    _arrive(argo, apps, fleet.deploy)
    wait_report = _wait(argo, tmp_path, fleet.deploy)

    code, gate = _gate(history.url, tmp_path, "--apps-from", wait_report)
    assert (code, gate["verdict"]) == (1, "fail"), gate["reason"]
    assert gate["failed_apps"] == ["error-spike"]
    assert gate["inconclusive_apps"] == []
    assert gate["failed_objectives"] == ["error-spike/availability", "error-spike/error-rate"]
    verdicts = {a["app"]: a["verdict"] for a in gate["apps"]}
    assert verdicts == {"healthy": "pass", "error-spike": "fail", "memory-warn": "pass"}
    assert gate["apps"][0]["variables"]["namespace"] == gate["apps"][0]["app"]

    stop = threading.Event()
    mirror = threading.Thread(target=_mirror, args=(fleet, argo, stop), daemon=True)
    mirror.start()
    try:
        code, rolled = _cli(
            tmp_path,
            "rollback",
            "rollback",
            "revert",
            "--dir",
            fleet.work,
            "--commit",
            fleet.deploy,
            "--evidence",
            tmp_path / "gate.json",
            "--quarantine",
            "false",
            "--argocd-server",
            argo.url,
            "--argocd-selector",
            "team=web",
            "--argocd-timeout",
            "15",
        )
    finally:
        stop.set()
        mirror.join()
    assert code == 0, rolled
    revert = fleet.head()
    assert _git(fleet.remote, "rev-list", "--count", f"{fleet.deploy}..main") == "1"
    changed = _git(fleet.remote, "diff", "--name-only", fleet.deploy, "main").splitlines()
    assert sorted(changed) == sorted(f"apps/{a}/deployment.yaml" for a in apps)
    assert all(fleet.tag_of(a) == "1.0.0" for a in apps)
    assert "error-spike/availability" in _git(fleet.remote, "log", "-1", "--format=%B")
    waited = rolled["argocd"]
    assert waited["result"] == "done"
    assert sorted(a["name"] for a in waited["apps"]) == sorted(apps)
    assert all(a["outcome"] == "done" and a["revision"] == revert for a in waited["apps"])


def test_every_app_passing_passes(
    history: promstack.Server, argo: argocd_api.FakeArgoServer, tmp_path: Path
) -> None:
    _register(argo, ["healthy", "memory-warn"], "c" * 40)
    code, gate = _gate(history.url, tmp_path, "--selector", "team=web", "--argocd-server", argo.url)
    assert (code, gate["verdict"]) == (0, "pass"), gate["reason"]
    assert [a["app"] for a in gate["apps"]] == ["healthy", "memory-warn"]
    assert gate["apps"][1]["variables"] == {
        "app": "memory-warn",
        "cluster": "https://kubernetes.default.svc",
        "namespace": "memory-warn",
        "window": "5m",
    }
    assert {o["name"].split("/")[0] for o in gate["objectives"]} == {"healthy", "memory-warn"}


def test_one_app_without_data_is_inconclusive_never_pass(
    history: promstack.Server, tmp_path: Path
) -> None:
    code, gate = _gate(history.url, tmp_path, "--app", "healthy", "--app", "missing-series")
    assert (code, gate["verdict"]) == (3, "inconclusive"), gate["reason"]
    assert gate["inconclusive_apps"] == ["missing-series"]
    assert "missing-series" in gate["reason"]


def test_an_app_the_wait_did_not_see_deployed_is_inconclusive(
    history: promstack.Server, tmp_path: Path
) -> None:
    wait = tmp_path / "wait-report.json"
    wait.write_text(
        json.dumps(
            {
                "result": "timed-out",
                "apps": [
                    {"name": "healthy", "outcome": "done", "reason": "Synced and Healthy"},
                    {"name": "memory-warn", "outcome": "timed-out", "reason": "still OutOfSync"},
                ],
            }
        )
    )
    code, gate = _gate(history.url, tmp_path, "--apps-from", wait)
    assert (code, gate["verdict"]) == (3, "inconclusive")
    apps = {a["app"]: a for a in gate["apps"]}
    assert apps["healthy"]["verdict"] == "pass"
    assert apps["memory-warn"]["verdict"] == "inconclusive"
    assert "not judged" in apps["memory-warn"]["reason"]


def test_a_selector_that_matches_nothing_is_exit_2(
    history: promstack.Server,
    argo: argocd_api.FakeArgoServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _register(argo, ["healthy"], "c" * 40)
    code, gate = _gate(
        history.url, tmp_path, "--selector", "team=nobody", "--argocd-server", argo.url
    )
    assert code == 2
    assert gate == {}
    assert "no ArgoCD application matches selector 'team=nobody'" in capsys.readouterr().err


def test_an_app_whose_destination_cannot_fill_the_variables_is_exit_2(
    history: promstack.Server,
    argo: argocd_api.FakeArgoServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _register(argo, ["healthy", "memory-warn"], "c" * 40)
    app = argo.store.get("memory-warn")
    assert app is not None
    app["spec"]["destination"] = {"server": "https://kubernetes.default.svc"}
    argo.store.put(app)
    slo = tmp_path / "slo.yaml"
    slo.write_text(
        "name: per-namespace\n"
        "objectives:\n"
        "  - name: requests\n"
        '    query: sum(rate(http_requests_total{app="${app}",ns="${namespace}"}[5m]))\n'
        "    pass: ['>= 0']\n"
    )
    code, gate = _gate(
        history.url,
        tmp_path,
        "--selector",
        "team=web",
        "--argocd-server",
        argo.url,
        config=slo,
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert gate == {}
    assert "application 'memory-warn'" in err
    assert "${namespace}" in err


def test_action_inputs_apps_from_outputs_and_summary(
    history: promstack.Server,
    runner_env: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    wait = tmp_path / "argocd-wait-report.json"
    wait.write_text(
        json.dumps(
            {
                "result": "done",
                "apps": [
                    {"name": n, "outcome": "done", "namespace": n}
                    for n in ("healthy", "error-spike")
                ],
            }
        )
    )
    monkeypatch.setenv("INPUT_CONFIG", str(EXAMPLE))
    monkeypatch.setenv("INPUT_PROMETHEUS-URL", history.url)
    monkeypatch.setenv("INPUT_APPS-FROM", str(wait))
    monkeypatch.setenv("INPUT_AT", AT)
    monkeypatch.setenv("INPUT_REPORT", str(tmp_path / "gate.json"))

    assert cli.main(["slo-gate", "--from-action-inputs"]) == 1

    outputs = dict(
        line.partition("=")[::2] for line in runner_env["output"].read_text().splitlines()
    )
    assert outputs["verdict"] == "fail"
    # when the gate decided, for the deployment record (the report's ended_at)
    assert outputs["verdict-at"] == json.loads((tmp_path / "gate.json").read_text())["ended_at"]
    assert outputs["failed-apps"] == "error-spike"
    assert outputs["inconclusive-apps"] == ""
    assert outputs["failed-objectives"] == "error-spike/availability,error-spike/error-rate"
    summary = runner_env["summary"].read_text()
    assert "| app | verdict | score | reason |" in summary
    assert "| error-spike | fail |" in summary
    stdout = capsys.readouterr().out.replace("%3A", ":")
    assert "::error title=SLO gate sre-demo-app: fail" in stdout
