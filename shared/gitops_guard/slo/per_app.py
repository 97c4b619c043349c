"""The SLO gate per application: one SLO file, judged once per app, one verdict for all.

ApplicationSet-generated apps (one per cluster or region) take the same commit, and
each must keep the SLOs on its own: a fleet-wide sum would hide one bad cluster
behind 199 good ones. :func:`run` loads the SLO file once per app with that app's
variables, judges each through the one gate flow (:func:`gitops_guard.slo.run.run`),
and :func:`combine` folds the verdicts:

* any app ``fail`` -> ``fail`` (naming the apps);
* else any app ``inconclusive`` (no data, too little traffic, Prometheus unreachable,
  or argocd-wait did not see it run our revision) -> ``inconclusive``: never a pass;
* else any app ``warn`` -> ``warn``; else ``pass``.

Per-app variables (:data:`VARIABLES`) come from the Application: ``app`` (its name),
``namespace`` (``spec.destination.namespace``) and ``cluster``
(``spec.destination.name``, else ``.server``). They are set on top of the file's
``variables:`` and every ``--var``; a value ArgoCD leaves empty is not set, so
``--var namespace=prod`` or the file's default can fill it. An app whose variables
cannot fill the file is exit 2 naming the app, before any query is sent.

This module must not parse flags or write runner output (the CLI renders the outcome).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from pydantic import ConfigDict, Field

from gitops_guard import config as loader
from gitops_guard import errors
from gitops_guard.argocd import models as argo_models
from gitops_guard.slo import config, models
from gitops_guard.slo import run as slo_run

VARIABLES = ("app", "namespace", "cluster")
"""The variables each app sets: its name, destination namespace and cluster."""

ONCE_WORKERS = 8
"""Apps judged at the same time when measuring once (a few instant queries each)."""
LIVE_WORKERS = 256
"""In live mode every app measures for ``analysis.duration``: all of them at once (up
to this many), so the gate takes one duration, not one per app."""


@dataclass(frozen=True)
class AppTarget:
    """One application to judge, and what the wait saw of it."""

    name: str
    namespace: str | None = None
    cluster: str | None = None
    waited: str | None = None
    """argocd-wait's outcome for this app (``done``...), None when not from a wait."""
    wait_reason: str = ""

    def variables(self) -> dict[str, str]:
        """``${app}``, ``${namespace}``, ``${cluster}``: only those ArgoCD fills."""
        values = {"app": self.name, "namespace": self.namespace, "cluster": self.cluster}
        return {k: v for k, v in values.items() if v}


@dataclass
class AppVerdict:
    """One app's gate: its verdict and the gate outcome (None when it was not judged)."""

    target: AppTarget
    variables: dict[str, str]
    verdict: models.Verdict
    reason: str
    outcome: slo_run.GateOutcome | None = None

    @property
    def score(self) -> float:
        run = self.outcome.run if self.outcome is not None else None
        return run.verdict.score if run is not None else 0.0

    def objectives(self, kind: str) -> list[str]:
        run = self.outcome.run if self.outcome is not None else None
        if run is None:
            return []
        return list(getattr(run.verdict, kind))


@dataclass
class ManyGateOutcome:
    """The verdict over every app, each app's gate, and the combined report."""

    verdict: models.Verdict
    reason: str
    apps: list[AppVerdict] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def named(self, verdict: str) -> list[str]:
        return [a.target.name for a in self.apps if a.verdict == verdict]


# ---------------------------------------------------------------- choosing the apps
class ApplicationLister(Protocol):
    """What :func:`targets_from_argocd` needs of the ArgoCD client."""

    def list_applications(
        self, *, selector: str | None = None
    ) -> list[argo_models.Application]: ...


def targets_from_argocd(
    lister: ApplicationLister, *, selector: str | None, names: Sequence[str]
) -> list[AppTarget]:
    """The selected apps with their destinations (one list request); exit 2 on none."""
    listed = {a.metadata.name or "": a for a in lister.list_applications(selector=selector)}
    wanted = list(names) or sorted(listed)
    unknown = [n for n in wanted if n not in listed]
    if unknown or not wanted:
        what = f"selector {selector!r}" if selector else "--app"
        raise errors.InputError(
            f"no ArgoCD application matches {what}"
            + (f": {', '.join(unknown)}" if unknown else ": there is nothing to judge"),
            source="--selector" if selector and not names else "--app",
            hint="Check the labels (argocd app list -l KEY=VALUE) or the names.",
        )
    out = []
    for name in wanted:
        dest = listed[name].spec.destination
        out.append(AppTarget(name, dest.namespace or None, dest.name or dest.server or None))
    return out


class _WaitApp(loader.Model):
    model_config = ConfigDict(extra="ignore", frozen=True)
    name: str = Field(min_length=1)
    outcome: str = ""
    reason: str = ""
    namespace: str | None = None
    cluster: str | None = None


