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

:func:`exposition` is pure; :func:`push` does two HTTP calls and translates their
failures in one place (401/403: ConfigError naming ``PUSHGATEWAY_TOKEN``;
unreachable after retries: DependencyUnavailable). This module decides nothing.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from gitops_guard import actions, errors

JOB = "gitops-guard"
TOKEN_ENV = "PUSHGATEWAY_TOKEN"  # noqa: S105 (the variable's name, not a token)
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
    token: str = field(default="", repr=False)
    timeout_seconds: float = 10.0
    retries: int = 3


def _translate(exc: Exception, settings: PushSettings) -> errors.GitopsGuardError:
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        if status in (401, 403):
            return errors.ConfigError(
                f"the Pushgateway at {settings.url} refused the request ({status})",
                source=TOKEN_ENV,
                hint=f"Set {TOKEN_ENV} to a token it accepts, or drop the pushgateway-url.",
            )
        if status < 500:
            return errors.InputError(
                f"the Pushgateway at {settings.url} refused the push ({status}: "
                f"{actions.redact(exc.response.text[:200])})",
                source="--pushgateway-url",
            )
    return errors.DependencyUnavailable(
        f"the Pushgateway at {settings.url} could not be reached: {type(exc).__name__}",
        hint="Check the pushgateway-url and the network; the push was retried.",
    )


def push(
    state: LastState, *, environment: str, app: str, settings: PushSettings, job: str = JOB
) -> LastState:
    """Merge ``state`` over the group's pushed gauges and PUT the group; returns what was put."""
    actions.register_secret(settings.token)
    headers = {"Authorization": f"Bearer {settings.token}"} if settings.token else {}
    base = settings.url.rstrip("/")
    labels = {"job": job, "environment": environment, "app": app}
    retrying = Retrying(
        stop=stop_after_attempt(settings.retries + 1),
        wait=wait_random_exponential(multiplier=0.2, max=2),
        retry=retry_if_exception_type((httpx.TransportError, _Retryable)),
        reraise=True,
    )
    try:
        with httpx.Client(timeout=settings.timeout_seconds, headers=headers) as client:
            for attempt in retrying:
                with attempt:
                    current = client.get(f"{base}/api/v1/metrics")
                    _check(current)
                    merged = state.merged_over(parse_state(current.json(), labels))
                    body = exposition(merged)
                    answer = client.put(
                        base + group_path(**labels),
                        content=body.encode(),
                        headers={"Content-Type": "text/plain; version=0.0.4"},
                    )
                    _check(answer)
    except (httpx.HTTPError, _Retryable, ValueError) as exc:
        cause = exc.error if isinstance(exc, _Retryable) else exc
        raise _translate(cause if isinstance(cause, Exception) else exc, settings) from exc
    return merged


class _Retryable(Exception):
    def __init__(self, error: httpx.HTTPStatusError):
        super().__init__(str(error))
        self.error = error


def _check(response: httpx.Response) -> None:
    try:
        response.raise_for_status()
    except httpx.HTTPStatusError as exc:
        if response.status_code >= 500:
            raise _Retryable(exc) from exc
        raise
