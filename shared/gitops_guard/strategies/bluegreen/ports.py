"""The blue-green flow's ports: what it is given (settings, the I/O it drives) and what
the I/O answers (wait and gate outcomes). Values and protocols only, no I/O here.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from gitops_guard import gitops, images, kube
from gitops_guard.strategies.bluegreen import models


class KubeReader(Protocol):
    """What the flow needs of :class:`gitops_guard.kube.client.KubeClient`."""

    namespace: str

    def get_deployment(
        self, name: str, *, namespace: str | None = None
    ) -> kube.DeploymentState: ...

    def get_service(self, name: str, *, namespace: str | None = None) -> kube.ServiceState: ...

    def list_endpoint_slices(
        self, service: str, *, namespace: str | None = None
    ) -> list[kube.EndpointSliceState]: ...

    def list_pods(
        self, selector: Mapping[str, str], *, namespace: str | None = None
    ) -> list[kube.PodState]: ...

    def patch_service_selector(
        self, name: str, selector: Mapping[str, str], *, namespace: str | None = None
    ) -> kube.ServiceState: ...


@dataclass(frozen=True)
class WaitOutcome:
    """What argocd-wait said about one commit."""

    outcome: str
    """argocd-wait's outcome: ``done``, ``sync-failed``, ``degraded``, ``timed-out``,
    ``unreachable``."""
    reason: str

    @property
    def undecided(self) -> bool:
        return self.outcome == "unreachable"


@dataclass(frozen=True)
class GateRequest:
    """Which colour to judge, against which baseline, and why."""

    role: Literal["preview", "post-switch"]
    colour: str
    baseline: str
    image: str
    service: str
    baseline_image: str = ""
    """What the baseline colour runs (its ``${version}`` when it is measured)."""


@dataclass(frozen=True)
class GateOutcome:
    """The gate's verdict and the figures to show."""

    verdict: Literal["pass", "warn", "fail", "inconclusive"]
    reason: str
    figures: Mapping[str, str] = dataclasses.field(default_factory=dict)
    report: Mapping[str, object] | None = None


@dataclass
class Deps:
    """The I/O the flow drives; None switches a step off (with a note in the timeline)."""

    wc: gitops.WorkingCopy
    wait: Callable[[str], WaitOutcome] | None = None
    gate: Callable[[GateRequest], GateOutcome] | None = None
    kube: KubeReader | None = None
    preview_test: Callable[[str], tuple[int, str]] | None = None
    """Runs the caller's test against the preview; (exit code, last output line)."""
    argocd_spec_problem: Callable[[models.Mode], str | None] | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    echo: Callable[[str], None] = print


@dataclass(frozen=True)
class Settings:
    """One run of ``gitops-guard blue-green``."""

    dir: Path
    service: str
    image: images.ImageRef
    mode: models.Mode = "git"
    paths: tuple[str, ...] = ()
    colours: tuple[str, str] = models.COLOURS
    colour_key: str = models.COLOUR_KEY
    active_service: str | None = None
    preview_service: str | None = None
    namespace: str | None = None
    preview_replicas: int | None = None
    """Replicas of the idle colour while it is previewed; None: the live colour's count."""
    scale_down_delay_seconds: float = 30.0
    """Wait this long after a passed post-switch gate, then scale the old colour to 0;
    0 keeps it (Argo Rollouts' ``scaleDownDelaySeconds``, default 30)."""
    ready_timeout_seconds: float = 300.0
    switch_timeout_seconds: float = 60.0
    poll_seconds: float = 0.25
    branch: str | None = None
    run_url: str = ""
