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
import os
from pathlib import Path
from typing import Any

from gitops_guard import actions, cli, config, errors, github, report
from gitops_guard.cli import InputSpec, checks
from gitops_guard.rollback import evidence, flows, models, publish, rules
from gitops_guard.rollback import run as rollback_run

HELP = "Put production back through Git: revert, to, watch, quarantine."

COMMANDS = ("revert", "to", "watch", "quarantine")
QUARANTINE_ACTIONS = ("add", "lift", "list")

_PUBLISHES = ("revert", "to", "watch", "quarantine")
_ROLLS_BACK = ("revert", "to", "watch")
_WITH_EVIDENCE = ("revert", "to")

INPUTS = (
    InputSpec("command", ""),
    InputSpec("quarantine-action", "", commands=("quarantine",)),
    InputSpec("dir", "--dir"),
    InputSpec("branch", "--branch"),
    InputSpec("commit", "--commit", commands=("revert", "watch")),
    InputSpec("mode", "--mode"),
    InputSpec("previous", "--previous", "bool", commands=("to",)),
    InputSpec("image", "--image", "list", commands=("to", "quarantine")),
    InputSpec("path", "--path", "list", commands=_ROLLS_BACK),
    InputSpec("helm", "--helm", "lines", commands=_ROLLS_BACK),
    InputSpec("force", "--force", "bool", commands=("to",)),
    InputSpec("gate-report", "--evidence", commands=_WITH_EVIDENCE),
    InputSpec("quarantine", "--quarantine", commands=_WITH_EVIDENCE),
    InputSpec("reason", "--reason", commands=(*_WITH_EVIDENCE, "quarantine")),
    InputSpec("app", "--app", commands=_ROLLS_BACK),
    InputSpec("github-repository", "--github-repository"),
    InputSpec("labels", "--label", "items"),
    InputSpec("auto-merge", "--auto-merge", "bool"),
    InputSpec("merge-method", "--merge-method"),
    InputSpec("rules", "--rules", commands=("watch",)),
    InputSpec("for", "--for", commands=("watch",)),
    InputSpec("interval", "--interval", commands=("watch",)),
    InputSpec("alertmanager-url", "--alertmanager-url", commands=("watch",)),
    InputSpec("prometheus-url", "--prometheus-url", commands=("watch",)),
    InputSpec("argocd-server", "--argocd-server", commands=_ROLLS_BACK),
    InputSpec("argocd-app", "--argocd-app", commands=_ROLLS_BACK),
    InputSpec("argocd-timeout", "--argocd-timeout", commands=_ROLLS_BACK),
    InputSpec("argocd-insecure", "--argocd-insecure", "bool", commands=_ROLLS_BACK),
    InputSpec("argocd-app-namespace", "--argocd-app-namespace", commands=_ROLLS_BACK),
    InputSpec("notify-issue", "--notify-issue", commands=_ROLLS_BACK),
    InputSpec("notify-repository", "--notify-repository", commands=_ROLLS_BACK),
    InputSpec("dry-run", "--dry-run", "bool"),
    InputSpec("report", "--report"),
)
"""Action inputs -> flags; an input is passed only to the commands that read it."""

_DESCRIPTIONS = {
    "revert": "Revert exactly one deploy commit (a revert commit or a revert pull request).",
    "to": "Roll to the image that ran before (--previous) or to a named image (--image).",
    "watch": "Watch alerts and Prometheus conditions after a deploy; revert it when a rule fires.",
    "quarantine": "Add, lift or list images that must never be promoted again.",
}


def build(parser: argparse.ArgumentParser) -> None:
    """One parser per rollback command, each with its own flags, help and checks."""
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        command = sub.add_parser(name, help=_DESCRIPTIONS[name], description=_DESCRIPTIONS[name])
        cli.add_common_flags(command)
        if name == "quarantine":
            command.add_argument(
                "quarantine_action",
                nargs="?",
                choices=QUARANTINE_ACTIONS,
                default="list",
                help="add, lift or list (default list)",
            )
        _repository_flags(command, edits=name in _ROLLS_BACK)
        if name == "revert":
            command.add_argument(
                "--commit",
                required=True,
                type=checks.nonempty_arg("--commit"),
                help="the deploy commit to revert",
            )
        if name == "to":
            what = command.add_argument_group("what to roll to")
            choice = what.add_mutually_exclusive_group(required=True)
            choice.add_argument(
                "--previous", action="store_true", help="the image before the current one"
            )
            choice.add_argument(
                "--image", action="append", default=[], help="the image REF (repeatable)"
            )
            what.add_argument("--force", action="store_true", help="accept a quarantined image")
        if name == "quarantine":
            command.add_argument(
                "--image", action="append", default=[], help="add/lift: the image REF (repeatable)"
            )
            command.add_argument("--reason", default="", help="add: one line saying why")
        if name in _WITH_EVIDENCE:
            _evidence_flags(command)
        if name == "watch":
            _watch_flags(command)
        _publish_flags(command)
        if name in _ROLLS_BACK:
            command.add_argument("--app", default="", help="the application's name, for titles")
            _argocd_flags(command)
            _notify_flags(command)


def _repository_flags(parser: argparse.ArgumentParser, *, edits: bool) -> None:
    where = parser.add_argument_group("the GitOps repository")
    where.add_argument("--dir", default=".", help="checkout of the GitOps repository")
    where.add_argument(
        "--branch",
        type=checks.branch_arg("--branch"),
        help="branch to push to / PR base (default: tracked branch)",
    )
    if edits:
        where.add_argument("--path", action="append", default=[], help="limit to files/folders")
        where.add_argument("--helm", action="append", default=[], help="FILE:REPO_KEY[:TAG_KEY]")


