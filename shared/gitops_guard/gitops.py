"""The git working copy: open or clone, commit, push, and push with rebase-and-reapply.

Everything here runs the real ``git`` CLI through :mod:`subprocess`, and every
failure of a git command is translated in one place (:func:`_translate`) into the
error tree: a rejected token is a :class:`~gitops_guard.errors.ConfigError` that
names the token variable (exit 2), an unreachable remote after retries is
:class:`~gitops_guard.errors.DependencyUnavailable` (exit 3), a directory that is
not a checkout is an :class:`~gitops_guard.errors.InputError` (exit 2).

Credentials: the token is read from the environment (``GITOPS_TOKEN``, else
``GITHUB_TOKEN``) at the moment each network command runs, and reaches git only
through ``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_n``/``GIT_CONFIG_VALUE_n``
environment variables as an ``http.<origin>.extraHeader``. It is never written to
``.git/config``, never part of a URL, and URLs with user info are redacted from
every message.

This module must not decide what to change: callers pass a ``mutate`` callable
that recomputes the edit on the current tip. It knows nothing of images,
manifests, GitHub's API or the Actions runner (it only registers secrets).
"""

from __future__ import annotations

import base64
import logging
import os
import random
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from gitops_guard import actions, errors

log = logging.getLogger(__name__)

TOKEN_ENVS = ("GITOPS_TOKEN", "GITHUB_TOKEN")
"""Where the token for an HTTPS remote is read from, first set wins."""

DEFAULT_IDENTITY = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")
"""The committer used when neither git config nor ``GIT_*`` variables name one."""

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")

_AUTH_FAILED = (
    "authentication failed",
    "could not read username",
    "could not read password",
    "the requested url returned error: 401",
    "the requested url returned error: 403",
    "permission denied (publickey",
    "invalid username or password",
    "terminal prompts disabled",
)
_NOT_FOUND = (
    "repository not found",
    "does not appear to be a git repository",
    "the requested url returned error: 404",
    "not found",
)
_UNREACHABLE = (
    "could not resolve host",
    "failed to connect",
    "connection refused",
    "connection timed out",
    "operation timed out",
    "connection reset",
    "the requested url returned error: 5",
    "remote end hung up unexpectedly",
    "early eof",
    "unable to access",
    "network is unreachable",
    "ssl_error",
    "gnutls",
)
_RACE = (
    "fetch first",
    "non-fast-forward",
    "cannot lock ref",
    "failed to update ref",
    "incorrect old value",
    "stale info",
    "failed to lock",
)


def redact_url(text: str) -> str:
    """Hide user info (``user:token@``) in every URL inside ``text``."""
    return _USERINFO.sub(r"\g<scheme>***@", text)


