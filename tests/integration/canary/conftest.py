"""Fixtures for the canary's integration tests: a real Git remote, the Kubernetes stand-in.

- ``cluster``: the lab's :class:`~gitops_guard_lab.kube_api.FakeKubeServer` on loopback
  whose pods are ready unless their image is in ``cluster.bad_images``;
- ``repo``: a :class:`canaryrepo.CanaryRepo` synced into that cluster;
- ``gates``: a fake step gate whose verdicts are set per (step, image);
- ``make_deps``/``make_settings``: the flow's dependencies and settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from canaryrepo import NAMESPACE, TOKEN, CanaryRepo, Cluster, Gates, seed_repo

from gitops_guard import gitops, images
from gitops_guard.kube import client as kube_client
from gitops_guard.strategies.canary import flow
from gitops_guard_lab import kube_api


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    bad: set[str] = set()

    def ready(pod: dict[str, Any]) -> bool:
        return not any(c.get("image") in bad for c in pod["spec"].get("containers", []))

    store = kube_api.KubeStore(ready=ready)
    server = kube_api.FakeKubeServer(store, token=TOKEN, reconcile_seconds=0.05).start()
    config = tmp_path / "kubeconfig"
    config.write_text(server.kubeconfig(namespace=NAMESPACE))
    try:
        yield Cluster(server=server, kubeconfig=config, bad_images=bad)
    finally:
        server.stop()


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
    clients: list[kube_client.KubeClient] = []

    def make(**overrides: Any) -> flow.Deps:
        client = cluster.client()
        clients.append(client)
        values: dict[str, Any] = {
            "wc": gitops.open_checkout(repo.work),
            "wait": repo.sync,
            "gate": gates,
            "kube": client,
            "echo": lambda line: None,
        }
        values.update(overrides)
        return flow.Deps(**values)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def make_settings(repo: CanaryRepo) -> Callable[..., flow.Settings]:
    def make(image: str, **overrides: Any) -> flow.Settings:
        values: dict[str, Any] = {
            "dir": repo.work,
            "service": "web",
            "image": images.parse(image, source="--image"),
            "steps": (25, 50, 100),
            "paths": ("deploy/web",),
            "ready_timeout_seconds": 5,
            "poll_seconds": 0.05,
            "namespace": NAMESPACE,
        }
        values.update(overrides)
        return flow.Settings(**values)

    return make
