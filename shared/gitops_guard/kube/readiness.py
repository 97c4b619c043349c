"""Pure readiness decisions on the traffic path.

ArgoCD's health of a Service ignores its endpoints, and a Deployment scaled to 0
is Healthy: neither says users can be served. Two rules here do:

* :func:`rollout_status`, the rule of ``kubectl rollout status`` (kubectl's
  ``DeploymentStatusViewer``): the controller has observed the current
  generation; the ``Progressing`` condition is not ``ProgressDeadlineExceeded``;
  ``updatedReplicas`` reached ``spec.replicas``; no old replicas are left; every
  updated replica is available. We add one check of our own: the pod template
  runs the expected image.
* :func:`check_endpoints`: the Service's EndpointSlices hold at least one ready
  endpoint, and every ready endpoint is a pod of the wanted colour running the
  wanted image.

Data in, value out: no I/O, no clock, no ``kubernetes`` import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gitops_guard.kube import models

PROGRESS_DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"


@dataclass(frozen=True)
class RolloutStatus:
    """Where one Deployment's rollout stands."""

    done: bool
    failed: bool
    """True when waiting longer is useless (progress deadline exceeded)."""
    message: str


def rollout_status(dep: models.DeploymentState, *, image: str | None = None) -> RolloutStatus:
    """The ``kubectl rollout status`` verdict for ``dep`` (plus the image check)."""
    name = dep.name
    if image is not None and image not in dep.images:
        # Not hopeless: the sync that brings the image may not have reached the API yet.
        return RolloutStatus(
            False,
            False,
            f'deployment "{name}" runs {", ".join(dep.images) or "no image"}, not {image}',
        )
    if dep.generation > dep.observed_generation:
        return RolloutStatus(False, False, "Waiting for deployment spec update to be observed...")
    progressing = dep.condition("Progressing")
    if progressing is not None and progressing.reason == PROGRESS_DEADLINE_EXCEEDED:
        return RolloutStatus(False, True, f'deployment "{name}" exceeded its progress deadline')
    wanted = 1 if dep.spec_replicas is None else dep.spec_replicas
    if dep.updated_replicas < wanted:
        return RolloutStatus(
            False,
            False,
            f'Waiting for deployment "{name}" rollout to finish: {dep.updated_replicas} out '
            f"of {wanted} new replicas have been updated...",
        )
    if dep.replicas > dep.updated_replicas:
        return RolloutStatus(
            False,
            False,
            f'Waiting for deployment "{name}" rollout to finish: '
            f"{dep.replicas - dep.updated_replicas} old replicas are pending termination...",
        )
    if dep.available_replicas < dep.updated_replicas:
        return RolloutStatus(
            False,
            False,
            f'Waiting for deployment "{name}" rollout to finish: {dep.available_replicas} of '
            f"{dep.updated_replicas} updated replicas are available...",
        )
    return RolloutStatus(True, False, f'deployment "{name}" successfully rolled out')


@dataclass(frozen=True)
class EndpointCheck:
    """What a Service's EndpointSlices route to."""

    ok: bool
    wanted: int
    """Ready endpoints of pods with the wanted colour and image."""
    others: int
    """Ready endpoints of any other pod (the other colour, an old image, unknown)."""
    message: str


def check_endpoints(
    slices: Sequence[models.EndpointSliceState],
    pods: Sequence[models.PodState],
    *,
    service: str,
    labels: Mapping[str, str],
    image: str | None,
    minimum: int = 1,
) -> EndpointCheck:
    """Whether ``service`` routes only to ready pods carrying ``labels`` (and ``image``).

    ``labels`` is the colour (``{"color": "green"}``); an endpoint whose pod is not in
    ``pods`` counts as another's. ``minimum`` ready endpoints of the wanted pods are needed.
    """
    by_name = {p.name: p for p in pods}
    wanted = others = 0
    strangers: list[str] = []
    for endpoint_slice in slices:
        for endpoint in endpoint_slice.endpoints:
            if not endpoint.ready or endpoint.terminating:
                continue
            pod = by_name.get(endpoint.pod)
            if (
                pod is not None
                and all(pod.labels.get(k) == v for k, v in labels.items())
                and (image is None or image in pod.images)
            ):
                wanted += 1
            else:
                others += 1
                strangers.append(endpoint.pod or ",".join(endpoint.addresses))
    colour = ", ".join(f"{k}={v}" for k, v in labels.items())
    what = f"{colour}" + (f" running {image}" if image else "")
    if others:
        return EndpointCheck(
            False,
            wanted,
            others,
            f"Service {service} still routes to {others} endpoint(s) that are not {what}: "
            + ", ".join(sorted(strangers)[:5]),
        )
    if wanted < max(1, minimum):
        return EndpointCheck(
            False,
            wanted,
            others,
            f"Service {service} has {wanted} ready endpoint(s) of {what}; {max(1, minimum)} needed",
        )
    return EndpointCheck(True, wanted, 0, f"Service {service} routes only to {wanted} x {what}")
