"""The wait flow with an in-memory client, a fake clock and a fake sleep (no sockets).

Behaviours covered:
- polling every poll interval until done; the race state first never ends the wait;
- ?refresh=normal on the first read and again only every refresh interval while
  ArgoCD is not at our revision;
- at most 30 reads a minute with the default timing;
- timeout, sync-failed, degraded past grace, with the timeline of distinct states;
- --sync: one sync of our revision when auto-sync is off, retried after "in progress";
  none when auto-sync is on; multi-source sync by position;
- failed polls tolerated up to the error limit, then "unreachable"; a failed first read
  raises;
- the stream: events observed as they come, fallback to polling when unavailable or silent;
- ancestry: contains() consulted once per new revision, later commits accepted.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal

import pytest
from argocd_states import LATER, OLD, OURS, done_state, snapshot

from gitops_guard import errors
from gitops_guard.argocd import exceptions, models, wait
from gitops_guard.cli import outcomes


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds


class FakeClient:
    """Serves a script of snapshots: each get returns the next (the last repeats)."""

    def __init__(
        self,
        states: Sequence[models.Application | Exception],
        clock: Clock,
        *,
        stream: Sequence[models.Application | Exception] | None = None,
        sync_errors: Sequence[Exception] = (),
    ) -> None:
        self.states = list(states)
        self.clock = clock
        self.request_count = 0
        self.gets: list[tuple[float, str | None]] = []
        self.syncs: list[dict[str, Any]] = []
        self.stream = list(stream) if stream is not None else None
        self.sync_errors = list(sync_errors)
        self.idles: list[float] = []

    def get_application(
        self, name: str, *, refresh: Literal["normal", "hard"] | None = None
    ) -> models.Application:
        self.request_count += 1
        self.gets.append((self.clock(), refresh))
        item = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        if isinstance(item, Exception):
            raise item
        return item

    def sync(
        self,
        name: str,
        revision: str | None = None,
        *,
        revisions: Sequence[str] = (),
        source_positions: Sequence[int] = (),
        prune: bool = False,
    ) -> models.Application:
        self.request_count += 1
        self.syncs.append(
            {
                "revision": revision,
                "revisions": list(revisions),
                "positions": list(source_positions),
            }
        )
        if self.sync_errors:
            raise self.sync_errors.pop(0)
        return self.states[0] if not isinstance(self.states[0], Exception) else snapshot()

    def watch_application(
        self, name: str, *, idle_timeout_seconds: float
    ) -> Iterator[models.Application]:
        self.request_count += 1
        if self.stream is None:
            raise exceptions.StreamUnavailable("no stream here")
        while self.stream:
            item = self.stream.pop(0)
            if isinstance(item, Exception):
                raise item
            self.clock.now += 0.5
            yield item
        self.clock.now += idle_timeout_seconds
        raise exceptions.StreamIdle("quiet", events=0)


def run(
    client: FakeClient,
    clock: Clock,
    *,
    timing: wait.Timing | None = None,
    **kwargs: Any,
) -> wait.WaitResult:
    kwargs.setdefault("stream", False)
    return wait.wait_for_revision(
        client,
        app_name="web",
        expected=wait.Expectation(OURS),
        timing=timing or wait.Timing(timeout_seconds=120),
        clock=clock,
        sleep=clock.sleep,
        **kwargs,
    )


RACE = snapshot(**done_state(OLD))
SYNCING = snapshot(**done_state(phase="Running", health="Progressing"))
DONE = snapshot(**done_state())


def test_polls_through_the_race_until_done() -> None:
    clock = Clock()
    client = FakeClient([RACE, RACE, SYNCING, DONE], clock)
    result = run(client, clock)
    assert result.outcome == "done"
    assert outcomes.exit_code(result.outcome) == 0
    assert result.synced_revision == OURS
    assert [t - 1000.0 for t, _ in client.gets] == [0.0, 2.0, 4.0, 6.0]
    notes = [e.note for e in result.timeline]
    assert notes[0].startswith(f"ArgoCD reports {OLD[:12]}")
    assert len(result.timeline) == 3  # the repeated race state is recorded once
    assert result.mode == "poll"


def test_refresh_first_and_then_only_every_interval_while_not_at_ours() -> None:
    clock = Clock()
    client = FakeClient([RACE] * 20 + [SYNCING] * 20 + [DONE], clock)
    run(client, clock, timing=wait.Timing(timeout_seconds=300, refresh_interval_seconds=10))
    refreshed = [t - 1000.0 for t, r in client.gets if r == "normal"]
    # Reads 0..38 s see the old commit; the read at 40 s still had only that to go on.
    assert refreshed == [0.0, 10.0, 20.0, 30.0, 40.0]
    assert all(r is None for t, r in client.gets if t - 1000.0 > 40.0)


def test_at_most_thirty_reads_a_minute() -> None:
    clock = Clock()
    client = FakeClient([RACE], clock)
    result = run(client, clock, timing=wait.Timing(timeout_seconds=60))
    assert result.outcome == "timed-out"
    assert client.request_count <= 31  # one read at 0s, then every 2s up to 60s


def test_timeout_reports_the_last_state() -> None:
    clock = Clock()
    client = FakeClient([RACE], clock)
    result = run(client, clock, timing=wait.Timing(timeout_seconds=7))
    assert result.outcome == "timed-out"
    assert outcomes.exit_code(result.outcome) == 1
    assert clock.now - 1000.0 == pytest.approx(7.0)
    assert f"reports {OLD[:12]}" in result.reason
    assert result.synced_revision is None


def test_sync_failed_ends_fast() -> None:
    clock = Clock()
    failed = snapshot(**done_state(phase="Failed", op_message="Deployment is invalid"))
    result = run(FakeClient([RACE, SYNCING, failed], clock), clock)
    assert result.outcome == "sync-failed"
    assert "Deployment is invalid" in result.reason
    assert clock.now - 1000.0 == pytest.approx(4.0)


def test_degraded_past_grace() -> None:
    clock = Clock()
    degraded = snapshot(**done_state(health="Degraded"))
    timing = wait.Timing(timeout_seconds=600, degraded_grace_seconds=5)
    result = run(FakeClient([SYNCING, degraded], clock), clock, timing=timing)
    assert result.outcome == "degraded"
    assert clock.now - 1000.0 == pytest.approx(2.0 + 5.0)


def test_sync_requested_once_when_auto_sync_is_off() -> None:
    clock = Clock()
    manual = snapshot(**{**done_state(OLD), "auto_sync": False})
    requested = snapshot(**done_state(OLD, operation={"sync": {"revision": OURS}}))
    client = FakeClient([manual, requested, SYNCING, DONE], clock)
    result = run(client, clock, sync=True)
    assert result.outcome == "done"
    assert client.syncs == [{"revision": OURS, "revisions": [], "positions": []}]
    assert result.sync_requested
    assert any("sync of" in e.note for e in result.timeline)


def test_sync_retried_after_operation_in_progress() -> None:
    clock = Clock()
    manual = snapshot(**{**done_state(OLD), "auto_sync": False})
    client = FakeClient(
        [manual, manual, SYNCING, DONE],
        clock,
        sync_errors=[exceptions.OperationInProgress("another operation is already in progress")],
    )
    result = run(client, clock, sync=True)
    assert result.outcome == "done"
    assert len(client.syncs) == 2
    assert any("sync not started yet" in e.note for e in result.timeline)


def test_no_sync_when_auto_sync_is_on() -> None:
    clock = Clock()
    client = FakeClient([RACE, DONE], clock)
    run(client, clock, sync=True)
    assert client.syncs == []


def test_multi_source_sync_by_position() -> None:
    clock = Clock()
    state = done_state(
        multi_source_paths=("a", "b"), revisions=[OLD, OLD], op_revision=OLD, auto_sync=False
    )
    del state["revision"]
    manual = snapshot(**state)
    client = FakeClient([manual, DONE], clock)
    wait.wait_for_revision(
        client,
        app_name="web",
        expected=wait.Expectation(OURS, source_position=2),
        timing=wait.Timing(timeout_seconds=3),
        sync=True,
        stream=False,
        clock=clock,
        sleep=clock.sleep,
    )
    assert client.syncs[0] == {"revision": None, "revisions": [OURS], "positions": [2]}


def test_failed_polls_tolerated_then_recovered() -> None:
    clock = Clock()
    down = errors.DependencyUnavailable("HTTP 503")
    client = FakeClient([RACE, down, down, DONE], clock)
    result = run(client, clock)
    assert result.outcome == "done"
    assert sum("poll failed" in e.note for e in result.timeline) == 2


def test_failed_polls_past_the_limit_are_unreachable() -> None:
    clock = Clock()
    down = errors.DependencyUnavailable("connect error")
    result = run(FakeClient([RACE, down, down, down, DONE], clock), clock)
    assert result.outcome == "unreachable"
    assert outcomes.exit_code(result.outcome) == 3


def test_a_failed_first_read_raises() -> None:
    clock = Clock()
    with pytest.raises(errors.ConfigError):
        run(FakeClient([errors.ConfigError("token rejected")], clock), clock)


def test_stream_events_are_observed_without_polling() -> None:
    clock = Clock()
    client = FakeClient([RACE], clock, stream=[RACE, SYNCING, DONE])
    result = run(client, clock, stream=True)
    assert result.outcome == "done"
    assert result.mode == "stream"
    assert len(client.gets) == 1
    assert client.request_count == 2


class ReconnectingClient(FakeClient):
    """A stream that sends the current state on every connection, then stays quiet."""

    def watch_application(
        self, name: str, *, idle_timeout_seconds: float
    ) -> Iterator[models.Application]:
        self.request_count += 1
        self.idles.append(idle_timeout_seconds)
        yield self.states[0] if len(self.states) == 1 else self.states.pop(0)  # type: ignore[misc]
        self.clock.now += idle_timeout_seconds
        raise exceptions.StreamIdle("quiet", events=1)


def test_quiet_stream_is_reopened_and_times_out_gently() -> None:
    clock = Clock()
    client = ReconnectingClient([RACE], clock)
    timing = wait.Timing(timeout_seconds=60, refresh_interval_seconds=30, stream_idle_seconds=10)
    result = run(client, clock, timing=timing, stream=True)
    assert result.outcome == "timed-out"
    assert result.mode == "stream"
    assert clock.now - 1000.0 == pytest.approx(60.0)
    # 2 reads with refresh (0 s, 30 s) and a stream reopened every 10 s at most.
    assert client.request_count <= 10
    assert max(client.idles) == 10
    assert client.idles[0] == 3.0  # the first connection must prove itself quickly


def test_degraded_grace_ends_a_quiet_stream() -> None:
    clock = Clock()
    degraded = snapshot(**done_state(health="Degraded"))
    client = ReconnectingClient([degraded], clock)
    timing = wait.Timing(timeout_seconds=600, degraded_grace_seconds=25)
    result = run(client, clock, timing=timing, stream=True)
    assert result.outcome == "degraded"
    assert 25.0 <= clock.now - 1000.0 <= 25.0 + 1.0


def test_stream_unavailable_falls_back_to_polling() -> None:
    clock = Clock()
    client = FakeClient([RACE, DONE], clock, stream=None)
    result = run(client, clock, stream=True)
    assert result.outcome == "done"
    assert result.mode == "poll"
    assert any("polling instead" in e.note for e in result.timeline)


def test_silent_stream_falls_back_to_polling_quickly() -> None:
    clock = Clock()
    client = FakeClient([RACE, DONE], clock, stream=[])
    result = run(client, clock, stream=True)
    assert result.outcome == "done"
    assert result.mode == "poll"
    # The first stream gave nothing for stream_first_event_seconds (3 s), then a poll.
    assert clock.now - 1000.0 <= 3.0 + 2.0


def test_ancestry_is_checked_once_per_revision() -> None:
    clock = Clock()
    later_syncing = snapshot(**done_state(LATER, phase="Running"))
    later_done = snapshot(**done_state(LATER))
    asked: list[tuple[str, str]] = []

    def contains(ours: str, other: str) -> bool:
        asked.append((ours, other))
        return other == LATER

    client = FakeClient([RACE, later_syncing, later_done], clock)
    result = run(client, clock, contains=contains)
    assert result.outcome == "done"
    assert result.synced_revision == LATER
    assert sorted(asked) == [(OURS, OLD), (OURS, LATER)]


def test_report_shape() -> None:
    clock = Clock()
    result = run(FakeClient([RACE, DONE], clock), clock)
    data = result.to_report()
    assert data["result"] == "done"
    assert data["expected_revision"] == OURS
    assert set(data["timeline"][0]) == {
        "elapsed_seconds",
        "at",
        "revision",
        "sync",
        "health",
        "operation_phase",
        "operation_revision",
        "message",
        "note",
    }
