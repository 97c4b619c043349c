"""gitops-deploy.yml with ``strategy: blue-green`` under act, against the blue-green lab.

The lab's two colours of ``web`` run as real processes behind Services that route
real traffic (gitops_guard_lab.colours), with the Kubernetes and ArgoCD stand-ins and
the real Prometheus; user traffic flows through the active Service, a share through
the preview. act runs the real reusable workflow, called from acme/web:

- a good image (1.1.0): the blue-green job prepares the idle colour, proves it,
  switches and scales the old colour down; promote/verify/rollback do not run; the
  lab serves 1.1.0 and the history carries the blue-green trailers;
- a bad image (1.2.0): the preview gate stops it, the job fails (exit 1), and the
  live colour never changes: user traffic saw no 5xx from it;
- an image that fails only under user traffic (1.4.0): its preview passes, it is
  switched to, the post-switch gate fails and the job switches back (a revert of the
  switch commit); the job fails and the lab serves 1.1.0 again.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops_guard_lab import bluegreen_demo, colours, promstack

from .conftest import ActRunner, job_results

CALLER = (Path(__file__).parent / "callers" / "deploy-blue-green.yml").read_text()
IMAGE = "ghcr.io/gitops-guard/web"
JOBS = ("plan", "promote", "verify", "rollback", "blue-green")

pytestmark = pytest.mark.timeout(900)


@pytest.fixture
def bg_lab(tmp_path: Path) -> Iterator[bluegreen_demo._Lab]:
    if not promstack.available()["prometheus"]:
        pytest.skip("Prometheus is not installed (apt-get install prometheus)")
    lab = bluegreen_demo._Lab(
        tmp_path / "bg-lab",
        seed=bluegreen_demo.up.default_seed(),
        rps=20.0,
        preview_rps=6.0,
    )
    try:
        lab.start()
        yield lab
    finally:
        lab.stop()


def _log(lab: bluegreen_demo._Lab, fmt: str) -> list[str]:
    done = subprocess.run(
        ["git", "--git-dir", str(lab.paths.repo), "log", f"--format={fmt}", "main"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


def _run(
    runner: ActRunner, lab: bluegreen_demo._Lab, version: str, install_env: dict[str, str]
) -> object:
    assert lab.colours is not None and lab.prometheus is not None
    return runner.run(
        {
            "image": f"{IMAGE}:{version}",
            "gitops-repository": "acme/gitops",
            "manifest-paths": "deploy/web",
            "argocd-server": lab.colours.argo.url,
            "argocd-app": colours.APP,
            "argocd-timeout-seconds": "60",
            "prometheus-url": lab.prometheus.url,
            "slo-file": "web-slo.yaml",
        },
        secrets={
            "GITOPS_TOKEN": "e2e-gitops-token",
            "ARGOCD_TOKEN": lab.token,
            "KUBECONFIG": lab.kubeconfig().read_text(),
        },
        env=install_env,
        timeout=420,
    )


def test_blue_green_through_the_reusable_workflow(
    act_runner: ActRunner, bg_lab: bluegreen_demo._Lab, install_env: dict[str, str]
) -> None:
    act_runner.link("acme/gitops", bg_lab.paths.repo)
    act_runner.write_caller(CALLER)
    assert bg_lab.colours is not None and bg_lab.users is not None
    proxy = bg_lab.colours.proxies[colours.SERVICE]

    good = _run(act_runner, bg_lab, "1.1.0", install_env)
    jobs = job_results(good, JOBS)  # type: ignore[arg-type]
    assert jobs["blue-green"] == "success", good.tail()  # type: ignore[attr-defined]
    assert jobs["promote"] == "not run" and jobs["verify"] == "not run", jobs
    assert _log(bg_lab, "%(trailers:key=Gitops-Guard-Action,valueonly)")[:6:2] == [
        "blue-green-scale-down",
        "blue-green-switch",
        "blue-green-prepare",
    ]
    status, _, body = proxy.forward("/version", {})
    assert status == 200 and json.loads(body)["version"] == "1.1.0"
    failed_before = len(bg_lab.users.failures)

    bad = _run(act_runner, bg_lab, "1.2.0", install_env)
    jobs = job_results(bad, JOBS)  # type: ignore[arg-type]
    assert jobs["blue-green"] == "failure", bad.tail()  # type: ignore[attr-defined]
    assert "preview gate failed" in bad.output  # type: ignore[attr-defined]
    assert _log(bg_lab, "%(trailers:key=Gitops-Guard-Action,valueonly)")[0] == (
        "blue-green-prepare"
    )
    status, _, body = proxy.forward("/version", {})
    assert status == 200 and json.loads(body)["version"] == "1.1.0"
    # The bad version never served a user: nothing beyond the good version's own
    # rare 500s (0.4%) failed while it was previewed.
    assert len(bg_lab.users.failures) - failed_before < 10

    user_only = _run(act_runner, bg_lab, "1.4.0", install_env)
    jobs = job_results(user_only, JOBS)  # type: ignore[arg-type]
    assert jobs["blue-green"] == "failure", user_only.tail()  # type: ignore[attr-defined]
    actions = _log(bg_lab, "%(trailers:key=Gitops-Guard-Action,valueonly)")
    assert actions[:6:2] == ["blue-green-switch-back", "blue-green-switch", "blue-green-prepare"]
    status, _, body = proxy.forward("/version", {})
    assert status == 200 and json.loads(body)["version"] == "1.1.0"
