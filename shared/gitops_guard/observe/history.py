"""Deploy and rollback events from the GitOps history, joined with deployment records.

Reads ``git log`` once for the trailers (the format and parser of
:mod:`gitops_guard.rollback.history`, over the one vocabulary of
:mod:`gitops_guard.trailers`) and once for the paths each commit changed and its
Environment/Promoted-At trailers, which say its environment and time: a commit belongs to
environment ``ENV`` when a changed path has a folder or file stem named ``ENV``
(``envs/production/web.yaml``, ``overlays/production/...``, ``production.yaml``),
or when a deployment record of that environment names it; a commit with a
``Gitops-Guard-Environment`` trailer belongs to that environment only. A
``Gitops-Guard-Promoted-At`` trailer (it survives a rebase) wins over the commit time,
and so does a deployment record's ``promoted_at`` (when the push returned) when the
commit has no such trailer.

Deploy commits are those update-manifest wrote (``Gitops-Guard-Action:
update-manifest``); rollbacks are those rollback wrote and any commit that
reverts a deploy commit (git's ``This reverts commit`` line included).

This module runs git (through :class:`gitops_guard.gitops.WorkingCopy`) and must not
compute metrics (:mod:`.dora` does).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Any

from gitops_guard import gitops, trailers
from gitops_guard.observe import dora, records
from gitops_guard.rollback import history, models

_SEP = "\x1e"
_FIELD = "\x1f"
_EXTRA = _FIELD.join(
    trailers.git_format(key, separator=",") for key in (trailers.ENVIRONMENT, trailers.PROMOTED_AT)
)


@dataclass(frozen=True)
class Commit:
    """A commit of the GitOps history as metrics needs it."""

    record: models.CommitRecord
    paths: tuple[str, ...]
    environment: str = ""
    """The ``Gitops-Guard-Environment`` trailer, when the writer set one."""
    promoted_at: str = ""
    """The ``Gitops-Guard-Promoted-At`` trailer (survives a rebase), when set."""

    def environments(self) -> frozenset[str]:
        """The Environment trailer, else folder names and file stems of the changed paths."""
        if self.environment:
            return frozenset(e.strip() for e in self.environment.split(",") if e.strip())
        names: set[str] = set()
        for path in self.paths:
            pure = PurePosixPath(path)
            names.update(pure.parts[:-1])
            names.add(pure.stem)
        return frozenset(names)


def read(wc: gitops.WorkingCopy, revision: str = "HEAD") -> list[Commit]:
    """Every commit reachable from ``revision``, newest first, with its changed paths."""
    found = history.parse_log(wc.git("log", f"--format={history.LOG_FORMAT}", revision))
    listing = wc.git(
        "log", f"--format={_SEP}%H{_FIELD}{_EXTRA}", "--name-only", "--no-renames", revision
    )
    extra: dict[str, tuple[tuple[str, ...], str, str]] = {}
    for chunk in listing.split(_SEP):
        lines = [line for line in chunk.splitlines() if line.strip()]
        if lines:
            sha, environment, promoted = [*lines[0].split(_FIELD), "", ""][:3]
            extra[sha.strip()] = (tuple(lines[1:]), environment.strip(), promoted.strip())
    out = []
    for r in found:
        paths, environment, promoted = extra.get(r.sha, ((), "", ""))
        out.append(Commit(r, paths, environment, promoted))
    return out


def _seconds(value: object) -> float | None:
    if value in (None, ""):
        return None
    try:
        return records.parse_time(str(value)).timestamp()
    except ValueError:
        return None


def events(
    commits: Sequence[Commit],
    deployments: Iterable[Mapping[str, Any]] = (),
    *,
    environment: str | None = None,
) -> list[dora.Event]:
    """Deploy and rollback events (oldest first), with the facts of matching records.

    ``deployments`` are GitHub Deployment records: ``environment``, ``task`` and the
    ``payload`` that ``gitops-guard record`` wrote (keyed by ``gitops_commit``).
    """
    by_commit: dict[str, dict[str, Any]] = {}
    record_envs: dict[str, set[str]] = {}
    for deployment in deployments:
        payload = deployment.get("payload") or {}
        sha = str(payload.get("gitops_commit") or "").lower()
        if not sha:
            continue
        facts = by_commit.setdefault(sha, {})
        for key in records.FACT_KEYS:
            if payload.get(key) not in (None, "") and key not in facts:
                facts[key] = payload[key]
        record_envs.setdefault(sha, set()).add(str(deployment.get("environment") or ""))
    deploy_shas = {c.record.sha.lower() for c in commits if c.record.is_deploy}
    out: list[dora.Event] = []
    for commit in reversed(commits):
        rec = commit.record
        sha = rec.sha.lower()
        reverts_deploy = any(
            r.lower() in deploy_shas or any(d.startswith(r.lower()) for d in deploy_shas)
            for r in rec.reverts
            if len(r) >= 7
        )
        if rec.is_deploy:
            kind: dora.Kind = "deploy"
        elif rec.is_rollback or reverts_deploy:
            kind = "rollback"
        else:
            continue
        if environment is not None and not (
            environment in commit.environments() or environment in record_envs.get(sha, ())
        ):
            continue
        at = _seconds(commit.promoted_at.split(",")[0]) if commit.promoted_at else None
        event = dora.Event(
            sha=rec.sha,
            at=at if at is not None else float(rec.timestamp),
            kind=kind,
            reverts=rec.reverts,
        )
        known = by_commit.get(sha)
        if known:
            verdict = known.get("verdict")
            recorded_at = _seconds(known.get("promoted_at"))
            event = replace(
                event,
                at=event.at if at is not None or recorded_at is None else recorded_at,
                committed_at=_seconds(known.get("committed_at")),
                synced_at=_seconds(known.get("synced_at")),
                verdict=str(verdict) if verdict else None,
                verdict_at=_seconds(known.get("verdict_at")),
                restored_at=_seconds(known.get("restored_at")),
            )
        out.append(event)
    return out


def has_trailers(commits: Sequence[Commit]) -> bool:
    """True when some commit was written by gitops-guard."""
    return any(c.record.action for c in commits)
