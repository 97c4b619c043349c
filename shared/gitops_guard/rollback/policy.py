"""Rollback decisions: what to revert, whether it is done already, where to go back to.

Everything here takes commit records (newest first, as ``git log`` prints them) and
returns frozen values. This module must not run git, read files, or know GitHub.
"""

from __future__ import annotations

from collections.abc import Sequence

from gitops_guard import errors, quarantine, trailers
from gitops_guard.rollback import models


def decide_revert(
    target: models.CommitRecord, later: Sequence[models.CommitRecord]
) -> models.RevertDecision:
    """Whether ``target`` should be reverted, given the commits made after it (newest first).

    * already reverted: a later commit carries ``Gitops-Guard-Reverts: <target>`` or git's
      ``This reverts commit <target>.``;
    * superseded: a later update-manifest commit deployed a newer image of one of the
      repositories ``target`` deployed, so reverting would undo that newer deploy too.
    """
    for commit in later:
        if commit.reverts_commit(target.sha):
            return models.RevertDecision(
                revert=False,
                code="already-reverted",
                reason=f"{target.sha[:12]} was already reverted by {commit.sha[:12]}"
                f" ({commit.subject})",
                by=commit.sha,
            )
    for commit in later:
        if not commit.is_deploy:
            continue
        for image in commit.images:
            if any(quarantine.same_repository(image, mine) for mine in target.images):
                return models.RevertDecision(
                    revert=False,
                    code="superseded",
                    reason=f"{target.sha[:12]} was superseded by {commit.sha[:12]}, "
                    f"a newer deploy of the same image ({image})",
                    by=commit.sha,
                )
    return models.RevertDecision(revert=True)


def _repositories(commits: Sequence[models.CommitRecord]) -> list[str]:
    """The repositories of the most recent commit that records image swaps."""
    for commit in commits:
        if commit.swaps:
            return [s.image for s in commit.swaps]
    return []


def choose_previous(
    history: Sequence[models.CommitRecord],
    *,
    quarantined: quarantine.Quarantine,
    only: Sequence[str] = (),
) -> list[models.PreviousChoice]:
    """The image that ran before the current one, per repository, from the trailers.

    ``history`` is newest first. The repositories considered are those of the most recent
    commit that changed images (or ``only``, image references whose repository counts).
    Candidates, newest first, skip the current image, quarantined images, and images
    that a rollback commit took out (they failed once). Raises InputError when a
    repository has no usable earlier image.
    """
    wanted = list(only) or _repositories(history)
    if not wanted:
        raise errors.InputError(
            "no deploy commit with Gitops-Guard-Image trailers was found in the history",
            source="--previous",
            hint="Deploy with `gitops-guard update-manifest --commit` so commits record their "
            "images, or name the image to go back to with --image REF.",
        )
    rolled_out = {
        swap.previous for commit in history if commit.is_rollback for swap in commit.swaps
    }
    choices: list[models.PreviousChoice] = []
    seen_repos: list[str] = []
    for ref in wanted:
        if any(quarantine.same_repository(ref, r) for r in seen_repos):
            continue
        seen_repos.append(ref)
        ordered: list[str] = []
        for commit in history:
            for swap in commit.swaps:
                for candidate in (swap.image, swap.previous):
                    if quarantine.same_repository(candidate, ref) and candidate not in ordered:
                        ordered.append(candidate)
        if not ordered:
            raise errors.InputError(
                f"no deploy of {ref} was found in the history",
                source="--previous",
                hint="Name the image to go back to with --image REF.",
            )
        current = ordered[0]
        skipped: list[tuple[str, str]] = []
        chosen = ""
        for candidate in ordered[1:]:
            if quarantine.same_image(candidate, current):
                continue
            entry = quarantined.find(candidate)
            if entry is not None:
                skipped.append((candidate, f"quarantined: {entry.reason or 'no reason given'}"))
                continue
            if any(quarantine.same_image(candidate, bad) for bad in rolled_out):
                skipped.append((candidate, "rolled back before"))
                continue
            chosen = candidate
            break
        if not chosen:
            passed = "; ".join(f"{img} ({why})" for img, why in skipped) or "none"
            raise errors.InputError(
                f"no earlier image of {current} is left to go back to (passed over: {passed})",
                source="--previous",
                hint="Lift a quarantined image with `gitops-guard rollback quarantine lift "
                "--image REF`, or name the image with --image REF.",
            )
        choices.append(
            models.PreviousChoice(current=current, chosen=chosen, skipped=tuple(skipped))
        )
    return choices


def last_rollback(history: Sequence[models.CommitRecord]) -> models.CommitRecord | None:
    """The newest image-changing commit when it is a rollback, else None.

    ``rollback to --previous`` then does nothing: a rerun of the same job must not walk
    one more version back. Going further back is an explicit ``--image REF``.
    """
    for commit in history:
        if commit.swaps:
            return commit if commit.is_rollback else None
    return None


def _app_name(image: str) -> str:
    path = image.split("@", 1)[0]
    name = path.rsplit("/", 1)[-1]
    return name.split(":", 1)[0]


def commit_message(
    *,
    swaps: Sequence[models.ImageSwap],
    reverts: models.CommitRecord | None = None,
    app: str = "",
    reason: str = "",
    evidence_url: str = "",
    rule: str = "",
) -> str:
    """The rollback commit message, with the trailers the contract requires.

    ``swaps`` are written as Image = restored, Previous-Image = the one taken out.
    """
    label = app or (_app_name(swaps[0].image) if swaps else "")
    if swaps:
        moves = ", ".join(f"{s.previous} -> {s.image}" for s in swaps)
        subject = f"rollback({label}): {moves}" if label else f"rollback: {moves}"
    elif reverts is not None:
        subject = f'Revert "{reverts.subject}"'
    else:
        subject = "rollback"
    described: list[str] = []
    if reverts is not None:
        described.append(f'Reverts {reverts.sha[:12]} ("{reverts.subject}").')
    if reason:
        described.append(f"Reason: {reason}")
    if evidence_url:
        described.append(f"Evidence: {evidence_url}")
    paragraphs = [subject]
    if described:
        paragraphs.append("\n".join(described))
    if reverts is not None:
        paragraphs.append(f"This reverts commit {reverts.sha}.")
    pairs: list[tuple[str, str]] = [(trailers.ACTION, trailers.Action.ROLLBACK.value)]
    if reverts is not None:
        pairs.append((trailers.REVERTS, reverts.sha))
    if rule:
        pairs.append((trailers.RULE, rule))
    for swap in swaps:
        pairs.append((trailers.IMAGE, swap.image))
        pairs.append((trailers.PREVIOUS_IMAGE, swap.previous))
    return trailers.append("\n\n".join(paragraphs), pairs)


def branch_name(target: str) -> str:
    """The pull-request branch for a rollback: stable, so a rerun finds it again."""
    return f"gitops-guard/rollback-{target[:12]}"


def pull_request_title(swaps: Sequence[models.ImageSwap], *, app: str = "") -> str:
    """``Roll back web: ghcr.io/acme/web:1.4.0 -> 1.3.2``-style title."""
    if not swaps:
        return f"Roll back {app}".strip()
    label = app or _app_name(swaps[0].image)
    moves = ", ".join(f"{s.previous} -> {s.image}" for s in swaps)
    return f"Roll back {label}: {moves}"
