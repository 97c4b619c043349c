"""The parsers of `gitops-guard rollback revert|to|watch|quarantine` and their inputs.

One parser per command, each with its own flags, help and checks (the argparse
types of :mod:`gitops_guard.cli.checks`), and the map from action inputs to flags
with the commands each input is for. :mod:`gitops_guard.cli.rollback` runs them.

This module must not run anything: it only describes the command line.
"""

from __future__ import annotations

import argparse

from gitops_guard import cli, credentials, errors
from gitops_guard.cli import InputSpec, checks, timeout

COMMANDS = ("revert", "to", "watch", "quarantine")
QUARANTINE_ACTIONS = ("add", "lift", "list")

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
    InputSpec("argocd-selector", "--argocd-selector", commands=_ROLLS_BACK),
    InputSpec("argocd-timeout", "--argocd-timeout", commands=_ROLLS_BACK),
    InputSpec("argocd-insecure", "--argocd-insecure", "bool", commands=_ROLLS_BACK),
    InputSpec("argocd-app-namespace", "--argocd-app-namespace", commands=_ROLLS_BACK),
    InputSpec("notify-issue", "--notify-issue", commands=_ROLLS_BACK),
    InputSpec("notify-repository", "--notify-repository", commands=_ROLLS_BACK),
    InputSpec("dry-run", "--dry-run", "bool"),
    InputSpec("timeout", "--timeout"),
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
        timeout.add_flag(
            command,
            what="the command (watch: default --for plus 10m)"
            if name == "watch"
            else "the command",
        )
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
        "--argocd-selector",
        metavar="KEY=VALUE",
        help="wait for every application with these labels instead (one revert for all, "
        "e.g. ApplicationSet-generated apps)",
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


def check_pairs(args: argparse.Namespace) -> None:
    """Flags that only work together; checked before anything is written.

    ``--argocd-app`` (or ``--argocd-selector``) needs a server (the flag, or
    ``ARGOCD_SERVER`` as the argocd CLI reads it); ``--argocd-server`` needs the app or
    the selector, and not both. ``ARGOCD_SERVER`` alone, set for the whole job, asks
    for nothing: no wait.
    """
    if not hasattr(args, "argocd_server"):
        return
    server, app = args.argocd_server, args.argocd_app or args.argocd_selector
    if args.argocd_app and args.argocd_selector:
        raise errors.InputError(
            "--argocd-app and --argocd-selector both name what to wait for",
            source="--argocd-selector",
            hint="Pass one: --argocd-app NAME, or --argocd-selector KEY=VALUE for several apps.",
        )
    if server and not app:
        missing = "--argocd-app"
    elif app and not (server or credentials.argocd_server()):
        missing = "--argocd-server"
    else:
        return
    raise errors.InputError(
        "--argocd-server and --argocd-app go together",
        source=missing,
        hint=f"Pass {missing} too, or neither to skip waiting for ArgoCD.",
    )
