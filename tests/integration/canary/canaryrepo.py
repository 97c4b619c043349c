"""A canary GitOps repository with a bare remote, the Kubernetes stand-in, a fake step gate.

:func:`seed_repo` seeds ``remote.git`` with ``tests/fixtures/canary/web`` (web-blue at
4 replicas of 1.0.0, web-green idle, one Service over both) and clones it;
:meth:`CanaryRepo.sync` plays ArgoCD: it applies the folder at a commit to the stand-in.
The repository, the cluster and ``git`` are the two-colour ones
(``tests/integration/twocolour/twocolour.py``) blue-green's tests use too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import yaml
from twocolour import FOLDER, NAMESPACE, ROOT, TOKEN, Cluster, TwoColourRepo, git

from gitops_guard.strategies.bluegreen import flow as bg_flow
from gitops_guard.strategies.canary import flow
from gitops_guard_lab import kube_api

FIXTURE = ROOT / "tests" / "fixtures" / "canary" / "web"

__all__ = [
    "FIXTURE",
    "FOLDER",
    "NAMESPACE",
    "ROOT",
    "TOKEN",
    "CanaryRepo",
    "Cluster",
    "Gates",
    "git",
    "seed_repo",
]


@dataclass
class CanaryRepo(TwoColourRepo):
    KINDS: ClassVar[tuple[str, ...]] = ("Deployment", "Service", "HTTPRoute")

    def trailers(self, ref: str) -> list[tuple[str, str]]:
        return self.trailer_pairs(ref)

    def replicas(self, ref: str = "main") -> dict[str, int]:
        out = {}
        for colour in ("blue", "green"):
            doc = yaml.safe_load(self.show(f"web-{colour}.yaml", ref))
            out[colour] = int(doc["spec"]["replicas"])
        return out


def seed_repo(root: Path, store: kube_api.KubeStore, fixture: Path = FIXTURE) -> CanaryRepo:
    return CanaryRepo.seed(root, store, fixture, "canary")


@dataclass
class Gates:
    verdicts: dict[tuple[int, str], str] = field(default_factory=dict)
    asked: list[flow.StepGate] = field(default_factory=list)

    def __call__(self, request: flow.StepGate) -> bg_flow.GateOutcome:
        self.asked.append(request)
        verdict = self.verdicts.get((request.step, request.image), "pass")
        return bg_flow.GateOutcome(
            verdict,  # type: ignore[arg-type]
            f"step {request.step}%: {verdict}",
            {request.canary: verdict},
        )
