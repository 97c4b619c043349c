"""Frozen views of the Kubernetes objects blue-green reads, parsed from API dictionaries.

The dictionaries are what the API serves (camelCase keys, the shapes of the
Kubernetes OpenAPI description); only the fields we decide on are kept. This
module must not import ``kubernetes`` or do any I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Raw = Mapping[str, Any]
"""An API object as a JSON dictionary (unvalidated)."""


def _map(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _int(value: object, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _dig(raw: object, *keys: str) -> Any:
    for key in keys:
        if not isinstance(raw, Mapping):
            return None
        raw = raw.get(key)
    return raw


@dataclass(frozen=True)
class Condition:
    """One status condition (``type``, ``status``, ``reason``, ``message``)."""

    type: str
    status: str
    reason: str = ""
    message: str = ""


def _conditions(raw: object) -> tuple[Condition, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(
        Condition(
            type=str(c.get("type", "")),
            status=str(c.get("status", "")),
            reason=str(c.get("reason") or ""),
            message=str(c.get("message") or ""),
        )
        for c in raw
        if isinstance(c, Mapping)
    )


def _images(pod_spec: object) -> tuple[str, ...]:
    containers = _dig(pod_spec, "containers")
    if not isinstance(containers, list):
        return ()
    return tuple(str(c.get("image", "")) for c in containers if isinstance(c, Mapping))


@dataclass(frozen=True)
class DeploymentState:
    """A Deployment's spec and status, as ``kubectl rollout status`` reads them."""

    name: str
    namespace: str
    generation: int
    observed_generation: int
    spec_replicas: int | None
    """``spec.replicas``; None when unset (Kubernetes then defaults to 1)."""
    replicas: int
    updated_replicas: int
    available_replicas: int
    ready_replicas: int
    conditions: tuple[Condition, ...]
    images: tuple[str, ...]
    """The images of the pod template's containers, in order."""
    template_labels: Mapping[str, str]

    @classmethod
    def from_raw(cls, raw: Raw) -> DeploymentState:
        meta, spec, status = (
            raw.get("metadata") or {},
            raw.get("spec") or {},
            raw.get("status") or {},
        )
        replicas = spec.get("replicas")
        return cls(
            name=str(meta.get("name", "")),
            namespace=str(meta.get("namespace", "")),
            generation=_int(meta.get("generation")),
            observed_generation=_int(status.get("observedGeneration")),
            spec_replicas=replicas if isinstance(replicas, int) else None,
            replicas=_int(status.get("replicas")),
            updated_replicas=_int(status.get("updatedReplicas")),
            available_replicas=_int(status.get("availableReplicas")),
            ready_replicas=_int(status.get("readyReplicas")),
            conditions=_conditions(status.get("conditions")),
            images=_images(_dig(spec, "template", "spec")),
            template_labels=_map(_dig(spec, "template", "metadata", "labels")),
        )

    def condition(self, kind: str) -> Condition | None:
        return next((c for c in self.conditions if c.type == kind), None)


@dataclass(frozen=True)
class ServiceState:
    """A Service's selector and who manages it."""

    name: str
    namespace: str
    selector: Mapping[str, str]
    managers: tuple[str, ...] = ()
    """``metadata.managedFields[].manager``: who applied or patched it."""

    @classmethod
    def from_raw(cls, raw: Raw) -> ServiceState:
        meta = raw.get("metadata") or {}
        managed = meta.get("managedFields") or []
        return cls(
            name=str(meta.get("name", "")),
            namespace=str(meta.get("namespace", "")),
            selector=_map(_dig(raw, "spec", "selector")),
            managers=tuple(str(m.get("manager", "")) for m in managed if isinstance(m, Mapping)),
        )


@dataclass(frozen=True)
class Endpoint:
    """One endpoint of an EndpointSlice."""

    addresses: tuple[str, ...]
    ready: bool
    """``conditions.ready``: unset counts as ready, as kube-proxy reads it."""
    terminating: bool
    pod: str
    """``targetRef.name`` when the target is a Pod, else empty."""

    @classmethod
    def from_raw(cls, raw: Raw) -> Endpoint:
        cond = raw.get("conditions") or {}
        ref = raw.get("targetRef") or {}
        ready = cond.get("ready")
        return cls(
            addresses=tuple(str(a) for a in raw.get("addresses") or ()),
            ready=ready is not False,
            terminating=cond.get("terminating") is True,
            pod=str(ref.get("name", "")) if ref.get("kind", "Pod") == "Pod" else "",
        )


@dataclass(frozen=True)
class EndpointSliceState:
    """An EndpointSlice of one Service (label ``kubernetes.io/service-name``)."""

    name: str
    service: str
    endpoints: tuple[Endpoint, ...]

    @classmethod
    def from_raw(cls, raw: Raw) -> EndpointSliceState:
        meta = raw.get("metadata") or {}
        return cls(
            name=str(meta.get("name", "")),
            service=_map(meta.get("labels")).get("kubernetes.io/service-name", ""),
            endpoints=tuple(
                Endpoint.from_raw(e) for e in raw.get("endpoints") or () if isinstance(e, Mapping)
            ),
        )


@dataclass(frozen=True)
class PodState:
    """A Pod's labels, images and readiness."""

    name: str
    labels: Mapping[str, str]
    images: tuple[str, ...]
    ready: bool

    @classmethod
    def from_raw(cls, raw: Raw) -> PodState:
        meta = raw.get("metadata") or {}
        conditions = _conditions(_dig(raw, "status", "conditions"))
        return cls(
            name=str(meta.get("name", "")),
            labels=_map(meta.get("labels")),
            images=_images(raw.get("spec")),
            ready=any(c.type == "Ready" and c.status == "True" for c in conditions),
        )
