"""Argument checks at the edge: one URL check, one path check, one number check.

Each ``*_arg`` function returns an argparse ``type=`` callable: argparse calls it
while parsing, before any subcommand runs, so a bad value is exit 2 naming the
flag (or, under ``--from-action-inputs``, the action input) with nothing written.
The checks themselves (``check_url``, ``check_report_path``...) raise
:class:`errors.InputError` naming ``source`` and can be called on values that do
not come from a flag.

This module must not do I/O beyond looking at local files (a report's
directory, a CA bundle); branch names follow ``git check-ref-format --branch``
without running git (a test holds the two together).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from gitops_guard import durations, errors, urls

T = TypeVar("T")

HTTP_SCHEMES = urls.HTTP_SCHEMES


def _as_type(check: Callable[[str, str], T], flag: str) -> Callable[[str], T]:
    """An argparse ``type=``: the check's InputError becomes argparse's error for ``flag``."""

    def parse(text: str) -> T:
        try:
            return check(text, flag)
        except errors.InputError as exc:
            raise argparse.ArgumentTypeError(
                exc.message + (f" ({exc.hint})" if exc.hint else "")
            ) from exc

    parse.__name__ = flag  # argparse names the type in some messages
    return parse


# ---------------------------------------------------------------- URLs
check_url = urls.check_url
"""The one URL check (:func:`gitops_guard.urls.check_url`)."""


def url_arg(
    flag: str, *, schemes: tuple[str, ...] = HTTP_SCHEMES, default_scheme: str | None = None
) -> Callable[[str], str]:
    """argparse ``type=`` for a URL flag (see :func:`check_url`)."""
    return _as_type(
        lambda text, source: check_url(
            text, source, schemes=schemes, default_scheme=default_scheme
        ),
        flag,
    )


# ---------------------------------------------------------------- paths
def check_report_path(text: str, source: str) -> Path:
    """A file to write: not empty, not a directory, and in a directory that exists."""
    if not text.strip():
        raise errors.InputError("the path is empty", source=source)
    path = Path(text)
    if path.is_dir():
        raise errors.InputError(
            f"{text} is a directory", source=source, hint="Name a file to write, e.g. report.json."
        )
    parent = path.parent
    if not parent.is_dir():
        raise errors.InputError(
            f"the directory {parent} does not exist",
            source=source,
            hint="Create the directory first, or name a file in an existing one.",
        )
    return path


def check_ca_bundle(text: str, source: str) -> Path:
    """A PEM file with at least one CA certificate, checked by the HTTP base's own rule
    (:func:`gitops_guard.http.verify_from`), so the flag and the client agree."""
    if not text.strip():
        raise errors.InputError("the path is empty", source=source)
    import ssl  # with httpx and pydantic: not on update-manifest's hot path

    from gitops_guard import http

    context = http.verify_from(ca_bundle=text, source=source)
    if isinstance(context, ssl.SSLContext) and not context.get_ca_certs():
        raise errors.InputError(
            f"{text} holds no CA certificate",
            source=source,
            hint="Pass a PEM file with the CA certificate(s) of the server.",
        )
    return Path(text)


def report_arg(flag: str) -> Callable[[str], str]:
    """argparse ``type=`` for a file to write (see :func:`check_report_path`)."""
    return _as_type(lambda text, source: str(check_report_path(text, source)), flag)


def ca_bundle_arg(flag: str) -> Callable[[str], str]:
    """argparse ``type=`` for a CA bundle (see :func:`check_ca_bundle`)."""
    return _as_type(lambda text, source: str(check_ca_bundle(text, source)), flag)


# ---------------------------------------------------------------- numbers, durations
def check_duration(
    text: str,
    source: str,
    *,
    allow_zero: bool = False,
    minimum: float = 0.0,
    maximum: float | None = None,
) -> float:
    """Seconds from the one duration grammar (``500ms``, ``30s``, ``1h30m``, ``1d``, seconds).

    Always finite; above 0 unless ``allow_zero``; within ``minimum..maximum``.
    """
    if maximum is None:
        seconds = durations.parse_duration(text, source=source, minimum=minimum)
    else:
        seconds = durations.parse_duration(text, source=source, minimum=minimum, maximum=maximum)
    if seconds == 0 and not allow_zero:
        raise errors.InputError("must be above 0", source=source)
    return seconds


def duration_arg(
    flag: str, *, allow_zero: bool = False, minimum: float = 0.0, maximum: float | None = None
) -> Callable[[str], float]:
    """argparse ``type=`` for a duration flag (see :func:`check_duration`)."""
    return _as_type(
        lambda text, source: check_duration(
            text, source, allow_zero=allow_zero, minimum=minimum, maximum=maximum
        ),
        flag,
    )


def check_int(text: str, source: str, *, minimum: int = 1, maximum: int | None = None) -> int:
    """A whole number within ``minimum..maximum``."""
    try:
        value = int(text.strip())
    except ValueError as exc:
        raise errors.InputError(f"not a whole number: {text!r}", source=source) from exc
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"from {minimum}" + (f" to {maximum}" if maximum is not None else "")
        raise errors.InputError(f"expected a whole number {bound}, got {value}", source=source)
    return value


def int_arg(flag: str, *, minimum: int = 1, maximum: int | None = None) -> Callable[[str], int]:
    """argparse ``type=`` for a bounded whole number."""
    return _as_type(
        lambda text, source: check_int(text, source, minimum=minimum, maximum=maximum), flag
    )


def nonempty_arg(flag: str) -> Callable[[str], str]:
    """argparse ``type=`` for a value that must not be blank (``--app ''``)."""

    def check(text: str, source: str) -> str:
        if not text.strip():
            raise errors.InputError("must not be empty", source=source)
        return text.strip()

    return _as_type(check, flag)


_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")


def check_repository(text: str, source: str) -> str:
    """A GitHub ``OWNER/NAME``."""
    value = text.strip()
    if not _REPOSITORY.match(value) or value.endswith((".", "/..")):
        raise errors.InputError(
            f"{text!r} is not a GitHub repository", source=source, hint="Write it as OWNER/NAME."
        )
    return value


def repository_arg(flag: str) -> Callable[[str], str]:
    """argparse ``type=`` for ``OWNER/NAME``."""
    return _as_type(check_repository, flag)


# ---------------------------------------------------------------- git
def branch_problem(name: str) -> str | None:
    """Why ``name`` is not a valid branch name, or None: the rules of
    ``git check-ref-format --branch`` (git-check-ref-format(1)), without running git."""
    if not name:
        return "it is empty"
    if name.startswith("-"):
        return "it starts with '-'"
    if name == "HEAD" or name == "@":
        return f"{name!r} is reserved"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "it contains a control character"
    for bad in (" ", "~", "^", ":", "?", "*", "[", "\\", "..", "@{", "//"):
        if bad in name:
            return f"it contains {bad!r}"
    if name.startswith("/") or name.endswith("/"):
        return "it starts or ends with '/'"
    if name.endswith("."):
        return "it ends with '.'"
    for part in name.split("/"):
        if part.startswith("."):
            return "a part starts with '.'"
        if part.endswith(".lock"):
            return "a part ends with '.lock'"
    return None


def check_branch(text: str, source: str) -> str:
    """A valid branch name, as ``git check-ref-format --branch`` defines it."""
    value = text.strip()
    problem = branch_problem(value)
    if problem is not None:
        raise errors.InputError(
            f"{text!r} is not a valid branch name: {problem}",
            source=source,
            hint="Name a branch git accepts: no spaces, '..', ':', '~', '^', '?', '*' or '['.",
        )
    return value


_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:")


def check_repo_url(text: str, source: str) -> str:
    """A repository git can clone: ``https://``/``ssh://``/``git@host:path``, or a path.

    A local path (or ``file://`` URL) must exist: git would only say so after the
    clone started, and as a fault (3) rather than the bad input (2) it is.
    """
    value = text.strip()
    if not value:
        raise errors.InputError("the repository URL is empty", source=source)
    if _SCP_LIKE.match(value):
        return value
    if "://" in value:
        scheme = value.split("://", 1)[0].lower()
        if scheme in ("https", "http", "ssh", "git"):
            check_url(value, source, schemes=(scheme,))
            return value
        if scheme != "file":
            raise errors.InputError(
                f"unsupported scheme: {scheme}://",
                source=source,
                hint="Use https://, ssh://, git@host:owner/name or a local path.",
            )
        local = Path(value[len("file://") :])
    else:
        local = Path(value)
    if not local.exists():
        raise errors.InputError(
            f"the repository {value} does not exist",
            source=source,
            hint="Check the path, or pass the https:// URL of the GitOps repository.",
        )
    return value


def repo_url_arg(flag: str) -> Callable[[str], str]:
    """argparse ``type=`` for a repository to clone (see :func:`check_repo_url`)."""
    return _as_type(check_repo_url, flag)


def branch_arg(flag: str) -> Callable[[str], str]:
    """argparse ``type=`` for a branch name (see :func:`check_branch`)."""
    return _as_type(check_branch, flag)
