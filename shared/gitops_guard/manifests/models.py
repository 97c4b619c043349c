"""The values a manifest plan is made of: what changes, where, and what was skipped.

These are frozen data; they know nothing about YAML or files.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

__all__ = ["EditPlan", "FileEdit", "ImageChange", "Skipped"]

ChangeKind = Literal["workload", "kustomize", "helm", "argocd"]


@dataclasses.dataclass(frozen=True)
class ImageChange:
    """One image reference that the plan moves from ``old`` to ``new``."""

    file: str
    """The file, relative to the root, with ``/`` separators."""
    line: int
    """The 1-based line of the edited value."""
    kind: ChangeKind
    """``workload`` (a container's ``image``), ``kustomize`` (an ``images:`` entry),
    ``helm`` (a values file) or ``argocd`` (an Application's override)."""
    old: str
    """The image reference before, as written (for kustomize and Helm: as they compose it)."""
    new: str
    """The image reference after."""
    target: str
    """What holds the image, e.g. ``Deployment/web container app``."""


@dataclasses.dataclass(frozen=True)
class FileEdit:
    """The full content of one file before and after the plan."""

    path: str
    """The file, relative to the root, with ``/`` separators."""
    before: bytes
    after: bytes


@dataclasses.dataclass(frozen=True)
class Skipped:
    """A file that was not edited although it might hold the image, and why."""

    path: str
    reason: str


@dataclasses.dataclass(frozen=True)
class EditPlan:
    """Everything an update would write, computed and verified before any write."""

    edits: tuple[FileEdit, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    changes: tuple[ImageChange, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether applying the plan writes anything."""
        return bool(self.edits)

    @property
    def files(self) -> tuple[str, ...]:
        """The relative paths of the files the plan rewrites."""
        return tuple(edit.path for edit in self.edits)
