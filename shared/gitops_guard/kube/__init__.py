"""Kubernetes: what the traffic path says, read through the official ``kubernetes`` client.

* :mod:`.models`: frozen views of the fields we read (Deployment, Service,
  EndpointSlice, Pod), parsed from API dictionaries;
* :mod:`.readiness`: pure decisions — a Deployment's rollout by the rule of
  ``kubectl rollout status``, and whether a Service's EndpointSlices hold ready
  endpoints of the wanted colour and image only;
* :mod:`.client`: the only module that imports ``kubernetes``: credentials
  (in-cluster service account, ``KUBECONFIG``), GET, list, watch and a Service
  selector patch with a field manager, every foreign error translated once.

The pure modules must not import ``kubernetes``; nothing outside this package may.
"""

from __future__ import annotations

from gitops_guard.kube.models import (
    Condition,
    DeploymentState,
    Endpoint,
    EndpointSliceState,
    PodState,
    ServiceState,
)
from gitops_guard.kube.readiness import (
    EndpointCheck,
    RolloutStatus,
    check_endpoints,
    rollout_status,
)

__all__ = [
    "Condition",
    "DeploymentState",
    "Endpoint",
    "EndpointCheck",
    "EndpointSliceState",
    "PodState",
    "RolloutStatus",
    "ServiceState",
    "check_endpoints",
    "rollout_status",
]
