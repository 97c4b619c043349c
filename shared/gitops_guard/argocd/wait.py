"""Wait until ArgoCD runs exactly our revision and it is Healthy: the flow.

:func:`wait_for_revision` observes the app through an injected client (the stream
endpoint, or polling), an injected clock and sleep, hands every snapshot to the pure
:func:`gitops_guard.argocd.decision.decide`, and returns a :class:`WaitResult` with the
timeline of states seen. The decision's names (:class:`Expectation`, :class:`Timing`,
:class:`Decision`, :func:`decide`, ...) are re-exported here for callers.

Politeness: one request every ``poll_interval_seconds`` (2 s: 30 a minute) while
polling, one long-lived request while streaming; ``?refresh=normal`` on the first read
and then every ``refresh_interval_seconds`` only while ArgoCD is not at our revision.

This module must not print, read the environment or know the runner.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Literal, Protocol

from gitops_guard import errors
from gitops_guard.argocd import exceptions, models
from gitops_guard.argocd.decision import (
    TERMINAL,
    Decision,
    Expectation,
    Outcome,
    Timing,
    app_revisions,
    candidate_revisions,
    decide,
    iso,
    needs_sync,
    short,
)

__all__ = [
    "TERMINAL",
    "ApplicationReader",
    "Decision",
    "Expectation",
    "Outcome",
    "TimelineEntry",
    "Timing",
    "WaitResult",
    "app_revisions",
    "candidate_revisions",
    "decide",
    "needs_sync",
    "short",
    "wait_for_revision",
]

log = logging.getLogger(__name__)


class ApplicationReader(Protocol):
    """What the flow needs from a client (``client.ArgoClient`` fits)."""

    @property
    def request_count(self) -> int: ...

    def get_application(
        self, name: str, *, refresh: Literal["normal", "hard"] | None = None
    ) -> models.Application: ...

    def sync(
        self,
        name: str,
        revision: str | None = None,
        *,
        revisions: Sequence[str] = (),
        source_positions: Sequence[int] = (),
        prune: bool = False,
    ) -> models.Application: ...

    def watch_application(
        self, name: str, *, idle_timeout_seconds: float
    ) -> Iterator[models.Application]: ...


@dataclass(frozen=True)
class TimelineEntry:
    """One state seen (or one thing done) while waiting."""

    elapsed_seconds: float
    at: str
    """Wall-clock time, ISO 8601 UTC."""
    revision: str | None
    sync: str | None
    health: str | None
    operation_phase: str | None
    operation_revision: str | None
    message: str | None
    """ArgoCD's own words: operation message, health message or a condition."""
    note: str
    """Our reading of the state (the decision's reason) or what we did."""

    def key(self) -> tuple[object, ...]:
        return (
            self.revision,
            self.sync,
            self.health,
            self.operation_phase,
            self.operation_revision,
            self.message,
            self.note,
        )


@dataclass(frozen=True)
class WaitResult:
    """The outcome of :func:`wait_for_revision`, with the evidence."""

    outcome: Outcome
    reason: str
    app_name: str
    expected_revision: str
    synced_revision: str | None
    """ArgoCD's revision that matched ours (ours, or a later one containing it)."""
    sync_status: str | None
    health: str | None
    operation_phase: str | None
    elapsed_seconds: float
    requests: int
    mode: Literal["stream", "poll"]
    sync_requested: bool
    timeline: tuple[TimelineEntry, ...] = field(default=())

    @property
    def done_at(self) -> str | None:
        """When the wait saw the revision Synced and Healthy (ISO 8601 UTC), or None.

        The last timeline entry is the state that ended the wait; the deployment
        records call this instant ``synced_at`` (and ``restored_at`` for a revert).
        """
        if self.outcome != "done" or not self.timeline:
            return None
        return self.timeline[-1].at

    def to_report(self) -> dict[str, Any]:
        """The JSON report (``--report``)."""
        return {
            "result": self.outcome,
            "reason": self.reason,
            "app": self.app_name,
            "expected_revision": self.expected_revision,
            "synced_revision": self.synced_revision,
            "sync_status": self.sync_status,
            "health": self.health,
            "operation_phase": self.operation_phase,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "requests": self.requests,
            "mode": self.mode,
            "sync_requested": self.sync_requested,
            "timeline": [
                {
                    "elapsed_seconds": round(e.elapsed_seconds, 3),
                    "at": e.at,
                    "revision": e.revision,
                    "sync": e.sync,
                    "health": e.health,
                    "operation_phase": e.operation_phase,
                    "operation_revision": e.operation_revision,
                    "message": e.message,
                    "note": e.note,
                }
                for e in self.timeline
            ],
        }


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _argo_message(app: models.Application) -> str | None:
    status = app.status
    for condition in status.conditions:
        if condition.type in models.BLOCKING_CONDITIONS:
            return f"{condition.type}: {condition.message or ''}"
    op = status.operation_state
    if op is not None and op.message:
        return op.message
    return status.health.message


