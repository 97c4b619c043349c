"""Quarantine: images that failed a gate and must not be promoted again.

The list lives in the GitOps repository itself, at ``.gitops-guard/quarantine.yaml``,
so it travels with the manifests, is reviewed like them, and is written in the
same commit as the revert that took the image out::

    # Images gitops-guard refuses to promote (update-manifest exits 2 unless --force).
    version: 1
    images:
      - image: ghcr.io/acme/web:1.4.0
        reason: "slo-gate failed: error-ratio"
        since: "2026-11-26T06:00:00Z"
        commit: 3f2c...          # the deploy commit that was reverted
        runUrl: https://github.com/acme/app/actions/runs/1

The file is read by the one loader (:mod:`gitops_guard.config`): an entry whose
image is not an image reference, an unknown key or ``version: 99`` is exit 2
naming the file and line (never silently ignored); ``run-url``, the key of
earlier files, is still read.

An entry matches an image of the same repository with the same tag or the same
digest (``nginx:1.27`` matches ``docker.io/library/nginx:1.27``).

Reading and matching are pure; :func:`save` is the one write (atomic). This module
must not run git or talk to any server: the rollback flows commit the file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator

from gitops_guard import config as loader
from gitops_guard import images

PATH = ".gitops-guard/quarantine.yaml"
"""Where the quarantine list lives, relative to the GitOps repository root."""

_HEADER = (
    "# Images gitops-guard refuses to promote: update-manifest exits 2 for them unless\n"
    "# --force, and `rollback to --previous` skips them. Written by gitops-guard rollback;\n"
    "# lift one with: gitops-guard rollback quarantine lift --dir . --image REF\n"
)


@dataclass(frozen=True)
class QuarantineEntry:
    """One quarantined image."""

    image: str
    """The image reference as it was written in the manifests."""
    reason: str = ""
    """Why it is quarantined, in one line (e.g. the failing objectives)."""
    since: str = ""
    """When it was quarantined (ISO 8601, UTC)."""
    commit: str = ""
    """The deploy commit that brought it in and was reverted, if known."""
    run_url: str = ""
    """The workflow run whose gate failed, if known."""


@dataclass(frozen=True)
class Quarantine:
    """The parsed quarantine file (empty when the file does not exist)."""

    entries: tuple[QuarantineEntry, ...] = field(default_factory=tuple)

    def find(self, image: str) -> QuarantineEntry | None:
        """The entry that quarantines ``image``, or None."""
        for entry in self.entries:
            if same_image(entry.image, image):
                return entry
        return None


class _EntryModel(loader.Model):
    image: str = Field(min_length=1)
    reason: str = ""
    since: str = ""
    commit: str = ""
    run_url: str = Field("", validation_alias=AliasChoices("runUrl", "run-url"))

    @field_validator("image")
    @classmethod
    def _reference(cls, value: str) -> str:
        if not images.is_reference(value.strip()):
            raise ValueError(
                f"not an image reference: {value!r} (write e.g. ghcr.io/acme/web:1.4.0)"
            )
        return value.strip()


class QuarantineFile(loader.Model):
    """The model of ``.gitops-guard/quarantine.yaml`` (its JSON Schema: ``schema quarantine``)."""

    version: Literal[1] = 1
    """The file format's version; absent means 1."""
    images: list[_EntryModel] = Field(default_factory=list)


KIND = loader.Kind(
    "quarantine file",
    "quarantine",
    "docs/rollback.md",
    syntax_hint="Fix the YAML, or lift entries with `gitops-guard rollback quarantine lift`.",
)


# ---------------------------------------------------------------- matching
def _split(ref: str) -> tuple[str, str, str]:
    """(normalized repository, tag, digest) of an image reference.

    Through :mod:`gitops_guard.images` when the reference parses; a lenient split
    otherwise, so a hand-edited entry still matches what it obviously means.
    """
    if images.is_reference(ref.strip()):
        parsed = images.parse(ref.strip())
        return parsed.repository, parsed.tag or "", parsed.digest or ""
    text = ref.strip()
    digest = ""
    if "@" in text:
        text, digest = text.split("@", 1)
    tag = ""
    slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > slash:
        text, tag = text[:colon], text[colon + 1 :]
    parts = text.split("/")
    if len(parts) == 1 or not ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = ["docker.io", *parts]
    if parts[0] in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        parts[0] = "docker.io"
        if len(parts) == 2:
            parts = ["docker.io", "library", parts[1]]
    return "/".join(parts).lower(), tag, digest


def same_repository(a: str, b: str) -> bool:
    """True when two references name the same repository (tags and digests ignored)."""
    return _split(a)[0] == _split(b)[0]


def same_image(a: str, b: str) -> bool:
    """True when two references name the same image: same repository and tag or digest."""
    repo_a, tag_a, dig_a = _split(a)
    repo_b, tag_b, dig_b = _split(b)
    if repo_a != repo_b:
        return False
    if dig_a and dig_b:
        return dig_a == dig_b
    if (dig_a and not tag_a) or (dig_b and not tag_b):
        return False  # a digest alone cannot be compared with a tag
    return (tag_a or "latest") == (tag_b or "latest")


# ---------------------------------------------------------------- reading
def _from_model(model: QuarantineFile) -> Quarantine:
    return Quarantine(
        tuple(
            QuarantineEntry(
                image=e.image, reason=e.reason, since=e.since, commit=e.commit, run_url=e.run_url
            )
            for e in model.images
        )
    )


def parse(text: str, *, source: str = PATH) -> Quarantine:
    """Parse the quarantine file's text; raises ConfigError naming the file on bad content."""
    return _from_model(loader.load_text(QuarantineFile, text, kind=KIND, source=source))


def load(root: Path) -> Quarantine:
    """The quarantine of the GitOps repository at ``root`` (empty when there is no file)."""
    path = Path(root) / PATH
    if not path.exists() and not path.is_symlink():
        return Quarantine()
    return _from_model(loader.load_file(QuarantineFile, path, kind=KIND))


def refused(root: Path, images: Sequence[str]) -> list[QuarantineEntry]:
    """The entries of ``images`` quarantined in the GitOps repository at ``root``."""
    quarantine = load(root)
    found: list[QuarantineEntry] = []
    for image in images:
        entry = quarantine.find(image)
        if entry is not None and entry not in found:
            found.append(entry)
    return found


# ---------------------------------------------------------------- changing (pure)
def with_added(quarantine: Quarantine, new: Iterable[QuarantineEntry]) -> Quarantine:
    """The quarantine with ``new`` entries added; images already present are kept as they are."""
    entries = list(quarantine.entries)
    for entry in new:
        if not any(same_image(e.image, entry.image) for e in entries):
            entries.append(entry)
    return Quarantine(tuple(entries))


def without(quarantine: Quarantine, image: str) -> Quarantine:
    """The quarantine without the entries matching ``image``."""
    return Quarantine(tuple(e for e in quarantine.entries if not same_image(e.image, image)))


def render(quarantine: Quarantine) -> str:
    """The file text for ``quarantine``: a header comment and one mapping per entry."""
    images = []
    for e in quarantine.entries:
        item: dict[str, str] = {"image": e.image}
        for key, value in (
            ("reason", e.reason),
            ("since", e.since),
            ("commit", e.commit),
            ("runUrl", e.run_url),
        ):
            if value:
                item[key] = value
        images.append(item)
    body = loader.dump({"version": 1, "images": images})
    return _HEADER + body


def save(root: Path, quarantine: Quarantine) -> Path:
    """Write the quarantine file atomically (temp file + rename); returns its path."""
    target = Path(root) / PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".quarantine.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(render(quarantine))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
