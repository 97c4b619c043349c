"""A client for the Prometheus query API: instant and range queries.

It sits on the one HTTP base (:class:`gitops_guard.http.Client`): timeouts, the
bearer token (or basic auth from user info in the URL), retries and the deadline are
its. Our exception hierarchy (what callers see)::

    errors.DependencyUnavailable   Prometheus unreachable, 5xx, 429, a slow or broken
                                   answer, or not the Prometheus API (invalid JSON,
                                   ``"result": "oops"``), still so after retries (3)
    errors.ConfigError             401/403 (names PROMETHEUS_TOKEN), 404 (names the URL)
    QueryError                     Prometheus answered and refused or could not run the
                                   query: bad PromQL (400 bad_data), execution error (422),
                                   query timeout; ``retryable`` tells timeouts apart

Each attempt gets ``timeout_seconds`` (``--query-timeout``, also sent to Prometheus as
its own evaluation timeout) plus one second for the whole answer, a slow drip
included; each call, retries and waits included, at most ``RetryPolicy.budget_seconds``
(three query timeouts unless set).

The bearer token comes from :func:`gitops_guard.credentials.prometheus_token` and is
registered as a secret the moment the client holds it. The client returns parsed
models and never judges a value: that is :mod:`gitops_guard.slo`'s job.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pydantic

from gitops_guard import credentials, errors, http
from gitops_guard.prometheus import models

TOKEN_ENV = credentials.PROMETHEUS_VARS[0]
"""The environment variable that holds the bearer token, if Prometheus needs one."""

_AUTH = "Prometheus at {url} refused the request with HTTP {status}"
_AUTH_HINT = (
    "Set PROMETHEUS_TOKEN to a bearer token Prometheus (or its proxy) accepts, "
    "or remove it if Prometheus needs none."
)
_NOT_FOUND = "Prometheus at {url} has no query API at {path} (HTTP 404)"
_NOT_FOUND_HINT = (
    "Check --prometheus-url: it is the server's base URL including any path prefix "
    "(e.g. https://prom.example.com/prometheus), without /api/v1."
)
_ANSWER_GRACE_SECONDS = 1.0
"""An attempt may take the query timeout plus this: Prometheus's own timeout error
needs a moment to arrive."""


class QueryError(errors.Undecided):
    """Raised when Prometheus answers but cannot run the query (bad PromQL, timeout)."""

    def __init__(
        self,
        message: str,
        *,
        query: str,
        error_type: str | None = None,
        status: int | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message, source="query", hint=f"The query as sent: {query}")
        self.query = query
        self.error_type = error_type
        """Prometheus's ``errorType``: ``bad_data``, ``execution``, ``timeout``, ..."""
        self.status = status
        self.retryable = retryable


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries before giving up."""

    attempts: int = 4
    """Tries per call, the first included."""
    budget_seconds: float | None = None
    """The whole call, every attempt and wait included, in seconds (default: three
    times the query timeout)."""
    initial_wait_seconds: float = 0.5
    """First back-off; it doubles (with jitter) up to ``max_wait_seconds``."""
    max_wait_seconds: float = 8.0


def _is_query_timeout(response: httpx.Response) -> bool:
    body = _json(response)
    return body is not None and body.get("errorType") == "timeout"


class PrometheusClient(http.Closing):
    """Instant and range queries against one Prometheus server."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | credentials.Token | None = None,
        timeout_seconds: float = 10.0,
        retry: RetryPolicy | None = None,
        verify: bool | str | ssl.SSLContext = True,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        headers: Mapping[str, str] | None = None,
        deadline: http.Deadline | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(token, str):
            token = credentials.Token(token, TOKEN_ENV) if token else None
        self.timeout_seconds = timeout_seconds
        self.retry = retry or RetryPolicy()
        budget = self.retry.budget_seconds
        if budget is None:
            budget = 3 * (timeout_seconds + _ANSWER_GRACE_SECONDS)
        self._http = http.Client(
            base_url,
            service="Prometheus",
            url_source="--prometheus-url",
            token=token,
            timeouts=http.Timeouts(
                connect_seconds=min(5.0, timeout_seconds),
                request_seconds=timeout_seconds + _ANSWER_GRACE_SECONDS,
            ),
            retry=http.RetryPolicy(
                attempts=max(1, self.retry.attempts),
                initial_wait_seconds=self.retry.initial_wait_seconds,
                max_wait_seconds=self.retry.max_wait_seconds,
            ),
            deadline=deadline,
            call_budget_seconds=budget,
            call_budget_source="--query-timeout (a query and its retries: 3 x (timeout + 1s))"
            if self.retry.budget_seconds is None
            else "the query budget",
            verify=verify,
            headers=headers,
            follow_redirects=True,
            transport=transport,
            sleep=sleep or time.sleep,
            clock=clock,
        )
        self.base_url = self._http.base_url
        """The URL without user info: what may be printed and stored."""

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # ------------------------------------------------------------ public API
    def query(
        self, promql: str, *, at: datetime | None = None, timeout_seconds: float | None = None
    ) -> models.QueryResult:
        """Run an instant query (``/api/v1/query``), at ``at`` or now."""
        params: dict[str, str] = {"query": promql}
        if at is not None:
            params["time"] = _timestamp(at)
        params["timeout"] = f"{timeout_seconds or self.timeout_seconds:g}s"
        return self._call("/api/v1/query", params, promql)

    def query_range(
        self,
        promql: str,
        *,
        start: datetime,
        end: datetime,
        step_seconds: float,
        timeout_seconds: float | None = None,
    ) -> models.QueryResult:
        """Run a range query (``/api/v1/query_range``) from ``start`` to ``end``."""
        params = {
            "query": promql,
            "start": _timestamp(start),
            "end": _timestamp(end),
            "step": f"{step_seconds:g}",
            "timeout": f"{timeout_seconds or self.timeout_seconds:g}s",
        }
        return self._call("/api/v1/query_range", params, promql)

    def ready(self) -> bool:
        """True when ``/-/ready`` answers 200 (one try, no retries)."""
        try:
            return self._http.request("GET", "/-/ready", retry=False).status_code == 200
        except errors.GitopsGuardError:
            return False

    # ------------------------------------------------------------ the one seam
    def _on_status(self, path: str) -> http.StatusHandler:
        def translate(response: httpx.Response) -> Exception | None:
            status = response.status_code
            if status in (401, 403):
                return errors.ConfigError(
                    _AUTH.format(url=self.base_url, status=status)
                    + f": {http.body_detail(response)}",
                    source=TOKEN_ENV,
                    hint=_AUTH_HINT,
                )
            if status == 404:
                return errors.ConfigError(
                    _NOT_FOUND.format(url=self.base_url, path=path),
                    source="--prometheus-url",
                    hint=_NOT_FOUND_HINT,
                )
            return None

        return translate

    def _call(self, path: str, params: Mapping[str, str], promql: str) -> models.QueryResult:
        try:
            response = self._http.request(
                "POST",
                path,
                data=dict(params),
                ok_statuses=(400, 422),
                on_status=self._on_status(path),
                transient=_is_query_timeout,
            )
        except (http.Unavailable, http.DeadlineExceeded) as exc:
            last = exc.last_response
            if last is not None and _is_query_timeout(last):
                body = _json(last) or {}
                message = credentials.redact(str(body.get("error") or "query timed out"))
                raise QueryError(
                    f"Prometheus could not finish the query: {message}",
                    query=promql,
                    error_type="timeout",
                    status=last.status_code,
                    retryable=True,
                ) from exc
            raise
        what = f"POST {path}"
        try:
            answer = models.ApiAnswer.model_validate(response.json())
        except ValueError as exc:  # JSONDecodeError and pydantic's ValidationError are both
            raise self._http.not_api(
                what, "something that is not the Prometheus API", response
            ) from exc
        status = response.status_code
        if answer.status == "success" and status < 400:
            try:
                return models.parse_data(answer.data or {}, answer.warnings or ())
            except (ValueError, pydantic.ValidationError) as exc:
                raise self._http.not_api(
                    what,
                    f"a result that is not the Prometheus API's: {_first_problem(exc)}",
                    response,
                ) from exc
        error_type = answer.error_type or ""
        message = credentials.redact(answer.error or f"HTTP {status}")
        raise QueryError(
            f"Prometheus rejected the query ({error_type or status}): {message}",
            query=promql,
            error_type=error_type or None,
            status=status,
        )


def _first_problem(exc: Exception) -> str:
    if isinstance(exc, pydantic.ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "data"
        return f"{where}: {first['msg']}"
    return str(exc).splitlines()[0][:200]


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _timestamp(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("timestamps sent to Prometheus must be timezone-aware")
    return f"{at.timestamp():.3f}"
