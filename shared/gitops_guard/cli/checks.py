"""Argument checks at the edge: one URL check, one path check, one number check.

Each ``*_arg`` function returns an argparse ``type=`` callable: argparse calls it
while parsing, before any subcommand runs, so a bad value is exit 2 naming the
flag (or, under ``--from-action-inputs``, the action input) with nothing written.
The checks themselves (``check_url``, ``check_report_path``...) raise
:class:`errors.InputError` naming ``source`` and can be called on values that do
not come from a flag.

This module must not do network I/O; the one subprocess it runs is
``git check-ref-format``, the definition of a valid branch name.
"""

from __future__ import annotations

import argparse
import math
import re
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from gitops_guard import durations, errors

T = TypeVar("T")

HTTP_SCHEMES = ("http", "https")


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
def check_url(
    text: str,
    source: str,
    *,
    schemes: tuple[str, ...] = HTTP_SCHEMES,
    default_scheme: str | None = None,
) -> str:
    """An absolute ``http(s)://host[:port][/path]`` URL, without a trailing slash.

    Refused: an empty value, another scheme (``ftp://``), no host (``http://``),
    a space or a control character, a port outside 1-65535, an unclosed IPv6
    bracket (``http://[::1``). User info (``user:token@``) is left to
    :mod:`gitops_guard.credentials`, which strips it before anything is printed.
    With ``default_scheme``, a bare ``host[:port]`` gets it (the argocd CLI's habit).
    """
    value = text.strip()
    if default_scheme and value and "://" not in value:
        value = f"{default_scheme}://{value}"
    hint = f"Write the URL like https://host.example:443/prefix ({' or '.join(schemes)})."
    if not value:
        raise errors.InputError("the URL is empty", source=source, hint=hint)
    if any(c.isspace() or ord(c) < 32 for c in value):
        raise errors.InputError("the URL contains a space", source=source, hint=hint)
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise errors.InputError(f"not a URL: {exc}", source=source, hint=hint) from exc
    if parts.scheme.lower() not in schemes:
        shown = f"{parts.scheme}://" if parts.scheme else "no scheme"
        raise errors.InputError(f"unsupported scheme: {shown}", source=source, hint=hint)
    if not parts.hostname:
        raise errors.InputError("the URL has no host", source=source, hint=hint)
    if port is not None and not 1 <= port <= 65535:
        raise errors.InputError(f"port {port} is out of range", source=source, hint=hint)
    return value.rstrip("/")


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


def check_existing_file(text: str, source: str) -> Path:
    """A file that exists and can be read."""
    path = Path(text)
    if not text.strip() or not path.is_file():
        raise errors.InputError(f"{text!r} is not a file", source=source)
    return path


def check_directory(text: str, source: str) -> Path:
    """A directory that exists."""
    path = Path(text)
    if not text.strip() or not path.is_dir():
        raise errors.InputError(f"{text!r} is not a directory", source=source)
    return path


def check_ca_bundle(text: str, source: str) -> Path:
    """A PEM file with at least one CA certificate (as ``ssl`` would load it)."""
    path = check_existing_file(text, source)
    try:
        context = ssl.create_default_context(cafile=str(path))
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise errors.InputError(
            f"{text} is not a PEM certificate bundle ({exc})",
            source=source,
            hint="Pass a PEM file with the CA certificate(s) that signed the server's certificate.",
        ) from exc
    if not context.get_ca_certs():
        raise errors.InputError(f"{text} holds no CA certificate", source=source)
    return path


def report_arg(flag: str) -> Callable[[str], str]:
    """argparse ``type=`` for a file to write (see :func:`check_report_path`)."""
    return _as_type(lambda text, source: str(check_report_path(text, source)), flag)


def existing_file_arg(flag: str) -> Callable[[str], str]:
    """argparse ``type=`` for a file to read."""
    return _as_type(lambda text, source: str(check_existing_file(text, source)), flag)


def ca_bundle_arg(flag: str) -> Callable[[str], str]:
    """argparse ``type=`` for a CA bundle (see :func:`check_ca_bundle`)."""
    return _as_type(lambda text, source: str(check_ca_bundle(text, source)), flag)


# ---------------------------------------------------------------- numbers, durations
def check_duration(
    text: str, source: str, *, allow_zero: bool = False, maximum: float | None = None
) -> float:
    """Seconds from the one duration grammar (``500ms``, ``30s``, ``1h30m``, ``1d``, seconds).

    Always finite; above 0 unless ``allow_zero``; at most ``maximum`` when given.
    """
    if maximum is None:
        seconds = durations.parse_duration(text, source=source)
    else:
        seconds = durations.parse_duration(text, source=source, maximum=maximum)
    if seconds == 0 and not allow_zero:
        raise errors.InputError("must be above 0", source=source)
    return seconds


def duration_arg(
    flag: str, *, allow_zero: bool = False, maximum: float | None = None
) -> Callable[[str], float]:
    """argparse ``type=`` for a duration flag (see :func:`check_duration`)."""
    return _as_type(
        lambda text, source: check_duration(text, source, allow_zero=allow_zero, maximum=maximum),
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


def check_finite(text: str, source: str, *, above: float = 0.0) -> float:
    """A finite number above ``above`` (``nan`` and ``inf`` are refused)."""
    try:
        value = float(text.strip())
    except ValueError as exc:
        raise errors.InputError(f"not a number: {text!r}", source=source) from exc
    if not math.isfinite(value) or value <= above:
        raise errors.InputError(
            f"expected a finite number above {above:g}, got {text!r}", source=source
        )
    return value


def finite_arg(flag: str, *, above: float = 0.0) -> Callable[[str], float]:
    """argparse ``type=`` for a finite number (see :func:`check_finite`)."""
    return _as_type(lambda text, source: check_finite(text, source, above=above), flag)


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
def check_branch(text: str, source: str) -> str:
    """A valid branch name, as ``git check-ref-format --branch`` defines it."""
    value = text.strip()
    done = subprocess.run(
        ["git", "check-ref-format", "--branch", value],
        capture_output=True,
        text=True,
        check=False,
    )
    if not value or value.startswith("-") or done.returncode != 0:
        raise errors.InputError(
            f"{text!r} is not a valid branch name",
            source=source,
            hint="Name a branch git accepts: no spaces, '..', ':', '~', '^', '?', '*' or '['.",
        )
    return value


def branch_arg(flag: str) -> Callable[[str], str]:
    """argparse ``type=`` for a branch name (see :func:`check_branch`)."""
    return _as_type(check_branch, flag)
