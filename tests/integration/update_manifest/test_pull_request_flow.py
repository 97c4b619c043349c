"""update-manifest --pull-request: a real git remote plus a fake GitHub API.

Behaviours covered:
- the branch is pushed from the base's tip, the base is untouched, a PR is opened with
  the generated title, the change table in the body, labels and auto-merge;
- outputs carry the pull-request-url and the head commit;
- the user's checkout stays on its branch, at its commit, with its files (the change is
  made in a throw-away worktree by the publish engine);
- a "needs review" label from the labels input stays one label;
- a rerun of the same update pushes nothing new and updates the same PR (no duplicate);
- an update already in place on the base opens no PR (exit 0, changed=false);
- no token: exit 2 naming GITHUB_TOKEN, before anything is pushed;
- GitHub answering 401 is exit 2 naming the token variable, without the token, and
  found before the branch is pushed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from fakegithub import FakeGitHub
from gitrepo import Remote, git

HEAD = "gitops-guard/main/nginx-1.25.1"


@pytest.fixture
def fake_github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    monkeypatch.setenv("GITOPS_TOKEN", fake.token)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        yield fake


def _pr_args(checkout: Path) -> list[str]:
    return [
        "--dir",
        str(checkout),
        "--image",
        "nginx:1.25.1",
        "--pull-request",
        "--github-repository",
        "acme/gitops",
        "--label",
        "deploy",
        "--auto-merge",
    ]


def test_opens_pull_request(
    checkout: Path, remote: Remote, run_cli, runner_env, fake_github: FakeGitHub
) -> None:
    main_before = remote.tip()
    result = run_cli(*_pr_args(checkout))
    assert result.code == 0, result.err
    assert remote.tip() == main_before
    head_sha = remote.tip(HEAD)
    assert "nginx:1.25.1" in remote.show("apps/web/deployment.yaml", HEAD)
    assert git(remote.bare, "rev-parse", f"{HEAD}^").strip() == main_before
    (pull,) = fake_github.pulls.values()
    assert pull["title"] == "deploy: nginx 1.25.0 -> 1.25.1"
    assert "| nginx | apps/web/deployment.yaml:20 |" in pull["body"]
    assert (pull["head"]["ref"], pull["base"]["ref"]) == (HEAD, "main")
    assert [label["name"] for label in pull["labels"]] == ["deploy"]
    assert pull["auto_merge"]["merge_method"] == "squash"
    outputs = runner_env["output"].read_text()
    assert "pull-request-url=https://github.com/acme/gitops/pull/1" in outputs
    assert f"commit-sha={head_sha}" in outputs
    assert "pull request opened" in result.out


def test_checkout_is_never_switched(
    checkout: Path, remote: Remote, run_cli, fake_github: FakeGitHub
) -> None:
    branch_before = git(checkout, "symbolic-ref", "--short", "HEAD").strip()
    head_before = git(checkout, "rev-parse", "HEAD").strip()
    result = run_cli(*_pr_args(checkout))
    assert result.code == 0, result.err
    assert git(checkout, "symbolic-ref", "--short", "HEAD").strip() == branch_before
    assert git(checkout, "rev-parse", "HEAD").strip() == head_before
    assert git(checkout, "status", "--porcelain") == ""
    assert "nginx:1.25.0" in (checkout / "apps/web/deployment.yaml").read_text()
    assert git(checkout, "worktree", "list").count("\n") <= 1  # the worktree is gone


def test_labels_input_splits_on_commas_only(
    checkout: Path,
    remote: Remote,
    run_cli,
    fake_github: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INPUT_DIR", str(checkout))
    monkeypatch.setenv("INPUT_IMAGE", "nginx:1.25.1")
    monkeypatch.setenv("INPUT_PULL-REQUEST", "true")
    monkeypatch.setenv("INPUT_GITHUB-REPOSITORY", "acme/gitops")
    monkeypatch.setenv("INPUT_LABELS", "needs review, deploy")
    result = run_cli("--from-action-inputs")
    assert result.code == 0, result.err
    (pull,) = fake_github.pulls.values()
    assert [label["name"] for label in pull["labels"]] == ["needs review", "deploy"]


def test_rerun_updates_same_pull_request(
    checkout: Path, remote: Remote, run_cli, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    assert run_cli(*_pr_args(checkout)).code == 0
    first = remote.tip(HEAD)
    rerun_checkout = remote.clone(tmp_path / "rerun")
    report = tmp_path / "r.json"
    result = run_cli(*_pr_args(rerun_checkout), "--report", str(report))
    assert result.code == 0, result.err
    assert remote.tip(HEAD) == first  # nothing new pushed
    assert len(fake_github.pulls) == 1
    assert len(fake_github.requests_to("PATCH", "/pulls/1")) == 1
    data = json.loads(report.read_text())
    assert data["pull_request_created"] is False
    assert data["commit_sha"] == first
    assert "pull request updated" in result.out


def test_in_place_on_base_opens_nothing(
    checkout: Path, remote: Remote, run_cli, fake_github: FakeGitHub
) -> None:
    assert run_cli("--dir", str(checkout), "--image", "nginx:1.25.1", "--push").code == 0
    result = run_cli(*_pr_args(checkout))
    assert result.code == 0
    assert "already in place" in result.out
    assert [c for c in fake_github.calls if c[0] != "GET"] == []
    assert fake_github.pulls == {}
    assert HEAD not in remote.refs()


def test_no_token_is_exit_2_before_push(
    checkout: Path, remote: Remote, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    refs = remote.refs()
    result = run_cli(*_pr_args(checkout))
    assert result.code == 2
    assert "GITHUB_TOKEN" in result.err
    assert remote.refs() == refs


def test_rejected_token_is_exit_2(
    checkout: Path,
    remote: Remote,
    run_cli,
    fake_github: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITOPS_TOKEN", "ghs_notTheRightOne77")
    refs = remote.refs()
    result = run_cli(*_pr_args(checkout))
    assert result.code == 2
    assert remote.refs() == refs  # checked before anything was pushed
    assert "GITOPS_TOKEN" in result.err and "Bad credentials" in result.err
    assert "ghs_notTheRightOne77" not in result.err + result.out
