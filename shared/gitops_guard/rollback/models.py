"""Rollback's data: commits as their trailers describe them, decisions and results.

Frozen values only. This module must not run git, read files or talk to servers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NewType

from gitops_guard import trailers

CommitSha = NewType("CommitSha", str)

# The vocabulary lives in gitops_guard.trailers; these names stay for rollback's callers.
ACTION_DEPLOY = trailers.Action.DEPLOY.value
ACTION_ROLLBACK = trailers.Action.ROLLBACK.value

TRAILER_ACTION = trailers.ACTION
TRAILER_IMAGE = trailers.IMAGE
TRAILER_PREVIOUS = trailers.PREVIOUS_IMAGE
TRAILER_REVERTS = trailers.REVERTS
TRAILER_RULE = trailers.RULE


@dataclass(frozen=True)
class ImageSwap:
    """One image change a commit made: ``previous`` was replaced by ``image``."""

    image: str
    previous: str


@dataclass(frozen=True)
class CommitRecord:
    """One commit of the GitOps repository, as rollback reads it from ``git log``."""

    sha: CommitSha
    timestamp: int
    """Committer time, seconds since the epoch."""
    subject: str
    action: str = ""
    """``update-manifest``, ``rollback``, or empty for a commit gitops-guard did not make."""
    swaps: tuple[ImageSwap, ...] = ()
    """Image trailers paired with Previous-Image trailers, in order."""
    reverts: tuple[str, ...] = ()
    """Commits this one reverts: Gitops-Guard-Reverts trailers and git's own
    ``This reverts commit <sha>.`` lines."""
    rule: str = ""
    """The watch rule that caused this rollback, if any."""

    @property
    def is_deploy(self) -> bool:
        """A commit written by update-manifest."""
        return trailers.kind_of(self.action) is trailers.Action.DEPLOY

    @property
    def is_rollback(self) -> bool:
        """A commit written by rollback."""
        return trailers.kind_of(self.action) is trailers.Action.ROLLBACK

    @property
    def images(self) -> tuple[str, ...]:
        """The images this commit brought in."""
        return tuple(s.image for s in self.swaps)

    def reverts_commit(self, sha: str) -> bool:
        """True when this commit reverts ``sha`` (full or abbreviated)."""
        return any(_same_sha(r, sha) for r in self.reverts)


def _same_sha(a: str, b: str) -> bool:
    a, b = a.strip().lower(), b.strip().lower()
    if len(a) < 7 or len(b) < 7:
        return a == b
    return a.startswith(b) or b.startswith(a)


@dataclass(frozen=True)
class RevertDecision:
    """Whether to revert a deploy commit, and why not when not."""

    revert: bool
    code: Literal["", "already-reverted", "superseded", "nothing-to-revert"] = ""
    """Why not (empty when ``revert``): also the ``skipped-reason`` output's first word."""
    reason: str = ""
    """One human sentence."""
    by: str = ""
    """The commit that already reverted or superseded it."""


@dataclass(frozen=True)
class PreviousChoice:
    """The image ``rollback to --previous`` goes back to, for one repository."""

    current: str
    chosen: str
    skipped: tuple[tuple[str, str], ...] = ()
    """Candidates passed over, each with the reason (quarantined, rolled back)."""


@dataclass(frozen=True)
class RollbackResult:
    """What a rollback did; becomes the command's outputs, report and summary."""

    status: Literal["rolled-back", "pull-request", "skipped", "dry-run"]
    target: str = ""
    """The deploy commit reverted (empty for ``rollback to``)."""
    rollback_sha: str = ""
    pull_request_url: str = ""
    rolled_back_to: tuple[str, ...] = ()
    """The images production goes back to."""
    removed: tuple[str, ...] = ()
    """The images taken out."""
    skipped_reason: str = ""
    method: Literal["", "revert", "images"] = ""
    """``revert``: git revert of the deploy commit; ``images``: the images were set back
    through the manifest edit engine (fallback when the revert conflicts, and ``to``)."""
    quarantined: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def outputs(self) -> dict[str, str]:
        """The action outputs (never a secret: only shas, URLs and image references)."""
        return {
            "rollback-sha": self.rollback_sha,
            "pull-request-url": self.pull_request_url,
            "rolled-back-to": "\n".join(self.rolled_back_to),
            "skipped-reason": self.skipped_reason,
        }

    def as_dict(self) -> dict[str, object]:
        """The JSON report."""
        return {
            "status": self.status,
            "target": self.target,
            "rollback_sha": self.rollback_sha,
            "pull_request_url": self.pull_request_url,
            "rolled_back_to": list(self.rolled_back_to),
            "removed": list(self.removed),
            "skipped_reason": self.skipped_reason,
            "method": self.method,
            "quarantined": list(self.quarantined),
            "files": list(self.files),
            "notes": list(self.notes),
        }
