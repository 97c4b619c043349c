"""The GitHub Deployment records of a workflow run: which, in what state, with what facts.

A record is one GitHub Deployment (task ``deploy`` or ``deploy:rollback``) plus one
deployment status. Its ``payload`` carries the immutable facts of the event, the
ones ``gitops-guard metrics`` reads back later:

* ``gitops_commit`` (the deploy or revert commit), ``image``, ``pull_request``;
* ``committed_at`` (the application commit's time, where the change starts),
  ``promoted_at`` (the deploy commit was written), ``synced_at`` (ArgoCD ran that
  commit Synced and Healthy: argocd-wait's predicate), ``verdict`` and ``verdict_at``;
* for a rollback ``reverts`` (the bad deploy commit) and ``restored_at`` (ArgoCD
  ran the revert Synced and Healthy).

A deployment's ``updated_at`` moves when a later deployment marks it inactive, so
nothing here ever reads it: every time is written once, into the payload.

Pure: data in, records out. This module must not talk to GitHub, read files or
the environment (:mod:`gitops_guard.cli.record` does).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

State = Literal["error", "failure", "inactive", "in_progress", "queued", "pending", "success"]
TASK_DEPLOY = "deploy"
TASK_ROLLBACK = "deploy:rollback"
DESCRIPTION_MAX = 140
"""GitHub refuses longer deployment and status descriptions."""
FACT_KEYS = (
    "committed_at",
    "promoted_at",
    "synced_at",
    "verdict",
    "verdict_at",
    "reverts",
    "restored_at",
)
"""The timestamp and verdict facts of a payload, read back by ``metrics``."""


@dataclass(frozen=True)
class Record:
    """One GitHub Deployment to create, with its first and only status."""

    task: str
    state: State
    description: str
    payload: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """For the report and ``--dry-run``."""
        return {
            "task": self.task,
            "state": self.state,
            "description": self.description,
            "payload": dict(self.payload),
        }


@dataclass(frozen=True)
class Facts:
    """Times and verdicts known when the record is written (None: not known)."""

    committed_at: str | None = None
    promoted_at: str | None = None
    synced_at: str | None = None
    verdict_at: str | None = None
    restored_at: str | None = None


class Needs:
    """The ``needs`` context of the record job (``toJSON(needs)``), read defensively."""

    def __init__(self, needs: Mapping[str, Any]):
        self._needs = needs

    def result(self, job: str) -> str:
        """success, failure, cancelled or skipped (a job not listed was skipped)."""
        entry = self._needs.get(job)
        if not isinstance(entry, Mapping):
            return "skipped"
        return str(entry.get("result") or "skipped")

    def output(self, job: str, name: str) -> str:
        """An output of a job that ran; "" otherwise (act shows unevaluated ones)."""
        if self.result(job) not in ("success", "failure"):
            return ""
        entry = self._needs.get(job)
        outputs = entry.get("outputs") if isinstance(entry, Mapping) else None
        value = outputs.get(name) if isinstance(outputs, Mapping) else None
        return str(value or "")


def iso(moment: datetime) -> str:
    """``2026-12-01T22:03:19Z``: UTC, seconds, as GitHub writes times."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (``Z`` or an offset) or seconds since the epoch, as UTC.

    Raises ValueError naming the text when it is neither.
    """
    value = text.strip()
    try:
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time nor seconds since the epoch") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _short(text: str) -> str:
    return text if len(text) <= DESCRIPTION_MAX else text[: DESCRIPTION_MAX - 3] + "..."


def _facts(facts: Facts, *names: str) -> dict[str, str | None]:
    return {name: getattr(facts, name) for name in names}


def reverter(needs: Needs) -> str:
    """The job that reverted the deploy: ``bake`` when a rollback rule fired after a
    passing gate (gitops-deploy's bake period), else ``rollback``."""
    if needs.output("bake", "commit") or needs.output("bake", "pull-request"):
        return "bake"
    return "rollback"


def required_verdict(needs: Needs) -> dict[str, Any] | None:
    """The earlier environment's decision the plan job's require-verdict made (its
    ``required-evidence`` output), reduced to what a deploy record carries: the
    environment and, per image, the verdict, the deployment record it came from, its
    GitOps commit and whether it was forced. None without require-verdict-from."""
    text = needs.output("plan", "required-evidence")
    if not text:
        return None
    try:
        evidence = json.loads(text)
    except ValueError:
        return None
    if not isinstance(evidence, Mapping) or not isinstance(evidence.get("images"), Mapping):
        return None
    keep = ("verdict", "deployment_id", "gitops_commit", "forced")
    return {
        "environment": evidence.get("environment"),
        "images": {
            str(ref): {key: decision.get(key) for key in keep}
            for ref, decision in evidence["images"].items()
            if isinstance(decision, Mapping)
        },
    }


def for_deploy(needs: Needs, facts: Facts) -> list[Record]:
    """The records of one gitops-deploy run (the rules its record job always applied).

    * promotion pull request opened: ``deploy`` queued;
    * deploy commit pushed: ``deploy`` success (gate pass/warn), failure (gate
      fail/inconclusive, or ArgoCD said no) or error (could not be verified);
    * promotion failed or cancelled: ``deploy`` error;
    * a rollback ran: ``deploy:rollback`` success, failure, queued (revert pull
      request) or error (the rollback job failed before reverting).

    With require-verdict-from, the deploy's payload carries the earlier environment's
    verdict as ``required_verdict`` (:func:`required_verdict`).
    """
    image = needs.output("promote", "image")
    deploy_commit = needs.output("promote", "commit")
    promotion_pr = needs.output("promote", "pull-request")
    verdict = needs.output("verify", "verdict")
    argocd_result = needs.output("verify", "argocd-result")
    argocd_said_no = argocd_result in ("sync-failed", "degraded", "timed-out")
    required = required_verdict(needs)
    carried: dict[str, Any] = {"required_verdict": required} if required else {}
    records: list[Record] = []
    promote = needs.result("promote")
    if promote == "success" and promotion_pr:
        records.append(
            Record(
                TASK_DEPLOY,
                "queued",
                _short(f"promotion pull request opened for {image}"),
                {"image": image, "pull_request": promotion_pr}
                | _facts(facts, "committed_at", "promoted_at")
                | carried,
            )
        )
    elif promote == "success" and deploy_commit:
        state: State
        if verdict in ("pass", "warn") and needs.result("verify") == "success":
            state, text = "success", f"{image} verified: SLO gate {verdict}"
        elif verdict in ("fail", "inconclusive"):
            state, text = "failure", f"{image} rejected: SLO gate {verdict}"
        elif argocd_said_no:
            state, text = "failure", f"{image} rejected: ArgoCD {argocd_result}"
        else:
            state, text = (
                "error",
                f"{image} could not be verified (verify: {needs.result('verify')})",
            )
        payload: dict[str, Any] = {
            "image": image,
            "gitops_commit": deploy_commit,
            "verdict": verdict or None,
            "argocd": argocd_result,
        } | _facts(facts, "committed_at", "promoted_at", "synced_at", "verdict_at")
        if not verdict:
            payload["verdict_at"] = None
        payload |= carried
        records.append(Record(TASK_DEPLOY, state, _short(text), payload))
    elif promote in ("failure", "cancelled"):
        records.append(
            Record(TASK_DEPLOY, "error", "the promotion did not complete", {"image": image})
        )
    job = reverter(needs)
    rollback_commit = needs.output(job, "commit")
    rollback_pr = needs.output(job, "pull-request")
    restored = needs.output(job, "rolled-back-to").replace("\n", ", ")
    if rollback_commit or rollback_pr:
        ok = needs.result(job) == "success"
        if rollback_pr:
            state, text = "queued", f"revert pull request opened: {rollback_pr}"
        else:
            text = f"reverted {deploy_commit[:12]} to {restored or 'the previous version'}: " + (
                "ArgoCD runs the revert" if ok else "revert not confirmed synced"
            )
            state = "success" if ok else "failure"
        records.append(
            Record(
                TASK_ROLLBACK,
                state,
                _short(text),
                {
                    "reverts": deploy_commit,
                    "image": restored,
                    "gitops_commit": rollback_commit,
                    "pull_request": rollback_pr,
                    "restored_at": facts.restored_at if state == "success" else None,
                },
            )
        )
    elif needs.result("rollback") == "failure":
        records.append(
            Record(
                TASK_ROLLBACK,
                "error",
                "the rollback failed: act by hand (rollback.yml)",
                {"reverts": deploy_commit},
            )
        )
    return records


def for_rollback(needs: Needs, facts: Facts, *, reason: str = "") -> list[Record]:
    """The one ``deploy:rollback`` record of a by-hand rollback (rollback.yml)."""
    result = needs.result("rollback")
    commit = needs.output("rollback", "commit")
    pull_request = needs.output("rollback", "pull-request")
    image = needs.output("rollback", "rolled-back-to").replace("\n", ", ")
    reverts = needs.output("rollback", "reverts")
    state: State
    if result == "success" and pull_request:
        state, text = "queued", f"rollback pull request opened: {pull_request}"
    elif result == "success":
        state, text = "success", f"rolled back to {image or 'the previous version'}"
    else:
        state, text = "error", f"the rollback did not complete ({result})"
    if reason:
        text = f"{text}: {reason}"
    return [
        Record(
            TASK_ROLLBACK,
            state,
            _short(text),
            {
                "image": image,
                "gitops_commit": commit,
                "pull_request": pull_request,
                "reverts": reverts or None,
                "restored_at": facts.restored_at if state == "success" else None,
            },
        )
    ]


INSTANT_OUTPUTS = {
    "promoted_at": ("promote", "promoted-at"),
    "synced_at": ("verify", "synced-at"),
    "verdict_at": ("verify", "verdict-at"),
}
"""Fact -> (job, output): the instant the job's own gitops-guard step wrote."""
STAGE_OUTPUTS = {
    "plan": ("plan", "plan-seconds"),
    "promote": ("promote", "promote-seconds"),
    "wait": ("verify", "wait-seconds"),
    "gate": ("verify", "gate-seconds"),
    "rollback": ("rollback", "rollback-seconds"),
}
"""Stage -> (job, output): the duration of the stage's own gitops-guard step."""


def instants(needs: Needs) -> dict[str, str]:
    """The instants the jobs wrote as outputs (``promoted-at``, ``synced-at``,
    ``verdict-at``, and ``restored-at`` of the job that reverted), as written.

    gitops-deploy and rollback.yml name their jobs alike, so one reading serves
    both; a job that did not run gives nothing.
    """
    found = {fact: needs.output(job, name) for fact, (job, name) in INSTANT_OUTPUTS.items()}
    found["restored_at"] = needs.output(reverter(needs), "restored-at")
    return {fact: value for fact, value in found.items() if value.strip()}


def stage_outputs(needs: Needs) -> dict[str, str]:
    """Stage -> its ``*-seconds`` output, as written, for the stages that ran."""
    found = {stage: needs.output(job, name) for stage, (job, name) in STAGE_OUTPUTS.items()}
    return {stage: value for stage, value in found.items() if value.strip()}


def synced_at(argocd_report: Mapping[str, Any]) -> str | None:
    """When argocd-wait saw our revision Synced and Healthy (its report), or None."""
    if argocd_report.get("result") != "done":
        return None
    timeline = argocd_report.get("timeline")
    if isinstance(timeline, list) and timeline:
        last = timeline[-1]
        if isinstance(last, Mapping) and last.get("at"):
            return str(last["at"])
    return None


def verdict_at(gate_report: Mapping[str, Any]) -> str | None:
    """When the SLO gate decided (its report's ``ended_at``), or None."""
    value = gate_report.get("ended_at")
    return str(value) if value else None


@dataclass(frozen=True)
class RunContext:
    """What the job summary names besides the jobs' results."""

    environment: str
    promote_mode: str = ""
    rollback_mode: str = ""
    gitops_repository: str = ""
    argocd_app: str = ""


def _cell(value: str) -> str:
    return f"`{value}`" if value else "-"


def deploy_summary(needs: Needs, context: RunContext, recorded: list[str], failed: bool) -> str:
    """The gitops-deploy job summary: one row per stage, then one sentence."""
    image = needs.output("promote", "image")
    deploy_commit = needs.output("promote", "commit")
    promotion_pr = needs.output("promote", "pull-request")
    verdict = needs.output("verify", "verdict")
    argocd_result = needs.output("verify", "argocd-result")
    job = reverter(needs)
    rollback_commit = needs.output(job, "commit")
    rollback_pr = needs.output(job, "pull-request")
    restored = needs.output(job, "rolled-back-to").replace("\n", ", ")
    rolled_back = bool(rollback_commit) and needs.result(job) == "success"
    target = promotion_pr or (
        f"-> {context.gitops_repository}@{deploy_commit[:12]}" if deploy_commit else ""
    )
    rollback_detail = _cell(rollback_commit[:12]) if rollback_commit else (rollback_pr or "-")
    if restored:
        rollback_detail += f" back to {_cell(restored)}"
    if rolled_back:
        rollback_detail += ", ArgoCD runs the revert"
    lines = [
        f"## gitops-guard: {context.environment}",
        "",
        "| stage | result | detail |",
        "|---|---|---|",
        f"| test | {needs.result('test')} | |",
        f"| build | {needs.result('build')} | {_cell(needs.output('build', 'image'))} |",
        f"| promote ({context.promote_mode}) | {needs.result('promote')} | "
        f"{_cell(image)} {target} |",
        f"| verify (ArgoCD {context.argocd_app}, SLO gate) | {needs.result('verify')} | "
        f"ArgoCD {_cell(argocd_result)}, verdict {_cell(verdict)} |",
        f"| bake | {needs.result('bake')} | |",
        f"| {job} ({context.rollback_mode}) | {needs.result(job)} | {rollback_detail} |",
        f"| record | {'failed' if failed else 'done'} | "
        f"{', '.join(recorded) or 'nothing to record'} |",
        "",
    ]
    if rolled_back:
        why = verdict if verdict in ("fail", "inconclusive") else f"ArgoCD {argocd_result}"
        if job == "bake":
            why = "a rollback rule fired during the bake"
        elif not verdict and argocd_result == "done":
            why = "the SLO gate could not judge it"
        lines.append(
            f"**{image} was rejected ({why}) and rolled back.** "
            "The evidence (gate report, ArgoCD timeline) is attached to this run."
        )
    elif verdict in ("pass", "warn"):
        lines.append(f"**{image} is live in {context.environment} and its SLOs hold ({verdict}).**")
    return "\n".join(lines)


def rollback_summary(context: RunContext, records: list[Record], failed: bool) -> str:
    """The rollback.yml job summary: the record's state and description."""
    lines = [f"## gitops-guard rollback: {context.environment}", ""]
    lines += [f"{r.state}: {r.description}" for r in records]
    if failed:
        lines += ["", "The GitHub Deployment record could not be written (see the error)."]
    return "\n".join(lines)
