"""The update-manifest flow: plan, check quarantine, apply, commit, push or open a PR.

The steps, in order, each one only after the previous one succeeded::

    plan (manifests.plan: reads, writes nothing; exit 2 if an image matches nothing)
      -> quarantine (exit 2 for a quarantined image unless force)
      -> dry run: stop here, the caller prints the plan and the diff
      -> apply (atomic writes)  -> commit (trailers)  -> push, or push a branch + PR

With a push, the edit is recomputed on the remote's tip for every attempt
(:meth:`gitops.WorkingCopy.push_with_retry`), never merged as text. A failure
before the push leaves the working tree and the remote as they were.

The commit message, the trailers and the summary table come from the pure
:mod:`~gitops_guard.promote.render`. This module must not parse flags, read
``INPUT_*`` variables or write runner outputs: the CLI does that from the
:class:`UpdateResult` it gets back.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitops_guard import errors
from gitops_guard.promote.models import Change, UpdateRequest, UpdateResult
from gitops_guard.promote.render import (
    commit_message,
    commit_subject,
    default_branch_name,
    pull_request_body,
    render_diff,
)

if TYPE_CHECKING:  # pragma: no cover
    from gitops_guard import github, gitops
    from gitops_guard.manifests import EditPlan


def _plan(root: Path, request: UpdateRequest) -> EditPlan:
    from gitops_guard import manifests

    return manifests.plan(root, request.images, paths=request.paths, helm=request.helm)


QUARANTINE_FILE = ".gitops-guard/quarantine.yaml"
"""Where ``quarantine.PATH`` lives, named here so a repository without one never loads
the quarantine module (pydantic and its YAML loader) on update-manifest's hot path;
a unit test holds the two equal."""


def _check_quarantine(root: Path, request: UpdateRequest) -> tuple[str, ...]:
    if not (root / QUARANTINE_FILE).exists():
        return ()
    from gitops_guard import quarantine

    refused = quarantine.refused(root, [ref.text for ref in request.images])
    if not refused:
        return ()
    listed = "; ".join(f"{e.image} ({e.reason or 'no reason given'})" for e in refused)
    if not request.force:
        raise errors.InputError(
            f"quarantined image: {listed}",
            source=quarantine.PATH,
            hint=(
                "This image failed a gate before. Promote a fixed version, lift the "
                "quarantine (gitops-guard rollback quarantine lift), or pass --force."
            ),
        )
    return tuple(e.image for e in refused)


def _changes(plan: EditPlan) -> tuple[Change, ...]:
    return tuple(c for c in plan.changes if c.old != c.new)


def update(
    root: Path,
    request: UpdateRequest,
    *,
    working_copy: gitops.WorkingCopy | None = None,
    open_pull_request: Callable[[github.PullRequestSpec], github.PullRequestResult] | None = None,
    github_repository: str | None = None,
) -> UpdateResult:
    """Run the flow; ``working_copy`` is required when the request commits."""
    plan = _plan(root, request)
    overridden = _check_quarantine(root, request)
    skipped = tuple((s.path, s.reason) for s in plan.skipped)
    changes = _changes(plan)
    base = UpdateResult(
        changed=plan.changed,
        dry_run=request.dry_run,
        changed_files=plan.files,
        changes=changes,
        skipped=skipped,
        quarantine_overridden=overridden,
    )
    if not plan.changed:
        return UpdateResult(
            changed=False, changes=changes, skipped=skipped, quarantine_overridden=overridden
        )
    if request.dry_run:
        return _replace(base, diff=render_diff(plan))
    if not request.commits:
        from gitops_guard import manifests

        written = manifests.apply(root, plan)
        return _replace(base, changed_files=tuple(written))
    if working_copy is None:
        raise errors.InputError(
            f"{root} must be a git checkout to commit", source="--dir"
        )  # pragma: no cover (the CLI opens one)
    if request.pull_request:
        if open_pull_request is None or not github_repository:
            raise errors.ConfigError(
                "cannot open a pull request without a GitHub repository",
                source="--github-repository",
            )
        return _via_pull_request(
            working_copy, root, request, base, open_pull_request, github_repository
        )
    return _via_commit(working_copy, root, request, base)


def _replace(result: UpdateResult, **changes: Any) -> UpdateResult:
    return dataclasses.replace(result, **changes)


def _make_mutate(
    root: Path, request: UpdateRequest, state: dict[str, Any]
) -> Callable[[gitops.WorkingCopy], str | None]:
    """The edit as a function of the current tip: replan, apply, commit.

    ``root`` (the --dir) may be a folder inside the checkout; git paths are made
    relative to the checkout's top.
    """

    def mutate(wc: gitops.WorkingCopy) -> str | None:
        prefix = root.resolve().relative_to(wc.root.resolve())
        plan = _plan(root, request)
        state["overridden"] = _check_quarantine(root, request)
        state["plan"] = plan
        if not plan.changed:
            return None
        dirty = wc.dirty_paths([(prefix / f).as_posix() for f in plan.files])
        if dirty:
            raise errors.InputError(
                f"uncommitted changes in {', '.join(dirty)} would be swept into the deploy commit",
                source=dirty[0],
                hint="Commit or discard them first, or run without --commit.",
            )
        from gitops_guard import manifests

        written = manifests.apply(root, plan)
        message = commit_message(_changes(plan), subject=request.message, run_url=request.run_url)
        try:
            return wc.commit(message, [(prefix / f).as_posix() for f in written])
        except BaseException:
            _restore(wc, root, plan)
            raise

    return mutate


def _restore(wc: gitops.WorkingCopy, root: Path, plan: EditPlan) -> None:
    """Put the files back as they were before a failed commit."""
    for edit in plan.edits:
        (root / edit.path).write_bytes(edit.before)
    paths = [str((root / edit.path).resolve()) for edit in plan.edits]
    with contextlib.suppress(errors.GitopsGuardError):  # best effort
        wc.git("reset", "-q", "--", *paths)


def _from_plan(base: UpdateResult, state: dict[str, Any]) -> UpdateResult:
    plan = state.get("plan")
    if plan is None:  # pragma: no cover
        return base
    return _replace(
        base,
        changes=_changes(plan),
        changed_files=plan.files,
        skipped=tuple((s.path, s.reason) for s in plan.skipped),
        quarantine_overridden=state.get("overridden", base.quarantine_overridden),
    )


def _via_commit(
    wc: gitops.WorkingCopy, root: Path, request: UpdateRequest, base: UpdateResult
) -> UpdateResult:
    state: dict[str, Any] = {}
    mutate = _make_mutate(root, request, state)
    if not request.push:
        sha = mutate(wc)
        return _replace(_from_plan(base, state), commit_sha=sha, changed=sha is not None)
    branch = request.branch or wc.tracked_branch()
    if not branch:
        raise errors.InputError(
            "the checkout is on no branch that tracks a remote branch",
            source="--branch",
            hint="Pass --branch to name the branch to push to.",
        )
    start = wc.head()
    try:
        sha, attempts = wc.push_with_retry(mutate, branch=branch)
    except BaseException:
        with contextlib.suppress(errors.GitopsGuardError):  # the first error is the one to see
            if wc.head() != start:
                wc.reset_to(start)  # nothing landed: leave the checkout as it was
        raise
    result = _from_plan(base, state)
    if sha is None:  # someone else set the same image meanwhile
        return _replace(result, changed=False, changed_files=(), push_attempts=attempts)
    return _replace(result, commit_sha=sha, branch=branch, pushed=True, push_attempts=attempts)


def _via_pull_request(
    wc: gitops.WorkingCopy,
    root: Path,
    request: UpdateRequest,
    base: UpdateResult,
    open_pull_request: Callable[[github.PullRequestSpec], github.PullRequestResult],
    repository: str,
) -> UpdateResult:
    from gitops_guard import github as gh

    base_branch = request.base or wc.tracked_branch() or wc.current_branch()
    if not base_branch:
        raise errors.InputError(
            "cannot tell the pull request's base branch",
            source="--base",
            hint="Pass --base (e.g. main).",
        )
    head = request.branch or default_branch_name(request.images, base_branch)
    if head == base_branch:
        raise errors.InputError(
            f"the pull request's head branch is its base ({head})",
            source="--branch",
            hint="Name another --branch for the pull request, or drop --branch.",
        )
    original = wc.current_branch() or wc.head()
    tip = wc.fetch(base_branch)
    wc.git("switch", "-q", "--detach", tip)
    state: dict[str, Any] = {}
    did_push = False
    try:
        sha = _make_mutate(root, request, state)(wc)
        if sha is None:
            _switch_back(wc, original)
            return _replace(_from_plan(base, state), changed=False, changed_files=())
        existing = wc.remote_branch(head)
        if existing and wc.same_change(existing, sha):
            # A rerun of the same update: keep the commit already pushed, push nothing.
            wc.git("switch", "-q", "--detach", existing)
            sha = existing
        else:
            pushed = wc.push(head, force=True)
            if not pushed.ok:
                raise errors.DependencyUnavailable(
                    f"the push of {head} was rejected: {pushed.detail}",
                    hint="Rerun the job.",
                )
            did_push = True
    except BaseException:
        with contextlib.suppress(errors.GitopsGuardError):  # the first error is the one to see
            _switch_back(wc, original)
        raise
    wc.git("switch", "-q", "-C", head)
    changes = _changes(state["plan"])
    spec = gh.PullRequestSpec(
        repository=repository,
        head=head,
        base=base_branch,
        title=request.message or commit_subject(changes),
        body=pull_request_body(changes, run_url=request.run_url),
        labels=request.labels,
        auto_merge=request.auto_merge,
        merge_method=request.merge_method,
    )
    pr = open_pull_request(spec)
    return _replace(
        _from_plan(base, state),
        commit_sha=sha,
        branch=head,
        pushed=did_push,
        push_attempts=1 if did_push else 0,
        pull_request_url=pr.url,
        pull_request_created=pr.created,
        auto_merge=pr.auto_merge,
        warnings=pr.warnings,
    )


def _switch_back(wc: gitops.WorkingCopy, original: str) -> None:
    if re.fullmatch(r"[0-9a-f]{40,64}", original):
        wc.git("switch", "-q", "--detach", original)
    else:
        wc.git("switch", "-q", original)
