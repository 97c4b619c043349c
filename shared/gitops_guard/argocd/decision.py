"""Has ArgoCD run exactly our revision, and is it Healthy? The pure decision.

:func:`decide` takes an :class:`~gitops_guard.argocd.models.Application` snapshot,
what we expect and how long we have waited, and returns a :class:`Decision`
(``done``, ``waiting``, ``sync-failed``, ``degraded`` or ``timed-out``).

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
argo-cd #12211 and #27503) fails check 1 and is never done. A Failed/Error sync
operation for our revision is ``sync-failed`` at once; Degraded health at our
revision (fresh, no operation running) becomes ``degraded`` after the grace period.

This module reads no clock, no environment and no network, and never sleeps: the
current time comes in as ``elapsed_seconds``. :mod:`gitops_guard.argocd.wait` runs the
loop around it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from gitops_guard.argocd import models

Outcome = Literal["done", "waiting", "sync-failed", "degraded", "timed-out", "unreachable"]
"""``done`` (exit 0); ``sync-failed``, ``degraded``, ``timed-out`` (exit 1);
``unreachable`` (exit 3, set by the flow only); ``waiting`` never leaves the flow."""

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
    stream_first_event_seconds: float = 3.0
    """ArgoCD sends the current state at once; a first stream silent this long is given up
    for polling (a proxy that buffers the response)."""
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
            "timed-out",
            f"timed out after {round(elapsed_seconds, 1):g}s (timeout "
            f"{timing.timeout_seconds:g}s) waiting for our revision; last: {reason}",
            since,
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
            f"(reconciledAt {iso(status.reconciled_at)} < finishedAt {iso(op.finished_at)})"
        )
    if status.health.status != models.HEALTHY:
        message = f": {status.health.message}" if status.health.message else ""
        return f"health is {status.health.status or 'Unknown'}{message}"
    return None


def iso(value: datetime | None) -> str:
    return value.isoformat().replace("+00:00", "Z") if value is not None else "-"
