"""The git working copy: open or clone, commit, fetch, push, and push with recompute.

This module must not decide what to change: callers pass a ``mutate`` callable that
recomputes the edit on the current tip (see :meth:`WorkingCopy.push_with_retry`).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gitops_guard import actions, deadline, errors
from gitops_guard.gitops import _git


@dataclass(frozen=True)
class PushResult:
    """What one ``git push`` did."""

    ok: bool
    race: bool = False
    """Rejected because someone pushed first (retry after fetching)."""
    detail: str = ""


@dataclass
class WorkingCopy:
    """A git checkout on disk and the remote it pushes to."""

    root: Path
    remote: str = "origin"
    token_env: str | None = None
    """Read the token from this variable first (then ``GITOPS_TOKEN``, ``GITHUB_TOKEN``)."""
    policy: _git.RetryPolicy = field(default_factory=_git.RetryPolicy)

    # ------------------------------------------------------------ plumbing
    @property
    def where(self) -> str:
        return self._where(self.remote_url())

    def _where(self, url: str) -> str:
        return _git.redact_url(url) if url else str(self.root)

    def remote_url(self) -> str:
        proc = _git.run(["remote", "get-url", self.remote], cwd=self.root, env=_git.git_env())
        return proc.stdout.strip() if proc.returncode == 0 else ""

    def _network_env(self, url: str) -> tuple[dict[str, str], str | None]:
        found = _git.token_from_env(self.token_env, os.environ)
        if not found or not url.startswith(("http://", "https://")):
            return _git.git_env(), None
        name, token = found
        actions.register_secret(token)
        return _git.git_env(_git.auth_env(url, token, os.environ)), name

    def git(self, *args: str, input_text: str | None = None) -> str:
        """Run a local git command in the checkout; returns stdout; errors translated."""
        proc = _git.run(args, cwd=self.root, env=_git.git_env(), input_text=input_text)
        if proc.returncode != 0:
            # A local command talks to no remote: no credentials, no network to blame.
            detail = _git.clean(proc.stderr or proc.stdout or "")
            raise errors.GitopsGuardError(
                f"git {' '.join(_git.clean(a) for a in args[:2])} failed in {self.root} "
                f"(exit {proc.returncode}): {detail}"
            )
        return proc.stdout

    def _git_network(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        url = self.remote_url()
        env, token_name = self._network_env(url)
        return _git.network(
            lambda: _git.run(args, cwd=self.root, env=env),
            args=args,
            where=self._where(url),
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
        proc = _git.run(
            ["symbolic-ref", "-q", "--short", "HEAD"], cwd=self.root, env=_git.git_env()
        )
        return proc.stdout.strip() or None

    def tracked_branch(self) -> str | None:
        """The remote branch the current branch tracks (``main`` for ``origin/main``)."""
        branch = self.current_branch()
        if not branch:
            return None
        proc = _git.run(
            ["config", "--get", f"branch.{branch}.merge"], cwd=self.root, env=_git.git_env()
        )
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
            _git.run(["config", "user.email"], cwd=self.root, env=_git.git_env()).returncode == 0
            or "GIT_COMMITTER_EMAIL" in os.environ
        )
        if has_email:
            return []
        name, email = _git.DEFAULT_IDENTITY
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
        detail = _git.clean(proc.stdout + "\n" + proc.stderr)
        low = detail.lower()
        if any(marker in low for marker in _git.RACE):
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
        url = self.remote_url()
        problem = _git.translate(
            args, proc, where=self._where(url), token_name=self._network_env(url)[1]
        )
        raise problem.error if isinstance(problem, _git.Retryable) else problem

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
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt  # pushes only

        attempts = 0
        jitter = _git.ScaledJitter(self.policy)
        try:
            for attempt in Retrying(
                stop=stop_after_attempt(max(1, self.policy.attempts)),
                wait=lambda state: _within_overall(jitter(state)),
                retry=retry_if_exception_type(_git.PushRace),
                reraise=True,
            ):
                with attempt:
                    attempts += 1
                    started = time.monotonic()
                    if attempts > 1:
                        deadline.check_overall(
                            f"the push to {branch} on {self.where} (others pushed first; "
                            f"{attempts - 1} attempts)"
                        )
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
                    raise _git.PushRace(result.detail)
        except _git.PushRace as exc:
            raise errors.DependencyUnavailable(
                f"the push to {branch} on {self.where} was still rejected after "
                f"{attempts} attempts: others keep pushing first ({exc})",
                hint="Rerun the job, or raise --max-retries.",
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover


def _within_overall(seconds: float) -> float:
    """A wait between push attempts, never past the command's overall deadline."""
    overall = deadline.current_overall()
    return seconds if overall is None else overall.bound(seconds)


