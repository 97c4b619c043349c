"""What a deploy commit set, read back from its trailers: the facts the gate needs.

The reusable workflows gate a deploy they did not render themselves (the commit a
promotion pull request's merge produced, or the commit ``promote`` pushed in another
job), so they read it back from the GitOps history: the images the commit set and
the images they replaced (``Gitops-Guard-Image`` / ``Gitops-Guard-Previous-Image``
pairs; for the merge of a promotion pull request, those of the deploy commits it
merged). From them come the SLO variables every gate gets:

========================  ====================================================
``image``                 the first image the commit set
``version``               its tag (empty for a digest-only reference)
``revision``              the deploy commit
``previous_image``        the image it replaced
``baseline_version``      that image's tag: the version a relative objective
                          compares with (``... / on(version="$baseline_version")``)
========================  ====================================================

Pure: this module must not run git, read files or the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gitops_guard import errors, images
from gitops_guard.rollback import models


@dataclass(frozen=True)
class Deployed:
    """The deploy a commit made (``is_deploy`` false: not a gitops-guard deploy)."""

    revision: str
    subject: str
    swaps: tuple[models.ImageSwap, ...]

    @property
    def is_deploy(self) -> bool:
        return bool(self.swaps)

    @property
    def images(self) -> tuple[str, ...]:
        return tuple(swap.image for swap in self.swaps)

    @property
    def previous_images(self) -> tuple[str, ...]:
        return tuple(swap.previous for swap in self.swaps)


def describe(record: models.CommitRecord) -> Deployed:
    """The deploy ``record`` made; its swaps already include merged deploy commits."""
    return Deployed(revision=record.sha, subject=record.subject, swaps=record.swaps)


def _tag(reference: str) -> str:
    if not reference:
        return ""
    try:
        return images.parse(reference, source="trailer").tag or ""
    except errors.InputError:
        return ""


def gate_variables(deployed: Deployed) -> dict[str, str]:
    """The SLO variables of the module docstring, in that order (empty when unknown)."""
    image = deployed.images[0] if deployed.images else ""
    previous = deployed.previous_images[0] if deployed.previous_images else ""
    return {
        "image": image,
        "version": _tag(image),
        "revision": deployed.revision,
        "previous_image": previous,
        "baseline_version": _tag(previous),
    }


def outputs(deployed: Deployed) -> dict[str, str]:
    """The step outputs: one value each, lists one per line, ``vars`` as KEY=VALUE lines."""
    variables = gate_variables(deployed)
    return {
        "is-deploy": str(deployed.is_deploy).lower(),
        "revision": deployed.revision,
        "image": variables["image"],
        "images": "\n".join(deployed.images),
        "version": variables["version"],
        "previous-image": variables["previous_image"],
        "previous-images": "\n".join(deployed.previous_images),
        "baseline-version": variables["baseline_version"],
        "vars": render_variables(variables),
    }


def render_variables(variables: Mapping[str, str]) -> str:
    """``KEY=VALUE`` lines (the gate's ``vars`` input), skipping empty values."""
    return "\n".join(f"{key}={value}" for key, value in variables.items() if value)
