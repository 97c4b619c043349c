"""Blue-green's words: commit messages with trailers, parsed history, the job summary.

Every commit carries ``Gitops-Guard-Action: blue-green-prepare|switch|switch-back|
scale-down`` and the service, colours and images, so history, rollback and metrics
read the story from Git alone. Data in, text out: this module must not run git.
"""

from __future__ import annotations

from collections.abc import Sequence

from gitops_guard import report
from gitops_guard.rollback import models as rollback_models
from gitops_guard.strategies.bluegreen import models

TRAILER_ACTION = rollback_models.TRAILER_ACTION
TRAILER_IMAGE = rollback_models.TRAILER_IMAGE
TRAILER_PREVIOUS = rollback_models.TRAILER_PREVIOUS
TRAILER_REVERTS = rollback_models.TRAILER_REVERTS
TRAILER_RUN = "Gitops-Guard-Run"
TRAILER_SERVICE = "Gitops-Guard-Service"
TRAILER_COLOUR = "Gitops-Guard-Color"
TRAILER_PREVIOUS_COLOUR = "Gitops-Guard-Previous-Color"
TRAILER_REPLICAS = "Gitops-Guard-Replicas"
TRAILER_VERDICT = "Gitops-Guard-Verdict"

ACTION_PREPARE = "blue-green-prepare"
ACTION_SWITCH = "blue-green-switch"
ACTION_SWITCH_BACK = "blue-green-switch-back"
ACTION_SCALE_DOWN = "blue-green-scale-down"
ACTIONS = (ACTION_PREPARE, ACTION_SWITCH, ACTION_SWITCH_BACK, ACTION_SCALE_DOWN)

LOG_FORMAT = "%H%x1f%(trailers:only,unfold)%x1e"
"""``git log --format`` whose output :func:`parse_history` reads."""


def _message(subject: str, body: str, trailers: Sequence[tuple[str, str]]) -> str:
    block = "\n".join(f"{k}: {v}" for k, v in trailers if v)
    return f"{subject}\n\n{body}\n\n{block}\n"


def _common(service: str, run_url: str) -> list[tuple[str, str]]:
    out = [(TRAILER_SERVICE, service)]
    if run_url:
        out.append((TRAILER_RUN, run_url))
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
    return _message(
        f"blue-green: prepare {service} {idle} with {image}",
        body,
        [
            (TRAILER_ACTION, ACTION_PREPARE),
            *_common(service, run_url),
            (TRAILER_COLOUR, idle),
            (TRAILER_PREVIOUS_COLOUR, live),
            (TRAILER_IMAGE, image),
            (TRAILER_PREVIOUS, live_image),
            (TRAILER_REPLICAS, str(replicas)),
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
) -> str:
    body = (
        f"Switch Service {active} from {old} ({old_image}) to {new} ({image}).\n\n"
        "Only the selector's colour changes; the old colour stays warm for a switch-back."
        + (f"\n\nPreview gate: {verdict}." if verdict else "")
    )
    return _message(
        f"blue-green: switch {service} to {new} ({image})",
        body,
        [
            (TRAILER_ACTION, ACTION_SWITCH),
            *_common(service, run_url),
            (TRAILER_COLOUR, new),
            (TRAILER_PREVIOUS_COLOUR, old),
            (TRAILER_IMAGE, image),
            (TRAILER_PREVIOUS, old_image),
            (TRAILER_VERDICT, verdict),
        ],
    )


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
) -> str:
    body = (
        f"Switch Service {active} back from {leaving} ({bad_image}) to {back_to} ({image}).\n\n"
        f"Post-switch gate: {verdict}: {reason}"
        + (f"\n\nThis reverts commit {reverts}." if reverts else "")
    )
    return _message(
        f"blue-green: switch {service} back to {back_to} ({image})",
        body,
        [
            (TRAILER_ACTION, ACTION_SWITCH_BACK),
            *_common(service, run_url),
            (TRAILER_COLOUR, back_to),
            (TRAILER_PREVIOUS_COLOUR, leaving),
            (TRAILER_IMAGE, image),
            (TRAILER_PREVIOUS, bad_image),
            (TRAILER_REVERTS, reverts),
            (TRAILER_VERDICT, verdict),
        ],
    )


def scale_down_message(
    *, service: str, colour: str, live: str, image: str, run_url: str = ""
) -> str:
    return _message(
        f"blue-green: scale down {service} {colour}",
        f"The live colour {live} serves {image}; the old colour {colour} goes to 0 replicas.",
        [
            (TRAILER_ACTION, ACTION_SCALE_DOWN),
            *_common(service, run_url),
            (TRAILER_COLOUR, colour),
            (TRAILER_IMAGE, image),
            (TRAILER_REPLICAS, "0"),
        ],
    )


def parse_history(text: str, *, service: str) -> list[models.HistoryEntry]:
    """Blue-green commits of ``service`` from ``git log --format=LOG_FORMAT``, newest first."""
    out: list[models.HistoryEntry] = []
    for record in text.split("\x1e"):
        sha, _, block = record.strip("\n").partition("\x1f")
        if not sha.strip():
            continue
        trailers: dict[str, str] = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip() not in trailers:
                trailers[key.strip()] = value.strip()
        action = trailers.get(TRAILER_ACTION, "")
        if action not in ACTIONS or trailers.get(TRAILER_SERVICE) != service:
            continue
        out.append(
            models.HistoryEntry(
                sha=sha.strip(),
                action=action,
                colour=trailers.get(TRAILER_COLOUR, ""),
                image=trailers.get(TRAILER_IMAGE, ""),
                previous_image=trailers.get(TRAILER_PREVIOUS, ""),
                reverts=trailers.get(TRAILER_REVERTS, ""),
            )
        )
    return out


_ICONS = {
    "done": "✅",
    "pass": "✅",
    "warn": "⚠️",
    "skipped": "⏭️",
    "fail": "❌",
    "inconclusive": "❔",
    "timed-out": "⏱️",
    "error": "❔",
}


def summary_markdown(result: models.Result) -> str:
    """The job summary: the outcome, then a timeline with both colours side by side."""
    head = {
        "promoted": f"### blue-green `{result.service}`: promoted {result.image} on "
        f"{result.live_after}",
        "in-place": f"### blue-green `{result.service}`: already in place on {result.live_after}",
        "rejected": f"### blue-green `{result.service}`: rejected before the switch; "
        f"{result.live_after} keeps serving",
        "switched-back": f"### blue-green `{result.service}`: switched back to {result.live_after}",
        "undecided": f"### blue-green `{result.service}`: could not decide; live colour "
        f"{result.live_after or result.live_before}",
    }[result.outcome]
    colours = sorted({c for e in result.timeline for c in e.figures})
    rows = []
    for event in result.timeline:
        rows.append(
            (
                event.step,
                f"{_ICONS.get(event.outcome, '')} {event.outcome}",
                f"{event.seconds:.1f} s",
                *(event.figures.get(c, "") for c in colours),
                f"`{event.commit[:12]}`" if event.commit else "",
                event.detail.replace("\n", " "),
            )
        )
    table = report.markdown_table(("step", "outcome", "time", *colours, "commit", "detail"), rows)
    figures = []
    if result.switch_seconds is not None:
        figures.append(f"switch {result.switch_seconds:.1f} s")
    if result.switch_back_seconds is not None:
        figures.append(f"switch-back {result.switch_back_seconds:.1f} s")
    parts = [head, result.reason, table]
    if figures:
        parts.append("Figures: " + ", ".join(figures) + ".")
    return "\n\n".join(p for p in parts if p)
