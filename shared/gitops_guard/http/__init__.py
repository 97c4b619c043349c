"""The one HTTP base: headers, tokens, timeouts, one deadline, retries, error translation.

Every HTTP client of the package (ArgoCD, Prometheus, Alertmanager, the chat webhook)
sits on :class:`Client`; PyGithub has its own transport, bounded by the same
:class:`Deadline` in :mod:`gitops_guard.github`.

:class:`Deadline` is the overall time budget of a command (``argocd-wait --timeout``)
or of one call. It bounds everything a request does: the connection, every read of
the answer (a body that arrives one byte a second is cut, not only a silent one),
every retry and every wait between retries, and every line of a stream. When it
expires the error says the real elapsed time and what was being waited for.

One retry policy shape (:class:`RetryPolicy`, tenacity): connect errors, timeouts,
a broken or truncated answer, HTTP 5xx and 429 are retried with jittered exponential
back-off; a ``Retry-After`` header is honoured; no wait and no attempt goes past the
deadline.

One error translation, in :meth:`Client.request`::

    TLS verification failure      errors.ConfigError naming the CA bundle input (2)
    connect error, timeout,       retried, then errors.DependencyUnavailable naming the
    truncated body, 5xx, 429      dependency and the last thing it answered (3)
    the deadline expires          DeadlineExceeded, a DependencyUnavailable (3)
    401, 403                      errors.ConfigError naming the token variable (2)
    404, other 4xx                what the caller's ``on_status`` says, else ConfigError
    invalid JSON, wrong shape     errors.DependencyUnavailable: who answered what (3)
                                  (:meth:`Client.parse`)

Every text taken from a server (an error body that echoes the Authorization header)
passes :func:`gitops_guard.credentials.redact` before it reaches a message.

Modules: :mod:`.client` (the :class:`Client`), :mod:`.policy` (retry policy,
timeouts, the error when retries ran out), :mod:`.tls` (CA bundle, TLS failures);
every name is importable from here.

This package must not know any one API: paths, payloads and policy are the callers'.
"""

from __future__ import annotations

from gitops_guard.deadline import (
    Deadline,
    DeadlineExceeded,
    bounded,
    check_overall,
    current_overall,
    overall,
    overall_expired,
)
from gitops_guard.http.client import Client, Closing, StatusHandler, body_detail
from gitops_guard.http.policy import (
    MAX_BODY_BYTES,
    RetryPolicy,
    Timeouts,
    Unavailable,
    retry_after_seconds,
)
from gitops_guard.http.tls import verify_from

__all__ = [
    "MAX_BODY_BYTES",
    "Client",
    "Closing",
    "Deadline",
    "DeadlineExceeded",
    "RetryPolicy",
    "StatusHandler",
    "Timeouts",
    "Unavailable",
    "body_detail",
    "bounded",
    "check_overall",
    "current_overall",
    "overall",
    "overall_expired",
    "retry_after_seconds",
    "verify_from",
]
