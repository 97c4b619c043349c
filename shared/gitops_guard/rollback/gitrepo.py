"""The git commands rollback needs, on top of :class:`gitops_guard.gitops.WorkingCopy`.

Reading history (``git log`` with the trailer format of :mod:`.history`), a textual
``git revert --no-commit`` that reports a conflict instead of leaving one behind,
and a throw-away worktree for pull-request branches so the user's checkout is
never switched.

This module must not decide anything: the flows ask, the policy decides.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from gitops_guard import errors, gitops
from gitops_guard.gitops import publish as publish_engine
from gitops_guard.rollback import history, models


def log(
    wc: gitops.WorkingCopy, revisions: str = "HEAD", *, paths: Sequence[str] = ()
) -> list[models.CommitRecord]:
    """Commits of ``revisions`` (newest first), optionally only those touching ``paths``."""
    args = ["log", f"--format={history.LOG_FORMAT}", revisions]
    if paths:
        args += ["--", *paths]
    return history.parse_log(wc.git(*args))


def resolve(wc: gitops.WorkingCopy, revision: str, *, source: str = "--commit") -> str:
    """The full sha of ``revision``; InputError naming ``source`` when it is unknown."""
    try:
        return wc.git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").strip()
    except errors.GitopsGuardError as exc:
        raise errors.InputError(
            f"{revision} is not a commit of {wc.root}",
            source=source,
            hint="Pass the deploy commit's sha (the `commit-sha` output of update-manifest); "
            "fetch enough history (actions/checkout with fetch-depth: 0).",
        ) from exc


def record(wc: gitops.WorkingCopy, sha: str) -> models.CommitRecord:
    """The one commit ``sha`` as a record."""
    found = history.parse_log(wc.git("log", "-1", f"--format={history.LOG_FORMAT}", sha))
    return found[0]


def parents(wc: gitops.WorkingCopy, sha: str) -> list[str]:
    """The parents of ``sha`` (two or more for a merge commit)."""
    return wc.git("rev-list", "--parents", "-n", "1", sha).split()[1:]


def is_ancestor(wc: gitops.WorkingCopy, ancestor: str, descendant: str) -> bool:
    """True when ``ancestor`` is reachable from ``descendant``."""
    try:
        wc.git("merge-base", "--is-ancestor", ancestor, descendant)
    except errors.GitopsGuardError:
        return False
    return True


def try_revert(wc: gitops.WorkingCopy, sha: str, *more: str) -> list[str] | None:
    """Stage the revert of ``sha`` (and of ``more``, in that order: one change for all)
    without committing; the changed paths, or None on conflict.

    On a conflict (or any refusal) the working tree and index are restored as they were.
    A lone merge commit is reverted against its first parent.
    """
    mainline = ["-m", "1"] if not more and len(parents(wc, sha)) > 1 else []
    try:
        wc.git("revert", "--no-commit", "--no-edit", *mainline, sha, *more)
    except errors.GitopsGuardError:
        with contextlib.suppress(errors.GitopsGuardError):
            wc.git("revert", "--abort")
        with contextlib.suppress(errors.GitopsGuardError):
            wc.git("reset", "-q", "--merge")
        return None
    # Forget the sequencer state but keep the staged changes: the commit is ours to write.
    wc.git("revert", "--quit")
    changed = wc.git("diff", "--cached", "--name-only", "-z", "--no-renames")
    return [p for p in changed.split("\0") if p]


def unstage_all(wc: gitops.WorkingCopy, paths: Sequence[str]) -> None:
    """Throw away staged and working-tree changes to ``paths`` (an aborted attempt)."""
    if paths:
        with contextlib.suppress(errors.GitopsGuardError):
            wc.git("reset", "-q", "HEAD", "--", *paths)
        with contextlib.suppress(errors.GitopsGuardError):
            wc.git("checkout", "-q", "HEAD", "--", *paths)


# The publish engine owns these; rollback reads them here as before.
sync_to_remote = publish_engine.sync_to_remote
worktree = publish_engine.worktree
