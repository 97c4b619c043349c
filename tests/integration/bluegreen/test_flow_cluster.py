"""Blue-green in cluster mode: the switch is a Service patch with our field manager.

Covers: the active Service lives only in the cluster (Git does not own its
selector); prepare is still a commit, the switch and the switch-back are strategic
merge patches recorded under the ``gitops-guard-blue-green`` field manager, with no
switch commit; the live colour is read from the cluster on a rerun; an ArgoCD set-up
that would undo the patch is refused (exit 2) before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from bgrepo import NAMESPACE, BlueGreenRepo, Cluster, Gates, code, git

from gitops_guard import errors
from gitops_guard.strategies.bluegreen import flow

NEW = "ghcr.io/gitops-guard/web:1.1.0"


@pytest.fixture
def cluster_owned(bg: BlueGreenRepo, cluster: Cluster) -> None:
    """Move the active Service out of Git: the cluster owns its selector."""
    service = bg.work / "deploy" / "web" / "service.yaml"
    service.write_text(service.read_text().split("---\n", 1)[1])
    git(bg.work, "commit", "-qam", "the active Service is managed in the cluster")
    git(bg.work, "push", "-q", "origin", "main")
    bg.sync(bg.tip())


def test_switch_and_switch_back_are_patches(
    bg: BlueGreenRepo,
    cluster: Cluster,
    cluster_owned: None,
    gates: Gates,
    make_deps: Callable[..., flow.Deps],
    make_settings: Callable[..., flow.Settings],
) -> None:
    gates.verdicts[("post-switch", NEW)] = "fail"
    result = flow.run(make_settings(NEW, mode="cluster"), make_deps())
    assert (result.outcome, code(result)) == ("switched-back", 1), result.reason
    assert list(result.commits) == ["prepare"]
    assert [e.step for e in result.timeline if e.step.startswith("switch")] == [
        "switch",
        "switch-back",
    ]
    patches = [r for r in cluster.server.requests if r[0] == "PATCH"]
    assert len(patches) == 2
    assert all("fieldManager=gitops-guard-blue-green" in path for _, path, _ in patches)
    assert all(ctype == "application/strategic-merge-patch+json" for _, _, ctype in patches)
    assert bg.selector() == "blue"
    svc = cluster.store.get("Service", NAMESPACE, "web")
    assert svc is not None
    managers = [m["manager"] for m in svc["metadata"]["managedFields"]]
    assert "gitops-guard-blue-green" in managers


def test_a_good_version_is_switched_by_patch_and_a_rerun_reads_the_cluster(
    bg: BlueGreenRepo,
    cluster: Cluster,
    cluster_owned: None,
    make_deps: Callable[..., flow.Deps],
    make_settings: Callable[..., flow.Settings],
) -> None:
    result = flow.run(make_settings(NEW, mode="cluster", scale_down_delay_seconds=0), make_deps())
    assert (result.outcome, code(result)) == ("promoted", 0), result.reason
    assert bg.selector() == "green"
    again = flow.run(make_settings(NEW, mode="cluster", scale_down_delay_seconds=0), make_deps())
    assert (again.phase, again.live_before) == ("switched", "green")


def test_argocd_that_would_undo_the_patch_is_refused_before_any_write(
    bg: BlueGreenRepo,
    cluster_owned: None,
    make_deps: Callable[..., flow.Deps],
    make_settings: Callable[..., flow.Settings],
) -> None:
    tip = bg.tip()
    deps = make_deps(argocd_spec_problem=lambda mode: "ArgoCD would undo the patch")
    with pytest.raises(errors.ConfigError) as info:
        flow.run(make_settings(NEW, mode="cluster"), deps)
    assert info.value.exit_code == 2 and "undo" in info.value.message
    assert bg.tip() == tip and bg.selector() == "blue"
