"""gitops-deploy.yml under act against the lab: the whole chain, for real.

The lab (``gitops-guard lab up``) plays production: a bare GitOps repository, a
syncer serving the ArgoCD API, the demo app whose behaviour follows the image
version, a load generator and a real Prometheus. act runs the real reusable
workflow, called from acme/web, with the real gitops-guard actions (checked out at
the snapshot SHA, as job.workflow_sha would give on GitHub).

- a good image (1.1.0) is promoted by a commit on the GitOps branch, ArgoCD runs
  that commit, the SLO gate passes, no rollback runs, and a GitHub Deployment
  (auto_merge false) gets a success status;
- then a bad image (1.2.0) is promoted, ArgoCD runs it, the SLO gate fails, the
  rollback job reverts the deploy commit with the gate report as evidence and waits
  for ArgoCD to run the revert; the lab ends on 1.1.0, the gate reports travelled
  as artifacts, the records are a failed deploy and a successful rollback, and the
  summary tells that story;
- then an image whose pods never turn healthy (1.3.0): ArgoCD reports it Degraded,
  the gate never runs, and the rollback reverts it on ArgoCD's word alone (no gate
  report); the deploy and the rollback are recorded, the summary says why;
- then a person runs rollback.yml (called from acme/web) with target 1.0.0: a
  rollback commit names 1.0.0, ArgoCD runs it, the lab serves 1.0.0 and a
  deploy:rollback deployment carries the reason;
- every record carries the instants the jobs' own steps wrote (promoted_at <=
  synced_at <= verdict_at of a deploy, restored_at of a rollback), inside the run;
  ``metrics`` over the GitOps history and those records measures recovery from them
  (not from commit times); and with ``pushgateway-url`` every run PUTs the stage
  durations (plan, promote, wait, gate, rollback) to Debian's real Pushgateway under
  job/environment/app.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_guard.observe import records as deployment_records
from gitops_guard_lab import promstack

from .conftest import E2E_GITHUB_TOKEN, ActResult, ActRunner, FakeGitHub, git, job_results

CALLER = (Path(__file__).parent / "callers" / "deploy.yml").read_text()
IMAGE = "ghcr.io/gitops-guard/sre-demo-app"
SEED, GOOD, BAD, BROKEN = "1.0.0", "1.1.0", "1.2.0", "1.3.0"
ROLLBACK_CALLER = (Path(__file__).parent / "callers" / "rollback.yml").read_text()
CHAIN = ("plan", "test", "build", "promote", "verify", "rollback", "record")

pytestmark = pytest.mark.timeout(900)


def _app(lab: dict[str, str]) -> dict[str, object]:
    request = urllib.request.Request(
        f"{lab['ARGOCD_SERVER']}/api/v1/applications/{lab['ARGOCD_APP']}",
        headers={"Authorization": f"Bearer {lab['ARGOCD_TOKEN']}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


def _served_version(lab: dict[str, str]) -> str:
    # Every version answers a small share of requests with a 500 on purpose (1.1.0: 0.4%);
    # that answer names the version too.
    try:
        with urllib.request.urlopen(lab["DEMO_APP_URL"] + "/", timeout=10) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        if exc.code != 500:
            raise
        body = exc.read()
    return str(json.loads(body)["version"])


def _deploy(
    runner: ActRunner,
    lab: dict[str, str],
    version: str,
    install_env: dict[str, str],
    **extra: str,
) -> ActResult:
    return runner.run(
        {
            **extra,
            "image": f"{IMAGE}:{version}",
            "gitops-repository": "acme/gitops",
            "argocd-server": lab["ARGOCD_SERVER"],
            "argocd-app": lab["ARGOCD_APP"],
            "argocd-timeout-seconds": "120",
            "prometheus-url": lab["PROMETHEUS_URL"],
            "slo-file": "slo.yaml",
            "rollback-mode": "commit",
        },
        secrets={"GITOPS_TOKEN": "e2e-gitops-token", "ARGOCD_TOKEN": lab["ARGOCD_TOKEN"]},
        env=install_env,
        timeout=420,
    )


@pytest.fixture
def pushgateway() -> Iterator[str]:
    """Debian's real Pushgateway on a loopback port (its URL)."""
    if not promstack.available()["pushgateway"]:
        pytest.skip("prometheus-pushgateway is not installed")
    with promstack.start_pushgateway() as gateway:
        yield gateway.url


