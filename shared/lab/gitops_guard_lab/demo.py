"""``lab demo``: the whole story, told with the real subcommands against a fresh lab.

1. promote a good version (``update-manifest --push``), wait for ArgoCD
   (``argocd-wait``), judge it (``slo-gate``): the gate passes;
2. promote a bad version, wait: ArgoCD reports it Synced and Healthy (its health
   checks pass), the gate fails, ``rollback revert --mode commit`` pushes a revert,
   ArgoCD syncs it, and the gate on the good version passes again.

Each subcommand runs as its own process (``python -m gitops_guard ...``), exactly as
a workflow step would. A watcher polls the lab's ArgoCD API to time the moment the
bad revision was Synced, for the figure that matters most to an SRE: seconds from
the bad revision Synced to the revert pushed. The story is "as expected" when every
step exits with its expected code, the good version is never reverted, and the
lab ends on the good version.

This module must not decide anything the subcommands decide: it runs them and
compares their exit codes with the story.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from gitops_guard import actions, errors, report, trailers
from gitops_guard_lab import catalogue, up

GOOD_VERSION = "1.1.0"
BAD_VERSION = "1.2.0"
TARGET_REVERT_SECONDS = 45.0
"""The aim: the revert is pushed at most this long after the bad revision is Synced."""
STEP_TIMEOUT_SECONDS = 180.0


@dataclass
class Step:
    """One step of the story and how it went."""

    name: str
    command: list[str]
    expected: int
    exit_code: int | None = None
    seconds: float = 0.0
    started_at: float = 0.0
    log: str = ""
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == self.expected


@dataclass
class StateSeen:
    """An ArgoCD application state the watcher saw first at ``at`` (epoch seconds)."""

    at: float
    revision: str
    sync: str
    health: str
    phase: str


@dataclass
class Story:
    """The outcome of one ``lab demo``."""

    steps: list[Step] = field(default_factory=list)
    states: list[StateSeen] = field(default_factory=list)
    good_sha: str = ""
    bad_sha: str = ""
    revert_sha: str = ""
    bad_synced_at: float | None = None
    revert_pushed_at: float | None = None
    good_reverted: bool = False
    final_version: str = ""
    problems: list[str] = field(default_factory=list)
    started_at: float = 0.0
    seconds: float = 0.0

    @property
    def revert_seconds(self) -> float | None:
        """Seconds from the bad revision Synced to the revert pushed."""
        if self.bad_synced_at is None or self.revert_pushed_at is None:
            return None
        return self.revert_pushed_at - self.bad_synced_at

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_report(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": self.problems,
            "seconds": round(self.seconds, 2),
            "revert_seconds": None
            if self.revert_seconds is None
            else round(self.revert_seconds, 2),
            "target_revert_seconds": TARGET_REVERT_SECONDS,
            "good_sha": self.good_sha,
            "bad_sha": self.bad_sha,
            "revert_sha": self.revert_sha,
            "good_reverted": self.good_reverted,
            "final_version": self.final_version,
            "steps": [
                {k: v for k, v in asdict(s).items() if k not in ("command", "log")}
                | {"ok": s.ok, "command": " ".join(s.command[2:])}
                for s in self.steps
            ],
            "argocd_states": [asdict(s) for s in self.states],
        }


class Watcher:
    """Polls the lab's ArgoCD application and records each new state with its time."""

    def __init__(self, *, server: str, app: str, token: str, interval: float = 0.2) -> None:
        self.url = f"{server}/api/v1/applications/{app}"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.interval = interval
        self.states: list[StateSeen] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lab-demo-watcher", daemon=True)

    def start(self) -> Watcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        with httpx.Client(timeout=2.0, headers=self.headers) as client:
            while not self._stop.wait(self.interval):
                try:
                    status = client.get(self.url).json().get("status", {})
                except (httpx.HTTPError, ValueError):
                    continue
                seen = StateSeen(
                    at=time.time(),
                    revision=str(status.get("sync", {}).get("revision") or ""),
                    sync=str(status.get("sync", {}).get("status") or ""),
                    health=str(status.get("health", {}).get("status") or ""),
                    phase=str((status.get("operationState") or {}).get("phase") or ""),
                )
                last = self.states[-1] if self.states else None
                if last is None or (last.revision, last.sync, last.health, last.phase) != (
                    seen.revision,
                    seen.sync,
                    seen.health,
                    seen.phase,
                ):
                    self.states.append(seen)

    def first(self, revision: str, *, sync: str = "Synced") -> float | None:
        """When the watcher first saw ``revision`` with sync status ``sync``."""
        for state in self.states:
            if state.revision == revision and state.sync == sync:
                return state.at
        return None


