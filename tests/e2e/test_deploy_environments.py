"""Staging, then production: the example caller under act, against one lab of two apps.

One lab for the module (``lab up --app`` twice, seeded by :mod:`envlab`): a staging
and a production ArgoCD Application over two kustomize overlays of one base, each
with its own demo app, load and Prometheus series, so each gate passes or fails on
its own. Production is annotated for user traffic: 1.4.0, which fails only under
user sessions, passes staging (smoke traffic) and fails production.

- the example caller (examples/app-repo/.github/workflows/staging-then-production.yml)
  with 1.4.0: staging promotes its overlay, passes its gate and is recorded; the
  approval job runs; production promotes the same image into its own overlay, its
  plan finds staging's passing record, its gate fails and only production's deploy
  is reverted (staging's overlay and demo app untouched); the production record
  carries staging's verdict and deployment id, as its evidence artifact does;
- the same caller with 1.2.0: staging fails and is reverted; neither the approval
  nor production starts, production's overlay and demo app are untouched and no
  production record exists;
- a query Prometheus rejects at gate time (an unknown function: the offline parser
  leaves it to Prometheus, so the plan job's preflight passes): verify exits 2 after
  the promotion, the rollback job reverts the deploy and waits for ArgoCD, the
  record says the deploy could not be verified and the rollback succeeded; the new
  version is never left live and unverified.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import envlab
from .conftest import ActResult, ActRunner, FakeGitHub, _lab_cli, git

pytestmark = pytest.mark.timeout(900)

CALLER = (Path(__file__).parent / "callers" / "deploy.yml").read_text()
IMAGE = envlab.IMAGE
STAGING, PRODUCTION = (envlab.app_name(e) for e in envlab.ENVIRONMENTS)
USER_ONLY_BAD, BAD, GOOD = "1.4.0", "1.2.0", "1.1.0"
CALLED = "gitops-deploy"  # the reusable workflow's name: act's job names are CALLER/CALLED/JOB
APPROVE = "e2e-staging-then-production/approve"


def _called(result: ActResult, caller: str) -> dict[str, str]:
    """Job id -> result of the jobs one call of gitops-deploy.yml ran."""
    prefix = f"{caller}/{CALLED}/"
    return {k.removeprefix(prefix): v for k, v in result.named_jobs.items() if k.startswith(prefix)}


@pytest.fixture(scope="module")
def env_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """``lab up`` with the staging and production Applications; ``lab down`` after."""
    root = tmp_path_factory.mktemp("env-lab")
    seed = envlab.write_seed(root / "seed")
    lab_dir = root / "lab"
    apps = [arg for app in envlab.app_files() for arg in ("--app", app)]
    started = _lab_cli("up", "--dir", str(lab_dir), "--seed", str(seed), *apps)
    try:
        if started.returncode != 0:
            pytest.fail(f"lab up failed ({started.returncode}):\n{started.stdout}{started.stderr}")
        values: dict[str, str] = {}
        for line in (lab_dir / "lab.env").read_text().splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip()
        yield values
    finally:
        _lab_cli("down", "--dir", str(lab_dir))


def _urls(lab: dict[str, str]) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in lab["DEMO_APP_URLS"].split(","))


def _served(lab: dict[str, str], app: str) -> str:
    try:
        with urllib.request.urlopen(_urls(lab)[app] + "/", timeout=10) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:  # a deliberate 500 names the version too
        if exc.code != 500:
            raise
        body = exc.read()
    return str(json.loads(body)["version"])


def _app(lab: dict[str, str], app: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{lab['ARGOCD_SERVER']}/api/v1/applications/{app}",
        headers={"Authorization": f"Bearer {lab['ARGOCD_TOKEN']}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


def _repo(lab: dict[str, str]) -> Path:
    return Path(lab["GITOPS_REPO"])


def _tip(lab: dict[str, str]) -> str:
    return git("rev-parse", "main", cwd=_repo(lab))


def _history(lab: dict[str, str], since: str) -> list[tuple[str, str, list[str]]]:
    """(sha, message, files changed) of every commit after ``since``, oldest first."""
    shas = git("rev-list", "--reverse", f"{since}..main", cwd=_repo(lab)).split()
    return [
        (
            sha,
            git("log", "-1", "--format=%B", sha, cwd=_repo(lab)),
            git("show", "--format=", "--name-only", sha, cwd=_repo(lab)).split(),
        )
        for sha in shas
    ]


def _overlay_tag(lab: dict[str, str], environment: str, revision: str = "main") -> str:
    text = git(
        "show", f"{revision}:{envlab.overlay(environment)}/kustomization.yaml", cwd=_repo(lab)
    )
    return next(
        line.split(":", 1)[1].strip().strip('"') for line in text.splitlines() if "newTag" in line
    )


def _chain(
    runner: ActRunner, lab: dict[str, str], version: str, install_env: dict[str, str]
) -> ActResult:
    runner.link("acme/gitops", _repo(lab))
    runner.write_caller(envlab.example_caller(), name="release.yml")
    return runner.run(
        {
            "image": f"{IMAGE}:{version}",
            "argocd-server": lab["ARGOCD_SERVER"],
            "prometheus-url": lab["PROMETHEUS_URL"],
            "staging-slo-file": envlab.slo_file("staging"),
            "production-slo-file": envlab.slo_file("production"),
        },
        secrets={"GITOPS_TOKEN": "e2e-gitops-token", "ARGOCD_TOKEN": lab["ARGOCD_TOKEN"]},
        env=install_env,
        timeout=600,
        workflow="release.yml",
    )


def test_staging_passes_production_fails_and_only_production_is_reverted(
    act_runner: ActRunner,
    fake_github: FakeGitHub,
    env_lab: dict[str, str],
    install_env: dict[str, str],
) -> None:
    lab = env_lab
    before = _tip(lab)
    image = f"{IMAGE}:{USER_ONLY_BAD}"
    production_before = _served(lab, PRODUCTION)
    started = time.monotonic()
    result = _chain(act_runner, lab, USER_ONLY_BAD, install_env)
    seconds = time.monotonic() - started
    print(f"\nstaging pass + production fail + revert: {seconds:.0f} s; {result.slowest()}")
    staging_jobs, production_jobs = _called(result, "staging"), _called(result, "production")
    assert staging_jobs == {
        "plan": "success",
        "promote": "success",
        "verify": "success",
        "record": "success",
    }, result.named_jobs
    assert result.named_jobs.get(APPROVE) == "success", result.tail()
    # pass or warn: both let the image through (a loaded machine can slow the app)
    passed = re.search(
        rf"promoting {re.escape(image)} to production \(staging verdict (\w+)\)", result.output
    )
    assert passed and passed.group(1) in ("pass", "warn"), result.tail()
    staging_verdict = passed.group(1)
    assert production_jobs == {
        "plan": "success",
        "promote": "success",
        "verify": "failure",
        "rollback": "success",
        "record": "success",
    }, result.named_jobs

    # What the reviewer sees while the approval job waits: the run page's job
    # summaries, among them staging's gate report, written before approve started.
    gate_summary = result.summary("staging/gitops-deploy/verify")
    for words in ("availability", "latency-p95", staging_verdict):
        assert words in gate_summary, gate_summary
    assert f"{image} is live in staging" in result.summary("staging/gitops-deploy/record")
    written = min(n for job, _, n in result.summaries if job == "staging/gitops-deploy/verify")
    assert written < result.first_lines[APPROVE], "the gate report came after approve began"

    # the GitOps history: staging's deploy, production's deploy, production's revert
    history = _history(lab, before)
    assert len(history) == 3, [h[1].splitlines()[0] for h in history]
    (staging_sha, staging_msg, staging_files), (prod_sha, prod_msg, prod_files), revert = history
    assert staging_files == [f"{envlab.overlay('staging')}/kustomization.yaml"]
    assert prod_files == [f"{envlab.overlay('production')}/kustomization.yaml"]
    assert (
        f"Gitops-Guard-Image: {image}" in staging_msg and f"Gitops-Guard-Image: {image}" in prod_msg
    )
    revert_sha, revert_msg, revert_files = revert
    # the revert touches production's overlay (and quarantines the image), not staging's
    assert set(revert_files) - {".gitops-guard/quarantine.yaml"} == set(prod_files)
    assert "Gitops-Guard-Action: rollback" in revert_msg
    assert f"Gitops-Guard-Reverts: {prod_sha}" in revert_msg
    assert staging_sha not in revert_msg
    # what runs: staging keeps 1.4.0, production is back where it was
    assert _overlay_tag(lab, "staging") == USER_ONLY_BAD
    assert _overlay_tag(lab, "production") == _overlay_tag(lab, "production", before)
    assert _app(lab, PRODUCTION)["status"]["sync"]["revision"] == revert_sha
    assert _served(lab, STAGING) == USER_ONLY_BAD
    assert _served(lab, PRODUCTION) == production_before

    # the records: staging passed; production failed, carrying staging's verdict
    records = fake_github.records()
    by = {(d["environment"], d["task"]): d for d in records}
    assert set(by) == {
        ("staging", "deploy"),
        ("production", "deploy"),
        ("production", "deploy:rollback"),
    }, sorted(by)
    staging = by[("staging", "deploy")]
    assert staging["payload"]["verdict"] == staging_verdict
    assert staging["payload"]["image"] == image
    assert staging["payload"]["gitops_commit"] == staging_sha
    assert [s["state"] for s in staging["statuses"]] == ["success"]
    production = by[("production", "deploy")]
    assert production["payload"]["verdict"] == "fail"
    assert production["payload"]["gitops_commit"] == prod_sha
    assert [s["state"] for s in production["statuses"]] == ["failure"]
    carried = production["payload"]["required_verdict"]
    assert carried["environment"] == "staging"
    assert carried["images"][image] == {
        "verdict": staging_verdict,
        "deployment_id": staging["id"],
        "gitops_commit": staging_sha,
        "forced": False,
    }
    rollback = by[("production", "deploy:rollback")]
    assert rollback["payload"]["reverts"] == prod_sha
    assert [s["state"] for s in rollback["statuses"]] == ["success"]
    # production's evidence: its own failing gate report beside staging's decision
    (evidence,) = result.artifacts.glob("gitops-guard-gate-production-*/required-verdict.json")
    assert json.loads(evidence.read_text())["images"][image]["deployment_id"] == staging["id"]
    (gate,) = result.artifacts.glob("gitops-guard-gate-production-*/gitops-guard-gate.json")
    assert json.loads(gate.read_text())["verdict"] == "fail"
    (staging_gate,) = result.artifacts.glob("gitops-guard-gate-staging-*/gitops-guard-gate.json")
    assert json.loads(staging_gate.read_text())["verdict"] == staging_verdict


def test_staging_fails_and_production_never_starts(
    act_runner: ActRunner,
    fake_github: FakeGitHub,
    env_lab: dict[str, str],
    install_env: dict[str, str],
) -> None:
    lab = env_lab
    before = _tip(lab)
    staging_before, production_before = _served(lab, STAGING), _served(lab, PRODUCTION)
    production_tag = _overlay_tag(lab, "production")
    started = time.monotonic()
    result = _chain(act_runner, lab, BAD, install_env)
    seconds = time.monotonic() - started
    print(f"\nstaging fail + revert, production skipped: {seconds:.0f} s; {result.slowest()}")
    assert _called(result, "staging") == {
        "plan": "success",
        "promote": "success",
        "verify": "failure",
        "rollback": "success",
        "record": "success",
    }, result.named_jobs
    assert APPROVE not in result.named_jobs, result.named_jobs
    assert _called(result, "production") == {}, result.named_jobs
    assert "require-verdict" not in result.output  # production's plan never ran

    history = _history(lab, before)
    assert len(history) == 2, [h[1].splitlines()[0] for h in history]
    (deploy_sha, deploy_msg, deploy_files), (_, revert_msg, revert_files) = history
    assert deploy_files == [f"{envlab.overlay('staging')}/kustomization.yaml"]
    assert set(revert_files) - {".gitops-guard/quarantine.yaml"} == set(deploy_files)
    assert f"Gitops-Guard-Image: {IMAGE}:{BAD}" in deploy_msg
    assert f"Gitops-Guard-Reverts: {deploy_sha}" in revert_msg
    assert _overlay_tag(lab, "production") == production_tag
    assert _served(lab, STAGING) == staging_before
    assert _served(lab, PRODUCTION) == production_before

    assert {d["environment"] for d in fake_github.records()} == {"staging"}
    states = {d["task"]: d["statuses"][-1]["state"] for d in fake_github.records()}
    assert states == {"deploy": "failure", "deploy:rollback": "success"}, states


def test_a_query_prometheus_rejects_after_promotion_is_rolled_back(
    act_runner: ActRunner,
    fake_github: FakeGitHub,
    env_lab: dict[str, str],
    install_env: dict[str, str],
) -> None:
    lab = env_lab
    before = _tip(lab)
    staging_before = _served(lab, STAGING)
    act_runner.link("acme/gitops", _repo(lab))
    act_runner.write_caller(CALLER)
    started = time.monotonic()
    result = act_runner.run(
        {
            "environment": "staging",
            "image": f"{IMAGE}:{GOOD}",
            "manifest-paths": envlab.overlay("staging"),
            "argocd-server": lab["ARGOCD_SERVER"],
            "argocd-app": STAGING,
            "prometheus-url": lab["PROMETHEUS_URL"],
            "slo-file": "slo/rejected-query.yaml",
        },
        secrets={"GITOPS_TOKEN": "e2e-gitops-token", "ARGOCD_TOKEN": lab["ARGOCD_TOKEN"]},
        env=install_env,
        timeout=420,
    )
    seconds = time.monotonic() - started
    print(f"\nrejected query + rollback: {seconds:.0f} s; {result.slowest()}")
    jobs = result.jobs
    assert jobs.get("plan") == "success" and jobs.get("promote") == "success", result.tail()
    assert jobs.get("verify") == "failure" and jobs.get("rollback") == "success", result.tail()
    assert "slo/rejected-query.yaml:" in result.output and "bad_data" in result.output
    assert 'unknown function with name "a_function_from_a_newer_prometheus"' in result.output

    history = _history(lab, before)
    assert len(history) == 2, [h[1].splitlines()[0] for h in history]
    (deploy_sha, deploy_msg, _), (revert_sha, revert_msg, _) = history
    assert f"Gitops-Guard-Image: {IMAGE}:{GOOD}" in deploy_msg
    assert f"Gitops-Guard-Reverts: {deploy_sha}" in revert_msg
    assert _app(lab, STAGING)["status"]["sync"]["revision"] == revert_sha
    assert _served(lab, STAGING) == staging_before
    states = {d["task"]: d["statuses"][-1]["state"] for d in fake_github.records()}
    assert states == {"deploy": "error", "deploy:rollback": "success"}, states
