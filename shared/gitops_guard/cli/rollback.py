"""`gitops-guard rollback`: put production back through Git.

    gitops-guard rollback revert --dir DIR --commit SHA [--mode commit|pull-request]
        [--evidence GATE.json] [--report FILE]
    gitops-guard rollback to --dir DIR (--previous | --image REF ...) [--path PATH ...]
    gitops-guard rollback watch --dir DIR --rules FILE --for 15m [--dry-run]
    gitops-guard rollback quarantine add|lift|list --dir DIR [--image REF ...]

This module parses flags, reads tokens from the environment, calls the flows in
:mod:`gitops_guard.rollback`, and turns their result into outputs, a job summary,
a JSON report (``--report FILE``) and an exit code. It decides nothing itself.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gitops_guard import (
    actions,
    config,
    credentials,
    durations,
    errors,
    github,
    gitops,
    http,
    notify,
    quarantine,
    report,
)
from gitops_guard.cli import InputSpec
from gitops_guard.rollback import evidence, flows, models, publish, rules

HELP = "Put production back through Git: revert, to, watch, quarantine."

COMMANDS = ("revert", "to", "watch", "quarantine")
QUARANTINE_ACTIONS = ("add", "lift", "list")

INPUTS = (
    InputSpec("command", ""),
    InputSpec("quarantine-action", ""),
    InputSpec("dir", "--dir"),
    InputSpec("branch", "--branch"),
    InputSpec("commit", "--commit"),
    InputSpec("mode", "--mode"),
    InputSpec("previous", "--previous", "bool"),
    InputSpec("image", "--image", "list"),
    InputSpec("path", "--path", "list"),
    InputSpec("helm", "--helm", "lines"),
    InputSpec("force", "--force", "bool"),
    InputSpec("gate-report", "--evidence"),
    InputSpec("quarantine", "--quarantine"),
    InputSpec("reason", "--reason"),
    InputSpec("app", "--app"),
    InputSpec("github-repository", "--github-repository"),
    InputSpec("labels", "--label", "list"),
    InputSpec("auto-merge", "--auto-merge", "bool"),
    InputSpec("merge-method", "--merge-method"),
    InputSpec("rules", "--rules"),
    InputSpec("for", "--for"),
    InputSpec("interval", "--interval"),
    InputSpec("alertmanager-url", "--alertmanager-url"),
    InputSpec("prometheus-url", "--prometheus-url"),
    InputSpec("argocd-server", "--argocd-server"),
    InputSpec("argocd-app", "--argocd-app"),
    InputSpec("argocd-timeout", "--argocd-timeout"),
    InputSpec("argocd-insecure", "--argocd-insecure", "bool"),
    InputSpec("argocd-app-namespace", "--argocd-app-namespace"),
    InputSpec("notify-issue", "--notify-issue"),
    InputSpec("notify-repository", "--notify-repository"),
    InputSpec("dry-run", "--dry-run", "bool"),
    InputSpec("report", "--report"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of every rollback command (each command says which it reads)."""
    parser.add_argument("command", choices=COMMANDS, help="what to do")
    parser.add_argument(
        "quarantine_action",
        nargs="?",
        choices=QUARANTINE_ACTIONS,
        help="for `quarantine`: add, lift or list",
    )
    where = parser.add_argument_group("the GitOps repository")
    where.add_argument("--dir", default=".", help="checkout of the GitOps repository")
    where.add_argument("--branch", help="branch to push to / PR base (default: tracked branch)")
    where.add_argument("--path", action="append", default=[], help="limit to files/folders")
    where.add_argument("--helm", action="append", default=[], help="FILE:REPO_KEY[:TAG_KEY]")
    what = parser.add_argument_group("what to roll back")
    what.add_argument("--commit", help="revert: the deploy commit; watch: the deploy watched")
    what.add_argument("--previous", action="store_true", help="to: the image before this one")
    what.add_argument("--image", action="append", default=[], help="to/quarantine: image REF")
    what.add_argument("--force", action="store_true", help="to: accept a quarantined image")
    why = parser.add_argument_group("why, and the evidence")
    why.add_argument(
        "--evidence",
        "--gate-report",
        dest="evidence",
        help="the slo-gate JSON report (evidence; quarantines on fail)",
    )
    why.add_argument(
        "--quarantine",
        choices=("auto", "true", "false"),
        default="auto",
        help="quarantine the images taken out (auto: when the gate report says fail)",
    )
    why.add_argument("--reason", default="", help="one line saying why (default: from --evidence)")
    why.add_argument("--app", default="", help="the application's name, for titles")
    how = parser.add_argument_group("how to publish")
    how.add_argument("--mode", choices=("commit", "pull-request"), default="commit")
    how.add_argument("--github-repository", help="OWNER/NAME for the PR (default: the remote)")
    how.add_argument("--label", action="append", default=[], help="PR labels (default rollback)")
    how.add_argument("--auto-merge", action="store_true", help="enable auto-merge on the PR")
    how.add_argument("--merge-method", choices=("merge", "squash", "rebase"), default="squash")
    how.add_argument("--dry-run", action="store_true", help="show what would happen; push nothing")
    how.add_argument(
        "--report", "--result", dest="report", help="write this command's JSON report here"
    )
    watch = parser.add_argument_group("watch")
    watch.add_argument("--rules", help="the rollback rules file")
    watch.add_argument("--for", dest="for_", default="15m", help="how long to watch (15m)")
    watch.add_argument("--interval", default="30s", help="between looks at the signals (30s)")
    watch.add_argument("--alertmanager-url", help="Alertmanager base URL (ALERTMANAGER_TOKEN)")
    watch.add_argument("--prometheus-url", help="Prometheus base URL (PROMETHEUS_TOKEN)")
    argo = parser.add_argument_group("ArgoCD (wait for the rollback to be Synced and Healthy)")
    argo.add_argument("--argocd-server", help="ArgoCD URL (token in ARGOCD_TOKEN)")
    argo.add_argument("--argocd-app", help="the ArgoCD application")
    argo.add_argument("--argocd-timeout", default="600", help="seconds or a duration (default 600)")
    argo.add_argument("--argocd-insecure", action="store_true", help="skip TLS verification")
    argo.add_argument("--argocd-app-namespace", help="the application's namespace")
    tell = parser.add_argument_group("notifications (webhook URL in SLACK_WEBHOOK_URL)")
    tell.add_argument("--notify-issue", help="comment on this issue/PR number")
    tell.add_argument("--notify-repository", help="OWNER/NAME of --notify-issue")


