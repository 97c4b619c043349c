"""Rollback on the one publish engine (:mod:`gitops_guard.gitops.publish`).

The engine commits and pushes (or opens a pull request) from a throw-away
worktree; this module only adds what is rollback's own: the :class:`Change`
fields a rollback reports (images swapped, method, quarantined images), the
stable head branch ``gitops-guard/rollback-<sha12>`` whose rerun is recognised
by a rollback commit already on it, and the translation of the engine's
:class:`~gitops_guard.gitops.publish.Published` into a
:class:`~gitops_guard.rollback.models.RollbackResult`.

This module must not decide what to change, and must not push by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from gitops_guard import gitops
from gitops_guard.gitops import publish as engine
from gitops_guard.rollback import gitrepo, models

PublishSettings = engine.PublishSettings
resolve_branch = engine.resolve_branch


@dataclass
class Change(engine.Change):
    """What one attempt at the rollback commit produced."""

    swaps: tuple[models.ImageSwap, ...] = ()
    """Image = restored, previous = taken out."""
    method: Literal["", "revert", "images"] = ""
    quarantined: tuple[str, ...] = ()


MakeChange = Callable[[gitops.WorkingCopy], Change]


def settings_for_rollback(settings: engine.PublishSettings) -> engine.PublishSettings:
    """Rollback pull requests are labelled ``rollback`` unless labels were given."""
    if settings.labels:
        return settings
    return engine.PublishSettings(**{**settings.__dict__, "labels": ("rollback",)})


def _result(
    change: Change,
    *,
    target: str,
    status: Literal["rolled-back", "pull-request", "skipped", "dry-run"],
    url: str = "",
    reason: str = "",
) -> models.RollbackResult:
    return models.RollbackResult(
        status=status,
        target=target,
        rollback_sha=(change.sha or change.existing) if status != "dry-run" else "",
        pull_request_url=url,
        rolled_back_to=tuple(s.image for s in change.swaps),
        removed=tuple(s.previous for s in change.swaps),
        skipped_reason=reason,
        method=change.method,
        quarantined=change.quarantined,
        files=change.files,
        notes=tuple(change.notes),
    )


def _rollback_already_proposed(wc: gitops.WorkingCopy, tip: str, existing: str, sha: str) -> bool:
    """A rerun: the head branch already carries a rollback commit on top of the base."""
    return any(c.is_rollback for c in gitrepo.log(wc, f"{tip}..{existing}"))


def publish(
    wc: gitops.WorkingCopy,
    make_change: MakeChange,
    settings: PublishSettings,
    *,
    target: str,
    head_branch: str,
    title: Callable[[Change], str],
    body: Callable[[Change], str],
) -> models.RollbackResult:
    """Make the rollback commit with ``make_change`` and publish it per ``settings``."""
    done = engine.publish(
        wc,
        make_change,
        settings_for_rollback(settings),
        pull_request=engine.PullRequestText(
            head_branch=head_branch,
            title=lambda c: title(c),  # type: ignore[arg-type]
            body=lambda c: body(c),  # type: ignore[arg-type]
        ),
        already_proposed=_rollback_already_proposed,
    )
    change = done.change
    if done.status == "skipped":
        return _result(change, target=target, status="skipped", reason=done.skip_text)
    if done.status == "dry-run":
        return _result(change, target=target, status="dry-run")
    if done.status in ("pushed", "committed"):
        return _result(change, target=target, status="rolled-back")
    url = done.pull_request.url if done.pull_request is not None else ""
    created = done.pull_request is not None and done.pull_request.created
    if done.reused:
        change.sha = done.sha
        if not created:
            return _result(
                change,
                target=target,
                status="skipped",
                url=url,
                reason=f"pull-request-open: a rollback pull request is already open: {url}",
            )
    return _result(change, target=target, status="pull-request", url=url)
