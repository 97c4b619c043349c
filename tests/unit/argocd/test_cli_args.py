"""The argocd-wait command line, without running a wait (no sockets, no git).

Behaviours covered:
- durations in the one grammar (90s, 10m, 1h30m, 500ms, 1d); bad ones are argparse errors;
- --revision must be a full SHA without --repo (exit 2 naming --revision); case folded;
- the action inputs are the kebab-case names documented in docs/argocd-wait.md;
- the job summary has a headline with the outcome and the timeline table.
"""

from __future__ import annotations

import argparse

import pytest
from argocd_states import OLD, OURS

from gitops_guard import errors
from gitops_guard.argocd import wait
from gitops_guard.cli import argocd_wait, checks


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("600", 600.0),
        ("90s", 90.0),
        ("10m", 600.0),
        ("1h", 3600.0),
        ("0.5", 0.5),
        ("1h30m", 5400.0),
        ("500ms", 0.5),
        ("1d", 86400.0),
        ("5d", 432000.0),
    ],
)
def test_durations_follow_the_one_grammar(text: str, seconds: float) -> None:
    assert checks.duration_arg("--timeout")(text) == seconds


@pytest.mark.parametrize("text", ["", "ten", "1.5h", "-1", "nan", "inf", "0", "1x"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        checks.duration_arg("--timeout")(text)


def test_revision_must_be_a_full_sha_without_repo() -> None:
    assert argocd_wait._resolve_revision(OURS.upper(), None) == OURS
    with pytest.raises(errors.InputError) as caught:
        argocd_wait._resolve_revision("abc1234", None)
    assert caught.value.source == "--revision"
    assert "git rev-parse HEAD" in caught.value.render()


def test_inputs_are_the_documented_names() -> None:
    names = {spec.name for spec in argocd_wait.INPUTS}
    assert {
        "argocd-server",
        "argocd-app",
        "revision",
        "timeout",
        "argocd-app-namespace",
        "argocd-sync",
        "argocd-insecure",
        "argocd-ca-bundle",
        "argocd-degraded-grace",
        "gitops-dir",
        "argocd-report",
    } <= names


def test_summary_has_headline_and_timeline() -> None:
    entry = wait.TimelineEntry(
        elapsed_seconds=0.0,
        at="2030-01-01T00:00:00Z",
        revision=OLD,
        sync="Synced",
        health="Healthy",
        operation_phase="Succeeded",
        operation_revision=OLD,
        message="successfully synced | all",
        note="ArgoCD reports old",
    )
    result = wait.WaitResult(
        outcome="timed-out",
        reason="timed out after 5s",
        app_name="web",
        expected_revision=OURS,
        synced_revision=None,
        sync_status="Synced",
        health="Healthy",
        operation_phase="Succeeded",
        elapsed_seconds=5.0,
        requests=3,
        mode="poll",
        sync_requested=False,
        timeline=(entry,),
    )
    text = argocd_wait.render_summary(result, server="https://argocd.example.com")
    assert text.startswith("### ⏱️ Timed out waiting for ArgoCD: `web` @ `" + OURS[:12])
    assert "**timed-out**: timed out after 5s" in text
    assert f"| 0.0s | 2030-01-01T00:00:00Z | {OLD[:12]} | Synced |" in text
    assert "successfully synced \\| all" in text