# ---------------------------------------------------------------- helpers
def _api_settings() -> github.ApiSettings | None:
    token = credentials.github_token()
    if token is None:
        return None
    return github.ApiSettings(
        token=token.value, token_env=token.source, api_url=github.api_url_from_env()
    )


def _settings(args: argparse.Namespace) -> publish.PublishSettings:
    return publish.PublishSettings(
        mode=args.mode,
        branch=args.branch,
        github_repository=args.github_repository,
        labels=tuple(args.label) or ("rollback",),
        auto_merge=args.auto_merge,
        merge_method=args.merge_method,
        dry_run=args.dry_run,
        api=_api_settings() if args.mode == "pull-request" and not args.dry_run else None,
    )


def _load_gate_report(path: Path) -> evidence.GateEvidence:
    """Read a slo-gate report through the one loader (exit 2 naming the file and line)."""
    gate = config.load_file(evidence.GateReport, path, kind=evidence.KIND, flag="--evidence")
    return evidence.from_model(gate)


def _context(args: argparse.Namespace, *, rule: str = "", why: str = "") -> flows.Context:
    gate = _load_gate_report(Path(args.evidence)) if args.evidence else None
    choice = {"auto": None, "true": True, "false": False}[args.quarantine]
    return flows.Context(
        why=why or args.reason,
        gate=gate,
        run_url=actions.run_url() or "",
        quarantine=choice,
        rule=rule,
        app=args.app,
        paths=tuple(args.path),
        helm=tuple(args.helm),
    )


