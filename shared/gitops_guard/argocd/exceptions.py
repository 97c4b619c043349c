"""Errors of the ArgoCD client that its callers handle (kept apart so policy needs no httpx).

Our exception hierarchy here (all :class:`gitops_guard.errors.Undecided`, exit 3 if
they ever escape)::

    errors.Undecided
    ├── OperationInProgress   sync refused: another operation is running; try later
    ├── StreamUnavailable     the stream endpoint cannot be used here; poll instead
    └── StreamIdle            the stream sent nothing for a while; reconnect or poll

This module must not import httpx or do I/O.
"""

from __future__ import annotations

from gitops_guard import errors


class OperationInProgress(errors.Undecided):
    """Raised by ``ArgoClient.sync`` when ArgoCD says another operation is in progress."""


class StreamUnavailable(errors.Undecided):
    """Raised by ``ArgoClient.watch_application`` when the stream endpoint does not work here."""


class StreamIdle(errors.Undecided):
    """Raised by ``ArgoClient.watch_application`` when no event came within the idle timeout.

    ``events`` is how many events the connection delivered before going quiet: zero
    means the stream never worked (a buffering proxy), so callers should poll.
    """

    def __init__(self, message: str, *, events: int) -> None:
        super().__init__(message)
        self.events = events
