"""ArgoCD sync windows (argocd.syncwindows): cron schedules and "frozen until T".

Covers: the five cron fields (lists, ranges, steps, shortcuts, Sunday as 0 or 7)
and unreadable schedules; a deny window active now ends at its latest start plus
its duration (also across midnight); outside every allow window the freeze ends at
the next allow start; open when nothing blocks; an unreadable schedule blocks with
an unknown end, never "open"; the words of the report.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from gitops_guard.argocd import syncwindows as sw


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def _windows(active: list[dict[str, object]], assigned: list[dict[str, object]], can: bool):
    return sw.SyncWindows.model_validate(
        {"activeWindows": active, "assignedWindows": assigned, "canSync": can}
    )


@pytest.mark.parametrize(
    ("schedule", "field", "expected"),
    [
        ("*/15 * * * *", 0, {0, 15, 30, 45}),
        ("0 9-17/4 * * *", 1, {9, 13, 17}),
        ("0 0 1,15 * *", 2, {1, 15}),
        ("0 0 * * 7", 4, {0}),
        ("@daily", 1, {0}),
    ],
)
def test_cron_fields(schedule: str, field: int, expected: set[int]) -> None:
    assert sw.parse_schedule(schedule)[field] == expected


@pytest.mark.parametrize("schedule", ["* * * *", "61 * * * *", "a b c d e", "*/0 * * * *"])
def test_unreadable_schedules(schedule: str) -> None:
    with pytest.raises(sw.CronError):
        sw.parse_schedule(schedule)


def test_an_active_deny_window_ends_at_its_start_plus_duration() -> None:
    deny = {"kind": "deny", "schedule": "0 22 * * *", "duration": "3h"}
    reason, until = sw.frozen_until(_windows([deny], [deny], False), _at("2026-12-01T23:40:00"))
    assert (reason, until) == ("deny", _at("2026-12-02T01:00:00"))
    assert sw.describe(reason, until) == "frozen until 2026-12-02T01:00:00Z (a deny sync window)"


def test_outside_every_allow_window_the_freeze_ends_at_the_next_start() -> None:
    allow = {"kind": "allow", "schedule": "0 8 * * 1-5", "duration": "10h"}
    # Saturday evening: the next allow window opens Monday 08:00.
    reason, until = sw.frozen_until(_windows([], [allow], False), _at("2026-12-05T19:00:00"))
    assert (reason, until) == ("outside-allow", _at("2026-12-07T08:00:00"))


def test_open_when_nothing_blocks() -> None:
    allow = {"kind": "allow", "schedule": "* * * * *", "duration": "1h"}
    assert sw.frozen_until(_windows([allow], [allow], True), _at("2026-12-01T10:00:00")) == (
        "open",
        None,
    )
    assert sw.frozen_until(sw.SyncWindows(), _at("2026-12-01T10:00:00")) == ("open", None)


def test_an_unreadable_active_deny_window_blocks_with_an_unknown_end() -> None:
    deny = {"kind": "deny", "schedule": "0 22 * * MON", "duration": "1h"}
    reason, until = sw.frozen_until(_windows([deny], [deny], False), _at("2026-12-01T22:10:00"))
    assert (reason, until) == ("deny", None)
    assert "an unknown time" in sw.describe(reason, until)
