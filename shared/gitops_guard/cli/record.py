"""`gitops-guard record`: write a workflow run's GitHub Deployment records.

Reads the record job's ``needs`` context (``toJSON(needs)``) and the evidence
files (argocd-wait's and the SLO gate's JSON reports), asks
:mod:`gitops_guard.observe.records` which deployments to record and with which
facts, creates them through :mod:`gitops_guard.github` (deployment, then its
status) and writes the job summary. Exit 0 when every record was written; 2 when
GitHub refused the token (``deployments: write`` missing) or an input is bad; 3 when
GitHub could not be reached. Every record is tried before the first failure is
reported, and the summary is written either way.

The token comes from ``GITHUB_TOKEN``; this module must not decide the records.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from gitops_guard import actions, credentials, errors, github, report
from gitops_guard.cli import timeout
from gitops_guard.observe import notifications, records, traces
from gitops_guard.prometheus import pushgateway

HELP = "Record a deploy or rollback as GitHub Deployments, with immutable facts."

TOKEN_ENV = "GITHUB_TOKEN"  # noqa: S105 (a variable name, not a secret)
ARGOCD_REPORT = "argocd-wait.json"
GATE_REPORT = "gitops-guard-gate.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``record``."""
    parser.add_argument(
        "workflow",
        choices=("deploy", "rollback"),
        help="deploy: a gitops-deploy run (deploy and rollback records); "
        "rollback: a by-hand rollback.yml run",
    )
    parser.add_argument("--environment", required=True, help="the GitHub environment name")
    parser.add_argument(
        "--needs",
        required=True,
        metavar="JSON",
        help="the record job's needs context, as toJSON(needs) prints it",
    )
    parser.add_argument(
        "--repository", help="OWNER/NAME to record in (default: $GITHUB_REPOSITORY)"
    )
    parser.add_argument("--ref", required=True, help="the application commit deployed")
    parser.add_argument("--environment-url", default="", help="shown on the Environments page")
    parser.add_argument("--reason", default="", help="why (by-hand rollbacks)")
    parser.add_argument(
        "--evidence",
        metavar="DIR",
        help=f"folder with {ARGOCD_REPORT} and {GATE_REPORT}: synced_at and verdict_at",
    )
    for fact in ("committed-at", "promoted-at", "synced-at", "verdict-at", "restored-at"):
        parser.add_argument(
            f"--{fact}", default="", metavar="TIME", help="ISO 8601 time (or epoch seconds)"
        )
    parser.add_argument("--promote-mode", default="", help="for the summary")
    parser.add_argument("--rollback-mode", default="", help="for the summary")
    parser.add_argument("--gitops-repository", default="", help="for the summary")
    parser.add_argument("--argocd-app", default="", help="for the summary")
    parser.add_argument(
        "--pushgateway-url",
        default="",
        help="push the last-state gauges here (grouping key job/environment/app)",
    )
    parser.add_argument("--app", default="", help="the app label of the gauges and notifications")
    parser.add_argument(
        "--stage",
        action="append",
        default=[],
        metavar="NAME=SECONDS",
        help="a pipeline stage's duration, for the gauges (repeatable; NAME= with no "
        "seconds is a stage that did not run, and is left out)",
    )
    parser.add_argument(
        "--otlp-endpoint",
        default=os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
        help="export the run's spans here over OTLP/HTTP (needs the otel extra)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the records, call nothing (no token needed)"
    )
    parser.add_argument("--report", metavar="FILE", help="write the records as JSON")
    timeout.add_flag(parser, what="the GitHub writes")


def _needs(text: str) -> records.Needs:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise errors.InputError(
            f"is not JSON ({exc.msg} at character {exc.pos})",
            source="--needs",
            hint="Pass the job's needs context with toJSON(needs) through env:.",
        ) from exc
    if not isinstance(value, dict):
        raise errors.InputError("is not a JSON object of jobs", source="--needs")
    return records.Needs(value)


def _time(value: str, flag: str) -> str | None:
    if not value.strip():
        return None
    try:
        return records.iso(records.parse_time(value))
    except ValueError as exc:
        raise errors.InputError(str(exc), source=flag) from exc


def _evidence(folder: str | None, name: str) -> dict[str, Any]:
    if not folder:
        return {}
    path = Path(folder) / name
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        actions.warning(f"{path} was not read ({type(exc).__name__}); its times are left out")
        return {}
    return data if isinstance(data, dict) else {}


