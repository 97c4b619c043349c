"""The HTTP base's values: how hard a call tries, how long it waits, what is retried.

:class:`RetryPolicy` and :class:`Timeouts` are the one shape every client uses;
:class:`Unavailable` is the error when retries ran out; :class:`Transient` and
:class:`TooSlow` are the base's internal signals (worth another try; the answer
was still arriving when its time was up). :func:`retry_after_seconds` reads a
``Retry-After`` header.

This module must not send a request.
"""

from __future__ import annotations

import email.utils
import math
from dataclasses import dataclass
from datetime import datetime, timezone

import httpx

from gitops_guard import errors

__all__ = [
    "MAX_BODY_BYTES",
    "RetryPolicy",
    "Timeouts",
    "TooSlow",
    "Transient",
    "Unavailable",
    "retry_after_seconds",
]

MAX_BODY_BYTES = 64 * 1024 * 1024
"""An answer larger than this is refused (a runaway server must not exhaust memory)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries: the one shape every HTTP client uses."""

    attempts: int = 4
    """Tries per call, the first included (at least 1)."""
    initial_wait_seconds: float = 0.5
    """First back-off; it doubles, with jitter, up to ``max_wait_seconds``."""
    max_wait_seconds: float = 8.0
    """No single wait between tries is longer (unless ``Retry-After`` asks for more)."""
    max_retry_after_seconds: float = 120.0
    """A ``Retry-After`` longer than this is not waited for: the call fails instead."""


@dataclass(frozen=True)
class Timeouts:
    """Per-request bounds; both are also cut to what is left of the deadline."""

    connect_seconds: float = 5.0
    """Opening the connection (TCP and TLS)."""
    request_seconds: float = 10.0
    """The whole request: sending it and reading the complete answer, not each read."""


class Unavailable(errors.DependencyUnavailable):
    """Raised when retries ran out; ``last_response`` is the last answer, if one came."""

    def __init__(
        self,
        *,
        message: str,
        last_response: httpx.Response | None,
        source: str | None,
        hint: str | None,
    ) -> None:
        super().__init__(message, source=source, hint=hint)
        self.last_response = last_response


class Transient(Exception):
    """Internal: worth another try (connection, timeout, broken body, 5xx, 429)."""

    def __init__(
        self,
        detail: str,
        *,
        retry_after: float | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after
        self.response = response


class TooSlow(Exception):
    """Internal: the answer was still arriving when its time was up."""


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)
