"""The HTTP base's :class:`Client`: one request, retried, bounded and translated.

See :mod:`gitops_guard.http` for the contract (what is retried, how errors are
translated); the values it runs on are in :mod:`policy` and :mod:`tls`.

This module must not know any one API: paths, payloads and policy are the callers'.
"""

from __future__ import annotations

import logging
import random
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx
import pydantic
import tenacity

from gitops_guard import credentials, errors
from gitops_guard.deadline import Deadline, DeadlineExceeded, bounded
from gitops_guard.http import policy, tls
from gitops_guard.http.policy import RetryPolicy, Timeouts, Unavailable

__all__ = ["Client", "Closing", "StatusHandler", "body_detail"]

log = logging.getLogger("gitops_guard.http")  # the name it always had

_M = TypeVar("_M")


def body_detail(response: httpx.Response, *, limit: int = 200) -> str:
    """A server's own error message (``message``/``error`` of a JSON body) or the body's start.

    Redacted: servers echo request headers in error pages.
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = body.get("message") or body.get("error")
        if isinstance(message, str) and message:
            return credentials.redact(message.strip()[: limit + 100])
    text = response.text.strip()[:limit] if response.content else ""
    return credentials.redact(text or response.reason_phrase or f"HTTP {response.status_code}")


StatusHandler = Callable[[httpx.Response], Exception | None]
"""Turns a 4xx answer into the caller's error; None leaves it to the default translation."""


_Self = TypeVar("_Self", bound="Closing")


