"""Staging before production: did this image pass the gate in an earlier environment?

"Promote what was verified": production takes an image only when the newest
deployment of that image in the earlier environment (``staging``) carries a passing
verdict (``pass`` or ``warn``) and was not rolled back since. The verdicts live in the
GitHub Deployment records the ``record`` job writes into the application repository
(task ``deploy``, ``payload.image``, ``payload.verdict``, ``payload.gitops_commit``; a
rollback is task ``deploy:rollback`` with ``payload.reverts``): they are per
repository and environment, survive the run, and need only ``deployments: read``.

The newest record of the image decides: an image that passed once and failed on a
later deploy to staging is refused. ``force`` lets it through, and says so.

Pure: data in, decision out; this module must not talk to GitHub or read the environment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitops_guard import errors, images

PASSING = ("pass", "warn")
TASK_DEPLOY = "deploy"
TASK_ROLLBACK = "deploy:rollback"


@dataclass(frozen=True)
class Record:
    """One deployment record, as listed (newest first)."""

    id: int
    task: str
    environment: str
    created_at: str
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """May the image go on; the record that decided, and why, in one sentence."""

    allowed: bool
    reason: str
    verdict: str = ""
    record: Record | None = None
    forced: bool = False

    def evidence(self) -> dict[str, Any]:
        """What production's evidence carries about the earlier environment."""
        found = self.record
        return {
            "allowed": self.allowed,
            "forced": self.forced,
            "reason": self.reason,
            "verdict": self.verdict or None,
            "environment": found.environment if found else None,
            "deployment_id": found.id if found else None,
            "gitops_commit": (found.payload.get("gitops_commit") if found else None),
            "recorded_at": found.created_at if found else None,
        }


def same_image(recorded: str, wanted: str) -> bool:
    """Same repository, and the same digest (when both have one) or else the same tag."""
    try:
        a = images.parse(recorded, source="payload.image")
        b = images.parse(wanted, source="--image")
    except errors.InputError:
        return recorded.strip() == wanted.strip()
    if a.repository != b.repository:
        return False
    if a.digest and b.digest:
        return a.digest == b.digest
    return bool(a.tag) and a.tag == b.tag


def decide(
    records: Sequence[Record], *, image: str, environment: str, force: bool = False
) -> Decision:
    """Whether ``image`` passed in ``environment`` (``records`` newest first)."""
    mine = [r for r in records if r.environment == environment]
    reverted = {str(r.payload.get("reverts") or "") for r in mine if r.task == TASK_ROLLBACK} - {""}
    decision: Decision | None = None
    for record in mine:
        recorded = str(record.payload.get("image", ""))
        if record.task != TASK_DEPLOY or not same_image(recorded, image):
            continue
        verdict = str(record.payload.get("verdict") or "")
        commit = str(record.payload.get("gitops_commit") or "")
        if verdict not in PASSING:
            why = f"its newest deploy to {environment} has verdict '{verdict or 'none'}'"
            decision = Decision(False, f"{image}: {why} (deployment {record.id})", verdict, record)
        elif commit and commit in reverted:
            decision = Decision(
                False,
                f"{image} passed in {environment} (deployment {record.id}) but was rolled back",
                verdict,
                record,
            )
        else:
            decision = Decision(
                True,
                f"{image} passed the gate in {environment}: {verdict} (deployment {record.id})",
                verdict,
                record,
            )
        break
    if decision is None:
        decision = Decision(False, f"{image} has no deployment record in {environment}")
    if not decision.allowed and force:
        return Decision(
            True, f"forced: {decision.reason}", decision.verdict, decision.record, forced=True
        )
    return decision
