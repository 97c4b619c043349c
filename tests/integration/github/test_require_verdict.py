"""`gitops-guard require-verdict` against the fake GitHub's deployments (PyGithub, real shapes).

- the image's newest staging record passed: exit 0, outputs verdict and the evidence
  (one line of JSON naming the staging deployment);
- the newest staging record failed: exit 1, an ::error annotation and a summary that
  says how to go on (deploy to staging first, or force), nothing else;
- force: exit 0 with a warning that keeps the reason;
- a token GitHub refuses is exit 2 naming GITHUB_TOKEN, never 1 (a fault is never a no);
- the listing asked only for the environment's records.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakegithub import FakeGitHub

from gitops_guard import cli

IMAGE = "ghcr.io/acme/web:1.4.2"


def _run(
    fake: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *extra: str
) -> tuple[int, dict[str, str], str]:
    out, summary = tmp_path / "out", tmp_path / "summary"
    out.write_text("")
    summary.write_text("")
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_TOKEN", fake.token)
    code = cli.main(
        ["require-verdict", "--repository", fake.repository, "--environment", "staging", *extra]
    )
    values: dict[str, str] = {}
    for line in out.read_text().splitlines():
        if "=" in line and "<<" not in line:
            key, _, value = line.partition("=")
            values[key] = value
    return code, values, summary.read_text()


def test_a_passing_staging_verdict_lets_the_image_through(
    fake_github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staging = fake_github.add_deployment(
        environment="staging",
        payload={"image": IMAGE, "verdict": "pass", "gitops_commit": "a" * 40},
    )
    fake_github.add_deployment(
        environment="production", payload={"image": IMAGE, "verdict": "fail"}
    )
    code, outputs, _ = _run(fake_github, tmp_path, monkeypatch, "--image", IMAGE)
    assert code == 0
    assert outputs["verdict"] == "pass"
    evidence = json.loads(outputs["evidence"])
    assert evidence["images"][IMAGE]["deployment_id"] == staging["id"]
    assert evidence["images"][IMAGE]["gitops_commit"] == "a" * 40
    listed = [p for m, p, _ in fake_github.calls if m == "GET" and p.endswith("/deployments")]
    assert listed, fake_github.calls


def test_a_failed_staging_verdict_refuses_unless_forced(
    fake_github: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake_github.add_deployment(environment="staging", payload={"image": IMAGE, "verdict": "pass"})
    fake_github.add_deployment(environment="staging", payload={"image": IMAGE, "verdict": "fail"})
    code, outputs, summary = _run(fake_github, tmp_path, monkeypatch, "--image", IMAGE)
    assert code == 1
    assert outputs["verdict"] == ""
    said = capsys.readouterr()
    assert "no passing verdict in staging" in said.out + said.err
    assert "set `force: true`" in summary

    code, _, _ = _run(fake_github, tmp_path, monkeypatch, "--image", IMAGE, "--force")
    assert code == 0
    said = capsys.readouterr()
    assert "forced: " in said.out + said.err


def test_a_refused_token_is_bad_input_not_a_no(
    fake_github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_github.fail_status = 403
    code, _, _ = _run(fake_github, tmp_path, monkeypatch, "--image", IMAGE)
    assert code == 2


def test_the_approval_jobs_own_deployments_never_decide(
    fake_github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Required reviewers (docs/workflows.md): the caller's approval job has
    ``environment: production-approval``, and GitHub creates a deployment for that job
    (no payload, task ``deploy``). Those records, and one GitHub would make in
    ``staging`` itself if a job named that environment, are not gitops-guard's: the
    newest record *of the image* still decides, and the approval environment holds
    no verdict that could let an image into production."""
    passed = fake_github.add_deployment(
        environment="staging",
        payload={"image": IMAGE, "verdict": "pass", "gitops_commit": "a" * 40},
        state="success",
    )
    fake_github.add_deployment(environment="production-approval", state="success")
    fake_github.add_deployment(environment="staging", state="success")  # GitHub's, newest
    code, outputs, _ = _run(fake_github, tmp_path, monkeypatch, "--image", IMAGE)
    assert code == 0
    assert json.loads(outputs["evidence"])["images"][IMAGE]["deployment_id"] == passed["id"]

    # asking the approval environment for a verdict finds none: exit 1, not a pass
    code = cli.main(
        [
            *("require-verdict", "--repository", fake_github.repository),
            *("--environment", "production-approval", "--image", IMAGE),
        ]
    )
    assert code == 1
