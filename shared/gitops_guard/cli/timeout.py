"""The overall ``--timeout`` of a subcommand: one :class:`deadline.Deadline` for all of it.

``update-manifest``, every ``rollback`` command, ``record`` and ``metrics`` take
``--timeout`` (a duration, :mod:`gitops_guard.durations`; default 10m). The command
runs inside :func:`gitops_guard.deadline.overall`: every git network command, every
GitHub call, every retry (the push fetch-recompute-retry loop included) and any
ArgoCD wait is cut to it. When it expires the command exits 3 with the real elapsed
time and what it was waiting for; nothing is half-written (a git push either landed
or did not; no file is edited before its inputs were read).

``rollback watch`` watches for ``--for``: its default timeout is ``--for`` plus the
default, so the watch itself never eats the budget of the revert that may follow.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from gitops_guard import deadline
from gitops_guard.cli import checks

DEFAULT_SECONDS = 600.0
"""The default overall timeout: 10 minutes."""

FLAG = "--timeout"


def add_flag(parser: argparse.ArgumentParser, *, what: str = "the whole command") -> None:
    """``--timeout DURATION``: the overall deadline of ``what``."""
    parser.add_argument(
        FLAG,
        dest="overall_timeout",
        type=checks.duration_arg(FLAG),
        default=None,
        metavar="DURATION",
        help=f"overall deadline of {what}: every git, GitHub and ArgoCD call and retry "
        "(seconds or a duration like 10m; default 10m); exit 3 when it expires",
    )


def seconds(args: argparse.Namespace, *, extra: float = 0.0) -> float:
    """The overall timeout of ``args``: ``--timeout``, else the default plus ``extra``."""
    given: float | None = getattr(args, "overall_timeout", None)
    return given if given is not None else DEFAULT_SECONDS + extra


@contextmanager
def overall(args: argparse.Namespace, *, extra: float = 0.0) -> Iterator[deadline.Deadline]:
    """Run the command's work under its one overall deadline."""
    with deadline.overall(deadline.Deadline(seconds(args, extra=extra), source=FLAG)) as ends:
        yield ends
