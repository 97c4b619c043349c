"""The update-manifest flow: plan, check quarantine, apply, commit, push or open a PR.

The steps, in order, each one only after the previous one succeeded::

    plan (manifests.plan: reads, writes nothing; exit 2 if an image matches nothing)
      -> quarantine (exit 2 for a quarantined image unless force)
      -> dry run: stop here, the caller prints the plan and the diff
      -> apply (atomic writes)  -> commit (trailers)  -> push, or push a branch + PR

Every Git write goes through the one publish engine
(:mod:`gitops_guard.gitops.publish`): with a push or a pull request the edit is
made in a throw-away worktree at the remote's tip and recomputed there for every
attempt, never merged as text; the user's checkout is never switched (after a
push it is fast-forwarded to the deploy commit when it can be). ``--commit``
alone commits in the checkout itself. A failure before the push leaves the
working tree and the remote as they were.

The commit message, the trailers and the summary table come from the pure
:mod:`~gitops_guard.promote.render`. This module must not parse flags, read
``INPUT_*`` variables or write runner outputs: the CLI does that from the
:class:`UpdateResult` it gets back.
"""

from __future__ import annotations

import contextlib
import dataclasses
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
    from gitops_guard.gitops import publish as engine
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
    api: github.ApiSettings | None = None,
    github_repository: str | None = None,
) -> UpdateResult:
    """Run the flow; ``working_copy`` is required when the request commits, ``api`` (the
    GitHub token) when it opens a pull request."""
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
    prefix = _prefix(working_copy, root)
    _refuse_dirty(working_copy, prefix, plan)
    if request.pull_request:
        if api is None or not github_repository:
            raise errors.ConfigError(
                "cannot open a pull request without a GitHub repository",
                source="--github-repository",
            )
        return _via_pull_request(working_copy, prefix, request, base, api, github_repository)
    return _via_commit(working_copy, prefix, request, base)


def _replace(result: UpdateResult, **changes: Any) -> UpdateResult:
    return dataclasses.replace(result, **changes)


def _prefix(wc: gitops.WorkingCopy, root: Path) -> Path:
    """``root`` (the --dir) relative to the checkout's top: it may be a folder inside it."""
    return root.resolve().relative_to(wc.root.resolve())


def _refuse_dirty(wc: gitops.WorkingCopy, prefix: Path, plan: EditPlan) -> None:
    """Uncommitted edits in a file the deploy changes: exit 2 before any write."""
    dirty = wc.dirty_paths([(prefix / f).as_posix() for f in plan.files])
    if dirty:
        raise errors.InputError(
            f"uncommitted changes in {', '.join(dirty)} would be swept into the deploy commit",
            source=dirty[0],
            hint="Commit or discard them first, or run without --commit.",
        )


def _make_change(
    prefix: Path, request: UpdateRequest, state: dict[str, Any]
) -> engine.MakeChange[engine.Change]:
    """The edit as a function of the working copy it is made in: replan, apply, commit."""
    from gitops_guard.gitops import publish as engine

    def make_change(wc: gitops.WorkingCopy) -> engine.Change:
        root = wc.root / prefix
        plan = _plan(root, request)
        state["overridden"] = _check_quarantine(root, request)
        state["plan"] = plan
        if not plan.changed:
            return engine.Change(skip_reason="every image is already in place")
        from gitops_guard import manifests

        written = manifests.apply(root, plan)
        message = commit_message(
            _changes(plan),
            subject=request.message,
            run_url=request.run_url,
            exemption=request.exemption,
        )
        try:
            sha = wc.commit(message, [(prefix / f).as_posix() for f in written])
        except BaseException:
            _restore(wc, root, plan)
            raise
        return engine.Change(sha=sha, files=tuple(written))

    return make_change


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
    wc: gitops.WorkingCopy, prefix: Path, request: UpdateRequest, base: UpdateResult
) -> UpdateResult:
    from gitops_guard.gitops import publish as engine

    branch = request.branch or wc.tracked_branch()
    if request.push and not branch:
        raise errors.InputError(
            "the checkout is on no branch that tracks a remote branch",
            source="--branch",
            hint="Pass --branch to name the branch to push to.",
        )
    state: dict[str, Any] = {}
    settings = engine.PublishSettings(
        mode="commit", branch=branch or wc.current_branch(), push=request.push
    )
    done = engine.publish(wc, _make_change(prefix, request, state), settings)
    result = _from_plan(base, state)
    if done.status == "committed":
        return _replace(result, commit_sha=done.sha, changed=True)
    if done.status == "skipped":  # someone else set the same image meanwhile
        return _replace(result, changed=False, changed_files=(), push_attempts=done.attempts)
    return _replace(
        result,
        commit_sha=done.sha,
        branch=done.branch,
        pushed=True,
        push_attempts=done.attempts,
        warnings=tuple(n for n in done.change.notes if "checkout was not moved" in n),
    )


def _via_pull_request(
    wc: gitops.WorkingCopy,
    prefix: Path,
    request: UpdateRequest,
    base: UpdateResult,
    api: github.ApiSettings,
    repository: str,
) -> UpdateResult:
    from gitops_guard.gitops import publish as engine

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
    state: dict[str, Any] = {}

    def title(_: engine.Change) -> str:
        return request.message or commit_subject(_changes(state["plan"]))

    def body(_: engine.Change) -> str:
        return pull_request_body(_changes(state["plan"]), run_url=request.run_url)

    settings = engine.PublishSettings(
        mode="pull-request",
        branch=base_branch,
        github_repository=repository,
        labels=request.labels,
        auto_merge=request.auto_merge,
        merge_method=request.merge_method,
        api=api,
    )
    done = engine.publish(
        wc,
        _make_change(prefix, request, state),
        settings,
        pull_request=engine.PullRequestText(head_branch=head, title=title, body=body),
    )
    result = _from_plan(base, state)
    if done.status == "skipped" or done.pull_request is None:
        return _replace(result, changed=False, changed_files=())
    pr = done.pull_request
    return _replace(
        result,
        commit_sha=done.sha,
        branch=head,
        pushed=not done.reused,
        push_attempts=done.attempts,
        pull_request_url=pr.url,
        pull_request_created=pr.created,
        auto_merge=pr.auto_merge,
        warnings=pr.warnings,
    )
