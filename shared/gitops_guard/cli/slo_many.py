"""``slo-gate --apps-from REPORT`` (or ``--app`` repeated, ``--selector``): the gate per app.

A helper of :mod:`gitops_guard.cli.slo_gate` (not a subcommand of its own). It picks
the apps (argocd-wait's report; or one ArgoCD list request for ``--selector`` and
``--app`` with ``--argocd-server``; or bare ``--app`` names, which set ``${app}``
only), loads the SLO file once per app (exit 2 naming the app whose variables cannot
fill it, before any query), calls :func:`gitops_guard.slo.per_app.run`, and renders:
a line per app, the combined JSON report, outputs (``verdict``, ``score``,
``failed-apps``, ``inconclusive-apps``, ``failed-objectives`` as ``APP/NAME``...)
and a job summary table. The combined verdict is the outcome (0 pass or warn, 1
fail, 3 inconclusive). It decides nothing itself.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gitops_guard import actions, credentials, errors, report
from gitops_guard.slo import per_app
from gitops_guard.slo import run as slo_run


def _targets(args: argparse.Namespace) -> list[per_app.AppTarget]:
    if args.apps_from:
        if args.app or args.selector:
            raise errors.InputError(
                "--apps-from names the apps already",
                source="--apps-from",
                hint="Pass either argocd-wait's report (--apps-from) or --app/--selector.",
            )
        return per_app.targets_from_wait(Path(args.apps_from))
    server = args.argocd_server or credentials.argocd_server()
    if server:
        from gitops_guard import http
        from gitops_guard.argocd import client as argo_client

        with argo_client.ArgoClient(
            argo_client.normalize_server(server),
            token=credentials.argocd_token(),
            deadline=http.Deadline(
                float(args.query_timeout), source="--query-timeout (the ArgoCD list request)"
            ),
            insecure=args.argocd_insecure,
        ) as argo:
            return per_app.targets_from_argocd(argo, selector=args.selector, names=args.app)
    if args.selector:
        raise errors.InputError(
            "--selector needs ArgoCD to list the applications",
            source="--argocd-server",
            hint="Pass --argocd-server URL (or set ARGOCD_SERVER), or --apps-from REPORT.",
        )
    return [per_app.AppTarget(name) for name in dict.fromkeys(args.app)]


def run(args: argparse.Namespace, overrides: dict[str, str]) -> str:
    """Judge the SLO file once per app and render the combined verdict."""
    from gitops_guard.cli import slo_gate

    if args.phase == "pre":
        raise errors.InputError(
            "the gate per app judges a deployed version (--phase post)",
            source="--phase",
            hint="Run --phase pre once per error budget, without --apps-from/--app/--selector.",
        )
    if not args.prometheus_url:
        raise errors.InputError(
            "a Prometheus URL is required to judge the SLOs",
            source="--prometheus-url",
            hint="Pass --prometheus-url URL.",
        )
    targets = _targets(args)
    cfgs = per_app.load_each(Path(args.config), targets, overrides)
    if not next(iter(cfgs.values())).objectives:
        raise errors.InputError(
            "the SLO file holds canary objectives only",
            source=str(args.config),
            hint="Add objectives (docs/slo-gate.md), or run it through `gitops-guard canary`.",
        )
    request = slo_run.GateRequest(
        config_path=Path(args.config),
        prometheus_url=args.prometheus_url,
        overrides=overrides,
        token=credentials.prometheus_token(),
        query_timeout_seconds=float(args.query_timeout),
        verify=slo_gate._verify(args),
        at=slo_gate.parse_time(args.at) if args.at else None,
        once=args.once,
    )
    actions.info(
        f"slo-gate per app: {len(targets)} applications, SLO file {args.config}, "
        f"Prometheus {args.prometheus_url}"
    )
    done = per_app.run(
        request,
        targets,
        cfgs,
        on_app=lambda a: actions.info(f"  {a.verdict:12} {a.target.name}: {a.reason}"),
    )
    report_path = str(args.report or "")
    if report_path:
        report.write_json(report_path, done.report)
    data = done.report
    actions.set_outputs(
        {
            "verdict": done.verdict,
            "verdict-at": str(data.get("ended_at") or ""),
            "score": f"{data['score']:g}",
            "report-path": report_path,
            "failed-objectives": ",".join(data["failed_objectives"]),
            "no-data-objectives": ",".join(data["no_data_objectives"]),
            "failed-apps": ",".join(data["failed_apps"]),
            "inconclusive-apps": ",".join(data["inconclusive_apps"]),
        }
    )
    rows = [(a["app"], a["verdict"], f"{a['score']:g}", a["reason"]) for a in data["apps"]]
    actions.append_summary(
        f"## SLO gate `{data['name']}` per application: **{done.verdict}**\n\n{done.reason}\n\n"
        + report.markdown_table(("app", "verdict", "score", "reason"), rows)
    )
    actions.info(f"{done.verdict}: {done.reason} ({done.seconds:.1f}s)")
    if done.verdict == "fail":
        actions.error(done.reason, title=f"SLO gate {data['name']}: fail", file=str(args.config))
    elif done.verdict in ("warn", "inconclusive"):
        actions.warning(
            done.reason, title=f"SLO gate {data['name']}: {done.verdict}", file=str(args.config)
        )
    return done.verdict
