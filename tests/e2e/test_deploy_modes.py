"""gitops-deploy.yml under act against the lab: pull-request mode gated after the
merge, and staging before production.

- pull-request mode: a promotion pull request (update-manifest's own commit of the
  bad 1.2.0, on a gitops-guard/ branch) is merged in the GitOps repository (a merge
  commit, as GitHub makes it; the fake GitHub holds the pull request, merged). The
  GitOps repository's run (deploy-commit = the merge commit) reads the image from the
  merged commits, ArgoCD runs exactly the merge commit, the gate fails, the merge is
  reverted and ArgoCD runs the revert; the records go to the application repository
  (record-repository, RECORD_TOKEN, record-ref), the merged pull request gets a
  comment and the webhook is called; the gate was given the previous version.
- staging before production: production refuses 1.1.0 while staging's newest record
  of it failed (plan exits 1, nothing promoted), then promotes it once staging's
  record passed, with the staging verdict in production's evidence artifact and the
  staging-verdict in the summary of the chain.

The whole staging-then-production chain (the example caller, a staging and a
production app) is tests/e2e/test_deploy_environments.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ActRunner, FakeGitHub, git, job_results
from .test_deploy_lab import (
    BAD,
    CALLER,
    GOOD,
    IMAGE,
    SEED,
    _app,
    _served_version,
    _tip,
    _trailers,
)

CHAIN = ("plan", "test", "build", "promote", "verify", "bake", "rollback", "record")

pytestmark = pytest.mark.timeout(900)


def _inputs(lab: dict[str, str], **extra: str) -> dict[str, str]:
    return {
        "gitops-repository": "acme/gitops",
        "argocd-server": lab["ARGOCD_SERVER"],
        "argocd-app": lab["ARGOCD_APP"],
        "argocd-timeout-seconds": "120",
        "prometheus-url": lab["PROMETHEUS_URL"],
        "slo-file": "slo.yaml",
        "rollback-mode": "commit",
        **extra,
    }


def _merge_promotion_pull_request(
    lab: dict[str, str], fake: FakeGitHub, tmp_path: Path, image: str
) -> str:
    """update-manifest commits the image on a gitops-guard/ branch; a person merges it."""
    work = tmp_path / "gitops-work"
    branch = "gitops-guard/main/sre-demo-app"
    git("clone", "-q", lab["GITOPS_REPO"], str(work), cwd=tmp_path)
    git("checkout", "-q", "-b", branch, cwd=work)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    done = subprocess.run(
        [
            *(sys.executable, "-m", "gitops_guard", "update-manifest"),
            *("--dir", str(work), "--image", image, "--commit"),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    git("push", "-q", "origin", branch, cwd=work)
    git("checkout", "-q", "main", cwd=work)
    git(
        "merge",
        "-q",
        "--no-ff",
        "-m",
        f"Merge pull request #1 from acme/{branch}",
        branch,
        cwd=work,
    )
    git("push", "-q", "origin", "main", cwd=work)
    merge = git("rev-parse", "HEAD", cwd=work)
    number = 1
    fake.pulls[number] = fake._pull_payload(number, branch, "main", f"deploy {image}", "")
    fake.merge(number, merge)
    return merge


def test_pull_request_mode_gates_the_merge_and_reverts_it(
    act_runner: ActRunner,
    fake_github: FakeGitHub,
    lab: dict[str, str],
    install_env: dict[str, str],
    tmp_path: Path,
) -> None:
    act_runner.link("acme/gitops", Path(lab["GITOPS_REPO"]))
    act_runner.write_caller(CALLER)
    merge = _merge_promotion_pull_request(lab, fake_github, tmp_path, f"{IMAGE}:{BAD}")
    assert fake_github.pulls[1]["merged"] and fake_github.pulls[1]["merge_commit_sha"] == merge

    result = act_runner.run(
        _inputs(
            lab,
            **{
                "deploy-commit": merge,
                "record-repository": "acme/web",
                "record-ref": "main",
                "notify-issue": "1",
            },
        ),
        secrets={
            # The GitOps repository's token also comments on its pull request.
            "GITOPS_TOKEN": fake_github.token,
            "ARGOCD_TOKEN": lab["ARGOCD_TOKEN"],
            "RECORD_TOKEN": fake_github.token,
            "ROLLBACK_WEBHOOK_URL": f"{fake_github.url}/hooks/rollback",
        },
        env=install_env,
        timeout=420,
    )
    jobs = job_results(result, CHAIN)
    assert jobs["build"] == "not run" and jobs["promote"] == "success", result.tail()
    assert jobs["verify"] == "failure" and jobs["rollback"] == "success", result.tail()
    assert jobs["record"] == "success", result.tail()
    # ArgoCD ran exactly the merge commit, and the gate knew the previous version
    (timeline,) = result.artifacts.glob("gitops-guard-gate-lab-*/argocd-wait.json")
    assert merge in timeline.read_text()
    (gate,) = result.artifacts.glob("gitops-guard-gate-lab-*/gitops-guard-gate.json")
    report = json.loads(gate.read_text())
    assert report["verdict"] == "fail"
    assert f"baseline_version={SEED}" in result.output, result.tail()
    assert f"previous_image={IMAGE}:{SEED}" in result.output
    # the merge is reverted, ArgoCD runs the revert, the lab serves the seed again
    revert = _tip(lab)
    assert f"Gitops-Guard-Reverts: {merge}" in _trailers(lab, revert)
    assert _app(lab)["status"]["sync"]["revision"] == revert  # type: ignore[index]
    assert _served_version(lab) == SEED
    # the records are the application repository's, for its ref
    records = {d["task"]: d for d in fake_github.records()}
    assert records["deploy"]["ref"] == "main"
    assert records["deploy"]["payload"]["gitops_commit"] == merge
    assert [s["state"] for s in records["deploy"]["statuses"]] == ["failure"]
    assert [s["state"] for s in records["deploy:rollback"]["statuses"]] == ["success"]
    # people are told: a comment on the merged pull request, and the webhook
    assert fake_github.comments and "1.2.0" in fake_github.comments[-1]["body"]
    assert any(path == "/hooks/rollback" for _, path, _ in fake_github.calls)


def test_production_takes_only_what_passed_in_staging(
    act_runner: ActRunner,
    fake_github: FakeGitHub,
    lab: dict[str, str],
    install_env: dict[str, str],
) -> None:
    act_runner.link("acme/gitops", Path(lab["GITOPS_REPO"]))
    act_runner.write_caller(CALLER)
    seed = _tip(lab)
    image = f"{IMAGE}:{GOOD}"
    fake_github.add_deployment(
        environment="staging",
        payload={"image": image, "verdict": "pass", "gitops_commit": "1" * 40},
        state="success",
    )
    failed = fake_github.add_deployment(
        environment="staging",
        payload={"image": image, "verdict": "fail", "gitops_commit": "2" * 40},
        state="failure",
    )
    secrets = {"GITOPS_TOKEN": "e2e-gitops-token", "ARGOCD_TOKEN": lab["ARGOCD_TOKEN"]}
    refused = act_runner.run(
        _inputs(lab, image=image, environment="production", **{"require-verdict-from": "staging"}),
        secrets=secrets,
        env=install_env,
        timeout=420,
    )
    jobs = job_results(refused, CHAIN)
    assert jobs["plan"] == "failure", refused.tail()
    assert all(jobs[j] == "not run" for j in ("build", "promote", "verify", "rollback")), jobs
    assert f"its newest deploy to staging has verdict 'fail' (deployment {failed['id']})" in (
        refused.output
    )
    assert _tip(lab) == seed

    passed = fake_github.add_deployment(
        environment="staging",
        payload={"image": image, "verdict": "pass", "gitops_commit": "3" * 40},
        state="success",
    )
    accepted = act_runner.run(
        _inputs(lab, image=image, environment="production", **{"require-verdict-from": "staging"}),
        secrets=secrets,
        env=install_env,
        timeout=420,
    )
    jobs = job_results(accepted, CHAIN)
    assert jobs["plan"] == "success" and jobs["verify"] == "success", accepted.tail()
    assert jobs["rollback"] == "not run", jobs
    assert _served_version(lab) == GOOD
    (carried,) = accepted.artifacts.glob("gitops-guard-gate-production-*/required-verdict.json")
    evidence = json.loads(carried.read_text())
    assert evidence["images"][image]["deployment_id"] == passed["id"]
    assert evidence["images"][image]["verdict"] == "pass"
    production = [d for d in fake_github.records() if d["environment"] == "production"]
    assert [s["state"] for s in production[-1]["statuses"]] == ["success"]


BAKE_RULES = """\
version: 1
rules:
  - name: always-fires
    prometheus:
      - query: vector(1)
        above: 0
