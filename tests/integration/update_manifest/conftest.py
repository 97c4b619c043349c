"""Fixtures for update-manifest tests: a GitOps repository of eight apps behind a bare
remote, a pipeline's checkout of it, and the CLI run in-process."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "gitops"))
sys.path.insert(0, str(Path(__file__).parent.parent / "github"))

from gitrepo import Remote, apps_repo

from gitops_guard import cli

APPS = {f"app{i}": f"ghcr.io/acme/app{i}:1.0.0" for i in range(8)}
APPS["web"] = "nginx:1.25.0"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    return apps_repo(tmp_path / "gitops", APPS)


@pytest.fixture
def checkout(remote: Remote, tmp_path: Path) -> Path:
    return remote.clone(tmp_path / "checkout")


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    def run(*argv: str) -> Run:
        capsys.readouterr()
        code = cli.main(["update-manifest", *argv])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
