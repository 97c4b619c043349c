"""The one publish engine: every Git write of gitops-guard goes through :func:`publish`.

A caller says *what* to change with a ``make_change(worktree) -> Change`` callable
that edits files in the working copy it is given and commits them (or returns a
:class:`Change` without ``sha`` saying why there is nothing to do). The engine says
*where* and *how*, from :class:`PublishSettings`:

* ``mode="commit"``: in a throw-away worktree at the branch's remote tip, commit
  and push; when someone pushed first, fetch, call ``make_change`` again on the new
  tip and retry with jittered backoff (:meth:`WorkingCopy.push_with_retry`): the
  change is recomputed, never merged as text. The user's checkout is then
  fast-forwarded to the result when it can be (never switched, never reset over
  uncommitted edits). With ``push=False`` the commit is made in the user's checkout
  itself and nothing is pushed (``update-manifest --commit``).
* ``mode="pull-request"``: the commit is made in a throw-away worktree at the
  base's tip, pushed to ``head_branch`` and a pull request opened or updated
  through :mod:`gitops_guard.github`. A rerun whose head branch already carries
  the same change (``already_proposed``, default: same tree and parents) pushes
  nothing and updates the existing pull request.
* ``dry_run``: ``make_change`` runs in a throw-away worktree, nothing is pushed.

In every mode the user's checkout stays on its branch: the worktree is where the
work happens. blue-green and canary publish through this module too.

This module must not decide what to change (that is ``make_change``'s business)
nor parse flags or write runner output.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Generic, Literal, TypeVar

from gitops_guard import actions, errors
from gitops_guard.gitops.working_copy import WorkingCopy

if TYPE_CHECKING:  # pragma: no cover
    from gitops_guard import github

Mode = Literal["commit", "pull-request"]
MergeMethod = Literal["merge", "squash", "rebase"]


@dataclass(frozen=True)
class PublishSettings:
    """Where and how a change goes."""

    mode: Mode = "commit"
    branch: str | None = None
    """The branch to push to, or the pull request's base; default: the tracked branch."""
    push: bool = True
    """``commit`` mode only: False commits in the user's checkout and pushes nothing."""
    github_repository: str | None = None
    """``owner/name`` for the pull request; default: from the remote URL."""
    labels: tuple[str, ...] = ()
    auto_merge: bool = False
    merge_method: MergeMethod = "squash"
    dry_run: bool = False
    api: github.ApiSettings | None = None
    """GitHub API settings (token); required for ``pull-request`` unless ``dry_run``."""


@dataclass
class Change:
    """What one attempt of ``make_change`` produced."""

    sha: str | None = None
    """The new commit, or None when there is nothing to do."""
    skip_code: str = ""
    skip_reason: str = ""
    existing: str = ""
    """When skipped: the commit already on the branch that did it, if any."""
    files: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)


C = TypeVar("C", bound=Change)
MakeChange = Callable[[WorkingCopy], C]
AlreadyProposed = Callable[[WorkingCopy, str, str, str], bool]
"""``(wc, base_tip, existing_head, new_sha) -> bool``: the head branch already holds it."""


@dataclass(frozen=True)
class PullRequestText:
    """The pull request of a change: its head branch, title and body."""

    head_branch: str
    title: Callable[[Change], str]
    body: Callable[[Change], str]


@dataclass
class Published(Generic[C]):
    """How a publish ended."""

    status: Literal["pushed", "committed", "pull-request", "skipped", "dry-run"]
    change: C
    branch: str
    """The branch pushed to, or the pull request's base."""
    sha: str = ""
    """The commit that carries the change (pushed, committed or proposed)."""
    attempts: int = 0
    """Pushes tried (1 when the first one landed); 0 when nothing was pushed."""
    pull_request: github.PullRequestResult | None = None
    reused: bool = False
    """Pull request mode: the head branch already had the change; nothing was pushed."""

    @property
    def skip_text(self) -> str:
        c = self.change
        return f"{c.skip_code}: {c.skip_reason}" if c.skip_code else c.skip_reason


# ---------------------------------------------------------------- helpers
def resolve_branch(wc: WorkingCopy, branch: str | None) -> str:
    """The branch to work on: ``branch``, else the tracked branch, else the current one."""
    found = branch or wc.tracked_branch() or wc.current_branch()
    if not found:
        raise errors.InputError(
            f"{wc.root} is on a detached HEAD and no branch was given",
            source="--branch",
            hint="Pass --branch (e.g. main), or check the branch out.",
        )
    return found


def _is_ancestor(wc: WorkingCopy, ancestor: str, descendant: str) -> bool:
    try:
        wc.git("merge-base", "--is-ancestor", ancestor, descendant)
    except errors.GitopsGuardError:
        return False
    return True


def sync_to_remote(wc: WorkingCopy, branch: str) -> str:
    """Fetch ``branch`` and fast-forward the checkout when it is behind; returns the tip.

    Local commits that are not on the remote are kept; only a fast-forward moves HEAD.
    """
    tip = wc.fetch(branch)
    if _is_ancestor(wc, "HEAD", tip):
        wc.reset_to(tip)
    return tip


def remote_tip(wc: WorkingCopy, branch: str) -> str:
    """The remote's tip of ``branch``, fetched: where every change starts."""
    return wc.fetch(branch)


def fast_forward(wc: WorkingCopy, sha: str) -> None:
    """Move the checkout to ``sha`` when that is a fast-forward (our own commit, just
    pushed); uncommitted edits are kept, and a checkout elsewhere is left alone."""
    if wc.head() != sha and _is_ancestor(wc, "HEAD", sha):
        wc.reset_to(sha)