def open_checkout(
    root: str | os.PathLike[str],
    *,
    remote: str = "origin",
    token_env: str | None = None,
    policy: _git.RetryPolicy | None = None,
    clone_flag: str | None = None,
) -> WorkingCopy:
    """Open an existing checkout; ``InputError`` naming ``--dir`` when it is not one.

    ``clone_flag`` is the caller's flag that clones instead (update-manifest's
    ``--repo-url``), named in the hint; a command without one is not told of it.
    """
    path = Path(root)
    instead = f", or pass {clone_flag}" if clone_flag else ""
    if not path.is_dir():
        raise errors.InputError(
            f"{path} is not a directory",
            source="--dir",
            hint=f"Point --dir at a checkout of the GitOps repository{instead}.",
        )
    proc = _git.run(["rev-parse", "--show-toplevel"], cwd=path, env=_git.git_env())
    if proc.returncode != 0:
        raise errors.InputError(
            f"{path} is not inside a git checkout",
            source="--dir",
            hint=f"Check out the GitOps repository first (actions/checkout){instead}.",
        )
    top = Path(proc.stdout.strip())
    branch = _git.run(["symbolic-ref", "-q", "--short", "HEAD"], cwd=top, env=_git.git_env())
    if branch.returncode == 0 and remote == "origin":
        # Push where the branch's upstream lives, when it has one elsewhere than origin.
        tracked = _git.run(
            ["config", "--get", f"branch.{branch.stdout.strip()}.remote"],
            cwd=top,
            env=_git.git_env(),
        ).stdout.strip()
        remote = tracked if tracked and tracked != "." else remote
    return WorkingCopy(
        root=top,
        remote=remote,
        token_env=token_env,
        policy=policy or _git.RetryPolicy(),
    )


def clone(
    url: str,
    dest: str | os.PathLike[str],
    *,
    branch: str | None = None,
    token_env: str | None = "GITOPS_TOKEN",  # noqa: S107 (a variable name, not a secret)
    policy: _git.RetryPolicy | None = None,
) -> WorkingCopy:
    """Clone ``url`` into ``dest`` (absent or empty); the token never reaches .git/config."""
    if url.startswith(("http://", "https://")) and _git.USERINFO.match(url):
        raise errors.InputError(
            f"the repository URL {_git.redact_url(url)} carries credentials",
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
    policy = policy or _git.RetryPolicy()
    env = _git.git_env()
    token_name = None
    found = _git.token_from_env(token_env, os.environ)
    if found and url.startswith(("http://", "https://")):
        token_name, token = found
        actions.register_secret(token)
        env = _git.git_env(_git.auth_env(url, token, os.environ))
    args = ["clone", "-q", "--no-tags"]
    if branch:
        args += ["--branch", branch]
    args += ["--", url, str(target)]
    target.parent.mkdir(parents=True, exist_ok=True)
    _git.network(
        lambda: _clone_once(args, target, env),
        args=args,
        where=_git.redact_url(url),
        token_name=token_name,
        policy=policy,
    )
    return WorkingCopy(root=target.resolve(), token_env=token_env, policy=policy)


def _clone_once(
    args: Sequence[str], target: Path, env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    proc = _git.run(args, cwd=None, env=env)
    if proc.returncode != 0 and target.exists() and not any(target.iterdir()):
        target.rmdir()  # a failed clone leaves nothing behind, so a retry can start over
    return proc


def temporary_clone_dir() -> Path:
    """A fresh directory to clone into (under ``$RUNNER_TEMP`` inside a runner)."""
    return Path(tempfile.mkdtemp(prefix="gitops-guard-", dir=actions.runner_temp())) / "repo"