def _require(args: argparse.Namespace, *names: str) -> None:
    for name in names:
        if not getattr(args, name.lstrip("-").replace("-", "_")):
            raise errors.InputError(
                f"`rollback {args.command}` needs {name}",
                source=name,
                hint=f"Pass {name}; see `gitops-guard rollback --help`.",
            )


def _checkout(args: argparse.Namespace) -> gitops.WorkingCopy:
    return gitops.open_checkout(args.dir)


def _wait_in_argocd(args: argparse.Namespace, result: models.RollbackResult) -> int:
    """Wait for the rollback commit in ArgoCD when asked; the exit code."""
    server = args.argocd_server or credentials.argocd_server()
    if not (server and args.argocd_app):
        return errors.EXIT_OK
    # A rerun that finds the deploy already reverted on the branch still waits for that
    # revert: the first run may have pushed it and then timed out waiting.
    on_branch = result.status == "rolled-back" or (
        result.status == "skipped" and not result.pull_request_url
    )
    if not on_branch or not result.rollback_sha:
        if result.status == "pull-request":
            actions.notice(
                "ArgoCD is not waited for: the rollback is a pull request that is not merged yet"
            )
        return errors.EXIT_OK
    from gitops_guard.argocd import client as argo_client
    from gitops_guard.argocd import wait
    from gitops_guard.rollback import argo

    token = credentials.argocd_token()
    timeout = durations.parse_duration(args.argocd_timeout, source="--argocd-timeout")
    with (
        actions.group(f"ArgoCD: wait for {args.argocd_app} at {result.rollback_sha[:12]}"),
        argo_client.ArgoClient(
            server,
            token=token,
            deadline=http.Deadline(timeout + 2.0, source="--argocd-timeout"),
            insecure=args.argocd_insecure,
            app_namespace=args.argocd_app_namespace,
        ) as client,
    ):
        settled = argo.settle(
            client,
            app_name=args.argocd_app,
            revision=result.rollback_sha,
            timing=wait.Timing(timeout_seconds=timeout),
        )
        if settled.terminated:
            actions.info(f"terminated the operation stuck on {settled.terminated}")
        actions.info(f"ArgoCD: {settled.wait.outcome}: {settled.wait.reason}")
    return settled.wait.exit_code


def _notify(args: argparse.Namespace, result: models.RollbackResult, why: str) -> None:
    if result.status not in ("rolled-back", "pull-request"):
        return
    message = notify.compose(
        app=args.app
        or (result.rolled_back_to[0].rsplit("/", 1)[-1] if result.rolled_back_to else ""),
        moves=list(zip(result.removed, result.rolled_back_to, strict=False)),
        why=why,
        rollback_sha=result.rollback_sha,
        pull_request_url=result.pull_request_url,
        run_url=actions.run_url() or "",
    )
    notify.send_webhook(message)
    if args.notify_issue:
        api = _api_settings()
        repository = args.notify_repository or actions.repository() or ""
        if api is None or not repository:
            actions.warning(
                "--notify-issue needs GITHUB_TOKEN and --notify-repository (or GITHUB_REPOSITORY)"
            )
            return
        try:
            number = int(args.notify_issue)
        except ValueError as exc:
            raise errors.InputError(
                f"not an issue number: {args.notify_issue!r}", source="--notify-issue"
            ) from exc
        notify.comment_on_github(
            message, repository=repository, number=number, token=api.token, base_url=api.api_url
        )


def _summary(title: str, result: models.RollbackResult) -> str:
    rows: list[tuple[str, str]] = [("status", result.status)]
    if result.target:
        rows.append(("deploy commit", f"`{result.target}`"))
    for bad, good in zip(result.removed, result.rolled_back_to, strict=False):
        rows.append(("image", f"`{bad}` → `{good}`"))
    if result.rollback_sha:
        rows.append(("rollback commit", f"`{result.rollback_sha}`"))
    if result.pull_request_url:
        rows.append(("pull request", result.pull_request_url))
    if result.method:
        rows.append(("method", result.method))
    if result.quarantined:
        rows.append(("quarantined", ", ".join(f"`{q}`" for q in result.quarantined)))
    if result.skipped_reason:
        rows.append(("skipped", result.skipped_reason))
    rows += [("note", n) for n in result.notes]
    return f"### {title}\n\n" + report.markdown_table(["", ""], rows)


