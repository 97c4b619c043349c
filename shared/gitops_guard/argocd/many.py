"""Wait for many ArgoCD applications at once (``argocd-wait --selector`` or ``--app`` repeated).

ApplicationSet-generated apps (one per cluster or region) all take the same commit.
One ``GET /api/v1/applications?selector=...`` per poll reads every selected app (the
request rate does not grow with the number of apps); each app is judged by the one
decision rule (:func:`gitops_guard.argocd.decision.decide`) with its own Degraded
grace, and is final once it is ``done`` or failed. The wait ends when every app is
final or the timeout passes:

* every app ``done`` -> ``done`` (exit 0);
* otherwise the worst outcome (``sync-failed``, ``degraded``, ``timed-out``: exit 1)
  with the list of the apps that did not make it;
* ArgoCD unreachable for more than ``timing.error_limit`` polls in a row ->
  ``unreachable`` (exit 3).

A selector (or name list) that matches no application is exit 2: there is nothing to
wait for, and a typo must not read as a pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from gitops_guard import errors
from gitops_guard.argocd import decision, models


class ApplicationLister(Protocol):
    """What the wait needs of :class:`gitops_guard.argocd.client.ArgoClient`."""

    @property
    def request_count(self) -> int: ...

    def list_applications(self, *, selector: str | None = None) -> list[models.Application]: ...


@dataclass
class AppOutcome:
    """One application's end (or last state)."""

    name: str
    outcome: str
    reason: str
    revision: str | None = None
    health: str | None = None
    seconds: float | None = None
    """When it became final, seconds after the start."""
    namespace: str | None = None
    """``spec.destination.namespace``: where the app deploys (slo-gate's ``${namespace}``)."""
    cluster: str | None = None
    """``spec.destination.name``, else ``.server``: the target cluster (``${cluster}``)."""


def destination_of(app: models.Application) -> tuple[str | None, str | None]:
    """``(namespace, cluster)`` of an application's destination (None when unset)."""
    dest = app.spec.destination
    return dest.namespace or None, dest.name or dest.server or None


@dataclass
class ManyResult:
    """The verdict over every selected application."""

    outcome: str
    reason: str
    apps: list[AppOutcome] = field(default_factory=list)
    requests: int = 0
    elapsed_seconds: float = 0.0
    last_done_to_verdict_seconds: float | None = None
    """From the last app seen ``done`` to the verdict (politeness of the poll)."""
    done_at: str | None = None
    """When the verdict ``done`` was reached (ISO 8601 UTC), else None: every app
    Synced and Healthy (a rollback's ``restored_at``)."""

    @property
    def failed(self) -> list[str]:
        return [a.name for a in self.apps if a.outcome != "done"]

    def to_report(self) -> dict[str, Any]:
        return {
            "result": self.outcome,
            "reason": self.reason,
            "requests": self.requests,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "last_done_to_verdict_seconds": self.last_done_to_verdict_seconds,
            "done_at": self.done_at,
            "failed_apps": self.failed,
            "apps": [a.__dict__ for a in self.apps],
        }


_WORST = ("sync-failed", "degraded", "timed-out")


def wait_for_many(
    client: ApplicationLister,
    *,
    selector: str | None,
    names: Sequence[str],
    expected: decision.Expectation,
    timing: decision.Timing,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    on_final: Callable[[AppOutcome], None] | None = None,
) -> ManyResult:
    """Wait until every selected app runs ``expected`` (see the module docstring)."""
    start = clock()
    wanted = set(names)
    final: dict[str, AppOutcome] = {}
    last: dict[str, AppOutcome] = {}
    degraded: dict[str, float | None] = {}
    failures = 0
    last_done: float | None = None
    seen: set[str] = set()
    while True:
        elapsed = clock() - start
        try:
            apps = client.list_applications(selector=selector)
            failures = 0
        except errors.DependencyUnavailable as exc:
            failures += 1
            if failures > timing.error_limit:
                return _finish(
                    "unreachable",
                    f"ArgoCD did not answer {failures} times in a row: {exc.message}",
                    final,
                    last,
                    client,
                    clock() - start,
                    None,
                )
            sleep(timing.poll_interval_seconds)
            continue
        selected = [
            (a.metadata.name or "", a) for a in apps if not wanted or a.metadata.name in wanted
        ]
        if not selected and not seen:
            what = f"selector {selector!r}" if selector else f"--app {', '.join(sorted(wanted))}"
            raise errors.InputError(
                f"no ArgoCD application matches {what}: there is nothing to wait for",
                source="--selector" if selector else "--app",
                hint="Check the labels (argocd app list -l KEY=VALUE) or the names.",
            )
        missing = wanted - {name for name, _ in selected}
        seen.update(name for name, _ in selected)
        for name, app in selected:
            if name in final:
                continue
            judged = decision.decide(
                app,
                expected=expected,
                elapsed_seconds=elapsed,
                timing=timing,
                degraded_since=degraded.get(name),
            )
            degraded[name] = judged.degraded_since
            namespace, cluster = destination_of(app)
            outcome = AppOutcome(
                name,
                judged.outcome,
                judged.reason,
                judged.revision,
                app.status.health.status,
                namespace=namespace,
                cluster=cluster,
            )
            last[name] = outcome
            if judged.outcome != "waiting":
                outcome.seconds = round(elapsed, 3)
                final[name] = outcome
                if judged.outcome == "done":
                    last_done = clock()
                if on_final is not None:
                    on_final(outcome)
        for name in missing:
            last[name] = AppOutcome(name, "waiting", "not listed by ArgoCD (yet)")
        pending = [n for n in last if n not in final]
        if not pending:
            since = round(clock() - last_done, 3) if last_done is not None else None
            failed = [o for o in final.values() if o.outcome != "done"]
            if not failed:
                return _finish(
                    "done",
                    f"all {len(final)} applications run our revision",
                    final,
                    last,
                    client,
                    clock() - start,
                    since,
                )
            worst = next(w for w in _WORST if any(o.outcome == w for o in failed))
            listed = ", ".join(f"{o.name} ({o.outcome})" for o in failed)
            return _finish(
                worst,
                f"{len(failed)} of {len(final)} applications did not run our revision: {listed}",
                final,
                last,
                client,
                clock() - start,
                since,
            )
        if elapsed >= timing.timeout_seconds:
            for name in pending:
                state = last[name]
                final[name] = AppOutcome(
                    name,
                    "timed-out",
                    f"timed out; last: {state.reason}",
                    state.revision,
                    namespace=state.namespace,
                    cluster=state.cluster,
                )
            continue
        sleep(timing.poll_interval_seconds)


def _finish(
    outcome: str,
    reason: str,
    final: dict[str, AppOutcome],
    last: dict[str, AppOutcome],
    client: ApplicationLister,
    elapsed: float,
    since: float | None,
) -> ManyResult:
    apps = [final.get(n) or last[n] for n in sorted(last)]
    done_at = datetime.now(timezone.utc).replace(microsecond=0) if outcome == "done" else None
    return ManyResult(
        outcome,
        reason,
        apps,
        client.request_count,
        elapsed,
        since,
        done_at=decision.iso(done_at) if done_at is not None else None,
    )
