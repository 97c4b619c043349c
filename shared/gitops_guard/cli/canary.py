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

from gitops_guard import actions, errors, gitops, images
from gitops_guard.cli import InputSpec, outcomes
from gitops_guard.cli import strategy_args as shared

HELP = "Canary: move traffic to a new image step by step; abort in one revert on a no."

INPUTS = (
    *shared.TARGET_INPUTS,
    InputSpec("steps", "--steps"),
    InputSpec("traffic", "--traffic"),
    InputSpec("route", "--route"),
    *shared.LAYOUT_INPUTS,
    InputSpec("canary-service", "--canary-service"),
    InputSpec("namespace", "--namespace"),
    InputSpec("pause", "--pause"),
    InputSpec("ready-timeout", "--ready-timeout"),
    *shared.CLUSTER_INPUTS,
    InputSpec("wait-for-window", "--wait-for-window", "bool"),
    InputSpec("window-timeout", "--window-timeout"),
    InputSpec("slo-config", "--slo-config"),
    *shared.PROMETHEUS_INPUTS,
    InputSpec("exemption", "--exemption"),
    InputSpec("report", "--report"),
    InputSpec("environment", "--environment"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of canary."""
    shared.add_target(parser, image_help="the image to roll out")
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
    shared.add_layout(parser)
    parser.add_argument(
        "--canary-service", help="the Service in front of both colours (default: --service)"
    )
    shared.add_namespace(parser)
    parser.add_argument(
        "--pause", default="0s", help="wait this long after an ungated step (no --slo-config)"
    )
    parser.add_argument("--ready-timeout", default="5m", help="how long a step's pods may take")
    shared.add_cluster(parser)
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
    shared.add_prometheus(parser)
    parser.add_argument(
        "--exemption",
        metavar="TEXT",
        help="the error-budget exemption this rollout goes out under (slo-gate --phase pre's "
        "exemption output), recorded as a Gitops-Guard-Exemption trailer of every step",
    )
    shared.add_report(parser)
    shared.add_notify_flags(parser)


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
        colours=shared.colours(args.colors),
        colour_key=args.color_label,
        service_name=args.canary_service,
        namespace=args.namespace,
        pause_seconds=shared.seconds(args.pause, "--pause"),
        ready_timeout_seconds=shared.seconds(args.ready_timeout, "--ready-timeout"),
        wait_for_window=args.wait_for_window,
        window_timeout_seconds=shared.seconds(args.window_timeout, "--window-timeout"),
        branch=args.branch,
        run_url=actions.run_url() or "",
        exemption=args.exemption or "",
    )
    variables = slo_config.parse_overrides(args.var)
    shared.require_gate_pair(
        args, hint="Give both to gate every step, or neither to step on readiness alone."
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
    shared.require_argocd_pair(args)
    argocd_timeout = shared.seconds(args.argocd_timeout, "--argocd-timeout")
    kube_client = shared.kube(args)
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
    return shared.finish(
        "canary",
        result,
        report_path=args.report,
        data={**_report(result), "notifications": shared.tell(args, strategy_run(result))},
        outputs={
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
        },
        summary=render.summary_markdown(result),
    )
