"""The ArgoCD REST API client: the only module of this package that does I/O.

:class:`ArgoClient` has one method per API call we use, returns parsed
:mod:`~gitops_guard.argocd.models`, and sits on the one HTTP base
(:class:`gitops_guard.http.Client`): timeouts, the bearer token, TLS settings, the
deadline and the retry policy are its. It holds no policy: deciding whether an
application is done is :mod:`gitops_guard.argocd.wait`'s job.

Errors, translated by the HTTP base and :meth:`ArgoClient._on_status` (and, for the
long-lived stream, in :meth:`ArgoClient.watch_application`)::

    connect error, timeout, 5xx,  retried within the deadline, then
    429, truncated body           errors.DependencyUnavailable (3)
    the deadline expires          http.DeadlineExceeded (3), with the real elapsed time
    TLS verification failure      errors.ConfigError naming --ca-bundle / --insecure (2)
    401, 403                      errors.ConfigError naming the token variable (2)
    404                           errors.ConfigError naming --app (2)
    400 "already in progress"     OperationInProgress (3; callers retry later)
    400 "no operation in progress" terminate_operation() returns False
    other 4xx                     errors.ConfigError with ArgoCD's message (2)
    a body that is not ArgoCD's   errors.DependencyUnavailable naming --server (3):
    ({}, an app without status)   a malformed answer is "could not decide", never "no"
    stream endpoint unusable      StreamUnavailable (callers fall back to polling)
    stream quiet (keep-alives     StreamIdle: only events count, so a server that
    do not count)                 sends blank lines cannot hold the wait open

:class:`OperationInProgress`, :class:`StreamUnavailable` and :class:`StreamIdle`
live in :mod:`gitops_guard.argocd.exceptions` and are re-exported here.

The token is sent only in the ``Authorization`` header; it never appears in a
message, a log record or an exception. User info in ``--server``
(``https://admin:TOKEN@host``) is stripped from the URL and used as the bearer
token when no token variable is set (ArgoCD's API takes no basic auth).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import httpx
import pydantic

from gitops_guard import credentials, errors, http, urls
from gitops_guard.argocd import models, syncwindows
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

TOKEN_ENV = credentials.ARGOCD_VARS[0]
"""The variable named in messages when no token was given (``ARGOCD_TOKEN``)."""

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


class _ApplicationList(pydantic.BaseModel):
    """``v1alpha1ApplicationList``: the items are validated one by one."""

    model_config = pydantic.ConfigDict(extra="ignore")
    items: list[dict[str, Any]] | None = None


class _Present(pydantic.BaseModel):
    """What every Application answer must carry to be judged at all."""

    model_config = pydantic.ConfigDict(extra="ignore")

    class _Meta(pydantic.BaseModel):
        name: str = pydantic.Field(min_length=1)

    metadata: _Meta
    status: dict[str, Any] = pydantic.Field(min_length=1)


def _detail(response: httpx.Response) -> str:
    """ArgoCD's own error message (``runtimeError.message``), or the start of the body."""
    return http.body_detail(response, limit=200)


def normalize_server(server: str) -> str:
    """``argocd.example.com`` -> ``https://argocd.example.com``; trailing slash removed.

    Checked by the one URL check (:func:`gitops_guard.urls.check_url`): exit 2 naming
    ``--server``. User info is kept here (the client strips it and registers it as a
    secret); use :func:`display_server` for anything printed or stored.
    """
    return urls.check_url(server, "--server", default_scheme="https")


def display_server(server: str) -> str:
    """The server URL as it may be printed or stored: no user info."""
    return credentials.split_userinfo(server.strip())[0].rstrip("/")


