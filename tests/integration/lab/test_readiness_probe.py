"""The lab's readiness probe turns a pod unready as the kubelet does, not on one slow answer."""

from __future__ import annotations

import pytest

from gitops_guard_lab import pod


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ("", []),
        ("F", [False]),
        ("T", [True]),
        ("TF", [True, True]),
        ("TFF", [True, True, True]),
        ("TFFF", [True, True, True, False]),
        ("TFFTFF", [True, True, True, True, True, True]),
        ("FFFFT", [False, False, False, False, True]),
        ("TFFFT", [True, True, True, False, True]),
    ],
)
def test_a_ready_pod_turns_unready_after_three_failed_probes_in_a_row(
    answers: str, expected: list[bool]
) -> None:
    clock = Clock()
    probe = pod.Readiness(period=1.0, clock=clock)
    seen = []
    for answer in answers:
        clock.now += 2.0
        seen.append(probe.ready(lambda a=answer: a == "T"))
    assert seen == expected


def test_probes_run_at_most_once_a_period() -> None:
    clock = Clock()
    probe = pod.Readiness(period=1.0, clock=clock)
    calls = []

    def answer() -> bool:
        calls.append(clock.now)
        return True

    for step in range(10):
        clock.now = step * 0.3
        assert probe.ready(answer) is True
    assert calls == [0.0, 1.2, 2.4]
