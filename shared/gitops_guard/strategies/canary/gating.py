"""The canary's step gate, built from its settings: the SLO file's canary objectives.

:func:`slo_gate` returns the callable :mod:`.flow` drives: it loads the SLO file with
``${color}`` = the canary colour, ``${baseline_color}`` = the stable one,
``${version}`` and ``${baseline_version}`` (the two images' tags), ``${service}``
(and the caller's ``--var`` pairs), and judges the step with
:func:`gitops_guard.slo.canary.judge_step` on one Prometheus client. A Prometheus
that cannot be reached makes the step ``inconclusive``. The step's evidence is
written as JSON beside the report when a folder is given.

This module must not parse flags, and it decides nothing: slo.canary does.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gitops_guard import actions, errors, report
from gitops_guard.strategies.bluegreen import flow as bg_flow
from gitops_guard.strategies.bluegreen import steps as bg_steps
from gitops_guard.strategies.canary import flow


def slo_gate(
    *,
    config_path: str,
    prometheus_url: str,
    variables: Mapping[str, str],
    make_query: Callable[[Any], Any],
    report_dir: Path | None = None,
    query_timeout_seconds: float = 30.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Callable[[flow.StepGate], bg_flow.GateOutcome]:
    """The gate of one canary step (see the module docstring)."""
    from gitops_guard.prometheus import client as prom_client
    from gitops_guard.slo import canary, config

    token = os.environ.get(prom_client.TOKEN_ENV) or None
    actions.register_secret(token)

    def run(request: flow.StepGate) -> bg_flow.GateOutcome:
        overrides = {
            "service": request.service,
            "version": bg_steps._version(request.image),
            "baseline_version": bg_steps._version(request.stable_image),
            **variables,
            "color": request.canary,
            "baseline_color": request.stable,
        }
        cfg = config.load(config_path, overrides=overrides)
        with prom_client.PrometheusClient(
            prometheus_url, token=token, timeout_seconds=query_timeout_seconds
        ) as client:
            try:
                verdict = canary.judge_step(
                    cfg.canary,
                    cfg.analysis,
                    query=make_query(client),
                    intended_share=request.share,
                    clock=clock,
                    sleep=sleep,
                )
            except errors.DependencyUnavailable as exc:
                return bg_flow.GateOutcome("inconclusive", f"Prometheus unreachable: {exc.message}")
        data = {
            "step": request.step,
            "canary": request.canary,
            "stable": request.stable,
            "image": request.image,
            "verdict": verdict.verdict,
            "reason": verdict.reason,
            "looks": verdict.looks,
            "seconds": verdict.seconds,
            "objectives": [dataclasses.asdict(o) for o in verdict.objectives],
        }
        if report_dir is not None:
            report_dir.mkdir(parents=True, exist_ok=True)
            report.write_json(report_dir / f"gate-step-{request.step}.json", data)
        figures = {
            o.name: f"{o.canary_errors:.0f}/{o.canary_requests:.0f} vs "
            f"{o.stable_errors:.0f}/{o.stable_requests:.0f}"
            for o in verdict.objectives
        }
        reason = verdict.reason
        if verdict.verdict != "pass" and verdict.objectives:
            reason = f"{reason}\n{verdict.evidence()}"
        return bg_flow.GateOutcome(verdict.verdict, reason, figures, data)

    return run
