"""Pydantic models of the parts of an ArgoCD ``v1alpha1Application`` that we read.

Every field name is checked against ``../shared/reference/argocd-swagger.json``
(``v1alpha1Application``, ``v1alpha1ApplicationStatus``, ``v1alpha1SyncStatus``,
``v1alpha1AppHealthStatus``, ``v1alpha1OperationState``, ``v1alpha1Operation``,
``v1alpha1SyncOperation``, ``v1alpha1SyncOperationResult``,
``v1alpha1ApplicationCondition``, ``v1alpha1RevisionHistory``,
``v1alpha1ApplicationWatchEvent``). The models are a *projection*: ArgoCD sends
many more fields, which are ignored (``extra="ignore"``), unlike our own
configuration models, which forbid unknown keys. Every field is optional because
ArgoCD omits empty ones. Models are frozen.

This module must not do I/O or decide anything; it parses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

# Upstream words (gitops-engine ``OperationPhase``, ArgoCD ``SyncStatusCode`` and
# ``HealthStatusCode``), spelled exactly as ArgoCD sends them.
PHASE_RUNNING: Final = "Running"
PHASE_TERMINATING: Final = "Terminating"
PHASE_FAILED: Final = "Failed"
PHASE_ERROR: Final = "Error"
PHASE_SUCCEEDED: Final = "Succeeded"
RUNNING_PHASES: Final = frozenset({PHASE_RUNNING, PHASE_TERMINATING})
FAILED_PHASES: Final = frozenset({PHASE_FAILED, PHASE_ERROR})

SYNCED: Final = "Synced"
OUT_OF_SYNC: Final = "OutOfSync"

HEALTHY: Final = "Healthy"
PROGRESSING: Final = "Progressing"
DEGRADED: Final = "Degraded"
SUSPENDED: Final = "Suspended"
MISSING: Final = "Missing"

BLOCKING_CONDITIONS: Final = frozenset({"ComparisonError", "InvalidSpecError"})
"""Condition types that mean ArgoCD could not judge the app: never "done" with one."""


_T = TypeVar("_T")


def _none_as_empty(value: Any) -> Any:
    # Some ArgoCD versions and proxies send ``null`` for an empty list.
    return () if value is None else value


Many = Annotated[tuple[_T, ...], BeforeValidator(_none_as_empty)]
"""A list field that ArgoCD may omit or send as ``null``."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class ObjectMeta(_Model):
    """``v1ObjectMeta``: which application this is."""

    name: str | None = None
    namespace: str | None = None


class ApplicationSource(_Model):
    """``v1alpha1ApplicationSource``: where ArgoCD reads manifests from."""

    repo_url: str | None = Field(default=None, alias="repoURL")
    path: str | None = None
    target_revision: str | None = Field(default=None, alias="targetRevision")
    chart: str | None = None
    ref: str | None = None
    name: str | None = None


class SyncPolicyAutomated(_Model):
    """``v1alpha1SyncPolicyAutomated``: present when auto-sync is configured."""

    enabled: bool | None = None
    """Newer ArgoCD can keep the block but switch it off with ``enabled: false``."""
    self_heal: bool | None = Field(default=None, alias="selfHeal")
    """ArgoCD undoes changes made in the cluster (blue-green's cluster mode checks it)."""


class SyncPolicy(_Model):
    """``v1alpha1SyncPolicy``."""

    automated: SyncPolicyAutomated | None = None
    sync_options: Many[str] = Field(default=(), alias="syncOptions")


class ResourceIgnoreDifferences(_Model):
    """``v1alpha1ResourceIgnoreDifferences``: fields ArgoCD does not compare."""

    group: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""
    json_pointers: Many[str] = Field(default=(), alias="jsonPointers")
    jq_path_expressions: Many[str] = Field(default=(), alias="jqPathExpressions")
    managed_fields_managers: Many[str] = Field(default=(), alias="managedFieldsManagers")


class ApplicationDestination(_Model):
    """``v1alpha1ApplicationDestination``: the cluster (``server`` URL or ``name``) and
    namespace the application deploys to; slo-gate's per-app variables come from it."""

    server: str | None = None
    name: str | None = None
    namespace: str | None = None


