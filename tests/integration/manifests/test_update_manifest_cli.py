"""update-manifest through its command line on real git checkouts (issue 10 items 5, 8; issue 9 §5).

Behaviours covered:
- ``--image OLD=NEW:tag`` renames through the CLI, and commits;
- an ArgoCD override outside ``--path`` that would hide the edit is exit 2 naming
  the Application file and line, and nothing is written or committed;
- a container with two ``image:`` keys is exit 2 "cannot edit safely", nothing written.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from gitops_guard import cli

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: {image}
"""
APPLICATION = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
spec:
  source:
    repoURL: https://github.com/acme/gitops.git
    path: apps/web
    kustomize:
      images:
      - ghcr.io/acme/app:v5
"""


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


def _checkout(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "init")
    return root


def test_rename_through_the_cli_commits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _checkout(
        tmp_path / "g",
        {
            "apps/web/deployment.yaml": DEPLOYMENT.format(image="nginx:1.25"),
            "apps/web/kustomization.yaml": (
                "resources: [deployment.yaml]\nimages:\n- name: nginx\n  newTag: '1.25'\n"
            ),
        },
    )
    code = cli.main(
        [
            "update-manifest",
            "--dir",
            str(root),
            "--image",
            "nginx=ghcr.io/acme/nginx:1.27",
            "--commit",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert (
        "newName: ghcr.io/acme/nginx\n  newTag: '1.27'\n"
        in (root / "apps/web/kustomization.yaml").read_text()
    )
    assert "image: ghcr.io/acme/nginx:1.27\n" in (root / "apps/web/deployment.yaml").read_text()
    trailers = _git(root, "log", "-1", "--format=%(trailers:key=Gitops-Guard-Image,valueonly)")
    assert trailers.split() == ["ghcr.io/acme/nginx:1.27"]


def test_a_shadowing_override_is_exit_2_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _checkout(
        tmp_path / "g",
        {
            "apps/web/deployment.yaml": DEPLOYMENT.format(image="ghcr.io/acme/app:v0"),
            "apps/web/kustomization.yaml": "resources: [deployment.yaml]\n",
            "argocd/web.yaml": APPLICATION,
        },
    )
    head = _git(root, "rev-parse", "HEAD")
    report = tmp_path / "report.json"
    argv = ["update-manifest", "--dir", str(root), "--image", "ghcr.io/acme/app:v6"]
    code = cli.main([*argv, "--path", "apps/web", "--commit", "--report", str(report)])
    err = capsys.readouterr().err
    assert code == 2
    assert "argocd/web.yaml:11" in err and "kustomize.images[0] sets ghcr.io/acme/app:v5" in err
    assert json.loads(report.read_text())["error"]["exit_code"] == 2
    assert _git(root, "status", "--porcelain") == ""
    assert _git(root, "rev-parse", "HEAD") == head
    # With the Application in scope, both are edited and the previous image is the override's.
    assert cli.main([*argv, "--commit"]) == 0
    previous = _git(
        root, "log", "-1", "--format=%(trailers:key=Gitops-Guard-Previous-Image,valueonly)"
    )
    assert previous.split() == ["ghcr.io/acme/app:v5"]


def test_two_image_keys_are_exit_2_and_change_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = DEPLOYMENT.format(image="ghcr.io/acme/app:v0") + "        image: ghcr.io/acme/app:v1\n"
    root = _checkout(tmp_path / "g", {"d.yaml": text})
    code = cli.main(
        ["update-manifest", "--dir", str(root), "--image", "ghcr.io/acme/app:v2", "--commit"]
    )
    assert code == 2
    assert "d.yaml:11: cannot edit safely: the key 'image' is repeated" in capsys.readouterr().err
    assert (root / "d.yaml").read_text() == text
