"""Alertmanager v2 HTTP API client: read the alerts that fire now.

``GET /api/v2/alerts?active=true&silenced=false&inhibited=false&filter=alertname="X"``
returns the alerts Alertmanager holds (the ``gettableAlerts`` of its OpenAPI
description). :meth:`AlertmanagerClient.post_alerts` sends alerts the way
Prometheus does (used by tests and the lab).

Failures are translated in one place (:meth:`AlertmanagerClient._send`): 401/403 is a
:class:`~gitops_guard.errors.ConfigError` naming ``ALERTMANAGER_TOKEN``, 400 a
ConfigError naming the filter, an unreachable server after retries
:class:`~gitops_guard.errors.DependencyUnavailable`.

This module must not decide anything: it never judges whether an alert matters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from gitops_guard import actions, errors

TOKEN_ENV = "ALERTMANAGER_TOKEN"  # noqa: S105 (the variable's name, not a token)


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


def parse_alerts(payload: Any) -> list[Alert]:
    """Parse a ``gettableAlerts`` JSON array; raises ValueError on another shape."""
    if not isinstance(payload, list):
        raise ValueError("expected a JSON array of alerts")
    found = []
    for item in payload:
        if not isinstance(item, dict) or not isinstance(item.get("labels"), dict):
            raise ValueError("an alert without labels")
        status = item.get("status") or {}
        found.append(
            Alert(
                labels={str(k): str(v) for k, v in item["labels"].items()},
                annotations={str(k): str(v) for k, v in (item.get("annotations") or {}).items()},
                state=str(status.get("state", "active")),
                starts_at=str(item.get("startsAt", "")),
                fingerprint=str(item.get("fingerprint", "")),
                generator_url=str(item.get("generatorURL", "")),
            )
        )
    return found


def _matcher(name: str, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{name}="{escaped}"'


class _Transient(Exception):
    def __init__(self, error: errors.GitopsGuardError) -> None:
        super().__init__(error.message)
        self.error = error


class AlertmanagerClient:
    """Reads (and, for tests and the lab, posts) alerts of one Alertmanager."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout_seconds: float = 10.0,
        attempts: int = 3,
        verify: bool | str = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.attempts = max(1, attempts)
        headers = {"Accept": "application/json", "User-Agent": "gitops-guard"}
        if token:
            actions.register_secret(token)
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout_seconds, connect=min(5.0, timeout_seconds)),
            verify=verify,
            transport=transport,
        )

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
            raise errors.DependencyUnavailable(
                f"{self.base_url}/api/v2/alerts answered something that is not an alert list: "
                f"{exc}",
                hint="Check that --alertmanager-url points at Alertmanager (v0.16 or later).",
            ) from exc

    def post_alerts(self, alerts: Sequence[Mapping[str, Any]]) -> None:
        """POST ``postableAlerts`` (labels, annotations, startsAt, endsAt, generatorURL)."""
        self._send("POST", "/api/v2/alerts", json=list(alerts))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AlertmanagerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(
        self, method: str, path: str, *, params: Any = None, json: Any = None
    ) -> httpx.Response:
        try:
            for attempt in Retrying(
                stop=stop_after_attempt(self.attempts),
                wait=wait_random_exponential(multiplier=0.2, max=3),
                retry=retry_if_exception_type(_Transient),
                reraise=True,
            ):
                with attempt:
                    return self._once(method, path, params=params, json=json)
        except _Transient as exc:
            raise exc.error from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, method: str, path: str, *, params: Any, json: Any) -> httpx.Response:
        url = f"{self.base_url}{path}"
        try:
            response = self._http.request(method, path, params=params, json=json)
        except httpx.TimeoutException as exc:
            raise _Transient(
                errors.DependencyUnavailable(
                    f"Alertmanager at {url} did not answer in time ({type(exc).__name__})",
                    hint="Check --alertmanager-url and the network; the call was retried.",
                )
            ) from exc
        except httpx.HTTPError as exc:
            raise _Transient(
                errors.DependencyUnavailable(
                    f"cannot reach Alertmanager at {url}: {type(exc).__name__}",
                    hint="Check --alertmanager-url and the network; the call was retried.",
                )
            ) from exc
        if response.status_code in (401, 403):
            raise errors.ConfigError(
                f"Alertmanager at {url} refused the request ({response.status_code})",
                source=TOKEN_ENV,
                hint=f"Set {TOKEN_ENV} to a token the proxy in front of Alertmanager accepts.",
            )
        if response.status_code == 400:
            raise errors.ConfigError(
                f"Alertmanager rejected the request: {response.text.strip()[:300]}",
                source="--rules",
                hint="Check the alert names and labels of the rules.",
            )
        if response.status_code >= 500 or response.status_code == 429:
            raise _Transient(
                errors.DependencyUnavailable(
                    f"Alertmanager at {url} answered {response.status_code}",
                    hint="The call was retried; check Alertmanager's health.",
                )
            )
        if response.status_code >= 300:
            raise errors.ConfigError(
                f"Alertmanager at {url} answered {response.status_code}",
                source="--alertmanager-url",
                hint="Point --alertmanager-url at Alertmanager's base URL (without /api/v2).",
            )
        return response
