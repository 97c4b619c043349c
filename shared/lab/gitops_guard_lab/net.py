"""Loopback-only networking helpers for the lab: free ports, address checks, probes.

The lab plays production on one machine; nothing it starts may listen on, or send
traffic to, anything but a loopback address. This module holds no policy.
"""

from __future__ import annotations

import ipaddress
import socket
import time
import urllib.parse

from gitops_guard import errors

LOOPBACK = "127.0.0.1"


def require_loopback(host: str, *, source: str) -> None:
    """Raise InputError unless ``host`` is a loopback address or ``localhost``."""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise errors.InputError(
        f"{host!r} is not a loopback address",
        source=source,
        hint="The lab only talks to this machine: use 127.0.0.1.",
    )


def require_loopback_url(url: str, *, source: str) -> None:
    """Raise InputError unless ``url`` is http(s) to a loopback host."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise errors.InputError(f"{url!r} is not an http URL", source=source)
    require_loopback(parsed.hostname, source=source)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def http_ok(url: str, *, timeout: float = 1.0, headers: dict[str, str] | None = None) -> bool:
    """True when GET ``url`` answers 2xx within ``timeout`` seconds."""
    # Imported here: the demo app imports this module for require_loopback, and every
    # deploy restarts it, so its start-up time counts in the lab's figures.
    import httpx

    try:
        response = httpx.get(url, timeout=timeout, headers=headers)
    except httpx.HTTPError:
        return False
    return response.is_success


def wait_http_ok(
    url: str, *, timeout: float, what: str, headers: dict[str, str] | None = None
) -> None:
    """Poll ``url`` until it answers 2xx; DependencyUnavailable after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if http_ok(url, headers=headers):
            return
        if time.monotonic() > deadline:
            raise errors.DependencyUnavailable(
                f"{what} did not answer at {url} within {timeout:.0f} s",
                hint="Look at the lab's logs in DIR/logs/.",
            )
        time.sleep(0.1)
