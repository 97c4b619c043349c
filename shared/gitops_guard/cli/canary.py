"""`gitops-guard canary`: move traffic to a new image step by step, each step one commit.

This module translates: flags (or action inputs) into
:class:`~gitops_guard.strategies.canary.flow.Settings` and the flow's dependencies,
and the result into outputs, a job summary, a JSON report and the exit code. Every
input is validated before the first write (exit 2). See docs/canary.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gitops_guard import actions, errors, gitops, images, report
from gitops_guard.cli import InputSpec, outcomes

HELP = "Canary: move traffic to a new image step by step; abort in one revert on a no."

INPUTS = (
    InputSpec("dir", "--dir"),
    InputSpec("service", "--service"),
    InputSpec("image", "--image"),
    InputSpec("steps", "--steps"),
    InputSpec("traffic", "--traffic"),
    InputSpec("route", "--route"),
    InputSpec("path", "--path", "list"),
    InputSpec("branch", "--branch"),
    InputSpec("colors", "--colors"),
    InputSpec("color-label", "--color-label"),
    InputSpec("canary-service", "--canary-service"),
    InputSpec("namespace", "--namespace"),
    InputSpec("pause", "--pause"),
    InputSpec("ready-timeout", "--ready-timeout"),
    InputSpec("kubeconfig", "--kubeconfig"),
    InputSpec("kube-context", "--context"),
    InputSpec("argocd-server", "--argocd-server"),
    InputSpec("argocd-app", "--app"),
    InputSpec("argocd-timeout", "--argocd-timeout"),
    InputSpec("argocd-insecure", "--argocd-insecure", "bool"),
    InputSpec("wait-for-window", "--wait-for-window", "bool"),
    InputSpec("window-timeout", "--window-timeout"),
    InputSpec("slo-config", "--slo-config"),
    InputSpec("prometheus-url", "--prometheus-url"),
    InputSpec("vars", "--var", "lines"),
    InputSpec("exemption", "--exemption"),
    InputSpec("report", "--report"),
    InputSpec("environment", "--environment"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of canary."""
    parser.add_argument("--dir", default=".", help="the GitOps checkout, or a folder inside it")
    parser.add_argument(
        "--service", required=True, help="the service (Deployments NAME-blue/green)"
    )
    parser.add_argument("--image", required=True, metavar="REF", help="the image to roll out")
    parser.add_argument(
        "--steps",
        default="5,25,50,100",
        help="the canary's share of traffic per step, in percent, ending at 100",
    )
    parser.add_argument(
        "--traffic",
        choices=("replicas", "gateway"),
        default="replicas",
        help="how traffic is split: replicas (the ratio of the two Deployments) or gateway "
        "(the weights of a Gateway API HTTPRoute over SERVICE-blue and SERVICE-green)",
    )
    parser.add_argument(
        "--route", help="--traffic gateway: the HTTPRoute (default: the service's name)"
    )
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
    parser.add_argument(
        "--canary-service", help="the Service in front of both colours (default: --service)"
    )
    parser.add_argument(
        "--namespace", help="the Kubernetes namespace (default: from the manifests)"
    )
    parser.add_argument(
        "--pause", default="0s", help="wait this long after an ungated step (no --slo-config)"
    )
    parser.add_argument("--ready-timeout", default="5m", help="how long a step's pods may take")
    parser.add_argument("--kubeconfig", help="a kubeconfig file (default: KUBECONFIG, in-cluster)")
    parser.add_argument("--context", help="the kubeconfig context")
    parser.add_argument("--argocd-server", help="ArgoCD URL (token from ARGOCD_TOKEN)")
    parser.add_argument("--app", help="the ArgoCD application")
    parser.add_argument("--argocd-timeout", default="5m", help="argocd-wait timeout per commit")
    parser.add_argument("--argocd-insecure", action="store_true", help="skip ArgoCD TLS checks")
    parser.add_argument(
        "--wait-for-window",
        action="store_true",
        help="inside an ArgoCD deny sync window, wait for it to close (default: stop, exit 1)",
    )
    parser.add_argument(
        "--window-timeout", default="1h", help="the longest wait for a sync window to open"
    )
    parser.add_argument(
        "--slo-config", metavar="FILE", help="the SLO file with the canary objectives"
    )
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
    parser.add_argument(
        "--exemption",
        metavar="TEXT",
        help="the error-budget exemption this rollout goes out under (slo-gate --phase pre's "
        "exemption output), recorded as a Gitops-Guard-Exemption trailer of every step",
    )
    parser.add_argument("--report", metavar="FILE", help="write the JSON report here")
    from gitops_guard.cli import blue_green as bg_cli

    bg_cli.add_notify_flags(parser)


def strategy_run(result: Any) -> Any:
    """What the notifications say about a canary result (a ``StrategyRun``)."""
    from gitops_guard.observe import notifications

    return notifications.StrategyRun(
        strategy="canary",
        service=result.service,
        image=result.image,
        outcome=str(result.outcome),
        reason=result.reason,
        commits=result.commits,
    )


def _seconds(text: str, flag: str) -> float:
    from gitops_guard import durations

    return durations.parse_duration(text, source=flag)


