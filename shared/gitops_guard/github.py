"""GitHub's API through PyGithub: open or update a pull request, labels, auto-merge.

PyGithub is imported lazily (inside the functions), so ``gitops-guard --help``
never pays for it. Inside this package ``import github`` is PyGithub: imports
are absolute.

Every PyGithub or ``requests`` exception is translated in one place
(:func:`_translate`): 401 and 403 become a :class:`~gitops_guard.errors.ConfigError`
naming the token variable (exit 2); 5xx, 429, timeouts and connection errors that
survive the retries, and answers that are not GitHub's JSON, become
:class:`~gitops_guard.errors.DependencyUnavailable` (exit 3); 404 names the
repository input.

Transport: each operation (open or update a pull request, a comment) has one
deadline (:attr:`ApiSettings.deadline_seconds`, a :class:`gitops_guard.http.Deadline`):
the request timeout is cut to what is left of it, and urllib3's retries (5xx, 429 and
503 with ``Retry-After`` honoured, connection errors) stop when the next wait would
outlive it. Under a command's overall deadline (:func:`gitops_guard.deadline.overall`,
``update-manifest --timeout``) each operation's deadline is cut to it, and its expiry
is a ``DeadlineExceeded`` (3) with the real elapsed time. Titles, bodies and comments
are redacted before they are sent.

This module must not decide what to change nor touch git: callers pass the
title, body and branches, and get back the pull request's URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from gitops_guard import actions, credentials, errors, http

if TYPE_CHECKING:  # pragma: no cover
    from github.PullRequest import PullRequest

DEFAULT_API_URL = "https://api.github.com"
MergeMethod = Literal["merge", "squash", "rebase"]

_REMOTE = re.compile(
    r"""^(?:
        [a-z][a-z0-9+.-]*://(?:[^@/]+@)?[^/]+/   # https://host/ or ssh://git@host/
      | [^@/:]+@[^:/]+:                         # git@host:
    )(?P<repo>[^/]+/[^/]+?)(?:\.git)?/?$""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class ApiSettings:
    """How to reach GitHub's API."""

    token: str = field(repr=False)
    """The token; read from GITOPS_TOKEN or GITHUB_TOKEN by the caller, never a flag."""
    token_env: str = "GITHUB_TOKEN"  # noqa: S105 (a variable name, not a secret)
    """The variable the token came from, named in error messages."""
    api_url: str = DEFAULT_API_URL
    """REST base URL: ``https://api.github.com``, or ``https://HOST/api/v3`` on GHES."""
    timeout_seconds: int = 30
    """Per request; GitHub answers well within it when it is healthy."""
    retries: int = 3
    """Retries of 5xx and 429 answers and connection errors, with backoff, before giving up."""
    deadline_seconds: float = 120.0
    """Every request and retry of one operation ends within this many seconds."""
    seconds_between_writes: float | None = None
    """Pause between mutating requests. GitHub asks for a second between writes when
    making many; one update makes at most four, so none by default."""


@dataclass(frozen=True)
class PullRequestSpec:
    """What the pull request should look like."""

    repository: str
    """``owner/name`` of the repository the branch was pushed to."""
    head: str
    """The pushed branch."""
    base: str
    """The branch to merge into."""
    title: str
    body: str
    labels: tuple[str, ...] = ()
    auto_merge: bool = False
    merge_method: MergeMethod = "squash"


@dataclass(frozen=True)
class PullRequestResult:
    """The pull request after it was opened or updated."""

    url: str
    number: int
    created: bool
    """False when an open pull request for the same head branch was updated instead."""
    auto_merge: bool
    """True when auto-merge is enabled on it."""
    warnings: tuple[str, ...] = ()
    """Things that did not work but did not stop the pull request (auto-merge refused)."""


def repository_from_remote(url: str) -> str | None:
    """``owner/name`` from a remote URL (https, ssh or scp-like), or None."""
    match = _REMOTE.match(url.strip())
    return match.group("repo") if match else None


def api_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """``GITHUB_API_URL`` (set by the runner, GHES included) or api.github.com."""
    return (actions.api_url(environ) or DEFAULT_API_URL).rstrip("/")


def _status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) else None


