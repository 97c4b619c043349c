"""Pushgateway client: push gitops-guard's last-state gauges for one (job, environment, app).

Only last states go to the Pushgateway (it is not an event store; events stay in
Git and in GitHub Deployments): when the last deploy was, the last verdict and
when, the last rollback, the last lead time and the duration of each pipeline
stage. They are pushed with an explicit grouping key ``job/environment/app``
and ``PUT`` (the group is replaced as a whole), without sample timestamps (the
Pushgateway refuses them; Prometheus stamps the scrape). A run knows only some
facts (a by-hand rollback does not know the last deploy), so :func:`push` reads
the group first and carries over the gauges this run does not set.

Scrape the Pushgateway with ``honor_labels: true`` so the pushed ``job`` wins.

:func:`exposition` is pure; :func:`push` does two calls through the one HTTP base
(:mod:`gitops_guard.http`: retries, one deadline, error translation). This module
decides nothing.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from gitops_guard import credentials, errors, http

JOB = "gitops-guard"
VERDICTS = ("pass", "warn", "fail", "inconclusive")
DEPLOY = "gitops_guard_last_deploy_timestamp_seconds"
VERDICT = "gitops_guard_last_verdict"
VERDICT_AT = "gitops_guard_last_verdict_timestamp_seconds"
ROLLBACK = "gitops_guard_last_rollback_timestamp_seconds"
LEAD_TIME = "gitops_guard_last_lead_time_seconds"
STAGE = "gitops_guard_pipeline_stage_duration_seconds"
_HELP = {
    DEPLOY: "When the last deploy commit was pushed (seconds since the epoch).",
    VERDICT: "The last SLO gate verdict: 1 for the verdict label that holds, 0 for the others.",
    VERDICT_AT: "When the last SLO gate verdict was decided (seconds since the epoch).",
    ROLLBACK: "When the last rollback was pushed (seconds since the epoch).",
    LEAD_TIME: "Application commit to Synced and Healthy, of the last deploy (seconds).",
    STAGE: "Duration of each stage of the last pipeline run (seconds).",
}


@dataclass(frozen=True)
class LastState:
    """The gauges of one group; None: this run does not know it (keep the pushed one)."""

    deploy_at: float | None = None
    verdict: str | None = None
    verdict_at: float | None = None
    rollback_at: float | None = None
    lead_time_seconds: float | None = None
    stage_seconds: Mapping[str, float] = field(default_factory=dict)

    def merged_over(self, older: LastState) -> LastState:
        """This state, with ``older``'s values where this one has none."""
        return replace(
            self,
            deploy_at=self.deploy_at if self.deploy_at is not None else older.deploy_at,
            verdict=self.verdict if self.verdict is not None else older.verdict,
            verdict_at=self.verdict_at if self.verdict_at is not None else older.verdict_at,
            rollback_at=self.rollback_at if self.rollback_at is not None else older.rollback_at,
            lead_time_seconds=(
                self.lead_time_seconds
                if self.lead_time_seconds is not None
                else older.lead_time_seconds
            ),
            stage_seconds={**older.stage_seconds, **self.stage_seconds},
        )


def _number(value: float) -> str:
    return repr(float(value)) if math.isfinite(value) else "NaN"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def exposition(state: LastState) -> str:
    """The text exposition format of the group's gauges (no timestamps)."""
    samples: dict[str, list[tuple[str, float]]] = {}
    if state.deploy_at is not None:
        samples[DEPLOY] = [("", state.deploy_at)]
    if state.verdict is not None:
        samples[VERDICT] = [
            (f'verdict="{v}"', 1.0 if v == state.verdict else 0.0) for v in VERDICTS
        ]
    if state.verdict_at is not None:
        samples[VERDICT_AT] = [("", state.verdict_at)]
    if state.rollback_at is not None:
        samples[ROLLBACK] = [("", state.rollback_at)]
    if state.lead_time_seconds is not None:
        samples[LEAD_TIME] = [("", state.lead_time_seconds)]
    if state.stage_seconds:
        samples[STAGE] = [
            (f'stage="{_escape(k)}"', v) for k, v in sorted(state.stage_seconds.items())
        ]
    lines: list[str] = []
    for name, values in samples.items():
        lines += [f"# HELP {name} {_HELP[name]}", f"# TYPE {name} gauge"]
        lines += [
            f"{name}{{{labels}}} {_number(v)}" if labels else f"{name} {_number(v)}"
            for labels, v in values
        ]
    return "\n".join(lines) + "\n"