def _evidence_flags(parser: argparse.ArgumentParser) -> None:
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


def _publish_flags(parser: argparse.ArgumentParser) -> None:
    how = parser.add_argument_group("how to publish")
    how.add_argument("--mode", choices=("commit", "pull-request"), default="commit")
    how.add_argument(
        "--github-repository",
        type=checks.repository_arg("--github-repository"),
        help="OWNER/NAME for the PR (default: the remote)",
    )
    how.add_argument(
        "--label",
        action="append",
        default=[],
        type=checks.nonempty_arg("--label"),
        help="PR label, repeatable (default rollback)",
    )
    how.add_argument("--auto-merge", action="store_true", help="enable auto-merge on the PR")
    how.add_argument("--merge-method", choices=("merge", "squash", "rebase"), default="squash")
    how.add_argument("--dry-run", action="store_true", help="show what would happen; push nothing")
    how.add_argument(
        "--report",
        "--result",
        dest="report",
        type=checks.report_arg("--report"),
        help="write this command's JSON report here",
    )


def _watch_flags(parser: argparse.ArgumentParser) -> None:
    watch = parser.add_argument_group("what to watch")
    watch.add_argument(
        "--rules",
        required=True,
        help="the rollback rules file",
    )
    watch.add_argument(
        "--commit",
        type=checks.nonempty_arg("--commit"),
        help="the deploy watched (default: latest)",
    )
    watch.add_argument(
        "--for",
        dest="for_",
        metavar="DURATION",
        type=checks.duration_arg("--for", allow_zero=True),
        default=900.0,
        help="how long to watch (default 15m)",
    )
    watch.add_argument(
        "--interval",
        type=checks.duration_arg("--interval"),
        default=30.0,
        help="between looks at the signals (default 30s)",
    )
    watch.add_argument(
        "--alertmanager-url",
        type=checks.url_arg("--alertmanager-url"),
        help="Alertmanager base URL (ALERTMANAGER_TOKEN)",
    )
    watch.add_argument(
        "--prometheus-url",
        type=checks.url_arg("--prometheus-url"),
        help="Prometheus base URL (PROMETHEUS_TOKEN)",
    )


def _argocd_flags(parser: argparse.ArgumentParser) -> None:
    argo = parser.add_argument_group("ArgoCD (wait for the rollback to be Synced and Healthy)")
    argo.add_argument(
        "--argocd-server",
        type=checks.url_arg("--argocd-server", default_scheme="https"),
        help="ArgoCD URL (token in ARGOCD_TOKEN)",
    )
    argo.add_argument(
        "--argocd-app", type=checks.nonempty_arg("--argocd-app"), help="the ArgoCD application"
    )
    argo.add_argument(
        "--argocd-timeout",
        type=checks.duration_arg("--argocd-timeout"),
        default=600.0,
        help="how long to wait: seconds or a duration like 10m (default 600)",
    )
    argo.add_argument("--argocd-insecure", action="store_true", help="skip TLS verification")
    argo.add_argument("--argocd-app-namespace", help="the application's namespace")


def _notify_flags(parser: argparse.ArgumentParser) -> None:
    tell = parser.add_argument_group("notifications (webhook URL in SLACK_WEBHOOK_URL)")
    tell.add_argument(
        "--notify-issue",
        type=checks.int_arg("--notify-issue", minimum=1),
        help="comment on this issue/PR number",
    )
    tell.add_argument(
        "--notify-repository",
        type=checks.repository_arg("--notify-repository"),
        help="OWNER/NAME of --notify-issue",
    )


def _check_pairs(args: argparse.Namespace) -> None:
    """Flags that only work together; checked before anything is written."""
    server, app = getattr(args, "argocd_server", None), getattr(args, "argocd_app", None)
    if bool(server) != bool(app):
        missing = "--argocd-app" if server else "--argocd-server"
        raise errors.InputError(
            "--argocd-server and --argocd-app go together",
            source=missing,
            hint=f"Pass {missing} too, or neither to skip waiting for ArgoCD.",
        )


# ---------------------------------------------------------------- helpers
def _api_settings() -> github.ApiSettings | None:
    for name in ("GITOPS_TOKEN", "GITHUB_TOKEN"):
        token = os.environ.get(name, "")
        if token:
            actions.register_secret(token)
            return github.ApiSettings(
                token=token, token_env=name, api_url=github.api_url_from_env()
            )
    return None


def _env_token(name: str) -> str | None:
    token = os.environ.get(name) or None
    actions.register_secret(token)
    return token


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
    if getattr(args, "argocd_server", None):
        argo = rollback_run.ArgoTarget(
            server=args.argocd_server,
            app=args.argocd_app,
            timeout_seconds=args.argocd_timeout,
            insecure=args.argocd_insecure,
            app_namespace=args.argocd_app_namespace,
            token=_env_token("ARGOCD_TOKEN"),
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
        alertmanager_token=_env_token("ALERTMANAGER_TOKEN"),
        prometheus_url=args.prometheus_url,
        prometheus_token=_env_token("PROMETHEUS_TOKEN"),
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
    try:
        return handlers[args.command](args)
    except errors.InputError as exc:
        if exc.source == "--repo-url":  # the git layer's name for "the remote"; rollback's is
            exc.source = "--dir"  # the origin of the checkout in --dir
        raise
