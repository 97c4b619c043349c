"""`gitops-guard slo-gate`: judge SLOs in Prometheus: pass, warn, fail or inconclusive.

Parses the flags, calls the one flow :func:`gitops_guard.slo.run.run` (load,
measure, judge, history, report), and renders its outcome: human output, the
``--report`` JSON, ``$GITHUB_OUTPUT`` outputs (``verdict``, ``score``,
``report-path``, ``failed-objectives``, ``no-data-objectives``), a job summary
with a table and a Mermaid chart per objective, and annotations (``::error`` per
failing objective, ``::warning`` for warn and inconclusive). The verdict is the
outcome; :mod:`gitops_guard.cli.outcomes` maps it: 0 pass or warn, 1 fail, 3
inconclusive or Prometheus unreachable (a report saying ``inconclusive`` is still
written), 2 bad input. It decides nothing itself.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

from gitops_guard import actions, credentials, errors, report
from gitops_guard.cli import InputSpec, checks
from gitops_guard.slo import config, evidence, gate, models
from gitops_guard.slo import run as slo_run

HELP = "Judge SLOs in Prometheus: pass, warn, fail or inconclusive (exit 0/0/1/3)."

INPUTS = (
    InputSpec("config", "--config"),
    InputSpec("prometheus-url", "--prometheus-url"),
    InputSpec("vars", "--var", "lines"),
    InputSpec("report", "--report"),
    InputSpec("at", "--at"),
    InputSpec("once", "--once", "bool"),
    InputSpec("query-timeout", "--query-timeout"),
    InputSpec("history", "--history"),
    InputSpec("ca-bundle", "--ca-bundle"),
    InputSpec("insecure", "--insecure", "bool"),
    InputSpec("phase", "--phase"),
    InputSpec("exemptions", "--exemptions"),
    InputSpec("change-kind", "--change-kind"),
    InputSpec("apps-from", "--apps-from"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of slo-gate."""
    parser.add_argument("--config", metavar="FILE", required=True, help="the SLO file (slo.yaml)")
    parser.add_argument(
        "--prometheus-url",
        metavar="URL",
        type=checks.url_arg("--prometheus-url"),
        help="Prometheus base URL incl. any path prefix (bearer token from PROMETHEUS_TOKEN); "
        "required unless --check",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="only validate the SLO file, offline (every key, every PromQL query): exit 0 or 2",
    )
    parser.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set or override a ${KEY} variable of the SLO file (repeatable)",
    )
    parser.add_argument(
        "--report",
        metavar="FILE",
        type=checks.report_arg("--report"),
        help="write the JSON report here",
    )
    parser.add_argument(
        "--at",
        metavar="TIME",
        help="evaluate once at this instant (RFC 3339, e.g. 2026-01-01T00:30:00Z, or Unix "
        "seconds) instead of now; live mode is skipped",
    )
    parser.add_argument(
        "--once", action="store_true", help="measure once now even if analysis.duration is set"
    )
    parser.add_argument(
        "--phase",
        choices=("post", "pre"),
        default="post",
        help="post: judge a deployed version (default); pre: before deploying, refuse while "
        "an error budget is spent (docs/canary.md)",
    )
    parser.add_argument(
        "--exemptions",
        metavar="FILE",
        help="--phase pre: the exemptions file (.gitops-guard/exemptions.yaml in the GitOps "
        "repository)",
    )
    parser.add_argument(
        "--change-kind",
        default="deploy",
        help="--phase pre: the kind of change, matched against the exemptions' kinds",
    )
    many = parser.add_argument_group(
        "many applications: judge the SLO file once per app (docs/slo-gate.md#many-applications)"
    )
    many.add_argument(
        "--apps-from",
        metavar="FILE",
        help="the apps of this argocd-wait --report (--selector or --app repeated); each "
        "sets ${app}, ${namespace}, ${cluster}",
    )
    many.add_argument(
        "--app",
        action="append",
        default=[],
        type=checks.nonempty_arg("--app"),
        help="judge this ArgoCD application (repeatable); with --argocd-server its "
        "destination fills ${namespace} and ${cluster}",
    )
    many.add_argument(
        "--selector",
        metavar="KEY=VALUE",
        help="judge every ArgoCD application with these labels (needs --argocd-server)",
    )
    many.add_argument(
        "--argocd-server",
        metavar="URL",
        type=checks.url_arg("--argocd-server", default_scheme="https"),
        help="ArgoCD API server for --selector/--app (default: $ARGOCD_SERVER; token "
        "from ARGOCD_TOKEN)",
    )
    many.add_argument(
        "--argocd-insecure", action="store_true", help="skip ArgoCD's TLS verification"
    )
    parser.add_argument(
        "--query-timeout",
        metavar="SECONDS",
        type=checks.duration_arg("--query-timeout", maximum=3600.0),
        default=10.0,
        help="per-request timeout, seconds or a duration (10, 2s, 500ms); also sent to "
        "Prometheus as its query timeout, and bounds the ArgoCD list request of --app/--selector "
        "(default 10)",
    )
    parser.add_argument(
        "--history",
        metavar="DURATION",
        type=checks.duration_arg("--history", allow_zero=True),
        default=1800.0,
        help="when measuring once, also chart each objective over this period before the "
        "measurement (range query; not judged). 0 turns it off (default 30m)",
    )
    parser.add_argument(
        "--ca-bundle",
        metavar="FILE",
        type=checks.ca_bundle_arg("--ca-bundle"),
        help="CA bundle for an HTTPS Prometheus",
    )
    parser.add_argument(
        "--insecure", action="store_true", help="do not verify Prometheus's TLS certificate"
    )


