"""The ``Gitops-Guard-*`` commit trailer vocabulary: the keys, the action words, render, parse.

Every commit gitops-guard writes to a GitOps repository ends with a trailer block
(git's last paragraph of ``Key: value`` lines) that history, rollback, watch and
metrics read back::

    Gitops-Guard-Action: update-manifest
    Gitops-Guard-Image: ghcr.io/acme/web:1.4.2
    Gitops-Guard-Previous-Image: ghcr.io/acme/web:1.4.1
    Gitops-Guard-Run: https://github.com/acme/web/actions/runs/42

The keys and the action words live here and nowhere else; writers build their block
with :func:`render` (or :func:`append`), readers use :func:`parse` or, for ``git
log``, :func:`git_format` (git's own ``%(trailers:key=...)`` reader).

Parsing follows git's trailer rules (``git interpret-trailers``): the trailers are
the last paragraph of the message when every line of it is a ``Key: value`` trailer
(a line starting with whitespace continues the previous value, ``(cherry picked
from commit ...)`` lines are allowed); keys match case-insensitively and keys may
repeat (one ``Image``/``Previous-Image`` pair per image, in order).

Action words. Writers keep the words existing histories carry (``update-manifest``
for a deploy, ``rollback`` for a revert and a roll-to-version), so every repository
written by an earlier version reads the same; the words a newer writer may use for the
same kinds (``deploy``, ``revert``, ``rollback-to``) are read as those kinds.

Pure: this module must not run git, read files or the environment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

__all__ = [
    "ACTION",
    "APP",
    "COLOR",
    "ENVIRONMENT",
    "IMAGE",
    "KEYS",
    "PREFIX",
    "PREVIOUS_COLOR",
    "PREVIOUS_IMAGE",
    "PROMOTED_AT",
    "REPLICAS",
    "REVERTS",
    "RULE",
    "RUN",
    "SERVICE",
    "VERDICT",
    "Action",
    "Trailers",
    "append",
    "git_format",
    "kind_of",
    "parse",
    "render",
]

PREFIX = "Gitops-Guard-"
ACTION = "Gitops-Guard-Action"
"""What the commit did: one :class:`Action` word."""
IMAGE = "Gitops-Guard-Image"
"""An image the commit set (repeated, paired in order with :data:`PREVIOUS_IMAGE`)."""
PREVIOUS_IMAGE = "Gitops-Guard-Previous-Image"
"""The image it replaced."""
REVERTS = "Gitops-Guard-Reverts"
"""The full sha of the deploy commit a rollback reverts."""
RULE = "Gitops-Guard-Rule"
"""The watch rule that asked for a rollback."""
RUN = "Gitops-Guard-Run"
"""The URL of the workflow run that wrote the commit."""
ENVIRONMENT = "Gitops-Guard-Environment"
"""The environment the commit deploys to (``production``)."""
APP = "Gitops-Guard-App"
"""The ArgoCD application the commit is about."""
COLOR = "Gitops-Guard-Color"
"""Blue-green: the colour a commit prepares, switches to or scales down (``blue``/``green``)."""
VERDICT = "Gitops-Guard-Verdict"
"""The gate verdict that led to the commit: ``pass``, ``warn``, ``fail``, ``inconclusive``."""
SERVICE = "Gitops-Guard-Service"
"""Blue-green: the service whose colours the commit is about (Deployments SERVICE-blue/green)."""
PREVIOUS_COLOR = "Gitops-Guard-Previous-Color"
"""Blue-green: the colour that was live (switch) or that traffic left (switch-back)."""
REPLICAS = "Gitops-Guard-Replicas"
"""Blue-green: the replicas a prepare or scale-down commit set."""
PROMOTED_AT = "Gitops-Guard-Promoted-At"
"""RFC 3339 UTC time the image was promoted (for lead time when the commit is rebased)."""
STEP = "Gitops-Guard-Step"
"""Canary: the share of traffic a step commit gives the canary colour (``25%``)."""
EXEMPTION = "Gitops-Guard-Exemption"
"""The error-budget exemption a deploy went out under (``who until T: why``)."""

KEYS: tuple[str, ...] = (
    ACTION,
    IMAGE,
    PREVIOUS_IMAGE,
    REVERTS,
    RULE,
    RUN,
    ENVIRONMENT,
    APP,
    COLOR,
    VERDICT,
    PROMOTED_AT,
    SERVICE,
    PREVIOUS_COLOR,
    REPLICAS,
    STEP,
    EXEMPTION,
)
"""Every key of the vocabulary, in the order :func:`render` writes them."""

_CANONICAL = {k.lower(): k for k in KEYS}


class Action(str, Enum):
    """The words of the ``Gitops-Guard-Action`` trailer, as writers write them."""

    DEPLOY = "update-manifest"
    """update-manifest set new images (the word every history carries)."""
    ROLLBACK = "rollback"
    """rollback revert or rollback to: images set back."""
    QUARANTINE = "quarantine"
    """rollback quarantine add/lift changed .gitops-guard/quarantine.yaml."""
    BLUE_GREEN_PREPARE = "blue-green-prepare"
    BLUE_GREEN_SWITCH = "blue-green-switch"
    BLUE_GREEN_SWITCH_BACK = "blue-green-switch-back"
    BLUE_GREEN_SCALE_DOWN = "blue-green-scale-down"
    CANARY_STEP = "canary-step"
    """canary moved a share of traffic to the canary colour (``Gitops-Guard-Step``)."""
    CANARY_PROMOTE = "canary-promote"
    """canary gave the canary colour all traffic and scaled the old one to 0."""
    CANARY_ABORT = "canary-abort"
    """canary reverted its step commits in one commit (a failed or undecided step)."""

    def __str__(self) -> str:
        return self.value


_KIND_OF_WORD: dict[str, Action] = {a.value: a for a in Action} | {
    "deploy": Action.DEPLOY,
    "revert": Action.ROLLBACK,
    "rollback-to": Action.ROLLBACK,
}


def kind_of(word: str) -> Action | None:
    """The :class:`Action` an action word means (``deploy`` -> DEPLOY), None when unknown."""
    return _KIND_OF_WORD.get(word.strip().lower())


@dataclass(frozen=True)
class Trailers:
    """Parsed trailers in message order; keys in the vocabulary's spelling."""

    pairs: tuple[tuple[str, str], ...] = ()

    def all(self, key: str) -> tuple[str, ...]:
        """Every value of ``key``, in order (keys match case-insensitively)."""
        wanted = key.lower()
        return tuple(v for k, v in self.pairs if k.lower() == wanted)

    def get(self, key: str, default: str = "") -> str:
        """The last value of ``key`` (git's rule when a key repeats), or ``default``."""
        values = self.all(key)
        return values[-1] if values else default

    @property
    def action(self) -> Action | None:
        """The kind named by the last ``Gitops-Guard-Action``, None when absent or unknown."""
        word = self.get(ACTION)
        return kind_of(word) if word else None

    @property
    def image_pairs(self) -> tuple[tuple[str, str], ...]:
        """``(image, previous)`` pairs: Image trailers zipped in order with Previous-Image."""
        return tuple(zip(self.all(IMAGE), self.all(PREVIOUS_IMAGE), strict=False))


