"""`gitops-guard argocd-wait`: wait until ArgoCD runs exactly our commit and it is Healthy.

Translates flags (or action inputs) into an :class:`~gitops_guard.argocd.client.ArgoClient`
and a call of :func:`gitops_guard.argocd.wait.wait_for_revision`, then prints the
timeline, writes the JSON report, outputs and job summary, and turns the outcome into
an exit code: 0 done; 1 sync failed, Degraded past the grace period, timed out;
2 bad input, rejected token, unknown app; 3 ArgoCD unreachable.

The one piece of I/O here besides the client is ``git merge-base --is-ancestor`` for
``--repo``. This module must not decide anything about the app: ``argocd.wait`` does.
"""

from __future__ import annotations

import argparse
import logging
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from gitops_guard import actions, credentials, errors, http, report
from gitops_guard.argocd import client as argo_client
from gitops_guard.argocd import wait
from gitops_guard.cli import InputSpec, checks

log = logging.getLogger(__name__)

HELP = "Wait until ArgoCD runs exactly a revision and it is Healthy."

INPUTS = (
    InputSpec("argocd-server", "--server"),
    InputSpec("argocd-app", "--app", "items"),
    InputSpec("argocd-selector", "--selector"),
    InputSpec("revision", "--revision"),
    InputSpec("timeout", "--timeout"),
    InputSpec("argocd-app-namespace", "--app-namespace"),
    InputSpec("argocd-sync", "--sync", "bool"),
    InputSpec("argocd-insecure", "--insecure", "bool"),
    InputSpec("argocd-ca-bundle", "--ca-bundle"),
    InputSpec("argocd-degraded-grace", "--degraded-grace"),
    InputSpec("argocd-poll-interval", "--poll-interval"),
    InputSpec("argocd-no-stream", "--no-stream", "bool"),
    InputSpec("argocd-source-position", "--source-position"),
    InputSpec("gitops-dir", "--repo"),
    InputSpec("argocd-report", "--report"),
)
"""Action inputs (kebab-case) -> flags; see docs/argocd-wait.md."""

LAST_READ_GRACE_SECONDS = 2.0
"""Requests may run this long past ``--timeout``: the last poll, sent at the timeout,
gets time to answer, so a slow last answer reads as "timed out" (1), and a server that
does not answer at all as "unreachable" (3)."""

_SHA = re.compile(r"^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$")

