"""Fixtures for the canary's integration tests: a real Git remote, the Kubernetes stand-in.

- ``cluster``: the lab's :class:`~gitops_guard_lab.kube_api.FakeKubeServer` on loopback
  whose pods are ready unless their image is in ``cluster.bad_images``;
- ``repo``: a :class:`canaryrepo.CanaryRepo` synced into that cluster;
- ``gates``: a fake step gate whose verdicts are set per (step, image);
- ``make_deps``/``make_settings``: the flow's dependencies and settings.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "twocolour"))

import twocolour
from canaryrepo import NAMESPACE, CanaryRepo, Cluster, Gates, seed_repo

from gitops_guard.strategies.canary import flow


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    yield from twocolour.serve_cluster(tmp_path)


@pytest.fixture
def repo(tmp_path: Path, cluster: Cluster) -> CanaryRepo:
    return seed_repo(tmp_path, cluster.store)


@pytest.fixture
def gates() -> Gates:
    return Gates()


@pytest.fixture
def make_deps(
    repo: CanaryRepo, cluster: Cluster, gates: Gates
) -> Iterator[Callable[..., flow.Deps]]:
    with twocolour.deps_maker(flow.Deps, repo, cluster, gates) as make:
        yield make


@pytest.fixture
def make_settings(repo: CanaryRepo) -> Callable[..., flow.Settings]:
    return twocolour.settings_maker(flow.Settings, repo, steps=(25, 50, 100), namespace=NAMESPACE)
