"""What one canary run is given: its settings, its I/O (:class:`Deps`), a step's gate
question (:class:`StepGate`). :mod:`.flow` drives them; the names stay importable there."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from gitops_guard import gitops, images
from gitops_guard.argocd import syncwindows
from gitops_guard.strategies.bluegreen import flow as bg_flow
from gitops_guard.strategies.bluegreen import models as bg_models

Traffic = Literal["replicas", "gateway"]


class KubeReader(bg_flow.KubeReader, Protocol):
    """blue-green's reads, and the HTTPRoute for ``--traffic gateway``."""

    def get_http_route(self, name: str, *, namespace: str | None = None) -> dict[str, Any]: ...


@dataclass(frozen=True)
class StepGate:
    """Judge one step: the canary colour against the stable one at ``share`` of traffic."""

    step: int
    share: float
    canary: str
    stable: str
    image: str
    stable_image: str
    service: str


@dataclass
class Deps:
    """The I/O the flow drives; None switches a step off (with a note in the timeline)."""

    wc: gitops.WorkingCopy
    wait: Callable[[str], bg_flow.WaitOutcome] | None = None
    gate: Callable[[StepGate], bg_flow.GateOutcome] | None = None
    kube: KubeReader | None = None
    window: Callable[[], tuple[syncwindows.Reason, datetime | None]] | None = None
    """ArgoCD's sync windows now: ``open``, or why and until when syncs are blocked."""
    request_sync: Callable[[str], None] | None = None
    """Ask ArgoCD to sync a commit (after waiting for a window: argo-cd #21692)."""
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    echo: Callable[[str], None] = print


@dataclass(frozen=True)
class Settings:
    """One run of ``gitops-guard canary``."""

    dir: Path
    service: str
    image: images.ImageRef
    steps: tuple[int, ...] = (5, 25, 50, 100)
    traffic: Traffic = "replicas"
    """replicas: the ratio of the two Deployments; gateway: the HTTPRoute's weights."""
    route_name: str | None = None
    """``--traffic gateway``: the HTTPRoute (default: the service's name)."""
    paths: tuple[str, ...] = ()
    colours: tuple[str, str] = bg_models.COLOURS
    colour_key: str = bg_models.COLOUR_KEY
    service_name: str | None = None
    """The Service in front of both colours (default: the service's name)."""
    namespace: str | None = None
    pause_seconds: float = 0.0
    """Wait this long after each ungated step (no ``--slo-config``) before the next."""
    ready_timeout_seconds: float = 300.0
    wait_for_window: bool = False
    """Inside a deny sync window: wait for it to close (else stop with ``frozen``)."""
    window_timeout_seconds: float = 3600.0
    """The longest wait for a sync window to open."""
    window_poll_seconds: float = 30.0
    poll_seconds: float = 0.25
    branch: str | None = None
    run_url: str = ""
    exemption: str = ""
    """The error-budget exemption the rollout goes out under (``Gitops-Guard-Exemption``)."""