def _message_of(exc: BaseException) -> str:
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        text = str(data.get("message") or "")
        errs = data.get("errors")
        if isinstance(errs, list):
            details = [str(e.get("message") or e) if isinstance(e, dict) else str(e) for e in errs]
            text = "; ".join(x for x in [text, *details] if x)
        return actions.redact(text)
    return actions.redact(str(exc))


_WRITE_HINT = "'contents: write' and 'pull-requests: write'"


def _translate(
    exc: BaseException,
    settings: ApiSettings,
    repository: str,
    *,
    permissions: str = _WRITE_HINT,
) -> errors.GitopsGuardError:
    """The one place where PyGithub/requests failures become errors of our tree."""
    import github
    import requests

    if isinstance(exc, requests.exceptions.RequestException) and not isinstance(
        exc, requests.exceptions.HTTPError
    ):
        return errors.DependencyUnavailable(
            f"GitHub's API at {settings.api_url} could not be reached: {type(exc).__name__}",
            hint="Check GITHUB_API_URL and the network; the request was retried.",
        )
    status = _status_of(exc)
    message = _message_of(exc)
    if isinstance(exc, github.BadCredentialsException) or status == 401:
        return errors.ConfigError(
            f"GitHub rejected the token ({message or 'Bad credentials'})",
            source=settings.token_env,
            hint=f"Set {settings.token_env} to a valid token for {repository}.",
        )
    if status == 403 and "rate limit" in message.lower():
        return errors.DependencyUnavailable(
            f"GitHub's API rate-limits the token in {settings.token_env} ({message})",
            hint="Wait for the rate limit to reset and rerun the job.",
        )
    if status == 403:
        return errors.ConfigError(
            f"GitHub refused the request on {repository} ({message or 'Forbidden'})",
            source=settings.token_env,
            hint=(
                f"Give the token in {settings.token_env} {permissions} on the "
                "repository (workflow `permissions:`)."
            ),
        )
    if status == 404:
        return errors.ConfigError(
            f"GitHub has no repository {repository}, or the token cannot see it ({message})",
            source="--github-repository",
            hint="Check the repository name (owner/name) and the token's access to it.",
        )
    if status is not None and (status >= 500 or status == 429):
        return errors.DependencyUnavailable(
            f"GitHub's API answered {status} for {repository}: {message}",
            hint="GitHub is having trouble (or rate-limits this token); rerun the job later.",
        )
    if isinstance(exc, github.GithubException):
        return errors.InputError(
            f"GitHub refused the request on {repository} ({status}: {message})",
            source="--pull-request",
        )
    return errors.GitopsGuardError(f"GitHub call failed: {type(exc).__name__}: {message}")


@contextmanager
def _translated(
    settings: ApiSettings, repository: str, *, permissions: str = _WRITE_HINT
) -> Iterator[None]:
    import github
    import requests

    try:
        http.check_overall(f"GitHub's API at {settings.api_url}")
        yield
    except (github.GithubException, requests.exceptions.RequestException) as exc:
        overall = http.current_overall()
        if overall is not None and overall.remaining() < 1.0:
            raise http.overall_expired(f"GitHub's API at {settings.api_url}") from exc
        raise _translate(exc, settings, repository, permissions=permissions) from exc
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        # PyGithub raises these when an answer is not GitHub's JSON (a proxy's page,
        # a truncated body); a fault of the dependency, never "no" or "bad input".
        raise errors.DependencyUnavailable(
            f"GitHub's API at {settings.api_url} answered something that is not its JSON "
            f"({type(exc).__name__}: {credentials.redact(str(exc))[:200]})",
            hint="Check GITHUB_API_URL and any proxy in between; rerun the job later.",
        ) from exc