def _finish(args: argparse.Namespace, result: models.RollbackResult, extra: dict[str, Any]) -> None:
    title = {
        "rolled-back": "Rolled back",
        "pull-request": "Rollback pull request opened",
        "skipped": "Rollback skipped",
        "dry-run": "Rollback (dry run)",
    }[result.status]
    actions.info(f"{title}.")
    for bad, good in zip(result.removed, result.rolled_back_to, strict=False):
        actions.info(f"  {bad} -> {good}")
    for label, value in (
        ("rollback commit", result.rollback_sha),
        ("pull request", result.pull_request_url),
        ("skipped", result.skipped_reason),
        ("quarantined", ", ".join(result.quarantined)),
    ):
        if value:
            actions.info(f"  {label}: {value}")
    for note in result.notes:
        actions.info(f"  note: {note}")
    actions.set_outputs(result.outputs())
    actions.append_summary(_summary(title, result))
    if args.report:
        report.write_json(args.report, {"command": args.command, **result.as_dict(), **extra})


# ---------------------------------------------------------------- commands
def _revert(args: argparse.Namespace) -> int:
    _require(args, "--commit")
    ctx = _context(args)
    result = flows.revert(_checkout(args), args.commit, _settings(args), ctx)
    _finish(args, result, {})
    _notify(args, result, ctx.reason)
    return _wait_in_argocd(args, result)


def _to(args: argparse.Namespace) -> int:
    ctx = _context(args)
    result = flows.roll_to(
        _checkout(args),
        _settings(args),
        ctx,
        image_refs=args.image,
        previous=args.previous,
        force=args.force,
    )
    _finish(args, result, {})
    _notify(args, result, ctx.reason)
    return _wait_in_argocd(args, result)


class _Metrics:
    """Prometheus instant queries as plain values, for the watch."""

    def __init__(self, url: str) -> None:
        from gitops_guard.prometheus import client as prom_client

        self._client = prom_client.PrometheusClient(url, token=credentials.prometheus_token())

    def values(self, promql: str) -> list[float]:
        result = self._client.query(promql)
        return [s.last.value for s in result.series if s.last is not None]

    def close(self) -> None:
        self._client.close()


