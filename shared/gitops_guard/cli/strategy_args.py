"""The flags, inputs and checks that ``blue-green`` and ``canary`` share.

Both strategies act on the same two-colour layout (Deployments ``SERVICE-<colour>``
told apart by a label), wait for ArgoCD after each commit, read the cluster through
one kubeconfig, gate on one SLO file and Prometheus, and end the same way: a JSON
report, outputs, a job summary, one line on stdout and an annotation. This module
holds those pieces once; each subcommand adds its own flags around them. It is no
subcommand: it has no ``run()``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gitops_guard import actions, durations, errors, report
from gitops_guard.cli import InputSpec, outcomes

TARGET_INPUTS = (
    InputSpec("dir", "--dir"),
    InputSpec("service", "--service"),
    InputSpec("image", "--image"),
)
LAYOUT_INPUTS = (
    InputSpec("path", "--path", "list"),
    InputSpec("branch", "--branch"),
    InputSpec("colors", "--colors"),
    InputSpec("color-label", "--color-label"),
)
CLUSTER_INPUTS = (
    InputSpec("kubeconfig", "--kubeconfig"),
    InputSpec("kube-context", "--context"),
    InputSpec("argocd-server", "--argocd-server"),
    InputSpec("argocd-app", "--app"),
    InputSpec("argocd-timeout", "--argocd-timeout"),
    InputSpec("argocd-insecure", "--argocd-insecure", "bool"),
)
PROMETHEUS_INPUTS = (
    InputSpec("prometheus-url", "--prometheus-url"),
    InputSpec("vars", "--var", "lines"),
)


def add_target(parser: argparse.ArgumentParser, *, image_help: str) -> None:
    """``--dir``, ``--service``, ``--image``."""
    parser.add_argument("--dir", default=".", help="the GitOps checkout, or a folder inside it")
    parser.add_argument(
        "--service", required=True, help="the service (Deployments NAME-blue/green)"
    )
    parser.add_argument("--image", required=True, metavar="REF", help=image_help)


def add_layout(parser: argparse.ArgumentParser) -> None:
    """Where the two colours' manifests are and how they are told apart."""
    parser.add_argument(
        "--path",
        action="append",
        default=[],
        help="folders/files (relative to --dir) holding the service's manifests",
    )
    parser.add_argument("--branch", help="the branch ArgoCD tracks (default: the tracked one)")
    parser.add_argument(
        "--colors", default="blue,green", help="the two colours (default blue,green)"
    )
    parser.add_argument(
        "--color-label", default="color", help="the colour label key (default color)"
    )


def add_namespace(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--namespace", help="the Kubernetes namespace (default: from the manifests)"
    )


def add_cluster(parser: argparse.ArgumentParser) -> None:
    """The Kubernetes API and ArgoCD."""
    parser.add_argument("--kubeconfig", help="a kubeconfig file (default: KUBECONFIG, in-cluster)")
    parser.add_argument("--context", help="the kubeconfig context")
    parser.add_argument("--argocd-server", help="ArgoCD URL (token from ARGOCD_TOKEN)")
    parser.add_argument("--app", help="the ArgoCD application")
    parser.add_argument("--argocd-timeout", default="5m", help="argocd-wait timeout per commit")
    parser.add_argument("--argocd-insecure", action="store_true", help="skip ArgoCD TLS checks")


def add_prometheus(parser: argparse.ArgumentParser) -> None:
    """Where the SLO file's queries go, and its variables."""
    parser.add_argument(
        "--prometheus-url", metavar="URL", help="Prometheus (token: PROMETHEUS_TOKEN)"
    )
    parser.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="more variables for the SLO file (repeatable)",
    )


def add_report(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--report", metavar="FILE", help="write the JSON report here")


def add_notify_flags(parser: argparse.ArgumentParser) -> None:
    """The notification flags of blue-green and canary (the URLs are secrets: env only)."""
    tell = parser.add_argument_group(
        "notifications (webhook URLs in SLACK_WEBHOOK_URL, TEAMS_WEBHOOK_URL, NOTIFY_WEBHOOK_URL)"
    )
    tell.add_argument(
        "--environment", default="", help="the environment named in the switch notifications"
    )


def tell(args: argparse.Namespace, run: Any) -> list[str]:
    """Post the run's switch, switch-back or abort events; never fails the switch.

    A webhook that fails is a warning saying the deploy is not affected, and a
    ``... NOT notified`` note in the log and the report.
    """
    from gitops_guard.observe import notifications

    events = notifications.strategy_events(
        run, environment=args.environment, app=args.app or "", run_url=actions.run_url() or ""
    )
    notes = notifications.tell(events)
    for note in notes:
        actions.info(note)
    return notes


def seconds(text: str, flag: str) -> float:
    """A duration flag, in seconds (exit 2 naming ``flag``)."""
    return durations.parse_duration(text, source=flag)


def colours(text: str) -> tuple[str, str]:
    """``--colors``: two different names."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) != 2 or parts[0] == parts[1]:
        raise errors.InputError(
            f"{text!r} does not name two colours", source="--colors", hint="Write e.g. blue,green."
        )
    return parts[0], parts[1]


def require_gate_pair(args: argparse.Namespace, *, hint: str) -> None:
    """``--slo-config`` without ``--prometheus-url`` (or the other way round): exit 2."""
    if bool(args.slo_config) != bool(args.prometheus_url):
        raise errors.InputError(
            "--slo-config and --prometheus-url go together", source="--slo-config", hint=hint
        )


def require_argocd_pair(args: argparse.Namespace) -> None:
    """``--argocd-server`` without ``--app`` (or the other way round): exit 2."""
    if bool(args.argocd_server) != bool(args.app):
        raise errors.InputError(
            "--argocd-server and --app go together",
            source="--app",
            hint="Give both to wait for ArgoCD after each commit.",
        )


def kube(args: argparse.Namespace, *, mode: str = "git") -> Any:
    """A Kubernetes client, or None when no credentials are found (exit 2 if ``mode`` is
    ``cluster``, which cannot do without)."""
    from gitops_guard.kube import client

    given = args.kubeconfig or os.environ.get("KUBECONFIG")
    in_cluster = bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
    default = Path.home() / ".kube" / "config"
    if not (given or in_cluster or default.is_file()):
        if mode == "cluster":
            raise errors.ConfigError(
                "--mode cluster needs the Kubernetes API, and no credentials were found",
                source="--kubeconfig",
                hint="Pass --kubeconfig, set KUBECONFIG, or run inside the cluster.",
            )
        return None
    return client.KubeClient(client.Settings(kubeconfig=args.kubeconfig, context=args.context))


def finish(
    command: str,
    result: Any,
    *,
    report_path: str | None,
    data: Mapping[str, Any],
    outputs: Mapping[str, str],
    summary: str,
) -> str:
    """Write the report, the outputs and the summary, say the outcome; return it."""
    if report_path:
        report.write_json(report_path, dict(data))
    actions.set_outputs({**outputs, "report-path": report_path or ""})
    actions.append_summary(summary)
    print(f"{command} {result.service}: {result.outcome}: {result.reason}")
    code = outcomes.exit_code(result.outcome)
    if code == errors.EXIT_REJECTED:
        actions.error(result.reason, title=f"{command} {result.service}: {result.outcome}")
    elif code == errors.EXIT_UNDECIDED:
        actions.warning(result.reason, title=f"{command} {result.service}: {result.outcome}")
    return str(result.outcome)
