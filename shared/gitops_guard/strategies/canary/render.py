"""The canary's words: commit messages with trailers, the parsed history, the job summary.

Every commit carries ``Gitops-Guard-Action: canary-step|canary-promote|canary-abort``,
the service, both colours and images, and for a step its share
(``Gitops-Guard-Step: 25%``), so a rerun reads where it stands from Git alone.
Data in, text out: this module must not run git.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gitops_guard import trailers
from gitops_guard.strategies import render as words
from gitops_guard.strategies.bluegreen import models as bg_models
from gitops_guard.strategies.canary import plan

ACTION_STEP = trailers.Action.CANARY_STEP.value
ACTION_PROMOTE = trailers.Action.CANARY_PROMOTE.value
ACTION_ABORT = trailers.Action.CANARY_ABORT.value
ACTIONS = (ACTION_STEP, ACTION_PROMOTE, ACTION_ABORT)

LOG_FORMAT = words.LOG_FORMAT
"""``git log --format`` whose output :func:`parse_history` reads."""


def step_message(
    *,
    service: str,
    canary: str,
    stable: str,
    image: str,
    stable_image: str,
    step: int,
    canary_replicas: int,
    stable_replicas: int,
    verdict: str = "",
    run_url: str = "",
    exemption: str = "",
) -> str:
    """A step commit; step 100 is the promotion (the old colour goes to 0)."""
    action = ACTION_PROMOTE if step == 100 else ACTION_STEP
    if step == 100:
        subject = f"canary: promote {service} {canary} ({image})"
        body = (
            f"{canary} ({image}) takes all traffic with {canary_replicas} replicas and becomes "
            f"the stable colour; {stable} ({stable_image}) goes to {stable_replicas} replicas."
        )
    else:
        subject = f"canary: {service} {canary} at {step}% ({image})"
        body = (
            f"Move {step}% of {service}'s traffic to {canary} ({image}): {canary_replicas} "
            f"replicas against {stable_replicas} of {stable} ({stable_image})."
        )
    if verdict:
        body += f"\n\nThe previous step's gate: {verdict}."
    return words.message(
        subject,
        body,
        [
            (trailers.ACTION, action),
            (trailers.SERVICE, service),
            *words.colour_pairs(canary, stable, image, stable_image),
            (trailers.STEP, f"{step}%"),
            (trailers.REPLICAS, str(canary_replicas)),
            (trailers.VERDICT, verdict),
            (trailers.EXEMPTION, " ".join(exemption.split())),
            (trailers.RUN, run_url),
        ],
    )


def abort_message(
    *,
    service: str,
    canary: str,
    stable: str,
    image: str,
    stable_image: str,
    step: int,
    reverts: Sequence[str],
    verdict: str,
    reason: str,
    evidence: str = "",
    run_url: str = "",
) -> str:
    """The one commit that reverts every step commit of a canary."""
    body = (
        f"Abort the canary of {image} on {canary} at {step}%: {verdict}: {reason}\n\n"
        f"{stable} ({stable_image}) takes all traffic again."
        + (
            "\n\nThis reverts commits " + ", ".join(reverts) + "."
            if reverts
            else "\n\nThe step commits did not revert cleanly; the replicas were set back."
        )
        + (f"\n\nEvidence:\n{evidence}" if evidence else "")
    )
    return words.message(
        f"canary: abort {service} {canary} ({image})",
        body,
        [
            (trailers.ACTION, ACTION_ABORT),
            (trailers.SERVICE, service),
            *words.colour_pairs(canary, stable, image, stable_image),
            (trailers.STEP, f"{step}%"),
            *((trailers.REVERTS, sha) for sha in reverts),
            (trailers.VERDICT, verdict),
            (trailers.RUN, run_url),
        ],
    )


def parse_history(text: str, *, service: str) -> list[plan.HistoryEntry]:
    """Canary commits of ``service`` from ``git log --format=LOG_FORMAT``, newest first."""
    return [
        plan.HistoryEntry(
            sha=sha,
            action=action,
            colour=found.get(trailers.COLOR),
            image=found.get(trailers.IMAGE),
            step=found.get(trailers.STEP),
            reverts=found.all(trailers.REVERTS),
        )
        for sha, action, found in words.history_records(text, service=service, actions=ACTIONS)
    ]


@dataclass
class Result:
    """What one ``canary`` run did; the CLI turns it into outputs and an exit code."""

    service: str
    image: str
    traffic: str
    stable: str = ""
    canary: str = ""
    outcome: str = "undecided"
    """promoted, in-place, rejected, aborted, aborted-inconclusive, undecided."""
    reason: str = ""
    steps: list[int] = field(default_factory=list)
    """The steps this run took (committed), in order."""
    commits: dict[str, str] = field(default_factory=dict)
    """step-5/step-25/.../promote/abort -> sha."""
    verdicts: dict[str, str] = field(default_factory=dict)
    """step-5 -> pass|warn|fail|inconclusive."""
    detection_seconds: float | None = None
    """From the failing step's commit to its ``fail`` verdict."""
    abort_seconds: float | None = None
    """From the verdict to the abort commit applied."""
    timeline: list[bg_models.Event] = field(default_factory=list)


def summary_markdown(result: Result) -> str:
    """The job summary: the outcome, then the timeline of steps and gates."""
    head = f"### canary `{result.service}`: {result.outcome} ({result.image})"
    table = words.timeline_table(result.timeline)
    return "\n\n".join(p for p in (head, result.reason, table) if p)
