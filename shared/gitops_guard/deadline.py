"""The one time budget: :class:`Deadline`, and the overall deadline of a command.

:class:`Deadline` is an overall time budget on a monotonic clock (``argocd-wait
--timeout``, one GitHub operation, one git network command). :func:`overall` runs a
command under ONE overall deadline (``update-manifest --timeout``); :func:`bounded`
cuts every other deadline to it, so each git network command
(:mod:`gitops_guard.gitops._git`), each GitHub operation (:mod:`gitops_guard.github`),
each call of the HTTP base (:mod:`gitops_guard.http`, which re-exports these names)
and any ArgoCD wait inside the command ends with it.

This module is light (no httpx, no pydantic): update-manifest's hot path imports it.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from gitops_guard import errors

if TYPE_CHECKING:  # pragma: no cover
    import httpx

__all__ = [
    "Deadline",
    "DeadlineExceeded",
    "bounded",
    "check_overall",
    "current_overall",
    "overall",
    "overall_expired",
]


class Deadline:
    """An overall time budget, on a monotonic clock.

    ``Deadline(10, source="--timeout")`` starts now and ends in 10 s;
    ``Deadline(None)`` never ends. ``source`` names the flag or input that set it,
    for messages.
    """

    def __init__(
        self,
        seconds: float | None,
        *,
        source: str = "the deadline",
        clock: Callable[[], float] = time.monotonic,
        start: float | None = None,
    ) -> None:
        self.seconds = math.inf if seconds is None else max(0.0, float(seconds))
        self.source = source
        self.clock = clock
        self.start = clock() if start is None else start

    def elapsed(self) -> float:
        return self.clock() - self.start

    def remaining(self) -> float:
        return self.seconds - self.elapsed()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def bound(self, seconds: float) -> float:
        """``seconds``, shortened to what is left (never negative)."""
        return max(0.0, min(seconds, self.remaining()))

    def extended(self, seconds: float) -> Deadline:
        """The same start with ``seconds`` more (a grace for the last request)."""
        return Deadline(
            self.seconds + seconds, source=self.source, clock=self.clock, start=self.start
        )

    def earliest(self, other: Deadline | None) -> Deadline:
        """Whichever of the two ends first (on this deadline's clock)."""
        if other is None or other.remaining() >= self.remaining():
            return self
        return other

    def describe(self) -> str:
        """``4s (--timeout)``."""
        if math.isinf(self.seconds):
            return "no deadline"
        return f"{self.seconds:g}s ({self.source})"

    def __repr__(self) -> str:
        return f"Deadline({self.describe()}, {self.remaining():.3f}s left)"


_overall: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "overall_deadline", default=None
)


@contextlib.contextmanager
def overall(deadline: Deadline) -> Iterator[Deadline]:
    """Run a command under ONE overall deadline (``update-manifest --timeout``).

    Inside, :func:`bounded` cuts every other deadline to it: each git network command
    (:mod:`gitops_guard.gitops._git`), each GitHub operation (:mod:`gitops_guard.github`),
    each call of a :class:`Client` and any ArgoCD wait never outlive it.
    """
    token = _overall.set(deadline)
    try:
        yield deadline
    finally:
        _overall.reset(token)


def current_overall() -> Deadline | None:
    """The overall deadline of the running command, if it has one."""
    return _overall.get()


def bounded(deadline: Deadline) -> Deadline:
    """``deadline``, or the running command's overall deadline if that ends first."""
    return deadline.earliest(_overall.get())


def overall_expired(what: str) -> DeadlineExceeded:
    """The error for the overall deadline having run out while waiting for ``what``."""
    deadline = _overall.get()
    assert deadline is not None
    elapsed = deadline.elapsed()
    return DeadlineExceeded(
        f"the command did not finish within {deadline.describe()}: {elapsed:.1f}s elapsed "
        f"waiting for {what}",
        elapsed_seconds=elapsed,
        source=deadline.source,
        hint=f"Check that {what.split(' (')[0]} is reachable and healthy from the runner; "
        f"raise {deadline.source.split()[0]} if it is only slow. Nothing was half-written: "
        "the command can be re-run.",
    )


def check_overall(what: str) -> None:
    """Raise :func:`overall_expired` when the overall deadline has run out."""
    deadline = _overall.get()
    if deadline is not None and deadline.expired():
        raise overall_expired(what)


class DeadlineExceeded(errors.DependencyUnavailable):
    """Raised when the deadline expires before a dependency answered."""

    def __init__(
        self, message: str, *, elapsed_seconds: float, source: str | None, hint: str | None
    ) -> None:
        super().__init__(message, source=source, hint=hint)
        self.elapsed_seconds = elapsed_seconds
        self.last_response: httpx.Response | None = None  # set by the HTTP base
        """The last answer before the deadline, if one came."""
