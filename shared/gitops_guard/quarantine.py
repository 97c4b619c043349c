"""Quarantine: images that failed a gate and must not be promoted again.

Placeholder with the final signature; the rollback work fills it in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class QuarantineEntry:
    """One quarantined image."""

    image: str
    reason: str = ""


def refused(root: Path, images: Sequence[str]) -> list[QuarantineEntry]:
    """The entries of ``images`` quarantined in the GitOps repository at ``root``."""
    return []
