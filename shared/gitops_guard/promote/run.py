"""update-manifest as one call: find or clone the repository, then the flow.

:func:`run` takes the validated request and where the GitOps repository is (a
checkout in ``directory``, or ``repo_url`` to clone), opens the working copy,
resolves the GitHub repository for a pull request (checking that the token can
see it before anything is pushed) and runs :func:`gitops_guard.promote.flow.update`,
returning its one :class:`UpdateResult`.

This module must not parse flags, read ``INPUT_*`` variables or write runner
output: the CLI passes the token in and renders the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gitops_guard import credentials, errors, gitops
from gitops_guard.promote.flow import update
from gitops_guard.promote.models import UpdateRequest, UpdateResult

if TYPE_CHECKING:  # pragma: no cover
    from gitops_guard import github


@dataclass(frozen=True)
class Where:
    """Where the GitOps repository is, and how to reach its remote."""

    directory: str | None = None
    """The checkout (default ``.``), or with ``repo_url`` where to clone it."""
    repo_url: str | None = None
    github_repository: str | None = None
    """``OWNER/NAME`` for the pull request; default: from the remote URL."""
    token: credentials.Token | None = None
    """The GitHub token (pull requests; git reads it from ``token_env``)."""
    token_env: str | None = None
    """The variable git's credential helper reads the token from (the ``token`` input)."""
    max_retries: int = 10


def run(request: UpdateRequest, where: Where) -> UpdateResult:
    """Open or clone the repository and run the update-manifest flow."""
    policy = gitops.RetryPolicy(attempts=where.max_retries + 1)
    api = _api(request, where)
    working_copy = None
    if where.repo_url:
        dest = Path(where.directory) if where.directory else gitops.temporary_clone_dir()
        # Check out the branch the change is made on: the PR's base, or the push target.
        start = request.base if request.pull_request else request.branch
        working_copy = gitops.clone(
            where.repo_url, dest, branch=start, token_env=where.token_env, policy=policy
        )
        root = working_copy.root
    else:
        root = Path(where.directory or ".")
        if not root.is_dir():
            raise errors.InputError(
                f"{root} is not a directory",
                source="--dir",
                hint="Point --dir at the GitOps checkout, or pass --repo-url to clone it.",
            )
    if request.commits and not request.dry_run and working_copy is None:
        working_copy = gitops.open_checkout(
            root, token_env=where.token_env, policy=policy, clone_flag="--repo-url"
        )
    repository = None
    if api is not None and working_copy is not None:
        from gitops_guard import github

        repository = where.github_repository or github.repository_from_remote(
            working_copy.remote_url()
        )
        if not repository:
            raise errors.ConfigError(
                f"cannot tell the GitHub repository from the remote "
                f"{gitops.redact_url(working_copy.remote_url())!r}",
                source="--github-repository",
                hint="Pass --github-repository OWNER/NAME.",
            )
        github.check_repository(repository, settings=api)
    return update(root, request, working_copy=working_copy, api=api, github_repository=repository)


def _api(request: UpdateRequest, where: Where) -> github.ApiSettings | None:
    """The GitHub API settings a pull request needs (exit 2 naming the token when none)."""
    if not request.pull_request or request.dry_run:
        return None
    from gitops_guard import github

    if where.token is None:
        raise errors.ConfigError(
            "no token to open the pull request with",
            source="GITHUB_TOKEN",
            hint=(
                "Set GITOPS_TOKEN or GITHUB_TOKEN in the step's env: (a token with "
                "contents: write and pull-requests: write on the GitOps repository)."
            ),
        )
    return github.ApiSettings(
        token=where.token.value, token_env=where.token.source, api_url=github.api_url_from_env()
    )
