"""Wait until ArgoCD runs exactly our revision and it is Healthy: the decision and the flow.

The decision, :func:`decide`, is pure: an :class:`~gitops_guard.argocd.models.Application`
snapshot, what we expect and how long we have waited go in; a :class:`Decision`
comes out (``done``, ``waiting``, ``sync-failed``, ``degraded`` or ``timed-out``).
It reads no clock, no environment and no network.

"Done" needs *all* of:

1. ArgoCD's revision (``status.sync.revision``; for a multi-source app the entry of
   ``status.sync.revisions`` at ``--source-position``, or any entry) is our commit, or a
   later commit known to contain it (``Expectation.accepted``, computed by the caller
   with ``git merge-base --is-ancestor``);
2. no operation requested (``operation``) or running (phase Running/Terminating);
3. ``status.sync.status`` is ``Synced``;
4. the last sync operation was for our revision (or one containing it) and ``Succeeded``;
5. no ``ComparisonError``/``InvalidSpecError`` condition;
6. health was assessed after that operation finished (``reconciledAt >= finishedAt``);
7. health is ``Healthy``.

An app that is Synced and Healthy at the *old* commit (the race of ``argocd app wait``,
argo-cd #12211 and #27503) fails check 1 and is never done.

The flow, :func:`wait_for_revision`, observes the app through an injected client
(stream or polling), injected clock and sleep, and hands every snapshot to
:func:`decide`. It must not print or know the runner; it returns a :class:`WaitResult`
with the timeline of states seen.
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

log = logging.getLogger(__name__)

Outcome = Literal["done", "waiting", "sync-failed", "degraded", "timed-out", "unreachable"]
"""``done`` (exit 0); ``sync-failed``, ``degraded``, ``timed-out`` (exit 1);
``unreachable`` (exit 3, the flow only); ``waiting`` never leaves the flow."""

TERMINAL: frozenset[Outcome] = frozenset(
    {"done", "sync-failed", "degraded", "timed-out", "unreachable"}
)


def short(revision: str | None) -> str:
    """A revision for humans: 12 characters of a SHA, ``-`` for none."""
    if not revision:
        return "-"
    return revision[:12] if len(revision) >= 40 else revision


@dataclass(frozen=True)
class Expectation:
    """What we wait for."""

    revision: str
    """The full commit SHA we pushed (compared case-insensitively)."""
    source_position: int | None = None
    """Multi-source apps: the 1-based position of the GitOps source; None: any source."""
    accepted: frozenset[str] = frozenset()
    """Later commits known to contain :attr:`revision` (lower case)."""

    def accepts(self, revision: str | None) -> bool:
        """True for our revision or a later one known to contain it."""
        if not revision:
            return False
        rev = revision.lower()
        return rev == self.revision.lower() or rev in self.accepted


@dataclass(frozen=True)
class Timing:
    """How long and how often; every value in seconds."""

    timeout_seconds: float = 600.0
    """Give up (exit 1) after this long without reaching done."""
    degraded_grace_seconds: float = 60.0
    """Degraded health at our revision is tolerated this long (pods may restart once)."""
    poll_interval_seconds: float = 2.0
    """Between polls: 2 s keeps us at 30 requests a minute and within 2 s of the final state."""
    refresh_interval_seconds: float = 30.0
    """While ArgoCD is not at our revision, ask it to refresh (``?refresh=normal``) this often."""
    stream_idle_seconds: float = 10.0
    """Reconnect a quiet stream after this long (ArgoCD resends the current state)."""
    error_limit: int = 3
    """Consecutive failed polls (each already retried by the client) before giving up (3)."""


@dataclass(frozen=True)
class Decision:
    """What :func:`decide` concluded from one snapshot."""

    outcome: Outcome
    reason: str
    """What we are waiting for, or why it ended: one sentence for people."""
    revision: str | None
    """ArgoCD's revision that matched ours, else the first it reports."""
    degraded_since: float | None = None
    """Elapsed seconds when Degraded at our revision was first seen (carry it to the next call)."""


def app_revisions(app: models.Application, source_position: int | None = None) -> tuple[str, ...]:
    """The revision(s) ArgoCD reports in ``status.sync`` (the one at ``source_position``)."""
    sync = app.status.sync
    if sync.revisions:
        if source_position is not None:
            index = source_position - 1
            return (sync.revisions[index],) if 0 <= index < len(sync.revisions) else ()
        return tuple(r for r in sync.revisions if r)
    return (sync.revision,) if sync.revision else ()


def candidate_revisions(app: models.Application, source_position: int | None = None) -> set[str]:
    """Revisions in a snapshot whose ancestry may matter (reported and operated on)."""
    found = {r.lower() for r in app_revisions(app, source_position)}
    if app.status.operation_state is not None:
        found |= {r.lower() for r in app.status.operation_state.revisions}
    return found


def _operation_running(app: models.Application) -> bool:
    op = app.status.operation_state
    return app.operation is not None or (op is not None and op.running)


def _stale(app: models.Application) -> bool:
    """Health not assessed since the last operation finished (or never assessed)."""
    reconciled = app.status.reconciled_at
    op = app.status.operation_state
    if reconciled is None:
        return True
    finished = op.finished_at if op is not None else None
    return finished is not None and reconciled < finished


def needs_sync(app: models.Application, expected: Expectation) -> bool:
    """True when auto-sync is off and no operation for our revision ran or runs."""
    if app.spec.auto_sync or _operation_running(app):
        return False
    op = app.status.operation_state
    return not (op is not None and any(expected.accepts(r) for r in op.revisions))


