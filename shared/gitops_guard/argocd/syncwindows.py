"""ArgoCD sync windows: is the application frozen now, and until when?

``GET /api/v1/applications/{name}/syncwindows`` answers
``applicationApplicationSyncWindowsResponse``: the windows assigned to the app
(``kind`` allow|deny, a cron ``schedule``, a ``duration`` such as ``1h``,
``manualSync``), the ones active now, and ``canSync``. ArgoCD's rule: an active
deny window blocks; allow windows, when any is assigned, block outside all of them.

A commit pushed inside a deny window is not synced when the window closes: auto-sync
does not retry it (argo-cd #21692). So the deploy asks first: inside a window it
reports "frozen until T" (or waits for the window to open) instead of timing out
later, and after a wait it requests the sync itself.

:func:`frozen_until` is pure: the response and a time in; the end of the freeze out
(``None`` when it cannot be computed, e.g. a schedule this parser does not read).
Schedules are the five cron fields (numbers, ``*``, ``a-b``, ``a,b``, ``*/n``, and
the ``@hourly``/``@daily``/``@weekly``/``@monthly``/``@yearly`` shortcuts), read in
UTC (the application endpoint does not say the project's ``timeZone``).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Literal

import pydantic

from gitops_guard import durations

_SHORTCUTS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_SEARCH_MINUTES = 8 * 24 * 60
"""How far a schedule is searched (back for a window's start, ahead for the next one)."""


class SyncWindow(pydantic.BaseModel):
    """``applicationApplicationSyncWindow``."""

    model_config = pydantic.ConfigDict(extra="ignore", populate_by_name=True)

    kind: str = ""
    schedule: str = ""
    duration: str = ""
    manual_sync: bool = pydantic.Field(default=False, alias="manualSync")


class SyncWindows(pydantic.BaseModel):
    """``applicationApplicationSyncWindowsResponse``."""

    model_config = pydantic.ConfigDict(extra="ignore", populate_by_name=True)

    active_windows: list[SyncWindow] | None = pydantic.Field(default=None, alias="activeWindows")
    assigned_windows: list[SyncWindow] | None = pydantic.Field(
        default=None, alias="assignedWindows"
    )
    can_sync: bool | None = pydantic.Field(default=None, alias="canSync")


class CronError(ValueError):
    """A schedule this parser does not read."""


def _field(text: str, low: int, high: int) -> frozenset[int]:
    out: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, _, raw_step = part.partition("/")
            if not raw_step.isdigit() or int(raw_step) < 1:
                raise CronError(f"bad step {raw_step!r}")
            step = int(raw_step)
        if part in ("*", "?"):
            start, end = low, high
        elif "-" in part:
            a, _, b = part.partition("-")
            if not (a.isdigit() and b.isdigit()):
                raise CronError(f"bad range {part!r}")
            start, end = int(a), int(b)
        elif part.isdigit():
            start = int(part)
            end = high if step > 1 else start
        else:
            raise CronError(f"cannot read {part!r}")
        if not (low <= start <= end <= high + (1 if high == 6 else 0)):
            raise CronError(f"{part!r} is outside {low}-{high}")
        out.update(v % 7 if high == 6 else v for v in range(start, end + 1, step))
    return frozenset(out)


def parse_schedule(text: str) -> tuple[frozenset[int], ...]:
    """Five cron fields as sets of minutes, hours, days, months, weekdays (0 = Sunday)."""
    spec = _SHORTCUTS.get(text.strip().lower(), text.strip())
    parts = spec.split()
    if len(parts) != 5:
        raise CronError(f"{text!r} does not have five fields")
    return tuple(_field(p, lo, hi) for p, (lo, hi) in zip(parts, _RANGES, strict=True))


def _matches(fields: tuple[frozenset[int], ...], at: datetime) -> bool:
    minute, hour, day, month, weekday = fields
    return (
        at.minute in minute
        and at.hour in hour
        and at.month in month
        and at.day in day
        and (at.isoweekday() % 7) in weekday
    )


def _window_seconds(window: SyncWindow) -> float:
    return durations.parse_duration(window.duration, maximum=float("inf"), source="duration")


def active_until(window: SyncWindow, now: datetime) -> datetime | None:
    """When ``window``, active at ``now``, closes (its latest start + duration)."""
    fields = parse_schedule(window.schedule)
    length = timedelta(seconds=_window_seconds(window))
    start = now.replace(second=0, microsecond=0)
    for minutes in range(min(_SEARCH_MINUTES, int(length.total_seconds() // 60) + 1)):
        at = start - timedelta(minutes=minutes)
        if _matches(fields, at) and at + length > now:
            return at + length
    return None


def next_start(window: SyncWindow, now: datetime) -> datetime | None:
    """The next time ``window`` opens after ``now``."""
    fields = parse_schedule(window.schedule)
    start = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for minutes in range(_SEARCH_MINUTES):
        at = start + timedelta(minutes=minutes)
        if _matches(fields, at):
            return at
    return None


Reason = Literal["deny", "outside-allow", "open"]


def frozen_until(windows: SyncWindows, now: datetime) -> tuple[Reason, datetime | None]:
    """Why syncs are blocked at ``now`` and until when (``open``, None when not blocked).

    The end is None when a schedule cannot be read or lies beyond the search horizon.
    """
    now = now.astimezone(timezone.utc)
    active = windows.active_windows or []
    assigned = windows.assigned_windows or []
    denies = [w for w in active if w.kind == "deny"]
    allows = [w for w in assigned if w.kind == "allow"]
    if windows.can_sync is not False and not denies:
        return "open", None
    try:
        if denies:
            ends = [active_until(w, now) for w in denies]
            if any(e is None for e in ends):
                return "deny", None
            end = max(e for e in ends if e is not None)
            # An allow-only regime may still be shut when the deny window closes.
            return "deny", end
        starts = [next_start(w, now) for w in allows]
        known = [s for s in starts if s is not None]
        return "outside-allow", min(known) if known else None
    except (CronError, durations.DurationError):
        return ("deny" if denies else "outside-allow"), None


def describe(reason: Reason, until: datetime | None) -> str:
    """``frozen until 2026-12-01T23:00:00Z (a deny sync window)``."""
    what = "a deny sync window" if reason == "deny" else "outside every allow sync window"
    when = until.strftime("%Y-%m-%dT%H:%M:%SZ") if until else "an unknown time"
    return f"frozen until {when} ({what})"
