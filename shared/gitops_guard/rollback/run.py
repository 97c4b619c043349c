"""The rollback commands as one flow each: publish, notify, wait in ArgoCD; one outcome.

:func:`revert`, :func:`roll_to` and :func:`watch` take a :class:`Request` (every
input already validated by the CLI), do all of the I/O a rollback needs (the
publish engine, the webhook and GitHub comment, the Alertmanager and Prometheus
clients of the watch, ArgoCD's settle-and-wait) and return one :class:`Outcome`:
an outcome word for the exit-code table, the rollback result and its evidence.

Steps, in order, each after the previous one::

    publish (rollback.flows: revert / roll_to)   -> RollbackResult
      -> notify (webhook, GitHub comment)         best effort: a note when it fails
      -> ArgoCD settle + wait                     only for a commit on the branch

This module must not parse flags, read the environment for tokens or write runner
output: the CLI passes tokens in and renders the :class:`Outcome`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from gitops_guard import credentials, github, gitops, http, notify, quarantine
from gitops_guard.rollback import flows, models, publish, rules


@dataclass(frozen=True)
class ArgoTarget:
    """Wait for the rollback commit to be Synced and Healthy in this ArgoCD app."""

    server: str
    app: str
    timeout_seconds: float = 600.0
    selector: str | None = None
    """Wait for every app with these labels (one revert for all) instead of ``app``."""
    insecure: bool = False
    app_namespace: str | None = None
    token: credentials.Token | None = None


@dataclass(frozen=True)
class NotifyTarget:
    """Where to tell people; the webhook URL comes from notify's own variable."""

    issue: int | None = None
    repository: str = ""
    api: github.ApiSettings | None = None
    run_url: str = ""


@dataclass(frozen=True)
class Request:
    """One rollback command's validated inputs."""

    dir: Path
    settings: publish.PublishSettings
    context: flows.Context
    argo: ArgoTarget | None = None
    notify: NotifyTarget = field(default_factory=NotifyTarget)


@dataclass(frozen=True)
class WatchRequest:
    """What ``rollback watch`` looks at, and for how long."""

    rules_file: Path
    duration_seconds: float
    interval_seconds: float
    commit: str | None = None
    alertmanager_url: str | None = None
    alertmanager_token: credentials.Token | None = None
    prometheus_url: str | None = None
    prometheus_token: credentials.Token | None = None


@dataclass
class Outcome:
    """How one rollback command ended: the outcome word, the result and its evidence."""

    outcome: str
    """For the exit-code table: the result's status, or the ArgoCD wait's outcome
    when the wait did not end ``done``."""
    result: models.RollbackResult
    wait: Any = None
    """The ArgoCD wait's result (``argocd.wait.WaitResult``, or ``argocd.many.ManyResult``
    for a selector), when one ran."""
    notes: list[str] = field(default_factory=list)
    """What the CLI should tell the user besides the result."""
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    """More fields for the JSON report (the watch's ticks and decisions)."""


def open_checkout(directory: Path) -> gitops.WorkingCopy:
    """The user's checkout of the GitOps repository (never switched)."""
    return gitops.open_checkout(directory)


def revert(request: Request, commit: str) -> Outcome:
    """Revert one deploy commit, then notify and wait."""
    result = flows.revert(open_checkout(request.dir), commit, request.settings, request.context)
    return _after(request, result, why=request.context.reason)


def roll_to(request: Request, *, image_refs: Sequence[str], previous: bool, force: bool) -> Outcome:
    """Roll to named images or the previous ones, then notify and wait."""
    result = flows.roll_to(
        open_checkout(request.dir),
        request.settings,
        request.context,
        image_refs=image_refs,
        previous=previous,
        force=force,
    )
    return _after(request, result, why=request.context.reason)


def edit_quarantine(
    request: Request, *, action: Literal["add", "lift"], image_refs: Sequence[str], reason: str
) -> tuple[models.RollbackResult, tuple[str, ...]]:
    """Add or lift quarantined images; the result and the images quarantined after it."""
    wc = open_checkout(request.dir)
    result = flows.edit_quarantine(
        wc, request.settings, action=action, image_refs=image_refs, reason=reason
    )
    return result, list_quarantine(request.dir)


def list_quarantine(directory: Path) -> tuple[str, ...]:
    """The images quarantined in the checkout."""
    return tuple(e.image for e in quarantine.load(open_checkout(directory).root).entries)


