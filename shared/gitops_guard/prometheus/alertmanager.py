"""Alertmanager v2 HTTP API client: read the alerts that fire now.

``GET /api/v2/alerts?active=true&silenced=false&inhibited=false&filter=alertname="X"``
returns the alerts Alertmanager holds (the ``gettableAlerts`` of its OpenAPI
description). :meth:`AlertmanagerClient.post_alerts` sends alerts the way
Prometheus does (used by tests and the lab).

It sits on the one HTTP base (:class:`gitops_guard.http.Client`: timeouts, token,
retries, deadline). Failures are translated there and in
:meth:`AlertmanagerClient._on_status`: 401/403 is a
:class:`~gitops_guard.errors.ConfigError` naming ``ALERTMANAGER_TOKEN``, 400 a
ConfigError naming the filter, an unreachable server after retries and an answer that
is not an alert list :class:`~gitops_guard.errors.DependencyUnavailable`.

This module must not decide anything: it never judges whether an alert matters.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pydantic

from gitops_guard import credentials, errors, http

TOKEN_ENV = credentials.ALERTMANAGER_VARS[0]


@dataclass(frozen=True)
class Alert:
    """One alert as ``GET /api/v2/alerts`` returns it (the fields we read)."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str] = field(default_factory=dict)
    state: str = "active"
    """``active``, ``suppressed`` (silenced or inhibited) or ``unprocessed``."""
    starts_at: str = ""
    fingerprint: str = ""
    generator_url: str = ""

    @property
    def name(self) -> str:
        """The ``alertname`` label."""
        return self.labels.get("alertname", "")

    def describe(self) -> str:
        """``HighErrorRate{app="web",severity="page"}``."""
        rest = ",".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()) if k != "alertname")
        return f"{self.name}{{{rest}}}" if rest else self.name


class _AlertStatus(pydantic.BaseModel):
    state: str = "active"


class _GettableAlert(pydantic.BaseModel):
    """One ``gettableAlert`` of Alertmanager's OpenAPI description (the fields we read)."""

    labels: dict[str, str]
    annotations: dict[str, str] = pydantic.Field(default_factory=dict)
    status: _AlertStatus = _AlertStatus()
    starts_at: str = pydantic.Field(default="", alias="startsAt")
    fingerprint: str = ""
    generator_url: str = pydantic.Field(default="", alias="generatorURL")


_ALERTS = pydantic.TypeAdapter(list[_GettableAlert])


def parse_alerts(payload: Any) -> list[Alert]:
    """Parse a ``gettableAlerts`` JSON array; raises ValueError on another shape."""
    if not isinstance(payload, list):
        raise ValueError("expected a JSON array of alerts")
    try:
        items = _ALERTS.validate_python(payload)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"an alert that does not parse ({where}: {first['msg']})") from exc
    return [
        Alert(
            labels=dict(item.labels),
            annotations=dict(item.annotations),
            state=item.status.state,
            starts_at=item.starts_at,
            fingerprint=item.fingerprint,
            generator_url=item.generator_url,
        )
        for item in items
    ]


def _matcher(name: str, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{name}="{escaped}"'


class AlertmanagerClient(http.Closing):
    """Reads (and, for tests and the lab, posts) alerts of one Alertmanager."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | credentials.Token | None = None,
        timeout_seconds: float = 10.0,
        attempts: int = 3,
        verify: bool | str | ssl.SSLContext = True,
        transport: httpx.BaseTransport | None = None,
        deadline: http.Deadline | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if isinstance(token, str):
            token = credentials.Token(token, TOKEN_ENV) if token else None
        self.attempts = max(1, attempts)
        self._http = http.Client(
            base_url,
            service="Alertmanager",
            url_source="--alertmanager-url",
            token=token,
            timeouts=http.Timeouts(
                connect_seconds=min(5.0, timeout_seconds), request_seconds=timeout_seconds
            ),
            retry=http.RetryPolicy(
                attempts=self.attempts, initial_wait_seconds=0.2, max_wait_seconds=3.0
            ),
            deadline=deadline,
            verify=verify,
            transport=transport,
            sleep=sleep,
        )
        self.base_url = self._http.base_url

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def alerts(
        self,
        *,
        matchers: Mapping[str, str] | None = None,
        active: bool = True,
        silenced: bool = False,
        inhibited: bool = False,
    ) -> list[Alert]:
        """The alerts matching every ``label=value`` in ``matchers`` (firing ones by default)."""
        params: list[tuple[str, str]] = [
            ("active", str(active).lower()),
            ("silenced", str(silenced).lower()),
            ("inhibited", str(inhibited).lower()),
        ]
        params += [("filter", _matcher(k, v)) for k, v in sorted((matchers or {}).items())]
        response = self._send("GET", "/api/v2/alerts", params=params)
        try:
            return parse_alerts(response.json())
        except ValueError as exc:
            raise self._http.not_api(
                "GET /api/v2/alerts", f"something that is not an alert list ({exc})", response
            ) from exc

    def post_alerts(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        """POST ``postableAlerts`` (labels, annotations, startsAt, endsAt, generatorURL)."""
        self._send("POST", "/api/v2/alerts", json=list(alerts))

    def _send(
        self, method: str, path: str, *, params: Any = None, json: Any = None
    ) -> httpx.Response:
        return self._http.request(method, path, params=params, json=json, on_status=self._on_status)

    def _on_status(self, response: httpx.Response) -> Exception | None:
        url = f"{self.base_url}{response.request.url.path}"
        if response.status_code in (401, 403):
            return errors.ConfigError(
                f"Alertmanager at {url} refused the request ({response.status_code})",
                source=TOKEN_ENV,
                hint=f"Set {TOKEN_ENV} to a token the proxy in front of Alertmanager accepts.",
            )
        if response.status_code == 400:
            return errors.ConfigError(
                f"Alertmanager rejected the request: {http.body_detail(response, limit=300)}",
                source="--rules",
                hint="Check the alert names and labels of the rules.",
            )
        return errors.ConfigError(
            f"Alertmanager at {url} answered {response.status_code}",
            source="--alertmanager-url",
            hint="Point --alertmanager-url at Alertmanager's base URL (without /api/v2).",
        )