def _stages(url: str, app: str) -> dict[str, float]:
    """The stage gauges of group job=gitops-guard/environment=lab/app=APP."""
    with urllib.request.urlopen(f"{url}/api/v1/metrics", timeout=10) as response:
        groups = json.loads(response.read())["data"]
    want = {"job": "gitops-guard", "environment": "lab", "app": app}
    found = [g for g in groups if {k: g["labels"].get(k) for k in want} == want]
    assert len(found) == 1, groups
    family = found[0].get("gitops_guard_pipeline_stage_duration_seconds", {})
    return {m["labels"]["stage"]: float(m["value"]) for m in family.get("metrics", [])}


def _at(payload: dict[str, Any], key: str) -> float:
    value = payload.get(key)
    assert value, f"{key} missing from the payload: {payload}"
    return deployment_records.parse_time(str(value)).timestamp()


def _in_order(payload: dict[str, Any], began: float, ended: float) -> None:
    """promoted_at <= synced_at <= verdict_at, all inside the run (second precision)."""
    times = [_at(payload, key) for key in ("promoted_at", "synced_at", "verdict_at")]
    assert times == sorted(times), payload
    assert began - 1 <= times[0] and times[-1] <= ended + 1, (began, times, ended)


def _tip(lab: dict[str, str]) -> str:
    return git("rev-parse", lab.get("GITOPS_BRANCH", "main"), cwd=Path(lab["GITOPS_REPO"]))


def _trailers(lab: dict[str, str], sha: str) -> str:
    return git("log", "-1", "--format=%B", sha, cwd=Path(lab["GITOPS_REPO"]))


