"""Pure rendering for update-manifest: commit subject and message, trailers, tables,
pull request body, head branch name, dry-run diff and job summary.

Data in, text out: this module must not run git, read files or the environment.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gitops_guard import errors, images, report
from gitops_guard import trailers as trailers_module

if TYPE_CHECKING:  # pragma: no cover
    from gitops_guard.manifests import EditPlan
    from gitops_guard.promote.models import Change, UpdateResult

# The vocabulary lives in gitops_guard.trailers; these names stay for promote's callers.
ACTION = trailers_module.Action.DEPLOY.value
TRAILER_ACTION = trailers_module.ACTION
TRAILER_IMAGE = trailers_module.IMAGE
TRAILER_PREVIOUS = trailers_module.PREVIOUS_IMAGE
TRAILER_RUN = trailers_module.RUN
SUBJECT_MAX = 72
"""Longer subjects are summarised: git tools cut them around here."""


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
    changes: Sequence[Change],
    *,
    subject: str | None = None,
    run_url: str | None = None,
    exemption: str = "",
) -> str:
    """Subject, a body with the change table, then the trailers (git's last paragraph)."""
    first = (subject or commit_subject(changes)).strip().splitlines()[0]
    body = "Set by gitops-guard update-manifest.\n\n" + change_table(changes)
    pairs = trailers(changes, run_url=run_url)
    if exemption.strip():
        pairs.append((trailers_module.EXEMPTION, " ".join(exemption.split())))
    return trailers_module.append(f"{first}\n\n{body}", pairs)


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