def _clean(text: str) -> str:
    return actions.redact(redact_url(text)).strip()


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry; the waits are jittered exponentials."""

    attempts: int = 10
    """Attempts in all for a rejected push (someone pushed first); at least 1."""
    network_attempts: int = 3
    """Attempts in all for a fetch, clone or push that could not reach the remote."""
    wait_initial_seconds: float = 0.2
    """Scale of the first random wait (push retries use the last attempt's duration
    when it is longer); each later wait may be up to twice as long."""
    wait_max_seconds: float = 8.0
    """No single wait is longer than this."""


class _ScaledJitter:
    """Full-jitter waits scaled by how long one attempt takes.

    Contenders only stop colliding once their retries are spread over more than the
    time one attempt takes (fetch, recompute, commit, push). On a busy runner that
    is seconds, not the fixed fraction of a second a plain exponential would start
    from, so the wait before retry ``n`` is uniform in
    ``[0, max(initial, last attempt) * 2**(n-1)]``, capped at ``wait_max_seconds``.
    """

    def __init__(self, policy: RetryPolicy):
        self.policy = policy
        self.last_attempt_seconds = 0.0

    def __call__(self, retry_state: RetryCallState) -> float:
        scale = max(self.policy.wait_initial_seconds, self.last_attempt_seconds)
        ceiling = min(self.policy.wait_max_seconds, scale * 2 ** (retry_state.attempt_number - 1))
        return random.uniform(0, ceiling)  # noqa: S311 (jitter, not cryptography)


class _Retryable(Exception):
    """A network command failed in a way worth trying again."""

    def __init__(self, error: errors.GitopsGuardError):
        super().__init__(error.message)
        self.error = error


class _PushRace(Exception):
    """The push was rejected because the remote branch moved."""


@dataclass(frozen=True)
class PushResult:
    """What one ``git push`` did."""

    ok: bool
    race: bool = False
    """Rejected because someone pushed first (retry after fetching)."""
    detail: str = ""


def _token_from_env(token_env: str | None, environ: Mapping[str, str]) -> tuple[str, str] | None:
    names = (token_env,) if token_env else ()
    for name in (*names, *TOKEN_ENVS):
        value = environ.get(name, "")
        if value:
            return name, value
    return None


def _auth_env(url: str, token: str, environ: Mapping[str, str]) -> dict[str, str]:
    """``GIT_CONFIG_*`` entries that send ``token`` to ``url``'s origin only.

    The empty value first resets any extraHeader an earlier config set for the same
    origin (``actions/checkout`` persists one), so git never sends two.
    """
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/"
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    actions.register_secret(basic)
    try:
        count = int(environ.get("GIT_CONFIG_COUNT", "0") or "0")
    except ValueError:
        count = 0
    key = f"http.{origin}.extraheader"
    env = {
        f"GIT_CONFIG_KEY_{count}": key,
        f"GIT_CONFIG_VALUE_{count}": "",
        f"GIT_CONFIG_KEY_{count + 1}": key,
        f"GIT_CONFIG_VALUE_{count + 1}": f"Authorization: Basic {basic}",
        "GIT_CONFIG_COUNT": str(count + 2),
    }
    return env


def _translate(
    args: Sequence[str],
    proc: subprocess.CompletedProcess[str],
    *,
    where: str,
    token_name: str | None,
) -> errors.GitopsGuardError | _Retryable:
    """The one place where a failed git command becomes an error of our tree."""
    detail = _clean(proc.stderr or proc.stdout or "")
    low = detail.lower()
    command = "git " + " ".join(_clean(a) for a in args[:2])
    if any(marker in low for marker in _AUTH_FAILED):
        variable = token_name or " or ".join(TOKEN_ENVS)
        if variable == "INPUT_TOKEN":
            variable = "the action's token input (INPUT_TOKEN)"
        return errors.ConfigError(
            f"{command} was refused: the remote did not accept the credentials ({detail})",
            source=variable,
            hint=(
                f"Set {variable} to a token that can read and push {where} "
                "(a fine-grained token or GitHub App token with contents: write)."
            ),
        )
    if any(marker in low for marker in _UNREACHABLE):
        return _Retryable(
            errors.DependencyUnavailable(
                f"{command} could not reach {where}: {detail}",
                hint="Check the URL and the network; the command was retried.",
            )
        )
    if any(marker in low for marker in _NOT_FOUND):
        return errors.ConfigError(
            f"{command}: {where} was not found ({detail})",
            source="--repo-url",
            hint="Check the repository URL or path, and that the token can see it.",
        )
    return errors.GitopsGuardError(f"{command} failed (exit {proc.returncode}): {detail}")


def _git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.setdefault("GIT_ASKPASS", "true")  # never prompt; fail instead
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")  # no host-key or password prompt
    env["LC_ALL"] = "C"  # stable English messages for _translate
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    if extra:
        env.update(extra)
    return env


def _run(
    args: Sequence[str],
    *,
    cwd: Path | None,
    env: Mapping[str, str],
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    log.debug("git %s", _clean(" ".join(args)))
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=dict(env),
            input=input_text,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise errors.ConfigError(
            "git is not installed or not on PATH",
            hint="Install git (apt-get install git) on the runner.",
        ) from exc


def _network(
    fn: Callable[[], subprocess.CompletedProcess[str]],
    *,
    args: Sequence[str],
    where: str,
    token_name: str | None,
    policy: RetryPolicy,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a network git command, retrying only failures that look transient.

    With ``check`` a failure that is not transient raises its translated error;
    without, the caller inspects the result (a rejected push is not an error yet).
    """
    try:
        for attempt in Retrying(
            stop=stop_after_attempt(max(1, policy.network_attempts)),
            wait=wait_random_exponential(
                multiplier=policy.wait_initial_seconds, max=policy.wait_max_seconds
            ),
            retry=retry_if_exception_type(_Retryable),
            reraise=True,
        ):
            with attempt:
                proc = fn()
                if proc.returncode == 0:
                    return proc
                problem = _translate(args, proc, where=where, token_name=token_name)
                if isinstance(problem, _Retryable):
                    raise problem
                if check:
                    raise problem
                return proc
    except _Retryable as exc:
        raise exc.error from None
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class WorkingCopy:
    """A git checkout on disk and the remote it pushes to."""

    root: Path
    remote: str = "origin"
    token_env: str | None = None
    """Read the token from this variable first (then ``GITOPS_TOKEN``, ``GITHUB_TOKEN``)."""
    policy: RetryPolicy = field(default_factory=RetryPolicy)

    # ------------------------------------------------------------ plumbing
    @property
    def where(self) -> str:
        url = self.remote_url()
        return redact_url(url) if url else str(self.root)

    def remote_url(self) -> str:
        proc = _run(["remote", "get-url", self.remote], cwd=self.root, env=_git_env())
        return proc.stdout.strip() if proc.returncode == 0 else ""

    def _network_env(self) -> tuple[dict[str, str], str | None]:
        url = self.remote_url()
        found = _token_from_env(self.token_env, os.environ)
        if not found or not url.startswith(("http://", "https://")):
            return _git_env(), None
        name, token = found
        actions.register_secret(token)
        return _git_env(_auth_env(url, token, os.environ)), name

    def git(self, *args: str, input_text: str | None = None) -> str:
        """Run a local git command in the checkout; returns stdout; errors translated."""
        proc = _run(args, cwd=self.root, env=_git_env(), input_text=input_text)
        if proc.returncode != 0:
            # A local command talks to no remote: no credentials, no network to blame.
            detail = _clean(proc.stderr or proc.stdout or "")
            raise errors.GitopsGuardError(
                f"git {' '.join(_clean(a) for a in args[:2])} failed in {self.root} "
                f"(exit {proc.returncode}): {detail}"
            )
        return proc.stdout

    def _git_network(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env, token_name = self._network_env()
        return _network(
            lambda: _run(args, cwd=self.root, env=env),
            args=args,
            where=self.where,
            token_name=token_name,
            policy=self.policy,
            check=check,
        )

    # ------------------------------------------------------------ queries
    def head(self) -> str:
        """The sha of HEAD."""
        return self.git("rev-parse", "HEAD").strip()

    def current_branch(self) -> str | None:
        """The checked-out branch, or None on a detached HEAD."""
        proc = _run(["symbolic-ref", "-q", "--short", "HEAD"], cwd=self.root, env=_git_env())
        return proc.stdout.strip() or None

    def tracked_branch(self) -> str | None:
        """The remote branch the current branch tracks (``main`` for ``origin/main``)."""
        branch = self.current_branch()
        if not branch:
            return None
        proc = _run(["config", "--get", f"branch.{branch}.merge"], cwd=self.root, env=_git_env())
        merge = proc.stdout.strip()
        return merge.removeprefix("refs/heads/") or None

    def dirty_paths(self, paths: Sequence[str]) -> list[str]:
        """Which of ``paths`` differ from HEAD (staged or not) or are untracked."""
        if not paths:
            return []
        out = self.git("status", "--porcelain", "-z", "--untracked-files=all", "--", *paths)
        return [entry[3:] for entry in out.split("\0") if len(entry) > 3]

    # ------------------------------------------------------------ changes
    def _identity_args(self) -> list[str]:
        has_email = (
            _run(["config", "user.email"], cwd=self.root, env=_git_env()).returncode == 0
            or "GIT_COMMITTER_EMAIL" in os.environ
        )
        if has_email:
            return []
        name, email = DEFAULT_IDENTITY
        return ["-c", f"user.name={name}", "-c", f"user.email={email}"]

    def commit(self, message: str, paths: Sequence[str]) -> str:
        """Commit exactly ``paths`` with ``message``; returns the new sha."""
        if not paths:
            raise errors.GitopsGuardError("nothing to commit: no paths were given")
        self.git("add", "--", *paths)
        self.git(
            *self._identity_args(),
            "commit",
            "-q",
            "--no-verify",
            "-F",
            "-",
            "--",
            *paths,
            input_text=message,
        )
        return self.head()

    def fetch(self, branch: str) -> str:
        """Fetch ``branch`` from the remote; returns the remote tip's sha."""
        self._git_network(
            "fetch",
            "-q",
            "--no-tags",
            self.remote,
            f"+refs/heads/{branch}:refs/remotes/{self.remote}/{branch}",
        )
        return self.git("rev-parse", f"refs/remotes/{self.remote}/{branch}").strip()

    def remote_branch(self, branch: str) -> str | None:
        """The sha of ``branch`` on the remote, fetched locally; None when it does not exist."""
        proc = self._git_network("ls-remote", "--heads", self.remote, f"refs/heads/{branch}")
        if not proc.stdout.strip():
            return None
        return self.fetch(branch)

    def same_change(self, a: str, b: str) -> bool:
        """Whether commits ``a`` and ``b`` have the same tree and the same parents."""

        def key(sha: str) -> tuple[str, str]:
            tree = self.git("rev-parse", f"{sha}^{{tree}}").strip()
            parents = self.git("rev-list", "--parents", "-n", "1", sha).split()[1:]
            return tree, " ".join(parents)

        return key(a) == key(b)

    def reset_to(self, ref: str) -> None:
        """Move HEAD (and the branch) to ``ref``, keeping unrelated local changes.

        ``reset --keep`` refuses instead of discarding local edits to files that differ
        between HEAD and ``ref``: a user's uncommitted work is never thrown away.
        """
        self.git("reset", "-q", "--keep", ref)

    def push(self, branch: str, *, force: bool = False) -> PushResult:
        """Push HEAD to ``branch`` on the remote."""
        refspec = f"{'+' if force else ''}HEAD:refs/heads/{branch}"
        args = ("push", "--porcelain", self.remote, refspec)
        proc = self._git_network(*args, check=False)
        if proc.returncode == 0:
            return PushResult(ok=True)
        detail = _clean(proc.stdout + "\n" + proc.stderr)
        low = detail.lower()
        if any(marker in low for marker in _RACE):
            return PushResult(ok=False, race=True, detail=detail)
        if "[remote rejected]" in low or "protected branch" in low or "hook declined" in low:
            raise errors.ConfigError(
                f"the remote refused the push to {branch}: {detail}",
                source="--branch",
                hint=(
                    "The branch is protected or a hook declined it: push to another "
                    "--branch, or use --pull-request."
                ),
            )
        problem = _translate(args, proc, where=self.where, token_name=self._network_env()[1])
        raise problem.error if isinstance(problem, _Retryable) else problem

    def push_with_retry(
        self,
        mutate: Callable[[WorkingCopy], str | None],
        *,
        branch: str,
        on_retry: Callable[[int, str], None] | None = None,
    ) -> tuple[str | None, int]:
        """Apply ``mutate`` and push; when someone pushed first, refetch and redo it.

        ``mutate`` recomputes the edit on the current tip and returns the new commit's
        sha, or None when there is nothing to do (the tip already has the change).
        A rejected push fetches, resets to the new remote tip and calls ``mutate``
        again, never merging text. Returns ``(sha or None, attempts)``.
        """
        attempts = 0
        jitter = _ScaledJitter(self.policy)
        try:
            for attempt in Retrying(
                stop=stop_after_attempt(max(1, self.policy.attempts)),
                wait=jitter,
                retry=retry_if_exception_type(_PushRace),
                reraise=True,
            ):
                with attempt:
                    attempts += 1
                    started = time.monotonic()
                    if attempts > 1:
                        # Fetch after the wait, not before it: the tip is as fresh as it gets.
                        tip = self.fetch(branch)
                        self.reset_to(tip)
                        if on_retry:
                            on_retry(attempts - 1, tip)
                    sha = mutate(self)
                    if sha is None:
                        return None, attempts
                    result = self.push(branch)
                    if result.ok:
                        return sha, attempts
                    jitter.last_attempt_seconds = time.monotonic() - started
                    raise _PushRace(result.detail)
        except _PushRace as exc:
            raise errors.DependencyUnavailable(
                f"the push to {branch} on {self.where} was still rejected after "
                f"{attempts} attempts: others keep pushing first ({exc})",
                hint="Rerun the job, or raise --max-retries.",
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover


def open_checkout(
    root: str | os.PathLike[str],
    *,
    remote: str = "origin",
    token_env: str | None = None,
    policy: RetryPolicy | None = None,
) -> WorkingCopy:
    """Open an existing checkout; ``InputError`` naming ``--dir`` when it is not one."""
    path = Path(root)
    if not path.is_dir():
        raise errors.InputError(
            f"{path} is not a directory",
            source="--dir",
            hint="Point --dir at a checkout of the GitOps repository, or pass --repo-url.",
        )
    proc = _run(["rev-parse", "--show-toplevel"], cwd=path, env=_git_env())
    if proc.returncode != 0:
        raise errors.InputError(
            f"{path} is not inside a git checkout",
            source="--dir",
            hint="Check out the GitOps repository first (actions/checkout), or pass --repo-url.",
        )
    top = Path(proc.stdout.strip())
    branch = _run(["symbolic-ref", "-q", "--short", "HEAD"], cwd=top, env=_git_env())
    if branch.returncode == 0 and remote == "origin":
        # Push where the branch's upstream lives, when it has one elsewhere than origin.
        tracked = _run(
            ["config", "--get", f"branch.{branch.stdout.strip()}.remote"], cwd=top, env=_git_env()
        ).stdout.strip()
        remote = tracked if tracked and tracked != "." else remote
    return WorkingCopy(
        root=top,
        remote=remote,
        token_env=token_env,
        policy=policy or RetryPolicy(),
    )


def clone(
    url: str,
    dest: str | os.PathLike[str],
    *,
    branch: str | None = None,
    token_env: str | None = "GITOPS_TOKEN",  # noqa: S107 (a variable name, not a secret)
    policy: RetryPolicy | None = None,
) -> WorkingCopy:
    """Clone ``url`` into ``dest`` (absent or empty); the token never reaches .git/config."""
    if url.startswith(("http://", "https://")) and _USERINFO.match(url):
        raise errors.InputError(
            f"the repository URL {redact_url(url)} carries credentials",
            source="--repo-url",
            hint="Pass the URL without user info and put the token in GITOPS_TOKEN.",
        )
    target = Path(dest)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise errors.InputError(
            f"cannot clone into {target}: it exists and is not an empty directory",
            source="--dir",
            hint="Give --dir a new or empty directory, or drop --repo-url to use that checkout.",
        )
    policy = policy or RetryPolicy()
    env = _git_env()
    token_name = None
    found = _token_from_env(token_env, os.environ)
    if found and url.startswith(("http://", "https://")):
        token_name, token = found
        actions.register_secret(token)
        env = _git_env(_auth_env(url, token, os.environ))
    args = ["clone", "-q", "--no-tags"]
    if branch:
        args += ["--branch", branch]
    args += ["--", url, str(target)]
    target.parent.mkdir(parents=True, exist_ok=True)
    _network(
        lambda: _clone_once(args, target, env),
        args=args,
        where=redact_url(url),
        token_name=token_name,
        policy=policy,
    )
    return WorkingCopy(root=target.resolve(), token_env=token_env, policy=policy)


def _clone_once(
    args: Sequence[str], target: Path, env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    proc = _run(args, cwd=None, env=env)
    if proc.returncode != 0 and target.exists() and not any(target.iterdir()):
        target.rmdir()  # a failed clone leaves nothing behind, so a retry can start over
    return proc


def temporary_clone_dir() -> Path:
    """A fresh directory to clone into (under ``$RUNNER_TEMP`` inside a runner)."""
    base = os.environ.get("RUNNER_TEMP") or None
    return Path(tempfile.mkdtemp(prefix="gitops-guard-", dir=base)) / "repo"