def parse_time(text: str, *, source: str = "--at") -> datetime:
    """RFC 3339 (``Z`` or an offset) or Unix seconds -> an aware UTC datetime."""
    value = text.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        try:
            return datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (ValueError, OverflowError, OSError) as exc:
            raise errors.InputError(
                f"the time {text!r} is out of range",
                source=source,
                hint="Write Unix seconds between 0 and year 9999, or RFC 3339 such as "
                "2026-01-01T00:30:00Z.",
            ) from exc
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise errors.InputError(
            f"cannot read the time {text!r}",
            source=source,
            hint="Write RFC 3339 such as 2026-01-01T00:30:00Z, or Unix seconds.",
        ) from exc
    if parsed.tzinfo is None:
        raise errors.InputError(
            f"the time {text!r} has no timezone",
            source=source,
            hint="Add Z (UTC) or an offset such as +02:00.",
        )
    return parsed.astimezone(timezone.utc)


def _verify(args: argparse.Namespace) -> bool | str:
    if args.insecure:
        return False
    if args.ca_bundle:  # checked while parsing: a PEM bundle with a CA certificate
        return str(args.ca_bundle)
    return True


def _outputs(
    verdict_: str,
    score: float,
    report_path: str,
    failed: list[str],
    no_data: list[str],
    verdict_at: object = "",
) -> None:
    actions.set_outputs(
        {
            "verdict": verdict_,
            "verdict-at": str(verdict_at or ""),
            "score": f"{score:g}",
            "report-path": report_path,
            "failed-objectives": ",".join(failed),
            "no-data-objectives": ",".join(no_data),
        }
    )


def _announce(cfg: config.SloConfig, run: gate.GateRun, config_path: str) -> None:
    for r in run.results:
        line = f"  {r.state:8} {r.name}{' (key)' if r.key else ''}: {r.reason}"
        actions.info(line)
    for r in run.results:
        if r.state == "fail":
            actions.error(
                f"{r.name}: {r.reason}", title=f"SLO objective failed: {r.name}", file=config_path
            )
    v = run.verdict
    if v.verdict in ("warn", "inconclusive"):
        actions.warning(v.reason, title=f"SLO gate {cfg.name}: {v.verdict}", file=config_path)
    elif v.verdict == "fail":
        actions.error(v.reason, title=f"SLO gate {cfg.name}: fail", file=config_path)


