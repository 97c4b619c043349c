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

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gitops_guard import actions, report
from gitops_guard_lab import bluegreen_demo, colours, up

GOOD, BAD = "1.1.0", "1.2.0"
STORY: tuple[tuple[str, str], ...] = ((GOOD, "promoted"), (BAD, "aborted"))
"""(version, expected outcome) of each run of the story."""
STEPS = "25,50,100"
REPLICAS = 4
STEP_TIMEOUT_SECONDS = 240.0

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
class Story:
    steps: list[bluegreen_demo.Step] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    failed_requests: int = 0
    requests: int = 0
    final_version: str = ""
    seconds: float = 0.0
    rps: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def detection_seconds(self) -> float | None:
        for step in self.steps:
            value = step.report.get("detection_seconds")
            if isinstance(value, (int, float)):
                return float(value)
        return None

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
    started = time.monotonic()
    echo(f"lab demo --strategy canary: a fresh lab in {root}")
    try:
        lab.start()
        echo(
            f"  ok   {'lab up (two colours, one Service, stand-ins, Prometheus)':<52}"
            f" {time.monotonic() - started:6.1f} s"
        )
        _tell(lab, story, echo, story_steps)
    finally:
        if lab.users is not None:
            story.requests = sum(lab.users.outcomes.values())
            story.failed_requests = len(lab.users.failures)
        if lab.colours is not None:
            story.final_version = bluegreen_demo._serving_version(lab)
        lab.stop()
        story.seconds = time.monotonic() - started
    if story.ok and story.final_version != GOOD:
        story.problems.append(
            f"the lab ends serving {story.final_version or 'nothing'}, not {GOOD}"
        )
    return story


def _tell(
    lab: bluegreen_demo._Lab,
    story: Story,
    echo: Callable[[str], None],
    story_steps: tuple[tuple[str, str], ...],
) -> None:
    assert lab.colours is not None and lab.prometheus is not None
    git = bluegreen_demo._git
    work = lab.root / "work"
    git("clone", "-q", str(lab.paths.repo), str(work))
    name, email = up.LAB_IDENTITY
    git("config", "user.name", name, cwd=work)
    git("config", "user.email", email, cwd=work)
    slo = lab.root / "demo" / "web-canary-slo.yaml"
    slo.parent.mkdir(parents=True, exist_ok=True)
    slo.write_text(SLO, encoding="utf-8")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_"))
    }
    env.update(ARGOCD_TOKEN=lab.token, KUBECONFIG=str(lab.kubeconfig()))
    for version, expected in story_steps:
        step = bluegreen_demo.Step(
            name=f"canary {version}",
            image=f"{bluegreen_demo.REPOSITORY}:{version}",
            expected=expected,
        )
        report_file = lab.root / "demo" / f"canary-{version}.json"
        command = [
            sys.executable,
            "-m",
            "gitops_guard",
            "canary",
            "--dir",
            str(work),
            "--service",
            colours.SERVICE,
            "--image",
            step.image,
            "--steps",
            STEPS,
            "--path",
            colours.FOLDER,
            "--argocd-server",
            lab.colours.argo.url,
            "--app",
            colours.APP,
            "--argocd-timeout",
            "60s",
            "--slo-config",
            str(slo),
            "--prometheus-url",
            lab.prometheus.url,
            "--ready-timeout",
            "60s",
            "--report",
            str(report_file),
        ]
        step.started_at = time.time()
        begun = time.monotonic()
        try:
            done = subprocess.run(
                command,
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                check=False,
                timeout=STEP_TIMEOUT_SECONDS,
            )
            step.exit_code = done.returncode
            log = actions.redact(done.stdout + done.stderr)
        except subprocess.TimeoutExpired:
            log = f"timed out after {STEP_TIMEOUT_SECONDS:g} s"
        step.seconds = time.monotonic() - begun
        (lab.root / "demo" / f"canary-{version}.log").write_text(log, encoding="utf-8")
        if report_file.is_file():
            step.report = json.loads(report_file.read_text(encoding="utf-8"))
            step.outcome = str(step.report.get("outcome", ""))
        story.steps.append(step)
        mark = "ok " if step.ok else "FAIL"
        echo(
            f"  {mark} {step.name:<24} {step.outcome or '?':<14} (expected {expected:<13})"
            f" exit {step.exit_code}  {step.seconds:6.1f} s"
        )
        if not step.ok:
            tail = "\n".join("       " + line for line in log.splitlines()[-12:])
            echo(tail)
            story.problems.append(
                f"{step.name}: {step.outcome or 'no outcome'}, expected {expected}"
            )
            return
        git("pull", "-q", "--ff-only", cwd=work)


def render(story: Story) -> str:
    """What a person reads at the end of the demo."""
    lines = ["", "canary story:"]
    for step in story.steps:
        commits = ", ".join(f"{k} {v[:12]}" for k, v in step.report.get("commits", {}).items())
        lines.append(f"  {step.name:<24} {step.outcome:<14} {step.seconds:6.1f} s  {commits}")
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
