"""The one HTTP base through httpx.MockTransport (no sockets) and a fake clock.

Behaviours covered:
- the bearer header, registered as a secret; user info stripped from the URL and sent
  as basic auth instead;
- one retry shape: 5xx, 429 and connect errors retried, ``Retry-After`` honoured
  (seconds and HTTP date); recovery within the budget;
- the deadline: no retry that cannot fit, 429 whose Retry-After outlives the deadline
  is DeadlineExceeded (exit 3, never 2), the message says the real elapsed time;
- translation: 401/403 ConfigError naming the token variable, 404 and 4xx through the
  caller's handler or ConfigError, invalid JSON and wrong shapes DependencyUnavailable
  naming the service and the path;
- a server's body echoing the token never reaches a message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pydantic
import pytest

from gitops_guard import credentials, errors, http

TOKEN = credentials.Token("tok-Abcdef123456", "MY_TOKEN")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    clock: FakeClock | None = None,
    deadline_seconds: float | None = None,
    **kwargs: object,
) -> tuple[http.Client, FakeClock]:
    clock = clock or FakeClock()
    deadline = http.Deadline(deadline_seconds, source="--timeout", clock=clock)
    kwargs.setdefault("token", TOKEN)
    client = http.Client(
        "https://svc.example/base",
        service="Svc",
        url_source="--svc-url",
        transport=httpx.MockTransport(handler),
        sleep=clock.sleep,
        clock=clock,
        deadline=deadline,
        **kwargs,  # type: ignore[arg-type]
    )
    return client, clock


class Script:
    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_bearer_and_registered() -> None:
    script = Script(httpx.Response(200, json={"ok": True}))
    client, _ = make(script)
    assert client.request("GET", "/x").json() == {"ok": True}
    assert script.requests[0].headers["authorization"] == f"Bearer {TOKEN.value}"
    assert script.requests[0].url.path == "/base/x"
    assert credentials.redact(TOKEN.value) == "***"


def test_userinfo_becomes_basic_auth() -> None:
    script = Script(httpx.Response(200, json={}))
    client = http.Client(
        "https://admin:p%40ss-w0rd@svc.example",
        service="Svc",
        url_source="--svc-url",
        transport=httpx.MockTransport(script),
    )
    client.request("GET", "/x")
    assert client.base_url == "https://svc.example"
    assert (
        script.requests[0].headers["authorization"]
        == httpx.BasicAuth("admin", "p@ss-w0rd")._auth_header
    )  # type: ignore[attr-defined]
    assert credentials.redact("p@ss-w0rd") == "***"


@pytest.mark.parametrize(
    "transient",
    [
        httpx.Response(503, text="busy"),
        httpx.Response(500, json={"message": "boom"}),
        httpx.Response(429, headers={"Retry-After": "2"}),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("peer closed connection without sending complete body"),
    ],
)
def test_transient_faults_are_retried_and_recovered(transient: httpx.Response | Exception) -> None:
    script = Script(transient, httpx.Response(200, json={"ok": 1}))
    client, clock = make(script, deadline_seconds=30)
    assert client.request("GET", "/x").json() == {"ok": 1}
    assert len(script.requests) == 2
    if isinstance(transient, httpx.Response) and transient.status_code == 429:
        assert clock.sleeps == [2.0]


def test_retry_after_http_date() -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=5)
    value = format_datetime(when, usegmt=True)
    assert 3.5 < (http.retry_after_seconds(value) or 0) <= 5
    assert http.retry_after_seconds("nonsense") is None
    assert http.retry_after_seconds("inf") is None


def test_429_past_the_deadline_is_exit_3_with_real_elapsed() -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "60"}))
    client, clock = make(script, deadline_seconds=4)
    clock.now = 0.0
    with pytest.raises(http.DeadlineExceeded) as info:
        client.request("GET", "/x")
    assert info.value.exit_code == errors.EXIT_UNDECIDED
    assert "GET /x" in info.value.message and "4s (--timeout)" in info.value.message
    assert "0.0s elapsed" in info.value.message
    assert "retry after 60s (Retry-After)" in info.value.message
    assert len(script.requests) == 1 and clock.sleeps == []


def test_retries_stop_at_attempts_then_dependency_unavailable() -> None:
    script = Script(httpx.Response(502, text="bad gateway"))
    client, _ = make(script, retry=http.RetryPolicy(attempts=3, initial_wait_seconds=0.01))
    with pytest.raises(errors.DependencyUnavailable) as info:
        client.request("GET", "/x")
    assert len(script.requests) == 3
    assert "unreachable after 3 attempts" in info.value.message and "HTTP 502" in info.value.message
    assert info.value.source == "--svc-url"


def test_no_wait_past_the_deadline() -> None:
    script = Script(httpx.Response(503))
    client, clock = make(
        script,
        deadline_seconds=1.0,
        retry=http.RetryPolicy(attempts=10, initial_wait_seconds=0.4, max_wait_seconds=0.4),
    )
    with pytest.raises(errors.DependencyUnavailable):
        client.request("GET", "/x")
    assert sum(clock.sleeps) <= 1.0


@pytest.mark.parametrize("status", [401, 403])
def test_auth_names_the_token_variable_and_redacts_echo(status: int) -> None:
    echo = httpx.Response(status, text=f"denied: Authorization: Bearer {TOKEN.value}")
    client, _ = make(Script(echo))
    with pytest.raises(errors.ConfigError) as info:
        client.request("GET", "/x")
    assert info.value.source == "MY_TOKEN"
    assert TOKEN.value not in info.value.render()


def test_404_and_4xx_through_the_callers_handler() -> None:
    client, _ = make(Script(httpx.Response(404, text="nope"), httpx.Response(400, text="bad")))

    def mine(response: httpx.Response) -> Exception | None:
        if response.status_code == 404:
            return errors.ConfigError("no such thing", source="--app")
        return None

    with pytest.raises(errors.ConfigError) as info:
        client.request("GET", "/x", on_status=mine)
    assert info.value.source == "--app"
    with pytest.raises(errors.ConfigError) as info:
        client.request("GET", "/x", on_status=mine)
    assert info.value.source == "--svc-url" and "HTTP 400" in info.value.message


def test_ok_statuses_are_returned() -> None:
    client, _ = make(Script(httpx.Response(400, json={"status": "error"})))
    assert client.request("POST", "/x", ok_statuses=(400,)).status_code == 400


class Shape(pydantic.BaseModel):
    status: str
    count: int


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (httpx.Response(200, text="<html>proxy</html>"), "not JSON"),
        (httpx.Response(200, json={}), "wrong shape"),
        (httpx.Response(200, json={"status": "ok", "count": "many"}), "count"),
        (httpx.Response(200, json=["oops"]), "wrong shape"),
    ],
)
def test_invalid_answers_name_who_said_what(answer: httpx.Response, said: str) -> None:
    client, _ = make(Script(answer))
    response = client.request("GET", "/api/thing")
    with pytest.raises(errors.DependencyUnavailable) as info:
        client.parse(response, Shape)
    text = info.value.message
    assert "Svc at https://svc.example/base answered GET /base/api/thing" in text
    assert said in text


def test_type_adapter_parse() -> None:
    client, _ = make(Script(httpx.Response(200, json=[1, 2])))
    assert client.parse(client.request("GET", "/x"), pydantic.TypeAdapter(list[int])) == [1, 2]


def test_deadline_helpers() -> None:
    clock = FakeClock()
    d = http.Deadline(10, source="--timeout", clock=clock)
    clock.now = 4
    assert d.remaining() == 6 and d.bound(100) == 6 and not d.expired()
    assert d.extended(2).remaining() == 8
    assert d.earliest(http.Deadline(1, clock=clock)).remaining() == 1
    assert d.describe() == "10s (--timeout)"
    assert http.Deadline(None, clock=clock).describe() == "no deadline"
    clock.now = 11
    assert d.expired() and d.bound(5) == 0