_RESULT_TITLES = {
    "done": "✅ ArgoCD runs the revision",
    "sync-failed": "❌ ArgoCD's sync failed",
    "degraded": "❌ The application stayed Degraded",
    "timed-out": "⏱️ Timed out waiting for ArgoCD",
    "unreachable": "⚠️ ArgoCD became unreachable",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``argocd-wait``."""
    parser.add_argument(
        "--server",
        # Checked in run(): the value may come from ARGOCD_SERVER instead.
        help="ArgoCD API server URL (default: $ARGOCD_SERVER, as the argocd CLI)",
    )
    parser.add_argument(
        "--app",
        action="append",
        default=[],
        type=checks.nonempty_arg("--app"),
        help="ArgoCD application name; repeat it to wait for several (docs/canary.md)",
    )
    parser.add_argument(
        "--selector",
        metavar="KEY=VALUE",
        help="wait for every application with these labels (ApplicationSet-generated apps)",
    )
    parser.add_argument("--revision", required=True, help="the commit SHA to wait for")
    parser.add_argument(
        "--timeout",
        type=checks.duration_arg("--timeout"),
        default=600.0,
        help="give up after this long (seconds or a duration: 90s, 10m, 1h30m; default 600)",
    )
    parser.add_argument(
        "--repo",
        metavar="DIR",
        help="a checkout of the GitOps repo: accept a later commit that contains --revision",
    )
    parser.add_argument(
        "--sync", action="store_true", help="sync our revision when auto-sync is off"
    )
    parser.add_argument("--insecure", action="store_true", help="skip TLS verification")
    parser.add_argument(
        "--ca-bundle",
        metavar="FILE",
        type=checks.ca_bundle_arg("--ca-bundle"),
        help="PEM CA bundle for the server",
    )
    parser.add_argument("--app-namespace", metavar="NS", help="the application's namespace")
    parser.add_argument(
        "--report",
        metavar="FILE",
        type=checks.report_arg("--report"),
        help="write the JSON report here",
    )
    parser.add_argument(
        "--degraded-grace",
        type=checks.duration_arg("--degraded-grace", allow_zero=True),
        default=60.0,
        help="tolerate Degraded at our revision this long (default 60s)",
    )
    parser.add_argument(
        "--poll-interval",
        type=checks.duration_arg("--poll-interval", minimum=0.1),
        default=2.0,
        help="seconds between polls (default 2: 30 requests a minute)",
    )
    parser.add_argument(
        "--refresh-interval",
        type=checks.duration_arg("--refresh-interval", minimum=0.1),
        default=30.0,
        help="while ArgoCD is not at our revision, ask it to refresh this often (default 30s)",
    )
    parser.add_argument(
        "--no-stream", action="store_true", help="poll only; do not watch the stream endpoint"
    )
    parser.add_argument(
        "--attempts",
        type=checks.int_arg("--attempts", minimum=1, maximum=100),
        default=4,
        help="tries per request on connect errors, timeouts and 5xx (default 4)",
    )
    parser.add_argument(
        "--source-position",
        type=checks.int_arg("--source-position", minimum=1),
        metavar="N",
        help="multi-source apps: the 1-based position of the GitOps source (default: any)",
    )


# ---------------------------------------------------------------- git ancestry
def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )


def _check_repo(repo_arg: str) -> Path:
    repo = Path(repo_arg)
    if not repo.is_dir() or _git(repo, "rev-parse", "--git-dir").returncode != 0:
        raise errors.InputError(
            f"{repo_arg!r} is not a git checkout",
            source="--repo",
            hint="Pass the directory of a clone of the GitOps repository (fetched to its tip).",
        )
    return repo


def git_contains(repo: Path) -> Callable[[str, str], bool]:
    """``contains(ours, other)``: True when commit ``other`` contains ``ours`` (in ``repo``)."""

    def contains(ours: str, other: str) -> bool:
        done = _git(repo, "merge-base", "--is-ancestor", ours, other)
        if done.returncode not in (0, 1):
            log.debug("ancestry of %s unknown in %s: %s", other, repo, done.stderr.strip())
        return done.returncode == 0

    return contains


def _resolve_revision(text: str, repo: Path | None) -> str:
    value = text.strip()
    if _SHA.match(value):
        return value.lower()
    if repo is not None and value:
        done = _git(repo, "rev-parse", "--verify", "--quiet", f"{value}^{{commit}}")
        if done.returncode == 0 and _SHA.match(done.stdout.strip()):
            return done.stdout.strip().lower()
    raise errors.InputError(
        f"{text!r} is not a full commit SHA"
        + (" and is not a commit in --repo" if repo is not None else ""),
        source="--revision",
        hint="Pass the full 40-character SHA of the deploy commit (git rev-parse HEAD); "
        "ArgoCD reports full SHAs.",
    )


# ---------------------------------------------------------------- rendering
def _line(entry: wait.TimelineEntry) -> str:
    parts = [
        f"[{entry.elapsed_seconds:7.1f}s]",
        f"rev={wait.short(entry.revision)}",
        f"sync={entry.sync or '-'}",
        f"health={entry.health or '-'}",
        f"op={entry.operation_phase or '-'}",
    ]
    if entry.message:
        parts.append(f"({entry.message})")
    return " ".join(parts) + f": {entry.note}"


def render_summary(result: wait.WaitResult, *, server: str) -> str:
    """The Markdown job summary: a headline, the reason and the timeline table."""
    title = _RESULT_TITLES.get(result.outcome, result.outcome)
    lines = [
        f"### {title}: `{result.app_name}` @ `{wait.short(result.expected_revision)}`",
        "",
        f"**{result.outcome}**: {result.reason}",
        "",
        f"Server {server}; {result.elapsed_seconds:.1f}s, {result.requests} requests "
        f"({result.mode}); synced revision `{result.synced_revision or '-'}`, "
        f"health {result.health or '-'}.",
        "",
    ]
    rows = [
        (
            f"{e.elapsed_seconds:.1f}s",
            e.at,
            wait.short(e.revision),
            e.sync or "",
            e.health or "",
            e.operation_phase or "",
            e.message or "",
            e.note,
        )
        for e in result.timeline
    ]
    headers = ("after", "time", "revision", "sync", "health", "operation", "ArgoCD says", "reading")
    lines.append(report.markdown_table(headers, rows))
    return "\n".join(lines)


def _outputs(result: wait.WaitResult, report_path: str | None) -> dict[str, object]:
    return {
        "result": result.outcome,
        "synced-revision": result.synced_revision or "",
        "health": result.health or "",
        "sync-status": result.sync_status or "",
        "operation-phase": result.operation_phase or "",
        "elapsed-seconds": f"{result.elapsed_seconds:.1f}",
        "synced-at": result.done_at or "",
        "report-path": report_path or "",
    }


_HINTS = {
    "sync-failed": "Look at the sync result in ArgoCD (argocd app get {app} --show-operation); "
    "the deploy commit is bad or the cluster refused it.",
    "degraded": "Look at the unhealthy resources (argocd app get {app}); raise --degraded-grace "
    "if the app needs longer to settle.",
    "timed-out": "Check the last state above; raise --timeout if ArgoCD needs longer, or pass "
    "--sync when auto-sync is off.",
    "unreachable": "ArgoCD stopped answering while we waited; the wait can be re-run safely.",
}
"""What to do next, per outcome other than ``done``."""


def timing_of(args: argparse.Namespace) -> wait.Timing:
    """The wait's timing from ``--timeout``, ``--degraded-grace`` and the intervals."""
    return wait.Timing(
        timeout_seconds=args.timeout,
        degraded_grace_seconds=args.degraded_grace,
        poll_interval_seconds=max(0.1, args.poll_interval),
        refresh_interval_seconds=args.refresh_interval,
    )


def client_of(
    args: argparse.Namespace,
    server_url: str,
    *,
    token: str | credentials.Token | None,
    deadline: http.Deadline,
) -> argo_client.ArgoClient:
    """The one ArgoCD client of a wait, from the connection flags."""
    return argo_client.ArgoClient(
        server_url,
        token=token,
        deadline=deadline,
        insecure=args.insecure,
        ca_bundle=args.ca_bundle,
        app_namespace=args.app_namespace,
        attempts=args.attempts,
    )


def _announce_outcome(result: wait.WaitResult, *, app: str) -> None:
    """The two channels for an outcome that is not ``done``: annotation and log."""
    hint = _HINTS.get(result.outcome, "").format(app=app)
    title = _RESULT_TITLES.get(result.outcome, result.outcome)
    actions.error(f"{app}: {result.reason} {hint}".strip(), title=title)


# ---------------------------------------------------------------- run
def run(args: argparse.Namespace) -> str:
    """Wait, report, and return the wait's outcome (``done``, ``timed-out``...)."""
    apps = list(args.app or [])
    if not apps and not args.selector:
        raise errors.InputError(
            "name the application (--app NAME) or select several (--selector KEY=VALUE)",
            source="--app",
        )
    if args.selector or len(apps) > 1:
        from gitops_guard.cli import argocd_many

        return argocd_many.run(args, apps)
    args.app = apps[0]
    deadline = http.Deadline(
        args.timeout + LAST_READ_GRACE_SECONDS,
        source=f"--timeout {args.timeout:g}s + {LAST_READ_GRACE_SECONDS:g}s for the last answer",
    )
    token = credentials.argocd_token()
    repo = _check_repo(args.repo) if args.repo else None
    revision = _resolve_revision(args.revision, repo)
    server_arg = args.server or credentials.argocd_server() or ""
    if server_arg and not args.server:  # ARGOCD_SERVER: the same check, named as such
        checks.check_url(server_arg, "ARGOCD_SERVER", default_scheme="https")
    server_url = argo_client.normalize_server(server_arg)
    server = argo_client.display_server(server_url)
    if not token and server == server_url:
        actions.warning(
            f"{' and '.join(credentials.ARGOCD_VARS)} are not set: calling ArgoCD without a token",
            title="No ArgoCD token",
        )
    timing = timing_of(args)
    expected = wait.Expectation(revision=revision, source_position=args.source_position)
    actions.info(
        f"waiting for ArgoCD app {args.app!r} at {server} to run {revision} "
        f"(timeout {timing.timeout_seconds:g}s)"
    )
    try:
        with client_of(args, server_url, token=token, deadline=deadline) as argo:
            result = wait.wait_for_revision(
                argo,
                app_name=args.app,
                expected=expected,
                timing=timing,
                sync=args.sync,
                stream=not args.no_stream,
                contains=git_contains(repo) if repo is not None else None,
                on_entry=lambda entry: actions.info(_line(entry)),
            )
    except errors.GitopsGuardError as exc:
        outcome = "unreachable" if isinstance(exc, errors.Undecided) else "error"
        actions.set_outputs({"result": outcome, "report-path": args.report or ""})
        if args.report:
            report.write_json(
                args.report,
                {
                    "result": outcome,
                    "reason": exc.message,
                    "app": args.app,
                    "server": server,
                    "expected_revision": revision,
                    "timeline": [],
                },
            )
        raise
    data = {"server": server, **result.to_report()}
    if args.report:
        report.write_json(args.report, data)
    actions.set_outputs(_outputs(result, args.report))
    actions.append_summary(render_summary(result, server=server))
    actions.info(
        f"{result.outcome}: {result.reason} "
        f"({result.elapsed_seconds:.1f}s, {result.requests} requests, {result.mode})"
    )
    if result.outcome != "done":
        _announce_outcome(result, app=args.app)
    return result.outcome
