"""``lab demo --strategy canary``: the canary story, told with the real subcommand.

The blue-green lab (:mod:`gitops_guard_lab.bluegreen_demo`: the two colours of
``web`` as real processes, the Kubernetes and ArgoCD stand-ins, the real
Prometheus, user traffic through the ``web`` Service) seeded with a canary layout:
``web-blue`` serves 1.0.0 with 4 replicas, ``web-green`` is idle, and the ``web``
Service selects both colours, so the replica ratio splits real traffic. Then, each
as its own ``gitops-guard canary`` process, exactly as a workflow step runs it:

1. a good version (1.1.0) goes 25%, 50%, 100%, each step gated by the canary
   objective (errors of the canary's version against the stable one's), and is
   promoted (the old colour at 0);
2. a bad version (1.2.0, 20% errors) is aborted at its first step: one commit
   reverts the step, the good version serves alone again.

The report (``--report``) holds ``ok``, ``failed_requests`` (user traffic, the whole
story), ``detection_seconds`` (the bad step's gate: first look to ``fail``) and each
step's outcome and commits. This module decides nothing the subcommand decides.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gitops_guard import report
from gitops_guard_lab import bluegreen_demo, colours, strategy_demo, up

GOOD, BAD = "1.1.0", "1.2.0"
STORY: tuple[tuple[str, str], ...] = ((GOOD, "promoted"), (BAD, "aborted"))
"""(version, expected outcome) of each run of the story."""
STEPS = "25,50,100"
REPLICAS = 4

SLO = """\
# The canary gate of "web" in the lab: the canary's version against the stable one's.
name: web-canary
analysis:
  duration: 15s
  interval: 1s
canary:
  - name: errors
    description: 5xx of the canary's version against the stable version's
    canary:
      errors: sum(http_requests_total{app="web",version="${version}",code=~"5.."})
      requests: sum(http_requests_total{app="web",version="${version}"})
    stable:
      errors: sum(http_requests_total{app="web",version="${baseline_version}",code=~"5.."})
      requests: sum(http_requests_total{app="web",version="${baseline_version}"})
    alpha: 0.01
    minRequests: 40
"""


@dataclass
class Story(strategy_demo.Story):
    @property
    def detection_seconds(self) -> float | None:
        return self.figure("detection_seconds")

    def as_report(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "strategy": "canary",
            "problems": self.problems,
            "failed_requests": self.failed_requests,
            "requests": self.requests,
            "rps": self.rps,
            "detection_seconds": self.detection_seconds,
            "final_version": self.final_version,
            "seconds": round(self.seconds, 2),
            "steps": [
                {k: v for k, v in asdict(s).items() if k != "report"}
                | {
                    "ok": s.ok,
                    "commits": s.report.get("commits", {}),
                    "verdicts": s.report.get("verdicts", {}),
                }
                for s in self.steps
            ],
        }


def canary_seed(base: Path, target: Path) -> Path:
    """A copy of the seed with the canary layout of ``web`` (see the module docstring)."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(base, target, ignore=shutil.ignore_patterns(".git", "__pycache__"))
    folder = target / colours.FOLDER
    blue = folder / "web-blue.yaml"
    text = blue.read_text(encoding="utf-8")
    blue.write_text(text.replace("replicas: 2", f"replicas: {REPLICAS}", 1), encoding="utf-8")
    service = folder / "service.yaml"
    first = service.read_text(encoding="utf-8").split("\n---\n")[0]
    service.write_text(first.replace("    color: blue\n", "", 1) + "\n", encoding="utf-8")
    return target


def run_story(
    directory: str | os.PathLike[str],
    *,
    seed: Path | None = None,
    rps: float = 20.0,
    story_steps: tuple[tuple[str, str], ...] = STORY,
    echo: Callable[[str], None] = print,
) -> Story:
    """Start a fresh canary lab under ``directory``, tell the story, stop it."""
    base = Path(directory).resolve()
    root = base / "canary"
    prepared = canary_seed(seed or up.default_seed(), base / "canary-seed")
    lab = bluegreen_demo._Lab(root, seed=prepared, rps=rps, preview_rps=1.0)
    story = Story(rps=rps)
    strategy_demo.run_lab(
        lab,
        story,
        echo,
        strategy="canary",
        parts="two colours, one Service, stand-ins, Prometheus",
        tell=lambda: _tell(lab, story, echo, story_steps),
        good=GOOD,
    )
    return story


def _tell(
    lab: bluegreen_demo._Lab,
    story: Story,
    echo: Callable[[str], None],
    story_steps: tuple[tuple[str, str], ...],
) -> None:
    work = strategy_demo.clone_work(lab)
    slo = lab.root / "demo" / "web-canary-slo.yaml"
    slo.parent.mkdir(parents=True, exist_ok=True)
    slo.write_text(SLO, encoding="utf-8")
    strategy_demo.tell(
        lab,
        story,
        echo,
        command="canary",
        runs=story_steps,
        work=work,
        flags=["--steps", STEPS, "--slo-config", str(slo), "--ready-timeout", "60s"],
    )


def render(story: Story) -> str:
    """What a person reads at the end of the demo."""
    lines = ["", "canary story:", *strategy_demo.step_lines(story)]
    lines.append("")
    lines.append(
        f"user requests: {story.requests} at {story.rps:g} rps, failed {story.failed_requests} "
        "(the bad version's 500s while it held its first step's share)"
    )
    lines.append(f"detection: {story.detection_seconds} s of the bad step's gate")
    lines.append(f"serving at the end: {story.final_version}")
    lines.append("as expected" if story.ok else "NOT as expected: " + "; ".join(story.problems))
    return "\n".join(lines)


def write_report(story: Story, path: str | os.PathLike[str]) -> None:
    report.write_json(path, story.as_report())
