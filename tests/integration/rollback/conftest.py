"""Fixtures for rollback's integration tests: a real GitOps repository with a bare remote.

``gitops`` builds, in ``tmp_path``:

- ``remote.git``: a bare repository, the "remote" (branch ``main``);
- ``work``: a clone of it, where commands run;
- manifests for two apps (``apps/web/deployment.yaml``, ``apps/api/deployment.yaml``).

``GitopsRepo.deploy`` makes an update-manifest-style deploy commit (with the contract's
trailers) in a separate clone and pushes it, as CI would.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rollbackrepo import DEPLOYMENT, GitopsRepo, git

from gitops_guard import cli


@pytest.fixture
def gitops(tmp_path: Path) -> GitopsRepo:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "--initial-branch=main", str(remote))
    seed = tmp_path / "seed"
    git(tmp_path, "init", "-q", "--initial-branch=main", str(seed))
    for app in ("web", "api"):
        path = seed / "apps" / app / "deployment.yaml"
        path.parent.mkdir(parents=True)
        path.write_text(DEPLOYMENT.format(name=app, image=f"ghcr.io/acme/{app}:1.0.0"))
    git(seed, "add", ".")
    git(seed, "commit", "-q", "-m", "initial manifests")
    git(seed, "remote", "add", "origin", str(remote))
    git(seed, "push", "-q", "origin", "main")
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(remote), str(work))
    return GitopsRepo(root=tmp_path, remote=remote, work=work)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str]]:
    """Run ``gitops-guard rollback ...`` in-process; returns (exit code, stdout+stderr)."""

    def run(*argv: str | Path) -> tuple[int, str]:
        code = cli.main(["rollback", *[str(a) for a in argv]])
        out = capsys.readouterr()
        return code, out.out + out.err

    return run
