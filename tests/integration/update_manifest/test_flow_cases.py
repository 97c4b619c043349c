"""update-manifest flows beyond the basic push, on real repositories.

Behaviours covered:
- --dir may be a folder inside the checkout (paths in the commit are the checkout's);
- a stale checkout (the remote moved on) is fetched, recomputed and lands on attempt 2;
- kustomization images and Helm values are committed with trailers like workloads;
- of two images, one already in place: only the other is committed and trailered;
- --path limits the files; an image outside it is exit 2;
- a detached checkout without --branch is exit 2 naming --branch; with it, it pushes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gitrepo import Remote, build_remote, deployment, git, tree_state

from gitops_guard.gitops import publish as publish_engine

KUSTOMIZATION = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
images:
  - name: ghcr.io/acme/shop
    newTag: "3.1.0"   # the shop front
"""

VALUES = """\
# Helm values for the worker
image:
  repository: ghcr.io/acme/worker
  tag: 0.9.0
replicas: 2
"""


def test_dir_inside_checkout(checkout: Path, remote: Remote, run_cli) -> None:
    result = run_cli("--dir", str(checkout / "apps"), "--image", "nginx:1.25.1", "--push")
    assert result.code == 0, result.err
    files = git(remote.bare, "show", "--name-only", "--format=", "main").split()
    assert files == ["apps/web/deployment.yaml"]


def test_stale_checkout_is_recomputed(
    checkout: Path, remote: Remote, run_cli, tmp_path: Path
) -> None:
    other = remote.clone(tmp_path / "other")
    assert run_cli("--dir", str(other), "--image", "ghcr.io/acme/app3:9.9.9", "--push").code == 0
    report = tmp_path / "r.json"
    result = run_cli(
        "--dir", str(checkout), "--image", "nginx:1.25.1", "--push", "--report", str(report)
    )
    assert result.code == 0, result.err
    # The publish engine starts from the remote's tip, not the stale checkout: one push.
    assert json.loads(report.read_text())["push_attempts"] == 1
    assert "app3:9.9.9" in remote.show("apps/app3/deployment.yaml")
    assert "nginx:1.25.1" in remote.show("apps/web/deployment.yaml")
    # ... and the checkout is fast-forwarded to the deploy commit, still on its branch.
    assert git(checkout, "rev-parse", "HEAD").strip() == remote.tip()
    assert git(checkout, "symbolic-ref", "--short", "HEAD").strip() == "main"


def test_someone_pushing_first_is_recomputed_on_the_new_tip(
    checkout: Path, remote: Remote, run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = remote.clone(tmp_path / "other")
    assert run_cli("--dir", str(other), "--image", "ghcr.io/acme/app3:9.9.9", "--push").code == 0
    # The engine sees the old tip (as if the other push landed right after the fetch).
    monkeypatch.setattr(publish_engine, "remote_tip", lambda wc, branch: wc.head())
    report = tmp_path / "r.json"
    result = run_cli(
        "--dir", str(checkout), "--image", "nginx:1.25.1", "--push", "--report", str(report)
    )
    assert result.code == 0, result.err
    assert "after 2 attempts" in result.out
    assert json.loads(report.read_text())["push_attempts"] == 2
    assert "app3:9.9.9" in remote.show("apps/app3/deployment.yaml")
    assert "nginx:1.25.1" in remote.show("apps/web/deployment.yaml")


def test_kustomize_and_helm_are_committed_with_trailers(tmp_path: Path, run_cli) -> None:
    remote = build_remote(
        tmp_path / "g",
        {
            "shop/kustomization.yaml": KUSTOMIZATION,
            "shop/deployment.yaml": deployment("shop", "ghcr.io/acme/shop"),
            "charts/worker/values.yaml": VALUES,
        },
    )
    checkout = remote.clone(tmp_path / "c")
    result = run_cli(
        "--dir",
        str(checkout),
        "--image",
        "ghcr.io/acme/shop:3.2.0",
        "--image",
        "ghcr.io/acme/worker:1.0.0",
        "--helm",
        "charts/worker/values.yaml:image.repository:image.tag",
        "--push",
    )
    assert result.code == 0, result.err
    assert 'newTag: "3.2.0"   # the shop front' in remote.show("shop/kustomization.yaml")
    assert "  tag: 1.0.0\n" in remote.show("charts/worker/values.yaml")
    trailers = git(remote.bare, "log", "-1", "--format=%(trailers)", "main")
    assert trailers.strip().splitlines() == [
        "Gitops-Guard-Action: update-manifest",
        "Gitops-Guard-Image: ghcr.io/acme/worker:1.0.0",
        "Gitops-Guard-Previous-Image: ghcr.io/acme/worker:0.9.0",
        "Gitops-Guard-Image: ghcr.io/acme/shop:3.2.0",
        "Gitops-Guard-Previous-Image: ghcr.io/acme/shop:3.1.0",
    ]


def test_only_changed_images_are_trailered(checkout: Path, remote: Remote, run_cli) -> None:
    result = run_cli(
        "--dir",
        str(checkout),
        "--image",
        "nginx:1.25.0",  # already in place
        "--image",
        "ghcr.io/acme/app5:5.0.0",
        "--push",
    )
    assert result.code == 0, result.err
    assert remote.log("%s", "-1") == ["deploy: app5 1.0.0 -> 5.0.0"]
    body = git(remote.bare, "log", "-1", "--format=%(trailers)", "main")
    assert "nginx" not in body
    assert "Gitops-Guard-Image: ghcr.io/acme/app5:5.0.0" in body


def test_path_limits_the_files(checkout: Path, remote: Remote, run_cli) -> None:
    before, tip = tree_state(checkout), remote.tip()
    result = run_cli(
        "--dir", str(checkout), "--path", "apps/app1", "--image", "nginx:1.25.1", "--push"
    )
    assert result.code == 2
    assert (tree_state(checkout), remote.tip()) == (before, tip)


def test_detached_checkout_needs_branch(checkout: Path, remote: Remote, run_cli) -> None:
    git(checkout, "checkout", "-q", "--detach")
    result = run_cli("--dir", str(checkout), "--image", "nginx:1.25.1", "--push")
    assert result.code == 2 and "--branch" in result.err
    result = run_cli(
        "--dir", str(checkout), "--image", "nginx:1.25.1", "--push", "--branch", "main"
    )
    assert result.code == 0, result.err
    assert "nginx:1.25.1" in remote.show("apps/web/deployment.yaml")


def test_repo_url_with_branch_works_on_that_branch(remote: Remote, run_cli, tmp_path: Path) -> None:
    seed = remote.clone(tmp_path / "seed")
    git(seed, "checkout", "-q", "-b", "staging")
    (seed / "STAGING").write_text("staging only\n")
    git(seed, "add", "STAGING")
    git(seed, "commit", "-qm", "staging branch")
    git(seed, "push", "-q", "origin", "staging")
    result = run_cli(
        "--repo-url",
        remote.url,
        "--dir",
        str(tmp_path / "work"),
        "--image",
        "nginx:1.25.1",
        "--push",
        "--branch",
        "staging",
    )
    assert result.code == 0, result.err
    assert "nginx:1.25.1" in remote.show("apps/web/deployment.yaml", "staging")
    assert remote.show("STAGING", "staging") == "staging only\n"
    assert "nginx:1.25.0" in remote.show("apps/web/deployment.yaml", "main")
