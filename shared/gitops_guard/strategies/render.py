"""The words blue-green and canary share: trailer messages, history records, the timeline.

Both strategies write one commit per step with ``Gitops-Guard-*`` trailers and read
their own story back from ``git log``; both end in a job summary whose timeline has
the same columns. Data in, text out: this module must not run git.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from gitops_guard import report, trailers
from gitops_guard.strategies.bluegreen import models

LOG_FORMAT = "%H%x1f%B%x1e"
"""``git log --format`` whose output :func:`history_records` reads."""

ICONS = {
    "done": "✅",
    "pass": "✅",
    "warn": "⚠️",
    "skipped": "⏭️",
    "fail": "❌",
    "inconclusive": "❔",
    "timed-out": "⏱️",
    "error": "❔",
}
"""A timeline outcome's icon in the job summary."""


def message(subject: str, body: str, pairs: Sequence[tuple[str, str]]) -> str:
    """Subject, body and the trailers whose value is not empty."""
    return trailers.append(f"{subject}\n\n{body}", [(k, v) for k, v in pairs if v])


def colour_pairs(
    colour: str, previous_colour: str, image: str, previous_image: str
) -> list[tuple[str, str]]:
    """The trailers of a move from one colour (and image) to the other."""
    return [
        (trailers.COLOR, colour),
        (trailers.PREVIOUS_COLOR, previous_colour),
        (trailers.IMAGE, image),
        (trailers.PREVIOUS_IMAGE, previous_image),
    ]


def history_records(
    text: str, *, service: str, actions: Sequence[str]
) -> Iterator[tuple[str, str, trailers.Trailers]]:
    """``(sha, action, trailers)`` of ``service``'s commits with one of ``actions``.

    ``text`` is ``git log --format=LOG_FORMAT`` output; the order is git's (newest first).
    """
    for record in text.split("\x1e"):
        sha, _, body = record.strip("\n").partition("\x1f")
        if not sha.strip():
            continue
        found = trailers.parse(body)
        action = found.get(trailers.ACTION)
        if action not in actions or found.get(trailers.SERVICE) != service:
            continue
        yield sha.strip(), action, found


def timeline_table(events: Iterable[models.Event], colours: Sequence[str] = ()) -> str:
    """The timeline as a Markdown table, with a column of figures per colour given."""
    rows = [
        (
            event.step,
            f"{ICONS.get(event.outcome, '')} {event.outcome}",
            f"{event.seconds:.1f} s",
            *(event.figures.get(c, "") for c in colours),
            f"`{event.commit[:12]}`" if event.commit else "",
            event.detail.replace("\n", " "),
        )
        for event in events
    ]
    return report.markdown_table(("step", "outcome", "time", *colours, "commit", "detail"), rows)
