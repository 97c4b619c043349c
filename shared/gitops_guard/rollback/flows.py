"""The rollback flows: ``revert`` one deploy commit, roll ``to`` an image.

Each flow builds a ``make_change`` callable (see :mod:`.publish`) that, on the
current tip of a working copy, asks :mod:`.policy` what to do and then writes the
rollback commit:

* revert: ``git revert`` of exactly the deploy commit (later unrelated commits
  stay); when the textual revert conflicts, the images recorded in the deploy
  commit's trailers are set back through :mod:`gitops_guard.manifests` instead.
  When the gate failed (``--report`` with verdict ``fail``) the images taken out are
  added to the quarantine file in the same commit.
* to: the images named (or, with ``--previous``, chosen from the trailers in the
  history, skipping quarantined ones) are set through the manifest edit engine.

* quarantine add/lift: one commit editing ``.gitops-guard/quarantine.yaml``.

This module must not parse flags or know the runner; :mod:`gitops_guard.cli.rollback`
does that and turns the result into outputs.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

from gitops_guard import errors, gitops, images, manifests, quarantine, trailers
from gitops_guard.rollback import evidence, gitrepo, models, policy, publish


@dataclass(frozen=True)
class Context:
    """Why the rollback happens, and what to record with it."""

    why: str = ""
    """One line for the commit message and notifications."""
    gate: evidence.GateEvidence | None = None
    run_url: str = ""
    quarantine: bool | None = None
    """Quarantine the images taken out: None means "when the gate report says fail"."""
    rule: str = ""
    """The watch rule that asked for it (``Gitops-Guard-Rule`` trailer)."""
    app: str = ""
    paths: tuple[str, ...] = ()
    helm: tuple[str, ...] = ()
    now: datetime | None = None

    @property
    def reason(self) -> str:
        return self.why or evidence.reason(self.gate, "manual rollback")

    def wants_quarantine(self) -> bool:
        if self.quarantine is not None:
            return self.quarantine
        return evidence.gate_failed(self.gate)


def _quarantine(
    tree: gitops.WorkingCopy, bad: Sequence[str], ctx: Context, commit: str
) -> tuple[list[str], tuple[str, ...]]:
    """Add ``bad`` images to the quarantine file in ``tree``; (files written, images added)."""
    if not bad or not ctx.wants_quarantine():
        return [], ()
    current = quarantine.load(tree.root)
    since = (ctx.now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    new = [
        quarantine.QuarantineEntry(
            image=image, reason=ctx.reason, since=since, commit=commit, run_url=ctx.run_url
        )
        for image in bad
        if current.find(image) is None
    ]
    if not new:
        return [], ()
    quarantine.save(tree.root, quarantine.with_added(current, new))
    return [quarantine.PATH], tuple(e.image for e in new)


def _set_images(
    tree: gitops.WorkingCopy, refs: Sequence[str], ctx: Context, *, source: str
) -> tuple[list[str], tuple[models.ImageSwap, ...]]:
    """Set ``refs`` through the manifest edit engine; (files written, swaps made)."""
    parsed = [images.parse(ref, source=source) for ref in refs]
    plan = manifests.plan(tree.root, parsed, paths=ctx.paths, helm=ctx.helm)
    if not plan.changed:
        return [], ()
    written = manifests.apply(tree.root, plan)
    swaps: list[models.ImageSwap] = []
    for change in plan.changes:
        swap = models.ImageSwap(image=change.new, previous=change.old)
        if swap not in swaps and change.new != change.old:
            swaps.append(swap)
    return list(written), tuple(swaps)


def _pull_request_body(
    change: publish.Change, target: models.CommitRecord | None, ctx: Context
) -> str:
    return evidence.pull_request_body(
        swaps=change.swaps,
        target=target,
        evidence=ctx.gate,
        why=ctx.reason,
        run_url=ctx.run_url,
        method=change.method,
        quarantined=change.quarantined,
    )


def _with_merged_swaps(wc: gitops.WorkingCopy, target: models.CommitRecord) -> models.CommitRecord:
    """A merge of a deploy pull request carries no trailers itself: take the image swaps
    of the deploy commits it merged (first deploy's previous, last deploy's image)."""
    if target.swaps:
        return target
    parents = gitrepo.parents(wc, target.sha)
    if len(parents) < 2:
        return target
    merged = [c for c in gitrepo.log(wc, f"{parents[0]}..{parents[1]}") if c.swaps]
    if not merged:
        return target
    swaps: dict[str, models.ImageSwap] = {}
    for commit in reversed(merged):  # oldest first
        for swap in commit.swaps:
            key = next((k for k in swaps if quarantine.same_repository(k, swap.image)), None)
            if key is None:
                swaps[swap.image] = swap
            else:
                first = swaps.pop(key)
                swaps[swap.image] = models.ImageSwap(image=swap.image, previous=first.previous)
    return dataclasses.replace(target, swaps=tuple(swaps.values()), action=models.ACTION_DEPLOY)


def deployed_record(wc: gitops.WorkingCopy, commit: str) -> models.CommitRecord:
    """Commit ``commit`` as a record; a promotion pull request's merge carries the image
    swaps of the deploy commits it merged."""
    return _with_merged_swaps(wc, gitrepo.record(wc, gitrepo.resolve(wc, commit)))


# ---------------------------------------------------------------- revert
def revert(
    wc: gitops.WorkingCopy,
    commit: str,
    settings: publish.PublishSettings,
    ctx: Context,
) -> models.RollbackResult:
    """Revert deploy commit ``commit`` (see the module docstring)."""
    branch = publish.resolve_branch(wc, settings.branch)
    gitrepo.sync_to_remote(wc, branch)
    sha = gitrepo.resolve(wc, commit)
    if not gitrepo.is_ancestor(wc, sha, "HEAD"):
        raise errors.InputError(
            f"{commit} is not in the history of {branch}",
            source="--commit",
            hint="Pass a deploy commit of the branch being rolled back (the `commit-sha` "
            "output of update-manifest).",
        )
    target = _with_merged_swaps(wc, gitrepo.record(wc, sha))

    def make_change(tree: gitops.WorkingCopy) -> publish.Change:
        later = gitrepo.log(tree, f"{sha}..HEAD")
        decision = policy.decide_revert(target, later)
        if not decision.revert:
            return publish.Change(
                skip_code=decision.code,
                skip_reason=decision.reason,
                existing=decision.by if decision.code == "already-reverted" else "",
            )
        back = tuple(models.ImageSwap(image=s.previous, previous=s.image) for s in target.swaps)
        notes: list[str] = []
        staged = gitrepo.try_revert(tree, sha)
        method: Literal["revert", "images"] = "revert"
        files: list[str]
        if staged:
            files = staged
        else:
            if not target.swaps:
                raise errors.GitopsGuardError(
                    f"git revert of {sha[:12]} conflicts with later commits, and the commit "
                    "records no Gitops-Guard-Image trailers to set the images back with",
                    hint="Revert it by hand, or roll back with `gitops-guard rollback to "
                    "--image REF`.",
                )
            notes.append("git revert conflicted; the images were set back from the trailers")
            method = "images"
            files, _ = _set_images(tree, [s.previous for s in target.swaps], ctx, source="trailer")
            if not files:
                return publish.Change(
                    skip_code="already-reverted",
                    skip_reason=f"the manifests already run {', '.join(s.image for s in back)}",
                )
        extra, quarantined = _quarantine(tree, [s.previous for s in back], ctx, sha)
        message = policy.commit_message(
            swaps=back,
            reverts=target,
            app=ctx.app,
            reason=ctx.reason,
            evidence_url=ctx.run_url,
            rule=ctx.rule,
        )
        all_files = sorted(set(files) | set(extra))
        new = tree.commit(message, all_files)
        return publish.Change(
            sha=new,
            swaps=back,
            method=method,
            files=tuple(all_files),
            quarantined=quarantined,
            notes=notes,
        )

    return publish.publish(
        wc,
        make_change,
        settings,
        target=sha,
        head_branch=policy.branch_name(sha),
        title=lambda ch: (
            policy.pull_request_title(ch.swaps, app=ctx.app)
            if ch.swaps
            else f'Revert "{target.subject}"'
        ),
        body=lambda ch: _pull_request_body(ch, target, ctx),
    )


# ---------------------------------------------------------------- to
def roll_to(
    wc: gitops.WorkingCopy,
    settings: publish.PublishSettings,
    ctx: Context,
    *,
    image_refs: Sequence[str] = (),
    previous: bool = False,
    force: bool = False,
) -> models.RollbackResult:
    """Set the images back to ``image_refs``, or to the previous ones (``previous``)."""
    if previous == bool(image_refs):
        raise errors.InputError(
            "give either --previous or --image REF", source="--image", hint="Not both."
        )
    branch = publish.resolve_branch(wc, settings.branch)
    gitrepo.sync_to_remote(wc, branch)
    notes: list[str] = []
    if previous:
        history = gitrepo.log(wc, "HEAD", paths=ctx.paths)
        done = policy.last_rollback(history)
        if done is not None:
            return models.RollbackResult(
                status="skipped",
                skipped_reason=f"already-rolled-back: {done.sha[:12]} already went back to "
                f"{', '.join(done.images)}; name an older image with --image to go further",
            )
        choices = policy.choose_previous(history, quarantined=quarantine.load(wc.root))
        refs = [c.chosen for c in choices]
        for choice in choices:
            for image, why in choice.skipped:
                notes.append(f"passed over {image}: {why}")
    else:
        refs = list(image_refs)
        for ref in refs:
            images.parse(ref, source="--image")
        refused = quarantine.refused(wc.root, refs)
        if refused and not force:
            listed = ", ".join(f"{e.image} ({e.reason or 'no reason given'})" for e in refused)
            raise errors.InputError(
                f"quarantined image(s): {listed}",
                source="--image",
                hint="Pick another image, lift the quarantine with `gitops-guard rollback "
                "quarantine lift --image REF`, or pass --force.",
            )
    key = hashlib.sha256("\n".join(sorted(refs)).encode()).hexdigest()[:12]

    def make_change(tree: gitops.WorkingCopy) -> publish.Change:
        files, swaps = _set_images(tree, refs, ctx, source="--image")
        if not files:
            return publish.Change(
                skip_code="already-at",
                skip_reason=f"the manifests already run {', '.join(refs)}",
            )
        extra, quarantined = _quarantine(
            tree, [s.previous for s in swaps], ctx, gitrepo.resolve(tree, "HEAD")
        )
        all_files = sorted(set(files) | set(extra))
        message = policy.commit_message(
            swaps=swaps, app=ctx.app, reason=ctx.reason, evidence_url=ctx.run_url, rule=ctx.rule
        )
        new = tree.commit(message, all_files)
        return publish.Change(
            sha=new,
            swaps=swaps,
            method="images",
            files=tuple(all_files),
            quarantined=quarantined,
            notes=list(notes),
        )

    return publish.publish(
        wc,
        make_change,
        settings,
        target="",
        head_branch=f"gitops-guard/rollback-to-{key}",
        title=lambda ch: policy.pull_request_title(ch.swaps, app=ctx.app),
        body=lambda ch: _pull_request_body(ch, None, ctx),
    )


def latest_deploy(wc: gitops.WorkingCopy, *, paths: Sequence[str] = ()) -> models.CommitRecord:
    """The most recent update-manifest commit (what ``watch`` rolls back by default)."""
    for commit in gitrepo.log(wc, "HEAD", paths=paths):
        if commit.is_deploy:
            return commit
    raise errors.InputError(
        "no update-manifest deploy commit was found in the history",
        source="--commit",
        hint="Pass --commit SHA, the deploy commit to watch.",
    )


# ---------------------------------------------------------------- quarantine
def edit_quarantine(
    wc: gitops.WorkingCopy,
    settings: publish.PublishSettings,
    *,
    action: Literal["add", "lift"],
    image_refs: Sequence[str],
    reason: str = "",
    now: datetime | None = None,
) -> models.RollbackResult:
    """Add images to the quarantine file or lift them, as one commit (or pull request)."""
    for ref in image_refs:
        images.parse(ref, source="--image")
    since = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    listed = ", ".join(image_refs)

    def make_change(tree: gitops.WorkingCopy) -> publish.Change:
        current = quarantine.load(tree.root)
        if action == "add":
            new = [
                quarantine.QuarantineEntry(image=r, reason=reason, since=since)
                for r in image_refs
                if current.find(r) is None
            ]
            updated = quarantine.with_added(current, new)
            verb = "quarantine"
        else:
            updated = current
            for ref in image_refs:
                updated = quarantine.without(updated, ref)
            verb = "lift quarantine of"
        if updated == current:
            state = "already" if action == "add" else "not"
            return publish.Change(
                skip_code=f"{state}-quarantined", skip_reason=f"{listed} {state} quarantined"
            )
        quarantine.save(tree.root, updated)
        why = f"\n\nReason: {reason}" if reason else ""
        message = trailers.append(
            f"{verb} {listed}{why}", [(trailers.ACTION, trailers.Action.QUARANTINE.value)]
        )
        sha = tree.commit(message, [quarantine.PATH])
        return publish.Change(sha=sha, files=(quarantine.PATH,))

    return publish.publish(
        wc,
        make_change,
        settings,
        target="",
        head_branch=f"gitops-guard/quarantine-{action}",
        title=lambda ch: f"{action} quarantine: {listed}",
        body=lambda ch: (
            f"`gitops-guard rollback quarantine {action}` of "
            + ", ".join(f"`{r}`" for r in image_refs)
            + (f"\n\nReason: {reason}\n" if reason else "\n")
        ),
    )