_TRAILER = re.compile(r"^(?P<key>[A-Za-z0-9][A-Za-z0-9-]*)[ \t]*:[ \t]*(?P<value>.*?)[ \t]*$")
_CHERRY_PICK = re.compile(r"^\(cherry picked from commit [0-9a-fA-F]+\)$")


def _check_value(key: str, value: object) -> str:
    text = str(value).strip()
    if not _TRAILER.match(f"{key}: x"):
        raise ValueError(f"not a trailer key: {key!r}")
    if not text or "\n" in text or "\r" in text:
        # A newline would end the trailer and start a forged one (``Rule: x\nImage: evil``).
        raise ValueError(f"a {key} trailer needs a one-line value, got {value!r}")
    return text


def render(pairs: Iterable[tuple[str, object]]) -> str:
    """The trailer block for ``pairs`` (``Key: value`` lines, no trailing newline).

    Values are stripped; an empty or multi-line value is a ``ValueError`` (a bug in
    the writer, never something to commit).
    """
    lines = [f"{key}: {_check_value(key, value)}" for key, value in pairs]
    return "\n".join(lines)


def append(message: str, pairs: Iterable[tuple[str, object]]) -> str:
    """``message`` with the trailers as a new last paragraph, ending in one newline.

    Always a paragraph of its own: a body paragraph that happens to read ``Reason: x``
    must not become part of the trailer block.
    """
    block = render(pairs)
    body = message.rstrip()
    if not block:
        return body + "\n"
    if not body:
        return block + "\n"
    return f"{body}\n\n{block}\n"


def _block_pairs(lines: Sequence[str]) -> list[tuple[str, str]] | None:
    pairs: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t") and pairs:
            key, value = pairs[-1]
            pairs[-1] = (key, f"{value} {line.strip()}".strip())
            continue
        if _CHERRY_PICK.match(line.strip()):
            continue
        match = _TRAILER.match(line)
        if match is None:
            return None
        pairs.append((match["key"], match["value"]))
    return pairs or None


def parse(message: str) -> Trailers:
    """The trailers of a commit message: its last paragraph when it is a trailer block.

    A message of one paragraph (only a subject) has no trailers, as in git.
    """
    text = message.replace("\r\n", "\n").strip("\n")
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", text) if p.strip()]
    if len(paragraphs) < 2:
        return Trailers()
    pairs = _block_pairs(paragraphs[-1].strip("\n").splitlines())
    if pairs is None:
        return Trailers()
    return Trailers(tuple((_CANONICAL.get(k.lower(), k), v) for k, v in pairs))


def git_format(key: str, *, separator: str = "%x1d") -> str:
    """The ``git log --format`` placeholder printing every value of ``key`` (git parses)."""
    if key not in KEYS:
        raise ValueError(f"not a gitops-guard trailer: {key!r}")
    return f"%(trailers:key={key},valueonly,separator={separator})"
