"""gitops-guard: safe GitOps delivery as GitHub Actions.

Promote an image through Git, wait until ArgoCD runs exactly that commit and it
is Healthy, gate on SLOs in Prometheus, and roll back through Git when
production says no. The public surface is the ``gitops-guard`` command and the
error classes below; everything else is internal.
"""

from __future__ import annotations

from gitops_guard.errors import (
    ConfigError,
    DependencyUnavailable,
    GitopsGuardError,
    InputError,
    Rejected,
    Undecided,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "DependencyUnavailable",
    "GitopsGuardError",
    "InputError",
    "Rejected",
    "Undecided",
    "__version__",
]