def _git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode != 0:
        raise errors.DependencyUnavailable(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


class Runner:
    """Runs the story's commands, logging each to ``DIR/demo/NN-name.log``."""

    def __init__(
        self, *, env: up.LabEnv, work: Path, logs: Path, echo: Callable[[str], None]
    ) -> None:
        self.env = env
        self.work = work
        self.logs = logs
        self.echo = echo
        self.story = Story(started_at=time.time())
        self.process_env = dict(os.environ)
        self.process_env["ARGOCD_TOKEN"] = env.token
        for key in list(self.process_env):
            if key.startswith(("GITHUB_", "INPUT_", "RUNNER_")):
                del self.process_env[key]

    def run(self, name: str, args: Sequence[str], *, expected: int = 0) -> Step:
        step = Step(
            name=name, command=[sys.executable, "-m", "gitops_guard", *args], expected=expected
        )
        index = len(self.story.steps) + 1
        log_path = self.logs / f"{index:02d}-{name.split()[0]}.log"
        step.started_at = time.time()
        started = time.monotonic()
        try:
            done = subprocess.run(
                step.command,
                cwd=self.work,
                env=self.process_env,
                capture_output=True,
                text=True,
                check=False,
                timeout=STEP_TIMEOUT_SECONDS,
            )
            step.exit_code = done.returncode
            step.log = actions.redact(done.stdout + done.stderr)
        except subprocess.TimeoutExpired as exc:
            step.exit_code = None
            step.log = f"timed out after {exc.timeout} s"
        step.seconds = time.monotonic() - started
        log_path.write_text(step.log, encoding="utf-8")
        self.story.steps.append(step)
        mark = "ok " if step.ok else "FAIL"
        self.echo(
            f"  {mark} {step.name:<44} exit {step.exit_code!s:>4} (expected {expected})"
            f"  {step.seconds:6.1f} s"
        )
        if not step.ok:
            tail = "\n".join(step.log.splitlines()[-15:])
            self.echo(f"       its output ends with ({log_path}):\n{_indent(tail, 7)}")
            self.story.problems.append(
                f"{step.name}: exit {step.exit_code}, expected {step.expected}"
            )
        return step

    def promote(self, version: str, image: str) -> str:
        report_file = self.logs / f"promote-{version}.json"
        step = self.run(
            f"promote {version} (update-manifest --push)",
            [
                "update-manifest",
                "--dir",
                str(self.work),
                "--image",
                image,
                "--push",
                "--report",
                str(report_file),
            ],
        )
        _git("fetch", "-q", "origin", cwd=self.work)
        sha = _git("rev-parse", "HEAD", cwd=self.work) if step.ok else ""
        step.note = sha[:12]
        return sha

    def wait(self, label: str, sha: str) -> Step:
        env = self.env
        return self.run(
            f"argocd-wait {label}",
            [
                "argocd-wait",
                "--server",
                env["ARGOCD_SERVER"],
                "--app",
                env["ARGOCD_APP"],
                "--revision",
                sha,
                "--timeout",
                "120",
                "--poll-interval",
                "1",
                "--report",
                str(self.logs / f"wait-{sha[:12]}.json"),
            ],
        )

    def gate_report(self, version: str, label: str) -> Path:
        return self.logs / f"gate-{version}-{label.replace(' ', '-')}.json"

    def gate(self, version: str, *, expected: int, label: str) -> Step:
        return self.run(
            f"slo-gate {version} ({label})",
            [
                "slo-gate",
                "--config",
                str(self.work / "slo.yaml"),
                "--prometheus-url",
                self.env["PROMETHEUS_URL"],
                "--var",
                f"version={version}",
                "--report",
                str(self.gate_report(version, label)),
            ],
            expected=expected,
        )


def _indent(text: str, width: int) -> str:
    return "\n".join(" " * width + line for line in text.splitlines())


def run_story(
    directory: str | os.PathLike[str],
    *,
    good: str = GOOD_VERSION,
    bad: str = BAD_VERSION,
    seed: Path | None = None,
    echo: Callable[[str], None] = print,
) -> Story:
    """Start a fresh lab in ``directory``, tell the story, stop the lab; returns the story."""
    lab_catalogue = catalogue.load()
    for version in (good, bad):
        lab_catalogue.behaviour(version)
    up.down(directory)
    started = time.monotonic()
    echo(f"lab demo: a fresh lab in {Path(directory).resolve()}")
    env = up.up(directory, seed=seed)
    echo(f"  ok  {'lab up':<44} {'':>20}  {time.monotonic() - started:6.1f} s")
    root = Path(env["LAB_DIR"])
    work = root / "demo" / "work"
    logs = root / "demo"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    _git("clone", "-q", env["GITOPS_REPO"], str(work))
    name, email = up.LAB_IDENTITY
    _git("config", "user.name", name, cwd=work)
    _git("config", "user.email", email, cwd=work)
    watcher = Watcher(server=env["ARGOCD_SERVER"], app=env["ARGOCD_APP"], token=env.token)
    watcher.start()
    runner = Runner(env=env, work=work, logs=logs, echo=echo)
    story = runner.story
    try:
        _tell(runner, lab_catalogue, good=good, bad=bad)
    finally:
        watcher.stop()
        story.states = watcher.states
        story.bad_synced_at = watcher.first(story.bad_sha) if story.bad_sha else None
        _check_outcome(story, env, good=good)
        story.seconds = time.monotonic() - started
    return story


def _tell(runner: Runner, lab_catalogue: catalogue.Catalogue, *, good: str, bad: str) -> None:
    story = runner.story
    story.good_sha = runner.promote(good, lab_catalogue.image(good))
    if not story.good_sha or not runner.wait(f"{good}", story.good_sha).ok:
        return
    if not runner.gate(good, expected=0, label="new good version").ok:
        return
    story.bad_sha = runner.promote(bad, lab_catalogue.image(bad))
    if not story.bad_sha or not runner.wait(f"{bad}", story.bad_sha).ok:
        return
    label = "new bad version"
    gate = runner.gate(bad, expected=1, label=label)
    if not gate.ok:
        return
    revert = runner.run(
        f"rollback revert {story.bad_sha[:12]} (commit mode)",
        [
            "rollback",
            "revert",
            "--dir",
            str(runner.work),
            "--commit",
            story.bad_sha,
            "--mode",
            "commit",
            "--evidence",
            str(runner.gate_report(bad, label)),
            "--report",
            str(runner.logs / "rollback.json"),
        ],
    )
    story.revert_pushed_at = revert.started_at + revert.seconds
    if not revert.ok:
        return
    story.revert_sha = _git("--git-dir", runner.env["GITOPS_REPO"], "rev-parse", "HEAD")
    revert.note = story.revert_sha[:12]
    if story.revert_sha == story.bad_sha:
        story.problems.append("rollback revert exited 0 but pushed nothing")
        return
    if not runner.wait("the revert", story.revert_sha).ok:
        return
    runner.gate(good, expected=0, label="after the rollback")


def _check_outcome(story: Story, env: up.LabEnv, *, good: str) -> None:
    bare = env["GITOPS_REPO"]
    if story.good_sha:
        reverts = _git(
            "--git-dir",
            bare,
            "log",
            f"--format={trailers.git_format(trailers.REVERTS, separator='%n')}",
        )
        story.good_reverted = story.good_sha in reverts
        if story.good_reverted:
            story.problems.append(
                f"the good version {good} ({story.good_sha[:12]}) was rolled back"
            )
    try:
        version = httpx.get(f"{env['DEMO_APP_URL']}/version", timeout=2.0).json()["version"]
    except (httpx.HTTPError, ValueError, KeyError):
        version = ""
    story.final_version = str(version)
    if story.ok and story.final_version != good:
        story.problems.append(f"the lab ends on {story.final_version or 'nothing'}, not {good}")
    figure = story.revert_seconds
    if story.ok and figure is None:
        story.problems.append("the bad revision was never seen Synced, or no revert was pushed")


def render(story: Story) -> str:
    """The timeline a person reads at the end of ``lab demo``."""
    lines = ["", "timeline:"]
    t0 = story.started_at
    for step in story.steps:
        lines.append(
            f"  +{step.started_at - t0:6.1f} s  {step.name:<44} {step.seconds:6.1f} s"
            f"  exit {step.exit_code}{'  ' + step.note if step.note else ''}"
        )
    if story.states:
        lines.append("")
        lines.append("ArgoCD states seen (revision, sync, health, operation):")
        for state in story.states:
            lines.append(
                f"  +{state.at - t0:6.1f} s  {state.revision[:12]:<12} {state.sync:<10}"
                f" {state.health:<12} {state.phase}"
            )
    lines.append("")
    figure = story.revert_seconds
    if figure is not None:
        verdict = "within" if figure <= TARGET_REVERT_SECONDS else "ABOVE"
        lines.append(
            f"seconds from bad revision Synced to revert pushed: {figure:.1f}"
            f" ({verdict} the {TARGET_REVERT_SECONDS:.0f} s aim)"
        )
    lines.append(f"good version rolled back: {'YES' if story.good_reverted else 'no'}")
    lines.append(f"the lab runs: {story.final_version or '(unknown)'}")
    lines.append(f"story took {story.seconds:.1f} s")
    if story.ok:
        lines.append("lab demo: the story went as expected")
    else:
        lines.append("lab demo: the story did NOT go as expected:")
        lines += [f"  - {problem}" for problem in story.problems]
    return "\n".join(lines)


def write_report(story: Story, path: str | os.PathLike[str]) -> None:
    report.write_json(path, story.as_report())


def dumps(story: Story) -> str:
    return json.dumps(story.as_report(), indent=2)
