"""The pure decision of argocd-wait, table-driven.

Behaviours covered:
- done only when revision, sync status, operation, conditions, freshness and health all agree;
- the race of ``argocd app wait``: Synced/Healthy at the OLD commit is never done, nor is
  our revision with an old operation, nor a pending or running operation;
- stale health (reconciledAt older than finishedAt, or missing) keeps waiting;
- ComparisonError/InvalidSpecError keep waiting; warning conditions do not;
- a Failed/Error operation for our revision is sync-failed; for an old revision it is not;
- Degraded at our revision starts a grace clock, fails past it, and only when fresh and idle;
- timeout, and done winning over timeout;
- multi-source apps (any source, or the one at --source-position);
- later commits that contain ours (accepted) count; unknown later commits do not;
- needs_sync, app_revisions, candidate_revisions and short.
"""

from __future__ import annotations

from typing import Any

import pytest
from argocd_states import LATER, OLD, OURS, done_state, snapshot

from gitops_guard.argocd import decision
from gitops_guard_lab.argocd_api import ago

TIMING = decision.Timing(timeout_seconds=600, degraded_grace_seconds=60)


def decide(
    state: dict[str, Any],
    *,
    elapsed: float = 10.0,
    since: float | None = None,
    accepted: frozenset[str] = frozenset(),
    position: int | None = None,
    revision: str = OURS,
) -> decision.Decision:
    expected = decision.Expectation(revision=revision, accepted=accepted, source_position=position)
    return decision.decide(
        snapshot(**state),
        expected=expected,
        elapsed_seconds=elapsed,
        timing=TIMING,
        degraded_since=since,
    )


CASES: list[tuple[str, dict[str, Any], str, str]] = [
    # (id, state, outcome, words expected in the reason)
    ("done", done_state(), "done", "Synced, Succeeded, Healthy"),
    ("race-old-commit-synced-healthy", done_state(OLD), "waiting", f"reports {OLD[:12]}, not"),
    (
        "our-revision-out-of-sync-old-operation",
        done_state(sync_status="OutOfSync", op_revision=OLD),
        "waiting",
        "sync status is OutOfSync",
    ),
    (
        "synced-at-ours-but-operation-was-for-old",
        done_state(op_revision=OLD),
        "waiting",
        "no successful sync operation for our revision",
    ),
    (
        "operation-running",
        done_state(phase="Running", health="Progressing"),
        "waiting",
        "operation is Running",
    ),
    (
        "operation-terminating",
        done_state(phase="Terminating"),
        "waiting",
        "operation is Terminating",
    ),
    (
        "operation-requested-not-started",
        done_state(operation={"sync": {"revision": OURS}}),
        "waiting",
        "operation is requested",
    ),
    (
        "health-progressing",
        done_state(health="Progressing", health_message="Waiting for rollout"),
        "waiting",
        "health is Progressing: Waiting for rollout",
    ),
    ("health-suspended", done_state(health="Suspended"), "waiting", "health is Suspended"),
    ("health-missing", done_state(health="Missing"), "waiting", "health is Missing"),
    (
        "stale-health",
        done_state(finished_at=ago(5), reconciled_at=ago(30)),
        "waiting",
        "not re-assessed",
    ),
    (
        "health-assessed-same-second-is-fresh",
        done_state(finished_at="2030-01-01T00:00:00Z", reconciled_at="2030-01-01T00:00:00Z"),
        "done",
        "Healthy",
    ),
    (
        "comparison-error",
        done_state(conditions=[("ComparisonError", "rpc error: manifest generation failed")]),
        "waiting",
        "ComparisonError: rpc error",
    ),
    (
        "invalid-spec-error",
        done_state(conditions=[("InvalidSpecError", "repository not permitted")]),
        "waiting",
        "InvalidSpecError",
    ),
    (
        "warning-condition-does-not-block",
        done_state(conditions=[("OrphanedResourceWarning", "1 orphaned resource")]),
        "done",
        "Healthy",
    ),
    (
        "sync-failed-for-ours",
        done_state(phase="Failed", op_message="one or more objects failed to apply"),
        "sync-failed",
        "ended Failed: one or more objects failed to apply",
    ),
    ("sync-error-for-ours", done_state(phase="Error"), "sync-failed", "ended Error"),
    (
        "failed-operation-for-old-revision-is-not-ours",
        done_state(OLD, phase="Failed"),
        "waiting",
        "not " + OURS[:12],
    ),
    (
        "failed-but-new-operation-requested",
        done_state(phase="Failed", operation={"sync": {"revision": OURS}}),
        "waiting",
        "operation is requested",
    ),
    (
        "no-revision-at-all",
        {"sync_status": "Unknown", "health": "Unknown"},
        "waiting",
        "no revision",
    ),
    (
        "auto-sync-off-hint",
        {**done_state(OLD), "auto_sync": False},
        "waiting",
        "pass --sync",
    ),
]


