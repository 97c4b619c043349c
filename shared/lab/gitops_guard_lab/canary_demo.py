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

With ``traffic="gateway"`` (``lab demo --strategy canary --traffic gateway``) the
colours are Services of their own (``web-blue``, ``web-green``) behind the HTTPRoute
``web`` (:func:`gateway_seed`), user traffic enters through the lab's Gateway
(:mod:`gitops_guard_lab.gateway`), which splits it by the route's weights, and each
``gitops-guard canary`` runs with ``--traffic gateway``: the steps move the weights,
both colours run at full size.

The report (``--report``) holds ``ok``, ``failed_requests`` (user traffic, the whole
story), ``detection_seconds`` (the bad step's gate: first look to ``fail``), each
step's outcome and commits, and ``shares``: per gated step, the canary's share of
traffic the step asked for, the share the Gateway sent (gateway traffic only) and the
share the gate observed in Prometheus; a share off by more than its tolerance makes
the story not as expected. This module decides nothing the subcommand decides.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gitops_guard import errors, report
from gitops_guard_lab import bluegreen_demo, colours, gateway, loadgen, strategy_demo, up

GOOD, BAD = "1.1.0", "1.2.0"
STORY: tuple[tuple[str, str], ...] = ((GOOD, "promoted"), (BAD, "aborted"))
"""(version, expected outcome) of each run of the story."""
STEPS = "25,50,100"
REPLICAS = 4
TRAFFIC = ("replicas", "gateway")
"""How the story splits traffic: ``gitops-guard canary --traffic``'s choices."""
GATEWAY_SHARE_TOLERANCE = 0.02
"""The Gateway's share may differ from the step's by this much (absolute): its smooth
round robin is exact to one request in ``total`` weights; 2 points leave room for the
requests of the step's first and last moments."""
GATE_SHARE_TOLERANCE = 0.05
"""The gate's observed share (Prometheus counters of both arms, scraped every second,
over the step's whole watch) may differ from the step's by this much (absolute); only
steps that passed are held to it: a failing step stops after a few dozen requests."""

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

GATEWAY_SLO = """\
# The canary gate of "web" behind the lab's Gateway: the canary's version against the
# stable one's, by errors and by slow requests (answered in more than 300 ms).
name: web-canary-gateway
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
    minRequests: 30
    shareTolerance: 0.6
  - name: slow
    description: requests slower than 300 ms, the canary's version against the stable one's
    canary:
      errors: >-
        sum(http_request_duration_seconds_count{app="web",version="${version}"})
        - sum(http_request_duration_seconds_bucket{app="web",version="${version}",le="0.3"})
      requests: sum(http_request_duration_seconds_count{app="web",version="${version}"})
    stable:
      errors: >-
        sum(http_request_duration_seconds_count{app="web",version="${baseline_version}"})
        - sum(http_request_duration_seconds_bucket{app="web",version="${baseline_version}",
        le="0.3"})
      requests: sum(http_request_duration_seconds_count{app="web",version="${baseline_version}"})
    alpha: 0.01
    minRequests: 30
    shareTolerance: 0.6
"""
"""The gateway story's gate: the bad version (450 ms) is found by its slow answers
within seconds of its first step, however few requests a loaded machine sends; the
pass of a good step needs 30 requests per arm in 15 s (a 25% step: 8 rps in all). The
share check starts at 30 requests in all, where a 25% step's count is noisy (and the
slow canary's answers lag): 10% to 40% is accepted there; the story itself checks the
shares closely (:data:`GATEWAY_SHARE_TOLERANCE`, :data:`GATE_SHARE_TOLERANCE`)."""


@dataclass
class Story(strategy_demo.Story):
    transport_failures: int = 0
    """Failed requests the routing caused (no answer, 502/503), not a version's 500s."""
    failures_by_outcome: dict[str, int] = field(default_factory=dict)
    traffic: str = "replicas"
    shares: list[dict[str, Any]] = field(default_factory=list)
    """Per gated step: the canary's intended, Gateway-sent and gate-observed shares."""

    @property
    def detection_seconds(self) -> float | None:
        return self.figure("detection_seconds")

    def as_report(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "strategy": "canary",
            "traffic": self.traffic,
            "problems": self.problems,
            "failed_requests": self.failed_requests,
            "requests": self.requests,
            "transport_failures": self.transport_failures,
            "failures_by_outcome": self.failures_by_outcome,
            "rps": self.rps,
            "detection_seconds": self.detection_seconds,
            "final_version": self.final_version,
            "seconds": round(self.seconds, 2),
            "shares": self.shares,
            "share_tolerance": {
                "gateway": GATEWAY_SHARE_TOLERANCE,
                "gate": GATE_SHARE_TOLERANCE,
            },
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


def gateway_seed(base: Path, target: Path) -> Path:
    """A copy of the seed with ``web`` behind an HTTPRoute: one Service per colour,
    the route ``web`` weighing them 100 (blue, stable) and 0 (green, idle)."""
    canary_seed(base, target)
    folder = target / colours.FOLDER
    (folder / "service.yaml").write_text(GATEWAY_SERVICES, encoding="utf-8")
    (folder / "route.yaml").write_text(GATEWAY_ROUTE, encoding="utf-8")
    kustomization = folder / "kustomization.yaml"
    text = kustomization.read_text(encoding="utf-8")
    if "route.yaml" not in text:
        text = text.replace("  - service.yaml\n", "  - service.yaml\n  - route.yaml\n", 1)
        kustomization.write_text(text, encoding="utf-8")
    return target


GATEWAY_SERVICES = """\
# One Service per colour: the HTTPRoute "web" (route.yaml) weighs them.
""" + "---\n".join(
    f"""\
apiVersion: v1
kind: Service
metadata:
  name: web-{colour}
  labels:
    app.kubernetes.io/name: web
spec:
  selector:
    app.kubernetes.io/name: web
    color: {colour}
  ports:
    - name: http
      port: 80
      targetPort: http
"""
    for colour in ("blue", "green")
)
GATEWAY_ROUTE = """\
# The Gateway API route in front of both colours: gitops-guard canary
# --traffic gateway edits the two weights below (0..1000000, proportional).
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
  labels:
    app.kubernetes.io/name: web
spec:
  parentRefs:
    - name: public
  rules:
    - backendRefs:
        - name: web-blue
          port: 80
          weight: 100
        - name: web-green
          port: 80
          weight: 0
"""


def run_story(
    directory: str | os.PathLike[str],
    *,
    seed: Path | None = None,
    rps: float = 20.0,
    story_steps: tuple[tuple[str, str], ...] = STORY,
    traffic: str = "replicas",
    echo: Callable[[str], None] = print,
) -> Story:
    """Start a fresh canary lab under ``directory``, tell the story, stop it."""
    if traffic not in TRAFFIC:
        raise errors.InputError(
            f"traffic {traffic!r} is not one of {', '.join(TRAFFIC)}", source="--traffic"
        )
    base = Path(directory).resolve()
    root = base / "canary"
    seeding = gateway_seed if traffic == "gateway" else canary_seed
    prepared = seeding(seed or up.default_seed(), base / "canary-seed")
    front = "gateway" if traffic == "gateway" else "service"
    lab = bluegreen_demo._Lab(root, seed=prepared, rps=rps, preview_rps=1.0, front=front)
    story = Story(rps=rps, traffic=traffic)

    def tally(users: loadgen.LoadGenerator) -> None:
        story.transport_failures = sum(
            1 for _, o in users.failures if o in bluegreen_demo.TRANSPORT
        )
        story.failures_by_outcome = dict(Counter(o for _, o in users.failures))

    strategy_demo.run_lab(
        lab,
        story,
        echo,
        strategy=f"canary --traffic {traffic}",
        parts="two colours, "
        + ("a Gateway, an HTTPRoute" if traffic == "gateway" else "one Service")
        + ", stand-ins, Prometheus",
        tell=lambda: _tell(lab, story, echo, story_steps),
        good=GOOD,
        tally=tally,
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
    slo.write_text(GATEWAY_SLO if story.traffic == "gateway" else SLO, encoding="utf-8")
    strategy_demo.tell(
        lab,
        story,
        echo,
        command="canary",
        runs=story_steps,
        work=work,
        flags=[
            *("--steps", STEPS, "--traffic", story.traffic),
            *("--slo-config", str(slo), "--ready-timeout", "60s"),
        ],
        recorded=lambda step: _shares(lab, story, step),
    )


def _shares(lab: bluegreen_demo._Lab, story: Story, step: strategy_demo.Step) -> None:
    """Record each gated step's canary share: asked for, sent by the Gateway, seen by the gate."""
    assert lab.colours is not None
    door = lab.colours.proxies[colours.SERVICE]
    canary, stable = step.report.get("canary"), step.report.get("stable")
    for label in step.report.get("verdicts") or {}:
        percent = int(label.removeprefix("step-"))
        record: dict[str, Any] = {
            "run": step.name,
            "step": percent,
            "intended": percent / 100,
            "gateway": None,
            "gateway_requests": None,
            "gate": None,
            "gate_requests": None,
        }
        evidence = lab.root / "demo" / f"gate-step-{percent}.json"
        if evidence.is_file() and evidence.stat().st_mtime >= step.started_at:
            objectives = json.loads(evidence.read_text(encoding="utf-8")).get("objectives") or []
            seen = [o for o in objectives if o.get("share") is not None]
            if seen:
                most = max(seen, key=lambda o: o["canary_requests"] + o["stable_requests"])
                record["gate"] = round(float(most["share"]), 4)
                record["gate_requests"] = int(most["canary_requests"] + most["stable_requests"])
        record["gate_judged"] = step.report.get("verdicts", {}).get(label) == "pass"
        if isinstance(door, gateway.Gateway) and canary and stable:
            canary_backend = f"{colours.SERVICE}-{canary}"
            weights = {canary_backend: percent, f"{colours.SERVICE}-{stable}": 100 - percent}
            picks = door.picks(weights, since=step.started_at)
            total = sum(picks.values())
            if total:
                record["gateway"] = round(picks[canary_backend] / total, 4)
                record["gateway_requests"] = total
        story.shares.append(record)
        for key, tolerance in (
            ("gateway", GATEWAY_SHARE_TOLERANCE),
            ("gate", GATE_SHARE_TOLERANCE),
        ):
            if (key == "gateway" and story.traffic != "gateway") or (
                key == "gate" and not record["gate_judged"]
            ):
                continue  # a failed step's gate stops within seconds: too few to judge
            value = record[key]
            if value is None or abs(value - record["intended"]) > tolerance:
                story.problems.append(
                    f"{step.name} step {percent}%: the {key} share is "
                    f"{'unknown' if value is None else f'{value:.1%}'}, not within "
                    f"{tolerance:.0%} of {record['intended']:.0%}"
                )


def render(story: Story) -> str:
    """What a person reads at the end of the demo."""
    lines = ["", "canary story:", *strategy_demo.step_lines(story)]
    lines.append("")
    lines.append(
        f"user requests: {story.requests} at {story.rps:g} rps, failed {story.failed_requests} "
        f"(of which transport {story.transport_failures}; the rest are the bad version's 500s "
        "while it held its first step's share)"
    )
    lines.append(f"detection: {story.detection_seconds} s of the bad step's gate")
    for share in story.shares:
        sent = "" if share["gateway"] is None else f", the Gateway sent {share['gateway']:.1%}"
        seen = "?" if share["gate"] is None else f"{share['gate']:.1%}"
        if share["gate"] is not None and not share["gate_judged"]:
            seen += f" of {share['gate_requests']} requests, not judged (the step stopped early)"
        lines.append(
            f"  {share['run']:<24} step {share['step']:>3}%: canary share asked "
            f"{share['intended']:.0%}{sent}, the gate saw {seen}"
        )
    lines.append(f"serving at the end: {story.final_version}")
    lines.append("as expected" if story.ok else "NOT as expected: " + "; ".join(story.problems))
    return "\n".join(lines)


def write_report(story: Story, path: str | os.PathLike[str]) -> None:
    report.write_json(path, story.as_report())
