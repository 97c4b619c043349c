"""Container image references: the Docker reference grammar, matching and updates.

An image reference is ``[registry[:port]/]path[:tag][@digest]`` as defined by
``distribution/reference``:

- the first ``/``-separated component is a registry when it contains ``.`` or
  ``:``, is ``localhost``, or has an upper-case letter; otherwise the reference
  is on Docker Hub;
- path components are lower-case alphanumerics joined by ``.``, ``_``, ``__``
  or runs of ``-``;
- a tag is ``[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}``;
- a digest is ``algorithm:hex``; ``sha256`` digests must be 64 lower-case hex
  characters, ``sha512`` 128.

Docker Hub is normalised when comparing repositories: ``nginx``,
``library/nginx``, ``docker.io/library/nginx`` and ``index.docker.io/library/nginx``
are one repository. Registry host names compare case-insensitively.

:func:`updated` computes the new text of an existing reference under an
update: the existing spelling of the repository is kept, a tag-only update
drops an old digest, a digest-only update drops the old tag (it would no longer
describe the digest).

:func:`parse_update` also reads kustomize's rename form ``OLD=NEW[:tag][@digest]``
(as ``kustomize edit set image`` takes it): the update is ``NEW...`` and its
:attr:`ImageRef.replaces` is ``OLD``; images of either repository are its targets.

This module is pure: it reads no files, no environment and no network.
"""

from __future__ import annotations

import dataclasses
import re

from gitops_guard import errors

__all__ = ["DOCKER_HUB", "ImageRef", "is_reference", "parse", "parse_update", "updated"]

DOCKER_HUB = "docker.io"
"""The canonical name of Docker Hub's registry."""

_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|-+)"
_PATH_COMPONENT = re.compile(rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*\Z")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9A-Fa-f:]+\])(?::[0-9]+)?\Z"
)
_TAG = re.compile(r"[\w][\w.-]{0,127}\Z", re.ASCII)
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}\Z")
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}
_MAX_NAME_LENGTH = 255

BAD_REFERENCE_HINT = (
    "Write the image as [registry[:port]/]path[:tag][@sha256:<64 hex>], "
    "for example ghcr.io/acme/web:1.4.2 or nginx@sha256:<digest>."
)


@dataclasses.dataclass(frozen=True)
class ImageRef:
    """One parsed image reference.

    ``registry`` and ``path`` are spelled as written (``registry`` is ``None``
    when the reference names none); :attr:`repository` is the normalised form
    used for matching.
    """

    registry: str | None
    """The registry host[:port] as written, or ``None`` (Docker Hub implied)."""
    path: str
    """The repository path as written, e.g. ``nginx`` or ``acme/web``."""
    tag: str | None
    """The tag, or ``None``."""
    digest: str | None
    """The digest (``sha256:<hex>``), or ``None``."""
    text: str
    """The reference exactly as it was given (surrounding blanks removed)."""
    replaces: ImageRef | None = None
    """For a rename (``OLD=NEW:tag``): the repository ``OLD`` whose images become this one."""

    @property
    def name(self) -> str:
        """The repository part as written: ``registry/path`` or ``path``."""
        return f"{self.registry}/{self.path}" if self.registry else self.path

    @property
    def domain(self) -> str:
        """The normalised registry: lower-case, Docker Hub spelled ``docker.io``."""
        if self.registry is None:
            return DOCKER_HUB
        host = self.registry.lower()
        return DOCKER_HUB if host in _HUB_ALIASES else host

    @property
    def repository(self) -> str:
        """The normalised repository, e.g. ``docker.io/library/nginx``."""
        domain = self.domain
        path = self.path
        if domain == DOCKER_HUB and "/" not in path:
            path = f"library/{path}"
        return f"{domain}/{path}"

    @property
    def canonical(self) -> str:
        """The fully qualified reference, e.g. ``docker.io/library/nginx:1.27``."""
        return self.repository + self._suffix()

    def same_repository(self, other: ImageRef) -> bool:
        """Whether both references name the same repository (tags and digests ignored)."""
        return self.repository == other.repository

    def selects(self, other: ImageRef) -> bool:
        """Whether this update targets ``other``: same repository, or the one it renames."""
        return self.same_repository(other) or (
            self.replaces is not None and self.replaces.same_repository(other)
        )

    def with_version(self, *, tag: str | None, digest: str | None) -> ImageRef:
        """This repository, spelled as written, with exactly ``tag`` and ``digest``."""
        text = self.name + _suffix(tag, digest)
        return dataclasses.replace(self, tag=tag, digest=digest, text=text)

    def _suffix(self) -> str:
        return _suffix(self.tag, self.digest)

    def __str__(self) -> str:
        """The reference recomposed from its parts, keeping the repository's spelling."""
        return self.name + self._suffix()


