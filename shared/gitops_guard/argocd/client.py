"""The ArgoCD REST API client: the only module of this package that does I/O.

:class:`ArgoClient` has one method per API call we use, returns parsed
:mod:`~gitops_guard.argocd.models`, and owns timeouts, the bearer token, TLS
settings and bounded retries (tenacity). It holds no policy: deciding whether an
application is done is :mod:`gitops_guard.argocd.wait`'s job.

Errors, translated from httpx and HTTP statuses in :meth:`ArgoClient._send` (and, for the
long-lived stream, in :meth:`ArgoClient.watch_application`)::

    connect error, timeout, 5xx   retried (bounded), then errors.DependencyUnavailable (3)
    TLS verification failure      errors.ConfigError naming --ca-bundle / --insecure (2)
    401, 403                      errors.ConfigError naming ARGOCD_TOKEN (2)
    404                           errors.ConfigError naming --app (2)
    400 "already in progress"     OperationInProgress (3; callers retry later)
    400 "no operation in progress" terminate_operation() returns False
    other 4xx                     errors.ConfigError with ArgoCD's message (2)
    a body that is not ArgoCD's   errors.DependencyUnavailable naming --server (3)
    stream endpoint unusable      StreamUnavailable (callers fall back to polling)

:class:`OperationInProgress`, :class:`StreamUnavailable` and :class:`StreamIdle`
live in :mod:`gitops_guard.argocd.exceptions` and are re-exported here.

The token is sent only in the ``Authorization`` header; it never appears in a
message, a log record or an exception.
"""

from __future__ import annotations

import json
import logging
import ssl
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

import httpx
import pydantic
import tenacity

from gitops_guard import errors
from gitops_guard.argocd import models
from gitops_guard.argocd.exceptions import (
    OperationInProgress,
    StreamIdle,
    StreamUnavailable,
)

log = logging.getLogger(__name__)

__all__ = [
    "TOKEN_ENV",
    "ArgoClient",
    "OperationInProgress",
    "StreamIdle",
    "StreamUnavailable",
    "normalize_server",
]

TOKEN_ENV = "ARGOCD_TOKEN"  # noqa: S105 - the name of the variable, not a token
_M = TypeVar("_M", bound=pydantic.BaseModel)

_TOKEN_REJECTED = (
    "ArgoCD rejected the token in {env} (HTTP {status}: {detail})",
    "Create a fresh API token (argocd account generate-token --account <ci-account>) and store "
    "it in the {env} secret of the workflow.",
)
_FORBIDDEN = (
    "ArgoCD refused access to application {app!r} (HTTP 403: {detail})",
    "Give the account behind {env} the RBAC permission 'applications, get, <project>/{app}' "
    "(and 'sync' for --sync); ArgoCD also answers 403 when the application does not exist, so "
    "check --app and --app-namespace too.",
)
_NOT_FOUND = (
    "ArgoCD has no application {app!r}{where} (HTTP 404: {detail})",
    "Check --app (the ArgoCD application name, not the Deployment) and --app-namespace.",
)
_UNREACHABLE = (
    "ArgoCD at {server} is unreachable after {attempts} attempts: {detail}",
    "Check --server and that the runner can reach it; the wait can be re-run safely.",
)
_TLS = (
    "TLS verification of {server} failed: {detail}",
    "Pass the server's CA certificate with --ca-bundle FILE, or --insecure for a lab server.",
)
_NOT_ARGOCD = (
    "{server} answered {what} that is not an ArgoCD API response: {detail}",
    "Check --server: it must be the ArgoCD API server URL (e.g. https://argocd.example.com).",
)


class _Transient(Exception):
    """Internal: a failure worth retrying (connect error, timeout, 5xx)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _detail(response: httpx.Response) -> str:
    """ArgoCD's own error message (``runtimeError.message``), or the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason_phrase
    if isinstance(body, dict):
        message = body.get("message") or body.get("error")
        if isinstance(message, str) and message:
            return message[:300]
    return response.text.strip()[:200]


