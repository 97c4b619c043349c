"""The one token resolver, the secret registry and URL user-info stripping.

Which variable (or action input) supplies which token is written here and nowhere
else; every other module asks this one:

=================  ==========================================================
ArgoCD             ``ARGOCD_TOKEN``, else the argocd CLI's ``ARGOCD_AUTH_TOKEN``;
                   ``ARGOCD_SERVER`` is the default for ``--server``
GitHub and git     the action's ``token`` input (``INPUT_TOKEN``), else
                   ``GITOPS_TOKEN``, else ``GITHUB_TOKEN``
Prometheus         ``PROMETHEUS_TOKEN``
Alertmanager       ``ALERTMANAGER_TOKEN``
chat webhook       ``SLACK_WEBHOOK_URL`` (the URL itself is the secret)
Teams webhook      ``TEAMS_WEBHOOK_URL`` (the URL is the secret)
JSON webhook       ``NOTIFY_WEBHOOK_URL`` (the URL is the secret)
Pushgateway        ``PUSHGATEWAY_TOKEN``
=================  ==========================================================

Every value is registered as a secret the moment it is read (:func:`register`), and
:func:`redact` hides every registered secret in the forms it travels in: raw,
URL-encoded (``quote`` and ``quote_plus``) and base64 (also inside a longer base64
text such as the ``user:token`` of HTTP basic auth). :mod:`gitops_guard.actions` hooks
``::add-mask::`` onto :func:`register`, so a runner hides the value too.

:func:`split_userinfo` takes ``user:pass@`` out of a URL before the URL is printed or
stored; the credentials travel as HTTP auth instead.

This module must not print, know the runner or do I/O; it imports only ``errors``.
"""

from __future__ import annotations

import base64
import os
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "ALERTMANAGER_VARS",
    "ARGOCD_SERVER_VAR",
    "ARGOCD_VARS",
    "GITHUB_VARS",
    "INPUT_TOKEN",
    "JSON_WEBHOOK_VARS",
    "PROMETHEUS_VARS",
    "PUSHGATEWAY_VARS",
    "SECRET_VARS",
    "TEAMS_WEBHOOK_VARS",
    "WEBHOOK_VARS",
    "Token",
    "alertmanager_token",
    "argocd_server",
    "argocd_token",
    "clear",
    "forms",
    "github_token",
    "json_webhook_url",
    "on_register",
    "prometheus_token",
    "pushgateway_token",
    "redact",
    "register",
    "register_environment",
    "split_userinfo",
    "strip_userinfo",
    "teams_webhook_url",
    "webhook_url",
]

INPUT_TOKEN = "INPUT_TOKEN"  # noqa: S105 (a variable name, not a secret)
"""The variable that carries an action's ``token`` input."""
ARGOCD_VARS = ("ARGOCD_TOKEN", "ARGOCD_AUTH_TOKEN")
"""ArgoCD's bearer token: ours first, then the argocd CLI's own name."""
ARGOCD_SERVER_VAR = "ARGOCD_SERVER"
"""The argocd CLI's server variable: the default of ``--server``."""
GITHUB_VARS = ("GITOPS_TOKEN", "GITHUB_TOKEN")
"""GitHub API and git-over-HTTPS token, after the ``token`` input; first set wins."""
PROMETHEUS_VARS = ("PROMETHEUS_TOKEN",)
ALERTMANAGER_VARS = ("ALERTMANAGER_TOKEN",)
WEBHOOK_VARS = ("SLACK_WEBHOOK_URL",)
TEAMS_WEBHOOK_VARS = ("TEAMS_WEBHOOK_URL",)
JSON_WEBHOOK_VARS = ("NOTIFY_WEBHOOK_URL",)
PUSHGATEWAY_VARS = ("PUSHGATEWAY_TOKEN",)
SECRET_VARS = (
    *ARGOCD_VARS,
    *GITHUB_VARS,
    INPUT_TOKEN,
    *PROMETHEUS_VARS,
    *ALERTMANAGER_VARS,
    *WEBHOOK_VARS,
    *TEAMS_WEBHOOK_VARS,
    *JSON_WEBHOOK_VARS,
    *PUSHGATEWAY_VARS,
)
"""Every variable whose value is a secret: registered at startup."""

_MIN_LENGTH = 4
"""Shorter values are not registered: redacting ``abc`` everywhere would garble text."""
_MIN_B64_CORE = 6
"""The shortest base64 fragment redacted (shorter ones collide with ordinary words)."""

_secrets: set[str] = set()
_patterns: set[str] = set()
_hooks: list[Callable[[str], None]] = []


@dataclass(frozen=True)
class Token:
    """A secret value and where it came from (named in error messages, never the value)."""

    value: str = field(repr=False)
    source: str
    """The variable or input it was read from, e.g. ``ARGOCD_TOKEN``."""

    def __repr__(self) -> str:
        return f"Token(source={self.source!r}, value='***')"


