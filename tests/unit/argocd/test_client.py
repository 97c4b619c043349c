"""ArgoClient through httpx.MockTransport (no sockets).

Behaviours covered:
- requests: paths, ``refresh``, ``appNamespace``, the bearer header, the sync body
  (single and multi-source), terminate;
- translation in one place: 401 and 403 name ARGOCD_TOKEN, 404 names --app, 400
  "in progress" is OperationInProgress, other 4xx are ConfigError, a non-ArgoCD body
  is DependencyUnavailable naming --server;
- bounded retries on 5xx, timeouts and connect errors, then DependencyUnavailable (3);
  recovery within the bound; every attempt counted;
- the token never appears in any error text;
- the stream: events parsed line by line, 404 and bad lines are StreamUnavailable,
  401 still a ConfigError;
- server URL normalization and a missing CA bundle (exit 2).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from argocd_states import OLD, OURS, done_state

from gitops_guard import errors
from gitops_guard.argocd import client, exceptions
from gitops_guard_lab import argocd_api

TOKEN = "eyJhbGciOiJIUzI1NiJ9.secret-token-value"
APP = argocd_api.make_application("web", **done_state())


def make(handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> client.ArgoClient:
    kwargs.setdefault("token", TOKEN)
    return client.ArgoClient(
        "https://argocd.example.com",
        transport=httpx.MockTransport(handler),
        sleep=lambda _: None,
        **kwargs,
    )


def error_body(code: int, message: str) -> dict[str, Any]:
    return {"error": message, "code": code, "message": message}


def test_get_sends_refresh_namespace_and_bearer() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=APP)

    app = make(handler, app_namespace="team-a").get_application("web", refresh="normal")
    assert app.status.sync.revision == OURS
    request = seen[0]
    assert request.url.path == "/api/v1/applications/web"
    assert dict(request.url.params) == {"refresh": "normal", "appNamespace": "team-a"}
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_no_token_sends_no_authorization_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=APP)

    make(handler, token=None).get_application("web")
    assert "Authorization" not in seen[0].headers


def test_sync_body_single_and_multi_source() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert request.url.path == "/api/v1/applications/web/sync"
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=APP)

    argo = make(handler, app_namespace="team-a")
    argo.sync("web", OURS)
    argo.sync("web", revisions=[OURS], source_positions=[2])
    assert bodies[0] == {"name": "web", "prune": False, "revision": OURS, "appNamespace": "team-a"}
    assert bodies[1]["revisions"] == [OURS]
    assert bodies[1]["sourcePositions"] == ["2"]
    assert "revision" not in bodies[1]


def test_terminate_operation() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    make(handler).terminate_operation("web")
    assert (seen[0].method, seen[0].url.path) == ("DELETE", "/api/v1/applications/web/operation")


@pytest.mark.parametrize(
    ("status", "body", "kind", "source", "words"),
    [
        (401, error_body(16, "invalid session"), errors.ConfigError, "ARGOCD_TOKEN", "token"),
        (403, error_body(7, "permission denied"), errors.ConfigError, "ARGOCD_TOKEN", "RBAC"),
        (404, error_body(5, "not found"), errors.ConfigError, "--app", "Check --app"),
        (
            400,
            error_body(9, "another operation is already in progress"),
            exceptions.OperationInProgress,
            None,
            "in progress",
        ),
        (400, error_body(3, "invalid revision"), errors.ConfigError, "--app", "invalid revision"),
    ],
    ids=["401", "403", "404", "400-in-progress", "400-other"],
)
def test_statuses_are_translated(
    status: int, body: dict[str, Any], kind: type[Exception], source: str | None, words: str
) -> None:
    argo = make(lambda request: httpx.Response(status, json=body))
    with pytest.raises(kind) as caught:
        argo.get_application("web")
    assert isinstance(caught.value, errors.GitopsGuardError)
    assert caught.value.source == source
    assert words in caught.value.render()
    assert TOKEN not in caught.value.render()


def test_5xx_retried_then_recovers() -> None:
    answers = [
        httpx.Response(503, text="upstream"),
        httpx.Response(502),
        httpx.Response(200, json=APP),
    ]
    argo = make(lambda request: answers.pop(0))
    assert argo.get_application("web").status.sync.revision == OURS
    assert argo.request_count == 3


def test_5xx_after_the_bound_is_unreachable() -> None:
    argo = make(lambda request: httpx.Response(500, json=error_body(13, "boom")), attempts=3)
    with pytest.raises(errors.DependencyUnavailable) as caught:
        argo.get_application("web")
    assert argo.request_count == 3
    assert "after 3 attempts" in caught.value.message
    assert caught.value.exit_code == 3


@pytest.mark.parametrize(
    "exc",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("eof")],
    ids=["connect", "timeout", "protocol"],
)
def test_transport_errors_retried_then_unreachable(exc: Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    argo = make(handler, attempts=2)
    with pytest.raises(errors.DependencyUnavailable):
        argo.get_application("web")
    assert argo.request_count == 2


def test_tls_failure_is_a_config_error_not_retried() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] self-signed certificate")

    argo = make(handler)
    with pytest.raises(errors.ConfigError) as caught:
        argo.get_application("web")
    assert argo.request_count == 1
    assert "--ca-bundle" in caught.value.render()


def test_a_body_that_is_not_argocd_names_the_server() -> None:
    argo = make(lambda request: httpx.Response(200, text="<html>login</html>"))
    with pytest.raises(errors.DependencyUnavailable) as caught:
        argo.get_application("web")
    assert caught.value.source == "--server"


def stream_lines(*apps: dict[str, Any]) -> bytes:
    return b"".join(
        json.dumps({"result": {"type": "MODIFIED", "application": a}}).encode() + b"\n"
        for a in apps
    )


def test_stream_yields_each_event_then_reports_the_close() -> None:
    old = argocd_api.make_application("web", **done_state(OLD))

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/stream/applications"
        assert request.url.params["name"] == "web"
        return httpx.Response(200, content=stream_lines(old, APP))

    seen = []
    with pytest.raises(exceptions.StreamUnavailable, match="closed"):
        for app in make(handler).watch_application("web", idle_timeout_seconds=1):
            seen.append(app.status.sync.revision)
    assert seen == [OLD, OURS]


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (httpx.Response(404, json=error_body(5, "Not Found")), exceptions.StreamUnavailable),
        (httpx.Response(501, text="no"), exceptions.StreamUnavailable),
        (httpx.Response(200, content=b"<html>\n"), exceptions.StreamUnavailable),
        (
            httpx.Response(200, content=b'{"error": {"message": "x"}}\n'),
            exceptions.StreamUnavailable,
        ),
        (httpx.Response(401, json=error_body(16, "invalid session")), errors.ConfigError),
    ],
    ids=["404", "501", "html", "stream-error", "401"],
)
def test_stream_failures(response: httpx.Response, kind: type[Exception]) -> None:
    argo = make(lambda request: response)
    with pytest.raises(kind):
        list(argo.watch_application("web", idle_timeout_seconds=1))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("argocd.example.com", "https://argocd.example.com"),
        ("https://argocd.example.com/", "https://argocd.example.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ],
)
def test_normalize_server(given: str, expected: str) -> None:
    assert client.normalize_server(given) == expected


@pytest.mark.parametrize(
    "given",
    [
        "",
        "ftp://argocd.example.com",
        "http://",
        "http://argo cd.example.com",
        "http://argocd.example.com:99999",
        "http://[::1",
    ],
)
def test_bad_server_is_input_error(given: str) -> None:
    with pytest.raises(errors.InputError) as caught:
        client.normalize_server(given)
    assert caught.value.source == "--server"


def test_missing_ca_bundle_is_input_error(tmp_path: Any) -> None:
    with pytest.raises(errors.InputError) as caught:
        client.ArgoClient("https://a.example", token=None, ca_bundle=tmp_path / "none.pem")
    assert caught.value.source == "--ca-bundle"


def test_terminate_with_nothing_running_returns_false() -> None:
    body = error_body(3, "Unable to terminate operation. No operation is in progress")
    argo = make(lambda request: httpx.Response(400, json=body))
    assert argo.terminate_operation("web") is False


def test_a_refresh_read_may_take_longer() -> None:
    """ArgoCD answers a GET with refresh only once the refresh is done."""
    timeouts: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"]["read"])
        return httpx.Response(200, json=APP)

    argo = make(handler, timeout_seconds=10, refresh_timeout_seconds=60)
    argo.get_application("web", refresh="normal")
    argo.get_application("web")
    assert timeouts == [60, 10]


def test_user_info_is_stripped_and_becomes_the_bearer() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=APP)

    argo = client.ArgoClient(
        "https://admin:p%40ss-t0ken@argocd.example.com",
        token=None,
        transport=httpx.MockTransport(handler),
    )
    argo.get_application("web")
    assert argo.server == "https://argocd.example.com"
    assert seen[0].headers["Authorization"] == "Bearer p@ss-t0ken"
    assert client.display_server("https://admin:x-y-z@h:1/") == "https://h:1"


@pytest.mark.parametrize(
    "body",
    [{}, {"metadata": {"name": "web"}}, {"metadata": {"name": "web"}, "status": {}}],
    ids=["empty", "no-status", "empty-status"],
)
def test_an_app_without_status_is_undecided_not_waiting(body: dict[str, Any]) -> None:
    argo = make(lambda request: httpx.Response(200, json=body))
    with pytest.raises(errors.DependencyUnavailable) as caught:
        argo.get_application("web")
    assert caught.value.exit_code == 3
    assert "ArgoCD at https://argocd.example.com answered GET" in caught.value.message


def test_429_is_retried_with_retry_after() -> None:
    sleeps: list[float] = []
    answers = [httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200, json=APP)]
    argo = client.ArgoClient(
        "https://argocd.example.com",
        token=TOKEN,
        transport=httpx.MockTransport(lambda request: answers.pop(0)),
        sleep=sleeps.append,
    )
    argo.get_application("web")
    assert sleeps == [3.0]