@pytest.mark.parametrize(
    ("state", "outcome", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_decide_outcomes(state: dict[str, Any], outcome: str, words: str) -> None:
    result = decide(dict(state))
    assert result.outcome == outcome
    assert words in result.reason


def test_done_reports_the_matched_revision() -> None:
    assert decide(done_state()).revision == OURS


def test_revision_compare_is_case_insensitive() -> None:
    assert decide(done_state(OURS.upper()), revision=OURS).outcome == "done"
    assert decide(done_state(), revision=OURS.upper()).outcome == "done"


@pytest.mark.parametrize(
    ("state", "accepted", "outcome"),
    [
        (done_state(LATER), frozenset({LATER}), "done"),
        (done_state(LATER), frozenset(), "waiting"),
        # Our operation succeeded; a later unrelated commit moved sync.revision on.
        (done_state(LATER, op_revision=OURS), frozenset({LATER}), "done"),
        (done_state(LATER, phase="Failed"), frozenset({LATER}), "sync-failed"),
    ],
    ids=["later-contains-ours", "later-unknown", "later-with-our-operation", "later-failed"],
)
def test_later_commits_that_contain_ours(
    state: dict[str, Any], accepted: frozenset[str], outcome: str
) -> None:
    assert decide(state, accepted=accepted).outcome == outcome


MULTI = ("apps/web", "apps/web-config")


@pytest.mark.parametrize(
    ("revisions", "position", "outcome"),
    [
        ((OLD, OURS), None, "done"),
        ((OLD, OURS), 2, "done"),
        ((OLD, OURS), 1, "waiting"),
        ((OLD, OLD), None, "waiting"),
        ((OLD, OURS), 3, "waiting"),
    ],
    ids=["any-source", "at-position", "other-position", "none-matches", "position-out-of-range"],
)
def test_multi_source(revisions: tuple[str, str], position: int | None, outcome: str) -> None:
    state = done_state(multi_source_paths=MULTI, revisions=list(revisions))
    del state["revision"]
    assert decide(state, position=position).outcome == outcome


def test_degraded_starts_the_grace_clock() -> None:
    result = decide(done_state(health="Degraded"), elapsed=30.0)
    assert result.outcome == "waiting"
    assert result.degraded_since == 30.0
    assert "health is Degraded" in result.reason


def test_degraded_within_grace_keeps_the_first_sighting() -> None:
    result = decide(done_state(health="Degraded"), elapsed=80.0, since=30.0)
    assert result.outcome == "waiting"
    assert result.degraded_since == 30.0


def test_degraded_past_grace_fails() -> None:
    result = decide(
        done_state(health="Degraded", health_message="CrashLoopBackOff"), elapsed=91.0, since=30.0
    )
    assert result.outcome == "degraded"
    assert "CrashLoopBackOff" in result.reason
    assert "grace 60s" in result.reason


def test_recovering_from_degraded_resets_the_clock() -> None:
    result = decide(done_state(health="Progressing"), elapsed=100.0, since=30.0)
    assert result.outcome == "waiting"
    assert result.degraded_since is None


@pytest.mark.parametrize(
    "state",
    [
        done_state(OLD, health="Degraded"),
        done_state(health="Degraded", phase="Running"),
        done_state(health="Degraded", finished_at=ago(5), reconciled_at=ago(30)),
    ],
    ids=["at-old-revision", "operation-running", "stale-health"],
)
def test_degraded_that_is_not_ours_never_fails(state: dict[str, Any]) -> None:
    result = decide(state, elapsed=500.0, since=0.0)
    assert result.outcome == "waiting"
    assert result.degraded_since is None


def test_timeout_carries_the_last_reason() -> None:
    result = decide(done_state(OLD), elapsed=600.0)
    assert result.outcome == "timed-out"
    assert "timed out after 600s" in result.reason
    assert f"reports {OLD[:12]}" in result.reason


def test_done_wins_over_timeout() -> None:
    assert decide(done_state(), elapsed=601.0).outcome == "done"


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ({**done_state(OLD), "auto_sync": False}, True),
        ({**done_state(OLD), "auto_sync": True}, False),
        ({**done_state(OLD, phase="Running"), "auto_sync": False}, False),
        ({**done_state(OLD, operation={"sync": {}}), "auto_sync": False}, False),
        ({**done_state(), "auto_sync": False}, False),
        ({**done_state(phase="Failed"), "auto_sync": False}, False),
    ],
    ids=["manual-old", "auto-sync", "running", "requested", "ours-succeeded", "ours-failed"],
)
def test_needs_sync(state: dict[str, Any], expected: bool) -> None:
    assert decision.needs_sync(snapshot(**state), decision.Expectation(OURS)) is expected


def test_app_and_candidate_revisions() -> None:
    app = snapshot(**done_state(LATER, op_revision=OURS.upper()))
    assert decision.app_revisions(app) == (LATER,)
    assert decision.candidate_revisions(app) == {LATER, OURS}


def test_short() -> None:
    assert decision.short(OURS) == OURS[:12]
    assert decision.short("main") == "main"
    assert decision.short(None) == "-"
