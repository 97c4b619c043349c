"""The fake ArgoCD's in-memory application store, and replays of scripted states.

:class:`ApplicationStore` is thread-safe and answers the API's sync and terminate
semantics; its hooks (``on_sync``/``on_refresh``/``on_terminate``) tell a syncer what was
asked. :class:`Replay` applies :class:`ReplayStep` states to one app in a thread.

This module holds state only; the HTTP side is :mod:`gitops_guard_lab.argocd_api`.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from gitops_guard_lab.argocd_payloads import (
    DEFAULT_NAMESPACE,
    NOW,
    apply_state,
    iso,
    runtime_error,
)

SyncHook = Callable[[str, str, Mapping[str, Any]], None]
"""``hook(name, namespace, request_body)``: called after a sync was accepted."""
AppHook = Callable[[str, str], None]
"""``hook(name, namespace)``: called after a refresh or a terminate."""


def _operation_running(app: Mapping[str, Any]) -> bool:
    phase = app.get("status", {}).get("operationState", {}).get("phase")
    return bool(app.get("operation")) or phase in ("Running", "Terminating")


class ApplicationStore:
    """Applications by (namespace, name), safe to share between threads.

    Readers get deep copies. Every change bumps a version and wakes stream watchers.
    Hooks (lists of callables) are called outside the lock.
    """

    def __init__(self, default_namespace: str = DEFAULT_NAMESPACE) -> None:
        self.default_namespace = default_namespace
        self._apps: dict[tuple[str, str], dict[str, Any]] = {}
        self._versions: dict[tuple[str, str], int] = {}
        self._changed = threading.Condition()
        self.on_sync: list[SyncHook] = []
        """Called after a sync request was accepted (the lab's syncer listens here)."""
        self.on_refresh: list[AppHook] = []
        """Called after a GET with ``refresh=normal|hard``."""
        self.on_terminate: list[AppHook] = []
        """Called after a terminate request; with none, the operation fails at once."""
        self.sync_windows: dict[tuple[str, str], list[dict[str, Any]]] = {}
        """The project's sync windows that apply to an app (``v1alpha1SyncWindow`` dicts:
        kind, schedule, duration, manualSync), set with :meth:`set_sync_windows`."""

    def _key(self, name: str, namespace: str | None) -> tuple[str, str]:
        return (namespace or self.default_namespace, name)

    def select(
        self, selector: str | None = None, namespace: str | None = None
    ) -> list[dict[str, Any]]:
        """Deep copies of the apps whose labels match ``selector`` (``k=v,k2=v2``)."""
        wanted = dict(part.split("=", 1) for part in (selector or "").split(",") if "=" in part)
        out = []
        with self._changed:
            for (ns, _), app in sorted(self._apps.items()):
                if namespace and ns != namespace:
                    continue
                labels = app.get("metadata", {}).get("labels") or {}
                if all(labels.get(k.strip()) == v.strip() for k, v in wanted.items()):
                    out.append(copy.deepcopy(app))
        return out

    def set_sync_windows(
        self, name: str, windows: list[dict[str, Any]], *, namespace: str | None = None
    ) -> None:
        """Assign sync windows to an app (what the project's ``syncWindows`` would)."""
        with self._changed:
            self.sync_windows[self._key(name, namespace)] = [dict(w) for w in windows]

    def sync_windows_response(
        self, name: str, namespace: str | None, now: datetime | None = None
    ) -> dict[str, Any]:
        """``applicationApplicationSyncWindowsResponse`` at ``now`` (UTC by default)."""
        from gitops_guard.argocd import syncwindows

        when = now or datetime.now(timezone.utc)
        with self._changed:
            assigned = [dict(w) for w in self.sync_windows.get(self._key(name, namespace), [])]
        active = []
        for raw in assigned:
            window = syncwindows.SyncWindow.model_validate(raw)
            try:
                if syncwindows.active_until(window, when) is not None:
                    active.append(raw)
            except (syncwindows.CronError, ValueError):
                continue
        deny = any(w.get("kind") == "deny" for w in active)
        allows = [w for w in assigned if w.get("kind") == "allow"]
        can_sync = not deny and (not allows or any(w.get("kind") == "allow" for w in active))
        return {"activeWindows": active, "assignedWindows": assigned, "canSync": can_sync}

    def put(self, app: Mapping[str, Any]) -> None:
        """Add or replace an application (its ``metadata.name``/``namespace`` say which)."""
        meta = app.get("metadata", {})
        key = self._key(str(meta["name"]), meta.get("namespace"))
        with self._changed:
            self._apps[key] = copy.deepcopy(dict(app))
            self._bump(key)

    def get(self, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """A copy of the application, or None."""
        with self._changed:
            app = self._apps.get(self._key(name, namespace))
            return copy.deepcopy(app) if app is not None else None

    def names(self) -> list[tuple[str, str]]:
        """Every (namespace, name) held."""
        with self._changed:
            return sorted(self._apps)

    def update_app(
        self,
        name: str,
        mutate: Callable[[dict[str, Any]], None],
        *,
        namespace: str | None = None,
    ) -> dict[str, Any]:
        """Apply ``mutate`` to the stored app under the lock; returns a copy of the result."""
        key = self._key(name, namespace)
        with self._changed:
            app = self._apps.get(key)
            if app is None:
                raise KeyError(f"no application {key[1]!r} in namespace {key[0]!r}")
            mutate(app)
            self._bump(key)
            return copy.deepcopy(app)

    def set_state(self, name: str, *, namespace: str | None = None, **state: Any) -> dict[str, Any]:
        """Change the app's state by :func:`apply_state` keywords; returns a copy."""
        return self.update_app(name, lambda app: apply_state(app, **state), namespace=namespace)

    def version(self, name: str, namespace: str | None = None) -> int:
        """The change counter of one app (0 when absent)."""
        with self._changed:
            return self._versions.get(self._key(name, namespace), 0)

    def wait_change(
        self, name: str, namespace: str | None, *, after: int, timeout: float
    ) -> tuple[int, dict[str, Any] | None]:
        """Block until the app's version passes ``after`` or ``timeout``; returns (version, app)."""
        key = self._key(name, namespace)
        with self._changed:
            self._changed.wait_for(lambda: self._versions.get(key, 0) > after, timeout=timeout)
            app = self._apps.get(key)
            return self._versions.get(key, 0), copy.deepcopy(app) if app is not None else None

    def _bump(self, key: tuple[str, str]) -> None:
        self._versions[key] = self._versions.get(key, 0) + 1
        app = self._apps.get(key)
        if app is not None:
            app.setdefault("metadata", {})["resourceVersion"] = str(self._versions[key])
        self._changed.notify_all()

    # ------------------------------------------------------------ API semantics
    def request_sync(
        self, name: str, namespace: str | None, body: Mapping[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        """ArgoCD's sync: 200 with the app, or 400 while another operation runs."""
        key = self._key(name, namespace)
        with self._changed:
            app = self._apps.get(key)
            if app is None:
                return 404, runtime_error(5, f'applications.argoproj.io "{name}" not found')
            if _operation_running(app):
                return 400, runtime_error(9, "another operation is already in progress")
            sync: dict[str, Any] = {}
            if body.get("revision"):
                sync["revision"] = body["revision"]
            if body.get("revisions"):
                sync["revisions"] = list(body["revisions"])
            if body.get("prune"):
                sync["prune"] = True
            app["operation"] = {
                "sync": sync,
                "initiatedBy": {"username": "gitops-guard"},
                "retry": {},
            }
            self._bump(key)
            result = copy.deepcopy(app)
        for hook in list(self.on_sync):
            hook(name, key[0], dict(body))
        return 200, result

    def request_terminate(self, name: str, namespace: str | None) -> tuple[int, dict[str, Any]]:
        """ArgoCD's terminate: 200 ``{}``, or 400 when no operation is in progress."""
        key = self._key(name, namespace)
        with self._changed:
            app = self._apps.get(key)
            if app is None:
                return 404, runtime_error(5, f'applications.argoproj.io "{name}" not found')
            if not _operation_running(app):
                # ArgoCD answers InvalidArgument (HTTP 400) here.
                return 400, runtime_error(
                    3, "Unable to terminate operation. No operation is in progress"
                )
            state = app.setdefault("status", {}).setdefault("operationState", {})
            state.setdefault("startedAt", iso(NOW))
            state["phase"] = "Terminating"
            if not self.on_terminate:
                state["phase"] = "Failed"
                state["message"] = "Operation terminated"
                state["finishedAt"] = iso(NOW)
                app.pop("operation", None)
            self._bump(key)
        for hook in list(self.on_terminate):
            hook(name, key[0])
        return 200, {}

    def refreshed(self, name: str, namespace: str | None) -> None:
        """Tell the refresh hooks that ``refresh=`` was asked for."""
        for hook in list(self.on_refresh):
            hook(name, namespace or self.default_namespace)


@dataclass(frozen=True)
class ReplayStep:
    """Wait ``after_seconds`` (from the previous step), then apply ``state``."""

    after_seconds: float
    state: Mapping[str, Any]
    """:func:`apply_state` keywords."""


class Replay:
    """Applies :class:`ReplayStep` states to one app in a background thread.

    ``applied_at`` holds the ``time.monotonic()`` of each applied step, so a test or a
    benchmark knows when the final state appeared.
    """

    def __init__(
        self,
        store: ApplicationStore,
        name: str,
        steps: Sequence[ReplayStep],
        *,
        namespace: str | None = None,
    ) -> None:
        self.store = store
        self.name = name
        self.namespace = namespace
        self.steps = tuple(steps)
        self.applied_at: list[float] = []
        self.finished = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Replay:
        """Start (once; later calls do nothing)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="argocd-replay", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop applying steps and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        for step in self.steps:
            if self._stop.wait(step.after_seconds):
                return
            self.store.set_state(self.name, namespace=self.namespace, **dict(step.state))
            self.applied_at.append(time.monotonic())
        self.finished.set()
