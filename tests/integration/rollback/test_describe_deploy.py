"""`gitops-guard describe-deploy` on a real GitOps history.

- the merge commit of a promotion pull request (no trailers of its own) describes the
  deploy it merged: image, previous image, the gate variables, as step outputs;
- a commit gitops-guard did not make is exit 0 with is-deploy false;
- an unknown commit is exit 2 naming --commit.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rollbackrepo import GitopsRepo, git, outputs

from gitops_guard import cli

OLD, NEW = "ghcr.io/acme/web:1.0.0", "ghcr.io/acme/web:1.1.0"


def _describe(
    work: Path, commit: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, dict[str, str]]:
    out = tmp_path / "github_output"
    out.write_text("")
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    code = cli.main(["describe-deploy", "--dir", str(work), "--commit", commit])
    return code, outputs(out)


def test_the_merge_of_a_promotion_pull_request_describes_its_deploy(
    gitops: GitopsRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    branch = gitops.clone("ci")
    git(branch, "checkout", "-q", "-b", "gitops-guard/web")
    path = branch / "apps" / "web" / "deployment.yaml"
    path.write_text(path.read_text().replace(OLD, NEW))
    message = (
        f"deploy web: {NEW}\n\nGitops-Guard-Action: update-manifest\n"
        f"Gitops-Guard-Image: {NEW}\nGitops-Guard-Previous-Image: {OLD}\n"
    )
    git(branch, "commit", "-q", "-am", message)
    git(branch, "push", "-q", "origin", "gitops-guard/web")
    git(gitops.work, "fetch", "-q", "origin", "gitops-guard/web")
    git(gitops.work, "merge", "-q", "--no-ff", "-m", "Merge pull request #7", "FETCH_HEAD")
    merge = git(gitops.work, "rev-parse", "HEAD").strip()

    code, out = _describe(gitops.work, merge, tmp_path, monkeypatch)
    assert code == 0
    assert out["is-deploy"] == "true"
    assert out["image"] == NEW and out["previous-image"] == OLD
    assert out["revision"] == merge
    assert out["vars"].splitlines() == [
        f"image={NEW}",
        "version=1.1.0",
        f"revision={merge}",
        f"previous_image={OLD}",
        "baseline_version=1.0.0",
    ]


def test_other_commits_are_not_deploys_and_unknown_ones_are_bad_input(
    gitops: GitopsRepo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = _describe(gitops.work, "HEAD", tmp_path, monkeypatch)
    assert (code, out["is-deploy"], out["vars"].startswith("revision=")) == (0, "false", True)
    code, _ = _describe(gitops.work, "f" * 40, tmp_path, monkeypatch)
    assert code == 2
    assert "--commit" in capsys.readouterr().err