def _watch(args: argparse.Namespace) -> int:
    _require(args, "--rules")
    config = rules.load_rules(Path(args.rules))
    duration = durations.parse_duration(args.for_, source="--for")
    interval = durations.parse_duration(args.interval, source="--interval", minimum=0.001)
    needs_alerts = any(r.alert is not None for r in config.rules)
    needs_metrics = any(r.prometheus for r in config.rules)
    if needs_alerts and not args.alertmanager_url:
        raise errors.InputError(
            "the rules watch Alertmanager alerts",
            source="--alertmanager-url",
            hint="Pass --alertmanager-url URL.",
        )
    if needs_metrics and not args.prometheus_url:
        raise errors.InputError(
            "the rules watch Prometheus conditions",
            source="--prometheus-url",
            hint="Pass --prometheus-url URL.",
        )
    from gitops_guard.prometheus import alertmanager
    from gitops_guard.rollback import gitrepo, watch

    wc = _checkout(args)
    settings = _settings(args)
    branch = publish.resolve_branch(wc, settings.branch)
    gitrepo.sync_to_remote(wc, branch)
    target = (
        gitrepo.record(wc, gitrepo.resolve(wc, args.commit))
        if args.commit
        else flows.latest_deploy(wc, paths=args.path)
    )
    past = watch.past_rollbacks(gitrepo.log(wc, "HEAD"))
    alerts = None
    if needs_alerts:
        alerts = alertmanager.AlertmanagerClient(
            args.alertmanager_url, token=credentials.alertmanager_token()
        )
    metrics = _Metrics(args.prometheus_url) if needs_metrics else None

    fired: list[rules.WatchDecision] = []

    def roll_back(decision: rules.WatchDecision) -> models.RollbackResult:
        fired.append(decision)
        ctx = _context(args, rule=decision.rule, why=decision.reason)
        return flows.revert(wc, target.sha, settings, ctx)

    def show(tick: watch.Tick) -> None:
        for decision in tick.decisions:
            if decision.action != "quiet" or args.verbose:
                actions.info(f"[{decision.action}] {decision.reason}")

    actions.info(
        f"watching deploy {target.sha[:12]} ({target.subject}) for {int(duration)}s "
        f"with {len(config.rules)} rule(s){' (dry run)' if args.dry_run else ''}"
    )
    try:
        outcome = watch.run(
            config,
            duration_seconds=duration,
            interval_seconds=interval,
            alerts=alerts,
            metrics=metrics,
            past=past,
            rollback=roll_back,
            dry_run=args.dry_run,
            on_tick=show,
        )
    finally:
        if alerts is not None:
            alerts.close()
        if metrics is not None:
            metrics.close()
    extra = {
        "watched_commit": target.sha,
        "ticks": len(outcome.ticks),
        "would_roll_back": [d.reason for d in outcome.would_roll_back],
        "decisions": [
            {"rule": d.rule, "action": d.action, "reason": d.reason}
            for d in (outcome.ticks[-1].decisions if outcome.ticks else ())
        ],
    }
    if outcome.result is not None:
        _finish(args, outcome.result, extra)
        _notify(args, outcome.result, fired[-1].reason if fired else "a watch rule fired")
        return _wait_in_argocd(args, outcome.result)
    if outcome.would_roll_back:
        reason = "dry-run: would roll back: " + "; ".join(d.reason for d in outcome.would_roll_back)
        result = models.RollbackResult(status="dry-run", target=target.sha, skipped_reason=reason)
    else:
        result = models.RollbackResult(
            status="skipped", target=target.sha, skipped_reason=outcome.reason
        )
    _finish(args, result, extra)
    return errors.EXIT_OK


def _quarantine_cmd(args: argparse.Namespace) -> int:
    action = args.quarantine_action or "list"
    wc = _checkout(args)
    if action == "list":
        entries = quarantine.load(wc.root).entries
        if not entries:
            actions.info("no image is quarantined")
        for e in entries:
            actions.info(f"{e.image}  {e.reason}  {e.since}".rstrip())
        actions.set_outputs({"quarantined": "\n".join(e.image for e in entries)})
        if args.report:
            report.write_json(
                args.report, {"command": "quarantine list", "images": [e.image for e in entries]}
            )
        return errors.EXIT_OK
    _require(args, "--image")
    result = flows.edit_quarantine(
        wc,
        _settings(args),
        action="add" if action == "add" else "lift",
        image_refs=args.image,
        reason=args.reason or ("quarantined by hand" if action == "add" else ""),
    )
    status = {"rolled-back": "done", "pull-request": "pull request", "skipped": "skipped"}.get(
        result.status, result.status
    )
    actions.info(f"quarantine {action}: {status} {result.skipped_reason}".rstrip())
    actions.set_outputs(
        {
            "rollback-sha": result.rollback_sha,
            "pull-request-url": result.pull_request_url,
            "skipped-reason": result.skipped_reason,
            "quarantined": "\n".join(e.image for e in quarantine.load(wc.root).entries),
        }
    )
    if args.report:
        report.write_json(args.report, {"command": f"quarantine {action}", **result.as_dict()})
    return errors.EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Dispatch to the rollback command."""
    if args.quarantine_action and args.command != "quarantine":
        raise errors.InputError(
            f"unexpected word {args.quarantine_action!r} after `rollback {args.command}`",
            source="command",
        )
    handlers = {
        "revert": _revert,
        "to": _to,
        "watch": _watch,
        "quarantine": _quarantine_cmd,
    }
    return handlers[args.command](args)
