"""A blue-green GitOps repository with a bare remote, and an ArgoCD stand-in that applies it.

:class:`BlueGreenRepo` seeds ``remote.git`` with ``examples/gitops-repo/deploy/web``
(Deployments ``web-blue``/``web-green``, Services ``web``/``web-preview``) and
clones it to ``work``. :meth:`BlueGreenRepo.sync` plays ArgoCD: it applies every
manifest of the folder at a commit to the Kubernetes stand-in, as a sync would.
The repository, the cluster and ``git`` are the two-colour ones
(``tests/integration/twocolour/twocolour.py``) the canary's tests use too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twocolour import FOLDER, NAMESPACE, ROOT, TOKEN, Cluster, TwoColourRepo, git

from gitops_guard.cli import outcomes
from gitops_guard.strategies.bluegreen import flow, models
from gitops_guard_lab import kube_api

EXAMPLE = ROOT / "examples" / "gitops-repo" / "deploy" / "web"

__all__ = [
    "EXAMPLE",
    "FOLDER",
    "NAMESPACE",
    "ROOT",
    "TOKEN",
    "BlueGreenRepo",
    "Cluster",
    "Gates",
    "code",
    "git",
]


def code(result: models.Result) -> int:
    """The exit code of a run's outcome, by the one table."""
    return outcomes.exit_code(result.outcome)


@dataclass
class BlueGreenRepo(TwoColourRepo):
    @classmethod
    def create(cls, root: Path, store: kube_api.KubeStore) -> BlueGreenRepo:
        return cls.seed(root, store, EXAMPLE, "blue-green")

    def trailers(self, ref: str) -> dict[str, str]:
        return dict(self.trailer_pairs(ref))

    def selector(self) -> str:
        svc = self.store.get("Service", NAMESPACE, "web")
        assert svc is not None
        return str(svc["spec"]["selector"]["color"])


@dataclass
class Gates:
    verdicts: dict[tuple[str, str], str] = field(default_factory=dict)
    asked: list[flow.GateRequest] = field(default_factory=list)
    reports: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """(role, image) -> the slo-gate report the gate hands over (its evidence)."""

    def __call__(self, request: flow.GateRequest) -> flow.GateOutcome:
        self.asked.append(request)
        verdict = self.verdicts.get((request.role, request.image), "pass")
        return flow.GateOutcome(
            verdict,  # type: ignore[arg-type]
            f"{request.role} {verdict}",
            {request.colour: f"{verdict} 100%", request.baseline: "baseline 100%"},
            self.reports.get((request.role, request.image)),
        )
