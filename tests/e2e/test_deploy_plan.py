"""gitops-deploy.yml and rollback.yml under act, the parts that need no lab.

- deploy: false (a feature branch) runs plan and the caller's tests only: no build,
  promote, verify, rollback or record, and no GitHub Deployment is created.
- a failing test command fails the test job and stops the chain before the build.
- bad inputs (an unknown promote-mode, a missing image) stop the run in plan with an
  annotation naming each input; nothing after plan runs.
- rollback.yml refuses bad inputs (an unknown mode, a bare tag without image-name)
  before fetching anything, names each one, and records no deployment.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import ActRunner, FakeGitHub, job_results

CALLER = (Path(__file__).parent / "callers" / "deploy.yml").read_text()
ROLLBACK_CALLER = (Path(__file__).parent / "callers" / "rollback.yml").read_text()
LATER = ("build", "promote", "verify", "rollback", "record")

pytestmark = pytest.mark.timeout(300)


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


def test_failing_tests_stop_the_chain_before_the_build(
    act_runner: ActRunner, fake_github: FakeGitHub
) -> None:
    act_runner.write_caller(CALLER)
    result = act_runner.run(
        {
            "test-command": "echo 'unit tests: 1 failed'; exit 1",
            "image": "registry.lab/web:1.0.0",
            "argocd-server": "http://127.0.0.1:9",
            "argocd-app": "web",
            "prometheus-url": "http://127.0.0.1:9",
        },
        secrets={"GITOPS_TOKEN": "e2e-gitops-token"},
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
