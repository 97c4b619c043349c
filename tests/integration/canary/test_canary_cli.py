"""`gitops-guard canary` as users call it: exit codes, outputs, nothing committed on bad input.

Covers: steps that do not add up, steps the replicas cannot express, an SLO file
whose canary objective lacks a stable arm or has alpha outside (0, 0.5), an SLO
file without canary objectives, a Service that selects one colour: exit 2 naming
the input and the remote unchanged; a full run through the CLI (ArgoCD played by a
background syncer) writing outputs and a report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import twocolour
from canaryrepo import CanaryRepo, git

from gitops_guard import cli

NEW = "ghcr.io/gitops-guard/web:1.1.0"

SLO = """\
name: web-canary
analysis: {duration: 2s, interval: 1s}
canary:
  - name: errors
    canary:
      errors: sum(http_requests_total{color="${color}",code=~"5.."})
      requests: sum(http_requests_total{color="${color}"})
    stable:
      errors: sum(http_requests_total{color="${baseline_color}",code=~"5.."})
      requests: sum(http_requests_total{color="${baseline_color}"})
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(["canary", *argv])
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.fixture(autouse=True)
def _no_kube(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def _base(repo: CanaryRepo) -> list[str]:
    return ["--dir", str(repo.work), "--service", "web", "--image", NEW, "--path", "deploy/web"]


@pytest.mark.parametrize(
    ("steps", "needle"),
    [
        ("25,50", "end at 50%, not 100%"),
        ("50,25,100", "does not rise"),
        ("0,100", "outside 1..100"),
        ("25,fifty,100", "'fifty' is not a whole percentage"),
        ("5,25,100", "cannot express 5%"),
        ("10,100", "cannot express 10%"),
    ],
)
def test_steps_that_do_not_add_up_are_exit_2(
    repo: CanaryRepo, capsys: pytest.CaptureFixture[str], steps: str, needle: str
) -> None:
    tip = repo.tip()
    code, out = run(capsys, *_base(repo), "--steps", steps)
    assert code == 2, out
    assert needle in out and "--steps" in out
    assert repo.tip() == tip


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda t: t.split("    stable:")[0], "slo.yaml:4: canary[0].stable"),
        (lambda t: t + "    alpha: 0.5\n", "slo.yaml:11: canary[0].alpha"),
        (lambda t: t + "    alpha: -1\n", "slo.yaml:11: canary[0].alpha"),
        (
            lambda t: (
                t.split("canary:")[0] + "objectives:\n  - {name: up, query: up, pass: '>= 1'}\n"
            ),
            "no canary objectives",
        ),
    ],
)
def test_a_bad_canary_slo_file_is_exit_2(
    repo: CanaryRepo,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    edit: object,
    needle: str,
) -> None:
    slo = tmp_path / "slo.yaml"
    slo.write_text(edit(SLO))  # type: ignore[operator]
    tip = repo.tip()
    code, out = run(
        capsys,
        *_base(repo),
        "--steps",
        "25,100",
        "--slo-config",
        str(slo),
        "--prometheus-url",
        "http://127.0.0.1:9",
    )
    assert code == 2, out
    assert needle in out
    assert repo.tip() == tip


