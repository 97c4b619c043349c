"""The git working copy: open or clone, commit, push, and push with rebase-and-reapply.

Everything here runs the real ``git`` CLI through :mod:`subprocess`, and every
failure of a git command is translated in one place (:func:`_translate`) into the
error tree: a rejected token is a :class:`~gitops_guard.errors.ConfigError` that
names the token variable (exit 2), an unreachable remote after retries is
:class:`~gitops_guard.errors.DependencyUnavailable` (exit 3), a directory that is
not a checkout is an :class:`~gitops_guard.errors.InputError` (exit 2).

Credentials: the token is read from the environment (``GITOPS_TOKEN``, else
``GITHUB_TOKEN``) at the moment each network command runs, and reaches git only
through ``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_n``/``GIT_CONFIG_VALUE_n``
environment variables as an ``http.<origin>.extraHeader``. It is never written to
``.git/config``, never part of a URL, and URLs with user info are redacted from
every message.

This module must not decide what to change: callers pass a ``mutate`` callable
that recomputes the edit on the current tip. It knows nothing of images,
manifests, GitHub's API or the Actions runner (it only registers secrets).
"""

from __future__ import annotations

from gitops_guard.gitops._git import (
    DEFAULT_IDENTITY,
    TOKEN_ENVS,
    RetryPolicy,
    redact_url,
)
from gitops_guard.gitops.working_copy import (
    PushResult,
    WorkingCopy,
    clone,
    open_checkout,
    temporary_clone_dir,
)

__all__ = [
    "DEFAULT_IDENTITY",
    "TOKEN_ENVS",
    "PushResult",
    "RetryPolicy",
    "WorkingCopy",
    "clone",
    "open_checkout",
    "redact_url",
    "temporary_clone_dir",
]
