"""What update-manifest is asked to do and what it did: frozen values, no I/O.

:class:`UpdateResult` knows how to present itself as the action's outputs and as
the JSON report. This module must not run git, talk to GitHub or read the runner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from gitops_guard import images
from gitops_guard.promote import render

if TYPE_CHECKING:  # pragma: no cover
    from gitops_guard import github


class Change(Protocol):
    """What the flow reads from a planned image change (``manifests.ImageChange``)."""

    @property
    def file(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def old(self) -> str: ...
    @property
    def new(self) -> str: ...
    @property
    def target(self) -> str: ...


@dataclass(frozen=True)
class UpdateRequest:
    """What to set, where, and how far to take it (commit, push, pull request)."""

    images: tuple[images.ImageRef, ...]
    paths: tuple[str, ...] = ()
    """Only these files or folders (relative to the root); all YAML files when empty."""
    helm: tuple[str, ...] = ()
    """Helm values specs ``FILE:REPO_KEY[:TAG_KEY]``."""
    commit: bool = False
    push: bool = False
    pull_request: bool = False
    dry_run: bool = False
    branch: str | None = None
    """Push target (default: the tracked branch), or the pull request's head branch."""
    base: str | None = None
    """The pull request's base branch (default: the tracked branch)."""
    message: str | None = None
    """A subject line that replaces the generated one; the body and trailers stay."""
    labels: tuple[str, ...] = ()
    auto_merge: bool = False
    merge_method: github.MergeMethod = "squash"
    force: bool = False
    """Promote even a quarantined image."""
    run_url: str | None = None
    exemption: str = ""
    """An error-budget exemption the deploy goes out under (``Gitops-Guard-Exemption``)."""
    """The workflow run, written as a trailer and linked from the PR body."""

    @property
    def commits(self) -> bool:
        return self.commit or self.push or self.pull_request


@dataclass(frozen=True)
class UpdateResult:
    """What happened; the CLI turns it into outputs, a report and a summary."""

    changed: bool
    """Files were changed (with dry_run: would be changed)."""
    dry_run: bool = False
    commit_sha: str | None = None
    changed_files: tuple[str, ...] = ()
    changes: tuple[Change, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    branch: str | None = None
    """The branch that was pushed (the PR's head branch with a pull request)."""
    pushed: bool = False
    push_attempts: int = 0
    pull_request_url: str | None = None
    pull_request_created: bool | None = None
    auto_merge: bool | None = None
    quarantine_overridden: tuple[str, ...] = ()
    diff: str = ""
    warnings: tuple[str, ...] = field(default=())

    def previous_images(self) -> list[dict[str, str]]:
        """One ``{"image", "previous"}`` pair per changed image (as in the trailers)."""
        return [{"image": new, "previous": old} for old, new in render.image_pairs(self.changes)]

    def outputs(self) -> dict[str, Any]:
        """The action's outputs."""
        return {
            "changed": self.changed,
            "commit-sha": self.commit_sha or "",
            "changed-files": list(self.changed_files),
            "previous-images": self.previous_images(),
            "pull-request-url": self.pull_request_url or "",
        }

    def to_report(self) -> dict[str, Any]:
        """The JSON report: the outputs plus the change table and what was done."""
        return {
            "action": render.ACTION,
            "changed": self.changed,
            "dry_run": self.dry_run,
            "commit_sha": self.commit_sha,
            "changed_files": list(self.changed_files),
            "previous_images": self.previous_images(),
            "pull_request_url": self.pull_request_url,
            "pull_request_created": self.pull_request_created,
            "auto_merge": self.auto_merge,
            "branch": self.branch,
            "pushed": self.pushed,
            "push_attempts": self.push_attempts,
            "quarantine_overridden": list(self.quarantine_overridden),
            "changes": [
                {
                    "file": c.file,
                    "line": c.line,
                    "kind": c.kind,
                    "target": c.target,
                    "old": c.old,
                    "new": c.new,
                }
                for c in self.changes
            ],
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "warnings": list(self.warnings),
        }