def _windows(args: argparse.Namespace) -> tuple[Any, Any]:
    """ArgoCD's sync windows of ``--app`` now, and a sync request, on the one ArgoCD client."""
    import os
    from datetime import datetime, timezone

    from gitops_guard.argocd import client as argo_client
    from gitops_guard.argocd import syncwindows

    token = os.environ.get(argo_client.TOKEN_ENV) or None
    actions.register_secret(token)

    def window() -> tuple[str, Any]:
        with argo_client.ArgoClient(
            args.argocd_server, token=token, insecure=args.argocd_insecure
        ) as argo:
            windows = argo.get_sync_windows(args.app)
        return syncwindows.frozen_until(windows, datetime.now(timezone.utc))

    def request_sync(sha: str) -> None:
        with argo_client.ArgoClient(
            args.argocd_server, token=token, insecure=args.argocd_insecure
        ) as argo:
            argo.sync(args.app, revision=sha)

    return window, request_sync


def _report(result: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return {
        "service": result.service,
        "image": result.image,
        "traffic": result.traffic,
        "outcome": result.outcome,
        "exit_code": outcomes.exit_code(result.outcome),
        "reason": result.reason,
        "stable": result.stable,
        "canary": result.canary,
        "steps": result.steps,
        "commits": result.commits,
        "verdicts": result.verdicts,
        "detection_seconds": result.detection_seconds,
        "abort_seconds": result.abort_seconds,
        "timeline": [asdict(e) for e in result.timeline],
    }


def run(args: argparse.Namespace) -> str:
    """Validate everything, run the flow, report; return the outcome (see cli.outcomes)."""
    from gitops_guard.cli import blue_green as bg_cli
    from gitops_guard.slo import config as slo_config
    from gitops_guard.slo import run as slo_run
    from gitops_guard.strategies.bluegreen import steps as bg_steps
    from gitops_guard.strategies.canary import flow, gating, plan, render

    wc = gitops.open_checkout(args.dir)
    settings = flow.Settings(
        dir=Path(args.dir),
        service=args.service,
        image=images.parse(args.image, source="--image"),
        steps=plan.parse_steps(args.steps),
        traffic=args.traffic,
        route_name=args.route,
        paths=tuple(args.path),
        colours=bg_cli._colours(args.colors),
        colour_key=args.color_label,
        service_name=args.canary_service,
        namespace=args.namespace,
        pause_seconds=_seconds(args.pause, "--pause"),
        ready_timeout_seconds=_seconds(args.ready_timeout, "--ready-timeout"),
        wait_for_window=args.wait_for_window,
        window_timeout_seconds=_seconds(args.window_timeout, "--window-timeout"),
        branch=args.branch,
        run_url=actions.run_url() or "",
        exemption=args.exemption or "",
    )
    variables = slo_config.parse_overrides(args.var)
    if bool(args.slo_config) != bool(args.prometheus_url):
        raise errors.InputError(
            "--slo-config and --prometheus-url go together",
            source="--slo-config",
            hint="Give both to gate every step, or neither to step on readiness alone.",
        )
    if args.slo_config:
        probe = dict.fromkeys(("color", "baseline_color", "version", "baseline_version"), "x")
        cfg = slo_config.load(
            args.slo_config, overrides={"service": args.service, **probe, **variables}
        )
        if not cfg.canary:
            raise errors.InputError(
                "the SLO file has no canary objectives: nothing compares the canary with "
                "the stable colour",
                source=args.slo_config,
                hint="Add a canary: list (canary and stable counters) as docs/canary.md shows.",
            )
    if bool(args.argocd_server) != bool(args.app):
        raise errors.InputError(
            "--argocd-server and --app go together",
            source="--app",
            hint="Give both to wait for ArgoCD after each commit.",
        )
    argocd_timeout = _seconds(args.argocd_timeout, "--argocd-timeout")
    args.mode = "git"  # what blue-green's credential lookup reads
    kube_client = bg_cli._kube(args)
    report_dir = Path(args.report).parent if args.report else None
    deps = flow.Deps(
        wc=wc,
        kube=kube_client,
        echo=actions.info,
        wait=bg_steps.argocd_waiter(
            server=args.argocd_server,
            app=args.app,
            timeout_seconds=argocd_timeout,
            insecure=args.argocd_insecure,
        )
        if args.argocd_server
        else None,
        gate=gating.slo_gate(
            config_path=args.slo_config,
            prometheus_url=args.prometheus_url,
            variables=variables,
            make_query=slo_run.make_query,
            report_dir=report_dir,
        )
        if args.slo_config
        else None,
    )
    if args.argocd_server:
        deps.window, deps.request_sync = _windows(args)
    if kube_client is None:
        actions.warning(
            "no Kubernetes credentials: the canary's pods are not proven ready after each "
            "step (pass --kubeconfig)",
            title="canary without the Kubernetes API",
        )
    try:
        result = flow.run(settings, deps)
    finally:
        if kube_client is not None:
            kube_client.close()
    data = _report(result)
    data["notifications"] = bg_cli.tell(args, strategy_run(result))
    if args.report:
        report.write_json(args.report, data)
    actions.set_outputs(
        {
            "outcome": result.outcome,
            "stable-color": result.stable,
            "canary-color": result.canary,
            "image": result.image,
            "steps": ",".join(str(s) for s in result.steps),
            "abort-commit": result.commits.get("abort", ""),
            "promote-commit": result.commits.get("promote", ""),
            "detection-seconds": ""
            if result.detection_seconds is None
            else f"{result.detection_seconds:g}",
            "report-path": args.report or "",
        }
    )
    actions.append_summary(render.summary_markdown(result))
    print(f"canary {result.service}: {result.outcome}: {result.reason}")
    code = outcomes.exit_code(result.outcome)
    if code == errors.EXIT_REJECTED:
        actions.error(result.reason, title=f"canary {result.service}: {result.outcome}")
    elif code == errors.EXIT_UNDECIDED:
        actions.warning(result.reason, title=f"canary {result.service}: {result.outcome}")
    return str(result.outcome)