def decide(
    app: models.Application,
    *,
    expected: Expectation,
    elapsed_seconds: float,
    timing: Timing,
    degraded_since: float | None = None,
) -> Decision:
    """Decide from one snapshot: done, keep waiting, sync-failed, degraded or timed-out."""
    status = app.status
    op = status.operation_state
    reported = app_revisions(app, expected.source_position)
    matched = next((r for r in reported if expected.accepts(r)), None)
    shown = matched or (reported[0] if reported else None)
    running = _operation_running(app)
    op_ours = op is not None and any(expected.accepts(r) for r in op.revisions)
    health = status.health.status or "Unknown"

    def end(outcome: Outcome, reason: str, since: float | None = None) -> Decision:
        return Decision(outcome=outcome, reason=reason, revision=shown, degraded_since=since)

    # A failed or errored sync of our revision is final (ArgoCD's own retries, if
    # configured, keep the phase Running until they are exhausted).
    if op is not None and op.phase in models.FAILED_PHASES and op_ours and app.operation is None:
        detail = f": {op.message}" if op.message else ""
        return end("sync-failed", f"the sync operation for our revision ended {op.phase}{detail}")

    reason = _waiting_reason(app, expected, matched=matched, running=running, op_ours=op_ours)
    if reason is None:
        return end("done", f"ArgoCD runs {short(matched)}: Synced, Succeeded, Healthy")

    degraded_now = matched is not None and not running and health == models.DEGRADED
    degraded_now = degraded_now and not _stale(app)
    since = (
        (degraded_since if degraded_since is not None else elapsed_seconds)
        if degraded_now
        else None
    )
    if since is not None and elapsed_seconds - since >= timing.degraded_grace_seconds:
        message = f": {status.health.message}" if status.health.message else ""
        return end(
            "degraded",
            f"health stayed Degraded for {elapsed_seconds - since:.0f}s at our revision "
            f"(grace {timing.degraded_grace_seconds:g}s){message}",
            since,
        )
    if elapsed_seconds >= timing.timeout_seconds:
        return end(
            "timed-out", f"timed out after {timing.timeout_seconds:g}s; last: {reason}", since
        )
    return end("waiting", reason, since)


def _waiting_reason(
    app: models.Application,
    expected: Expectation,
    *,
    matched: str | None,
    running: bool,
    op_ours: bool,
) -> str | None:
    """The first unmet condition of "done", or None when all are met."""
    status = app.status
    op = status.operation_state
    if matched is None:
        reported = app_revisions(app, expected.source_position)
        now = ", ".join(short(r) for r in reported) or "no revision"
        hint = "" if app.spec.auto_sync else " (auto-sync is off: pass --sync to sync it)"
        return f"ArgoCD reports {now}, not {short(expected.revision)} yet{hint}"
    if running:
        phase = op.phase if op is not None and op.running else "requested"
        target = ", ".join(short(r) for r in op.revisions) if op is not None else ""
        return f"an operation is {phase}" + (f" for {target}" if target else "")
    if status.sync.status != models.SYNCED:
        return f"sync status is {status.sync.status or 'Unknown'}"
    if op is None or not op_ours or op.phase != models.PHASE_SUCCEEDED:
        last = (
            f"last operation {op.phase} for {', '.join(short(r) for r in op.revisions) or '-'}"
            if op is not None
            else "no operation recorded"
        )
        return f"no successful sync operation for our revision yet ({last})"
    blocking = [c for c in status.conditions if c.type in models.BLOCKING_CONDITIONS]
    if blocking:
        return "; ".join(f"{c.type}: {c.message or ''}".rstrip(": ") for c in blocking)
    if _stale(app):
        return (
            "health not re-assessed since the sync finished "
            f"(reconciledAt {_iso(status.reconciled_at)} < finishedAt {_iso(op.finished_at)})"
        )
    if status.health.status != models.HEALTHY:
        message = f": {status.health.message}" if status.health.message else ""
        return f"health is {status.health.status or 'Unknown'}{message}"
    return None


def _iso(value: datetime | None) -> str:
    return value.isoformat().replace("+00:00", "Z") if value is not None else "-"


# ==================================================================== the flow
class ApplicationReader(Protocol):
    """What the flow needs from a client (``client.ArgoClient`` fits)."""

    request_count: int

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
    def exit_code(self) -> int:
        """0 done; 1 sync-failed, degraded, timed-out; 3 unreachable."""
        if self.outcome == "done":
            return errors.EXIT_OK
        if self.outcome == "unreachable":
            return errors.EXIT_UNDECIDED
        return errors.EXIT_REJECTED

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

    # ------------------------------------------------------------ bookkeeping
    def elapsed(self) -> float:
        return self.clock() - self.start

    def record(self, app: models.Application | None, note: str) -> None:
        op = app.status.operation_state if app is not None else None
        reported = app_revisions(app, self.expected.source_position) if app is not None else ()
        entry = TimelineEntry(
            elapsed_seconds=self.elapsed(),
            at=_iso(self.now()),
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
        at_ours = self.last_decision is not None and self.last_decision.revision is not None
        at_ours = at_ours and self.expected.accepts(self.last_decision.revision)  # type: ignore[union-attr]
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
        idle = min(self.timing.stream_idle_seconds, self.seconds_to_next_deadline())
        idle = max(idle, 0.2)
        decision = self.last_decision
        try:
            for app in self.client.watch_application(self.app_name, idle_timeout_seconds=idle):
                decision = self.observe(app)
                if decision.outcome in TERMINAL:
                    return decision
        except exceptions.StreamIdle as exc:
            if exc.events == 0:
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
    timing: Timing = Timing(),
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
        timing=timing,
        sync=sync,
        stream=stream,
        contains=contains,
        clock=clock,
        sleep=sleep,
        now=now,
        on_entry=on_entry,
    )
    return waiter.run()