def group_path(*, job: str, environment: str, app: str) -> str:
    """``/metrics/job/J/environment/E/app/A``, base64-encoding values with ``/`` or empty."""
    parts = ["metrics"]
    for key, value in (("job", job), ("environment", environment), ("app", app)):
        if not value or "/" in value:
            encoded = base64.urlsafe_b64encode(value.encode()).decode() or "="
            parts += [f"{key}@base64", encoded]
        else:
            parts += [key, value]
    return "/" + "/".join(parts)


def parse_state(groups: Any, labels: Mapping[str, str]) -> LastState:
    """Our gauges of the group with ``labels`` in a ``GET /api/v1/metrics`` answer."""
    if not isinstance(groups, Mapping) or not isinstance(groups.get("data"), list):
        return LastState()
    for group in groups["data"]:
        if not isinstance(group, Mapping) or group.get("labels") != dict(labels):
            continue

        def first(name: str, group: Mapping[str, Any] = group) -> float | None:
            family = group.get(name)
            if not isinstance(family, Mapping) or not family.get("metrics"):
                return None
            return float(family["metrics"][0]["value"])

        verdict = None
        family = group.get(VERDICT)
        if isinstance(family, Mapping):
            for metric in family.get("metrics") or []:
                if float(metric.get("value", 0)) == 1.0:
                    verdict = str(metric.get("labels", {}).get("verdict") or "") or None
        stages: dict[str, float] = {}
        family = group.get(STAGE)
        if isinstance(family, Mapping):
            for metric in family.get("metrics") or []:
                stage = metric.get("labels", {}).get("stage")
                if stage:
                    stages[str(stage)] = float(metric["value"])
        return LastState(
            deploy_at=first(DEPLOY),
            verdict=verdict,
            verdict_at=first(VERDICT_AT),
            rollback_at=first(ROLLBACK),
            lead_time_seconds=first(LEAD_TIME),
            stage_seconds=stages,
        )
    return LastState()


@dataclass(frozen=True)
class PushSettings:
    """Where and how to push."""

    url: str
    token: credentials.Token | None = field(default=None, repr=False)
    """From ``PUSHGATEWAY_TOKEN`` (the one token resolver), when the Pushgateway needs one."""
    deadline_seconds: float = 30.0
    """Both calls, every retry included, give up after this long: the deploy is done."""


def push(
    state: LastState,
    *,
    environment: str,
    app: str,
    settings: PushSettings,
    job: str = JOB,
    transport: httpx.BaseTransport | None = None,
) -> LastState:
    """Merge ``state`` over the group's pushed gauges and PUT the group; returns what was put.

    Both calls go through the one HTTP base (retries, one deadline, error translation:
    401/403 name ``PUSHGATEWAY_TOKEN``, an unreachable Pushgateway is DependencyUnavailable).
    """
    labels = {"job": job, "environment": environment, "app": app}
    with http.Client(
        settings.url,
        service="the Pushgateway",
        url_source="--pushgateway-url",
        token=settings.token,
        deadline=http.Deadline(settings.deadline_seconds, source="--pushgateway-url"),
        transport=transport,
    ) as client:
        current = client.request("GET", "/api/v1/metrics")
        try:
            pushed = parse_state(current.json(), labels)
        except ValueError as exc:
            raise errors.DependencyUnavailable(
                f"the Pushgateway at {settings.url} answered something that is not its JSON",
                hint="Check --pushgateway-url: it is the Pushgateway's base URL.",
            ) from exc
        merged = state.merged_over(pushed)
        client.request(
            "PUT",
            group_path(**labels),
            content=exposition(merged).encode(),
            content_type="text/plain; version=0.0.4",
        )
    return merged
