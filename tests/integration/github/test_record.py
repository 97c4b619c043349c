"""`gitops-guard record` against the GitHub fake.

Covers: a deploy run creates the deployment then its status with the facts in
the payload (synced_at and verdict_at from the evidence files); a failed gate
plus a revert records deploy and deploy:rollback; a by-hand rollback; a rejected
token is exit 2 naming deployments: write, GitHub down is exit 3, the summary is
written either way and no token appears in any output; bad --needs is exit 2
before any call; --dry-run calls nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakegithub import FakeGitHub

from gitops_guard import cli

APP_SHA = "d" * 40
GITOPS_SHA = "a" * 40


def _needs(verdict: str, rollback: bool = False) -> str:
    needs = {
        "plan": {"result": "success", "outputs": {}},
        "promote": {
            "result": "success",
            "outputs": {"image": "ghcr.io/acme/web:1.4.2", "commit": GITOPS_SHA},
        },
        "verify": {
            "result": "success" if verdict == "pass" else "failure",
            "outputs": {"verdict": verdict, "argocd-result": "done"},
        },
        "rollback": {"result": "skipped", "outputs": {}},
    }
    if rollback:
        needs["rollback"] = {
            "result": "success",
            "outputs": {"commit": "b" * 40, "rolled-back-to": "ghcr.io/acme/web:1.4.1"},
        }
    return json.dumps(needs)


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_github: FakeGitHub) -> Path:
    summary = tmp_path / "summary.md"
    summary.touch()
    for key, value in {
        "GITHUB_TOKEN": fake_github.token,
        "GITHUB_REPOSITORY": "acme/gitops",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "77",
        "GITHUB_STEP_SUMMARY": str(summary),
    }.items():
        monkeypatch.setenv(key, value)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "argocd-wait.json").write_text(
        json.dumps(
            {
                "result": "done",
                "timeline": [
                    {"at": "2026-12-01T10:06:00Z", "health": "Progressing"},
                    {"at": "2026-12-01T10:07:00Z", "health": "Healthy"},
                ],
            }
        )
    )
    (evidence / "gitops-guard-gate.json").write_text(
        json.dumps({"verdict": "pass", "ended_at": "2026-12-01T10:17:00Z"})
    )
    return tmp_path


def _record(*extra: str, needs: str, workflow: str = "deploy") -> int:
    return cli.main(
        [
            *("record", workflow, "--environment", "production"),
            *("--ref", APP_SHA, "--needs", needs),
            *extra,
        ]
    )


def test_deploy_is_recorded_with_its_facts(fake_github: FakeGitHub, runner: Path) -> None:
    code = _record(
        "--evidence",
        str(runner / "evidence"),
        "--committed-at",
        "2026-12-01T10:00:00Z",
        "--report",
        str(runner / "record.json"),
        needs=_needs("pass"),
    )
    assert code == 0
    [deployment] = fake_github.deployments.values()
    assert deployment["task"] == "deploy"
    assert deployment["environment"] == "production"
    assert deployment["ref"] == APP_SHA
    payload = deployment["payload"]
    assert payload["gitops_commit"] == GITOPS_SHA
    assert payload["committed_at"] == "2026-12-01T10:00:00Z"
    assert payload["synced_at"] == "2026-12-01T10:07:00Z"
    assert payload["verdict"] == "pass"
    assert payload["verdict_at"] == "2026-12-01T10:17:00Z"
    [status] = fake_github.statuses[deployment["id"]]
    assert status["state"] == "success"
    assert status["log_url"] == "https://github.com/acme/gitops/actions/runs/77"
    body = fake_github.requests_to("POST", "/deployments")[0]
    assert body["auto_merge"] is False
    assert body["required_contexts"] == []
    summary = (runner / "summary.md").read_text()
    assert f"#{deployment['id']} deploy: success" in summary
    report = json.loads((runner / "record.json").read_text())
    assert report["records"][0]["id"] == deployment["id"]


def test_failed_gate_and_revert_record_two_deployments(
    fake_github: FakeGitHub, runner: Path
) -> None:
    assert _record("--restored-at", "1764584400", needs=_needs("fail", rollback=True)) == 0
    deploy, rollback = sorted(fake_github.deployments.values(), key=lambda d: d["id"])
    assert fake_github.statuses[deploy["id"]][0]["state"] == "failure"
    assert rollback["task"] == "deploy:rollback"
    assert rollback["payload"]["reverts"] == GITOPS_SHA
    assert rollback["payload"]["restored_at"] == "2025-12-01T10:20:00Z"


def test_by_hand_rollback(fake_github: FakeGitHub, runner: Path) -> None:
    needs = json.dumps(
        {
            "rollback": {
                "result": "success",
                "outputs": {"commit": "c" * 40, "rolled-back-to": "w:1"},
            }
        }
    )
    assert _record("--reason", "pager", needs=needs, workflow="rollback") == 0
    [deployment] = fake_github.deployments.values()
    assert deployment["description"] == "rolled back to w:1: pager"
    assert "success: rolled back to w:1: pager" in (runner / "summary.md").read_text()


@pytest.mark.parametrize(("status", "code"), [(403, 2), (500, 3)])
def test_github_refusing_or_down(
    fake_github: FakeGitHub,
    runner: Path,
    capsys: pytest.CaptureFixture[str],
    status: int,
    code: int,
) -> None:
    fake_github.fail_status = status
    assert _record(needs=_needs("pass")) == code
    out = capsys.readouterr()
    if status == 403:
        assert "deployments: write" in out.err
    summary = (runner / "summary.md").read_text()
    assert "| record | failed |" in summary
    for text in (out.out, out.err, summary):
        assert fake_github.token not in text


def test_bad_needs_is_exit_2_before_any_call(
    fake_github: FakeGitHub, runner: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _record(needs="{not json") == 2
    assert "--needs" in capsys.readouterr().err
    assert fake_github.calls == []
    assert _record("--synced-at", "soon", needs=_needs("pass")) == 2
    assert fake_github.calls == []


def test_dry_run_calls_nothing(fake_github: FakeGitHub, runner: Path) -> None:
    assert _record("--dry-run", needs=_needs("pass")) == 0
    assert fake_github.calls == []
