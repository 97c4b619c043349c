"""The canary by Gateway API HTTPRoute weights, against a real remote and the stand-in.

Covers: a good version taken 25/50/100 by the route's weights (byte-exact edits of the
two weights, the canary at full size from the first step, the old colour scaled to 0
with the promotion), the route's Accepted/ResolvedRefs checked after each sync; the
first step in two commits (a scale commit, canary image and replicas at weight 0, then
once its pods are ready the weights alone); a rerun after the scale commit goes on
without a second one; a canary that never gets ready is aborted before any weight
moves; a bad version aborted at its first step, the scale and step commits reverted in
one commit, the weights and image back as they were; a route
whose backend Service is missing is not ResolvedRefs and aborts the step; bad input
(a rule without both backends, a weight out of range or not a number) is exit 2
naming file:line with nothing committed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from canaryrepo import ROOT, CanaryRepo, Cluster, Gates, git, seed_repo

from gitops_guard import errors, gitops, images
from gitops_guard.strategies.canary import flow

FIXTURE = ROOT / "tests" / "fixtures" / "canary" / "web-gateway"
NEW = "ghcr.io/gitops-guard/web:1.1.0"
OLD = "ghcr.io/gitops-guard/web:1.0.0"

MakeDeps = Callable[..., flow.Deps]
MakeSettings = Callable[..., flow.Settings]


@pytest.fixture
def repo(tmp_path: Path, cluster: Cluster) -> CanaryRepo:
    return seed_repo(tmp_path, cluster.store, FIXTURE)


def _weights(repo: CanaryRepo, ref: str = "main") -> dict[str, int]:
    doc = yaml.safe_load(repo.show("route.yaml", ref))
    return {b["name"]: b["weight"] for b in doc["spec"]["rules"][0]["backendRefs"]}


def test_a_good_version_goes_by_weights_and_is_promoted(
    repo: CanaryRepo, cluster: Cluster, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    before = repo.show("route.yaml")
    result = flow.run(make_settings(NEW, traffic="gateway"), make_deps())
    assert result.outcome == "promoted", result.reason
    assert _weights(repo, result.commits["step-25"]) == {"web-blue": 75, "web-green": 25}
    assert repo.replicas(result.commits["step-25"]) == {"blue": 4, "green": 4}
    assert repo.show("route.yaml", result.commits["step-25"]) == before.replace(
        "weight: 100 # stable", "weight: 75 # stable"
    ).replace("weight: 0 # canary", "weight: 25 # canary")
    assert _weights(repo) == {"web-blue": 0, "web-green": 100}
    assert repo.replicas() == {"blue": 0, "green": 4}
    assert [e.outcome for e in result.timeline if e.step == "route"] == ["done"] * 3
    status = cluster.store.get("HTTPRoute", "sre-demo", "web")
    assert status is not None
    kinds = {c["type"]: c["status"] for c in status["status"]["parents"][0]["conditions"]}
    assert kinds == {"Accepted": "True", "ResolvedRefs": "True"}


def _changed(repo: CanaryRepo, sha: str) -> list[str]:
    out = git(repo.root, "--git-dir", str(repo.remote), "diff", "--name-only", f"{sha}^", sha)
    return [p.rsplit("/", 1)[-1] for p in out.split()]


def test_the_first_step_scales_the_canary_up_before_any_weight_moves(
    repo: CanaryRepo, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    result = flow.run(make_settings(NEW, traffic="gateway"), make_deps())
    assert result.outcome == "promoted", result.reason
    assert list(result.commits) == ["scale", "step-25", "step-50", "promote"]
    scale = result.commits["scale"]
    assert _weights(repo, scale) == {"web-blue": 100, "web-green": 0}
    assert repo.replicas(scale) == {"blue": 4, "green": 4}
    assert NEW in repo.show("web-green.yaml", scale)
    assert _changed(repo, scale) == ["web-green.yaml"]
    assert ("Gitops-Guard-Step", "0%") in repo.trailers(scale)
    assert ("Gitops-Guard-Action", "canary-step") in repo.trailers(scale)
    assert _changed(repo, result.commits["step-25"]) == ["route.yaml"]
    # the canary's rollout is ready before the commit that gives it weight
    steps = [e.step for e in result.timeline]
    assert steps[: steps.index("gate-25")] == [
        "scale",
        "wait",
        "ready",
        "step-25",
        "wait",
        "ready",
        "route",
    ]
    assert [e.outcome for e in result.timeline[:3]] == ["done"] * 3


def test_a_rerun_after_the_scale_commit_goes_on_from_it(
    repo: CanaryRepo, gates: Gates, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    before = {f: repo.show(f) for f in ("route.yaml", "web-green.yaml", "web-blue.yaml")}
    windows = iter([("open", None), ("deny", None)])
    first = flow.run(make_settings(NEW, traffic="gateway"), make_deps(window=lambda: next(windows)))
    assert (first.outcome, list(first.commits)) == ("frozen", ["scale"]), first.reason
    assert "step 25% was not pushed" in first.reason
    tip = repo.tip()
    assert _weights(repo) == {"web-blue": 100, "web-green": 0}

    gates.verdicts[(50, NEW)] = "fail"
    again = flow.run(make_settings(NEW, traffic="gateway"), make_deps())
    assert list(again.commits) == ["step-25", "step-50", "abort"], again.reason
    assert again.outcome == "aborted"
    assert [e.step for e in again.timeline][:2] == ["ready", "step-25"]
    reverted = [v for k, v in repo.trailers(again.commits["abort"]) if k == "Gitops-Guard-Reverts"]
    assert reverted == [tip, again.commits["step-25"], again.commits["step-50"]]
    assert {f: repo.show(f) for f in before} == before


def test_a_canary_that_never_gets_ready_is_aborted_before_any_weight_moves(
    repo: CanaryRepo, cluster: Cluster, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    before = {f: repo.show(f) for f in ("route.yaml", "web-green.yaml", "web-blue.yaml")}
    seed = repo.tip()
    cluster.bad_images.add(NEW)
    settings = make_settings(NEW, traffic="gateway", ready_timeout_seconds=0.5)
    result = flow.run(settings, make_deps())
    assert (result.outcome, list(result.commits)) == ("aborted", ["scale", "abort"])
    assert "not ready (no weight moved)" in result.reason
    touched = git(
        repo.root,
        "--git-dir",
        str(repo.remote),
        "log",
        "--format=%H",
        f"{seed}..main",
        "--",
        "deploy/web/route.yaml",
    )
    assert touched.split() == []
    assert {f: repo.show(f) for f in before} == before
    assert ("Gitops-Guard-Reverts", result.commits["scale"]) in repo.trailers("main")


def test_a_bad_version_is_aborted_and_the_weights_go_back(
    repo: CanaryRepo, gates: Gates, make_deps: MakeDeps, make_settings: MakeSettings
) -> None:
    before = {f: repo.show(f) for f in ("route.yaml", "web-green.yaml", "web-blue.yaml")}
    gates.verdicts[(25, NEW)] = "fail"
    result = flow.run(make_settings(NEW, traffic="gateway"), make_deps())
    assert (result.outcome, list(result.commits)) == ("aborted", ["scale", "step-25", "abort"])
    assert {f: repo.show(f) for f in before} == before
    reverted = [v for k, v in repo.trailers("main") if k == "Gitops-Guard-Reverts"]
    assert reverted == [result.commits["scale"], result.commits["step-25"]]
    assert repo.log()[0].startswith("canary: abort web green")


def _settings(work: Path) -> flow.Settings:
    return flow.Settings(
        dir=work,
        service="web",
        image=images.parse(NEW, source="--image"),
        steps=(25, 50, 100),
        traffic="gateway",
        paths=("deploy/web",),
        namespace="sre-demo",
        ready_timeout_seconds=3,
        poll_seconds=0.05,
    )


def test_a_route_whose_backend_is_missing_is_not_resolved_and_aborts(
    tmp_path: Path, cluster: Cluster
) -> None:
    fixture = tmp_path / "fixture"
    shutil.copytree(FIXTURE, fixture)
    services = fixture / "services.yaml"
    services.write_text(services.read_text().split("---")[0])  # no web-green Service
    root = tmp_path / "other"
    root.mkdir()
    other = seed_repo(root, cluster.store, fixture)
    with cluster.client() as kube:
        deps = flow.Deps(
            wc=gitops.open_checkout(other.work),
            wait=other.sync,
            gate=Gates(),
            kube=kube,
            echo=lambda line: None,
        )
        result = flow.run(_settings(other.work), deps)
    assert result.outcome == "aborted", result.reason
    assert "ResolvedRefs is False (BackendNotFound)" in result.reason
    assert _weights(other) == {"web-blue": 100, "web-green": 0}


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        (
            "        - name: web-green\n          port: 80\n          weight: 0 # canary\n",
            "",
            "deploy/web/route.yaml:13: rule 1 of HTTPRoute web lacks the backend web-green",
        ),
        ("weight: 0 # canary", "weight: 2000000", "route.yaml:19: backendRef web-green weight"),
        ("weight: 100 # stable", "weight: lots", "route.yaml:16: backendRef web-blue weight"),
    ],
)
def test_bad_routes_are_refused_naming_the_line(
    tmp_path: Path,
    cluster: Cluster,
    old: str,
    new: str,
    needle: str,
) -> None:
    fixture = tmp_path / "fixture"
    shutil.copytree(FIXTURE, fixture)
    route = fixture / "route.yaml"
    assert old in route.read_text()
    route.write_text(route.read_text().replace(old, new))
    root = tmp_path / "other"
    root.mkdir()
    other = seed_repo(root, cluster.store, fixture)
    tip = other.tip()
    deps = flow.Deps(wc=gitops.open_checkout(other.work), echo=lambda line: None)
    with pytest.raises(errors.InputError) as caught:
        flow.run(_settings(other.work), deps)
    assert needle in f"{caught.value.source}: {caught.value.message}"
    assert other.tip() == tip
