"""gitops-deploy.yml and rollback.yml under act, the parts that need no lab.

- deploy: false (a feature branch) runs plan and the caller's tests only: no build,
  promote, verify, rollback or record, and no GitHub Deployment is created.
- a failing test command fails the test job and stops the chain before the build.
- bad inputs (an unknown promote-mode, a missing image) stop the run in plan with an
  annotation naming each input; nothing after plan runs.
- a caller's mistakes in the files (a typo in slo-file, a manifest-paths entry that
  does not exist, an image that does not parse) are found by preflight in the plan
  job, before anything is promoted: each is named by its workflow input and the
  repository it is read from (never an internal folder), the malformed image once;
  promote never runs and the GitOps repository is unchanged;
- rollback.yml refuses bad inputs (an unknown mode, a bare tag without image-name)
  before fetching anything, names each one, and records no deployment.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import ROOT, ActRunner, FakeGitHub, git, job_results

CALLER = (Path(__file__).parent / "callers" / "deploy.yml").read_text()
ROLLBACK_CALLER = (Path(__file__).parent / "callers" / "rollback.yml").read_text()
LATER = ("build", "promote", "verify", "rollback", "record")

# Generous: a test's timeout covers its fixtures, and the first test of a run that
# asks for install_env fills uv's cache (network, minutes on a loaded machine); these
# tests are about what is refused, not about speed.
pytestmark = pytest.mark.timeout(900)


def test_feature_branch_runs_the_tests_only(act_runner: ActRunner, fake_github: FakeGitHub) -> None:
    act_runner.write_caller(
        CALLER, {"check.sh": "test -f check.sh && echo 'unit tests: 3 passed'\n"}
    )
    result = act_runner.run({"deploy": "false", "test-command": "bash check.sh"})
    jobs = job_results(result, ("plan", "test", *LATER))
    assert jobs["plan"] == "success", result.tail()
    assert jobs["test"] == "success", result.tail()
    assert "unit tests: 3 passed" in result.output
    assert all(jobs[name] == "not run" for name in LATER), jobs
    assert fake_github.deployments == {}


def _gitops_repo(tmp_path: Path, runner: ActRunner) -> tuple[Path, str]:
    """examples/gitops-repo as acme/gitops; returns its path and seed commit."""
    gitops = tmp_path / "gitops"
    shutil.copytree(ROOT / "examples" / "gitops-repo", gitops)
    git("init", "-q", "-b", "main", cwd=gitops)
    git("add", "-A", cwd=gitops)
    git("commit", "-q", "-m", "seed", cwd=gitops)
    runner.link("acme/gitops", gitops)
    return gitops, git("rev-parse", "HEAD", cwd=gitops)


def test_failing_tests_stop_the_chain_before_the_build(
    act_runner: ActRunner,
    fake_github: FakeGitHub,
    install_env: dict[str, str],
    tmp_path: Path,
) -> None:
    _gitops_repo(tmp_path, act_runner)
    act_runner.write_caller(CALLER)
    result = act_runner.run(
        {
            "test-command": "echo 'unit tests: 1 failed'; exit 1",
            "image": "ghcr.io/gitops-guard/sre-demo-app:1.1.0",
            "argocd-server": "http://127.0.0.1:9",
            "argocd-app": "web",
            "prometheus-url": "http://127.0.0.1:9",
        },
        secrets={"GITOPS_TOKEN": "e2e-gitops-token"},
        env=install_env,
    )
    jobs = job_results(result, ("plan", "test", "build", "promote", "verify", "rollback"))
    assert jobs["test"] == "failure", result.tail()
    assert "unit tests: 1 failed" in result.output
    assert all(jobs[name] == "not run" for name in ("build", "promote", "verify", "rollback"))
    assert fake_github.deployments == {}


def test_bad_inputs_are_named_and_nothing_runs(
    act_runner: ActRunner, fake_github: FakeGitHub
) -> None:
    act_runner.write_caller(CALLER)
    result = act_runner.run({"promote-mode": "yolo", "argocd-app": "web"})
    jobs = job_results(result, ("plan", "test", *LATER))
    assert jobs["plan"] == "failure", result.tail()
    assert (
        "gitops-deploy input promote-mode::'yolo' is not one of: push, pull-request" in result.log
    )
    assert "gitops-deploy input image::set image" in result.log
    assert "gitops-deploy input argocd-server::is empty" in result.log
    assert "gitops-deploy input GITOPS_TOKEN::secret is empty" in result.log
    assert all(
        jobs[name] in ("not run", "skipped")
        for name in ("test", "build", "promote", "verify", "rollback")
    )
    assert fake_github.deployments == {}


def test_rollback_refuses_bad_inputs_and_records_nothing(
    act_runner: ActRunner, fake_github: FakeGitHub
) -> None:
    act_runner.write_caller(ROLLBACK_CALLER, name="rollback.yml")
    result = act_runner.run(
        {"target": "1.1.0", "mode": "yolo"},
        secrets={"GITOPS_TOKEN": "e2e-gitops-token"},
        workflow="rollback.yml",
    )
    assert job_results(result, ("rollback", "record")) == {
        "rollback": "failure",
        "record": "not run",
    }, result.tail()
    assert "rollback input mode::'yolo' is not one of: commit, pull-request" in result.log
    assert "rollback input target::'1.1.0' is a bare tag; set image-name" in result.log
    assert "checkout stand-in" not in result.output  # refused before anything was fetched
    assert fake_github.deployments == {}


def test_preflight_in_plan_names_each_mistake_and_nothing_is_promoted(
    act_runner: ActRunner,
    fake_github: FakeGitHub,
    install_env: dict[str, str],
    tmp_path: Path,
) -> None:
    gitops, seed = _gitops_repo(tmp_path, act_runner)
    act_runner.write_caller(CALLER)
    result = act_runner.run(
        {
            "image": "ghcr.io/gitops-guard/sre-demo-app:1.1.0",
            "images": "ghcr.io/gitops-guard/sre-demo-app:1.1.0:oops",
            "manifest-paths": "deploy/sre-demo-app\ndeploy/checkout",
            "slo-file": "slo/checkout-prod.yaml",
            "argocd-server": "http://127.0.0.1:9",
            "argocd-app": "sre-demo-app",
            "prometheus-url": "http://127.0.0.1:9",
        },
        secrets={"GITOPS_TOKEN": "e2e-gitops-token"},
        env=install_env,
    )
    jobs = job_results(result, ("plan", *LATER))
    assert jobs["plan"] == "failure", result.tail()
    assert all(jobs[name] == "not run" for name in ("build", "promote", "verify", "rollback"))
    where = "acme/gitops@main"
    assert f"slo-file: 'slo/checkout-prod.yaml' is not a file in {where}" in result.output
    assert f"manifest-paths: 'deploy/checkout' does not exist in {where}" in result.output
    annotations = [
        line for line in result.output.splitlines() if "::error title=preflight::" in line
    ]
    assert len(annotations) == 3, annotations  # one per problem, nothing else
    (image_error,) = [line for line in annotations if "images: " in line]
    assert image_error.count("1.1.0:oops") == 1 and "is not a valid image reference" in image_error
    assert "gitops/" not in "\n".join(
        line for line in result.output.splitlines() if "preflight" in line or "slo-file" in line
    )
    assert git("rev-parse", "HEAD", cwd=gitops) == seed
    assert git("log", "--all", "--format=%H", cwd=gitops).splitlines() == [seed]