def _retry(settings: ApiSettings, deadline: http.Deadline) -> Any:
    """urllib3's Retry, stopped when the next wait (or Retry-After) would pass ``deadline``."""
    from urllib3.util.retry import Retry

    class DeadlineRetry(Retry):
        def increment(
            self,
            method: str | None = None,
            url: str | None = None,
            response: Any = None,
            error: Exception | None = None,
            _pool: Any = None,
            _stacktrace: Any = None,
        ) -> Any:
            following = super().increment(method, url, response, error, _pool, _stacktrace)
            wait = following.get_backoff_time()
            if response is not None:
                wait = max(wait, following.get_retry_after(response) or 0.0)
            if wait >= deadline.remaining():
                from urllib3.exceptions import MaxRetryError

                raise MaxRetryError(_pool, url or "", error)
            return following

    return DeadlineRetry(
        total=settings.retries,
        connect=settings.retries,
        read=settings.retries,
        status=settings.retries,
        backoff_factor=0.5,
        backoff_max=8.0,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=None,  # PR writes are safe to repeat: we look up before creating
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def _client(settings: ApiSettings, deadline: http.Deadline | None = None) -> Any:
    import github

    actions.register_secret(settings.token)
    deadline = http.bounded(
        deadline or http.Deadline(settings.deadline_seconds, source="the GitHub deadline")
    )
    # PyGithub takes whole seconds only; never more than what is left (at least 1 s).
    timeout = max(1, int(deadline.bound(settings.timeout_seconds)))
    return github.Github(
        auth=github.Auth.Token(settings.token),
        base_url=settings.api_url,
        timeout=timeout,
        retry=_retry(settings, deadline),
        seconds_between_requests=None,
        seconds_between_writes=settings.seconds_between_writes,
        lazy=True,
    )


def comment_on_issue(repository: str, number: int, body: str, *, settings: ApiSettings) -> str:
    """Comment on issue or pull request ``number`` (redacted); returns the comment's URL."""
    with _translated(settings, repository):
        client = _client(settings)
        try:
            issue = client.get_repo(repository).get_issue(number)
            comment = issue.create_comment(credentials.redact(body))
            url = comment.html_url
        finally:
            client.close()
    if not isinstance(url, str) or not url.startswith("http"):
        raise errors.DependencyUnavailable(
            f"GitHub's API at {settings.api_url} answered the comment without its URL",
            hint="Check GITHUB_API_URL and any proxy in between.",
        )
    return url


def check_repository(repository: str, *, settings: ApiSettings) -> None:
    """Fail early (before anything is pushed) when the token cannot see ``repository``."""
    with _translated(settings, repository):
        repo = _client(settings).get_repo(repository)
        repo.complete()  # the lazy object fetches itself: GET /repos/{owner}/{repo}


def _find_open(repo: Any, owner: str, head: str, base: str) -> PullRequest | None:
    for pull in repo.get_pulls(state="open", head=f"{owner}:{head}", base=base):
        return pull  # type: ignore[no-any-return]
    return None


def _create(repo: Any, owner: str, spec: PullRequestSpec) -> PullRequest | None:
    """Create the pull request; None when GitHub says one already exists (422)."""
    import github

    try:
        return repo.create_pull(  # type: ignore[no-any-return]
            base=spec.base,
            head=spec.head,
            title=credentials.redact(spec.title),
            body=credentials.redact(spec.body),
            maintainer_can_modify=True,
        )
    except github.GithubException as exc:
        if _status_of(exc) == 422 and "already exists" in _message_of(exc):
            return None
        raise


def open_or_update_pull_request(
    spec: PullRequestSpec, *, settings: ApiSettings
) -> PullRequestResult:
    """Open a pull request for ``spec.head``, or update the open one for that branch."""
    owner = spec.repository.split("/", 1)[0]
    warnings: list[str] = []
    with _translated(settings, spec.repository):
        gh = _client(settings)
        repo = gh.get_repo(spec.repository)
        pull = _find_open(repo, owner, spec.head, spec.base)
        created = pull is None
        if pull is None:
            pull = _create(repo, owner, spec)
            created = pull is not None
            if pull is None:  # another run opened it between our lookup and create
                pull = _find_open(repo, owner, spec.head, spec.base)
        if pull is None:
            raise errors.GitopsGuardError(
                f"GitHub says a pull request for {spec.head} exists, but none is open"
            )
        if not created:
            pull.edit(title=credentials.redact(spec.title), body=credentials.redact(spec.body))
        if spec.labels:
            pull.add_to_labels(*spec.labels)
    auto = False
    if spec.auto_merge:
        auto, warning = _enable_auto_merge(pull, spec, settings)
        if warning:
            warnings.append(warning)
    if not isinstance(pull.html_url, str) or not isinstance(pull.number, int):
        raise errors.DependencyUnavailable(
            f"GitHub's API at {settings.api_url} answered the pull request without its "
            "URL or number",
            hint="Check GITHUB_API_URL and any proxy in between; rerun the job later.",
        )
    return PullRequestResult(
        url=str(pull.html_url),
        number=int(pull.number),
        created=created,
        auto_merge=auto,
        warnings=tuple(warnings),
    )


def _enable_auto_merge(
    pull: PullRequest, spec: PullRequestSpec, settings: ApiSettings
) -> tuple[bool, str | None]:
    """Enable auto-merge (GraphQL enablePullRequestAutoMerge); a refusal is a warning."""
    import github
    import requests

    try:
        pull.enable_automerge(merge_method=spec.merge_method.upper())
    except requests.exceptions.RequestException as exc:
        raise _translate(exc, settings, spec.repository) from exc
    except github.GithubException as exc:
        status = _status_of(exc)
        if status in (401, 403) or (status is not None and status >= 500):
            raise _translate(exc, settings, spec.repository) from exc
        return False, (
            f"auto-merge was not enabled on {pull.html_url}: {_message_of(exc)}. "
            "Allow auto-merge in the repository settings and protect the base branch "
            "with required checks, or merge the pull request by hand."
        )
    return True, None


# ---------------------------------------------------------------- deployments
_DEPLOYMENTS_WRITE = "'deployments: write'"
_DEPLOYMENTS_READ = "'deployments: read'"


@dataclass(frozen=True)
class DeploymentSpec:
    """One GitHub Deployment and its status (``POST .../deployments`` + ``.../statuses``)."""

    repository: str
    ref: str
    """The application commit the deployment is for."""
    task: str
    environment: str
    description: str
    payload: Mapping[str, Any]
    state: str
    """The status: success, failure, error, queued, in_progress, pending, inactive."""
    log_url: str = ""
    environment_url: str = ""


@dataclass(frozen=True)
class DeploymentSeen:
    """A deployment as listed by ``GET /repos/{owner}/{repo}/deployments``."""

    id: int
    task: str
    environment: str
    sha: str
    created_at: str
    """Immutable (``updated_at`` moves when a later deployment marks this one inactive,
    so it is never read)."""
    payload: Mapping[str, Any]


def create_deployment(spec: DeploymentSpec, *, settings: ApiSettings) -> int:
    """Create the deployment and its status; returns the deployment id."""
    from github.GithubObject import NotSet

    with _translated(settings, spec.repository, permissions=_DEPLOYMENTS_WRITE):
        repo = _client(settings).get_repo(spec.repository)
        deployment = repo.create_deployment(
            ref=spec.ref,
            task=spec.task,
            auto_merge=False,
            required_contexts=[],
            payload=dict(spec.payload),
            environment=spec.environment,
            description=spec.description,
            transient_environment=False,
        )
        # target_url is the older name of log_url; GitHub stores it as both.
        deployment.create_status(
            state=spec.state,
            target_url=spec.log_url or NotSet,
            description=spec.description,
            environment=spec.environment,
            environment_url=spec.environment_url or NotSet,
        )
        return int(deployment.id)


def list_deployments(
    repository: str, *, settings: ApiSettings, environment: str | None = None, limit: int = 1000
) -> list[DeploymentSeen]:
    """The newest ``limit`` deployments of ``repository`` (optionally one environment)."""
    from github.GithubObject import NotSet

    seen: list[DeploymentSeen] = []
    with _translated(settings, repository, permissions=_DEPLOYMENTS_READ):
        repo = _client(settings).get_repo(repository)
        for deployment in repo.get_deployments(environment=environment or NotSet):
            payload = deployment.payload
            seen.append(
                DeploymentSeen(
                    id=int(deployment.id),
                    task=str(deployment.task or ""),
                    environment=str(deployment.environment or ""),
                    sha=str(deployment.sha or ""),
                    created_at=deployment.created_at.isoformat() if deployment.created_at else "",
                    payload=payload if isinstance(payload, dict) else {},
                )
            )
            if len(seen) >= limit:
                break
    return seen
