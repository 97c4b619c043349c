"""The scaffold of the blue-green and canary lab stories: one lab, one subcommand per step.

Both stories start the two-colour lab (:class:`gitops_guard_lab.bluegreen_demo._Lab`),
clone its GitOps repository, and run their subcommand once per version, each as its
own ``python -m gitops_guard`` process exactly as a workflow step runs it, with the
stand-ins' credentials in the environment and nothing of the runner's. Each run is a
:class:`Step` (expected outcome, exit code, seconds, the JSON report); the story
stops at the first step that does not end as expected. This module decides nothing
the subcommands decide; what differs between the stories (the flags, the figures,
what is told at the end) stays in :mod:`.bluegreen_demo` and :mod:`.canary_demo`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitops_guard import actions, errors
from gitops_guard_lab import colours, loadgen, up

if TYPE_CHECKING:
    from gitops_guard_lab.bluegreen_demo import _Lab

REPOSITORY = "ghcr.io/gitops-guard/web"
STEP_TIMEOUT_SECONDS = 240.0


@dataclass
class Step:
    name: str
    image: str
    expected: str
    outcome: str = ""
    exit_code: int | None = None
    seconds: float = 0.0
    started_at: float = 0.0
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome == self.expected


@dataclass
class Story:
    """What both stories count; each strategy's story adds its own figures."""

    steps: list[Step] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    failed_requests: int = 0
    requests: int = 0
    final_version: str = ""
    seconds: float = 0.0
    rps: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def figure(self, key: str) -> float | None:
        """The first step report's number under ``key``."""
        for step in self.steps:
            value = step.report.get(key)
            if isinstance(value, (int, float)):
                return float(value)
        return None


def git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode != 0:
        raise errors.DependencyUnavailable(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def serving_version(lab: _Lab) -> str:
    """The version user traffic through the ``web`` Service gets now ("" if none)."""
    assert lab.colours is not None
    status, _, body = lab.colours.proxies[colours.SERVICE].forward("/version", {})
    try:
        return str(json.loads(body)["version"]) if status == 200 else ""
    except (ValueError, KeyError):
        return ""


def run_lab(
    lab: _Lab,
    story: Story,
    echo: Callable[[str], None],
    *,
    strategy: str,
    parts: str,
    tell: Callable[[], None],
    good: str,
    tally: Callable[[loadgen.LoadGenerator], None] | None = None,
) -> None:
    """Start ``lab``, ``tell`` the story, count user traffic (``tally`` adds the
    strategy's own counts), stop it; the story must end serving ``good``."""
    started = time.monotonic()
    echo(f"lab demo --strategy {strategy}: a fresh lab in {lab.root}")
    try:
        lab.start()
        echo(f"  ok   {'lab up (' + parts + ')':<52} {time.monotonic() - started:6.1f} s")
        tell()
    finally:
        if lab.users is not None:
            story.requests = sum(lab.users.outcomes.values())
            story.failed_requests = len(lab.users.failures)
            if tally is not None:
                tally(lab.users)
        if lab.colours is not None:
            story.final_version = serving_version(lab)
        lab.stop()
        story.seconds = time.monotonic() - started
    if story.ok and story.final_version != good:
        story.problems.append(
            f"the lab ends serving {story.final_version or 'nothing'}, not {good}"
        )


def clone_work(lab: _Lab) -> Path:
    """A clone of the lab's GitOps repository, committing as the lab's identity."""
    work = lab.root / "work"
    git("clone", "-q", str(lab.paths.repo), str(work))
    name, email = up.LAB_IDENTITY
    git("config", "user.name", name, cwd=work)
    git("config", "user.email", email, cwd=work)
    return work


def tell(
    lab: _Lab,
    story: Story,
    echo: Callable[[str], None],
    *,
    command: str,
    runs: Sequence[tuple[str, str]],
    work: Path,
    flags: Sequence[str],
    recorded: Callable[[Step], None] | None = None,
) -> None:
    """Run ``gitops-guard COMMAND`` once per ``(version, expected outcome)`` in ``runs``.

    Every run gets the service, its image, the manifests' path, ArgoCD, Prometheus
    and a report file; ``flags`` are the strategy's own. Each run's log and report
    stay in ``lab.root/demo``; ``recorded(step)`` sees each step once it is recorded.
    """
    assert lab.colours is not None and lab.prometheus is not None
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_"))
    }
    env.update(ARGOCD_TOKEN=lab.token, KUBECONFIG=str(lab.kubeconfig()))
    for version, expected in runs:
        step = Step(name=f"{command} {version}", image=f"{REPOSITORY}:{version}", expected=expected)
        report_file = lab.root / "demo" / f"{command}-{version}.json"
        report_file.parent.mkdir(parents=True, exist_ok=True)
        argv = [
            sys.executable,
            "-m",
            "gitops_guard",
            command,
            "--dir",
            str(work),
            "--service",
            colours.SERVICE,
            "--image",
            step.image,
            *flags,
            "--path",
            colours.FOLDER,
            "--argocd-server",
            lab.colours.argo.url,
            "--app",
            colours.APP,
            "--argocd-timeout",
            "60s",
            "--prometheus-url",
            lab.prometheus.url,
            "--report",
            str(report_file),
        ]
        step.started_at = time.time()
        begun = time.monotonic()
        try:
            done = subprocess.run(
                argv,
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
        (lab.root / "demo" / f"{command}-{version}.log").write_text(log, encoding="utf-8")
        if report_file.is_file():
            step.report = json.loads(report_file.read_text(encoding="utf-8"))
            step.outcome = str(step.report.get("outcome", ""))
        story.steps.append(step)
        if recorded is not None:
            recorded(step)
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


def step_lines(story: Story) -> list[str]:
    """One line per step for the closing text: name, outcome, seconds, commits."""
    lines = []
    for step in story.steps:
        commits = ", ".join(f"{k} {v[:12]}" for k, v in step.report.get("commits", {}).items())
        lines.append(f"  {step.name:<24} {step.outcome:<14} {step.seconds:6.1f} s  {commits}")
    return lines
