"""OpenTelemetry spans of one pipeline run: deploy (ArgoCD wait), gate and rollback.

The spans are built after the fact from the run's evidence (argocd-wait's timeline,
the SLO gate report, the rollback record), so their times are the real ones, not
the time the record step ran: one ``cicd.pipeline.run`` root span and one child per
step that ran, with ``cicd.*`` and ``deployment.*`` attributes (OpenTelemetry
semantic conventions for CI/CD and deployments).

:func:`plan` is pure; :func:`export` sends the spans over OTLP/HTTP (protobuf) with
the official SDK, an optional extra (``pip install 'gitops-guard[otel]'``). Without
it, or when the collector is down, :func:`export` warns and returns False: traces
never fail a deploy.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitops_guard import actions

log = logging.getLogger(__name__)
SERVICE = "gitops-guard"


@dataclass(frozen=True)
class Step:
    """One span: a step with its real start and end (seconds since the epoch)."""

    name: str
    start: float
    end: float
    result: str
    """success, failure, error (cicd.pipeline.task.run.result)."""
    attributes: Mapping[str, str | int | float] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    """The run the spans belong to."""

    pipeline: str
    run_id: str
    run_url: str
    environment: str
    app: str
    steps: tuple[Step, ...]


def _first_last(timeline: Any) -> tuple[str, str] | None:
    if not isinstance(timeline, list) or not timeline:
        return None
    first, last = timeline[0], timeline[-1]
    if (
        isinstance(first, Mapping)
        and isinstance(last, Mapping)
        and first.get("at")
        and last.get("at")
    ):
        return str(first["at"]), str(last["at"])
    return None


def steps_from_evidence(
    argocd_report: Mapping[str, Any],
    gate_report: Mapping[str, Any],
    *,
    rollback: tuple[float, float, str] | None,
    parse: Any,
    commit: str = "",
    image: str = "",
) -> tuple[Step, ...]:
    """The steps the evidence shows: argocd-wait, slo-gate, rollback (start, end, result)."""
    out: list[Step] = []
    span = _first_last(argocd_report.get("timeline"))
    if span:
        result = "success" if argocd_report.get("result") == "done" else "failure"
        out.append(
            Step(
                "argocd-wait",
                parse(span[0]),
                parse(span[1]),
                result,
                {
                    "argocd.result": str(argocd_report.get("result") or ""),
                    "vcs.ref.head.revision": commit,
                },
            )
        )
    if gate_report.get("started_at") and gate_report.get("ended_at"):
        verdict = str(gate_report.get("verdict") or "")
        out.append(
            Step(
                "slo-gate",
                parse(str(gate_report["started_at"])),
                parse(str(gate_report["ended_at"])),
                "success" if verdict in ("pass", "warn") else "failure",
                {"gitops_guard.verdict": verdict, "container.image.name": image},
            )
        )
    if rollback is not None:
        start, end, result = rollback
        out.append(Step("rollback", start, end, result, {"gitops_guard.reverts": commit}))
    return tuple(out)


def attributes(run: Run, step: Step | None) -> dict[str, str | int | float]:
    """The span's attributes (semantic-convention names)."""
    attrs: dict[str, str | int | float] = {
        "cicd.pipeline.name": run.pipeline,
        "cicd.pipeline.run.id": run.run_id,
        "cicd.pipeline.run.url.full": run.run_url,
        "deployment.environment.name": run.environment,
        "deployment.name": run.app,
    }
    if step is not None:
        attrs |= {
            "cicd.pipeline.task.name": step.name,
            "cicd.pipeline.task.run.result": step.result,
            "deployment.status": "succeeded" if step.result == "success" else "failed",
        }
        attrs |= {k: v for k, v in step.attributes.items() if v != ""}
    return {k: v for k, v in attrs.items() if v != ""}


def export(run: Run, *, endpoint: str, timeout_seconds: float = 5) -> bool:
    """Send the run's spans to ``endpoint`` (OTLP/HTTP base URL); False and a warning on failure."""
    if not run.steps:
        return False
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
        from opentelemetry.trace import Status, StatusCode, set_span_in_context
    except ImportError:
        actions.warning(
            "traces were not exported: install the otel extra (pip install 'gitops-guard[otel]')",
            title="Traces not exported",
        )
        return False
    exporter = OTLPSpanExporter(
        endpoint=endpoint.rstrip("/") + "/v1/traces", timeout=int(timeout_seconds)
    )
    finished: list[Any] = []

    class _Collecting(SimpleSpanProcessor):
        """Keep the ended spans; they leave in one export (one retry window)."""

        def on_end(self, span: Any) -> None:
            finished.append(span)

    provider = TracerProvider(
        resource=Resource.create({"service.name": SERVICE}), shutdown_on_exit=False
    )
    provider.add_span_processor(_Collecting(exporter))
    tracer = provider.get_tracer("gitops_guard.observe.traces")

    def ns(t: float) -> int:
        return int(t * 1e9)

    start = min(s.start for s in run.steps)
    end = max(s.end for s in run.steps)
    worst = "success" if all(s.result == "success" for s in run.steps) else "failure"
    root = tracer.start_span(
        "cicd.pipeline.run", start_time=ns(start), attributes=attributes(run, None)
    )
    root.set_attribute("cicd.pipeline.result", worst)
    context = set_span_in_context(root)
    for step in run.steps:
        child = tracer.start_span(
            step.name, context=context, start_time=ns(step.start), attributes=attributes(run, step)
        )
        if step.result != "success":
            child.set_status(Status(StatusCode.ERROR, step.result))
        child.end(end_time=ns(step.end))
    root.end(end_time=ns(end))
    # The exporter logs each retry; our one warning below says it better.
    quiet = logging.getLogger("opentelemetry")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        result = exporter.export(finished)
    finally:
        exporter.shutdown()  # type: ignore[no-untyped-call]
        quiet.setLevel(level)
    if result == SpanExportResult.SUCCESS:
        return True
    actions.warning(
        f"traces were not exported to {endpoint}: the collector did not accept them. "
        "The deploy is not affected.",
        title="Traces not exported",
    )
    return False


def plan(
    *,
    pipeline: str,
    run_id: str,
    run_url: str,
    environment: str,
    app: str,
    steps: Sequence[Step],
) -> Run:
    """The run to export."""
    return Run(pipeline, run_id, run_url, environment, app, tuple(steps))
