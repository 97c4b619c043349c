"""`gitops-guard rollback`: put production back through Git.

    gitops-guard rollback revert --dir DIR --commit SHA [--mode commit|pull-request]
        [--evidence GATE.json] [--report FILE]
    gitops-guard rollback to --dir DIR (--previous | --image REF ...) [--path PATH ...]
    gitops-guard rollback watch --dir DIR --rules FILE --for 15m [--dry-run]
    gitops-guard rollback quarantine add|lift|list --dir DIR [--image REF ...]

Each command has its own parser, help and checks (``rollback watch --help`` lists
only what watch reads). This module parses flags, reads tokens from the
environment, calls ONE flow of :mod:`gitops_guard.rollback.run`, and renders its
outcome as outputs (``status`` among them), a job summary and a JSON report
(``--report FILE``); the outcome word goes to the exit-code table. It decides and
wires nothing itself.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gitops_guard import actions, config, credentials, errors, github, report
from gitops_guard.cli import checks, rollback_args, timeout
from gitops_guard.rollback import evidence, flows, models, publish, rules
from gitops_guard.rollback import run as rollback_run

HELP = "Put production back through Git: revert, to, watch, quarantine."

COMMANDS = rollback_args.COMMANDS
INPUTS = rollback_args.INPUTS
build = rollback_args.build
_check_pairs = rollback_args.check_pairs


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


def _request(args: argparse.Namespace) -> rollback_run.Request:
    """Every input of the command, validated and resolved before anything is written."""
    _check_pairs(args)
    evidence_file = getattr(args, "evidence", None)
    gate = _load_gate_report(Path(evidence_file)) if evidence_file else None
    choice = {"auto": None, "true": True, "false": False}[getattr(args, "quarantine", "auto")]
    context = flows.Context(
        why=getattr(args, "reason", ""),
        gate=gate,
        run_url=actions.run_url() or "",
        quarantine=choice,
        app=getattr(args, "app", ""),
        paths=tuple(getattr(args, "path", ())),
        helm=tuple(getattr(args, "helm", ())),
    )
    argo = None
    server = getattr(args, "argocd_server", None)
    wants_wait = bool(getattr(args, "argocd_app", None) or getattr(args, "argocd_selector", None))
    if server is None and wants_wait and credentials.argocd_server():
        # ARGOCD_SERVER, as the argocd CLI reads it: the same check as the flag.
        server = checks.check_url(
            credentials.argocd_server() or "", "ARGOCD_SERVER", default_scheme="https"
        )
    if server and wants_wait:
        argo = rollback_run.ArgoTarget(
            server=server,
            app=args.argocd_app or "",
            selector=args.argocd_selector or None,
            timeout_seconds=args.argocd_timeout,
            insecure=args.argocd_insecure,
            app_namespace=args.argocd_app_namespace,
            token=credentials.argocd_token(),
        )
    notify_to = rollback_run.NotifyTarget(run_url=context.run_url)
    if getattr(args, "notify_issue", None) is not None:
        notify_to = rollback_run.NotifyTarget(
            issue=args.notify_issue,
            repository=args.notify_repository or actions.repository() or "",
            api=_api_settings(),
            run_url=context.run_url,
        )
    return rollback_run.Request(
        dir=Path(args.dir),
        settings=_settings(args),
        context=context,
        argo=argo,
        notify=notify_to,
    )


# ---------------------------------------------------------------- rendering
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


_TITLES = {
    "rolled-back": "Rolled back",
    "pull-request": "Rollback pull request opened",
    "skipped": "Rollback skipped",
    "dry-run": "Rollback (dry run)",
}


def _render(args: argparse.Namespace, done: rollback_run.Outcome) -> str:
    """Print, write outputs, summary and report; the outcome for the exit-code table."""
    result = done.result
    title = _TITLES[result.status]
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
    for note in done.notes:
        actions.info(note)
    for warning in done.warnings:
        actions.warning(warning)
    outputs = result.outputs()
    outputs["status"] = done.outcome
    outputs["quarantined"] = "\n".join(result.quarantined)
    # ArgoCD ran the revert Synced and Healthy: the environment is restored.
    outputs["restored-at"] = (done.wait.done_at if done.wait is not None else None) or ""
    actions.set_outputs(outputs)
    actions.append_summary(_summary(title, result))
    if args.report:
        data: dict[str, Any] = {"command": args.command, **result.as_dict(), **done.extra}
        if done.wait is not None:
            data["argocd"] = done.wait.to_report()
        report.write_json(args.report, data)
    if done.outcome != result.status:
        actions.error(
            f"the rollback was published, but ArgoCD did not run it: {done.outcome}",
            title="Rollback not running in ArgoCD",
        )
    return done.outcome


# ---------------------------------------------------------------- commands
def _revert(args: argparse.Namespace) -> str:
    request = _request(args)
    return _render(args, rollback_run.revert(request, args.commit))


def _to(args: argparse.Namespace) -> str:
    request = _request(args)
    done = rollback_run.roll_to(
        request, image_refs=args.image, previous=args.previous, force=args.force
    )
    return _render(args, done)


def _watch(args: argparse.Namespace) -> str:
    request = _request(args)
    watch_request = rollback_run.WatchRequest(
        rules_file=Path(args.rules),
        duration_seconds=args.for_,
        interval_seconds=args.interval,
        commit=args.commit,
        alertmanager_url=args.alertmanager_url,
        alertmanager_token=credentials.alertmanager_token(),
        prometheus_url=args.prometheus_url,
        prometheus_token=credentials.prometheus_token(),
    )

    def started(target: models.CommitRecord, config: rules.RulesFile) -> None:
        actions.info(
            f"watching deploy {target.sha[:12]} ({target.subject}) for "
            f"{int(watch_request.duration_seconds)}s with {len(config.rules)} rule(s)"
            f"{' (dry run)' if args.dry_run else ''}"
        )

    def show(tick: Any) -> None:
        for decision in tick.decisions:
            if decision.action != "quiet" or args.verbose:
                actions.info(f"[{decision.action}] {decision.reason}")

    return _render(args, rollback_run.watch(request, watch_request, on_start=started, on_tick=show))


def _quarantine_cmd(args: argparse.Namespace) -> str:
    action = args.quarantine_action
    if action == "list":
        images = rollback_run.list_quarantine(Path(args.dir))
        if not images:
            actions.info("no image is quarantined")
        for image in images:
            actions.info(image)
        actions.set_outputs({"quarantined": "\n".join(images), "status": "succeeded"})
        if args.report:
            report.write_json(args.report, {"command": "quarantine list", "images": list(images)})
        return "succeeded"
    if not args.image:
        raise errors.InputError(
            f"`rollback quarantine {action}` needs --image",
            source="--image",
            hint="Pass --image REF (repeatable).",
        )
    result, listed = rollback_run.edit_quarantine(
        _request(args),
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
            "quarantined": "\n".join(listed),
            "status": result.status,
        }
    )
    if args.report:
        report.write_json(args.report, {"command": f"quarantine {action}", **result.as_dict()})
    return result.status


def run(args: argparse.Namespace) -> str:
    """Dispatch to the rollback command; its outcome."""
    handlers = {
        "revert": _revert,
        "to": _to,
        "watch": _watch,
        "quarantine": _quarantine_cmd,
    }
    # watch watches for --for before it may revert: its default budget is on top of it.
    extra = getattr(args, "for_", 0.0) if args.command == "watch" else 0.0
    try:
        with timeout.overall(args, extra=extra):
            return handlers[args.command](args)
    except errors.InputError as exc:
        if exc.source == "--repo-url":  # the git layer's name for "the remote"; rollback's is
            exc.source = "--dir"  # the origin of the checkout in --dir
        raise