def _suffix(tag: str | None, digest: str | None) -> str:
    return (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def parse(text: str, *, source: str = "--image") -> ImageRef:
    """Parse an image reference; raises :class:`errors.InputError` naming ``source``."""
    problem, ref = _parse(text)
    if ref is None:
        raise errors.InputError(
            f"{text!r} is not a valid image reference: {problem}",
            source=source,
            hint=BAD_REFERENCE_HINT,
        )
    return ref


def parse_update(text: str, *, source: str = "--image") -> ImageRef:
    """An ``--image`` value: a reference, or kustomize's rename ``OLD=NEW[:tag][@digest]``."""
    old, equals, new = text.strip().partition("=")
    if not equals:
        return parse(text, source=source)
    replaced = parse(old, source=source)
    if replaced.tag or replaced.digest:
        raise errors.InputError(
            f"{text!r}: the name before '=' is a repository and takes no tag or digest",
            source=source,
            hint="Write a rename as OLD=NEW:tag, e.g. nginx=ghcr.io/acme/nginx:1.27.",
        )
    ref = parse(new, source=source)
    if ref.same_repository(replaced):
        return ref
    return dataclasses.replace(ref, replaces=replaced)


def is_reference(text: str) -> bool:
    """Whether ``text`` parses as an image reference (never raises)."""
    return _parse(text)[1] is not None


def _parse(raw: str) -> tuple[str, ImageRef | None]:
    text = raw.strip()
    if not text:
        return "it is empty", None
    if any(ch.isspace() for ch in text):
        return "it contains blanks", None
    remainder, at, digest = text.partition("@")
    if at:
        problem = _digest_problem(digest)
        if problem:
            return problem, None
    else:
        digest = ""
    name, tag = remainder, ""
    colon = remainder.rfind(":")
    if colon > remainder.rfind("/"):
        name, tag = remainder[:colon], remainder[colon + 1 :]
        if not _TAG.match(tag):
            return (
                f"the tag {tag!r} must be 1-128 letters, digits, '_', '.' or '-' "
                "and must not start with '.' or '-'",
                None,
            )
    if not name:
        return "the repository name is missing", None
    if len(name) > _MAX_NAME_LENGTH:
        return f"the repository name is longer than {_MAX_NAME_LENGTH} characters", None
    registry: str | None = None
    path = name
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        if not _DOMAIN.match(first):
            return f"the registry {first!r} is not a valid host[:port]", None
        registry, path = first, rest
    for component in path.split("/"):
        if not _PATH_COMPONENT.match(component):
            if component != component.lower():
                return (
                    f"the repository path component {component!r} must be lower-case",
                    None,
                )
            return (
                f"the repository path component {component!r} must be lower-case "
                "letters and digits separated by '.', '_', '__' or '-'",
                None,
            )
    return "", ImageRef(
        registry=registry, path=path, tag=tag or None, digest=digest or None, text=text
    )


def _digest_problem(digest: str) -> str:
    if not _DIGEST.match(digest):
        return f"the digest {digest!r} must look like sha256:<64 hex characters>"
    algorithm, _, hex_part = digest.partition(":")
    expected = _DIGEST_HEX_LENGTH.get(algorithm)
    if expected is not None and (len(hex_part) != expected or hex_part != hex_part.lower()):
        return f"a {algorithm} digest has exactly {expected} lower-case hex characters"
    return ""


def updated(existing: ImageRef, update: ImageRef) -> ImageRef:
    """``existing`` moved to the tag and/or digest of ``update``, keeping its spelling.

    - tag and digest: both are set;
    - tag only: the tag is set and any old digest is dropped;
    - digest only: the digest is set and the old tag is dropped, because a tag
      beside a digest it does not name would mislead readers;
    - a rename (``update.replaces``) also takes ``update``'s repository, as written.
    """
    if not update.tag and not update.digest:
        raise errors.InputError(
            f"{update.text!r} names no tag and no digest, so there is nothing to set",
            source="--image",
            hint="Give the new version: --image nginx:1.27.3 or --image nginx@sha256:<digest>.",
        )
    if update.replaces is not None and not existing.same_repository(update):
        return update.with_version(tag=update.tag, digest=update.digest)
    return existing.with_version(tag=update.tag, digest=update.digest)
