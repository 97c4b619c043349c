"""``lab demo --strategy blue-green``: the blue-green story, told with the real subcommand.

A fresh lab in ``DIR/blue-green``: a bare GitOps repository seeded from
``examples/gitops-repo``, the two colours of ``web`` as real processes behind Services
that route real HTTP (:mod:`gitops_guard_lab.colours`), the Kubernetes and ArgoCD
stand-ins, the real Prometheus scraping both colours, and two load generators: user
traffic (with a user session header) through the active Service and a smaller share
through the preview Service. Then, each as its own ``gitops-guard blue-green``
process, exactly as a workflow step would run it:

1. a good version (1.1.0) is prepared, proven, switched to, the old colour scaled down;
2. a bad version (1.2.0) is stopped by the preview gate: nothing is switched;
3. a version that fails only under user traffic (1.4.0) passes its preview, is
   switched to, and the post-switch gate switches back.

The story is as expected when each step ends with its expected outcome and the lab
ends serving the good version. The report (``--report``) holds ``ok``,
``failed_requests`` (user traffic, the whole story), ``switch_seconds``,
``switch_back_seconds`` and the failed requests in each switch window. This module
decides nothing the subcommand decides.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gitops_guard import actions, errors, report
from gitops_guard_lab import colours, demoapp, layout, loadgen, promstack, up

REPOSITORY = "ghcr.io/gitops-guard/web"
GOOD, BAD, USER_ONLY = "1.1.0", "1.2.0", "1.4.0"
STORY: tuple[tuple[str, str], ...] = (
    (GOOD, "promoted"),
    (BAD, "rejected"),
    (USER_ONLY, "switched-back"),
)
"""(version, expected outcome) of each step of the story."""
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
    steps: list[Step] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    failed_requests: int = 0
    requests: int = 0
    switch_failed_requests: int | None = None
    switch_back_failed_requests: int | None = None
    transport_failures: int = 0
    failures_by_outcome: dict[str, int] = field(default_factory=dict)
    final_version: str = ""
    seconds: float = 0.0
    rps: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def figure(self, key: str) -> float | None:
        for step in self.steps:
            value = step.report.get(key)
            if isinstance(value, (int, float)):
                return float(value)
        return None

    def as_report(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "strategy": "blue-green",
            "problems": self.problems,
            "failed_requests": self.failed_requests,
            "requests": self.requests,
            "rps": self.rps,
            "transport_failures": self.transport_failures,
            "failures_by_outcome": self.failures_by_outcome,
            "switch_seconds": self.figure("switch_seconds"),
            "switch_back_seconds": self.figure("switch_back_seconds"),
            "switch_failed_requests": self.switch_failed_requests,
            "switch_back_failed_requests": self.switch_back_failed_requests,
            "final_version": self.final_version,
            "seconds": round(self.seconds, 2),
            "steps": [
                {k: v for k, v in asdict(s).items() if k != "report"}
                | {"ok": s.ok, "commits": s.report.get("commits", {})}
                for s in self.steps
            ],
        }


def _git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode != 0:
        raise errors.DependencyUnavailable(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def _window(timeline: list[dict[str, Any]], step: str, started_at: float) -> tuple[float, float]:
    """(start, end) epoch seconds of ``step`` and the ``serving`` check after it."""
    offset = started_at
    start = end = None
    elapsed = 0.0
    for event in timeline:
        if event["step"] == step and start is None:
            start = offset + elapsed
        if start is not None and event["step"] == "serving":
            end = offset + elapsed + float(event["seconds"])
            break
        elapsed += float(event["seconds"])
    if start is None:
        return (0.0, 0.0)
    return (start, end if end is not None else start)


class _Lab:
    """The parts of one story, started in order and stopped in reverse."""

    def __init__(self, root: Path, *, seed: Path, rps: float, preview_rps: float) -> None:
        self.root = root
        self.paths = layout.Layout.at(root)
        self.token = secrets.token_urlsafe(24)
        self.seed = seed
        self.rps = rps
        self.preview_rps = preview_rps
        self.colours: colours.ColourLab | None = None
        self.prometheus: promstack.Server | None = None
        self.users: loadgen.LoadGenerator | None = None
        self.previews: loadgen.LoadGenerator | None = None
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        self.paths.make()
        # Every process started from here carries the marker (lab down, tests find them).
        os.environ[layout.ENV_MARKER] = str(self.paths.root)
        up.seed_repository(self.seed, self.paths.repo)
        self.colours = colours.ColourLab(
            repo=self.paths.repo, logs=self.paths.logs, pids=self.paths.pids, token=self.token
        ).start()
        self.prometheus = promstack.start_prometheus(
            scrape_targets=[f"127.0.0.1:{p}" for p in self.colours.ports],
            scrape_interval="1s",
            job_name="web",
            data_dir=self.paths.prometheus_data,
            retention="1d",
        )
        self.users = loadgen.LoadGenerator(
            url=self.colours.proxies[colours.SERVICE].url + "/",
            rps=self.rps,
            concurrency=8,
            headers={demoapp.USER_HEADER: "lab-user"},
        )
        self.previews = loadgen.LoadGenerator(
            url=self.colours.proxies[f"{colours.SERVICE}-preview"].url + "/",
            rps=self.preview_rps,
            concurrency=2,
        )
        for generator in (self.users, self.previews):
            thread = threading.Thread(target=generator.run, daemon=True)
            thread.start()
            self._threads.append(thread)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.users.outcomes.get("200", 0) > 5 and self._scraped():
                return
            time.sleep(0.25)
        raise errors.DependencyUnavailable(
            "the blue-green lab did not become healthy", hint=f"Look at {self.paths.logs}."
        )

    def _scraped(self) -> bool:
        import httpx

        assert self.prometheus is not None
        try:
            data = httpx.get(
                f"{self.prometheus.url}/api/v1/query",
                params={"query": 'sum(http_requests_total{app="web"})'},
                timeout=1.0,
            ).json()
            return bool(data["data"]["result"])
        except (httpx.HTTPError, ValueError, KeyError):
            return False

    def kubeconfig(self) -> Path:
        assert self.colours is not None
        path = self.paths.run / "kubeconfig"
        path.write_text(self.colours.kube.kubeconfig(namespace=colours.NAMESPACE), "utf-8")
        path.chmod(0o600)
        return path

    def stop(self) -> None:
        for generator in (self.users, self.previews):
            if generator is not None:
                generator.stop()
        for thread in self._threads:
            thread.join(timeout=5)
        if self.prometheus is not None:
            self.prometheus.stop()
        if self.colours is not None:
            self.colours.stop()
        os.environ.pop(layout.ENV_MARKER, None)


def run_story(
    directory: str | os.PathLike[str],
    *,
    seed: Path | None = None,
    rps: float = 20.0,
    preview_rps: float = 6.0,
    steps: tuple[tuple[str, str], ...] = STORY,
    ready_timeout: str = "60s",
    final: str = GOOD,
    echo: Callable[[str], None] = print,
) -> Story:
    """Start a fresh blue-green lab under ``directory``, tell the story, stop it."""
    root = Path(directory).resolve() / "blue-green"
    lab = _Lab(root, seed=seed or up.default_seed(), rps=rps, preview_rps=preview_rps)
    story = Story(rps=rps)
    started = time.monotonic()
    echo(f"lab demo --strategy blue-green: a fresh lab in {root}")
    try:
        lab.start()
        echo(
            f"  ok   {'lab up (two colours, proxies, stand-ins, Prometheus)':<52}"
            f" {time.monotonic() - started:6.1f} s"
        )
        _tell(lab, story, echo, steps=steps, ready_timeout=ready_timeout)
    finally:
        if lab.users is not None:
            story.requests = sum(lab.users.outcomes.values())
            story.failed_requests = len(lab.users.failures)
            story.transport_failures = sum(1 for _, o in lab.users.failures if o in TRANSPORT)
            story.failures_by_outcome = dict(Counter(o for _, o in lab.users.failures))
            _windows(story, lab.users.failures)
        if lab.colours is not None:
            story.final_version = _serving_version(lab)
        lab.stop()
        story.seconds = time.monotonic() - started
    if story.ok and story.final_version != GOOD:
        story.problems.append(
            f"the lab ends serving {story.final_version or 'nothing'}, not {GOOD}"
        )
    return story


def _serving_version(lab: _Lab) -> str:
    assert lab.colours is not None
    status, _, body = lab.colours.proxies[colours.SERVICE].forward("/version", {})
    try:
        return str(json.loads(body)["version"]) if status == 200 else ""
    except (ValueError, KeyError):
        return ""


TRANSPORT = ("error", "502", "503")
"""Failures the routing can cause: no connection, no answer from the endpoint, or no ready
endpoint behind the Service. A 500 is the version's own answer (even 1.1.0 fails 0.4% of
requests), not the switch's; a ``timeout`` (an answer slower than the load generator's 2 s)
says the machine is busy and is counted in ``failed_requests`` and ``failures_by_outcome``."""


def _windows(story: Story, failures: list[tuple[float, str]]) -> None:
    """Failed requests inside the first switch and the switch-back (transport failures)."""

    def count(window: tuple[float, float]) -> int | None:
        start, end = window
        if not start:
            return None
        return sum(1 for at, o in failures if start <= at <= end + 0.5 and o in TRANSPORT)

    for step in story.steps:
        timeline = step.report.get("timeline") or []
        if step.expected == "promoted" and story.switch_failed_requests is None:
            story.switch_failed_requests = count(_window(timeline, "switch", step.started_at))
        if step.expected == "switched-back":
            story.switch_back_failed_requests = count(
                _window(timeline, "switch-back", step.started_at)
            )


def _tell(
    lab: _Lab,
    story: Story,
    echo: Callable[[str], None],
    *,
    steps: tuple[tuple[str, str], ...],
    ready_timeout: str,
) -> None:
    assert lab.colours is not None and lab.prometheus is not None
    work = lab.root / "work"
    _git("clone", "-q", str(lab.paths.repo), str(work))
    name, email = up.LAB_IDENTITY
    _git("config", "user.name", name, cwd=work)
    _git("config", "user.email", email, cwd=work)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_"))
    }
    env.update(ARGOCD_TOKEN=lab.token, KUBECONFIG=str(lab.kubeconfig()))
    for version, expected in steps:
        step = Step(
            name=f"blue-green {version}", image=f"{REPOSITORY}:{version}", expected=expected
        )
        report_file = lab.root / "demo" / f"blue-green-{version}.json"
        report_file.parent.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "gitops_guard",
            "blue-green",
            "--dir",
            str(work),
            "--service",
            colours.SERVICE,
            "--image",
            step.image,
            "--path",
            colours.FOLDER,
            "--argocd-server",
            lab.colours.argo.url,
            "--app",
            colours.APP,
            "--argocd-timeout",
            "60s",
            "--slo-config",
            str(work / "web-slo.yaml"),
            "--prometheus-url",
            lab.prometheus.url,
            "--scale-down-delay",
            "2s",
            "--ready-timeout",
            "60s",
            "--switch-timeout",
            "20s",
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
        (lab.root / "demo" / f"blue-green-{version}.log").write_text(log, encoding="utf-8")
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
        _git("pull", "-q", "--ff-only", cwd=work)


def render(story: Story) -> str:
    """What a person reads at the end of the demo."""
    data = story.as_report()
    lines = ["", "blue-green story:"]
    for step in story.steps:
        commits = ", ".join(f"{k} {v[:12]}" for k, v in step.report.get("commits", {}).items())
        lines.append(f"  {step.name:<24} {step.outcome:<14} {step.seconds:6.1f} s  {commits}")
    lines.append("")
    lines.append(
        f"user requests: {story.requests} at {story.rps:g} rps, failed {story.failed_requests} "
        f"(of which transport {story.transport_failures}; the rest are the bad version's 500s "
        "before the switch-back)"
    )
    lines.append(
        f"switch: {data['switch_seconds']} s, failed during it: {story.switch_failed_requests}; "
        f"switch-back: {data['switch_back_seconds']} s, failed by it: "
        f"{story.switch_back_failed_requests}"
    )
    lines.append(f"serving at the end: {story.final_version}")
    lines.append("as expected" if story.ok else "NOT as expected: " + "; ".join(story.problems))
    return "\n".join(lines)


def write_report(story: Story, path: str | os.PathLike[str]) -> None:
    report.write_json(path, story.as_report())