class ApplicationSpec(_Model):
    """``v1alpha1ApplicationSpec``: the sources, the destination and the sync policy."""

    source: ApplicationSource | None = None
    destination: ApplicationDestination = ApplicationDestination()
    sources: Many[ApplicationSource] = ()
    sync_policy: SyncPolicy | None = Field(default=None, alias="syncPolicy")
    ignore_differences: Many[ResourceIgnoreDifferences] = Field(
        default=(), alias="ignoreDifferences"
    )

    @property
    def auto_sync(self) -> bool:
        """True when ArgoCD syncs by itself (``syncPolicy.automated`` set and not disabled)."""
        automated = self.sync_policy.automated if self.sync_policy else None
        return automated is not None and automated.enabled is not False

    @property
    def multi_source(self) -> bool:
        """True for an application with ``spec.sources`` (one revision per source)."""
        return bool(self.sources)


class SyncStatus(_Model):
    """``v1alpha1SyncStatus``: the revision ArgoCD compared against, and the verdict."""

    status: str | None = None
    revision: str | None = None
    revisions: Many[str] = ()


class HealthStatus(_Model):
    """``v1alpha1AppHealthStatus``."""

    status: str | None = None
    message: str | None = None


class SyncOperation(_Model):
    """``v1alpha1SyncOperation``: the revision(s) an operation was asked to sync."""

    revision: str | None = None
    revisions: Many[str] = ()


class Operation(_Model):
    """``v1alpha1Operation``: a requested operation (only ``sync`` is read)."""

    sync: SyncOperation | None = None


class SyncOperationResult(_Model):
    """``v1alpha1SyncOperationResult``: the revision(s) an operation resolved to."""

    revision: str | None = None
    revisions: Many[str] = ()


class OperationState(_Model):
    """``v1alpha1OperationState``: the last (or current) operation."""

    phase: str | None = None
    message: str | None = None
    started_at: datetime | None = Field(default=None, alias="startedAt")
    finished_at: datetime | None = Field(default=None, alias="finishedAt")
    sync_result: SyncOperationResult | None = Field(default=None, alias="syncResult")
    operation: Operation | None = None

    @property
    def running(self) -> bool:
        """True while the operation is Running or Terminating."""
        return self.phase in RUNNING_PHASES

    @property
    def revisions(self) -> tuple[str, ...]:
        """Every revision this operation is for: requested and resolved, deduplicated."""
        found: list[str] = []
        sync = self.operation.sync if self.operation else None
        for holder in (self.sync_result, sync):
            if holder is None:
                continue
            for rev in (holder.revision, *holder.revisions):
                if rev and rev not in found:
                    found.append(rev)
        return tuple(found)


class ApplicationCondition(_Model):
    """``v1alpha1ApplicationCondition``."""

    type: str | None = None
    message: str | None = None


class RevisionHistory(_Model):
    """``v1alpha1RevisionHistory``: one past deployment."""

    id: int | None = None
    revision: str | None = None
    revisions: Many[str] = ()
    deployed_at: datetime | None = Field(default=None, alias="deployedAt")
    deploy_started_at: datetime | None = Field(default=None, alias="deployStartedAt")


class ApplicationStatus(_Model):
    """``v1alpha1ApplicationStatus``: the fields the wait decision reads."""

    sync: SyncStatus = SyncStatus()
    health: HealthStatus = HealthStatus()
    operation_state: OperationState | None = Field(default=None, alias="operationState")
    conditions: Many[ApplicationCondition] = ()
    reconciled_at: datetime | None = Field(default=None, alias="reconciledAt")
    history: Many[RevisionHistory] = ()


class Application(_Model):
    """``v1alpha1Application``, as returned by ``GET /api/v1/applications/{name}``."""

    metadata: ObjectMeta = ObjectMeta()
    spec: ApplicationSpec = ApplicationSpec()
    status: ApplicationStatus = ApplicationStatus()
    operation: Operation | None = None
    """Set while an operation is requested but not yet picked up by the controller."""


class ApplicationWatchEvent(_Model):
    """``v1alpha1ApplicationWatchEvent``: one ``result`` of the stream endpoint."""

    type: str | None = None
    application: Application | None = None
