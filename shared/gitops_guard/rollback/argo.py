"""Get the rollback running in ArgoCD: unstick a sync blocked on the bad revision, then wait.

A bad revision can leave ArgoCD retrying a failing sync that blocks every newer
commit, the revert included (argo-cd #11494, #29636). Before waiting for the
rollback commit, :func:`settle` reads the application; when an operation is running
for another revision than the rollback's, it terminates it (``DELETE
/api/v1/applications/{name}/operation``), asks for a sync of the rollback revision,
and then reuses :func:`gitops_guard.argocd.wait.wait_for_revision`.

This module must not decide what to roll back; it only gets the decision deployed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from gitops_guard import errors
from gitops_guard.argocd import client as argo_client
from gitops_guard.argocd import exceptions, wait


@dataclass(frozen=True)
class SettleResult:
    """What :func:`settle` did and how the wait ended."""

    terminated: str
    """The revision(s) of the operation that was terminated ("" when none was)."""
    synced: bool
    """True when a sync of the rollback revision was requested."""
    wait: wait.WaitResult


def _stuck_revisions(app: object, revision: str) -> tuple[str, ...] | None:
    state = getattr(getattr(app, "status", None), "operation_state", None)
    if state is None or not state.running:
        return None
    revisions = tuple(state.revisions)
    if any(r.lower() == revision.lower() for r in revisions):
        return None
    return revisions


def settle(
    client: argo_client.ArgoClient,
    *,
    app_name: str,
    revision: str,
    timing: wait.Timing,
    contains: Callable[[str, str], bool] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    attempts: int = 10,
) -> SettleResult:
    """Terminate an operation stuck on another revision, sync ``revision``, wait for it."""
    app = client.get_application(app_name, refresh="normal")
    stuck = _stuck_revisions(app, revision)
    terminated = ""
    synced = False
    if stuck is not None:
        terminated = ",".join(stuck) or "unknown revision"
        # ConfigError: it finished between our read and the DELETE; nothing to terminate.
        with contextlib.suppress(errors.ConfigError):
            client.terminate_operation(app_name)
        for _ in range(max(1, attempts)):
            try:
                client.sync(app_name, revision=revision)
                synced = True
                break
            except exceptions.OperationInProgress:
                sleep(min(2.0, timing.poll_interval_seconds))  # still terminating
        if not synced:
            raise errors.DependencyUnavailable(
                f"ArgoCD kept an operation running on {app_name} after it was terminated",
                hint="Terminate it by hand (`argocd app terminate-op`) and sync the rollback.",
            )
    result = wait.wait_for_revision(
        client,
        app_name=app_name,
        expected=wait.Expectation(revision=revision),
        timing=timing,
        sync=True,
        contains=contains,
        sleep=sleep,
    )
    return SettleResult(terminated=terminated, synced=synced, wait=result)


def unstick_many(
    client: argo_client.ArgoClient,
    *,
    selector: str | None,
    revision: str,
    sleep: Callable[[float], None] = time.sleep,
    attempts: int = 10,
) -> list[tuple[str, str]]:
    """:func:`settle`'s first half for every selected app (one list request): terminate
    each operation stuck on another revision and sync ``revision`` there. Returns
    ``(app, stuck revisions)`` for each app it unstuck; the wait is the caller's."""
    out: list[tuple[str, str]] = []
    for app in client.list_applications(selector=selector):
        name = app.metadata.name or ""
        stuck = _stuck_revisions(app, revision)
        if stuck is None or not name:
            continue
        with contextlib.suppress(errors.ConfigError):
            client.terminate_operation(name)
        for _ in range(max(1, attempts)):
            try:
                client.sync(name, revision=revision)
                break
            except exceptions.OperationInProgress:
                sleep(0.5)  # still terminating
        out.append((name, ",".join(stuck) or "unknown revision"))
    return out
