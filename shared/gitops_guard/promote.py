"""The update-manifest flow: plan, check quarantine, apply, commit, push or open a PR.

The steps, in order, each one only after the previous one succeeded::

    plan (manifests.plan: reads, writes nothing; exit 2 if an image matches nothing)
      -> quarantine (exit 2 for a quarantined image unless force)
      -> dry run: stop here, the caller prints the plan and the diff
      -> apply (atomic writes)  -> commit (trailers)  -> push, or push a branch + PR

With a push, the edit is recomputed on the remote's tip for every attempt
(:meth:`gitops.WorkingCopy.push_with_retry`), never merged as text. A failure
before the push leaves the working tree and the remote as they were.

The commit message, the trailers and the summary table are rendered by pure
functions here (tested without git). This module must not parse flags, read
``INPUT_*`` variables or write runner outputs: the CLI does that from the
:class:`UpdateResult` it gets back.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from gitops_guard import errors, images, quarantine, report

if TYPE_CHECKING:  # pragma: no cover
    from gitops_guard import github, gitops
    from gitops_guard.manifests import EditPlan

ACTION = "update-manifest"
TRAILER_ACTION = "Gitops-Guard-Action"
TRAILER_IMAGE = "Gitops-Guard-Image"
TRAILER_PREVIOUS = "Gitops-Guard-Previous-Image"
TRAILER_RUN = "Gitops-Guard-Run"
SUBJECT_MAX = 72
"""Longer subjects are summarised: git tools cut them around here."""


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


# ---------------------------------------------------------------- request and result
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
        return [{"image": new, "previous": old} for old, new in image_pairs(self.changes)]

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
            "action": ACTION,
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


# ---------------------------------------------------------------- pure rendering
def image_pairs(changes: Sequence[Change]) -> list[tuple[str, str]]:
    """One ``(previous, new)`` pair per new image, in the order the images first appear.

    When one image replaced several old references (a kustomization's ``newTag`` and
    the untagged placeholder in its base), the previous one is the first that names a
    version (tag or digest): that is what ran before and what a rollback restores.
    """
    olds: dict[str, list[str]] = {}
    for change in changes:
        if change.old != change.new:
            bucket = olds.setdefault(change.new, [])
            if change.old not in bucket:
                bucket.append(change.old)
    pairs: list[tuple[str, str]] = []
    for new, candidates in olds.items():
        versioned = [old for old in candidates if _has_version(old)]
        pairs.append(((versioned or candidates)[0], new))
    return pairs


def _has_version(text: str) -> bool:
    ref = _parsed(text)
    return ref is not None and bool(ref.tag or ref.digest)


def _parsed(text: str) -> images.ImageRef | None:
    try:
        return images.parse(text, source="manifest")
    except errors.InputError:
        return None


def short_name(text: str) -> str:
    """The last path component of an image: ``ghcr.io/acme/web:1.2`` -> ``web``."""
    ref = _parsed(text)
    path = ref.path if ref else re.split(r"[:@]", text, maxsplit=1)[0]
    return path.rsplit("/", 1)[-1]


def version(text: str) -> str:
    """The tag, the short digest, or both: ``1.2``, ``sha256:0123abcd``, ``1.2@sha256:0123abcd``."""
    ref = _parsed(text)
    if ref is None:
        return text
    digest = None
    if ref.digest:
        algo, _, hexpart = ref.digest.partition(":")
        digest = f"{algo}:{hexpart[:12]}"
    if ref.tag and digest:
        return f"{ref.tag}@{digest}"
    return ref.tag or digest or "latest"


def commit_subject(changes: Sequence[Change]) -> str:
    """``deploy: nginx 1.25.0 -> 1.25.1``; several images are summarised."""
    by_name: dict[str, tuple[list[str], list[str]]] = {}
    for old, new in dict.fromkeys((c.old, c.new) for c in changes if c.old != c.new):
        olds, news = by_name.setdefault(short_name(new), ([], []))
        for bucket, value in ((olds, version(old)), (news, version(new))):
            if value not in bucket:
                bucket.append(value)
    if not by_name:
        return "deploy: no image change"
    if len(by_name) == 1:
        name, (olds, news) = next(iter(by_name.items()))
        return f"deploy: {name} {', '.join(olds)} -> {', '.join(news)}"
    parts = [f"{name} {', '.join(news)}" for name, (_, news) in by_name.items()]
    subject = "deploy: " + ", ".join(parts)
    if len(subject) <= SUBJECT_MAX:
        return subject
    head = f"deploy: {len(by_name)} images ("
    kept: list[str] = []
    for part in parts:
        if len(head) + len(", ".join([*kept, part])) + len(", ...)") > SUBJECT_MAX:
            break
        kept.append(part)
    return head + ", ".join([*kept, "..."]) + ")"


def change_table(changes: Sequence[Change]) -> str:
    """The Markdown table of changes: image, file:line, old -> new."""
    rows = [
        (short_name(c.new), f"{c.file}:{c.line}", c.target, f"`{c.old}` -> `{c.new}`")
        for c in changes
    ]
    return report.markdown_table(("image", "file:line", "target", "old -> new"), rows)


def trailers(changes: Sequence[Change], *, run_url: str | None = None) -> list[tuple[str, str]]:
    """The deploy trailers: the action, then one Image/Previous-Image pair per image."""
    out = [(TRAILER_ACTION, ACTION)]
    for old, new in image_pairs(changes):
        out.append((TRAILER_IMAGE, new))
        out.append((TRAILER_PREVIOUS, old))
    if run_url:
        out.append((TRAILER_RUN, run_url))
    return out


def commit_message(
    changes: Sequence[Change], *, subject: str | None = None, run_url: str | None = None
) -> str:
    """Subject, a body with the change table, then the trailers (git's last paragraph)."""
    first = (subject or commit_subject(changes)).strip().splitlines()[0]
    body = "Set by gitops-guard update-manifest.\n\n" + change_table(changes)
    trailer_block = "\n".join(f"{k}: {v}" for k, v in trailers(changes, run_url=run_url))
    return f"{first}\n\n{body}\n\n{trailer_block}\n"


def pull_request_body(changes: Sequence[Change], *, run_url: str | None = None) -> str:
    """The pull request's body: the change table, where it came from, and how it merges."""
    lines = ["This pull request was opened by gitops-guard update-manifest.", ""]
    lines.append(change_table(changes))
    if run_url:
        lines += ["", f"Workflow run: {run_url}"]
    lines += [
        "",
        "Re-running the same update updates this pull request instead of opening another.",
    ]
    return "\n".join(lines) + "\n"


def default_branch_name(refs: Sequence[images.ImageRef], base: str) -> str:
    """A stable head branch for a pull request: ``gitops-guard/<base>/<name>-<version>``."""
    parts = [f"{short_name(r.text)}-{version(r.text)}" for r in refs]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", "_".join(parts)).strip("-.")[:80]
    return f"gitops-guard/{base}/{slug or 'update'}"


def render_diff(plan: EditPlan) -> str:
    """A unified diff of the plan, for --dry-run."""
    chunks: list[str] = []
    for edit in plan.edits:
        before = edit.before.decode("utf-8", errors="replace").splitlines(keepends=True)
        after = edit.after.decode("utf-8", errors="replace").splitlines(keepends=True)
        chunks.extend(
            difflib.unified_diff(before, after, fromfile=f"a/{edit.path}", tofile=f"b/{edit.path}")
        )
    return "".join(line if line.endswith("\n") else line + "\n" for line in chunks)


def summary_markdown(result: UpdateResult) -> str:
    """The job summary: what happened in one line, then the change table."""
    if not result.changes or not result.changed:
        head = "### update-manifest: already in place, nothing to do"
    elif result.dry_run:
        head = "### update-manifest: dry run, nothing written"
    elif result.pull_request_url:
        verb = "opened" if result.pull_request_created else "updated"
        head = f"### update-manifest: pull request {verb}: {result.pull_request_url}"
    elif result.pushed:
        head = (
            f"### update-manifest: pushed `{(result.commit_sha or '')[:12]}` to `{result.branch}`"
        )
    elif result.commit_sha:
        head = f"### update-manifest: committed `{result.commit_sha[:12]}` (not pushed)"
    else:
        head = "### update-manifest: files changed (not committed)"
    parts = [head]
    if result.changes:
        parts.append(change_table(result.changes))
    for warning in result.warnings:
        parts.append(f"> ⚠️ {warning}")
    return "\n\n".join(parts)


# ---------------------------------------------------------------- the flow
def _plan(root: Path, request: UpdateRequest) -> EditPlan:
    from gitops_guard import manifests

    return manifests.plan(root, request.images, paths=request.paths, helm=request.helm)


def _check_quarantine(root: Path, request: UpdateRequest) -> tuple[str, ...]:
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
