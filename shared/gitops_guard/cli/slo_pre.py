"""``slo-gate --phase pre``: refuse to deploy while an error budget is spent.

A helper of :mod:`gitops_guard.cli.slo_gate` (not a subcommand of its own): reads
every burn-rate objective's remaining budget over its SLO period
(:mod:`gitops_guard.slo.budget`), the exemptions in Git
(:mod:`gitops_guard.exemptions`), and translates the verdict into outputs
(``verdict``, ``budget-remaining``, ``exemption``, ``exemption-trailer``), a job
summary, an optional JSON report and the outcome (``pass`` 0, ``fail`` 1,
``inconclusive`` 3). See docs/canary.md.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any

from gitops_guard import actions, errors, exemptions, report
from gitops_guard.prometheus import client as prom
from gitops_guard.slo import budget, config


def run(
    args: argparse.Namespace,
    cfg: config.SloConfig,
    *,
    make_query: Any,
    verify: bool | str,
    at: datetime | None = None,
) -> str:
    """Judge the budgets now (or ``at``, from ``--at``); return the verdict.

    Exemptions are judged at the real time: ``--at`` replays metrics, not the calendar.
    """
    if not args.prometheus_url:
        raise errors.InputError(
            "a Prometheus URL is required to read the error budgets",
            source="--prometheus-url",
            hint="Pass --prometheus-url URL.",
        )
    allowed = exemptions.load(args.exemptions) if args.exemptions else ()
    now = datetime.now(timezone.utc)
    token = os.environ.get(prom.TOKEN_ENV) or None
    actions.register_secret(token)
    with prom.PrometheusClient(
        args.prometheus_url,
        token=token,
        timeout_seconds=float(args.query_timeout),
        verify=verify,
    ) as client:
        try:
            budgets = budget.measure(cfg, make_query(client, cfg), at=at)
        except errors.DependencyUnavailable as exc:
            budgets = []
            unreachable = exc.message
        else:
            unreachable = ""
    if unreachable:
        verdict = budget.PreVerdict("inconclusive", f"Prometheus unreachable: {unreachable}")
    else:
        verdict = budget.judge(budgets, allowed=allowed, kind=args.change_kind, now=now)
    left = [b.remaining for b in verdict.budgets if b.remaining is not None]
    exemption = verdict.exemption.describe() if verdict.exemption else ""
    actions.set_outputs(
        {
            "verdict": verdict.verdict,
            "budget-remaining": f"{min(left):.4g}" if left else "",
            "exemption": exemption,
            "exemption-trailer": verdict.exemption.trailer() if verdict.exemption else "",
            "report-path": args.report or "",
        }
    )
    if args.report:
        report.write_json(
            args.report,
            {
                "phase": "pre",
                "verdict": verdict.verdict,
                "reason": verdict.reason,
                "change_kind": args.change_kind,
                "budgets": [asdict(b) for b in verdict.budgets],
                "exemption": exemption,
                "checked_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )
    rows = [
        (
            b.objective,
            b.period,
            f"{b.target:.4g}",
            "n/a" if b.remaining is None else f"{b.remaining * 100:.1f}%",
        )
        for b in verdict.budgets
    ]
    actions.append_summary(
        f"### slo-gate --phase pre `{cfg.name}`: {verdict.verdict}\n\n{verdict.reason}\n\n"
        + report.markdown_table(("objective", "period", "target", "budget left"), rows)
    )
    print(f"slo-gate --phase pre {cfg.name}: {verdict.verdict}: {verdict.reason}")
    if verdict.verdict == "fail":
        actions.error(verdict.reason, title=f"error budget spent: {cfg.name}")
    elif verdict.verdict == "inconclusive":
        actions.warning(verdict.reason, title=f"error budget unknown: {cfg.name}")
    elif exemption:
        actions.warning(verdict.reason, title="deploying under an error-budget exemption")
    return verdict.verdict
