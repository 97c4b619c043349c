"""kube.readiness: the kubectl rollout-status rule and the endpoint check, table-driven.

Covers: generation not yet observed, progress deadline exceeded, too few updated
replicas, old replicas pending termination, updated replicas not yet available,
spec.replicas unset (1), the wrong image, rolled out; endpoints of the wanted
colour only, of the other colour, not ready or terminating, of an unknown pod,
none at all; parsing of API dictionaries (ready unset counts as ready).
"""

from __future__ import annotations

from typing import Any

import pytest

from gitops_guard import kube
from gitops_guard.kube import models

IMAGE = "ghcr.io/acme/web:1.1.0"


def deployment(**status: Any) -> kube.DeploymentState:
    generation = status.pop("generation", 2)
    replicas = status.pop("spec_replicas", 2)
    image = status.pop("image", IMAGE)
    conditions = status.pop("conditions", [])
    raw = {
        "metadata": {"name": "web-green", "namespace": "shop", "generation": generation},
        "spec": {
            "template": {
                "metadata": {"labels": {"color": "green"}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
        },
        "status": {"conditions": conditions, **status},
    }
    if replicas is not None:
        raw["spec"]["replicas"] = replicas
    return models.DeploymentState.from_raw(raw)


DONE = {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}


@pytest.mark.parametrize(
    ("fields", "done", "failed", "message"),
    [
        ({**DONE, "observedGeneration": 1}, False, False, "spec update to be observed"),
        (
            {
                **DONE,
                "updatedReplicas": 1,
                "conditions": [
                    {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
                ],
            },
            False,
            True,
            "exceeded its progress deadline",
        ),
        ({**DONE, "updatedReplicas": 1}, False, False, "1 out of 2 new replicas"),
        ({**DONE, "replicas": 3}, False, False, "1 old replicas are pending termination"),
        ({**DONE, "availableReplicas": 1}, False, False, "1 of 2 updated replicas are available"),
        ({**DONE, "image": "ghcr.io/acme/web:1.0.0"}, False, False, "not ghcr.io/acme/web:1.1.0"),
        (
            {
                **DONE,
                "spec_replicas": None,
                "replicas": 1,
                "updatedReplicas": 1,
                "availableReplicas": 1,
            },
            True,
            False,
            "successfully rolled out",
        ),
        (
            {
                **DONE,
                "spec_replicas": None,
                "replicas": 0,
                "updatedReplicas": 0,
                "availableReplicas": 0,
            },
            False,
            False,
            "0 out of 1 new replicas",
        ),
        (DONE, True, False, 'deployment "web-green" successfully rolled out'),
    ],
)
def test_rollout_status(fields: dict[str, Any], done: bool, failed: bool, message: str) -> None:
    status = kube.rollout_status(deployment(**fields), image=IMAGE)
    assert (status.done, status.failed) == (done, failed)
    assert message in status.message


def pod(name: str, colour: str, image: str = IMAGE) -> kube.PodState:
    return models.PodState.from_raw(
        {
            "metadata": {"name": name, "labels": {"color": colour}},
            "spec": {"containers": [{"name": "app", "image": image}]},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        }
    )


def slice_of(*endpoints: dict[str, Any]) -> kube.EndpointSliceState:
    return models.EndpointSliceState.from_raw(
        {
            "metadata": {"name": "web-x", "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "endpoints": list(endpoints),
        }
    )


def ep(pod_name: str, **conditions: bool) -> dict[str, Any]:
    return {
        "addresses": ["10.0.0.1"],
        "conditions": conditions,
        "targetRef": {"kind": "Pod", "name": pod_name},
    }


PODS = [pod("g1", "green"), pod("g2", "green"), pod("b1", "blue"), pod("old", "green", "x:1")]


@pytest.mark.parametrize(
    ("endpoints", "ok", "wanted", "others"),
    [
        ([ep("g1", ready=True), ep("g2")], True, 2, 0),  # ready unset counts as ready
        ([ep("g1", ready=True), ep("b1", ready=True)], False, 1, 1),
        ([ep("g1", ready=True), ep("b1", ready=False)], True, 1, 0),
        ([ep("g1", ready=True), ep("b1", ready=True, terminating=True)], True, 1, 0),
        ([ep("g1"), ep("old")], False, 1, 1),  # the wanted colour, but an old image
        ([ep("g1"), ep("stranger")], False, 1, 1),
        ([], False, 0, 0),
        ([ep("g1", ready=False)], False, 0, 0),
    ],
)
def test_check_endpoints(
    endpoints: list[dict[str, Any]], ok: bool, wanted: int, others: int
) -> None:
    found = kube.check_endpoints(
        [slice_of(*endpoints)], PODS, service="web", labels={"color": "green"}, image=IMAGE
    )
    assert (found.ok, found.wanted, found.others) == (ok, wanted, others)
    assert "Service web" in found.message


def test_service_managers_and_selector_are_read() -> None:
    svc = models.ServiceState.from_raw(
        {
            "metadata": {
                "name": "web",
                "namespace": "shop",
                "managedFields": [{"manager": "argocd-controller"}, {"manager": "kubectl"}],
            },
            "spec": {"selector": {"app": "web", "color": "blue"}},
        }
    )
    assert svc.selector == {"app": "web", "color": "blue"}
    assert svc.managers == ("argocd-controller", "kubectl")
