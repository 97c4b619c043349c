"""Rollback with the real update-manifest: trailers it writes, quarantine it honours.

- a deploy made by ``update-manifest --push`` is reverted by ``rollback revert`` with
  the images from its trailers; ``rollback to --previous`` finds them too
- after a failed gate quarantined the image, ``update-manifest`` refuses it (exit 2,
  nothing pushed) unless ``--force``
- the action's inputs (``INPUT_*``, ``--from-action-inputs``) drive the same command and
  write the four outputs; the token given through the environment is not in them
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rollbackrepo import GitopsRepo, gate_report, git, outputs

from gitops_guard import cli

WEB1, WEB2 = "ghcr.io/acme/web:1.0.0", "ghcr.io/acme/web:1.1.0"


def _update(gitops: GitopsRepo, *extra: str) -> int:
    gitops.sync_work()
    return cli.main(
        ["update-manifest", "--dir", str(gitops.work), "--image", WEB2, "--push", *extra]
    )


def test_update_manifest_deploy_revert_and_quarantine(
    gitops: GitopsRepo, run_cli, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _update(gitops) == 0
    capsys.readouterr()
    deploy = gitops.remote_head()
    assert gitops.image_of("web") == WEB2
    report = gate_report(gitops.root / "gate.json")
    code, out = run_cli("revert", "--dir", gitops.work, "--commit", deploy, "--evidence", report)
    assert code == 0, out
    assert gitops.image_of("web") == WEB1
    assert WEB2 in gitops.remote_file(".gitops-guard/quarantine.yaml")

    head = gitops.remote_head()
    code = _update(gitops)
    err = capsys.readouterr()
    assert code == 2, err
    assert "quarantine" in (err.out + err.err).lower()
    assert gitops.remote_head() == head
    assert _update(gitops, "--force") == 0
    assert gitops.image_of("web") == WEB2


def test_to_previous_after_update_manifest(gitops: GitopsRepo, run_cli, capsys) -> None:
    assert _update(gitops) == 0
    capsys.readouterr()
    code, out = run_cli("to", "--dir", gitops.work, "--previous")
    assert code == 0, out
    assert gitops.image_of("web") == WEB1


def test_from_action_inputs(
    gitops: GitopsRepo,
    runner_env: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    deploy = gitops.deploy("web", WEB1, WEB2)
    token = "ghs_actionInputToken000000000001"
    for name, value in {
        "COMMAND": "revert",
        "QUARANTINE-ACTION": "",
        "DIR": str(gitops.work),
        "COMMIT": deploy,
        "MODE": "commit",
        "PREVIOUS": "false",
        "FORCE": "false",
        "QUARANTINE": "auto",
        "LABELS": "rollback",
        "AUTO-MERGE": "false",
        "MERGE-METHOD": "squash",
        "FOR": "15m",
        "INTERVAL": "30s",
        "ARGOCD-TIMEOUT": "600",
        "ARGOCD-INSECURE": "false",
        "DRY-RUN": "false",
    }.items():
        monkeypatch.setenv(f"INPUT_{name}", value)
    monkeypatch.setenv("GITHUB_TOKEN", token)
    assert cli.main(["rollback", "--from-action-inputs"]) == 0, capsys.readouterr()
    got = outputs(runner_env["output"])
    assert set(got) >= {"rollback-sha", "pull-request-url", "rolled-back-to", "skipped-reason"}
    assert got["rollback-sha"] == gitops.remote_head()
    assert got["rolled-back-to"] == WEB1
    assert token not in runner_env["output"].read_text() + runner_env["summary"].read_text()
    assert token not in git(gitops.work, "config", "--list")
    monkeypatch.setenv("INPUT_DRY-RUN", "maybe")
    assert cli.main(["rollback", "--from-action-inputs"]) == 2