class WaitReport(loader.Model):
    """The keys of an argocd-wait report (``--selector``/``--app`` repeated) read here."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    apps: list[_WaitApp] = Field(min_length=1)


WAIT_REPORT = loader.Kind(
    "argocd-wait report", "argocd-wait-report", "docs/argocd-wait.md", syntax="JSON"
)


def targets_from_wait(path: Path, *, flag: str = "--apps-from") -> list[AppTarget]:
    """The apps of an argocd-wait report, with what the wait saw of each (exit 2 naming
    the file and line when it is not one)."""
    data = loader.load_file(WaitReport, path, kind=WAIT_REPORT, flag=flag)
    return [
        AppTarget(a.name, a.namespace or None, a.cluster or None, a.outcome or None, a.reason)
        for a in data.apps
    ]


# ---------------------------------------------------------------- loading and judging
def load_each(
    path: Path, targets: Sequence[AppTarget], overrides: Mapping[str, str]
) -> dict[str, config.SloConfig]:
    """The SLO file with each app's variables; exit 2 naming the first app it fails for."""
    out: dict[str, config.SloConfig] = {}
    for target in targets:
        values = {**overrides, **target.variables()}
        try:
            out[target.name] = config.load(path, overrides=values)
        except errors.ConfigError as exc:
            missing = [v for v in VARIABLES if v not in values]
            gap = (
                f"{target.name!r} has no {' or '.join(missing)} from ArgoCD "
                "(spec.destination; --app without --argocd-server sets ${app} only): pass "
                "--var NAME=VALUE for it. "
                if missing
                else ""
            )
            raise errors.ConfigError(
                f"application {target.name!r}: {exc.message}",
                source=exc.source,
                hint=gap + (exc.hint or ""),
            ) from exc
    return out


def combine(verdicts: Sequence[tuple[str, models.Verdict]]) -> tuple[models.Verdict, str]:
    """One verdict over the apps' verdicts (see the module docstring); pure."""
    if not verdicts:
        return "inconclusive", "no application was judged"
    by: dict[str, list[str]] = {}
    for name, verdict in verdicts:
        by.setdefault(verdict, []).append(name)
    total = len(verdicts)
    for kind, says in (
        ("fail", "failed the SLOs"),
        ("inconclusive", "could not be judged (no data, too little traffic or not deployed)"),
        ("warn", "warned"),
    ):
        names = by.get(kind, [])
        if names:
            return kind, f"{len(names)} of {total} applications {says}: {', '.join(names)}"  # type: ignore[return-value]
    return "pass", f"all {total} applications pass the SLOs"


def run(
    request: slo_run.GateRequest,
    targets: Sequence[AppTarget],
    cfgs: Mapping[str, config.SloConfig],
    *,
    on_app: Callable[[AppVerdict], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ManyGateOutcome:
    """Judge every app (several at a time), then combine; the report is built too."""
    started = clock()
    started_at = datetime.now(timezone.utc)
    any_cfg = next(iter(cfgs.values()))
    live = slo_run.mode_of(any_cfg, request) == "live"
    # The charts cost a range query per objective per app and decide nothing.
    per_app = replace(request, history_seconds=0.0)

    def judge(target: AppTarget) -> AppVerdict:
        # Every variable the app's queries were filled with: the file's, --var, the app's.
        variables = dict(cfgs[target.name].variables)
        if target.waited is not None and target.waited != "done":
            result = AppVerdict(
                target,
                variables,
                "inconclusive",
                f"argocd-wait did not see it run the revision ({target.waited}: "
                f"{target.wait_reason}); not judged",
            )
        else:
            done = slo_run.run(per_app, cfg=cfgs[target.name], client=client)
            reason = done.run.verdict.reason if done.run is not None else done.report["reason"]
            result = AppVerdict(target, variables, done.verdict, reason, done)
        if on_app is not None:
            on_app(result)
        return result

    workers = max(1, min(len(targets), LIVE_WORKERS if live else ONCE_WORKERS))
    # One client (one TLS context, one connection pool) for every app.
    with (
        slo_run.open_client(request) as client,
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slo-gate-app") as pool,
    ):
        judged = list(pool.map(judge, targets))
    verdict, reason = combine([(a.target.name, a.verdict) for a in judged])
    outcome = ManyGateOutcome(verdict, reason, judged, seconds=clock() - started)
    outcome.report = build_report(any_cfg, outcome, started_at, live=live)
    return outcome


def build_report(
    cfg: config.SloConfig, outcome: ManyGateOutcome, started_at: datetime, *, live: bool
) -> dict[str, Any]:
    """The combined report: the single-app report's keys (objectives named ``APP/NAME``,
    so ``rollback --evidence`` reads it) plus ``apps``, ``failed_apps``,
    ``inconclusive_apps``."""
    objectives: list[dict[str, Any]] = []
    failed: list[str] = []
    no_data: list[str] = []
    warned: list[str] = []
    apps: list[dict[str, Any]] = []
    for a in outcome.apps:
        name = a.target.name
        for o in (a.outcome.report.get("objectives") or []) if a.outcome else []:
            objectives.append({**o, "name": f"{name}/{o['name']}"})
        failed += [f"{name}/{o}" for o in a.objectives("failed")]
        no_data += [f"{name}/{o}" for o in a.objectives("no_data")]
        warned += [f"{name}/{o}" for o in a.objectives("warned")]
        apps.append(
            {
                "app": name,
                "variables": dict(sorted(a.variables.items())),
                "verdict": a.verdict,
                "score": a.score,
                "reason": a.reason,
                "argocd_wait": a.target.waited,
                "failed_objectives": a.objectives("failed"),
                "no_data_objectives": a.objectives("no_data"),
            }
        )
    scores = [a.score for a in outcome.apps]
    ended_at = datetime.now(timezone.utc)
    return {
        "verdict": outcome.verdict,
        "score": min(scores) if scores else 0.0,
        "reason": outcome.reason,
        "name": cfg.name,
        "mode": "live" if live else "once",
        "started_at": started_at.isoformat().replace("+00:00", "Z"),
        "ended_at": ended_at.isoformat().replace("+00:00", "Z"),
        "measurement_count": sum(
            a.outcome.report.get("measurement_count", 0) for a in outcome.apps if a.outcome
        ),
        "failed_objectives": failed,
        "no_data_objectives": no_data,
        "warned_objectives": warned,
        "objectives": objectives,
        "apps": apps,
        "failed_apps": outcome.named("fail"),
        "inconclusive_apps": outcome.named("inconclusive"),
    }
