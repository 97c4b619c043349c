"""The lab syncer: plays ArgoCD for one application on this machine.

It polls the bare GitOps repository, reads the image the application's manifests
name at the tip of the tracked branch, and "deploys" it by (re)starting the demo
app with that version's behaviour (see :mod:`gitops_guard_lab.catalogue`). While
doing so it keeps an ArgoCD-shaped application status with the transitions a real
ArgoCD goes through with auto-sync::

    Synced(old) -> OutOfSync(new) -> operation Running -> operation Succeeded,
    Synced(new), health Progressing -> Healthy (or Degraded), history += new

A status is a plain ``v1alpha1Application`` dict (the shapes of
``../shared/reference/argocd-swagger.json``) handed to a ``publish`` callback; the
ArgoCD API stand-in (:mod:`gitops_guard_lab.argocd_api`) serves it. Requests that
come through the API (sync to a revision, terminate the operation) are honoured
through :meth:`Syncer.request_sync` and :meth:`Syncer.request_terminate`.

The syncer knows nothing about SLOs or rollbacks; it never writes to the repository.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from gitops_guard import errors
from gitops_guard_lab import catalogue, gitrepo, pod

log = logging.getLogger(__name__)

DEGRADED_AFTER_SECONDS = 8.0
"""How long a new version may stay unready before health turns Degraded (the lab's
stand-in for ``progressDeadlineSeconds``)."""
HEALTH_POLL_SECONDS = 0.25
"""How often the health of a version that is starting is probed."""
REFRESH_DELAY_SECONDS = 0.5
"""Time between noticing a new revision (OutOfSync) and starting the sync operation."""

Payload = dict[str, Any]


def utc_now() -> str:
    """RFC 3339 time as ArgoCD writes it (seconds, ``Z``)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------ status
@dataclass
class AppStatus:
    """The mutable state behind the published ``v1alpha1Application``."""

    name: str
    namespace: str
    spec: Payload
    sync_status: str = "Unknown"
    sync_revision: str | None = None
    health_status: str = "Missing"
    health_message: str = ""
    operation: Payload | None = None
    operation_state: Payload | None = None
    history: list[Payload] = field(default_factory=list)
    reconciled_at: str | None = None
    images: list[str] = field(default_factory=list)
    conditions: list[Payload] = field(default_factory=list)
    resource_version: int = 1

    def payload(self) -> Payload:
        """The ``v1alpha1Application`` the API serves."""
        status: Payload = {
            "sync": {
                "status": self.sync_status,
                "comparedTo": {"source": self.spec.get("source", {})},
            },
            "health": {"status": self.health_status},
            "history": copy.deepcopy(self.history),
            "summary": {"images": list(self.images)},
            "sourceType": "Kustomize",
        }
        if self.sync_revision:
            status["sync"]["revision"] = self.sync_revision
        if self.health_message:
            status["health"]["message"] = self.health_message
        if self.reconciled_at:
            status["reconciledAt"] = self.reconciled_at
        if self.operation_state is not None:
            status["operationState"] = copy.deepcopy(self.operation_state)
        if self.conditions:
            status["conditions"] = copy.deepcopy(self.conditions)
        payload: Payload = {
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "resourceVersion": str(self.resource_version),
            },
            "spec": copy.deepcopy(self.spec),
            "status": status,
        }
        if self.operation is not None:
            payload["operation"] = copy.deepcopy(self.operation)
        return payload


@dataclass
class _Request:
    kind: str  # "sync" | "terminate"
    revision: str | None = None


