"""PrometheusClient through httpx.MockTransport handlers shaped like the real API.

Behaviours covered:
- vector, matrix, scalar and string results parse; NaN, +Inf, -Inf values are kept;
- instant queries POST query/time/timeout; range queries start/end/step; the bearer
  token is sent and registered as a secret;
- errors translated in one place: 400 bad_data and 422 execution -> QueryError at once;
  query timeouts (errorType timeout, 503) retried then QueryError(retryable);
  5xx and connection errors retried then DependencyUnavailable; recovery after a
  transient failure; 401/403 -> ConfigError naming PROMETHEUS_TOKEN; 404 -> ConfigError
  naming --prometheus-url; a non-API body -> DependencyUnavailable;
- retries wait through the injected sleep and stop after the attempts budget;
- naive datetimes are refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from gitops_guard import actions, errors
from gitops_guard.prometheus import client as prom

AT = datetime(2026, 1, 1, 0, 30, tzinfo=timezone.utc)

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A handler that answers from a list of responses and records requests."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def form(self, index: int = -1) -> dict[str, str]:
        body = parse_qs(self.requests[index].content.decode())
        return {k: v[0] for k, v in body.items()}


def ok(result_type: str, result: Any) -> httpx.Response:
    return httpx.Response(
        200, json={"status": "success", "data": {"resultType": result_type, "result": result}}
    )


def fail(status: int, error_type: str, message: str = "boom") -> httpx.Response:
    return httpx.Response(
        status, json={"status": "error", "errorType": error_type, "error": message}
    )


def make(handler: Recorder, **kwargs: Any) -> tuple[prom.PrometheusClient, list[float]]:
    sleeps: list[float] = []
    client = prom.PrometheusClient(
        "http://prom.test/prefix/",
        transport=httpx.MockTransport(handler),
        sleep=sleeps.append,
        retry=prom.RetryPolicy(attempts=3, budget_seconds=60),
        **kwargs,
    )
    return client, sleeps


def test_vector_with_special_values() -> None:
    handler = Recorder(
        ok(
            "vector",
            [
                {"metric": {"pod": "a"}, "value": [1767227400, "0.5"]},
                {"metric": {"pod": "b"}, "value": [1767227400, "NaN"]},
                {"metric": {"pod": "c"}, "value": [1767227400, "+Inf"]},
                {"metric": {"pod": "d"}, "value": [1767227400, "-Inf"]},
            ],
        )
    )
    client, _ = make(handler)
    result = client.query("up", at=AT)
    values = [s.samples[0].value for s in result.series]
    assert values[0] == 0.5 and math.isnan(values[1])
    assert values[2:] == [math.inf, -math.inf]
    assert [s.samples[0].finite for s in result.series] == [True, False, False, False]
    assert result.series[0].describe() == '{pod="a"}'
    request = handler.requests[0]
    assert (request.method, request.url.path) == ("POST", "/prefix/api/v1/query")
    assert handler.form() == {"query": "up", "time": "1767227400.000", "timeout": "10s"}


def test_matrix_scalar_string() -> None:
    handler = Recorder(
        ok("matrix", [{"metric": {}, "values": [[1, "1"], [2, "2"]]}]),
        ok("scalar", [3, "7"]),
        ok("string", [3, "hello"]),
    )
    client, _ = make(handler)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    matrix = client.query_range("up", start=start, end=AT, step_seconds=15)
    assert [s.value for s in matrix.series[0].samples] == [1.0, 2.0]
    assert handler.form(0)["step"] == "15"
    assert handler.requests[0].url.path.endswith("/api/v1/query_range")
    assert client.query("1+6").series[0].samples[0].value == 7.0
    assert client.query('"hello"').text == "hello"


def test_empty_vector_is_empty() -> None:
    client, _ = make(Recorder(ok("vector", [])))
    assert client.query("absent_metric").empty


def test_bearer_token_sent_and_registered() -> None:
    handler = Recorder(ok("vector", []))
    client, _ = make(handler, token="sekrit-token-123")
    client.query("up")
    assert handler.requests[0].headers["Authorization"] == "Bearer sekrit-token-123"
    assert actions.redact("x sekrit-token-123 y") == "x *** y"


@pytest.mark.parametrize(
    ("answer", "error_type"),
    [
        (fail(400, "bad_data", "parse error at char 5"), "bad_data"),
        (fail(422, "execution"), "execution"),
    ],
)
def test_bad_query_is_a_query_error_without_retry(answer: httpx.Response, error_type: str) -> None:
    handler = Recorder(answer)
    client, sleeps = make(handler)
    with pytest.raises(prom.QueryError) as info:
        client.query("sum(")
    assert info.value.error_type == error_type
    assert info.value.retryable is False
    assert info.value.exit_code == 3
    assert "sum(" in str(info.value)
    assert len(handler.requests) == 1 and sleeps == []


@pytest.mark.parametrize(
    "answer", [fail(503, "timeout", "query timed out"), fail(422, "timeout", "query timed out")]
)
def test_query_timeout_retried_then_query_error(answer: httpx.Response) -> None:
    handler = Recorder(answer)
    client, sleeps = make(handler)
    with pytest.raises(prom.QueryError) as info:
        client.query("slow")
    assert info.value.retryable is True
    assert len(handler.requests) == 3 and len(sleeps) == 2


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(502, text="bad gateway"),
        fail(500, "internal"),
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("read timed out"),
    ],
)
def test_unreachable_after_retries(answer: httpx.Response | Exception) -> None:
    handler = Recorder(answer)
    client, sleeps = make(handler)
    with pytest.raises(errors.DependencyUnavailable) as info:
        client.query("up")
    assert info.value.exit_code == 3
    assert "after 3 attempts" in info.value.message
    assert info.value.source == "--prometheus-url"
    assert len(handler.requests) == 3
    assert len(sleeps) == 2 and all(s > 0 for s in sleeps)


def test_recovers_after_a_transient_failure() -> None:
    handler = Recorder(httpx.ConnectError("refused"), ok("vector", []))
    client, sleeps = make(handler)
    assert client.query("up").empty
    assert len(handler.requests) == 2 and len(sleeps) == 1


@pytest.mark.parametrize(
    ("status", "source", "text"),
    [
        (401, "PROMETHEUS_TOKEN", "refused the request with HTTP 401"),
        (403, "PROMETHEUS_TOKEN", "refused the request with HTTP 403"),
        (404, "--prometheus-url", "has no query API at /api/v1/query"),
    ],
)
def test_auth_and_not_found_are_config_errors(status: int, source: str, text: str) -> None:
    handler = Recorder(httpx.Response(status, text="nope"))
    client, _ = make(handler)
    with pytest.raises(errors.ConfigError) as info:
        client.query("up")
    assert info.value.source == source
    assert text in info.value.message
    assert len(handler.requests) == 1


def test_not_the_prometheus_api() -> None:
    handler = Recorder(httpx.Response(200, text="<html>login</html>"))
    client, _ = make(handler)
    with pytest.raises(errors.DependencyUnavailable, match="not the Prometheus API"):
        client.query("up")


def test_naive_datetime_refused() -> None:
    client, _ = make(Recorder(ok("vector", [])))
    with pytest.raises(ValueError, match="timezone-aware"):
        client.query("up", at=datetime(2026, 1, 1))


def test_429_with_a_json_body_is_retried_honouring_retry_after() -> None:
    limited = httpx.Response(
        429,
        headers={"Retry-After": "2"},
        json={"status": "error", "errorType": "unavailable", "error": "too many requests"},
    )
    handler = Recorder(limited, ok("vector", []))
    client, sleeps = make(handler)
    assert client.query("up").empty
    assert len(handler.requests) == 2 and sleeps == [2.0]


@pytest.mark.parametrize(
    "data",
    [
        {"resultType": "vector", "result": "oops"},
        {"resultType": "vector", "result": [{"metric": {}, "value": [1, "not-a-number"]}]},
        {"resultType": "matrix", "result": [{"values": "x"}]},
        {"resultType": "histogram", "result": []},
        {"result": []},
    ],
    ids=["oops", "not-a-number", "matrix-values", "unknown-type", "no-type"],
)
def test_a_result_of_the_wrong_shape_is_dependency_unavailable(data: dict[str, Any]) -> None:
    client, _ = make(Recorder(httpx.Response(200, json={"status": "success", "data": data})))
    with pytest.raises(errors.DependencyUnavailable) as info:
        client.query("up")
    assert "Prometheus at http://prom.test/prefix answered POST" in info.value.message
    assert info.value.exit_code == 3


def test_user_info_becomes_basic_auth_and_leaves_the_url() -> None:
    handler = Recorder(ok("vector", []))
    client = prom.PrometheusClient(
        "http://reader:s%2Fcret-pass@prom.test/", transport=httpx.MockTransport(handler)
    )
    client.query("up")
    assert client.base_url == "http://prom.test"
    assert handler.requests[0].headers["Authorization"].startswith("Basic ")
    assert actions.redact("s/cret-pass s%2Fcret-pass") == "*** ***"
