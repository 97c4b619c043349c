"""Snapshots for the ArgoCD unit tests, built by the fake server's swagger-shaped builder."""

from __future__ import annotations

from typing import Any

from gitops_guard.argocd import models
from gitops_guard_lab import argocd_api

OLD = "a" * 40
OURS = "b" * 40
LATER = "c" * 40


def snapshot(**state: Any) -> models.Application:
    """An Application model from :func:`argocd_api.make_application` keywords."""
    auto_sync = state.pop("auto_sync", True)
    paths = state.pop("multi_source_paths", ())
    return models.Application.model_validate(
        argocd_api.make_application("web", auto_sync=auto_sync, multi_source_paths=paths, **state)
    )


def done_state(revision: str = OURS, **over: Any) -> dict[str, Any]:
    """The keywords of a finished deploy of ``revision``: Synced, Succeeded, Healthy, fresh."""
    state: dict[str, Any] = {
        "revision": revision,
        "sync_status": "Synced",
        "health": "Healthy",
        "phase": "Succeeded",
        "op_revision": revision,
        "finished_at": argocd_api.ago(10),
        "reconciled_at": argocd_api.ago(5),
    }
    state.update(over)
    return state