class Syncer:
    """Watches the repository and drives the app status; run it with :meth:`start`.

    ``publish`` receives a full Application payload after every change.
    """

    def __init__(
        self,
        *,
        repo: gitrepo.BareRepo,
        deployer: pod.Deployer,
        publish: Callable[[Payload], None],
        app_file: str = gitrepo.APP_FILE,
        poll_seconds: float = 1.0,
        catalogue_: catalogue.Catalogue | None = None,
        repo_url: str | None = None,
    ) -> None:
        self.repo = repo
        self.deployer = deployer
        self.publish = publish
        self.app_file = app_file
        self.poll_seconds = poll_seconds
        self.catalogue = catalogue_ or catalogue.load()
        self.repo_url = repo_url or f"file://{repo.path}"
        self.transitions: list[tuple[str, str | None, str, str, str | None]] = []
        """(sync status, revision, health, operation phase, image) after each change."""
        self._lock = threading.RLock()
        self._requests: list[_Request] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._deployed: gitrepo.Desired | None = None
        self._progress_since: float | None = None
        self._pull_failed = False
        self.status = self._initial_status()

    # -------------------------------------------------------------- setup
    def _initial_status(self) -> AppStatus:
        tip = self.repo.tip()
        raw = next(
            iter(gitrepo.yaml_docs(self.repo.read(tip, self.app_file), source=self.app_file))
        )
        spec = copy.deepcopy(raw.get("spec", {}))
        spec.setdefault("source", {})["repoURL"] = self.repo_url
        meta = raw.get("metadata", {})
        return AppStatus(
            name=str(meta.get("name", "sre-demo-app")),
            namespace=str(meta.get("namespace", "argocd")),
            spec=spec,
        )

    @property
    def name(self) -> str:
        return self.status.name

    def auto_sync(self) -> bool:
        automated = (self.status.spec.get("syncPolicy") or {}).get("automated")
        return automated is not None and automated.get("enabled") is not False

    # -------------------------------------------------------------- API requests
    def request_sync(self, revision: str | None = None) -> None:
        """A sync was requested through the API: the next round syncs to ``revision``."""
        with self._lock:
            phase = (self.status.operation_state or {}).get("phase")
            if phase in ("Running", "Terminating"):
                raise errors.InputError("another operation is already in progress")
            target = revision or self.repo.tip()
            self.status.operation = {
                "sync": {"revision": target},
                "initiatedBy": {"username": "gitops-guard"},
            }
            self._requests.append(_Request("sync", target))
            self._changed()
        self._wake.set()

    def request_terminate(self) -> None:
        """Terminate the running operation, if any (it ends ``Failed``)."""
        with self._lock:
            state = self.status.operation_state
            if state is not None and state.get("phase") == "Running":
                state["phase"] = "Terminating"
                self._requests.append(_Request("terminate"))
            self._changed()
        self._wake.set()

    def request_refresh(self) -> None:
        """A refresh was asked (``?refresh=normal``): poll the repository now."""
        self._wake.set()

    # -------------------------------------------------------------- lifecycle
    def start(self) -> None:
        """Deploy what the tip names, then watch in a background thread."""
        tip = self.repo.tip()
        self._sync_to(self.desired(tip), initiated_by="automated")
        self._thread = threading.Thread(target=self._loop, name="lab-syncer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.deployer.stop()

    def desired(self, revision: str) -> gitrepo.Desired:
        return gitrepo.desired_state(self.repo, revision, app_file=self.app_file)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except errors.GitopsGuardError as exc:
                log.warning("syncer: %s", exc)
                with self._lock:
                    self.status.conditions = [
                        {
                            "type": "ComparisonError",
                            "message": str(exc),
                            "lastTransitionTime": utc_now(),
                        }
                    ]
                    self._changed()
            except Exception:  # keep playing ArgoCD; the log tells what broke
                log.exception("syncer: unexpected error")
            self._wake.wait(self._next_wait())
            self._wake.clear()

    def _next_wait(self) -> float:
        # While a new version starts, look at its health often: ArgoCD learns of pod
        # readiness through a watch, not through the repository poll.
        with self._lock:
            starting = self.status.health_status == "Progressing" and not self._pull_failed
        return min(self.poll_seconds, HEALTH_POLL_SECONDS) if starting else self.poll_seconds

    # -------------------------------------------------------------- one round
    def step(self) -> None:
        """One reconciliation round: requests, repository tip, health."""
        with self._lock:
            requests, self._requests = self._requests, []
        for request in requests:
            if request.kind == "sync" and request.revision:
                self._sync_to(self.desired(request.revision), initiated_by="gitops-guard")
        tip = self.repo.tip()
        with self._lock:
            if self.status.conditions:
                self.status.conditions = []
                self._changed()
            deployed = self._deployed.revision if self._deployed else None
        if tip != deployed:
            desired = self.desired(tip)
            with self._lock:
                self.status.sync_status = "OutOfSync"
                self.status.sync_revision = tip
                self.status.reconciled_at = utc_now()
                self._changed()
            if self.auto_sync():
                time.sleep(REFRESH_DELAY_SECONDS)
                self._sync_to(desired, initiated_by="automated")
        self._watch_health()

    def _sync_to(self, desired: gitrepo.Desired, *, initiated_by: str) -> None:
        started = utc_now()
        operation: Payload = {"sync": {"revision": desired.revision}}
        operation["initiatedBy"] = (
            {"automated": True} if initiated_by == "automated" else {"username": initiated_by}
        )
        with self._lock:
            self.status.operation = operation
            self.status.operation_state = {
                "operation": copy.deepcopy(operation),
                "phase": "Running",
                "message": "one or more tasks are running",
                "startedAt": started,
            }
            self._changed()
        known = desired.version in self.catalogue.versions
        if known:
            self.deployer.deploy(desired.version)
        with self._lock:
            if self._take_terminate():
                self.status.operation_state.update(
                    phase="Failed", message="Operation terminated", finishedAt=utc_now()
                )
                self.status.operation = None
                self._changed()
                return
            finished = utc_now()
            self._deployed = desired
            self._pull_failed = not known
            self._progress_since = time.monotonic()
            self.status.operation = None
            self.status.operation_state = {
                "operation": copy.deepcopy(operation),
                "phase": "Succeeded",
                "message": "successfully synced (all tasks run)",
                "startedAt": started,
                "finishedAt": finished,
                "syncResult": {
                    "revision": desired.revision,
                    "source": copy.deepcopy(self.status.spec.get("source", {})),
                    "resources": [
                        _resource(
                            "apps", "Deployment", desired, "deployment.apps/sre-demo-app configured"
                        ),
                        _resource("", "Service", desired, "service/sre-demo-app unchanged"),
                    ],
                },
            }
            self.status.sync_status = "Synced"
            self.status.sync_revision = desired.revision
            self.status.reconciled_at = finished
            self.status.health_status = "Progressing"
            self.status.health_message = (
                "Waiting for rollout to finish: 0 of 1 updated replicas are available..."
            )
            self.status.images = [desired.image]
            next_id = (self.status.history[-1]["id"] + 1) if self.status.history else 0
            self.status.history.append(
                {
                    "id": next_id,
                    "revision": desired.revision,
                    "deployStartedAt": started,
                    "deployedAt": finished,
                    "source": copy.deepcopy(self.status.spec.get("source", {})),
                    "initiatedBy": copy.deepcopy(operation["initiatedBy"]),
                }
            )
            del self.status.history[:-10]  # ArgoCD's default revisionHistoryLimit
            self._changed()

    def _take_terminate(self) -> bool:
        for index, request in enumerate(self._requests):
            if request.kind == "terminate":
                del self._requests[index]
                return True
        return False

    def _watch_health(self) -> None:
        with self._lock:
            self._requests = [r for r in self._requests if r.kind != "terminate"]
        if self._deployed is None:
            return
        if self._pull_failed:
            health, message = (
                "Progressing",
                "ImagePullBackOff: the image is not in the lab catalogue",
            )
        elif not self.deployer.alive():
            version = self._deployed.version
            log.warning("syncer: demo app %s exited; restarting it", version)
            self.deployer.restarts += 1
            self.deployer.deploy(version)
            self._progress_since = time.monotonic()
            health, message = "Degraded", "Back-off restarting failed container (CrashLoopBackOff)"
        elif self.deployer.ready():
            health, message = "Healthy", ""
            self._progress_since = None
        else:
            health, message = (
                "Progressing",
                "Readiness probe failed: HTTP probe failed with statuscode: 503",
            )
        if (
            health == "Progressing"
            and self._progress_since is not None
            and time.monotonic() - self._progress_since > DEGRADED_AFTER_SECONDS
        ):
            health = "Degraded"
            message = 'Deployment "sre-demo-app" exceeded its progress deadline; ' + message
        with self._lock:
            if (health, message) != (self.status.health_status, self.status.health_message):
                self.status.health_status = health
                self.status.health_message = message
                self._changed()

    def _changed(self) -> None:
        status = self.status
        status.resource_version += 1
        phase = (status.operation_state or {}).get("phase", "")
        image = status.images[0] if status.images else None
        entry = (status.sync_status, status.sync_revision, status.health_status, phase, image)
        if not self.transitions or self.transitions[-1] != entry:
            self.transitions.append(entry)
        self.publish(status.payload())


def _resource(group: str, kind: str, desired: gitrepo.Desired, message: str) -> Payload:
    return {
        "group": group,
        "version": "v1",
        "kind": kind,
        "namespace": "sre-demo",
        "name": "sre-demo-app",
        "status": "Synced",
        "message": message,
        "hookPhase": "Succeeded" if kind == "Deployment" else "",
        "syncPhase": "Sync",
    }
