"""The Kubernetes stand-in's state: objects, resource versions, watch events and a controller.

:class:`KubeStore` holds Deployments, Services, Pods and EndpointSlices as API
dictionaries (the shapes of ``../shared/reference/kubernetes-swagger.json``), applies
manifests (what a sync from Git does), serves strategic merge and JSON merge patches
with a field manager, keeps an event log for watches, and plays
kube-controller-manager in :meth:`KubeStore.reconcile`: a Deployment's pods (one per
replica, named after a hash of the pod template) and status by the rules ``kubectl
rollout status`` reads, a Service's EndpointSlices of the ready pods its selector
matches. :mod:`gitops_guard_lab.kube_api` serves it over HTTP.

This module plays the API only; it decides nothing about a deploy and opens no socket.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from gitops_guard_lab import net

Obj = dict[str, Any]
Key = tuple[str, str, str]
"""(kind, namespace, name)."""

KINDS: dict[str, tuple[str, str]] = {
    # resource (URL plural) -> (kind, apiVersion)
    "deployments": ("Deployment", "apps/v1"),
    "services": ("Service", "v1"),
    "pods": ("Pod", "v1"),
    "endpointslices": ("EndpointSlice", "discovery.k8s.io/v1"),
    "httproutes": ("HTTPRoute", "gateway.networking.k8s.io/v1"),
}
RESOURCE_OF = {kind: resource for resource, (kind, _) in KINDS.items()}
PREFIXES = {
    "/api/v1/namespaces/": ("services", "pods"),
    "/apis/apps/v1/namespaces/": ("deployments",),
    "/apis/discovery.k8s.io/v1/namespaces/": ("endpointslices",),
    "/apis/gateway.networking.k8s.io/v1/namespaces/": ("httproutes",),
}
APPLY_MANAGER = "argocd-controller"
"""The field manager of objects applied from Git (ArgoCD's name for itself)."""
PROGRESS_DEADLINE_SECONDS = 600.0

ReadyProbe = Callable[[Obj], bool]
"""Says whether a Pod (dict) is ready; the default says yes."""
PortOf = Callable[[Obj], int]
"""The port a Pod serves on (its endpoints' port); default: the first containerPort."""


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def selector_matches(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """Equality-based label selection; an empty selector selects nothing (a Service's rule)."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def parse_label_selector(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = part.partition("=")
        out[key.strip()] = value.lstrip("=").strip()
    return out


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: mappings merge, ``null`` deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


_MERGE_KEYS = {"containers": "name", "initContainers": "name", "ports": "name", "env": "name"}


def strategic_merge_patch(target: Any, patch: Any, *, key: str = "") -> Any:
    """Kubernetes' strategic merge patch for the fields we serve: like a merge patch,
    except that lists of named items (containers, ports, env) merge by ``name``."""
    if isinstance(patch, list) and key in _MERGE_KEYS and isinstance(target, list):
        merge_key = _MERGE_KEYS[key]
        merged = copy.deepcopy(target)
        for item in patch:
            if not isinstance(item, dict):
                return copy.deepcopy(patch)
            found = next(
                (
                    m
                    for m in merged
                    if isinstance(m, dict) and m.get(merge_key) == item.get(merge_key)
                ),
                None,
            )
            if found is None:
                merged.append(copy.deepcopy(item))
            else:
                merged[merged.index(found)] = strategic_merge_patch(found, item)
        return merged
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if name.startswith("$"):
            continue  # directives ($patch, $retainKeys) are not served
        if value is None:
            result.pop(name, None)
        else:
            result[name] = strategic_merge_patch(result.get(name), value, key=name)
    return result


def status_body(code: int, reason: str, message: str) -> Obj:
    """A ``v1.Status`` failure, as the API answers errors."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


@dataclass
class _Event:
    version: int
    type: str
    kind: str
    namespace: str
    obj: Obj


@dataclass
class KubeStore:
    """The objects, a resource version counter, an event log for watches, and the controller."""

    ready: ReadyProbe = field(default=lambda pod: True)
    port_of: PortOf | None = None
    progress_deadline_seconds: float = PROGRESS_DEADLINE_SECONDS
    objects: dict[Key, Obj] = field(default_factory=dict)
    events: list[_Event] = field(default_factory=list)
    version: int = 1
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _changed: threading.Condition = field(init=False)
    _progress_since: dict[Key, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._changed = threading.Condition(self._lock)

    # -------------------------------------------------------------- basics
    def _bump(self) -> str:
        self.version += 1
        return str(self.version)

    def _emit(self, kind: str, event: str, obj: Obj) -> None:
        meta = obj["metadata"]
        meta["resourceVersion"] = self._bump()
        self.events.append(
            _Event(self.version, event, kind, meta.get("namespace", ""), copy.deepcopy(obj))
        )
        del self.events[:-2000]
        self._changed.notify_all()

    def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        with self._lock:
            found = self.objects.get((kind, namespace, name))
            return copy.deepcopy(found) if found is not None else None

    def select(
        self, kind: str, namespace: str, selector: Mapping[str, str] | None = None
    ) -> list[Obj]:
        with self._lock:
            return [
                copy.deepcopy(o)
                for (k, ns, _), o in sorted(self.objects.items())
                if k == kind
                and ns == namespace
                and (
                    not selector
                    or all(o["metadata"].get("labels", {}).get(a) == b for a, b in selector.items())
                )
            ]

    def _put(self, kind: str, obj: Obj) -> Obj:
        meta = obj["metadata"]
        key = (kind, meta["namespace"], meta["name"])
        event = "MODIFIED" if key in self.objects else "ADDED"
        old = self.objects.get(key)
        if old is not None and _same(old, obj):
            return obj
        self.objects[key] = obj
        self._emit(kind, event, obj)
        return obj

    def _delete(self, key: Key) -> None:
        obj = self.objects.pop(key, None)
        if obj is not None:
            self._emit(key[0], "DELETED", obj)

    # -------------------------------------------------------------- writes
    def apply(
        self, manifest: Mapping[str, Any], *, namespace: str, manager: str = APPLY_MANAGER
    ) -> Obj:
        """Create or update an object from a manifest (what a sync from Git does)."""
        with self._lock:
            kind = str(manifest.get("kind"))
            api_version = KINDS[RESOURCE_OF[kind]][1]
            meta_in = manifest.get("metadata") or {}
            name = str(meta_in["name"])
            key = (kind, namespace, name)
            old = self.objects.get(key)
            obj: Obj = (
                copy.deepcopy(old)
                if old
                else {
                    "apiVersion": api_version,
                    "kind": kind,
                    "metadata": {
                        "name": name,
                        "namespace": namespace,
                        "uid": hashlib.sha256(f"{key}".encode()).hexdigest()[:8]
                        + "-0000-4000-8000-"
                        + hashlib.sha256(f"{key}".encode()).hexdigest()[:12],
                        "creationTimestamp": utc_now(),
                        "generation": 0,
                    },
                }
            )
            obj["metadata"]["labels"] = dict(meta_in.get("labels") or {})
            if meta_in.get("annotations"):
                obj["metadata"]["annotations"] = dict(meta_in["annotations"])
            spec = copy.deepcopy(manifest.get("spec") or {})
            if kind == "Deployment":
                spec.setdefault("replicas", 1)
            if kind == "Service":
                spec.setdefault("type", "ClusterIP")
            if spec != (old or {}).get("spec"):
                obj["spec"] = spec
                obj["metadata"]["generation"] = int(obj["metadata"].get("generation", 0)) + 1
            self._manage(obj, manager, "Apply")
            self._put(kind, obj)
            self.reconcile()
            return copy.deepcopy(obj)

    def patch(
        self,
        kind: str,
        namespace: str,
        name: str,
        body: Any,
        *,
        content_type: str,
        manager: str,
    ) -> Obj:
        """Patch an object; KeyError when absent, ValueError for an unserved patch type."""
        with self._lock:
            key = (kind, namespace, name)
            old = self.objects[key]
            if "strategic-merge-patch" in content_type:
                new = strategic_merge_patch(old, body)
            elif "merge-patch" in content_type:
                new = merge_patch(old, body)
            else:
                raise ValueError(f"patch type {content_type} is not served")
            new["metadata"]["name"], new["metadata"]["namespace"] = name, namespace
            new["kind"], new["apiVersion"] = old["kind"], old["apiVersion"]
            if new.get("spec") != old.get("spec"):
                new["metadata"]["generation"] = int(old["metadata"].get("generation", 0)) + 1
            self._manage(new, manager, "Update")
            self._put(kind, new)
            self.reconcile()
            return copy.deepcopy(self.objects[key])

    @staticmethod
    def _manage(obj: Obj, manager: str, operation: str) -> None:
        managed = [m for m in obj["metadata"].get("managedFields", []) if m["manager"] != manager]
        fields: Obj = {"f:spec": {}}
        if obj["kind"] == "Service":
            fields = {"f:spec": {"f:selector": {}}}
        managed.append(
            {
                "manager": manager,
                "operation": operation,
                "apiVersion": obj["apiVersion"],
                "time": utc_now(),
                "fieldsType": "FieldsV1",
                "fieldsV1": fields,
            }
        )
        obj["metadata"]["managedFields"] = managed

    def delete(self, kind: str, namespace: str, name: str) -> None:
        with self._lock:
            self._delete((kind, namespace, name))
            self.reconcile()

    # -------------------------------------------------------------- controller
    def reconcile(self) -> None:
        """One round of the controllers: pods and status of Deployments, EndpointSlices."""
        with self._lock:
            for key in [k for k in self.objects if k[0] == "Deployment"]:
                self._reconcile_deployment(key)
            for key in [k for k in self.objects if k[0] == "Pod"]:
                self._refresh_pod(key)
            for key in [k for k in self.objects if k[0] == "Deployment"]:
                self._deployment_status(key)
            for key in [k for k in self.objects if k[0] == "Service"]:
                self._endpoint_slices(key)
            for key in [k for k in self.objects if k[0] == "HTTPRoute"]:
                self._route_status(key)

    def _route_status(self, key: Key) -> None:
        """Play a Gateway controller: ``Accepted`` and ``ResolvedRefs`` per parent.

        ``ResolvedRefs`` is False (``BackendNotFound``) while a backendRef names a
        Service that does not exist, and (``InvalidKind``) while one names a kind other
        than a core Service, as the Gateway API v1 HTTPRoute status says. The lab's
        data plane (:mod:`gitops_guard_lab.gateway`) answers 500 for those backends.
        """
        route = self.objects[key]
        _, ns, _ = key
        spec = route.get("spec") or {}
        refs = [ref for rule in spec.get("rules") or [] for ref in rule.get("backendRefs") or []]
        foreign = sorted(
            {
                f"{ref.get('group', '')}/{ref.get('kind', 'Service')} {ref.get('name')}"
                for ref in refs
                if ref.get("kind", "Service") != "Service" or ref.get("group", "") != ""
            }
        )
        missing = sorted(
            {
                str(ref.get("name"))
                for ref in refs
                if ref.get("kind", "Service") == "Service"
                and ref.get("group", "") == ""
                and ("Service", ns, str(ref.get("name"))) not in self.objects
            }
        )
        generation = int(route["metadata"].get("generation", 1))
        old = {
            c["type"]: c
            for p in (route.get("status") or {}).get("parents") or []
            for c in p.get("conditions") or []
        }

        def condition(kind: str, ok: bool, reason: str, message: str) -> Obj:
            status = "True" if ok else "False"
            before = old.get(kind)
            since = (
                before["lastTransitionTime"]
                if before and before.get("status") == status
                else utc_now()
            )
            return {
                "type": kind,
                "status": status,
                "reason": reason,
                "message": message,
                "observedGeneration": generation,
                "lastTransitionTime": since,
            }

        if foreign:
            resolved = condition(
                "ResolvedRefs",
                False,
                "InvalidKind",
                f"unsupported backend(s): {', '.join(foreign)}",
            )
        else:
            resolved = condition(
                "ResolvedRefs",
                not missing,
                "ResolvedRefs" if not missing else "BackendNotFound",
                "all references resolved"
                if not missing
                else f"backend Service(s) not found: {', '.join(missing)}",
            )
        parents = [
            {
                "parentRef": dict(parent),
                "controllerName": "lab.gitops-guard.dev/gateway",
                "conditions": [
                    condition("Accepted", True, "Accepted", "accepted by the lab gateway"),
                    resolved,
                ],
            }
            for parent in spec.get("parentRefs") or [{"name": "gateway"}]
        ]
        if (route.get("status") or {}).get("parents") != parents:
            updated = copy.deepcopy(route)
            updated["status"] = {"parents": parents}
            self._put("HTTPRoute", updated)

    def _reconcile_deployment(self, key: Key) -> None:
        dep = self.objects[key]
        _, ns, name = key
        template = dep["spec"].get("template") or {}
        digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]
        wanted = int(dep["spec"].get("replicas", 1))
        owned = {
            k: o
            for k, o in self.objects.items()
            if k[0] == "Pod"
            and k[1] == ns
            and o["metadata"].get("labels", {}).get("lab.gitops-guard/owner") == name
        }
        keep: set[Key] = set()
        for index in range(wanted):
            pod_name = f"{name}-{digest}-{index}"
            pod_key = ("Pod", ns, pod_name)
            keep.add(pod_key)
            if pod_key in self.objects:
                continue
            labels = dict((template.get("metadata") or {}).get("labels") or {})
            labels.update({"pod-template-hash": digest, "lab.gitops-guard/owner": name})
            pod: Obj = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": pod_name,
                    "namespace": ns,
                    "labels": labels,
                    "creationTimestamp": utc_now(),
                    "ownerReferences": [
                        {
                            "apiVersion": "apps/v1",
                            "kind": "ReplicaSet",
                            "name": f"{name}-{digest}",
                            "uid": dep["metadata"]["uid"],
                            "controller": True,
                        }
                    ],
                },
                "spec": copy.deepcopy(template.get("spec") or {"containers": []}),
                "status": {"phase": "Pending", "conditions": [], "podIP": net.LOOPBACK},
            }
            self._put("Pod", pod)
            self._progress_since.setdefault(key, time.monotonic())
        for pod_key in set(owned) - keep:
            self._delete(pod_key)

    def _refresh_pod(self, key: Key) -> None:
        pod = self.objects[key]
        ready = bool(self.ready(copy.deepcopy(pod)))
        phase = "Running" if ready else "Pending"
        conditions = [
            {
                "type": "Ready",
                "status": "True" if ready else "False",
                "lastTransitionTime": utc_now(),
            }
        ]
        old = pod.get("status") or {}
        if old.get("phase") == phase and [c["status"] for c in old.get("conditions", [])] == [
            c["status"] for c in conditions
        ]:
            return
        new = copy.deepcopy(pod)
        new["status"] = {"phase": phase, "conditions": conditions, "podIP": net.LOOPBACK}
        self._put("Pod", new)

    def _pods_of(self, ns: str, name: str) -> list[Obj]:
        return [
            o
            for k, o in sorted(self.objects.items())
            if k[0] == "Pod"
            and k[1] == ns
            and o["metadata"]["labels"].get("lab.gitops-guard/owner") == name
        ]

    def _deployment_status(self, key: Key) -> None:
        dep = self.objects[key]
        _, ns, name = key
        template = dep["spec"].get("template") or {}
        digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]
        pods = self._pods_of(ns, name)
        updated = [p for p in pods if p["metadata"]["labels"].get("pod-template-hash") == digest]
        available = [p for p in updated if _pod_ready(p)]
        wanted = int(dep["spec"].get("replicas", 1))
        done = len(available) >= wanted and len(pods) == len(updated)
        if done:
            self._progress_since.pop(key, None)
            progressing = (
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{name}-{digest}" has successfully progressed.',
            )
        elif (
            time.monotonic() - self._progress_since.setdefault(key, time.monotonic())
            > self.progress_deadline_seconds
        ):
            progressing = (
                "False",
                "ProgressDeadlineExceeded",
                f'ReplicaSet "{name}-{digest}" has timed out progressing.',
            )
        else:
            progressing = (
                "True",
                "ReplicaSetUpdated",
                f'ReplicaSet "{name}-{digest}" is progressing.',
            )
        status: Obj = {
            "observedGeneration": dep["metadata"].get("generation", 1),
            "replicas": len(pods),
            "updatedReplicas": len(updated),
            "readyReplicas": len([p for p in pods if _pod_ready(p)]),
            "availableReplicas": len(available),
            "conditions": [
                {
                    "type": "Available",
                    "status": "True" if len(available) >= wanted else "False",
                    "reason": "MinimumReplicasAvailable"
                    if len(available) >= wanted
                    else "MinimumReplicasUnavailable",
                    "message": "Deployment has minimum availability."
                    if len(available) >= wanted
                    else "Deployment does not have minimum availability.",
                },
                {
                    "type": "Progressing",
                    "status": progressing[0],
                    "reason": progressing[1],
                    "message": progressing[2],
                },
            ],
        }
        if len(pods) - len(available) > 0:
            status["unavailableReplicas"] = len(pods) - len(available)
        if dep.get("status") != status:
            new = copy.deepcopy(dep)
            new["status"] = status
            self._put("Deployment", new)

    def _endpoint_slices(self, key: Key) -> None:
        svc = self.objects[key]
        _, ns, name = key
        selector = (svc.get("spec") or {}).get("selector") or {}
        pods = [
            o
            for k, o in sorted(self.objects.items())
            if k[0] == "Pod"
            and k[1] == ns
            and selector_matches(selector, o["metadata"].get("labels", {}))
        ]
        by_port: dict[int, list[Obj]] = {}
        for pod in pods:
            by_port.setdefault(self._port(pod), []).append(pod)
        wanted: dict[str, Obj] = {}
        for port, members in sorted(by_port.items()):
            slice_name = f"{name}-{port}"
            wanted[slice_name] = {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "name": slice_name,
                    "namespace": ns,
                    "labels": {
                        "kubernetes.io/service-name": name,
                        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                    },
                    "ownerReferences": [
                        {
                            "apiVersion": "v1",
                            "kind": "Service",
                            "name": name,
                            "uid": svc["metadata"]["uid"],
                            "controller": True,
                        }
                    ],
                },
                "addressType": "IPv4",
                "endpoints": [
                    {
                        "addresses": [p["status"].get("podIP") or net.LOOPBACK],
                        "conditions": {
                            "ready": _pod_ready(p),
                            "serving": _pod_ready(p),
                            "terminating": False,
                        },
                        "targetRef": {
                            "kind": "Pod",
                            "namespace": ns,
                            "name": p["metadata"]["name"],
                        },
                    }
                    for p in members
                ],
                "ports": [{"name": "http", "port": port, "protocol": "TCP"}],
            }
        existing = {
            k[2]: o
            for k, o in self.objects.items()
            if k[0] == "EndpointSlice"
            and k[1] == ns
            and o["metadata"]["labels"].get("kubernetes.io/service-name") == name
        }
        for slice_name, body in wanted.items():
            old = existing.get(slice_name)
            if old is not None:
                body["metadata"]["creationTimestamp"] = old["metadata"].get("creationTimestamp")
                if _same(old, body):
                    continue
            else:
                body["metadata"]["creationTimestamp"] = utc_now()
            self._put("EndpointSlice", body)
        for slice_name in set(existing) - set(wanted):
            self._delete(("EndpointSlice", ns, slice_name))

    def _port(self, pod: Obj) -> int:
        if self.port_of is not None:
            return int(self.port_of(pod))
        for container in pod.get("spec", {}).get("containers", []):
            for port in container.get("ports") or []:
                if isinstance(port.get("containerPort"), int):
                    return int(port["containerPort"])
        return 8080

    # -------------------------------------------------------------- watch
    def watch(
        self,
        kind: str,
        namespace: str,
        selector: Mapping[str, str],
        *,
        since: int | None,
        timeout: float,
    ) -> Iterator[tuple[str, Obj]]:
        """Events of ``kind`` in ``namespace`` after ``since``.

        With ``since`` None, ADDED events for what exists come first."""
        deadline = time.monotonic() + timeout
        with self._lock:
            cursor = self.version
            initial = [] if since is not None else self.select(kind, namespace, selector)
            if since is not None:
                cursor = since
        for obj in initial:
            yield "ADDED", obj
        while True:
            with self._lock:
                pending = [
                    e
                    for e in self.events
                    if e.version > cursor
                    and e.kind == kind
                    and e.namespace == namespace
                    and (
                        not selector
                        or all(
                            e.obj["metadata"].get("labels", {}).get(a) == b
                            for a, b in selector.items()
                        )
                    )
                ]
                if not pending:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return
                    self._changed.wait(min(left, 0.5))
                    continue
                cursor = pending[-1].version
            for event in pending:
                yield event.type, event.obj


def _pod_ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions", [])
    )


def _same(a: Obj, b: Obj) -> bool:
    def strip(o: Obj) -> Obj:
        c = copy.deepcopy(o)
        c.get("metadata", {}).pop("resourceVersion", None)
        for m in c.get("metadata", {}).get("managedFields", []):
            m.pop("time", None)
        for cond in (
            (c.get("status") or {}).get("conditions", [])
            if isinstance(c.get("status"), dict)
            else []
        ):
            cond.pop("lastTransitionTime", None)
        return c

    return strip(a) == strip(b)
