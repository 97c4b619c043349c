"""Rollback policy: revert decisions, previous-image choice, messages.

- a deploy with no later commits is reverted; unrelated later commits do not block it
- a later rollback trailer or git revert line -> already-reverted
- a later deploy of the same repository -> superseded; of another repository -> revert
- --previous walks trailers newest first, skips the current image, quarantined images
  and images a rollback took out; exit 2 when nothing is left, naming what was passed over
- commit messages carry the contract's trailers in the last paragraph and git's revert line
- the pull-request branch is stable for one target
"""

from __future__ import annotations

import pytest

from gitops_guard import errors, quarantine
from gitops_guard.rollback import models, policy


def _c(
    sha: str,
    action: str = "",
    swaps: tuple[tuple[str, str], ...] = (),
    reverts: tuple[str, ...] = (),
    ts: int = 0,
) -> models.CommitRecord:
    return models.CommitRecord(
        sha=models.CommitSha(sha * 40 if len(sha) == 1 else sha),
        timestamp=ts,
        subject=f"commit {sha}",
        action=action,
        swaps=tuple(models.ImageSwap(image=i, previous=p) for i, p in swaps),
        reverts=reverts,
    )


DEPLOY = _c("a", "update-manifest", (("ghcr.io/acme/web:2", "ghcr.io/acme/web:1"),))


def test_revert_when_only_unrelated_commits_follow() -> None:
    later = [_c("b"), _c("c", "update-manifest", (("ghcr.io/acme/api:9", "ghcr.io/acme/api:8"),))]
    decision = policy.decide_revert(DEPLOY, later)
    assert decision.revert and decision.code == ""


def test_already_reverted_by_trailer_or_git_line() -> None:
    decision = policy.decide_revert(DEPLOY, [_c("b", "rollback", reverts=("a" * 40,))])
    assert not decision.revert
    assert decision.code == "already-reverted"
    assert decision.by == "b" * 40
    plain = policy.decide_revert(DEPLOY, [_c("c", reverts=("a" * 12,))])
    assert plain.code == "already-reverted"


def test_superseded_by_newer_deploy_of_same_image() -> None:
    newer = _c("b", "update-manifest", (("ghcr.io/acme/web:3", "ghcr.io/acme/web:2"),))
    decision = policy.decide_revert(DEPLOY, [newer])
    assert decision.code == "superseded"
    assert "ghcr.io/acme/web:3" in decision.reason


HISTORY = [
    _c("e", "rollback", (("ghcr.io/acme/web:3", "ghcr.io/acme/web:4"),), reverts=("d" * 40,)),
    _c("d", "update-manifest", (("ghcr.io/acme/web:4", "ghcr.io/acme/web:3"),)),
    _c("c", "update-manifest", (("ghcr.io/acme/web:3", "ghcr.io/acme/web:2"),)),
    _c("x"),
    _c("b", "update-manifest", (("ghcr.io/acme/web:2", "ghcr.io/acme/web:1"),)),
]


def test_previous_skips_rolled_back_images() -> None:
    (choice,) = policy.choose_previous(HISTORY, quarantined=quarantine.Quarantine())
    assert choice.current == "ghcr.io/acme/web:3"
    assert choice.chosen == "ghcr.io/acme/web:2"
    assert choice.skipped == (("ghcr.io/acme/web:4", "rolled back before"),)


def test_previous_skips_quarantined() -> None:
    q = quarantine.Quarantine((quarantine.QuarantineEntry("ghcr.io/acme/web:2", reason="bad"),))
    (choice,) = policy.choose_previous(HISTORY, quarantined=q)
    assert choice.chosen == "ghcr.io/acme/web:1"
    assert ("ghcr.io/acme/web:2", "quarantined: bad") in choice.skipped


def test_previous_with_nothing_left_is_input_error() -> None:
    q = quarantine.Quarantine(
        tuple(quarantine.QuarantineEntry(f"ghcr.io/acme/web:{n}") for n in (1, 2))
    )
    with pytest.raises(errors.InputError) as caught:
        policy.choose_previous(HISTORY, quarantined=q)
    assert "ghcr.io/acme/web:1" in caught.value.message
    assert "quarantine lift" in (caught.value.hint or "")


def test_previous_without_trailers_is_input_error() -> None:
    with pytest.raises(errors.InputError):
        policy.choose_previous([_c("x")], quarantined=quarantine.Quarantine())


def test_commit_message_trailers_last() -> None:
    text = policy.commit_message(
        swaps=[models.ImageSwap(image="ghcr.io/acme/web:1", previous="ghcr.io/acme/web:2")],
        reverts=DEPLOY,
        reason="slo-gate failed",
        evidence_url="https://example.invalid/run/1",
        rule="error-rate",
    )
    subject, *_ = text.splitlines()
    assert subject == "rollback(web): ghcr.io/acme/web:2 -> ghcr.io/acme/web:1"
    last = text.strip().split("\n\n")[-1].splitlines()
    assert last == [
        "Gitops-Guard-Action: rollback",
        f"Gitops-Guard-Reverts: {'a' * 40}",
        "Gitops-Guard-Rule: error-rate",
        "Gitops-Guard-Image: ghcr.io/acme/web:1",
        "Gitops-Guard-Previous-Image: ghcr.io/acme/web:2",
    ]
    assert f"This reverts commit {'a' * 40}." in text


def test_branch_and_title() -> None:
    assert policy.branch_name("a" * 40) == "gitops-guard/rollback-" + "a" * 12
    title = policy.pull_request_title(
        [models.ImageSwap(image="ghcr.io/acme/web:1", previous="ghcr.io/acme/web:2")]
    )
    assert title == "Roll back web: ghcr.io/acme/web:2 -> ghcr.io/acme/web:1"


def test_last_rollback() -> None:
    assert policy.last_rollback(HISTORY) == HISTORY[0]
    assert policy.last_rollback(HISTORY[1:]) is None
    assert policy.last_rollback([_c("x")]) is None
