"""Fixtures of the lab tests: a seeded bare GitOps repository, a pusher, and a guard
that no lab process outlives its test."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops_guard_lab import layout, promstack, up

SEED = Path(__file__).resolve().parents[3] / "examples" / "gitops-repo"


@pytest.fixture
def bare_repo(tmp_path: Path) -> Path:
    """A bare repository seeded from examples/gitops-repo (image 1.0.0)."""
    bare = tmp_path / "gitops.git"
    up.seed_repository(SEED, bare)
    return bare


class Pusher:
    """A clone of the bare repository that commits and pushes image changes."""

    def __init__(self, bare: Path, work: Path) -> None:
        self.work = work
        subprocess.run(["git", "clone", "-q", str(bare), str(work)], check=True)

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(self.work), *args], check=True, capture_output=True, text=True
        )
        return done.stdout.strip()

    def set_version(self, version: str) -> str:
        """Point the Deployment at ``version``, commit, push; returns the new sha."""
        path = self.work / "deploy" / "sre-demo-app" / "deployment.yaml"
        text = path.read_text(encoding="utf-8")
        start = text.index("sre-demo-app:") + len("sre-demo-app:")
        end = text.index("\n", start)
        path.write_text(text[:start] + version + text[end:], encoding="utf-8")
        self.git("commit", "-q", "-am", f"Deploy {version}")
        self.git("push", "-q", "origin", "HEAD:main")
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def pusher(bare_repo: Path, tmp_path: Path) -> Pusher:
    return Pusher(bare_repo, tmp_path / "work")


@pytest.fixture
def no_stray_processes(tmp_path: Path) -> Iterator[Path]:
    """The lab directory of a test; fails the test if a lab process outlives it."""
    lab_dir = tmp_path / "lab"
    yield lab_dir
    root = layout.Layout.at(lab_dir).root
    left = layout.lab_processes(root)
    if left:
        layout.terminate(left, timeout=10)
        pytest.fail(f"lab processes outlived the test: {left}")


@pytest.fixture
def needs_prometheus() -> None:
    if not promstack.available()["prometheus"]:
        pytest.skip("Prometheus is not installed (apt-get install prometheus)")