class Closing:
    """``with`` for a client: every client on the base (and the base) closes on exit.

    Subclasses define :meth:`close` (close their connection pool).
    """

    def close(self) -> None:
        """Close the connection pool."""
        raise NotImplementedError

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Client(Closing):
    """An HTTP client for one dependency, with the package's one contract.

    ``base_url`` may carry ``user:pass@``: it is stripped (``base_url`` shows the URL
    without it) and sent as basic auth unless a bearer ``token`` is given. ``service``
    names the dependency in messages (``ArgoCD``), ``url_source`` the flag or input of
    its URL (``--server``), ``ca_source`` the TLS flag. ``deadline`` bounds every call;
    ``call_budget_seconds`` additionally bounds each call, retries included.
    ``transport``, ``sleep`` and ``clock`` are seams for tests.
    """

    def __init__(
        self,
        base_url: str,
        *,
        service: str,
        url_source: str,
        token: credentials.Token | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        deadline: Deadline | None = None,
        call_budget_seconds: float | None = None,
        call_budget_source: str | None = None,
        verify: bool | str | ssl.SSLContext = True,
        ca_source: str = "--ca-bundle",
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = False,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        url, userinfo = credentials.split_userinfo(base_url)
        self.base_url = url.rstrip("/")
        self.service = service
        self.url_source = url_source
        self.token = token
        self.userinfo = userinfo
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.clock = clock
        self.deadline = deadline or Deadline(None, clock=clock)
        self.call_budget_seconds = call_budget_seconds
        self.call_budget_source = call_budget_source
        self.ca_source = ca_source
        self.request_count = 0
        """Requests sent, every retry included."""
        self._sleep = sleep
        all_headers = {"Accept": "application/json", "User-Agent": "gitops-guard"}
        all_headers.update(headers or {})
        auth: httpx.Auth | None = None
        if token is not None:
            credentials.register(token.value)
            all_headers["Authorization"] = f"Bearer {token.value}"
        elif userinfo is not None:
            auth = httpx.BasicAuth(*userinfo)
        if isinstance(verify, str):
            verify = tls.verify_from(ca_bundle=verify, source=ca_source)
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=all_headers,
            auth=auth,
            verify=verify,
            transport=transport,
            follow_redirects=follow_redirects,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # ------------------------------------------------------------ deadlines
    def call_deadline(self, deadline: Deadline | None = None) -> Deadline:
        """The deadline of one call: the given or the client's, cut by the call budget."""
        chosen = bounded(deadline or self.deadline)
        if self.call_budget_seconds is not None:
            chosen = chosen.earliest(
                Deadline(
                    self.call_budget_seconds,
                    source=self.call_budget_source or chosen.source,
                    clock=self.clock,
                )
            )
        return chosen

    def expired(self, deadline: Deadline, what: str, detail: str | None = None) -> DeadlineExceeded:
        """The error for ``deadline`` having run out while waiting for ``what``."""
        elapsed = deadline.elapsed()
        last = f"; last: {detail}" if detail else ""
        return DeadlineExceeded(
            f"{self.service} at {self.base_url} gave no usable answer to {what} within "
            f"{deadline.describe()}: {elapsed:.1f}s elapsed{last}",
            elapsed_seconds=elapsed,
            source=self.url_source,
            hint=f"Check that {self.service} is healthy and reachable from the runner; "
            f"raise {deadline.source.split()[0]} if it is only slow.",
        )

    # ------------------------------------------------------------ requests
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | list[tuple[str, str]] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        content: bytes | None = None,
        content_type: str | None = None,
        ok_statuses: tuple[int, ...] = (),
        on_status: StatusHandler | None = None,
        request_seconds: float | None = None,
        deadline: Deadline | None = None,
        retry: bool = True,
        transient: Callable[[httpx.Response], bool] | None = None,
    ) -> httpx.Response:
        """Send one call, retried by the policy, within the deadline; the answer is read whole.

        Answers below 400 and those in ``ok_statuses`` are returned; the rest raise
        (see the module docstring). ``transient(response)`` marks more answers as worth
        a retry (a query timeout). When retries run out, the :class:`Unavailable` raised
        carries the last answer, if any, for the caller to read.
        """
        call = self.call_deadline(deadline)
        what = f"{method} {path}"
        attempts = max(1, self.retry.attempts) if retry else 1
        last: list[str] = []
        answers: list[httpx.Response | None] = []

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            pause = min(
                self.retry.max_wait_seconds,
                self.retry.initial_wait_seconds * 2 ** (state.attempt_number - 1),
            )
            pause = random.uniform(pause / 2, pause)  # noqa: S311 (jitter, not cryptography)
            if isinstance(exc, policy.Transient) and exc.retry_after is not None:
                pause = max(pause, exc.retry_after)
            return pause

        def stop(state: tenacity.RetryCallState) -> bool:
            if state.attempt_number >= attempts:
                return True
            exc = state.outcome.exception() if state.outcome else None
            if (
                isinstance(exc, policy.Transient)
                and exc.retry_after is not None
                and exc.retry_after > self.retry.max_retry_after_seconds
            ):
                return True
            # Retry only when the wait leaves time for an attempt to answer.
            return state.upcoming_sleep >= call.remaining() - 0.05

        retrying = tenacity.Retrying(
            stop=stop,
            wait=wait,
            retry=tenacity.retry_if_exception_type(policy.Transient),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    if call.expired():
                        raise self.expired(call, what, last[-1] if last else None)
                    try:
                        response = self._attempt(
                            method,
                            path,
                            params=params,
                            json=json,
                            data=data,
                            content=content,
                            content_type=content_type,
                            call=call,
                            request_seconds=request_seconds,
                            transient=transient,
                        )
                    except policy.Transient as exc:
                        last.append(exc.detail)
                        answers.append(exc.response)
                        raise
        except policy.Transient as exc:
            if call.expired() or (
                exc.retry_after is not None and exc.retry_after >= call.remaining()
            ):
                detail = exc.detail
                if not call.expired() and exc.retry_after is not None:
                    detail += (
                        f", asking to retry after {exc.retry_after:g}s (Retry-After), "
                        f"more than the {max(0.0, call.remaining()):.1f}s left"
                    )
                expired = self.expired(call, what, detail)
                expired.last_response = exc.response
                raise expired from exc
            tries = len(last)
            raise Unavailable(
                last_response=exc.response,
                message=f"{self.service} at {self.base_url} could not be reached ({what}): "
                f"unreachable after {tries} attempt{'s' if tries != 1 else ''} in "
                f"{call.elapsed():.1f}s; last: {exc.detail}",
                source=self.url_source,
                hint=f"Check {self.url_source} and that the runner can reach {self.service}; "
                "the command can be re-run safely.",
            ) from exc
        status = response.status_code
        if status < 400 or status in ok_statuses:
            return response
        raise self.translate_status(response, on_status)

    def translate_status(
        self, response: httpx.Response, on_status: StatusHandler | None = None
    ) -> Exception:
        """The error for a 4xx answer: the caller's, else the default contract."""
        if on_status is not None:
            mine = on_status(response)
            if mine is not None:
                return mine
        status = response.status_code
        detail = body_detail(response)
        if status in (401, 403):
            source = self.token.source if self.token is not None else None
            if source is None and self.userinfo is not None:
                source = f"the user info of {self.url_source}"
            variable = source or "its token variable"
            return errors.ConfigError(
                f"{self.service} at {self.base_url} refused the credentials "
                f"(HTTP {status}: {detail})",
                source=source or self.url_source,
                hint=f"Set {variable} to a token {self.service} accepts, "
                "with the permissions this command needs.",
            )
        if status == 404:
            return errors.ConfigError(
                f"{self.service} at {self.base_url} has no {response.request.url.path} "
                f"(HTTP 404: {detail})",
                source=self.url_source,
                hint=f"Check {self.url_source}: the server's base URL, with any path prefix.",
            )
        return errors.ConfigError(
            f"{self.service} at {self.base_url} refused the request (HTTP {status}: {detail})",
            source=self.url_source,
            hint="Check the flags passed and the server's settings.",
        )

    def _timeout(self, seconds: float) -> httpx.Timeout:
        return httpx.Timeout(
            seconds,
            connect=max(0.01, min(self.timeouts.connect_seconds, seconds)),
        )

    def _attempt(
        self,
        method: str,
        path: str,
        *,
        params: Any,
        json: Any,
        data: Any,
        content: bytes | None = None,
        content_type: str | None = None,
        call: Deadline,
        request_seconds: float | None,
        transient: Callable[[httpx.Response], bool] | None = None,
    ) -> httpx.Response:
        budget = call.bound(request_seconds or self.timeouts.request_seconds)
        if budget <= 0:
            raise policy.Transient("no time left for another attempt")
        this = Deadline(budget, clock=self.clock)
        request = self._http.build_request(
            method,
            path,
            params=params,
            json=json,
            data=data,
            content=content,
            headers={"Content-Type": content_type} if content_type else None,
            timeout=self._timeout(budget),
        )
        self.request_count += 1
        try:
            response = self._http.send(request, stream=True)
            try:
                full = self._read_body(response, this, request)
            finally:
                response.close()
        except policy.TooSlow as exc:
            raise policy.Transient(str(exc)) from exc
        except httpx.ConnectError as exc:
            if tls.is_tls_failure(exc):
                raise errors.ConfigError(
                    f"TLS verification of {self.base_url} failed: {credentials.redact(str(exc))}",
                    source=self.ca_source,
                    hint="Pass the server's CA certificate with the CA bundle input, or "
                    "skip verification (--insecure) for a lab server only.",
                ) from exc
            raise policy.Transient(f"connect error: {credentials.redact(str(exc))}") from exc
        except httpx.TimeoutException as exc:
            raise policy.Transient(
                f"no answer within {budget:.1f}s ({type(exc).__name__})"
            ) from exc
        except (httpx.TransportError, httpx.StreamError) as exc:
            # RemoteProtocolError included: a body cut short of its Content-Length.
            raise policy.Transient(
                f"broken answer ({type(exc).__name__}: {credentials.redact(str(exc))})"
            ) from exc
        status = full.status_code
        if status == 429 or status >= 500 or (transient is not None and transient(full)):
            log.debug("%s answered %s to %s %s", self.service, status, method, path)
            raise policy.Transient(
                f"HTTP {status}: {body_detail(full)}",
                retry_after=policy.retry_after_seconds(full.headers.get("retry-after")),
                response=full,
            )
        return full

    def _read_body(
        self, response: httpx.Response, this: Deadline, request: httpx.Request
    ) -> httpx.Response:
        """The whole answer, read chunk by chunk so that a slow drip is cut at the deadline."""
        if response.is_stream_consumed:  # a transport that answered with a read response
            return response
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_raw():
            chunks.append(chunk)
            size += len(chunk)
            if size > policy.MAX_BODY_BYTES:
                raise policy.TooSlow(f"answer larger than {policy.MAX_BODY_BYTES} bytes")
            if this.expired():
                raise policy.TooSlow(
                    f"answer still arriving after {this.elapsed():.1f}s ({size} bytes so far)"
                )
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=b"".join(chunks),
            request=request,
        )

    # ------------------------------------------------------------ streams
    def stream_lines(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        read_seconds: float,
        until: Deadline,
        on_status: Callable[[httpx.Response], Exception],
    ) -> Iterator[str]:
        """GET a line-delimited stream; yields every line (blank ones included).

        Ends (returns) when ``until`` expires, whatever the server keeps sending;
        a read that waits ``read_seconds`` raises ``httpx.ReadTimeout``. A status other
        than 200 is read whole and ``on_status(response)`` is raised. Not retried:
        callers decide whether to reconnect. httpx errors propagate for the caller to
        translate.
        """
        read = until.bound(read_seconds)
        if read <= 0:
            return
        self.request_count += 1
        request = self._http.build_request(
            "GET", path, params=params, timeout=self._timeout(max(0.05, read))
        )
        response = self._http.send(request, stream=True)
        try:
            if response.status_code != 200:
                response.read()
                raise on_status(response)
            pending = b""
            for chunk in response.iter_bytes():
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    yield line.decode("utf-8", errors="replace").rstrip("\r")
                if until.expired():
                    return
                if len(pending) > policy.MAX_BODY_BYTES:
                    raise httpx.RemoteProtocolError("a stream line without end")
        finally:
            response.close()

    # ------------------------------------------------------------ parsing
    def parse(self, response: httpx.Response, model: type[_M] | pydantic.TypeAdapter[_M]) -> _M:
        """The JSON body validated by ``model``; anything else is exit 3 naming who said what."""
        what = f"{response.request.method} {response.request.url.path}"
        try:
            body = response.json()
        except ValueError as exc:
            raise self.not_api(what, "a body that is not JSON", response) from exc
        try:
            if isinstance(model, pydantic.TypeAdapter):
                return model.validate_python(body)
            return model.model_validate(body)  # type: ignore[attr-defined, no-any-return]
        except pydantic.ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                for e in exc.errors()[:3]
            )
            raise self.not_api(what, f"JSON of the wrong shape ({problems})", response) from exc

    def not_api(
        self, what: str, described: str, response: httpx.Response | None = None
    ) -> errors.DependencyUnavailable:
        """The error for an answer that is not this dependency's API."""
        start = ""
        if response is not None and response.content:
            start = f"; it began {credentials.redact(response.text[:80])!r}"
        status = f"HTTP {response.status_code} with " if response is not None else ""
        return errors.DependencyUnavailable(
            f"{self.service} at {self.base_url} answered {what} with {status}{described}{start}",
            source=self.url_source,
            hint=f"Check {self.url_source}: it must be the {self.service} API's base URL; "
            "a proxy or a broken server may answer in its place.",
        )