class _Waiter:
    """The state of one wait; :func:`wait_for_revision` is its public face."""

    def __init__(
        self,
        client: ApplicationReader,
        *,
        app_name: str,
        expected: Expectation,
        timing: Timing,
        sync: bool,
        stream: bool,
        contains: Callable[[str, str], bool] | None,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        now: Callable[[], datetime],
        on_entry: Callable[[TimelineEntry], None] | None,
    ) -> None:
        self.client = client
        self.app_name = app_name
        self.expected = replace(expected, revision=expected.revision.lower())
        self.timing = timing
        self.sync = sync
        self.mode: Literal["stream", "poll"] = "stream" if stream else "poll"
        self.contains = contains
        self.clock = clock
        self.sleep = sleep
        self.now = now
        self.on_entry = on_entry
        self.start = clock()
        self.timeline: list[TimelineEntry] = []
        self.ancestry: dict[str, bool] = {}
        self.degraded_since: float | None = None
        self.last_app: models.Application | None = None
        self.last_decision: Decision | None = None
        self.last_refresh = -math.inf
        self.sync_requested = False
        self.stream_proven = False

    # ------------------------------------------------------------ bookkeeping
    def elapsed(self) -> float:
        return self.clock() - self.start

    def record(self, app: models.Application | None, note: str) -> None:
        op = app.status.operation_state if app is not None else None
        reported = app_revisions(app, self.expected.source_position) if app is not None else ()
        entry = TimelineEntry(
            elapsed_seconds=self.elapsed(),
            at=iso(self.now()),
            revision=", ".join(reported) or None,
            sync=app.status.sync.status if app is not None else None,
            health=app.status.health.status if app is not None else None,
            operation_phase=op.phase if op is not None else None,
            operation_revision=", ".join(op.revisions) or None if op is not None else None,
            message=_argo_message(app) if app is not None else None,
            note=note,
        )
        if self.timeline and self.timeline[-1].key() == entry.key():
            return
        self.timeline.append(entry)
        if self.on_entry is not None:
            self.on_entry(entry)

    def _update_ancestry(self, app: models.Application) -> None:
        if self.contains is None:
            return
        ours = self.expected.revision
        for rev in candidate_revisions(app, self.expected.source_position):
            if rev == ours or rev in self.ancestry:
                continue
            self.ancestry[rev] = self.contains(ours, rev)
        accepted = frozenset(r for r, ok in self.ancestry.items() if ok)
        if accepted != self.expected.accepted:
            self.expected = replace(self.expected, accepted=accepted)

    def observe(self, app: models.Application) -> Decision:
        self.last_app = app
        self._update_ancestry(app)
        decision = decide(
            app,
            expected=self.expected,
            elapsed_seconds=self.elapsed(),
            timing=self.timing,
            degraded_since=self.degraded_since,
        )
        self.degraded_since = decision.degraded_since
        self.last_decision = decision
        self.record(app, decision.reason)
        if decision.outcome == "waiting" and self.sync and not self.sync_requested:
            self._maybe_sync(app)
        return decision

    def _maybe_sync(self, app: models.Application) -> None:
        if not needs_sync(app, self.expected):
            return
        pos = self.expected.source_position
        try:
            if pos is not None and app.spec.multi_source:
                self.client.sync(
                    self.app_name, revisions=[self.expected.revision], source_positions=[pos]
                )
            elif app.spec.multi_source:
                # Without a position we cannot pin one source: sync every source to its
                # targetRevision, which includes our commit once it is on the branch.
                self.client.sync(self.app_name)
            else:
                self.client.sync(self.app_name, revision=self.expected.revision)
        except (exceptions.OperationInProgress, errors.DependencyUnavailable) as exc:
            self.record(app, f"sync not started yet: {exc.message}")
            return
        self.sync_requested = True
        self.record(app, f"sync of {short(self.expected.revision)} requested")

    def result(self, decision: Decision) -> WaitResult:
        app = self.last_app
        op = app.status.operation_state if app is not None else None
        matched = (
            decision.revision
            if decision.revision and self.expected.accepts(decision.revision)
            else None
        )
        return WaitResult(
            outcome=decision.outcome,
            reason=decision.reason,
            app_name=self.app_name,
            expected_revision=self.expected.revision,
            synced_revision=matched,
            sync_status=app.status.sync.status if app is not None else None,
            health=app.status.health.status if app is not None else None,
            operation_phase=op.phase if op is not None else None,
            elapsed_seconds=self.elapsed(),
            requests=self.client.request_count,
            mode=self.mode,
            sync_requested=self.sync_requested,
            timeline=tuple(self.timeline),
        )

    # ------------------------------------------------------------ observing
    def refresh_due(self) -> bool:
        revision = self.last_decision.revision if self.last_decision is not None else None
        at_ours = revision is not None and self.expected.accepts(revision)
        return (
            not at_ours and self.clock() - self.last_refresh >= self.timing.refresh_interval_seconds
        )

    def get(self) -> models.Application:
        refresh: Literal["normal"] | None = None
        if self.refresh_due():
            refresh = "normal"
            self.last_refresh = self.clock()
        return self.client.get_application(self.app_name, refresh=refresh)

    def seconds_to_next_deadline(self) -> float:
        """Until the timeout or the end of the Degraded grace, whichever is first."""
        elapsed = self.elapsed()
        due = self.timing.timeout_seconds - elapsed
        if self.degraded_since is not None:
            due = min(due, self.degraded_since + self.timing.degraded_grace_seconds - elapsed)
        return max(0.0, due)

    def run(self) -> WaitResult:
        decision = self.observe(self.get())  # errors here are the caller's (exit 2 or 3)
        errors_in_a_row = 0
        next_poll = self.start + self.timing.poll_interval_seconds
        while decision.outcome not in TERMINAL:
            if self.mode == "stream":
                decision = self._stream_once()
                next_poll = self.clock() + self.timing.poll_interval_seconds
                continue
            pause = min(next_poll - self.clock(), self.seconds_to_next_deadline())
            if pause > 0:
                self.sleep(pause)
            next_poll = self.clock() + self.timing.poll_interval_seconds
            try:
                app = self.get()
            except errors.DependencyUnavailable as exc:
                errors_in_a_row += 1
                self.record(
                    None,
                    f"poll failed ({errors_in_a_row}/{self.timing.error_limit}): {exc.message}",
                )
                if errors_in_a_row >= self.timing.error_limit or (
                    self.elapsed() >= self.timing.timeout_seconds
                ):
                    decision = Decision("unreachable", exc.message, revision=None)
                    return self.result(decision)
                continue
            errors_in_a_row = 0
            decision = self.observe(app)
        return self.result(decision)

    def _stream_once(self) -> Decision:
        """One stream connection: observe each event; fall back to polling when unusable."""
        assert self.last_decision is not None
        if self.refresh_due():
            try:
                return self.observe(self.get())
            except errors.DependencyUnavailable as exc:
                self.mode = "poll"
                self.record(None, f"refresh failed, polling instead: {exc.message}")
                return self.last_decision
        quiet = (
            self.timing.stream_idle_seconds
            if self.stream_proven
            else self.timing.stream_first_event_seconds
        )
        idle = max(min(quiet, self.seconds_to_next_deadline()), 0.2)
        decision = self.last_decision
        try:
            for app in self.client.watch_application(self.app_name, idle_timeout_seconds=idle):
                self.stream_proven = True
                decision = self.observe(app)
                if decision.outcome in TERMINAL:
                    return decision
        except exceptions.StreamIdle as exc:
            if exc.events == 0 and not self.stream_proven:
                self.mode = "poll"
                self.record(self.last_app, "the stream sent nothing; polling instead")
            elif self.last_app is not None:
                return self.observe(self.last_app)  # re-judge with the time that passed
        except exceptions.StreamUnavailable as exc:
            self.mode = "poll"
            self.record(self.last_app, f"stream unavailable, polling instead: {exc.message}")
        return decision