def _is_tls_failure(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        cause = cause.__cause__ or cause.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


def normalize_server(server: str) -> str:
    """``argocd.example.com`` -> ``https://argocd.example.com``; trailing slash removed."""
    text = server.strip().rstrip("/")
    if not text:
        raise errors.InputError(
            "the ArgoCD server URL is empty",
            source="--server",
            hint="Pass the ArgoCD API server, e.g. --server https://argocd.example.com.",
        )
    if "://" not in text:
        text = "https://" + text
    url = httpx.URL(text)
    if url.scheme not in ("http", "https") or not url.host:
        raise errors.InputError(
            f"not an http(s) URL: {server!r}",
            source="--server",
            hint="Pass the ArgoCD API server, e.g. --server https://argocd.example.com.",
        )
    return text


class ArgoClient:
    """A small synchronous client of the ArgoCD REST API.

    Usage::

        with ArgoClient("https://argocd.example.com", token=os.environ["ARGOCD_TOKEN"]) as argo:
            app = argo.get_application("web", refresh="normal")
            argo.sync("web", revision="0123abc...")

    ``server``: base URL (scheme optional, https assumed). ``token``: the bearer token
    (register it with ``actions.register_secret`` before). ``insecure``: skip TLS
    verification. ``ca_bundle``: a PEM file of CA certificates to trust.
    ``app_namespace``: sent as ``appNamespace`` on every call (apps in any namespace).
    ``timeout_seconds``: per request. ``refresh_timeout_seconds``: the read timeout of a
    GET with ``refresh``, which ArgoCD answers only once the refresh is done.
    ``attempts``: tries per call for transient failures (connect errors, timeouts, 5xx),
    with jittered exponential waits of ``retry_wait_seconds`` up to
    ``retry_max_wait_seconds``. ``transport`` and ``sleep`` are seams for tests.
    """

    def __init__(
        self,
        server: str,
        *,
        token: str | None,
        insecure: bool = False,
        ca_bundle: str | Path | None = None,
        app_namespace: str | None = None,
        timeout_seconds: float = 10.0,
        refresh_timeout_seconds: float = 60.0,
        attempts: int = 4,
        retry_wait_seconds: float = 0.5,
        retry_max_wait_seconds: float = 4.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.server = normalize_server(server)
        self.app_namespace = app_namespace or None
        self.attempts = max(1, attempts)
        self.request_count = 0
        """Requests sent (every retry counts), for politeness checks and reports."""
        self._retry_wait = retry_wait_seconds
        self._retry_max_wait = retry_max_wait_seconds
        self._sleep = sleep
        self._timeout = timeout_seconds
        self._refresh_timeout = max(timeout_seconds, refresh_timeout_seconds)
        verify: bool | ssl.SSLContext = True
        if insecure:
            verify = False
        elif ca_bundle is not None:
            path = Path(ca_bundle)
            if not path.is_file():
                raise errors.InputError(
                    f"CA bundle {str(path)!r} does not exist",
                    source="--ca-bundle",
                    hint="Pass a PEM file with the CA certificate(s) of the ArgoCD server.",
                )
            try:
                verify = ssl.create_default_context(cafile=str(path))
            except (ssl.SSLError, OSError) as exc:
                raise errors.InputError(
                    f"CA bundle {str(path)!r} is not a PEM certificate file: {exc}",
                    source="--ca-bundle",
                    hint="Pass a PEM file with the CA certificate(s) of the ArgoCD server.",
                ) from exc
        headers = {"Accept": "application/json", "User-Agent": "gitops-guard"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.server,
            headers=headers,
            verify=verify,
            timeout=httpx.Timeout(timeout_seconds),
            transport=transport,
            follow_redirects=False,
        )

    # ---------------------------------------------------------------- lifecycle
    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> ArgoClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ---------------------------------------------------------------- API calls
    def get_application(
        self, name: str, *, refresh: Literal["normal", "hard"] | None = None
    ) -> models.Application:
        """``GET /api/v1/applications/{name}``; ``refresh`` asks ArgoCD to reconcile now."""
        params = self._params(refresh=refresh)
        response = self._send(
            "GET",
            f"/api/v1/applications/{_quote(name)}",
            app=name,
            params=params,
            read_timeout=self._refresh_timeout if refresh else None,
        )
        return self._parse(response, models.Application)

    def sync(
        self,
        name: str,
        revision: str | None = None,
        *,
        revisions: Sequence[str] = (),
        source_positions: Sequence[int] = (),
        prune: bool = False,
    ) -> models.Application:
        """``POST /api/v1/applications/{name}/sync`` of ``revision`` (or per-source ``revisions``).

        Raises :class:`OperationInProgress` when ArgoCD refuses because an operation runs.
        """
        body: dict[str, Any] = {"name": name, "prune": prune}
        if revision:
            body["revision"] = revision
        if revisions:
            body["revisions"] = list(revisions)
            body["sourcePositions"] = [str(p) for p in source_positions]
        if self.app_namespace:
            body["appNamespace"] = self.app_namespace
        response = self._send(
            "POST", f"/api/v1/applications/{_quote(name)}/sync", app=name, json_body=body
        )
        return self._parse(response, models.Application)

    def terminate_operation(self, name: str) -> bool:
        """``DELETE /api/v1/applications/{name}/operation``: stop the running operation.

        Returns True when ArgoCD accepted, False when no operation was in progress
        (ArgoCD's HTTP 400 "No operation is in progress"), so callers need not race it.
        """
        response = self._send(
            "DELETE",
            f"/api/v1/applications/{_quote(name)}/operation",
            app=name,
            params=self._params(),
            ok_statuses=(400,),
        )
        if response.status_code == 400:
            if "no operation is in progress" in _detail(response).lower():
                return False
            self._raise_for_status(response, app=name)
        return True

    def watch_application(
        self, name: str, *, idle_timeout_seconds: float
    ) -> Iterator[models.Application]:
        """Stream ``/api/v1/stream/applications?name=...``: yields the app on every change.

        ArgoCD sends the current state first, then one event per change. Raises
        :class:`StreamIdle` when no event arrives for ``idle_timeout_seconds`` (callers
        reconnect or fall back) and :class:`StreamUnavailable` when the endpoint does not
        work here (404/405/501, a proxy that cuts the stream, a non-JSON body). Auth and
        not-found errors raise as for :meth:`get_application`. Not retried: the caller
        decides whether to reconnect or poll.
        """
        params = self._params()
        params["name"] = name
        timeout = httpx.Timeout(self._timeout, read=max(0.05, idle_timeout_seconds))
        events = 0
        self.request_count += 1
        try:
            with self._http.stream(
                "GET", "/api/v1/stream/applications", params=params, timeout=timeout
            ) as response:
                if response.status_code != 200:
                    response.read()
                    if response.status_code in (401, 403):
                        self._raise_for_status(response, app=name)
                    raise StreamUnavailable(
                        f"stream endpoint answered HTTP {response.status_code}: {_detail(response)}"
                    )
                for line in response.iter_lines():
                    if not line.strip():
                        continue
                    app = self._parse_event(line)
                    events += 1
                    if app is not None:
                        yield app
        except httpx.ReadTimeout as exc:
            raise StreamIdle(f"no event for {idle_timeout_seconds:.1f}s", events=events) from exc
        except (httpx.TransportError, httpx.StreamError) as exc:
            raise StreamUnavailable(f"stream broke: {type(exc).__name__}: {exc}") from exc
        raise StreamUnavailable("stream closed by the server")

    # ---------------------------------------------------------------- internals
    def _params(self, *, refresh: str | None = None) -> dict[str, str]:
        params: dict[str, str] = {}
        if refresh:
            params["refresh"] = refresh
        if self.app_namespace:
            params["appNamespace"] = self.app_namespace
        return params

    def _parse_event(self, line: str) -> models.Application | None:
        try:
            envelope = json.loads(line)
        except ValueError as exc:
            raise StreamUnavailable(f"stream sent a line that is not JSON: {line[:80]!r}") from exc
        if not isinstance(envelope, dict):
            raise StreamUnavailable("stream sent JSON that is not an object")
        if envelope.get("error"):
            raise StreamUnavailable(f"stream error: {envelope['error']}")
        try:
            event = models.ApplicationWatchEvent.model_validate(envelope.get("result") or {})
        except pydantic.ValidationError as exc:
            raise StreamUnavailable(f"stream event does not parse: {exc}") from exc
        return event.application

    def _parse(self, response: httpx.Response, model: type[_M]) -> _M:
        try:
            return model.model_validate(response.json())
        except (ValueError, pydantic.ValidationError) as exc:
            message, hint = _NOT_ARGOCD
            raise errors.DependencyUnavailable(
                message.format(
                    server=self.server,
                    what=response.headers.get("content-type", "a body"),
                    detail=str(exc).splitlines()[0][:200],
                ),
                source="--server",
                hint=hint,
            ) from exc

    def _send(
        self,
        method: str,
        path: str,
        *,
        app: str,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        ok_statuses: tuple[int, ...] = (),
        read_timeout: float | None = None,
    ) -> httpx.Response:
        """Send one call with bounded retries; the one place foreign errors are translated.

        Statuses in ``ok_statuses`` are returned for the caller to read instead of raised.
        """
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=tenacity.wait_exponential_jitter(
                multiplier=self._retry_wait, jitter=self._retry_wait, max=self._retry_max_wait
            ),
            retry=tenacity.retry_if_exception_type(_Transient),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    response = self._attempt(
                        method, path, params=params, json_body=json_body, read_timeout=read_timeout
                    )
        except _Transient as exc:
            message, hint = _UNREACHABLE
            raise errors.DependencyUnavailable(
                message.format(server=self.server, attempts=self.attempts, detail=exc.detail),
                source="--server",
                hint=hint,
            ) from exc
        if response.status_code >= 400 and response.status_code not in ok_statuses:
            self._raise_for_status(response, app=app)
        return response

    def _attempt(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None,
        json_body: dict[str, Any] | None,
        read_timeout: float | None = None,
    ) -> httpx.Response:
        self.request_count += 1
        timeout = httpx.Timeout(self._timeout, read=read_timeout or self._timeout)
        try:
            response = self._http.request(
                method, path, params=params, json=json_body, timeout=timeout
            )
        except httpx.ConnectError as exc:
            if _is_tls_failure(exc):
                message, hint = _TLS
                raise errors.ConfigError(
                    message.format(server=self.server, detail=exc),
                    source="--ca-bundle",
                    hint=hint,
                ) from exc
            raise _Transient(f"connect error: {exc}") from exc
        except httpx.TimeoutException as exc:
            raise _Transient(f"{type(exc).__name__} after {self._timeout:g}s") from exc
        except httpx.TransportError as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500:
            log.debug("ArgoCD answered %s to %s %s", response.status_code, method, path)
            raise _Transient(f"HTTP {response.status_code}: {_detail(response)}")
        return response

    def _raise_for_status(self, response: httpx.Response, *, app: str) -> None:
        status = response.status_code
        detail = _detail(response)
        if status == 401:
            message, hint = _TOKEN_REJECTED
            raise errors.ConfigError(
                message.format(env=TOKEN_ENV, status=status, detail=detail),
                source=TOKEN_ENV,
                hint=hint.format(env=TOKEN_ENV),
            )
        if status == 403:
            message, hint = _FORBIDDEN
            raise errors.ConfigError(
                message.format(app=app, detail=detail),
                source=TOKEN_ENV,
                hint=hint.format(env=TOKEN_ENV, app=app),
            )
        if status == 404:
            message, hint = _NOT_FOUND
            where = f" in namespace {self.app_namespace!r}" if self.app_namespace else ""
            raise errors.ConfigError(
                message.format(app=app, where=where, detail=detail), source="--app", hint=hint
            )
        if status in (400, 409) and "already in progress" in detail.lower():
            raise OperationInProgress(f"ArgoCD refused: {detail}")
        raise errors.ConfigError(
            f"ArgoCD refused the request for application {app!r} (HTTP {status}: {detail})",
            source="--app",
            hint="Check the application's settings in ArgoCD and the flags passed.",
        )


def _quote(name: str) -> str:
    """An application name as one path segment."""
    return urllib.parse.quote(name, safe="")