@contextlib.contextmanager
def worktree(wc: WorkingCopy, commit: str) -> Iterator[WorkingCopy]:
    """A detached worktree at ``commit`` sharing the repository; removed afterwards."""
    # Under $RUNNER_TEMP inside a runner: cleaned with the job, never inside the workspace.
    base = Path(tempfile.mkdtemp(prefix="gitops-guard-publish-", dir=actions.runner_temp()))
    path = base / "tree"
    wc.git("worktree", "add", "-q", "--detach", str(path), commit)
    try:
        yield WorkingCopy(root=path, remote=wc.remote, token_env=wc.token_env, policy=wc.policy)
    finally:
        with contextlib.suppress(errors.GitopsGuardError):
            wc.git("worktree", "remove", "--force", str(path))
        shutil.rmtree(base, ignore_errors=True)
        with contextlib.suppress(errors.GitopsGuardError):
            wc.git("worktree", "prune")


def _same_change(wc: WorkingCopy, tip: str, existing: str, sha: str) -> bool:
    return wc.same_change(existing, sha)


def _remote_branch_tip(wc: WorkingCopy, branch: str) -> str | None:
    """The remote tip of ``branch``, or None when the remote has no such branch."""
    return wc.remote_branch(branch)


# ---------------------------------------------------------------- the engine
def publish(
    wc: WorkingCopy,
    make_change: Callable[[WorkingCopy], C],
    settings: PublishSettings,
    *,
    pull_request: PullRequestText | None = None,
    already_proposed: AlreadyProposed | None = None,
) -> Published[C]:
    """Make the change with ``make_change`` and publish it per ``settings``."""
    branch = resolve_branch(wc, settings.branch)
    if settings.mode == "commit" and not settings.push and not settings.dry_run:
        change = make_change(wc)
        status: Literal["committed", "skipped"] = "committed" if change.sha else "skipped"
        return Published(status=status, change=change, branch=branch, sha=change.sha or "")
    # Fetch only: the user's checkout moves (a fast-forward) only after a push landed.
    tip = remote_tip(wc, branch)
    if settings.dry_run:
        with worktree(wc, tip) as tree:
            change = make_change(tree)
        if change.sha is None:
            return Published(status="skipped", change=change, branch=branch)
        change.notes.append(f"dry run: nothing was pushed (would go to {settings.mode})")
        return Published(status="dry-run", change=change, branch=branch)
    if settings.mode == "commit":
        return _publish_commit(wc, make_change, branch=branch, tip=tip)
    if pull_request is None:  # pragma: no cover (a caller's bug)
        raise errors.GitopsGuardError("pull-request mode needs the pull request's text")
    return _publish_pull_request(
        wc,
        make_change,
        settings,
        base=branch,
        tip=tip,
        text=pull_request,
        already_proposed=already_proposed or _same_change,
    )


def _publish_commit(
    wc: WorkingCopy, make_change: Callable[[WorkingCopy], C], *, branch: str, tip: str
) -> Published[C]:
    """Commit and push from a worktree at the tip, so the user's checkout never holds a
    half-made change (or has its own uncommitted edits swept into it); the checkout is
    fast-forwarded to the result afterwards when it can be."""
    last: list[C] = []

    def mutate(w: WorkingCopy) -> str | None:
        change = make_change(w)
        last.append(change)
        return change.sha

    with worktree(wc, tip) as tree:
        sha, attempts = tree.push_with_retry(mutate, branch=branch)
    change = last[-1]
    if sha is None:
        return Published(status="skipped", change=change, branch=branch, attempts=attempts)
    if attempts > 1:
        change.notes.append(f"pushed after {attempts} attempts (others pushed first)")
    try:
        fast_forward(wc, sha)
    except errors.GitopsGuardError as exc:
        change.notes.append(f"the checkout was not moved to the new commit: {exc.message}")
    return Published(status="pushed", change=change, branch=branch, sha=sha, attempts=attempts)


def _publish_pull_request(
    wc: WorkingCopy,
    make_change: Callable[[WorkingCopy], C],
    settings: PublishSettings,
    *,
    base: str,
    tip: str,
    text: PullRequestText,
    already_proposed: AlreadyProposed,
) -> Published[C]:
    from gitops_guard import github

    if settings.api is None:
        raise errors.ConfigError(
            "a pull request needs a GitHub token",
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
    if text.head_branch == base:
        raise errors.InputError(
            f"the pull request's head branch is its base ({base})",
            source="--branch",
            hint="Name another head branch for the pull request.",
        )
    with worktree(wc, tip) as tree:
        change = make_change(tree)
        if change.sha is None:
            return Published(status="skipped", change=change, branch=base)
        existing = _remote_branch_tip(wc, text.head_branch)
        reused = existing is not None and already_proposed(wc, tip, existing, change.sha)
        attempts = 0
        if not reused:
            pushed = tree.push(text.head_branch, force=True)
            if not pushed.ok:
                raise errors.DependencyUnavailable(
                    f"the push of {text.head_branch} to {wc.where} was rejected: {pushed.detail}",
                    hint="Rerun the job.",
                )
            attempts = 1
    spec = github.PullRequestSpec(
        repository=repository,
        head=text.head_branch,
        base=base,
        title=text.title(change),
        body=text.body(change),
        labels=settings.labels,
        auto_merge=settings.auto_merge,
        merge_method=settings.merge_method,
    )
    pull = github.open_or_update_pull_request(spec, settings=settings.api)
    change.notes += list(pull.warnings)
    if pull.auto_merge:
        change.notes.append("auto-merge is enabled on the pull request")
    sha = existing if reused and existing else change.sha
    return Published(
        status="pull-request",
        change=change,
        branch=base,
        sha=sha,
        attempts=attempts,
        pull_request=pull,
        reused=reused,
    )