# ---------------------------------------------------------------- after publishing
def _after(request: Request, result: models.RollbackResult, *, why: str) -> Outcome:
    done = Outcome(outcome=result.status, result=result)
    _notify(request, result, why, done)
    _wait_in_argocd(request, result, done)
    return done


def _notify(request: Request, result: models.RollbackResult, why: str, done: Outcome) -> None:
    if result.status not in ("rolled-back", "pull-request"):
        return
    message = notify.compose(
        app=request.context.app
        or (result.rolled_back_to[0].rsplit("/", 1)[-1] if result.rolled_back_to else ""),
        moves=list(zip(result.removed, result.rolled_back_to, strict=False)),
        why=why,
        rollback_sha=result.rollback_sha,
        pull_request_url=result.pull_request_url,
        run_url=request.notify.run_url,
    )
    notify.send_webhook(message)
    target = request.notify
    if target.issue is None:
        return
    if target.api is None or not target.repository:
        done.warnings.append(
            "--notify-issue needs GITHUB_TOKEN and --notify-repository (or GITHUB_REPOSITORY)"
        )
        return
    notify.comment_on_github(
        message,
        repository=target.repository,
        number=target.issue,
        token=target.api.token,
        base_url=target.api.api_url,
    )


def _wait_in_argocd(request: Request, result: models.RollbackResult, done: Outcome) -> None:
    """Wait for the rollback commit in ArgoCD when asked; sets the outcome from the wait."""
    argo = request.argo
    if argo is None:
        return
    # A rerun that finds the deploy already reverted on the branch still waits for that
    # revert: the first run may have pushed it and then timed out waiting.
    on_branch = result.status == "rolled-back" or (
        result.status == "skipped" and not result.pull_request_url
    )
    if not on_branch or not result.rollback_sha:
        if result.status == "pull-request":
            done.notes.append(
                "ArgoCD is not waited for: the rollback is a pull request that is not merged yet"
            )
        return
    from gitops_guard.argocd import client as argo_client
    from gitops_guard.argocd import wait
    from gitops_guard.rollback import argo as argo_settle

    with argo_client.ArgoClient(
        argo.server,
        token=argo.token,
        # One deadline for the whole wait; 2 s more so the last poll can answer. Never
        # past the command's overall deadline (--timeout).
        deadline=http.bounded(http.Deadline(argo.timeout_seconds + 2.0, source="--argocd-timeout")),
        insecure=argo.insecure,
        app_namespace=argo.app_namespace,
    ) as client:
        if argo.selector:
            _wait_for_every_app(client, argo, result.rollback_sha, done)
            return
        settled = argo_settle.settle(
            client,
            app_name=argo.app,
            revision=result.rollback_sha,
            timing=wait.Timing(timeout_seconds=argo.timeout_seconds),
        )
    if settled.terminated:
        done.notes.append(f"terminated the operation stuck on {settled.terminated}")
    done.notes.append(f"ArgoCD: {settled.wait.outcome}: {settled.wait.reason}")
    done.wait = settled.wait
    if settled.wait.outcome != "done":
        done.outcome = settled.wait.outcome


def _wait_for_every_app(client: Any, argo: ArgoTarget, revision: str, done: Outcome) -> None:
    """One revert for all: unstick every selected app, then wait until each runs it."""
    from gitops_guard.argocd import many, wait
    from gitops_guard.rollback import argo as argo_settle

    for name, stuck in argo_settle.unstick_many(client, selector=argo.selector, revision=revision):
        done.notes.append(f"{name}: terminated the operation stuck on {stuck}")
    waited = many.wait_for_many(
        client,
        selector=argo.selector,
        names=(),
        expected=wait.Expectation(revision=revision),
        timing=wait.Timing(timeout_seconds=argo.timeout_seconds),
    )
    for app in waited.apps:
        done.notes.append(f"ArgoCD {app.name}: {app.outcome}: {app.reason}")
    done.notes.append(f"ArgoCD: {waited.outcome}: {waited.reason}")
    done.wait = waited
    if waited.outcome != "done":
        done.outcome = waited.outcome