"""


def test_a_rule_that_fires_during_the_bake_rolls_a_passing_deploy_back(
    act_runner: ActRunner,
    fake_github: FakeGitHub,
    lab: dict[str, str],
    install_env: dict[str, str],
    tmp_path: Path,
) -> None:
    work = tmp_path / "gitops-work"
    git("clone", "-q", lab["GITOPS_REPO"], str(work), cwd=tmp_path)
    (work / "bake-rules.yaml").write_text(BAKE_RULES)
    git("add", "bake-rules.yaml", cwd=work)
    git("commit", "-q", "-m", "rollback rules for the bake", cwd=work)
    git("push", "-q", "origin", "main", cwd=work)
    act_runner.link("acme/gitops", Path(lab["GITOPS_REPO"]))
    act_runner.write_caller(CALLER)

    result = act_runner.run(
        _inputs(
            lab,
            image=f"{IMAGE}:{GOOD}",
            **{"rollback-rules": "bake-rules.yaml", "bake-duration": "20s"},
        ),
        secrets={"GITOPS_TOKEN": "e2e-gitops-token", "ARGOCD_TOKEN": lab["ARGOCD_TOKEN"]},
        env=install_env,
        timeout=420,
    )
    jobs = job_results(result, CHAIN)
    assert jobs["verify"] == "success" and jobs["bake"] == "success", result.tail()
    assert jobs["rollback"] == "not run" and jobs["record"] == "success", jobs
    revert = _tip(lab)
    message = _trailers(lab, revert)
    assert "Gitops-Guard-Action: rollback" in message
    assert "Gitops-Guard-Rule: always-fires" in message
    assert _app(lab)["status"]["sync"]["revision"] == revert  # type: ignore[index]
    assert _served_version(lab) == SEED
    states = {d["task"]: d["statuses"][-1]["state"] for d in fake_github.records()}
    assert states == {"deploy": "success", "deploy:rollback": "success"}, states
    rollback = next(d for d in fake_github.records() if d["task"] == "deploy:rollback")
    assert rollback["payload"]["gitops_commit"] == revert
    assert "was rejected (a rollback rule fired during the bake) and rolled back" in result.output
