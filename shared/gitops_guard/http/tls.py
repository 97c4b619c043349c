"""TLS settings of the HTTP base: a CA bundle or ``insecure``, and telling a TLS failure.

:func:`verify_from` is also the rule the CLI checks ``--ca-bundle`` with, so the flag
and the client agree.

This module must not send a request.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from gitops_guard import errors

__all__ = ["is_tls_failure", "verify_from"]


def verify_from(
    *, insecure: bool = False, ca_bundle: str | Path | None = None, source: str = "--ca-bundle"
) -> bool | ssl.SSLContext:
    """TLS verification settings; a CA bundle that is not a PEM file is exit 2 naming ``source``."""
    if insecure:
        return False
    if ca_bundle is None or str(ca_bundle) == "":
        return True
    path = Path(ca_bundle)
    if not path.is_file():
        raise errors.InputError(
            f"CA bundle {str(path)!r} does not exist",
            source=source,
            hint="Pass a PEM file with the CA certificate(s) of the server.",
        )
    try:
        return ssl.create_default_context(cafile=str(path))
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise errors.InputError(
            f"CA bundle {str(path)!r} is not a PEM certificate file: {exc}",
            source=source,
            hint="Pass a PEM file with the CA certificate(s) of the server.",
        ) from exc


def is_tls_failure(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        cause = cause.__cause__ or cause.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)