class ArgoClient(http.Closing):
    """A small synchronous client of the ArgoCD REST API.

    Usage::

        with ArgoClient("https://argocd.example.com", token=credentials.argocd_token()) as argo:
            app = argo.get_application("web", refresh="normal")
            argo.sync("web", revision="0123abc...")

    ``server``: base URL (scheme optional, https assumed; user info is stripped).
    ``token``: the bearer token (a :class:`~gitops_guard.credentials.Token`, or a bare
    string named ``ARGOCD_TOKEN`` in messages); registered as a secret at once.
    ``insecure``: skip TLS verification. ``ca_bundle``: a PEM file of CA certificates.
    ``app_namespace``: sent as ``appNamespace`` on every call (apps in any namespace).
    ``timeout_seconds``: per request, the whole answer. ``refresh_timeout_seconds``: a
    GET with ``refresh``, which ArgoCD answers only once the refresh is done.
    ``attempts``: tries per call for transient failures, with jittered exponential waits
    of ``retry_wait_seconds`` up to ``retry_max_wait_seconds``. ``deadline`` bounds
    every request, retry and stream read. ``transport``, ``sleep`` and ``clock`` are
    seams for tests.
    """

    def __init__(
        self,
        server: str,
        *,
        token: str | credentials.Token | None,
        insecure: bool = False,
        ca_bundle: str | Path | None = None,
        app_namespace: str | None = None,
        timeout_seconds: float = 10.0,
        refresh_timeout_seconds: float = 60.0,
        attempts: int = 4,
        retry_wait_seconds: float = 0.5,
        retry_max_wait_seconds: float = 4.0,
        deadline: http.Deadline | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        raw = normalize_server(server)
        bare, userinfo = credentials.split_userinfo(raw)
        self.server = bare.rstrip("/")
        """The server URL without user info: what may be printed and stored."""
        if isinstance(token, str):
            token = credentials.Token(token, TOKEN_ENV) if token else None
        if token is None and userinfo is not None:
            user, password = userinfo
            token = credentials.Token(password or user, "the user info of --server")
        self.token_source = token.source if token is not None else TOKEN_ENV
        self.app_namespace = app_namespace or None
        self.attempts = max(1, attempts)
        self._timeout = timeout_seconds
        self._refresh_timeout = max(timeout_seconds, refresh_timeout_seconds)
        self._clock = clock
        verify = http.verify_from(insecure=insecure, ca_bundle=ca_bundle, source="--ca-bundle")
        self._http = http.Client(
            self.server,
            service="ArgoCD",
            url_source="--server",
            token=token,
            timeouts=http.Timeouts(
                connect_seconds=min(5.0, timeout_seconds), request_seconds=timeout_seconds
            ),
            retry=http.RetryPolicy(
                attempts=self.attempts,
                initial_wait_seconds=retry_wait_seconds,
                max_wait_seconds=retry_max_wait_seconds,
            ),
            deadline=deadline,
            verify=verify,
            transport=transport,
            sleep=sleep,
            clock=clock,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    @property
    def request_count(self) -> int:
        """Requests sent (every retry counts), for politeness checks and reports."""
        return self._http.request_count

    @property
    def deadline(self) -> http.Deadline:
        return self._http.deadline

    # ---------------------------------------------------------------- API calls
    def get_application(
        self, name: str, *, refresh: Literal["normal", "hard"] | None = None
    ) -> models.Application:
        """``GET /api/v1/applications/{name}``; ``refresh`` asks ArgoCD to reconcile now."""
        response = self._send(
            "GET",
            f"/api/v1/applications/{_quote(name)}",
            app=name,
            params=self._params(refresh=refresh),
            read_timeout=self._refresh_timeout if refresh else None,
        )
        return self._parse_application(response)

    def list_applications(self, *, selector: str | None = None) -> list[models.Application]:
        """``GET /api/v1/applications[?selector=KEY=VALUE]``: every (selected) application."""
        params = self._params()
        if selector:
            params["selector"] = selector
        response = self._send("GET", "/api/v1/applications", app=selector or "*", params=params)
        listed = self._http.parse(response, _ApplicationList)
        return [models.Application.model_validate(item) for item in listed.items or []]

    def get_sync_windows(self, name: str) -> syncwindows.SyncWindows:
        """``GET /api/v1/applications/{name}/syncwindows``: assigned and active windows."""
        response = self._send(
            "GET",
            f"/api/v1/applications/{_quote(name)}/syncwindows",
            app=name,
            params=self._params(),
        )
        return self._http.parse(response, syncwindows.SyncWindows)

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
        return self._http.parse(response, models.Application)

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
            raise self._http.translate_status(response, self._on_status(name))
        return True

    def watch_application(
        self, name: str, *, idle_timeout_seconds: float
    ) -> Iterator[models.Application]:
        """Stream ``/api/v1/stream/applications?name=...``: yields the app on every change.

        ArgoCD sends the current state first, then one event per change. Raises
        :class:`StreamIdle` when no *event* arrives for ``idle_timeout_seconds``
        (keep-alive blank lines do not count) or the deadline ends, and
        :class:`StreamUnavailable` when the endpoint does not work here
        (404/405/501, a proxy that cuts the stream, a non-JSON body). Auth errors
        raise as for :meth:`get_application`. Not retried: the caller decides whether
        to reconnect or poll.
        """
        params = self._params()
        params["name"] = name
        idle = max(0.05, idle_timeout_seconds)
        command = self._http.deadline
        # The quiet period, never past the command's deadline; reset by every event.
        quiet = http.Deadline(min(idle, max(0.0, command.remaining())), clock=self._clock)
        events = 0

        def on_status(response: httpx.Response) -> Exception:
            if response.status_code in (401, 403):
                return self._http.translate_status(response, self._on_status(name))
            return StreamUnavailable(
                f"stream endpoint answered HTTP {response.status_code}: {_detail(response)}"
            )

        try:
            lines = self._http.stream_lines(
                "/api/v1/stream/applications",
                params=params,
                read_seconds=idle,
                until=quiet,
                on_status=on_status,
            )
            for line in lines:
                if not line.strip():
                    if quiet.expired():
                        break
                    continue
                app = self._parse_event(line)
                events += 1
                quiet.start = self._clock()  # an event: the quiet period starts again
                quiet.seconds = min(idle, max(0.0, command.remaining()))
                if app is not None:
                    yield app
                if quiet.expired():
                    break
        except httpx.ReadTimeout as exc:
            raise StreamIdle(f"no event for {idle:.1f}s", events=events) from exc
        except (httpx.TransportError, httpx.StreamError) as exc:
            raise StreamUnavailable(
                f"stream broke: {type(exc).__name__}: {credentials.redact(str(exc))}"
            ) from exc
        if quiet.expired() or command.expired():
            raise StreamIdle(f"no event for {quiet.elapsed():.1f}s", events=events)
        raise StreamUnavailable("stream closed by the server")

    # ---------------------------------------------------------------- internals
    def _params(self, *, refresh: str | None = None) -> dict[str, str]:
        params: dict[str, str] = {}
        if refresh:
            params["refresh"] = refresh
        if self.app_namespace:
            params["appNamespace"] = self.app_namespace
        return params

    def _parse_application(self, response: httpx.Response) -> models.Application:
        self._http.parse(response, _Present)  # {} or no status: not an answer to judge
        return self._http.parse(response, models.Application)

    def _parse_event(self, line: str) -> models.Application | None:
        try:
            envelope = json.loads(line)
        except ValueError as exc:
            raise StreamUnavailable(
                f"stream sent a line that is not JSON: {credentials.redact(line[:80])!r}"
            ) from exc
        if not isinstance(envelope, dict):
            raise StreamUnavailable("stream sent JSON that is not an object")
        if envelope.get("error"):
            raise StreamUnavailable(
                f"stream error: {credentials.redact(str(envelope['error']))[:200]}"
            )
        try:
            event = models.ApplicationWatchEvent.model_validate(envelope.get("result") or {})
            if event.application is not None:
                raw = (envelope.get("result") or {}).get("application")
                _Present.model_validate(raw)
        except pydantic.ValidationError as exc:
            raise StreamUnavailable(
                f"stream event does not parse: {str(exc).splitlines()[0]}"
            ) from exc
        return event.application

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
        """Send one call through the HTTP base (retries, deadline, translation)."""
        return self._http.request(
            method,
            path,
            params=params,
            json=json_body,
            ok_statuses=ok_statuses,
            on_status=self._on_status(app),
            request_seconds=read_timeout,
        )

    def _on_status(self, app: str) -> http.StatusHandler:
        def translate(response: httpx.Response) -> Exception | None:
            status = response.status_code
            detail = _detail(response)
            env = self.token_source
            if status == 401:
                message, hint = _TOKEN_REJECTED
                return errors.ConfigError(
                    message.format(env=env, status=status, detail=detail),
                    source=env,
                    hint=hint.format(env=env),
                )
            if status == 403:
                message, hint = _FORBIDDEN
                return errors.ConfigError(
                    message.format(app=app, detail=detail),
                    source=env,
                    hint=hint.format(env=env, app=app),
                )
            if status == 404:
                message, hint = _NOT_FOUND
                where = f" in namespace {self.app_namespace!r}" if self.app_namespace else ""
                return errors.ConfigError(
                    message.format(app=app, where=where, detail=detail),
                    source="--app",
                    hint=hint,
                )
            if status in (400, 409) and "already in progress" in detail.lower():
                return OperationInProgress(f"ArgoCD refused: {detail}")
            return errors.ConfigError(
                f"ArgoCD refused the request for application {app!r} (HTTP {status}: {detail})",
                source="--app",
                hint="Check the application's settings in ArgoCD and the flags passed.",
            )

        return translate


def _quote(name: str) -> str:
    """An application name as one path segment."""
    return urllib.parse.quote(name, safe="")
