"""The overall deadline of a command (``--timeout``): one budget every other one is cut to.

Covers: outside a command nothing is cut; inside, a longer budget (a git command's
300 s, a GitHub operation's 120 s, --argocd-timeout) ends with the overall one, a
shorter one keeps its own; the waits of the push retry loop never pass it; its
expiry is DeadlineExceeded (exit 3) naming --timeout, the elapsed time and what was
waited for; http re-exports the one Deadline.
"""

from __future__ import annotations

from gitops_guard import deadline, errors, http
from gitops_guard.gitops import working_copy


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_nothing_is_cut_outside_a_command() -> None:
    own = deadline.Deadline(300, source="the git network timeout")
    assert deadline.current_overall() is None
    assert deadline.bounded(own) is own
    deadline.check_overall("anything")  # no overall deadline: never raises


def test_a_longer_budget_ends_with_the_overall_one() -> None:
    clock = Clock()
    with deadline.overall(deadline.Deadline(10, source="--timeout", clock=clock)) as ends:
        assert deadline.bounded(deadline.Deadline(300, clock=clock)) is ends
        short = deadline.Deadline(2, source="--argocd-timeout", clock=clock)
        assert deadline.bounded(short) is short
        assert working_copy._within_overall(8.0) == 8.0
        clock.now += 7
        assert working_copy._within_overall(8.0) == 3.0  # a retry wait never passes it
    assert deadline.current_overall() is None


def test_expiry_is_exit_3_naming_timeout_and_the_wait() -> None:
    clock = Clock()
    with deadline.overall(deadline.Deadline(5, source="--timeout", clock=clock)):
        clock.now += 5.5
        try:
            deadline.check_overall("GitHub's API at http://gh")
        except deadline.DeadlineExceeded as exc:
            error = exc
        else:  # pragma: no cover
            raise AssertionError("the expired deadline did not raise")
    assert isinstance(error, errors.DependencyUnavailable)
    assert errors.exit_code_for(error) == 3
    assert error.source == "--timeout"
    assert "5.5s elapsed waiting for GitHub's API at http://gh" in error.message
    assert error.elapsed_seconds == 5.5


def test_http_reexports_the_one_deadline() -> None:
    assert http.Deadline is deadline.Deadline
    assert http.DeadlineExceeded is deadline.DeadlineExceeded
