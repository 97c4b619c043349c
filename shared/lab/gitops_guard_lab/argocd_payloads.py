"""Swagger-shaped ArgoCD payloads for the fake API server: Applications and errors.

:func:`make_application` builds a ``v1alpha1Application`` dict and :func:`apply_state`
changes one in place, as ArgoCD's controller would; :func:`runtime_error` is the
``runtimeError`` body. Shapes follow ``../shared/reference/argocd-swagger.json``.

This module only builds dicts: no threads, no sockets, and no decision about a deploy.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

DEFAULT_NAMESPACE = "argocd"
NOW = "now"
"""A timestamp value meaning "the time the state is applied"."""

Timestamp = datetime | str | None


def iso(value: Timestamp) -> str | None:
    """A ``v1Time`` string (RFC 3339, seconds, ``Z``); ``"now"`` is the current time."""
    if value is None:
        return None
    if isinstance(value, str):
        if value != NOW:
            return value
        value = datetime.now(timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(seconds: float) -> str:
    """A ``v1Time`` string ``seconds`` in the past (negative: in the future)."""
    return iso(datetime.now(timezone.utc) - timedelta(seconds=seconds)) or ""


def make_application(
    name: str,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    repo_url: str = "https://git.example.com/org/gitops.git",
    path: str = "apps/web",
    target_revision: str = "HEAD",
    auto_sync: bool = True,
    multi_source_paths: Sequence[str] = (),
    **state: Any,
) -> dict[str, Any]:
    """A ``v1alpha1Application`` dict; ``state`` takes :func:`apply_state`'s keywords.

    ``multi_source_paths`` makes a multi-source app (``spec.sources``), one source
    per path; then pass ``revisions=[...]`` rather than ``revision=``.
    """
    spec: dict[str, Any] = {
        "project": "default",
        "destination": {"server": "https://kubernetes.default.svc", "namespace": name},
        "syncPolicy": {"automated": {"prune": True, "selfHeal": True}} if auto_sync else {},
    }
    if multi_source_paths:
        spec["sources"] = [
            {"repoURL": repo_url, "path": p, "targetRevision": target_revision}
            for p in multi_source_paths
        ]
    else:
        spec["source"] = {"repoURL": repo_url, "path": path, "targetRevision": target_revision}
    app: dict[str, Any] = {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"00000000-0000-4000-8000-{abs(hash(name)) % 10**12:012d}",
            "resourceVersion": "1",
            "creationTimestamp": ago(86400),
        },
        "spec": spec,
        "status": {
            "sync": {"status": "Unknown"},
            "health": {"status": "Unknown"},
            "sourceType": "Kustomize",
        },
    }
    apply_state(app, **state)
    return app


def apply_state(
    app: dict[str, Any],
    *,
    revision: str | None = None,
    revisions: Sequence[str] | None = None,
    sync_status: str | None = None,
    health: str | None = None,
    health_message: str | None = None,
    phase: str | None = None,
    op_revision: str | None = None,
    op_message: str | None = None,
    started_at: Timestamp = None,
    finished_at: Timestamp = None,
    reconciled_at: Timestamp = NOW,
    conditions: Sequence[tuple[str, str]] | None = None,
    operation: Mapping[str, Any] | Literal[False] | None = False,
    history_revision: str | None = None,
) -> None:
    """Change ``app`` in place; only the keywords given (not None) change anything.

    ``phase`` (Running, Terminating, Succeeded, Failed, Error) sets
    ``status.operationState``; ``finished_at`` defaults to now for a finished phase, which
    also clears a requested ``operation`` (as ArgoCD's controller does).
    ``reconciled_at`` defaults to now (each state is a reconcile); pass an older time
    for stale health. ``operation``: a pending ``v1alpha1Operation`` dict, or None to
    clear it (False: leave it). ``history_revision`` appends a ``status.history`` entry.
    """
    status = app.setdefault("status", {})
    sync = status.setdefault("sync", {})
    multi = bool(app.get("spec", {}).get("sources"))
    if revision is not None:
        sync["revision"] = revision
    if revisions is not None:
        sync["revisions"] = list(revisions)
    if revision is not None or revisions is not None:
        compared: dict[str, Any] = {"destination": app.get("spec", {}).get("destination", {})}
        if multi:
            compared["sources"] = copy.deepcopy(app["spec"]["sources"])
        elif app.get("spec", {}).get("source"):
            compared["source"] = copy.deepcopy(app["spec"]["source"])
        sync["comparedTo"] = compared
    if sync_status is not None:
        sync["status"] = sync_status
    health_block = status.setdefault("health", {})
    if health is not None:
        health_block["status"] = health
        health_block["lastTransitionTime"] = iso(NOW)
        health_block.pop("message", None)
    if health_message is not None:
        health_block["message"] = health_message
    if phase is not None:
        revs = _operation_revisions(status, sync, op_revision, multi=multi)
        finished = phase not in ("Running", "Terminating")
        sync_op: dict[str, Any] = {"revisions": revs} if multi else {"revision": revs[0]}
        state: dict[str, Any] = {
            "phase": phase,
            "message": op_message or _default_message(phase),
            "startedAt": iso(started_at or NOW),
            "operation": {
                "sync": sync_op,
                "initiatedBy": {"automated": True},
                "retry": {},
            },
        }
        if finished:
            state["finishedAt"] = iso(finished_at or NOW)
            state["syncResult"] = {"revisions": revs} if multi else {"revision": revs[0]}
            # ArgoCD's controller clears the requested operation when it completes.
            app.pop("operation", None)
        status["operationState"] = state
    elif op_message is not None and "operationState" in status:
        status["operationState"]["message"] = op_message
    if finished_at is not None and phase is None and "operationState" in status:
        status["operationState"]["finishedAt"] = iso(finished_at)
    if reconciled_at is not None:
        status["reconciledAt"] = iso(reconciled_at)
        status["observedAt"] = iso(reconciled_at)
    if conditions is not None:
        status["conditions"] = [
            {"type": kind, "message": message, "lastTransitionTime": iso(NOW)}
            for kind, message in conditions
        ]
    if operation is not False:
        if operation is None:
            app.pop("operation", None)
        else:
            app["operation"] = dict(operation)
    if history_revision is not None:
        history = status.setdefault("history", [])
        history.append(
            {
                "id": len(history),
                "revision": history_revision,
                "deployStartedAt": iso(started_at or NOW),
                "deployedAt": iso(finished_at or NOW),
                "source": copy.deepcopy(app.get("spec", {}).get("source", {})),
            }
        )


def _operation_revisions(
    status: Mapping[str, Any], sync: Mapping[str, Any], op_revision: str | None, *, multi: bool
) -> list[str]:
    """The revision(s) of an operation: given, else the running one's, else ArgoCD's current.

    Multi-source operations list one revision per source, as ArgoCD does.
    """
    current = list(sync.get("revisions") or []) if multi else [sync.get("revision") or ""]
    if op_revision:
        if multi:
            return current if op_revision in current else [op_revision]
        return [op_revision]
    previous = status.get("operationState") or {}
    if previous.get("phase") in ("Running", "Terminating"):
        running = (previous.get("operation") or {}).get("sync") or {}
        found = list(running.get("revisions") or []) or [running.get("revision") or ""]
        if any(found):
            return found
    return current or [""]


def _default_message(phase: str) -> str:
    return {
        "Running": "one or more tasks are running",
        "Terminating": "operation is terminating",
        "Succeeded": "successfully synced (all tasks run)",
        "Failed": "one or more synchronization tasks completed unsuccessfully",
        "Error": "ComparisonError: failed to generate manifests",
    }.get(phase, "")


def runtime_error(code: int, message: str) -> dict[str, Any]:
    """A ``runtimeError`` body (grpc-gateway's error shape)."""
    return {"error": message, "code": code, "message": message, "details": []}
