"""Blue-green's data: the layout read from Git, the plan, timeline and result.

Frozen values only (the timeline is appended to by the flow). This module must not
run git, read files or talk to servers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

COLOURS = ("blue", "green")
"""The default colour pair (``--colors``)."""
COLOUR_KEY = "color"
"""The default label key that tells the colours apart (``--color-label``)."""

Phase = Literal["prepare", "verify", "switched", "done"]
Outcome = Literal[
    "promoted",
    "in-place",
    "rejected",
    "switched-back",
    "switched-back-inconclusive",
    "undecided",
]
"""How a run ended; :mod:`gitops_guard.cli.outcomes` maps each to its exit code."""
Mode = Literal["git", "cluster"]


@dataclass(frozen=True)
class Site:
    """Where a value lives: a file relative to the checkout, a document, a line."""

    file: str
    """Relative to the layout's folder (``--dir``): what the edits open."""
    doc: int
    line: int
    prefix: str = ""
    """``--dir`` relative to the checkout, for messages that name the file."""

    def __str__(self) -> str:
        return f"{self.prefix}{self.file}:{self.line}"


@dataclass(frozen=True)
class ColourDeployment:
    """The Deployment of one colour."""

    colour: str
    name: str
    site: Site
    image: str
    """The first container's image, as written."""
    replicas: int
    replicas_site: Site
    labels: Mapping[str, str]
    """The pod template's labels."""
    namespace: str = ""


@dataclass(frozen=True)
class ServiceSelector:
    """A Service and the colour its selector names."""

    name: str
    site: Site
    selector: Mapping[str, str]
    colour: str
    colour_site: Site
    namespace: str = ""


@dataclass(frozen=True)
class Layout:
    """The blue-green layout of one service at one commit."""

    service: str
    colour_key: str
    colours: tuple[str, str]
    deployments: Mapping[str, ColourDeployment]
    active: ServiceSelector | None
    """None only in cluster mode, where Git does not own the selector."""
    preview: ServiceSelector | None
    namespace: str

    @property
    def live(self) -> str:
        assert self.active is not None
        return self.active.colour

    def other(self, colour: str) -> str:
        return self.colours[1] if colour == self.colours[0] else self.colours[0]


@dataclass(frozen=True)
class HistoryEntry:
    """One blue-green commit of this service, as its trailers tell it."""

    sha: str
    action: str
    colour: str = ""
    image: str = ""
    previous_image: str = ""
    reverts: str = ""


@dataclass(frozen=True)
class Decision:
    """What now? The phase, and for ``prepare`` what the idle colour still needs."""

    phase: Phase
    live: str
    idle: str
    reason: str
    set_image: bool = False
    set_replicas: int | None = None
    point_preview: bool = False
    switch_commit: str = ""
    """The switch commit a switch-back reverts (``switched``), when one is known."""


@dataclass
class Event:
    """One line of the timeline."""

    step: str
    """prepare, wait, ready, preview-gate, switch, post-switch-gate, switch-back, scale-down."""
    outcome: str
    """done, skipped, pass, warn, fail, inconclusive, timed-out, error."""
    seconds: float
    detail: str = ""
    commit: str = ""
    figures: dict[str, str] = field(default_factory=dict)
    """Both colours' figures, e.g. {"blue": "99.9% / 120ms", "green": "..."}."""


@dataclass
class Result:
    """What one ``blue-green`` run did; the CLI turns it into outputs and an exit code."""

    service: str
    image: str
    mode: Mode
    live_before: str = ""
    live_after: str = ""
    phase: Phase = "prepare"
    outcome: Outcome = "undecided"
    reason: str = ""
    commits: dict[str, str] = field(default_factory=dict)
    """prepare/switch/switch-back/scale-down -> sha."""
    verdicts: dict[str, str] = field(default_factory=dict)
    """preview/post-switch -> pass|warn|fail|inconclusive."""
    switch_seconds: float | None = None
    switch_back_seconds: float | None = None
    timeline: list[Event] = field(default_factory=list)
