"""Fixtures for blue-green's integration tests: a real Git remote, the Kubernetes stand-in.

- ``cluster``: a :class:`~gitops_guard_lab.kube_api.FakeKubeServer` on loopback whose
  pods are ready unless their image is in ``cluster.bad_images``; ``cluster.kubeconfig``
  is a file the official client loads;
- ``bg``: a :class:`bgrepo.BlueGreenRepo` synced into that cluster (blue live, 1.0.0);
- ``gates``: a fake SLO gate whose verdicts are set per (role, image);
- ``deps``/``settings``: the flow's dependencies and settings for ``bg``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "twocolour"))

import twocolour
from bgrepo import BlueGreenRepo, Cluster, Gates

from gitops_guard.strategies.bluegreen import flow


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    yield from twocolour.serve_cluster(tmp_path)


@pytest.fixture
def bg(tmp_path: Path, cluster: Cluster) -> BlueGreenRepo:
    return BlueGreenRepo.create(tmp_path, cluster.store)


@pytest.fixture
def gates() -> Gates:
    return Gates()


@pytest.fixture
def make_deps(
    bg: BlueGreenRepo, cluster: Cluster, gates: Gates
) -> Iterator[Callable[..., flow.Deps]]:
    with twocolour.deps_maker(flow.Deps, bg, cluster, gates) as make:
        yield make


@pytest.fixture
def make_settings(bg: BlueGreenRepo) -> Callable[..., flow.Settings]:
    return twocolour.settings_maker(
        flow.Settings, bg, scale_down_delay_seconds=0.01, switch_timeout_seconds=5
    )
