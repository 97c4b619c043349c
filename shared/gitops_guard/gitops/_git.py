"""Plumbing of the git engine: running git, retry policy, error translation, credentials.

:func:`translate` is the one place where a failed git command becomes an error of
our tree. :func:`auth_env` builds the ``GIT_CONFIG_*`` environment that carries the
token to git; :func:`redact_url` hides user info in every URL we print.

Every network command (clone, fetch, push, ls-remote) runs under one deadline
(:attr:`RetryPolicy.network_timeout_seconds`, retries included; cut to the command's
overall deadline, :func:`gitops_guard.deadline.overall`): git is killed with
its helpers (``git-remote-https``) when it expires, and the error says how long it
waited and for which remote. A stalled transfer is cut earlier by git itself
(``http.lowSpeedLimit``/``lowSpeedTime``).

This module must not know about checkouts, branches or what is being changed.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import logging
import os
import random
import re
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from gitops_guard import actions, credentials, errors

if TYPE_CHECKING:  # http loads httpx and pydantic, tenacity retries: network commands only
    from tenacity import RetryCallState

    from gitops_guard import http

log = logging.getLogger(__name__)

TOKEN_ENVS = credentials.GITHUB_VARS
"""Where the token for an HTTPS remote is read from, first set wins."""

DEFAULT_IDENTITY = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")
"""The committer used when neither git config nor ``GIT_*`` variables name one."""

USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")

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
RACE = (
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
    return USERINFO.sub(r"\g<scheme>***@", text)


def clean(text: str) -> str:
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
    network_timeout_seconds: float = 300.0
    """One network command (clone, fetch, push), every retry included, ends within this."""


class ScaledJitter:
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


class Retryable(Exception):
    """A network command failed in a way worth trying again."""

    def __init__(self, error: errors.GitopsGuardError):
        super().__init__(error.message)
        self.error = error


class PushRace(Exception):
    """The push was rejected because the remote branch moved."""


def token_from_env(token_env: str | None, environ: Mapping[str, str]) -> tuple[str, str] | None:
    """``(variable, token)`` for git over HTTPS, read by the one token resolver."""
    found = credentials.github_token(environ, prefer=token_env)
    return (found.source, found.value) if found is not None else None


def auth_env(url: str, token: str, environ: Mapping[str, str]) -> dict[str, str]:
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


def translate(
    args: Sequence[str],
    proc: subprocess.CompletedProcess[str],
    *,
    where: str,
    token_name: str | None,
) -> errors.GitopsGuardError | Retryable:
    """The one place where a failed git command becomes an error of our tree."""
    detail = clean(proc.stderr or proc.stdout or "")
    low = detail.lower()
    command = "git " + " ".join(clean(a) for a in args[:2])
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
        return Retryable(
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


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.setdefault("GIT_ASKPASS", "true")  # never prompt; fail instead
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")  # no host-key or password prompt
    env["LC_ALL"] = "C"  # stable English messages for translate
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    if extra:
        env.update(extra)
    return env


_network_deadline: contextvars.ContextVar[http.Deadline | None] = contextvars.ContextVar(
    "network_deadline", default=None
)
"""Set by :func:`network` while a network command runs: :func:`run` obeys it."""

_LOW_SPEED = {"GIT_HTTP_LOW_SPEED_LIMIT": "1000", "GIT_HTTP_LOW_SPEED_TIME": "30"}
"""Let git abort an HTTP transfer slower than 1 kB/s for 30 s by itself."""


def run(
    args: Sequence[str],
    *,
    cwd: Path | None,
    env: Mapping[str, str],
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    log.debug("git %s", clean(" ".join(args)))
    if input_text is not None and {"commit", "tag", "notes"} & set(args[:6]):
        # A commit message lands in git objects, which are pushed: never a secret there.
        input_text = credentials.redact(input_text)
    deadline = _network_deadline.get()
    timeout = None
    full_env = dict(env)
    if deadline is not None:
        timeout = max(0.1, deadline.remaining())
        for key, value in _LOW_SPEED.items():
            full_env.setdefault(key, value)
    try:
        proc = subprocess.Popen(
            ["git", *args],
            cwd=cwd,
            env=full_env,
            stdin=subprocess.PIPE if input_text is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=deadline is not None,  # so a timeout kills git's helpers too
        )
    except FileNotFoundError as exc:
        raise errors.ConfigError(
            "git is not installed or not on PATH",
            hint="Install git (apt-get install git) on the runner.",
        ) from exc
    try:
        out, err = proc.communicate(input_text, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        _kill(proc)
        assert deadline is not None
        raise _Timeout(deadline) from exc
    except BaseException:
        _kill(proc)
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _kill(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired, ValueError, OSError):
        proc.communicate(timeout=5)


class _Timeout(Exception):
    """Internal: the network deadline expired while git ran."""

    def __init__(self, deadline: http.Deadline) -> None:
        super().__init__("git timed out")
        self.deadline = deadline


def network(
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
    from gitops_guard import http

    deadline = _network_deadline.get() or http.bounded(
        http.Deadline(policy.network_timeout_seconds, source="the git network timeout")
    )
    if deadline.expired():
        raise http.overall_expired(f"{where} (before git {clean(args[0])})")
    token = _network_deadline.set(deadline)
    started = time.monotonic()
    try:
        return _network(
            fn, args=args, where=where, token_name=token_name, policy=policy, check=check
        )
    except _Timeout as exc:
        command = "git " + " ".join(clean(a) for a in args[:2])
        if exc.deadline is http.current_overall():
            raise http.overall_expired(f"{where} ({command})") from None
        raise errors.DependencyUnavailable(
            f"{command} did not finish within {exc.deadline.describe()}: waited "
            f"{time.monotonic() - started:.1f}s for {where}",
            hint="Check that the remote is reachable and healthy from the runner; "
            "the command can be re-run safely.",
        ) from None
    finally:
        _network_deadline.reset(token)


def _network(
    fn: Callable[[], subprocess.CompletedProcess[str]],
    *,
    args: Sequence[str],
    where: str,
    token_name: str | None,
    policy: RetryPolicy,
    check: bool,
) -> subprocess.CompletedProcess[str]:
    # tenacity is loaded here, not at import: a local edit or commit never retries.
    from tenacity import (
        Retrying,
        retry_if_exception_type,
        stop_after_attempt,
        stop_any,
        stop_before_delay,
        wait_random_exponential,
    )

    deadline = _network_deadline.get()
    assert deadline is not None

    # Retry only while a wait leaves the next attempt at least a second.
    out_of_time = stop_before_delay(max(0.0, deadline.remaining() - 1.0))

    try:
        for attempt in Retrying(
            stop=stop_any(stop_after_attempt(max(1, policy.network_attempts)), out_of_time),
            wait=wait_random_exponential(
                multiplier=policy.wait_initial_seconds, max=policy.wait_max_seconds
            ),
            retry=retry_if_exception_type(Retryable),
            reraise=True,
        ):
            with attempt:
                proc = fn()
                if proc.returncode == 0:
                    return proc
                problem = translate(args, proc, where=where, token_name=token_name)
                if isinstance(problem, Retryable):
                    raise problem
                if check:
                    raise problem
                return proc
    except Retryable as exc:
        raise exc.error from None
    raise AssertionError("unreachable")  # pragma: no cover