def test_good_image_is_verified_then_bad_image_is_rolled_back(
    act_runner: ActRunner,
    fake_github: FakeGitHub,
    lab: dict[str, str],
    install_env: dict[str, str],
    pushgateway: str,
    tmp_path: Path,
) -> None:
    act_runner.link("acme/gitops", Path(lab["GITOPS_REPO"]))
    act_runner.write_caller(CALLER)
    seed = _tip(lab)

    # 1. the good image is promoted and verified
    started, began = time.monotonic(), time.time()
    good = _deploy(act_runner, lab, GOOD, install_env, **{"pushgateway-url": pushgateway})
    good_seconds = time.monotonic() - started
    jobs = job_results(good, CHAIN)
    assert jobs["promote"] == "success", good.tail()
    assert jobs["verify"] == "success", good.tail()
    assert jobs["build"] == "not run" and jobs["rollback"] == "not run", jobs
    assert jobs["record"] == "success", good.tail()
    good_commit = _tip(lab)
    assert good_commit != seed
    assert f"Gitops-Guard-Image: {IMAGE}:{GOOD}" in _trailers(lab, good_commit)
    assert _app(lab)["status"]["sync"]["revision"] == good_commit  # type: ignore[index]
    assert _served_version(lab) == GOOD
    assert len(fake_github.deployments) == 1
    deployment = fake_github.records()[0]
    assert deployment["environment"] == "lab"
    assert fake_github.requests_to("POST", "/deployments")[0]["auto_merge"] is False
    assert deployment["payload"]["gitops_commit"] == good_commit
    assert [s["state"] for s in deployment["statuses"]] == ["success"]
    # pass or warn: both let the deploy through (a loaded machine can slow the app)
    description = deployment["statuses"][0]["description"]
    assert re.fullmatch(rf"{IMAGE}:{GOOD} verified: SLO gate (pass|warn)", description)
    assert re.search(rf"\*\*{IMAGE}:{GOOD} is live in lab and its SLOs hold", good.output)
    _in_order(deployment["payload"], began, time.time())
    stages = _stages(pushgateway, lab["ARGOCD_APP"])
    assert set(stages) == {"plan", "promote", "wait", "gate"}, stages
    # the lab's syncer may have run the commit before the verify job starts: wait >= 0
    assert all(0 <= seconds < good_seconds for seconds in stages.values()), stages
    assert stages["gate"] > 0, stages

    # 2. the bad image is promoted, fails the gate and is reverted
    started, began = time.monotonic(), time.time()
    bad = _deploy(act_runner, lab, BAD, install_env, **{"pushgateway-url": pushgateway})
    bad_seconds = time.monotonic() - started
    jobs = job_results(bad, CHAIN)
    assert jobs["promote"] == "success", bad.tail()
    assert jobs["verify"] == "failure", bad.tail()
    assert jobs["rollback"] == "success", bad.tail()
    assert jobs["record"] == "success", bad.tail()
    revert = _tip(lab)
    log = git("log", "--format=%H", f"{good_commit}..{revert}", cwd=Path(lab["GITOPS_REPO"]))
    bad_commit = log.splitlines()[-1]
    assert f"Gitops-Guard-Image: {IMAGE}:{BAD}" in _trailers(lab, bad_commit)
    revert_message = _trailers(lab, revert)
    assert "Gitops-Guard-Action: rollback" in revert_message
    assert f"Gitops-Guard-Reverts: {bad_commit}" in revert_message
    assert _app(lab)["status"]["sync"]["revision"] == revert  # type: ignore[index]
    assert _served_version(lab) == GOOD
    reports = list(bad.artifacts.glob("gitops-guard-gate-lab-*/gitops-guard-gate.json"))
    assert len(reports) == 1, "the gate report never reached the artifact store"
    assert json.loads(reports[0].read_text())["verdict"] == "fail"
    assert "rolling back on verdict 'fail', ArgoCD 'done', evidence: /" in bad.output
    records = {d["task"]: d for d in fake_github.records()[1:]}
    assert [s["state"] for s in records["deploy"]["statuses"]] == ["failure"]
    assert records["deploy"]["payload"]["verdict"] == "fail"
    assert [s["state"] for s in records["deploy:rollback"]["statuses"]] == ["success"]
    assert records["deploy:rollback"]["payload"]["gitops_commit"] == revert
    _in_order(records["deploy"]["payload"], began, time.time())
    bad_synced = _at(records["deploy"]["payload"], "synced_at")
    restored = _at(records["deploy:rollback"]["payload"], "restored_at")
    assert _at(records["deploy"]["payload"], "verdict_at") <= restored <= time.time() + 1
    bad_stages = _stages(pushgateway, lab["ARGOCD_APP"])
    assert 0 < bad_stages["rollback"] < bad_seconds, bad_stages
    assert f"**{IMAGE}:{BAD} was rejected (fail) and rolled back.**" in bad.output
    assert f"| rollback (commit) | success | `{revert[:12]}` back to" in bad.output

    # 3. an image whose pods never turn healthy: ArgoCD says Degraded, the gate never
    #    runs, and the deploy is rolled back on ArgoCD's word alone
    started = time.monotonic()
    broken = _deploy(act_runner, lab, BROKEN, install_env, **{"argocd-degraded-grace-seconds": "3"})
    broken_seconds = time.monotonic() - started
    jobs = job_results(broken, CHAIN)
    assert jobs["verify"] == "failure" and jobs["rollback"] == "success", broken.tail()
    assert "rolling back on verdict '', ArgoCD 'degraded', evidence: none" in broken.output
    broken_revert = _tip(lab)
    assert broken_revert != revert
    assert "Gitops-Guard-Action: rollback" in _trailers(lab, broken_revert)
    assert _app(lab)["status"]["sync"]["revision"] == broken_revert  # type: ignore[index]
    assert _served_version(lab) == GOOD
    states = {d["task"]: d["statuses"][-1]["state"] for d in fake_github.records()[-2:]}
    assert states == {"deploy": "failure", "deploy:rollback": "success"}, states
    assert f"**{IMAGE}:{BROKEN} was rejected (ArgoCD degraded) and rolled back.**" in (
        broken.output
    )
    broken_records = {d["task"]: d["payload"] for d in fake_github.records()[-2:]}
    assert broken_records["deploy"]["synced_at"] is None  # ArgoCD never ran it Healthy

    # metrics over the GitOps history and these records: recovery runs from the bad
    # revision Synced (or, never Healthy, its promotion) to the revert Synced and
    # Healthy, the instants in the payloads, not the commits' times
    checkout = tmp_path / "gitops-checkout"
    git("clone", "-q", lab["GITOPS_REPO"], str(checkout), cwd=tmp_path)
    measured = subprocess.run(
        [
            *(sys.executable, "-m", "gitops_guard", "metrics", "--dir", str(checkout)),
            *("--since", "1d", "--format", "json", "--github-repository", "acme/web"),
        ],
        env={**os.environ, "GITHUB_API_URL": fake_github.url, "GITHUB_TOKEN": E2E_GITHUB_TOKEN},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert measured.returncode == 0, measured.stdout + measured.stderr
    series = json.loads(measured.stdout)["series"]["recovery_time"]
    recovery = {point["commit"]: point["seconds"] for point in series}
    broken_commit = broken_records["deploy:rollback"]["reverts"]
    assert recovery == {
        bad_commit: restored - bad_synced,
        broken_commit: _at(broken_records["deploy:rollback"], "restored_at")
        - _at(broken_records["deploy"], "promoted_at"),
    }, recovery

    # 4. a person rolls the lab back to 1.0.0 by hand with rollback.yml
    act_runner.write_caller(ROLLBACK_CALLER, name="rollback.yml")
    started = time.monotonic()
    began = time.time()
    manual = act_runner.run(
        {
            "target": SEED,
            "image-name": IMAGE,
            "reason": "e2e: back to the seed version",
            "argocd-server": lab["ARGOCD_SERVER"],
            "argocd-app": lab["ARGOCD_APP"],
            "pushgateway-url": pushgateway,
        },
        secrets={"GITOPS_TOKEN": "e2e-gitops-token", "ARGOCD_TOKEN": lab["ARGOCD_TOKEN"]},
        env=install_env,
        timeout=420,
        workflow="rollback.yml",
    )
    manual_seconds = time.monotonic() - started
    assert job_results(manual, ("rollback", "record")) == {
        "rollback": "success",
        "record": "success",
    }, manual.tail()
    back = _tip(lab)
    assert back != revert
    assert "Gitops-Guard-Action: rollback" in _trailers(lab, back)
    assert f"Gitops-Guard-Image: {IMAGE}:{SEED}" in _trailers(lab, back)
    assert _app(lab)["status"]["sync"]["revision"] == back  # type: ignore[index]
    assert _served_version(lab) == SEED
    last = fake_github.records()[-1]
    assert last["task"] == "deploy:rollback"
    assert fake_github.requests_to("POST", "/deployments")[-1]["auto_merge"] is False
    assert [s["state"] for s in last["statuses"]] == ["success"]
    assert "e2e: back to the seed version" in last["statuses"][0]["description"]
    assert began <= _at(last["payload"], "restored_at") <= time.time() + 1
    assert os.environ.get("GITHUB_TOKEN") is None  # nothing leaked into the test process
    print(f"\nact e2e: good deploy {good_seconds:.0f} s, bad deploy + rollback {bad_seconds:.0f} s")
    print(f"slowest steps (good): {good.slowest()}")
    print(f"slowest steps (bad): {bad.slowest()}")
    print(f"degraded deploy + rollback {broken_seconds:.0f} s: {broken.slowest(3)}")
    print(f"manual rollback.yml {manual_seconds:.0f} s: {manual.slowest(3)}")
    print(f"stage gauges after the good deploy: {stages}; after the bad one: {bad_stages}")
