"""What act ignores, held by reading the workflow YAML.

act does not enforce ``permissions``, ``concurrency`` or ``environment``, so these
tests read the reusable workflows (and the example callers) and check:

- top-level ``permissions: {}`` and an explicit ``permissions`` on every job; only
  ``build`` may write packages, only the record jobs may write deployments, and no
  job's GITHUB_TOKEN may write contents (the GitOps repository is written with
  GITOPS_TOKEN or an App token);
- every ``actions/checkout`` sets ``persist-credentials: false``;
- no ``${{ }}`` expression inside a ``run:`` script (inputs reach scripts via env);
- no ``secrets: inherit`` anywhere, and secrets are named explicitly;
- deploy and rollback share the concurrency group ``gitops-guard-<environment>``,
  never cancel a run in progress, and test-only deploy runs get a group of their own;
- no job sets ``environment:`` (GitHub would create deployments of its own);
- every action of gitops-guard is used from the ``.gitops-guard`` checkout made at
  the workflow's own commit, after that checkout;
- required reviewers: the staging-then-production example pauses in a job of its
  own with ``environment:`` (no steps that deploy, no permissions), between the
  staging and the production calls; production takes staging's image and requires
  its verdict; no other example job sets ``environment:``;
- pull-request mode: the GitOps repository's example runs only on a merged
  gitops-guard/ pull request and passes its merge commit as deploy-commit, records
  in the application repository with RECORD_TOKEN;
- the rollback also runs when verify failed without a verdict (a query rejected
  after the promotion), except when ArgoCD was unreachable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import ROOT

REUSABLE = {
    name: yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
    for name in ("gitops-deploy.yml", "rollback.yml")
}
EXAMPLES = sorted(
    [
        *(ROOT / "examples" / "app-repo" / ".github" / "workflows").glob("*.yml"),
        *(ROOT / "examples" / "gitops-repo" / ".github" / "workflows").glob("*.yml"),
    ]
)
CHECKOUT = "actions/checkout@"


def _jobs(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(workflow["jobs"])


@pytest.mark.parametrize("name", sorted(REUSABLE))
def test_least_privilege_permissions(name: str) -> None:
    workflow = REUSABLE[name]
    assert workflow["permissions"] == {}
    for job_id, job in _jobs(workflow).items():
        assert "permissions" in job, f"{name}: job {job_id} has no explicit permissions"
        permissions = job["permissions"] or {}
        assert permissions.get("contents") in (None, "read"), (name, job_id)
        if permissions.get("packages") == "write":
            assert job_id == "build", (name, job_id)
        if permissions.get("deployments") == "write":
            assert job_id == "record", (name, job_id)
        assert "environment" not in job, f"{name}: job {job_id} sets environment"


@pytest.mark.parametrize("name", sorted(REUSABLE))
def test_scripts_take_inputs_from_env_and_checkouts_keep_no_credentials(name: str) -> None:
    for job_id, job in _jobs(REUSABLE[name]).items():
        for step in job.get("steps", []):
            if "run" in step:
                assert "${{" not in step["run"], f"{name}: {job_id}/{step.get('name')}"
            if str(step.get("uses", "")).startswith(CHECKOUT):
                assert step["with"]["persist-credentials"] is False, (name, job_id)


def test_no_inherited_secrets() -> None:
    for path in [*ROOT.glob(".github/workflows/*.yml"), *EXAMPLES]:
        assert "secrets: inherit" not in path.read_text(), path
    for path in EXAMPLES:
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            if "uses" in job:
                assert isinstance(job.get("secrets"), dict), path


def test_deploy_and_rollback_share_one_group_per_environment() -> None:
    deploy = REUSABLE["gitops-deploy.yml"]["concurrency"]
    rollback = REUSABLE["rollback.yml"]["concurrency"]
    assert rollback["group"] == "gitops-guard-${{ inputs.environment }}"
    assert "format('gitops-guard-{0}', inputs.environment)" in deploy["group"]
    assert "inputs.deploy &&" in deploy["group"]  # test-only runs: another group
    assert "gitops-guard-tests-" in deploy["group"]
    assert deploy["cancel-in-progress"] is False
    assert rollback["cancel-in-progress"] is False
    for path in EXAMPLES:  # a caller holding the group would deadlock the call
        assert "gitops-guard-" not in str(yaml.safe_load(path.read_text()).get("concurrency"))


@pytest.mark.parametrize("name", sorted(REUSABLE))
def test_own_actions_come_from_the_workflow_commit(name: str) -> None:
    for job_id, job in _jobs(REUSABLE[name]).items():
        checked_out = False
        for step in job.get("steps", []):
            uses = str(step.get("uses", ""))
            if uses.startswith(CHECKOUT) and step["with"].get("path") == ".gitops-guard":
                assert "self" in step["with"]["repository"] or "self-" in str(step["with"])
                assert "sha" in step["with"]["ref"]
                checked_out = True
            if "action-" in uses:
                assert uses.startswith("./.gitops-guard/action-"), (name, job_id, uses)
                assert checked_out, f"{name}: {job_id} uses {uses} before checking it out"
                assert Path(ROOT / uses.removeprefix("./.gitops-guard/") / "action.yml").exists()


def _example(name: str) -> dict[str, Any]:
    (path,) = [p for p in EXAMPLES if p.name == name]
    return dict(yaml.safe_load(path.read_text()))


def test_required_reviewers_pause_in_an_approval_job_of_their_own() -> None:
    jobs = _example("staging-then-production.yml")["jobs"]
    with_environment = [job_id for job_id, job in jobs.items() if "environment" in job]
    assert with_environment == ["approve"]
    approve = jobs["approve"]
    assert approve["environment"] == "production-approval"
    assert approve["permissions"] == {} and "uses" not in approve
    assert approve["needs"] == "staging" and "needs.staging.outputs.verdict" in approve["if"]
    production = jobs["production"]
    assert set(production["needs"]) == {"staging", "approve"}
    assert production["with"]["image"] == "${{ needs.staging.outputs.image }}"
    assert production["with"]["require-verdict-from"] == "staging"
    for path in EXAMPLES:
        if path.name != "staging-then-production.yml":
            assert all(
                "environment" not in j for j in yaml.safe_load(path.read_text())["jobs"].values()
            )


def test_pull_request_mode_gates_the_merge_commit_in_the_gitops_repository() -> None:
    example = _example("verify-promotion.yml")
    assert example[True]["pull_request"]["types"] == ["closed"]
    (job,) = example["jobs"].values()
    assert "github.event.pull_request.merged" in job["if"]
    assert "'gitops-guard/'" in job["if"]
    assert job["with"]["deploy-commit"] == "${{ github.event.pull_request.merge_commit_sha }}"
    assert job["with"]["record-repository"] and "RECORD_TOKEN" in job["secrets"]
    inputs = REUSABLE["gitops-deploy.yml"][True]["workflow_call"]["inputs"]
    assert set(job["with"]) <= set(inputs)


def test_a_verify_that_fails_without_a_verdict_is_rolled_back() -> None:
    condition = _jobs(REUSABLE["gitops-deploy.yml"])["rollback"]["if"]
    assert "needs.verify.result == 'failure'" in condition
    assert "needs.verify.outputs.argocd-result != 'unreachable'" in condition