def wait_for_revision(
    client: ApplicationReader,
    *,
    app_name: str,
    expected: Expectation,
    timing: Timing | None = None,
    sync: bool = False,
    stream: bool = True,
    contains: Callable[[str, str], bool] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = _utcnow,
    on_entry: Callable[[TimelineEntry], None] | None = None,
) -> WaitResult:
    """Observe ``app_name`` until :func:`decide` says something other than ``waiting``.

    The first read asks ArgoCD to refresh (``?refresh=normal``) so it notices the new
    commit now; while ArgoCD is not at our revision it asks again every
    ``timing.refresh_interval_seconds``. With ``stream`` it watches
    ``/api/v1/stream/applications`` and falls back to polling every
    ``timing.poll_interval_seconds`` when the stream is unusable. With ``sync`` it asks
    ArgoCD once to sync our revision when auto-sync is off and no operation for it ran.
    ``contains(ours, other)`` says whether commit ``other`` contains ``ours``.

    Returns a :class:`WaitResult`; a rejected token or an unknown app on the first read
    raises ``errors.ConfigError``, an unreachable server on the first read
    ``errors.DependencyUnavailable``. Later failed polls are tolerated up to
    ``timing.error_limit`` in a row, then the outcome is ``unreachable``.
    """
    waiter = _Waiter(
        client,
        app_name=app_name,
        expected=expected,
        timing=timing or Timing(),
        sync=sync,
        stream=stream,
        contains=contains,
        clock=clock,
        sleep=sleep,
        now=now,
        on_entry=on_entry,
    )
    return waiter.run()
