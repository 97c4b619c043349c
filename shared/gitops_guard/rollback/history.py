"""Parse ``git log`` output into :class:`~gitops_guard.rollback.models.CommitRecord`.

:data:`LOG_FORMAT` is the ``--format`` the git side passes; :func:`parse_log` reads
what it prints. Trailers are read by git itself (``%(trailers:key=...)``), so
folded lines and the trailer block rules are git's, not ours.

Pure: this module must not run git.
"""

from __future__ import annotations

import re

from gitops_guard import trailers
from gitops_guard.rollback import models

_FIELD = "\x1f"
_RECORD = "\x1e"
_MULTI = "\x1d"


LOG_FORMAT = (
    "%H%x1f%ct%x1f%s%x1f"
    + "%x1f".join(
        trailers.git_format(k)
        for k in (
            trailers.ACTION,
            trailers.IMAGE,
            trailers.PREVIOUS_IMAGE,
            trailers.REVERTS,
            trailers.RULE,
        )
    )
    + "%x1f%b%x1e"
)
"""``git log --format=`` for :func:`parse_log`: sha, time, subject, five trailers, body."""

_GIT_REVERT = re.compile(r"^This reverts commit ([0-9a-fA-F]{7,64})", re.MULTILINE)


def _values(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(_MULTI) if v.strip())


def parse_log(output: str) -> list[models.CommitRecord]:
    """Parse ``git log --format=LOG_FORMAT`` output (newest first, as git prints it)."""
    records: list[models.CommitRecord] = []
    for chunk in output.split(_RECORD):
        chunk = chunk.strip("\n")
        if not chunk.strip():
            continue
        fields = chunk.split(_FIELD)
        if len(fields) < 9:
            raise ValueError(f"unexpected git log record: {chunk[:80]!r}")
        sha, ctime, subject, action, image, previous, reverts, rule = fields[:8]
        body = _FIELD.join(fields[8:])
        images, previous_images = _values(image), _values(previous)
        swaps = tuple(
            models.ImageSwap(image=new, previous=old)
            for new, old in zip(images, previous_images, strict=False)
        )
        reverted = list(_values(reverts))
        reverted += [m for m in _GIT_REVERT.findall(body) if m not in reverted]
        actions = _values(action)
        records.append(
            models.CommitRecord(
                sha=models.CommitSha(sha.strip()),
                timestamp=int(ctime.strip() or 0),
                subject=subject,
                action=actions[-1] if actions else "",
                swaps=swaps,
                reverts=tuple(reverted),
                rule=(_values(rule) or ("",))[-1],
            )
        )
    return records
