"""Exemptions from the error-budget freeze, as data in Git.

The SRE workbook's error budget policy freezes releases while a service's budget is
spent. An exemption lets a change through anyway, reviewed like the manifests
because it lives beside them, at ``.gitops-guard/exemptions.yaml``::

    # Changes allowed while the error budget is spent (slo-gate --phase pre).
    version: 1
    exemptions:
      - who: alice@example.com
        why: "security fix for CVE-2026-1234"
        until: "2026-12-03T00:00:00Z"
        kinds: [deploy]            # which kinds of change (slo-gate --change-kind)
        objectives: [availability] # optional: only these objectives' budgets

The file is read by the one loader (:mod:`gitops_guard.config`): an unknown key, a
time without a timezone, an empty ``who``/``why``/``kinds`` is exit 2 naming the
file and line. An exemption applies while ``until`` is in the future, to a change
whose kind it lists and, when it lists objectives, to those objectives only.

Pure reading and matching; no git, no network, no clock (``now`` comes in).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, Field

from gitops_guard import config as loader
from gitops_guard import trailers

PATH = ".gitops-guard/exemptions.yaml"
"""Where the exemptions live, relative to the GitOps repository's root."""


class ExemptionModel(loader.Model):
    """One exemption."""

    who: str = Field(min_length=1)
    """Who granted it (a person or team, as your review process names them)."""
    why: str = Field(min_length=1)
    """The reason, e.g. the incident or security fix it is for."""
    until: AwareDatetime
    """When it ends: an RFC 3339 time with a timezone (``2026-12-03T00:00:00Z``)."""
    kinds: list[str] = Field(min_length=1)
    """Which kinds of change it allows (``deploy``, ``rollback``, ``security-fix``...):
    matched against ``slo-gate --change-kind``."""
    objectives: list[str] = Field(default_factory=list)
    """Only these objectives' budgets; empty: every objective."""


class ExemptionsFile(loader.Model):
    """The model of ``.gitops-guard/exemptions.yaml`` (its JSON Schema: ``schema exemptions``)."""

    version: Literal[1] = 1
    """The file format's version; absent means 1."""
    exemptions: list[ExemptionModel] = Field(default_factory=list)


KIND = loader.Kind(
    "exemptions file",
    "exemptions",
    "docs/canary.md",
    syntax_hint="Each exemption needs who, why, until (with a timezone) and kinds.",
)


@dataclass(frozen=True)
class Exemption:
    """One exemption, as read."""

    who: str
    why: str
    until: datetime
    kinds: tuple[str, ...]
    objectives: tuple[str, ...] = ()

    def covers(self, *, kind: str, objective: str, now: datetime) -> bool:
        """True when it allows a change of ``kind`` despite ``objective``'s spent budget."""
        return (
            now < self.until
            and kind in self.kinds
            and (not self.objectives or objective in self.objectives)
        )

    def describe(self) -> str:
        """``alice@example.com until 2026-12-03T00:00:00Z: security fix`` (a trailer value)."""
        until = self.until.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{self.who} until {until}: {' '.join(self.why.split())}"

    def trailer(self) -> str:
        """The deploy commit's trailer line: ``Gitops-Guard-Exemption: ...``."""
        return f"{trailers.EXEMPTION}: {self.describe()}"


def _from_model(model: ExemptionsFile) -> tuple[Exemption, ...]:
    return tuple(
        Exemption(
            who=e.who.strip(),
            why=e.why.strip(),
            until=e.until,
            kinds=tuple(k.strip() for k in e.kinds),
            objectives=tuple(e.objectives),
        )
        for e in model.exemptions
    )


def parse(text: str, *, source: str = PATH) -> tuple[Exemption, ...]:
    """Parse the file's text; ConfigError (exit 2) naming ``source``:line on bad content."""
    return _from_model(loader.load_text(ExemptionsFile, text, kind=KIND, source=source))


def load(path: str | Path) -> tuple[Exemption, ...]:
    """The exemptions in ``path`` (none when the file does not exist)."""
    file = Path(path)
    if not file.exists() and not file.is_symlink():
        return ()
    return _from_model(loader.load_file(ExemptionsFile, file, kind=KIND))


def covering(
    exemptions: Sequence[Exemption], *, kind: str, objectives: Sequence[str], now: datetime
) -> Exemption | None:
    """The first exemption that covers every one of ``objectives`` for ``kind`` at ``now``."""
    for exemption in exemptions:
        if all(exemption.covers(kind=kind, objective=o, now=now) for o in objectives):
            return exemption
    return None