def test_a_service_that_selects_one_colour_is_exit_2(
    repo: CanaryRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    file = repo.work / "deploy" / "web" / "service.yaml"
    file.write_text(
        file.read_text().replace("name: web\n  ports", "name: web\n    color: blue\n  ports")
    )
    git(repo.work, "commit", "-qam", "select blue only")
    git(repo.work, "push", "-q", "origin", "main")
    tip = repo.tip()
    code, out = run(capsys, *_base(repo), "--steps", "25,100")
    assert code == 2, out
    assert "deploy/web/service.yaml:12" in out and "routes to one colour only" in out
    assert repo.tip() == tip


@pytest.fixture
def syncer(repo: CanaryRepo) -> Iterator[None]:
    """Plays ArgoCD in the background: applies every new tip to the Kubernetes stand-in."""
    with twocolour.syncing(repo, join_seconds=2):
        yield


def test_a_full_run_writes_outputs_and_a_report(
    repo: CanaryRepo,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    syncer: None,
) -> None:
    output = tmp_path / "github_output"
    output.touch()
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    report = tmp_path / "out" / "canary.json"
    code, out = run(capsys, *_base(repo), "--steps", "25,50,100", "--report", str(report))
    assert code == 0, out
    data = json.loads(report.read_text())
    assert data["outcome"] == "promoted" and data["exit_code"] == 0
    assert (data["stable"], data["canary"], data["steps"]) == ("blue", "green", [25, 50, 100])
    assert set(data["commits"]) == {"step-25", "step-50", "promote"}
    written = output.read_text()
    assert "outcome" in written and "promoted" in written
    assert repo.replicas() == {"blue": 0, "green": 4}


def test_action_inputs_reach_the_flags(
    repo: CanaryRepo,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The action passes INPUT_* variables (action-blue-green with strategy canary)."""
    for name, value in {
        "DIR": str(repo.work),
        "SERVICE": "web",
        "IMAGE": NEW,
        "STEPS": "5,25,100",
        "PATH": "deploy/web",
        "MODE": "git",  # a blue-green input: ignored by canary
    }.items():
        monkeypatch.setenv(f"INPUT_{name}", value)
    tip = repo.tip()
    code = cli.main(["canary", "--from-action-inputs"])
    out = capsys.readouterr()
    assert code == 2
    assert "steps" in out.err and "cannot express 5%" in out.err
    assert repo.tip() == tip


def test_inside_a_deny_sync_window_it_reports_frozen_until_and_pushes_nothing(
    repo: CanaryRepo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitops_guard_lab import argocd_api

    store = argocd_api.ApplicationStore()
    store.put(argocd_api.make_application("web", revision=repo.tip(), sync_status="Synced"))
    store.set_sync_windows("web", [{"kind": "deny", "schedule": "* * * * *", "duration": "1h"}])
    monkeypatch.setenv("ARGOCD_TOKEN", "argo-test-token-0123456789")
    with argocd_api.FakeArgoServer(store, token="argo-test-token-0123456789") as server:
        tip = repo.tip()
        code, out = run(
            capsys, *_base(repo), "--steps", "25,100", "--argocd-server", server.url, "--app", "web"
        )
        paths = [r.path for r in server.requests]
    assert code == 1, out
    assert "frozen until" in out and "(a deny sync window)" in out
    assert "/api/v1/applications/web/syncwindows" in paths
    assert repo.tip() == tip
    assert "argo-test-token" not in out


def test_the_stand_in_serves_sync_windows_shaped_per_the_swagger(reference_dir: Path) -> None:
    from gitops_guard_lab import argocd_api

    swagger = json.loads((reference_dir / "argocd-swagger.json").read_text(encoding="utf-8"))
    definitions = swagger["definitions"]
    store = argocd_api.ApplicationStore()
    store.put(argocd_api.make_application("web", revision="a" * 40, sync_status="Synced"))
    store.set_sync_windows(
        "web",
        [
            {"kind": "deny", "schedule": "* * * * *", "duration": "1h", "manualSync": True},
            {"kind": "allow", "schedule": "0 3 1 1 *", "duration": "1m"},
        ],
    )
    body = store.sync_windows_response("web", None)
    assert set(body) == set(definitions["applicationApplicationSyncWindowsResponse"]["properties"])
    window_keys = set(definitions["applicationApplicationSyncWindow"]["properties"])
    assert all(set(w) <= window_keys for w in body["assignedWindows"] + body["activeWindows"])
    assert [w["kind"] for w in body["activeWindows"]] == ["deny"]
    assert body["canSync"] is False
