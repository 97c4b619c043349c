"""OpenTelemetry spans of a run, received by a local OTLP/HTTP receiver written here.

Covers: `record deploy --otlp-endpoint` exports one cicd.pipeline.run root span and
the argocd-wait, slo-gate and rollback children, with their real times from the
evidence, cicd.* and deployment.* attributes and error status for failed steps;
the receiver decodes the protobuf the official exporter sends; a collector that is
down is a warning and record still exits 0.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import responses
from fakegithub import FakeGitHub

from gitops_guard import cli
from gitops_guard_lab import promstack

pb = pytest.importorskip("opentelemetry.proto.collector.trace.v1.trace_service_pb2")

NEEDS = json.dumps(
    {
        "promote": {
            "result": "success",
            "outputs": {"image": "ghcr.io/acme/web:1.4.2", "commit": "a" * 40},
        },
        "verify": {"result": "failure", "outputs": {"verdict": "fail", "argocd-result": "done"}},
        "rollback": {
            "result": "success",
            "outputs": {"commit": "b" * 40, "rolled-back-to": "web:1.4.1"},
        },
    }
)


class Collector:
    def __init__(self) -> None:
        self.requests: list[Any] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                assert self.path == "/v1/traces"
                assert self.headers["Content-Type"] == "application/x-protobuf"
                body = self.rfile.read(int(self.headers["Content-Length"]))
                message = pb.ExportTraceServiceRequest()
                message.ParseFromString(body)
                collector.requests.append(message)
                answer = pb.ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def spans(self) -> list[Any]:
        return [
            span
            for request in self.requests
            for resource in request.resource_spans
            for scope in resource.scope_spans
            for span in scope.spans
        ]


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    yield c
    c.server.shutdown()
    c.server.server_close()


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    for key, value in {
        "GITHUB_TOKEN": fake.token,
        "GITHUB_REPOSITORY": "acme/gitops",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "4242",
    }.items():
        monkeypatch.setenv(key, value)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps)
        rsps.add_passthru("http://127.0.0.1")
        yield fake


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    (tmp_path / "argocd-wait.json").write_text(
        json.dumps(
            {
                "result": "done",
                "timeline": [
                    {"at": "2026-12-01T10:05:00Z", "health": "Progressing"},
                    {"at": "2026-12-01T10:07:00Z", "health": "Healthy"},
                ],
            }
        )
    )
    (tmp_path / "gitops-guard-gate.json").write_text(
        json.dumps(
            {
                "verdict": "fail",
                "started_at": "2026-12-01T10:07:05Z",
                "ended_at": "2026-12-01T10:17:00Z",
            }
        )
    )
    return tmp_path


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()) * 10**9


def _attrs(span: Any) -> dict[str, Any]:
    return {kv.key: kv.value.string_value or kv.value.int_value for kv in span.attributes}


def test_spans_reach_the_receiver(collector: Collector, github: FakeGitHub, evidence: Path) -> None:
    code = cli.main(
        [
            "record",
            "deploy",
            "--environment",
            "production",
            "--ref",
            "d" * 40,
            "--needs",
            NEEDS,
            "--app",
            "web",
            "--evidence",
            str(evidence),
            "--restored-at",
            "2026-12-01T10:20:00Z",
            "--otlp-endpoint",
            collector.url,
        ]
    )
    assert code == 0
    spans = {s.name: s for s in collector.spans()}
    assert set(spans) == {"cicd.pipeline.run", "argocd-wait", "slo-gate", "rollback"}
    root = spans["cicd.pipeline.run"]
    for name in ("argocd-wait", "slo-gate", "rollback"):
        assert spans[name].parent_span_id == root.span_id
        assert spans[name].trace_id == root.trace_id
    wait = spans["argocd-wait"]
    assert wait.start_time_unix_nano == _ns("2026-12-01T10:05:00Z")  # 2026-12-01T10:05:00Z
    assert wait.end_time_unix_nano == _ns("2026-12-01T10:07:00Z")
    gate = _attrs(spans["slo-gate"])
    assert gate["cicd.pipeline.task.name"] == "slo-gate"
    assert gate["cicd.pipeline.task.run.result"] == "failure"
    assert gate["gitops_guard.verdict"] == "fail"
    assert gate["deployment.environment.name"] == "production"
    assert gate["deployment.status"] == "failed"
    assert gate["cicd.pipeline.run.id"] == "4242"
    assert spans["slo-gate"].status.code == 2  # STATUS_CODE_ERROR
    rollback = spans["rollback"]
    assert rollback.start_time_unix_nano == _ns("2026-12-01T10:17:00Z")  # the verdict
    assert rollback.end_time_unix_nano == _ns("2026-12-01T10:20:00Z")  # restored_at
    resource = collector.requests[0].resource_spans[0].resource
    assert {kv.key: kv.value.string_value for kv in resource.attributes}[
        "service.name"
    ] == "gitops-guard"
    assert _attrs(root)["cicd.pipeline.name"] == "gitops-deploy"


def test_collector_down_is_a_warning(
    github: FakeGitHub, evidence: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{promstack.free_port()}"
    code = cli.main(
        [
            "record",
            "deploy",
            "--environment",
            "production",
            "--ref",
            "d" * 40,
            "--needs",
            NEEDS,
            "--evidence",
            str(evidence),
            "--otlp-endpoint",
            url,
        ]
    )
    assert code == 0
    out = capsys.readouterr()
    assert "traces were not exported" in out.err
    assert "spans NOT exported" in out.out
