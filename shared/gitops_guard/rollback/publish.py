"""Publish a rollback commit: push it to the branch, or push a branch and open a pull request.

Both modes take a ``make_change`` callable that builds the rollback commit on the
current tip of a working copy (or says why there is nothing to do), so the same
decision is remade after every fetch:

* ``commit``: :meth:`gitops.WorkingCopy.push_with_retry` — fetch, re-apply, retry
  with jittered backoff when someone pushed first (the update-manifest loop).
* ``pull-request``: the commit is made in a throw-away worktree at the base tip,
  pushed to a stable branch (``gitops-guard/rollback-<sha12>``), and a pull request
  is opened through :mod:`gitops_guard.github`. A rerun that finds the branch
  already carrying a rollback commit pushes nothing and opens no second pull request.

``--dry-run`` builds the commit in a throw-away worktree and pushes nothing; the
user's checkout is never switched. This module must not decide what to change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from gitops_guard import errors, github, gitops
from gitops_guard.rollback import gitrepo, models


@dataclass(frozen=True)
class PublishSettings:
    """Where and how the rollback commit goes."""

    mode: Literal["commit", "pull-request"] = "commit"
    branch: str | None = None
    """The branch to push to (or the pull request's base); default: the tracked branch."""
    github_repository: str | None = None
    """``owner/name`` for the pull request; default: from the remote URL."""
    labels: tuple[str, ...] = ("rollback",)
    auto_merge: bool = False
    merge_method: github.MergeMethod = "squash"
    dry_run: bool = False
    api: github.ApiSettings | None = None
    """GitHub API settings (token); required for ``pull-request``."""


@dataclass
class Change:
    """What one attempt at the rollback commit produced."""

    sha: str | None = None
    """The new commit, or None when there is nothing to do."""
    skip_code: str = ""
    skip_reason: str = ""
    existing: str = ""
    """When skipped: the commit already on the branch that did it (a revert), if any."""
    swaps: tuple[models.ImageSwap, ...] = ()
    """Image = restored, previous = taken out."""
    method: Literal["", "revert", "images"] = ""
    files: tuple[str, ...] = ()
    quarantined: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)


MakeChange = Callable[[gitops.WorkingCopy], Change]


def resolve_branch(wc: gitops.WorkingCopy, branch: str | None) -> str:
    """The branch to work on: ``--branch``, else the tracked branch, else the current one."""
    found = branch or wc.tracked_branch() or wc.current_branch()
    if not found:
        raise errors.InputError(
            f"{wc.root} is on a detached HEAD and no branch was given",
            source="--branch",
            hint="Pass --branch (e.g. main), or check the branch out.",
        )
    return found


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


def _skip_text(change: Change) -> str:
    return f"{change.skip_code}: {change.skip_reason}" if change.skip_code else change.skip_reason


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
    branch = resolve_branch(wc, settings.branch)
    tip = gitrepo.sync_to_remote(wc, branch)
    if settings.dry_run:
        with gitrepo.worktree(wc, tip) as tree:
            change = make_change(tree)
        if change.sha is None:
            return _result(change, target=target, status="skipped", reason=_skip_text(change))
        change.notes.append(f"dry run: nothing was pushed (would go to {settings.mode})")
        return _result(change, target=target, status="dry-run")
    if settings.mode == "commit":
        return _publish_commit(wc, make_change, branch=branch, tip=tip, target=target)
    return _publish_pull_request(
        wc,
        make_change,
        settings,
        base=branch,
        tip=tip,
        target=target,
        head_branch=head_branch,
        title=title,
        body=body,
    )


def _publish_commit(
    wc: gitops.WorkingCopy, make_change: MakeChange, *, branch: str, tip: str, target: str
) -> models.RollbackResult:
    """Commit and push from a worktree at the tip, so the user's checkout never holds a
    half-made rollback (or has its own uncommitted edits swept into it); the checkout is
    fast-forwarded to the result afterwards when it can be."""
    last: list[Change] = []

    def mutate(w: gitops.WorkingCopy) -> str | None:
        change = make_change(w)
        last.append(change)
        return change.sha

    with gitrepo.worktree(wc, tip) as tree:
        sha, attempts = tree.push_with_retry(mutate, branch=branch)
    change = last[-1]
    if sha is None:
        return _result(change, target=target, status="skipped", reason=_skip_text(change))
    if attempts > 1:
        change.notes.append(f"pushed after {attempts} attempts (others pushed first)")
    try:
        gitrepo.sync_to_remote(wc, branch)
    except errors.GitopsGuardError as exc:
        change.notes.append(f"the checkout was not moved to the rollback commit: {exc.message}")
    return _result(change, target=target, status="rolled-back")


def _remote_branch_tip(wc: gitops.WorkingCopy, branch: str) -> str | None:
    """The remote tip of ``branch``, or None when the remote has no such branch."""
    try:
        return wc.fetch(branch)
    except (errors.InputError, errors.Undecided):
        raise
    except errors.GitopsGuardError:
        return None  # "couldn't find remote ref": the branch does not exist yet


def _publish_pull_request(
    wc: gitops.WorkingCopy,
    make_change: MakeChange,
    settings: PublishSettings,
    *,
    base: str,
    tip: str,
    target: str,
    head_branch: str,
    title: Callable[[Change], str],
    body: Callable[[Change], str],
) -> models.RollbackResult:
    if settings.api is None:
        raise errors.ConfigError(
            "--mode pull-request needs a GitHub token",
            source="GITHUB_TOKEN",
            hint="Set GITOPS_TOKEN (a GitHub App or fine-grained token, so the pull request "
            "triggers CI) or GITHUB_TOKEN with pull-requests: write.",
        )
    repository = settings.github_repository or github.repository_from_remote(wc.remote_url())
    if not repository:
        raise errors.InputError(
            f"cannot tell the GitHub repository from the remote {wc.where}",
            source="--github-repository",
            hint="Pass --github-repository OWNER/NAME.",
        )
    with gitrepo.worktree(wc, tip) as tree:
        change = make_change(tree)
        if change.sha is None:
            return _result(change, target=target, status="skipped", reason=_skip_text(change))
        existing = _remote_branch_tip(wc, head_branch)
        proposed = existing is not None and any(
            c.is_rollback for c in gitrepo.log(wc, f"{tip}..{existing}")
        )
        if not proposed:
            pushed = tree.push(head_branch, force=True)
            if not pushed.ok:
                raise errors.DependencyUnavailable(
                    f"the push of {head_branch} to {wc.where} was rejected: {pushed.detail}",
                    hint="Rerun the job.",
                )
    spec = github.PullRequestSpec(
        repository=repository,
        head=head_branch,
        base=base,
        title=title(change),
        body=body(change),
        labels=settings.labels,
        auto_merge=settings.auto_merge,
        merge_method=settings.merge_method,
    )
    pull = github.open_or_update_pull_request(spec, settings=settings.api)
    change.notes += list(pull.warnings)
    if pull.auto_merge:
        change.notes.append("auto-merge is enabled on the pull request")
    if proposed and not pull.created:
        change.sha = existing
        return _result(
            change,
            target=target,
            status="skipped",
            url=pull.url,
            reason=f"pull-request-open: a rollback pull request is already open: {pull.url}",
        )
    if proposed:
        change.sha = existing
    return _result(change, target=target, status="pull-request", url=pull.url)
