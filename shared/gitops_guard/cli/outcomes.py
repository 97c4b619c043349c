"""The one table from outcomes to exit codes.

Flows return an outcome (a value) and raise an error only when the job could not
be done. This module is the only place that turns an outcome into an exit code;
errors carry theirs on their class (:mod:`gitops_guard.errors`), and
:func:`gitops_guard.cli.main` is the only caller of either.

======================  ====  ===============================================
outcome                 code  who returns it
======================  ====  ===============================================
succeeded               0     any flow: done, or already in place
skipped                 0     any flow: nothing to do (a rerun, no change)
failed                  1     any flow: the answer is no
errored                 3     any flow: could not decide
pass, warn              0     slo-gate verdicts
fail                    1     slo-gate verdict
inconclusive            3     slo-gate verdict (never a pass, never a "no")
done                    0     argocd-wait
sync-failed, degraded,  1     argocd-wait
timed-out
unreachable             3     argocd-wait
rolled-back,            0     rollback (a dry run decides nothing)
pull-request, dry-run
promoted, in-place      0     blue-green: the new colour serves, or nothing to do
rejected, switched-back 1     blue-green: stopped before the switch / switched back
switched-back-          3     blue-green: switched back after an inconclusive gate,
inconclusive, undecided       or nothing switched
aborted                 1     canary: a step failed; its commits were reverted
aborted-inconclusive    3     canary: a step was inconclusive; reverted too
frozen                  1     canary: an ArgoCD sync window blocks; nothing pushed
invalid                 2     preflight: the checked inputs are bad, nothing promoted
======================  ====  ===============================================

``record``, ``metrics``, ``render``, ``schema``, ``init``, ``lab``, ``describe-deploy``
and ``require-verdict`` return the generic words (``succeeded``; ``init --dry-run``
returns ``dry-run``, a failed lab story and a missing verdict ``failed``, a commit that
is no deploy ``skipped``); their faults are errors (2 or 3), like every flow's.

An outcome missing from the table is a bug, and a bug exits 3, never 1.
This module must not import flows: outcomes are plain strings here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from gitops_guard import errors

EXIT_CODES: Mapping[str, int] = MappingProxyType(
    {
        # Kargo's generic words, for every flow.
        "succeeded": errors.EXIT_OK,
        "skipped": errors.EXIT_OK,
        "failed": errors.EXIT_REJECTED,
        "errored": errors.EXIT_UNDECIDED,
        # slo-gate verdicts.
        "pass": errors.EXIT_OK,
        "warn": errors.EXIT_OK,
        "fail": errors.EXIT_REJECTED,
        "inconclusive": errors.EXIT_UNDECIDED,
        # argocd-wait outcomes.
        "done": errors.EXIT_OK,
        "sync-failed": errors.EXIT_REJECTED,
        "degraded": errors.EXIT_REJECTED,
        "timed-out": errors.EXIT_REJECTED,
        "unreachable": errors.EXIT_UNDECIDED,
        # rollback statuses.
        "rolled-back": errors.EXIT_OK,
        "pull-request": errors.EXIT_OK,
        "dry-run": errors.EXIT_OK,
        # blue-green outcomes (docs/blue-green.md).
        "promoted": errors.EXIT_OK,
        "in-place": errors.EXIT_OK,
        "rejected": errors.EXIT_REJECTED,
        "switched-back": errors.EXIT_REJECTED,
        "switched-back-inconclusive": errors.EXIT_UNDECIDED,
        "undecided": errors.EXIT_UNDECIDED,
        # canary outcomes (docs/canary.md); promoted, in-place, rejected, undecided as above.
        "aborted": errors.EXIT_REJECTED,
        "aborted-inconclusive": errors.EXIT_UNDECIDED,
        "frozen": errors.EXIT_REJECTED,
        # preflight: the problems it found are bad input (exit 2, nothing promoted).
        "invalid": errors.EXIT_INPUT,
    }
)
"""Outcome -> exit code (DESIGN's contract)."""


def exit_code(outcome: str) -> int:
    """The exit code of an outcome; an unknown outcome is a bug and exits 3."""
    return EXIT_CODES.get(outcome, errors.EXIT_UNDECIDED)


def exit_code_for_error(exc: BaseException) -> int:
    """The exit code of an exception: its class's code, 3 for anything unexpected."""
    return errors.exit_code_for(exc)


def worst(*outcomes: str) -> str:
    """The outcome that decides a command made of steps: errored > failed > the rest.

    ``rollback revert`` publishes, then waits in ArgoCD: a published rollback
    whose wait timed out is ``timed-out`` (1), an unreachable ArgoCD ``unreachable`` (3).
    """
    ranked = sorted(outcomes, key=lambda o: (exit_code(o) == 3, exit_code(o) == 1))
    return ranked[-1] if ranked else "succeeded"
