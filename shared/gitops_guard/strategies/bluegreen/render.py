"""Blue-green's words: commit messages with trailers, parsed history, the job summary.

Every commit carries ``Gitops-Guard-Action: blue-green-prepare|switch|switch-back|
scale-down`` and the service, colours and images, so history, rollback and metrics
read the story from Git alone. Data in, text out: this module must not run git.
"""

from __future__ import annotations

from collections.abc import Sequence

from gitops_guard import trailers
from gitops_guard.strategies import render as words
from gitops_guard.strategies.bluegreen import models

ACTION_PREPARE = trailers.Action.BLUE_GREEN_PREPARE.value
ACTION_SWITCH = trailers.Action.BLUE_GREEN_SWITCH.value
ACTION_SWITCH_BACK = trailers.Action.BLUE_GREEN_SWITCH_BACK.value
ACTION_SCALE_DOWN = trailers.Action.BLUE_GREEN_SCALE_DOWN.value
ACTIONS = (ACTION_PREPARE, ACTION_SWITCH, ACTION_SWITCH_BACK, ACTION_SCALE_DOWN)

LOG_FORMAT = words.LOG_FORMAT
"""``git log --format`` whose output :func:`parse_history` reads."""


def _common(service: str, run_url: str) -> list[tuple[str, str]]:
    out = [(trailers.SERVICE, service)]
    if run_url:
        out.append((trailers.RUN, run_url))
    return out


def prepare_message(
    *,
    service: str,
    idle: str,
    live: str,
    image: str,
    live_image: str,
    replicas: int,
    preview: str = "",
    run_url: str = "",
) -> str:
    body = (
        f"Prepare the idle colour {idle} of {service}: image {image}, {replicas} replicas"
        + (f", preview Service {preview} on {idle}" if preview else "")
        + f". The live colour {live} keeps serving {live_image}.\n\n"
        "Set by gitops-guard blue-green; no user traffic reaches it before the switch."
    )
    return words.message(
        f"blue-green: prepare {service} {idle} with {image}",
        body,
        [
            (trailers.ACTION, ACTION_PREPARE),
            *_common(service, run_url),
            *words.colour_pairs(idle, live, image, live_image),
            (trailers.REPLICAS, str(replicas)),
        ],
    )


def switch_message(
    *,
    service: str,
    active: str,
    new: str,
    old: str,
    image: str,
    old_image: str,
    verdict: str = "",
    run_url: str = "",
    unverified: Sequence[str] = (),
) -> str:
    """``unverified``: the checks the user opted out of (``gates``, ``readiness``)."""
    body = (
        f"Switch Service {active} from {old} ({old_image}) to {new} ({image}).\n\n"
        "Only the selector's colour changes; the old colour stays warm for a switch-back."
        + (f"\n\nPreview gate: {verdict}." if verdict else "")
        + "".join(f"\n\nNot verified: {UNVERIFIED_TEXT[u]}." for u in unverified)
    )
    return words.message(
        f"blue-green: switch {service} to {new} ({image})",
        body,
        [
            (trailers.ACTION, ACTION_SWITCH),
            *_common(service, run_url),
            *words.colour_pairs(new, old, image, old_image),
            (trailers.VERDICT, verdict),
            *[(trailers.UNVERIFIED, u) for u in unverified],
        ],
    )


UNVERIFIED_TEXT = {
    "gates": "the SLO gates were skipped (--skip-gates)",
    "readiness": "readiness on the traffic path was not checked (--readiness argocd-only)",
}
"""The opt-outs as the switch commit's body and the warnings name them."""


def switch_back_message(
    *,
    service: str,
    active: str,
    back_to: str,
    leaving: str,
    image: str,
    bad_image: str,
    reverts: str,
    verdict: str,
    reason: str,
    run_url: str = "",
    evidence: str = "",
) -> str:
    """``evidence``: the gate's failing objectives as a Markdown table, when known."""
    body = (
        f"Switch Service {active} back from {leaving} ({bad_image}) to {back_to} ({image}).\n\n"
        f"Post-switch gate: {verdict}: {reason}"
        + (f"\n\n{evidence.strip()}" if evidence.strip() else "")
        + (f"\n\nThis reverts commit {reverts}." if reverts else "")
    )
    return words.message(
        f"blue-green: switch {service} back to {back_to} ({image})",
        body,
        [
            (trailers.ACTION, ACTION_SWITCH_BACK),
            *_common(service, run_url),
            *words.colour_pairs(back_to, leaving, image, bad_image),
            (trailers.REVERTS, reverts),
            (trailers.VERDICT, verdict),
        ],
    )


def scale_down_message(
    *, service: str, colour: str, live: str, image: str, run_url: str = ""
) -> str:
    return words.message(
        f"blue-green: scale down {service} {colour}",
        f"The live colour {live} serves {image}; the old colour {colour} goes to 0 replicas.",
        [
            (trailers.ACTION, ACTION_SCALE_DOWN),
            *_common(service, run_url),
            (trailers.COLOR, colour),
            (trailers.IMAGE, image),
            (trailers.REPLICAS, "0"),
        ],
    )


def parse_history(text: str, *, service: str) -> list[models.HistoryEntry]:
    """Blue-green commits of ``service`` from ``git log --format=LOG_FORMAT``, newest first."""
    return [
        models.HistoryEntry(
            sha=sha,
            action=action,
            colour=found.get(trailers.COLOR),
            image=found.get(trailers.IMAGE),
            previous_image=found.get(trailers.PREVIOUS_IMAGE),
            reverts=found.get(trailers.REVERTS),
        )
        for sha, action, found in words.history_records(text, service=service, actions=ACTIONS)
    ]


def summary_markdown(result: models.Result) -> str:
    """The job summary: the outcome, then a timeline with both colours side by side."""
    head = {
        "promoted": f"### blue-green `{result.service}`: promoted {result.image} on "
        f"{result.live_after}",
        "in-place": f"### blue-green `{result.service}`: already in place on {result.live_after}",
        "rejected": f"### blue-green `{result.service}`: rejected before the switch; "
        f"{result.live_after} keeps serving",
        "switched-back": f"### blue-green `{result.service}`: switched back to {result.live_after}",
        "switched-back-inconclusive": f"### blue-green `{result.service}`: switched back to "
        f"{result.live_after} (the post-switch gate could not decide)",
        "undecided": f"### blue-green `{result.service}`: could not decide; live colour "
        f"{result.live_after or result.live_before}",
    }[result.outcome]
    colours = sorted({c for e in result.timeline for c in e.figures})
    table = words.timeline_table(result.timeline, colours)
    figures = []
    if result.switch_seconds is not None:
        figures.append(f"switch {result.switch_seconds:.1f} s")
    if result.switch_back_seconds is not None:
        figures.append(f"switch-back {result.switch_back_seconds:.1f} s")
    parts = [head, result.reason, table]
    if figures:
        parts.append("Figures: " + ", ".join(figures) + ".")
    return "\n\n".join(p for p in parts if p)