_unreachable_report = slo_run.unreachable_report
"""Kept for callers of the old name."""


def _check(cfg: config.SloConfig, path: str) -> str:
    """``--check``: the file loaded (every key and query valid), so say what it holds."""
    queries = cfg.queries
    actions.info(
        f"{path}: valid SLO file {cfg.name!r}: {len(cfg.objectives)} objectives, "
        f"{len(queries)} PromQL queries parsed, {'live' if cfg.live else 'once'} mode"
    )
    return "succeeded"


def run(args: argparse.Namespace) -> str:
    """Call the slo-gate flow once and render its outcome; the verdict is the outcome."""
    overrides = config.parse_overrides(args.var)
    if not args.check and (args.apps_from or args.app or args.selector):
        from gitops_guard.cli import slo_many

        return slo_many.run(args, overrides)
    cfg = slo_run.load(args.config, overrides)
    if args.check:
        return _check(cfg, str(args.config))
    if args.phase == "pre":
        from gitops_guard.cli import slo_pre

        at = parse_time(args.at) if args.at else None
        return slo_pre.run(args, cfg, make_query=slo_run.make_query, verify=_verify(args), at=at)
    if not cfg.objectives:
        raise errors.InputError(
            "the SLO file holds canary objectives only: they compare a canary with its "
            "stable arm step by step",
            source=str(args.config),
            hint="Run it through `gitops-guard canary --slo-config FILE`, or add objectives "
            "(docs/canary.md).",
        )
    if not args.prometheus_url:
        raise errors.InputError(
            "a Prometheus URL is required to judge the SLOs",
            source="--prometheus-url",
            hint="Pass --prometheus-url URL, or --check to validate the file offline.",
        )
    request = slo_run.GateRequest(
        config_path=args.config,
        prometheus_url=args.prometheus_url,
        overrides=overrides,
        token=credentials.prometheus_token(),
        query_timeout_seconds=float(args.query_timeout),
        verify=_verify(args),
        at=parse_time(args.at) if args.at else None,
        once=args.once,
        history_seconds=float(args.history),
    )
    at = request.at

    def started(cfg: config.SloConfig, mode: str, base_url: str) -> None:
        actions.info(
            f"slo-gate {cfg.name}: {len(cfg.objectives)} objectives, {mode} mode, "
            f"Prometheus {base_url}" + (f", at {at.isoformat()}" if at else "")
        )

    def progress(m: models.Measurement) -> None:
        if slo_run.mode_of(cfg, request) == "live":
            actions.info(
                f"  measurement {m.index + 1} at {m.at:%H:%M:%S}: {m.verdict.verdict} "
                f"(score {m.verdict.score:g}%) {m.verdict.reason}"
            )

    done = slo_run.run(request, cfg=cfg, on_start=started, on_measurement=progress)
    return _render(args, done)


def _render(args: argparse.Namespace, done: slo_run.GateOutcome) -> str:
    """Report, outputs, summary and annotations of one gate run; its verdict."""
    report_path = str(args.report or "")
    if report_path:
        report.write_json(report_path, done.report)
    if done.run is None:  # Prometheus unreachable: inconclusive, and the error says why
        _outputs(
            "inconclusive",
            0.0,
            report_path,
            [],
            done.report["no_data_objectives"],
            done.report.get("ended_at"),
        )
        actions.append_summary(
            f"## ❔ SLO gate `{done.cfg.name}`: **inconclusive**\n\n{done.report['reason']}"
        )
        assert done.unreachable is not None
        raise done.unreachable
    result = done.run
    actions.info(evidence.one_line(result))
    _announce(done.cfg, result, str(args.config))
    actions.append_summary(evidence.summary_markdown(done.cfg, result, done.history))
    _outputs(
        result.verdict.verdict,
        result.verdict.score,
        report_path,
        list(result.verdict.failed),
        list(result.verdict.no_data),
        done.report.get("ended_at"),
    )
    return result.verdict.verdict
