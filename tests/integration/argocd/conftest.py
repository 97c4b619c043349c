"""Fixtures for the argocd-wait integration tests: a fake ArgoCD server per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argocd_cli import OLD, TOKEN, deployed

from gitops_guard_lab import argocd_api


@pytest.fixture
def store() -> argocd_api.ApplicationStore:
    """A store holding app ``web``, Synced and Healthy at the OLD commit (auto-sync on)."""
    store = argocd_api.ApplicationStore()
    store.put(argocd_api.make_application("web", **deployed(OLD)))
    return store


@pytest.fixture
def argocd(store: argocd_api.ApplicationStore) -> Iterator[argocd_api.FakeArgoServer]:
    """The fake ArgoCD API on a free loopback port, requiring the test token."""
    with argocd_api.FakeArgoServer(store, token=TOKEN) as server:
        yield server
