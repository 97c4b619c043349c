"""`gitops-guard blue-green`: switch a service to a new image through an idle colour.

This module translates: flags (or action inputs) into
:class:`~gitops_guard.strategies.bluegreen.flow.Settings` and the flow's
dependencies, and the :class:`~gitops_guard.strategies.bluegreen.models.Result`
into outputs, a job summary, a JSON report and the exit code. Every input is
validated before the first write (exit 2). See docs/blue-green.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gitops_guard import actions, errors, gitops, images
from gitops_guard.cli import InputSpec, outcomes
from gitops_guard.cli import strategy_args as shared

HELP = "Blue-green: prepare the idle colour, prove it, switch, switch back on a failed gate."

INPUTS = (
    *shared.TARGET_INPUTS,
    InputSpec("mode", "--mode"),
    *shared.LAYOUT_INPUTS,
    InputSpec("active-service", "--active-service"),
    InputSpec("preview-service", "--preview-service"),
    InputSpec("namespace", "--namespace"),
    InputSpec("preview-replicas", "--preview-replicas"),
    InputSpec("scale-down-delay", "--scale-down-delay"),
    InputSpec("ready-timeout", "--ready-timeout"),
    InputSpec("switch-timeout", "--switch-timeout"),
    InputSpec("preview-test-command", "--preview-test-command"),
    *shared.CLUSTER_INPUTS,
    InputSpec("slo-config", "--slo-config"),
    InputSpec("skip-gates", "--skip-gates", "bool"),
    InputSpec("readiness", "--readiness"),
    *shared.PROMETHEUS_INPUTS,
    InputSpec("timeout", "--timeout"),
    InputSpec("report", "--report"),
    InputSpec("environment", "--environment"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of blue-green."""
    shared.add_target(parser, image_help="the image to switch to")
    parser.add_argument(
        "--mode",
        choices=("git", "cluster"),
        default="git",
        help="git: every change is a commit (default); cluster: the switch "
        "patches the Service through the Kubernetes API",
    )
    shared.add_layout(parser)
    parser.add_argument("--active-service", help="the active Service (default: --service)")
    parser.add_argument("--preview-service", help="the preview Service (default: SERVICE-preview)")
    shared.add_namespace(parser)
    parser.add_argument(
        "--preview-replicas", help="replicas of the idle colour (default: the live count)"
    )
    parser.add_argument(
        "--scale-down-delay",
        default="30s",
        help="scale the old colour to 0 this long after the switch; 0 keeps it",
    )
    parser.add_argument("--ready-timeout", default="5m", help="how long the idle colour may take")
    parser.add_argument(
        "--switch-timeout",
        default="60s",
        help="how long the active endpoints may take to turn over",
    )
    parser.add_argument(
        "--preview-test-command",
        help="a smoke or load test against the preview (PREVIEW_SERVICE, "
        "PREVIEW_COLOR, PREVIEW_NAMESPACE set); non-zero rejects",
    )
    shared.add_cluster(parser)
    parser.add_argument("--slo-config", metavar="FILE", help="the SLO file of both gates")
    parser.add_argument(
        "--skip-gates",
        action="store_true",
        help="switch without SLO gates (an explicit opt-out: warned and recorded); "
        "without it and without --slo-config: exit 2",
    )
    parser.add_argument(
        "--readiness",
        choices=("traffic-path", "argocd-only"),
        default="traffic-path",
        help="traffic-path: rollout status and EndpointSlices through the Kubernetes API "
        "(default; no credentials: exit 2); argocd-only: an explicit opt-out",
    )
    shared.add_prometheus(parser)
    parser.add_argument(
        "--timeout",
        default="30m",
        help="bounds the whole command (waits, polls, gates, delays); when spent: exit 3, "
        "and a rerun continues (default 30m)",
    )
    shared.add_report(parser)
    shared.add_notify_flags(parser)


def strategy_run(result: Any) -> Any:
    """What the notifications say about a blue-green result (a ``StrategyRun``)."""
    from gitops_guard.observe import notifications

    done = {(e.step, e.outcome) for e in result.timeline}
    return notifications.StrategyRun(
        strategy="blue-green",
        service=result.service,
        image=result.image,
        outcome=result.outcome,
        reason=result.reason,
        commits=result.commits,
        switched=("switch", "done") in done,
        switched_back=("switch-back", "done") in done,
        live_before=result.live_before,
        live_after=result.live_after,
    )


def _replicas(text: str | None) -> int | None:
    if text is None or text == "":
        return None
    if not text.strip().isdigit():
        raise errors.InputError(
            f"{text!r} is not a number of replicas",
            source="--preview-replicas",
            hint="Give a whole number such as 2, or leave it out to use the live colour's count.",
        )
    return int(text)


