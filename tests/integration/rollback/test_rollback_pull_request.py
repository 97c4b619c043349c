"""``rollback revert --mode pull-request`` and ``rollback to`` with GitHub through ``responses``.

- the revert is pushed to gitops-guard/rollback-<sha12>, main is untouched, a PR is
  opened titled with the app and images, its body carries the gate's table, Mermaid
  chart and run link; labels and auto-merge are applied
- a rerun opens no second PR and pushes nothing (exit 0, skipped-reason says why)
- a later unrelated commit on main is kept in the rollback branch
- the token never appears in outputs, summary, result file or .git/config
- a comment is posted on --notify-issue
- ``to --previous`` skips a quarantined image; ``to --image`` of a quarantined image is
  exit 2 unless --force; a rerun of ``to`` is a no-op
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import responses
from fakepulls import FakePulls
from rollbackrepo import GitopsRepo, gate_report, git, outputs

TOKEN = "ghs_rollbackTestToken0123456789"
WEB1, WEB2, WEB3 = (f"ghcr.io/acme/web:1.{n}.0" for n in (0, 1, 2))


@pytest.fixture
def fake_github(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    fake = FakePulls()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        yield fake


def test_pull_request_with_evidence_and_idempotent_rerun(
    gitops: GitopsRepo,
    run_cli,
    runner_env: dict[str, Path],
    fake_github: FakePulls,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/app")
    monkeypatch.setenv("GITHUB_RUN_ID", "77")
    deploy = gitops.deploy("web", WEB1, WEB2)
    gitops.commit_file("README.md", "later\n", "docs: later unrelated commit")
    main_before = gitops.remote_head()
    report = gate_report(gitops.root / "gate.json")
    args = (
        "revert",
        "--dir",
        gitops.work,
        "--commit",
        deploy,
        "--mode",
        "pull-request",
        "--github-repository",
        "acme/gitops",
        "--evidence",
        report,
        "--app",
        "web",
        "--label",
        "rollback",
        "--label",
        "incident",
        "--auto-merge",
        "--report",
        gitops.root / "result.json",
        "--notify-issue",
        "12",
        "--notify-repository",
        "acme/gitops",
    )
    code, out = run_cli(*args)
    assert code == 0, out
    assert gitops.remote_head() == main_before
    branch = f"gitops-guard/rollback-{deploy[:12]}"
    assert gitops.image_of("web", branch) == WEB1
    assert gitops.remote_file("README.md", branch) == "later\n"
    assert ".gitops-guard/quarantine.yaml" in git(
        gitops.remote, "show", "--name-only", "--format=", branch
    )
    (pull,) = fake_github.pulls.values()
    assert pull["title"] == f"Roll back web: {WEB2} -> {WEB1}"
    assert pull["base"]["ref"] == "main" and pull["head"]["ref"] == branch
    body = pull["body"]
    assert "| error-ratio | fail | 0.07 | 0.01 |" in body
    assert "```mermaid" in body and "xychart-beta" in body
    assert "https://github.com/acme/app/actions/runs/77" in body
    assert "p99-latency" not in body  # only failing objectives
    assert [label["name"] for label in pull["labels"]] == ["rollback", "incident"]
    assert pull["auto_merge"] == {"merge_method": "squash"}
    out1 = outputs(runner_env["output"])
    assert out1["pull-request-url"] == "https://github.com/acme/gitops/pull/1"
    assert out1["rolled-back-to"] == WEB1
    assert len(fake_github.comments) == 1
    assert "rolled back web" in fake_github.comments[0]["body"]

    branch_tip = git(gitops.remote, "rev-parse", branch).strip()
    runner_env["output"].write_text("")
    code, out = run_cli(*args)
    assert code == 0, out
    assert len(fake_github.pulls) == 1
    assert fake_github.count("POST", "/pulls") == 1
    assert git(gitops.remote, "rev-parse", branch).strip() == branch_tip
    out2 = outputs(runner_env["output"])
    assert out2["skipped-reason"].startswith("pull-request-open")
    assert out2["pull-request-url"] == "https://github.com/acme/gitops/pull/1"

    everything = (
        runner_env["output"].read_text()
        + runner_env["summary"].read_text()
        + (gitops.root / "result.json").read_text()
        + (gitops.work / ".git" / "config").read_text()
        + out
    )
    assert TOKEN not in everything
    assert all(h == f"token {TOKEN}" or h == f"Bearer {TOKEN}" for h in fake_github.auth_headers)


def test_to_previous_skips_quarantined_and_to_image_refuses_it(
    gitops: GitopsRepo, run_cli, runner_env: dict[str, Path]
) -> None:
    gitops.deploy("web", WEB1, WEB2)
    bad = gitops.deploy("web", WEB2, WEB3)
    # Quarantine 1.1.0 by hand (one command), then roll back from 1.2.0.
    code, out = run_cli(
        "quarantine", "add", "--dir", gitops.work, "--image", WEB2, "--reason", "leaks memory"
    )
    assert code == 0, out
    assert WEB2 in gitops.remote_file(".gitops-guard/quarantine.yaml")
    code, out = run_cli("to", "--dir", gitops.work, "--previous")
    assert code == 0, out
    assert gitops.image_of("web") == WEB1
    assert f"passed over {WEB2}: quarantined: leaks memory" in out
    assert outputs(runner_env["output"])["rolled-back-to"] == WEB1
    head = gitops.remote_head()
    code, out = run_cli("to", "--dir", gitops.work, "--previous")
    assert code == 0, out
    assert "already-rolled-back" in out
    assert gitops.remote_head() == head
    code, out = run_cli("to", "--dir", gitops.work, "--image", WEB1)
    assert code == 0
    assert "already-at" in out
    assert gitops.remote_head() == head

    code, out = run_cli("to", "--dir", gitops.work, "--image", WEB2)
    assert code == 2
    assert "quarantined image" in out and "--force" in out
    assert gitops.remote_head() == head
    code, out = run_cli("to", "--dir", gitops.work, "--image", WEB2, "--force")
    assert code == 0, out
    assert gitops.image_of("web") == WEB2

    code, out = run_cli("quarantine", "lift", "--dir", gitops.work, "--image", WEB2)
    assert code == 0, out
    assert WEB2 not in gitops.remote_file(".gitops-guard/quarantine.yaml")
    code, out = run_cli("quarantine", "lift", "--dir", gitops.work, "--image", WEB2)
    assert code == 0 and "not-quarantined" in out
    assert bad


def test_result_file_is_json(gitops: GitopsRepo, run_cli) -> None:
    deploy = gitops.deploy("web", WEB1, WEB2)
    code, _ = run_cli(
        "revert", "--dir", gitops.work, "--commit", deploy, "--report", gitops.root / "r.json"
    )
    assert code == 0
    data = json.loads((gitops.root / "r.json").read_text())
    assert data["status"] == "rolled-back"
    assert data["target"] == deploy
    assert data["rolled_back_to"] == [WEB1]


def test_to_image_as_pull_request_and_rerun(
    gitops: GitopsRepo, run_cli, runner_env: dict[str, Path], fake_github: FakePulls
) -> None:
    gitops.deploy("web", WEB1, WEB2)
    main_before = gitops.remote_head()
    args = (
        "to",
        "--dir",
        gitops.work,
        "--image",
        WEB1,
        "--mode",
        "pull-request",
        "--github-repository",
        "acme/gitops",
    )
    code, out = run_cli(*args)
    assert code == 0, out
    assert gitops.remote_head() == main_before
    (pull,) = fake_github.pulls.values()
    assert pull["title"] == f"Roll back web: {WEB2} -> {WEB1}"
    assert gitops.image_of("web", pull["head"]["ref"]) == WEB1
    runner_env["output"].write_text("")
    code, out = run_cli(*args)
    assert code == 0, out
    assert fake_github.count("POST", "/pulls") == 1
    assert outputs(runner_env["output"])["skipped-reason"].startswith("pull-request-open")