# ---------------------------------------------------------------- watch
class _Metrics:
    """Prometheus instant queries as plain values, for the watch."""

    def __init__(self, url: str, token: credentials.Token | None) -> None:
        from gitops_guard.prometheus import client as prom_client

        self._client = prom_client.PrometheusClient(url, token=token)

    def values(self, promql: str) -> list[float]:
        result = self._client.query(promql)
        return [s.last.value for s in result.series if s.last is not None]

    def close(self) -> None:
        self._client.close()


def load_rules(watch_request: WatchRequest) -> rules.RulesFile:
    """The rules file, and a check that the signals it needs have a URL (exit 2 if not)."""
    from gitops_guard import errors

    config = rules.load_rules(watch_request.rules_file)
    if any(r.alert is not None for r in config.rules) and not watch_request.alertmanager_url:
        raise errors.InputError(
            "the rules watch Alertmanager alerts",
            source="--alertmanager-url",
            hint="Pass --alertmanager-url URL.",
        )
    if any(r.prometheus for r in config.rules) and not watch_request.prometheus_url:
        raise errors.InputError(
            "the rules watch Prometheus conditions",
            source="--prometheus-url",
            hint="Pass --prometheus-url URL.",
        )
    return config


def watch(
    request: Request,
    watch_request: WatchRequest,
    *,
    on_start: Callable[[models.CommitRecord, rules.RulesFile], None] | None = None,
    on_tick: Callable[[Any], None] | None = None,
) -> Outcome:
    """Watch the signals after a deploy; revert it (then notify and wait) when a rule fires."""
    from gitops_guard.prometheus import alertmanager
    from gitops_guard.rollback import gitrepo
    from gitops_guard.rollback import watch as watching

    config = load_rules(watch_request)
    wc = open_checkout(request.dir)
    branch = publish.resolve_branch(wc, request.settings.branch)
    gitrepo.sync_to_remote(wc, branch)
    target = (
        gitrepo.record(wc, gitrepo.resolve(wc, watch_request.commit))
        if watch_request.commit
        else flows.latest_deploy(wc, paths=request.context.paths)
    )
    if on_start is not None:
        on_start(target, config)
    past = watching.past_rollbacks(gitrepo.log(wc, "HEAD"))
    alerts = None
    if watch_request.alertmanager_url and any(r.alert is not None for r in config.rules):
        alerts = alertmanager.AlertmanagerClient(
            watch_request.alertmanager_url, token=watch_request.alertmanager_token
        )
    metrics = None
    if watch_request.prometheus_url and any(r.prometheus for r in config.rules):
        metrics = _Metrics(watch_request.prometheus_url, watch_request.prometheus_token)
    fired: list[rules.WatchDecision] = []

    def roll_back(decision: rules.WatchDecision) -> models.RollbackResult:
        fired.append(decision)
        ctx = flows.Context(
            why=decision.reason,
            run_url=request.context.run_url,
            quarantine=request.context.quarantine,
            rule=decision.rule,
            app=request.context.app,
            paths=request.context.paths,
            helm=request.context.helm,
        )
        return flows.revert(wc, target.sha, request.settings, ctx)

    try:
        watched = watching.run(
            config,
            duration_seconds=watch_request.duration_seconds,
            interval_seconds=watch_request.interval_seconds,
            alerts=alerts,
            metrics=metrics,
            past=past,
            rollback=roll_back,
            dry_run=request.settings.dry_run,
            on_tick=on_tick,
        )
    finally:
        if alerts is not None:
            alerts.close()
        if metrics is not None:
            metrics.close()
    extra = {
        "watched_commit": target.sha,
        "ticks": len(watched.ticks),
        "would_roll_back": [d.reason for d in watched.would_roll_back],
        "decisions": [
            {"rule": d.rule, "action": d.action, "reason": d.reason}
            for d in (watched.ticks[-1].decisions if watched.ticks else ())
        ],
    }
    if watched.result is not None:
        done = _after(
            request, watched.result, why=fired[-1].reason if fired else "a watch rule fired"
        )
        done.extra = extra
        return done
    if watched.would_roll_back:
        reason = "dry-run: would roll back: " + "; ".join(d.reason for d in watched.would_roll_back)
        result = models.RollbackResult(status="dry-run", target=target.sha, skipped_reason=reason)
    else:
        result = models.RollbackResult(
            status="skipped", target=target.sha, skipped_reason=watched.reason
        )
    return Outcome(outcome=result.status, result=result, extra=extra)
