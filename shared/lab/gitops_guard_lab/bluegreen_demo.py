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
decides nothing the subcommand decides. The steps run through
:mod:`gitops_guard_lab.strategy_demo`, the scaffold the canary story shares.
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gitops_guard import errors, report
from gitops_guard_lab import colours, demoapp, layout, loadgen, promstack, strategy_demo, up

GOOD, BAD, USER_ONLY = "1.1.0", "1.2.0", "1.4.0"
STORY: tuple[tuple[str, str], ...] = (
    (GOOD, "promoted"),
    (BAD, "rejected"),
    (USER_ONLY, "switched-back"),
)
"""(version, expected outcome) of each step of the story."""


@dataclass
class Story(strategy_demo.Story):
    switch_failed_requests: int | None = None
    switch_back_failed_requests: int | None = None
    transport_failures: int = 0
    failures_by_outcome: dict[str, int] = field(default_factory=dict)

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

    def __init__(
        self, root: Path, *, seed: Path, rps: float, preview_rps: float, front: str = "service"
    ) -> None:
        self.root = root
        self.front = front
        """Where user traffic enters: the ``web`` Service, or the lab's Gateway."""
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
            repo=self.paths.repo,
            logs=self.paths.logs,
            pids=self.paths.pids,
            token=self.token,
            front=self.front,
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

    def tally(users: loadgen.LoadGenerator) -> None:
        story.transport_failures = sum(1 for _, o in users.failures if o in TRANSPORT)
        story.failures_by_outcome = dict(Counter(o for _, o in users.failures))
        _windows(story, users.failures)

    strategy_demo.run_lab(
        lab,
        story,
        echo,
        strategy="blue-green",
        parts="two colours, proxies, stand-ins, Prometheus",
        tell=lambda: _tell(lab, story, echo, steps=steps, ready_timeout=ready_timeout),
        good=GOOD,
        tally=tally,
    )
    return story


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
    work = strategy_demo.clone_work(lab)
    strategy_demo.tell(
        lab,
        story,
        echo,
        command="blue-green",
        runs=steps,
        work=work,
        flags=[
            "--slo-config",
            str(work / "web-slo.yaml"),
            "--scale-down-delay",
            "2s",
            "--ready-timeout",
            "60s",
            "--switch-timeout",
            "20s",
        ],
    )


def render(story: Story) -> str:
    """What a person reads at the end of the demo."""
    data = story.as_report()
    lines = ["", "blue-green story:", *strategy_demo.step_lines(story)]
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
