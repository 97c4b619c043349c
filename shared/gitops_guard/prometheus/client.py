"""An httpx client for the Prometheus query API: instant and range queries.

Our exception hierarchy (what callers see)::

    errors.DependencyUnavailable   Prometheus unreachable, 5xx, or not the Prometheus API,
                                   still so after the retry budget
    errors.ConfigError             401/403 (names PROMETHEUS_TOKEN), 404 (names the URL)
    QueryError                     Prometheus answered and refused or could not run the
                                   query: bad PromQL (400 bad_data), execution error (422),
                                   query timeout; ``retryable`` tells timeouts apart

Foreign exceptions (httpx's) are translated in exactly one place,
:meth:`PrometheusClient._call`, most specific first and chained. Transient
failures (connection errors, timeouts, 5xx, query timeouts) are retried with
jittered exponential back-off within an error budget: at most ``attempts`` tries
and at most ``budget_seconds`` of waiting per call.

The bearer token comes from ``PROMETHEUS_TOKEN`` (read by the caller) and is
registered as a secret the moment the client holds it. The client returns
parsed models and never judges a value: that is :mod:`gitops_guard.slo`'s job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx
import tenacity

from gitops_guard import actions, errors
from gitops_guard.prometheus import models

TOKEN_ENV = "PROMETHEUS_TOKEN"  # noqa: S105 (a variable name, not a secret)
"""The environment variable that holds the bearer token, if Prometheus needs one."""

_UNREACHABLE = "Prometheus at {url} could not be reached after {attempts} attempts: {cause}"
_UNREACHABLE_HINT = (
    "Check --prometheus-url (scheme, host, port, path prefix) and that the runner can reach "
    "it; a gate without data can never pass, so this exits 3 (undecided)."
)
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


class _Transient(Exception):
    """Internal: a failure worth another try (connection, 5xx, query timeout)."""

    def __init__(self, cause: str, final: errors.GitopsGuardError | None = None) -> None:
        super().__init__(cause)
        self.cause = cause
        self.final = final


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries before giving up."""

    attempts: int = 4
    """Tries per call, the first included."""
    budget_seconds: float = 30.0
    """Most time spent waiting between tries of one call, in seconds."""
    initial_wait_seconds: float = 0.5
    """First back-off; it doubles (with jitter) up to ``max_wait_seconds``."""
    max_wait_seconds: float = 8.0


class PrometheusClient:
    """Instant and range queries against one Prometheus server."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout_seconds: float = 10.0,
        retry: RetryPolicy | None = None,
        verify: bool | str = True,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_seconds = timeout_seconds
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        all_headers = {"Accept": "application/json", "User-Agent": "gitops-guard"}
        all_headers.update(headers or {})
        if token:
            actions.register_secret(token)
            all_headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=all_headers,
            timeout=httpx.Timeout(timeout_seconds, connect=min(5.0, timeout_seconds)),
            verify=verify,
            transport=transport,
            follow_redirects=True,
        )

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
            return self._http.get("/-/ready").status_code == 200
        except httpx.HTTPError:
            return False

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PrometheusClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------ the one seam
    def _call(self, path: str, params: Mapping[str, str], promql: str) -> models.QueryResult:
        retrying = tenacity.Retrying(
            stop=(
                tenacity.stop_after_attempt(max(1, self.retry.attempts))
                | tenacity.stop_after_delay(self.retry.budget_seconds)
            ),
            wait=tenacity.wait_exponential_jitter(
                multiplier=self.retry.initial_wait_seconds,
                max=self.retry.max_wait_seconds,
                jitter=self.retry.initial_wait_seconds,
            ),
            retry=tenacity.retry_if_exception_type(_Transient),
            reraise=True,
            sleep=self._sleep or time.sleep,
        )
        try:
            return retrying(self._once, path, params, promql)
        except _Transient as exc:
            if exc.final is not None:
                raise exc.final from exc
            raise errors.DependencyUnavailable(
                _UNREACHABLE.format(
                    url=self.base_url, attempts=self.retry.attempts, cause=exc.cause
                ),
                source="--prometheus-url",
                hint=_UNREACHABLE_HINT,
            ) from exc

    def _once(self, path: str, params: Mapping[str, str], promql: str) -> models.QueryResult:
        try:
            response = self._http.post(path, data=dict(params))
        except httpx.TimeoutException as exc:
            raise _Transient(
                f"timed out after {self.timeout_seconds:g}s ({type(exc).__name__})"
            ) from exc
        except httpx.TransportError as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status in (401, 403):
            raise errors.ConfigError(
                _AUTH.format(url=self.base_url, status=status),
                source=TOKEN_ENV,
                hint=_AUTH_HINT,
            )
        if status == 404:
            raise errors.ConfigError(
                _NOT_FOUND.format(url=self.base_url, path=path),
                source="--prometheus-url",
                hint=_NOT_FOUND_HINT,
            )
        body = _json(response)
        if body is None:
            if status >= 500 or status == 429:
                raise _Transient(f"HTTP {status}")
            raise _Transient(
                f"HTTP {status} with a body that is not the Prometheus API's JSON",
                final=errors.DependencyUnavailable(
                    f"{self.base_url}{path} answered HTTP {status} with something that is "
                    "not the Prometheus API",
                    source="--prometheus-url",
                    hint=_NOT_FOUND_HINT,
                ),
            )
        if body.get("status") == "success" and status < 400:
            try:
                return models.parse_data(body["data"], body.get("warnings") or ())
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                raise errors.DependencyUnavailable(
                    f"{self.base_url}{path} answered with an unexpected shape: {exc!r}",
                    source="--prometheus-url",
                ) from exc
        error_type = str(body.get("errorType") or "")
        message = str(body.get("error") or f"HTTP {status}")
        if error_type == "timeout" or (status == 503 and error_type in ("", "unavailable")):
            final = QueryError(
                f"Prometheus could not finish the query: {message}",
                query=promql,
                error_type=error_type or None,
                status=status,
                retryable=True,
            )
            raise _Transient(f"{error_type or 'unavailable'}: {message}", final=final)
        if status >= 500 and error_type not in ("bad_data", "execution"):
            raise _Transient(f"HTTP {status}: {message}")
        raise QueryError(
            f"Prometheus rejected the query ({error_type or status}): {message}",
            query=promql,
            error_type=error_type or None,
            status=status,
        )


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
