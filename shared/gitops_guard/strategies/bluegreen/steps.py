"""The blue-green flow's I/O steps, built from their settings: argocd-wait, the SLO gate,
the preview test. Each returns a callable the flow (:mod:`.flow`) drives.

* :func:`argocd_waiter`: ``gitops-guard argocd-wait`` on one commit (the same client
  and wait loop), as a :class:`~.flow.WaitOutcome`;
* :func:`slo_gate`: ``gitops-guard slo-gate`` with the colour as a variable
  (``${color}``, ``${baseline_color}``, ``${version}``, ``${service}``); the baseline
  colour is measured once by the same objectives for the side-by-side figures; the
  gate report is written when a folder is given;
* :func:`preview_test`: the caller's command with ``PREVIEW_SERVICE``,
  ``PREVIEW_COLOR``, ``PREVIEW_NAMESPACE`` set, its exit code and last output line.

This module must not parse flags, and it decides nothing: the gate and argocd-wait do.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path

from gitops_guard import actions, errors, report
from gitops_guard.argocd import client as argo_client
from gitops_guard.argocd import models as argo_models
from gitops_guard.argocd import wait
from gitops_guard.strategies.bluegreen import flow


def argocd_waiter(
    *,
    server: str,
    app: str,
    timeout_seconds: float,
    poll_seconds: float = 2.0,
    insecure: bool = False,
) -> Callable[[str], flow.WaitOutcome]:
    """Wait until ArgoCD app ``app`` runs a commit Synced and Healthy."""
    token = os.environ.get(argo_client.TOKEN_ENV) or None
    actions.register_secret(token)

    def run(sha: str) -> flow.WaitOutcome:
        timing = wait.Timing(
            timeout_seconds=timeout_seconds,
            poll_interval_seconds=max(0.1, poll_seconds),
            refresh_interval_seconds=max(1.0, poll_seconds),
        )
        with argo_client.ArgoClient(server, token=token, insecure=insecure) as argo:
            result = wait.wait_for_revision(
                argo,
                app_name=app,
                expected=wait.Expectation(revision=sha),
                timing=timing,
            )
        return flow.WaitOutcome(result.outcome, f"{result.outcome}: {result.reason}")

    return run


def argocd_spec(
    *, server: str, app: str, insecure: bool = False
) -> Callable[[], argo_models.ApplicationSpec]:
    """Read the Application's spec (sync policy, ignoreDifferences) once."""
    token = os.environ.get(argo_client.TOKEN_ENV) or None

    def read() -> argo_models.ApplicationSpec:
        with argo_client.ArgoClient(server, token=token, insecure=insecure) as argo:
            return argo.get_application(app).spec

    return read


def _version(image: str) -> str:
    tail = image.rsplit("/", 1)[-1]
    if "@" in tail:
        return tail.split("@", 1)[1][:19]
    return tail.split(":", 1)[1] if ":" in tail else "latest"


def slo_gate(
    *,
    config_path: str,
    prometheus_url: str,
    variables: Mapping[str, str],
    report_dir: Path | None = None,
    query_timeout_seconds: float = 30.0,
) -> Callable[[flow.GateRequest], flow.GateOutcome]:
    """The SLO gate for one colour; its verdict, and both colours' scores."""
    from gitops_guard.prometheus import client as prom_client
    from gitops_guard.slo import config, evidence, gate
    from gitops_guard.slo import run as slo_run

    token = os.environ.get(prom_client.TOKEN_ENV) or None
    actions.register_secret(token)

    def load(colour: str, baseline: str, image: str, request: flow.GateRequest) -> config.SloConfig:
        overrides = {
            "service": request.service,
            "version": _version(image),
            **variables,
            "color": colour,
            "baseline_color": baseline,
        }
        return config.load(config_path, overrides=overrides)

    def run(request: flow.GateRequest) -> flow.GateOutcome:
        cfg = load(request.colour, request.baseline, request.image, request)
        with prom_client.PrometheusClient(
            prometheus_url, token=token, timeout_seconds=query_timeout_seconds
        ) as client:
            query = slo_run.make_query(client, cfg)
            try:
                result = gate.run_gate(
                    cfg,
                    query=query,
                    clock=lambda: datetime.now(timezone.utc),
                    sleep=time.sleep,
                )
                base_cfg = load(
                    request.baseline,
                    request.colour,
                    request.baseline_image or request.image,
                    request,
                )
                base = gate.measure(
                    base_cfg, query, at=None, when=datetime.now(timezone.utc)
                ).verdict
            except errors.DependencyUnavailable as exc:
                return flow.GateOutcome("inconclusive", f"Prometheus unreachable: {exc.message}")
        data = evidence.build_report(cfg, result, {})
        if report_dir is not None:
            report_dir.mkdir(parents=True, exist_ok=True)
            report.write_json(report_dir / f"gate-{request.role}-{request.colour}.json", data)
        verdict = result.verdict
        figures = {
            request.colour: f"{verdict.verdict} {verdict.score:g}%",
            request.baseline: f"baseline {base.score:g}%",
        }
        return flow.GateOutcome(verdict.verdict, verdict.reason, figures, data)

    return run


def preview_test(
    command: str, *, service: str, namespace: str, timeout_seconds: float = 600.0
) -> Callable[[str], tuple[int, str]]:
    """Run ``command`` (split like a shell would, no shell) against the preview."""
    argv = shlex.split(command)
    if not argv:
        raise errors.InputError("the command is empty", source="--preview-test-command")

    def run(colour: str) -> tuple[int, str]:
        env = dict(os.environ)
        env.update(PREVIEW_SERVICE=service, PREVIEW_COLOR=colour, PREVIEW_NAMESPACE=namespace)
        try:
            done = subprocess.run(
                argv,
                env=env,
                capture_output=True,
                text=True,
                check=False,
                timeout=timeout_seconds,
            )
        except FileNotFoundError as exc:
            raise errors.InputError(
                f"cannot run {argv[0]!r}: {exc.strerror}", source="--preview-test-command"
            ) from exc
        except subprocess.TimeoutExpired:
            return 124, f"timed out after {timeout_seconds:g} s"
        lines = actions.redact(done.stdout + done.stderr).strip().splitlines()
        return done.returncode, lines[-1] if lines else ""

    return run
