"""`gitops-guard render monitoring`: Prometheus rules, promtool tests and dashboards.

Loads the SLO file through the one loader (:mod:`gitops_guard.slo.config`), asks
:mod:`gitops_guard.observe.monitoring` (and :mod:`gitops_guard.observe.dashboards`)
for the files, and writes them under ``--out``. Every input is validated before
the first file is written: a bad SLO file or threshold is exit 2 with nothing
written. An SLO file without burn-rate objectives still renders the deployment
alerts. This module must not build rules itself.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gitops_guard import durations, errors
from gitops_guard.observe import dashboards, monitoring
from gitops_guard.slo import config

HELP = "Render Prometheus rules, promtool tests and dashboards from an SLO file."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``render``."""
    parser.add_argument("what", choices=("monitoring",), help="what to render")
    parser.add_argument("--config", required=True, help="the SLO file (slo.yaml)")
    parser.add_argument("--out", required=True, help="folder to write the files under")
    parser.add_argument("--var", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--argocd-app", default="", help="only this ArgoCD Application")
    parser.add_argument("--rollbacks-per-day", type=int, default=3, metavar="N")
    parser.add_argument("--lead-time", default="1d", help="lead time alert threshold")
    parser.add_argument("--pipeline-duration", default="30m", help="stage duration threshold")
    parser.add_argument("--stale-after", default="7d", help="pushed gauges older than this")
    parser.add_argument("--argocd-not-healthy-for", default="10m")
    parser.add_argument("--namespace", default="monitoring", help="of the PrometheusRule objects")


def _seconds(text: str, flag: str) -> float:
    return durations.parse_duration(text, source=flag, minimum=1.0)


def settings_from(args: argparse.Namespace) -> monitoring.Settings:
    """The thresholds, validated."""
    if args.rollbacks_per_day < 1:
        raise errors.InputError("must be 1 or more", source="--rollbacks-per-day")
    _seconds(args.argocd_not_healthy_for, "--argocd-not-healthy-for")
    return monitoring.Settings(
        rollbacks_per_day=args.rollbacks_per_day,
        lead_time_seconds=_seconds(args.lead_time, "--lead-time"),
        pipeline_stage_seconds=_seconds(args.pipeline_duration, "--pipeline-duration"),
        stale_seconds=_seconds(args.stale_after, "--stale-after"),
        argocd_app=args.argocd_app,
        argocd_not_healthy_for=durations.format_duration(
            _seconds(args.argocd_not_healthy_for, "--argocd-not-healthy-for")
        ),
        namespace=args.namespace,
    )


def files(args: argparse.Namespace) -> dict[str, str]:
    """Every rendered file by relative path (nothing written)."""
    cfg = config.load(args.config, overrides=config.parse_overrides(args.var))
    return monitoring.render(cfg, settings_from(args)) | dashboards.render(cfg)


def run(args: argparse.Namespace) -> str:
    """Validate, render, write; print what was written."""
    rendered = files(args)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise errors.InputError(f"{out} exists and is not a folder", source="--out")
    for relative, text in sorted(rendered.items()):
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path)
    return "succeeded"
