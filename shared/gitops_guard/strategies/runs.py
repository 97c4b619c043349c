"""What one blue-green run and one canary run share: the folder in the checkout, the
timeline, the history read from Git and the ArgoCD wait after a commit.

:class:`TwoColourRun` is the base of :class:`.bluegreen.session.Session` and the
canary flow's run; the order of the steps, the commits and the decisions stay theirs.
It runs ``git log`` on the checkout and calls the wait it is handed; it must not
decide anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import ClassVar, Protocol

from gitops_guard import gitops
from gitops_guard.strategies import render as words
from gitops_guard.strategies.bluegreen import models
from gitops_guard.strategies.bluegreen.ports import WaitOutcome

HISTORY_DEPTH = 200
"""How many commits back a run reads its own trailers."""


class Means(Protocol):
    """The part of a flow's ``Deps`` this base uses (read at call time)."""

    @property
    def wc(self) -> gitops.WorkingCopy: ...
    @property
    def clock(self) -> Callable[[], float]: ...
    @property
    def echo(self) -> Callable[[str], None]: ...


class TwoColourRun:
    """A run's folder (relative to the checkout) and its timeline."""

    STEP_WIDTH: ClassVar[int] = 17
    """The step column of the lines echoed as the timeline grows."""

    def __init__(self, folder: Path, means: Means, timeline: list[models.Event]) -> None:
        self.wc = means.wc
        self.rel = folder.resolve().relative_to(self.wc.root.resolve())
        self._means = means
        self._timeline = timeline

    @property
    def prefix(self) -> str:
        """The folder as a prefix of the checkout's paths (``""`` at its root)."""
        return "" if str(self.rel) == "." else f"{self.rel.as_posix()}/"

    def files(self, written: list[str]) -> list[str]:
        """Paths relative to the folder, made relative to the checkout."""
        return [(self.rel / f).as_posix() for f in written]

    def log_text(self, tree: gitops.WorkingCopy | None = None) -> str:
        """The last commits of ``tree`` (default: the checkout) as ``words.LOG_FORMAT``."""
        return (tree or self.wc).git(
            "log", "-n", str(HISTORY_DEPTH), f"--format={words.LOG_FORMAT}", "HEAD"
        )

    def event(
        self,
        step: str,
        outcome: str,
        started: float,
        detail: str = "",
        *,
        commit: str = "",
        figures: Mapping[str, str] | None = None,
    ) -> None:
        """Add a line to the timeline (``started`` on the run's clock) and echo it."""
        seconds = self._means.clock() - started
        self._timeline.append(
            models.Event(step, outcome, seconds, detail, commit, dict(figures or {}))
        )
        self._means.echo(f"  {step:<{self.STEP_WIDTH}} {outcome:<12} {seconds:6.1f} s  {detail}")

    def await_sync(
        self, wait: Callable[[str], WaitOutcome] | None, label: str, sha: str
    ) -> WaitOutcome | None:
        """Wait for ArgoCD to run ``sha``: None when it does (or no wait is asked for),
        the failed outcome otherwise; either way a line of the timeline."""
        if wait is None or not sha:
            return None
        started = self._means.clock()
        outcome = wait(sha)
        if outcome.outcome == "done":
            self.event("wait", "done", started, f"ArgoCD runs {sha[:12]} ({label})", commit=sha)
            return None
        self.event("wait", "error" if outcome.undecided else "fail", started, outcome.reason)
        return outcome