# ---------------------------------------------------------------- registry
def _base64_cores(value: str) -> Iterable[str]:
    """Base64 fragments that appear whenever ``value`` is encoded inside any text.

    Whatever precedes the secret shifts it by 0, 1 or 2 bytes in base64's 3-byte
    groups; for each shift the characters that depend only on the secret's bytes are
    the same in every encoding, so redacting them hides the secret in ``user:token``
    basic auth, in a base64 JSON blob, anywhere.
    """
    raw = value.encode()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode().rstrip("=")
        start = -(-8 * shift // 6)  # ceil
        end = (8 * (shift + len(raw))) // 6
        core = encoded[start:end]
        if len(core) >= _MIN_B64_CORE:
            yield core
            yield core.replace("+", "-").replace("/", "_")  # the URL-safe alphabet


def forms(value: str) -> set[str]:
    """Every form of ``value`` that :func:`redact` hides (raw, URL-encoded, base64 cores)."""
    return _forms(value)


def _forms(value: str) -> set[str]:
    forms = {value, urllib.parse.quote(value, safe=""), urllib.parse.quote(value)}
    forms.add(urllib.parse.quote_plus(value))
    forms.add(urllib.parse.quote_plus(value, safe=""))
    forms.update(_base64_cores(value))
    return {f for f in forms if len(f) >= _MIN_LENGTH}


def on_register(hook: Callable[[str], None]) -> None:
    """Call ``hook(value)`` for every newly registered secret (``actions`` masks it)."""
    if hook not in _hooks:
        _hooks.append(hook)


def register(value: str | None) -> None:
    """Treat ``value`` as a secret from now on, in every form it may travel in."""
    if not value or len(value) < _MIN_LENGTH or value in _secrets:
        return
    _secrets.add(value)
    _patterns.update(_forms(value))
    for hook in _hooks:
        hook(value)


def redact(text: str) -> str:
    """Hide every registered secret (raw, URL-encoded, base64) and URL user info in ``text``."""
    if not text:
        return text
    text = strip_userinfo(text)
    for pattern in sorted(_patterns, key=len, reverse=True):
        if pattern in text:
            text = text.replace(pattern, "***")
    return strip_userinfo(text)


def secrets() -> frozenset[str]:
    """The registered raw values (for the runner's ``::add-mask::`` and tests)."""
    return frozenset(_secrets)


def clear() -> None:
    """Forget every registered secret (tests)."""
    _secrets.clear()
    _patterns.clear()


# ---------------------------------------------------------------- tokens
def _env(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _first(names: Sequence[str], environ: Mapping[str, str] | None) -> Token | None:
    env = _env(environ)
    for name in names:
        value = (env.get(name) or "").strip()
        if value:
            register(value)
            return Token(value, name)
    return None


def register_environment(environ: Mapping[str, str] | None = None) -> None:
    """Register the value of every secret variable (called once at startup)."""
    env = _env(environ)
    for name in SECRET_VARS:
        register((env.get(name) or "").strip() or None)


def argocd_token(environ: Mapping[str, str] | None = None) -> Token | None:
    """ArgoCD's bearer token: ``ARGOCD_TOKEN``, else ``ARGOCD_AUTH_TOKEN``."""
    return _first(ARGOCD_VARS, environ)


def argocd_server(environ: Mapping[str, str] | None = None) -> str | None:
    """``ARGOCD_SERVER`` (the argocd CLI's name), the default of ``--server``."""
    value = (_env(environ).get(ARGOCD_SERVER_VAR) or "").strip()
    return value or None


def github_token(
    environ: Mapping[str, str] | None = None, *, prefer: str | None = None
) -> Token | None:
    """The GitHub/git token: ``prefer``, the ``token`` input, GITOPS_TOKEN, GITHUB_TOKEN."""
    names = [prefer] if prefer else []
    names += [n for n in (INPUT_TOKEN, *GITHUB_VARS) if n not in names]
    return _first(names, environ)


def prometheus_token(environ: Mapping[str, str] | None = None) -> Token | None:
    """Prometheus's bearer token (``PROMETHEUS_TOKEN``)."""
    return _first(PROMETHEUS_VARS, environ)


def alertmanager_token(environ: Mapping[str, str] | None = None) -> Token | None:
    """Alertmanager's bearer token (``ALERTMANAGER_TOKEN``)."""
    return _first(ALERTMANAGER_VARS, environ)


def webhook_url(environ: Mapping[str, str] | None = None) -> Token | None:
    """The chat webhook URL (``SLACK_WEBHOOK_URL``); the whole URL is a secret."""
    return _first(WEBHOOK_VARS, environ)


def teams_webhook_url(environ: Mapping[str, str] | None = None) -> Token | None:
    """The Microsoft Teams workflow webhook URL (``TEAMS_WEBHOOK_URL``), a secret."""
    return _first(TEAMS_WEBHOOK_VARS, environ)


def json_webhook_url(environ: Mapping[str, str] | None = None) -> Token | None:
    """The generic JSON webhook URL (``NOTIFY_WEBHOOK_URL``), a secret."""
    return _first(JSON_WEBHOOK_VARS, environ)


def pushgateway_token(environ: Mapping[str, str] | None = None) -> Token | None:
    """The Pushgateway's bearer token (``PUSHGATEWAY_TOKEN``), when it needs one."""
    return _first(PUSHGATEWAY_VARS, environ)


# ---------------------------------------------------------------- URLs
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s?#]+@")


def split_userinfo(url: str) -> tuple[str, tuple[str, str] | None]:
    """``(url without user:pass@, (user, password) or None)``; both parts registered.

    The user info is percent-decoded (a token URL-encoded in ``--server`` is the
    token); the caller sends it as HTTP auth instead of printing or storing it.
    """
    text = url.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text, None
    authority, slash, tail = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if not at:
        return text, None
    user, _, password = userinfo.partition(":")
    user = urllib.parse.unquote(user)
    password = urllib.parse.unquote(password)
    register(password or None)
    register(userinfo)
    if user and not password:
        register(user)  # a bare token as the user name (https://TOKEN@host)
    return f"{scheme}://{host}{slash}{tail}", (user, password)


def strip_userinfo(text: str) -> str:
    """Hide user info (``user:token@``) in every URL inside ``text``."""
    return _USERINFO.sub(r"\g<scheme>***@", text)
