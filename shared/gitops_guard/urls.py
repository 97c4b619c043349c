"""The one URL check for every URL a user gives (flags, inputs, ARGOCD_SERVER).

``check_url`` refuses, as exit 2 naming the input: an empty value, a scheme other
than http(s) (``ftp://``), no host (``http://``), a space or control character, a
port outside 1-65535, an unclosed IPv6 bracket (``http://[::1``). It never prints
the URL itself, so user info (a token) cannot leak through its messages; stripping
user info is :mod:`gitops_guard.credentials`'s job.

This module must not import anything from the package but ``errors``: clients and
the CLI both use it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from gitops_guard import errors

HTTP_SCHEMES = ("http", "https")


def check_url(
    text: str,
    source: str,
    *,
    schemes: tuple[str, ...] = HTTP_SCHEMES,
    default_scheme: str | None = None,
) -> str:
    """An absolute ``http(s)://host[:port][/path]`` URL, without a trailing slash.

    Refused: an empty value, another scheme (``ftp://``), no host (``http://``),
    a space or a control character, a port outside 1-65535, an unclosed IPv6
    bracket (``http://[::1``). User info (``user:token@``) is left to
    :mod:`gitops_guard.credentials`, which strips it before anything is printed.
    With ``default_scheme``, a bare ``host[:port]`` gets it (the argocd CLI's habit).
    """
    value = text.strip()
    if default_scheme and value and "://" not in value:
        value = f"{default_scheme}://{value}"
    hint = f"Write the URL like https://host.example:443/prefix ({' or '.join(schemes)})."
    if not value:
        raise errors.InputError("the URL is empty", source=source, hint=hint)
    if any(c.isspace() or ord(c) < 32 for c in value):
        raise errors.InputError("the URL contains a space", source=source, hint=hint)
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise errors.InputError(f"not a URL: {exc}", source=source, hint=hint) from exc
    if parts.scheme.lower() not in schemes:
        shown = f"{parts.scheme}://" if parts.scheme else "no scheme"
        raise errors.InputError(f"unsupported scheme: {shown}", source=source, hint=hint)
    if not parts.hostname:
        raise errors.InputError("the URL has no host", source=source, hint=hint)
    if "%" in parts.hostname:
        raise errors.InputError("the host contains '%'", source=source, hint=hint)
    if port is not None and not 1 <= port <= 65535:
        raise errors.InputError(f"port {port} is out of range", source=source, hint=hint)
    return value.rstrip("/")