def _settings(args: argparse.Namespace, root: Path) -> Any:
    from gitops_guard.strategies.bluegreen import flow

    image = images.parse(args.image, source="--image")
    return flow.Settings(
        dir=root,
        service=args.service,
        image=image,
        mode=args.mode,
        paths=tuple(args.path),
        colours=shared.colours(args.colors),
        colour_key=args.color_label,
        active_service=args.active_service,
        preview_service=args.preview_service,
        namespace=args.namespace,
        preview_replicas=_replicas(args.preview_replicas),
        scale_down_delay_seconds=shared.seconds(args.scale_down_delay, "--scale-down-delay"),
        ready_timeout_seconds=shared.seconds(args.ready_timeout, "--ready-timeout"),
        switch_timeout_seconds=shared.seconds(args.switch_timeout, "--switch-timeout"),
        branch=args.branch,
        skip_gates=args.skip_gates,
        readiness=args.readiness,
        timeout_seconds=shared.seconds(args.timeout, "--timeout"),
        run_url=actions.run_url() or "",
    )


def _report(result: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return {
        "service": result.service,
        "image": result.image,
        "mode": result.mode,
        "outcome": result.outcome,
        "exit_code": outcomes.exit_code(result.outcome),
        "reason": result.reason,
        "live_before": result.live_before,
        "live_after": result.live_after,
        "commits": result.commits,
        "verdicts": result.verdicts,
        "switch_seconds": result.switch_seconds,
        "switch_back_seconds": result.switch_back_seconds,
        "unverified": list(result.unverified),
        "timeline": [asdict(e) for e in result.timeline],
    }


def run(args: argparse.Namespace) -> str:
    """Validate everything, run the flow, report; return the outcome (see cli.outcomes)."""
    import time

    from gitops_guard.slo import config as slo_config
    from gitops_guard.strategies.bluegreen import flow, plan, render, steps

    started = time.monotonic()
    wc = gitops.open_checkout(args.dir)
    settings = _settings(args, Path(args.dir))
    until = started + settings.timeout_seconds
    variables = slo_config.parse_overrides(args.var)
    shared.require_gate_pair(
        args, hint="Give both to gate the colours (or neither, with --skip-gates)."
    )
    if args.slo_config:
        slo_config.load(args.slo_config, overrides={"color": "x", "baseline_color": "y"})
    shared.require_argocd_pair(args)
    argocd_timeout = shared.seconds(args.argocd_timeout, "--argocd-timeout")
    kube_client = shared.kube(args, mode=args.mode)
    report_dir = Path(args.report).parent if args.report else None
    deps = flow.Deps(
        wc=wc,
        kube=kube_client,
        echo=actions.info,
        warn=lambda text: actions.warning(text, title="blue-green: a check is switched off"),
        wait=steps.argocd_waiter(
            server=args.argocd_server,
            app=args.app,
            timeout_seconds=argocd_timeout,
            insecure=args.argocd_insecure,
            remaining=lambda: until - time.monotonic(),
        )
        if args.argocd_server
        else None,
        gate=steps.slo_gate(
            config_path=args.slo_config,
            prometheus_url=args.prometheus_url,
            variables=variables,
            report_dir=report_dir,
        )
        if args.slo_config and not args.skip_gates
        else None,
    )
    if args.argocd_server:
        read_spec = steps.argocd_spec(
            server=args.argocd_server, app=args.app, insecure=args.argocd_insecure
        )
        service = args.active_service or args.service
        deps.argocd_spec_problem = lambda mode: plan.argocd_problem(
            read_spec(), service=service, mode=mode
        )
    if args.preview_test_command:
        deps.preview_test = steps.preview_test(
            args.preview_test_command,
            service=args.preview_service or f"{args.service}-preview",
            namespace=args.namespace or "",
        )
    from gitops_guard import deadline

    try:
        # The one overall deadline: every git network command and HTTP call (ArgoCD,
        # Prometheus) inside the run is cut to --timeout too (the flow bounds its polls).
        with deadline.overall(deadline.Deadline(settings.timeout_seconds, source="--timeout")):
            result = flow.run(settings, deps)
    finally:
        if kube_client is not None:
            kube_client.close()
    return shared.finish(
        "blue-green",
        result,
        report_path=args.report,
        data={**_report(result), "notifications": shared.tell(args, strategy_run(result))},
        outputs={
            "outcome": result.outcome,
            "live-color-before": result.live_before,
            "live-color-after": result.live_after,
            "image": result.image,
            "prepare-commit": result.commits.get("prepare", ""),
            "switch-commit": result.commits.get("switch", ""),
            "switch-back-commit": result.commits.get("switch-back", ""),
            "scale-down-commit": result.commits.get("scale-down", ""),
            "preview-verdict": result.verdicts.get("preview", ""),
            "post-switch-verdict": result.verdicts.get("post-switch", ""),
            "switch-seconds": "" if result.switch_seconds is None else f"{result.switch_seconds:g}",
            "switch-back-seconds": ""
            if result.switch_back_seconds is None
            else f"{result.switch_back_seconds:g}",
        },
        summary=render.summary_markdown(result),
    )
