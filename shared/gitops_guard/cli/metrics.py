"""`gitops-guard metrics`: the five DORA metrics from the GitOps history (and records).

Reads the GitOps checkout's history (:mod:`gitops_guard.observe.history`), with
``--github-repository`` and ``GITHUB_TOKEN`` also the GitHub Deployment records that
``gitops-guard record`` wrote, computes the metrics (:mod:`gitops_guard.observe.dora`)
and prints them as a table, JSON or a self-contained HTML page; inside a runner it
also writes the job summary with Mermaid charts.

Exit 0 with a report (an empty one says why); 2 for a period that does not parse, a
directory that is not a checkout, a history without gitops-guard trailers or an
environment no commit belongs to; 3 when GitHub could not be reached.
This module must not compute anything itself.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from gitops_guard import actions, credentials, durations, errors, github, gitops, report
from gitops_guard.cli import timeout
from gitops_guard.observe import dora, history, records, render

HELP = "DORA metrics (2024) of an environment from the GitOps history and deployment records."

TOKEN_ENV = "GITHUB_TOKEN"  # noqa: S105 (a variable name, not a secret)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``metrics``."""
    parser.add_argument("--dir", required=True, help="a checkout of the GitOps repository")
    parser.add_argument(
        "--environment",
        help="only commits of this environment (a folder or file named so, or its records)",
    )
    parser.add_argument(
        "--since", default="30d", help="the period, ending now: 30d, 12w, 1y (default 30d)"
    )
    parser.add_argument(
        "--until", default="", metavar="TIME", help="end of the period (ISO 8601; default now)"
    )
    parser.add_argument("--format", choices=("table", "json", "html"), default="table")
    parser.add_argument("--out", metavar="FILE", help="write the table/JSON/HTML here")
    parser.add_argument("--report", metavar="FILE", help="also write the JSON report here")
    timeout.add_flag(parser, what="the GitHub reads")
    parser.add_argument("--revision", default="HEAD", help="history to read (default HEAD)")
    parser.add_argument(
        "--github-repository",
        metavar="OWNER/NAME",
        help="the application repository whose GitHub Deployments add synced_at, "
        "verdicts and lead times (token in GITHUB_TOKEN)",
    )


def _period(args: argparse.Namespace) -> tuple[float, float]:
    seconds = durations.parse_duration(
        args.since, source="--since", allow_number=False, minimum=1.0
    )
    try:
        end = records.parse_time(args.until).timestamp() if args.until else time.time()
    except ValueError as exc:
        raise errors.InputError(str(exc), source="--until") from exc
    return end - seconds, end


def _deployments(args: argparse.Namespace) -> list[dict[str, Any]] | None:
    if not args.github_repository:
        return None
    found = credentials.github_token(prefer=TOKEN_ENV)
    token = found.value if found else ""
    if not token:
        raise errors.ConfigError(
            f"{TOKEN_ENV} is not set",
            source=TOKEN_ENV,
            hint="Give a token that can read the repository's deployments, or drop "
            "--github-repository to use the GitOps history alone.",
        )
    settings = github.ApiSettings(
        token=token,
        token_env=found.source if found else TOKEN_ENV,
        api_url=github.api_url_from_env(),
    )
    seen = github.list_deployments(
        args.github_repository, settings=settings, environment=args.environment
    )
    return [{"environment": d.environment, "task": d.task, "payload": d.payload} for d in seen]


def run(args: argparse.Namespace) -> str:
    """Read, compute, print; see the module docstring for the exit codes."""
    start, end = _period(args)
    wc = gitops.open_checkout(args.dir)
    if wc.git("rev-parse", "--is-shallow-repository").strip() == "true":
        actions.warning(
            f"{wc.root} is a shallow clone: deploys before its first commit are not counted. "
            "Check it out with fetch-depth: 0.",
            title="Shallow history",
        )
    commits = history.read(wc, args.revision)
    if not history.has_trailers(commits):
        raise errors.InputError(
            f"no commit of {wc.root} carries gitops-guard trailers (Gitops-Guard-Action)",
            source="--dir",
            hint="Point --dir at the GitOps repository update-manifest commits to, "
            "checked out with its history (actions/checkout with fetch-depth: 0).",
        )
    with timeout.overall(args):
        deployments = _deployments(args)
    events = history.events(commits, deployments or (), environment=args.environment)
    if args.environment and not events:
        raise errors.InputError(
            f"no deploy commit of {wc.root} belongs to environment {args.environment!r}",
            source="--environment",
            hint="Name a folder or file of the GitOps repository that deploys change "
            "(envs/production/... -> production), or the environment of its records.",
        )
    metrics = dora.compute(events, start=start, end=end)
    data = render.as_json(
        metrics,
        environment=args.environment,
        since=args.since,
        sources={
            "git_commits": len(commits),
            "github_deployments": None if deployments is None else len(deployments),
        },
    )
    if args.format == "json":
        text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    elif args.format == "html":
        text = render.page(data)
    else:
        text = render.table(data) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if args.report:
        report.write_json(args.report, data)
    actions.append_summary(render.summary(data))
    return "succeeded"
