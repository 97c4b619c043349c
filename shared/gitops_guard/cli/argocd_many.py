"""``argocd-wait --selector KEY=VALUE`` (or ``--app`` repeated): many applications, one verdict.

A helper of :mod:`gitops_guard.cli.argocd_wait` (not a subcommand of its own): one
:class:`~gitops_guard.argocd.client.ArgoClient`, :func:`gitops_guard.argocd.many.
wait_for_many`, then a line per application, the JSON report, the outputs (``result``,
``failed-apps``, ``apps``) and a job summary table. The outcome is the wait's:
``done`` 0; ``sync-failed``, ``degraded``, ``timed-out`` 1 (naming the apps that did
not make it); ``unreachable`` 3; a selector that matches nothing is exit 2.
"""

from __future__ import annotations

import argparse

from gitops_guard import actions, credentials, http, report
from gitops_guard.argocd import client as argo_client
from gitops_guard.argocd import many, wait


def run(args: argparse.Namespace, apps: list[str]) -> str:
    """Wait for every selected app at ``--revision``; return the overall outcome."""
    from gitops_guard.cli import argocd_wait

    deadline = http.Deadline(args.timeout + argocd_wait.LAST_READ_GRACE_SECONDS, source="--timeout")
    repo = argocd_wait._check_repo(args.repo) if args.repo else None
    revision = argocd_wait._resolve_revision(args.revision, repo)
    server_url = argo_client.normalize_server(args.server or credentials.argocd_server() or "")
    server = argo_client.display_server(server_url)
    timing = argocd_wait.timing_of(args)
    expected = wait.Expectation(revision=revision, source_position=args.source_position)
    what = f"selector {args.selector}" if args.selector else ", ".join(apps)
    actions.info(
        f"waiting for the ArgoCD apps of {what} at {server} to run {revision} "
        f"(timeout {timing.timeout_seconds:g}s)"
    )
    with argocd_wait.client_of(
        args, server_url, token=credentials.argocd_token(), deadline=deadline
    ) as argo:
        result = many.wait_for_many(
            argo,
            selector=args.selector,
            names=apps,
            expected=expected,
            timing=timing,
            on_final=lambda o: actions.info(f"  {o.name}: {o.outcome}: {o.reason}"),
        )
    data = {"server": server, "expected_revision": revision, **result.to_report()}
    if args.report:
        report.write_json(args.report, data)
    actions.set_outputs(
        {
            "result": result.outcome,
            "failed-apps": ",".join(result.failed),
            "apps": ",".join(a.name for a in result.apps),
            "elapsed-seconds": f"{result.elapsed_seconds:.1f}",
            "synced-at": result.done_at or "",
            "report-path": args.report or "",
        }
    )
    rows = [
        (a.name, a.outcome, wait.short(a.revision), a.health or "", a.reason) for a in result.apps
    ]
    actions.append_summary(
        f"### argocd-wait {what} @ `{wait.short(revision)}`: {result.outcome}\n\n"
        f"{result.reason}\n\n"
        + report.markdown_table(("app", "result", "revision", "health", "reason"), rows)
    )
    actions.info(f"{result.outcome}: {result.reason} ({result.requests} requests)")
    if result.outcome != "done":
        actions.error(result.reason, title=f"argocd-wait: {result.outcome}")
    return result.outcome