def _facts(args: argparse.Namespace, needs: records.Needs) -> records.Facts:
    """Each instant from its flag, else the job output that wrote it (``needs``), else
    (synced_at, verdict_at) the evidence reports."""
    argocd = _evidence(args.evidence, ARGOCD_REPORT)
    gate = _evidence(args.evidence, GATE_REPORT)
    written = records.instants(needs)

    def pick(fact: str) -> str | None:
        flag = "--" + fact.replace("_", "-")
        given = _time(getattr(args, fact), flag)
        if given or fact not in written:
            return given
        job, name = records.INSTANT_OUTPUTS.get(fact, (records.reverter(needs), "restored-at"))
        return _time(written[fact], f"--needs: {job}.outputs.{name}")

    return records.Facts(
        committed_at=_time(args.committed_at, "--committed-at"),
        promoted_at=pick("promoted_at"),
        synced_at=pick("synced_at") or records.synced_at(argocd),
        verdict_at=pick("verdict_at") or records.verdict_at(gate),
        restored_at=pick("restored_at"),
    )


def _stages(pairs: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if sep and name.strip() and not value.strip():
            continue  # NAME= : the stage did not run in this workflow run
        try:
            seconds = float(value)
        except ValueError:
            seconds = -1.0
        if not sep or not name.strip() or seconds < 0:
            raise errors.InputError(f"{pair!r} is not NAME=SECONDS", source="--stage")
        out[name.strip()] = seconds
    return out


def _seconds(value: str | None) -> float | None:
    return records.parse_time(value).timestamp() if value else None


def last_state(
    planned: list[records.Record], facts: records.Facts, stages: dict[str, float], now: float
) -> pushgateway.LastState:
    """The gauges this run knows (the rest stay as pushed before)."""
    deploy = next((r for r in planned if r.task == records.TASK_DEPLOY), None)
    rollback = next((r for r in planned if r.task == records.TASK_ROLLBACK), None)
    deploy_at = verdict = verdict_at = lead = rollback_at = None
    if deploy is not None and deploy.payload.get("gitops_commit"):
        deploy_at = _seconds(facts.promoted_at) or now
        verdict = deploy.payload.get("verdict") or None
        verdict_at = _seconds(facts.verdict_at) if verdict else None
        committed, synced = _seconds(facts.committed_at), _seconds(facts.synced_at)
        if committed is not None and synced is not None and synced >= committed:
            lead = synced - committed
    if rollback is not None and rollback.state in ("success", "failure"):
        rollback_at = _seconds(facts.restored_at) or now
    return pushgateway.LastState(
        deploy_at=deploy_at,
        verdict=verdict,
        verdict_at=verdict_at,
        rollback_at=rollback_at,
        lead_time_seconds=lead,
        stage_seconds=stages,
    )


def _event(record: records.Record, environment: str, app: str) -> notifications.Event:
    payload = record.payload
    verdict = str(payload.get("verdict") or "")
    kind: notifications.Kind = "deploy"
    if record.task == records.TASK_ROLLBACK:
        kind = "rollback"
    elif verdict:
        kind = "verdict"
    return notifications.Event(
        kind=kind,
        environment=environment,
        state=record.state,
        description=record.description,
        app=app,
        image=str(payload.get("image") or ""),
        commit=str(payload.get("gitops_commit") or ""),
        verdict=verdict,
        run_url=actions.run_url() or "",
        facts={k: payload.get(k) for k in records.FACT_KEYS if payload.get(k) is not None},
    )


def _tell(
    args: argparse.Namespace, planned: list[records.Record], state: pushgateway.LastState
) -> list[str]:
    """Gauges and notifications: best effort, a failure is a warning (never exit != 0)."""
    notes: list[str] = []
    if args.pushgateway_url:
        settings = pushgateway.PushSettings(
            url=args.pushgateway_url, token=credentials.pushgateway_token()
        )
        try:
            pushgateway.push(state, environment=args.environment, app=args.app, settings=settings)
            notes.append("gauges pushed")
        except errors.GitopsGuardError as exc:
            actions.warning(
                f"{exc.message}; the gauges were not pushed. The deploy is not affected.",
                title="Pushgateway push failed",
            )
            notes.append("gauges NOT pushed")
    if args.otlp_endpoint:
        run = _trace(args, planned, state)
        if traces.export(run, endpoint=args.otlp_endpoint):
            notes.append(f"{len(run.steps) + 1} spans exported")
        elif run.steps:
            notes.append("spans NOT exported")
    notes.extend(
        notifications.tell([_event(record, args.environment, args.app) for record in planned])
    )
    return notes


def _trace(
    args: argparse.Namespace, planned: list[records.Record], state: pushgateway.LastState
) -> traces.Run:
    deploy = next((r for r in planned if r.task == records.TASK_DEPLOY), None)
    rollback = next((r for r in planned if r.task == records.TASK_ROLLBACK), None)
    gate = _evidence(args.evidence, GATE_REPORT)
    now = time.time()
    span = None
    if rollback is not None and rollback.state in ("success", "failure"):
        began = state.verdict_at or _seconds(records.verdict_at(gate)) or now
        ended = _seconds(rollback.payload.get("restored_at")) or now
        span = (min(began, ended), ended, "success" if rollback.state == "success" else "failure")
    steps = traces.steps_from_evidence(
        _evidence(args.evidence, ARGOCD_REPORT),
        gate,
        rollback=span,
        parse=lambda text: records.parse_time(text).timestamp(),
        commit=str((deploy.payload if deploy else {}).get("gitops_commit") or ""),
        image=str((deploy.payload if deploy else {}).get("image") or ""),
    )
    url = actions.run_url() or ""
    return traces.plan(
        pipeline="gitops-deploy" if args.workflow == "deploy" else "rollback",
        run_id=url.rsplit("/", 1)[-1] if url else "",
        run_url=url,
        environment=args.environment,
        app=args.app,
        steps=steps,
    )


def run(args: argparse.Namespace) -> str:
    """Decide the records, create them, write the summary; see the module docstring."""
    with timeout.overall(args):
        return _run(args)


def _run(args: argparse.Namespace) -> str:
    needs = _needs(args.needs)
    repository = args.repository or actions.repository()
    if not args.dry_run and not repository:
        raise errors.InputError(
            "no repository to record in",
            source="--repository",
            hint="Pass --repository OWNER/NAME.",
        )
    if not args.environment.strip():
        raise errors.InputError("is empty", source="--environment")
    facts = _facts(args, needs)
    # The stages' own durations, as their jobs wrote them; a --stage flag wins.
    written = [f"{stage}={value}" for stage, value in records.stage_outputs(needs).items()]
    stages = _stages(written) | _stages(args.stage)
    if args.workflow == "deploy":
        planned = records.for_deploy(needs, facts)
    else:
        planned = records.for_rollback(needs, facts, reason=args.reason)
    found = credentials.github_token(prefer=TOKEN_ENV)
    token = found.value if found else ""
    if planned and not args.dry_run and not token:
        raise errors.ConfigError(
            f"{TOKEN_ENV} is not set",
            source=TOKEN_ENV,
            hint="Pass the job's token (GITHUB_TOKEN: ${{ github.token }}) with "
            "permissions: deployments: write.",
        )
    settings = github.ApiSettings(
        token=token,
        token_env=found.source if found else TOKEN_ENV,
        api_url=github.api_url_from_env(),
    )
    recorded: list[str] = []
    ids: list[int | None] = []
    failure: errors.GitopsGuardError | None = None
    for record in planned:
        if args.dry_run:
            ids.append(None)
            recorded.append(f"{record.task}: {record.state} (dry run)")
            continue
        spec = github.DeploymentSpec(
            repository=str(repository),
            ref=args.ref,
            task=record.task,
            environment=args.environment,
            description=record.description,
            payload=record.payload,
            state=record.state,
            log_url=actions.run_url() or "",
            environment_url=args.environment_url,
        )
        try:
            deployment_id = github.create_deployment(spec, settings=settings)
        except errors.GitopsGuardError as exc:
            failure = failure or exc
            ids.append(None)
            continue
        ids.append(deployment_id)
        recorded.append(f"#{deployment_id} {record.task}: {record.state}")
    if not args.dry_run:
        state = last_state(planned, facts, stages, time.time())
        recorded += _tell(args, planned, state)
    context = records.RunContext(
        environment=args.environment,
        promote_mode=args.promote_mode,
        rollback_mode=args.rollback_mode,
        gitops_repository=args.gitops_repository,
        argocd_app=args.argocd_app,
    )
    if args.workflow == "deploy":
        summary = records.deploy_summary(needs, context, recorded, failure is not None)
    else:
        summary = records.rollback_summary(context, planned, failure is not None)
    print(actions.redact(summary))
    actions.append_summary(summary)
    if args.report:
        report.write_json(
            args.report,
            {
                "environment": args.environment,
                "records": [r.as_dict() | {"id": i} for r, i in zip(planned, ids, strict=True)],
                "failed": failure is not None,
            },
        )
    if failure is not None:
        raise failure
    return "succeeded"
