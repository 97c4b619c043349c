"""update-manifest: set images in a GitOps repository, commit, push or open a pull request.

Modules: ``models`` (the request and the result), ``render`` (pure text: commit
message, trailers, tables, diff, summary) and ``flow`` (plan, quarantine, apply,
commit, push or pull request). The names below are the package's surface.
"""

from __future__ import annotations

from gitops_guard.promote.flow import update
from gitops_guard.promote.models import Change, UpdateRequest, UpdateResult
from gitops_guard.promote.render import (
    ACTION,
    SUBJECT_MAX,
    TRAILER_ACTION,
    TRAILER_IMAGE,
    TRAILER_PREVIOUS,
    TRAILER_RUN,
    change_table,
    commit_message,
    commit_subject,
    default_branch_name,
    image_pairs,
    pull_request_body,
    render_diff,
    short_name,
    summary_markdown,
    trailers,
    version,
)

__all__ = [
    "ACTION",
    "SUBJECT_MAX",
    "TRAILER_ACTION",
    "TRAILER_IMAGE",
    "TRAILER_PREVIOUS",
    "TRAILER_RUN",
    "Change",
    "UpdateRequest",
    "UpdateResult",
    "change_table",
    "commit_message",
    "commit_subject",
    "default_branch_name",
    "image_pairs",
    "pull_request_body",
    "render_diff",
    "short_name",
    "summary_markdown",
    "trailers",
    "update",
    "version",
]
